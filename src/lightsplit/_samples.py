"""``read_samples``: the entries to split, from a JSON array, a CSV table or a split.

- a JSON array of entries (``.json``, ``.json.bz2``): each item is an entry;
- a split file (a JSON object of sets): the entries of `train`, `validation`
  and `test` pooled, `monitor-<name>` sets left out (they repeat entries);
- a CSV table (``.csv``): its first row names the columns, each further row is
  an entry (integers read as integers and empty cells as ``None``, as
  ``lightsplit convert`` reads them); a table whose first column is ``set`` is
  a split, pooled the same way. What would be mis-read is refused: a quote left
  open across rows, a table separated by ``;`` or tabs, a first row that looks
  like an entry.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from ._csvsplit import (
    INTEGER_CELL,
    csv_rows,
    entry_of_cells,
    read_csv_split,
    shown_row,
)
from ._entries import FILE_SUFFIX, FieldName, entry_key, file_paths
from ._errors import SplittingError, first_few, format_list, json_kind, preview
from ._split import read_file, split_of_document, strict_json
from ._types import EVALUATION_SET_NAMES

__all__ = [
    "SampleList",
    "kept_fields",
    "read_samples",
    "shown_field",
    "unheld_fields",
]


@dataclass(frozen=True, slots=True)
class SampleList:
    """Entries read to be split, with where each comes from."""

    entries: tuple[object, ...]
    """The entries, in file order."""
    origins: tuple[str, ...]
    """Where each entry is in the file (``entry 3``, ``train.3``, ``row 5``)."""
    columns: tuple[str, ...] = ()
    """The names of a CSV table's columns (the entries' items), else empty."""
    notes: tuple[str, ...] = ()
    """What reading left out, for the user to know."""
    warnings: tuple[str, ...] = ()
    """What reading left out that may be lost: entries of monitor sets alone."""


def _pooled(sets: dict[str, list[object]], source: Path) -> SampleList:
    """Pool the evaluation sets of a split; note the monitor sets left out."""
    entries: list[object] = []
    origins: list[str] = []
    for name, samples in sets.items():
        if name in EVALUATION_SET_NAMES:
            entries += samples
            origins += (f"{name}.{i}" for i in range(len(samples)))
    left = [name for name in sets if name not in EVALUATION_SET_NAMES]
    notes = (
        [
            f"{source}: left out the sets {format_list(left)}, as `monitor-<name>` "
            "sets repeat entries of the other sets"
        ]
        if left
        else []
    )
    alone = _monitored_alone(sets, left)
    one = len(alone) == 1
    warnings = (
        [
            f"{source}: {len(alone)} {'entry' if one else 'entries'} of "
            f"{format_list(left)} {'is' if one else 'are'} in no other set "
            f"({first_few(alone)}), so in none of the sets made; add "
            f"{'it' if one else 'them'} to `train`, `validation` or `test` to split "
            f"{'it' if one else 'them'}"
        ]
        if alone
        else []
    )
    return SampleList(
        tuple(entries), tuple(origins), notes=tuple(notes), warnings=tuple(warnings)
    )


def _monitored_alone(sets: dict[str, list[object]], monitors: list[str]) -> list[str]:
    """Name the entries of the ``monitors`` sets that no evaluation set holds.

    Entries are compared by the normalised path of the file they name
    (`file_paths`), or as JSON without one.
    """
    if not monitors:
        return []
    paths = {name: file_paths(samples) for name, samples in sets.items()}
    held = {
        path if path is not None else entry_key(entry)
        for name in sets
        if name in EVALUATION_SET_NAMES
        for path, entry in zip(paths[name], sets[name], strict=True)
    }
    return [
        f"{name}.{i} {preview(entry)}"
        for name in monitors
        for i, (path, entry) in enumerate(zip(paths[name], sets[name], strict=True))
        if (path if path is not None else entry_key(entry)) not in held
    ]


def _entry_like(header: Sequence[str], below: Sequence[str]) -> str | None:
    """Say why a header row looks like an entry, or return ``None``.

    A cell that is an integer, or a file name (with a folder, or with the
    suffix of the cell below it) names no column.
    """
    for column, cell in enumerate(header):
        if INTEGER_CELL.fullmatch(cell):
            return f"`{cell}` is an integer"
        suffix = FILE_SUFFIX.search(cell)
        if suffix is None:
            continue
        under = below[column].strip() if column < len(below) else ""
        if "/" in cell or "\\" in cell or under.lower().endswith(suffix[0].lower()):
            return f"`{cell}` is a file name"
    return None


def _read_csv(path: Path) -> SampleList:
    """Read a CSV table: a header row naming the columns, then one entry per row.

    Raises:
        SplittingError: for a quote left open, an empty table, a table not
            separated by commas, a first row that looks like an entry (no
            header) or a row longer than the header, naming the row.
        ConvertError: for a CSV split with an invalid set name.
    """
    rows, lines = csv_rows(path, error=SplittingError)
    # rows of empty cells (`,,` padding from a spreadsheet) are no entries, as
    # in `convert`
    numbers = [number for number, row in enumerate(rows, start=1) if any(row)]
    if not numbers:
        msg = f"{path}: the table is empty; write a header row, then one entry per row"
        raise SplittingError(msg)
    header = [cell.strip() for cell in rows[numbers[0] - 1]]
    if header[0] == "set":
        sample_list = _pooled(read_csv_split(path), path)
        columns = tuple(header[1:])
        return SampleList(
            sample_list.entries,  # empty cells are None (`entry_of_cells`)
            sample_list.origins,
            columns,
            sample_list.notes,
            sample_list.warnings,
        )
    below = rows[numbers[1] - 1] if len(numbers) > 1 else []
    reason = _entry_like(header, below)
    if reason is not None:
        msg = (
            f"{path}: row {numbers[0]} (`{shown_row(lines, numbers[0])}`) looks like "
            f"an entry, not a header: {reason}; the table needs a header row naming "
            "the columns: add one above it, such as `path,label`"
        )
        raise SplittingError(msg)
    entries: list[object] = []
    origins: list[str] = []
    for number in numbers[1:]:
        cells = list(rows[number - 1])
        while cells and not cells[-1]:
            cells.pop()
        if len(cells) > len(header):
            msg = (
                f"{path}: row {number} has {len(cells)} cells but the header names "
                f"{len(header)} columns; add columns to the header"
            )
            raise SplittingError(msg)
        try:  # an empty cell holds no value: `None`, wherever it is
            entries.append(entry_of_cells(cells))
        except ValueError as exc:
            msg = f"{path}: row {number} (`{shown_row(lines, number)}`): {exc}"
            raise SplittingError(msg) from None
        origins.append(f"row {number}")
    return SampleList(tuple(entries), tuple(origins), tuple(header))


def read_samples(path: Path) -> SampleList:
    """Read the entries to split from ``path`` (see the module's docstring).

    Raises:
        FileNotFoundError: if ``path`` does not exist.
        SplittingError: for text that is no JSON array, split file or table,
            naming the line and column or row (see the module's docstring).
        SplitFileError: for a split file that breaks the split-file rules.
        ConvertError: for a CSV split with an invalid set name.
    """
    suffixes = [suffix.lower() for suffix in path.suffixes]
    if suffixes[-1:] == [".csv"] or suffixes[-2:] == [".csv", ".bz2"]:
        found = _read_csv(path)
    else:
        try:
            data = read_file(path, error=SplittingError)
            document = strict_json(data, source=str(path), error=SplittingError)
        except SplittingError as exc:
            if path.suffix.lower() in _TABLE_SUFFIXES:
                detail = str(exc).removeprefix(f"{path}: ")
                msg = (
                    f"{path}: read as JSON, as only files named `.csv` are read "
                    f"as tables, and it is none ({detail}); save the table as CSV "
                    "(separated by commas), named `.csv`"
                )
                raise SplittingError(msg) from None
            raise
        if isinstance(document, dict) and "training" in document:
            msg = (
                f"{path}: holds `training`, as a Decathlon or MONAI datalist does, "
                "not a split file; convert it first (`lightsplit convert "
                f"{path.name} -o split.json`), then split that"
            )
            raise SplittingError(msg)
        if isinstance(document, list):
            found = SampleList(
                tuple(document), tuple(f"entry {i}" for i in range(len(document)))
            )
        elif isinstance(document, dict):
            split = split_of_document(document, source=str(path))
            found = _pooled({k: list(v) for k, v in split.items()}, path)
        else:
            msg = (
                f"{path}: holds {json_kind(document)}; give a JSON array of "
                "entries, a split file or a CSV table"
            )
            raise SplittingError(msg)
    if not found.entries:
        msg = f"{path}: holds no entry to split; give at least one per set to make"
        raise SplittingError(msg)
    return found


_TABLE_SUFFIXES: Final = frozenset({".tsv", ".tab", ".txt", ".xlsx", ".xls", ".ods"})
"""Names of tables that are read as JSON, and fail so (only `.csv` is a table)."""

_ABSENT: Final = object()
"""What `_item` returns for a field that an entry does not hold."""


def _item(entry: object, field: FieldName) -> object:
    """Return the item of ``entry`` at ``field``, or `_ABSENT`."""
    if isinstance(field, int) and isinstance(entry, list | tuple):
        return entry[field] if field < len(entry) else _ABSENT
    if isinstance(field, str) and isinstance(entry, dict):
        return entry.get(field, _ABSENT)
    return _ABSENT


def shown_field(field: FieldName, columns: Sequence[str]) -> str:
    """Name a field in a message: a CSV table's column by its name."""
    if isinstance(field, int) and field < len(columns):
        return f"column `{columns[field]}`"
    return f"`{field}`"


def kept_fields(samples: SampleList, fields: Sequence[FieldName]) -> SampleList:
    """Return the entries of ``samples`` written as ``fields`` alone, in order.

    A field is a position of an array entry (a CSV row's column) or a key of
    an object entry; each entry becomes an array. An entry that lacks the last
    fields is written without them; one that lacks a field but holds a later
    one is refused, since its items would move to other places. A CSV table's
    empty cells hold no value (``None``, written ``null``), wherever they are,
    and trailing ones are left out.

    Raises:
        SplittingError: for such an entry, naming it and the field.

    Examples:
        >>> rows = SampleList(([0, "a.png", 1, 40], [1, "b.png"]), ("row 2", "row 3"))
        >>> kept_fields(rows, [1, 2]).entries
        (['a.png', 1], ['b.png'])
    """
    entries: list[object] = []
    table = bool(samples.columns)  # a CSV table's rows, whose empty cells are None
    for entry, origin in zip(samples.entries, samples.origins, strict=True):
        items = [_item(entry, field) for field in fields]
        if table:  # a row is short for its empty last cells: they hold no value
            items = [None if item is _ABSENT else item for item in items]
            while items and items[-1] is None:
                items.pop()
        held = [item is not _ABSENT for item in items]
        count = held.index(False) if False in held else len(held)
        if any(held[count:]):
            name = shown_field(fields[count], samples.columns)
            after = shown_field(
                fields[count + held[count:].index(True)], samples.columns
            )
            msg = (
                f"{origin} lacks {name}, which `--columns` names before {after}: "
                f"{after} would be written in its place; give the entry {name}, "
                "or leave it out of `--columns`"
            )
            raise SplittingError(msg)
        entries.append(items[:count])
    columns = tuple(
        samples.columns[field]
        for field in fields
        if samples.columns and isinstance(field, int)
    )
    return SampleList(
        tuple(entries), samples.origins, columns, samples.notes, samples.warnings
    )


def unheld_fields(
    entries: Sequence[object], fields: Sequence[FieldName]
) -> list[FieldName]:
    """Return those of ``fields`` that no entry holds (see `kept_fields`)."""
    return [
        field
        for field in fields
        if all(_item(entry, field) is _ABSENT for entry in entries)
    ]
