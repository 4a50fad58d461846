"""Setting a set up: loaded on demand, cached in memory, or cached in a file."""

import functools
from collections.abc import Sequence

import torch

from ._cache import build_store
from ._config import DataModuleConfig
from ._datasets import CachedDataset, LazyDataset, SetDataset
from ._devicecache import device_dataset, training_device
from ._nodecache import NodeCache, remove_stale_folders
from ._persist import persistent_store
from ._sample import ModelTransform
from ._sources import SetSource

__all__ = ["open_set", "write_cache_file"]


def open_set(
    source: SetSource,
    transforms: Sequence[ModelTransform],
    config: DataModuleConfig,
    *,
    device: torch.device | None = None,
    node_cache: NodeCache | None = None,
    alike: SetSource | None = None,
) -> SetDataset:
    """Return the data set that serves ``source`` as ``config`` says.

    With `cache_dir`, the set's cache file (built first if needed) is mapped;
    with `cache_samples` alone, the set is loaded into shared memory by
    `parallel` processes, or mapped from ``node_cache`` (under DDP, the cache
    file of the node); otherwise samples are loaded when asked for. With
    `cache_on_device`, the cache is then copied to ``device`` (the training
    device; without one, the current CUDA device) and the host copy let go.
    A host cache bound to a CUDA device gathers its batches into pinned memory.
    ``alike``, a set of the same entries and loaders, lends its cache file to a
    set that has none (see `persistent_store`).

    Raises:
        SampleLoadError: when caching and a sample fails to load.
        CacheMemoryError: when caching and the cache does not fit in memory (of
            the host, or of the device).
        CacheDeviceError: with `cache_on_device`, when the training device is
            not a CUDA GPU (checked before any sample is loaded), or the set's
            inputs differ in shape.
    """
    target = None
    if config.cache_on_device:
        target = training_device(device, source.name)
    workers = config.num_workers
    cache_dir = config.cache_path
    if cache_dir is not None:
        store = persistent_store(
            source,
            transforms,
            cache_dir=cache_dir,
            workers=workers,
            alike=alike,
            seed=config.seed,
        )
    elif node_cache is not None:
        store = node_cache.store(source, transforms)
    elif config.cache_samples:
        _sweep_node()
        store = build_store(source, transforms, workers=workers, seed=config.seed)
    else:
        return LazyDataset(source, transforms)
    if target is None:
        return CachedDataset(store, pinned=_pinned(device))
    return device_dataset(
        store, target, headroom=config.device_headroom, where=source.where
    )


@functools.cache
def _sweep_node() -> None:
    """Remove, once per process, the node caches that killed DDP runs left.

    Their files hold memory until removed; the next run on the node that
    caches, under DDP or not, removes them (`remove_stale_folders`).
    """
    remove_stale_folders()


def _pinned(device: torch.device | None) -> bool:
    """Whether batches are bound to a CUDA device (the trainer's, else any)."""
    if device is not None:
        return device.type == "cuda"
    return torch.cuda.is_available()


def write_cache_file(
    source: SetSource,
    transforms: Sequence[ModelTransform],
    config: DataModuleConfig,
    *,
    alike: SetSource | None = None,
) -> None:
    """Build the cache file of ``source`` under `cache_dir` unless it is there.

    No file is built either where ``alike`` (a set of the same entries and
    loaders) has one.

    Raises:
        SampleLoadError: when a sample fails to load.
    """
    cache_dir = config.cache_path
    if cache_dir is not None:
        persistent_store(
            source,
            transforms,
            cache_dir=cache_dir,
            workers=config.num_workers,
            alike=alike,
            seed=config.seed,
        )
