"""Content hashes of splits: SHA-256 of a canonical JSON form.

The canonical form is compact JSON with object keys sorted and non-ASCII text
kept as UTF-8: whitespace and key order (of the file, of set names, of objects
inside entries) do not change the hash; entry order, and any value, does.
Tuples hash as the lists they are in a file, and whole numbers by their value: a
whole number written as a float (``1.0``) hashes as the integer (``1``) where
every integer of its size is a float (below 2**53; ``1e16`` stays ``1e+16``), as
JSON does not tell them apart (and a sample type of ``float`` reads ``1`` as
``1.0``). A split read with a sample type hashes as its file (while the file
is unchanged: `split_sha256`); other entries made in Python hash in the JSON
form of a file that holds them: a dataclass or pydantic model as its object, a
NumPy number as the number, a path as its text (see `json_form`).
"""

import dataclasses
import enum
import functools
import hashlib
import json
import numbers
import os
import re
import sys
from collections.abc import Mapping, Sequence
from typing import Final

from ._errors import refuse_set_names, set_name_problem

__all__ = [
    "canonical_json",
    "encode_entries",
    "encoded_split_sha256",
    "entries_sha256",
    "json_form",
    "sets_sha256",
    "split_sha256",
    "text_sha256",
]

_MARK: Final = "\x00"
"""Put between entries encoded at once, then split on (written ``"\\u0000"``)."""


def canonical_json(value: object, *, allow_nan: bool = False) -> bytes:
    """Return the canonical JSON form of ``value``, as UTF-8 bytes.

    With ``allow_nan``, ``NaN`` and infinite floats are written as Python's
    ``json`` writes them (``NaN``), which JSON has no form for: to record a
    split made in Python that holds them.

    Raises:
        TypeError: if ``value`` holds something JSON cannot represent (see
            `json_form` for what is written in a JSON form).
        ValueError: for ``NaN`` or infinite floats, unless ``allow_nan``.

    Examples:
        >>> canonical_json({"b": [1, 2.0], "a": ("x", 1.5)})
        b'{"a":["x",1.5],"b":[1,2]}'
    """
    return _dumps(value, canonical=True, allow_nan=allow_nan).encode("utf-8")


def json_form(value: object) -> object:
    """Return the JSON form of a value that ``json`` cannot write, as a file has it.

    A dataclass is the object of its fields, a pydantic model its JSON dump (by
    alias), a `~decimal.Decimal` its text (as pydantic writes it), a NumPy
    number the number, a path its text, an enumeration member
    its value, a date, time or UUID its ISO text.

    Raises:
        TypeError: for any other value.

    Examples:
        >>> import dataclasses, pathlib
        >>> @dataclasses.dataclass
        ... class Entry:
        ...     path: pathlib.PurePosixPath
        ...     label: int
        >>> json_form(Entry(pathlib.PurePosixPath("a.png"), 1))
        {'path': PurePosixPath('a.png'), 'label': 1}
        >>> json_form(pathlib.PurePosixPath("a.png"))
        'a.png'
    """
    found: object = _NO_FORM
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        found = {
            field.name: getattr(value, field.name)
            for field in dataclasses.fields(value)
        }
    elif callable(dump := getattr(value, "model_dump", None)):
        found = dump(mode="json", by_alias=True)
    elif _is_decimal(value):  # as pydantic writes one: text
        found = str(value)
    elif isinstance(value, numbers.Integral):  # np.int64
        found = int(value)
    elif isinstance(value, numbers.Real):  # np.float32
        found = float(value)
    elif type(value).__name__ == "bool_" and hasattr(value, "item"):  # np.bool_
        found = bool(value)
    elif isinstance(value, os.PathLike):
        found = os.fspath(value)
    elif isinstance(value, enum.Enum):
        found = value.value
    elif (text := _time_or_uuid(value)) is not None:
        found = text
    if found is _NO_FORM:
        msg = f"Object of type {type(value).__name__} is not JSON serializable"
        raise TypeError(msg)
    return found


_NO_FORM: Final = object()
"""What `json_form` finds for a value it has no JSON form of."""


def _is_decimal(value: object) -> bool:
    """Whether ``value`` is a `~decimal.Decimal` (its module looked up, as below)."""
    module = sys.modules.get("decimal")
    return module is not None and isinstance(value, module.Decimal)


def _time_or_uuid(value: object) -> str | None:
    """Return the ISO text of a date or time, the text of a UUID; else ``None``.

    Their modules are looked up, not imported: no value is of a type of a
    module not imported yet, and importing ``uuid`` and ``datetime`` would add
    7 ms to every start of the ``lightsplit`` command.
    """
    datetime = sys.modules.get("datetime")
    if datetime is not None and isinstance(value, datetime.date | datetime.time):
        text: str = value.isoformat()
        return text
    uuid = sys.modules.get("uuid")
    if uuid is not None and isinstance(value, uuid.UUID):
        return str(value)
    return None


def _dumps(value: object, *, canonical: bool, allow_nan: bool = False) -> str:
    """Return ``value`` as JSON text: canonical, or as ``json.dumps`` writes it.

    Values are first written without looking for cycles (a third faster for
    many small entries, which hold none); only a value that nests too deep is
    written again with that check, to say whether it holds a cycle.
    """
    write = functools.partial(_written, canonical=canonical, allow_nan=allow_nan)
    try:
        text = write(value, check_circular=False)
    except RecursionError:  # a cycle, or a value nested too deep
        text = write(value, check_circular=True)
    if canonical and _POINT_ZERO.search(text):  # maybe a whole float, `1.0`
        whole = _whole_numbers(value)
        if whole is not value:
            text = write(whole, check_circular=False)
    return text


_POINT_ZERO: Final = re.compile(r"\.0")
"""In the text of a whole float (searched so, faster than ``".0" in text``)."""

_EXACT_INTEGERS: Final = 2**53
"""Below it (in size), every whole float is written ``N.0``, and is exact."""


def _whole_numbers(value: object) -> object:
    """Return ``value`` with whole floats as ints (``1.0`` as ``1``); itself if none.

    JSON does not tell ``1`` from ``1.0``, and a sample type of ``float`` reads
    the ``1`` of a file as ``1.0``: both hash alike.
    """
    if isinstance(value, float):
        exact = value.is_integer() and abs(value) < _EXACT_INTEGERS
        return int(value) if exact else value
    if isinstance(value, list | tuple):
        items = [_whole_numbers(item) for item in value]
        changed = any(new is not old for new, old in zip(items, value, strict=True))
        return items if changed else value
    if isinstance(value, dict):
        pairs = {key: _whole_numbers(item) for key, item in value.items()}
        changed = any(pairs[key] is not item for key, item in value.items())
        return pairs if changed else value
    return value


def _written(
    value: object, *, canonical: bool, allow_nan: bool, check_circular: bool
) -> str:
    if canonical:
        return json.dumps(
            value,
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
            allow_nan=allow_nan,
            check_circular=check_circular,
            default=_whole_form,
        )
    return json.dumps(
        value, ensure_ascii=False, check_circular=check_circular, default=json_form
    )


def _whole_form(value: object) -> object:
    """`json_form`, a whole float as an int (``np.float32(1.0)`` as ``1``)."""
    return _whole_numbers(json_form(value))


def encode_entries(entries: Sequence[object], *, canonical: bool = False) -> list[str]:
    """Return each entry as ``json.dumps(entry, ensure_ascii=False)`` would.

    With ``canonical``, each is in the canonical form instead (as
    `canonical_json` writes it, before UTF-8). The entries are encoded in one
    call, each followed by a mark the text is then split on: as fast as one
    document, where a call per entry is not.

    Raises:
        TypeError: if an entry holds something JSON cannot represent.
        ValueError: with ``canonical``, for ``NaN`` or infinite floats.

    Examples:
        >>> encode_entries([["a.png", 0], {"b": [1, 2], "a": 1}])
        ['["a.png", 0]', '{"b": [1, 2], "a": 1}']
        >>> encode_entries([["a.png", 0], {"b": [1, 2], "a": 1}], canonical=True)
        ['["a.png",0]', '{"a":1,"b":[1,2]}']
    """
    comma = "," if canonical else ", "
    marked = [item for entry in entries for item in (entry, _MARK)]
    text = _dumps(marked, canonical=canonical)
    separator = f"{comma}{json.dumps(_MARK)}"
    parts = text[1 : -1 - len(separator)].split(f"{separator}{comma}")
    if len(parts) == len(entries) and entries:
        return parts
    return [_dumps(entry, canonical=canonical) for entry in entries]  # a mark in one


def encoded_split_sha256(sets: Mapping[str, Sequence[str]]) -> str:
    """Return `split_sha256` of sets whose entries are already canonical text.

    ``sets`` holds each entry as ``encode_entries(..., canonical=True)`` wrote
    it: writing many splits of the same entries (the files of a k-fold split),
    each entry is encoded once.

    Examples:
        >>> split = {"train": [["a.png", 0]], "test": [["b.png", {"y": 1, "x": 2}]]}
        >>> encoded = {name: encode_entries(entries, canonical=True)
        ...            for name, entries in split.items()}
        >>> encoded_split_sha256(encoded) == split_sha256(split)
        True
    """
    return sets_sha256(
        {name: f"[{','.join(entries)}]".encode() for name, entries in sets.items()}
    )


def sets_sha256(sets: Mapping[str, bytes]) -> str:
    """Return `split_sha256` of sets already in canonical form, each whole.

    ``sets`` holds each set's entries as ``canonical_json(list(entries))``
    wrote them (the form `entries_sha256` hashes): a split's hash and its sets'
    from one encoding.

    Examples:
        >>> split = {"train": [["a.png", 0]], "test": [["b.png", 1.0]]}
        >>> texts = {name: canonical_json(list(e)) for name, e in split.items()}
        >>> sets_sha256(texts) == split_sha256(split)
        True
    """
    digest = hashlib.sha256(b"{")
    for number, name in enumerate(sorted(sets)):
        head = json.dumps(name, ensure_ascii=False)
        digest.update(f"{',' if number else ''}{head}:".encode())
        digest.update(sets[name])
    digest.update(b"}")
    return digest.hexdigest()


def entries_sha256(entries: Sequence[object]) -> str:
    """Return the SHA-256 (hex) of one set's entries, in order."""
    return hashlib.sha256(canonical_json(list(entries))).hexdigest()


def split_sha256(split: Mapping[str, Sequence[object]]) -> str:
    """Return the content hash of a split: SHA-256 (hex) of its canonical form.

    Two files hash alike exactly when they hold the same sets with the same
    entries in the same order, however they are indented or their keys ordered:
    the hash to cite for the split a result was obtained on. A split that
    `load_split` read with a sample type hashes as its file does, while the file
    holds the same text (its entries as typed may add a dataclass's defaults,
    or write a time another way); other entries as a file holding them would
    (see `json_form`).

    Raises:
        TypeError: if ``split`` is no mapping of sets of entries, or an entry
            holds something JSON cannot represent (naming its set and index).
        ValueError: if a set name is not one of a split file (``valid``).

    Examples:
        >>> first = split_sha256({"train": [["a.png", 0]], "test": [["b.png", 1]]})
        >>> first == split_sha256({"test": [("b.png", 1)], "train": [("a.png", 0)]})
        True
        >>> first == split_sha256({"train": [["a.png", 1]], "test": [["b.png", 1]]})
        False
    """
    given: object = split  # checked at run time too, for untyped callers
    if not isinstance(given, Mapping):
        msg = (
            f"`split` is a `{type(given).__name__}`; give a mapping of set names to "
            "entries, such as a `load_split` result"
        )
        raise TypeError(msg)
    kinds = [
        f"set `{name}` is a `{type(entries).__name__}`, not a list of entries"
        for name, entries in split.items()
        if isinstance(entries, str | bytes) or not isinstance(entries, Sequence)
    ]
    if kinds:
        raise TypeError("; ".join(kinds))
    refuse_set_names(split)
    from ._split import file_sets  # noqa: PLC0415 - which imports this module

    sets = file_sets(split) or {name: list(entries) for name, entries in split.items()}
    try:
        text = canonical_json(sets)
    except TypeError as exc:
        raise TypeError(_unwritable(sets, exc)) from exc
    return hashlib.sha256(text).hexdigest()


_JSON_SPACE: Final = b" \t\n\r"
"""The whitespace JSON allows between values (none of it inside a string but
the space: strict JSON refuses the others there)."""

_MINUS_ZERO: Final = b",-0]"
"""A pair's integer label written ``-0`` (read as ``0``, written so)."""


def text_sha256(data: bytes, split: Mapping[str, Sequence[object]]) -> str | None:
    r"""Return `split_sha256` of ``split``, read from ``data``: the text of its file.

    Nothing is serialized: where ``data`` is provably the canonical form but for
    whitespace between values and the order of the sets, that whitespace is
    dropped and the sets are hashed from the text in order of name (a tenth of
    the time of serializing 100,000 entries). It is provably so when the text
    is UTF-8 that escapes nothing (no ``\``: no string holds a quote) and no
    label is written ``-0``.

    The caller vouches for the rest: ``split`` is the JSON document of ``data``
    (`strict_json`), its sets in file order, and every entry is an array of two
    items, a string without a space and an integer or another string without
    a space (`SetFields.pairs`).

    Returns:
        The hash, or ``None`` where the text does not show it (the caller
        hashes ``split`` then).

    Examples:
        >>> data = b'{"train": [["a.png", 0]],\n "test": [["b.png", 1]]}'
        >>> split = {"train": [["a.png", 0]], "test": [["b.png", 1]]}
        >>> text_sha256(data, split) == split_sha256(split)
        True
        >>> escaped = {"train": [["\u00e9.png", 0]]}
        >>> print(text_sha256(json.dumps(escaped).encode(), escaped))
        None
    """
    if b"\\" in data or not _utf8(data):
        return None
    text = data.translate(None, _JSON_SPACE)
    if b"-" in text and _MINUS_ZERO in text:
        return None
    if (
        not text.startswith(b"{")
        or not text.endswith(b"}")
        or any(set_name_problem(name) is not None for name in split)
    ):
        return None
    # With no quote in a string and no object but the split, a set's name (of
    # letters, digits, `.`, `_`, `-`) quoted and followed by a colon is found
    # once: where its set starts. Found from the end, the first set (train, as
    # a rule the largest) is not searched.
    keys = {name: f'"{name}":'.encode() for name in split}
    view = memoryview(text)
    spans: dict[str, memoryview] = {}
    end = len(text) - 1  # where the last set ends: the closing brace
    for name, key in reversed(keys.items()):
        start = text.rfind(key, 0, end)
        if start < 1 or text[start - 1] not in b",{":
            return None
        spans[name] = view[start + len(key) : end]
        end = start - 1  # the comma before the key, or the opening brace
    if end != 0:
        return None
    digest = hashlib.sha256(b"{")
    for number, name in enumerate(sorted(split)):
        digest.update(b"," if number else b"")
        digest.update(keys[name])
        digest.update(spans[name])
    digest.update(b"}")
    return digest.hexdigest()


def _utf8(data: bytes) -> bool:
    """Whether ``data`` is UTF-8 that encodes no surrogate (as a canonical form is).

    Python's ``json`` reads surrogates encoded as UTF-8 would encode them.
    """
    if data.isascii():
        return True
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _unwritable(sets: Mapping[str, Sequence[object]], exc: TypeError) -> str:
    """Say which entry JSON cannot write (the first), and why."""
    for name, entries in sets.items():
        for index, entry in enumerate(entries):
            try:
                canonical_json(entry)
            except TypeError:
                return f"set `{name}`, index {index}: {exc}; entries must be JSON data"
    return str(exc)
