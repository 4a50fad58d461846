"""What data a checkpoint was trained on: recorded, read back and compared.

A data module's ``state_dict()``, which Lightning stores in every checkpoint,
records per set its size, content hash and class counts, and its loaders'
identity; the configuration; the model transforms' identity; and a compact
hash of every entry the model was trained on (8 bytes each), so that an
evaluated set that shares entries with training can be found later. A run
resumed on another training set (`allow_data_change`) carries the entries and
groups of the checkpoint it resumed from into its own (`Earlier`): they were
trained on too. The loaders that read the training entries are recorded by
class and ``root`` (`reader_key`), for an evaluated set of another database
whose relative paths are training ones to be told apart (`shared_entries`).
Everything recorded is plain data and tensors: a checkpoint loads with
``weights_only=True``.
"""

import hashlib
import os
import posixpath
import re
import sys
import unicodedata
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import chain
from operator import itemgetter
from typing import Any, Final, Literal, TypeAlias

import torch
from torch import Tensor

import lightsplit

from ._config import DataModuleConfig
from ._entries import (
    DATA_SUFFIXES,
    EARLIER_DATA_SUFFIXES,
    JSON_TYPES,
    Grouping,
    as_text,
    fields_of,
    grouping,
    is_group_field,
    names_file,
    normalize_path,
)
from ._errors import (
    DataChangedError,
    SampleLoadError,
    format_list,
    format_problems,
    preview,
    printable,
)
from ._fingerprint import fingerprint_of
from ._hashing import canonical_json
from ._sample import ModelTransform
from ._sources import SetSource
from ._types import SetName

__all__ = [
    "PROVENANCE_FORMAT",
    "PROVENANCE_KEY",
    "Difference",
    "Earlier",
    "ReaderKey",
    "SharedEntries",
    "class_name",
    "compare_provenance",
    "earlier_training",
    "entry_hashes",
    "group_change",
    "hash64",
    "loader_name",
    "overlap",
    "provenance_of",
    "public_name",
    "reader_key",
    "recorded_grouping",
    "report",
    "set_record",
    "settings_shown",
    "shared_entries",
    "shown_reader",
    "train_loaders",
    "ungrouped_training",
]

PROVENANCE_KEY: Final = "lightsplit_provenance"
"""The key of the record in a data module's ``state_dict()``."""

PROVENANCE_FORMAT: Final = 1
"""Version of the record's layout."""

_TRAINING_SETTINGS: Final = frozenset(
    {
        "batch_size",
        "batch_chunk_count",
        "drop_incomplete_batch",
        "balance_sampler_by_class",
        "seed",
    }
)
"""Settings that change what training sees: changing them on resume is an error."""


@dataclass(frozen=True, slots=True)
class Difference:
    """One difference between a checkpoint's data and a data module's."""

    what: str
    """What differs, as a short sentence naming the set, setting or loader."""
    severity: Literal["error", "warning", "held_out"]
    """``"error"``: the data or training differ; ``"warning"``: how it is served;
    ``"held_out"``: an evaluated set differs (or is new), but was found held out
    from the checkpoint's training set, so it is evaluated as given."""

    def __str__(self) -> str:
        return self.what


def transform_name(transform: object) -> str:
    """Return a model transform's name: its function's, else its class's."""
    name = getattr(transform, "__name__", None)
    return name if isinstance(name, str) else type(transform).__name__


def _transforms_changed(recorded: Mapping[str, Any], current: Mapping[str, Any]) -> str:
    """Say which model transforms differ from those a checkpoint recorded.

    By name where the checkpoint recorded them (records made before name the
    transforms of now alone); a transform of the same name differs in its
    code, settings or weights.
    """
    before, now = recorded.get("transforms") or [], current["transforms"]
    named_now: list[str] = current["transform_names"]
    named_before = recorded.get("transform_names")

    def listed(names: Sequence[str]) -> str:
        return ", ".join(f"`{printable(str(name))}`" for name in names) or "none"

    if not isinstance(named_before, list) or len(named_before) != len(before):
        return f"the model transforms changed (now {listed(named_now)})"
    if named_before != named_now:
        return (
            f"the model transforms changed: {listed(named_before)} then, "
            f"{listed(named_now)} now"
        )
    changed = [
        name for name, a, b in zip(named_now, before, now, strict=True) if a != b
    ]
    return (
        f"the model transforms changed: {listed(changed)}, of the same name, "
        f"{'differs' if len(changed) == 1 else 'differ'} in code, settings or weights"
    )


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "backslashreplace")).hexdigest()


Spelling: TypeAlias = Literal["composed", "as written", "decomposed"]
"""How `_identity` writes the accents of a path: composed (NFC, as lightsplit
identifies files everywhere), as the entry writes them (what checkpoints
recorded before), or decomposed (NFD, as macOS writes names)."""


def _identity(
    entry: object,
    *,
    paths_as_text: bool = True,
    spelling: Spelling = "composed",
    suffixes: frozenset[str] = DATA_SUFFIXES,
) -> bytes:
    r"""Return what identifies an entry: its normalised path, else its JSON form.

    The path is the entry's first string that names a file (`names_file`),
    else its first string (the entry itself when it is one), with ``\``,
    ``.`` and repeated separators normalised and accents composed
    (`normalize_path`), so that ``./a.png`` and ``a.png`` are the same file,
    and so is ``café.png`` with its ``é`` written as ``e`` and an accent. A
    row of a table split by ``lightsplit split`` (``["P003", "p3/a.png", 1]``,
    or a site first) is so told by its file, not by the patient or site it
    shares with others. An object entry is told by the first of its strings
    that names a file, else by all its JSON. A typed entry (a dataclass or
    pydantic model) is read as the object of its fields, and a path object
    (`os.PathLike`) as its text, as a split file holds them.

    ``paths_as_text=False`` gives the identity that lightsplit recorded before
    it read typed entries and path objects so (their whole JSON), and
    ``spelling="as written"`` the one it recorded before it composed accents,
    which older checkpoints hold (`_legacy_identities`); a path composed (or
    ASCII) has the same identity either way. ``suffixes=EARLIER_DATA_SUFFIXES``
    gives the one it recorded before it knew the other data suffixes (``.pgm``)
    as files' (`_earlier_identity`).
    """
    if paths_as_text:
        entry = fields_of(entry)
    first = entry
    if isinstance(entry, list | tuple | dict):
        items = entry.values() if isinstance(entry, dict) else entry
        texts = map(as_text, items) if paths_as_text else items
        strings = [item for item in texts if isinstance(item, str)]
        files = (text for text in strings if names_file(text, suffixes))
        fallback = None if isinstance(entry, dict) or not strings else strings[0]
        first = next(files, fallback)
    if isinstance(first, str):
        path = first.replace("\\", "/")
        if spelling == "composed":  # as `normpath`, which writes "" as "."
            path = normalize_path(path) or "."
        else:
            path = posixpath.normpath(path)
            if spelling == "decomposed" and not path.isascii():
                path = unicodedata.normalize("NFD", path)
        return path.encode("utf-8", "backslashreplace")
    try:
        return canonical_json(entry)
    except (TypeError, ValueError):
        return repr(entry).encode("utf-8", "backslashreplace")


def _plain(entry: object) -> bool:
    """Whether ``entry``'s identity was always the one `_identity` gives now.

    So it is for a string, or an array or object of values JSON reads alone,
    whose strings are all ASCII.
    """
    if isinstance(entry, str):
        return entry.isascii()
    if type(entry) not in (list, tuple, dict):
        return False
    items: Iterable[object] = (
        entry.values() if isinstance(entry, dict) else entry  # type: ignore[assignment]  # list or tuple
    )
    return all(
        type(item) in JSON_TYPES and (not isinstance(item, str) or item.isascii())
        for item in items
    )


def _legacy_identities(entry: object) -> list[bytes]:
    """Return the identities older checkpoints may hold for ``entry``, if others.

    Typed entries and entries holding path objects were identified by their
    whole JSON (``paths_as_text=False``), and paths by their accents as written
    (`_identity`). A path written composed is also looked up decomposed: a
    checkpoint recorded before from entries written so (as macOS writes file
    names) holds that spelling.
    """
    if _plain(entry):
        return []
    current = _identity(entry)
    found: list[bytes] = []
    for text in (True, False):
        for spelling in ("as written", "decomposed"):
            old = _identity(entry, paths_as_text=text, spelling=spelling)
            if old != current and old not in found:
                found.append(old)
    return found


_ADDED_SUFFIXES: Final = tuple(sorted(DATA_SUFFIXES - EARLIER_DATA_SUFFIXES))
"""The data suffixes that older checkpoints did not know as files'."""


def _earlier_identity(entry: object) -> bytes | None:
    """Return the identity older checkpoints recorded for ``entry``, if another.

    Before lightsplit knew some data suffixes (`_ADDED_SUFFIXES`), a row
    ``["F", "mdb001.pgm", 0]`` was told by ``F``: only an entry holding a
    string of such a suffix may have had another identity (`_identity`).
    """
    fields = fields_of(entry)
    items: Iterable[object] = (
        fields.values()
        if isinstance(fields, dict)
        else fields
        if isinstance(fields, list | tuple)
        else ()
    )
    if not any(
        isinstance(text := as_text(item), str)
        and text.lower().endswith(_ADDED_SUFFIXES)
        for item in items
    ):
        return None
    # recorded before accents were composed, too
    old = _identity(entry, spelling="as written", suffixes=EARLIER_DATA_SUFFIXES)
    return None if old == _identity(entry) else old


def _earlier_identities(entries: Sequence[object]) -> list[tuple[int, bytes]]:
    """Return the position and earlier identity of each entry that has one.

    See `_earlier_identity`; entries of values JSON reads are first looked
    at all at once, for a string of an added suffix, which few hold.
    """
    if _json_shaped(entries):
        kinds = set(map(type, entries))
        items: Iterable[object] = chain.from_iterable(
            map(dict.values, entries) if kinds == {dict} else entries  # type: ignore[arg-type]  # objects or arrays
        )
        text = "\n".join([item for item in items if type(item) is str]).lower() + "\n"
        if not any(f"{suffix}\n" in text for suffix in _ADDED_SUFFIXES):
            return []
    return [(i, old) for i, e in enumerate(entries) if (old := _earlier_identity(e))]


def hash64(identity: bytes) -> int:
    """Return the 8-byte BLAKE2b hash of ``identity`` as a signed int (int64)."""
    return int.from_bytes(
        hashlib.blake2b(identity, digest_size=8).digest(), "little", signed=True
    )


def _json_shaped(entries: Sequence[object]) -> bool:
    """Whether ``entries`` are arrays, or objects, of values JSON reads alone.

    Such entries have one identity, read with path objects as text or not
    (`_identity`): the usual case, told in two passes in C.
    """
    kinds = set(map(type, entries))
    items: Iterable[object]
    if kinds <= {list, tuple}:
        items = chain.from_iterable(entries)  # type: ignore[arg-type]  # arrays
    elif kinds == {dict}:
        items = chain.from_iterable(map(dict.values, entries))  # type: ignore[arg-type]  # objects
    else:
        return False
    return set(map(type, items)) <= JSON_TYPES


def _ascii_only(entries: Sequence[object]) -> bool:
    """Whether every string of ``entries`` (arrays or objects) is ASCII."""
    arrays: Iterable[Iterable[object]] = (
        entry.values() if isinstance(entry, dict) else entry  # type: ignore[misc]  # arrays
        for entry in entries
    )
    items = chain.from_iterable(arrays)
    return "".join(item for item in items if isinstance(item, str)).isascii()


def _pair_identities(entries: Sequence[object]) -> list[bytes] | None:
    r"""Return the identities of ``[path, value]`` entries at once, if all are so.

    An array of two items whose first is the one string (the second, a number,
    a list or ``null``) is told by its path (`_identity`): the paths are
    normalised one by one only where their joined text shows one may need it
    (``./``, ``//``, ``\``, accents), and encoded at once.
    """
    if not entries or not set(map(type, entries)) <= {list, tuple}:
        return None
    if set(map(len, entries)) != {2}:  # type: ignore[arg-type]  # arrays
        return None
    paths: list[str] = list(map(itemgetter(0), entries))  # type: ignore[arg-type]  # arrays
    if set(map(type, paths)) != {str}:
        return None
    if not set(map(type, map(itemgetter(1), entries))) <= _PAIRED:  # type: ignore[arg-type]  # arrays
        return None
    text = "\n".join(paths)
    if not text.isascii() or any(
        mark in f"\n{text}\n" for mark in ("\\", "\n.", "/.", "//", "/\n", "\n\n")
    ):
        paths = [normalize_path(path.replace("\\", "/")) or "." for path in paths]
        text = "\n".join(paths)
    identities = text.encode("utf-8", "backslashreplace").split(b"\n")
    return identities if len(identities) == len(entries) else None  # a line end


_PAIRED: Final = frozenset({int, float, bool, type(None), list})
"""The types of the second item of the entries `_pair_identities` reads."""


def entry_hashes(entries: Sequence[object], *, in_order: bool = False) -> Tensor:
    """Return 8 bytes per entry identifying it (see `_identity`), as int64.

    Sorted, unless ``in_order`` (the entries' order).
    """
    identities = _pair_identities(entries)
    if identities is None:
        typed = not _json_shaped(entries)
        identities = [_identity(entry, paths_as_text=typed) for entry in entries]
    blake2b = hashlib.blake2b
    digests = b"".join([blake2b(key, digest_size=8).digest() for key in identities])
    if digests and sys.byteorder == "little":  # each digest read as `hash64` does
        values = torch.frombuffer(bytearray(digests), dtype=torch.int64)
    else:
        values = torch.tensor([hash64(key) for key in identities], dtype=torch.int64)
    return values if in_order else values.sort().values


def _class_counts(targets: Callable[[], Sequence[int]]) -> dict[str, int] | None:
    try:
        labels = targets()
    except SampleLoadError:  # a loader whose targets fail records no classes
        return None
    counts = Counter(labels)
    return {str(label): counts[label] for label in sorted(counts)}


def set_record(
    source: SetSource, targets: Callable[[], Sequence[int]], canonical: bytes
) -> dict[str, Any]:
    """Return the record of one set: size, content hash, classes and loaders.

    ``canonical`` is the set's entries in canonical form (``canonical_json``),
    whose SHA-256 is the set's content hash. The split file of each part is
    recorded too where any is known (``files``): for people to read, as the
    data are compared by their content, not by where they were read from.
    """
    files = {"files": list(source.files)} if any(source.files) else {}
    return {
        **files,
        "size": len(source),
        "sha256": hashlib.sha256(canonical).hexdigest(),
        "class_counts": _class_counts(targets),
        "loaders": [
            [
                loader_name(loader),
                _digest(fingerprint_of(loader)),
            ]
            for _, loader in source.parts
        ],
        # for people to read when a loader changed (`_loader_change`), not compared
        "loader_settings": [settings_shown(loader) for _, loader in source.parts],
    }


_OWN_CLASS: Final = re.compile(r"lightsplit\._\w+\.([A-Za-z]\w*)")
"""The name of a class in one of lightsplit's private modules."""


def class_name(cls: type) -> str:
    """Return the full name a checkpoint records of a loader's class.

    lightsplit's public classes go by their public name
    (``lightsplit.ImageFileLoader``), not by the private module that defines
    them, which a later version may rename: its checkpoints would then read as
    loaded by another class. Other classes go by module and qualified name.
    """
    name = f"{cls.__module__}.{cls.__qualname__}"
    return (
        public_name(name)
        if cls is getattr(lightsplit, cls.__qualname__, None)
        else name
    )


def loader_name(loader: object) -> str:
    """Return the name a checkpoint records of a loader: its class's, and what it wraps.

    A `MappingLoader` (or any loader holding the loader it calls as ``loader``)
    is named with the class it wraps, ``lightsplit.MappingLoader(train.XrayLoader)``:
    a mednet loader swapped for another inside it loads other data, which
    resuming refuses as it does for loaders that are not wrapped.
    """
    wrapped = getattr(loader, "loader", None)
    name = class_name(type(loader))
    if wrapped is None or not callable(getattr(wrapped, "sample", None)):
        return name
    return f"{name}({loader_name(wrapped)})"


def _same_loaders(old: Sequence[str], new: Sequence[str]) -> bool:
    """Whether the loaders named ``old`` (recorded) and ``new`` are of one class each.

    A checkpoint written before `loader_name` named what a loader wraps records
    the wrapper's class alone (``lightsplit.MappingLoader``): it is compared
    with the wrapper's class of ``new``, so that such a checkpoint resumes.
    """
    return len(old) == len(new) and all(
        was == now or ("(" not in was and now.split("(", 1)[0] == was)
        for was, now in zip(old, new, strict=True)
    )


def public_name(name: str) -> str:
    """Return a recorded class name with lightsplit's private module left out.

    Checkpoints written before `class_name` recorded public classes by their
    private module (``lightsplit._images.ImageFileLoader``); read so, they
    compare with those written since.

    Examples:
        >>> public_name("lightsplit._images.ImageFileLoader")
        'lightsplit.ImageFileLoader'
        >>> public_name("train.XrayLoader")
        'train.XrayLoader'
    """
    match = _OWN_CLASS.fullmatch(name)
    if match is None or match[1] not in lightsplit.__all__:
        return name
    return f"lightsplit.{match[1]}"


LOADER_SHOWN: Final = 200
"""The longest loader ``repr`` recorded to show what changed in it."""


def settings_shown(loader: object) -> str | None:
    """Return the ``repr`` of ``loader`` if it shows settings, else ``None``.

    The default ``repr`` (``<module.Loader object at 0x...>``) names an address,
    which changes with every run, and says nothing of the settings.
    """
    try:
        shown = repr(loader)
    except Exception:  # a loader's repr is no reason to fail a checkpoint
        return None
    shown = " ".join(shown.split())  # a repr over several lines, on one
    if " at 0x" in shown or len(shown) > LOADER_SHOWN:
        return None
    return shown


def _hashes(value: object) -> Tensor | None:
    """Return ``value`` if it is a record's hashes (int64, one dimension)."""
    if isinstance(value, Tensor) and value.dtype == torch.int64 and value.ndim == 1:
        return value
    return None


def _own_entries(record: Mapping[str, Any]) -> object:
    """Return the hashes of a record's training set itself, not earlier ones.

    ``train_set_entries`` where the record also holds earlier training sets'
    entries (`Earlier`), else ``train_entries``; ``None`` where it has none.
    """
    own = record.get("train_set_entries")
    return own if own is not None else record.get("train_entries")


ReaderKey: TypeAlias = tuple[str, str | None, str | None]
"""What tells a loader's files apart: its class, its ``root`` and the class of
the loader it wraps (`reader_key`)."""


@dataclass(frozen=True, slots=True)
class Earlier:
    """What a resumed model was trained on before the training set it goes on with.

    Carried from the checkpoint resumed from (`earlier_training`) into the
    record of the run (`provenance_of`), so that its checkpoints remember
    every entry and patient the model was trained on: a later evaluation on
    entries left out of the training set when resuming is no held-out one.
    """

    entries: Tensor
    """The hashes of the entries trained on that the training set lacks, sorted,
    each once."""
    groups: Tensor | None
    """The hashes of the training groups the checkpoint records, if any."""
    grouping: Grouping | None
    """How ``groups`` were found: the checkpoint's `group_pattern` or
    `group_field` (`recorded_grouping`); ``None`` where it records neither, or
    a damaged one."""
    loaders: tuple[ReaderKey | None, ...] = ()
    """The loaders the checkpoint records as having read training entries;
    ``None`` for those of a checkpoint that recorded none (`reader_key`)."""
    ungrouped: Tensor | None = None
    """The hashes of ``entries`` whose groups the checkpoint records not
    (``train_entries_ungrouped``): found by another grouping before it, or
    by none; ``None`` where it records no such entries."""


def recorded_grouping(config: Mapping[str, Any]) -> Grouping | str | None:
    """Return how a checkpoint's configuration grouped its entries, if it did.

    ``None`` where it set neither `group_pattern` nor `group_field` (records
    older than `group_field` have no such key); a string saying what is amiss
    where its record is damaged: a pattern that is no regular expression, a
    field that is neither a position nor a key, or both.
    """
    pattern = config.get("group_pattern")
    field = config.get("group_field")
    if isinstance(pattern, str) and not _compiles(pattern):
        return (
            f"the checkpoint's `group_pattern` `{printable(pattern)}` is no regular "
            "expression (its record is damaged)"
        )
    if field is not None and not is_group_field(field):
        return (
            f"the checkpoint's `group_field` {preview(field)} is neither a position "
            "nor a key (its record is damaged)"
        )
    if isinstance(pattern, str) and field is not None:
        return (
            "the checkpoint records both a `group_pattern` and a `group_field` "
            "(its record is damaged)"
        )
    if isinstance(pattern, str):
        return Grouping("group_pattern", pattern)
    if field is not None:
        return Grouping("group_field", field)
    return None


def _compiles(pattern: str) -> bool:
    """Whether ``pattern`` is a regular expression (a record may be damaged)."""
    try:
        re.compile(pattern)
    except re.error:
        return False
    return True


def earlier_training(recorded: Mapping[str, Any], train: Tensor) -> Earlier:
    """Return what the checkpoint ``recorded`` was trained on, beyond ``train``.

    ``train`` holds the hashes of the training set resumed on. A record
    without training entries (of a lightsplit that recorded none), or with
    damaged ones, adds none.
    """
    old = _hashes(recorded.get("train_entries"))
    entries = (
        torch.empty(0, dtype=torch.int64)
        if old is None
        else torch.unique(old[~torch.isin(old, train)])
    )
    found = recorded_grouping(recorded.get("config", {}))
    loaders = _recorded_loaders(recorded)
    ungrouped = _hashes(recorded.get("train_entries_ungrouped"))
    return Earlier(
        entries,
        _hashes(recorded.get("train_groups")),
        found if isinstance(found, Grouping) else None,
        # a record of training entries without their loaders: read by unknown ones
        (None,) if loaders is None and old is not None else tuple(loaders or ()),
        None if ungrouped is None else ungrouped[torch.isin(ungrouped, entries)],
    )


def ungrouped_training(recorded: Mapping[str, Any]) -> int:
    """Count the training entries whose patients a checkpoint records not.

    The entries trained on before it was resumed with another grouping (or
    with one, after none), carried by file alone (``train_entries_ungrouped``,
    `provenance_of`): evaluated sets are compared with their patients by file
    only. ``0`` where it records none (or its groups not at all).
    """
    ungrouped = _hashes(recorded.get("train_entries_ungrouped"))
    return 0 if ungrouped is None else int(ungrouped.numel())


def _root_text(root: object) -> str:
    """Return a loader's ``root`` as the absolute path it names, links resolved.

    So ``data``, ``./data/`` and a link to it are one folder. A ``root`` that
    is no path (or a URL) is kept as its text.
    """
    if isinstance(root, str | os.PathLike):
        text = os.fspath(root)
        if isinstance(text, str) and "://" not in text:
            return os.path.realpath(text)
        return str(text)
    return str(root)


def reader_key(loader: object) -> ReaderKey:
    """Return what tells the files ``loader`` reads apart from other loaders'.

    As a data module tells the files of its sets apart (`warn_shared_files`):
    by the loader's class, its ``root`` (the folder it reads, where it has one)
    and the class of the loader it wraps (`MappingLoader`), if any.
    """
    wrapped = getattr(loader, "loader", None)
    root = getattr(loader, "root", None)
    return (
        class_name(type(loader)),
        None if root is None else _root_text(root),
        None if wrapped is None else class_name(type(wrapped)),
    )


def train_loaders(source: SetSource) -> tuple[ReaderKey, ...]:
    """Return the loaders of the set ``source`` (`reader_key`), each once."""
    return tuple(dict.fromkeys(reader_key(loader) for _, loader in source.parts))


def _recorded_loaders(recorded: Mapping[str, Any]) -> list[ReaderKey | None] | None:
    """Return the loaders of training entries a checkpoint records, if it does.

    ``None`` where it records none (a lightsplit that did not); in the list,
    ``None`` stands for loaders it does not know (a damaged item, or those of
    an earlier checkpoint that recorded none).
    """
    loaders = recorded.get("train_loaders")
    if not isinstance(loaders, list):
        return None
    found: list[ReaderKey | None] = []
    for item in loaders:
        if (
            isinstance(item, list | tuple)
            and len(item) == 3  # noqa: PLR2004 - class, root and wrapped class
            and isinstance(item[0], str)
            and all(part is None or isinstance(part, str) for part in item[1:])
        ):
            wrapped = None if item[2] is None else public_name(item[2])
            found.append((public_name(item[0]), item[1], wrapped))
        else:
            found.append(None)
    return found


def shown_reader(key: ReaderKey) -> str:
    """Say which loader ``key`` is: its class, wrapped class and ``root``."""
    said = f"`{key[0]}`"
    if key[2] is not None:
        said += f" of `{key[2]}`"
    return said + (" (no `root`)" if key[1] is None else f" at {preview(key[1])}")


def group_change(earlier: Earlier, now: Grouping | None) -> str | None:
    """Say that ``earlier``'s groups are not carried, if so and if it matters.

    Groups found by another pattern (or read from another field, or found one
    way rather than the other) do not compare with those ``now`` finds; where
    the checkpoint's training held entries that the training set resumed on
    lacks, their patients are then remembered by file only. (Without a
    grouping now, `compare_provenance` says that no group is recorded.)
    """
    was = earlier.grouping
    if (
        earlier.groups is None
        or now is None
        or was == now
        or not earlier.entries.numel()
    ):
        return None
    if was is None:
        said = "unset"
    elif was.option == now.option:
        said = f"`{was.shown_value}`"
    else:
        said = f"unset, where the checkpoint set {was}"
    found = (
        "read from its field"
        if was is not None and was.by_field
        else ("found by its pattern")
    )
    return (
        f"`{now.option}` is `{now.shown_value}`, not {said}: the checkpoint's "
        f"training groups, {found}, are not carried into the "
        "checkpoints written from now on, which record the groups of the training "
        f"set alone; the {earlier.entries.numel():,} entries trained on before "
        "that it lacks are still recorded, by file, not by patient"
    )


def provenance_of(
    sets: Mapping[SetName, dict[str, Any]],
    split_sha256: str,
    train_hashes: Tensor | None,
    config: DataModuleConfig,
    transforms: Sequence[ModelTransform],
    *,
    train_groups: Tensor | None = None,
    train_readers: Sequence[ReaderKey] = (),
    earlier: Earlier | None = None,
) -> dict[str, Any]:
    """Assemble the record a data module stores in checkpoints.

    ``split_sha256`` is the content hash of all its sets (`split_sha256`);
    ``train_hashes`` those of the training entries (`entry_hashes`);
    ``train_groups`` the hashes of the training groups (`group_hashes`), found
    by the configuration's `group_pattern` (or read from its `group_field`);
    ``train_readers`` the loaders of
    the training set (`train_loaders`). ``earlier`` is what the model was
    trained on before, where it was resumed (`earlier_training`): its entries
    are recorded with the training set's (``train_entries``, the set's own
    then in ``train_set_entries``), its loaders with the set's
    (``train_loaders``), and its groups with the set's where the same pattern
    (or field) found them; else (and for those it recorded no groups of) its
    entries are recorded as ones whose patients are not
    (``train_entries_ungrouped``), for evaluations to say that their patients
    were compared by file only (`ungrouped_training`).
    """
    record: dict[str, Any] = {
        "format": PROVENANCE_FORMAT,
        "split_sha256": split_sha256,
        "sets": dict(sets),
        "config": config.model_dump(mode="json"),
        "transforms": [_digest(fingerprint_of(t)) for t in transforms],
        "transform_names": [transform_name(t) for t in transforms],
    }
    if train_hashes is not None:
        record["train_entries"] = train_hashes
        if earlier is not None and earlier.entries.numel():
            both = torch.cat([train_hashes, earlier.entries])
            record["train_entries"] = torch.sort(both).values
            record["train_set_entries"] = train_hashes
        readers = dict.fromkeys([*train_readers, *(earlier.loaders if earlier else ())])
        record["train_loaders"] = [None if k is None else list(k) for k in readers]
    if train_groups is not None:
        record["train_groups"] = train_groups
        ungrouped = None
        if earlier is not None:
            ungrouped = earlier.entries  # their patients recorded by none ...
            if earlier.groups is not None and earlier.grouping == grouping(
                config.group_pattern, config.group_field
            ):
                record["train_groups"] = torch.unique(
                    torch.cat([train_groups, earlier.groups])
                )
                ungrouped = earlier.ungrouped  # ... unless by this grouping
        if ungrouped is not None and ungrouped.numel():
            record["train_entries_ungrouped"] = ungrouped
    return record


def _changed_entries(name: str, old: object, new: object) -> str | None:
    """Say how a set's entries differ, from their files (`entry_hashes`) if known."""
    if not isinstance(old, Tensor) or not isinstance(new, Tensor):
        return None
    if torch.equal(old, new):
        return (
            f"set `{name}` lists the same files, but in another order, or with other "
            "labels or items"
        )
    changed = int((~torch.isin(new, old)).sum())
    if changed:
        verb = "names a file" if changed == 1 else "name files"
        return (
            f"set `{name}` holds other entries: {changed} of its {new.numel()} "
            f"entries {verb} that the checkpoint's did not list"
        )
    gone = int((~torch.isin(old, new)).sum())  # files listed twice in their place
    return (
        f"set `{name}` holds other entries: {gone} of the checkpoint's "
        f"{old.numel()} files {'is' if gone == 1 else 'are'} no longer listed, and "
        "others are listed more than once"
        if gone
        else f"set `{name}` lists the same files, some a different number of times"
    )


def _compare_set(
    name: str,
    old: Mapping[str, Any],
    new: Mapping[str, Any],
    hashes: tuple[object, object] = (None, None),
) -> tuple[list[Difference], str | None]:
    """Say how set ``name`` differs: its entries or classes (errors), its loader.

    A loader of the same class whose fingerprint changed is a warning: that is
    its code or settings, also where its files are (a moved data folder) or a
    new version of lightsplit, which load the same data; the entries and the
    model transforms are what tell the data apart. It is returned apart, as
    what changed (`_loader_change`), for sets of one loader to share a line.
    """
    found: list[str] = []
    if old.get("size") != new["size"]:
        noun = "entry" if new["size"] == 1 else "entries"
        found.append(f"set `{name}` has {new['size']} {noun}, not {old.get('size')}")
    elif old.get("sha256") != new["sha256"]:
        found.append(
            _changed_entries(name, *hashes)
            or f"set `{name}` holds other entries, or the same in another order "
            f"(sha256 {str(old.get('sha256'))[:12]}... then, {new['sha256'][:12]}... "
            "now)"
        )
    if (
        old.get("class_counts") is not None
        and new["class_counts"] is not None
        and old.get("class_counts") != new["class_counts"]
    ):
        found.append(
            f"set `{name}` has class counts {new['class_counts']}, not "
            f"{old.get('class_counts')}"
        )
    old_loaders = [(public_name(c), f) for c, f in old.get("loaders", [])]
    new_loaders = [(public_name(c), f) for c, f in new["loaders"]]
    same_classes = _same_loaders(
        [c for c, _ in old_loaders], [c for c, _ in new_loaders]
    )
    if not same_classes:
        found.append(
            f"set `{name}` is loaded by {format_list([c for c, _ in new_loaders])}, "
            f"not {format_list([c for c, _ in old_loaders])}"
        )
    errors = [Difference(text, "error") for text in found]
    if same_classes and [f for _, f in old_loaders] != [f for _, f in new_loaders]:
        return errors, _loader_change(old, new)
    return errors, None


def _loader_change(old: Mapping[str, Any], new: Mapping[str, Any]) -> str:
    """Say what changed in a set's loaders: their settings where both show them."""
    before = old.get("loader_settings") or []
    after = new.get("loader_settings") or []
    shown = [
        f"{was} then, {now} now"
        for was, now in zip(before, after, strict=False)
        if was is not None and now is not None and was != now
    ]
    if shown:
        return "; ".join(shown)
    return (
        "its code or settings, such as the folder of its files, or the version of "
        "lightsplit"
    )


def compare_provenance(
    recorded: Mapping[str, Any],
    current: Mapping[str, Any],
    *,
    sets: Sequence[SetName],
    training: bool,
    held_out: Collection[SetName] = (),
) -> list[Difference]:
    """Return how ``current`` differs from ``recorded``, for the sets ``sets``.

    Resuming training (``training``) compares every set, the settings and the
    model transforms; evaluating compares the evaluated sets and transforms.
    The differences of the evaluated sets ``held_out``, found disjoint from the
    checkpoint's training set, are ``"held_out"``, not errors: a test set of
    another database, or one corrected since, is evaluated as given.

    Raises:
        DataChangedError: if ``recorded`` is no lightsplit record.
    """
    if recorded.get("format") != PROVENANCE_FORMAT or "sets" not in recorded:
        msg = (
            f"the checkpoint's data-module state is no lightsplit record (format "
            f"{preview(recorded.get('format'))}, expected {PROVENANCE_FORMAT})"
        )
        raise DataChangedError(msg)
    found: list[Difference] = []
    old_sets: Mapping[str, Any] = recorded["sets"]
    new_sets: Mapping[str, Any] = current["sets"]
    names = list(new_sets) if training else list(sets)
    loaders_changed: dict[str, list[SetName]] = {}  # what changed -> in which sets
    if training:
        found += [
            Difference(f"set `{name}` of the checkpoint is gone", "error")
            for name in old_sets
            if name not in new_sets
        ]
    for name in names:
        checked = not training and name in held_out
        if name not in old_sets:
            kind = "is new" if training else "was not among the checkpoint's sets"
            found.append(
                Difference(f"set `{name}` {kind}", "held_out" if checked else "error")
            )
            continue
        hashes = (
            (_own_entries(recorded), _own_entries(current))
            if name == "train"
            else (None, None)
        )
        differences, loader_change = _compare_set(
            name, old_sets[name], new_sets[name], hashes
        )
        found += (
            [Difference(d.what, "held_out") for d in differences]
            if checked
            else differences
        )
        if loader_change is not None:
            loaders_changed.setdefault(loader_change, []).append(name)
    for change, changed in loaders_changed.items():
        sets = (
            f"set `{changed[0]}`"
            if len(changed) == 1
            else f"sets {format_list(changed)}"
        )
        text = (
            f"the loader of {sets} changed ({change}), so samples may load "
            "differently; check that it loads the same data"
        )
        found.append(Difference(text, "warning"))
    if recorded.get("transforms") != current["transforms"]:
        found.append(Difference(_transforms_changed(recorded, current), "error"))
    if training:
        old_config: Mapping[str, Any] = recorded.get("config", {})
        for key, value in current["config"].items():
            if key in {"allow_data_change", "group_pattern", "group_field"}:
                continue  # how differences are found and taken, not one of them
            if key in old_config and old_config[key] != value:
                severity: Literal["error", "warning"] = (
                    "error" if key in _TRAINING_SETTINGS else "warning"
                )
                found.append(
                    Difference(
                        f"`{key}` is {preview(value)}, not {preview(old_config[key])}",
                        severity,
                    )
                )
        found += _grouping_removed(old_config, current["config"])
        found += _monitor_order(old_sets, new_sets)
    return found


def _monitor_order(
    old_sets: Mapping[str, Any], new_sets: Mapping[str, Any]
) -> list[Difference]:
    """Warn that the monitor sets come in another order than the checkpoint's.

    They are validated on in the split's order, after `validation`: a metric
    logged under one name for every set is numbered by Lightning
    (``val_loss/dataloader_idx_1``), and the numbers would name other sets
    than in the run resumed, in the same logs.
    """
    before = [n for n in old_sets if n.startswith("monitor-") and n in new_sets]
    now = [n for n in new_sets if n.startswith("monitor-") and n in old_sets]
    if before == now:
        return []
    text = (
        f"the monitor sets are validated on in another order: {format_list(before)} "
        f"then, {format_list(now)} now, so that metrics numbered by loader "
        "(`val_loss/dataloader_idx_1`) follow other sets than before; keep the "
        "split's order of sets, or log each metric under its set's name"
    )
    return [Difference(text, "warning")]


def _grouping_removed(
    old_config: Mapping[str, Any], config: Mapping[str, Any]
) -> list[Difference]:
    """Warn that the checkpoint grouped entries and the resumed run does not.

    Adding or changing `group_pattern` or `group_field` is no difference
    (`group_change` says when groups are not carried).
    """
    if config.get("group_pattern") is not None or config.get("group_field") is not None:
        return []
    found: list[Difference] = []
    for key in ("group_pattern", "group_field"):
        value = old_config.get(key)
        if value in (None, ""):
            continue
        shown = (  # as written, as the other messages of groups show it
            f"`{Grouping(key, value).shown_value}`"
            if isinstance(value, str)
            or (isinstance(value, int) and not isinstance(value, bool))
            else preview(value)
        )
        found.append(
            Difference(
                f"`{key}` is unset, not {shown}: checkpoints from now on record no "
                "training groups, for evaluations to find their patients by",
                "warning",
            )
        )
    return found


def overlap(recorded: Mapping[str, Any], entries: Sequence[object]) -> list[int]:
    """Return the positions of ``entries`` that the checkpoint's training set holds.

    An entry is also looked up by the identities that older checkpoints
    recorded for it (`_legacy_identities`).
    """
    train = recorded.get("train_entries")
    if not isinstance(train, Tensor) or not entries:
        return []
    found = torch.isin(entry_hashes(entries, in_order=True), train)
    # what checkpoints recorded before typed entries were read by path, and
    # before lightsplit knew some data suffixes
    legacy = (
        []
        if _json_shaped(entries) and _ascii_only(entries)
        else [
            (i, old)
            for i, entry in enumerate(entries)
            if not _plain(entry)
            for old in _legacy_identities(entry)
        ]
    )
    legacy += _earlier_identities(entries)
    if legacy:  # a checkpoint recorded before typed entries were read by path,
        # before accents were composed, or before other suffixes named files
        olds = torch.tensor([hash64(old) for _, old in legacy], dtype=torch.int64)
        held = torch.isin(olds, train).tolist()
        found[[i for (i, _), was in zip(legacy, held, strict=True) if was]] = True
    shared: list[int] = found.nonzero().flatten().tolist()
    return shared


@dataclass(frozen=True, slots=True)
class SharedEntries:
    """The entries of an evaluated set whose path a checkpoint was trained on."""

    shared: list[int]
    """The positions of those counted as training entries."""
    elsewhere: dict[ReaderKey, list[int]]
    """Those of ``shared`` read by a loader that read no training entry (by
    `reader_key`), by loader."""
    apart: dict[ReaderKey, list[int]]
    """The positions of those told apart from the training files of their
    paths, by loader: read from another ``root`` than the data module's own
    training set reads those files from, as the checkpoint was trained."""
    trained_by: tuple[ReaderKey, ...] = ()
    """The loaders of training entries the checkpoint records."""


def shared_entries(
    recorded: Mapping[str, Any], source: SetSource, train: SetSource | None
) -> SharedEntries:
    """Find the entries of the evaluated set ``source`` that training read.

    An entry whose path is a training entry's (`overlap`) is one, unless it is
    told apart as another database's file of the same relative path: the
    checkpoint records the loaders that read its training entries
    (`reader_key`), the entry's loader is none of them and has a ``root``, and
    the data module's own training set ``train`` holds the path, read by
    recorded loaders alone, each of another ``root``. Those then still read the
    training files where training read them, and the entry's loader reads
    another folder: lightsplit takes files of different folders for different
    files, as it does when a data module is built (`warn_shared_files`). A
    loader's ``root`` that moved since training is so no evidence: its entries
    count as training entries, as do all where the checkpoint records no
    loaders, or not all of them.
    """
    entries = source.entries()
    shared = overlap(recorded, entries)
    loaders = _recorded_loaders(recorded)
    if not shared or loaders is None or None in loaders:
        return SharedEntries(shared, {}, {})
    trained_by = tuple(dict.fromkeys(key for key in loaders if key is not None))
    known = set(trained_by)
    keys = [
        key
        for _, samples, loader in source.located_parts()
        for key in [reader_key(loader)] * len(samples)
    ]
    foreign = [i for i in shared if keys[i] not in known]
    readers = _readers(train, [entries[i] for i in foreign])
    hashes = entry_hashes([entries[i] for i in foreign], in_order=True).tolist()
    elsewhere: dict[ReaderKey, list[int]] = {}
    apart: dict[ReaderKey, list[int]] = {}
    for i, hashed in zip(foreign, hashes, strict=True):
        key = keys[i]
        held = readers.get(hashed, set())
        told = (
            key[1] is not None
            and bool(held)
            and held <= known
            and all(other[1] is not None and other[1] != key[1] for other in held)
        )
        (apart if told else elsewhere).setdefault(key, []).append(i)
    told_apart = {i for found in apart.values() for i in found}
    return SharedEntries(
        [i for i in shared if i not in told_apart],
        elsewhere,
        apart,
        trained_by,
    )


def _readers(
    train: SetSource | None, entries: Sequence[object]
) -> dict[int, set[ReaderKey]]:
    """Return the loaders by which ``train`` reads the paths of ``entries``.

    By the hash of each path (`entry_hashes`) that ``train`` holds.
    """
    if train is None or not entries:
        return {}
    wanted = entry_hashes(entries)
    found: dict[int, set[ReaderKey]] = {}
    for _, samples, loader in train.located_parts():
        hashes = entry_hashes(samples, in_order=True)
        key = reader_key(loader)
        for hashed in hashes[torch.isin(hashes, wanted)].tolist():
            found.setdefault(hashed, set()).add(key)
    return found


def report(
    differences: Sequence[Difference],
    *,
    allowed: bool,
    action: str,
    by_patient: bool = False,
    ungrouped: bool = False,
    own: Grouping | None = None,
    unrecorded: int = 0,
) -> tuple[str | None, str | None]:
    """Return the error message (if any) and the warning message (if any).

    ``by_patient`` says that the held-out sets were compared with the
    checkpoint's training set by patient too, not by file alone; ``ungrouped``
    that no grouping found a patient in some of their entries, compared by
    file alone (`patients_trained_on` says which); ``own`` the evaluating data
    module's grouping, where it found the patients of entries in which the
    checkpoint's finds none; ``unrecorded`` how many entries the checkpoint
    was trained on whose patients it records not (`ungrouped_training`).
    """
    errors = [str(d) for d in differences if d.severity == "error"]
    warnings_ = [str(d) for d in differences if d.severity == "warning"]
    held_out = [str(d) for d in differences if d.severity == "held_out"]
    error = None
    if errors and not allowed:
        error = format_problems(
            f"{action} with data that differ from the checkpoint's", errors
        ) + (
            "\nIf the change is on purpose, set `allow_data_change=True` on the data "
            "module (`--data.allow_data_change true` with LightningCLI)"
        )
        errors = []
    shown = errors + warnings_
    title = (
        f"{action} with data that differ from the checkpoint's"
        if errors
        else f"{action} with settings or loaders that differ from the checkpoint's "
        "(how the data are served, named or loaded, not which data)"
    )
    warning = format_problems(title, shown, noun="difference") if shown else None
    if held_out:
        compared = (
            _compared_by_patient(ungrouped=ungrouped, own=own, unrecorded=unrecorded)
            if by_patient
            else "none of their entries is in the checkpoint's training set "
            "(patients were not compared: the checkpoint records none, as it was "
            "trained without `group_pattern` or `group_field`)"
        )
        said = format_problems(
            f"{action} on sets that differ from the checkpoint's, evaluated as "
            f"given: {compared}, but they are not the checkpoint's own sets: "
            "results on them do not compare with results on those",
            held_out,
            noun="difference",
        )
        warning = said if warning is None else f"{warning}\n{said}"
    return error, warning


def _compared_by_patient(
    *, ungrouped: bool, own: Grouping | None, unrecorded: int
) -> str:
    """Say what held-out sets were compared with a checkpoint's training patients.

    See `report`: all of them, where every evaluated entry's patient was found
    and the checkpoint records the patients of every entry it was trained on.
    """
    if not ungrouped and own is None and not unrecorded:
        return (
            "none of their entries, nor patients, is in the checkpoint's training set"
        )
    which = (
        ""
        if not ungrouped
        else " in which the checkpoint's grouping finds one"
        if own is None
        else " in which the checkpoint's grouping, or the data module's own, finds one"
    )
    among = " among the training patients it records" if unrecorded else ""
    said: list[str] = []
    if own is not None:
        said.append(
            f"patients found by the data module's own {own} where the checkpoint's "
            "grouping finds none"
        )
    if ungrouped:
        said.append("the others were compared by file only")
    if unrecorded:
        noun = "entry" if unrecorded == 1 else "entries"
        said.append(
            f"it records no patient for the {unrecorded:,} {noun} it was trained on "
            "before it was resumed with another grouping (or a first one): those "
            "were compared by file only"
        )
    return (
        "none of their entries is in the checkpoint's training set, nor is the "
        f"patient of any{which}{among} ({'; '.join(said)})"
    )
