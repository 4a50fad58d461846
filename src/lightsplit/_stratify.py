"""``assign_groups``: stratified assignment of whole groups to sets, in integers.

Each group (the entries of one patient, say) goes whole to one set. The target
of set ``s`` for class ``c`` is ``weights[s] / denominator`` of the class's
total, and as much of the entries. Groups are placed one at a time, in a given
order (`group_order`: the groups of the rarest classes first; where groups
of more than half the smallest set's target size exist, they are also placed
before all, largest first, and the placement closer to the targets is kept:
`_giants_first`), each in the set
where the chi-squared distance of the counts to their targets (the sum of
``(count - target)^2 / target`` over the classes and the size) grows least:
a rare class, or a small set, weighs as much as a common one. Ties go to the
set furthest below its target size, then to the first. Everything is computed
in integers, so that the same input gives the same sets on every machine.

When each entry has one class (single labels), a group of one entry goes to
a set below its target for its class (`_lone_set`): the one whose size lags
most behind its share, then the one furthest below its class target. So with
groups of one entry each (no groups, or a patient per image) and single
labels, every set ends within one entry of its target for every class, as
long as the targets add up to the entries placed, or to less by under one
entry. A set takes an entry only while below its target for the class, so no
set passes that target by a whole entry. And the entries of the class left
to place are never fewer than those that the sets a whole entry or more below
their targets need to come within one (their *needs*): at the start, the needs
add up to at most the targets, so at most the entries; while there are more
entries left than needs, some set is below its target (the targets left add
up to more than nothing), and an entry placed anywhere leaves at least as
many entries as needs; once there are as many, only a set with a need takes
the entry, which lowers both. So when none is left, no set is a whole entry
below its target. Classes of one or two entries then spread over the sets by
their sizes rather than all going to the largest set.
"""

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "GroupCounts",
    "assign_groups",
    "fill_empty_sets",
    "group_order",
    "key_class_of",
]


@dataclass(frozen=True, slots=True)
class GroupCounts:
    """The entries of one group, per class."""

    classes: tuple[tuple[int, int], ...]
    """``(class, entries)`` pairs: how many entries of the group have each class."""
    size: int
    """Entries in the group."""


def assign_groups(
    groups: Sequence[GroupCounts],
    order: Sequence[int],
    weights: Sequence[int],
    class_totals: Sequence[int],
    *,
    denominator: int | None = None,
    size_total: int | None = None,
) -> dict[int, int]:
    """Place the groups of ``order``, one at a time, each in one set.

    Args:
        groups: every group's counts.
        order: the groups to place (positions in ``groups``), in placing order.
        weights: one per set: set ``s`` aims at ``weights[s] / denominator`` of
            every class's total.
        class_totals: the total of each class that the targets are shares of.
        denominator: the weights' denominator; by default their sum.
        size_total: the entries that the target sizes are shares of (they only
            break ties); by default those of the groups of ``order``.

    Returns:
        Group -> set, for the groups of ``order``.

    Examples:
        >>> one = [GroupCounts(((0, 1),), 1)] * 4
        >>> assign_groups(one, range(4), [1, 1], [4])
        {0: 0, 1: 1, 2: 0, 3: 1}
    """
    scale = denominator or sum(weights)
    sets = range(len(weights))
    target = [[weight * total for total in class_totals] for weight in weights]
    if size_total is None:
        size_total = sum(groups[g].size for g in order)
    size_target = [weight * size_total for weight in weights]
    # A squared distance to a target t counts as (n - t)^2 / t (a chi-squared
    # distance): rare classes and small sets weigh as much as common ones. The
    # division is by an integer approximation, the same on every machine.
    unit = 1 << 40
    emphasis = [
        [unit // (weight * total) if weight * total else 0 for total in class_totals]
        for weight in weights
    ]
    size_emphasis = [unit // (weight * size_total or 1) for weight in weights]

    # With one class per entry, a lone entry goes where `_lone_set` says (or,
    # if no set is below its class target, where its class is furthest below);
    # with several classes (multi-label), each entry is placed as a group.
    single = all(sum(k for _, k in groups[g].classes) == groups[g].size for g in order)
    to_place = [0] * len(class_totals)  # entries of each class to place
    for g in order:
        for c, count in groups[g].classes:
            to_place[c] += count

    def place(sequence: Sequence[int]) -> tuple[dict[int, int], int]:
        """Place the groups in ``sequence``; return where, and the distance left."""
        # scale * (target - count) of each class and of the size, in each set
        gaps = [list(row) for row in target]
        size_gaps = list(size_target)
        remaining = list(to_place)  # entries of each class left to place
        placed: dict[int, int] = {}
        for g in sequence:
            group = groups[g]
            steps = [(c, scale * count) for c, count in group.classes]
            step = scale * group.size
            alone = single and group.size == 1
            lone = None
            if alone:
                lags = [
                    gap * weigh
                    for gap, weigh in zip(size_gaps, size_emphasis, strict=True)
                ]
                lone = _lone_set(steps[0][0], gaps, lags, remaining, scale)
            best = 0 if lone is None else lone
            best_key: tuple[int, int, int] | None = None
            for s in sets if lone is None else ():
                gap, weigh, size_gap = gaps[s], emphasis[s], size_gaps[s]
                # scale^2 * ((n + k - t)^2 - (n - t)^2): n the count, t the target
                cost = size_emphasis[s] * step * (step - 2 * size_gap)
                for c, c_step in steps:
                    cost += weigh[c] * c_step * (c_step - 2 * gap[c])
                if alone:  # the set furthest below its target for the entry's class
                    key = (-gap[steps[0][0]], cost, -size_gap)
                else:
                    key = (cost, 0, -size_gap)
                if best_key is None or key < best_key:
                    best, best_key = s, key
            placed[g] = best
            gap = gaps[best]
            for c, c_step in steps:
                gap[c] -= c_step
                remaining[c] -= c_step // scale
            size_gaps[best] -= step
        cost = sum(
            size_emphasis[s] * size_gaps[s] ** 2
            + sum(w * gap**2 for w, gap in zip(emphasis[s], gaps[s], strict=True))
            for s in sets
        )
        return placed, cost

    # Groups larger than half the smallest set placed first often leave the
    # others closer to their targets, but not always: the closer is kept (the
    # given order, of equal distances).
    placed, cost = place(order)
    giants = _giants_first(groups, order, weights, size_total, scale)
    if giants != list(order):
        first, first_cost = place(giants)
        if first_cost < cost:
            placed = first
    return placed


def _giants_first(
    groups: Sequence[GroupCounts],
    order: Sequence[int],
    weights: Sequence[int],
    size_total: int,
    scale: int,
) -> list[int]:
    """Return ``order`` with the groups larger than half the smallest set first.

    Such a group (one patient with many images) placed late, after the others
    filled the sets by their targets, leaves a set far past its target size
    and the others short. Placed first, largest first, in the set that suits
    it best, it leaves the others to fill around it.
    """
    smallest = min((weight for weight in weights if weight), default=0)
    if not smallest:
        return list(order)
    giants = [g for g in order if 2 * groups[g].size * scale > smallest * size_total]
    if not giants:
        return list(order)
    giants.sort(key=lambda g: -groups[g].size)  # stable: in ``order`` otherwise
    chosen = set(giants)
    return giants + [g for g in order if g not in chosen]


def _lone_set(
    c: int,
    gaps: Sequence[Sequence[int]],
    lags: Sequence[int],
    remaining: Sequence[int],
    scale: int,
) -> int | None:
    """Return the set for a lone entry of class ``c``: where the size most lags.

    ``lags`` says how far below its target size each set is, relative to that
    target (in the same integer unit for every set).

    Only sets below their target for ``c`` take it (so none passes it by a
    whole entry); once the entries of ``c`` left are all needed to bring sets
    a whole entry or more below up to within one, only those do (so none ends
    a whole entry below). Among them, the set furthest below its target size
    for its share, then below its target for ``c``, then the first: classes of
    one or two entries do not all pile into the largest set, leaving the
    others short.
    ``None`` when no set is below its target (earlier groups overshot): place
    it as a group.
    """
    needed = sum(max(0, gap[c] // scale) for gap in gaps)
    least = scale if remaining[c] <= needed else 1
    found = [s for s, gap in enumerate(gaps) if gap[c] >= least]
    if not found:
        return None
    return min(found, key=lambda s: (-lags[s], -gaps[s][c], s))


def key_class_of(group: GroupCounts, class_totals: Sequence[int]) -> tuple[int, int]:
    """Return a group's rarest class (the first, of equal totals) and its entries.

    Examples:
        >>> key_class_of(GroupCounts(((0, 3), (2, 1)), 3), [100, 50, 10])
        (2, 1)
    """
    return min(group.classes, key=lambda pair: (class_totals[pair[0]], pair[0]))


def group_order(
    groups: Sequence[GroupCounts], class_totals: Sequence[int], ties: Sequence[bytes]
) -> list[int]:
    """Order groups for `assign_groups`: the groups of the rarest classes first.

    Groups come by the total of their key class, rarest first; then by how many
    entries of it they hold, and by their size, largest first; then by ``ties``
    (one per group, such as a seeded hash of its name).

    Examples:
        >>> groups = [GroupCounts(((0, 1),), 1), GroupCounts(((1, 2),), 2)]
        >>> group_order(groups, [10, 5], [b"a", b"b"])
        [1, 0]
    """

    def rank(g: int) -> tuple[int, int, int, bytes]:
        key_class, count = key_class_of(groups[g], class_totals)
        return (class_totals[key_class], -count, -groups[g].size, ties[g])

    return sorted(range(len(groups)), key=rank)


def fill_empty_sets(
    placed: dict[int, int], groups: Sequence[GroupCounts], sets: int
) -> None:
    """Move groups into the sets left empty, from the sets with the most groups.

    Each empty set takes the smallest group (the last placed, of equal sizes) of
    the set with the most groups (the first, of equal counts). There must be
    at least as many groups as sets.

    Examples:
        >>> placed = {0: 0, 1: 0, 2: 0}
        >>> fill_empty_sets(placed, [GroupCounts((), 2), GroupCounts((), 1)] * 2, 3)
        >>> placed
        {0: 0, 1: 1, 2: 2}
    """
    members: list[list[int]] = [[] for _ in range(sets)]
    for group, where in placed.items():
        members[where].append(group)
    for empty in range(sets):
        if members[empty]:
            continue
        donor = max(range(sets), key=lambda s: (len(members[s]), -s))
        smallest = min(reversed(members[donor]), key=lambda group: groups[group].size)
        members[donor].remove(smallest)
        members[empty].append(smallest)
        placed[smallest] = empty
