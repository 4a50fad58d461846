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
from typing import Final, Literal, TypeAlias

import torch
from torch import Tensor
from torch.utils.data import DistributedSampler
from typing_extensions import override

__all__ = ["Draw", "EpochSampler", "class_weights", "shard"]

Draw: TypeAlias = Literal["ordered", "shuffled", "balanced"]
"""How a sampler orders a set: split order, a permutation, or balanced draws."""

_GOLDEN: Final = 0x9E3779B97F4A7C15


def shard() -> tuple[int, int]:
    """Return ``(rank, world size)`` of this process, ``(0, 1)`` if not distributed."""
    distributed = torch.distributed
    if distributed.is_available() and distributed.is_initialized():
        return distributed.get_rank(), distributed.get_world_size()
    return 0, 1


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


class EpochSampler(DistributedSampler[Tensor]):
    """Batches of indices of one set for one process, epoch after epoch.

    Each batch is a tensor of indices: the data set gathers it in one go.

    Args:
        size: the number of samples in the set.
        batch_size: indices per batch; the last batch may hold fewer.
        draw: ``"ordered"`` (split order), ``"shuffled"`` (a permutation per
            epoch) or ``"balanced"`` (``size`` draws with replacement, weighted
            by ``weights``).
        seed: fixes the order of every epoch; ``None`` draws from torch's global
            generator (seeded by ``lightning.seed_everything``), except when
            distributed, where every process must agree on the draws: then the
            seed Lightning shares (``PL_GLOBAL_SEED``, else 0) is used.
        weights: per-sample weights, for ``"balanced"``.
        pad: when distributed, repeat the first indices so that every process
            gets as many (training needs equal steps); without it, a process may
            get one index fewer and none is repeated (evaluation).
        drop_last: drop this process's last batch when it is incomplete.
    """

    def __init__(
        self,
        size: int,
        *,
        batch_size: int,
        draw: Draw,
        seed: int | None = None,
        weights: torch.Tensor | None = None,
        pad: bool = True,
        drop_last: bool = False,
    ) -> None:
        rank, world = shard()
        super().__init__(_Sized(size), num_replicas=world, rank=rank, shuffle=False)  # type: ignore[arg-type]  # only its length is used
        self.size = size
        self.batch_size = batch_size
        self.draw = draw
        self.pad = pad
        self.weights = weights
        self.drop_last = drop_last
        if seed is None and world > 1:
            seed = int(os.environ.get("PL_GLOBAL_SEED", "0"))
        self.fixed_seed = seed
        self.epoch = 0

    def _generator(self) -> torch.Generator | None:
        if self.fixed_seed is None:
            return None
        mixed = (self.fixed_seed * _GOLDEN + self.epoch) % 2**63
        return torch.Generator().manual_seed(mixed)

    def _total(self) -> int:
        if self.num_replicas == 1 or not self.pad:
            return self.size
        return math.ceil(self.size / self.num_replicas) * self.num_replicas

    def _indices(self) -> torch.Tensor:
        generator = self._generator()
        if self.draw == "balanced":
            assert self.weights is not None  # set with the balanced draw
            return torch.multinomial(
                self.weights, self._total(), replacement=True, generator=generator
            )
        if self.draw == "shuffled":
            order = torch.randperm(self.size, generator=generator)
        else:
            order = torch.arange(self.size)
        missing = self._total() - self.size
        return torch.cat([order, order[:missing]]) if missing else order

    def _shard_size(self) -> int:
        return len(range(self.rank, self._total(), self.num_replicas))

    @override
    def __iter__(self) -> Iterator[Tensor]:
        epoch = self.epoch
        shard = self._indices()[self.rank :: self.num_replicas]
        batches = list(torch.split(shard, self.batch_size))
        if self.drop_last and batches and len(batches[-1]) < self.batch_size:
            batches.pop()
        return self._serve(epoch, batches)

    def _serve(self, epoch: int, batches: list[Tensor]) -> Iterator[Tensor]:
        # Once an epoch is read from, the next iteration draws the next epoch,
        # so that a loop that never calls set_epoch gets new orders (an iterator
        # made and dropped unread, as torch does when starting workers, does not
        # count).
        self.epoch = epoch + 1
        for batch in batches:
            yield batch.clone()  # a view would carry the whole shard to a worker

    @override
    def __len__(self) -> int:
        if self.drop_last:
            return self._shard_size() // self.batch_size
        return math.ceil(self._shard_size() / self.batch_size)

    @override
    def set_epoch(self, epoch: int) -> None:
        """Draw the order of ``epoch`` next."""
        self.epoch = epoch
