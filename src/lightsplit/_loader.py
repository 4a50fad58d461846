"""``SampleLoader``: a ``DataLoader`` typed as ``Sample``; assembling one per set."""

import contextlib
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, cast

import torch
from torch import Tensor
from torch.utils.data import DataLoader
from torch.utils.data._utils.pin_memory import pin_memory
from typing_extensions import override

from ._config import DataModuleConfig
from ._datasets import CachedDataset, LazyDataset, SetDataset, collate_samples
from ._devicecache import DeviceDataset
from ._errors import LightsplitWarning, SampleLoadError, caller_stacklevel
from ._generators import global_seed
from ._processes import start_context
from ._sample import Sample
from ._sampling import GOLDEN as _GOLDEN
from ._sampling import (
    Draw,
    EpochDraw,
    EpochSampler,
    SeededIndices,
    Shards,
    class_weights,
)
from ._workererrors import WorkerFailure, mark_worker

__all__ = ["SampleLoader", "build_loader"]

_WORKER_DEATH: Final = (ConnectionError, EOFError, RuntimeError)
"""What torch raises when a worker process dies mid-epoch, depending on timing."""


class _Batches(Iterator[Sample]):
    """Batches of one epoch, counted as served; a worker that dies is reported."""

    def __init__(
        self, inner: Iterator[Sample], position: "_Position", name: str
    ) -> None:
        self._inner = inner
        self._position = position
        self._name = name

    def __next__(self) -> Sample:
        try:
            batch = next(self._inner)
        except SampleLoadError as exc:
            original = _from_worker(str(exc))
            if original is None:
                raise
            raise SampleLoadError(original) from exc  # its text: the worker's trace
        except _WORKER_DEATH as exc:
            # torch's words for a worker gone: "DataLoader worker (pid 12) is
            # killed by signal", "... exited unexpectedly"; an error a worker
            # raised is "Caught ... in DataLoader worker process 0"
            text = str(exc)
            died = not isinstance(exc, RuntimeError) or "DataLoader worker (pid" in text
            if not died:
                raise
            self._stop_workers()
            how = (
                "was killed by a signal (the out-of-memory killer sends SIGKILL: "
                "check memory use)"
                if "signal" in text
                else "ended unexpectedly (killed, out of memory, or the loader ended "
                "its process)"
            )
            msg = (
                f"set `{self._name}`: a loader worker process died ({exc}); it {how}. "
                "Try again, or set `parallel=-1` to load in the main process"
            )
            raise SampleLoadError(msg) from exc
        if isinstance(batch, WorkerFailure):  # a loader error, from a worker
            raise batch.error()
        self._position.served += 1
        return batch

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


_RAISED: Final = f"{SampleLoadError.__module__}.{SampleLoadError.__qualname__}: "
"""How a traceback's last line starts with a `SampleLoadError`'s message."""


def _from_worker(message: str) -> str | None:
    """Return the message of a `SampleLoadError` a loader worker raised, if it is one.

    torch raises it again in this process as ``Caught SampleLoadError in
    DataLoader worker process 0`` followed by the worker's traceback, whose
    last line holds the message.
    """
    if not message.startswith("Caught SampleLoadError in DataLoader worker"):
        return None
    _, found, original = message.rpartition(_RAISED)
    return original.rstrip("\n") if found else None


@dataclass
class _Position:
    """How far the loader's current epoch has been served."""

    draw: EpochDraw | None = None
    start: int = 0
    """Positions of the epoch's global order served before this iteration."""
    before: int = 0
    """Batches this process served of the epoch before this iteration."""
    served: int = 0
    """Batches served in this iteration, to the consumer (not prefetched)."""
    batches: int = 0
    """Batches this iteration serves in all."""
    number: int = 0
    """The epoch number it is served under (the draw's, or the next: see
    `EpochSampler.resume`)."""


_STATE_KEYS: Final = ("epoch", "seed", "total", "consumed", "served", "complete")


class SampleLoader(DataLoader[Sample]):
    """A ``torch.utils.data.DataLoader`` whose batches are typed as `Sample`.

    It takes the arguments of ``DataLoader`` unchanged; ``__iter__`` is narrowed,
    as torch types batches as ``Any``, and a worker process that dies is reported
    as a `SampleLoadError` naming the set rather than a bare connection error.

    Over a lightsplit set and its sampler, the loader is resumable:
    ``state_dict()`` says how far the current epoch has been served (batches
    handed out, not those workers have prefetched), and ``load_state_dict`` makes
    the next iteration serve exactly the rest of that epoch. Lightning saves and
    restores it with its checkpoints; a hand-written loop can do the same.

    Without workers, batches are drawn straight from the sampler and the set:
    torch's per-batch bookkeeping would cost as much as gathering a small batch.
    """

    _position: _Position
    _pending_before: int = 0
    set_changed: bool = False
    """Whether the set differs from the one whose interrupted epoch a state
    describes (resumed with ``allow_data_change``): its rest is not served."""
    epoch_over: int | None = None
    """An epoch the trainer counts as over, though a state of it may say it is
    not (one cut short by ``limit_train_batches``): its rest is not served."""
    unfinished: Callable[[], int] | None = None
    """How many of the batches handed out the consumer has not finished (a
    training step a checkpoint interrupts: Lightning's SLURM pre-emption saves
    from a signal handler, at any point of a step); `state_dict` counts them as
    not served, so that a resumed run serves them again. ``None``: all are."""

    @override
    def __iter__(self) -> Iterator[Sample]:  # type: ignore[override]  # torch returns its private iterator type
        sampler = self.sampler if isinstance(self.sampler, EpochSampler) else None
        before = self._pending_before
        self._pending_before = 0
        if sampler is not None and self.generator is not None and self.num_workers:
            # worker seeds follow the epoch (what a loader draws is seeded per
            # batch, by `SeededIndices`: the same in any process, and resumed)
            base = getattr(self, "_base_seed", None)
            if base is None:
                base = self._base_seed = self.generator.initial_seed()
            self.generator.manual_seed((base * _GOLDEN + sampler.epoch) % 2**63)
        if (
            self.num_workers == 0
            and self.batch_size is None
            and isinstance(self.dataset, SetDataset)
        ):
            # without batch_size, the sampler gives one tensor of indices per batch
            indices = cast(
                "Iterator[int | Tensor | SeededIndices]",
                sampler.iterate(copies=False) if sampler else iter(self.sampler),
            )
            position = self._start(sampler, before)
            return self._in_process(self.dataset, indices, position)
        inner = super().__iter__()  # draws the sampler's order now
        position = self._start(sampler, before)
        return _Batches(inner, position, getattr(self.dataset, "name", "?"))

    def _start(self, sampler: EpochSampler | None, before: int) -> _Position:
        """Start counting the batches served of the epoch the sampler just drew."""
        position = self._position = _Position()
        if sampler is not None:
            position.draw, position.start = sampler.current, sampler.current_start
            position.before = before if position.start else 0
            position.batches = sampler.current_batches
            position.number = sampler.current_number
        return position

    def _in_process(
        self,
        dataset: SetDataset,
        indices: Iterator[int | Tensor | SeededIndices],
        position: _Position,
    ) -> Iterator[Sample]:
        """Do what torch's single-process iterator does, without its overhead.

        Each batch counts as served as it is handed out. A cached set gathers
        large batches ahead in threads (`CachedDataset.batches`): those are not
        served until handed out here.
        """
        pin = self.pin_memory and torch.cuda.is_available()
        device = self.pin_memory_device or None
        # the data set returns whole batches, which the collate function passes on
        collate = cast("Callable[[Sample], Sample]", self.collate_fn)
        if collate is collate_samples and not pin:  # it passes batches on as they are
            for batch in dataset.batches(indices):
                position.served += 1
                yield batch
            return
        for gathered in dataset.batches(indices):
            batch = collate(gathered)
            position.served += 1
            yield pin_memory(batch, device) if pin else batch  # type: ignore[no-untyped-call]  # torch leaves it unannotated

    def state_dict(self) -> dict[str, Any]:
        """Return how far the current epoch has been served, to take it up later.

        Returns:
            ``{}`` unless the loader draws from a lightsplit sampler; else the
            epoch, its seed and length, the positions of its order served so
            far, the batches this process served (less those `unfinished`
            says the consumer has not finished) and whether it is complete;
            where it serves the rest of an epoch stopped early as the next
            epoch, that epoch's number (``served_in``);
            without a fixed seed, also the seed drawn for all the orders
            (``drawn_seed``), so that later epochs draw alike after a resume.
        """
        sampler = self.sampler
        if not isinstance(sampler, EpochSampler):
            return {}
        position = getattr(self, "_position", _Position())
        draw = position.draw
        if draw is None:  # nothing iterated yet: the next epoch is whole
            return {"epoch": sampler.epoch, "complete": False, "served": 0}
        per_step = sampler.batch_size * sampler.num_replicas
        drawn = sampler.drawn_seed
        unfinished = 0 if self.unfinished is None else self.unfinished()
        served = max(position.served - unfinished, 0)
        return {
            **({} if drawn is None else {"drawn_seed": drawn}),
            "set": getattr(self.dataset, "name", ""),
            "epoch": draw.epoch,
            "seed": draw.seed,
            "total": draw.total,
            "consumed": min(position.start + served * per_step, draw.total),
            "served": position.before + served,
            "complete": served >= position.batches,
            **({} if position.number == draw.epoch else {"served_in": position.number}),
        }

    def served_whole(self) -> bool:
        """Whether the iteration under way has served all its batches."""
        position = getattr(self, "_position", None)
        return position is not None and position.served >= position.batches > 0

    def _warn_steps_left(self, number: int, served: int) -> None:
        """Warn when Lightning resumes an epoch that was over, with steps left.

        A checkpoint taken on the last step of an epoch, resumed with fewer
        processes (or smaller batches), has Lightning count the steps that
        epoch served against the longer epochs of now, and take the steps left
        of it in the epoch it resumes: the next epoch's first steps alone.
        """
        left = len(self) - served
        sampler = self.sampler
        if left <= 0 or not isinstance(sampler, EpochSampler):
            return
        processes = "process" if sampler.num_replicas == 1 else "processes"
        self._warn(
            f"set `{getattr(self.dataset, 'name', '?')}`: epoch {number} was over "
            f"when the checkpoint was taken, after {served} steps of the interrupted "
            f"run, but with {sampler.num_replicas} {processes} of "
            f"{sampler.batch_size} samples an epoch is {len(self)} steps, and "
            f"Lightning takes the {left} left in the epoch it resumes: they serve the "
            f"first {left} steps of epoch {number + 1}, its rest is not served, "
            f"and training goes on with epoch {number + 2}. Resume with the "
            "processes and batch size of the interrupted run to take the epochs up "
            "exactly",
        )

    def _warn(self, message: str) -> None:
        """Warn, from the first process alone: every process would say the same."""
        sampler = self.sampler
        if isinstance(sampler, EpochSampler) and sampler.rank != 0:
            return
        warnings.warn(message, LightsplitWarning, stacklevel=caller_stacklevel())

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Make the next iteration serve the rest of the epoch ``state`` describes.

        With the processes and batch size of the interrupted run, the batches
        served are exactly those it would have served next. Otherwise the rest of
        the epoch's order is shared among this run's processes when that fills
        exactly the steps left in the epoch; if it does not, the rest of the
        epoch is not served, with a `LightsplitWarning` saying how many samples
        were left out, and the next epoch follows.

        Raises:
            ValueError: if ``state`` is not the state of a lightsplit loader.
        """
        sampler = self.sampler
        if not isinstance(sampler, EpochSampler) or not state:
            return
        if "drawn_seed" in state:  # the interrupted run had no fixed seed
            sampler.adopt_drawn_seed(_integer(state, "drawn_seed"))
        if "seed" not in state:  # saved before the first batch: a whole epoch
            sampler.set_epoch(_integer(state, "epoch"))
            return
        values = {key: _integer(state, key) for key in _STATE_KEYS}
        draw = EpochDraw(values["epoch"], values["seed"], values["total"])
        number = _integer(state, "served_in") if "served_in" in state else draw.epoch
        if values["complete"]:
            sampler.set_epoch(number + 1)
            self._warn_steps_left(number, values["served"])
            return
        if number == self.epoch_over:  # the trainer ended it there
            sampler.set_epoch(number + 1)
            return
        if self.set_changed:
            sampler.skip(draw, serve_as=number)
            self._warn(
                f"set `{getattr(self.dataset, 'name', '?')}` differs from the one "
                f"epoch {draw.epoch} was drawn from (resumed with "
                "`allow_data_change`): the rest of that epoch, "
                f"{draw.total - values['consumed']} of its {draw.total} draws, is "
                f"not served, since it would repeat some entries and miss others; "
                f"training goes on with epoch {number + 1}, drawn from the set "
                f"as it is (epochs count from 0: with `max_epochs={number + 1}`, "
                "no epoch is left, and the run ends without training)",
            )
            return
        left = len(self) - values["served"]
        remaining = sampler.resume(draw, values["consumed"], serve_as=number)
        if remaining == left:
            self._pending_before = values["served"]
            return
        sampler.skip(draw, serve_as=number)
        samples = draw.total - values["consumed"]
        steps = f"{left} step" if left == 1 else f"{left} steps"
        processes = "process" if sampler.num_replicas == 1 else "processes"
        self._warn(
            f"set `{getattr(self.dataset, 'name', '?')}`: epoch {draw.epoch} was "
            f"interrupted with {samples} of its {draw.total} draws left, which do not "
            f"share into the {steps} left of the epoch with "
            f"{sampler.num_replicas} {processes} of {sampler.batch_size} samples: they "
            f"are not served, and training goes on with epoch {number + 1} "
            f"(epochs count from 0: where `max_epochs` is {number + 1}, the run "
            "ends instead). "
            "Resume with the processes and batch size of the interrupted run to "
            "take the epoch up exactly",
        )


def _integer(state: Mapping[str, Any], key: str) -> int:
    """Return ``state[key]`` as an int, or say the state is not a loader's."""
    value = state.get(key)
    if isinstance(value, bool | int):
        return int(value)
    msg = (
        f"loader state has {key!r}: {value!r}, not an integer; give `load_state_dict` "
        "what `state_dict` of a lightsplit loader returned"
    )
    raise ValueError(msg)


def build_loader(
    dataset: SetDataset,
    config: DataModuleConfig,
    *,
    chunk_size: int,
    train: bool = False,
    targets: Sequence[int] | None = None,
    shards: Shards = "equal",
) -> SampleLoader:
    """Return the loader of one set, serving ``chunk_size`` samples per step.

    ``train`` shuffles, or draws classes in balance from ``targets`` (one class
    per sample) when given. The sampler is sharded when distributed, as
    ``shards`` says (`Shards`): equal shards unless told otherwise.
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
        shards=shards,
        drop_last=train and config.drop_incomplete_batch,
        chunks=config.batch_chunk_count,
        seeded=isinstance(dataset, LazyDataset),  # its loader draws as it loads
    )
    # A cached set is served by one index_select per batch: that is faster in
    # this process than shipping batches back from workers (see the docs). A
    # set cached on the device is gathered there: nothing to pin or copy.
    on_device = isinstance(dataset, DeviceDataset)
    cached = on_device or isinstance(dataset, CachedDataset)
    workers = 0 if cached else config.num_workers
    context = start_context() if workers else None
    # Without a seed, one draw of the global generator (seeded by
    # `seed_everything`) seeds the loader's own: torch would otherwise draw from
    # it at each iterator made (each epoch in this process, once for persistent
    # workers), and the model's draws (dropout) would depend on `parallel`.
    if seed is None:
        seed = global_seed()
    generator = torch.Generator().manual_seed(seed)
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
        # a cached set gathers into pinned memory itself when bound to a GPU
        pin_memory=torch.cuda.is_available() and not cached,
        collate_fn=collate_samples,
        # a loader error comes back from a worker whole, with its cause
        worker_init_fn=mark_worker if workers else None,
    )
