"""``read_samples``: the entries to split, from a JSON array, a CSV table or a split.

- a JSON array of entries (``.json``, ``.json.bz2``): each item is an entry;
- a split file (a JSON object of sets): the entries of `train`, `validation`
  and `test` pooled, `monitor-<name>` sets left out (they repeat entries);
- a CSV table (``.csv``): its first row names the columns, each further row is
  an entry (integers read as integers, as ``lightsplit convert`` reads them); a
  table whose first column is ``set`` is a split, pooled the same way.
"""

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path

from ._codec import read_text
from ._csvsplit import INTEGER_CELL, read_csv_split
from ._errors import SplittingError, format_list, json_syntax_problem
from ._split import parse_split, read_file
from ._types import EVALUATION_SET_NAMES

__all__ = ["SampleList", "read_samples"]


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
    return SampleList(tuple(entries), tuple(origins), notes=tuple(notes))


def _read_csv(path: Path) -> SampleList:
    rows = list(csv.reader(io.StringIO(read_text(path), newline="")))
    numbers = [number for number, row in enumerate(rows, start=1) if row]
    if not numbers:
        msg = f"{path}: the table is empty; write a header row, then one entry per row"
        raise SplittingError(msg)
    header = [cell.strip() for cell in rows[numbers[0] - 1]]
    if header[0] == "set":
        sample_list = _pooled(read_csv_split(path), path)
        columns = tuple(header[1:])
        return SampleList(
            sample_list.entries, sample_list.origins, columns, sample_list.notes
        )
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
        entries.append([int(c) if INTEGER_CELL.fullmatch(c) else c for c in cells])
        origins.append(f"row {number}")
    return SampleList(tuple(entries), tuple(origins), tuple(header))


def read_samples(path: Path) -> SampleList:
    """Read the entries to split from ``path`` (see the module's docstring).

    Raises:
        FileNotFoundError: if ``path`` does not exist.
        SplittingError: for text that is no JSON array, split file or table,
            naming the line and column or row.
        SplitFileError: for a split file that breaks the split-file rules.
        ConvertError: for a CSV split with an invalid set name.
    """
    suffixes = [suffix.lower() for suffix in path.suffixes]
    if suffixes[-1:] == [".csv"] or suffixes[-2:] == [".csv", ".bz2"]:
        found = _read_csv(path)
    else:
        data = read_file(path, error=SplittingError)
        try:
            document = json.loads(data)
        except json.JSONDecodeError as exc:
            msg = f"{path}: {json_syntax_problem(exc)}"
            raise SplittingError(msg) from exc
        except ValueError as exc:  # bytes that are not UTF-8
            msg = f"{path}: not a JSON file ({exc}); save it as UTF-8 JSON"
            raise SplittingError(msg) from exc
        if isinstance(document, list):
            found = SampleList(
                tuple(document), tuple(f"entry {i}" for i in range(len(document)))
            )
        elif isinstance(document, dict):
            split = parse_split(data, source=str(path))
            found = _pooled({k: list(v) for k, v in split.items()}, path)
        else:
            msg = (
                f"{path}: holds a JSON {type(document).__name__}; give a JSON array "
                "of entries, a split file or a CSV table"
            )
            raise SplittingError(msg)
    if not found.entries:
        msg = f"{path}: holds no entry to split; give at least one per set to make"
        raise SplittingError(msg)
    return found
