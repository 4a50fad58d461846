"""``find_leaks``: one file, label or group where a split must have it only once.

Entries are compared by their normalised path (see `lightsplit._entries`), so
``./a.png`` in `train` and ``a.png`` in `test` are one file, and ``["a.png", 0]``
and ``["a.png", 1]`` are one file with two labels. Entries without a path are
compared whole, as JSON. Leaks are searched among `train`, `validation` and
`test` only: `monitor-<name>` sets exist to repeat entries of the other sets.
"""

import re
import threading
from collections import Counter, defaultdict, deque
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import chain, combinations, compress, repeat
from typing import Final, Generic, Literal, TypeVar, cast

from ._classes import label_scheme
from ._entries import (
    EntryFields,
    FieldName,
    SetFields,
    compile_group_pattern,
    describe_entries,
    entry_key,
    field_held_nowhere,
    index_split,
    one_way_to_group,
    same_label_key,
)
from ._errors import preview, printable, refuse_set_names, same_entry
from ._types import EVALUATION_SET_NAMES, EntryT_co, SetName, generic_record

__all__ = [
    "Duplicate",
    "EntryRef",
    "GroupLeak",
    "LabelConflict",
    "LeakReport",
    "PathLeak",
    "entry_keys",
    "find_entries",
    "find_leaks",
    "group_leaks_in",
    "leaks_in",
    "missing_fields",
    "unmatched_pattern",
]


@generic_record
@dataclass(frozen=True, slots=True)
class EntryRef(Generic[EntryT_co]):
    """One entry of a split: its set, its position in the set, and the entry."""

    set_name: SetName
    """The set holding the entry."""
    index: int
    """The entry's position in its set, from 0."""
    entry: EntryT_co
    """The raw entry."""

    def __str__(self) -> str:
        return f"{self.set_name}.{self.index}"


@generic_record
@dataclass(frozen=True, slots=True)
class Duplicate(Generic[EntryT_co]):
    """A file listed again in the same set (the same normalised path)."""

    path: str
    """The normalised path (an entry without one: its JSON text)."""
    first: EntryRef[EntryT_co]
    """Where the set lists the file first."""
    again: EntryRef[EntryT_co]
    """Where it lists it again."""

    def __str__(self) -> str:
        again, first = self.again.entry, self.first.entry
        if same_entry(first, again):
            return f"{self.again} repeats {self.first}: {preview(again)}"
        # another spelling or another label: both entries, the cause in sight
        return (
            f"{self.again} repeats the file of {self.first} {preview(first)}: "
            f"{preview(again)}"
        )


@generic_record
@dataclass(frozen=True, slots=True)
class PathLeak(Generic[EntryT_co]):
    """A file found in more than one of the sets `train`, `validation` and `test`."""

    path: str
    """The normalised path (an entry without one: its JSON text)."""
    sets: tuple[SetName, ...]
    """The sets holding the file, in split order."""
    entries: tuple[EntryRef[EntryT_co], ...]
    """Every entry of those sets naming the file, in split order."""


@generic_record
@dataclass(frozen=True, slots=True)
class LabelConflict(Generic[EntryT_co]):
    """A file listed with different labels, in one set or in several."""

    path: str
    """The normalised path."""
    labels: tuple[object, ...]
    """The different labels, in the order they first appear."""
    entries: tuple[tuple[EntryRef[EntryT_co], ...], ...]
    """The entries listing the file with each label, in the order of `labels`."""

    def __str__(self) -> str:
        shown = ", ".join(
            f"{preview(label)} ({', '.join(map(str, refs))})"
            for label, refs in zip(self.labels, self.entries, strict=True)
        )
        return f"{printable(self.path)} has {len(self.labels)} labels: {shown}"


@generic_record
@dataclass(frozen=True, slots=True)
class GroupLeak(Generic[EntryT_co]):
    """A group (a patient, say) with entries in more than one of the sets.

    In a report of `find_leaks`, a leak's entries are found when first read,
    as the split held them when it was searched: a report of thousands of
    leaks costs little more than their groups until their entries are read.
    """

    group: str
    """The group, as the group pattern finds it in the paths (or as the group
    field holds it, as text)."""
    sets: tuple[SetName, ...]
    """The sets among `train`, `validation` and `test` holding its entries."""
    entries: tuple[EntryRef[EntryT_co], ...]
    """Every entry of the group in those sets, in split order."""


_ENTRIES: Final = vars(GroupLeak)["entries"]
"""The slot of `GroupLeak.entries`."""


class _GroupLeakFound(GroupLeak[EntryT_co]):
    """A `GroupLeak` whose entries are found when first read (`group_leaks_in`).

    Equal to the `GroupLeak` of the same group, sets and entries, and named,
    shown, hashed, copied and pickled as one.
    """

    __slots__ = ("_members",)
    _members: "_Members[EntryT_co]"

    @property
    def entries(self) -> tuple[EntryRef[EntryT_co], ...]:
        """Every entry of the group in its sets, in split order."""
        try:
            found: tuple[EntryRef[EntryT_co], ...] = _ENTRIES.__get__(self)
        except AttributeError:  # not found yet
            found = self._members.of(self.group)
            _ENTRIES.__set__(self, found)
        return found

    @entries.setter
    def entries(self, value: tuple[EntryRef[EntryT_co], ...]) -> None:
        _ENTRIES.__set__(self, value)  # by `__init__`, `replace` and unpickling

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, GroupLeak):
            return NotImplemented
        mine = (self.group, self.sets, self.entries)
        return mine == (other.group, other.sets, other.entries)

    __hash__ = GroupLeak.__hash__

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        return GroupLeak, (self.group, self.sets, self.entries)


# in messages (`FrozenInstanceError`, pydantic's) and shown, as the record it is
_GroupLeakFound.__name__ = _GroupLeakFound.__qualname__ = GroupLeak.__name__


@generic_record
@dataclass(frozen=True, slots=True)
class LeakReport(Generic[EntryT_co]):
    """What `find_leaks` found: every problem, and the entries it could not read."""

    duplicates: tuple[Duplicate[EntryT_co], ...]
    """Files listed again in one set."""
    path_leaks: tuple[PathLeak[EntryT_co], ...]
    """Files in more than one of `train`, `validation` and `test`."""
    conflicts: tuple[LabelConflict[EntryT_co], ...]
    """Files listed with different labels (any sets, `monitor-<name>` included)."""
    group_leaks: tuple[GroupLeak[EntryT_co], ...]
    """Groups in more than one of `train`, `validation` and `test`."""
    ungrouped: tuple[EntryRef[EntryT_co], ...]
    """Entries of `train`, `validation` and `test` whose path the group pattern
    does not match (or whose group field holds nothing), left out of the group
    search (a warning, not a problem)."""
    pathless: tuple[EntryRef[EntryT_co], ...]
    """Entries without a path, compared whole (a warning, not a problem)."""

    @property
    def problems(self) -> int:
        """How many problems were found (duplicates, leaks and conflicts)."""
        return (
            len(self.duplicates)
            + len(self.path_leaks)
            + len(self.conflicts)
            + len(self.group_leaks)
        )

    @property
    def ok(self) -> bool:
        """Whether no problem was found."""
        return self.problems == 0


RawT = TypeVar("RawT")


def find_leaks(
    split: Mapping[SetName, Sequence[RawT]],
    *,
    path_field: FieldName | None = None,
    label_field: FieldName | None = None,
    group_pattern: str | re.Pattern[str] | None = None,
    group_field: FieldName | None = None,
    label_separator: str | None = None,
) -> LeakReport[RawT]:
    r"""Find the files and groups a split lists where it should not.

    - a *duplicate*: a file listed again in the same set;
    - a *path leak*: a file in more than one of `train`, `validation` and `test`;
    - a *label conflict*: a file listed with different labels, anywhere;
    - a *group leak*: with ``group_pattern`` or ``group_field``, a group (the
      patient of an image, say) with entries in more than one of `train`,
      `validation` and `test`.

    Files are compared by normalised path: ``./a.png``, ``a.png`` and
    ``b/../a.png`` are one file. `monitor-<name>` sets are left out of the leak
    searches, as they exist to repeat entries of other sets.

    Args:
        split: set name -> entries.
        path_field: the position or key of the path in each entry; by default
            the first string of the entry.
        label_field: the position or key of the label; by default the item
            after the path (unless it is a file path), or the ``label`` key.
        group_pattern: a regular expression searched in each normalised path:
            its named group ``group``, else its first group, else the whole
            match, is the entry's group.
        group_field: the position or key of each entry's group (a table's
            ``PatientID`` column, say), read as text: ``17`` and ``"17"`` are
            one group; an entry whose field is missing, empty or ``null`` has
            none. Not with ``group_pattern``.
        label_separator: where labels are text joining several names
            (``"Effusion|Nodule"``), the text between them (``"|"``): such a
            label is the list of its names, so that ``"Nodule|Effusion"`` is
            the same label, not a conflict.

    Returns:
        The problems found, in split order, and the entries left out.

    Raises:
        ValueError: if ``group_pattern`` is not a regular expression or finds
            no group in any path of `train`, `validation` and `test` (or
            ``group_field`` holds none in any of their entries), if both are
            given, if ``path_field`` or ``label_field`` is named but holds
            nothing in any entry (the check it asks for would be left undone),
            if a set name is not one of a split file (``validaton`` would be
            left out of the leak searches), or if ``label_separator`` is empty.

    Examples:
        >>> report = find_leaks(
        ...     {
        ...         "train": [["p1/a.png", 0], ["p2/b.png", 1]],
        ...         "test": [["./p1/a.png", 1], ["p2/c.png", 0]],
        ...     },
        ...     group_pattern=r"(p\d+)/",
        ... )
        >>> [(leak.path, leak.sets) for leak in report.path_leaks]
        [('p1/a.png', ('train', 'test'))]
        >>> print(report.conflicts[0])
        p1/a.png has 2 labels: 0 (train.0), 1 (test.0)
        >>> [(leak.group, len(leak.entries)) for leak in report.group_leaks]
        [('p1', 2), ('p2', 2)]

        A table's rows, grouped by their patient column:

        >>> rows = {"train": [["a.png", 0, 17]], "test": [["b.png", 1, 17]]}
        >>> [leak.group for leak in find_leaks(rows, group_field=2).group_leaks]
        ['17']
    """
    refuse_set_names(split)
    both = one_way_to_group(group_pattern, group_field)
    if both is not None:
        raise ValueError(both)
    fields = EntryFields(
        path_field,
        label_field,
        None if group_pattern is None else compile_group_pattern(group_pattern),
        group_field,
        label_separator,
    )
    index = index_split(split, fields)
    missing = missing_fields(split, index, fields)
    unmatched = unmatched_pattern(index, fields, split)
    unchecked = [*missing.values(), *([] if unmatched is None else [unmatched])]
    if unchecked:
        raise ValueError("; ".join(unchecked))
    return leaks_in(split, index)


def missing_fields(
    split: Mapping[SetName, Sequence[object]],
    index: Mapping[SetName, SetFields],
    fields: EntryFields,
) -> dict[Literal["path", "label"], str]:
    """Say of the path and label fields named which no entry of ``split`` holds."""
    found: dict[Literal["path", "label"], str] = {}
    if not any(split.values()):
        return found
    held = describe_entries(next(samples for samples in split.values() if samples))
    paths = chain.from_iterable(f.paths for f in index.values())
    nowhere = field_held_nowhere("path", fields, paths)
    if nowhere is not None:
        found["path"] = (
            f"{nowhere}, so no path could be compared; the entries are {held}"
        )
    labels = chain.from_iterable(f.labels for f in index.values())
    nowhere = field_held_nowhere("label", fields, labels)
    if nowhere is not None:
        found["label"] = (
            f"{nowhere}, so no label could be compared; the entries are {held}"
        )
    return found


def unmatched_pattern(
    index: Mapping[SetName, SetFields],
    fields: EntryFields,
    split: Mapping[SetName, Sequence[object]] | None = None,
) -> str | None:
    """Say that the group pattern finds no group in any path, if so.

    With a group field: that the field holds a group in no entry of `train`,
    `validation` and `test`, and (given ``split``) what the entries hold.
    """
    if fields.group_field is not None:
        return _unheld_group_field(index, fields.group_field, split)
    pattern = fields.group_pattern
    if pattern is None:
        return None
    evaluated = [f for name, f in index.items() if name in EVALUATION_SET_NAMES]
    example = next((p for f in evaluated for p in f.paths if p is not None), None)
    if example is None or any(f.group_set for f in evaluated):
        return None
    return (
        f"the group pattern `{pattern.pattern}` finds no group in any path of "
        f"`train`, `validation` and `test` (such as {example}), so no group leak "
        "could be checked; fix the pattern (its group named `group`, else its "
        "first group, is the patient)"
    )


def _unheld_group_field(
    index: Mapping[SetName, SetFields],
    field: FieldName,
    split: Mapping[SetName, Sequence[object]] | None,
) -> str | None:
    """Say that the group field holds no group in any evaluated entry, if so."""
    evaluated = [name for name in index if name in EVALUATION_SET_NAMES]
    if not any(index[name].paths for name in evaluated) or any(
        index[name].group_set for name in evaluated
    ):
        return None
    first = next((split[name] for name in evaluated if split and split[name]), None)
    held = "" if first is None else f"; the entries are {describe_entries(first)}"
    return (
        f"the group field `{field}` holds a group in no entry of `train`, "
        "`validation` and `test`, so no group leak could be checked; name the "
        "field that holds each entry's group (a position 0, 1, ... or a key)"
        f"{held}"
    )


RecordT = TypeVar("RecordT")


def _made(cls: type[RecordT], count: int, **fields: Iterable[object]) -> list[RecordT]:
    """Return ``count`` records of the frozen, slotted dataclass ``cls``, in bulk.

    ``fields`` gives every field's values, in order (of ``cls`` or a class it
    derives from). Each field is set through its slot for all the records at
    once: the frozen dataclass's ``__init__`` takes 2.5 times as long (about
    1.8 µs a record), which a split listing 84,454 entries in leaks feels.
    """
    records: list[RecordT] = list(map(object.__new__, repeat(cls, count)))
    for name, values in fields.items():
        slot = next(vars(base)[name] for base in cls.__mro__ if name in vars(base))
        deque(map(slot.__set__, records, values), maxlen=0)
    return records


def _entry_refs(
    name: SetName, indices: Sequence[int], entries: Iterable[RawT]
) -> list[EntryRef[RawT]]:
    """Return ``EntryRef(name, i, entry)`` for each of ``indices`` and ``entries``.

    In bulk (`_made`); ``entries`` are those of set ``name`` at ``indices``.
    """
    return _made(
        EntryRef, len(indices), set_name=repeat(name), index=indices, entry=entries
    )


def entry_keys(
    split: Mapping[SetName, Sequence[RawT]], index: Mapping[SetName, SetFields]
) -> tuple[dict[SetName, Sequence[Hashable]], list[EntryRef[RawT]]]:
    """Return each entry's key (its path, else its JSON text), and those pathless."""
    keys: dict[SetName, Sequence[Hashable]] = {}
    pathless: list[EntryRef[RawT]] = []
    for name, samples in split.items():
        paths = index[name].paths
        if not index[name].pathless:
            keys[name] = paths
            continue
        with_keys: list[Hashable] = list(paths)
        for i, path in enumerate(paths):
            if path is None:
                with_keys[i] = ("entry", entry_key(samples[i]))
                pathless.append(EntryRef(name, i, samples[i]))
        keys[name] = with_keys
    return keys, pathless


def _repeats(
    names: Sequence[SetName], keys: Mapping[SetName, Sequence[Hashable]]
) -> dict[Hashable, list[tuple[int, int]]]:
    """Return where each key found more than once is: (set position, index)."""
    places: dict[Hashable, list[tuple[int, int]]] = {}
    unique: set[Hashable] = set()
    for in_set in keys.values():
        unique.update(in_set)
    if len(unique) == sum(map(len, keys.values())):
        return places  # no key repeats: the usual case, found at once
    counts = Counter(chain.from_iterable(keys.values()))
    repeated = {key for key, count in counts.items() if count > 1}
    for position, name in enumerate(names):
        for i, key in enumerate(keys[name]):
            if key in repeated:
                places.setdefault(key, []).append((position, i))
    return places


def leaks_in(
    split: Mapping[SetName, Sequence[RawT]], index: Mapping[SetName, SetFields]
) -> LeakReport[RawT]:
    """Find the leaks of ``split`` from its fields, read once by `index_split`."""
    names = list(split)
    keys, pathless = entry_keys(split, index)
    places = _repeats(names, keys)
    class_lists = bool(places) and (
        label_scheme(f.tally for f in index.values()).kind == "multi-label"
    )

    def ref(where: tuple[int, int]) -> EntryRef[RawT]:
        name = names[where[0]]
        return EntryRef(name, where[1], split[name][where[1]])

    duplicates: list[Duplicate[RawT]] = []
    path_leaks: list[PathLeak[RawT]] = []
    conflicts: list[LabelConflict[RawT]] = []
    for key, found in places.items():
        path = key if isinstance(key, str) else str(key[1])  # type: ignore[index]  # ("entry", text)
        firsts: dict[int, tuple[int, int]] = {}
        for place in found:
            seen = firsts.setdefault(place[0], place)
            if seen is not place:
                duplicates.append(Duplicate(path, ref(seen), ref(place)))
        evaluated = [p for p in found if names[p[0]] in EVALUATION_SET_NAMES]
        sets = tuple(dict.fromkeys(names[p[0]] for p in evaluated))
        if len(sets) > 1:
            path_leaks.append(PathLeak(path, sets, tuple(map(ref, evaluated))))
        conflict = _conflict(
            path, [ref(p) for p in found], index, class_lists=class_lists
        )
        if conflict is not None:
            conflicts.append(conflict)
    duplicates.sort(key=lambda d: (names.index(d.again.set_name), d.again.index))
    group_leaks, ungrouped = group_leaks_in(split, index)
    return LeakReport(
        tuple(duplicates),
        tuple(path_leaks),
        tuple(conflicts),
        group_leaks,
        ungrouped,
        tuple(pathless),
    )


def _conflict(
    path: str,
    refs: Sequence[EntryRef[RawT]],
    index: Mapping[SetName, SetFields],
    *,
    class_lists: bool,
) -> LabelConflict[RawT] | None:
    """Return the conflict of a file's labelled entries, if their labels differ.

    With ``class_lists``, lists of class numbers in any order are one label.
    """
    labels: dict[Hashable, object] = {}
    by_label: dict[Hashable, list[EntryRef[RawT]]] = {}
    for ref in refs:
        label = index[ref.set_name].labels[ref.index]
        if label is not None:
            key = same_label_key(label, class_lists=class_lists)
            labels.setdefault(key, label)
            by_label.setdefault(key, []).append(ref)
    if len(labels) < 2:  # noqa: PLR2004 - one label is no conflict
        return None
    entries = tuple(tuple(by_label[key]) for key in labels)
    return LabelConflict(path, tuple(labels.values()), entries)


def group_leaks_in(
    split: Mapping[SetName, Sequence[RawT]], index: Mapping[SetName, SetFields]
) -> tuple[tuple[GroupLeak[RawT], ...], tuple[EntryRef[RawT], ...]]:
    """Return the groups in more than one evaluation set, and the ungrouped entries.

    Each leak's group and sets are found at once, in split order; its entries
    when first asked for (`_GroupLeakFound`): a split whose patients leak by the
    thousand (CXR8's lists 84,454 entries in 9,685 leaks) is reported without
    making a record of each entry, unless the records are read.
    """
    evaluated = [name for name in split if name in EVALUATION_SET_NAMES]
    found: dict[SetName, frozenset[str]] = {}
    ungrouped: list[EntryRef[RawT]] = []
    for name in evaluated:
        group_set = index[name].group_set
        if group_set is None:
            return (), ()
        found[name] = group_set
        if index[name].ungrouped:
            paths = index[name].paths
            ungrouped += (
                EntryRef(name, i, split[name][i])
                for i, group in enumerate(index[name].groups or ())
                if group is None and paths[i] is not None
            )
    sets_of = _sets_of(evaluated, found)
    if not sets_of:
        return (), tuple(ungrouped)
    groups = {name: index[name].groups or [] for name in evaluated}
    order: dict[str | None, None] = {}  # leaking groups, as the split first lists them
    for in_set in groups.values():
        order.update(dict.fromkeys(compress(in_set, map(sets_of.__contains__, in_set))))
    leaking = cast("dict[str, None]", order)  # no None: no set holds it
    members = _Members(
        sets_of, {name: (groups[name], tuple(split[name])) for name in evaluated}
    )
    leaks = _made(
        _GroupLeakFound,
        len(leaking),
        group=leaking,
        sets=map(sets_of.__getitem__, leaking),
        _members=repeat(members),
    )
    return tuple(leaks), tuple(ungrouped)


def _sets_of(
    evaluated: Sequence[SetName], found: Mapping[SetName, frozenset[str]]
) -> dict[str, tuple[SetName, ...]]:
    """Return the sets of each group found in more than one of ``evaluated``.

    Told set by set, not group by group: each choice of two or more sets
    shares the groups of a choice one smaller and of its last set; the groups
    in a choice and in no other set are those no larger choice took first.
    """
    shared: dict[tuple[SetName, ...], frozenset[str]] = {}
    for size in range(2, len(evaluated) + 1):
        for chosen in combinations(evaluated, size):  # (a, b) before (a, b, c)
            smaller = found[chosen[0]] if size == 2 else shared[chosen[:-1]]  # noqa: PLR2004 - a pair
            shared[chosen] = smaller & found[chosen[-1]]
    sets_of: dict[str, tuple[SetName, ...]] = {}
    for chosen in sorted(shared, key=len, reverse=True):  # stable: split order kept
        sets_of.update(dict.fromkeys(shared[chosen] - sets_of.keys(), chosen))
    return sets_of


class _Members(Generic[RawT]):
    """The entries of leaking groups, found when first asked for.

    Holds each evaluation set's entries and their groups, as `find_leaks` found
    them (a copy of a set that is not a tuple: editing the split later changes
    no report), until every leaking group's entries are found (`fill`). The
    leaks hold it, it holds no leak; threads may ask at once.
    """

    def __init__(
        self,
        leaking: Mapping[str, object],
        sets: dict[SetName, tuple[Sequence[str | None], Sequence[RawT]]],
    ) -> None:
        self.leaking = leaking
        self.sets = sets
        """Per set: the group of each entry (``None`` for none), and the entries."""
        self.found: dict[str, tuple[EntryRef[RawT], ...]] = {}
        self.lock = threading.Lock()

    def of(self, group: str) -> tuple[EntryRef[RawT], ...]:
        """Return the entries of ``group``, a leaking group, in split order."""
        found = self.found.get(group)
        if found is None:
            self.fill(None)
            found = self.found[group]
        return found

    def fill(self, wanted: "set[str] | None") -> None:
        """Find the entries of the ``wanted`` groups (``None``: every leaking one).

        One pass over each set's groups, whatever the number of groups: each
        entry's record is appended to its group's list in C (a loop in Python
        here took a third of a check of CXR8's split).
        """
        with self.lock:
            missing = (
                self.leaking.keys() if wanted is None else wanted
            ) - self.found.keys()
            if not missing:
                return
            members: defaultdict[str, list[EntryRef[RawT]]] = defaultdict(list)
            for name, (groups, entries) in self.sets.items():
                keep = list(map(missing.__contains__, groups))
                indices = list(compress(range(len(groups)), keep))
                held = cast("Iterable[str]", compress(groups, keep))  # no None
                lists = map(members.__getitem__, held)
                refs = _entry_refs(name, indices, map(entries.__getitem__, indices))
                deque(map(list.append, lists, refs), maxlen=0)
            found = {group: tuple(refs) for group, refs in members.items()}
            self.found = {**self.found, **found}  # whole for readers without the lock
            if len(self.found) == len(self.leaking):  # the entries are needed no more
                self.sets = {}


def find_entries(leaks: Iterable[GroupLeak[RawT]]) -> None:
    """Find the entries of ``leaks`` at once, where they are not found yet.

    One pass over each set's groups for all the leaks a report shows, not one
    per leak, and no record made for the entries of the others.
    """
    wanted: dict[int, tuple[_Members[RawT], set[str]]] = {}
    for leak in leaks:
        if isinstance(leak, _GroupLeakFound):
            members = leak._members
            wanted.setdefault(id(members), (members, set()))[1].add(leak.group)
    for members, groups in wanted.values():
        members.fill(groups)
