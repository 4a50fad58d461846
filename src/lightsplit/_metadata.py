"""The rules a set's metadata follows, checked wherever values are gathered by key.

Every sample of a set has the metadata keys of the first, and gives each key
values of one type (``bool`` and ``int`` are two types; any tensor is a
`Tensor`, whatever its shape); the tensors of one key in one batch also share a
shape. A cache build checks each sample against the set's first as it packs a
span of samples key by key; batch collation checks each batch against its first
sample. Both report a sample that breaks a rule in the same words.
"""

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Final, NamedTuple, TypeAlias, cast

import torch
from torch import Tensor
from torch.utils.data import default_collate

from ._errors import SampleLoadError, format_list, preview

__all__ = [
    "NONE_HELD",
    "SCALARS",
    "Describe",
    "MetadataRules",
    "Packed",
    "SpanPacker",
    "collate_metadata",
    "collate_values",
    "kind_of",
    "pack_values",
]

NONE_HELD: Final = (
    "which no batch can hold (at any batch size); leave it out of the metadata, or "
    "give it a value in every sample (such as -1, NaN or an empty string)"
)
"""What is said of a metadata value None, wherever it is (at the top or nested)."""

SCALARS: Final = (bool, int, float)
"""Python numbers: one tensor holds a key's values when they are all of one."""

Describe: TypeAlias = Callable[[int], str]
"""Describes the sample at a position (of a set, or of a batch) in messages."""

Packed: TypeAlias = Tensor | list[object]
"""A key's values over a span of samples: one tensor when they stack, else a list."""


def kind_of(value: object) -> type:
    """Return the type the rules compare: ``type(value)``, any tensor a `Tensor`."""
    return Tensor if isinstance(value, Tensor) else type(value)


class MetadataRules:
    """The metadata keys and value types of a first sample, which the others share.

    Args:
        first: the metadata of the sample the others are compared with.
        described: that sample in messages (``sample 0 (set `train`, ...)``).
    """

    def __init__(self, first: Mapping[str, object], *, described: str) -> None:
        self.kinds = {key: kind_of(value) for key, value in first.items()}
        self.described = described

    def check(
        self, metadata: Mapping[str, object], position: int, where: Describe
    ) -> None:
        """Check the metadata of the sample ``where(position)`` describes.

        Raises:
            SampleLoadError: naming the sample, and the keys that differ or the
                key whose value is of another type, with both types.
        """
        kinds = self.kinds
        if metadata.keys() != kinds.keys():
            raise self._keys_differ(metadata, where(position))
        for key, kind in kinds.items():
            value = metadata[key]
            if type(value) is not kind and kind_of(value) is not kind:
                msg = (
                    f"{where(position)}: metadata `{key}` is of type "
                    f"`{kind_of(value).__name__}` but of type `{kind.__name__}` in "
                    f"{self.described}; give `{key}` values of one type in every "
                    "sample of a set"
                )
                raise SampleLoadError(msg)

    def _keys_differ(
        self, metadata: Mapping[str, object], where: str
    ) -> SampleLoadError:
        found, expected = set(metadata), set(self.kinds)
        extra, missing = sorted(found - expected, key=str), sorted(expected - found)
        changes = [
            f"{label} {format_list([str(key) for key in keys])}"
            for label, keys in (("extra", extra), ("missing", missing))
            if keys
        ]
        msg = (
            f"{where}: metadata keys {sorted(found, key=str)} differ from those of "
            f"{self.described} {sorted(expected)} ({', '.join(changes)}); give every "
            "sample of a set the same metadata keys"
        )
        return SampleLoadError(msg)


def pack_values(values: list[object], kind: type) -> Packed:
    """Pack one key's values over a span of samples, all of type ``kind``.

    Numbers become the tensor ``default_collate`` makes of them (``float`` as
    ``float64``), tensors of one shape and dtype one stacked tensor; other
    values (strings, tensors of several shapes...) stay a list.
    """
    if kind in SCALARS:
        try:
            return torch.tensor(values, dtype=torch.float64 if kind is float else None)
        except (OverflowError, RuntimeError, ValueError):  # ints beyond 64 bits
            return values
    if kind is Tensor:
        tensors = cast(list[Tensor], values)  # every value is a tensor, as checked
        first = tensors[0]
        if all(t.shape == first.shape and t.dtype == first.dtype for t in tensors):
            return torch.stack([tensor.detach() for tensor in tensors])
    return values


class SpanPacker:
    """Packs one key's values over a span of ``count`` samples, as they come.

    The result is that of `pack_values` on all of them; tensors of the first's
    shape and dtype are copied into one tensor of ``count`` rows as they are
    added, and the loader's own tensor is let go at once. Kept one by one,
    small tensors that live for a whole span sit between the large temporary
    buffers of later samples (a decoded image, its conversion) and keep the
    allocator from reusing their memory: each sample then takes new memory
    from the system, page by page, three times slower to convert an image.
    """

    def __init__(self, kind: type, count: int) -> None:
        self._kind = kind
        self._count = count
        self._rows: Tensor | None = None
        self._filled = 0
        self._items: list[object] = []

    def add(self, value: object) -> None:
        """Add the value of the next sample of the span."""
        rows = self._rows
        if self._kind is Tensor and not self._items:
            tensor = cast(Tensor, value)  # every value is a tensor, as checked
            if rows is None:
                rows = self._rows = torch.empty(
                    (self._count, *tensor.shape),
                    dtype=tensor.dtype,
                    device=tensor.device,
                )
            if (
                tensor.shape == rows.shape[1:]
                and tensor.dtype == rows.dtype
                and tensor.device == rows.device
            ):
                rows[self._filled].copy_(tensor.detach())
                self._filled += 1
                return
            # another shape: the values stay one by one, as pack_values keeps them
            self._items = [row.clone() for row in rows[: self._filled]]
            self._rows = None
        self._items.append(value)

    def packed(self) -> Packed:
        """Return the values added, packed by key as `pack_values` packs them."""
        if self._rows is not None:
            return self._rows[: self._filled]
        return pack_values(self._items, self._kind)


def collate_values(key: str, values: Sequence[object], *, where: Describe) -> object:
    """Collate one key's values of a batch as ``default_collate`` does, or explain.

    ``where(position)`` describes the sample at ``position`` of the batch.

    Every value must have the first's structure, nested values included:
    ``default_collate`` takes a dict's keys from the first (a key missing from
    another fails without naming it, one more is dropped) and stacks tensors
    into the first's dtype in a loader's worker processes but into the widest
    one elsewhere, so that one batch would differ by where it is made.

    Raises:
        SampleLoadError: if a value differs from the first in structure (tensors
            of another shape or dtype, dicts of other keys, lists of another
            length), naming the key, the first sample that differs, the batch's
            first, and both.
    """
    first = values[0]
    if isinstance(first, Tensor | Mapping | list | tuple):
        for position, value in enumerate(values[1:], start=1):
            problem = _difference(first, value)
            if problem is not None:
                raise _unlike(key, problem, position, where)
    if isinstance(first, int):
        _refuse_wide_int(key, values, where)
    try:
        return default_collate(list(values))
    except (TypeError, RuntimeError) as exc:
        raise _uncollated(key, values, where, exc) from exc


class _Difference(NamedTuple):
    """Where a value differs from the batch's first in structure, and how."""

    at: str
    """The place in the key's value (``["box"]``, ``[2]``), empty for the value."""
    how: str
    """What differs: ``a tensor of dtype torch.float32 but of dtype torch.uint8``."""
    fix: str
    """What to make one in every sample: ``one dtype (in the loader, ...)``."""


def _difference(first: object, other: object, at: str = "") -> _Difference | None:
    """Return where ``other`` differs from ``first`` in structure, or ``None``."""
    if isinstance(first, Tensor) and isinstance(other, Tensor):
        return _tensor_difference(first, other, at)
    pairs: Iterable[tuple[object, object, str]] = ()
    if isinstance(first, Mapping) and isinstance(other, Mapping):
        if set(other) != set(first):
            extra = ", ".join(f"`{k}`" for k in other if k not in first)
            missing = ", ".join(f"`{k}`" for k in first if k not in other)
            said = "; ".join(
                part
                for part in (extra and f"extra {extra}", missing and f"no {missing}")
                if part
            )
            how = f"a dict of keys {list(other)} but {list(first)} ({said})"
            return _Difference(at, how, _ONE_STRUCTURE)
        pairs = ((v, other[k], f"{at}[{k!r}]") for k, v in first.items())
    elif isinstance(first, list | tuple) and isinstance(other, list | tuple):
        if len(other) != len(first):
            how = f"a list of {len(other)} items but of {len(first)}"
            return _Difference(at, how, _ONE_STRUCTURE)
        pairs = ((v, other[i], f"{at}[{i}]") for i, v in enumerate(first))
    # other types of their own are told by collating
    return next((d for f, o, a in pairs if (d := _difference(f, o, a))), None)


_ONE_STRUCTURE: Final = (
    "values of one structure in every sample (dicts of one set of keys, lists of "
    "one length), or use a `batch_size` of 1"
)


def _tensor_difference(first: Tensor, other: Tensor, at: str) -> _Difference | None:
    if other.shape != first.shape:
        how = (
            f"a tensor of shape {tuple(other.shape)} but of shape {tuple(first.shape)}"
        )
        return _Difference(
            at, how, "one shape in every sample, or use a `batch_size` of 1"
        )
    if other.dtype != first.dtype:
        how = f"a tensor of dtype {other.dtype} but of dtype {first.dtype}"
        fix = (
            "one dtype in every sample (in the loader, "
            f"`torch.tensor(value, dtype={first.dtype})`)"
        )
        return _Difference(at, how, fix)
    return None


def _unlike(
    key: str, difference: _Difference, position: int, where: Describe
) -> SampleLoadError:
    """Say that the value of ``key`` at ``position`` differs from the first's."""
    named = f"`{key}{difference.at}`"
    return SampleLoadError(
        f"{where(position)}: metadata {named} is {difference.how} in the batch's "
        f"first sample ({where(0)}); give {named} {difference.fix}"
    )


def _refuse_wide_int(key: str, values: Sequence[object], where: Describe) -> None:
    """Refuse an integer that a batch's tensor (64-bit) cannot hold.

    Raises:
        SampleLoadError: naming the sample, the key and the value.
    """
    for position, value in enumerate(values):
        if type(value) is int and not _INT64_MIN <= value <= _INT64_MAX:
            msg = (
                f"{where(position)}: metadata `{key}` is {value}, beyond what a "
                f"batch's 64-bit integers hold ({_INT64_MIN} to {_INT64_MAX}); "
                f"give `{key}` as a string (`str(value)`)"
            )
            raise SampleLoadError(msg)


_INT64_MIN: Final = -(2**63)
_INT64_MAX: Final = 2**63 - 1


def _uncollated(
    key: str, values: Sequence[object], where: Describe, exc: Exception
) -> SampleLoadError:
    """Say which sample's value of ``key`` does not go with the batch's first.

    Values nested in lists and dicts are collated item by item, so lists of
    several lengths, dicts of other keys, or items of other types deep inside
    fail in torch (with its own words, which name no sample).
    """
    for position, value in enumerate(values):
        place = _none_in(value)
        if place is not None:  # no batch holds it, whatever the others hold
            return SampleLoadError(
                f"{where(position)}: metadata `{key}{place}` is None, {NONE_HELD}"
            )
    position = next(
        (p for p in range(1, len(values)) if not _collates(values[0], values[p])), 0
    )
    reason = (
        str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    )
    other = (
        f"{where(position)} (with the batch's first sample, {where(0)})"
        if position
        else f"the batch's first sample ({where(0)})"
    )
    return SampleLoadError(
        f"{other}: metadata `{key}` cannot be collated into a batch ({reason}): "
        f"{preview(values[position])} against {preview(values[0])}; give `{key}` "
        "values of one structure in every sample (lists of one length, dicts of "
        "one set of keys, items of one type), or use a `batch_size` of 1"
    )


def _none_in(value: object, at: str = "") -> str | None:
    """Return where ``value`` holds None, nested in dicts, lists and tuples, if it does.

    ``""`` is ``value`` itself; ``['roi']`` or ``[2]`` a place within it.
    """
    if value is None:
        return at
    items: Iterable[tuple[object, object]] = ()
    if isinstance(value, Mapping):
        items = value.items()
    elif isinstance(value, list | tuple):
        items = enumerate(value)
    return next(
        (p for k, v in items if (p := _none_in(v, f"{at}[{k!r}]")) is not None), None
    )


def _collates(first: object, other: object) -> bool:
    """Whether ``first`` and ``other`` collate together."""
    try:
        default_collate([first, other])
    except (TypeError, RuntimeError):
        return False
    return True


def collate_metadata(
    metadata: Sequence[Mapping[str, object]], *, where: Describe
) -> dict[str, object]:
    """Collate the metadata of a batch's samples key by key, as ``default_collate``.

    ``where(position)`` describes the sample at ``position`` of the batch.

    Raises:
        SampleLoadError: if a sample's metadata keys or value types differ from
            those of the batch's first sample, or a key's tensors differ in shape.
    """
    rules = MetadataRules(
        metadata[0], described=f"the batch's first sample ({where(0)})"
    )
    for position in range(1, len(metadata)):
        rules.check(metadata[position], position, where)
    return {
        key: collate_values(key, [values[key] for values in metadata], where=where)
        for key in rules.kinds
    }
