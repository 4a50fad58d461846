"""Writing made splits, each with a sidecar file recording how it was made.

A split made by ``lightsplit split`` keeps the reference format (a JSON object
of sets, one entry per line). How it was made goes next to it, in
``<split>.lightsplit.json``: the command, the options, the seed, the input's
hash and the split's own hash, so that a card can tell whether the split was
edited since.
"""

import bz2
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated, Self

from pydantic import AfterValidator, Field, model_validator

from ._codec import json_lines
from ._config import FrozenModel
from ._entries import compile_group_pattern
from ._hashing import encoded_split_sha256, split_sha256
from ._outputs import is_special_file, sidecar_of, sidecar_path, write_bytes
from ._split import strict_json

__all__ = [
    "SplitProvenance",
    "lines_of_encoded",
    "read_provenance",
    "write_split_file",
]


def _compiles(pattern: str) -> str:
    compile_group_pattern(pattern)  # raises ValueError, saying why
    return pattern


class SplitProvenance(FrozenModel, frozen=True):
    """How ``lightsplit split`` made a split file: its sidecar file's content."""

    lightsplit: str
    """The version of lightsplit that made the split."""
    sha256: str
    """The split's content hash (`split_sha256`) when it was written."""
    command: str
    """The command that made it, quoted for a POSIX shell."""
    input: str
    """The file the entries were read from, as the command named it."""
    input_entries: Annotated[int, Field(ge=0)]
    """How many entries the input held."""
    input_sha256: str
    """SHA-256 of the input file's bytes."""
    fractions: tuple[str, ...] | None
    """The fractions asked for (train, validation, test), or ``None`` (folds)."""
    folds: Annotated[int, Field(ge=3)] | None
    """How many folds, or ``None`` (fractions)."""
    fold: Annotated[int, Field(ge=0)] | None
    """Which fold this split tests on, from 0, or ``None`` (fractions)."""
    carved: bool | None = None
    """Of a fold file: whether its `validation` set was carved from the other
    folds (`True`) or is the fold the next file tests on (`False`); ``None``
    for fractions, or a sidecar written before this was recorded."""
    seed: Annotated[int, Field(ge=0)]
    """The seed."""
    group_pattern: Annotated[str, AfterValidator(_compiles)] | None
    """The regular expression that found each entry's group, or ``None``."""
    group_field: int | str | None = None
    """The field that held each entry's group, or ``None`` (a group pattern, or
    none); with `columns`, its position in the entries written. Not with
    `group_pattern`."""
    path_field: int | str | None
    """The path field named, or ``None`` (the first string)."""
    label_field: int | str | None
    """The label field named, or ``None`` (the default)."""
    label_separator: Annotated[str, Field(min_length=1)] | None = None
    """The text between the names of a label that joins several (``|``), or
    ``None``: labels read as written (or a sidecar written before this was
    recorded)."""
    columns: tuple[int | str, ...] | None = None
    """The fields of the input written (`--columns`), or ``None`` (whole entries).

    With them, `path_field` and `label_field` are positions in the written
    entries.
    """
    field_columns: dict[str, str] | None = None
    """The input table's column of each of `group_field`, `path_field` and
    `label_field` recorded as a position, where known: given by name, or read
    from the sidecar of a split split again (``None`` in sidecars written
    before this was recorded; the command tells them there)."""

    @model_validator(mode="after")
    def _one_way_to_group(self) -> Self:
        if self.group_pattern is not None and self.group_field is not None:
            msg = (
                "`group_pattern` and `group_field` are both recorded; a split is "
                "grouped by one of them: keep the one it was made by"
            )
            raise ValueError(msg)
        return self

    @model_validator(mode="after")
    def _fold_of_folds(self) -> Self:
        if (self.fold is None) != (self.folds is None):
            msg = "`fold` and `folds` are given together (folds) or not at all"
            raise ValueError(msg)
        if self.carved is not None and self.fold is None:
            msg = "`carved` is recorded of fold files alone (`fold` given)"
            raise ValueError(msg)
        if self.fold is not None and self.folds is not None and self.fold >= self.folds:
            last = self.folds - 1
            msg = f"`fold` {self.fold} is not one of {self.folds} folds (0 to {last})"
            raise ValueError(msg)
        return self


def lines_of_encoded(sets: Mapping[str, Sequence[str]]) -> str:
    """Lay out sets of entries already written as JSON, as `json_lines` does.

    Writing many splits of the same entries (the files of a k-fold split), each
    entry is encoded once (``json.dumps(entry, ensure_ascii=False)``).

    Examples:
        >>> print(lines_of_encoded({"train": ['["a.png", 0]'], "test": []}), end="")
        {
          "train": [
            ["a.png", 0]
          ],
          "test": []
        }
    """
    parts = []
    for name, entries in sets.items():
        body = "[\n    " + ",\n    ".join(entries) + "\n  ]" if entries else "[]"
        parts.append(f"  {json.dumps(name, ensure_ascii=False)}: {body}")
    return "{\n" + ",\n".join(parts) + "\n}\n" if parts else "{}\n"


def write_split_file(
    path: Path,
    split: Mapping[str, Sequence[object]],
    provenance: Mapping[str, object],
    *,
    encoded: Mapping[str, Sequence[str]] | None = None,
    canonical: Mapping[str, Sequence[str]] | None = None,
) -> SplitProvenance:
    r"""Write ``split`` (one entry per line, as `json_lines`) and its sidecar file.

    A device or a pipe (``/dev/null``, ``/dev/stdout``) gets the split alone.

    The bytes depend on nothing but the split: UTF-8, ``\n`` line ends, and
    numbers as Python writes them on every platform. A name ending in ``.bz2``
    is compressed.

    Args:
        path: the split file to write.
        split: the sets, in order.
        provenance: the fields of `SplitProvenance` but ``sha256``.
        encoded: the same sets with each entry already encoded as JSON
            (`lines_of_encoded`), to save encoding them again.
        canonical: the same sets with each entry already in canonical form
            (`encoded_split_sha256`), to save encoding them again for the hash.

    Returns:
        What the sidecar file records.

    Raises:
        OSError: if a file cannot be written.
    """
    text = json_lines(split) if encoded is None else lines_of_encoded(encoded)
    data = text.encode("utf-8")
    if path.suffix.lower() == ".bz2":
        data = bz2.compress(data)
    sha256 = (
        split_sha256(split) if canonical is None else encoded_split_sha256(canonical)
    )
    record = SplitProvenance.model_validate({**provenance, "sha256": sha256})
    sidecar = json.dumps(record.model_dump(mode="json"), indent=2, ensure_ascii=False)
    special = is_special_file(path)
    write_bytes(path, data)
    if not special:  # a device or a pipe has no file beside it to describe
        write_bytes(sidecar_path(path), f"{sidecar}\n".encode())
    return record


def read_provenance(split_path: Path) -> SplitProvenance | None:
    """Return how the split at ``split_path`` was made, if its sidecar says.

    Raises:
        SplitFileError: for a sidecar that is no strict JSON (a key given twice,
            which pydantic would read as its last value).
        ValidationError: for a sidecar file that is not one lightsplit writes.
        OSError: if the sidecar exists but cannot be read.
    """
    sidecar = sidecar_of(split_path)
    if not sidecar.is_file():
        return None
    data = sidecar.read_bytes()
    strict_json(data, source=str(sidecar))  # as split files are read
    return SplitProvenance.model_validate_json(data)
