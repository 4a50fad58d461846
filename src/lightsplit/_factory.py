"""``build_datamodule``: a data module from a configuration."""

from collections.abc import Sequence

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
) -> ConcatDataModule:
    """Return the data module ``config`` describes, over ``splits``.

    Args:
        config: the validated settings, held by the data module as they are
            (``build_datamodule(config, splits).config is config``).
        splits: set name -> ``(samples, loader)`` parts (see `ConcatDataModule`).
        model_transforms: tensor transforms applied to each input before caching.

    Returns:
        A `ConcatDataModule` whose ``config`` is ``config``.

    Raises:
        ValidationError: for invalid splits or model transforms (see
            `ConcatDataModule`).
    """
    return ConcatDataModule._from_config(splits, config, model_transforms)
