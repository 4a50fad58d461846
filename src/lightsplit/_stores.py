"""Cached samples of one set: inputs in shared tensors, metadata in columns."""

import functools
import math
import operator
import os
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, NoReturn, Protocol, SupportsIndex

import torch
from torch import Tensor
from torch.utils.data import get_worker_info
from typing_extensions import override

from ._errors import SampleLoadError
from ._metadata import SCALARS, Describe, Packed, collate_values
from ._sample import Sample
from ._serving import OutputBuffers

__all__ = [
    "REUSED_BYTES",
    "Column",
    "ContiguousStore",
    "ObjectColumn",
    "RaggedStore",
    "ReleasedStore",
    "SampleStore",
    "TensorColumn",
    "anonymous_shared_memory",
    "join_columns",
    "select_rows",
    "shared_empty",
    "stack_inputs",
]

REUSED_BYTES: Final = 1 << 20
"""Rows of at least this many bytes are copied into reused output buffers; the
allocator hands smaller ones out of memory it holds already."""


def _new_tensor(shape: Sequence[int], dtype: torch.dtype) -> Tensor:
    """Return an empty tensor, in shared memory when made in a loader worker.

    A worker sends its batches to the main process through shared memory: making
    them there from the start saves a copy (``default_collate`` does the same).
    """
    if get_worker_info() is None:
        return torch.empty(tuple(shape), dtype=dtype)
    return shared_empty(shape, dtype)


def select_rows(
    values: Tensor, index: Tensor, *, buffers: OutputBuffers | None = None
) -> Tensor:
    """Return the rows ``index`` of ``values``, copied in one go.

    The rows go into a new tensor; into shared memory in a loader worker; into
    one of ``buffers`` when given and the rows take `REUSED_BYTES` or more, or
    whatever their size when ``buffers`` are pinned.
    """
    rows = index.shape[0]
    if get_worker_info() is not None:
        out = shared_empty((rows, *values.shape[1:]), values.dtype)
    elif buffers is None or (
        not buffers.pinned
        # the bytes of the rows, cheaply: this runs for every column of a batch
        and rows * values.numel() * values.itemsize
        < REUSED_BYTES * max(values.shape[0], 1)
    ):
        return values.index_select(0, index)
    else:
        out = buffers.take(rows, tuple(values.shape[1:]), values.dtype)
    return torch.index_select(values, 0, index, out=out)


def _nbytes(rows: int, row: Sequence[int], dtype: torch.dtype) -> int:
    return rows * math.prod(row) * dtype.itemsize


def shared_empty(
    shape: Sequence[int], dtype: torch.dtype, *, lazy: bool = False
) -> Tensor:
    """Return an empty tensor in shared memory, seen by every process it reaches.

    ``Tensor.share_memory_`` would copy the tensor into shared memory: allocating
    it there (as ``default_collate`` does) costs no copy. torch reserves every
    page of it at once; with ``lazy`` (on Linux), pages are taken as they are
    first written, by whichever process writes them: a cache build in several
    processes shares that work too, rather than wait for this one to do it all.
    """
    nbytes = _nbytes(1, shape, dtype)
    storage = _lazy_shared(nbytes) if lazy else None
    if storage is None:
        storage = torch.UntypedStorage._new_shared(nbytes)  # type: ignore[no-untyped-call]  # torch leaves it unannotated
    return torch.empty(0, dtype=dtype).set_(storage).view(tuple(shape))


def anonymous_shared_memory() -> bool:
    """Whether `shared_empty` with ``lazy`` takes anonymous memory files.

    Those are bound by memory alone; otherwise shared tensors are files of
    ``/dev/shm`` (on Linux), bound by its free space too.
    """
    return hasattr(os, "memfd_create") and hasattr(
        torch.UntypedStorage, "_new_shared_fd_cpu"
    )


def _lazy_shared(nbytes: int) -> torch.UntypedStorage | None:
    """Return shared memory of ``nbytes`` whose pages are taken when first written.

    An anonymous memory file, mapped as torch maps the shared memory it receives
    from another process. None where there is no such file.
    """
    memfd_create = getattr(os, "memfd_create", None)
    # how torch maps the shared memory of another process; not in its stubs
    from_descriptor: Callable[[int, int], torch.UntypedStorage] | None = getattr(
        torch.UntypedStorage, "_new_shared_fd_cpu", None
    )
    if memfd_create is None or from_descriptor is None or nbytes == 0:
        return None  # pragma: no cover - macOS, another torch, an empty set
    descriptor: int = memfd_create("lightsplit-cache", os.MFD_CLOEXEC)
    try:
        os.ftruncate(descriptor, nbytes)
        return from_descriptor(descriptor, nbytes)  # which keeps a copy of it
    finally:
        os.close(descriptor)


def stack_inputs(inputs: Sequence[Tensor], *, where: Describe) -> Tensor:
    """Stack sample inputs into a batch, or explain why they do not stack.

    ``where(position)`` describes the sample at ``position`` of the batch.

    Raises:
        SampleLoadError: if the inputs differ in shape or dtype, naming the first
            sample that differs from most of the batch (from its first sample,
            where no shape is the most common), a sample of that shape, and
            both shapes.
    """
    first = inputs[0]
    if any(t.shape != first.shape or t.dtype != first.dtype for t in inputs):
        raise SampleLoadError(_unlike(inputs, where))
    out = _new_tensor((len(inputs), *first.shape), first.dtype)
    return torch.stack(list(inputs), out=out)


def _unlike(inputs: Sequence[Tensor], where: Describe) -> str:
    """Say which input of a batch differs in shape or dtype from most of them."""
    kinds = [(tuple(tensor.shape), tensor.dtype) for tensor in inputs]
    counts = Counter(kinds)
    [(usual, most), *rest] = counts.most_common(2)
    if rest and rest[0][1] == most:  # no shape is the most common: the first's
        usual, most = kinds[0], counts[kinds[0]]
    odd = next(i for i, kind in enumerate(kinds) if kind != usual)
    model = kinds.index(usual)
    held = (
        f"the batch's first sample ({where(model)})"
        if most == 1
        else f"{most} of the batch's {len(inputs)} samples (such as {where(model)})"
    )
    return (
        f"{where(odd)}: input is {_describe(inputs[odd])} but "
        f"{_describe(inputs[model])} in {held}; add a model "
        "transform that gives every sample the same shape and dtype (or, for "
        "samples with masks, resize both in the loader: a model transform sees "
        "the input alone), or use a `batch_size` of 1"
    )


def _describe(tensor: Tensor) -> str:
    return f"{tuple(tensor.shape)} {tensor.dtype}"


class Column(Protocol):
    """One metadata key of a cached set."""

    def get(self, index: int) -> object:
        """Return the value of sample ``index``, as the loader returned it."""
        ...

    def gather(
        self,
        index: Tensor,
        *,
        key: str,
        where: Describe,
        buffers: OutputBuffers | None = None,
    ) -> object:
        """Return the values at ``index`` as ``default_collate`` would.

        ``key`` names the column and ``where(index)`` describes the sample
        ``index`` of the set, should the values not batch. A tensor of values
        may go into one of ``buffers`` (see `select_rows`).
        """
        ...


@dataclass(frozen=True, slots=True)
class TensorColumn:
    """Numbers (one Python type) or same-shape tensors, held as one tensor."""

    values: Tensor
    scalar: type[bool | int | float] | None

    def get(self, index: int) -> object:
        value = self.values[index]
        return self.scalar(value.item()) if self.scalar else value.clone()

    def gather(
        self,
        index: Tensor,
        *,
        key: str,
        where: Describe,
        buffers: OutputBuffers | None = None,
    ) -> Tensor:
        return select_rows(self.values, index, buffers=buffers)


@dataclass(frozen=True, slots=True)
class ObjectColumn:
    """Strings, tensors of several shapes or other values, held as a tuple."""

    values: tuple[Any, ...]
    strings: bool

    def get(self, index: int) -> object:
        return self.values[index]

    def gather(
        self,
        index: Tensor,
        *,
        key: str,
        where: Describe,
        buffers: OutputBuffers | None = None,
    ) -> object:
        positions = index.tolist()
        if len(positions) == 1:
            picked = [self.values[positions[0]]]
        else:
            picked = list(operator.itemgetter(*positions)(self.values))
        if self.strings:
            return picked
        return collate_values(
            key, picked, where=lambda position: where(positions[position])
        )


def _join(parts: Sequence[Packed], kind: type) -> Column:
    """Return the column of one key from its values packed span by span, in order.

    Spans stacked into tensors of one row shape and dtype are concatenated into
    one shared tensor; the values of any other key are kept one by one.
    """
    tensors = [part for part in parts if isinstance(part, Tensor)]
    first = tensors[0] if tensors else None
    if first is not None and len(tensors) == len(parts):
        row, dtype = first.shape[1:], first.dtype
        if all(part.shape[1:] == row and part.dtype == dtype for part in tensors):
            values = shared_empty((sum(map(len, tensors)), *row), dtype)
            torch.cat(tensors, out=values)
            return TensorColumn(values, kind if kind in SCALARS else None)
    items: list[object] = []
    for part in parts:
        if isinstance(part, list):
            items.extend(part)
        elif kind in SCALARS:
            items.extend(part.tolist())  # back to Python numbers
        else:
            items.extend(part.unbind())
    return ObjectColumn(tuple(items), strings=kind is str)


def join_columns(
    parts: Sequence[Mapping[str, Packed]], kinds: Mapping[str, type]
) -> dict[str, Column]:
    """Return one column per metadata key from spans packed by `pack_values`.

    Args:
        parts: each span's values packed by key, in the order of the set.
        kinds: the type of each key's values.
    """
    return {
        key: _join([part[key] for part in parts], kind) for key, kind in kinds.items()
    }


class SampleStore:
    """The cached samples of one set, read one by one or gathered by batch.

    ``where`` describes a sample of the set in messages (`SetSource.where`, which
    names its raw entry); without it, messages name the set and index only.
    """

    def __init__(
        self,
        name: str,
        columns: Mapping[str, Column],
        size: int,
        *,
        where: Describe | None = None,
    ) -> None:
        self.name = name
        self.columns = dict(columns)
        self._size = size
        self._where = where
        self.origin: tuple[Callable[..., SampleStore], tuple[object, ...]] | None = None
        """How another process opens the store again (a function and its
        arguments), pickled in place of its tensors: a store mapped from a
        cache file is mapped from it again, not copied into shared memory."""

    def __reduce_ex__(self, protocol: SupportsIndex) -> str | tuple[Any, ...]:
        """Pickle a store mapped from a file as that file (`origin`)."""
        if self.origin is not None:
            return self.origin
        return super().__reduce_ex__(protocol)

    def drop(self) -> None:
        """Let go of the memory the store holds: its set was released.

        What still refers to the store (a gathering task of a loader that an
        exception left running) then holds nothing large.
        """
        self.columns = {}

    def where(self, index: int) -> str:
        """Describe sample ``index`` of the set: its set, index and raw entry."""
        if self._where is None:
            return f"set `{self.name}`, index {index}"
        return self._where(index)

    def __len__(self) -> int:
        return self._size

    def input(self, index: int) -> Tensor:
        """Return a copy of the input of sample ``index``."""
        raise NotImplementedError

    def gather_inputs(
        self, indices: Tensor, *, buffers: OutputBuffers | None = None
    ) -> Tensor:
        """Return the inputs of ``indices`` stacked into one tensor.

        The tensor is new, or one of ``buffers`` (see `select_rows`).
        """
        raise NotImplementedError

    @property
    def nbytes(self) -> int:
        """Bytes held by the inputs and the tensor columns."""
        raise NotImplementedError

    @property
    def row_nbytes(self) -> int:
        """Bytes of one input when all share one shape and dtype (else 0)."""
        return 0

    def get(self, index: int) -> Sample:
        """Return sample ``index`` as the loader (and transforms) produced it."""
        metadata = {key: column.get(index) for key, column in self.columns.items()}
        return Sample(self.input(index), metadata)

    def gather(self, indices: Sequence[int] | Tensor) -> Sample:
        """Return samples ``indices`` as one batch, as if collated one by one.

        The copies run on one intra-op thread (see `one_intra_op_thread`): a
        batch is too small to gain from more, and when another process holds a
        core, torch's threads would wait for each other far longer than the
        copy takes.
        """
        threads = torch.get_num_threads()  # as one_intra_op_thread, but cheaper
        if threads == 1:
            return self.collect(indices)
        torch.set_num_threads(1)
        try:
            return self.collect(indices)
        finally:
            torch.set_num_threads(threads)

    def collect(
        self,
        indices: Sequence[int] | Tensor,
        *,
        buffers: OutputBuffers | None = None,
    ) -> Sample:
        """Return samples ``indices`` as one batch, on the caller's torch threads.

        `gather` runs it on one intra-op thread; a thread that has one already
        (see `gather_ahead`) calls it directly. Large copies go into
        ``buffers`` when given (see `select_rows`).
        """
        index = (
            indices
            if isinstance(indices, Tensor) and indices.dtype == torch.long
            else torch.as_tensor(indices, dtype=torch.long)
        )
        metadata = {
            key: column.gather(index, key=key, where=self.where, buffers=buffers)
            for key, column in self.columns.items()
        }
        return Sample(self.gather_inputs(index, buffers=buffers), metadata)

    def collector(
        self, *, buffers: OutputBuffers | None = None
    ) -> Callable[[Tensor], Sample]:
        """Return `collect` of index tensors with ``buffers``, batch after batch."""
        return functools.partial(self.collect, buffers=buffers)


class ReleasedStore(SampleStore):
    """What a set's store becomes once its data module has torn the set down.

    Loaders made before ``teardown`` (which a trainer keeps, and a model keeps
    its trainer) would otherwise keep the cache's memory for as long as they
    live; they now fail, saying why.
    """

    def __init__(self, name: str, size: int) -> None:
        super().__init__(name, {}, size)

    def _released(self) -> NoReturn:
        msg = (
            f"set `{self.name}` was released by the data module's `teardown`, its "
            "cache with it; call `setup` again and ask for a new loader"
        )
        raise RuntimeError(msg)

    @override
    def input(self, index: int) -> Tensor:
        self._released()

    @override
    def gather_inputs(
        self, indices: Tensor, *, buffers: OutputBuffers | None = None
    ) -> Tensor:
        self._released()

    @property
    @override
    def nbytes(self) -> int:
        return 0

    @override
    def get(self, index: int) -> Sample:
        self._released()

    @override
    def collect(
        self,
        indices: Sequence[int] | Tensor,
        *,
        buffers: OutputBuffers | None = None,
    ) -> Sample:
        self._released()

    @override
    def collector(
        self, *, buffers: OutputBuffers | None = None
    ) -> Callable[[Tensor], Sample]:
        self._released()


class ContiguousStore(SampleStore):
    """Samples of one shape and dtype: inputs in one ``(N, ...)`` shared tensor."""

    def __init__(
        self,
        name: str,
        inputs: Tensor,
        columns: Mapping[str, Column],
        *,
        where: Describe | None = None,
    ) -> None:
        super().__init__(name, columns, len(inputs), where=where)
        self.inputs = inputs

    @override
    def drop(self) -> None:
        super().drop()
        self.inputs = torch.empty((0, *self.inputs.shape[1:]), dtype=self.inputs.dtype)

    def input(self, index: int) -> Tensor:
        return self.inputs[index].clone()

    def gather_inputs(
        self, indices: Tensor, *, buffers: OutputBuffers | None = None
    ) -> Tensor:
        return select_rows(self.inputs, indices, buffers=buffers)

    def collector(
        self, *, buffers: OutputBuffers | None = None
    ) -> Callable[[Tensor], Sample]:
        """Return `collect` of index tensors, as directly as it can run.

        Into new tensors in this process (no ``buffers``, not a loader worker),
        every batch comes from one ``index_select`` per tensor, with nothing
        decided again per batch: for small batches, those decisions would cost
        a noticeable share of the copy. Nor does it run a frame of Python more
        than it must: a dict comprehension and ``Sample``'s own ``__new__``
        each run one. Next to a busy core, gathering 48,000 small images on one
        thread took 0.97x to 1.17x a bare loop of ``index_select`` with them,
        0.87x to 1.03x without (the whole loader's epoch measured no change
        beyond the machine's noise).
        """
        if buffers is not None or get_worker_info() is not None:
            return super().collector(buffers=buffers)
        inputs, where, new = self.inputs, self.where, tuple.__new__
        plan = tuple(
            (key, column.values if isinstance(column, TensorColumn) else None, column)
            for key, column in self.columns.items()
        )

        def collect(index: Tensor) -> Sample:
            metadata: dict[str, object] = {}
            for key, values, column in plan:
                metadata[key] = (
                    column.gather(index, key=key, where=where)
                    if values is None
                    else values.index_select(0, index)
                )
            return new(Sample, (inputs.index_select(0, index), metadata))

        return collect

    @property
    def nbytes(self) -> int:
        return self.inputs.nbytes + _column_bytes(self.columns)

    @property
    def row_nbytes(self) -> int:
        return _nbytes(1, self.inputs.shape[1:], self.inputs.dtype)


class RaggedStore(SampleStore):
    """Samples of several shapes: inputs packed in one flat buffer per dtype."""

    def __init__(
        self,
        name: str,
        buffers: Mapping[torch.dtype, Tensor],
        layout: Sequence[tuple[torch.dtype, int, tuple[int, ...]]],
        columns: Mapping[str, Column],
        *,
        where: Describe | None = None,
    ) -> None:
        super().__init__(name, columns, len(layout), where=where)
        self.buffers = dict(buffers)
        self.layout = tuple(layout)

    @override
    def drop(self) -> None:
        super().drop()
        self.buffers = {}

    @classmethod
    def pack(
        cls,
        name: str,
        inputs: Sequence[Tensor],
        columns: Mapping[str, Column],
        *,
        where: Describe | None = None,
    ) -> "RaggedStore":
        """Copy ``inputs`` into shared buffers, one per dtype."""
        totals: dict[torch.dtype, int] = {}
        layout: list[tuple[torch.dtype, int, tuple[int, ...]]] = []
        for tensor in inputs:
            offset = totals.get(tensor.dtype, 0)
            layout.append((tensor.dtype, offset, tuple(tensor.shape)))
            totals[tensor.dtype] = offset + tensor.numel()
        buffers = {dtype: shared_empty((n,), dtype) for dtype, n in totals.items()}
        for tensor, (dtype, offset, _) in zip(inputs, layout, strict=True):
            buffers[dtype][offset : offset + tensor.numel()] = tensor.reshape(-1)
        return cls(name, buffers, layout, columns, where=where)

    def _view(self, index: int) -> Tensor:
        dtype, offset, shape = self.layout[index]
        return self.buffers[dtype][offset : offset + math.prod(shape)].view(shape)

    def input(self, index: int) -> Tensor:
        return self._view(index).clone()

    def gather_inputs(
        self, indices: Tensor, *, buffers: OutputBuffers | None = None
    ) -> Tensor:
        positions = indices.tolist()
        views = [self._view(index) for index in positions]
        return stack_inputs(
            views, where=lambda position: self.where(positions[position])
        )

    @property
    def nbytes(self) -> int:
        inputs = sum(buffer.nbytes for buffer in self.buffers.values())
        return inputs + _column_bytes(self.columns)


def _column_bytes(columns: Mapping[str, Column]) -> int:
    return sum(c.values.nbytes for c in columns.values() if isinstance(c, TensorColumn))
