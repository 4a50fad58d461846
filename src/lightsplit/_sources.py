"""Validated ``(samples, loader)`` pairs per set, and loading one sample of a set."""

import bisect
import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Self, TypeAlias, cast

from pydantic import AfterValidator, BeforeValidator, RootModel, model_validator
from torch import Tensor

from ._config import FROZEN_CONFIG
from ._errors import (
    ErrorCollector,
    SampleLoadError,
    check_set_name,
    loader_invalid,
    preview,
    samples_invalid,
    set_empty,
    splits_empty,
)
from ._sample import RawDataLoader, Sample
from ._types import SetName

__all__ = [
    "ModelTransform",
    "SetSource",
    "SplitPart",
    "Splits",
    "apply_transforms",
    "as_sample",
    "preview",
    "sources_from_splits",
]

ModelTransform: TypeAlias = Callable[[Tensor], Tensor]
"""A transform applied to each sample's ``input`` before caching."""

# A set may mix loaders of different raw types, which no type variable can tie
# to its samples pair by pair: the pair is typed with ``Any``.
SplitPart: TypeAlias = tuple[Sequence[Any], RawDataLoader[Any]]
"""Raw samples and the loader that loads them."""

Splits: TypeAlias = Mapping[SetName, Sequence[SplitPart]]
"""Set name -> the ``(samples, loader)`` pairs concatenated into that set."""


def _as_tuple(value: object) -> object:
    """Accept a list where a tuple is declared (a pair, or the pairs of a set)."""
    return tuple(value) if isinstance(value, list) else value


def _as_dict(value: object) -> object:
    """Accept any mapping (a ``DatabaseSplit`` say) as the splits."""
    return dict(value) if isinstance(value, Mapping) else value


def _check_samples(value: object) -> Sequence[Any]:
    if isinstance(value, str | bytes) or not isinstance(value, Sequence):
        raise samples_invalid(type_name=type(value).__name__)
    return value


def _check_loader(value: object) -> RawDataLoader[Any]:
    for method in ("sample", "target"):
        if not callable(getattr(value, method, None)):
            raise loader_invalid(type_name=type(value).__name__, missing=method)
    return cast(RawDataLoader[Any], value)  # both methods checked just above


_Pair: TypeAlias = Annotated[
    tuple[
        Annotated[object, AfterValidator(_check_samples)],
        Annotated[object, AfterValidator(_check_loader)],
    ],
    BeforeValidator(_as_tuple),
]


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

    model_config = FROZEN_CONFIG

    @model_validator(mode="after")
    def _check_not_empty(self) -> Self:
        errors = ErrorCollector()
        if not self.root:
            errors.add((), splits_empty(), self.root)
        for set_name, pairs in self.root.items():
            if sum(len(cast(Sequence[Any], samples)) for samples, _ in pairs) == 0:
                errors.add((set_name,), set_empty(set_name=set_name), pairs)
        errors.raise_if_any(type(self).__name__)
        return self


def as_sample(result: object, *, where: str) -> Sample:
    """Return a loader's result as a `Sample`, or explain what is wrong.

    Raises:
        TypeError: if ``result`` is not a pair of a tensor and a mapping.
    """
    if not isinstance(result, tuple) or len(result) != 2:  # noqa: PLR2004 - a pair
        msg = (
            f"{where} returned a `{type(result).__name__}`; return a "
            "`Sample(input, metadata)` (a tensor and a mapping of str keys)"
        )
        raise TypeError(msg)
    value, metadata = cast(tuple[object, object], result)
    if not isinstance(value, Tensor):
        msg = f"{where} returned an input of type `{type(value).__name__}`; "
        msg += "`Sample.input` must be a `torch.Tensor`"
        raise TypeError(msg)
    if not isinstance(metadata, Mapping):
        msg = f"{where} returned metadata of type `{type(metadata).__name__}`; "
        msg += "`Sample.metadata` must be a mapping with str keys"
        raise TypeError(msg)
    return result if isinstance(result, Sample) else Sample(value, metadata)


def apply_transforms(sample: Sample, transforms: Sequence[ModelTransform]) -> Sample:
    """Apply the model transforms, in order, to ``sample.input``.

    Raises:
        TypeError: if a transform returns something other than a tensor.
    """
    value = sample.input
    for transform in transforms:
        result: object = transform(value)
        if not isinstance(result, Tensor):
            msg = (
                f"model transform {transform!r} returned a `{type(result).__name__}`; "
                "model transforms must return a `torch.Tensor`"
            )
            raise TypeError(msg)
        value = result
    return Sample(value, sample.metadata)


def _target_as_int(target: object, *, where: str) -> int:
    if isinstance(target, int) and not isinstance(target, bool):
        return target
    if (
        isinstance(target, Tensor)
        and target.numel() == 1
        and not target.is_floating_point()
    ):
        return int(target.item())
    shown = target if isinstance(target, Tensor) else preview(target)
    msg = (
        f"{where} returned `{shown}`; `target` must return an int or an integer "
        "tensor with a single element"
    )
    raise TypeError(msg)


@dataclass(frozen=True, eq=False)
class SetSource:
    """One set: its ``(samples, loader)`` pairs concatenated, loaded on demand."""

    name: SetName
    parts: tuple[SplitPart, ...]
    _starts: tuple[int, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        sizes = (len(samples) for samples, _ in self.parts)
        starts = (0, *itertools.accumulate(sizes))
        object.__setattr__(self, "_starts", starts)

    def __len__(self) -> int:
        return self._starts[-1]

    def locate(self, index: int) -> tuple[object, RawDataLoader[Any]]:
        """Return the raw sample at ``index`` of the set, and its loader."""
        if not 0 <= index < len(self):
            msg = f"index {index} is out of range for set `{self.name}` of {len(self)}"
            raise IndexError(msg)
        part = bisect.bisect_right(self._starts, index) - 1
        samples, loader = self.parts[part]
        return samples[index - self._starts[part]], loader

    def where(self, index: int) -> str:
        """Describe sample ``index``: its set, index and raw entry."""
        raw, _ = self.locate(index)
        return f"set `{self.name}`, index {index}, entry {preview(raw)}"

    def load(self, index: int, transforms: Sequence[ModelTransform] = ()) -> Sample:
        """Load sample ``index`` and apply the model transforms.

        Raises:
            SampleLoadError: naming the set, index and entry, chained to the
                loader's error, when loading fails or returns no sample.
        """
        raw, loader = self.locate(index)
        try:
            sample = as_sample(
                loader.sample(raw), where=f"`{type(loader).__name__}.sample`"
            )
            return apply_transforms(sample, transforms)
        except Exception as exc:
            msg = f"{self.where(index)}: {type(exc).__name__}: {exc}"
            raise SampleLoadError(msg) from exc

    def targets(self) -> list[int]:
        """Return the class label of every sample, from the loaders' ``target``.

        Raises:
            SampleLoadError: naming the set, index and entry of a failing sample.
        """
        labels: list[int] = []
        index = 0
        for samples, loader in self.parts:
            where = f"`{type(loader).__name__}.target`"
            for raw in samples:
                try:
                    labels.append(_target_as_int(loader.target(raw), where=where))
                except Exception as exc:
                    msg = f"{self.where(index)}: {type(exc).__name__}: {exc}"
                    raise SampleLoadError(msg) from exc
                index += 1
        return labels


def sources_from_splits(splits: Splits) -> dict[SetName, SetSource]:
    """Validate ``splits`` and return one source per set, in the splits' order.

    Raises:
        ValidationError: ``set_name_invalid``, ``set_empty``, ``splits_empty``,
            ``samples_invalid``, ``loader_invalid``, or a pair that is not a
            ``(samples, loader)`` tuple.
    """
    model = DataModuleSplits.model_validate(splits)
    return {
        name: SetSource(name, cast(tuple[SplitPart, ...], pairs))
        for name, pairs in model.root.items()
    }
