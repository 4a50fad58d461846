"""``SplitWarning``: what a split file may hold but likely should not.

Warnings do not fail a check (exit status 0): an empty set, labels that are not
integers, numbers written as strings, paths the group pattern does not match,
group field values that may be no patients, entries without a path. Problems
(duplicates, leaks, conflicts) are found by `lightsplit._leaks`.
"""

import re
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from itertools import islice
from shlex import quote
from typing import Final, Literal, TypeAlias

from ._classes import (
    MIXED_FIX,
    LabelKind,
    is_list_key,
    label_scheme,
    mixed_labels,
    mixed_message,
    odd_list_labels,
    reads_as_number,
    unclear_list_labels,
)
from ._entries import (
    FILE_NAME,
    EntryFields,
    FieldName,
    SetFields,
    field_groups,
    field_position,
    path_key,
    tally_key,
)
from ._errors import MAX_LISTED, first_few, preview, printable
from ._groupvalues import (
    entry_of,
    file_entries,
    files_message,
    missing_message,
    odd_groups,
    sets_groups,
    spellings_message,
)
from ._leaks import EntryRef, LeakReport
from ._patients import (
    PatientFolders,
    Patients,
    patient_folder,
    patient_folders_across_sets,
    patients_across_sets,
)
from ._types import EVALUATION_SET_NAMES, SetName

__all__ = [
    "SplitWarning",
    "WarningKind",
    "group_value_warnings",
    "later_path",
    "lint_split",
    "separator_unused",
]

WarningKind: TypeAlias = Literal[
    "split_empty",
    "set_empty",
    "label_not_integer",
    "label_numeric_string",
    "entry_ungrouped",
    "group_number_spellings",
    "group_missing_value",
    "group_field_files",
    "entry_without_path",
    "entry_path_key",
    "label_lists_unclear",
    "label_mixed",
    "path_backslash",
    "path_spaces",
    "label_missing",
    "split_edited",
    "sidecar_unreadable",
    "group_field_unused",
    "group_pattern_unused",
    "label_separator_unused",
]
"""What a warning is about."""


@dataclass(frozen=True, slots=True)
class SplitWarning:
    """Something a split file may hold but likely should not."""

    kind: WarningKind
    """What the warning is about."""
    message: str
    """What was found, with examples, and what to do."""
    count: int
    """How many entries (or sets, for ``set_empty``) it is about."""
    examples: tuple[EntryRef, ...] = ()
    """The first entries it is about, at most `MAX_LISTED`."""

    def __str__(self) -> str:
        return self.message


def _listed(refs: Sequence[EntryRef], count: int, shown: Sequence[str]) -> str:
    """Return ``train.0 "x", ...`` for the first refs, then how many more."""
    items = [f"{ref} {item}" for ref, item in zip(refs, shown, strict=True)]
    return first_few(items, total=count)


def _acceptable(label: Hashable, *, named: bool = False) -> bool:
    """Whether a tallied label is an integer, a list of them, or no label.

    A list of class names (``["Effusion", "Nodule"]``, as NIH's and PadChest's
    splits have) is a multi-label label too, unless a name reads as a number
    where the labels were not ``named`` by a label separator (a table's
    findings coded ``3|7`` are the names ``3`` and ``7``).
    """
    if label is None or type(label) is int:
        return True
    if type(label) is not tuple:
        return False
    kinds = set(map(type, label))
    return kinds <= {int} or (
        kinds == {str} and (named or not any(map(reads_as_number, label)))
    )


def _label_warnings(
    split: Mapping[SetName, Sequence[object]],
    index: Mapping[SetName, SetFields],
    *,
    named: bool = False,
) -> list[SplitWarning]:
    """Warn about labels that are not integers, and numbers written as strings.

    ``named``: the labels were read with a label separator (`_acceptable`).
    """
    acceptable = partial(_acceptable, named=named)
    # Judged once per different label (the tallies), then examples are looked
    # for only until enough of each kind are found.
    counts = {True: 0, False: 0}
    joined: list[str] = []  # names joined by `|`, such as NIH's findings
    for fields in index.values():
        for key, count in fields.tally.items():
            if not acceptable(key):
                counts[isinstance(key, str) and reads_as_number(key)] += count
                if isinstance(key, str) and "|" in key:
                    joined.append(key)
    wanted = {numeric: min(count, MAX_LISTED) for numeric, count in counts.items()}
    found: dict[bool, list[tuple[EntryRef, object]]] = {True: [], False: []}
    for name, fields in index.items():
        if all(map(acceptable, fields.tally)):
            continue
        for i, label in enumerate(fields.labels):
            if len(found[True]) == wanted[True] and len(found[False]) == wanted[False]:
                break
            if acceptable(tally_key(label)):
                continue
            numeric = isinstance(label, str) and reads_as_number(label)
            if len(found[numeric]) < MAX_LISTED:
                found[numeric].append((EntryRef(name, i, split[name][i]), label))
    warnings = []
    if counts[True]:
        refs, labels = zip(*found[True], strict=True)
        count = counts[True]
        noun = "label is a number" if count == 1 else "labels are numbers"
        listed = _listed(refs, count, [preview(label) for label in labels])
        warnings.append(
            SplitWarning(
                "label_numeric_string",
                f"{count} {noun} written as a string: {listed}; write numbers "
                'without quotes (0, not "0"): a loader\'s targets are numbers',
                count,
                refs,
            )
        )
    if counts[False]:
        refs, labels = zip(*found[False], strict=True)
        count = counts[False]
        noun = "label is not an integer" if count == 1 else "labels are not integers"
        listed = _listed(refs, count, [preview(label) for label in labels])
        names = _separator_hint(joined if len(joined) > 1 else [])
        warnings.append(
            SplitWarning(
                "label_not_integer",
                f"{count} {noun} (or a list of integers or of class names): "
                f"{listed}; write integer "
                "labels, or give `--sample-type` to state that the entries are "
                f"meant so{names}",
                count,
                refs,
            )
        )
    return warnings


def _lists_warning(
    split: Mapping[SetName, Sequence[object]],
    index: Mapping[SetName, SetFields],
    kind: LabelKind,
) -> SplitWarning | None:
    """Warn about integer list labels that read neither as vectors nor classes."""
    if kind != "multi-label":
        return None
    tallied = {key for fields in index.values() for key in fields.tally}
    why = unclear_list_labels(tallied, kind)
    if why is None:
        return None
    lists = [key for key in tallied if type(key) is tuple]
    odd = odd_list_labels(tallied)  # the ones unlike most: to show first
    refs: list[EntryRef] = []
    for name, fields in index.items():
        for i, label in enumerate(fields.labels):
            room = len(refs) < MAX_LISTED and isinstance(label, list | tuple)
            if room and (not odd or tally_key(label) in odd):
                refs.append(EntryRef(name, i, split[name][i]))
    count = sum(f.tally[key] for f in index.values() for key in lists if key in f.tally)
    if odd:
        unlike = sum(
            f.tally[key] for f in index.values() for key in odd if key in f.tally
        )
        listed = _listed(refs, unlike, [preview(ref.entry) for ref in refs])
        shown = f"{unlike} unlike the others: {listed}"
    else:
        shown = _listed(refs, count, [preview(ref.entry) for ref in refs])
    return SplitWarning(
        "label_lists_unclear",
        f"{count} list labels {why}; {shown}",
        count,
        tuple(refs),
    )


def _mixed_warning(
    split: Mapping[SetName, Sequence[object]], index: Mapping[SetName, SetFields]
) -> SplitWarning | None:
    """Warn about list labels mixed with others, naming the fewer kind's entries."""
    tally: dict[Hashable, int] = {}
    for fields in index.values():
        for key, count in fields.tally.items():
            tally[key] = tally.get(key, 0) + count
    mixed = mixed_labels(tally)
    if mixed is None:
        return None
    lists_fewer, count = mixed
    refs = [
        EntryRef(name, i, split[name][i])
        for name, fields in index.items()
        for i, label in enumerate(fields.labels)
        if label is not None and is_list_key(tally_key(label)) == lists_fewer
    ][:MAX_LISTED]
    listed = _listed(refs, count, [preview(ref.entry) for ref in refs])
    hint = _separator_hint([k for k in tally if isinstance(k, str) and "|" in k])
    return SplitWarning(
        "label_mixed",
        f"{mixed_message(count, lists_fewer=lists_fewer)}: {listed}; {MIXED_FIX}{hint}",
        count,
        tuple(refs),
    )


def _separator_hint(joined: Sequence[str]) -> str:
    """Name `--label-separator '|'` where labels join names by ``|`` (NIH's)."""
    if not joined:
        return ""
    return (
        f"; labels that join names by `|` (such as {preview(joined[0])}) read as "
        "the list of their names with `--label-separator '|'`"
    )


def separator_unused(separator: str, names: Iterable[str]) -> SplitWarning:
    """Warn that no label holds the label separator given: likely not theirs.

    ``names`` are the names the labels were read as: one that joins names with
    another separator (`SEPARATORS`) is named as the likely one.
    """
    found = Counter(c for name in set(names) for c in SEPARATORS if c in name)
    likely = [c for c, count in found.most_common(1) if count > 1]
    fix = (
        f"the labels seem to join names by `{likely[0]}`: give "
        f"`--label-separator '{likely[0]}'`"
        if likely
        else "give the separator the labels are written with, or none"
    )
    return SplitWarning(
        "label_separator_unused",
        f"no label holds the label separator `{printable(separator)}`, so each is "
        f"read as one name; {fix}",
        0,
    )


SEPARATORS: Final = "|;,/+"
"""What tables most often join a label's names by."""


def _names(key: Hashable) -> tuple[str, ...]:
    """Return the names of a tallied label (a list of names), else none."""
    if type(key) is tuple and all(type(name) is str for name in key):
        return key
    return ()


def _other_alternative(
    group_pattern: str | None,
    index: Mapping[SetName, SetFields],
    ungrouped: Sequence[EntryRef],
) -> str:
    r"""Say, if so, that the pattern matches paths left ungrouped, but not its group.

    ``MCUCXR_(\d+)|CHNCXR_(\d+)`` groups by its first group: the paths that the
    second alternative matches have none.
    """
    if group_pattern is None:
        return ""
    pattern = re.compile(group_pattern)
    if pattern.groups < 2:  # noqa: PLR2004 - a second group: alternatives
        return ""
    for ref in ungrouped[:MAX_LISTED]:
        path = index[ref.set_name].paths[ref.index]
        if path is not None and pattern.search(path) is not None:
            return (
                "; the pattern matches such paths, but not through its group (the "
                "group named `group`, else the first): write one group around the "
                "alternatives, as in `(?:MCUCXR_|CHNCXR_)(\\d+)`"
            )
    return ""


def _refs_warning(
    kind: WarningKind,
    describe: str,
    refs: Sequence[EntryRef],
    fix: str,
    *,
    count: int | None = None,
) -> SplitWarning:
    """Return ``describe: <the first refs> and N more; fix``.

    ``count`` is how many entries it is about, when ``refs`` are the first only.
    """
    count = len(refs) if count is None else count
    shown = refs[:MAX_LISTED]
    listed = _listed(shown, count, [preview(ref.entry) for ref in shown])
    return SplitWarning(kind, f"{describe}: {listed}; {fix}", count, tuple(shown))


def _path_key_warning(
    split: Mapping[SetName, Sequence[object]],
    label_field: FieldName | None,
    group_field: FieldName | None,
) -> SplitWarning | None:
    """Warn when object entries' paths (their first string) come from varied keys.

    Without a path field, the path of an object entry is its first string that
    is not its label (`path_key`), so that key order decides it: ``{"id": "p1",
    "image": "a.png"}`` has the path ``p1``. Warned: paths taken from
    different keys, or from a key none of whose values looks like a file while
    another key's do.
    """
    counts: Counter[str] = Counter()  # entries whose path is under each key
    shown: dict[str, list[EntryRef]] = {}  # the first entries of each key
    files: dict[str, bool] = {}  # key -> whether a value of it looks like a file
    for name, samples in split.items():
        if not samples or type(samples[0]) is not dict:
            continue  # a set of arrays (mixed sets are told by their first entry)
        for i, entry in enumerate(samples):
            if type(entry) is not dict:
                continue
            for key, value in entry.items():
                if type(value) is str and not files.get(key):
                    files[key] = bool(FILE_NAME.search(value))
            key = path_key(entry, label_field, group_field)
            if key is not None:
                counts[key] += 1
                if len(refs := shown.setdefault(key, [])) < MAX_LISTED:
                    refs.append(EntryRef(name, i, entry))
    if not counts:
        return None
    if len(counts) > 1:
        found = ", ".join(
            f"`{key}` in {count} {'entry' if count == 1 else 'entries'} "
            f"({shown[key][0]}{', ...' if count > 1 else ''})"
            for key, count in counts.items()
        )
        firsts = [refs[0] for refs in shown.values()]
        return SplitWarning(
            "entry_path_key",
            f"the paths of object entries (their first string) come from different "
            f"keys: {found}; name the key of the path with `--path-field`",
            counts.total(),
            tuple(firsts[:MAX_LISTED]),
        )
    [(key, count)] = counts.items()
    better = [other for other, file in files.items() if file and other != key]
    if files.get(key) or not better:
        return None
    return SplitWarning(
        "entry_path_key",
        f"the paths of object entries are their first string, under `{key}` "
        f"(such as {preview(shown[key][0].entry)}), which names no file while "
        f"`{better[0]}` does; name the key of the path with `--path-field`",
        count,
        tuple(shown[key]),
    )


_LOOKED_AT: Final = 1_000
"""Array entries of each set whose strings `_array_path_warning` looks at."""


def later_path(
    split: Mapping[SetName, Sequence[object]],
    label_field: FieldName | None,
    group_field: FieldName | None = None,
) -> tuple[EntryRef, int, int] | None:
    """Find array entries whose path (their first string) names no file.

    ``["tb", "img/a.png"]`` has the path ``tb``: paths that repeat across the
    entries then read as duplicates and leaks. Found when, among the first
    entries of each set, no first string (but the label, at ``label_field``,
    and the group, at ``group_field``) looks like a file while a later string
    of the same entries does. Returns the first such entry, the position of
    the later string that most often looks like a file, and the number of
    entries of the sets of arrays.
    """
    later: Counter[int] = Counter()  # positions of later strings that look like files
    first: EntryRef | None = None
    count = 0
    for name, samples in split.items():
        if not samples or not isinstance(samples[0], list | tuple):
            continue
        count += len(samples)
        for i, entry in enumerate(samples[:_LOOKED_AT]):
            if not isinstance(entry, list | tuple):
                continue
            skip = (
                field_position(label_field, len(entry)),
                field_position(group_field, len(entry)),
            )
            strings = [
                (p, v) for p, v in enumerate(entry) if type(v) is str and p not in skip
            ]
            if not strings:
                continue
            if FILE_NAME.search(strings[0][1]):
                return None  # a path that names a file: paths are where they are
            files = [p for p, value in strings[1:] if FILE_NAME.search(value)]
            later.update(files[:1])
            if files and first is None:
                first = EntryRef(name, i, entry)
    if first is None:
        return None
    [(position, _)] = later.most_common(1)
    return first, position, count


def _array_path_warning(
    split: Mapping[SetName, Sequence[object]],
    label_field: FieldName | None,
    group_field: FieldName | None,
) -> SplitWarning | None:
    """Warn when array entries' paths (first strings) name no file (`later_path`)."""
    found = later_path(split, label_field, group_field)
    if found is None:
        return None
    first, position, count = found
    return SplitWarning(
        "entry_path_key",
        f"the paths of array entries are their first string (such as "
        f"{preview(first.entry)} at {first}), which names no file while item "
        f"{position} does; name the path's position with `--path-field {position}`",
        count,
        (first,),
    )


def _patients_warning(
    split: Mapping[SetName, Sequence[object]], patients: Patients
) -> SplitWarning:
    """Warn that a key named for the patient holds values in two sets, unchecked.

    No group was given, so patients were not compared (`patients_across_sets`
    found them); the examples are the first entries of those patients.
    """
    across = set(patients.found)
    refs: list[EntryRef] = []
    for name, samples in split.items():
        if name in EVALUATION_SET_NAMES:
            refs += (
                EntryRef(name, i, samples[i])
                for i, value in enumerate(field_groups(samples, patients.field))
                if value in across
            )
    spread = "in more than one of `train`, `validation` and `test`"
    return _refs_warning(
        "group_field_unused",
        f"{patients.described(spread)}, but no group field was given, so "
        "patients were not compared; their entries",
        refs,
        f"give `--group-field {quote(patients.option)}` (`group_field=` in Python) to "
        "check that no patient is in two sets",
    )


def _ungrouped_patients(
    split: Mapping[SetName, Sequence[object]],
    index: Mapping[SetName, SetFields],
    skip: Sequence[FieldName],
) -> SplitWarning | None:
    """Warn of a key, else of folders, named for the patient across sets.

    No group was given; ``skip`` holds the path and label fields.
    """
    patients = patients_across_sets(split, skip=skip)
    if patients is not None:
        return _patients_warning(split, patients)
    paths = {name: fields.paths for name, fields in index.items()}
    folders = patient_folders_across_sets(paths, list)
    return None if folders is None else _folders_warning(split, paths, folders)


def _folders_warning(
    split: Mapping[SetName, Sequence[object]],
    paths: Mapping[SetName, Sequence[str | None]],
    folders: PatientFolders,
) -> SplitWarning:
    """Warn that folders named for the patient hold entries of two sets, unchecked.

    No group was given, so patients were not compared
    (`patient_folders_across_sets` found them); the examples are the first
    entries in those folders.
    """
    across = set(folders.found)
    refs = [
        EntryRef(name, i, split[name][i])
        for name, found in paths.items()
        if name in EVALUATION_SET_NAMES
        for i, path in enumerate(found)
        if patient_folder(path) in across
    ]
    spread = "in more than one of `train`, `validation` and `test`"
    return _refs_warning(
        "group_pattern_unused",
        f"{folders.described(spread)}, but no group pattern was given, so "
        "patients were not compared; their entries",
        refs,
        f"give `--group-pattern {quote(folders.pattern)}` (`group_pattern=` in "
        "Python) to check that no patient is in two sets",
    )


def group_value_warnings(
    split: Mapping[SetName, Sequence[object]],
    index: Mapping[SetName, SetFields],
    group_field: FieldName,
) -> list[SplitWarning]:
    """Warn about groups of `train`, `validation` and `test` that may be no patients.

    One number written several ways (``17``, ``"0017"``, ``17.0``: groups
    apart, so that one patient in two sets is no group leak), and values that
    read as missing (``NaN``, ``N/A``: one group of many entries), as
    `odd_groups` finds them. The different groups are judged once; their
    entries are looked for only when one is odd.
    """
    evaluated = [name for name in index if name in EVALUATION_SET_NAMES]
    warnings = _files_warning(index, evaluated, group_field, split)
    odd = odd_groups(
        frozenset().union(*(index[name].group_set or () for name in evaluated))
    )
    if not odd:
        return warnings
    values = odd.values
    refs: dict[str, list[EntryRef]] = {}
    counts: Counter[str] = Counter()
    for name in evaluated:
        for i, group in enumerate(index[name].groups or ()):
            if group in values:
                counts[group] += 1
                found = refs.setdefault(group, [])
                if len(found) < MAX_LISTED:
                    found.append(EntryRef(name, i, split[name][i]))
    where = {group: [str(ref) for ref in found] for group, found in refs.items()}
    field = str(group_field)
    spelled = spellings_message(
        field,
        odd,
        where,
        counts,
        consequence="so each spelling is a group (a patient) of its own, and one "
        "patient written two ways in two sets is no group leak",
    )
    if spelled is not None:
        texts = {text for _, spellings in odd.spelled for text in spellings}
        warnings.append(
            _group_warning("group_number_spellings", spelled, texts, refs, counts)
        )
    missing = missing_message(
        field,
        odd,
        where,
        counts,
        consequence="the entries of such a group are checked as one patient's; "
        "give each entry its patient, or leave the field empty (or null) where it "
        "has none (no group, left out of the group check)",
    )
    if missing is not None:
        warnings.append(
            _group_warning("group_missing_value", missing, odd.missing, refs, counts)
        )
    return warnings


def _files_warning(
    index: Mapping[SetName, SetFields],
    evaluated: Sequence[SetName],
    group_field: FieldName,
    split: Mapping[SetName, Sequence[object]],
) -> list[SplitWarning]:
    """Warn of a group field that holds the entries' files (`file_entries`)."""
    groups = sets_groups(index, evaluated)
    named = file_entries(groups)
    if not named:
        return []
    message = files_message(
        str(group_field),
        groups,
        named,
        lambda at: "{}.{}".format(*entry_of(index, evaluated, at)),
        consequence="a group leak is then a file in two sets, which the leak check "
        "finds already",
    )
    places = [entry_of(index, evaluated, at) for at in named[:MAX_LISTED]]
    examples = tuple(EntryRef(name, i, split[name][i]) for name, i in places)
    return [SplitWarning("group_field_files", message, len(named), examples)]


def _group_warning(
    kind: WarningKind,
    message: str,
    groups: Iterable[str],
    refs: Mapping[str, Sequence[EntryRef]],
    counts: Mapping[str, int],
) -> SplitWarning:
    """Return the warning about ``groups``: their entries, the first of each."""
    named = set(groups)
    chosen = [group for group in refs if group in named]  # as they come
    examples = [refs[group][0] for group in chosen][:MAX_LISTED]
    return SplitWarning(
        kind, message, sum(counts[group] for group in chosen), tuple(examples)
    )


def _missing_label_warning(
    split: Mapping[SetName, Sequence[object]], index: Mapping[SetName, SetFields]
) -> SplitWarning | None:
    """Warn about entries without a label (``null``, or none) among labelled ones.

    A split whose entries have no label at all (segmentation: an image and its
    mask) is no warning.
    """
    missing = sum(fields.tally.get(None, 0) for fields in index.values())
    total = sum(len(fields.labels) for fields in index.values())
    if not missing or missing == total:
        return None
    refs: list[EntryRef] = []
    for name, fields in index.items():
        if fields.tally.get(None):
            at = (i for i, label in enumerate(fields.labels) if label is None)
            refs += (EntryRef(name, i, split[name][i]) for i in islice(at, MAX_LISTED))
    verb = "has" if missing == 1 else "have"
    return _refs_warning(
        "label_missing",
        f"{missing} of {total} entries {verb} no label while the others have one",
        refs,
        "give each its label, or remove it (a loader that reads the label fails on it)",
        count=missing,
    )


def _backslash_warning(
    split: Mapping[SetName, Sequence[object]], index: Mapping[SetName, SetFields]
) -> SplitWarning | None:
    r"""Warn about paths that hold a backslash, a separator on Windows alone.

    On Linux and macOS ``images\a.png`` is one file name, not ``a.png`` in
    ``images``: the loader does not find it, and the leak check takes it and
    ``images/a.png`` for two files. A set is searched where `index_split`
    found a backslash in its paths, joined.
    """
    refs: list[EntryRef] = []
    count = 0
    for name, fields in index.items():
        if not fields.backslashed:
            continue
        found = [i for i, path in enumerate(fields.paths) if path and "\\" in path]
        count += len(found)
        refs += (EntryRef(name, i, split[name][i]) for i in found[:MAX_LISTED])
    if not count:
        return None
    noun = "path holds" if count == 1 else "paths hold"
    first = index[refs[0].set_name].paths[refs[0].index] or ""
    slashed = first.replace("\\", "/")
    return _refs_warning(
        "path_backslash",
        f"{count} {noun} a backslash `\\`, a folder separator on Windows alone: "
        f"Linux and macOS read `{first}` as one file name, not as `{slashed}`, "
        "and so do the loader and the leak check",
        refs,
        "write the paths with `/`, which every system reads",
        count=count,
    )


def _spaces_warning(
    split: Mapping[SetName, Sequence[object]], index: Mapping[SetName, SetFields]
) -> SplitWarning | None:
    """Warn about paths that start or end with a space or a tab.

    A file system keeps them: ``a.png `` and ``a.png`` are two files (the
    loader finds one, likely not the other), and the leak check takes them for
    two. Such spaces come from a table's cells (``a.png, 0``) or copied text. A
    set is searched where `index_split` found such a path.
    """
    refs: list[EntryRef] = []
    count = 0
    for name, fields in index.items():
        if not fields.spaced:
            continue
        found = [
            i for i, path in enumerate(fields.paths) if path and path != path.strip()
        ]
        count += len(found)
        refs += (EntryRef(name, i, split[name][i]) for i in found[:MAX_LISTED])
    if not count:
        return None
    noun = "path starts or ends" if count == 1 else "paths start or end"
    return _refs_warning(
        "path_spaces",
        f"{count} {noun} with a space or a tab, which file systems keep: "
        "`a.png ` and `a.png` are two files, for the loader and the leak check",
        refs,
        "remove the spaces (or check that the files are so named)",
        count=count,
    )


def lint_split(
    split: Mapping[SetName, Sequence[object]],
    index: Mapping[SetName, SetFields],
    leaks: LeakReport,
    *,
    labels: bool,
    group_pattern: str | None = None,
    group_field: FieldName | None = None,
    path_field: FieldName | None = None,
    label_field: FieldName | None = None,
    label_kind: LabelKind | None = None,
    label_separator: str | None = None,
) -> list[SplitWarning]:
    """Return the warnings about ``split``, whose fields ``index`` holds.

    Args:
        split: set name -> entries.
        index: the fields of the entries, from `index_split`.
        leaks: what `leaks_in` found, for the entries it left out.
        labels: whether to warn about labels that are not integers (when no
            sample type states what the entries are).
        group_pattern: the group pattern, named in its warning.
        group_field: the group field (instead of a pattern), named in its
            warning.
        path_field: the path field, named in its warning.
        label_field: the label field, never read as the path.
        label_kind: how the labels read (`label_scheme`), if known already.
        label_separator: the label separator the labels were read with, if
            any, named in its warning.
    """
    warnings = [
        SplitWarning(
            "set_empty",
            f"set `{name}` is empty; give it entries or remove it (a data module "
            "refuses an empty set)",
            1,
        )
        for name, samples in split.items()
        if not samples
    ]
    if not split:
        warnings.append(
            SplitWarning(
                "split_empty",
                "the split has no set; give it at least a `train` set (a data "
                "module refuses a split with no set)",
                0,
            )
        )
    if label_kind is None:
        label_kind = label_scheme(f.tally for f in index.values()).kind
    if labels and label_kind != "multi-hot":  # 0/1 vectors are integer lists
        warnings += _label_warnings(split, index, named=label_separator is not None)
    unclear = _lists_warning(split, index, label_kind)
    warnings += [] if unclear is None else [unclear]
    mixed = _mixed_warning(split, index)
    warnings += [] if mixed is None else [mixed]
    if label_separator is not None and not any(f.separated for f in index.values()):
        names = (
            name for f in index.values() for key in f.tally for name in _names(key)
        )
        warnings.append(separator_unused(label_separator, names))
    if leaks.ungrouped and group_field is not None:
        count = len(leaks.ungrouped)
        noun = "entry" if count == 1 else "entries"
        warnings.append(
            _refs_warning(
                "entry_ungrouped",
                f"the group field `{group_field}` holds no group in {count} {noun} "
                "of `train`, `validation` and `test`",
                leaks.ungrouped,
                "they are left out of the group check: give each its group (a "
                "patient), or remove them",
            )
        )
    elif leaks.ungrouped:
        count = len(leaks.ungrouped)
        noun = "path" if count == 1 else "paths"
        warnings.append(
            _refs_warning(
                "entry_ungrouped",
                f"the group pattern `{group_pattern}` finds no group in {count} "
                f"{noun} of `train`, `validation` and `test`",
                leaks.ungrouped,
                "they are left out of the group check: fix the pattern"
                + _other_alternative(group_pattern, index, leaks.ungrouped),
            )
        )
    if group_field is not None:
        warnings += group_value_warnings(split, index, group_field)
    elif group_pattern is None:
        skip = [f for f in (path_field, label_field) if f is not None]
        ungrouped = _ungrouped_patients(split, index, skip)
        warnings += [] if ungrouped is None else [ungrouped]
    missing = _missing_label_warning(split, index)
    warnings += [] if missing is None else [missing]
    backslash = _backslash_warning(split, index)
    warnings += [] if backslash is None else [backslash]
    spaces = _spaces_warning(split, index)
    warnings += [] if spaces is None else [spaces]
    if path_field is None:
        keyed = _path_key_warning(
            split, label_field, group_field
        ) or _array_path_warning(split, label_field, group_field)
        warnings += [] if keyed is None else [keyed]
    if leaks.pathless:
        count = len(leaks.pathless)
        what, fix = _pathless_said(leaks.pathless, path_field, label_field)
        noun = "entry has" if count == 1 else "entries have"
        warnings.append(
            _refs_warning(
                "entry_without_path",
                f"{count} {noun} no path ({what})",
                leaks.pathless,
                f"they are compared whole; {fix}",
            )
        )
    return warnings


def _pathless_said(
    refs: Sequence[EntryRef],
    path_field: FieldName | None,
    label_field: FieldName | None,
) -> tuple[str, str]:
    """Say why entries have no path, and what to do about it.

    Entries whose path field holds ``null`` or ``""`` are to be given their
    file; others (no such field, no string in it) call for another path field.

    Examples:
        >>> refs = [EntryRef("train", 0, [None, 1]), EntryRef("test", 0, [])]
        >>> _pathless_said(refs, 0, None)[0]
        'field `0` holds `null`, or no field `0`'
        >>> _pathless_said(refs[:1], 0, None)
        ('field `0` holds `null`', 'give each its file, or remove it')
    """
    if path_field is None:
        return "no string", "name the path field if the entries have one"
    fields = EntryFields(path_field, label_field)
    kinds = {fields.no_path(ref.entry) for ref in refs}
    said = {
        "null": f"field `{path_field}` holds `null`",
        "empty": f'field `{path_field}` holds ""',
        "no string": f"field `{path_field}` holds no string",
        "missing": f"no field `{path_field}`",
    }
    what = ", or ".join(text for kind, text in said.items() if kind in kinds)
    if kinds & {"null", "empty"}:
        return what, "give each its file, or remove it"
    return what or "no string", "name the path field if the entries have one"
