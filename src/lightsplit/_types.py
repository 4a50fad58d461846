"""Aliases and closed vocabularies shared by every lightsplit module."""

import os
import pathlib
import re
from typing import TYPE_CHECKING, Final, Literal, TypeAlias

__all__ = [
    "EVALUATION_SET_NAMES",
    "FORMATS",
    "SET_NAME_PATTERN",
    "SET_NAME_RE",
    "Format",
    "SetName",
    "Stage",
    "StrPath",
]

SetName: TypeAlias = str
"""A set name: `train`, `validation`, `test` or `monitor-<name>`."""

Stage: TypeAlias = Literal["fit", "validate", "test", "predict"]
"""A Lightning stage, as passed to ``setup`` and ``teardown``."""

if TYPE_CHECKING:
    StrPath: TypeAlias = str | os.PathLike[str]
    """A file-system path."""
else:
    # What introspection sees: LightningCLI (jsonargparse), reading the data
    # modules' and loaders' signatures, writes any YAML value given for an
    # `os.PathLike` as a string (`cache_dir: [a, b]` made a folder named
    # "['a', 'b']"); for `pathlib.Path` it refuses what is no string.
    StrPath = str | pathlib.Path

SET_NAME_PATTERN: Final = r"^(train|validation|test|monitor-[A-Za-z0-9._-]+)$"
"""The JSON Schema (ECMA-262) pattern every set name matches."""

SET_NAME_RE: Final = re.compile(r"(train|validation|test|monitor-[A-Za-z0-9._-]+)")
"""The same rule for `re.fullmatch` (``$`` would accept a final newline)."""

EVALUATION_SET_NAMES: Final = ("train", "validation", "test")
"""The fixed set names, in the order a split usually lists them."""

Format: TypeAlias = Literal["lightsplit", "decathlon", "csv"]
"""A split file format that ``lightsplit convert`` reads and writes."""

FORMATS: Final[tuple[Format, ...]] = ("lightsplit", "decathlon", "csv")
"""Every `Format`, for ``--from`` and ``--to``."""
