"""Splits as CSV tables: a ``set`` column, then one column per entry item."""

import csv
import io
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Final

from ._codec import ConvertError, Sets, fail, items_of, read_text
from ._errors import LightsplitError, preview, printable, set_name_problem

__all__ = [
    "INTEGER_CELL",
    "csv_rows",
    "entry_of_cells",
    "read_csv_split",
    "shown_row",
    "write_csv_split",
]

INTEGER_CELL: Final = re.compile(r"0|-?[1-9][0-9]*")
"""A cell read as an integer: written as Python writes one (``007`` is text)."""


def entry_of_cells(cells: Sequence[str]) -> list[int | str | None]:
    """Return a row's entry: its integer cells (`INTEGER_CELL`) as integers.

    An empty cell holds no value: it is ``None`` (``null``), wherever it is, so
    that an empty label cell is no label, not a class ``""``.

    Raises:
        ValueError: for an integer cell too long for Python to read, saying so.

    Examples:
        >>> entry_of_cells(["a.png", "", "007", "42"])
        ['a.png', None, '007', 42]
    """
    try:
        return [
            int(c) if INTEGER_CELL.fullmatch(c) else c if c else None for c in cells
        ]
    except ValueError:  # more digits than `sys.get_int_max_str_digits()`
        digits = max(len(c) for c in cells if INTEGER_CELL.fullmatch(c))
        msg = (
            f"a cell of {digits} digits is an integer of more than "
            f"{sys.get_int_max_str_digits()} digits; write a smaller number"
        )
        raise ValueError(msg) from None


_SHOWN_CHARS: Final = 60
"""Characters of a row shown in a message about it."""


def shown_row(lines: Sequence[str], number: int) -> str:
    """Return row ``number`` as written, without its line end, cut to be read."""
    text = printable(lines[number - 1].rstrip("\r\n"))  # a tab written `\t`
    return text if len(text) <= _SHOWN_CHARS else text[: _SHOWN_CHARS - 3] + "..."


def _quote_problem(
    path: Path, lines: Sequence[str], number: int, last: int, exc: csv.Error | None
) -> str:
    """Say what is wrong with the quotes of row ``number``, read up to row ``last``."""
    where = f"{path}: row {number} (`{shown_row(lines, number)}`)"
    fix = f"close the quote opened in row {number}"
    if exc is not None and ("end of data" in str(exc) or "field limit" in str(exc)):
        return (
            f"{where}: a quote opened in row {number} is never closed, so the rest "
            f"of the file reads as one cell; {fix}"
        )
    if last > number or exc is None:  # a cell ran over the line end
        return (
            f"{where}: a quote opened in row {number} is closed only in row {last}, "
            "so these rows read as one cell, and a table read here holds one entry "
            f"a line; {fix}, or, if the cell is meant to span rows (a report's "
            "text), write it on one line"
        )
    if "expected after" in str(exc):
        return (
            f"{where}: text after the closing quote of a cell; quote the whole "
            'cell, writing each quote in it as `""`, or remove the quotes'
        )
    return f"{where}: not CSV ({exc}); correct the row"


def _separator(text: str) -> str | None:
    """Name the other separator ``text`` holds (``;`` or a tab), if any."""
    return "`;`" if ";" in text else "a tab" if "\t" in text else None


def _check_separator(
    path: Path,
    lines: Sequence[str],
    rows: Sequence[list[str]],
    *,
    error: type[LightsplitError],
) -> None:
    """Refuse a table separated by ``;`` or tabs, which reads as one column.

    So is a table whose header has commas but a row none, only ``;`` or tabs:
    that row would read as one cell, an entry without its other items.

    Raises:
        LightsplitError: of type ``error``, naming the row and the separator.
    """
    numbers = [number for number, row in enumerate(rows, start=1) if any(row)]
    if not numbers:
        return
    first = numbers[0]
    fix = "save the table with `,` between the cells"
    if len(rows[first - 1]) == 1:
        seen = _separator(rows[first - 1][0])
        wider = [n for n in numbers if len(rows[n - 1]) > 1]
        if seen is not None and not wider:
            msg = (
                f"{path}: row {first} (`{shown_row(lines, first)}`) holds {seen} but "
                "no comma, so each row reads as one cell: lightsplit reads "
                f"comma-separated tables; {fix}"
            )
            raise error(msg)
        if seen is not None:
            msg = (
                f"{path}: row {first} (`{shown_row(lines, first)}`) holds {seen} but "
                f"no comma, so it names one column, while row {wider[0]} has "
                f"{len(rows[wider[0] - 1])} cells; {fix}"
            )
            raise error(msg)
        return
    for number in numbers[1:]:
        cells = [cell for cell in rows[number - 1] if cell]
        seen = _separator(cells[0]) if len(cells) == 1 else None
        if seen is not None:
            msg = (
                f"{path}: row {number} (`{shown_row(lines, number)}`) holds {seen} "
                f"but no comma, so it reads as one cell, while row {first} has "
                f"{len(rows[first - 1])} cells; {fix}"
            )
            raise error(msg)


def csv_rows(
    path: Path, *, error: type[LightsplitError]
) -> tuple[list[list[str]], list[str]]:
    """Return the rows of the CSV table in ``path``, and its lines.

    A quote that is never closed, or closed rows later, would make the rows
    after it one cell: a cell holding a line end, and what Python's ``csv``
    refuses in strict mode, are refused. Row ``n`` is then line ``n``. So is a
    table separated by ``;`` or tabs, wholly or in some rows.

    Raises:
        LightsplitError: of type ``error``, naming the row where the quote is
            opened, or the row separated otherwise.
    """
    lines = list(io.StringIO(read_text(path), newline=""))
    reader = csv.reader(lines, strict=True, skipinitialspace=_spaced(lines))
    rows: list[list[str]] = []
    # a cell holds no line end, so no cell is longer than the longest line:
    # csv's limit (128 KiB a cell) would call a longer one an unclosed quote
    limit = csv.field_size_limit()
    csv.field_size_limit(max(limit, max(map(len, lines), default=0) + 1))
    try:
        while True:
            number = reader.line_num + 1
            try:
                row = next(reader, None)
            except csv.Error as exc:
                problem = _quote_problem(path, lines, number, reader.line_num, exc)
                raise error(problem) from exc
            if row is None:
                _check_separator(path, lines, rows, error=error)
                return rows, lines
            if any("\n" in cell or "\r" in cell for cell in row):
                problem = _quote_problem(path, lines, number, reader.line_num, None)
                raise error(problem)
            rows.append(row)
    finally:
        csv.field_size_limit(limit)


def _spaced(lines: Sequence[str]) -> bool:
    """Whether the table is separated by ``", "``, as in ``path, label``.

    So it is when every header name after the first starts with a space. Its
    cells are then read without the space after each comma (`` 0`` would be
    the text ``" 0"``, not the integer 0), as its header names are.
    """
    header = next((line for line in lines if line.strip()), "")
    try:
        names = next(csv.reader([header]), [])
    except csv.Error:  # a quote left open: said where the rows are read
        return False
    return len(names) > 1 and all(
        name.startswith(" ") and name.strip() for name in names[1:]
    )


def read_csv_split(path: Path) -> Sets:
    """Read the sets of a CSV table whose header is ``set,column1,column2,...``.

    Each row is one entry of the set its first cell names: the other cells,
    without trailing empty ones, integers (`INTEGER_CELL`) as ``int`` and empty
    ones as ``None`` (`entry_of_cells`). The header's other names are free. Sets
    come in the order they first appear.

    Raises:
        ConvertError: for a missing header, an invalid set name or a row longer
            than the header, naming the row.
    """
    all_rows, lines = csv_rows(path, error=ConvertError)
    header = all_rows[0] if all_rows else []
    title = f"{path}: cannot read it as a CSV split"
    if not header or header[0].strip() != "set":
        found = f" (it is `{shown_row(lines, 1)}`)" if lines else " (the file is empty)"
        fail(title, [f"row 1 must be the header `set,column1,column2,...`{found}"])
    sets: Sets = {}
    problems: list[str] = []
    for number, row in enumerate(all_rows[1:], start=2):
        if not any(row):
            continue  # a blank row, or one a spreadsheet padded with commas
        name, *cells = row
        while cells and not cells[-1]:
            cells.pop()
        name_problem = set_name_problem(name)
        if name_problem is not None:
            problems.append(f"row {number}: {name_problem}")
        elif not cells:
            problems.append(
                f"row {number}: set `{name}` but no item; give the row its entry's "
                "items, or remove it"
            )
        elif len(cells) >= len(header):
            problems.append(
                f"row {number}: {len(cells)} items but the header names "
                f"{len(header) - 1} columns; add columns to the header"
            )
        else:
            try:
                sets.setdefault(name, []).append(entry_of_cells(cells))
            except ValueError as exc:
                problems.append(f"row {number}: {exc}")
    if problems:
        fail(title, problems)
    return sets


def _item_problem(item: object) -> str | None:
    """Return why ``item`` cannot be a cell that reads back the same, or ``None``.

    ``None`` is an empty cell; an empty string would read back as ``None``.
    """
    if item is None:
        return None
    if isinstance(item, bool) or not isinstance(item, str | int):
        return (
            f"item {preview(item)} is no string, integer or null, which is all a "
            "CSV cell holds"
        )
    if item == "":
        return (
            'item "" is an empty string, but an empty cell reads back as no value '
            '(null); write null where "" means no value, or keep the split file'
        )
    if isinstance(item, str) and ("\n" in item or "\r" in item):
        return (
            f"item {preview(item)} holds a line end, which tables read here refuse "
            "(it is how a quote left open shows)"
        )
    if isinstance(item, str) and INTEGER_CELL.fullmatch(item):
        return f'the string "{item}" would read back as the integer {item}'
    return None


def _problem(name: str, index: int, entry: object) -> str | None:
    """Return why ``entry`` cannot be a row that reads back the same, or ``None``."""
    where = f"{name}.{index}: entry {preview(entry)}"
    items = items_of(entry)
    if items is None:
        return f"{where} is not an array; a CSV row holds the items of an array"
    if not items:
        return (
            f"{where} has no item, and a row without one reads back as no entry; "
            "give the entry its items, or remove it"
        )
    for item in items:
        problem = _item_problem(item)
        if problem is not None:
            fix = "" if problem.endswith("split file") else "; keep the split file"
            return f"{where}: {problem}{fix}"
    if items[-1] is None:
        return (
            f"{where} ends with null, written as an empty last cell, and a row's "
            "empty last cells are dropped: it would read back without that item; "
            "remove the last null, or keep the split file"
        )
    return None


def write_csv_split(sets: Sets) -> tuple[str, list[str]]:
    """Return ``sets`` as a CSV table, or why it would not read back the same.

    Entries must be arrays of strings, integers and ``None`` (an empty cell);
    a string that reads as an integer, an empty string (an empty cell reads
    back as ``None``), a final ``None`` (a row's empty last cells are dropped)
    and an empty set are refused.
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
