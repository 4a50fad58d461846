"""``DatabaseSplit`` and ``load_split``: read-only, validated split files."""

import codecs
import collections.abc
import errno
import functools
import itertools
import json
import math
import os
import re
import sys
import types
import typing
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Generic, NoReturn, TypeVar, overload

from ._errors import (
    LightsplitError,
    SplitFileError,
    format_problems,
    json_kind,
    json_syntax_problem,
    preview,
    printable,
    set_name_problem,
)
from ._gcpause import gc_paused
from ._outputs import SIDECAR_SUFFIX, is_sidecar_document
from ._types import SetName, StrPath

if TYPE_CHECKING:
    from pydantic import TypeAdapter
    from pydantic_core import ErrorDetails, SchemaValidator

__all__ = [
    "DatabaseSplit",
    "load_split",
    "parse_split",
    "read_file",
    "read_split",
    "split_file_missing",
    "split_of_document",
    "strict_json",
]

RawT = TypeVar("RawT")
RawT_co = TypeVar("RawT_co", covariant=True)


class DatabaseSplit(Mapping[SetName, Sequence[RawT_co]], Generic[RawT_co]):
    """A read-only mapping of set names to the raw samples of each set.

    Each set is held as a tuple, so it cannot be replaced or changed through the
    split. Build one with `load_split`, or from a mapping (set names are
    checked; the samples are taken as they are).

    Examples:
        >>> split = DatabaseSplit({"train": [["a.png", 0]], "test": [["b.png", 1]]})
        >>> sorted(split), len(split["train"])
        (['test', 'train'], 1)
    """

    __slots__ = ("_file", "_sets", "_source")

    def __init__(
        self, sets: Mapping[str, Sequence[RawT_co]], *, source: str = ""
    ) -> None:
        """Check the set names of ``sets`` and hold each set as a tuple.

        Args:
            sets: set name -> raw samples.
            source: where the split comes from (a file name), shown in ``repr``.

        Raises:
            TypeError: if ``sets`` is no mapping.
            ValidationError: ``set_name_invalid`` for a name that is not `train`,
                `validation`, `test` or `monitor-<name>`; ``set_invalid`` for a
                set that is no sequence (a string, ``None``...).
        """
        given: object = sets  # one built at run time may hold anything
        if not isinstance(given, Mapping):
            msg = (
                f"{type(self).__name__} takes a mapping of set names to raw samples "
                f"(such as {{'train': [...], 'test': [...]}}), not a "
                f"`{type(given).__name__}`"
            )
            raise TypeError(msg)
        _check_sets(type(self).__name__, given)
        self._sets: dict[str, tuple[RawT_co, ...]] = {
            name: tuple(samples) for name, samples in sets.items()
        }
        self._source = source
        self._file: tuple[Path, str] | None = None

    @property
    def source(self) -> str:
        """Where the split was read from, or ``""``."""
        return self._source

    def __getitem__(self, set_name: SetName) -> tuple[RawT_co, ...]:
        return self._sets[set_name]

    def __iter__(self) -> Iterator[SetName]:
        return iter(self._sets)

    def __len__(self) -> int:
        return len(self._sets)

    def __repr__(self) -> str:
        sets = ", ".join(f"{name}: {len(samples)}" for name, samples in self.items())
        source = f" from {self._source}" if self._source else ""
        return f"<DatabaseSplit{source} ({sets})>"


_UNORDERED: Final = (set, frozenset, collections.abc.Set, collections.abc.MutableSet)
"""Types that read a JSON array without its order and repeats."""


def _type_name(sample_type: object) -> str:
    """Write a type as in code: ``frozenset``, ``tuple[str, int]``."""
    return sample_type.__name__ if isinstance(sample_type, type) else repr(sample_type)


def _unordered(sample_type: object) -> object | None:
    """Return the set type ``sample_type`` holds anywhere, or ``None``."""
    origin = typing.get_origin(sample_type) or sample_type
    if origin in _UNORDERED:
        return origin
    for argument in typing.get_args(sample_type):
        found = _unordered(argument)
        if found is not None:
            return found
    return None


_FIX: Final = "give the type of one entry, such as `tuple[str, int]`, or leave it out"
"""How to give a sample type, for messages about one that is refused."""


def refuse_sample_type(sample_type: object) -> None:
    """Refuse a ``sample_type`` that entries are never checked by.

    Raises:
        TypeError: for ``None`` (every entry null), a list, tuple, dict or set
            given for a type (``[str, int]``), and a type holding a set (a JSON
            array read as a set loses its order and repeated items).
    """
    if sample_type is None:
        msg = f"`sample_type` None would require every entry to be null; {_FIX}"
        raise TypeError(msg)
    if isinstance(sample_type, list | tuple | dict | set | frozenset):
        kind = type(sample_type).__name__
        msg = (
            f"`sample_type` {sample_type!r} is a {kind}, not a type (for object "
            f"entries, give a `typing_extensions.TypedDict`); {_FIX}"
        )
        raise TypeError(msg)
    unordered = _unordered(sample_type)
    if unordered is not None:
        msg = (
            f"`sample_type` {_type_name(sample_type)} reads a JSON array as a "
            f"`{getattr(unordered, '__name__', unordered)}`, losing its order and "
            "repeated items; give `tuple[...]` or `list[...]` instead"
        )
        raise TypeError(msg)


def _adapter(sample_type: object) -> "SchemaValidator":
    """Return the strict validator of split documents of ``sample_type`` entries.

    Made once per sample type that hashes; one that does not (``[str, int]``,
    a list given for a type, or ``Annotated`` with a dict) is made each time,
    and refused there, saying why, if pydantic makes no validator of it.
    """
    try:
        hash(sample_type)
    except TypeError:
        return _new_adapter(sample_type)
    return _cached_adapter(sample_type)


def _new_adapter(sample_type: object) -> "SchemaValidator":
    """Return the strict validator of split documents of ``sample_type`` entries.

    Stricter than pydantic's strict mode (see `strict_validator`), which is
    applied to models too, whatever their own configuration says.

    pydantic's validators are imported here, when a sample type is given: a
    split read without one (``lightsplit check``) starts faster without them.
    """
    from ._strictcore import strict_validator  # noqa: PLC0415 - with pydantic

    refuse_sample_type(sample_type)
    adapter = sample_adapter(dict[str, tuple[sample_type, ...]], sample_type)  # type: ignore[valid-type]  # the sample type is a runtime value
    return strict_validator(adapter.core_schema)


_cached_adapter = functools.cache(_new_adapter)


def sample_adapter(wrapped: object, sample_type: object) -> "TypeAdapter[Any]":
    """Return pydantic's adapter of ``wrapped``, a type holding ``sample_type``.

    Raises:
        TypeError: if pydantic makes none, saying why: a type it does not know,
            a name the type uses that is not defined (a forward reference), a
            ``typing.TypedDict`` before Python 3.12...
    """
    from pydantic import (  # noqa: PLC0415 - imported when first needed
        PydanticSchemaGenerationError,
        PydanticUserError,
        TypeAdapter,
    )

    from ._config import SAMPLE_CONFIG  # noqa: PLC0415 - imported when first needed

    try:
        adapter: TypeAdapter[Any] = TypeAdapter(wrapped, config=SAMPLE_CONFIG)  # type: ignore[arg-type]  # a type made at run time
        # names not defined are left for later by pydantic: said now, not there
        adapter.rebuild(raise_errors=True)
    except (
        PydanticSchemaGenerationError,
        PydanticUserError,
        TypeError,
        NameError,
        SyntaxError,  # a string that is no expression: a forward reference
    ) as exc:
        said = str(exc).strip().splitlines()
        reason = said[0].split(". ")[0].rstrip(".") if said else type(exc).__name__
        msg = (
            f"`sample_type` {sample_type!r} is no type to check entries by "
            f"({reason}); {_FIX}"
        )
        raise TypeError(msg) from exc
    return adapter


class _RefusedJsonError(ValueError):
    """Valid JSON syntax that a split file refuses; ``token`` finds it in the text.

    ``token`` is a regular expression of the refused text; ``nth`` which of
    its matches (from 0) is the one refused, or ``None``: the second of
    exactly two (a key given twice), else it is not told.
    """

    def __init__(self, message: str, token: str, nth: int | None = 0) -> None:
        super().__init__(message)
        self.token = token
        self.nth = nth


def _reject_duplicates(pairs: list[tuple[str, object]]) -> dict[str, object]:
    """Build a JSON object, refusing a key given twice (``json`` keeps the last)."""
    document = dict(pairs)
    if len(document) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                msg = (
                    f"key `{printable(key)}` appears twice in one object; "
                    "keep one of the two"
                )
                key_token = rf"{re.escape(json.dumps(key))}\s*:"
                raise _RefusedJsonError(msg, key_token, nth=None)
            seen.add(key)
    return document


def _reject_constant(name: str) -> NoReturn:
    """Refuse ``NaN`` and ``Infinity``, which Python accepts but JSON does not."""
    msg = f"`{name}` is not valid JSON; write a number or a string"
    raise _RefusedJsonError(msg, rf"(?<![\w.\"]){re.escape(name)}(?![\w\"])")


def _finite_float(text: str) -> float:
    """Parse a JSON number, refusing one too large for a float (``1e400``)."""
    value = float(text)
    if not math.isfinite(value):
        msg = f"number {text} is too large for a 64-bit float; write a smaller number"
        raise _RefusedJsonError(msg, rf"(?<![\w.]){re.escape(text)}(?![\w.])")
    return value


def _where_refused(text: str, exc: _RefusedJsonError) -> str:
    """Return ``line L column C: `` where ``exc``'s text likely is, else nothing.

    Found by searching the text (in a string, the same text could match first):
    a pointer for the reader, not a parse.
    """
    if exc.nth is None:  # the second of exactly two
        matches = list(re.finditer(exc.token, text))
        found = matches[1] if len(matches) == 2 else None  # noqa: PLR2004 - two
    else:
        found = next(
            itertools.islice(re.finditer(exc.token, text), exc.nth, None), None
        )
    if found is None:
        return ""
    start = found.start()
    line = text.count("\n", 0, start) + 1
    column = start - (text.rfind("\n", 0, start) + 1) + 1
    return f"line {line} column {column}: "


_JSON_FILES: Final = ", which JSON files are"
"""How `_wide_text` and `_not_utf8` end the fix of a JSON file."""


def _wide_text(data: bytes, kind: str) -> str | None:
    """Say that ``data`` is UTF-16 or UTF-32 text, as Windows tools often write.

    Such text, of ASCII characters and NULs, can pass for UTF-8 in part.
    """
    encoding = json.detect_encoding(data)
    if encoding.startswith(("utf-16", "utf-32")):
        return f"{encoding[:6].upper()} text, not UTF-8; save it as UTF-8{kind}"
    return None


def _not_utf8(data: bytes, exc: UnicodeDecodeError, *, kind: str = _JSON_FILES) -> str:
    """Say where the bytes that are not UTF-8 are, and the fix."""
    start = exc.start
    line = data.count(b"\n", 0, start) + 1
    column = start - (data.rfind(b"\n", 0, start) + 1) + 1
    return (
        f"line {line} column {column}: not UTF-8 text (byte "
        f"0x{data[start]:02x}, {exc.reason}): the file was likely saved in another "
        f"encoding (such as Windows-1252 or Latin-1); save it as UTF-8{kind}"
    )


def utf8_table(data: bytes, *, source: str, error: type[LightsplitError]) -> str:
    """Return the text of a table (CSV), refusing what is not UTF-8 as JSON is.

    A byte order mark, as spreadsheets write, is dropped. UTF-16 (which ASCII
    bytes and NULs would pass for UTF-8) and bytes of another encoding are
    refused, saying where and how to save the file.

    Raises:
        LightsplitError: of type ``error``, its message starting with ``source``.
    """
    kind = " (in a spreadsheet: CSV UTF-8)"
    wide = _wide_text(data, kind)
    if wide is not None:
        msg = f"{source}: {wide}"
        raise error(msg)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        msg = f"{source}: {_not_utf8(data, exc, kind=kind)}"
        raise error(msg) from exc


_UNDECLARED_KEY: Final = frozenset({"extra_forbidden", "unexpected_keyword_argument"})
"""pydantic's error types of a key that an entry's type does not declare (a
`TypedDict`'s, a dataclass's): see `SAMPLE_CONFIG`."""


def _not_an_array(name: str, samples: object) -> str:
    """Describe set ``name``, which is not an array of samples but ``samples``."""
    shown = preview(samples)
    return f"{printable(name)}: a set must be a JSON array of samples, not {shown}"


def _describe(error: "ErrorDetails", document: Mapping[str, object]) -> str:
    """Describe one validation error with its set, index and entry."""
    loc = error["loc"]
    if not loc and error["type"] == "json_invalid":  # read by Python, not pydantic
        return (
            f"{error['msg']}: the JSON is valid, but pydantic, which checks the "
            "entries against a sample type, cannot read it (arrays or objects "
            "nested more than about 200 levels deep, say); leave out the sample type"
        )
    if not loc:
        return (
            f"the file must hold a JSON object mapping set names to arrays of "
            f"samples, not {json_kind(error['input'])}"
        )
    name = str(loc[0])
    if len(loc) == 1:
        return _not_an_array(name, document.get(name))
    return f"{_entry_at(loc, document)}: {_reason(error, loc[2:], 'sample type')}"


def _entry_at(loc: Sequence[int | str], document: Mapping[str, object]) -> str:
    """Say which entry the error at ``loc`` (set name, index, ...) is about."""
    name, index = str(loc[0]), loc[1]
    samples = document.get(name)
    entry = (
        samples[index] if isinstance(samples, list) and isinstance(index, int) else None
    )
    return f"{printable(name)}.{index}: entry {preview(entry)}"


def _reason(error: "ErrorDetails", inner: Sequence[int | str], declared: str) -> str:
    """Say what is wrong at ``inner``, a place in an entry; ``declared`` by what."""
    place = _place(inner)
    if error["type"] in _UNDECLARED_KEY:
        return (
            f"key `{place}` is not one the {declared} declares; check its "
            "spelling, or declare it in the type"
        )
    hint = _HINTS.get(error["type"], "")
    if not place:  # the entry itself, shown already
        return f"{error['msg']}{hint}"
    return f"{error['msg']} (at `{place}`), got {preview(error['input'])}{hint}"


def _is_union(sample_type: object) -> bool:
    """Whether ``sample_type`` is a union at its top (under ``Annotated`` too)."""
    while typing.get_origin(sample_type) is typing.Annotated:
        sample_type = typing.get_args(sample_type)[0]
    return typing.get_origin(sample_type) in (typing.Union, types.UnionType)


def _described(
    errors: Sequence["ErrorDetails"], document: Mapping[str, object], *, union: bool
) -> list[str]:
    """Describe ``errors``; of a ``union`` sample type, one line per entry.

    pydantic reports an entry that matches no form of a union once per form,
    its place in the entry led by the form's name: those are said together.
    """
    if not union:
        return [_describe(error, document) for error in errors]

    def entry(error: "ErrorDetails") -> tuple[int | str, ...] | int:
        loc = error["loc"]
        formed = len(loc) > 2 and isinstance(loc[1], int) and isinstance(loc[2], str)  # noqa: PLR2004
        return tuple(loc[:2]) if formed else id(error)

    described: list[str] = []
    for _, found in itertools.groupby(errors, key=entry):
        same = list(found)
        if len(same) == 1:
            described.append(_describe(same[0], document))
            continue
        forms = [
            f"as `{form}`, "
            + "; ".join(_reason(error, error["loc"][3:], "form") for error in of_form)
            for form, of_form in itertools.groupby(same, key=lambda e: e["loc"][2])
        ]
        described.append(
            f"{_entry_at(same[0]['loc'], document)}: matches no form of the sample "
            f"type: {'; '.join(forms)}"
        )
    return described


_HINTS: Final = {
    "finite_number": ", too large for a 64-bit float; write a smaller number",
}
"""What to add to pydantic's message of an error of a type, to say how to fix it."""

_PLAIN_KEY: Final = re.compile(r"[^\W\d]\w*")
"""A key written as is in a place (`_place`); others are quoted."""


def _place(loc: Sequence[int | str]) -> str:
    """Return the place of a value within an entry, as a reader finds it.

    Such as ``1``, ``label``, ``extra[0].image``, ``boxes[1][0]``, ``["1.2"]``.
    """
    parts: list[str] = []
    for step in loc:
        if isinstance(step, int):
            parts.append(f"[{step}]" if parts else str(step))
        elif _PLAIN_KEY.fullmatch(step):
            parts.append(f".{step}" if parts else step)
        else:
            parts.append(f"[{printable(json.dumps(step, ensure_ascii=False))}]")
    return "".join(parts)


def _raise_file_error(source: str, problems: Sequence[str]) -> NoReturn:
    title = f"{source}: invalid split file"
    raise SplitFileError(format_problems(title, [f"{source}: {p}" for p in problems]))


def strict_json(
    data: bytes | str,
    *,
    source: str,
    error: type[LightsplitError] = SplitFileError,
) -> object:
    """Parse JSON text as split files are read: strictly, every problem placed.

    A key given twice in one object, ``NaN``, ``Infinity`` and numbers too large
    for a float are refused (Python's ``json`` accepts them), as are text that
    is not UTF-8 and invalid JSON, by line and column with the fix.

    Raises:
        LightsplitError: of type ``error``, its message starting with ``source``.
    """
    wide = _wide_text(data, _JSON_FILES) if isinstance(data, bytes) else None
    if wide is not None:
        msg = f"{source}: {wide}"
        raise error(msg)
    try:
        with gc_paused():
            document = json.loads(
                data,
                object_pairs_hook=_reject_duplicates,
                parse_constant=_reject_constant,
                parse_float=_finite_float,
            )
    except json.JSONDecodeError as exc:
        msg = f"{source}: {json_syntax_problem(exc)}"
        raise error(msg) from exc
    except UnicodeDecodeError as exc:
        raw = data if isinstance(data, bytes) else data.encode()
        msg = f"{source}: {_not_utf8(raw, exc)}"
        raise error(msg) from exc
    except _RefusedJsonError as exc:
        text = data if isinstance(data, str) else data.decode()
        msg = f"{source}: {_where_refused(text, exc)}invalid JSON: {exc}"
        raise error(msg) from exc
    except RecursionError as exc:
        msg = (
            f"{source}: invalid JSON: arrays or objects nested too deep to read (about "
            "a thousand levels); an entry nests a few levels at most"
        )
        raise error(msg) from exc
    except ValueError as exc:
        if "integer string conversion" in str(exc):
            msg = (
                f"{source}: invalid JSON: an integer of more than "
                f"{sys.get_int_max_str_digits()} digits; write a smaller number"
            )
        else:
            msg = f"{source}: invalid JSON: {exc}"
        raise error(msg) from exc
    if _escapes_surrogate(data):
        lone = _lone_surrogate(data if isinstance(data, str) else data.decode())
        if lone is not None:
            msg = f"{source}: {lone}"
            raise error(msg)
    return document


_SURROGATES: Final = re.compile(r"\\u[dD][89a-fA-F]")
"""An escape of half a UTF-16 surrogate pair, or text that looks like one."""
_SURROGATE_BYTES: Final = re.compile(_SURROGATES.pattern.encode())
"""`_SURROGATES`, in bytes."""


def _escapes_surrogate(data: bytes | str) -> bool:
    """Whether ``data`` may hold an escape of half a surrogate pair (`_SURROGATES`).

    Text without a backslash, the usual case, is told at once.
    """
    if isinstance(data, str):
        return "\\" in data and _SURROGATES.search(data) is not None
    return b"\\" in data and _SURROGATE_BYTES.search(data) is not None


def _lone_surrogate(text: str) -> str | None:
    r"""Say where the first escape of half a surrogate pair alone is, if any.

    JSON writes a character beyond U+FFFF as a pair (``\ud83d\ude00``); half
    of one (``\ud800``) names no character, and no file could be named so.
    Python's ``json`` reads it into a string that cannot be written as UTF-8.

    Examples:
        >>> print(_lone_surrogate('["a\\ud800.png"]'))  # doctest: +ELLIPSIS
        line 1 column 4: `\ud800` is half of a UTF-16 surrogate pair, which ...
        >>> _lone_surrogate('["\\ud83d\\ude00", "\\\\ud800"]') is None
        True
    """
    escapes = re.finditer(r"(\\+)u([dD][89a-fA-F][0-9a-fA-F]{2})", text)
    pending: re.Match[str] | None = None  # a first half, or a half alone
    for found in escapes:
        if len(found[1]) % 2 == 0:
            continue  # an escaped backslash, then the letter u
        second = found[2][1].lower() in "cdef"
        if pending is not None:
            if second and found.end(1) - 1 == pending.end():
                pending = None  # the pair is whole
                continue
            break  # the first half is alone
        pending = found
        if second:
            break  # a second half alone
    if pending is None:
        return None
    start = pending.end(1) - 1
    line = text.count("\n", 0, start) + 1
    column = start - (text.rfind("\n", 0, start) + 1) + 1
    return (
        f"line {line} column {column}: `\\u{pending[2]}` is half of a UTF-16 "
        "surrogate pair, which names no character; write the character itself, or "
        "both halves of its pair"
    )


def parse_split(
    data: bytes | str, *, sample_type: object = Any, source: str = "<split>"
) -> DatabaseSplit[Any]:
    """Parse and validate the text of a split file.

    Args:
        data: the JSON text.
        sample_type: the type every raw sample must have (strict JSON rules).
        source: the name used in error messages (a file name).

    Returns:
        The validated split.

    Raises:
        SplitFileError: for invalid JSON, a duplicated key, a set name that is not
            valid, a set that is not an array, or an entry of the wrong type.
    """
    return _split_of(strict_json(data, source=source), data, sample_type, source)


def split_of_document(
    document: object, *, source: str = "<split>"
) -> DatabaseSplit[Any]:
    """Validate a split file's JSON document, which `strict_json` parsed.

    As `parse_split` without a sample type, for a caller that has parsed the
    text already (the text is not parsed again).

    Raises:
        SplitFileError: as `parse_split` does.
    """
    return _split_of(document, b"", Any, source)


def _split_of(
    document: object, data: bytes | str, sample_type: object, source: str
) -> DatabaseSplit[Any]:
    """Validate ``document``, parsed from ``data`` (read again for a sample type)."""
    if not isinstance(document, dict):
        _raise_file_error(source, [_describe(_top_level_error(document), {})])
    if is_sidecar_document(document):
        made = source.removesuffix(SIDECAR_SUFFIX)
        named = f", {made}," if made != source else ""
        msg = (
            f"{source}: the sidecar file where `lightsplit split` records how it "
            f"made a split, not a split file; give the split file{named} itself (a "
            f"pattern such as `*.json` matches both: leave out `*{SIDECAR_SUFFIX}`)"
        )
        raise SplitFileError(msg)
    problems = [
        f"{printable(name) or '(empty name)'}: {problem}"
        for name in document
        if (problem := set_name_problem(name)) is not None
    ]
    # the entries are checked even when a name is not valid: one run, every problem
    sets: dict[str, tuple[Any, ...]] = {}
    if sample_type is Any:
        problems += [
            _not_an_array(name, samples)
            for name, samples in document.items()
            if not isinstance(samples, list)
        ]
        if not problems:
            sets = {name: tuple(samples) for name, samples in document.items()}
    else:
        import pydantic_core  # noqa: PLC0415 - with pydantic, for sample types alone

        if isinstance(data, bytes) and data.startswith(codecs.BOM_UTF8):
            data = data[len(codecs.BOM_UTF8) :]  # read by Python's json, not pydantic
        try:
            with gc_paused():
                sets = _adapter(sample_type).validate_json(data, strict=True)
        except pydantic_core.ValidationError as exc:
            errors = exc.errors(include_url=False)
            problems += _described(errors, document, union=_is_union(sample_type))
    if problems:
        _raise_file_error(source, problems)
    split: DatabaseSplit[Any] = DatabaseSplit.__new__(DatabaseSplit)
    split._sets = sets  # names and entries were checked above
    split._source = source
    split._file = None
    return split


def _check_sets(title: str, sets: Mapping[object, object]) -> None:
    """Refuse set names that are not valid, and sets that are no sequence.

    Raises:
        ValidationError: ``set_name_invalid`` and ``set_invalid``, every one.
    """
    from ._validation_errors import (  # noqa: PLC0415 - for the errors alone
        ErrorCollector,
        set_invalid,
        set_name_invalid,
    )

    errors = ErrorCollector()
    for name, samples in sets.items():
        if not isinstance(name, str) or set_name_problem(name) is not None:
            errors.add((str(name), "[key]"), set_name_invalid(name=str(name)), name)
        if isinstance(samples, str | bytes) or not isinstance(samples, Sequence):
            kind = "None" if samples is None else type(samples).__name__
            errors.add(
                (str(name),), set_invalid(set_name=str(name), type_name=kind), samples
            )
    errors.raise_if_any(title)


def _top_level_error(document: object) -> "ErrorDetails":
    return {"type": "dict_type", "loc": (), "msg": "", "input": document}


@overload
def load_split(path: StrPath, *, sample_type: type[RawT]) -> DatabaseSplit[RawT]: ...
@overload
def load_split(path: StrPath, *, sample_type: object = ...) -> DatabaseSplit[Any]: ...
def load_split(path: StrPath, *, sample_type: object = Any) -> DatabaseSplit[Any]:
    """Read and validate a split file (``.json`` or ``.json.bz2``).

    Args:
        path: the split file; a name ending in ``.bz2`` is decompressed first.
        sample_type: the type of every raw sample, for example ``tuple[str, int]``;
            each entry is validated against it in strict JSON mode (``"1"`` and
            ``1.0`` are not ``int``) and returned as that type. ``Any`` (the
            default) accepts any JSON value.

    Returns:
        The split, its sets as tuples in file order.

    Raises:
        FileNotFoundError: if ``path`` does not exist.
        SplitFileError: naming the file, set, index and entry of each problem:
            invalid JSON or bzip2 data, a duplicated key, an invalid set name, a
            set that is not an array, an entry of the wrong type; or naming a
            folder given for the file.
        TypeError: for a ``sample_type`` that is no type (or ``None``), or that
            would read an array as a set (``frozenset``).

    Examples:
        >>> import json, tempfile, pathlib
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "split.json"
        >>> _ = path.write_text(json.dumps({"train": [["a.png", 0], ["b.png", 1]]}))
        >>> load_split(path, sample_type=tuple[str, int])["train"]
        (('a.png', 0), ('b.png', 1))
    """
    return read_split(path, sample_type=sample_type)[0]


def read_split(
    path: StrPath, *, sample_type: object = Any
) -> tuple[DatabaseSplit[Any], bytes]:
    """`load_split`, and the text it read the split from (decompressed).

    Raises:
        FileNotFoundError: if ``path`` does not exist.
        SplitFileError: as `load_split` does.
    """
    if not os.fspath(path):
        msg = (
            "the path of the split file is empty (which would read as the current "
            "folder); give the path of a split file (`.json` or `.json.bz2`)"
        )
        raise SplitFileError(msg)
    path = Path(path)
    try:
        data = read_file(path)
    except FileNotFoundError:
        raise split_file_missing(path, "`load_split`") from None
    try:
        split = parse_split(data, sample_type=sample_type, source=str(path))
    except SplitFileError:
        if path.suffix.lower() != ".csv":
            raise
    else:
        if sample_type is not Any:
            _read_from(split, path, data)
        return split, data
    json_path = path.with_suffix(".json")
    msg = (
        f"{path}: a CSV table, not a JSON split file; `lightsplit convert {path} "
        f"-o {json_path}` makes a split file of a table with a `set` column, then "
        f"one column per entry item, and `lightsplit split {path} --fractions 0.7 "
        f"0.15 0.15 -o {json_path}` splits a table of samples (a path and a label "
        "column)"
    )
    raise SplitFileError(msg)


def _read_from(split: DatabaseSplit[Any], path: Path, data: bytes) -> None:
    """Note that ``split``, read with a sample type, was read from ``path``.

    Its entries as typed may hold more or less than the file (a dataclass's
    defaults, a time written another way): `file_sets` reads the file again
    for its content hash, while it holds ``data``.
    """
    import hashlib  # noqa: PLC0415 - for sample types alone

    split._file = (path, hashlib.sha256(data).hexdigest())


def file_sets(split: Mapping[str, Sequence[object]]) -> dict[str, list[object]] | None:
    """Return the sets of the file a typed split was read from, as JSON reads them.

    For a `DatabaseSplit` that `load_split` read with a sample type, from a
    file that holds the same text since: its content hash is the file's
    (``lightsplit card`` prints it), whatever the sample type makes of its
    entries. ``None`` for any other split, and where the file changed or
    cannot be read.
    """
    # (a split pickled by an earlier version has no `_file`)
    found = getattr(split, "_file", None) if isinstance(split, DatabaseSplit) else None
    if found is None:
        return None
    import hashlib  # noqa: PLC0415 - for sample types alone

    path, digest = found
    try:
        data = read_file(path)
    except (OSError, SplitFileError):
        return None
    if hashlib.sha256(data).hexdigest() != digest:
        return None
    document = strict_json(data, source=str(path))
    if not isinstance(document, dict) or list(document) != list(split):
        return None
    return {name: list(entries) for name, entries in document.items()}


_COMPRESSED: Final = (
    (b"\x1f\x8b", "gzip"),
    (b"PK\x03\x04", "zip"),
    (b"\xfd7zXZ", "xz"),
)
"""How data compressed by another program than bzip2 starts, and its name."""

_BINARY: Final = (
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
    (b"GIF8", "a GIF image"),
    (b"\x93NUMPY", "a NumPy array (`.npy`)"),
    (b"\x89HDF", "an HDF5 file"),
)
"""How files that a split file's samples often name start, and what they are."""


def _binary_kind(data: bytes) -> str | None:
    """Say what kind of data file ``data`` is (an image, say), if it is one."""
    if data[128:132] == b"DICM":
        return "a DICOM file"
    return next((name for magic, name in _BINARY if data.startswith(magic)), None)


def split_file_missing(path: StrPath, what: str) -> FileNotFoundError:
    """Return the error for a split file that does not exist, said of ``what``.

    Its message names the file, absolute where given relative, since a relative
    path is read from the current folder, which is often not the one meant.
    """
    shown = Path(path)
    where = "" if shown.is_absolute() else f" (read as {Path.cwd() / shown})"
    if shown.is_symlink():
        where += f" (a link to {os.readlink(shown)}, which does not exist)"
    return SplitFileNotFoundError(
        f"{what}: the split file {shown} does not exist{where}; give the path of "
        "an existing split file (`.json` or `.json.bz2`)",
        shown,
    )


class SplitFileNotFoundError(FileNotFoundError):
    """A `FileNotFoundError` whose text says what to do, not ``[Errno 2] ...``.

    Its ``errno``, ``strerror`` and ``filename`` are those of the system's.
    """

    def __init__(self, message: str, path: Path) -> None:
        super().__init__(errno.ENOENT, os.strerror(errno.ENOENT), str(path))
        self.message = message

    def __str__(self) -> str:
        return self.message

    def __reduce__(self) -> tuple[type["SplitFileNotFoundError"], tuple[str, Path]]:
        return type(self), (self.message, Path(self.filename))


def read_file(path: Path, *, error: type[LightsplitError] = SplitFileError) -> bytes:
    """Return the bytes of ``path``, decompressed first if they are bzip2's.

    They are when the name ends in ``.bz2`` (any case) or the data starts as
    bzip2 data does (``BZh``), which no JSON text does.

    Raises:
        FileNotFoundError: if ``path`` does not exist.
        LightsplitError: of type ``error``, for data that is not bzip2 in a file
            so named, and for data compressed another way (gzip, zip, xz).
    """
    if path.is_dir():
        msg = (
            f"{path}: is a folder; give the path of a split file (`.json` or "
            "`.json.bz2`)"
        )
        raise error(msg)
    data = path.read_bytes()
    kind = _binary_kind(data)
    if kind is not None:
        msg = (
            f"{path}: {kind}, not a split file; give the path of a split file "
            "(`.json` or `.json.bz2`)"
        )
        raise error(msg)
    other = next((name for magic, name in _COMPRESSED if data.startswith(magic)), None)
    if other is not None:
        msg = (
            f"{path}: {other}-compressed data; lightsplit reads JSON text, plain "
            "or compressed with bzip2: decompress it, or recompress it with bzip2"
        )
        raise error(msg)
    if path.suffix.lower() == ".bz2" or data.startswith(b"BZh"):
        import bz2  # noqa: PLC0415 - for compressed files alone

        try:
            data = bz2.decompress(data)
        except (OSError, ValueError) as exc:
            msg = f"{path}: not a valid bzip2 file ({exc}); recompress it with bzip2"
            raise error(msg) from exc
    return data
