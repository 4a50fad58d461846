"""Transforms of whole batches on the training device, reproducible from a seed.

Model transforms run on each sample before caching: the deterministic part.
Batch transforms run after each batch reaches the device the model trains on
(Lightning's ``on_after_batch_transfer``): conversion to float, normalisation,
random augmentation. A batch transform is either a callable on the batched
input tensor (a function, a ``torch.nn.Module``, an augmentation of another
library), or an object with ``transform_batch(batch) -> Sample`` that sees the
metadata too (to flip a mask with its image, say). Every transform of a batch
runs with torch's random generators seeded from the data module's seed, the
epoch, the batch and the process: runs repeat exactly, and resume exactly.
"""

import math
import numbers
from collections.abc import Sequence
from typing import Final, Protocol, TypeAlias, runtime_checkable

import torch
from torch import Tensor

from ._sample import ModelTransform, Sample

__all__ = [
    "BatchTransform",
    "RandomFlip",
    "SampleTransform",
    "ToFloat",
    "apply_batch_transforms",
    "batch_seed",
]

_GOLDEN: Final = 0x9E3779B97F4A7C15


@runtime_checkable
class SampleTransform(Protocol):
    """A batch transform that sees the whole batch: input and metadata."""

    def transform_batch(self, batch: Sample, /) -> Sample:
        """Return the transformed batch."""
        ...


BatchTransform: TypeAlias = ModelTransform | SampleTransform
"""A transform of a batch on its device: a tensor callable, or a `SampleTransform`."""


def batch_seed(*parts: int) -> int:
    """Mix ``parts`` (seed, epoch, batch, rank...) into one 63-bit seed.

    Examples:
        >>> batch_seed(42, 0, 1) != batch_seed(42, 1, 0)
        True
    """
    mixed = 0
    for part in parts:
        mixed = ((mixed ^ (part & (2**64 - 1))) * _GOLDEN + 1) % 2**64
    return mixed % 2**63


def apply_batch_transforms(
    batch: Sample, transforms: Sequence[BatchTransform], *, seed: int
) -> Sample:
    """Apply ``transforms`` in order, torch's generators seeded with ``seed``.

    The global generators (of the CPU, and of the batch's CUDA device) are
    seeded for the call and restored afterwards, so that random transforms
    draw the same numbers for the same seed, and the rest of the program is
    left alone.

    Raises:
        TypeError: if a transform returns something other than a tensor (or,
            for a `SampleTransform`, a `Sample`).
    """
    device = batch.input.device
    devices = [device] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices, device_type=device.type):
        torch.manual_seed(seed)
        for transform in transforms:
            batch = _apply(transform, batch)
    return batch


def _apply(transform: BatchTransform, batch: Sample) -> Sample:
    if isinstance(transform, SampleTransform):
        result: object = transform.transform_batch(batch)
        if not isinstance(result, Sample):
            msg = (
                f"batch transform {transform!r} returned a `{type(result).__name__}`;"
                " `transform_batch` must return a `Sample`"
            )
            raise TypeError(msg)
        return result
    output: object = transform(batch.input)
    if not isinstance(output, Tensor):
        msg = (
            f"batch transform {transform!r} returned a `{type(output).__name__}`; "
            "batch transforms must return a `torch.Tensor`"
        )
        raise TypeError(msg)
    return Sample(output, batch.metadata)


def _values(given: float | Sequence[float], name: str) -> tuple[float, ...]:
    """Return a number, or a sequence of numbers, as a tuple of floats.

    Raises:
        TypeError: naming ``name``, for anything else (a string, a bool).
    """
    items: object = (given,) if isinstance(given, numbers.Real) else given
    if (
        isinstance(items, str | bytes)
        or not isinstance(items, Sequence)
        or not all(
            isinstance(item, numbers.Real) and not isinstance(item, bool)
            for item in items
        )
    ):
        msg = (
            f"`{name}` is {given!r}; give a number, or one number per channel "
            "(such as [0.485, 0.456, 0.406])"
        )
        raise TypeError(msg)
    return tuple(float(item) for item in items)


class ToFloat:
    """Converts an 8-bit batch to ``float32`` on its device, and normalises it.

    ``(input * scale - mean) / std``, per channel (dimension 1) when ``mean`` and
    ``std`` have one value per channel. Keep images ``uint8`` up to the device
    (``ImageFileLoader(..., dtype="uint8")``) and convert them there: caches,
    batches and copies are 4 times smaller than in ``float32``.

    Examples:
        >>> ToFloat()(torch.tensor([[[[0, 255]]]], dtype=torch.uint8))
        tensor([[[[0., 1.]]]])
    """

    def __init__(
        self,
        scale: float = 1 / 255,
        mean: float | Sequence[float] = (0.0,),
        std: float | Sequence[float] = (1.0,),
    ) -> None:
        """Scale by ``scale``, then subtract ``mean`` and divide by ``std``.

        Args:
            scale: multiplies the input first (1/255 maps 8-bit values to [0, 1]).
            mean: one value (a number, or a sequence of one), or one per channel.
            std: one value, or one per channel; none may be 0.

        Raises:
            TypeError: for a mean or standard deviation that holds no numbers.
            ValueError: for a standard deviation of 0 or lengths that differ.
        """
        mean, std = _values(mean, "mean"), _values(std, "std")
        if len(mean) != len(std) or not mean:
            msg = (
                f"`mean` ({list(mean)}) and `std` ({list(std)}) must have the same, "
                "non-zero number of values: one, or one per channel"
            )
            raise ValueError(msg)
        if any(value == 0 or not math.isfinite(value) for value in std):
            msg = f"`std` ({list(std)}) must hold finite, non-zero values"
            raise ValueError(msg)
        self.scale = scale
        self.mean = tuple(float(value) for value in mean)
        self.std = tuple(float(value) for value in std)

    def __repr__(self) -> str:
        return f"ToFloat(scale={self.scale!r}, mean={self.mean!r}, std={self.std!r})"

    def __call__(self, input: Tensor, /) -> Tensor:  # noqa: A002 - torch's name
        """Return ``input`` as normalised ``float32``, on its device.

        Raises:
            TypeError: for a batch of floats, converted already (scaling it again
                would shrink it 255 times).
            ValueError: for ``mean`` and ``std`` of one value per channel, for
                a batch of another number of channels.
        """
        if input.is_floating_point() or input.dtype == torch.bool:
            msg = (
                f"{self!r} got a batch of {input.dtype}, not of integers: it "
                f"converts integer images (`uint8`), and would multiply this one "
                f"by {self.scale!r}; remove it, or load the images as `uint8` "
                '(`ImageFileLoader(..., dtype="uint8")`)'
            )
            raise TypeError(msg)
        channels = input.shape[1] if input.dim() > 1 else 1
        if len(self.mean) not in {1, channels}:
            msg = (
                f"{self!r} has {len(self.mean)} values of `mean` and `std`, one per "
                f"channel, for a batch of shape {tuple(input.shape)}, whose "
                f"dimension 1 holds {channels} channels; give one value, or "
                f"{channels}"
            )
            raise ValueError(msg)
        shape = (1, -1, *([1] * (input.dim() - 2)))
        mean = torch.tensor(self.mean, device=input.device).view(shape)
        std = torch.tensor(self.std, device=input.device).view(shape)
        output = input.to(torch.float32).mul_(self.scale)
        return output.sub_(mean).div_(std)


class RandomFlip:
    """Flips each item of a batch, with probability ``p``, along dimension ``dim``.

    The metadata tensors named in ``keys`` (masks, regions of interest) are
    flipped with their image.
    """

    def __init__(self, p: float = 0.5, dim: int = -1, keys: Sequence[str] = ()) -> None:
        """Flip each item with probability ``p`` along ``dim`` (-1: left-right).

        Args:
            p: the probability that an item is flipped, in [0, 1].
            dim: the dimension to flip, counted from the end (-1: width, -2:
                height).
            keys: metadata keys of tensors flipped with the input.

        Raises:
            ValueError: for a probability outside [0, 1], or a ``dim`` that is not
                a negative integer.
            TypeError: for ``keys`` that are no list of strings (one string).
        """
        if not _real(p) or not 0 <= p <= 1:
            msg = f"`p` ({p!r}) must be a probability, a number between 0 and 1"
            raise ValueError(msg)
        if type(dim) is not int or dim >= 0:
            msg = (
                f"`dim` ({dim!r}) must be an integer counting from the end: -1 for "
                "width, -2 for height"
            )
            raise ValueError(msg)
        if isinstance(keys, str) or not all(isinstance(key, str) for key in keys):
            msg = (
                f"`keys` ({keys!r}) must be a list of metadata keys, as in "
                "`keys=['target']`"
            )
            raise TypeError(msg)
        self.p = p
        self.dim = dim
        self.keys = tuple(keys)

    def __repr__(self) -> str:
        return f"RandomFlip(p={self.p!r}, dim={self.dim!r}, keys={self.keys!r})"

    def transform_batch(self, batch: Sample, /) -> Sample:
        """Return ``batch`` with the drawn items (and their ``keys``) flipped.

        Raises:
            ValueError: when ``dim`` reaches the batch's first dimension (that of
                its items: flipping it would swap images between items).
        """
        shape = tuple(batch.input.shape)
        if len(shape) < 1 - self.dim:
            msg = (
                f"{self!r}: `dim` {self.dim} is the batch's dimension of items, or "
                f"beyond, for a batch of shape {shape}: flipping it would swap "
                f"images between items; give a dimension of each item, from -1 to "
                f"{1 - len(shape)}"
            )
            raise ValueError(msg)
        metadata = dict(batch.metadata)
        for key in self.keys:
            self._check_flippable(key, metadata.get(key, _MISSING), batch)
        chosen = torch.rand(len(batch.input), device=batch.input.device) < self.p
        for key in self.keys:
            metadata[key] = _flip_items(metadata[key], chosen, self.dim)
        return Sample(_flip_items(batch.input, chosen, self.dim), metadata)

    def _check_flippable(self, key: str, value: object, batch: Sample) -> None:
        """Refuse a key the batch lacks, or a value that is no image-sized tensor.

        Raises:
            LookupError: naming the key and the tensors the batch has.
            TypeError: for a value that is no tensor.
            ValueError: for a tensor that does not line up with the input along
                ``dim``: flipping a vector of labels would swap them between items.
        """
        shape = batch.input.shape
        least = 1 - self.dim  # a batch of items, with dimension `dim`
        if (
            isinstance(value, Tensor)
            and value.dim() >= least
            and value.shape[self.dim] == shape[self.dim]
        ):
            return  # the usual case: a mask
        where = f"{self!r}: metadata `{key}`"
        if value is _MISSING:
            tensors = [k for k, v in batch.metadata.items() if isinstance(v, Tensor)]
            have = ", ".join(f"`{k}`" for k in tensors) or "none"
            msg = (
                f"{where} is not in the batch, whose tensors are {have}; name in "
                "`keys` the masks flipped with the input"
            )
            raise LookupError(msg)
        if not isinstance(value, Tensor):
            msg = f"{where} is a `{type(value).__name__}`, not a tensor"
            raise TypeError(msg)
        msg = (
            f"{where} of shape {tuple(value.shape)} does not line up with the "
            f"input {tuple(shape)} along `dim` {self.dim}: only tensors of "
            "the input's size (masks) are flipped with it; remove it from `keys`"
        )
        raise ValueError(msg)


def _real(value: object) -> bool:
    """Whether ``value`` is a number (an ``int`` or ``float``, no truth value)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


_MISSING: Final = object()
"""A metadata key the batch does not hold."""


def _flip_items(values: Tensor, chosen: Tensor, dim: int) -> Tensor:
    flipped = values.flip(dim)
    mask = chosen.view(-1, *([1] * (values.dim() - 1)))
    return torch.where(mask, flipped, values)
