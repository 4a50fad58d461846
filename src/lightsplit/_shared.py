"""Files that a data module's sets share, or list twice: warned about when built.

A file in two of `train`, `validation` and `test` makes the evaluation's
results not held out; a file listed twice in a set counts twice in its
metric (or its training epoch). `lightsplit check` reports both as problems; a
data module warns about them, as a split may repeat a file on purpose (a quick
test validating on its training entries, oversampling by listing). Files are
compared by the normalised path of the file each entry names (its first
string that names one, as checkpoints tell entries apart), within the entries
of loaders of one class and folder (`_loader_key`: its ``root``, a folder
among its settings, and those of the loader it wraps): two databases may hold
the same relative path.
`monitor-<name>` sets repeat other sets on purpose, and are left out.
"""

import os
import warnings
from collections import Counter
from collections.abc import Hashable, Mapping, Sequence
from typing import Final, TypeAlias

from ._entries import file_paths, is_path_object
from ._errors import (
    LightsplitWarning,
    caller_stacklevel,
    first_few,
    preview,
    same_entry,
)
from ._images import ImageFileLoader, ImageMaskLoader
from ._sources import SetSource
from ._types import EVALUATION_SET_NAMES, SetName

__all__ = ["warn_shared_files"]

_SHOWN: int = 3
"""Files named in a warning."""


_PLACE_WORDS: Final = frozenset(
    {
        "base",
        "data",
        "database",
        "databases",
        "dataset",
        "datasets",
        "db",
        "dir",
        "directory",
        "dirs",
        "folder",
        "folders",
        "location",
        "path",
        "paths",
        "prefix",
        "root",
        "roots",
    }
)
"""Words of a loader's attribute names (``data_dir``) whose strings say where its
files are."""

_DEPTH: Final = 4
"""Loaders wrapped in one another that `_loader_key` follows."""


def _loader_key(loader: object, depth: int = _DEPTH) -> Hashable:
    """Return what tells loaders of different files apart: class and folders.

    That is the loader's class, the folders its settings name (`_places`), as
    absolute paths, and the key of each loader it wraps (`MappingLoader`'s,
    or one under any attribute), folders included. Loaders of one class read
    the same files by the same paths, whatever else their settings are (a
    loader that augments `train` and not `test`), unless a folder differs:
    ``ImageFileLoader("data")`` and ``ImageFileLoader("/abs/data")`` run in
    ``/abs`` read the same files, a ``Folder("/montgomery")`` and a
    ``Folder("/shenzhen")`` of one class not. lightsplit's file loaders, and
    classes derived from them (one that reads object entries, or augments),
    read ``root/path`` alike: they count as one class.
    """
    settings = _settings(loader)
    wrapped = [
        _loader_key(value, depth - 1)
        for _, value in settings
        if depth > 0 and _is_loader(value)
    ]
    return (_family(type(loader)), _places(loader, settings), tuple(wrapped))


def _family(cls: type) -> object:
    """Return the class a loader counts as: lightsplit's file loaders are one."""
    if issubclass(cls, ImageFileLoader | ImageMaskLoader):
        return ImageFileLoader
    return cls


def _settings(loader: object) -> list[tuple[str, object]]:
    """Return a loader's attributes (its ``__dict__`` and slots), by name."""
    found = dict(getattr(loader, "__dict__", None) or {})
    for cls in type(loader).__mro__:
        slots = cls.__dict__.get("__slots__", ())
        for name in (slots,) if isinstance(slots, str) else slots:
            if name not in found and hasattr(loader, name):
                found[name] = getattr(loader, name)
    return [(str(name), value) for name, value in found.items()]


def _is_loader(value: object) -> bool:
    """Whether ``value`` is a loader object, with ``sample`` and ``target``."""
    return (
        not isinstance(value, type)
        and callable(getattr(value, "sample", None))
        and callable(getattr(value, "target", None))
    )


def _places(
    loader: object, settings: list[tuple[str, object]]
) -> tuple[tuple[str, str], ...]:
    """Return the folders a loader's settings name, as absolute paths, by name.

    A folder is its ``root`` (an attribute or a property), a path object
    (`os.PathLike`), or a string that holds a folder separator or is under
    a name that says where files are (`_PLACE_WORDS`: ``folder``,
    ``data_dir``): not its other settings (``mode="L"``, ``stage="train"``).
    """
    found: dict[str, str] = {}
    for name, value in [("root", getattr(loader, "root", None)), *settings]:
        text = _text(value)
        if text is not None and (
            name == "root"
            or is_path_object(value)
            or "/" in text
            or "\\" in text
            or not _PLACE_WORDS.isdisjoint(name.lower().strip("_").split("_"))
        ):
            found.setdefault(name, text)
    return tuple(sorted((name, _absolute(text)) for name, text in found.items()))


def _text(value: object) -> str | None:
    """Return a string, or a path object's text; ``None`` for other values."""
    if isinstance(value, str):
        return value
    if not is_path_object(value):
        return None
    try:
        text = os.fspath(value)  # type: ignore[call-overload]  # a path object
    except TypeError:  # an `__fspath__` that gives no path
        return None
    return text if isinstance(text, str) else os.fsdecode(text)


def _absolute(text: str) -> str:
    """Return a folder as an absolute path, links followed where they exist.

    A folder that does not exist is made absolute all the same.
    """
    try:
        return os.path.realpath(text)
    except (OSError, ValueError, RuntimeError):  # a link loop, an odd name
        return os.path.normpath(text)


Places: TypeAlias = list[tuple[str | None, int]]
"""The path of each entry of a set read by one loader, with its index in the set."""


def warn_shared_files(sources: Mapping[SetName, SetSource]) -> None:
    """Warn about files in two of `train`, `validation`, `test`, or twice in one.

    Each warning counts them, and names the first few with their places.
    """
    found: dict[object, dict[SetName, Places]] = {}  # loader -> set -> places
    for name, source in sources.items():
        if name not in EVALUATION_SET_NAMES:
            continue
        for start, samples, loader in source.located_parts():
            paths = file_paths(samples)
            into = found.setdefault(_loader_key(loader), {}).setdefault(name, [])
            into += zip(paths, range(start, start + len(paths)), strict=True)
    shared: list[str] = []
    shared_count = 0
    repeated: list[str] = []
    repeated_count = 0
    for by_set in found.values():
        held = {
            name: {path for path, _ in places if path is not None}
            for name, places in by_set.items()
        }
        names = list(held)
        leaking: set[str] = set()
        for position, name in enumerate(names):
            counted = sum(path is not None for path, _ in by_set[name])
            if counted != len(held[name]):
                count, said = _repeats(name, by_set[name], sources[name])
                repeated_count += count
                repeated += said
            for other in names[position + 1 :]:
                leaking |= held[name] & held[other]
        if leaking:
            shared_count += len(leaking)
            shared += _shared(leaking, by_set, sources)
    if shared:
        _warn(
            f"{shared_count:,} {'file is' if shared_count == 1 else 'files are'} in "
            "two of `train`, `validation` and `test`",
            shared,
            shared_count,
            "the results of the later set are not held out: remove each from one "
            "of them, or, to evaluate on training entries on purpose, name the set "
            "`monitor-<name>`",
        )
    if repeated:
        _warn(
            f"{repeated_count:,} "
            f"{'file is' if repeated_count == 1 else 'files are'} listed again in "
            "the same set",
            repeated,
            repeated_count,
            "each is served as often as it is listed, and counts as many times in "
            "a metric; list each once, unless it is meant so",
        )


def _shared(
    leaking: set[str],
    by_set: Mapping[SetName, Places],
    sources: Mapping[SetName, SetSource],
) -> list[str]:
    """Say where the first few files of ``leaking`` are, in each set.

    Only those are looked for and described, however many files leak.
    """
    first: list[str] = []
    for places in by_set.values():
        for path, _ in places:
            if path in leaking and path not in first:
                first.append(path)
                if len(first) == _SHOWN:
                    break
        if len(first) == _SHOWN:
            break
    wanted = set(first)
    where: dict[str, list[tuple[SetName, int]]] = {path: [] for path in first}
    for name, places in by_set.items():
        seen: set[str] = set()
        for path, index in places:
            if path in wanted and path not in seen:
                seen.add(path)
                where[path].append((name, index))
    return [
        _places_said([(sources[name], name, index) for name, index in where[path]])
        for path in first
    ]


def _places_said(places: Sequence[tuple[SetSource, SetName, int]]) -> str:
    """Say where one file is listed, its first place's entry shown.

    The other places follow, each with its entry where it differs from the
    first's: the same file with another label (or spelled otherwise) is then seen.
    """
    (source, name, index), *others = places
    first = source.locate(index)[0]
    said = []
    for other, set_name, at in others:
        entry = other.locate(at)[0]
        shown = "" if same_entry(first, entry) else f" {preview(entry)}"
        said.append(f"{set_name}.{at}{shown}")
    return f"{name}.{index} {preview(first)} and " + ", ".join(said)


def _repeats(name: SetName, places: Places, source: SetSource) -> tuple[int, list[str]]:
    """Count the files listed more than once in set ``name``.

    Also say where the first few are (only those are described).
    """
    counts = Counter(path for path, _ in places if path is not None)
    again = {path for path, count in counts.items() if count > 1}
    indices: dict[str, list[int]] = {}
    for path, index in places:
        if path in again and (path in indices or len(indices) < _SHOWN):
            indices.setdefault(path, []).append(index)
    said = [
        _places_said([(source, name, index) for index in found])
        for found in indices.values()
    ]
    return len(again), said


def _warn(what: str, places: Sequence[str], count: int, advice: str) -> None:
    shown = first_few(places[:_SHOWN], total=count, limit=_SHOWN, separator="; ")
    warnings.warn(
        f"{what}: {shown}; {advice} (`lightsplit check` reports them too)",
        LightsplitWarning,
        stacklevel=caller_stacklevel(),
    )
