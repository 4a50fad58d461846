"""Map-style datasets over one set: loaded on demand, or served from a cache."""

import functools
import itertools
from collections.abc import Iterable, Iterator, Sequence
from contextlib import nullcontext
from typing import cast

from torch import Tensor
from torch.utils.data import Dataset
from typing_extensions import override

from ._errors import SampleLoadError
from ._generators import generators_kept, seed_generators
from ._metadata import Describe, collate_metadata
from ._sample import ModelTransform, Sample
from ._sampling import SeededIndices
from ._serving import (
    THREADED_BYTES,
    gather_ahead,
    gathering_threads,
    output_buffers,
    pinned_buffers,
)
from ._sources import SetSource
from ._stores import REUSED_BYTES, ReleasedStore, SampleStore, stack_inputs
from ._threads import ThreadChoice
from ._workererrors import WorkerFailure, in_marked_worker, unsent_metadata

__all__ = ["CachedDataset", "LazyDataset", "SetDataset", "collate_samples"]


class SetDataset(Dataset[Sample]):
    """A set's samples: one by index, or a whole batch by a tensor of indices."""

    name: str

    def __len__(self) -> int:
        raise NotImplementedError

    def sample(self, index: int) -> Sample:
        """Return sample ``index``."""
        raise NotImplementedError

    def batch(self, indices: Sequence[int] | Tensor) -> Sample:
        """Return samples ``indices`` collated into one batch."""
        raise NotImplementedError

    @override
    def __getitem__(self, index: int | Tensor | SeededIndices) -> Sample:
        """Return one sample, or the batch of a tensor of indices.

        The batch of `SeededIndices` is loaded with torch's, Python's and
        NumPy's generators seeded with its seed, and left as they were after:
        what a loader draws (a random crop) depends on the batch and its epoch
        alone, not on the process loading it or on what it loaded before.
        """
        if isinstance(index, SeededIndices):
            # nothing else in a worker draws: its generators need not be kept
            kept = nullcontext() if in_marked_worker() else generators_kept()
            with kept:
                seed_generators(index.seed)
                return self.batch(index.indices)
        return self.batch(index) if isinstance(index, Tensor) else self.sample(index)

    def __getitems__(self, indices: Sequence[int]) -> Sample:
        """Return a batch (torch's protocol for loaders that batch indices)."""
        return self.batch(indices)

    def batches(
        self, indices: Iterable[int | Tensor | SeededIndices]
    ) -> Iterator[Sample]:
        """Return ``self[index]`` for each item of ``indices``, in order.

        ``indices`` is read as the results are asked for, or a few items ahead.
        """
        return (self[index] for index in indices)


def collate_samples(batch: Sequence[Sample] | Sample) -> Sample:
    """Collate loaded samples into one batch; pass through a batch already made.

    ``input`` tensors are stacked along a new first dimension and each metadata
    key is collated as ``torch.utils.data.default_collate`` does (numbers and
    tensors become tensors, strings become lists).

    Raises:
        SampleLoadError: if inputs differ in shape or dtype, or metadata keys,
            value types or tensor shapes differ, naming the batch items.
    """
    if isinstance(batch, Sample | WorkerFailure):
        return batch  # a WorkerFailure too, which the loader raises again
    return _collate(batch, where=_batch_item)


def _batch_item(position: int) -> str:
    return f"batch item {position}"


def _collate(samples: Sequence[Sample], *, where: Describe) -> Sample:
    """Stack the inputs and collate the metadata of ``samples``.

    ``where(position)`` describes the sample at ``position`` in messages.
    """
    return Sample(
        stack_inputs([sample.input for sample in samples], where=where),
        collate_metadata([sample.metadata for sample in samples], where=where),
    )


class LazyDataset(SetDataset):
    """Loads each sample from its raw description when asked, then transforms it."""

    def __init__(self, source: SetSource, transforms: Sequence[ModelTransform]) -> None:
        self.name = source.name
        self.source = source
        self.transforms = tuple(transforms)

    @override
    def __len__(self) -> int:
        return len(self.source)

    @override
    def sample(self, index: int) -> Sample:
        return self.source.load(index, self.transforms)

    @override
    def batch(self, indices: Sequence[int] | Tensor) -> Sample:
        """Load and collate samples ``indices``.

        In a worker of a lightsplit loader, a failure comes back as the batch
        (`WorkerFailure`), for the loader to raise with its cause.
        """
        positions = indices.tolist() if isinstance(indices, Tensor) else list(indices)
        try:
            samples = [self.source.load(index, self.transforms) for index in positions]
            batch = _collate(
                samples, where=lambda position: self.source.where(positions[position])
            )
        except SampleLoadError as error:
            if not in_marked_worker():
                raise
            return cast(Sample, WorkerFailure.of(error))  # raised again by the loader
        if in_marked_worker() and positions:
            where = self.source.where(positions[0])
            unsent = unsent_metadata(
                batch.metadata, where, process="a loader worker process"
            )
            if unsent is not None:
                return cast(Sample, WorkerFailure.of(unsent))
        return batch


class CachedDataset(SetDataset):
    """Serves a set from its in-memory store, gathering whole batches at once.

    With ``pinned``, batches are gathered straight into page-locked memory, to
    be copied to a CUDA device without blocking and without a second copy.
    """

    def __init__(self, store: SampleStore, *, pinned: bool = False) -> None:
        self.name = store.name
        self.store = store
        self.pinned = pinned
        self._choice = ThreadChoice()

    def release(self) -> None:
        """Let go of the store, and with it the cache's memory: the set is torn down.

        Loaders still holding this set then fail, saying so (`ReleasedStore`);
        the store itself lets go of its memory, for what still refers to it (a
        loader's gathering tasks, left by an exception).
        """
        released, self.store = self.store, ReleasedStore(self.name, len(self.store))
        released.drop()

    @override
    def __len__(self) -> int:
        return len(self.store)

    @override
    def sample(self, index: int) -> Sample:
        return self.store.get(index)

    @override
    def batch(self, indices: Sequence[int] | Tensor) -> Sample:
        return self.store.gather(indices)

    @override
    def batches(
        self, indices: Iterable[int | Tensor | SeededIndices]
    ) -> Iterator[Sample]:
        """Gather the batch of each tensor of ``indices``: large ones ahead.

        A cache draws nothing: the seeds of `SeededIndices` are not used.

        When the first batch's inputs take more than `THREADED_BYTES`, the
        batches are gathered ahead by this process's gathering threads, into
        reused output buffers (see `gather_ahead`). Smaller batches are gathered
        when asked for, on the intra-op threads that have been the faster lately
        (see `ThreadChoice`): for them, the hand-over to a thread would cost more
        than it saves. When the first batch's inputs take `REUSED_BYTES` or
        more, tensors that large go into reused output buffers (never one that a
        batch still held uses); smaller ones are new.
        """
        given = iter(indices)
        head = next(given, None)
        if head is None:
            return iter(())
        chained = itertools.chain([head], given)
        items: Iterator[int | Tensor] = (
            (i.indices if isinstance(i, SeededIndices) else i for i in chained)
            if isinstance(head, SeededIndices)  # not from a cache's own sampler
            else cast("Iterator[int | Tensor]", chained)
        )
        first = head.indices if isinstance(head, SeededIndices) else head
        store = self.store
        nbytes = first.shape[0] * store.row_nbytes if isinstance(first, Tensor) else 0
        threads = gathering_threads() if nbytes > THREADED_BYTES else None
        if threads is None:
            return self._gather_here(items, reuse=self.pinned or nbytes >= REUSED_BYTES)
        buffers = pinned_buffers() if self.pinned else output_buffers()
        tasks = (
            functools.partial(store.collect, index, buffers=buffers)
            if isinstance(index, Tensor)
            else functools.partial(self.__getitem__, index)
            for index in items
        )
        return gather_ahead(tasks, threads)

    def _gather_here(
        self, indices: Iterator[int | Tensor], *, reuse: bool
    ) -> Iterator[Sample]:
        """Gather each batch when asked for, on the faster intra-op threads.

        With ``reuse``, large tensors go into reused output buffers (every
        tensor into pinned ones, when the set is `pinned`); without, every
        tensor is new (for small batches, checking costs more than it
        saves).
        """
        buffers = None
        if reuse:
            buffers = pinned_buffers() if self.pinned else output_buffers()
        collect = self.store.collector(buffers=buffers)
        choice = self._choice
        for index in indices:
            if isinstance(index, Tensor):
                yield choice.run(collect, index, index.shape[0])
            else:
                yield self[index]
