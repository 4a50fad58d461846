"""Type-checked, never run: what mypy sees of the public API."""

import os
from pathlib import Path
from typing import Any, assert_type

import numpy as np
import torch
from lightsplit_testing import MednetStyleLoader, PngLoader
from pydantic import JsonValue

from lightsplit import (
    CachingDataModule,
    ConcatDataModule,
    DatabaseSplit,
    DataModuleConfig,
    MappingLoader,
    Sample,
    SampleFailure,
    SampleLoader,
    SettingChanges,
    SplitPart,
    check_split_loading,
    load_split,
    split_json_schema,
)

config = DataModuleConfig(batch_size=16, batch_chunk_count=2)
assert_type(config.replace(batch_size=32), DataModuleConfig)
changes: SettingChanges = {"batch_size": 32, "seed": 7}  # settings passed along
assert_type(config.replace(**changes), DataModuleConfig)
wrong: SettingChanges = {"batch_size": "32"}  # type: ignore[typeddict-item]
assert_type(config.cache_path, Path | None)
assert_type(config.num_workers, int)
DataModuleConfig(batch_size="16")  # type: ignore[arg-type]
DataModuleConfig(batchsize=16)  # type: ignore[call-arg]

typed = load_split("split.json", sample_type=tuple[str, int])
assert_type(typed, DatabaseSplit[tuple[str, int]])
assert_type(typed["train"], tuple[tuple[str, int], ...])
assert_type(load_split(Path("split.json.bz2")), DatabaseSplit[Any])
typed["train"] = ()  # type: ignore[index]

loader = PngLoader(Path("images"))
module = CachingDataModule(typed, loader, batch_size=16, cache_samples=True)
CachingDataModule(typed, loader, batch_size="16")  # type: ignore[arg-type]
assert_type(module.train_dataloader(), SampleLoader)
assert_type(module.val_dataloader(), dict[str, SampleLoader])
assert_type(module.config, DataModuleConfig)
assert_type(module.accumulate_grad_batches, int)

for batch in module.train_dataloader():
    assert_type(batch, Sample)
    inputs, metadata = batch
    assert_type(inputs, torch.Tensor)

assert_type(
    check_split_loading(typed, loader, limit=4), list[SampleFailure[tuple[str, int]]]
)
name, label = check_split_loading(typed, loader)[0].entry  # the entries' type
assert_type(name, str)
assert_type(split_json_schema(tuple[str, int]), dict[str, JsonValue])

# cache_dir: a string or a path in every signature, never anything else
DataModuleConfig(cache_samples=True, cache_dir="cache/")
DataModuleConfig(cache_samples=True, cache_dir=Path("cache"))
DataModuleConfig(cache_samples=True, cache_dir=3)  # type: ignore[arg-type]
CachingDataModule(typed, loader, cache_samples=True, cache_dir="cache/")
assert_type(config.cache_path, Path | None)

# replace is typed per field
config.replace(batch_size="32")  # type: ignore[arg-type]
config.replace(batchsize=32)  # type: ignore[call-arg]

# every setting is a typed property
assert_type(module.batch_size, int)
assert_type(module.seed, int | None)
assert_type(module.cache_dir, str | os.PathLike[str] | None)
module.batch_size = 32
module.cache_dir = Path("cache")
module.batch_size = "32"  # type: ignore[assignment]
module.config = "x"  # type: ignore[assignment]
module.chunk_size = 3  # type: ignore[assignment]  # derived: refused
module.accumulate_grad_batches = 2  # type: ignore[assignment]  # derived: refused
module.batch_szie = 8  # type: ignore[attr-defined]  # a misspelt setting

# a configuration is immutable and knows its fields, to mypy as at run time
config.batch_size = 3  # type: ignore[misc]

# a split file's path, and loaders as users write them
CachingDataModule("split.json", loader)


class PairLoader:
    def sample(self, raw: tuple[str, int]) -> tuple[torch.Tensor, dict[str, object]]:
        return torch.zeros(1), {"name": raw[0]}

    def target(self, raw: tuple[str, int]) -> int:
        return raw[1]


class IndexLoader:
    def sample(self, raw: int) -> Sample:
        return Sample(torch.zeros(1), {})

    def target(self, raw: int) -> torch.Tensor:
        return torch.tensor([0.0])


class NumpyLabelLoader:  # labels read with NumPy or pandas
    def sample(self, raw: tuple[str, int]) -> Sample:
        return Sample(torch.zeros(1), {})

    def target(self, raw: tuple[str, int]) -> np.int64:
        return np.int64(raw[1])


class FloatLabelLoader:
    def sample(self, raw: tuple[str, int]) -> Sample:
        return Sample(torch.zeros(1), {})

    def target(self, raw: tuple[str, int]) -> float:
        return float(raw[1])


CachingDataModule(typed, PairLoader())
CachingDataModule(typed, NumpyLabelLoader())
CachingDataModule(typed, FloatLabelLoader())  # type: ignore[arg-type]  # no class
CachingDataModule(typed, IndexLoader())  # type: ignore[misc]  # no RawT fits both

# ConcatDataModule parts: SplitPart checks the loader against its samples
ConcatDataModule({"train": [SplitPart(typed["train"], PairLoader())]})
ConcatDataModule({"train": [SplitPart("split.json", IndexLoader())]})
SplitPart(typed["train"], IndexLoader())  # type: ignore[misc]  # no RawT fits both
part = SplitPart(typed["train"], IndexLoader())  # type: ignore[misc]  # made alone
# inside the mapping, a part takes the mapping's type (SplitPart[Any]): unchecked
ConcatDataModule({"train": [SplitPart(typed["train"], IndexLoader())]})

# loaders that return mappings (mednet 2.x), through the adapter
mapping = MappingLoader(MednetStyleLoader("images"), input_key="image")
assert_type(mapping.sample(("a.png", 0)), Sample)
CachingDataModule(typed, mapping)
CachingDataModule(typed, MednetStyleLoader("images"))  # type: ignore[arg-type]


# a batch comes back from the batch transforms with its type
def transferred(batch: Sample) -> None:
    assert_type(module.on_after_batch_transfer(batch, 0), Sample)
