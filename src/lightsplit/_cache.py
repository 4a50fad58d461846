"""Building a set's cache: loading every sample into a shared store, in parallel."""

import logging
import multiprocessing
import sys
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Final, NamedTuple, TypeAlias

import torch
from torch import Tensor
from tqdm import tqdm

from ._errors import SampleLoadError
from ._files import FileInputs
from ._memory import check_cache_fits, format_bytes
from ._sample import Sample
from ._sources import ModelTransform, SetSource
from ._stores import (
    ContiguousStore,
    RaggedStore,
    SampleStore,
    make_columns,
    shared_empty,
)

__all__ = ["build_store"]

_LOG: Final = logging.getLogger("lightsplit")
_QUEUED: Final = 2
"""Spans handed to each build process ahead: one to work on, one waiting."""


def _sample_bytes(sample: Sample) -> int:
    tensors = [value for value in sample.metadata.values() if isinstance(value, Tensor)]
    return (
        sample.input.nbytes + sum(t.nbytes for t in tensors) + 64 * len(sample.metadata)
    )


# What a build process works on: set once per process by ``_start_builder``.
_BUILD: dict[str, Any] = {}


_BufferSpec: TypeAlias = Tensor | tuple[FileInputs, tuple[int, ...], torch.dtype]
"""The buffer build processes fill: a shared tensor, or a file region to map."""


def _start_builder(
    source: SetSource,
    transforms: Sequence[ModelTransform],
    inputs: _BufferSpec,
    keys: Sequence[str],
) -> None:
    """Prepare a build process: one intra-op thread, the set and the shared buffer.

    A buffer in a file is mapped again here, so that it is shared under any start
    method (a pickled tensor would be copied).
    """
    torch.set_num_threads(1)
    if not isinstance(inputs, Tensor):
        target, shape, dtype = inputs
        inputs = target.map(shape, dtype)
    _BUILD.update(source=source, transforms=transforms, inputs=inputs, keys=keys)


class _Filled(NamedTuple):
    """What loading a span of samples gives back besides the inputs it wrote."""

    start: int
    stop: int
    metadata: dict[str, list[object]]
    """The span's values of each metadata key, in sample order."""
    odd: dict[int, Tensor]
    """Inputs whose shape or dtype differs from the buffer's, by index."""


def _fill(
    source: SetSource,
    transforms: Sequence[ModelTransform],
    inputs: Tensor,
    keys: Sequence[str],
    span: tuple[int, int],
) -> _Filled:
    """Load samples ``span`` into ``inputs``; return their metadata and odd inputs.

    Metadata comes back as columns (a list per key): it pickles in far fewer
    bytes than a dictionary per sample, so the main process does less work while
    build processes keep the cores busy.

    Raises:
        SampleLoadError: when a sample fails to load, or its metadata keys are
            not ``keys`` (those of sample 0).
    """
    start, stop = span
    columns: dict[str, list[object]] = {key: [] for key in keys}
    expected = set(keys)
    odd: dict[int, Tensor] = {}
    shape, dtype = inputs.shape[1:], inputs.dtype
    for index in range(start, stop):
        sample = source.load(index, transforms)
        if sample.input.shape == shape and sample.input.dtype == dtype:
            inputs[index] = sample.input
        else:
            odd[index] = sample.input
        metadata = sample.metadata
        if metadata.keys() != expected:
            msg = (
                f"{source.where(index)}: metadata keys {sorted(metadata)} differ "
                f"from those of sample 0 {sorted(keys)}; every sample of a set must "
                "have the same metadata keys"
            )
            raise SampleLoadError(msg)
        for key, values in columns.items():
            values.append(metadata[key])
    return _Filled(start, stop, columns, odd)


def _fill_in_builder(span: tuple[int, int]) -> _Filled:
    return _fill(
        _BUILD["source"], _BUILD["transforms"], _BUILD["inputs"], _BUILD["keys"], span
    )


def _spans(size: int, workers: int) -> list[tuple[int, int]]:
    """Cut samples ``1:size`` (sample 0 is loaded first, alone) into spans of work."""
    step = max(1, min(256, size // (workers * 32)))  # small spans: balanced ends
    return [(start, min(start + step, size)) for start in range(1, size, step)]


def _fill_in_processes(
    source: SetSource,
    transforms: Sequence[ModelTransform],
    inputs: Tensor,
    spec: _BufferSpec,
    keys: Sequence[str],
    *,
    helpers: int,
) -> Iterator[_Filled]:
    """Fill ``inputs`` here and in ``helpers`` build processes; yield spans as done.

    The build processes take spans from the start of the set, this process from
    its end, each on one intra-op thread: the process that would otherwise wait
    decodes too, so ``helpers + 1`` processes keep as many cores busy, from the
    first moment (while the build processes start) to the last span. A build
    process that dies (killed by a signal, out of memory) ends the build with an
    error instead of leaving its work undone and the build waiting forever.

    Raises:
        SampleLoadError: for a failing sample, or a build process that died.
    """
    method = "spawn" if sys.platform == "darwin" else "fork"
    pool = ProcessPoolExecutor(
        helpers,
        mp_context=multiprocessing.get_context(method),
        initializer=_start_builder,
        initargs=(source, transforms, spec, keys),
    )
    spans = deque(_spans(len(source), helpers + 1))
    pending: set[Future[_Filled]] = set()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        while spans or pending:
            while spans and len(pending) < _QUEUED * helpers:
                pending.add(pool.submit(_fill_in_builder, spans.popleft()))
            if spans:
                yield _fill(source, transforms, inputs, keys, spans.pop())
                done = {future for future in pending if future.done()}
            else:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
            pending -= done
            for future in done:
                yield future.result()
    except BrokenProcessPool as exc:
        msg = (
            f"set `{source.name}`: a cache build process died while loading samples "
            "(killed by a signal or out of memory?); try again, or set `parallel=-1` "
            "to load in this process"
        )
        raise SampleLoadError(msg) from exc
    finally:
        torch.set_num_threads(threads)
        pool.shutdown(wait=True, cancel_futures=True)


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
        workers: processes that load samples, this one included; 0 or 1
            loads in this process only.
        target: build the inputs straight into this file (which need not fit in
            memory) instead of shared memory.

    Returns:
        A `ContiguousStore` when every input has the shape and dtype of the
        first, else a `RaggedStore` (in shared memory).

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
        inputs = shared_empty(shape, dtype)
        spec: _BufferSpec = inputs
    else:
        inputs = target.allocate(shape, dtype)
        spec = (target, shape, dtype)
    inputs[0] = first.input
    keys = list(first.metadata)
    metadata = {key: [value] * size for key, value in first.metadata.items()}
    odd: dict[int, Tensor] = {}
    progress = tqdm(
        total=size, desc=f"caching {source.name}", unit="sample", disable=None
    )
    with progress:
        progress.update(1)
        if min(workers, size) <= 1:
            for span in _spans(size, 1):
                filled = _fill(source, transforms, inputs, keys, span)
                _store(filled, metadata, odd, progress)
        else:
            helpers = min(workers, size) - 1
            results = _fill_in_processes(
                source, transforms, inputs, spec, keys, helpers=helpers
            )
            for filled in results:
                _store(filled, metadata, odd, progress)
    columns = make_columns(metadata)
    if not odd:
        return ContiguousStore(source.name, inputs, columns)
    _LOG.info(
        "set `%s`: samples differ in shape or dtype, caching them one by one",
        source.name,
    )
    ragged = [odd[index] if index in odd else inputs[index] for index in range(size)]
    return RaggedStore.pack(source.name, ragged, columns)


def _store(
    filled: _Filled,
    metadata: dict[str, list[object]],
    odd: dict[int, Tensor],
    progress: "tqdm[Any]",
) -> None:
    for key, values in filled.metadata.items():
        metadata[key][filled.start : filled.stop] = values
    odd.update(filled.odd)
    progress.update(filled.stop - filled.start)
