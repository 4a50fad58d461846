"""Building a set's cache: loading every sample into a shared store, in parallel."""

import logging
import multiprocessing
import sys
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Final, TypeAlias

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
    source: SetSource, transforms: Sequence[ModelTransform], inputs: _BufferSpec
) -> None:
    """Prepare a build process: one intra-op thread, the set and the shared buffer.

    A buffer in a file is mapped again here, so that it is shared under any start
    method (a pickled tensor would be copied).
    """
    torch.set_num_threads(1)
    if not isinstance(inputs, Tensor):
        target, shape, dtype = inputs
        inputs = target.map(shape, dtype)
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
    step = max(1, min(256, size // (workers * 32)))  # small spans: balanced ends
    return [(start, min(start + step, size)) for start in range(1, size, step)]


def _fill_in_processes(
    source: SetSource,
    transforms: Sequence[ModelTransform],
    spec: _BufferSpec,
    processes: int,
) -> Iterator[tuple[int, list[Mapping[str, Any]], dict[int, Tensor]]]:
    """Fill the buffer in ``processes`` build processes; yield results as they come.

    A process that dies (killed by a signal, out of memory) ends the build with
    an error instead of leaving its work undone and the build waiting forever.

    Raises:
        SampleLoadError: for a failing sample, or a build process that died.
    """
    method = "spawn" if sys.platform == "darwin" else "fork"
    pool = ProcessPoolExecutor(
        processes,
        mp_context=multiprocessing.get_context(method),
        initializer=_start_builder,
        initargs=(source, transforms, spec),
    )
    try:
        futures = [
            pool.submit(_fill_in_builder, span)
            for span in _spans(len(source), processes)
        ]
        for future in as_completed(futures):
            yield future.result()
    except BrokenProcessPool as exc:
        msg = (
            f"set `{source.name}`: a cache build process died while loading samples "
            "(killed by a signal or out of memory?); try again, or set `parallel=-1` "
            "to load in this process"
        )
        raise SampleLoadError(msg) from exc
    finally:
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
        workers: build processes; 0 loads in this process.
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
            processes = min(workers, size)
            for result in _fill_in_processes(source, transforms, spec, processes):
                _store(result, metadata, odd, progress)
    columns = make_columns(metadata, source)
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
