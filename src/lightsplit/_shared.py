"""Files that a data module's sets share, or list twice: warned about when built.

A file in two of `train`, `validation` and `test` makes the evaluation's
results not held out; a file listed twice in a set counts twice in its
metric (or its training epoch). `lightsplit check` reports both as problems; a
data module warns about them, as a split may repeat a file on purpose (a quick
test validating on its training entries, oversampling by listing). Files are
compared as ``lightsplit check`` compares them, by the normalised path of each
entry (its first string), within the entries of one loader: two databases
may hold the same relative path (loaders of equal ``repr`` read one folder).
`monitor-<name>` sets repeat other sets on purpose, and are left out.
"""

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

from ._entries import EntryFields, set_paths
from ._errors import LightsplitWarning, caller_stacklevel, first_few, preview
from ._provenance import settings_shown
from ._sample import RawDataLoader
from ._sources import SetSource
from ._types import EVALUATION_SET_NAMES, SetName

__all__ = ["warn_shared_files"]

_SHOWN: int = 3
"""Files named in a warning."""

_FIELDS = EntryFields()


def _loader_key(loader: RawDataLoader[Any]) -> object:
    """Return what tells loaders of different files apart.

    A ``repr`` that shows settings (two ``ImageFileLoader('data')`` read one
    folder), else the object itself.
    """
    shown = settings_shown(loader)
    return id(loader) if shown is None else (type(loader), shown)


def warn_shared_files(sources: Mapping[SetName, SetSource]) -> None:
    """Warn about files in two of `train`, `validation`, `test`, or twice in one.

    Each warning names how many, and the first few with their places.
    """
    # loader -> set -> the paths of that set's entries read by that loader, with
    # each one's index in the set
    found: dict[object, dict[SetName, list[tuple[str | None, int]]]] = {}
    for name, source in sources.items():
        if name not in EVALUATION_SET_NAMES:
            continue
        start = 0
        for samples, loader in source.parts:
            paths = set_paths(samples, _FIELDS)
            into = found.setdefault(_loader_key(loader), {}).setdefault(name, [])
            into += zip(paths, range(start, start + len(paths)), strict=True)
            start += len(paths)
    shared: list[str] = []
    repeated: list[str] = []
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
                repeated += _repeats(name, by_set[name], sources[name])
            for other in names[position + 1 :]:
                leaking |= held[name] & held[other]
        if leaking:
            shared += _shared(leaking, by_set, sources)
    if shared:
        _warn(
            f"{len(shared):,} {'file is' if len(shared) == 1 else 'files are'} in "
            "two of `train`, `validation` and `test`",
            shared,
            "the results of the later set are not held out: remove each from one "
            "of them, or, to evaluate on training entries on purpose, name the set "
            "`monitor-<name>`",
        )
    if repeated:
        _warn(
            f"{len(repeated):,} {'file is' if len(repeated) == 1 else 'files are'} "
            "listed again in the same set",
            repeated,
            "each is served as often as it is listed, and counts as many times in "
            "a metric; list each once, unless it is meant so",
        )


def _places(
    paths: Sequence[tuple[str | None, int]], wanted: set[str]
) -> dict[str, list[int]]:
    """Return the indices in the set of each path of ``wanted``."""
    places: dict[str, list[int]] = {}
    for path, index in paths:
        if path in wanted:
            places.setdefault(path, []).append(index)
    return places


def _shared(
    leaking: set[str],
    by_set: Mapping[SetName, Sequence[tuple[str | None, int]]],
    sources: Mapping[SetName, SetSource],
) -> list[str]:
    """Say where each file of ``leaking`` is: its first place in each set."""
    places = {name: _places(paths, leaking) for name, paths in by_set.items()}
    found = {
        path: [(name, at[path][0]) for name, at in places.items() if path in at]
        for path in leaking
    }
    order = {name: position for position, name in enumerate(by_set)}
    said = []
    for where in sorted(found.values(), key=lambda w: (order[w[0][0]], w[0][1])):
        (name, index), *others = where
        entry = preview(sources[name].locate(index)[0])
        said.append(
            f"{name}.{index} {entry} and "
            + ", ".join(f"{other}.{at}" for other, at in others)
        )
    return said


def _repeats(
    name: SetName,
    paths: Sequence[tuple[str | None, int]],
    source: SetSource,
) -> list[str]:
    """Say where each file listed more than once in set ``name`` is."""
    seen: dict[str, int] = {}
    again: dict[str, list[int]] = {}
    for path, index in paths:
        if path is None:
            continue
        if path in seen:
            again.setdefault(path, [seen[path]]).append(index)
        else:
            seen[path] = index
    return [
        f"{name}.{indices[0]} {preview(source.locate(indices[0])[0])} and "
        + ", ".join(f"{name}.{index}" for index in indices[1:])
        for indices in again.values()
    ]


def _warn(what: str, places: Sequence[str], advice: str) -> None:
    shown = first_few(places[:_SHOWN], total=len(places), limit=_SHOWN, separator="; ")
    warnings.warn(
        f"{what}: {shown}; {advice} (`lightsplit check` reports them too)",
        LightsplitWarning,
        stacklevel=caller_stacklevel(),
    )
