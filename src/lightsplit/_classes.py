"""Classes of labels: single labels, lists of labels and multi-hot vectors.

How labels name classes is decided once for all the labels of a split:

- ``single``: each label is one class (``0``, ``"tb"``);
- ``multi-hot``: every label is a list of ``0`` and ``1`` of one length, as
  mednet writes multi-label targets; position ``i`` set means class ``i``;
- ``multi-label``: every label is a list of class names (``["Effusion", "Mass"]``).
"""

import json
import re
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, Context, Decimal
from itertools import chain
from typing import Final, Literal, TypeAlias

from ._entries import JsonKey, SetFields, label_key, tally_key
from ._types import SetName

__all__ = [
    "MIXED_FIX",
    "ClassCounts",
    "LabelKind",
    "LabelScheme",
    "SetStats",
    "class_name",
    "class_order",
    "count_classes",
    "is_list_key",
    "label_scheme",
    "label_spellings",
    "mixed_labels",
    "mixed_message",
    "number_of",
    "number_spellings",
    "number_text",
    "odd_list_labels",
    "reads_as_number",
    "set_stats",
    "unclear_list_labels",
]

LabelKind: TypeAlias = Literal["single", "multi-hot", "multi-label"]
"""How labels name classes (see the module's docstring)."""

ClassCounts: TypeAlias = dict[Hashable, int]
"""Class key -> how many entries have the class."""

_NUMBER: Final = re.compile(r"\s*[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?\s*")
"""A string that reads as a number: ``"0"``, ``" 1"``, ``"-2.5"``, ``"1e3"``."""


@dataclass(frozen=True, slots=True)
class LabelScheme:
    """How the labels of a split name classes."""

    kind: LabelKind
    """Single labels, multi-hot vectors or lists of class names."""
    width: int = 0
    """The length of every multi-hot vector (0 for the other kinds)."""

    def classes(self, label: object) -> tuple[Hashable, ...]:
        """Return the classes of one label, each once.

        Examples:
            >>> LabelScheme("multi-hot", 3).classes([0, 1, 1])
            (1, 2)
            >>> LabelScheme("single").classes("tb")
            ('tb',)
        """
        if self.kind == "single" or not isinstance(label, list | tuple):
            return (label_key(label),)
        if self.kind == "multi-hot":
            return tuple(i for i, value in enumerate(label) if value == 1)
        return tuple(dict.fromkeys(map(label_key, label)))


def label_scheme(tallies: Iterable[Mapping[Hashable, int]]) -> LabelScheme:
    """Decide how labels name classes, from their tallies (`tally_labels`).

    Examples:
        >>> from lightsplit._entries import tally_labels
        >>> label_scheme([tally_labels([0, 1, None])]).kind
        'single'
        >>> label_scheme([tally_labels([[0, 1, 0], [1, 0, 0]])])
        LabelScheme(kind='multi-hot', width=3)
        >>> label_scheme([tally_labels([["Mass"], [], ["Effusion", "Mass"]])]).kind
        'multi-label'
        >>> label_scheme([tally_labels([[0.0, 1.0], [1.0, 1.0]])])
        LabelScheme(kind='multi-hot', width=2)
    """
    labels = {key for tally in tallies for key in tally if key is not None}
    if not labels or not all(type(key) is tuple for key in labels):
        lists = all(map(is_list_key, labels))
        return LabelScheme("multi-label" if labels and lists else "single")
    widths = set(map(len, labels))  # type: ignore[arg-type]  # tuples
    items: list[object] = list(chain.from_iterable(labels))  # type: ignore[arg-type]  # tuples
    # 0.0 and 1.0 too: a table's 0/1 columns as pandas writes them when one
    # holds a missing value (`df.values.tolist()`), warned of where they are
    numbers = set(map(type, items)) <= {int, float}
    if len(widths) == 1 and numbers and set(items) <= {0, 1}:
        return LabelScheme("multi-hot", widths.pop())
    return LabelScheme("multi-label")


def unclear_list_labels(labels: Iterable[Hashable], kind: LabelKind) -> str | None:
    """Say why integer lists among tallied ``labels`` read neither way, if they do.

    A list of 0/1 is a multi-hot vector when all have one length; otherwise
    lists are lists of classes, which repeat none. ``kind`` is how the labels
    were read (`label_scheme`): only lists of classes are looked at.
    """
    if kind != "multi-label":
        return None  # one label each, or multi-hot vectors: clear
    labels = list(labels)
    spoilt = _spoilt_vectors(labels)
    if spoilt is not None:
        return spoilt
    lists = [
        key
        for key in labels
        if type(key) is tuple and key and all(type(x) is int for x in key)
    ]
    widths = sorted({len(key) for key in lists})
    zero_one = all(set(key) <= {0, 1} for key in lists)
    if len(widths) <= 1 and zero_one:
        return None  # no integer list, or multi-hot vectors
    if zero_one:
        shown = " and ".join(map(str, widths[:2]))
        return (
            f"are lists of 0 and 1 of several lengths ({shown}"
            f"{' ...' if len(widths) > 2 else ''}), so they are read as lists of "  # noqa: PLR2004 - two shown
            "classes, not as multi-hot vectors; give every vector one length (a "
            "place per class)"
        )
    if any(len(set(key)) < len(key) for key in lists):
        return (
            "are lists of integers that repeat a value, neither multi-hot vectors "
            "(0 and 1 alone, one length) nor lists of classes (each class once); "
            "write one of the two"
        )
    return None


def is_list_key(key: Hashable) -> bool:
    """Whether tallied label ``key`` is a list (of classes, or a 0/1 vector)."""
    return type(key) is tuple or (isinstance(key, JsonKey) and key.text[:1] == "[")


MIXED_FIX: Final = (
    "write every label one way: lists (of classes, or 0/1 vectors), or single "
    "labels; mixed, each list is read as a class of its own"
)
"""The fix said of list labels mixed with others."""


def mixed_message(count: int, *, lists_fewer: bool) -> str:
    """Say which labels are unlike the others, for `mixed_labels`' result."""
    if count == 1:
        unlike = "label is a list" if lists_fewer else "label is no list"
    else:
        unlike = "labels are lists" if lists_fewer else "labels are no lists"
    others = "single labels" if lists_fewer else "list labels"
    return f"{count} {unlike}, among {others}"


def mixed_labels(tally: Mapping[Hashable, int]) -> tuple[bool, int] | None:
    """Say whether list labels are mixed with others: which are fewer, how many.

    Returns ``(lists_are_fewer, count_of_the_fewer)``, or ``None`` when the
    labels are all lists or all not (``None`` labels aside). One
    ``"Atelectasis|Effusion"`` among lists of finding names makes every label a
    class of its own; the fewer kind is the one to fix.

    Examples:
        >>> mixed_labels({("Mass",): 3, (): 2, "Mass|Nodule": 1})
        (False, 1)
        >>> mixed_labels({0: 5, 1: 5}) is None
        True
    """
    counts = {True: 0, False: 0}  # lists, others
    for key, count in tally.items():
        if key is not None:
            counts[is_list_key(key)] += count
    lists, others = counts[True], counts[False]
    if not lists or not others:
        return None
    return (lists < others, min(lists, others))


_VECTOR_ITEMS: Final = (int, float, bool, type(None))
"""What a multi-hot vector's places may be written as, rightly or not."""


def _vector_like(key: Hashable) -> bool:
    """Whether tallied label ``key`` is a list of numbers, booleans or nulls."""
    return (
        type(key) is tuple and bool(key) and all(type(x) in _VECTOR_ITEMS for x in key)
    )


def _zero_or_one(value: object) -> bool:
    """Whether a vector's place is 0 or 1 (as ``0.0`` too, not ``true``)."""
    return type(value) in (int, float) and value in (0, 1)


def _zero_one(key: tuple[object, ...]) -> bool:
    """Whether every place of ``key`` is 0 or 1 (`_zero_or_one`)."""
    return all(map(_zero_or_one, key))


def _spoilt_vectors(labels: Sequence[Hashable]) -> str | None:
    """Say that a few vectors' other values made every vector a list of classes.

    Most list labels are 0/1 vectors of one length, but some hold another
    value (``0.5``, ``null`` as pandas writes a missing one, ``true``, ``2``):
    then no label reads as a multi-hot vector, and findings are not kept in
    proportion set by set.

    Examples:
        >>> said = _spoilt_vectors([(0, 1), (1, 0), (1, 1), (0.5, 1), (None, 0)])
        >>> said[68:91]
        '(such as `0.5`, `null`)'
    """
    vectors: list[tuple[object, ...]] = [
        key  # type: ignore[misc]  # a tuple, as `_vector_like` tells
        for key in labels
        if _vector_like(key)
    ]
    widths = {len(key) for key in vectors}
    plain = [key for key in vectors if _zero_one(key)]
    if len(widths) != 1 or len(plain) * 2 <= len(vectors) or min(widths) < 2:  # noqa: PLR2004 - a pair at the least
        return None
    values = {
        json.dumps(x): None for key in vectors for x in key if not _zero_or_one(x)
    }
    if not values:
        return None
    shown = ", ".join(f"`{v}`" for v in list(values)[:3])
    named = " and ".join(f"`{v}`" for v in list(values)[:2])
    return (
        f"are lists of one length whose places hold other values than 0 and 1 "
        f"(such as {shown}), so that none is read as a multi-hot vector (each is "
        f"a list of classes, {named} among them); write 0 or 1 in every place "
        "(0 where a finding is unknown)"
    )


def odd_list_labels(labels: Iterable[Hashable]) -> frozenset[Hashable]:
    """Return the integer list labels that differ from most: the ones to fix.

    Among lists of 0 and 1 (read by `unclear_list_labels` as vectors of several
    lengths), those not of the most common length, where one is; and any
    integer list that holds another value than 0 and 1 (a ``2`` in a vector).

    Examples:
        >>> sorted(odd_list_labels([(0, 1, 0), (1, 0, 0), (1, 0), (0, 2, 0)]))
        [(0, 2, 0), (1, 0)]
    """
    lists: list[tuple[object, ...]] = [
        key  # type: ignore[misc]  # a tuple, as `_vector_like` tells
        for key in labels
        if _vector_like(key)
    ]
    zero_one = {key for key in lists if _zero_one(key)}
    widths = Counter(len(key) for key in zero_one).most_common(2)
    tie = len(widths) > 1 and widths[0][1] == widths[1][1]
    common = widths[0][0] if widths and not tie else None  # no length is most
    return frozenset(
        key
        for key in lists
        if key not in zero_one or (common is not None and len(key) != common)
    )


def count_classes(
    tally: Mapping[Hashable, int], scheme: LabelScheme
) -> ClassCounts | None:
    """Count the labelled entries of each class; ``None`` if none has a label.

    Examples:
        >>> from lightsplit._entries import tally_labels
        >>> count_classes(tally_labels([1, 0, 1]), LabelScheme("single"))
        {1: 2, 0: 1}
        >>> count_classes(tally_labels([1, None]), LabelScheme("single"))
        {1: 1}
        >>> count_classes(tally_labels([None, None]), LabelScheme("single")) is None
        True
        >>> count_classes(tally_labels([[0, 1], [0, 0]]), LabelScheme("multi-hot", 3))
        {0: 0, 1: 1, 2: 0}
    """
    if None in tally and len(tally) == 1:
        return None
    # every position of a multi-hot vector is a class, even one never set
    counts: ClassCounts = dict.fromkeys(range(scheme.width), 0)
    for label, number in tally.items():
        if label is None:
            continue
        classes = (label,) if isinstance(label, JsonKey) else scheme.classes(label)
        for key in classes:
            counts[key] = counts.get(key, 0) + number
    return counts


def reads_as_number(text: str) -> bool:
    """Whether ``text`` reads as a number, as a label written in quotes would.

    Examples:
        >>> reads_as_number("0"), reads_as_number(" -2.5"), reads_as_number("tb")
        (True, True, False)
    """
    return _NUMBER.fullmatch(text) is not None


_EXACT: Final = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN)
"""Normalizes numbers without rounding (the default context keeps 28 digits, so
that ``10**30`` and ``10**30 + 1`` would be one number)."""


def number_of(text: str) -> Decimal:
    """Return the number ``text`` reads as (`reads_as_number`), normalized.

    One number written several ways gives one value.

    Examples:
        >>> number_of("0017") == number_of(" 17.0") == number_of("1.7e1")
        True
    """
    return Decimal(text.strip()).normalize(_EXACT)


def _number(key: Hashable) -> Decimal | None:
    """The number a class key reads as (``1``, ``1.0``, ``"01"``, ``true``), if any."""
    if isinstance(key, int):
        return Decimal(key)
    text = key if isinstance(key, str) else key.text if isinstance(key, JsonKey) else ""
    if text in {"true", "false"} and isinstance(key, JsonKey):
        return Decimal(text == "true")
    if not reads_as_number(text):
        return None
    try:
        return Decimal(text.strip())
    except ArithmeticError:  # an exponent beyond what `decimal` holds
        return None


_WRITTEN_OUT: Final = 20
"""Digits before (or zeros after) the point of the largest (smallest) number a
message writes out: others are written with an exponent (``1E+400``)."""


def number_text(number: Decimal) -> str:
    """Return ``number`` as a message writes it: ``0.5``, ``1E+400`` when long.

    Examples:
        >>> number_text(number_of("0.50")), number_text(number_of("1e400"))
        ('0.5', '1E+400')
    """
    if abs(number.adjusted()) > _WRITTEN_OUT:
        return str(number)
    return f"{number:f}"


def label_spellings(labels: Sequence[object]) -> str | None:
    """Say which of one file's labels are one number written several ways, if any.

    Examples:
        >>> print(label_spellings([1, 1.0]))
        labels 1 and 1.0 are one number (1) written 2 ways
        >>> print(label_spellings([[0, 1], [0.0, 1.0]]))
        labels [0, 1] and [0.0, 1.0] are one vector written 2 ways
        >>> label_spellings([0, 1]) is None
        True
    """
    vectors = [label for label in labels if isinstance(label, list | tuple)]
    if len(vectors) > 1 and len(vectors) == len(labels) and all(map(_numbers, vectors)):
        values = {tuple(label) for label in vectors}
        if len(values) == 1:  # equal by value: 1.0 == 1
            shown = [json.dumps(label) for label in vectors]
            listed = ", ".join(shown[:-1]) + f" and {shown[-1]}"
            return f"labels {listed} are one vector written {len(shown)} ways"
    return number_spellings([tally_key(label) for label in labels])


def _numbers(label: Sequence[object]) -> bool:
    """Whether ``label`` holds numbers alone (no `bool`), as a vector does."""
    return all(type(item) in (int, float) for item in label)


def number_spellings(classes: Sequence[Hashable]) -> str | None:
    """Say which classes are one number written several ways, if any are.

    Such labels (``1``, ``1.0``, ``"01"``, ``" 1"``, ``true``) are told apart,
    as a loader would not: each spelling is a class of its own.

    Examples:
        >>> print(number_spellings([0, 1, JsonKey("1.0"), "01"]))
        labels 1, 1.0 and "01" are one number (1) written 3 ways
        >>> number_spellings([0, 1, "tb"]) is None
        True
        >>> number_spellings([10**30, 10**30 + 1]) is None
        True
    """
    found: dict[Decimal, list[Hashable]] = {}
    for key in classes:
        number = _number(key)
        if number is not None:
            found.setdefault(number.normalize(_EXACT), []).append(key)
    said = []
    for number, keys in found.items():
        if len(keys) > 1:
            shown = [class_name(key) for key in keys]
            listed = ", ".join(shown[:-1]) + f" and {shown[-1]}"
            said.append(
                f"labels {listed} are one number ({number_text(number)}) written "
                f"{len(keys)} ways"
            )
    return "; ".join(said) or None


def class_order(key: Hashable) -> tuple[int, int, str]:
    """Sort classes: integers by value, then strings, then other values.

    Examples:
        >>> sorted([10, "b", 2, "a"], key=class_order)
        [2, 10, 'a', 'b']
    """
    if isinstance(key, int):
        return (0, key, "")
    if isinstance(key, str):
        return (1, 0, key)
    return (2, 0, class_name(key))


def class_name(key: Hashable) -> str:
    """Return how a class is shown: its label, quoted when it reads as another.

    A string is quoted when it reads as a number or as JSON (``"true"``,
    ``"null"``, ``"[1, 0]"``): a label ``true`` and a label ``"true"`` are two
    classes, with two names.

    Examples:
        >>> class_name(3), class_name("tb"), class_name("3")
        ('3', 'tb', '"3"')
        >>> class_name(JsonKey("true")), class_name("true")
        ('true', '"true"')
    """
    if isinstance(key, int):
        return str(key)
    if isinstance(key, str):
        return f'"{key}"' if _reads_as_other(key) else key
    if isinstance(key, JsonKey):
        return key.text
    return repr(key)  # pragma: no cover - every key comes from label_key


def _reads_as_other(text: str) -> bool:
    """Whether a string label reads as a label of another type (or is empty)."""
    if not text or reads_as_number(text):
        return True
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


@dataclass(frozen=True, slots=True)
class SetStats:
    """The size of one set: entries, groups and entries of each class."""

    entries: int
    """Entries in the set."""
    groups: int | None
    """Different groups among them; ``None`` without a group pattern."""
    class_counts: ClassCounts | None
    """Class -> labelled entries with it; ``None`` if no entry has a label."""
    unlabelled: int
    """Entries without a label."""
    classless: int = 0
    """Entries whose multi-label label holds no class (``[]``, NIH's "no
    finding", or a vector of zeros)."""


def set_stats(
    index: Mapping[SetName, SetFields], scheme: LabelScheme
) -> dict[SetName, SetStats]:
    """Count the entries, groups and classes of each set, from its fields."""
    return {
        name: SetStats(
            len(fields.paths),
            None if fields.group_set is None else len(fields.group_set),
            count_classes(fields.tally, scheme),
            fields.tally.get(None, 0),
            _classless(fields.tally, scheme),
        )
        for name, fields in index.items()
    }


def _classless(tally: Mapping[Hashable, int], scheme: LabelScheme) -> int:
    """Count the labelled entries with no class: only multi-label ones can be."""
    if scheme.kind == "single":
        return 0
    return sum(
        number
        for label, number in tally.items()
        if label is not None
        and not isinstance(label, JsonKey)
        and not scheme.classes(label)
    )
