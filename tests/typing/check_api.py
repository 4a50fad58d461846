"""Type-checked, never run: what mypy sees of the public API."""

from pathlib import Path
from typing import Any, assert_type

import torch
from lightsplit_testing import PngLoader
from pydantic import JsonValue

from lightsplit import (
    CachingDataModule,
    DatabaseSplit,
    DataModuleConfig,
    Sample,
    SampleFailure,
    SampleLoader,
    check_split_loading,
    load_split,
    split_json_schema,
)

config = DataModuleConfig(batch_size=16, batch_chunk_count=2)
assert_type(config.replace(batch_size=32), DataModuleConfig)
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

assert_type(check_split_loading(typed, loader, limit=4), list[SampleFailure])
assert_type(split_json_schema(tuple[str, int]), dict[str, JsonValue])
