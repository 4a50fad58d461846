"""What ``lightsplit split`` prints: each set made, against its targets.

For each set of each file: its entries, its share of all the entries against
the share asked for, its groups and the prevalence of each class; then the
largest gaps from the targets (of share, and of class prevalence against the
prevalence in all the entries).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Final, TypeVar

from ._splitting import SplitPool
from ._tables import percent, text_table
from ._types import SetName

__all__ = ["MadeSet", "made_sets", "summary_lines"]

RawT = TypeVar("RawT")

MAX_CLASS_COLUMNS: Final = 10
"""Classes shown one column each; with more, the table shows the largest gap."""


@dataclass(frozen=True, slots=True)
class MadeSet:
    """One set of a split made: its size, groups and classes, and its target."""

    file: str
    """The file holding the set, or ``""`` for the only one."""
    name: SetName
    """The set."""
    target: Fraction
    """The share of all the entries asked for."""
    entries: int
    """Entries in the set."""
    groups: int
    """Groups in the set."""
    class_counts: tuple[int, ...]
    """Entries with each class (in the order of the pool's classes)."""
    classless: int = 0
    """Entries with no class (``[]``, NIH's "no finding"), or no label."""


def made_sets(
    pool: SplitPool[RawT],
    placed: dict[int, int],
    names: Sequence[SetName],
    targets: Sequence[Fraction],
    *,
    file: str = "",
) -> list[MadeSet]:
    """Count the entries, groups and classes of each set of one placement."""
    classes = len(pool.class_names)
    entries = [0] * len(names)
    groups = [0] * len(names)
    counts = [[0] * classes for _ in names]
    classless = [0] * len(names)
    for group, where in placed.items():
        counts_here = counts[where]
        entries[where] += pool.groups[group].size
        groups[where] += 1
        for c, count in pool.groups[group].classes:
            if c < classes:
                counts_here[c] += count
            else:  # the class after the last: entries with none
                classless[where] += count
    return [
        MadeSet(
            file, name, target, entries[s], groups[s], tuple(counts[s]), classless[s]
        )
        for s, (name, target) in enumerate(zip(names, targets, strict=True))
    ]


def _percent(count: int, total: int) -> str:
    return percent(count, total) if total else "-"


def _largest_gap(
    item: MadeSet, overall: Sequence[float], classless: float
) -> tuple[float, int]:
    """Return a set's largest gap from the prevalence of a class, and the class.

    Entries with no class are the class after the last: they are stratified as
    one of their own.
    """
    shares = [*overall, *([classless] if classless else [])]
    counts = [*item.class_counts, *([item.classless] if classless else [])]
    gaps = [
        100 * abs(count / item.entries - share) if item.entries else 0.0
        for count, share in zip(counts, shares, strict=True)
    ]
    worst = max(range(len(gaps)), key=gaps.__getitem__, default=0)  # the first
    return (gaps[worst] if gaps else 0.0), worst


def summary_lines(pool: SplitPool[RawT], made: Sequence[MadeSet]) -> list[str]:
    """Return the table of the sets made, then the largest gaps from the targets."""
    total = len(pool.entries)
    names = pool.class_names
    overall = [pool.class_totals[c] / total for c in range(len(names))]
    files = any(item.file for item in made)
    by_column = len(names) <= MAX_CLASS_COLUMNS
    header = [*(["file"] if files else []), "set", "entries", "share", "target"]
    header += ["groups", *([f"label {n}" for n in names] if by_column else [])]
    if names and not by_column:
        header.append("largest prevalence gap")
    classless = sum(pool.class_totals[len(names) :])  # entries with no class
    # (a column of 100% where no entry has a label at all: none)
    shown = bool(classless and names)
    if shown:
        header.append("no class")
    rows = [header]
    share_gap: tuple[float, str] = (0.0, "")
    class_gap: tuple[float, str] = (0.0, "")
    for item in made:
        where = f"{item.file} {item.name}".strip()
        share = item.entries / total
        if not share_gap[1] or abs(share - float(item.target)) > share_gap[0]:
            share_gap = (abs(share - float(item.target)), where)
        gap, worst = _largest_gap(item, overall, classless / total)
        said = "no class" if worst == len(names) else f"label {names[worst]}"
        if (names or classless) and (not class_gap[1] or gap > class_gap[0]):
            class_gap = (gap, f"{where}, {said}")
        row = [*([item.file] if files else []), item.name, str(item.entries)]
        row += [f"{share:.3f}", f"{float(item.target):.3f}", str(item.groups)]
        if by_column:
            row += [_percent(count, item.entries) for count in item.class_counts]
        elif names:
            row.append(f"{gap:.1f} points ({said})")
        if shown:
            row.append(_percent(item.classless, item.entries))
        rows.append(row)
    last = [*([""] if files else []), "all", str(total), "1.000", "1.000"]
    last.append(str(len(pool.groups)))
    if by_column:
        last += [_percent(pool.class_totals[c], total) for c in range(len(names))]
    elif names:
        last.append("-")
    if shown:
        last.append(_percent(classless, total))
    rows.append(last)
    lines = text_table(rows, left=2 if files else 1)
    largest = f"share {share_gap[0]:.3f} ({share_gap[1]})"
    if names:
        largest += f", class prevalence {class_gap[0]:.1f} points ({class_gap[1]})"
    lines.append(f"largest gaps from the targets: {largest}")
    return lines
