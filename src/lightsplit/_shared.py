"""Files that a data module's sets share, or list twice: warned about when built.

A file in two of `train`, `validation` and `test` makes the evaluation's
results not held out; a file listed twice in a set counts twice in its
metric (or its training epoch). `lightsplit check` reports both as problems; a
data module warns about them, as a split may repeat a file on purpose (a quick
test validating on its training entries, oversampling by listing). Files are
compared by the normalised path of the file each entry names (its first
string that names one, as checkpoints tell entries apart), within the entries
of loaders of one class and ``root``: two databases may hold the same relative
path.
`monitor-<name>` sets repeat other sets on purpose, and are left out.
"""

import warnings
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any, TypeAlias

from ._entries import file_paths
from ._errors import LightsplitWarning, caller_stacklevel, first_few, preview
from ._sample import RawDataLoader
from ._sources import SetSource
from ._types import EVALUATION_SET_NAMES, SetName

__all__ = ["warn_shared_files"]

_SHOWN: int = 3
"""Files named in a warning."""


def _loader_key(loader: RawDataLoader[Any]) -> object:
    """Return what tells loaders of different files apart: class and folder.

    Loaders of one class read the same files by the same paths, whatever
    else their settings are (a loader that augments `train` and not `test`),
    unless their ``root`` differs; a loader that wraps another (`MappingLoader`)
    goes by the one it wraps too.
    """
    root = getattr(loader, "root", None)
    wrapped = getattr(loader, "loader", None)
    return (
        type(loader),
        None if root is None else str(root),
        None if wrapped is None else type(wrapped),
    )


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
    said = []
    for path in first:
        (name, index), *others = where[path]
        entry = preview(sources[name].locate(index)[0])
        said.append(
            f"{name}.{index} {entry} and "
            + ", ".join(f"{other}.{at}" for other, at in others)
        )
    return said


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
        f"{name}.{found[0]} {preview(source.locate(found[0])[0])} and "
        + ", ".join(f"{name}.{index}" for index in found[1:])
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
