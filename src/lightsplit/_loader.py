"""``SampleLoader``: a ``DataLoader`` typed as ``Sample``; assembling one per set."""

import contextlib
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Final, cast

import torch
from torch.utils.data import DataLoader
from torch.utils.data._utils.pin_memory import pin_memory
from typing_extensions import override

from ._config import DataModuleConfig
from ._datasets import CachedDataset, SetDataset, collate_samples
from ._errors import SampleLoadError
from ._sample import Sample
from ._sampling import Draw, EpochSampler, class_weights

__all__ = ["SampleLoader", "build_loader"]

_WORKER_DEATH: Final = (ConnectionError, EOFError, RuntimeError)
"""What torch raises when a worker process dies mid-epoch, depending on timing."""


class _Batches(Iterator[Sample]):
    """Batches of one epoch; a worker that dies is reported as such."""

    def __init__(self, inner: Iterator[Sample], set_name: str) -> None:
        self._inner = inner
        self._set_name = set_name

    def __next__(self) -> Sample:
        try:
            return next(self._inner)
        except SampleLoadError:
            raise
        except _WORKER_DEATH as exc:
            died = not isinstance(exc, RuntimeError) or "DataLoader worker" in str(exc)
            if not died:
                raise
            self._stop_workers()
            msg = (
                f"set `{self._set_name}`: a loader worker process died ({exc}); it was "
                "killed by a signal or ran out of memory. Check memory use, or set "
                "`parallel=-1` to load in the main process"
            )
            raise SampleLoadError(msg) from exc

    def _stop_workers(self) -> None:
        """Stop the other workers now, rather than when the iterator is collected.

        torch reports the dead worker again while shutting down; it is reported
        already, so that second report is dropped.
        """
        shutdown = getattr(self._inner, "_shutdown_workers", None)
        if callable(shutdown):
            with contextlib.suppress(RuntimeError):
                shutdown()

    def __getattr__(self, name: str) -> object:
        """Reach the torch iterator (Lightning shuts its workers down through it)."""
        return getattr(self._inner, name)


class SampleLoader(DataLoader[Sample]):
    """A ``torch.utils.data.DataLoader`` whose batches are typed as `Sample`.

    It takes the arguments of ``DataLoader`` unchanged; ``__iter__`` is narrowed,
    as torch types batches as ``Any``, and a worker process that dies is reported
    as a `SampleLoadError` naming the set rather than a bare connection error.

    Without workers, over a lightsplit set whose sampler yields whole batches,
    batches are drawn straight from the sampler and the set: torch's per-batch
    bookkeeping would cost as much as gathering a small batch itself.
    """

    @override
    def __iter__(self) -> Iterator[Sample]:  # type: ignore[override]  # torch returns its private iterator type
        if (
            self.num_workers == 0
            and self.batch_size is None
            and isinstance(self.dataset, SetDataset)
        ):
            return self._in_process(self.dataset)
        return _Batches(super().__iter__(), getattr(self.dataset, "name", "?"))

    def _in_process(self, dataset: SetDataset) -> Iterator[Sample]:
        """Do what torch's single-process iterator does, without its overhead."""
        pin = self.pin_memory and torch.cuda.is_available()
        device = self.pin_memory_device or None
        # the data set returns whole batches, which the collate function passes on
        collate = cast("Callable[[Sample], Sample]", self.collate_fn)
        for index in self.sampler:
            batch = collate(dataset[index])
            yield pin_memory(batch, device) if pin else batch  # type: ignore[no-untyped-call]  # torch leaves it unannotated


def build_loader(
    dataset: SetDataset,
    config: DataModuleConfig,
    *,
    chunk_size: int,
    train: bool = False,
    targets: Sequence[int] | None = None,
) -> SampleLoader:
    """Return the loader of one set, serving ``chunk_size`` samples per step.

    ``train`` shuffles, or draws classes in balance from ``targets`` (one class
    per sample) when given. The sampler is sharded when distributed: training
    pads the shards to equal length, evaluation repeats no sample.
    """
    seed = config.seed
    draw: Draw = "shuffled" if train else "ordered"
    weights = None
    if train and targets is not None:
        draw, weights = "balanced", class_weights(targets)
    sampler = EpochSampler(
        len(dataset),
        batch_size=chunk_size,
        draw=draw,
        seed=seed,
        weights=weights,
        pad=train,
        drop_last=train and config.drop_incomplete_batch,
    )
    # A cached set is served by one index_select per batch: that is faster in
    # this process than shipping batches back from workers (see the docs).
    workers = 0 if isinstance(dataset, CachedDataset) else config.num_workers
    context = "spawn" if workers and sys.platform == "darwin" else None
    generator = None if seed is None else torch.Generator().manual_seed(seed)
    # The sampler yields whole batches of indices (batch_size=None): the data
    # set gathers each batch in one go.
    return SampleLoader(
        dataset,
        batch_size=None,
        sampler=sampler,
        generator=generator,
        num_workers=workers,
        persistent_workers=workers > 0,
        multiprocessing_context=context,
        pin_memory=torch.cuda.is_available(),
        collate_fn=collate_samples,
    )
