"""``build_datamodule``: a data module from a configuration."""

from collections.abc import Sequence

from ._batch_transforms import BatchTransform
from ._config import DataModuleConfig
from ._datamodule import ConcatDataModule
from ._parts import Splits
from ._sample import ModelTransform

__all__ = ["build_datamodule"]


def build_datamodule(
    config: DataModuleConfig,
    splits: Splits,
    *,
    model_transforms: Sequence[ModelTransform] = (),
    train_batch_transforms: Sequence[BatchTransform] = (),
    eval_batch_transforms: Sequence[BatchTransform] = (),
) -> ConcatDataModule:
    """Return the data module ``config`` describes, over ``splits``.

    Args:
        config: the validated settings, held by the data module as they are
            (``build_datamodule(config, splits).config is config``).
        splits: set name -> ``(samples, loader)`` parts (see `ConcatDataModule`).
        model_transforms: tensor transforms applied to each input before caching.
        train_batch_transforms: transforms of each training batch on its device.
        eval_batch_transforms: transforms of each evaluation batch on its device.

    Returns:
        A `ConcatDataModule` whose ``config`` is ``config``.

    Raises:
        ValidationError: for invalid splits or model transforms (see
            `ConcatDataModule`).
    """
    return ConcatDataModule._from_config(
        splits, config, model_transforms, train_batch_transforms, eval_batch_transforms
    )
