"""lightsplit: typed, strictly validated database splits for PyTorch Lightning.

Public names are imported on first use (PEP 562), from the private module that
defines each one in `_EXPORTS`: ``import lightsplit`` imports neither torch nor
pydantic, so the ``lightsplit`` command line starts fast. To add a public name,
add it to ``__all__``, to `_EXPORTS` and to the imports under ``TYPE_CHECKING``.
"""

import importlib
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from ._batch_transforms import (
        BatchTransform,
        RandomFlip,
        SampleTransform,
        ToFloat,
    )
    from ._card import SetCard, SplitCard, split_card
    from ._checks import SampleFailure, check_split_loading
    from ._config import DataModuleConfig, SettingChanges
    from ._datamodule import CachingDataModule, ConcatDataModule
    from ._errors import (
        CacheDeviceError,
        CacheMemoryError,
        DataChangedError,
        LightsplitError,
        LightsplitWarning,
        NodeCacheError,
        PathEscapeError,
        SampleLoadError,
        SetMissingError,
        SplitFileError,
        SplittingError,
    )
    from ._factory import build_datamodule
    from ._hashing import split_sha256
    from ._images import ColorMode, ImageDtype, ImageFileLoader, ImageMaskLoader
    from ._leaks import (
        Duplicate,
        EntryRef,
        GroupLeak,
        LabelConflict,
        LeakReport,
        PathLeak,
        find_leaks,
    )
    from ._loader import SampleLoader
    from ._mapping import MappingLoader
    from ._monitor import DataWaitMonitor
    from ._parts import SplitPart, Splits
    from ._sample import (
        EntryChecker,
        MappingSampleLoader,
        ModelTransform,
        RawDataLoader,
        Sample,
        Target,
    )
    from ._schema import split_json_schema
    from ._sidecar import SplitProvenance
    from ._split import DatabaseSplit, load_split
    from ._splitting import split_folds, split_samples

__version__ = "0.1.0"

__all__ = [
    "BatchTransform",
    "CacheDeviceError",
    "CacheMemoryError",
    "CachingDataModule",
    "ColorMode",
    "ConcatDataModule",
    "DataChangedError",
    "DataModuleConfig",
    "DataWaitMonitor",
    "DatabaseSplit",
    "Duplicate",
    "EntryChecker",
    "EntryRef",
    "GroupLeak",
    "ImageDtype",
    "ImageFileLoader",
    "ImageMaskLoader",
    "LabelConflict",
    "LeakReport",
    "LightsplitError",
    "LightsplitWarning",
    "MappingLoader",
    "MappingSampleLoader",
    "ModelTransform",
    "NodeCacheError",
    "PathEscapeError",
    "PathLeak",
    "RandomFlip",
    "RawDataLoader",
    "Sample",
    "SampleFailure",
    "SampleLoadError",
    "SampleLoader",
    "SampleTransform",
    "SetCard",
    "SetMissingError",
    "SettingChanges",
    "SplitCard",
    "SplitFileError",
    "SplitPart",
    "SplitProvenance",
    "Splits",
    "SplittingError",
    "Target",
    "ToFloat",
    "build_datamodule",
    "check_split_loading",
    "find_leaks",
    "load_split",
    "split_card",
    "split_folds",
    "split_json_schema",
    "split_samples",
    "split_sha256",
]

_EXPORTS: Final[Mapping[str, str]] = {
    "BatchTransform": "_batch_transforms",
    "CacheDeviceError": "_errors",
    "CacheMemoryError": "_errors",
    "CachingDataModule": "_datamodule",
    "ColorMode": "_images",
    "ConcatDataModule": "_datamodule",
    "DataChangedError": "_errors",
    "DataModuleConfig": "_config",
    "DataWaitMonitor": "_monitor",
    "DatabaseSplit": "_split",
    "Duplicate": "_leaks",
    "EntryChecker": "_sample",
    "EntryRef": "_leaks",
    "GroupLeak": "_leaks",
    "ImageDtype": "_images",
    "ImageFileLoader": "_images",
    "ImageMaskLoader": "_images",
    "LabelConflict": "_leaks",
    "LeakReport": "_leaks",
    "LightsplitError": "_errors",
    "LightsplitWarning": "_errors",
    "MappingLoader": "_mapping",
    "MappingSampleLoader": "_sample",
    "ModelTransform": "_sample",
    "NodeCacheError": "_errors",
    "PathEscapeError": "_errors",
    "PathLeak": "_leaks",
    "RandomFlip": "_batch_transforms",
    "RawDataLoader": "_sample",
    "Sample": "_sample",
    "SampleFailure": "_checks",
    "SampleLoadError": "_errors",
    "SampleLoader": "_loader",
    "SampleTransform": "_batch_transforms",
    "SetCard": "_card",
    "SetMissingError": "_errors",
    "SettingChanges": "_config",
    "SplitCard": "_card",
    "SplitFileError": "_errors",
    "SplitPart": "_parts",
    "SplitProvenance": "_sidecar",
    "Splits": "_parts",
    "SplittingError": "_errors",
    "Target": "_sample",
    "ToFloat": "_batch_transforms",
    "build_datamodule": "_factory",
    "check_split_loading": "_checks",
    "find_leaks": "_leaks",
    "load_split": "_split",
    "split_card": "_card",
    "split_folds": "_splitting",
    "split_json_schema": "_schema",
    "split_samples": "_splitting",
    "split_sha256": "_hashing",
}
"""Public name -> the private module of this package that defines it."""


def _load(name: str) -> object:
    """Import the public ``name`` from its module and keep it here for next time.

    Raises:
        AttributeError: if ``name`` is no public name of lightsplit.
    """
    module = _EXPORTS.get(name)
    if module is None:
        msg = f"module {__name__!r} has no attribute {name!r}"
        raise AttributeError(msg, name=name, obj=sys.modules[__name__])
    value: object = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """Return the public names, before first use too, and the module's dunders.

    The modules and typing names this one imports to load the others
    (``importlib``, ``Final``...) are no part of lightsplit's interface, so
    completion in an editor or a notebook does not offer them.
    """
    return sorted({*__all__, *(name for name in globals() if name.startswith("__"))})


if not TYPE_CHECKING:  # a visible __getattr__ would let type checkers pass any name
    __getattr__ = _load
