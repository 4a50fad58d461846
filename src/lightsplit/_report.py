"""``SplitReport``: what ``lightsplit check`` finds in one split file, as text or JSON.

A report holds the file's content hash, its sets (entries, groups, classes), the
problems `find_leaks` finds (duplicates, leaks, label conflicts, group leaks),
the warnings of `lint_split` and the loader's failures. Problems fail a check
(exit status 1); warnings do not, unless the check is strict.
"""

import json
import unicodedata
from collections.abc import Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from itertools import compress
from operator import attrgetter
from typing import TYPE_CHECKING, Final, Protocol, TypeVar, cast

from ._aside import work_aside
from ._checks import FailureGroup, SampleFailure, group_failures
from ._classes import (
    LabelScheme,
    SetStats,
    class_name,
    class_order,
    label_scheme,
    label_spellings,
    set_stats,
)
from ._entries import (
    EntryFields,
    SetFields,
    entry_key,
    groups_by_shape,
    index_split,
    path_groups,
    set_groups,
)
from ._errors import MAX_LISTED, first_few, preview, printable
from ._gcpause import gc_paused
from ._hashing import text_sha256
from ._leaks import (
    EntryRef,
    LeakReport,
    PathLeak,
    entry_keys,
    find_entries,
    leaks_in,
    missing_fields,
    unmatched_pattern,
)
from ._lint import SplitWarning, lint_split
from ._outputs import fields_said
from ._tables import text_table
from ._types import EVALUATION_SET_NAMES, SetName

if TYPE_CHECKING:
    from pydantic import JsonValue

__all__ = [
    "MAX_LABEL_COLUMNS",
    "SetSummary",
    "SplitFindings",
    "SplitReport",
    "entry_key",
    "examine_split",
    "in_sets",
    "leak_lines",
    "leaks_json",
    "nothing_found",
    "refs_json",
    "summarize_split",
    "unchecked_and_warnings",
]

MAX_LABEL_COLUMNS: Final = 10
"""Labels shown one column each; with more, the table shows class sizes instead."""

FAILURE_EXAMPLES: Final = 3
"""Entries shown for a group of failures of one cause."""

NO_LEAKS: Final = LeakReport((), (), (), (), (), ())
"""The report of a split with nothing to report."""

DEFAULT_FIELDS: Final = EntryFields()
"""Paths, labels and no group, read as `EntryFields` reads them by default."""


@dataclass(frozen=True, slots=True)
class SetSummary:
    """The size of one set, of its groups, and of each class when labelled."""

    entries: int
    """Entries in the set."""
    class_counts: Mapping[Hashable, int] | None
    """Class -> labelled entries, in class order; ``None`` if none has a label."""
    groups: int | None = None
    """Different groups in the set; ``None`` without a group pattern or field."""
    unlabelled: int = 0
    """Entries without a label."""
    classless: int = 0
    """Entries whose multi-label label holds no class (``[]``, a vector of 0)."""


@dataclass(slots=True)
class SplitReport:
    """What checking one split file found."""

    source: str
    """The file."""
    error: str | None = None
    """Why the file could not be read, or ``None``."""
    sha256: str | None = None
    """The content hash of the split (`split_sha256`), or ``None`` if unread."""
    sets: dict[SetName, SetSummary] = field(default_factory=dict)
    """Each set's size, in file order."""
    leaks: LeakReport = NO_LEAKS
    """Duplicates, leaks and label conflicts."""
    warnings: list[SplitWarning] = field(default_factory=list)
    """What the split may hold but likely should not."""
    failures: Sequence[SampleFailure] = field(default_factory=list)
    """Samples the loader could not load."""
    loaded: int | None = None
    """How many samples were loaded, or ``None`` when no loader ran."""
    fields: EntryFields = DEFAULT_FIELDS
    """How entries were read (their path, label and group)."""
    strict: bool = False
    """Whether warnings count as problems."""
    unchecked: list[str] = field(default_factory=list)
    """What the fields or group pattern (or field) ask of the split that it
    does not hold (`unchecked_and_warnings`): each a problem."""
    fields_from: str | None = None
    """The sidecar file the fields not given were read from, or ``None``."""
    sidecar_fields: tuple[str, ...] = ()
    """Which of `fields` (``group_pattern``, ``group_field``, ``path_field``,
    ``label_field``) were read from the sidecar `fields_from`: the others were
    given, or left to their defaults."""
    sidecar_columns: Mapping[str, str] = field(default_factory=dict)
    """The input's column (a CSV table's) that each of `sidecar_fields` given
    by its column to ``lightsplit split`` was, such as ``{"group_field":
    "PatientID"}``."""
    multi_hot: bool = False
    """Whether the labels are 0/1 vectors, whose classes are positions."""
    keys: Mapping[SetName, Sequence[Hashable]] = field(default_factory=dict, repr=False)
    """Each of `train`, `validation` and `test` -> the keys of its entries
    (normalised path, else JSON text), for checks across files (`check_family`)."""

    @property
    def problems(self) -> int:
        """How many problems were found (warnings too, when strict)."""
        found = (self.error is not None) + self.leaks.problems + len(self.failures)
        found += len(self.unchecked)
        return found + (len(self.warnings) if self.strict else 0)

    @property
    def ok(self) -> bool:
        """Whether no problem was found."""
        return self.problems == 0

    def to_json(self) -> "dict[str, JsonValue]":
        """Return the report as a JSON-ready dictionary."""
        sets: dict[str, JsonValue] = {
            name: {
                "entries": summary.entries,
                "groups": summary.groups,
                "class_counts": None
                if summary.class_counts is None
                else {class_name(k): v for k, v in summary.class_counts.items()},
                "unlabelled": summary.unlabelled,
                "classless": summary.classless,
            }
            for name, summary in self.sets.items()
        }
        pattern = self.fields.group_pattern
        return {
            "file": self.source,
            "ok": self.ok,
            "error": self.error,
            "sha256": self.sha256,
            "group_pattern": None if pattern is None else pattern.pattern,
            "group_field": self.fields.group_field,
            "label_separator": self.fields.label_separator,
            "fields_from": self.fields_from,
            "sidecar_fields": list(self.sidecar_fields),
            "sidecar_columns": dict(self.sidecar_columns),
            "sets": sets,
            **leaks_json(self.leaks),
            "unchecked": list(self.unchecked),
            "warnings": [
                {
                    "kind": warning.kind,
                    "message": warning.message,
                    "count": warning.count,
                    "examples": refs_json(warning.examples),
                }
                for warning in self.warnings
            ],
            "failures": [
                {
                    "set": f.set_name,
                    "index": f.index,
                    "entry": _json_value(f.entry),
                    "message": f.message,
                    "reason": f.reason or f.message,
                }
                for f in self.failures
            ],
            "loaded": self.loaded,
        }

    def lines(self) -> Iterator[str]:
        """Yield the report as lines of text: the table, problems, warnings."""
        if self.error is not None:
            yield self.error
            yield f"{self.source}: does not load"
            return
        total = sum(summary.entries for summary in self.sets.values())
        sets = "set" if len(self.sets) == 1 else "sets"
        entries = "entry" if total == 1 else "entries"
        yield f"{self.source}: {len(self.sets)} {sets}, {total} {entries}"
        yield f"  sha256 {self.sha256}"
        if self.fields_from is not None:
            yield f"  {self._fields_read()}"
        yield from (f"  {line}" for line in self._table())
        yield from (f"  problem: {text}" for text in self.unchecked)
        if self.leaks.ok and not self.unchecked:
            yield f"  {nothing_found(grouped=self.fields.grouped)}"
        yield from (f"  {line}" for line in leak_lines(self.leaks, self.fields))
        yield from (f"  warning: {warning}" for warning in self.warnings)
        if self.loaded is not None:
            noun = "sample" if self.loaded == 1 else "samples"
            found = f"{len(self.failures)} failed" if self.failures else "no failure"
            yield f"  loaded {self.loaded} {noun}: {found}"
        yield from (
            f"  {line}" for line in _failure_lines(group_failures(self.failures))
        )
        yield f"{self.source}: {self._verdict()}"

    def _fields_read(self) -> str:
        """Say how entries were read: what the sidecar gave, then what was given.

        Such as ``group field `PatientID` (position 2), path field `0` from
        its sidecar split.json.lightsplit.json; label field `7` as given``.
        """
        said = fields_said(self.fields, self.sidecar_columns)
        recorded = [text for name, text in said.items() if name in self.sidecar_fields]
        given = [text for name, text in said.items() if name not in self.sidecar_fields]
        line = f"{', '.join(recorded)} from its sidecar {self.fields_from}"
        return f"{line}; {', '.join(given)} as given" if given else line

    def _verdict(self) -> str:
        count = len(self.warnings)
        warned = f"{count} warning" + ("s" * (count != 1))
        if self.ok:
            return f"ok, {warned}" if count else "ok"
        noun = "problem" if self.problems == 1 else "problems"
        shown = f"{self.problems} {noun}"
        return f"{shown} (warnings included)" if self.strict and count else shown

    def _table(self) -> list[str]:
        """Return the rows of the table of sets, entries, groups and classes."""
        labels = sorted(
            {
                label
                for summary in self.sets.values()
                for label in summary.class_counts or {}
            },
            key=class_order,
        )
        by_size = len(labels) > MAX_LABEL_COLUMNS
        grouped = self.fields.grouped
        header = ["set", "entries", *(["groups"] if grouped else [])]
        noun = "class" if self.multi_hot else "label"  # `label 0` reads as 0
        header += (
            ["classes", "smallest", "largest"]
            if by_size
            else [f"{noun} {class_name(label)}" for label in labels]
        )
        classless = any(s.classless for s in self.sets.values())
        unlabelled = bool(labels) and any(s.unlabelled for s in self.sets.values())
        header += ["no class"] if classless else []
        header += ["no label"] if unlabelled else []
        rows = [header]
        for name, summary in self.sets.items():
            counts = summary.class_counts
            first = [name, str(summary.entries)]
            if grouped:
                first.append(str(summary.groups))
            if counts is None:
                classes = ["-"] * (len(header) - len(first) - unlabelled - classless)
            elif by_size:  # a class of the split absent from this set is its smallest
                sizes = [counts.get(label, 0) for label in labels] or [0]
                held = sum(1 for size in sizes if size)
                classes = [str(held), str(min(sizes)), str(max(sizes))]
            else:
                classes = [str(counts.get(label, 0)) for label in labels]
            classes += [str(summary.classless)] if classless else []
            classes += [str(summary.unlabelled)] if unlabelled else []
            rows.append([*first, *classes])
        return text_table(rows)


class _InSets(Protocol):
    """A leak: something found in several sets."""

    @property
    def sets(self) -> tuple[SetName, ...]:
        """The sets it is in."""
        ...


LeakT = TypeVar("LeakT", bound=_InSets)


def _by_sets(found: Sequence[LeakT]) -> dict[tuple[SetName, ...], list[LeakT]]:
    """Group leaks by the sets they are in, in the order the sets first leak.

    A few choices of sets among thousands of leaks: each is picked out in C.
    """
    sets = list(map(attrgetter("sets"), found))
    return {
        chosen: list(compress(found, map(chosen.__eq__, sets)))
        for chosen in dict.fromkeys(sets)
    }


def nothing_found(*, grouped: bool) -> str:
    """Say that `find_leaks` found no problem (of the kinds it looked for).

    Examples:
        >>> nothing_found(grouped=True)
        'no duplicate, leak, label conflict or group leak'
    """
    kinds = (
        "leak, label conflict or group leak" if grouped else "leak or label conflict"
    )
    return f"no duplicate, {kinds}"


def in_sets(sets: Sequence[SetName]) -> str:
    """Return ``both `a` and `b``` for two sets, ```a`, `b` and `c``` for more.

    Examples:
        >>> in_sets(["train", "test"])
        'both `train` and `test`'
    """
    names = [f"`{name}`" for name in sets]
    if len(names) == 2:  # noqa: PLR2004 - a pair
        return f"both {names[0]} and {names[1]}"
    return ", ".join(names[:-1]) + f" and {names[-1]}"


def _joined(items: Sequence[str], total: int) -> str:
    """Join the first items (`MAX_LISTED` at most) of ``total``, then how many more.

    Only the items shown need be given: ``--json`` has all.
    """
    text = first_few(items, total=total)
    return f"{text} (--json lists all)" if total > MAX_LISTED else text


def _spread(refs: Sequence[EntryRef]) -> list[EntryRef]:
    """Return the first `MAX_LISTED` of ``refs``, the first of each set among them.

    A group leak lists its entries set by set: the few in the second set would
    otherwise hide behind the many in the first.

    Examples:
        >>> refs = [EntryRef("validation", i, None) for i in range(9)]
        >>> [str(r) for r in _spread([*refs, EntryRef("test", 4, None)])]
        ['validation.0', 'validation.1', 'validation.2', 'validation.3', 'test.4']
    """
    firsts: dict[str, int] = {}
    for position, ref in enumerate(refs):
        firsts.setdefault(ref.set_name, position)
    chosen = set(list(firsts.values())[:MAX_LISTED])
    for position in range(len(refs)):
        if len(chosen) >= MAX_LISTED:
            break
        chosen.add(position)
    return [refs[position] for position in sorted(chosen)]


def _refs(refs: Sequence[EntryRef]) -> str:
    return first_few([str(ref) for ref in _spread(refs)], total=len(refs))


def _capped(kind: str, items: Sequence[object]) -> Iterator[str]:
    """Yield one line per item, at most `MAX_LISTED`, then how many more."""
    for item in items[:MAX_LISTED]:
        yield f"{kind}: {item}"
    if len(items) > MAX_LISTED:
        yield f"and {len(items) - MAX_LISTED} more {kind}s (--json lists all)"


def _failure_lines(groups: Sequence[FailureGroup]) -> Iterator[str]:
    """Yield one line per cause of failure: alone, or counted with examples."""
    lines = []
    for group in groups:
        failures = group.failures
        if len(failures) == 1:
            lines.append(str(failures[0]))
            continue
        shown = [
            f"{f.set_name}.{f.index} {preview(f.entry)}"
            for f in failures[:FAILURE_EXAMPLES]
        ]
        listed = first_few(shown, total=len(failures), limit=FAILURE_EXAMPLES)
        noun = "entry" if len(failures) == 1 else "entries"
        lines.append(f"{len(failures)} {noun}: {group.reason}: {listed}")
    for line in lines[:MAX_LISTED]:
        yield f"failure: {line}"
    if len(lines) > MAX_LISTED:
        rest = sum(len(group.failures) for group in groups[MAX_LISTED:])
        causes = len(lines) - MAX_LISTED
        noun = "cause" if causes == 1 else "causes"
        yield f"and {rest} more failures of {causes} more {noun} (--json lists all)"


def refs_json(refs: Sequence[EntryRef]) -> "list[JsonValue]":
    """Return entries as ``{"set", "index", "entry"}`` objects."""
    return [
        {"set": ref.set_name, "index": ref.index, "entry": _json_value(ref.entry)}
        for ref in refs
    ]


def leaks_json(leaks: LeakReport) -> "dict[str, JsonValue]":
    """Return the problems `find_leaks` found as JSON: every one, with its entries."""
    return {
        "duplicates": [
            {
                "set": d.again.set_name,
                "index": d.again.index,
                "first": d.first.index,
                "entry": _json_value(d.again.entry),
                "path": d.path,
            }
            for d in leaks.duplicates
        ],
        "leaks": [
            {
                "path": leak.path,
                "sets": list(leak.sets),
                "entries": refs_json(leak.entries),
            }
            for leak in leaks.path_leaks
        ],
        "conflicts": [
            {
                "path": conflict.path,
                "labels": [
                    {"label": _json_value(label), "entries": refs_json(refs)}
                    for label, refs in zip(
                        conflict.labels, conflict.entries, strict=True
                    )
                ],
            }
            for conflict in leaks.conflicts
        ],
        "group_leaks": [
            {
                "group": leak.group,
                "sets": list(leak.sets),
                "entries": refs_json(leak.entries),
            }
            for leak in leaks.group_leaks
        ],
    }


def leak_lines(leaks: LeakReport, fields: EntryFields) -> Iterator[str]:
    """Yield the problems as lines: leaks by the sets they join, at most 5 of each."""
    yield from _capped("duplicate", leaks.duplicates)
    for sets, found in _by_sets(leaks.path_leaks).items():
        noun = "path is" if len(found) == 1 else "paths are"
        shown = [
            f"{printable(leak.path)} ({_spelled(leak, fields)})"
            for leak in found[:MAX_LISTED]
        ]
        yield (
            f"leak: {len(found)} {noun} in {in_sets(sets)}: "
            f"{_joined(shown, len(found))}"
        )
    yield from _capped(
        "conflict", [f"{c}; {_conflict_fix(c.labels)}" for c in leaks.conflicts]
    )
    by_sets = _by_sets(leaks.group_leaks)
    find_entries(leak for found in by_sets.values() for leak in found[:MAX_LISTED])
    for sets, group_leaks in by_sets.items():
        noun = "group is" if len(group_leaks) == 1 else "groups are"
        shown = [
            f"{printable(leak.group)} ({_refs(leak.entries)})"
            for leak in group_leaks[:MAX_LISTED]
        ]
        yield (
            f"group leak: {len(group_leaks)} {noun} in {in_sets(sets)}: "
            f"{_joined(shown, len(group_leaks))}"
        )


def _spelled(leak: PathLeak, fields: EntryFields) -> str:
    """Return where a leaked path is, with its spelling where not normalised."""
    shown = []
    for ref in _spread(leak.entries):
        written = fields.path(ref.entry)
        spelled = ""
        if written is not None and written != leak.path:
            composed = written.isascii() or unicodedata.is_normalized("NFC", written)
            # a spelling that differs in how its accents are composed alone
            # would print as the path: its characters are written as escapes
            text = printable(written) if composed else ascii(written)[1:-1]
            spelled = f' as "{text}"'
        shown.append(f"{ref}{spelled}")
    return first_few(shown, total=len(leak.entries))


_JSON_SCALARS: Final = frozenset({str, int, float, bool, type(None)})
"""The types of entries, and of their items, that are JSON data as they are."""


def _json_value(entry: object) -> "JsonValue":
    """Return ``entry`` as plain JSON data (tuples become lists, keys sorted).

    The usual entry, an array of strings and numbers, is copied as a list;
    anything else is read back from its JSON text (`entry_key`).
    """
    if type(entry) in _JSON_SCALARS:
        return cast("JsonValue", entry)
    if type(entry) in (list, tuple):
        items = cast("Sequence[object]", entry)
        if all(type(item) in _JSON_SCALARS for item in items):
            return cast("JsonValue", list(items))
    value: JsonValue = json.loads(entry_key(entry))
    return value


@dataclass(frozen=True, slots=True)
class SplitFindings:
    """What reading a split's entries finds: the ground of reports and cards."""

    sha256: str
    """The content hash (`split_sha256`)."""
    index: dict[SetName, SetFields]
    """The path, label and group of every entry, set by set."""
    scheme: LabelScheme
    """How the labels read as classes."""
    stats: dict[SetName, SetStats]
    """Each set's entries, groups and classes."""
    leaks: LeakReport
    """Duplicates, leaks and label conflicts."""
    warnings: list[SplitWarning]
    """What the split may hold but likely should not."""


def examine_split(
    split: Mapping[SetName, Sequence[object]],
    fields: EntryFields,
    *,
    labels: bool,
    text: bytes | None = None,
) -> SplitFindings:
    """Hash ``split`` and read its entries: classes, groups, leaks and warnings.

    ``text`` is the file ``split`` was read from, with no sample type: where
    every entry is a path and an integer or a string (`SetFields.pairs`), the
    hash is read from it (`text_sha256`). Else the hash of a large split is
    found aside while the rest is read (`work_aside`), as are the groups of the
    last two thirds of its largest set unless they are found by shape
    (`groups_by_shape`).
    ``labels`` says whether to warn about labels that are not integers.
    """
    from_text = text is not None and _pairs_likely(text, split, fields)
    pattern = fields.group_pattern
    largest = max(split, key=lambda name: len(split[name]), default=None)
    start = 0 if largest is None else len(split[largest]) // 3
    task = None
    if (
        pattern is not None
        and largest is not None
        and not groups_by_shape(split[largest], fields)
    ):  # groups found by shape take less time here than they would aside
        task = partial(_pickled_groups, split[largest], start, fields)
    with gc_paused(), work_aside(split, task, hashing=not from_text) as aside:

        def found_groups(
            name: SetName, paths: list[str | None]
        ) -> list[str | None] | None:
            if name != largest or pattern is None or not aside.tasked:
                return None
            import pickle  # noqa: PLC0415 - for large splits alone

            mine = path_groups(paths[:start], pattern)  # while the child does the rest
            pickled = aside.first()
            return None if pickled is None else mine + pickle.loads(pickled)

        index = index_split(split, fields, found_groups=found_groups, last=largest)
        scheme = label_scheme(f.tally for f in index.values())
        leaks = leaks_in(split, index)
        warnings = lint_split(
            split,
            index,
            leaks,
            labels=labels,
            group_pattern=None if pattern is None else pattern.pattern,
            group_field=fields.group_field,
            path_field=fields.path_field,
            label_field=fields.label_field,
            label_kind=scheme.kind,
            label_separator=fields.label_separator,
        )
        stats = set_stats(index, scheme)
        sha256 = None
        if text is not None and from_text and all(f.pairs for f in index.values()):
            sha256 = text_sha256(text, split)
        sha256 = sha256 or aside.sha256()
        return SplitFindings(sha256, index, scheme, stats, leaks, warnings)


_SAMPLED: Final = 250
"""Entries of each set read to tell if a split's hash likely reads from its text."""


def _pairs_likely(
    text: bytes, split: Mapping[SetName, Sequence[object]], fields: EntryFields
) -> bool:
    """Whether `text_sha256` likely reads the hash of ``split`` from ``text``.

    Told from the first `_SAMPLED` entries of each set, read as the whole split
    will be (a millisecond), before a process is started to hash it otherwise.
    """
    if b"\\" in text:
        return False
    sample = {name: entries[:_SAMPLED] for name, entries in split.items()}
    index = index_split(sample, replace(fields, group_pattern=None))
    return all(f.pairs for f in index.values())


def unchecked_and_warnings(
    split: Mapping[SetName, Sequence[object]],
    found: SplitFindings,
    fields: EntryFields,
) -> tuple[list[str], list[SplitWarning]]:
    """Say what the fields and group pattern ask of ``split`` that it does not hold.

    A path or label field that no entry has (`missing_fields`), or a group
    pattern that finds no group in any path of `train`, `validation` and
    `test` (or a group field that holds none in any of their entries:
    `unmatched_pattern`), leaves a check undone (leaks by path, label
    conflicts, group leaks): a problem, not a warning, as a misspelt option
    must not pass. Also return the warnings of ``found`` that such a problem
    does not say already.
    """
    missing = missing_fields(split, found.index, fields)
    unmatched = unmatched_pattern(found.index, fields, split)
    unchecked = [*missing.values(), *([] if unmatched is None else [unmatched])]
    said = {
        *(["entry_without_path"] if "path" in missing else []),
        *(["entry_ungrouped"] if unmatched is not None else []),
    }
    return unchecked, [w for w in found.warnings if w.kind not in said]


def _pickled_groups(
    samples: Sequence[object], start: int, fields: EntryFields
) -> bytes:
    """Return the groups of ``samples[start:]``, pickled: found aside (`work_aside`)."""
    import pickle  # noqa: PLC0415 - for large splits alone

    groups = set_groups(samples[start:], fields)
    return pickle.dumps(groups, protocol=pickle.HIGHEST_PROTOCOL)


def summarize_split(
    split: Mapping[SetName, Sequence[object]],
    *,
    source: str,
    fields: EntryFields = DEFAULT_FIELDS,
    labels: bool = True,
    text: bytes | None = None,
) -> SplitReport:
    r"""Hash the split, count each set's entries, groups and classes, find leaks.

    Args:
        split: set name -> entries.
        source: the file the split comes from, shown in the report.
        fields: how to read the path, label and group of entries.
        labels: whether to warn about labels that are not integers.
        text: the file's text, where ``split`` holds its entries as read
            with no sample type (for its hash: see `examine_split`).

    Returns:
        The report, without loading failures.

    Examples:
        >>> report = summarize_split(
        ...     {"train": [["a", 0], ["b", 1]], "test": [["./b", 1]]}, source="s.json"
        ... )
        >>> report.sets["train"].class_counts, report.ok
        ({0: 1, 1: 1}, False)
        >>> print(*report.lines(), sep="\n")  # doctest: +ELLIPSIS
        s.json: 2 sets, 3 entries
          sha256 ...
          set    entries  label 0  label 1
          train        2        1        1
          test         1        0        1
          leak: 1 path is in both `train` and `test`: b (train.1, test.0 as "./b")
        s.json: 1 problem
    """
    found = examine_split(split, fields, labels=labels, text=text)
    # every class of the split in every set, 0 where a set has none: as cards
    present = {key for s in found.stats.values() for key in s.class_counts or {}}
    classes = sorted(present, key=class_order)
    sets = {
        name: SetSummary(
            stats.entries,
            None
            if stats.class_counts is None
            else {key: stats.class_counts.get(key, 0) for key in classes},
            stats.groups,
            stats.unlabelled,
            stats.classless,
        )
        for name, stats in found.stats.items()
    }
    unchecked, warnings = unchecked_and_warnings(split, found, fields)
    evaluated = {n: s for n, s in split.items() if n in EVALUATION_SET_NAMES}
    keys, _ = entry_keys(evaluated, found.index)
    return SplitReport(
        source,
        sha256=found.sha256,
        sets=sets,
        leaks=found.leaks,
        warnings=warnings,
        fields=fields,
        unchecked=unchecked,
        multi_hot=found.scheme.kind == "multi-hot",
        keys=keys,
    )


def _conflict_fix(labels: Sequence[object]) -> str:
    """Say how to settle a file's labels: one number written two ways, or not."""
    spelled = label_spellings(labels)
    if spelled is not None:
        return f"{spelled}: write it one way (a loader may read each differently)"
    return "keep the right label"
