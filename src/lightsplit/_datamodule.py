"""``ConcatDataModule`` and ``CachingDataModule``: splits served to Lightning.

The classes are the facade that mednet code and Lightning see: they hold the
validated configuration, the sets and the model transforms, and delegate each
job to the module that does it (`_stages`: which sets a stage uses; `_setup`:
serving a set from disk, memory or a cache file; `_loader`: its data loader).
"""

import functools
import logging
import math
import os
import warnings
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final, Never, NoReturn, Self, TypeVar, cast

import torch
from lightning.pytorch import LightningDataModule, Trainer
from lightning.pytorch.trainer.states import TrainerStatus
from torch import Tensor
from typing_extensions import override

from ._batch_transforms import BatchTransform, apply_batch_transforms, batch_seed
from ._config import DataModuleConfig, checked_config
from ._datasets import CachedDataset, LazyDataset, SetDataset
from ._entries import Grouping, grouping
from ._errors import (
    DataChangedError,
    LightsplitWarning,
    caller_stacklevel,
    first_few,
    format_list,
    format_problems,
    preview,
)
from ._groups import (
    check_group_leaks,
    group_hashes,
    patients_trained_on,
    warn_patients_unchecked,
)
from ._hashing import canonical_json, sets_sha256
from ._loader import SampleLoader, build_loader
from ._nodecache import open_on_node
from ._parts import Splits
from ._provenance import (
    PROVENANCE_KEY,
    Difference,
    Earlier,
    ReaderKey,
    SharedEntries,
    compare_provenance,
    earlier_training,
    entry_hashes,
    group_change,
    provenance_of,
    report,
    set_record,
    shared_entries,
    shown_reader,
    train_loaders,
    ungrouped_training,
)
from ._sample import ModelTransform, RawDataLoader, Sample
from ._sampling import EpochSampler, Shards
from ._settings import (
    Setting,
    config_from_arguments,
    document_settings,
    misspelt_setting,
)
from ._setup import open_set, write_cache_file
from ._shared import warn_shared_files
from ._sources import (
    SetSource,
    check_entries,
    check_model_transforms,
    check_transforms,
    same_parts,
    sources_from_splits,
)
from ._split import DatabaseSplit, file_sets, load_split, split_file_missing
from ._stages import require_set, stage_sets, validation_sets
from ._threads import one_intra_op_thread
from ._types import HELD_OUT_SET_NAMES, SetName, StrPath

__all__ = ["CachingDataModule", "ConcatDataModule"]

_LOG: Final = logging.getLogger("lightsplit")

RawT = TypeVar("RawT")


@document_settings
class ConcatDataModule(LightningDataModule):
    """A Lightning data module over named sets, each concatenating raw-sample lists.

    ``splits`` maps set names (`train`, `validation`, `test`, `monitor-<name>`) to
    sequences of ``(samples, loader)`` parts (`SplitPart`); each set serves the
    samples of its parts one after the other. Loaders yield `Sample` batches of
    ``chunk_size`` samples; train with
    ``Trainer(accumulate_grad_batches=datamodule.accumulate_grad_batches)``.

    Every setting is also a property: reading it gives the configuration's
    value, and assigning it (``datamodule.batch_size = 32``) replaces the
    configuration with a validated copy, effective in the next loaders.
    Changing `cache_samples` or `cache_dir` drops the sets already set up, with
    a warning; they are set up again when used.

    Args:
        splits: set name -> ``(samples, loader)`` parts; a part's samples may be
            the path of a split file instead, whose set of the same name is read.
        database_name: see `DataModuleConfig`.
        split_name: see `DataModuleConfig`.
        task: see `DataModuleConfig`.
        num_classes: see `DataModuleConfig`.
        cache_samples: see `DataModuleConfig`.
        balance_sampler_by_class: see `DataModuleConfig`.
        batch_size: see `DataModuleConfig`.
        batch_chunk_count: see `DataModuleConfig`.
        drop_incomplete_batch: see `DataModuleConfig`.
        parallel: see `DataModuleConfig`.
        cache_dir: see `DataModuleConfig`.
        seed: see `DataModuleConfig`.
        cache_on_device: see `DataModuleConfig`.
        device_headroom: see `DataModuleConfig`.
        allow_data_change: see `DataModuleConfig`.
        group_pattern: see `DataModuleConfig`.
        group_field: see `DataModuleConfig`.
        model_transforms: tensor transforms (functions or modules) applied to each
            input after loading and before caching, in order.
        train_batch_transforms: transforms of each training batch once on the
            training device, in order, seeded from `seed`, the epoch and the
            batch (see `BatchTransform`): conversion, normalisation, augmentation.
        eval_batch_transforms: the same, for validation, test and prediction
            batches.

    Raises:
        ValidationError: for an invalid setting (see `DataModuleConfig`), invalid
            splits (``set_name_invalid``, ``set_empty``, ``splits_empty``,
            ``samples_invalid``, ``loader_invalid``, ``loader_not_instance``) or
            invalid model transforms (``transforms_invalid``,
            ``transform_invalid``); with `group_pattern` (or `group_field`), for
            a group in two of `train`, `validation` and `test` (``group_leak``)
            or a pattern that finds no group there (``group_pattern_unmatched``;
            a field that holds none: ``group_field_unheld``).
        FileNotFoundError: for a split file named in the splits that is missing.
        SplitFileError: for such a file that is invalid or lacks the set.
    """

    database_name = Setting[str]()
    split_name = Setting[str]()
    task = Setting[str]()
    num_classes = Setting[int]()
    cache_samples = Setting[bool]()
    balance_sampler_by_class = Setting[bool]()
    batch_size = Setting[int]()
    batch_chunk_count = Setting[int]()
    drop_incomplete_batch = Setting[bool]()
    parallel = Setting[int]()
    cache_dir = Setting[StrPath | None]()
    seed = Setting[int | None]()
    cache_on_device = Setting[bool]()
    device_headroom = Setting[float]()
    allow_data_change = Setting[bool]()
    group_pattern = Setting[str | None]()
    group_field = Setting[int | str | None]()

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
        task: str = "",
        num_classes: int = 1,
        cache_dir: StrPath | None = None,
        seed: int | None = None,
        cache_on_device: bool = False,
        device_headroom: float = 0.25,
        allow_data_change: bool = False,
        group_pattern: str | None = None,
        group_field: int | str | None = None,
        model_transforms: Sequence[ModelTransform] = (),
        train_batch_transforms: Sequence[BatchTransform] = (),
        eval_batch_transforms: Sequence[BatchTransform] = (),
    ) -> None:
        super().__init__()
        # The settings are picked from the arguments by name: see _settings.
        config = config_from_arguments(locals())
        self._start(
            sources_from_splits(splits),
            config,
            model_transforms,
            train_batch_transforms,
            eval_batch_transforms,
        )

    @classmethod
    def _from_config(
        cls,
        splits: Splits,
        config: DataModuleConfig,
        model_transforms: Sequence[ModelTransform],
        train_batch_transforms: Sequence[BatchTransform] = (),
        eval_batch_transforms: Sequence[BatchTransform] = (),
    ) -> Self:
        """Make a data module that holds ``config`` itself, once checked."""
        config = checked_config(config, name="config")
        module = cls.__new__(cls)
        LightningDataModule.__init__(module)
        module._start(
            sources_from_splits(splits),
            config,
            model_transforms,
            train_batch_transforms,
            eval_batch_transforms,
        )
        return module

    def _start(
        self,
        sources: dict[SetName, SetSource],
        config: DataModuleConfig,
        model_transforms: object,
        train_batch_transforms: object = (),
        eval_batch_transforms: object = (),
    ) -> None:
        self._check_groups(sources, config)
        check_entries(sources)
        warn_shared_files(sources)
        self._config = config
        self._sources = sources
        self._transforms = check_model_transforms(model_transforms)
        self._train_batch_transforms: tuple[BatchTransform, ...] = check_transforms(
            train_batch_transforms, field="train_batch_transforms", batch=True
        )
        self._eval_batch_transforms: tuple[BatchTransform, ...] = check_transforms(
            eval_batch_transforms, field="eval_batch_transforms", batch=True
        )
        self._datasets: dict[SetName, SetDataset] = {}
        self._sharing: list[CachedDataset] = []  # torn down, their store still served
        self._targets: dict[SetName, list[int]] = {}
        self._records: dict[SetName, dict[str, Any]] = {}
        self._split_hash: str | None = None
        """The content hash of the sets, once `_provenance` has made the record."""
        self._split_read: DatabaseSplit[Any] | None = None
        """The split served whole, set for set: its file's hash is the module's."""
        self._train_hashes: Tensor | None = None
        self._train_loaders: tuple[ReaderKey, ...] = ()
        self._train_groups: tuple[Grouping, Tensor] | None = None
        """The grouping (pattern or field) and the hash of each training group
        it finds."""
        self._earlier: Earlier | None = None
        """What the checkpoint resumed from was trained on beyond `train`."""
        self._train_changed = False
        """Whether `train` differs from the checkpoint resumed (`allow_data_change`)."""
        self._warned_inside_accumulation = False
        self._train_sampler: EpochSampler | None = None
        """The sampler of the last training loader made: the next one keeps the
        seed it drew (without a fixed seed), and, made without a trainer, starts
        at the epoch after the last one it read from."""
        named = "/".join(filter(None, (config.database_name, config.split_name)))
        of = f" of `{named}`" if named else ""
        for name, source in sources.items():
            _LOG.info("set `%s`%s: %d samples", name, of, len(source))

    if not TYPE_CHECKING:  # type checkers refuse unknown attributes already

        def __setattr__(self, name: str, value: object) -> None:
            """Refuse an attribute that looks like a setting and would be ignored.

            ``datamodule.batch_szie = 8`` or ``datamodule.num_workers = 4`` would
            set an attribute that lightsplit never reads (`misspelt_setting`).
            """
            refused = misspelt_setting(type(self), name)
            if refused is not None and name not in self.__dict__:
                raise AttributeError(refused)
            super().__setattr__(name, value)

    # -- configuration -----------------------------------------------------------

    @property
    def config(self) -> DataModuleConfig:
        """The frozen configuration; assign a new one to change several settings."""
        return self._config

    @config.setter
    def config(self, value: DataModuleConfig) -> None:
        value = checked_config(value, name="config")  # for untyped callers too
        old = self._config
        if _grouping(value) != _grouping(old):
            self._check_groups(self._sources, value)
        if (old.cache_samples, old.cache_path) != (
            value.cache_samples,
            value.cache_path,
        ):
            self._drop_sets("`cache_samples` or `cache_dir` changed")
        self._config = value

    def _check_groups(
        self, sources: Mapping[SetName, SetSource], config: DataModuleConfig
    ) -> None:
        """Refuse a group in two held-apart sets (`check_group_leaks`), if asked.

        Not asked, warn of a key or folder named for the patient found in two of
        them (`warn_patients_unchecked`).
        """
        found = _grouping(config)
        if found is None:
            warn_patients_unchecked(
                {name: source.entries() for name, source in sources.items()}
            )
            return
        check_group_leaks(
            {name: source.entries() for name, source in sources.items()},
            found,
            title=type(self).__name__,
        )

    def _drop_sets(self, reason: str) -> None:
        """Forget the sets set up so far (and their caches), with a warning."""
        if self._datasets:
            warnings.warn(
                f"{reason}: dropping the sets already set up "
                f"({format_list(list(self._datasets))}) and their cache; they are set "
                "up again when used",
                LightsplitWarning,
                stacklevel=caller_stacklevel(),
            )
            self._datasets.clear()

    @property
    def set_names(self) -> tuple[SetName, ...]:
        """The sets of the splits, in their order."""
        return tuple(self._sources)

    @property
    def splits(self) -> dict[SetName, list[tuple[Sequence[Any], RawDataLoader[Any]]]]:
        """Each set's ``(samples, loader)`` pairs, as mednet's data modules hold them.

        A new mapping each time (the sets themselves are fixed at construction):
        ``splits["train"][0][0][i]`` is the raw sample ``i`` of train's first
        part, as mednet's scripts read it.
        """
        return {
            name: [(samples, loader) for samples, loader in source.parts]
            for name, source in self._sources.items()
        }

    def val_dataset_keys(self) -> list[SetName]:
        """Return the sets validated on, as mednet's data modules do.

        `validation` (else `train`), then every `monitor-<name>` set: the keys of
        `val_dataloader`.
        """
        return validation_sets(self.set_names, "fit")

    @property
    def split_sha256(self) -> str:
        """The content hash of the sets served, as `split_sha256` computes it.

        For a `CachingDataModule` over a split file, it is the hash of the file
        (``lightsplit card`` and ``lightsplit check`` print the same). Checkpoints
        record it (``lightsplit provenance`` prints it). A split made in Python
        may hold ``NaN``, which no JSON file does: it is written as Python's
        ``json`` writes it.

        Raises:
            TypeError: if a raw sample holds something JSON cannot represent.
        """
        if self._split_hash is not None:  # made with the checkpoint record
            return self._split_hash
        return sets_sha256(self._canonical_sets())

    def _canonical_sets(self) -> dict[SetName, bytes]:
        """Return each set's entries in canonical form (``NaN`` as Python writes it).

        A set of the typed split file the module serves whole is its file's
        (`file_sets`): a checkpoint then records the hash `card` prints.
        """
        read = None if self._split_read is None else file_sets(self._split_read)
        return {
            name: canonical_json(
                read[name]
                if read is not None and len(read.get(name, ())) == len(source)
                else source.entries(),
                allow_nan=True,
            )
            for name, source in self._sources.items()
        }

    def set_chunk_size(self, batch_size: int, batch_chunk_count: int) -> None:
        """Set the batch size and the number of chunks it is cut into, together.

        Raises:
            ValidationError: ``batch_not_divisible`` or an out-of-range value.
        """
        self.config = self._config.replace(
            batch_size=batch_size, batch_chunk_count=batch_chunk_count
        )

    @property
    def chunk_size(self) -> int:
        """Samples per loader step.

        ``ceil(min(batch_size, len(train)) / batch_chunk_count)``: a batch larger
        than the training set is truncated to it.
        """
        return math.ceil(self._batch_size() / self._config.batch_chunk_count)

    @chunk_size.setter
    def chunk_size(self, value: Never) -> NoReturn:  # type checkers refuse it too
        _derived("chunk_size", "set `batch_size` and `batch_chunk_count` instead")

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

    @accumulate_grad_batches.setter
    def accumulate_grad_batches(self, value: Never) -> NoReturn:  # and this
        _derived("accumulate_grad_batches", "set `batch_chunk_count` instead")

    @property
    def model_transforms(self) -> tuple[ModelTransform, ...]:
        """Transforms applied to each input after loading, before caching."""
        return self._transforms

    @model_transforms.setter
    def model_transforms(self, value: Sequence[ModelTransform]) -> None:
        transforms = check_model_transforms(value)
        if transforms != self._transforms:
            self._drop_sets("model transforms changed")
        self._transforms = transforms

    @property
    def train_batch_transforms(self) -> tuple[BatchTransform, ...]:
        """Transforms of each training batch on the training device."""
        return self._train_batch_transforms

    @train_batch_transforms.setter
    def train_batch_transforms(self, value: Sequence[BatchTransform]) -> None:
        self._train_batch_transforms = check_transforms(
            value, field="train_batch_transforms", batch=True
        )

    @property
    def eval_batch_transforms(self) -> tuple[BatchTransform, ...]:
        """Transforms of each validation, test and prediction batch on its device."""
        return self._eval_batch_transforms

    @eval_batch_transforms.setter
    def eval_batch_transforms(self, value: Sequence[BatchTransform]) -> None:
        self._eval_batch_transforms = check_transforms(
            value, field="eval_batch_transforms", batch=True
        )

    @override
    def on_after_batch_transfer(self, batch: Sample, dataloader_idx: int) -> Sample:
        """Apply the batch transforms to a batch on its device.

        The data module's loaders yield `Sample` batches; a batch of another
        loader (one handed to ``Trainer.fit`` beside the data module, say) comes
        back as it is. A subclass may override it with this signature, calling
        ``super().on_after_batch_transfer(batch, dataloader_idx)``.

        Training batches get `train_batch_transforms`, the others
        `eval_batch_transforms`, with torch's generators seeded from `seed` (or,
        without one, from torch's initial seed), the epoch, the batch and the
        process's rank: the same draws on every run, and after a resume.
        """
        trainer = self.trainer
        training = trainer is not None and trainer.training
        transforms = (
            self._train_batch_transforms if training else self._eval_batch_transforms
        )
        if not transforms or not isinstance(batch, Sample):
            return batch
        base = self._config.seed
        seed = torch.initial_seed() if base is None else base
        epoch, number, rank = 0, 0, 0
        if trainer is not None:
            epoch, rank = trainer.current_epoch, trainer.global_rank
            number = _batch_number(trainer, training=training)
        key = batch_seed(seed, int(training), dataloader_idx, epoch, number, rank)
        return apply_batch_transforms(batch, transforms, seed=key)

    # -- stages ------------------------------------------------------------------

    @override
    def setup(self, stage: str) -> None:
        """Set up the sets ``stage`` uses, loading them into memory when caching.

        ``fit`` uses `train`, `validation` and the `monitor-*` sets; ``validate``
        the validation sets; ``test`` the `test` set; ``predict`` every set.
        Without a `validation` set, validation runs on `train` (with a warning).

        Raises:
            ValueError: for an unknown stage.
            SetMissingError: when the stage needs a set the splits do not have.
            SampleLoadError: when caching and a sample fails to load, or, with
                `balance_sampler_by_class`, when the loader's ``target`` of a
                training sample is no class (before anything is cached).
            CacheMemoryError: when caching and the cache does not fit in memory.
        """
        names = stage_sets(self.set_names, stage)
        if stage in ("fit", "validate") and "validation" not in self._sources:
            said = "the splits have no `validation` set: validating on `train`"
            if stage == "validate":  # a model evaluated on what it may train on
                said += (
                    ", so the results are not held out (a model trained on this "
                    "split has seen every entry); add a `validation` set, or "
                    "`test` on a held-out set"
                )
            warnings.warn(
                said,
                LightsplitWarning,
                stacklevel=caller_stacklevel(),
            )
        train = len(self._sources["train"]) if "train" in self._sources else 0
        if stage == "fit" and self._config.batch_size > train:
            _LOG.info(
                "batch_size %d is larger than the %d samples of `train`: using %d",
                self._config.batch_size,
                train,
                train,
            )
        if (
            stage == "fit"
            and "train" in names
            and self._config.balance_sampler_by_class
        ):
            self._set_targets("train")  # a target that cannot balance fails now,
            # not once the cache is built (`target` opens no file: it is quick)
        self._open_on_node(self._distinct(names))
        for name in names:
            self._dataset(name)

    def _open_on_node(self, names: Sequence[SetName]) -> None:
        """Under DDP, cache ``names`` once per node, in memory every process maps.

        Without `cache_dir`, the first process of each node builds each set's
        cache in shared memory and the others map it (see `open_on_node`), on
        the training device too with `cache_on_device`.
        """
        trainer = self.trainer
        config = self._config
        if (
            not names
            or trainer is None
            or trainer.world_size <= 1
            or not config.cache_samples
            or config.cache_path is not None
        ):
            return
        device = trainer.strategy.root_device
        opened = open_on_node(
            trainer.strategy,
            local_rank=trainer.local_rank,
            node_rank=trainer.node_rank,
            workers=config.num_workers,
            seed=config.seed,
            sources={name: self._sources[name] for name in names},
            open_set=lambda source, cache: open_set(
                source, self._transforms, config, device=device, node_cache=cache
            ),
        )
        self._datasets.update(opened)

    @override
    def prepare_data(self) -> None:
        """Under DDP with a `cache_dir`, write the cache file of every set once.

        Lightning runs this in one process per node before any ``setup``, so that
        the processes of a node then map the same files instead of each decoding
        (and holding) its own copy of the sets.
        """
        if self.trainer is None or self.trainer.world_size <= 1:
            return
        for name, source in self._sources.items():
            alike = self._alike_source(name)
            write_cache_file(source, self._transforms, self._config, alike=alike)

    @override
    def teardown(self, stage: str) -> None:
        """Release the sets ``stage`` set up, cached memory included.

        The cache is let go of even while loaders made for the stage live on (a
        trainer keeps its loaders, and a trained model its trainer); such a
        loader then fails, saying so. A cache that a set of another stage
        still serves (`monitor-train` repeating `train`) is kept.
        """
        dropped = [
            self._datasets.pop(name)
            for name in stage_sets(self.set_names, stage)
            if name in self._datasets
        ]
        for name in stage_sets(self.set_names, stage):
            self._targets.pop(name, None)
        kept = {
            id(dataset.store)
            for dataset in self._datasets.values()
            if isinstance(dataset, CachedDataset)
        }
        cached = [d for d in (*dropped, *self._sharing) if isinstance(d, CachedDataset)]
        self._sharing = [d for d in cached if id(d.store) in kept]
        for dataset in cached:
            if id(dataset.store) not in kept:  # released with the last set serving it
                dataset.release()
        if stage == "fit":  # the next fit draws its own seed, as a new module would
            self._train_sampler = None

    @override
    def on_exception(self, exception: BaseException) -> None:
        """Release the sets of the stage an exception ended, as `teardown` does.

        Lightning tears a data module down only when its stage ends well: the
        cache of a fit that raised (a pruned trial of a search, a failing
        step) lived on with the trainer, the model and the module, which refer
        to one another, until Python's collector of cycles ran: one cache more
        per failed trial of a search run in one process.
        """
        trainer = self.trainer
        stage = None if trainer is None else trainer.state.fn
        if stage is not None:
            self.teardown(stage.value)

    def _dataset(self, name: SetName) -> SetDataset:
        dataset = self._datasets.get(name)
        if dataset is None:
            source = self._sources[name]
            dataset = self._cached_alike(source)
            if dataset is None:
                trainer = self.trainer
                device = None if trainer is None else trainer.strategy.root_device
                config = self._config
                alike = self._alike_source(name)
                dataset = open_set(
                    source, self._transforms, config, device=device, alike=alike
                )
            self._datasets[name] = dataset
        return dataset

    def _alike_source(self, name: SetName) -> SetSource | None:
        """Return the first other set of the same entries and loaders, if any.

        With `cache_dir`, a set without a cache file maps that set's (mednet's
        `monitor-train` repeating `train`): one file, written once, for both.
        """
        source = self._sources[name]
        return next(
            (
                other
                for other_name, other in self._sources.items()
                if other_name != name and same_parts(other, source)
            ),
            None,
        )

    def _distinct(self, names: Sequence[SetName]) -> list[SetName]:
        """Return the sets of ``names`` not set up yet that no other set repeats.

        A set of the same entries and loaders as an earlier one of ``names``, or
        as a set cached already (`monitor-train` repeating `train`), is left
        out: `_cached_alike` serves it from that set's cache, which caching it
        for the node would double.
        """
        kept: list[SetName] = []
        for name in names:
            source = self._sources[name]
            if name in self._datasets or any(
                same_parts(self._sources[other], source) for other in kept
            ):
                continue
            if self._cached_alike(source) is None:
                kept.append(name)
        return kept

    def _cached_alike(self, source: SetSource) -> SetDataset | None:
        """Return the cache of a set of the same entries and loaders, if one is open.

        mednet's `monitor-train` repeats `train`: it is served from the cache
        of `train` rather than from a second copy (which would double memory).
        """
        for other, dataset in self._datasets.items():
            if isinstance(dataset, LazyDataset) or not same_parts(
                self._sources[other], source
            ):
                continue
            if isinstance(dataset, CachedDataset):  # named after its own set
                alike = CachedDataset(dataset.store, pinned=dataset.pinned)
                alike.name = source.name
                return alike
            return dataset
        return None

    # -- provenance --------------------------------------------------------------

    def _set_targets(self, name: SetName) -> list[int]:
        targets = self._targets.get(name)
        if targets is None:
            targets = self._targets[name] = self._sources[name].targets()
        return targets

    def _provenance(self) -> dict[str, Any]:
        """Return the record of the data served (computed once)."""
        if self._split_hash is None:
            # each set encoded once, for its own hash and the split's
            texts = self._canonical_sets()
            for name, source in self._sources.items():
                targets = functools.partial(self._set_targets, name)
                self._records[name] = set_record(source, targets, texts[name])
            self._split_hash = sets_sha256(texts)
        if self._train_hashes is None and "train" in self._sources:
            self._train_hashes = entry_hashes(self._sources["train"].entries())
            self._train_loaders = train_loaders(self._sources["train"])
        found = _grouping(self._config)
        train_groups = None
        if found is not None and "train" in self._sources:
            if self._train_groups is None or self._train_groups[0] != found:
                entries = self._sources["train"].entries()
                self._train_groups = found, group_hashes(entries, found)
            train_groups = self._train_groups[1]
        sets = {name: self._records[name] for name in self._sources}
        return provenance_of(
            sets,
            self._split_hash,
            self._train_hashes,
            self._config,
            self._transforms,
            train_groups=train_groups,
            train_readers=self._train_loaders,
            earlier=self._earlier,
        )

    @override
    def state_dict(self) -> dict[str, Any]:
        """Return what data this module serves, for Lightning to keep in checkpoints.

        Per set: its size, content hash, class counts and loaders' identity; the
        configuration; the model transforms' identity; and an 8-byte hash of each
        entry the model was trained on: the training set's, and, once resumed
        from a checkpoint, those it was trained on before that this training set
        lacks (with their groups). `load_state_dict` compares a checkpoint's
        record with the data module it is loaded into.

        A checkpoint taken between the chunks of one optimizer step (validation
        every so many batches, not a multiple of `batch_chunk_count`) is warned
        of, once: the gradients accumulated before it are not in it.
        """
        self._warn_inside_accumulation()
        with one_intra_op_thread():  # sorts and lookups: slow on busy threads
            return {PROVENANCE_KEY: self._provenance()}

    def _warn_inside_accumulation(self) -> None:
        trainer = self.trainer
        if trainer is None or self._warned_inside_accumulation:
            return
        if trainer.global_rank != 0:  # every process would say the same
            return
        if str(getattr(trainer.state.fn, "value", "")) != "fit":
            return
        progress = trainer.fit_loop.epoch_loop.batch_progress
        chunks, ready = trainer.accumulate_grad_batches, _batches_done(trainer)
        if chunks < 2 or ready % chunks == 0 or progress.is_last_batch:  # noqa: PLR2004 - one chunk: no accumulation
            return
        loader = trainer.train_dataloader
        if isinstance(loader, SampleLoader) and loader.served_whole():
            return  # the rest of an epoch stopped early: said when it was taken up
        self._warned_inside_accumulation = True
        done = ready % chunks
        left = "chunk" if chunks - done == 1 else f"{chunks - done} chunks"
        on_steps = "Take checkpoints on optimizer steps"
        if trainer.validating:
            advice = (
                f"{on_steps}: validate every multiple of {chunks} batches "
                "(`val_check_interval`)"
            )
        elif _steps_unfinished(trainer):  # in a step: a signal handler's
            advice = (
                "It was taken during a training step, as Lightning saves SLURM's "
                "pre-emption checkpoint (`hpc_ckpt_*.ckpt`): at once, wherever the "
                "run is. With `batch_chunk_count=1` every batch ends a step, and "
                "such a checkpoint resumes exactly"
            )
        else:  # a callback's, after a training batch
            advice = (
                f"{on_steps}: by steps (`ModelCheckpoint(every_n_train_steps=...)`) "
                "or at epochs' ends, not by time (`train_time_interval`) or by batches"
            )
        warnings.warn(
            f"a checkpoint was taken {ready} batches into epoch "
            f"{trainer.current_epoch}, between the chunks of an optimizer step "
            f"({done} of its {chunks} chunks done): Lightning keeps no gradients, "
            f"so a run resumed from it makes that step from its last {left} "
            f"alone, and its weights part from the uninterrupted run's. {advice}",
            LightsplitWarning,
            stacklevel=caller_stacklevel(),
        )

    @override
    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Check a checkpoint's record against the data this module serves.

        Lightning calls it when resuming (``fit(ckpt_path=...)``) and when
        validating, testing or predicting with a checkpoint. Resuming compares
        every set, the model transforms and the settings; evaluating compares the
        evaluated sets and transforms, and looks for entries they share with the
        checkpoint's training set. A difference in what is served (entries,
        classes, loaders, transforms, training settings) is an error, unless
        `allow_data_change` is set; a difference in how (`parallel`, caching,
        names) is a warning. An evaluated `validation` or `test` set that shares
        nothing with the training set (by file, and by patient where recorded)
        may differ, or be new: it is evaluated as given, with a warning. Once
        resuming is allowed, the entries and patients the checkpoint records
        beyond the training set are carried into this module's own record, for
        later checkpoints to remember all that the model was trained on.

        Raises:
            DataChangedError: naming each difference, and how to accept them.
        """
        recorded = state_dict.get(PROVENANCE_KEY)
        if not isinstance(recorded, Mapping):
            return
        with one_intra_op_thread():  # sorts and lookups: slow on busy threads
            self._check_record(recorded)

    def _check_record(self, recorded: Mapping[str, Any]) -> None:
        """Check a checkpoint's record (see `load_state_dict`)."""
        trainer = self.trainer
        fn = None if trainer is None else trainer.state.fn
        stage = "fit" if fn is None else str(fn.value)
        training = stage == "fit"
        names = [] if training else stage_sets(self.set_names, stage)
        current = self._provenance()
        held_out = {  # `monitor-*` sets repeat others on purpose
            name: self._sources[name].entries()
            for name in names
            if name in HELD_OUT_SET_NAMES
        }
        found = {
            name: shared_entries(
                recorded, self._sources[name], self._sources.get("train")
            )
            for name in held_out
        }
        leaks = [
            _shared_entries(name, held_out[name], shared)
            for name, shared in found.items()
            if shared.shared
        ]
        apart = [
            _told_apart(name, held_out[name], shared.apart)
            for name, shared in found.items()
            if shared.apart
        ]
        check = patients_trained_on(recorded, held_out, asked=_grouping(self._config))
        patients = check.lines
        # sets found held out (the checkpoint records its training entries, and
        # none is there) are evaluated as given, even if new or changed
        checked = (
            list(held_out)
            if isinstance(recorded.get("train_entries"), Tensor)
            and not leaks
            and not patients
            else []
        )
        differences = compare_provenance(
            recorded, current, sets=names, training=training, held_out=checked
        )
        if any(d.severity == "held_out" for d in differences):
            differences += [Difference(text, "held_out") for text in apart]
        else:  # the sets are the checkpoint's own, told apart when trained too
            for text in apart:
                _LOG.info("%s", text)
        for note in check.notes:
            warnings.warn(note, LightsplitWarning, stacklevel=caller_stacklevel())
        what = "patients" if patients and not leaks else "entries"
        what += " and patients" if patients and leaks else ""
        leaks += patients
        if leaks and not self._config.allow_data_change:
            changed = [str(d) for d in differences if d.severity == "error"]
            raise DataChangedError(
                format_problems(
                    f"running `{stage}` on {what} the checkpoint was trained on",
                    leaks + changed,
                )
                + "\nIts results would not be held out: evaluate on a set disjoint "
                "from the checkpoint's training set, by patient too where it "
                "recorded them (of k-fold files, the file it was trained on; "
                "`lightsplit provenance CHECKPOINT SPLIT...` says which matches). To "
                "evaluate on training data on purpose, set `allow_data_change=True` "
                "(`--data.allow_data_change true` with LightningCLI)"
            )
        if leaks:  # allowed: said apart, not among the data that differ
            warnings.warn(
                format_problems(
                    f"running `{stage}` on {what} the checkpoint was trained on, "
                    "as `allow_data_change=True` allows: its results are not held "
                    "out",
                    leaks,
                ),
                LightsplitWarning,
                stacklevel=caller_stacklevel(),
            )
        action = "resuming training" if training else f"running `{stage}`"
        error, warning = report(
            differences,
            allowed=self._config.allow_data_change,
            action=action,
            by_patient=isinstance(recorded.get("train_groups"), Tensor),
            ungrouped=check.ungrouped,
            own=check.own,
            unrecorded=ungrouped_training(recorded),
        )
        if error is not None:
            raise DataChangedError(error)
        if training:  # allowed: the interrupted epoch's order is no longer this set's
            old_train = recorded["sets"].get("train", {})
            new_train = current["sets"].get("train", {})
            self._train_changed = old_train.get("sha256") != new_train.get("sha256")
        if warning is not None:
            warnings.warn(warning, LightsplitWarning, stacklevel=caller_stacklevel())
        if training and self._train_hashes is not None:
            # the model was trained on what the checkpoint records, too
            self._earlier = earlier_training(recorded, self._train_hashes)
            uncarried = group_change(self._earlier, _grouping(self._config))
            if uncarried is not None:
                warnings.warn(
                    uncarried, LightsplitWarning, stacklevel=caller_stacklevel()
                )

    # -- loaders -----------------------------------------------------------------

    def _loader(
        self, name: SetName, *, train: bool = False, shards: Shards = "equal"
    ) -> SampleLoader:
        """Return the loader of set ``name``; ``train`` shuffles (or balances).

        ``shards`` says how it is shared among distributed processes (see
        `build_loader`).
        """
        targets = None
        if train and self._config.balance_sampler_by_class:
            targets = self._set_targets(name)
            if len(set(targets)) == 1:
                warnings.warn(
                    f"`balance_sampler_by_class` on set `{name}`, whose "
                    f"{len(targets)} samples are all of class {targets[0]}: each "
                    "epoch draws that many with replacement, so that some are seen "
                    "several times and others not at all; set "
                    "`balance_sampler_by_class=False` to see each once an epoch",
                    LightsplitWarning,
                    stacklevel=caller_stacklevel(),
                )
        loader = build_loader(
            self._dataset(name),
            self._config,
            chunk_size=self.chunk_size,
            train=train,
            targets=targets,
            shards=shards,
        )
        loader.set_changed = train and self._train_changed
        return loader

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
            count = trainer.accumulate_grad_batches
            steps = "1 step" if count == 1 else f"{count} steps"
            chunk = batch // expected  # samples a loader step serves
            warnings.warn(
                f"the trainer accumulates gradients over {steps} but "
                f"`batch_chunk_count` is {expected}; use "
                f"`Trainer(accumulate_grad_batches={expected})` "
                f"(`--trainer.accumulate_grad_batches {expected}` with LightningCLI) "
                f"so that each optimizer step sees {samples}; as they are, it "
                f"sees {count} x {chunk} = {count * chunk} samples: to mean that "
                "(as mednet's `accumulate_grad_batches` does), set "
                f"`batch_size={count * chunk}, batch_chunk_count={count}`",
                LightsplitWarning,
                stacklevel=caller_stacklevel(),
            )

    @override
    def train_dataloader(self) -> SampleLoader:
        """Return the loader of `train`, shuffled or class-balanced."""
        self._check_trainer()
        require_set(self.set_names, "fit", "train")
        loader = self._loader("train", train=True)
        sampler, last = loader.sampler, self._train_sampler
        if not isinstance(sampler, EpochSampler):
            return loader
        if last is not None and last.drawn_seed is not None:
            sampler.adopt_drawn_seed(last.drawn_seed)  # no seed: one for all orders
        trainer = self.trainer
        if trainer is not None and trainer.state.status == TrainerStatus.RUNNING:
            _follow_fit_loop(loader, trainer, last)
            _resumed_step_saved(trainer)
            loader.unfinished = functools.partial(_steps_unfinished, trainer)
        elif last is not None:
            # a loop written by hand that makes a loader per epoch gets a new
            # order each epoch, as from one loader passed over again: the epoch
            # after the last one the previous loader read from (or the one
            # `set_epoch` gave it)
            sampler.set_epoch(last.epoch)
        self._train_sampler = sampler
        return loader

    def unshuffled_train_dataloader(self) -> SampleLoader:
        """Return the loader of `train` in split order, dropping no sample."""
        require_set(self.set_names, "fit", "train")
        return self._loader("train", shards="once")

    @override
    def val_dataloader(self) -> dict[SetName, SampleLoader]:
        """Return the loaders of `validation` (or `train`) and the `monitor-*` sets."""
        names = validation_sets(self.set_names, "validate")
        return {name: self._loader(name) for name in names}

    @override
    def test_dataloader(self) -> dict[SetName, SampleLoader]:
        """Return ``{"test": loader}``."""
        require_set(self.set_names, "test", "test")
        return {"test": self._loader("test")}

    @override
    def predict_dataloader(self) -> dict[SetName, SampleLoader]:
        """Return a loader for every set, in split order."""
        return {name: self._loader(name, shards="once") for name in self._sources}


def _shared_entries(
    name: SetName, entries: Sequence[object], found: SharedEntries
) -> str:
    """Say that set ``name`` shares some of its entries with training.

    And, of those read by a loader that read no training entry (another
    database's, or the training files moved), how to have them told apart.
    """
    shared = found.shared
    shown = ", ".join(f"{name}.{i} {preview(entries[i])}" for i in shared[:3])
    more = f" and {len(shared) - 3} more" if len(shared) > 3 else ""  # noqa: PLR2004 - shown
    said = (
        f"set `{name}` shares {len(shared)} of its {len(entries)} entries with the "
        f"training set the checkpoint was trained on: {shown}{more}"
    )
    if not found.elsewhere:
        return said
    readers = ", ".join(
        f"{len(where):,} {'of them are ' if not at else ''}read by {shown_reader(key)}"
        for at, (key, where) in enumerate(found.elsewhere.items())
    )
    loaders = "a loader" if len(found.elsewhere) == 1 else "loaders"
    trained = first_few([shown_reader(key) for key in found.trained_by], limit=3)
    rooted = all(key[1] is not None for key in [*found.elsewhere, *found.trained_by])
    fix = (
        "add the training set to the data module, read by the loaders it was "
        "trained with (their class and `root`), for them to be told apart by "
        "folder, or set `allow_data_change=True`"
        if rooted
        else "set `allow_data_change=True` (files of one path are told apart by "
        "the `root` of their loaders, which not all of these have)"
    )
    return (
        f"{said}; {readers}, {loaders} that read none of the checkpoint's "
        f"training entries (read by {trained}): if they are another database's "
        f"files of the same relative paths, {fix}; if the files moved there since "
        "training, they are training files"
    )


def _told_apart(
    name: SetName, entries: Sequence[object], apart: Mapping[ReaderKey, list[int]]
) -> str:
    """Say that entries of set ``name`` were told apart from training files."""
    count = sum(map(len, apart.values()))
    shown = ", ".join(
        f"{len(where):,} by {shown_reader(key)} ({name}.{where[0]} "
        f"{preview(entries[where[0]])})"
        for key, where in apart.items()
    )
    verb = "has" if count == 1 else "have"
    return (
        f"set `{name}`: {count:,} of its entries {verb} the relative paths of "
        "training entries, but are read from another folder than the data "
        "module's training set reads those from, where the checkpoint's training "
        f"read them: {shown}; they are taken for another database's files"
    )


def _resumed_step_saved(trainer: "Trainer") -> None:
    """Keep step checkpoints from saving again, between chunks, at the step resumed.

    Lightning's ``ModelCheckpoint`` remembers in memory alone the step it last
    saved (2.6: ``_last_global_step_saved``, not in its state). Resumed at step
    ``n`` with gradients accumulated over chunks, ``global_step`` stays ``n``
    until the first step's chunks are done, so ``every_n_train_steps`` (and a
    validation before then) would save step ``n`` again after its first chunk,
    between the chunks, over that step's own file: a run resumed from that
    file makes the step from its last chunks alone. Step ``n`` is saved
    already (it is what the run resumed from), so each checkpoint callback is
    told so, as it would know had the run not stopped.
    """
    if trainer.ckpt_path is None or trainer.accumulate_grad_batches < 2:  # noqa: PLR2004 - one chunk: every batch is a step
        return
    step = trainer.global_step
    for callback in trainer.checkpoint_callbacks:
        saved = getattr(callback, "_last_global_step_saved", None)
        if isinstance(saved, int) and saved < step:
            callback._last_global_step_saved = step  # type: ignore[attr-defined]  # Lightning's own, private


def _follow_fit_loop(
    loader: SampleLoader, trainer: "Trainer", last: EpochSampler | None
) -> None:
    """Start the training loader at the epoch the trainer's fit loop runs next.

    Lightning makes the loader's first iterator before it sets the sampler's
    epoch, and when it resumes from a checkpoint taken once an epoch was over,
    it gives the loader no state back (its fit loop is not restarting): the
    first epoch after such a resume would replay the order of the one before.
    So the loader starts at the epoch the fit loop sets, drawn as it would
    have been (with the seed the checkpoint's state drew, for a run without
    a fixed one), whatever the number of processes. A fit loop restarting mid-epoch
    gives its first loader its state itself, after this; a loader reloaded
    (``reload_dataloaders_every_n_epochs``) while it still restarts gets none,
    and starts at the epoch the fit loop sets.

    A run resumed from a checkpoint taken on an epoch's last batch saves its
    next checkpoints with the epoch counted as not started (Lightning 2.6):
    resumed from one of those, taken mid-epoch, its fit loop does not restart,
    and runs that epoch from its first batch. The loader then takes up the
    state the checkpoint holds for that epoch, and serves its rest: no sample
    is served twice, the batches are those of the uninterrupted run (the
    epoch's ``batch_idx`` counts from 0 again).

    Resumed from a checkpoint saved as training stopped mid-epoch, the next
    epoch serves the stopped epoch's rest (`_serve_stopped_epoch`); ``last``,
    the sampler of the loader made before this one, says whether it was to.
    """
    sampler = loader.sampler
    if not isinstance(sampler, EpochSampler):
        return
    fit_loop = trainer.fit_loop
    # the epoch Lightning sets (typed as a tracker without it, a subclass has it)
    epoch = int(
        getattr(fit_loop.epoch_progress.current, "processed", trainer.current_epoch)
    )
    # the checkpoint was taken on the epoch's last batch as the trainer counts
    # them: the epoch is over, though a limit (`limit_train_batches`) may have
    # ended it before its loader's end
    over = getattr(fit_loop.epoch_loop.batch_progress, "is_last_batch", False) is True
    if fit_loop.restarting:  # Lightning gives the first loader its state next
        sampler.set_epoch(epoch)  # a loader reloaded in the epoch has none
        loader.epoch_over = epoch if over else None
        return
    # the loader states of the checkpoint resumed from (no public access), kept
    # by the fit loop for the rest of the run when it does not restart
    states = getattr(fit_loop, "_combined_loader_states_to_load", None)
    state = states[0] if isinstance(states, list) and len(states) == 1 else None
    if isinstance(state, Mapping) and state.get("set") == "train":
        number = state.get("served_in", state.get("epoch"))
        interrupted = state.get("complete") is False and not over
        if interrupted and number == epoch:
            _LOG.info(
                "epoch %d was interrupted after %s of its samples, but Lightning "
                "runs it from its first batch: the training loader serves its rest",
                epoch,
                state.get("consumed"),
            )
            loader.load_state_dict(state)
            served = state.get("served")
            limit = _epoch_limit(trainer, len(loader))
            if limit is not None and isinstance(served, int):  # as the run had
                sampler.cap_resume(max(limit - served, 0))
            return
        # the checkpoint saved as that epoch stopped: Lightning completes it now
        # (a loader reloaded in a later epoch sees the same kept state), or
        # did, and reloads the loader that was to serve its rest unread
        stopped = fit_loop.epoch_progress.current.completed == epoch - 1
        unread = last is not None and last.resumed_as == epoch
        if interrupted and number == epoch - 1 and (stopped or unread):
            _serve_stopped_epoch(loader, sampler, trainer, state, epoch, said=unread)
            return
        if isinstance(drawn := state.get("drawn_seed"), int):
            sampler.adopt_drawn_seed(drawn)
    sampler.set_epoch(epoch)


def _serve_stopped_epoch(
    loader: SampleLoader,
    sampler: EpochSampler,
    trainer: "Trainer",
    state: Mapping[str, Any],
    epoch: int,
    *,
    said: bool,
) -> None:
    """Serve the rest of the epoch before ``epoch``, stopped early, as ``epoch``.

    Training stopped in the middle of an epoch (`max_time`, an early stop,
    ``should_stop``) ends that epoch, and the checkpoint saved then counts it as
    over: Lightning runs the next one. Its first batches are the rest of the
    stopped epoch's order, so that none of its samples is left out. Warns
    unless it was ``said`` (for a loader made before, in the same epoch).
    ``sampler`` is the loader's.
    """
    loader.load_state_dict({**state, "served_in": epoch})
    rest = sampler.resuming
    limit = _epoch_limit(trainer, len(loader))
    if limit is not None:  # this epoch's limit, counted from its first batch
        sampler.cap_resume(limit)
        rest = min(rest, limit)
    if not rest:  # another number of processes: `load_state_dict` said so
        return
    if said or sampler.rank != 0:  # every process would say the same
        return
    drawn, served = state.get("epoch"), state.get("served")
    batches = "1 batch" if rest == 1 else f"{rest} batches"
    chunks = trainer.accumulate_grad_batches
    alone = rest % chunks
    steps = (
        f"; they end with {alone} of an optimizer step's {chunks} chunks, of which "
        "Lightning makes no step as this epoch ends (it counts the epoch as "
        f"{len(loader)} batches), and it zeroes their gradients as epoch "
        f"{epoch + 1} begins"
        if alone
        else ""
    )
    warnings.warn(
        f"epoch {epoch - 1} stopped before its end (`max_time`, an early stop or "
        "`should_stop`), and the checkpoint saved then counts it as over: "
        f"Lightning runs epoch {epoch} next. Its {batches} serve the rest of the "
        f"order drawn for epoch {drawn} ({served} batches of it were served), so "
        f"that each of its samples is served once; epoch {epoch + 1} follows "
        f"(the order epoch {epoch} would have drawn is not used){steps}",
        LightsplitWarning,
        stacklevel=caller_stacklevel(),
    )


def _batches_done(trainer: "Trainer") -> int:
    """Return the training batches of the epoch a resumed run counts as done.

    A checkpoint taken in ``on_train_batch_end`` counts its batch as done
    (Lightning's restart completes it); one taken earlier in a step, from a
    signal handler (SLURM's pre-emption signal, which saves ``hpc_ckpt_*``),
    does not: the resumed run makes that step again.
    """
    progress = trainer.fit_loop.epoch_loop.batch_progress.current
    # typed as a tracker without it, a subclass has it
    processed = int(getattr(progress, "processed", progress.completed))
    return processed if processed == progress.ready else progress.completed


def _steps_unfinished(trainer: "Trainer") -> int:
    """Return the training batches fetched whose step a resumed run makes again."""
    progress = trainer.fit_loop.epoch_loop.batch_progress.current
    return max(progress.ready - _batches_done(trainer), 0)


def _epoch_limit(trainer: "Trainer", length: int) -> int | None:
    """Return the batches an epoch of ``length`` runs under ``limit_train_batches``.

    ``None`` where it is not limited; counted as Lightning counts them.
    """
    limit = trainer.limit_train_batches
    if isinstance(limit, int):
        return min(limit, length)
    if limit < 1.0:
        return int(length * limit)
    return None


def _batch_number(trainer: "Trainer", *, training: bool) -> int:
    """Return the number of the batch being processed in the running loop's epoch."""
    if training:
        return trainer.fit_loop.epoch_loop.batch_progress.current.ready
    fn = trainer.state.fn
    loop: Any = {
        "fit": trainer.fit_loop.epoch_loop.val_loop,
        "validate": trainer.validate_loop,
        "test": trainer.test_loop,
        "predict": trainer.predict_loop,
    }.get(str(fn.value) if fn is not None else "")
    if loop is None:
        return 0
    number: int = loop.batch_progress.current.ready
    return number


def _grouping(config: DataModuleConfig) -> Grouping | None:
    """Return how ``config`` groups entries: by its pattern, its field, or not."""
    return grouping(config.group_pattern, config.group_field)


def _derived(name: str, fix: str) -> NoReturn:
    """Refuse to assign the derived property ``name``."""
    msg = f"`{name}` is derived from the settings and cannot be assigned; {fix}"
    raise AttributeError(msg)


@document_settings
class CachingDataModule(ConcatDataModule):
    """A `ConcatDataModule` over one split and one loader.

    Args:
        database_split: set name -> raw samples (a `DatabaseSplit`, say), or the
            path of a split file, read with `load_split`.
        raw_data_loader: loads every raw sample of the split.
        database_name: see `DataModuleConfig`.
        split_name: see `DataModuleConfig`.
        task: see `DataModuleConfig`.
        num_classes: see `DataModuleConfig`.
        cache_samples: see `DataModuleConfig`.
        balance_sampler_by_class: see `DataModuleConfig`.
        batch_size: see `DataModuleConfig`.
        batch_chunk_count: see `DataModuleConfig`.
        drop_incomplete_batch: see `DataModuleConfig`.
        parallel: see `DataModuleConfig`.
        cache_dir: see `DataModuleConfig`.
        seed: see `DataModuleConfig`.
        cache_on_device: see `DataModuleConfig`.
        device_headroom: see `DataModuleConfig`.
        allow_data_change: see `DataModuleConfig`.
        group_pattern: see `DataModuleConfig`.
        group_field: see `DataModuleConfig`.
        model_transforms: tensor transforms (functions or modules) applied to each
            input after loading and before caching, in order.
        train_batch_transforms: transforms of each training batch once on the
            training device, in order, seeded from `seed`, the epoch and the
            batch (see `BatchTransform`): conversion, normalisation, augmentation.
        eval_batch_transforms: the same, for validation, test and prediction
            batches.

    Raises:
        ValidationError: as `ConcatDataModule`.
        FileNotFoundError: if ``database_split`` names a missing file.
        SplitFileError: if ``database_split`` names an invalid split file.
    """

    def __init__(
        self,
        database_split: Mapping[SetName, Sequence[RawT]] | StrPath,
        raw_data_loader: RawDataLoader[RawT],
        *,
        database_name: str = "",
        split_name: str = "",
        task: str = "",
        num_classes: int = 1,
        cache_samples: bool = False,
        balance_sampler_by_class: bool = False,
        batch_size: int = 1,
        batch_chunk_count: int = 1,
        drop_incomplete_batch: bool = False,
        parallel: int = -1,
        cache_dir: StrPath | None = None,
        seed: int | None = None,
        cache_on_device: bool = False,
        device_headroom: float = 0.25,
        allow_data_change: bool = False,
        group_pattern: str | None = None,
        group_field: int | str | None = None,
        model_transforms: Sequence[ModelTransform] = (),
        train_batch_transforms: Sequence[BatchTransform] = (),
        eval_batch_transforms: Sequence[BatchTransform] = (),
    ) -> None:
        LightningDataModule.__init__(self)
        # The settings are picked from the arguments by name: see _settings.
        config = config_from_arguments(locals())
        split: object = database_split
        loader: object = raw_data_loader
        if hasattr(split, "sample") and isinstance(loader, Mapping | str | os.PathLike):
            msg = (
                f"{type(self).__name__} takes the split first, then the loader: "
                f"`{type(self).__name__}(database_split, raw_data_loader)`; the "
                f"first argument is a loader (`{type(split).__name__}`), the second "
                f"a `{type(loader).__name__}`"
            )
            raise TypeError(msg)
        if isinstance(split, str | os.PathLike):
            path = split
            try:
                split = load_split(path)
            except FileNotFoundError:
                raise split_file_missing(path, "`database_split`") from None
        # Anything but a mapping goes on as it is, for validation to name the problem.
        splits: object = split
        files: dict[tuple[SetName, int], str] = {}  # for errors to name the file
        if isinstance(split, Mapping):
            splits = {name: [(raw, raw_data_loader)] for name, raw in split.items()}
            if isinstance(split, DatabaseSplit) and split.source:
                files = {(name, 0): split.source for name in split}
        self._start(
            sources_from_splits(cast(Splits, splits), files=files),
            config,
            model_transforms,
            train_batch_transforms,
            eval_batch_transforms,
        )
        if isinstance(split, DatabaseSplit):
            self._split_read = split
