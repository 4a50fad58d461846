"""The splits a data module takes: per set, ``(samples, loader)`` parts, checked.

A part's samples may also be the path of a split file, whose set of the same
name is read: that is how a YAML configuration names them.
"""

import os
import typing
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import (
    Annotated,
    Any,
    Final,
    Generic,
    NamedTuple,
    Self,
    TypeAlias,
    TypeVar,
    cast,
)

from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    RootModel,
    ValidationInfo,
    model_validator,
)
from pydantic_core import PydanticCustomError

from ._config import FROZEN_CONFIG
from ._errors import SplitFileError, check_set_name, format_list, set_name_problem
from ._sample import RawDataLoader
from ._split import DatabaseSplit, load_split, split_file_missing
from ._types import SetName, StrPath
from ._validation_errors import (
    ErrorCollector,
    loader_invalid,
    loader_not_instance,
    loader_returns_mapping,
    pair_not_in_list,
    samples_invalid,
    set_empty,
    splits_empty,
    splits_not_mapping,
)

__all__ = [
    "DataModuleSplits",
    "Part",
    "PartFiles",
    "SplitPart",
    "Splits",
    "read_split_files",
    "refuse_loader",
]

RawT = TypeVar("RawT")

SPLIT_FILE_SUFFIXES: Final = (".json", ".json.bz2")
"""How the name of a split file ends."""


class SplitPart(NamedTuple, Generic[RawT]):
    """Raw samples and the loader that loads them: one part of a set.

    ``SplitPart(samples, loader)`` lets mypy check that ``loader`` takes the
    samples given (a plain ``(samples, loader)`` tuple works too, unchecked),
    where the part is made on its own: ``part = SplitPart(samples, loader)``,
    then ``ConcatDataModule({"train": [part]})``. Written inside the mapping
    given to a data module, it takes its type from the mapping's parts
    (``SplitPart[Any]``), and type checkers check nothing.
    ``samples`` may be the path of a split file instead (``.json`` or
    ``.json.bz2``): the set of the same name is read from it with `load_split`.
    """

    samples: Sequence[RawT] | StrPath
    """The raw samples, or a split file holding them."""

    loader: RawDataLoader[RawT]
    """The loader of every one of these samples."""


Splits: TypeAlias = Mapping[
    SetName,
    Sequence[SplitPart[Any] | tuple[Sequence[Any] | StrPath, RawDataLoader[Any]]],
]
"""Set name -> the ``(samples, loader)`` parts concatenated into that set."""

Part: TypeAlias = tuple[Sequence[Any], RawDataLoader[Any]]
"""A checked part: its samples (split files read) and its loader."""


def _set_of_file(
    path: Path, set_name: str, files: dict[Path, DatabaseSplit[Any]]
) -> tuple[Any, ...]:
    """Return set ``set_name`` of the split file at ``path`` (read once).

    Raises:
        FileNotFoundError: if the file does not exist.
        SplitFileError: if the file is not a valid split or has no such set.
    """
    split = files.get(path)
    if split is None:
        try:
            split = files[path] = load_split(path)
        except FileNotFoundError:
            raise split_file_missing(path, f"set `{set_name}`") from None
    if set_name not in split:
        msg = (
            f"{path}: the split file has no set `{set_name}` (it has "
            f"{format_list(list(split))}); name a file with a `{set_name}` set "
            "there, or give the samples themselves"
        )
        raise SplitFileError(msg)
    return split[set_name]


def _split_file(samples: object) -> Path | None:
    """Return ``samples`` as a path if it names a split file, else ``None``."""
    if not isinstance(samples, str | os.PathLike):
        return None
    path = Path(samples)
    return path if path.name.lower().endswith(SPLIT_FILE_SUFFIXES) else None


PartFiles: TypeAlias = Mapping[tuple[SetName, int], str]
"""(set name, part position) -> the split file that part's samples were read from."""


def read_split_files(splits: object) -> tuple[object, dict[tuple[SetName, int], str]]:
    """Replace each part whose samples are a split file's path by that set's samples.

    A path is a string or ``os.PathLike`` ending in ``.json`` or ``.json.bz2``.
    Anything that is not a mapping of sets of ``(samples, loader)`` pairs is
    left as it is, for validation to name the problem; the paths of a set whose
    name is not valid are not read, and stand for no samples, for validation
    to name the set alone. Also return the file of each part read
    (`PartFiles`), for errors to name it.

    Raises:
        FileNotFoundError: if a named split file does not exist.
        SplitFileError: if a named file is not a valid split, or lacks the set.
    """
    origins: dict[tuple[SetName, int], str] = {}
    if not isinstance(splits, Mapping):
        return splits, origins
    files: dict[Path, DatabaseSplit[Any]] = {}
    read: dict[object, object] = {}
    for set_name, parts in splits.items():
        if not isinstance(set_name, str) or not isinstance(parts, list | tuple):
            read[set_name] = parts
            continue
        resolved: list[object] = []
        named = set_name_problem(set_name) is None
        for position, part in enumerate(parts):
            pair = isinstance(part, list | tuple) and len(part) == 2  # noqa: PLR2004
            path = _split_file(part[0]) if pair else None
            if path is None:
                resolved.append(part)
            elif not named:  # the name alone is the problem: no file read for it
                resolved.append(((), part[1]))
            else:
                samples = _set_of_file(path, set_name, files)
                resolved.append(SplitPart(samples, part[1]))
                origins[set_name, position] = str(path)
        read[set_name] = resolved
    return read, origins


def _as_tuple(value: object) -> object:
    """Accept a list where a tuple is declared (a pair, or the pairs of a set)."""
    return tuple(value) if isinstance(value, list) else value


def _as_dict(value: object) -> object:
    """Accept any mapping (a ``DatabaseSplit`` say) as the splits.

    Refuse a set given as one ``(samples, loader)`` pair, not a list of them,
    naming the set: item by item, it would read as two broken pairs.
    """
    if not isinstance(value, Mapping):
        raise splits_not_mapping(value=value)
    for set_name, parts in value.items():
        if (
            isinstance(parts, list | tuple)
            and len(parts) == 2  # noqa: PLR2004 - a pair
            and _loader_like(parts[1])
            and not _loader_like(parts[0])
        ):
            raise pair_not_in_list(set_name=str(set_name))
    return dict(value)


def _check_samples(value: object) -> Sequence[Any]:
    if isinstance(value, str | bytes) or not isinstance(value, Sequence):
        raise samples_invalid(value=value)
    return value


def _check_loader(value: object) -> RawDataLoader[Any]:
    if isinstance(value, type):
        raise loader_not_instance(type_name=value.__name__)
    for method in ("sample", "target"):
        if not callable(getattr(value, method, None)):
            raise loader_invalid(type_name=type(value).__name__, missing=method)
    said = _said_return(value)
    if said is not None:
        raise loader_returns_mapping(type_name=type(value).__name__, said=said)
    return cast(RawDataLoader[Any], value)  # both methods checked just above


def _said_return(loader: object) -> str | None:
    """Return what ``loader.sample`` is annotated to return, if it is a mapping.

    mednet 2.x's loaders say so (`Mapping[str, Any]`): refused when the data
    module is made, not at its first sample. Annotations that do not evaluate
    say nothing.
    """
    try:
        returned = typing.get_type_hints(loader.sample).get("return")  # type: ignore[attr-defined]  # checked callable
    except Exception:  # any error of the user's annotations: nothing said
        return None
    origin = typing.get_origin(returned) or returned
    if isinstance(origin, type) and issubclass(origin, Mapping):
        return str(returned).replace("typing.", "")
    return None


def refuse_loader(value: object) -> None:
    """Refuse, outside a data module's validation, what a data module refuses.

    Raises:
        TypeError: for a loader class, or an object without callable `sample`
            and `target` methods, with the words of ``loader_not_instance`` and
            ``loader_invalid``.
    """
    try:
        _check_loader(value)
    except PydanticCustomError as exc:
        raise TypeError(exc.message()) from None


_Pair: TypeAlias = Annotated[
    tuple[
        Annotated[object, AfterValidator(_check_samples)],
        Annotated[object, AfterValidator(_check_loader)],
    ],
    BeforeValidator(_as_tuple),
]


def _loader_like(value: object) -> bool:
    return callable(getattr(value, "sample", None)) and not isinstance(value, type)


SPLITS_TITLE: Final = "the splits of a data module"
"""The title of `DataModuleSplits`' validation errors (its name is lightsplit's)."""


class DataModuleSplits(
    RootModel[
        Annotated[
            dict[
                Annotated[str, AfterValidator(check_set_name)],
                Annotated[tuple[_Pair, ...], BeforeValidator(_as_tuple)],
            ],
            BeforeValidator(_as_dict),
        ]
    ]
):
    """The splits of a data module: valid set names, each a non-empty set of pairs."""

    model_config = ConfigDict(**FROZEN_CONFIG, title=SPLITS_TITLE)

    @model_validator(mode="after")
    def _check_not_empty(self, info: ValidationInfo) -> Self:
        """Refuse splits without a set, and empty sets.

        The validation context's ``"files"`` (`PartFiles`) name the split files
        that an empty set was read from.
        """
        errors = ErrorCollector()
        if not self.root:
            errors.add((), splits_empty(), self.root)
        origins: PartFiles = (info.context or {}).get("files", {})
        for set_name, pairs in self.root.items():
            if sum(len(cast(Sequence[Any], samples)) for samples, _ in pairs) == 0:
                files = [origins.get((set_name, i)) for i in range(len(pairs))]
                named = [file for file in files if file is not None]
                error = set_empty(
                    set_name=set_name, files=named if len(named) == len(files) else ()
                )
                errors.add((set_name,), error, pairs)
        errors.raise_if_any(SPLITS_TITLE)
        return self

    def parts(self) -> dict[SetName, tuple[Part, ...]]:
        """Return the checked parts of each set, in the splits' order.

        The samples are held as tuples (a list given is copied once), so that
        changing that list later does not change the sets served.
        """
        return {
            name: tuple(
                cast(Part, (tuple(cast(Sequence[Any], samples)), loader))  # checked
                for samples, loader in pairs
            )
            for name, pairs in self.root.items()
        }
