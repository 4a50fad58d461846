"""``SplitReport``: what ``lightsplit check`` finds in one split file, as text or JSON.

Entries are compared by their JSON text (``json.dumps`` with sorted keys), so
lists, tuples and objects compare by value.
"""

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

from pydantic import JsonValue

from ._checks import SampleFailure
from ._errors import MAX_LISTED, preview
from ._types import EVALUATION_SET_NAMES, SetName

__all__ = [
    "Duplicate",
    "Leak",
    "SetSummary",
    "SplitReport",
    "entry_key",
    "summarize_split",
]

MAX_LABEL_COLUMNS: Final = 10
"""Labels shown one column each; with more, the table shows class sizes instead."""


def entry_key(entry: object) -> str:
    """Return the text two entries share exactly when they are equal as JSON.

    Examples:
        >>> entry_key(("a.png", 0)) == entry_key(["a.png", 0])
        True
        >>> entry_key({"b": 1, "a": 2})
        '{"a": 2, "b": 1}'
    """
    return json.dumps(entry, sort_keys=True, ensure_ascii=False, default=repr)


def _label(entry: object) -> int | None:
    """Return the second item of ``entry`` if it is an integer label."""
    if isinstance(entry, str | bytes) or not isinstance(entry, Sequence):
        return None
    if len(entry) < 2:  # noqa: PLR2004 - [path, label, ...]
        return None
    label = entry[1]
    return label if isinstance(label, int) and not isinstance(label, bool) else None


@dataclass(frozen=True, slots=True)
class SetSummary:
    """The size of one set, and of each class when every entry has a label."""

    entries: int
    """Entries in the set."""
    class_counts: Mapping[int, int] | None
    """Label -> entries, in label order; ``None`` unless every entry is
    ``[item, label, ...]`` with an integer label."""


@dataclass(frozen=True, slots=True)
class Duplicate:
    """An entry listed again in the same set."""

    set_name: SetName
    """The set."""
    first: int
    """Where the entry first appears."""
    index: int
    """Where it appears again."""
    entry: object
    """The entry."""

    def __str__(self) -> str:
        return (
            f"{self.set_name}.{self.index} repeats {self.set_name}.{self.first}: "
            f"{preview(self.entry)}"
        )


@dataclass(frozen=True, slots=True)
class Leak:
    """Entries found in two of the sets `train`, `validation` and `test`."""

    sets: tuple[SetName, SetName]
    """The two sets, in split order."""
    count: int
    """How many distinct entries they share."""
    examples: tuple[tuple[object, int, int], ...]
    """Up to `MAX_LISTED` shared entries, each with its index in either set."""

    def __str__(self) -> str:
        first, second = self.sets
        noun = "entry is" if self.count == 1 else "entries are"
        shown = ", ".join(
            f"{preview(entry)} ({first}.{i}, {second}.{j})"
            for entry, i, j in self.examples
        )
        more = self.count - len(self.examples)
        tail = f" and {more} more" if more > 0 else ""
        return f"{self.count} {noun} in both `{first}` and `{second}`: {shown}{tail}"


@dataclass(slots=True)
class SplitReport:
    """What checking one split file found."""

    source: str
    """The file."""
    error: str | None = None
    """Why the file could not be read, or ``None``."""
    sets: dict[SetName, SetSummary] = field(default_factory=dict)
    """Each set's size, in file order."""
    duplicates: list[Duplicate] = field(default_factory=list)
    """Entries repeated within a set."""
    leaks: list[Leak] = field(default_factory=list)
    """Entries shared by `train`, `validation` or `test`."""
    failures: list[SampleFailure] = field(default_factory=list)
    """Samples the loader could not load."""
    loaded: int | None = None
    """How many samples were loaded, or ``None`` when no loader ran."""

    @property
    def problems(self) -> int:
        """How many problems were found."""
        unreadable = self.error is not None
        return unreadable + len(self.duplicates) + len(self.leaks) + len(self.failures)

    @property
    def ok(self) -> bool:
        """Whether no problem was found."""
        return self.problems == 0

    def to_json(self) -> dict[str, JsonValue]:
        """Return the report as a JSON-ready dictionary."""
        sets: dict[str, JsonValue] = {
            name: {
                "entries": summary.entries,
                "class_counts": None
                if summary.class_counts is None
                else {str(k): v for k, v in summary.class_counts.items()},
            }
            for name, summary in self.sets.items()
        }
        return {
            "file": self.source,
            "ok": self.ok,
            "error": self.error,
            "sets": sets,
            "duplicates": [
                {
                    "set": d.set_name,
                    "index": d.index,
                    "first": d.first,
                    "entry": _json_value(d.entry),
                }
                for d in self.duplicates
            ],
            "leaks": [
                {
                    "sets": list(leak.sets),
                    "count": leak.count,
                    "examples": [
                        {"entry": _json_value(entry), "indices": [i, j]}
                        for entry, i, j in leak.examples
                    ],
                }
                for leak in self.leaks
            ],
            "failures": [
                {
                    "set": f.set_name,
                    "index": f.index,
                    "entry": _json_value(f.entry),
                    "message": f.message,
                }
                for f in self.failures
            ],
            "loaded": self.loaded,
        }

    def lines(self) -> Iterator[str]:
        """Yield the report as lines of text: the table, then each problem."""
        if self.error is not None:
            yield self.error
            yield f"{self.source}: does not load"
            return
        total = sum(summary.entries for summary in self.sets.values())
        sets = "set" if len(self.sets) == 1 else "sets"
        yield f"{self.source}: {len(self.sets)} {sets}, {total} entries"
        yield from (f"  {line}" for line in self._table())
        if not self.duplicates and not self.leaks:
            yield (
                "  no entry repeated within a set or shared by `train`, "
                "`validation` and `test`"
            )
        yield from _listed("duplicate", self.duplicates)
        yield from (f"  leak: {leak}" for leak in self.leaks)
        if self.loaded is not None:
            noun = "sample" if self.loaded == 1 else "samples"
            found = f"{len(self.failures)} failed" if self.failures else "no failure"
            yield f"  loaded {self.loaded} {noun}: {found}"
        yield from (f"  failure: {failure}" for failure in self.failures)
        noun = "problem" if self.problems == 1 else "problems"
        yield f"{self.source}: {'ok' if self.ok else f'{self.problems} {noun}'}"

    def _table(self) -> list[str]:
        """Return the rows of the table of sets, entries and classes."""
        labels = sorted(
            {
                label
                for summary in self.sets.values()
                for label in summary.class_counts or {}
            }
        )
        by_size = len(labels) > MAX_LABEL_COLUMNS
        header = ["set", "entries"]
        header += (
            ["classes", "smallest", "largest"]
            if by_size
            else [f"label {label}" for label in labels]
        )
        rows = [header]
        for name, summary in self.sets.items():
            counts = summary.class_counts
            if counts is None:
                classes = ["-"] * (len(header) - 2)
            elif by_size:
                sizes = list(counts.values()) or [0]
                classes = [str(len(counts)), str(min(sizes)), str(max(sizes))]
            else:
                classes = [str(counts.get(label, 0)) for label in labels]
            rows.append([name, str(summary.entries), *classes])
        widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
        return [
            "  ".join(
                cell.rjust(width) if i else cell.ljust(width)
                for i, (cell, width) in enumerate(zip(row, widths, strict=True))
            ).rstrip()
            for row in rows
        ]


def _json_value(entry: object) -> JsonValue:
    """Return ``entry`` as plain JSON data (tuples become lists)."""
    value: JsonValue = json.loads(entry_key(entry))
    return value


def _listed(kind: str, items: Sequence[Duplicate]) -> Iterator[str]:
    """Yield one line per item, at most `MAX_LISTED`, then how many more."""
    for item in items[:MAX_LISTED]:
        yield f"  {kind}: {item}"
    if len(items) > MAX_LISTED:
        yield f"  and {len(items) - MAX_LISTED} more {kind}s (--json lists all)"


def _class_counts(samples: Sequence[object]) -> dict[int, int] | None:
    counts: dict[int, int] = {}
    for entry in samples:
        label = _label(entry)
        if label is None:
            return None
        counts[label] = counts.get(label, 0) + 1
    return dict(sorted(counts.items()))


def _duplicates(set_name: SetName, samples: Sequence[object]) -> list[Duplicate]:
    first_seen: dict[str, int] = {}
    found: list[Duplicate] = []
    for index, entry in enumerate(samples):
        first = first_seen.setdefault(entry_key(entry), index)
        if first != index:
            found.append(Duplicate(set_name, first, index, entry))
    return found


def _leaks(split: Mapping[SetName, Sequence[object]]) -> list[Leak]:
    """Find the entries shared by each pair of `train`, `validation` and `test`."""
    firsts: dict[SetName, dict[str, int]] = {}
    for name, samples in split.items():
        if name in EVALUATION_SET_NAMES:
            keys = firsts[name] = {}
            for index, entry in enumerate(samples):
                keys.setdefault(entry_key(entry), index)
    names = list(firsts)
    leaks: list[Leak] = []
    for position, first in enumerate(names):
        for second in names[position + 1 :]:
            shared = [
                (index, firsts[second][key])
                for key, index in firsts[first].items()
                if key in firsts[second]
            ]
            if shared:
                examples = tuple(
                    (split[first][i], i, j) for i, j in shared[:MAX_LISTED]
                )
                leaks.append(Leak((first, second), len(shared), examples))
    return leaks


def summarize_split(
    split: Mapping[SetName, Sequence[object]], *, source: str
) -> SplitReport:
    """Count the entries and classes of each set, and find repeated entries.

    An entry repeated within a set is a `Duplicate`; one found in two of the
    sets `train`, `validation` and `test` is a `Leak`. `monitor-<name>` sets are
    left out of the leak search: they exist to repeat entries of other sets.

    Args:
        split: set name -> entries.
        source: the file the split comes from, shown in the report.

    Returns:
        The report, without loading failures.

    Examples:
        >>> report = summarize_split(
        ...     {"train": [["a", 0], ["b", 1]], "test": [["b", 1]]}, source="s.json"
        ... )
        >>> report.sets["train"].class_counts, report.ok
        ({0: 1, 1: 1}, False)
        >>> print(report.leaks[0])
        1 entry is in both `train` and `test`: ["b", 1] (train.1, test.0)
    """
    return SplitReport(
        source,
        sets={
            name: SetSummary(len(samples), _class_counts(samples))
            for name, samples in split.items()
        },
        duplicates=[
            duplicate
            for name, samples in split.items()
            for duplicate in _duplicates(name, samples)
        ],
        leaks=_leaks(split),
    )
