"""``assign_groups``: stratified assignment of whole groups to sets, in integers.

Each group (the entries of one patient, say) goes whole to one set. The target
of set ``s`` for class ``c`` is ``weights[s] / denominator`` of the class's
total. Groups are placed one at a time, in a given order (`group_order`: the
groups of the rarest classes first), each in the set where it brings its *key
class* (the rarest class among its entries) closest to its target: the set
whose squared distance to that target grows least. As in the iterative
stratification of Sechidis et al. (2011) for multi-label data, a rare class is
so dealt out by its own needs, not by those of the common classes its entries
also have. Ties go to the set where the squared distances of all the group's
classes, each weighed by the inverse of the class total, grow least; then to
the set furthest below its target size; then to the first. Everything is
computed in integers, so that the same input gives the same sets on every
machine.

With groups of one entry of one class each (no groups, or a patient per
image), every set ends within one entry of its target for every class, as
long as the targets add up to the entries placed, or to less by under one
entry. Each entry goes to the set furthest below its target for its class,
which is then below it by more than nothing (the targets left add up to more
than nothing): so no set ever passes its target by a whole entry. And a set
still a whole entry below its target at the end was so all along: every later
entry went to a set at least as far below, which therefore ends at or below
its own target, and the targets would add up to more than a whole entry above
what was placed.
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
    # Each class's squared distance counts in proportion to 1 / its total, so
    # that rare classes are balanced as well as common ones (in integers).
    unit = (1 << 16) * max(class_totals, default=1)
    emphasis = [unit // total if total else 0 for total in class_totals]
    have = [[0] * len(class_totals) for _ in sets]  # scale * entries of each class
    size_have = [0] * len(weights)  # scale * entries
    placed: dict[int, int] = {}
    for g in order:
        group = groups[g]
        key_class, key_count = key_class_of(group, class_totals)
        key_step = scale * key_count
        best = 0
        best_key: tuple[int, int, int] | None = None
        for s in sets:
            wanted, got = target[s], have[s]
            # scale^2 * ((n + k - t)^2 - (n - t)^2): n the count, t the target
            first = key_step * (key_step - 2 * (wanted[key_class] - got[key_class]))
            cost = 0
            for c, count in group.classes:
                step = scale * count
                cost += emphasis[c] * step * (step - 2 * (wanted[c] - got[c]))
            key = (first, cost, size_have[s] - size_target[s])
            if best_key is None or key < best_key:
                best, best_key = s, key
        placed[g] = best
        got = have[best]
        for c, count in group.classes:
            got[c] += scale * count
        size_have[best] += scale * group.size
    return placed


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
