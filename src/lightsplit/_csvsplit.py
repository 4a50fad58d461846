"""Splits as CSV tables: a ``set`` column, then one column per entry item."""

import csv
import io
import re
from pathlib import Path
from typing import Final

from ._codec import Sets, fail, items_of, read_text
from ._errors import preview, set_name_problem

__all__ = ["INTEGER_CELL", "read_csv_split", "write_csv_split"]

INTEGER_CELL: Final = re.compile(r"0|-?[1-9][0-9]*")
"""A cell read as an integer: written as Python writes one (``007`` is text)."""


def read_csv_split(path: Path) -> Sets:
    """Read the sets of a CSV table whose header is ``set,column1,column2,...``.

    Each row is one entry of the set its first cell names: the other cells,
    without trailing empty ones, integers (`INTEGER_CELL`) as ``int``. The
    header's other names are free. Sets come in the order they first appear.

    Raises:
        ConvertError: for a missing header, an invalid set name or a row longer
            than the header, naming the row.
    """
    rows = csv.reader(io.StringIO(read_text(path), newline=""))
    header = next(rows, [])
    title = f"{path}: cannot read it as a CSV split"
    if not header or header[0].strip() != "set":
        fail(title, ["row 1 must be the header `set,column1,column2,...`"])
    sets: Sets = {}
    problems: list[str] = []
    for number, row in enumerate(rows, start=2):
        if not row:
            continue
        name, *cells = row
        while cells and not cells[-1]:
            cells.pop()
        name_problem = set_name_problem(name)
        if name_problem is not None:
            problems.append(f"row {number}: {name_problem}")
        elif len(cells) >= len(header):
            problems.append(
                f"row {number}: {len(cells)} items but the header names "
                f"{len(header) - 1} columns; add columns to the header"
            )
        else:
            entry = [int(c) if INTEGER_CELL.fullmatch(c) else c for c in cells]
            sets.setdefault(name, []).append(entry)
    if problems:
        fail(title, problems)
    return sets


def _problem(name: str, index: int, entry: object) -> str | None:
    """Return why ``entry`` cannot be a row that reads back the same, or ``None``."""
    where = f"{name}.{index}: entry {preview(entry)}"
    items = items_of(entry)
    if items is None:
        return f"{where} is not an array; a CSV row holds the items of an array"
    for item in items:
        if isinstance(item, bool) or not isinstance(item, str | int):
            return (
                f"{where}: item {preview(item)} is no string or integer, which is "
                "all a CSV cell holds; keep the split file"
            )
        if isinstance(item, str) and INTEGER_CELL.fullmatch(item):
            return (
                f'{where}: the string "{item}" would read back as the integer '
                f"{item}; keep the split file"
            )
    if items and items[-1] == "":
        return (
            f"{where} ends with an empty string, which reads back as no item; "
            "keep the split file"
        )
    return None


def write_csv_split(sets: Sets) -> tuple[str, list[str]]:
    """Return ``sets`` as a CSV table, or why it would not read back the same.

    Entries must be arrays of strings and integers; a string that reads as an
    integer, a final empty string and an empty set are refused.
    """
    problems = [
        f"{name}: the set is empty and a CSV table has no row for it; remove the set"
        for name, entries in sets.items()
        if not entries
    ]
    problems += [
        problem
        for name, entries in sets.items()
        for index, entry in enumerate(entries)
        if (problem := _problem(name, index, entry)) is not None
    ]
    if problems:
        return "", problems
    rows = [
        [name, *(items_of(entry) or ())] for name, es in sets.items() for entry in es
    ]
    width = max((len(row) - 1 for row in rows), default=0)
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(["set", *(f"column{number}" for number in range(1, width + 1))])
    writer.writerows(rows)
    return text.getvalue(), []
