"""``ConvertError``, and what the readers and writers of ``convert`` share."""

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import NoReturn, TypeAlias

from ._errors import LightsplitError, format_problems
from ._split import read_file, strict_json, utf8_table

__all__ = [
    "ConvertError",
    "Sets",
    "fail",
    "items_of",
    "json_lines",
    "load_json",
    "read_text",
]

Sets: TypeAlias = dict[str, list[object]]
"""Set name -> entries, in file order."""


class ConvertError(LightsplitError, ValueError):
    """A file that cannot be read as, or written in, the format asked for."""


def fail(title: str, problems: Sequence[str]) -> NoReturn:
    """Raise one `ConvertError` listing ``problems`` (at most 5) under ``title``."""
    raise ConvertError(format_problems(title, problems))


def read_text(path: Path) -> str:
    """Return the UTF-8 text of ``path``, decompressed first if it ends in ``.bz2``.

    Raises:
        ConvertError: for bad bzip2 data or text that is not UTF-8.
    """
    return utf8_table(
        read_file(path, error=ConvertError), source=str(path), error=ConvertError
    )


def load_json(path: Path) -> object:
    """Return the JSON document in ``path``, read as strictly as split files are.

    Raises:
        ConvertError: naming the line and column of invalid JSON, of a key given
            twice in one object, of ``NaN`` or of a number too large.
    """
    data = read_file(path, error=ConvertError)
    return strict_json(data, source=str(path), error=ConvertError)


def items_of(entry: object) -> list[object] | None:
    """Return the items of an array entry, or ``None`` for any other entry."""
    return list(entry) if isinstance(entry, list | tuple) else None


def json_lines(document: Mapping[str, Sequence[object]]) -> str:
    """Write sets as a JSON object, one entry per line.

    Examples:
        >>> print(json_lines({"train": [["a.png", 0], ["b.png", 1]], "test": []}))
        {
          "train": [
            ["a.png", 0],
            ["b.png", 1]
          ],
          "test": []
        }
        <BLANKLINE>
    """
    parts = []
    for name, entries in document.items():
        lines = ",\n".join(f"    {json.dumps(e, ensure_ascii=False)}" for e in entries)
        body = f"[\n{lines}\n  ]" if entries else "[]"
        parts.append(f"  {json.dumps(name, ensure_ascii=False)}: {body}")
    return "{\n" + ",\n".join(parts) + "\n}\n" if parts else "{}\n"
