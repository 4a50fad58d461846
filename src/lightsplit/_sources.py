"""One set of a data module: its parts concatenated, and loading one sample of it."""

import bisect
import itertools
import numbers
import reprlib
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, cast

import torch
from pydantic import ValidationError
from torch import Tensor

from ._errors import (
    WRAP_IN_MAPPING_LOADER,
    LightsplitWarning,
    SampleLoadError,
    caller_stacklevel,
    format_list,
    missing_dependency,
    preview,
)
from ._metadata import NONE_HELD
from ._parts import DataModuleSplits, Part, PartFiles, Splits, read_split_files
from ._sample import ModelTransform, RawDataLoader, Sample, entry_check
from ._types import SetName
from ._validation_errors import (
    ErrorCollector,
    line_error,
    transform_invalid,
    transforms_invalid,
)

__all__ = [
    "SetSource",
    "apply_transforms",
    "as_sample",
    "check_entries",
    "check_model_transforms",
    "check_transforms",
    "same_parts",
    "sources_from_splits",
    "target_as_int",
]


def as_sample(result: object, *, where: str) -> Sample:
    """Return a loader's result as a `Sample`, or explain what is wrong.

    Raises:
        TypeError: if ``result`` is not a pair of a tensor and a mapping with str
            keys, or a metadata value is None.
    """
    if isinstance(result, Mapping):
        keys = format_list([str(key) for key in result])
        msg = (
            f"{where} returned a mapping (keys {keys}), not a `Sample`; "
            f"{WRAP_IN_MAPPING_LOADER}"
        )
        raise TypeError(msg)
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
    for key, item in metadata.items():
        if type(key) is not str:
            msg = (
                f"{where} returned metadata key {key!r} of type `{type(key).__name__}`;"
                " metadata keys must be str (they name batch columns, such as "
                "`label` or `name`)"
            )
            raise TypeError(msg)
        if item is None:  # nested ones are found when a batch fails
            msg = f"{where} returned metadata `{key}` as None, {NONE_HELD}"
            raise TypeError(msg)
    return result if isinstance(result, Sample) else Sample(value, metadata)


def same_parts(first: "SetSource", second: "SetSource") -> bool:
    """Whether two sets hold the same entries, in order, from the same loaders."""
    if len(first) != len(second) or len(first.parts) != len(second.parts):
        return False
    return all(
        loader is other_loader and list(samples) == list(other_samples)
        for (samples, loader), (other_samples, other_loader) in zip(
            first.parts, second.parts, strict=True
        )
    )


def _install_hint(exc: Exception) -> str | None:
    """Say how to install the optional package a loader missed, unless it says so."""
    if not isinstance(exc, ModuleNotFoundError) or not exc.name:
        return None
    hint = missing_dependency(exc.name)
    return None if hint is None or hint in str(exc) else hint


class _TransformError(SampleLoadError):
    """A model transform raised: `SetSource.load` names the sample it failed on."""


def apply_transforms(sample: Sample, transforms: Sequence[ModelTransform]) -> Sample:
    """Apply the model transforms, in order, to ``sample.input``.

    Raises:
        TypeError: if a transform returns something other than a tensor.
        SampleLoadError: if a transform raises, naming it (and its place among
            several), chained to its error: not to be read as the loader's.
    """
    value = sample.input
    for position, transform in enumerate(transforms):
        try:
            result: object = transform(value)
        except Exception as exc:
            name = getattr(transform, "__qualname__", None) or type(transform).__name__
            place = f" {position}" if len(transforms) > 1 else ""
            msg = f"model transform{place} `{name}` raised {type(exc).__name__}: {exc}"
            raise _TransformError(msg) from exc
        if not isinstance(result, Tensor):
            msg = (
                f"model transform {transform!r} returned a `{type(result).__name__}`; "
                "model transforms must return a `torch.Tensor`"
            )
            raise TypeError(msg)
        value = result
    if transforms:
        _warn_resized_apart(sample, value)
    return Sample(value, sample.metadata)


IMAGE_DIMS: Final = 3
"""An image input's dimensions, ``(C, H, W)``, at the least (volumes have more)."""


def _warn_resized_apart(sample: Sample, transformed: Tensor) -> None:
    """Warn of transforms that resized an image away from its metadata images.

    Model transforms change the input alone: a segmentation's target and mask
    of the image's size are left at the old size (mednet's model transforms
    resized masks too), to fail later in the loss, far from the cause. Kept on
    purpose (a metric on full-size masks), that is a warning, not an error;
    inputs that are no images (a waveform made a spectrogram) are left alone.
    """
    before, after = sample.input.shape[-2:], transformed.shape[-2:]
    if min(sample.input.dim(), transformed.dim()) < IMAGE_DIMS or before == after:
        return
    kept = [
        key
        for key, value in sample.metadata.items()
        if isinstance(value, Tensor) and value.dim() >= 2 and value.shape[-2:] == before  # noqa: PLR2004 - height and width
    ]
    if not kept:
        return
    keys = ", ".join(f"`{key}`" for key in kept)
    warnings.warn(
        f"the model transforms made the input image {after[0]}x{after[1]} from "
        f"{before[0]}x{before[1]}, but metadata {keys} "
        f"{'stays' if len(kept) == 1 else 'stay'} {before[0]}x{before[1]}: model "
        "transforms change the input alone (mednet's changed masks too); unless "
        "that is meant, resize those in the loader (nearest-neighbour for masks), "
        "or the input with them in a batch transform",
        LightsplitWarning,
        stacklevel=caller_stacklevel(),
    )


def _integral(value: object) -> int | None:
    """Return ``value`` as an int if it is one integral number, else ``None``."""
    if isinstance(value, Tensor):
        if value.numel() != 1 or value.is_complex():
            return None
        value = value.item()
    if isinstance(value, bool | numbers.Integral):
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def target_as_int(target: object, *, where: str) -> int:
    """Return a class target as an int: an int, or a tensor of one integral value."""
    if type(target) is int:  # the usual case, told first
        return target
    if isinstance(target, bool) or not isinstance(target, numbers.Integral | Tensor):
        label = None
    else:
        label = _integral(target)
    if label is not None:
        return label
    shown = target if isinstance(target, Tensor) else reprlib.repr(target)  # Python's
    msg = (
        f"{where} returned `{shown}`; a class target must be an int or a tensor "
        "holding one integral value (`3`, `tensor(3)`, `tensor([0.])`)"
    )
    hot: int | None = None
    if isinstance(target, Tensor) and target.numel() > 1:
        hot = int((target != 0).sum())
    elif isinstance(target, list | tuple) and len(target) > 1:
        hot = sum(1 for value in target if value)
    if hot is not None:
        msg += (
            "; for a one-hot target, return the index of its class"
            if hot == 1
            else "; a multi-label target (several classes, or none, per sample) "
            "has no one class for `balance_sampler_by_class` to balance: leave it "
            "False, and weigh the loss per class instead (BCE's `pos_weight`, "
            "from the training set's counts)"
        )
    raise TypeError(msg)


def check_transforms(
    transforms: object, *, field: str = "model_transforms", batch: bool = False
) -> tuple[Any, ...]:
    """Return ``transforms`` as a tuple, or say what is wrong with them.

    Args:
        transforms: the value given.
        field: the argument's name, for messages.
        batch: accept batch transforms too (objects with ``transform_batch``).

    Raises:
        ValidationError: ``transforms_invalid`` for anything but a list or tuple,
            ``transform_invalid`` for an item that is not a transform.
    """
    errors = ErrorCollector()
    if not isinstance(transforms, list | tuple):
        error = transforms_invalid(field=field, type_name=type(transforms).__name__)
        errors.add((field,), error, transforms)
        errors.raise_all(field)
    for index, transform in enumerate(transforms):
        method = getattr(transform, "transform_batch", None) if batch else None
        if isinstance(transform, type):
            problem = (
                f"is the class `{transform.__name__}`, not a transform object; "
                f"create one, as in `{transform.__name__}(...)`"
            )
        elif not callable(transform) and not callable(method):
            problem = (
                f"(a `{type(transform).__name__}`) is not callable; give a function "
                "or module that maps a tensor to a tensor"
                + (", or an object with `transform_batch(batch)`" if batch else "")
            )
        else:
            continue
        kind = "batch transform" if batch else "model transform"
        error = transform_invalid(kind=kind, value=preview(transform), problem=problem)
        errors.add((field, index), error, transform)
    errors.raise_if_any(field)
    return tuple(transforms)


def check_model_transforms(transforms: object) -> tuple[ModelTransform, ...]:
    """Return model transforms as a tuple, or say what is wrong with them.

    Raises:
        ValidationError: ``transforms_invalid`` or ``transform_invalid``.
    """
    return check_transforms(transforms)


@dataclass(frozen=True, eq=False)
class SetSource:
    """One set: its ``(samples, loader)`` pairs concatenated, loaded on demand."""

    name: SetName
    parts: tuple[Part, ...]
    files: tuple[str | None, ...] = ()
    """The split file each part was read from, where known (``None`` if not)."""
    _starts: tuple[int, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        sizes = (len(samples) for samples, _ in self.parts)
        starts = (0, *itertools.accumulate(sizes))
        object.__setattr__(self, "_starts", starts)

    def __len__(self) -> int:
        return self._starts[-1]

    def located_parts(self) -> Iterator[tuple[int, Sequence[Any], RawDataLoader[Any]]]:
        """Yield each part's samples and loader, with its first index in the set."""
        for start, (samples, loader) in zip(self._starts[:-1], self.parts, strict=True):
            yield start, samples, loader

    def entries(self) -> list[object]:
        """Return the raw samples of the set, its parts one after the other."""
        return [raw for samples, _ in self.parts for raw in samples]

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

        Both run without autograd, and the input comes out detached: a sample is
        data, never part of a graph (a transform with parameters, such as a
        fixed filter or a frozen encoder, would otherwise tie every cached
        sample to its graph, and batches could not be stacked).

        Raises:
            SampleLoadError: naming the set, index and entry, chained to the
                loader's error, when loading fails or returns no sample.
        """
        raw, loader = self.locate(index)
        try:
            with torch.no_grad():
                sample = as_sample(
                    loader.sample(raw), where=f"`{type(loader).__name__}.sample`"
                )
                sample = apply_transforms(sample, transforms)
        except _TransformError as exc:  # which names the transform
            msg = f"{self.where(index)}: {exc}"
            raise SampleLoadError(msg) from exc.__cause__
        except Exception as exc:
            msg = f"{self.where(index)}: {type(exc).__name__}: {exc}"
            hint = _install_hint(exc)
            raise SampleLoadError(msg + (f"; {hint}" if hint else "")) from exc
        except SystemExit as exc:
            if torch.utils.data.get_worker_info() is None:  # this process: it ends
                raise
            msg = (  # else the worker dies, and its error names no sample
                f"{self.where(index)}: the loader called `sys.exit({exc.code!r})` "
                "in a loader worker process; a loader must raise an exception, "
                "not end its process"
            )
            raise SampleLoadError(msg) from exc
        if sample.input.requires_grad:  # a leaf that asks for gradients
            return Sample(sample.input.detach(), sample.metadata)
        return sample

    def targets(self) -> list[int]:
        """Return the class label of every sample, from the loaders' ``target``.

        Raises:
            SampleLoadError: naming the set, index and entry of a failing sample.
        """
        labels: list[int] = []
        index = 0
        for samples, loader in self.parts:
            wrapped = getattr(loader, "loader", None)  # a MappingLoader's own loader
            where = (
                f"`{type(wrapped).__name__}.target` (through `{type(loader).__name__}`)"
                if wrapped is not None and hasattr(wrapped, "target")
                else f"`{type(loader).__name__}.target`"
            )
            for raw in samples:
                try:
                    target = loader.target(raw)
                except Exception as exc:
                    msg = (
                        f"{self.where(index)}: {where} raised "
                        f"{type(exc).__name__}: {exc}"
                    )
                    raise SampleLoadError(msg) from exc
                try:
                    labels.append(target_as_int(target, where=where))
                except Exception as exc:
                    msg = f"{self.where(index)}: {type(exc).__name__}: {exc}"
                    raise SampleLoadError(msg) from exc
                index += 1
        return labels


_LOADER_ERRORS: Final = frozenset({"loader_invalid", "loader_not_instance"})


def _loaders_said_once(exc: ValidationError) -> ValidationError:
    """Return ``exc`` with one error per loader refused, at its first place.

    The loader of every set is most often one object: refused in each set, it
    was said once per set, as if there were that many mistakes.
    """
    errors = exc.errors()
    seen: set[int] = set()
    kept = []
    for error in errors:
        if error["type"] in _LOADER_ERRORS:
            if id(error["input"]) in seen:
                continue
            seen.add(id(error["input"]))
        kept.append(error)
    if len(kept) == len(errors):
        return exc
    return ValidationError.from_exception_data(exc.title, list(map(line_error, kept)))


def sources_from_splits(
    splits: Splits, *, files: PartFiles | None = None
) -> dict[SetName, SetSource]:
    """Validate ``splits`` and return one source per set, in the splits' order.

    ``files`` names the split files that parts were read from (`PartFiles`),
    for errors to name them; parts given as a file's path are named anyway.

    Raises:
        ValidationError: ``set_name_invalid``, ``set_empty``, ``splits_empty``,
            ``samples_invalid``, ``loader_invalid``, ``loader_not_instance``, or a
            pair that is not a ``(samples, loader)`` tuple.
        FileNotFoundError: if a split file named in place of samples is missing.
        SplitFileError: if such a file is invalid or lacks the set.
    """
    read, origins = read_split_files(splits)
    known = {**(files or {}), **origins}
    try:
        model = DataModuleSplits.model_validate(read, context={"files": known})
    except ValidationError as exc:
        raise _loaders_said_once(exc) from None
    return {
        name: SetSource(
            name, parts, tuple(known.get((name, i)) for i in range(len(parts)))
        )
        for name, parts in model.parts().items()
    }


def check_entries(sources: Mapping[SetName, SetSource]) -> None:
    """Have each loader that can (`entry_check`) check each of its entries.

    Raises:
        SampleLoadError: for the first entry a loader cannot read, naming the
            set, index and entry, as loading it would have later.
    """
    for source in sources.values():
        for start, samples, loader in source.located_parts():
            check = entry_check(loader)
            if check is not None:
                for index, raw in enumerate(samples, start):
                    try:
                        check(raw)
                    except (TypeError, ValueError) as exc:
                        msg = f"{source.where(index)}: {type(exc).__name__}: {exc}"
                        raise SampleLoadError(msg) from exc
