"""``convert_split``: split files to and from decathlon datalists and CSV tables.

Every conversion reads the input into sets of entries, writes the output next
to its final name, reads that back (a split file with `load_split`) and moves
it into place only when it holds exactly the same sets: nothing is lost
silently. What the output format cannot hold is refused, naming the set, index
and entry.
"""

import bz2
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from ._codec import ConvertError, Sets, fail, json_lines, load_json
from ._csvsplit import read_csv_split, write_csv_split
from ._datalist import read_datalist, write_datalist
from ._errors import SplitFileError
from ._outputs import write_bytes
from ._report import entry_key
from ._split import load_split
from ._types import FORMATS, Format, StrPath

__all__ = ["FORMATS", "Conversion", "Format", "convert_split", "infer_format"]


_NAMES: Final[Mapping[Format, str]] = {
    "lightsplit": "a split file",
    "decathlon": "a decathlon datalist",
    "csv": "a CSV split",
}


@dataclass(frozen=True, slots=True)
class Conversion:
    """What `convert_split` did."""

    source_format: Format
    """The format read."""
    target_format: Format
    """The format written."""
    counts: Mapping[str, int]
    """Set name -> entries written."""
    notes: tuple[str, ...]
    """What the output leaves out or changes, for the user to know."""


def infer_format(path: StrPath, *, reading: bool) -> Format:
    """Return the format of ``path`` from its suffix (and content when reading).

    ``.csv`` is CSV. ``.json`` and ``.json.bz2`` are split files, except that an
    input JSON object with a ``training`` key is a decathlon datalist.

    Raises:
        ConvertError: for any other suffix, or an input that is not JSON.
    """
    path = Path(path)
    suffixes = [suffix.lower() for suffix in path.suffixes]
    if suffixes[-1:] == [".csv"]:
        return "csv"
    if suffixes[-1:] == [".json"] or suffixes[-2:] == [".json", ".bz2"]:
        if reading and suffixes[-1] == ".json":
            document = load_json(path)
            if isinstance(document, dict) and "training" in document:
                return "decathlon"
        return "lightsplit"
    msg = (
        f"{path}: cannot tell the format from the name; name the file `.json`, "
        "`.json.bz2` or `.csv`, or give the format (`--from`, `--to`)"
    )
    raise ConvertError(msg)


def _read(path: Path, file_format: Format) -> tuple[Sets, list[str]]:
    """Return the sets in ``path`` and notes on what reading left out."""
    if file_format == "decathlon":
        return read_datalist(path)
    if file_format == "csv":
        return read_csv_split(path), []
    try:
        split = load_split(path)
    except SplitFileError as exc:
        raise ConvertError(str(exc)) from exc
    return {name: list(samples) for name, samples in split.items()}, []


def _render(sets: Sets, target: Format) -> tuple[str, list[str]]:
    """Return the text of ``sets`` in ``target``, or the problems preventing it."""
    if target == "decathlon":
        return write_datalist(sets)
    if target == "csv":
        return write_csv_split(sets)
    return json_lines(sets), []


def _same(first: Sets, second: Sets) -> bool:
    """Whether two sets hold the same entries in the same order, as JSON."""
    return list(first) == list(second) and all(
        list(map(entry_key, first[name])) == list(map(entry_key, second[name]))
        for name in first
    )


def convert_split(
    source: StrPath,
    target: StrPath,
    *,
    source_format: Format | None = None,
    target_format: Format | None = None,
) -> Conversion:
    r"""Convert the split in ``source`` and write it to ``target``.

    Args:
        source: the file to read.
        target: the file to write (replaced if it exists, only on success).
        source_format: the format of ``source``; by default `infer_format`.
        target_format: the format of ``target``; by default from its suffix.

    Returns:
        The formats, the entries written per set and notes for the user.

    Raises:
        ConvertError: naming each entry, set or row that cannot be converted.
        OSError: if ``source`` cannot be read or ``target`` written.

    Examples:
        >>> import pathlib, tempfile
        >>> folder = pathlib.Path(tempfile.mkdtemp())
        >>> _ = (folder / "split.csv").write_text("set,path,label\ntrain,a.png,0\n")
        >>> convert_split(folder / "split.csv", folder / "split.json").counts
        {'train': 1}
        >>> print((folder / "split.json").read_text(), end="")
        {
          "train": [
            ["a.png", 0]
          ]
        }
    """
    source, target = Path(source), Path(target)
    source_format = source_format or infer_format(source, reading=True)
    target_format = target_format or infer_format(target, reading=False)
    sets, notes = _read(source, source_format)
    if not sets:
        msg = f"{source}: holds no set, so there is nothing to convert; give it entries"
        raise ConvertError(msg)
    text, problems = _render(sets, target_format)
    if problems:
        title = f"{source}: cannot write it to {target} as {_NAMES[target_format]}"
        fail(title, problems)
    data = text.encode()
    if target.suffix.lower() == ".bz2":  # read back as bzip2, in any format
        data = bz2.compress(data)

    def reads_back(written: Path) -> None:
        try:
            read_back, _ = _read(written, target_format)
        except ConvertError as exc:  # pragma: no cover - a bug in a writer
            said = str(exc).replace(str(written), str(target))
            msg = f"{target}: the output does not read back: {said}; please report"
            raise ConvertError(msg) from exc
        if not _same(read_back, sets):  # pragma: no cover - a bug in a writer
            msg = f"{target}: the output does not read back as the input; please report"
            raise ConvertError(msg)

    if target.is_dir():
        msg = f"{target}: a folder; give the path of the file to write"
        raise ConvertError(msg)
    if not target.parent.is_dir():
        msg = (
            f"{target}: the folder {target.parent} does not exist; create it, or "
            "write the file elsewhere"
        )
        raise ConvertError(msg)
    write_bytes(target, data, check=reads_back)
    counts = {name: len(entries) for name, entries in sets.items()}
    return Conversion(source_format, target_format, counts, tuple(notes))
