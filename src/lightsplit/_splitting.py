"""``split_samples`` and ``split_folds``: new splits, stratified, grouped and seeded.

Both pool the entries given, keep each file (normalised path) once, and place
whole groups (by default each file is its own group; with a group pattern or a
group field, each patient, say) so that every set holds its share of every
class. Labels may be single (an integer, a string) or multi-label (a multi-hot
list, or a list of class names); entries without a label count as a class of
their own.

The result depends on nothing but the entries (not their order), the options
and the seed: groups are ordered by `group_order` (the rarest classes first,
then by the SHA-256 of the seed and the group's name) and placed by
`assign_groups` in integer arithmetic; each set lists its entries sorted by
path. So the same input and
seed give the same split on every machine and Python version.
"""

import decimal
import hashlib
import numbers
import re
import unicodedata
from collections import Counter
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from math import lcm
from typing import Final, Generic, TypeVar

from ._classes import (
    MIXED_FIX,
    LabelKind,
    LabelScheme,
    class_name,
    class_order,
    is_list_key,
    label_scheme,
    label_spellings,
    mixed_labels,
    mixed_message,
    number_spellings,
    odd_list_labels,
    reads_as_number,
    unclear_list_labels,
)
from ._entries import (
    EntryFields,
    FieldName,
    SetFields,
    compile_group_pattern,
    describe_entries,
    entry_key,
    field_held_nowhere,
    field_shown,
    index_split,
    normalize_path,
    one_field_for_both,
    one_way_to_group,
    same_label_key,
    tally_key,
)
from ._errors import (
    MAX_LISTED,
    SplittingError,
    first_few,
    format_problems,
    preview,
    printable,
)
from ._groupvalues import (
    MISSING_WORDS,
    file_entries,
    files_message,
    missing_message,
    odd_groups,
    spellings_message,
)
from ._split import DatabaseSplit
from ._stratify import GroupCounts, assign_groups, fill_empty_sets, group_order
from ._types import SetName

__all__ = [
    "FOLD_SETS",
    "FRACTION_SETS",
    "MIN_FOLDS",
    "SplitPool",
    "carved_files",
    "check_entries",
    "check_folds",
    "fields_not_held",
    "fold_assignments",
    "fold_splits",
    "fraction_assignment",
    "odd_classes",
    "parse_fractions",
    "pool_samples",
    "split_folds",
    "split_pool",
    "split_samples",
]

RawT = TypeVar("RawT")

FRACTION_SETS: Final[dict[int, tuple[SetName, ...]]] = {
    2: ("train", "test"),
    3: ("train", "validation", "test"),
}
"""The sets that two or three fractions are for, in order."""

MIN_FOLDS: Final = 3
"""Fewest folds: each file needs a test fold, validation and training data."""

FOLD_SETS: Final = ("train", "validation", "test")
"""The sets of each file of a k-fold split."""


def check_folds(folds: int, *, name: str = "folds") -> None:
    """Refuse fewer than `MIN_FOLDS` folds, or folds that are not a whole number.

    Raises:
        TypeError: for folds that are no integer (``5.0``, ``"5"``, ``True``;
            NumPy's integers are integers).
        ValueError: naming ``name`` and the fewest folds allowed.
    """
    given: object = folds  # checked at run time too, for untyped callers
    if isinstance(given, bool) or not isinstance(given, numbers.Integral):
        msg = f"`{name}` is {folds!r}; give a whole number, {MIN_FOLDS} or more"
        raise TypeError(msg)
    if folds < MIN_FOLDS:
        msg = (
            f"`{name}` is {folds}; give {MIN_FOLDS} or more, so that each split has "
            "a test fold, validation and training data"
        )
        raise ValueError(msg)


def parse_fractions(values: Sequence[float | str | Fraction]) -> tuple[Fraction, ...]:
    """Read fractions exactly: ``0.15`` is 3/20, as written (``"1/3"`` works too).

    Floats computed in floats that miss 1 by their rounding alone (``[0.7,
    0.15, 1 - 0.7 - 0.15]``) are read to 12 decimal places, which adds
    them up to 1 exactly (`_float_rounded`).

    Raises:
        TypeError: for fractions given as one string, not a sequence of them.
        ValueError: unless there are 2 or 3 fractions, each above 0, adding up
            to 1.

    Examples:
        >>> parse_fractions([0.7, 0.15, 0.15])
        (Fraction(7, 10), Fraction(3, 20), Fraction(3, 20))
    """
    if isinstance(values, str):
        msg = (
            f"`fractions` is the string {values!r}; give a list of numbers, such "
            "as [0.7, 0.15, 0.15]"
        )
        raise TypeError(msg)
    fractions = []
    for value in values:
        number: object = value
        text = (  # np.float32(0.8) as NumPy writes it, `0.8`, not the float it holds
            str(number)
            if isinstance(number, float)
            or (
                isinstance(number, numbers.Real)
                and not isinstance(number, numbers.Rational)
            )
            else None
        )
        try:
            fractions.append(Fraction(value if text is None else text))
        except (ValueError, ZeroDivisionError) as exc:
            msg = f"fraction `{value}` is not a number; write one such as 0.15 or 1/3"
            raise ValueError(msg) from exc
    shown = " ".join(map(str, values))
    if len(fractions) not in FRACTION_SETS:
        msg = (
            f"{len(fractions)} {'fraction' if len(fractions) == 1 else 'fractions'} "
            f"({shown}); give 3 (train, validation and "
            "test), such as 0.7 0.15 0.15, or 2 (train and test)"
        )
        raise ValueError(msg)
    for number, (value, fraction) in enumerate(
        zip(values, fractions, strict=True), start=1
    ):
        if fraction <= 0:
            sign = "zero" if fraction == 0 else "negative"
            msg = (
                f"fraction {number} ({value}) is {sign}; give fractions above 0 "
                "that add up to 1, such as 0.7 0.15 0.15"
            )
            raise ValueError(msg)
    total = sum(fractions, Fraction(0))
    rounded = _float_rounded(values, fractions)
    if total != 1 and sum(rounded, Fraction(0)) == 1:
        return rounded
    if total != 1:
        exact = _exact(total)
        if len(exact) > _SUM_CHARS:  # 1e-400 1: 1.000...0001, 400 digits long
            over = "more" if total > 1 else "less"
            gap = abs(total - 1)
            with decimal.localcontext(prec=3):
                size = decimal.Decimal(gap.numerator) / gap.denominator
            exact = f"{over} than 1, by {size:g}"
        msg = (
            f"fractions {shown} add up to {exact}; give fractions above 0 that "
            "add up to 1, such as 0.7 0.15 0.15"
        )
        if abs(total - 1) < _FLOAT_MISS and any(isinstance(v, float) for v in values):
            msg += (
                " (fractions computed in floats miss 1 by their rounding: give "
                'them as text or as `fractions.Fraction`, such as "1/3")'
            )
        raise ValueError(msg)
    return tuple(fractions)


_FLOAT_PLACES: Final = 12
"""Decimal places of a float fraction computed in floats (`_float_rounded`): a
share finer than that changes no set of any split by one entry."""


def _float_rounded(
    values: Sequence[float | str | Fraction], fractions: Sequence[Fraction]
) -> tuple[Fraction, ...]:
    """Return ``fractions`` with each float value read to `_FLOAT_PLACES` places.

    ``1 - 0.8`` computed in floats is ``0.19999999999999996``: read so, it is
    the 0.2 meant, and ``[0.8, 1 - 0.8]`` adds up to 1 exactly (as written it
    does not). Used only where that makes fractions that did not add up to 1
    add up to it exactly, so no other value changes.

    Examples:
        >>> _float_rounded([0.8, 1 - 0.8], [Fraction("0.8"), Fraction(1 - 0.8)])
        (Fraction(4, 5), Fraction(1, 5))
    """
    return tuple(
        Fraction(str(round(value, _FLOAT_PLACES)))
        if isinstance(value, float)
        else found
        for value, found in zip(values, fractions, strict=True)
    )


_FLOAT_MISS: Final = Fraction(1, 10**9)
"""How far from 1 float fractions may add up by their rounding, to say so."""

_SUM_CHARS: Final = 24
"""The longest sum of fractions written out exactly in a message."""


def _exact(value: Fraction) -> str:
    """Write ``value`` exactly: as a decimal if it has one, else as ``n/d``.

    Examples:
        >>> _exact(Fraction("1.00000001")), _exact(Fraction(7, 6))
        ('1.00000001', '7/6')
    """
    denominator = value.denominator
    twos = fives = 0
    while denominator % 2 == 0:
        denominator //= 2
        twos += 1
    while denominator % 5 == 0:
        denominator //= 5
        fives += 1
    if denominator != 1:
        return str(value)
    places = max(twos, fives)
    digits = str(abs(value.numerator) * 10**places // value.denominator)
    digits = digits.rjust(places + 1, "0")
    whole, decimals = digits[: len(digits) - places], digits[len(digits) - places :]
    sign = "-" if value < 0 else ""
    return f"{sign}{whole}.{decimals}".rstrip("0").rstrip(".")


@dataclass(frozen=True, slots=True)
class SplitPool(Generic[RawT]):
    """The entries to split, each file once, with their groups and classes."""

    entries: tuple[RawT, ...]
    """The entries kept, sorted by path."""
    group_of: tuple[int, ...]
    """The group of each entry (a position in `groups`)."""
    groups: tuple[GroupCounts, ...]
    """Each group's entries per class."""
    class_totals: tuple[int, ...]
    """Entries of each class, in all."""
    order: tuple[int, ...]
    """The groups, in the order they are placed."""
    dropped: int
    """Entries left out as repeats of a file (same path, same label)."""
    class_names: tuple[str, ...]
    """The classes, in order (then, in `class_totals` only, entries with none)."""
    unlabelled: tuple[str, ...]
    """Where each entry kept without a label comes from (``entry 3``, ``row 5``),
    in input order: they are split as a class of their own."""
    unclear_labels: str | None = None
    """Why the list labels read neither as multi-hot vectors nor as lists of
    classes, if they do (`unclear_list_labels`)."""
    number_spellings: str | None = None
    """Which classes are one number written several ways (`number_spellings`)."""
    differing: tuple[str, ...] = ()
    """The repeated entries left out whose other items differ from the one kept
    (``entry 5 [...], kept: entry 3 [...]``)."""
    mixed_labels: str | None = None
    """Which labels are lists among others, or others among lists, if any are
    (`mixed_labels`): each list is then a class of its own."""
    group_field: FieldName | None = None
    """The field the groups were read from, or ``None`` (a group pattern, or
    each file its own group): named in messages (`shown_group_field`)."""
    columns: tuple[str, ...] = ()
    """The names of the entries' items (a CSV table's columns), if known: a
    field is named by its column in messages."""
    odd_groups: tuple[str, ...] = ()
    """What the group field holds that may not be the patients it seems: one
    number written several ways, values that read as missing (`odd_groups`)."""
    separator_unused: str | None = None
    """The label separator the labels were read with, where no label holds
    it (likely not the labels'), else ``None``."""
    odd_labels: tuple[str, ...] = ()
    """What the classes hold that a split file's labels should not: numbers
    written as text, numbers that are no integers, missing values
    (`odd_classes`)."""

    @property
    def shown_group_field(self) -> str:
        """The group field as messages name it: a CSV column by its name."""
        field = self.group_field
        return "" if field is None else field_shown(field, self.columns)

    def positions(
        self, placed: dict[int, int], names: Sequence[SetName]
    ) -> dict[SetName, list[int]]:
        """Return the positions in `entries` of the entries of each set."""
        positions: dict[SetName, list[int]] = {name: [] for name in names}
        members = [positions[name] for name in names]
        for position, group in enumerate(self.group_of):
            members[placed[group]].append(position)
        return positions

    def sets(
        self, placed: dict[int, int], names: Sequence[SetName]
    ) -> DatabaseSplit[RawT]:
        """Return the split that places group ``g`` in set ``names[placed[g]]``."""
        entries = self.entries
        return DatabaseSplit(
            {
                name: [entries[p] for p in found]
                for name, found in self.positions(placed, names).items()
            }
        )


def _problem(origins: Sequence[str], positions: Sequence[int]) -> str:
    return ", ".join(origins[p] for p in positions[:3]) + (
        f" and {len(positions) - 3} more" if len(positions) > 3 else ""  # noqa: PLR2004
    )


def _kept(
    entries: Sequence[object],
    index: SetFields,
    where: Sequence[str],
    fields: EntryFields,
) -> tuple[list[int], list[tuple[int, str]], list[str]]:
    """Return the positions of the entries kept (sorted by path), and all keys.

    Third, the repeated entries left out that differ from the one kept, said
    as ``entry 5 [...], kept: entry 3 [...]``. An entry's key is its path, or
    its JSON text without one. Of the entries with one key and one label, the
    one whose path is written as normalised (no ``./``, ``..`` or ``//``,
    accents composed: the spelling most likely to open) is kept, else the one
    whose JSON text sorts first (the input's order does not count).

    Raises:
        SplittingError: for a key listed with different labels.
    """
    keys: list[tuple[int, str]] = [
        (0, path) if path is not None else (1, entry_key(entry))
        for path, entry in zip(index.paths, entries, strict=True)
    ]  # the key of an entry without a path sorts after every path
    if None not in index.paths and len(set(index.paths)) == len(entries):
        # every entry has a path, each once: the usual case, sorted by path
        paths: list[str] = index.paths  # type: ignore[assignment]  # no None
        return sorted(range(len(entries)), key=paths.__getitem__), keys, []
    positions: dict[tuple[int, str], list[int]] = {}
    for position, key in enumerate(keys):
        positions.setdefault(key, []).append(position)
    kept: list[int] = []
    class_lists = label_scheme([index.tally]).kind == "multi-label"
    conflicts: list[str] = []  # a file with two labels
    grouped: list[str] = []  # a file with two groups
    differing: list[str] = []
    for key, found in positions.items():
        if len(found) == 1:
            kept.append(found[0])
            continue
        labels: dict[Hashable, list[int]] = {}
        for p in found:
            label = index.labels[p]
            labels.setdefault(
                None
                if label is None
                else same_label_key(label, class_lists=class_lists),
                [],
            ).append(p)
        if len(labels) > 1:
            shown = ", ".join(
                f"{preview(index.labels[ps[0]])} ({_problem(where, ps)})"
                for ps in labels.values()
            )
            spelled = label_spellings([index.labels[ps[0]] for ps in labels.values()])
            fix = (
                "keep the right one"
                if spelled is None
                else f"{spelled}: write it one way"
            )
            conflicts.append(f"{key[1]}: labels {shown}; {fix}")
        elif (patients := _patients(index, found, where)) is not None:
            grouped.append(f"{key[1]}: {patients}")
        else:
            written = {p: fields.path(entries[p]) for p in found}
            texts = {p: (written[p] != key[1], entry_key(entries[p])) for p in found}
            first = min(found, key=texts.__getitem__)
            kept.append(first)
            differing += [
                f"{where[p]} {preview(entries[p])}, kept: {where[first]} "
                f"{preview(entries[first])}"
                + (_spelled(written[p]) if written[p] != written[first] else "")
                for p in found
                if texts[p][1] != texts[first][1]
            ]
    if conflicts or grouped:
        which = " or ".join(
            what
            for what, found in (("labels", conflicts), ("groups", grouped))
            if found
        )
        title = f"cannot split files listed with different {which}"
        raise SplittingError(format_problems(title, conflicts + grouped))
    kept.sort(key=keys.__getitem__)
    return kept, keys, differing


def _patients(
    index: SetFields, found: Sequence[int], where: Sequence[str]
) -> str | None:
    """Say that the entries ``found`` of one file are of different groups.

    Groups read from a field (a patient column) may differ for one file: which
    group it follows cannot be told, and each of its patients' other entries
    would then go to a set of their own.
    """
    if index.groups is None:
        return None
    groups: dict[str | None, list[int]] = {}
    for p in found:
        groups.setdefault(index.groups[p], []).append(p)
    if len(groups) < 2:  # noqa: PLR2004 - two groups or more
        return None
    shown = ", ".join(
        f"{'no group' if group is None else preview(group)} ({_problem(where, ps)})"
        for group, ps in groups.items()
    )
    return (
        f"groups {shown}; one file is one patient's: keep the right one (or give "
        "one patient one group)"
    )


def _spelled(path: str | None) -> str:
    """Say that an entry left out writes the kept entry's path another way."""
    if path is not None and unicodedata.normalize("NFC", path) != path:
        return " (the same path with decomposed accents)"
    return " (the same path written another way)"


def _classes(
    index: SetFields, kept: Sequence[int], scheme: LabelScheme
) -> tuple[list[tuple[int, ...]], list[Hashable]]:
    """Return the classes of each entry kept (as numbers), and the classes.

    Classes are numbered in `class_order`; entries without a class have the
    class after the last, of their own.
    """
    labels = [index.labels[p] for p in kept]
    kinds = set(map(type, labels))
    if kinds <= {int, str}:
        tallied: list[Hashable] = labels  # their own keys
    elif kinds <= {list}:
        tallied = list(map(tuple, labels))  # type: ignore[arg-type]  # lists
    else:
        tallied = list(map(tally_key, labels))
    try:
        classes_of = _classes_of(tallied, kept, index, scheme)
    except TypeError:  # lists holding lists or objects: no tuple of them hashes
        tallied = list(map(tally_key, labels))
        classes_of = _classes_of(tallied, kept, index, scheme)
    every = sorted({c for cs in classes_of.values() for c in cs}, key=class_order)
    number = {c: i for i, c in enumerate(every)}
    numbered = {
        key: tuple(number[c] for c in classes) or (len(every),)
        for key, classes in classes_of.items()
    }
    return [numbered[key] for key in tallied], every


def _classes_of(
    tallied: Sequence[Hashable],
    kept: Sequence[int],
    index: SetFields,
    scheme: LabelScheme,
) -> dict[Hashable, tuple[Hashable, ...]]:
    """Return the classes of each different label of the entries kept, by its key."""
    classes_of: dict[Hashable, tuple[Hashable, ...]] = {}
    for key, p in zip(tallied, kept, strict=True):
        if key not in classes_of:
            label = index.labels[p]
            classes_of[key] = () if label is None else scheme.classes(label)
    return classes_of


def _groups(
    names: Sequence[str], classes: Sequence[tuple[int, ...]], class_count: int
) -> tuple[list[int], list[GroupCounts], list[int]]:
    """Return the group of each entry, each group's counts, and class totals."""
    group_index = {name: g for g, name in enumerate(dict.fromkeys(names))}
    group_of = [group_index[name] for name in names]
    sizes = Counter(group_of)
    pairs = Counter(
        (g, c) for g, numbers in zip(group_of, classes, strict=True) for c in numbers
    )
    counts: list[list[tuple[int, int]]] = [[] for _ in group_index]
    totals = [0] * class_count
    for (g, c), count in sorted(pairs.items()):
        counts[g].append((c, count))
        totals[c] += count
    groups = [GroupCounts(tuple(found), sizes[g]) for g, found in enumerate(counts)]
    return group_of, groups, totals


def check_entries(entries: object, seed: object) -> None:
    """Refuse entries that are no sequence of entries, and a seed below 0 or no int.

    The CLI's ``--seed`` takes whole numbers from 0, which the sidecar records:
    a seed it could not take would make a split no command reproduces.

    Raises:
        TypeError: naming the argument and what to give.
        ValueError: for a negative seed.
    """
    if isinstance(entries, Mapping):
        msg = (
            "`entries` is a mapping (a split?); give the list of entries to split. "
            "To split again the entries of a split's sets, pool them: "
            "[entry for samples in split.values() for entry in samples]"
        )
        raise TypeError(msg)
    if isinstance(entries, str | bytes) or not isinstance(entries, Sequence):
        msg = (
            f"`entries` is {type(entries).__name__}; give the list of entries to "
            'split, such as [["images/0001_000.png", 1], ...]'
        )
        raise TypeError(msg)
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        msg = f"`seed` is {seed!r}; give a whole number, 0 or more"
        raise TypeError(msg)
    if seed < 0:
        msg = f"`seed` is {seed}; give a whole number, 0 or more (as `--seed` takes)"
        raise ValueError(msg)


def fields_not_held(
    entries: Sequence[object], fields: EntryFields, columns: Sequence[str] = ()
) -> str | None:
    """Say that the path, label or group field named holds nothing in ``entries``.

    A split made without the paths or labels meant would be neither grouped nor
    stratified, and say nothing: `check` refuses the same fields. A field is
    named by its column in ``columns`` (a CSV table's header), if given.
    """
    if not entries:
        return None
    held = describe_entries(entries)
    paths = field_held_nowhere("path", fields, map(fields.path, entries), columns)
    if paths is not None:
        return (
            f"{paths}, so no file could be told from another or grouped; the "
            f"entries are {held}"
        )
    labels = field_held_nowhere("label", fields, map(fields.label, entries), columns)
    if labels is not None:
        return f"{labels}, so nothing could be stratified; the entries are {held}"
    groups = field_held_nowhere(
        "group", fields, map(fields.entry_group, entries), columns
    )
    if groups is not None:
        return (
            f"{groups} (a value that is not empty or null), so no entry could be "
            f"grouped; the entries are {held}"
        )
    return None


def pool_samples(
    entries: Sequence[RawT],
    fields: EntryFields,
    *,
    seed: int,
    origins: Sequence[str] | None = None,
    columns: Sequence[str] = (),
) -> SplitPool[RawT]:
    """Keep each file once, group the entries, count classes and order groups.

    Args:
        entries: the entries to split.
        fields: how to read their path, label and group.
        seed: orders the groups of equal standing (see `group_order`).
        origins: where each entry comes from, for messages (``train.3``, ``row
            5``); by default ``entry 0``, ``entry 1``...
        columns: the names of the entries' items (a CSV table's columns), to
            name a field by its column in messages.

    Raises:
        SplittingError: for an entry whose path field holds no value (it is
            missing, empty or null), a file listed with different labels, or a
            path the group pattern finds no group in (an entry whose group
            field holds none).
    """
    where = list(origins or (f"entry {i}" for i in range(len(entries))))
    pathless = _pathless(fields, entries)
    if pathless:
        raise SplittingError(_unheld_paths(fields, entries, where, pathless))
    [index] = index_split({"train": entries}, fields).values()
    kept, keys, differing = _kept(entries, index, where, fields)
    found = [index.groups[p] if index.groups is not None else keys[p][1] for p in kept]
    ungrouped = [p for p, name in zip(kept, found, strict=True) if name is None]
    if ungrouped:
        raise SplittingError(
            _ungrouped(fields, entries, where, ungrouped, len(kept), columns=columns)
        )
    names = [name or "" for name in found]
    odd = (
        ()
        if fields.group_field is None
        else _odd_groups(field_shown(fields.group_field, columns), names, kept, where)
    )
    scheme = label_scheme([index.tally])
    classes, every = _classes(index, kept, scheme)
    group_of, groups, totals = _groups(names, classes, len(every) + 1)
    ties = [
        hashlib.sha256(f"{seed}\0{name}".encode("utf-8", "surrogatepass")).digest()
        for name in dict.fromkeys(names)
    ]
    rows = [(where[p], entries[p], index.labels[p]) for p in sorted(kept)]
    return SplitPool(
        tuple(entries[p] for p in kept),
        tuple(group_of),
        tuple(groups),
        tuple(totals),
        tuple(group_order(groups, totals, ties)),
        len(entries) - len(kept),
        tuple(map(class_name, every)),
        tuple(where[p] for p in sorted(kept) if index.labels[p] is None),
        _unclear(index, scheme.kind, rows),
        number_spellings(every),
        tuple(differing),
        _mixed(index, rows),
        fields.group_field,
        tuple(columns),
        odd,
        fields.label_separator if index.separated is False else None,
        odd_classes(every, totals, named=fields.label_separator is not None),
    )


def odd_classes(
    classes: Sequence[Hashable], totals: Sequence[int], *, named: bool = False
) -> tuple[str, ...]:
    """Say which classes a split file's labels should not hold, if any.

    ``totals`` counts each class's entries. A number written as text
    (``"0.0"``, a CSV cell ``0.0`` or `` 0``: a cell is read as an integer only
    when written as one) is written to the split as text, which `check` warns
    of and loaders of integer labels refuse, unless labels were ``named`` by
    a label separator (the findings ``3|7`` are names); so are a float or a
    boolean label; a class that reads as a missing value (``NaN``) holds
    entries without a label.

    Examples:
        >>> for said in odd_classes(["0.0", "1.0", "NaN"], [5, 4, 2]):
        ...     print(said)  # doctest: +ELLIPSIS
        the classes "0.0" and "1.0" are numbers written as text (a CSV cell ...
        the class "NaN" (2 entries) reads as a missing value: ...
    """
    text = [c for c in classes if isinstance(c, str) and reads_as_number(c)]
    other = [c for c in classes if not isinstance(c, int | str)]
    missing = [
        (c, n)
        for c, n in zip(classes, totals, strict=False)
        if isinstance(c, str) and c.strip().casefold() in MISSING_WORDS
    ]
    said = []
    if text and not named:
        said.append(
            f"{_classes_named(text)} numbers written as text (a CSV cell is read "
            "as an integer only when written as one: `0`, not `0.0` nor ` 0`): "
            "they are written to the split as text, which `lightsplit check` "
            "warns of and loaders of integer labels refuse; write the labels as "
            "integers"
        )
    if other:
        one = len(other) == 1
        said.append(
            f"{_classes_named(other)} neither "
            f"{'an integer nor a name' if one else 'integers nor names'}: "
            f"{'it is' if one else 'they are'} written to the split as "
            f"{'it is' if one else 'they are'}, which `lightsplit check` warns of; "
            "write integer labels"
            + (
                " (`0` and `1`, not `false` and `true`)"
                if {"true", "false"} & set(map(class_name, other))
                else ""
            )
            + " or class names"
        )
    if missing:
        shown = ", ".join(f"{class_name(c)} ({n} entries)" for c, n in missing)
        said.append(
            f"the class{'es' if len(missing) > 1 else ''} {shown} "
            f"{'read' if len(missing) > 1 else 'reads'} as a missing value: "
            "such entries are split as a class of their own; give each its "
            "label, or leave the label empty (an entry without a label)"
        )
    return tuple(said)


def _classes_named(classes: Sequence[Hashable]) -> str:
    """Return ``the class X is`` or ``the classes X and Y are`` (a few named)."""
    shown = [class_name(c) for c in classes[:MAX_LISTED]]
    if len(classes) == 1:
        return f"the class {shown[0]} is"
    more = len(classes) - len(shown)
    listed = (
        ", ".join(shown[:-1]) + f" and {shown[-1]}"
        if not more
        else (", ".join(shown) + f" and {more} more")
    )
    return f"the classes {listed} are"


def _odd_groups(
    field: str, names: Sequence[str], kept: Sequence[int], where: Sequence[str]
) -> tuple[str, ...]:
    """Say which groups the group field ``field`` holds may be no patients.

    ``names`` are the groups of the entries ``kept`` (their positions), whose
    origins ``where`` gives: one number written several ways (``17``,
    ``"0017"``), values that read as missing (`odd_groups`). The different
    groups are judged once; their entries are looked for only when one is odd.
    """
    ordered = sorted(zip(kept, names, strict=True))  # in input order
    groups: list[str | None] = [name for _, name in ordered]
    named = file_entries(groups)
    files = (
        files_message(
            field,
            groups,
            named,
            lambda i: where[ordered[i][0]],
            consequence="so the split is by image, not by patient",
        )
        if named
        else None
    )
    odd = odd_groups(set(names))
    if not odd:
        return () if files is None else (files,)
    values = odd.values
    found: dict[str, list[str]] = {}
    counts: Counter[str] = Counter()
    for p, name in ordered:
        if name in values:
            counts[name] += 1
            listed = found.setdefault(name, [])
            if len(listed) < MAX_LISTED:
                listed.append(where[p])
    said = [
        spellings_message(
            field,
            odd,
            found,
            counts,
            consequence="so each spelling is a group (a patient) of its own, "
            "which may go to another set",
        ),
        missing_message(
            field,
            odd,
            found,
            counts,
            consequence="the entries of such a group all go to one set; give each "
            "entry its patient, or remove the entries that have none",
        ),
    ]
    return tuple(text for text in [files, *said] if text is not None)


def _unclear(
    index: SetFields, kind: LabelKind, kept: Sequence[tuple[str, object, object]]
) -> str | None:
    """Say why list labels read neither way (`unclear_list_labels`).

    The entries unlike most are named (the one vector of another length among
    many), in input order.
    """
    why = unclear_list_labels(index.tally, kind)
    if why is None:
        return None
    odd = odd_list_labels(index.tally)
    found = [
        f"{origin} {preview(entry)}"
        for origin, entry, label in kept
        if isinstance(label, list | tuple) and tally_key(label) in odd
    ]
    if not found:
        return why
    return f"{why}; unlike the others: {first_few(found, separator='; ')}"


def _mixed(index: SetFields, kept: Sequence[tuple[str, object, object]]) -> str | None:
    """Say which labels are lists among others, or others among lists, if any."""
    mixed = mixed_labels(index.tally)
    if mixed is None:
        return None
    lists_fewer, count = mixed
    found = [
        f"{origin} {preview(entry)}"
        for origin, entry, label in kept
        if label is not None and is_list_key(tally_key(label)) == lists_fewer
    ]
    listed = first_few(found, total=count, separator="; ")
    return f"{mixed_message(count, lists_fewer=lists_fewer)}: {listed}; {MIXED_FIX}"


_NO_VALUE: Final = frozenset({"missing", "null", "empty"})
"""What `EntryFields.no_path` says of a path field that holds no value."""


def _pathless(fields: EntryFields, entries: Sequence[object]) -> list[int]:
    """Return the positions of the entries whose path field holds no value.

    Such an entry (a table's row whose path cell is empty) names no file: it
    would be compared whole and written with ``null`` for its path. Without a
    path field, none: an entry's path is its first string, if it has one.
    """
    if fields.path_field is None:
        return []
    return [p for p, e in enumerate(entries) if fields.no_path(e) in _NO_VALUE]


def _unheld_paths(
    fields: EntryFields,
    entries: Sequence[object],
    where: Sequence[str],
    pathless: Sequence[int],
) -> str:
    """Say which entries the path field holds no path in (at most 5), fix once."""
    listed = [f"  {where[p]}: {preview(entries[p])}" for p in pathless[:MAX_LISTED]]
    if len(pathless) > MAX_LISTED:
        listed.append(f"  and {len(pathless) - MAX_LISTED} more")
    return (
        f"the path field `{fields.path_field}` holds no path (it is missing, empty "
        f"or null) in {len(pathless)} of {len(entries)} entries; give each entry "
        "its file, or remove it:\n" + "\n".join(listed)
    )


def _ungrouped(
    fields: EntryFields,
    entries: Sequence[object],
    where: Sequence[str],
    ungrouped: Sequence[int],
    paths: int,
    *,
    columns: Sequence[str] = (),
) -> str:
    """Say which paths the group pattern finds no group in (at most 5), fix once.

    With a group field (named by its column in ``columns``): which entries it
    holds no group in.
    """
    pattern = fields.group_pattern.pattern if fields.group_pattern else ""
    first = sorted(ungrouped)[:MAX_LISTED]  # in input order
    listed = [f"  {where[p]}: {preview(entries[p])}" for p in first]
    if fields.group_field is None:  # where the path searched is not the one written
        written = [fields.path(entries[p]) for p in first]
        listed = [
            line
            if path is None or normalize_path(path) == path
            else f"{line} (searched as `{printable(normalize_path(path))}`)"
            for line, path in zip(listed, written, strict=False)
        ]
    if len(ungrouped) > MAX_LISTED:
        listed.append(f"  and {len(ungrouped) - MAX_LISTED} more")
    if fields.group_field is not None:
        return (
            f"the group field `{field_shown(fields.group_field, columns)}` holds "
            "no group (it is "
            f"missing, empty or null) in {len(ungrouped)} of {paths} entries; give "
            "each entry its group (a patient), or remove it:\n" + "\n".join(listed)
        )
    return (
        f"the group pattern `{pattern}` finds no group in {len(ungrouped)} of "
        f"{paths} paths (searched as normalised: no `./`, `..` or repeated `/`); "
        "fix the pattern so that it finds the group in every path:\n"
        + "\n".join(listed)
    )


def _named_fields(
    entries: Sequence[object],
    *,
    path_field: FieldName | None,
    label_field: FieldName | None,
    group_pattern: str | re.Pattern[str] | None,
    group_field: FieldName | None,
    label_separator: str | None,
) -> EntryFields:
    """Return the fields named, refusing one that no entry holds.

    Raises:
        ValueError: for such a field, a group pattern that is no regular
            expression, both a group pattern and a group field, or a label
            separator that is no text.
    """
    same = one_field_for_both(path_field, label_field) or one_way_to_group(
        group_pattern, group_field
    )
    if same is not None:
        raise ValueError(same)
    pattern = None if group_pattern is None else compile_group_pattern(group_pattern)
    fields = EntryFields(path_field, label_field, pattern, group_field, label_separator)
    problem = fields_not_held(entries, fields)
    if problem is not None:
        raise ValueError(problem)
    return fields


def _too_few(pool: SplitPool[RawT], sets: int, what: str) -> SplittingError:
    groups = len(pool.groups)
    noun = "group" if groups == 1 else "groups"
    repeats = ""
    held, finds = (
        ("", "a group pattern that finds more groups")
        if pool.group_field is None
        else (
            f" (the different values of the group field `{pool.shown_group_field}`)",
            "a group field that holds more groups",
        )
    )
    if pool.dropped:  # such as a path field that names no file: one "path" for many
        given = len(pool.entries) + pool.dropped
        repeats = (
            f"; {pool.dropped} of the {given} entries were left out as repeats of "
            "another's path and label, so check that the path read (the first "
            "string, or the path field given) names each entry's own file"
        )
    return SplittingError(
        f"cannot make {sets} {what} from {groups} {noun}{held}: every {what[:-1]} "
        f"needs a group; give more entries (or {finds}){repeats}"
    )


def split_samples(
    entries: Sequence[RawT],
    *,
    fractions: Sequence[float | str | Fraction] = (0.7, 0.15, 0.15),
    seed: int = 0,
    group_pattern: str | re.Pattern[str] | None = None,
    path_field: FieldName | None = None,
    label_field: FieldName | None = None,
    group_field: FieldName | None = None,
    label_separator: str | None = None,
) -> DatabaseSplit[RawT]:
    r"""Split entries into `train`, `validation` and `test` by fractions.

    Whole groups go to one set each; each set gets its fraction of every
    class as nearly as the groups allow (within one entry per class when each
    entry is its own group). Entries naming one file (the same normalised path)
    with one label are kept once; no set is left empty.

    Args:
        entries: the entries to split, such as ``["images/0001_000.png", 1]``.
        fractions: of the entries for `train`, `validation` and `test` (three),
            or for `train` and `test` (two); each above 0, adding up to 1.
            Floats are read as written: ``0.15`` is 3/20 (floats computed in
            floats that miss 1 by their rounding alone, ``1 - 0.8``, are read
            to 12 decimal places, which adds them up to 1).
        seed: the same entries, options and seed give the same split.
        group_pattern: a regular expression whose named group ``group`` (else
            first group, else whole match) finds an entry's group in its path;
            by default each file is its own group.
        path_field: the position or key of the path; by default the first
            string of each entry.
        label_field: the position or key of the label; by default the item
            after the path, or the ``label`` key.
        group_field: the position or key of an entry's group (a table's
            ``PatientID`` column, say), read as text (``17`` and ``"17"`` are
            one group), instead of ``group_pattern``.
        label_separator: where labels are text joining several names (NIH's
            findings, ``"Effusion|Nodule"``), the text between them, such as
            ``"|"``: each such label is stratified as the list of its names
            (multi-label), the entries written as they are.

    Returns:
        The split, each set's entries sorted by path.

    Raises:
        TypeError: for entries that are no sequence (a split: pool its sets),
            fractions given as a string, or a seed that is no `int`.
        ValueError: for fractions that are not 2 or 3 numbers above 0 adding up
            to 1, a negative seed, a group pattern that is no regular
            expression, both a group pattern and a group field, a path,
            label or group field named that no entry holds, or an empty label
            separator.
        SplittingError: for an entry whose path field (if named) holds no
            path (it is missing, empty or null), a file listed with different
            labels, a path the group pattern finds no group in (an entry whose
            group field holds none), or fewer groups than sets.

    Examples:
        >>> entries = [[f"p{i // 2}/{i}.png", i % 2] for i in range(20)]
        >>> split = split_samples(entries, fractions=[0.6, 0.2, 0.2], seed=1,
        ...                       group_pattern=r"p(\d+)/")
        >>> {name: len(samples) for name, samples in split.items()}
        {'train': 12, 'validation': 4, 'test': 4}

        Rows of a table, grouped by their patient (the third item):

        >>> rows = [[f"{i}.png", i % 2, f"P{i // 2}"] for i in range(20)]
        >>> split = split_samples(rows, fractions=[0.5, 0.5], group_field=2)
        >>> {row[2] for row in split["train"]} & {row[2] for row in split["test"]}
        set()
    """
    check_entries(entries, seed)
    shares = parse_fractions(fractions)
    fields = _named_fields(
        entries,
        path_field=path_field,
        label_field=label_field,
        group_pattern=group_pattern,
        group_field=group_field,
        label_separator=label_separator,
    )
    return split_pool(pool_samples(entries, fields, seed=seed), shares)


def split_pool(
    pool: SplitPool[RawT], shares: Sequence[Fraction]
) -> DatabaseSplit[RawT]:
    """Split a pool by fractions (see `split_samples`).

    Raises:
        SplittingError: if there are fewer groups than sets.
    """
    return pool.sets(fraction_assignment(pool, shares), FRACTION_SETS[len(shares)])


def fraction_assignment(
    pool: SplitPool[RawT], shares: Sequence[Fraction]
) -> dict[int, int]:
    """Return the set of each group of a split by fractions (see `split_samples`).

    Raises:
        SplittingError: if there are fewer groups than sets.
    """
    denominator = lcm(*(share.denominator for share in shares))
    weights = [int(share * denominator) for share in shares]
    if len(pool.groups) < len(weights):
        raise _too_few(pool, len(weights), "sets")
    placed = assign_groups(pool.groups, pool.order, weights, pool.class_totals)
    fill_empty_sets(placed, pool.groups, len(weights))
    return placed


def fold_assignments(pool: SplitPool[RawT], folds: int) -> list[dict[int, int]]:
    """Return, for each file of a k-fold split, the set of each group.

    The groups are first dealt into ``folds`` stratified folds; file ``i``
    tests on fold ``i`` and validates on the next fold, ``i + 1`` (the first
    for the last file), training on the others: each group is validated on in
    one file and trained on in ``folds - 2``, as in every test fold rotation.
    The folds are first ordered so that adjacent ones pair well (`_fold_cycle`,
    up to `_ORDERED_FOLDS` folds). With one label per entry, where the
    next fold would still leave the training or validation set one entry or
    more off its share of a class, and a validation set carved from the other
    folds (stratified, as `split_samples` carves) would not, the carved one is
    taken, each file ordering the groups
    of equal standing its own way, so that validation sets still vary (see
    `carved_files`). Multi-label entries keep the rotation: no carving keeps
    every set of them within one entry of its share of every class.

    Raises:
        SplittingError: if there are fewer groups than folds.
    """
    if len(pool.groups) < folds:
        raise _too_few(pool, folds, "folds")
    fold_of = assign_groups(pool.groups, pool.order, [1] * folds, pool.class_totals)
    fill_empty_sets(fold_of, pool.groups, folds)
    rank = {g: position for position, g in enumerate(pool.order)}
    single = sum(pool.class_totals) == len(pool.entries)  # one class per entry
    if folds <= _ORDERED_FOLDS:
        cycle = _fold_cycle(pool, fold_of, folds, single=single)
        number = {fold: position for position, fold in enumerate(cycle)}
        fold_of = {g: number[f] for g, f in fold_of.items()}
    files = []
    for fold in range(folds):
        after = (fold + 1) % folds
        rotated = {g: int(f == after) for g, f in fold_of.items() if f != fold}
        if single and _worst_gap(pool, rotated, [folds - 2, 1], folds) >= 1:
            carved = _carved(pool, fold_of, fold, folds, rank)
            if _worst_gap(pool, carved, [folds - 2, 1], folds) < 1:
                rotated = carved  # within one entry of every share, as promised
        placed = {g: 2 for g, where in fold_of.items() if where == fold}
        files.append(placed | rotated)
    return files


_ORDERED_FOLDS: Final = 10
"""Folds up to which their order is chosen so that fewer files carve (`_fold_cycle`)."""


def _fold_cycle(
    pool: SplitPool[RawT], fold_of: dict[int, int], folds: int, *, single: bool
) -> list[int]:
    """Return the folds in the order whose adjacent folds pair best.

    File ``i`` tests on the ``i``-th fold of the order and validates on the
    next: the training set is what the two leave. With one label per entry,
    its error on a class is minus the sum of theirs, and pairing a fold short
    of a class with one over it keeps the training set within one entry where
    the plain order would not: a good pair leaves every class's training and
    validation counts within one entry of their shares, and fewer files carve.
    With several labels per entry (no carving), a pair is bad by the classes
    it holds all of: a class of two patients, in adjacent folds, is missing
    from one file's training set, and in folds apart, from none. Of the cyclic
    orders (each fold once), the one whose pairs are best in all is taken,
    found over the subsets of folds; the plain order when it is as good, so
    that folds which pair well keep their numbers.
    """
    counts = _set_counts(pool, fold_of, folds)
    totals = pool.class_totals

    def good(test: int, validation: int) -> bool:  # as in `fold_assignments`
        train = [
            total - counts[test][c] - counts[validation][c]
            for c, total in enumerate(totals)
        ]
        return _counts_gap(pool, [train, counts[validation]], [folds - 2, 1], folds) < 1

    def untrained(test: int, validation: int) -> int:  # classes the pair holds all of
        return sum(
            1
            for c, total in enumerate(totals)
            if total and counts[test][c] + counts[validation][c] == total
        )

    pairs = [
        [int(good(t, v)) if single else -untrained(t, v) for v in range(folds)]
        for t in range(folds)
    ]
    plain = sum(pairs[f][(f + 1) % folds] for f in range(folds))
    if plain == (folds if single else 0):  # no order pairs better
        return list(range(folds))
    # best[mask][last]: the best pairs on a path from fold 0 through ``mask``
    best: dict[tuple[int, int], tuple[int, int]] = {(1, 0): (0, -1)}
    for mask in range(1, 1 << folds):
        for last in range(folds):
            found = best.get((mask, last))
            if found is None:
                continue
            for following in range(folds):
                if mask >> following & 1:
                    continue
                key = (mask | 1 << following, following)
                score = found[0] + pairs[last][following]
                if key not in best or score > best[key][0]:
                    best[key] = (score, last)
    full = (1 << folds) - 1
    last = max(range(1, folds), key=lambda f: (best[full, f][0] + pairs[f][0], -f))
    if best[full, last][0] + pairs[last][0] <= plain:
        return list(range(folds))
    cycle, mask = [], full
    while last != -1:
        cycle.append(last)
        mask, last = mask & ~(1 << last), best[mask, last][1]
    return cycle[::-1]


def carved_files(placements: Sequence[dict[int, int]]) -> list[int]:
    """Return the files of a k-fold split that validate on a carved set.

    ``placements`` are `fold_assignments`: file ``i`` validates on the fold that
    file ``i + 1`` tests on, unless its validation set was carved from the
    other folds.

    Examples:
        >>> carved_files([{0: 2, 1: 1, 2: 0}, {0: 0, 1: 2, 2: 1}, {0: 0, 1: 1, 2: 2}])
        [2]
    """
    found = []
    for file, placed in enumerate(placements):
        after = placements[(file + 1) % len(placements)]
        validated = {g for g, where in placed.items() if where == 1}
        if validated != {g for g, where in after.items() if where == 2}:  # noqa: PLR2004 - the test set
            found.append(file)
    return found


def _carved(
    pool: SplitPool[RawT],
    fold_of: dict[int, int],
    fold: int,
    folds: int,
    rank: dict[int, int],
) -> dict[int, int]:
    """Carve training and validation sets from the folds but ``fold``.

    Groups of equal standing are ordered by a hash of the file and their place
    in the pool's order: each file carves its own validation set.
    """
    ties = [
        hashlib.blake2b(f"{fold}:{rank[g]}".encode(), digest_size=8).digest()
        for g in range(len(pool.groups))
    ]
    order = group_order(pool.groups, pool.class_totals, ties)
    rest = [g for g in order if fold_of[g] != fold]
    carved = assign_groups(
        pool.groups,
        rest,
        [folds - 2, 1],
        pool.class_totals,
        denominator=folds,
        size_total=len(pool.entries),
    )
    fill_empty_sets(carved, pool.groups, 2)
    return carved


def _worst_gap(
    pool: SplitPool[RawT],
    placed: dict[int, int],
    weights: Sequence[int],
    denominator: int,
) -> Fraction:
    """Return how far the sets of ``placed`` are, at worst, from their shares.

    Set ``s`` aims at ``weights[s] / denominator`` of every class's entries;
    the gap is in entries.
    """
    counts = _set_counts(pool, placed, len(weights))
    return _counts_gap(pool, counts, weights, denominator)


def _set_counts(
    pool: SplitPool[RawT], placed: dict[int, int], sets: int
) -> list[list[int]]:
    """Return the entries of each class in each of the ``sets`` of ``placed``."""
    counts = [[0] * len(pool.class_totals) for _ in range(sets)]
    for g, where in placed.items():
        for c, count in pool.groups[g].classes:
            counts[where][c] += count
    return counts


def _counts_gap(
    pool: SplitPool[RawT],
    counts: Sequence[Sequence[int]],
    weights: Sequence[int],
    denominator: int,
) -> Fraction:
    """Return how far sets of class ``counts`` are, at worst, from their shares."""
    return max(
        (
            abs(counts[s][c] - Fraction(weights[s] * total, denominator))
            for s in range(len(weights))
            for c, total in enumerate(pool.class_totals)
        ),
        default=Fraction(0),
    )


def split_folds(
    entries: Sequence[RawT],
    *,
    folds: int = 5,
    seed: int = 0,
    group_pattern: str | re.Pattern[str] | None = None,
    path_field: FieldName | None = None,
    label_field: FieldName | None = None,
    group_field: FieldName | None = None,
    label_separator: str | None = None,
) -> tuple[DatabaseSplit[RawT], ...]:
    r"""Make ``folds`` splits, each testing on its own fold of the entries.

    The groups are dealt into ``folds`` stratified folds, so that each entry
    is in the `test` set of exactly one split. Split ``i`` tests on fold ``i``
    and validates on fold ``i + 1`` (the last on fold 0), training on the
    rest: each entry is validated on once and trained on ``folds - 2`` times.
    With one label per entry, where the next fold would leave `train` or
    `validation` one entry or more off its share of a class, and a
    `validation` set carved from the other folds would not, that one is taken
    (stratified, groups whole, as `split_samples`).

    Args:
        entries: the entries to split.
        folds: how many splits (and folds), at least 3.
        seed: the same entries, options and seed give the same splits.
        group_pattern: finds an entry's group in its path (see `split_samples`).
        path_field: the position or key of the path.
        label_field: the position or key of the label.
        group_field: the position or key of an entry's group, instead of
            ``group_pattern`` (see `split_samples`).
        label_separator: the text between the names a label joins, such as
            ``"|"`` (see `split_samples`).

    Returns:
        The splits, fold 0 first.

    Raises:
        TypeError: for entries that are no sequence (a split: pool its sets),
            or folds or a seed that are no `int`.
        ValueError: for fewer than 3 folds, a negative seed, a group pattern
            that is no regular expression, both a group pattern and a group
            field, a path, label or group field named that no entry holds, or
            an empty label separator.
        SplittingError: for an entry whose path field (if named) holds no
            path (it is missing, empty or null), a file listed with different
            labels, a path the group pattern finds no group in (an entry whose
            group field holds none), or fewer groups than folds.

    Examples:
        >>> entries = [[f"{i}.png", i % 2] for i in range(30)]
        >>> splits = split_folds(entries, folds=3)
        >>> [len(split["test"]) for split in splits]
        [10, 10, 10]
    """
    check_entries(entries, seed)
    check_folds(folds)
    fields = _named_fields(
        entries,
        path_field=path_field,
        label_field=label_field,
        group_pattern=group_pattern,
        group_field=group_field,
        label_separator=label_separator,
    )
    return fold_splits(pool_samples(entries, fields, seed=seed), folds)


def fold_splits(pool: SplitPool[RawT], folds: int) -> tuple[DatabaseSplit[RawT], ...]:
    """Make the splits of a k-fold split of a pool (see `split_folds`).

    Raises:
        SplittingError: if there are fewer groups than folds.
    """
    return tuple(
        pool.sets(placed, FOLD_SETS) for placed in fold_assignments(pool, folds)
    )
