"""``build_datamodule``: a data module from a configuration."""

from collections.abc import Sequence

from ._config import DataModuleConfig
from ._datamodule import ConcatDataModule
from ._sources import ModelTransform, Splits

__all__ = ["build_datamodule"]


def build_datamodule(
    config: DataModuleConfig,
    splits: Splits,
    *,
    model_transforms: Sequence[ModelTransform] = (),
) -> ConcatDataModule:
    """Return the data module ``config`` describes, over ``splits``.

    Args:
        config: the validated settings.
        splits: set name -> ``(raw_samples, loader)`` pairs.
        model_transforms: tensor transforms applied to each input before caching.

    Returns:
        A `ConcatDataModule` whose ``config`` equals ``config``.

    Raises:
        ValidationError: for invalid splits (see `ConcatDataModule`).
    """
    return ConcatDataModule(
        splits,
        database_name=config.database_name,
        split_name=config.split_name,
        cache_samples=config.cache_samples,
        balance_sampler_by_class=config.balance_sampler_by_class,
        batch_size=config.batch_size,
        batch_chunk_count=config.batch_chunk_count,
        drop_incomplete_batch=config.drop_incomplete_batch,
        parallel=config.parallel,
        cache_dir=config.cache_dir,
        seed=config.seed,
        model_transforms=model_transforms,
    )
