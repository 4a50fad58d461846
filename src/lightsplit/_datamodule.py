"""``ConcatDataModule`` and ``CachingDataModule``: splits served to Lightning."""

import logging
import math
import sys
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Final, TypeVar, cast, get_args

import torch
from lightning.pytorch import LightningDataModule
from typing_extensions import override

from ._cache import build_store
from ._config import DataModuleConfig
from ._datasets import CachedDataset, LazyDataset, SetDataset, collate_samples
from ._errors import LightsplitWarning, SetMissingError, choose, format_list
from ._loader import SampleLoader
from ._persist import persistent_store
from ._sample import RawDataLoader
from ._sampling import Draw, EpochSampler, class_weights
from ._sources import ModelTransform, SetSource, Splits, sources_from_splits
from ._types import SetName, Stage, StrPath

__all__ = ["CachingDataModule", "ConcatDataModule"]

_LOG: Final = logging.getLogger("lightsplit")
_STAGES: Final[tuple[Stage, ...]] = get_args(Stage)

RawT = TypeVar("RawT")


class ConcatDataModule(LightningDataModule):
    """A Lightning data module over named sets, each concatenating raw-sample lists.

    ``splits`` maps set names (`train`, `validation`, `test`, `monitor-<name>`) to
    sequences of ``(raw_samples, loader)`` pairs; each set serves the samples of
    its pairs one after the other. Loaders yield `Sample` batches of
    ``chunk_size`` samples; train with
    ``Trainer(accumulate_grad_batches=datamodule.accumulate_grad_batches)``.

    Args:
        splits: set name -> ``(raw_samples, loader)`` pairs.
        database_name: see `DataModuleConfig`.
        split_name: see `DataModuleConfig`.
        cache_samples: see `DataModuleConfig`.
        balance_sampler_by_class: see `DataModuleConfig`.
        batch_size: see `DataModuleConfig`.
        batch_chunk_count: see `DataModuleConfig`.
        drop_incomplete_batch: see `DataModuleConfig`.
        parallel: see `DataModuleConfig`.
        cache_dir: see `DataModuleConfig`.
        seed: see `DataModuleConfig`.
        model_transforms: tensor transforms applied to each input after loading
            and before caching.

    Raises:
        ValidationError: for an invalid setting (see `DataModuleConfig`) or
            invalid splits: ``set_name_invalid``, ``set_empty``, ``splits_empty``,
            ``samples_invalid``, ``loader_invalid``.
    """

    def __init__(  # noqa: PLR0917 - the reference signature is positional
        self,
        splits: Splits,
        database_name: str = "",
        split_name: str = "",
        cache_samples: bool = False,  # noqa: FBT001, FBT002 - the reference signature
        balance_sampler_by_class: bool = False,  # noqa: FBT001, FBT002
        batch_size: int = 1,
        batch_chunk_count: int = 1,
        drop_incomplete_batch: bool = False,  # noqa: FBT001, FBT002
        parallel: int = -1,
        *,
        cache_dir: StrPath | None = None,
        seed: int | None = None,
        model_transforms: Sequence[ModelTransform] = (),
    ) -> None:
        super().__init__()
        self._config = DataModuleConfig(
            database_name=database_name,
            split_name=split_name,
            cache_samples=cache_samples,
            balance_sampler_by_class=balance_sampler_by_class,
            batch_size=batch_size,
            batch_chunk_count=batch_chunk_count,
            drop_incomplete_batch=drop_incomplete_batch,
            parallel=parallel,
            cache_dir=None if cache_dir is None else Path(cache_dir),
            seed=seed,
        )
        self._sources: dict[SetName, SetSource] = sources_from_splits(splits)
        self._transforms: tuple[ModelTransform, ...] = tuple(model_transforms)
        self._datasets: dict[SetName, SetDataset] = {}
        self._targets: dict[SetName, list[int]] = {}

    # -- configuration -----------------------------------------------------------

    @property
    def config(self) -> DataModuleConfig:
        """The frozen configuration; setters below replace it with a new one."""
        return self._config

    @property
    def database_name(self) -> str:
        """Name of the database the samples come from."""
        return self._config.database_name

    @property
    def split_name(self) -> str:
        """Name of the split."""
        return self._config.split_name

    @property
    def set_names(self) -> tuple[SetName, ...]:
        """The sets of the splits, in their order."""
        return tuple(self._sources)

    @property
    def parallel(self) -> int:
        """Worker processes for loading (see `DataModuleConfig.parallel`)."""
        return self._config.parallel

    @parallel.setter
    def parallel(self, value: int) -> None:
        self._config = self._config.replace(parallel=value)

    @property
    def balance_sampler_by_class(self) -> bool:
        """Whether training draws classes in balance."""
        return self._config.balance_sampler_by_class

    @balance_sampler_by_class.setter
    def balance_sampler_by_class(self, value: bool) -> None:
        self._config = self._config.replace(balance_sampler_by_class=value)

    def set_chunk_size(self, batch_size: int, batch_chunk_count: int) -> None:
        """Set the batch size and the number of chunks it is cut into.

        Raises:
            ValidationError: ``batch_not_divisible`` or an out-of-range value.
        """
        self._config = self._config.replace(
            batch_size=batch_size, batch_chunk_count=batch_chunk_count
        )

    @property
    def chunk_size(self) -> int:
        """Samples per loader step.

        ``ceil(min(batch_size, len(train)) / batch_chunk_count)``: a batch larger
        than the training set is truncated to it.
        """
        return math.ceil(self._batch_size() / self._config.batch_chunk_count)

    def _batch_size(self) -> int:
        """``batch_size``, truncated to the size of `train`."""
        batch = self._config.batch_size
        if "train" in self._sources:
            batch = min(batch, len(self._sources["train"]))
        return batch

    @property
    def accumulate_grad_batches(self) -> int:
        """The ``Trainer(accumulate_grad_batches=...)`` that completes each batch."""
        return self._config.batch_chunk_count

    @property
    def model_transforms(self) -> tuple[ModelTransform, ...]:
        """Transforms applied to each input after loading, before caching."""
        return self._transforms

    @model_transforms.setter
    def model_transforms(self, value: Sequence[ModelTransform]) -> None:
        if self._datasets:
            warnings.warn(
                f"model transforms changed: dropping the sets already set up "
                f"({format_list(list(self._datasets))}) and their cache; they are set "
                "up again when used",
                LightsplitWarning,
                stacklevel=2,
            )
            self._datasets.clear()
        self._transforms = tuple(value)

    # -- stages ------------------------------------------------------------------

    def _require(self, stage: Stage, name: SetName) -> None:
        if name not in self._sources:
            msg = (
                f"stage `{stage}` needs set `{name}`, but the splits hold only "
                f"{format_list(list(self._sources))}; add a `{name}` set or run "
                "another stage"
            )
            raise SetMissingError(msg)

    def _validation_names(self, stage: Stage) -> list[SetName]:
        monitors = [name for name in self._sources if name.startswith("monitor-")]
        if "validation" in self._sources:
            return ["validation", *monitors]
        if "train" not in self._sources:
            self._require(stage, "validation")
        return ["train", *monitors]

    def _stage_sets(self, stage: Stage) -> list[SetName]:
        if stage == "fit":
            self._require(stage, "train")
            return list(dict.fromkeys(["train", *self._validation_names(stage)]))
        if stage == "validate":
            return self._validation_names(stage)
        if stage == "test":
            self._require(stage, "test")
            return ["test"]
        return list(self._sources)

    @override
    def setup(self, stage: str) -> None:
        """Set up the sets ``stage`` uses, loading them into memory when caching.

        ``fit`` uses `train`, `validation` and the `monitor-*` sets; ``validate``
        the validation sets; ``test`` the `test` set; ``predict`` every set.
        Without a `validation` set, validation runs on `train` (with a warning).

        Raises:
            ValueError: for an unknown stage.
            SetMissingError: when the stage needs a set the splits do not have.
            SampleLoadError: when caching and a sample fails to load.
            CacheMemoryError: when caching and the cache does not fit in memory.
        """
        checked = choose(stage, _STAGES, what="stage")
        names = self._stage_sets(checked)
        if checked in ("fit", "validate") and "validation" not in self._sources:
            warnings.warn(
                "the splits have no `validation` set: validating on `train`",
                LightsplitWarning,
                stacklevel=2,
            )
        if checked == "fit" and self._config.batch_size > len(self._sources["train"]):
            _LOG.info(
                "batch_size %d is larger than the %d samples of `train`: using %d",
                self._config.batch_size,
                len(self._sources["train"]),
                len(self._sources["train"]),
            )
        for name in names:
            self._dataset(name)

    @override
    def prepare_data(self) -> None:
        """Under DDP with a `cache_dir`, write the cache file of every set once.

        Lightning runs this in one process per node before any ``setup``, so that
        the processes of a node then map the same files instead of each decoding
        (and holding) its own copy of the sets.
        """
        cache_dir = self._config.cache_dir
        if cache_dir is None or self.trainer is None or self.trainer.world_size <= 1:
            return
        workers = self._config.num_workers
        for source in self._sources.values():
            persistent_store(
                source, self._transforms, cache_dir=cache_dir, workers=workers
            )

    @override
    def teardown(self, stage: str) -> None:
        """Release the sets ``stage`` set up, cached memory included."""
        for name in self._stage_sets(choose(stage, _STAGES, what="stage")):
            self._datasets.pop(name, None)
            self._targets.pop(name, None)

    def _dataset(self, name: SetName) -> SetDataset:
        dataset = self._datasets.get(name)
        if dataset is None:
            source = self._sources[name]
            workers = self._config.num_workers
            cache_dir = self._config.cache_dir
            if cache_dir is not None:
                store = persistent_store(
                    source, self._transforms, cache_dir=cache_dir, workers=workers
                )
                dataset = CachedDataset(store)
            elif self._config.cache_samples:
                store = build_store(source, self._transforms, workers=workers)
                dataset = CachedDataset(store)
            else:
                dataset = LazyDataset(source, self._transforms)
            self._datasets[name] = dataset
        return dataset

    # -- loaders -----------------------------------------------------------------

    def _loader(self, name: SetName, *, train: bool = False) -> SampleLoader:
        """Return the loader of set ``name``; ``train`` shuffles (or balances).

        Its sampler is sharded when distributed: training pads the shards to
        equal length, evaluation repeats no sample.
        """
        dataset = self._dataset(name)
        seed = self._config.seed
        draw: Draw = "shuffled" if train else "ordered"
        weights = None
        if train and self._config.balance_sampler_by_class:
            if name not in self._targets:
                self._targets[name] = self._sources[name].targets()
            draw, weights = "balanced", class_weights(self._targets[name])
        sampler = EpochSampler(
            len(dataset),
            batch_size=self.chunk_size,
            draw=draw,
            seed=seed,
            weights=weights,
            pad=train,
            drop_last=train and self._config.drop_incomplete_batch,
        )
        # A cached set is served by one index_select per batch: that is faster in
        # this process than shipping batches back from workers (see the docs).
        workers = 0 if isinstance(dataset, CachedDataset) else self._config.num_workers
        context = "spawn" if workers and sys.platform == "darwin" else None
        generator = None if seed is None else torch.Generator().manual_seed(seed)
        # The sampler yields whole batches of indices (batch_size=None): the data
        # set gathers each batch in one go.
        return SampleLoader(
            dataset,
            batch_size=None,
            sampler=sampler,
            generator=generator,
            num_workers=workers,
            persistent_workers=workers > 0,
            multiprocessing_context=context,
            pin_memory=torch.cuda.is_available(),
            collate_fn=collate_samples,
        )

    def _check_trainer(self) -> None:
        trainer = self.trainer
        expected = self.accumulate_grad_batches
        if trainer is not None and trainer.accumulate_grad_batches != expected:
            batch = self._batch_size()
            samples = (
                f"`batch_size` ({batch}) samples"
                if batch == self._config.batch_size
                else f"all {batch} samples of `train` (fewer than `batch_size`, "
                f"{self._config.batch_size})"
            )
            warnings.warn(
                f"the trainer accumulates gradients over "
                f"{trainer.accumulate_grad_batches} steps but `batch_chunk_count` is "
                f"{expected}; use `Trainer(accumulate_grad_batches={expected})` so "
                f"that each optimizer step sees {samples}",
                LightsplitWarning,
                stacklevel=3,
            )

    @override
    def train_dataloader(self) -> SampleLoader:
        """Return the loader of `train`, shuffled or class-balanced."""
        self._check_trainer()
        self._require("fit", "train")
        return self._loader("train", train=True)

    def unshuffled_train_dataloader(self) -> SampleLoader:
        """Return the loader of `train` in split order, dropping no sample."""
        self._require("fit", "train")
        return self._loader("train")

    @override
    def val_dataloader(self) -> dict[SetName, SampleLoader]:
        """Return the loaders of `validation` (or `train`) and the `monitor-*` sets."""
        names = self._validation_names("validate")
        return {name: self._loader(name) for name in names}

    @override
    def test_dataloader(self) -> dict[SetName, SampleLoader]:
        """Return ``{"test": loader}``."""
        self._require("test", "test")
        return {"test": self._loader("test")}

    @override
    def predict_dataloader(self) -> dict[SetName, SampleLoader]:
        """Return a loader for every set, in split order."""
        return {name: self._loader(name) for name in self._sources}


class CachingDataModule(ConcatDataModule):
    """A `ConcatDataModule` over one split and one loader.

    Args:
        database_split: set name -> raw samples (a `DatabaseSplit`, say).
        raw_data_loader: loads every raw sample of the split.
        database_name: see `DataModuleConfig`.
        split_name: see `DataModuleConfig`.
        cache_samples: see `DataModuleConfig`.
        balance_sampler_by_class: see `DataModuleConfig`.
        batch_size: see `DataModuleConfig`.
        batch_chunk_count: see `DataModuleConfig`.
        drop_incomplete_batch: see `DataModuleConfig`.
        parallel: see `DataModuleConfig`.
        cache_dir: see `DataModuleConfig`.
        seed: see `DataModuleConfig`.
        model_transforms: see `ConcatDataModule`.

    Raises:
        ValidationError: as `ConcatDataModule`.
    """

    def __init__(
        self,
        database_split: Mapping[SetName, Sequence[RawT]],
        raw_data_loader: RawDataLoader[RawT],
        *,
        database_name: str = "",
        split_name: str = "",
        cache_samples: bool = False,
        balance_sampler_by_class: bool = False,
        batch_size: int = 1,
        batch_chunk_count: int = 1,
        drop_incomplete_batch: bool = False,
        parallel: int = -1,
        cache_dir: StrPath | None = None,
        seed: int | None = None,
        model_transforms: Sequence[ModelTransform] = (),
    ) -> None:
        # Anything but a mapping goes on as it is, for validation to name the problem.
        splits: object = database_split
        if isinstance(database_split, Mapping):
            splits = {
                name: [(raw, raw_data_loader)] for name, raw in database_split.items()
            }
        super().__init__(
            cast(Splits, splits),
            database_name=database_name,
            split_name=split_name,
            cache_samples=cache_samples,
            balance_sampler_by_class=balance_sampler_by_class,
            batch_size=batch_size,
            batch_chunk_count=batch_chunk_count,
            drop_incomplete_batch=drop_incomplete_batch,
            parallel=parallel,
            cache_dir=cache_dir,
            seed=seed,
            model_transforms=model_transforms,
        )
