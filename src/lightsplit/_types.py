"""Aliases, closed vocabularies and generic records shared by lightsplit modules."""

import os
import pathlib
import re
import sys
from dataclasses import FrozenInstanceError
from typing import TYPE_CHECKING, Final, Literal, TypeAlias, TypeVar

__all__ = [
    "EVALUATION_SET_NAMES",
    "FORMATS",
    "HELD_OUT_SET_NAMES",
    "SET_NAME_PATTERN",
    "SET_NAME_RE",
    "EntryT_co",
    "Format",
    "SetName",
    "Stage",
    "StrPath",
    "generic_record",
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

if TYPE_CHECKING:
    import typing_extensions

    EntryT_co = typing_extensions.TypeVar("EntryT_co", covariant=True, default=object)
    """The type of a split's raw entries, in the records that hold them; a
    record named without it (`EntryRef`) holds ``object``."""
else:  # a default is for type checkers; typing_extensions would slow `check`
    EntryT_co = TypeVar("EntryT_co", covariant=True)

RecordT = TypeVar("RecordT", bound=type)


def _refuse_setattr(self: object, name: str, value: object) -> None:
    msg = f"cannot assign to field {name!r} of a {type(self).__name__}"
    raise FrozenInstanceError(msg)


def _refuse_delattr(self: object, name: str) -> None:
    msg = f"cannot delete field {name!r} of a {type(self).__name__}"
    raise FrozenInstanceError(msg)


def generic_record(cls: RecordT) -> RecordT:
    """Let a frozen, slotted, generic dataclass be made as ``Record[int](...)``.

    Before Python 3.13, the ``__setattr__`` that ``dataclass`` writes for
    such a class calls ``super()`` with the class it replaced, so that
    assigning ``__orig_class__`` (which ``Record[int](...)`` does) raised a
    ``TypeError`` instead of the ``FrozenInstanceError`` typing expects.
    """
    if sys.version_info < (3, 13):
        cls.__setattr__ = _refuse_setattr  # type: ignore[method-assign,assignment]
        cls.__delattr__ = _refuse_delattr  # type: ignore[method-assign,assignment]
    return cls


SET_NAME_PATTERN: Final = r"^(train|validation|test|monitor-[A-Za-z0-9._-]+)$"
"""The JSON Schema (ECMA-262) pattern every set name matches."""

SET_NAME_RE: Final = re.compile(r"(train|validation|test|monitor-[A-Za-z0-9._-]+)")
"""The same rule for `re.fullmatch` (``$`` would accept a final newline)."""

EVALUATION_SET_NAMES: Final = ("train", "validation", "test")
"""The fixed set names, in the order a split usually lists them."""

HELD_OUT_SET_NAMES: Final = ("validation", "test")
"""The sets whose entries a model must not have been trained on (a `monitor-*`
set repeats entries of the others on purpose)."""

Format: TypeAlias = Literal["lightsplit", "decathlon", "csv"]
"""A split file format that ``lightsplit convert`` reads and writes."""

FORMATS: Final[tuple[Format, ...]] = ("lightsplit", "decathlon", "csv")
"""Every `Format`, for ``--from`` and ``--to``."""
