"""Samplers: seeded shuffling, class balancing and sharding across processes.

Every sampler here is a ``DistributedSampler`` that knows its process's share
(rank) of the draws, so Lightning uses it as it is under DDP instead of wrapping
it. Each epoch gets its own order: Lightning calls ``set_epoch``, and a sampler
iterated by hand moves to the next epoch by itself.
"""

import math
import os
from collections import Counter
from collections.abc import Iterator, Sequence, Sized
from dataclasses import dataclass, replace
from typing import Final, Literal, NamedTuple, TypeAlias

import torch
from torch import Tensor
from torch.utils.data import DistributedSampler
from typing_extensions import override

from ._generators import derived_seed, global_seed
from ._threads import one_intra_op_thread

__all__ = [
    "GOLDEN",
    "Draw",
    "EpochDraw",
    "EpochSampler",
    "SeededIndices",
    "Shards",
    "class_weights",
    "shard",
]

Draw: TypeAlias = Literal["ordered", "shuffled", "balanced"]
"""How a sampler orders a set: split order, a permutation, or balanced draws."""
Shards: TypeAlias = Literal["equal", "once"]
"""How an epoch's order is shared among distributed processes, each taking every
``world_size``-th index of it:

- ``"equal"``: every process as many indices, the first ones repeated where the
  order does not divide, as Lightning's ``DistributedSampler`` does: every step
  has batches of one size on every process, which gathering across processes
  needs (training, validation and test);
- ``"once"``: no index repeated, but where a process would get none (a set
  smaller than the processes), which Lightning refuses (predict)."""

GOLDEN: Final = 0x9E3779B97F4A7C15


def shard() -> tuple[int, int]:
    """Return ``(rank, world size)`` of this process, ``(0, 1)`` if not distributed."""
    distributed = torch.distributed
    if distributed.is_available() and distributed.is_initialized():
        return distributed.get_rank(), distributed.get_world_size()
    return 0, 1


def _bytes(indices: Tensor) -> bytes:
    """Return the indices of a batch as bytes, to seed from."""
    return indices.numpy().tobytes()


class SeededIndices(NamedTuple):
    """The indices of one batch, with the seed of what loading them draws.

    The seed comes from the epoch's and from the indices: a batch draws alike
    whichever process loads it, with any ``parallel``, and after a resume.
    """

    indices: Tensor
    seed: int


def _cycled(order: Tensor, count: int) -> Tensor:
    """Return the first ``count`` indices of ``order``, cycling through it."""
    return order.repeat(math.ceil(count / len(order)))[:count]


def _padded(order: Tensor, missing: int) -> Tensor:
    """Return ``order`` followed by its first ``missing`` indices (`_cycled`)."""
    return torch.cat([order, _cycled(order, missing)]) if missing > 0 else order


def class_weights(targets: Sequence[int]) -> torch.Tensor:
    """Return per-sample weights inversely proportional to their class frequency.

    Examples:
        >>> class_weights([0, 0, 0, 1]).tolist()
        [0.3333333333333333, 0.3333333333333333, 0.3333333333333333, 1.0]
    """
    counts = Counter(targets)
    return torch.tensor(
        [1.0 / counts[target] for target in targets], dtype=torch.float64
    )


class _Sized(Sized):
    """Stands for the dataset ``DistributedSampler`` wants only the length of."""

    def __init__(self, size: int) -> None:
        self.size = size

    def __len__(self) -> int:
        return self.size


@dataclass(frozen=True)
class EpochDraw:
    """What fixes one epoch's order: its number, seed and padded length."""

    epoch: int
    seed: int
    """Seeds the epoch's permutation or balanced draws."""
    total: int
    """Length of the epoch's global order: the set's size, padded to a multiple
    of the number of processes when training under DDP."""


@dataclass(frozen=True)
class _Resume:
    """Where to take an interrupted epoch up again."""

    draw: EpochDraw
    consumed: int
    """Positions of the epoch's global order already served, over all processes."""
    batches: list[Tensor]
    """This process's batches of the rest of the epoch."""
    serve_as: int
    """The epoch number it is served under: the draw's, or the next where the
    trainer counted the interrupted epoch as over (stopped early)."""


class EpochSampler(DistributedSampler["Tensor | SeededIndices"]):
    """Batches of indices of one set for one process, epoch after epoch.

    Each batch is a tensor of indices: the data set gathers it in one go. Every
    epoch's order comes from its own seed (`EpochDraw`), so that an interrupted
    epoch can be taken up where it stopped (`resume`), without drawing again.

    Args:
        size: the number of samples in the set.
        batch_size: indices per batch; the last batch may hold fewer.
        draw: ``"ordered"`` (split order), ``"shuffled"`` (a permutation per
            epoch) or ``"balanced"`` (``size`` draws with replacement, weighted
            by ``weights``).
        seed: fixes the order of every epoch; ``None`` draws a seed from torch's
            global generator (seeded by ``lightning.seed_everything``) when the
            first epoch is drawn (`drawn_seed`), except when distributed, where
            every process must agree on the draws: then the seed Lightning
            shares (``PL_GLOBAL_SEED``, else 0) is used.
        weights: per-sample weights, for ``"balanced"``.
        shards: how the order is shared when distributed (`Shards`).
        seeded: yield each batch's indices with the seed of its loading
            (`SeededIndices`), for a set whose loader runs as batches are
            served (not a cache).
        drop_last: drop the samples of this process that its last complete
            batch of ``chunks`` batches (one optimizer step, with gradient
            accumulation) leaves over; a batch larger than this process's
            share is the share (it is truncated to it), and complete.
        chunks: the batches of ``batch_size`` making up one complete batch.
    """

    def __init__(
        self,
        size: int,
        *,
        batch_size: int,
        draw: Draw,
        seed: int | None = None,
        weights: torch.Tensor | None = None,
        shards: Shards = "equal",
        drop_last: bool = False,
        chunks: int = 1,
        seeded: bool = False,
    ) -> None:
        rank, world = shard()
        super().__init__(_Sized(size), num_replicas=world, rank=rank, shuffle=False)  # type: ignore[arg-type]  # only its length is used
        self.size = size
        self.batch_size = batch_size
        self.draw = draw
        self.shards = shards
        self.seeded = seeded
        self.weights = weights
        self.drop_last = drop_last
        self.chunks = chunks
        self.fixed_seed = seed
        self.epoch = 0
        self.current: EpochDraw | None = None
        """The draw of the epoch last iterated."""
        self.current_start = 0
        """Where the last iteration started in its epoch's global order."""
        self.current_batches = 0
        """How many batches the last iteration serves."""
        self.current_number = 0
        """The epoch number the last iteration was served under: its draw's, or
        the next where it serves the rest of an epoch stopped early."""
        self._resume: _Resume | None = None
        self._drawn_seed: int | None = None
        if seed is None and world > 1:  # the seed every process shares
            self._drawn_seed = int(os.environ.get("PL_GLOBAL_SEED", "0"))

    @property
    def drawn_seed(self) -> int | None:
        """The seed of all orders when no seed is fixed, once it is known.

        It is drawn from torch's global generator when the first epoch is, or,
        when distributed, taken from the seed Lightning shares (which a new
        launch draws again). A checkpoint keeps it, so that a resumed run draws
        the later epochs the interrupted one would have.
        """
        return self._drawn_seed

    def adopt_drawn_seed(self, seed: int) -> None:
        """Draw the orders from ``seed``, drawn by an interrupted run, if unseeded."""
        if self.fixed_seed is None:
            self._drawn_seed = seed

    def _epoch_seed(self, epoch: int) -> int:
        seed = self.fixed_seed
        if seed is None:
            if self._drawn_seed is None:  # once, from the global generator
                self._drawn_seed = global_seed()
            seed = self._drawn_seed
        return (seed * GOLDEN + epoch) % 2**63

    def _total(self) -> int:
        if self.num_replicas == 1 or self.shards != "equal":
            return self.size
        return math.ceil(self.size / self.num_replicas) * self.num_replicas

    def _order(self, draw: EpochDraw) -> Tensor:
        """Return the global order of the epoch ``draw`` describes."""
        generator = torch.Generator().manual_seed(draw.seed)
        if self.draw == "balanced":
            assert self.weights is not None  # set with the balanced draw
            return torch.multinomial(
                self.weights, draw.total, replacement=True, generator=generator
            )
        if self.draw == "shuffled":
            order = torch.randperm(self.size, generator=generator)
        else:
            order = torch.arange(self.size)
        return _padded(order, draw.total - self.size)

    def _drawn_batches(self, draw: EpochDraw, consumed: int = 0) -> list[Tensor]:
        """Return this process's batches of epoch ``draw`` after ``consumed``.

        Drawn on one intra-op thread: drawn on two, the order leaves torch's
        second thread spinning for its next task for about 10 ms, which, when
        another process holds the other core, takes that time from this one (a
        fifth of a cached epoch of 48,000 small images). The order is the same.
        """
        with one_intra_op_thread():
            return self._batches(self._order(draw)[consumed:])

    def _batches(self, order: Tensor) -> list[Tensor]:
        """Cut this process's share of ``order`` into batches (see `Shards`)."""
        world = self.num_replicas
        if world > 1 and self.shards == "equal" and len(order) % world:
            order = _padded(order, world - len(order) % world)
        share = order[self.rank :: world]
        if world > 1 and self.shards == "once" and len(order) and not len(share):
            share = order[:1]  # a set smaller than the processes: Lightning needs one
        if self.drop_last:
            share = share[: self._kept(len(share))]
        return list(torch.split(share, self.batch_size))

    def _kept(self, count: int) -> int:
        """Return how many of ``count`` samples of this process are served.

        With ``drop_last``, those of the complete batches: ``chunks`` batches of
        ``batch_size``, or the whole share of an epoch where that is less (a
        batch truncated to the set). ``count`` may be the rest of a resumed
        epoch: the samples dropped are the last of the whole epoch's share, so
        that it ends where the uninterrupted epoch would have.
        """
        if not self.drop_last:
            return count
        share = self._shard_size()
        complete = min(self.batch_size * self.chunks, share)
        return max(count - share % complete, 0) if complete else count

    def resume(
        self, draw: EpochDraw, consumed: int, *, serve_as: int | None = None
    ) -> int:
        """Take epoch ``draw`` up after the first ``consumed`` positions of its order.

        The next iteration serves the rest of that epoch's global order, shared
        among this run's processes: with as many processes and the same batch
        size as when it was interrupted, exactly the batches the interrupted run
        would have served next. Only indices are skipped: nothing is loaded.
        With ``serve_as``, the rest is served as that epoch (the one after,
        where the trainer counted the interrupted epoch as over), and the epoch
        after it follows.

        Returns:
            The number of batches this process will serve of the epoch's rest.
        """
        consumed = min(consumed, draw.total)
        batches = self._drawn_batches(draw, consumed)
        number = draw.epoch if serve_as is None else serve_as
        self._resume = _Resume(draw, consumed, batches, number)
        self.epoch = number
        return len(batches)

    @property
    def resuming(self) -> int:
        """The batches the next iteration serves of an epoch taken up (0: none)."""
        return 0 if self._resume is None else len(self._resume.batches)

    @property
    def resumed_as(self) -> int | None:
        """The epoch number an epoch taken up is served as (``None``: none is)."""
        return None if self._resume is None else self._resume.serve_as

    def cap_resume(self, count: int) -> None:
        """Serve at most ``count`` batches of the epoch being taken up."""
        resume = self._resume
        if resume is not None:
            self._resume = replace(resume, batches=resume.batches[:count])

    def skip(self, draw: EpochDraw, *, serve_as: int | None = None) -> None:
        """Serve nothing more of epoch ``draw``; the iteration after draws the next.

        ``serve_as``: the epoch number its rest would have been served under.
        """
        number = draw.epoch if serve_as is None else serve_as
        self._resume = _Resume(draw, draw.total, [], number)
        self.epoch = number

    @override
    def __iter__(self) -> Iterator[Tensor | SeededIndices]:
        return self.iterate(copies=True)

    def iterate(self, *, copies: bool) -> Iterator[Tensor | SeededIndices]:
        """Return the batches of indices of the next epoch (as ``iter`` does).

        With ``copies``, each batch is a tensor of its own, as a worker process
        needs (a view would carry the whole order with it); without, a view of
        the epoch's order, which costs nothing (for batches gathered here).
        """
        # The resume point holds until the epoch is read from (torch makes and
        # drops one iterator unread when starting workers).
        resume = self._resume
        if resume is not None and resume.serve_as != self.epoch:
            resume = self._resume = None
        if resume is not None:
            self.current, self.current_start = resume.draw, resume.consumed
            self.current_number = resume.serve_as
            batches = resume.batches
        else:
            epoch = self.current_number = self.epoch
            self.current = EpochDraw(epoch, self._epoch_seed(epoch), self._total())
            self.current_start = 0
            batches = self._drawn_batches(self.current)
        self.current_batches = len(batches)
        served = self._serve(self.current_number, batches, resume, copies=copies)
        if not self.seeded:
            return served
        seed = self.current.seed
        return (
            SeededIndices(batch, derived_seed(seed, _bytes(batch))) for batch in served
        )

    def _serve(
        self,
        epoch: int,
        batches: list[Tensor],
        resume: _Resume | None,
        *,
        copies: bool,
    ) -> Iterator[Tensor]:
        # Once an epoch is read from, the next iteration draws the next epoch,
        # so that a loop that never calls set_epoch gets new orders (an iterator
        # made and dropped unread, as torch does when starting workers, does not
        # count).
        self.epoch = epoch + 1
        if resume is not None and self._resume is resume:
            self._resume = None
        if not copies:
            yield from batches
            return
        for batch in batches:
            yield batch.clone()  # a view would carry the whole shard to a worker

    def _shard_size(self) -> int:
        size = len(range(self.rank, self._total(), self.num_replicas))
        if self.num_replicas > 1 and self.shards == "once" and self.size:
            return max(size, 1)
        return size

    @override
    def __len__(self) -> int:
        return math.ceil(self._kept(self._shard_size()) / self.batch_size)

    @override
    def set_epoch(self, epoch: int) -> None:
        """Draw the order of ``epoch`` next."""
        self.epoch = epoch
