"""Cached sets: inputs in one shared tensor, metadata in columns, served by batch."""

import errno
import logging
import math
import mmap
import multiprocessing
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Protocol

import torch
from torch import Tensor
from torch.utils.data import default_collate, get_worker_info
from tqdm import tqdm

from ._errors import SampleLoadError
from ._memory import check_cache_fits, format_bytes
from ._sample import Sample
from ._sources import ModelTransform, SetSource

__all__ = [
    "Column",
    "ContiguousStore",
    "FileInputs",
    "ObjectColumn",
    "RaggedStore",
    "SampleStore",
    "TensorColumn",
    "build_store",
    "map_file",
    "open_map",
    "reserve_file",
    "stack_inputs",
]

_LOG: Final = logging.getLogger("lightsplit")
_SCALARS: Final = (bool, int, float)


def _new_tensor(shape: Sequence[int], dtype: torch.dtype) -> Tensor:
    """Return an empty tensor, in shared memory when made in a loader worker.

    A worker sends its batches to the main process through shared memory: making
    them there from the start saves a copy (``default_collate`` does the same).
    """
    if get_worker_info() is None:
        return torch.empty(tuple(shape), dtype=dtype)
    return _shared_empty(shape, dtype)


def _shared_empty(shape: Sequence[int], dtype: torch.dtype) -> Tensor:
    """Return an empty tensor in shared memory, seen by every process it reaches.

    ``Tensor.share_memory_`` would copy the tensor into shared memory: allocating
    it there (as ``default_collate`` does) costs no copy.
    """
    nbytes = math.prod(shape) * dtype.itemsize
    storage: torch.UntypedStorage = torch.UntypedStorage._new_shared(nbytes)  # type: ignore[no-untyped-call]  # torch leaves it unannotated
    return torch.empty(0, dtype=dtype).set_(storage).view(tuple(shape))


def _shared_copy(tensor: Tensor) -> Tensor:
    """Return a copy of ``tensor`` in shared memory."""
    return _shared_empty(tensor.shape, tensor.dtype).copy_(tensor)


def open_map(path: Path, *, writable: bool) -> mmap.mmap:
    """Map the whole file at ``path``, without reading it.

    Writable maps are shared (writes reach the file and every process mapping it);
    read maps are private copy-on-write, so nothing can change the file.
    """
    with path.open("r+b" if writable else "rb") as file:
        access = mmap.ACCESS_WRITE if writable else mmap.ACCESS_COPY
        return mmap.mmap(file.fileno(), 0, access=access)


def map_file(path: Path, *, writable: bool) -> Tensor:
    """Map the whole file at ``path`` as a ``uint8`` tensor (see :func:`open_map`)."""
    return torch.frombuffer(open_map(path, writable=writable), dtype=torch.uint8)


def reserve_file(path: Path, size: int) -> None:
    """Create ``path`` with ``size`` bytes reserved on disk.

    Reserving up front turns a full disk into an ``OSError`` now rather than a
    crash (``SIGBUS``) when a mapped page cannot be written later.

    Raises:
        OSError: when the file cannot be created or the disk is full.
    """
    with path.open("wb") as file:
        try:
            os.posix_fallocate(file.fileno(), 0, size)
        except OSError as exc:
            if exc.errno not in (errno.EOPNOTSUPP, errno.EINVAL):
                raise
            file.truncate(size)  # this file system cannot reserve: best effort


@dataclass(frozen=True)
class FileInputs:
    """Inputs built straight into a file at ``offset``: the start of a cache file."""

    path: Path
    offset: int

    def allocate(self, shape: Sequence[int], dtype: torch.dtype) -> Tensor:
        """Create the file and return its inputs region as a tensor.

        Raises:
            OSError: when the file cannot be created or the disk is full.
        """
        nbytes = math.prod(shape) * dtype.itemsize
        reserve_file(self.path, self.offset + nbytes)
        return self.map(shape, dtype)

    def map(self, shape: Sequence[int], dtype: torch.dtype) -> Tensor:
        """Map the inputs region of the file, for this process to write."""
        nbytes = math.prod(shape) * dtype.itemsize
        region = map_file(self.path, writable=True)[self.offset : self.offset + nbytes]
        return region.view(dtype).view(tuple(shape))


def stack_inputs(inputs: Sequence[Tensor], *, where: str) -> Tensor:
    """Stack sample inputs into a batch, or explain why they do not stack.

    Raises:
        SampleLoadError: if the inputs differ in shape or dtype.
    """
    first = inputs[0]
    for position, tensor in enumerate(inputs):
        if tensor.shape != first.shape or tensor.dtype != first.dtype:
            msg = (
                f"{where}: samples of one batch differ: input {position} is "
                f"{_describe(tensor)}, input 0 is {_describe(first)}; add a model "
                "transform that gives every sample the same shape and dtype, "
                "or use a `batch_size` of 1"
            )
            raise SampleLoadError(msg)
    out = _new_tensor((len(inputs), *first.shape), first.dtype)
    return torch.stack(list(inputs), out=out)


def _describe(tensor: Tensor) -> str:
    return f"{tuple(tensor.shape)} {tensor.dtype}"


class Column(Protocol):
    """One metadata key of a cached set."""

    def get(self, index: int) -> object:
        """Return the value of sample ``index``, as the loader returned it."""
        ...

    def gather(self, indices: Tensor) -> object:
        """Return the values of ``indices`` collated as ``default_collate`` would."""
        ...


@dataclass(frozen=True, slots=True)
class TensorColumn:
    """Numbers (one Python type) or same-shape tensors, held as one tensor."""

    values: Tensor
    scalar: type[bool | int | float] | None

    def get(self, index: int) -> object:
        value = self.values[index]
        return self.scalar(value.item()) if self.scalar else value.clone()

    def gather(self, indices: Tensor) -> Tensor:
        out = _new_tensor((len(indices), *self.values.shape[1:]), self.values.dtype)
        return torch.index_select(self.values, 0, indices, out=out)


@dataclass(frozen=True, slots=True)
class ObjectColumn:
    """Strings, or values of mixed types, held as a tuple."""

    values: tuple[Any, ...]
    strings: bool

    def get(self, index: int) -> object:
        return self.values[index]

    def gather(self, indices: Tensor) -> object:
        picked = [self.values[index] for index in indices.tolist()]
        return picked if self.strings else default_collate(picked)


def _column(values: Sequence[object]) -> Column:
    kinds = {type(value) for value in values}
    if len(kinds) == 1:
        kind = kinds.pop()
        if kind in _SCALARS:
            # float64 for floats, as ``default_collate`` makes them
            dtype = torch.float64 if kind is float else None
            return TensorColumn(_shared_copy(torch.tensor(values, dtype=dtype)), kind)
        if kind is str:
            return ObjectColumn(tuple(values), strings=True)
        if issubclass(kind, Tensor):
            tensors: list[Tensor] = list(values)  # type: ignore[arg-type]  # all Tensor, checked above
            first = tensors[0]
            if all(t.shape == first.shape and t.dtype == first.dtype for t in tensors):
                stacked = _shared_empty((len(tensors), *first.shape), first.dtype)
                torch.stack([t.detach() for t in tensors], out=stacked)
                return TensorColumn(stacked, None)
    return ObjectColumn(tuple(values), strings=False)


def _columns(
    metadata: Sequence[Mapping[str, Any]], source: SetSource
) -> dict[str, Column]:
    keys = list(metadata[0])
    expected = set(keys)
    for index, item in enumerate(metadata):
        if set(item) != expected:
            msg = (
                f"{source.where(index)}: metadata keys {sorted(item)} differ from "
                f"those of sample 0 {sorted(expected)}; every sample of a set must "
                "have the same metadata keys"
            )
            raise SampleLoadError(msg)
    return {key: _column([item[key] for item in metadata]) for key in keys}


class SampleStore:
    """The cached samples of one set, read one by one or gathered by batch."""

    def __init__(self, name: str, columns: Mapping[str, Column], size: int) -> None:
        self.name = name
        self.columns = dict(columns)
        self._size = size

    def __len__(self) -> int:
        return self._size

    def input(self, index: int) -> Tensor:
        """Return a copy of the input of sample ``index``."""
        raise NotImplementedError

    def gather_inputs(self, indices: Tensor) -> Tensor:
        """Return the inputs of ``indices`` stacked into one new tensor."""
        raise NotImplementedError

    @property
    def nbytes(self) -> int:
        """Bytes held by the inputs and the tensor columns."""
        raise NotImplementedError

    def get(self, index: int) -> Sample:
        """Return sample ``index`` as the loader (and transforms) produced it."""
        metadata = {key: column.get(index) for key, column in self.columns.items()}
        return Sample(self.input(index), metadata)

    def gather(self, indices: Sequence[int]) -> Sample:
        """Return samples ``indices`` as one batch, as if collated one by one."""
        index = torch.as_tensor(indices, dtype=torch.long)
        metadata = {key: column.gather(index) for key, column in self.columns.items()}
        return Sample(self.gather_inputs(index), metadata)


class ContiguousStore(SampleStore):
    """Samples of one shape and dtype: inputs in one ``(N, ...)`` shared tensor."""

    def __init__(
        self, name: str, inputs: Tensor, columns: Mapping[str, Column]
    ) -> None:
        super().__init__(name, columns, len(inputs))
        self.inputs = inputs

    def input(self, index: int) -> Tensor:
        return self.inputs[index].clone()

    def gather_inputs(self, indices: Tensor) -> Tensor:
        out = _new_tensor((len(indices), *self.inputs.shape[1:]), self.inputs.dtype)
        return torch.index_select(self.inputs, 0, indices, out=out)

    @property
    def nbytes(self) -> int:
        return self.inputs.nbytes + _column_bytes(self.columns)


class RaggedStore(SampleStore):
    """Samples of several shapes: inputs packed in one flat buffer per dtype."""

    def __init__(
        self,
        name: str,
        buffers: Mapping[torch.dtype, Tensor],
        layout: Sequence[tuple[torch.dtype, int, tuple[int, ...]]],
        columns: Mapping[str, Column],
    ) -> None:
        super().__init__(name, columns, len(layout))
        self.buffers = dict(buffers)
        self.layout = tuple(layout)

    @classmethod
    def pack(
        cls, name: str, inputs: Sequence[Tensor], columns: Mapping[str, Column]
    ) -> "RaggedStore":
        """Copy ``inputs`` into shared buffers, one per dtype."""
        totals: dict[torch.dtype, int] = {}
        layout: list[tuple[torch.dtype, int, tuple[int, ...]]] = []
        for tensor in inputs:
            offset = totals.get(tensor.dtype, 0)
            layout.append((tensor.dtype, offset, tuple(tensor.shape)))
            totals[tensor.dtype] = offset + tensor.numel()
        buffers = {dtype: _shared_empty((n,), dtype) for dtype, n in totals.items()}
        for tensor, (dtype, offset, _) in zip(inputs, layout, strict=True):
            buffers[dtype][offset : offset + tensor.numel()] = tensor.reshape(-1)
        return cls(name, buffers, layout, columns)

    def _view(self, index: int) -> Tensor:
        dtype, offset, shape = self.layout[index]
        return self.buffers[dtype][offset : offset + math.prod(shape)].view(shape)

    def input(self, index: int) -> Tensor:
        return self._view(index).clone()

    def gather_inputs(self, indices: Tensor) -> Tensor:
        views = [self._view(index) for index in indices.tolist()]
        return stack_inputs(views, where=f"set `{self.name}`")

    @property
    def nbytes(self) -> int:
        inputs = sum(buffer.nbytes for buffer in self.buffers.values())
        return inputs + _column_bytes(self.columns)


def _column_bytes(columns: Mapping[str, Column]) -> int:
    return sum(c.values.nbytes for c in columns.values() if isinstance(c, TensorColumn))


def _sample_bytes(sample: Sample) -> int:
    tensors = [value for value in sample.metadata.values() if isinstance(value, Tensor)]
    return (
        sample.input.nbytes + sum(t.nbytes for t in tensors) + 64 * len(sample.metadata)
    )


# What a build process works on: set once per process by ``_start_builder``.
_BUILD: dict[str, Any] = {}


def _start_builder(
    source: SetSource, transforms: Sequence[ModelTransform], inputs: Tensor
) -> None:
    """Prepare a build process: one intra-op thread, the set and the shared buffer."""
    torch.set_num_threads(1)
    _BUILD.update(source=source, transforms=transforms, inputs=inputs)


def _fill(
    source: SetSource,
    transforms: Sequence[ModelTransform],
    inputs: Tensor,
    start: int,
    stop: int,
) -> tuple[int, list[Mapping[str, Any]], dict[int, Tensor]]:
    """Load samples ``start:stop`` into ``inputs``; return metadata and odd inputs.

    An input whose shape or dtype differs from the buffer's is returned apart.
    """
    metadata: list[Mapping[str, Any]] = []
    odd: dict[int, Tensor] = {}
    shape, dtype = inputs.shape[1:], inputs.dtype
    for index in range(start, stop):
        sample = source.load(index, transforms)
        if sample.input.shape == shape and sample.input.dtype == dtype:
            inputs[index] = sample.input
        else:
            odd[index] = sample.input
        metadata.append(sample.metadata)
    return start, metadata, odd


def _fill_in_builder(
    span: tuple[int, int],
) -> tuple[int, list[Mapping[str, Any]], dict[int, Tensor]]:
    return _fill(_BUILD["source"], _BUILD["transforms"], _BUILD["inputs"], *span)


def _spans(size: int, workers: int) -> list[tuple[int, int]]:
    """Cut samples ``1:size`` (sample 0 is loaded first, alone) into spans of work."""
    step = max(1, min(256, size // (workers * 8)))
    return [(start, min(start + step, size)) for start in range(1, size, step)]


def build_store(
    source: SetSource,
    transforms: Sequence[ModelTransform] = (),
    *,
    workers: int = 0,
    target: FileInputs | None = None,
) -> SampleStore:
    """Load and transform every sample of ``source`` into a shared store.

    Args:
        source: the set to cache.
        transforms: the model transforms, applied before caching.
        workers: build processes; 0 loads in this process.
        target: build the inputs straight into this file (which need not fit in
            memory) instead of shared memory.

    Returns:
        A :class:`ContiguousStore` when every input has the shape and dtype of the
        first, else a :class:`RaggedStore` (in shared memory).

    Raises:
        SampleLoadError: naming the set, index and entry of a sample that fails.
        CacheMemoryError: when the estimated cache does not fit in memory.
        OSError: when ``target`` cannot be written.
    """
    size = len(source)
    first = source.load(0, transforms)
    sample_bytes = _sample_bytes(first)
    if target is None:
        needed = check_cache_fits(source.name, count=size, sample_bytes=sample_bytes)
    else:
        needed = size * sample_bytes
    _LOG.info(
        "caching set `%s`: %d samples of %s %s, about %s",
        source.name,
        size,
        tuple(first.input.shape),
        first.input.dtype,
        format_bytes(needed),
    )
    shape, dtype = (size, *first.input.shape), first.input.dtype
    if target is None:
        inputs = _shared_empty(shape, dtype)
        spec: Tensor | tuple[FileInputs, tuple[int, ...], torch.dtype] = inputs
    else:
        inputs = target.allocate(shape, dtype)
        spec = (target, shape, dtype)
    inputs[0] = first.input
    metadata: list[Mapping[str, Any]] = [first.metadata] * size
    odd: dict[int, Tensor] = {}
    progress = tqdm(
        total=size, desc=f"caching {source.name}", unit="sample", disable=None
    )
    with progress:
        progress.update(1)
        if workers <= 0:
            for span in _spans(size, 1):
                _store(
                    _fill(source, transforms, inputs, *span), metadata, odd, progress
                )
        else:
            method = "spawn" if sys.platform == "darwin" else "fork"
            context = multiprocessing.get_context(method)
            processes = min(workers, size)
            initargs = (source, transforms, spec)
            with context.Pool(processes, _start_builder, initargs) as pool:
                for result in pool.imap_unordered(
                    _fill_in_builder, _spans(size, processes)
                ):
                    _store(result, metadata, odd, progress)
    columns = _columns(metadata, source)
    if not odd:
        return ContiguousStore(source.name, inputs, columns)
    _LOG.info(
        "set `%s`: samples differ in shape or dtype, caching them one by one",
        source.name,
    )
    ragged = [odd[index] if index in odd else inputs[index] for index in range(size)]
    return RaggedStore.pack(source.name, ragged, columns)


def _store(
    result: tuple[int, list[Mapping[str, Any]], dict[int, Tensor]],
    metadata: list[Mapping[str, Any]],
    odd: dict[int, Tensor],
    progress: "tqdm[Any]",
) -> None:
    start, items, odd_inputs = result
    metadata[start : start + len(items)] = items
    odd.update(odd_inputs)
    progress.update(len(items))
