"""``DataModuleConfig``: the frozen, validated settings of a data module."""

import os
from pathlib import Path
from typing import Annotated, Final, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ._errors import batch_not_divisible, cache_dir_unused

__all__ = ["FROZEN_CONFIG", "DataModuleConfig", "FrozenModel", "available_cpus"]

FROZEN_CONFIG: Final = ConfigDict(
    frozen=True, strict=True, validate_default=True, use_attribute_docstrings=True
)
"""Settings shared by every lightsplit model: immutable, strict, documented."""


class FrozenModel(BaseModel):
    """An immutable, strictly validated model that forbids unknown fields."""

    model_config = FROZEN_CONFIG | ConfigDict(extra="forbid")

    def replace(self, **changes: object) -> Self:
        """Return a validated copy with ``changes`` applied.

        Raises:
            ValidationError: if the result is not valid.
        """
        return self.model_validate({**self.model_dump(), **changes})


def available_cpus() -> int:
    """Return the number of CPUs this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1  # pragma: no cover - platforms without affinity


class DataModuleConfig(FrozenModel):
    """Settings of a data module: naming, caching, sampling, batching and workers.

    Every field is checked strictly (``"64"`` or ``True`` is not a batch size;
    only `cache_dir` takes a string as well as a path) and the configuration
    cannot be changed once made: derive a new one with ``replace``.
    """

    database_name: str = ""
    """Name of the database (or aggregate of databases) the samples come from."""

    split_name: str = ""
    """Name of the split that groups the samples into sets."""

    cache_samples: bool = False
    """Load every sample of a stage's sets at setup and serve them from memory."""

    balance_sampler_by_class: bool = False
    """Draw training samples with probability inversely proportional to the
    frequency of their class (with replacement, one epoch = the training set's size
    in draws)."""

    batch_size: Annotated[int, Field(ge=1)] = 1
    """Samples per training batch (at least 1); truncated to the training set size
    when larger."""

    batch_chunk_count: Annotated[int, Field(ge=1)] = 1
    """Chunks each batch is cut into (at least 1, and a divisor of `batch_size`);
    gradients are accumulated over that many steps."""

    drop_incomplete_batch: bool = False
    """Drop the last, incomplete chunk of each training epoch (evaluation never
    drops samples)."""

    parallel: Annotated[int, Field(ge=-1)] = -1
    """Worker processes for loading: -1 loads in the main process, 0 uses one
    worker per CPU this process may run on, N uses N workers. When caching, the
    number of processes that build the cache, the main one among them."""

    cache_dir: Annotated[Path | None, Field(strict=False)] = None
    """Folder of persistent caches (needs `cache_samples`): each set's decoded,
    transformed samples are written there once and memory-mapped by later runs
    with the same entries, loader and model transforms. A path or a string."""

    seed: Annotated[int, Field(ge=0, lt=2**63)] | None = None
    """Fixes shuffling, class-balanced draws and worker seeds: the same seed gives
    the same order on every run, for any `parallel`, and each epoch its own. With
    none, torch's global generator decides (seeded by `seed_everything`)."""

    @model_validator(mode="after")
    def _check_cache_dir_used(self) -> Self:
        if self.cache_dir is not None and not self.cache_samples:
            raise cache_dir_unused(cache_dir=str(self.cache_dir))
        return self

    @model_validator(mode="after")
    def _check_batch_divisible(self) -> Self:
        if self.batch_size % self.batch_chunk_count:
            raise batch_not_divisible(
                batch_size=self.batch_size, batch_chunk_count=self.batch_chunk_count
            )
        return self

    @property
    def chunk_size(self) -> int:
        """Samples loaded per step: ``batch_size // batch_chunk_count``."""
        return self.batch_size // self.batch_chunk_count

    @property
    def num_workers(self) -> int:
        """The ``DataLoader`` worker count that ``parallel`` stands for.

        Examples:
            >>> DataModuleConfig(parallel=-1).num_workers
            0
            >>> DataModuleConfig(parallel=3).num_workers
            3
        """
        if self.parallel < 0:
            return 0
        if self.parallel == 0:
            return available_cpus()
        return self.parallel
