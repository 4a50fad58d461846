import gc
import logging
import multiprocessing
import re
import sys
import warnings
import weakref
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import pytest
import torch
from lightning.pytorch import Callback, Trainer
from lightsplit_testing import (
    Entry,
    FailingLoader,
    MemoryLoader,
    PngLoader,
    entries_named,
    write_pngs,
    write_split,
)
from pydantic import ValidationError
from tests_models import RecordingModel, quiet_trainer

from lightsplit import (
    CachingDataModule,
    ConcatDataModule,
    DataModuleConfig,
    LightsplitWarning,
    Sample,
    SampleLoader,
    SampleLoadError,
    SetMissingError,
    build_datamodule,
    load_split,
)
from lightsplit._stores import SampleStore
from lightsplit._workererrors import WorkerFailure


def _quiet_trainer(module: CachingDataModule, **options: int) -> Trainer:
    """A CPU trainer without logs, checkpoints or bars, accumulating ``module``'s
    chunks into its batches."""
    return Trainer(
        accelerator="cpu",
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        accumulate_grad_batches=module.accumulate_grad_batches,
        **options,  # type: ignore[arg-type]  # Trainer's int options
    )


class _TwoPartError(Exception):
    """An error that pickles, but cannot be made again from its message alone."""

    def __init__(self, name: str, what: str) -> None:
        super().__init__(f"{name} {what}")


class _TwoPartErrorLoader(MemoryLoader):
    def sample(self, raw: Entry) -> Sample:
        raise _TwoPartError(raw[0], "failed")


def _names(batches: Iterable[Sample]) -> list[str]:
    return [name for batch in batches for name in batch.metadata["name"]]


def _memory_split() -> dict[str, list[Entry]]:
    return {
        "train": entries_named("train", 10),
        "validation": entries_named("val", 3),
        "test": entries_named("test", 4),
        "monitor-a": entries_named("mon", 2),
    }


class TestStages:
    def test_mednet_members(self) -> None:
        """``splits`` and ``val_dataset_keys()`` read as mednet's data modules do."""
        loader = MemoryLoader()
        train, monitor = entries_named("t", 3), entries_named("m", 2)
        module = CachingDataModule({"train": train, "monitor-a": monitor}, loader)
        assert module.val_dataset_keys() == ["train", "monitor-a"]
        assert module.splits["train"][0][0][1] == train[1]
        assert module.splits["monitor-a"] == [(tuple(monitor), loader)]
        module.splits["train"].clear()  # a copy: the sets stay as they are
        assert len(module.splits["train"]) == 1
        train.append(("t9", 0))  # nor does changing the list given
        assert len(module.splits["train"][0][0]) == 3

    @pytest.mark.parametrize(
        ("stage", "prefixes"),
        [
            ("fit", {"train", "val", "mon"}),
            ("validate", {"val", "mon"}),
            ("test", {"test"}),
            ("predict", {"train", "val", "test", "mon"}),
        ],
    )
    def test_setup_loads_the_stage_sets(self, stage: str, prefixes: set[str]) -> None:
        """With caching, each stage loads exactly its sets at setup."""
        loaded: list[str] = []
        module = CachingDataModule(
            _memory_split(), MemoryLoader(loaded=loaded), cache_samples=True
        )
        module.setup(stage)
        assert {name.rstrip("0123456789") for name in loaded} == prefixes
        assert len(loaded) == len(set(loaded))

    def test_missing_set(self) -> None:
        """A stage whose set is absent names it and the sets present."""
        module = CachingDataModule({"train": entries_named("t", 3)}, MemoryLoader())
        with pytest.raises(SetMissingError) as exc_info:
            module.setup("test")
        assert str(exc_info.value) == (
            "stage `test` needs set `test`, but the splits hold only `train`; "
            "add a `test` set or run another stage"
        )
        with pytest.raises(SetMissingError, match="stage `fit` needs set `train`"):
            CachingDataModule({"test": entries_named("t", 3)}, MemoryLoader()).setup(
                "fit"
            )

    def test_unknown_stage(self) -> None:
        """An unknown stage is refused with the valid ones."""
        module = CachingDataModule(_memory_split(), MemoryLoader())
        with pytest.raises(
            ValueError, match=re.escape("unknown stage `train`; use one of")
        ):
            module.setup("train")

    def test_validation_falls_back_to_train(self) -> None:
        """Without `validation`, validation runs on `train`, with a warning."""
        split = {"train": entries_named("t", 4), "monitor-b": entries_named("m", 2)}
        module = CachingDataModule(split, MemoryLoader())
        with pytest.warns(LightsplitWarning, match="no `validation` set"):
            module.setup("fit")
        loaders = module.val_dataloader()
        assert list(loaders) == ["train", "monitor-b"]
        assert _names(loaders["train"]) == [f"t{i}" for i in range(4)]

    def test_teardown_releases_and_setup_reloads(self) -> None:
        """Teardown drops the cache; a later setup loads the set again."""
        loaded: list[str] = []
        module = CachingDataModule(
            _memory_split(), MemoryLoader(loaded=loaded), cache_samples=True
        )
        module.setup("test")
        module.teardown("test")
        module.setup("test")
        assert Counter(loaded) == {f"test{i}": 2 for i in range(4)}

    def test_teardown_frees_the_cache_of_live_loaders(self) -> None:
        """A loader kept after teardown (a trainer keeps its loaders, a model its
        trainer) no longer holds the cache: the memory goes, and the loader says
        why it cannot serve; a cache another stage's set serves is kept."""
        split = {
            "train": entries_named("t", 4),
            "validation": entries_named("v", 2),
            "test": entries_named("x", 2),
        }
        module = CachingDataModule(split, MemoryLoader(), cache_samples=True)
        module.setup("test")
        module.setup("fit")
        loader = module.train_dataloader()
        store = weakref.ref(loader.dataset.store)  # type: ignore[attr-defined]  # a cached set
        held: SampleStore = loader.dataset.store  # type: ignore[attr-defined]  # as a loader's task holds it
        assert held.nbytes > 0
        module.teardown("fit")
        gc.collect()
        assert store() is held  # held, but holding nothing
        assert held.nbytes == 0
        del held
        assert store() is None
        with pytest.raises(RuntimeError, match=r"set `train` was released by the "):
            next(iter(loader))
        assert _names(module.test_dataloader()["test"]) == ["x0", "x1"]

    def test_fit_ended_by_an_exception_frees_the_cache(self) -> None:
        """A fit that raises (a pruned trial of a search) releases its cache as
        one that ends well does, while its trainer, model and data module live
        on (they refer to one another: only Python's collector of cycles freed
        the cache, one more per failed trial)."""
        stores: list[weakref.ref[object]] = []

        class Prune(Callback):
            def on_train_batch_end(self, trainer: Trainer, *_: object) -> None:
                stores.append(weakref.ref(trainer.train_dataloader.dataset.store))  # type: ignore[union-attr]  # a cached set's
                raise _PrunedError

        module = CachingDataModule(
            {"train": entries_named("t", 8), "validation": entries_named("v", 2)},
            MemoryLoader(),
            batch_size=2,
            cache_samples=True,
        )
        trainer = quiet_trainer(callbacks=[Prune()])
        with pytest.raises(_PrunedError):
            trainer.fit(RecordingModel(6), datamodule=module)
        gc.collect()  # the trainer, holding the module, is still here
        assert module.trainer is trainer
        assert [store() for store in stores] == [None]
        model = RecordingModel(6)
        quiet_trainer().fit(model, datamodule=module)  # the module serves again
        assert sorted(model.train_names) == sorted(f"t{i}" for i in range(8))

    def test_loader_sets_up_lazily(self) -> None:
        """Asking for a loader without setup sets its set up."""
        module = CachingDataModule(_memory_split(), MemoryLoader())
        assert _names(module.test_dataloader()["test"]) == [
            f"test{i}" for i in range(4)
        ]


class _PrunedError(Exception):
    """A search that stops a trial raises so."""


class TestLoaders:
    def test_dataloader_kinds(self) -> None:
        """Each hook returns typed loaders under the documented keys."""
        module = CachingDataModule(_memory_split(), MemoryLoader(), batch_size=2)
        module.setup("fit")
        assert isinstance(module.train_dataloader(), SampleLoader)
        assert list(module.val_dataloader()) == ["validation", "monitor-a"]
        assert list(module.test_dataloader()) == ["test"]
        assert list(module.predict_dataloader()) == [
            "train",
            "validation",
            "test",
            "monitor-a",
        ]

    def test_batches_are_samples(self) -> None:
        """Batches are ``Sample``s: inputs stacked, metadata collated by key."""
        module = CachingDataModule(_memory_split(), MemoryLoader(), batch_size=4)
        batch = next(iter(module.unshuffled_train_dataloader()))
        assert isinstance(batch, Sample)
        inputs, metadata = batch
        assert inputs.shape == (4, 2, 3)
        assert metadata["name"] == ["train0", "train1", "train2", "train3"]
        assert torch.equal(metadata["label"], torch.tensor([0, 1, 0, 1]))
        assert metadata["weight"].dtype == torch.float64

    def test_train_shuffles_every_sample_once(self) -> None:
        """The training loader serves each sample once per epoch, in random order."""
        module = CachingDataModule(_memory_split(), MemoryLoader(), batch_size=3)
        torch.manual_seed(0)
        names = _names(module.train_dataloader())
        assert sorted(names) == sorted(f"train{i}" for i in range(10))
        assert names != [f"train{i}" for i in range(10)]

    def test_chunking(self) -> None:
        """Loaders step by ``chunk_size``; accumulation completes the batch."""
        module = CachingDataModule(
            _memory_split(), MemoryLoader(), batch_size=4, batch_chunk_count=2
        )
        sizes = [len(batch.input) for batch in module.train_dataloader()]
        assert sizes == [2, 2, 2, 2, 2]
        assert module.chunk_size == 2
        assert module.accumulate_grad_batches == 2

    @pytest.mark.parametrize(
        ("database", "split", "said"),
        [
            pytest.param("", "", "set `train`: 10 samples", id="unnamed"),
            pytest.param(
                "mc", "default", "set `train` of `mc/default`: 10 samples", id="named"
            ),
        ],
    )
    def test_sets_logged(
        self, caplog: pytest.LogCaptureFixture, database: str, split: str, said: str
    ) -> None:
        """Each set is logged with its size, and its database and split if named."""
        with caplog.at_level(logging.INFO, logger="lightsplit"):
            CachingDataModule(
                _memory_split(),
                MemoryLoader(),
                database_name=database,
                split_name=split,
            )
        assert said in caplog.messages

    def test_batch_truncated_to_train_size(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        """A batch larger than `train` is truncated to it, with a log line."""
        module = CachingDataModule(
            _memory_split(), MemoryLoader(), batch_size=64, batch_chunk_count=4
        )
        with caplog.at_level(logging.INFO, logger="lightsplit"):
            module.setup("fit")
        assert "batch_size 64 is larger than the 10 samples of `train`" in caplog.text
        assert module.chunk_size == 3  # ceil(10 / 4)
        assert module.config.batch_size == 64
        assert [len(b.input) for b in module.train_dataloader()] == [3, 3, 3, 1]

    @pytest.mark.parametrize(("drop", "sizes"), [(False, [4, 4, 2]), (True, [4, 4])])
    def test_drop_incomplete_batch(self, drop: bool, sizes: list[int]) -> None:
        """Only the training loader drops its last incomplete chunk."""
        module = CachingDataModule(
            _memory_split(), MemoryLoader(), batch_size=4, drop_incomplete_batch=drop
        )
        assert [len(b.input) for b in module.train_dataloader()] == sizes
        assert [len(b.input) for b in module.unshuffled_train_dataloader()] == [4, 4, 2]
        assert [len(b.input) for b in module.val_dataloader()["validation"]] == [3]

    @pytest.mark.parametrize(
        ("train", "batch_size", "chunks", "sizes"),
        [
            pytest.param(11, 8, 4, [2, 2, 2, 2], id="incomplete-batch-of-chunks"),
            pytest.param(10, 32, 4, [3, 3, 3, 1], id="truncated-batch-complete"),
            pytest.param(24, 30, 5, [5, 5, 5, 5, 4], id="truncated-uneven-chunks"),
            pytest.param(21, 4, 2, [2] * 10, id="one-left"),
        ],
    )
    def test_drop_incomplete_batch_of_chunks(
        self, train: int, batch_size: int, chunks: int, sizes: list[int]
    ) -> None:
        """A batch is dropped whole: no chunk of it makes an optimizer step.

        A batch truncated to the training set is complete: nothing is dropped.
        """
        module = CachingDataModule(
            {"train": entries_named("t", train)},
            MemoryLoader(),
            batch_size=batch_size,
            batch_chunk_count=chunks,
            drop_incomplete_batch=True,
        )
        loader = module.train_dataloader()
        assert [len(b.input) for b in loader] == sizes
        assert len(loader) == len(sizes)

    def test_dropped_batch_makes_no_optimizer_step(self) -> None:
        """In a fit, 11 samples in batches of 8 in 4 chunks make one step of 8."""
        module = CachingDataModule(
            {"train": entries_named("t", 11), "validation": entries_named("v", 2)},
            MemoryLoader(),
            batch_size=8,
            batch_chunk_count=4,
            drop_incomplete_batch=True,
        )
        model = RecordingModel(pixels=6)
        trainer = _quiet_trainer(module, max_epochs=1)
        trainer.fit(model, module)
        assert trainer.global_step == 1
        assert len(model.train_names) == len(set(model.train_names)) == 8

    def test_hook_warnings_name_the_users_line(self) -> None:
        """A warning raised in a hook that Lightning calls (no `validation` set)
        names the user's `fit` and `validate` lines, not Lightning's file: one
        each, as Python shows a warning once per line."""
        module = CachingDataModule({"train": entries_named("t", 4)}, MemoryLoader())
        model = RecordingModel(pixels=6)
        trainer = _quiet_trainer(module, max_epochs=1)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", LightsplitWarning)
            trainer.fit(model, module)
            line = sys._getframe().f_lineno - 1
            trainer.validate(model, module, verbose=False)
        found = {
            (w.filename, w.lineno)
            for w in caught
            if "no `validation` set" in str(w.message)
        }
        assert found == {(__file__, line), (__file__, line + 2)}
        said = [
            str(w.message) for w in caught if "no `validation` set" in str(w.message)
        ]
        assert said[-1].endswith(
            "validating on `train`, so the results are not held out (a model "
            "trained on this split has seen every entry); add a `validation` set, "
            "or `test` on a held-out set"
        )

    def test_balanced_sampler(self) -> None:
        """Classes are drawn in balance, with replacement, len(train) per epoch."""
        labels = [0] * 90 + [1] * 10
        split = {"train": entries_named("t", 100, labels)}
        module = CachingDataModule(
            split, MemoryLoader(), batch_size=50, balance_sampler_by_class=True
        )
        torch.manual_seed(0)
        drawn: Counter[int] = Counter()
        for _ in range(20):
            epoch = [
                int(label)
                for b in module.train_dataloader()
                for label in b.metadata["label"]
            ]
            assert len(epoch) == 100
            drawn.update(epoch)
        assert 0.45 < drawn[1] / 2000 < 0.55

    def test_balanced_one_class(self) -> None:
        """Balancing a set of one class (a segmentation loader's targets, all 0)
        is said to draw with replacement, for nothing."""
        split = {"train": entries_named("t", 6, [0] * 6)}
        module = CachingDataModule(split, MemoryLoader(), balance_sampler_by_class=True)
        with pytest.warns(LightsplitWarning) as record:
            module.train_dataloader()
        assert str(record[0].message) == (
            "`balance_sampler_by_class` on set `train`, whose 6 samples are all of "
            "class 0: each epoch draws that many with replacement, so that some are "
            "seen several times and others not at all; set "
            "`balance_sampler_by_class=False` to see each once an epoch"
        )

    def test_balanced_across_datasets(self) -> None:
        """Balancing counts classes over every dataset of the set together."""
        first = entries_named("a", 30, [0] * 30)
        second = entries_named("b", 10, [1] * 10)
        module = ConcatDataModule(
            {"train": [(first, MemoryLoader()), (second, MemoryLoader())]},
            batch_size=40,
            balance_sampler_by_class=True,
        )
        torch.manual_seed(0)
        labels = [
            int(x)
            for _ in range(25)
            for b in module.train_dataloader()
            for x in b.metadata["label"]
        ]
        assert 0.45 < sum(labels) / len(labels) < 0.55

    def test_workers(self) -> None:
        """``parallel`` sets the workers of uncached loaders, kept between epochs."""
        module = CachingDataModule(_memory_split(), MemoryLoader(), parallel=2)
        train = module.train_dataloader()
        assert (train.num_workers, train.persistent_workers) == (2, True)
        module.parallel = -1
        assert module.train_dataloader().num_workers == 0

    @pytest.mark.skipif(sys.platform == "darwin", reason="macOS spawns its workers")
    def test_workers_forked_in_a_spawned_process(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Workers are forked on Linux though the process's start method is
        another (Lightning's `ddp_spawn` starts ranks with `spawn`, which their
        children inherited: each worker a new interpreter, seconds to start,
        and a loader that must be picklable): they see this process's memory,
        a value set after import here."""
        default = multiprocessing.context._default_context  # what set_start_method sets
        monkeypatch.setattr(
            default, "_actual_context", multiprocessing.get_context("spawn")
        )
        assert multiprocessing.get_start_method() == "spawn"
        monkeypatch.setitem(_SET_AFTER_IMPORT, "value", 7.0)
        module = CachingDataModule(
            {"train": entries_named("t", 4)},
            _AfterImportLoader(),
            parallel=2,
            batch_size=2,
        )
        batch = next(iter(module.train_dataloader()))
        assert batch.input.tolist() == [7.0, 7.0]

    @pytest.mark.skipif(torch.cuda.is_available(), reason="pinning is for CUDA")
    def test_no_pinning_without_accelerator(self) -> None:
        """Memory is pinned only when a CUDA device is present."""
        module = CachingDataModule(_memory_split(), MemoryLoader())
        assert module.train_dataloader().pin_memory is False

    def test_trainer_accumulation_mismatch(self) -> None:
        """A trainer that accumulates another number of steps is warned about."""
        module = CachingDataModule(
            _memory_split(), MemoryLoader(), batch_size=4, batch_chunk_count=2
        )
        module.trainer = Trainer(
            accelerator="cpu", logger=False, accumulate_grad_batches=1
        )
        with pytest.warns(
            LightsplitWarning, match=re.escape("accumulate_grad_batches=2")
        ) as record:
            module.train_dataloader()
        assert str(record[0].message) == (
            "the trainer accumulates gradients over 1 step but `batch_chunk_count` "
            "is 2; use `Trainer(accumulate_grad_batches=2)` "
            "(`--trainer.accumulate_grad_batches 2` with LightningCLI) so that each "
            "optimizer step sees `batch_size` (4) samples; as they are, it sees "
            "1 x 2 = 2 samples: to mean that (as mednet's `accumulate_grad_batches` "
            "does), set `batch_size=2, batch_chunk_count=1`"
        )

    def test_trainer_accumulation_mismatch_names_truncated_batch(self) -> None:
        """The warning counts the samples a step sees when `train` is smaller."""
        module = CachingDataModule(
            {"train": entries_named("t", 6)},
            MemoryLoader(),
            batch_size=64,
            batch_chunk_count=2,
        )
        module.trainer = Trainer(
            accelerator="cpu", logger=False, accumulate_grad_batches=1
        )
        with pytest.warns(LightsplitWarning, match="accumulates") as record:
            module.train_dataloader()
        messages = [str(warning.message) for warning in record]
        assert any(
            "sees all 6 samples of `train` (fewer than `batch_size`, 64); as they "
            "are, it sees 1 x 3 = 3 samples" in message
            for message in messages
        ), messages


class TestSettings:
    def test_constructor_validates(self) -> None:
        """Constructor arguments go through ``DataModuleConfig``."""
        with pytest.raises(ValidationError) as exc_info:
            CachingDataModule(
                _memory_split(), MemoryLoader(), batch_size=30, batch_chunk_count=4
            )
        assert exc_info.value.errors()[0]["type"] == "batch_not_divisible"
        with pytest.raises(ValidationError):
            CachingDataModule(_memory_split(), MemoryLoader(), parallel=-7)

    def test_setters_replace_the_config(self) -> None:
        """Setters validate and replace the frozen configuration."""
        module = CachingDataModule(_memory_split(), MemoryLoader())
        before = module.config
        module.parallel = 3
        module.balance_sampler_by_class = True
        module.set_chunk_size(8, 4)
        assert before == DataModuleConfig()
        assert module.config == DataModuleConfig(
            parallel=3, balance_sampler_by_class=True, batch_size=8, batch_chunk_count=4
        )
        with pytest.raises(ValidationError):
            module.parallel = -2
        with pytest.raises(ValidationError):
            module.set_chunk_size(8, 3)
        assert module.config.parallel == 3

    def test_build_datamodule(self) -> None:
        """The factory makes a data module whose config is the one given."""
        config = DataModuleConfig(
            batch_size=6, batch_chunk_count=3, split_name="default"
        )
        module = build_datamodule(
            config, {"train": [(entries_named("t", 9), MemoryLoader())]}
        )
        assert module.config == config
        assert (module.split_name, module.database_name) == ("default", "")

    def test_model_transforms(self) -> None:
        """Transforms apply before caching; changing them drops what was set up."""
        loaded: list[str] = []
        module = CachingDataModule(
            _memory_split(),
            MemoryLoader(loaded=loaded),
            cache_samples=True,
            model_transforms=[lambda x: x * 2],
        )
        module.setup("test")
        assert max(int(b.input.max()) for b in module.test_dataloader()["test"]) == 6
        with pytest.warns(LightsplitWarning, match="dropping the sets already set up"):
            module.model_transforms = [lambda x: x[:1]]
        assert next(iter(module.test_dataloader()["test"])).input.shape == (1, 1, 3)
        assert len(loaded) == 8

    @pytest.mark.parametrize("cache", [False, True])
    def test_transform_with_parameters(self, cache: bool) -> None:
        """A transform with parameters (a fixed filter) gives data, not a graph:
        batches ask for no gradient, cached or not, and are the same."""
        torch.manual_seed(0)
        weight = torch.nn.Linear(3, 3, bias=False)  # its weight asks for gradients
        module = CachingDataModule(
            _memory_split(), MemoryLoader(), cache_samples=cache, batch_size=4
        )
        module.model_transforms = [weight]
        batches = list(module.train_dataloader())
        assert not any(batch.input.requires_grad for batch in batches)
        for batch in batches:
            for row, name in zip(batch.input, batch.metadata["name"], strict=True):
                number = float(name.removeprefix("train"))
                with torch.no_grad():
                    assert torch.equal(row, weight(torch.full((2, 3), number)))


class TestLoadingErrors:
    @pytest.mark.parametrize(
        ("cache", "parallel"), [(False, -1), (False, 1), (True, -1), (True, 2)]
    )
    def test_failing_sample(
        self, entries: list[Entry], png_root: Path, cache: bool, parallel: int
    ) -> None:
        """A loader error names the set, index and entry, in workers as in process."""
        loader = FailingLoader(png_root, frozenset({entries[3][0]}))
        module = CachingDataModule(
            {"test": entries[:6]},
            loader,
            cache_samples=cache,
            parallel=parallel,
            batch_size=2,
        )
        with pytest.raises(SampleLoadError) as exc_info:
            module.setup("test") if cache else list(module.test_dataloader()["test"])
        assert str(exc_info.value) == (
            f'set `test`, index 3, entry ["{entries[3][0]}", 1]: OSError: cannot '
            f"decode {entries[3][0]}"
        )  # from a worker too: the message alone, the loader's error its cause
        assert isinstance(exc_info.value.__cause__, OSError)
        assert str(exc_info.value.__cause__) == f"cannot decode {entries[3][0]}"

    def test_worker_error_that_cannot_unpickle(self) -> None:
        """An error that cannot come back whole is a cause holding its traceback."""
        module = CachingDataModule(
            {"test": entries_named("t", 4)}, _TwoPartErrorLoader(), parallel=1
        )
        with pytest.raises(SampleLoadError) as exc_info:
            list(module.test_dataloader()["test"])
        assert str(exc_info.value) == (
            'set `test`, index 0, entry ["t0", 0]: _TwoPartError: t0 failed'
        )
        cause = exc_info.value.__cause__
        assert isinstance(cause, RuntimeError)
        assert str(cause).startswith("raised in a loader worker process:\nTraceback")
        assert str(cause).endswith("_TwoPartError: t0 failed\n")

    def test_worker_error_in_a_loader_made_elsewhere(self) -> None:
        """A torch loader made by hand over a set gets the error raised, as ever."""
        module = CachingDataModule(
            {"test": entries_named("t", 4)}, _TwoPartErrorLoader(), parallel=1
        )
        dataset = module.test_dataloader()["test"].dataset
        by_hand = torch.utils.data.DataLoader(
            dataset, batch_size=None, sampler=[torch.tensor([0, 1])], num_workers=1
        )
        with pytest.raises(SampleLoadError, match="Caught SampleLoadError in Data"):
            list(by_hand)

    def test_wrong_return_type(self) -> None:
        """A loader returning no ``Sample`` is named with what it returned."""

        class Bad(MemoryLoader):
            def sample(self, raw: Entry) -> Sample:
                return "x"  # type: ignore[return-value]  # the point of the test

        module = CachingDataModule({"test": entries_named("t", 2)}, Bad())
        with pytest.raises(
            SampleLoadError, match=re.escape("`Bad.sample` returned a `str`")
        ):
            list(module.test_dataloader()["test"])

    def test_inputs_that_do_not_stack(self) -> None:
        """Samples of different shapes in one batch get an explanation."""
        loader = MemoryLoader(shapes={"t1": (4, 4)})
        module = CachingDataModule(
            {"test": entries_named("t", 3)}, loader, batch_size=3
        )
        with pytest.raises(SampleLoadError, match="add a model transform"):
            list(module.test_dataloader()["test"])


class TestCachedEqualsUncached:
    @pytest.mark.parametrize(
        "options",
        [
            pytest.param({"batch_size": 3}, id="plain"),
            pytest.param({"batch_size": 4, "batch_chunk_count": 2}, id="chunked"),
            pytest.param(
                {"batch_size": 4, "drop_incomplete_batch": True}, id="drop-last"
            ),
            pytest.param(
                {"batch_size": 3, "balance_sampler_by_class": True}, id="balanced"
            ),
        ],
    )
    @pytest.mark.parametrize("dtype", [torch.float32, torch.uint8, torch.int64])
    def test_bit_for_bit(self, options: dict[str, int], dtype: torch.dtype) -> None:
        """Every loader yields the same batches, cached or not."""

        def epoch(cache: bool) -> list[Sample]:
            config = DataModuleConfig.model_validate(
                {**options, "cache_samples": cache}
            )
            loader = MemoryLoader(dtype=dtype)
            splits = {
                name: [(samples, loader)] for name, samples in _memory_split().items()
            }
            module = build_datamodule(config, splits)
            module.setup("predict")
            batches: list[Sample] = []
            torch.manual_seed(3)
            batches += module.train_dataloader()
            batches += module.unshuffled_train_dataloader()
            for loaders in (module.val_dataloader(), module.predict_dataloader()):
                for data_loader in loaders.values():
                    batches += data_loader
            return batches

        cached, uncached = epoch(cache=True), epoch(cache=False)
        assert len(cached) == len(uncached)
        for left, right in zip(cached, uncached, strict=True):
            assert left.input.dtype == right.input.dtype == dtype
            assert torch.equal(left.input, right.input)
            assert left.metadata.keys() == right.metadata.keys()
            for key, value in left.metadata.items():
                other = right.metadata[key]
                assert type(value) is type(other)
                if isinstance(value, torch.Tensor):
                    assert value.dtype == other.dtype
                    assert torch.equal(value, other)
                else:
                    assert value == other

    def test_monitor_train_shares_the_train_cache(self) -> None:
        """A monitor set repeating `train` is served from train's cache, once."""
        loaded: list[str] = []
        loader = MemoryLoader(loaded=loaded)
        train = entries_named("t", 10)
        split = {
            "train": train,
            "validation": entries_named("v", 3),
            "monitor-train": list(train),
            "monitor-part": train[:4],  # not the same set: a cache of its own
        }
        module = CachingDataModule(split, loader, batch_size=4, cache_samples=True)
        module.setup("fit")
        assert sorted(loaded) == sorted(
            [*(n for n, _ in train), "v0", "v1", "v2"] + [name for name, _ in train[:4]]
        )
        monitors = module.val_dataloader()
        served = _names(monitors["monitor-train"])
        assert served == _names(module.unshuffled_train_dataloader())
        assert getattr(monitors["monitor-train"].dataset, "name") == "monitor-train"  # noqa: B009 - torch types it as a bare Dataset
        uncached = CachingDataModule(split, MemoryLoader(), batch_size=4)
        assert served == _names(uncached.val_dataloader()["monitor-train"])

    def test_shared_cache_released_with_its_last_set(self) -> None:
        """`monitor-train`, torn down with `validate` while `train` still serves
        the cache, lets go of it with `train` (it kept it for as long as the loader
        lived), and its loader then names its own set."""
        train = entries_named("t", 10)
        validation = entries_named("v", 2)
        split = {"train": train, "validation": validation, "monitor-train": list(train)}
        module = CachingDataModule(
            split, MemoryLoader(), batch_size=4, cache_samples=True
        )
        module.setup("fit")
        monitor = module.val_dataloader()["monitor-train"]
        module.teardown("validate")
        assert len(_names(monitor)) == 10  # train still serves the cache
        module.teardown("fit")
        with pytest.raises(RuntimeError, match="set `monitor-train` was released"):
            _names(monitor)

    def test_ragged_fallback(self) -> None:
        """Samples of several shapes are cached one by one and served the same."""
        loader = MemoryLoader(shapes={"t1": (4, 4), "t2": (1,)})
        split = {"test": entries_named("t", 4)}
        cached = CachingDataModule(split, loader, cache_samples=True)
        uncached = CachingDataModule(split, loader)
        for left, right in zip(
            cached.test_dataloader()["test"],
            uncached.test_dataloader()["test"],
            strict=True,
        ):
            assert torch.equal(left.input, right.input)
            assert left.metadata == right.metadata


class TestEndToEnd:
    def test_fit_on_png_files(self, tmp_path: Path) -> None:
        """A Trainer fits on PNG files: cached, 2 workers, chunked, balanced."""
        root = tmp_path / "png"
        labels = [0] * 18 + [1] * 6
        entries = write_pngs(root, 24, labels=labels)
        path = write_split(
            tmp_path / "split.json", {"train": entries[:20], "validation": entries[20:]}
        )
        split = load_split(path, sample_type=tuple[str, int])
        module = CachingDataModule(
            split,
            PngLoader(root),
            cache_samples=True,
            parallel=2,
            batch_size=4,
            batch_chunk_count=2,
            balance_sampler_by_class=True,
        )
        model = RecordingModel(pixels=64)
        trainer = _quiet_trainer(module, max_epochs=2, num_sanity_val_steps=0)
        trainer.fit(model, module)
        train_names = {name for name, _ in entries[:20]}
        assert len(model.train_names) == 2 * 20
        assert set(model.train_names) <= train_names
        assert model.train_chunk_sizes == {2}
        assert sorted(model.val_names) == sorted([name for name, _ in entries[20:]] * 2)
        assert trainer.global_step == 2 * 20 // 4


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_batches_are_pinned_with_cuda() -> None:
    """With a CUDA device, cached and uncached batches come in pinned memory."""
    for cache in (True, False):
        module = CachingDataModule(
            _memory_split(), MemoryLoader(), batch_size=4, cache_samples=cache
        )
        batch = next(iter(module.train_dataloader()))
        assert batch.input.is_pinned()
        assert batch.metadata["label"].is_pinned()


class TestWorkerFailure:
    """A loader error as a worker hands it back, read in one process."""

    def test_cause_comes_back(self) -> None:
        """A cause that pickles comes back as itself, the worker's trace noted."""
        with pytest.raises(RuntimeError) as raised:  # a real raise, with its trace
            MemoryLoader(shapes={"a": (-1,)}).sample(("a", 0))
        error = SampleLoadError("set `test`, index 0: a.png")
        error.__cause__ = raised.value
        again = WorkerFailure.of(error).error()
        assert str(again) == "set `test`, index 0: a.png"
        assert type(again.__cause__) is RuntimeError
        assert "negative dimension" in str(again.__cause__)
        assert again.__cause__.__notes__[0].startswith(
            "raised in a loader worker process:\nTraceback"
        )

    def test_cause_that_cannot_unpickle(self) -> None:
        """A cause that pickles but cannot unpickle is a RuntimeError of its trace."""
        error = SampleLoadError("set `test`, index 0: failed")
        error.__cause__ = _TwoPartError("t0", "failed")
        again = WorkerFailure.of(error).error()
        assert type(again.__cause__) is RuntimeError
        assert str(again.__cause__).endswith("_TwoPartError: t0 failed\n")


_SET_AFTER_IMPORT: dict[str, float] = {"value": 0.0}


class _AfterImportLoader:
    """Returns the value of `_SET_AFTER_IMPORT` as it is where it loads."""

    def sample(self, raw: tuple[str, int]) -> Sample:
        return Sample(torch.tensor(_SET_AFTER_IMPORT["value"]), {"name": raw[0]})

    def target(self, raw: tuple[str, int]) -> int:
        return raw[1]
