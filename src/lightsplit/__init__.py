"""lightsplit: typed, strictly validated database splits for PyTorch Lightning."""

from ._checks import SampleFailure, check_split_loading
from ._config import DataModuleConfig
from ._datamodule import CachingDataModule, ConcatDataModule
from ._errors import (
    CacheMemoryError,
    LightsplitError,
    LightsplitWarning,
    PathEscapeError,
    SampleLoadError,
    SetMissingError,
    SplitFileError,
)
from ._factory import build_datamodule
from ._images import ColorMode, ImageFileLoader, ImageMaskLoader
from ._loader import SampleLoader
from ._sample import RawDataLoader, Sample, Target
from ._schema import split_json_schema
from ._sources import ModelTransform, SplitPart, Splits
from ._split import DatabaseSplit, load_split

__version__ = "0.1.0"

__all__ = [
    "CacheMemoryError",
    "CachingDataModule",
    "ColorMode",
    "ConcatDataModule",
    "DataModuleConfig",
    "DatabaseSplit",
    "ImageFileLoader",
    "ImageMaskLoader",
    "LightsplitError",
    "LightsplitWarning",
    "ModelTransform",
    "PathEscapeError",
    "RawDataLoader",
    "Sample",
    "SampleFailure",
    "SampleLoadError",
    "SampleLoader",
    "SetMissingError",
    "SplitFileError",
    "SplitPart",
    "Splits",
    "Target",
    "build_datamodule",
    "check_split_loading",
    "load_split",
    "split_json_schema",
]
