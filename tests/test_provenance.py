"""Provenance: what data a checkpoint was trained on, checked when it is used."""

import dataclasses
import posixpath
import re
import shutil
import unicodedata
import warnings
from pathlib import Path
from typing import Any, Literal

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from lightning.pytorch import Trainer
from lightning.pytorch.trainer.states import TrainerFn
from lightsplit_testing import (
    Entry,
    MemoryLoader,
    entries_named,
    write_pngs,
    write_split,
)
from tests_models import RecordingModel, fit_to_checkpoint

from lightsplit import (
    CachingDataModule,
    ConcatDataModule,
    DataChangedError,
    ImageFileLoader,
    LightsplitWarning,
    MappingLoader,
    Sample,
)
from lightsplit._entries import EARLIER_DATA_SUFFIXES
from lightsplit._provenance import (
    PROVENANCE_KEY,
    _identity,
    entry_hashes,
    hash64,
    overlap,
)


@dataclasses.dataclass(frozen=True)
class _Typed:
    """An entry as `load_split(sample_type=_Typed)` makes it."""

    path: Path
    label: int


def _split() -> dict[str, list[Entry]]:
    return {
        "train": entries_named("t", 12),
        "validation": entries_named("v", 4),
        "test": entries_named("x", 4),
    }


class _Scaled:
    """A loader with a setting that its ``repr`` (an address) does not show."""

    def __init__(self, scale: float) -> None:
        self.scale = scale

    def sample(self, raw: Entry) -> Sample:
        return Sample(torch.full((2, 3), self.scale), {"label": raw[1]})

    def target(self, raw: Entry) -> int:
        return raw[1]


class _Spread(_Scaled):
    """A loader whose ``repr`` spans lines."""

    def __repr__(self) -> str:
        return f"_Spread(\n    scale={self.scale},\n)"


class _Mapped:
    """A loader as mednet 2.x writes them: its samples are mappings."""

    def sample(self, raw: Entry) -> dict[str, object]:
        return {"image": torch.zeros(1, 2, 2), "target": raw[1], "name": raw[0]}

    def target(self, raw: Entry) -> int:
        return raw[1]


class _Flipped(_Mapped):
    """Another such loader: other images of the same entries."""

    def sample(self, raw: Entry) -> dict[str, object]:
        return {"image": torch.ones(1, 2, 2), "target": raw[1], "name": raw[0]}


def _module(
    split: dict[str, list[Entry]] | None = None, **settings: object
) -> CachingDataModule:
    return CachingDataModule(
        split or _split(),
        MemoryLoader(),
        batch_size=4,
        **settings,  # type: ignore[arg-type]  # settings
    )


class TestRecord:
    def test_contents(self) -> None:
        """The record holds sizes, hashes, classes, loaders, config and transforms."""
        record = _module().state_dict()[PROVENANCE_KEY]
        assert record["format"] == 1
        assert set(record["sets"]) == {"train", "validation", "test"}
        train = record["sets"]["train"]
        assert train["size"] == 12
        assert train["class_counts"] == {"0": 6, "1": 6}
        assert train["loaders"][0][0] == "lightsplit_testing.MemoryLoader"
        assert record["config"]["batch_size"] == 4
        assert record["train_entries"].dtype == torch.int64
        assert record["train_entries"].numel() == 12

    def test_split_files_named(self, tmp_path: Path) -> None:
        """The split file each part was read from is recorded, for people to read;
        moved elsewhere, the same data still pass the resume checks."""
        sets = {"train": entries_named("t", 4), "validation": entries_named("v", 2)}
        path = write_split(tmp_path / "split.json", sets)
        record = CachingDataModule(path, MemoryLoader()).state_dict()[PROVENANCE_KEY]
        assert record["sets"]["train"]["files"] == [str(path)]
        parts = ConcatDataModule(
            {
                "train": [
                    (path, MemoryLoader()),
                    (entries_named("x", 2), MemoryLoader()),
                ],
                "validation": [(path, MemoryLoader())],
            }
        ).state_dict()[PROVENANCE_KEY]
        assert parts["sets"]["train"]["files"] == [str(path), None]
        assert "files" not in _module().state_dict()[PROVENANCE_KEY]["sets"]["train"]
        moved = write_split(tmp_path / "moved.json", sets)
        module = CachingDataModule(moved, MemoryLoader())
        module.load_state_dict({PROVENANCE_KEY: record})  # no error, no warning
        assert module.state_dict()[PROVENANCE_KEY]["sets"]["train"]["files"] == [
            str(moved)
        ]

    def test_compact_for_large_sets(self) -> None:
        """100,000 training entries take 8 bytes each in the record."""
        split = {
            "train": entries_named("t", 100_000),
            "validation": entries_named("v", 2),
        }
        record = _module(split).state_dict()[PROVENANCE_KEY]
        assert record["train_entries"].nbytes == 800_000

    def test_loads_without_code(self, tmp_path: Path) -> None:
        """The record survives ``torch.save`` and a ``weights_only`` load."""
        state = _module().state_dict()
        torch.save(state, tmp_path / "state.pt")
        loaded = torch.load(tmp_path / "state.pt", weights_only=True)
        assert loaded[PROVENANCE_KEY]["sets"] == state[PROVENANCE_KEY]["sets"]


class TestResumeChecks:
    @pytest.mark.parametrize(
        ("edit", "message"),
        [
            pytest.param(
                lambda s: s["train"].append(("t99", 0)),
                "set `train` has 13 entries, not 12",
                id="entry-added",
            ),
            pytest.param(
                lambda s: s["train"].__setitem__(0, ("t0", 1)),
                "set `train` lists the same files, but in another order, or with "
                "other labels or items",
                id="label-changed",
            ),
            pytest.param(
                lambda s: s["train"].reverse(),
                "set `train` lists the same files, but in another order",
                id="reordered",
            ),
            pytest.param(
                lambda s: s["train"].__setitem__(3, ("t99", 0)),
                "set `train` holds other entries: 1 of its 12 entries names a file "
                "that the checkpoint's did not list",
                id="file-changed",
            ),
            pytest.param(
                lambda s: s["train"].__setitem__(3, s["train"][5]),
                "set `train` holds other entries: 1 of the checkpoint's 12 files is "
                "no longer listed, and others are listed more than once",
                id="file-repeated",
            ),
            pytest.param(
                lambda s: s.__setitem__("monitor-x", s.pop("test")),
                "set `test` of the checkpoint is gone",
                id="set-renamed",
            ),
        ],
    )
    def test_edited_split_refused(self, edit: object, message: str) -> None:
        """Resuming on an edited split names the change and the way to accept it."""
        state = _module().state_dict()
        split = _split()
        edit(split)  # type: ignore[operator]  # an editing function
        with warnings.catch_warnings():  # a file listed twice is warned about too
            warnings.simplefilter("ignore", LightsplitWarning)
            module = _module(split)
        with pytest.raises(DataChangedError) as exc_info:
            module.load_state_dict(state)
        text = str(exc_info.value)
        assert text.startswith("resuming training with data that differ")
        assert message in text
        assert "set `allow_data_change=True`" in text

    def test_moved_data_folder_warned_not_refused(self, tmp_path: Path) -> None:
        """The same files in another folder (another ``root``) load the same data:
        resuming on them warns that the loader changed, and goes on."""
        entries = write_pngs(tmp_path / "a", 6)
        shutil.copytree(tmp_path / "a", tmp_path / "b")
        split = {"train": entries[:4], "validation": entries[4:]}
        state = CachingDataModule(split, ImageFileLoader(tmp_path / "a")).state_dict()
        moved = CachingDataModule(split, ImageFileLoader(tmp_path / "b"))
        with pytest.warns(LightsplitWarning) as seen:
            moved.load_state_dict(state)
        [warning] = seen
        a, b = repr(str(tmp_path / "a")), repr(str(tmp_path / "b"))
        assert (
            f"the loader of sets `train`, `validation` changed (ImageFileLoader({a}, "
            f"mode='L', dtype='float32') then, ImageFileLoader({b}, mode='L', "
            "dtype='float32') now), so samples may load differently; check that it "
            "loads the same data"
        ) in str(warning.message)

    def test_loader_change_without_settings_shown(self) -> None:
        """A loader whose repr shows no settings (an address) is said to have
        changed in its code or settings, once for all its sets."""
        state = CachingDataModule(_split(), _Scaled(1.0)).state_dict()
        with pytest.warns(LightsplitWarning) as seen:
            CachingDataModule(_split(), _Scaled(2.0)).load_state_dict(state)
        [warning] = seen
        assert str(warning.message).count("the loader of sets `train`") == 1
        assert "changed (its code or settings, such as the folder of its files" in (
            str(warning.message)
        )

    @pytest.mark.parametrize(
        "recorded",
        ["lightsplit._images.ImageFileLoader", "lightsplit._io.ImageFileLoader"],
    )
    def test_own_loaders_by_public_name(
        self, tmp_path: Path, recorded: str, recwarn: pytest.WarningsRecorder
    ) -> None:
        """lightsplit's loaders are recorded by their public name: a record of
        the private module that defines one (as older checkpoints have, or a
        module renamed since) reads as the same loader, not as another class."""
        module = CachingDataModule(_split(), ImageFileLoader(tmp_path))
        state = module.state_dict()
        record = state[PROVENANCE_KEY]
        assert record["sets"]["train"]["loaders"][0][0] == "lightsplit.ImageFileLoader"
        for value in record["sets"].values():
            value["loaders"] = [[recorded, f] for _, f in value["loaders"]]
        CachingDataModule(_split(), ImageFileLoader(tmp_path)).load_state_dict(state)
        assert not recwarn.list

    def test_loader_swapped_inside_mapping_loader_refused(self) -> None:
        """A mednet loader swapped for another inside `MappingLoader` loads other
        data: refused, as for a loader not wrapped (it was warned of alone, as
        the same class with other settings), naming both wrapped classes."""
        state = CachingDataModule(_split(), MappingLoader(_Mapped())).state_dict()
        [[name, _]] = state[PROVENANCE_KEY]["sets"]["train"]["loaders"]
        assert name == f"lightsplit.MappingLoader({__name__}._Mapped)"
        module = CachingDataModule(_split(), MappingLoader(_Flipped()))
        with pytest.raises(DataChangedError) as exc_info:
            module.load_state_dict(state)
        assert (
            f"set `train` is loaded by `lightsplit.MappingLoader({__name__}._Flipped)`"
            f", not `lightsplit.MappingLoader({__name__}._Mapped)`"
        ) in str(exc_info.value)

    def test_mapping_loader_of_older_records_same(
        self, recwarn: pytest.WarningsRecorder
    ) -> None:
        """A checkpoint that records `MappingLoader` without the class it wraps
        (as earlier lightsplit did) resumes on the same loader, unwarned."""
        state = CachingDataModule(_split(), MappingLoader(_Mapped())).state_dict()
        for value in state[PROVENANCE_KEY]["sets"].values():
            value["loaders"] = [
                ["lightsplit.MappingLoader", f] for _, f in value["loaders"]
            ]
        CachingDataModule(_split(), MappingLoader(_Mapped())).load_state_dict(state)
        assert not recwarn.list

    def test_user_loaders_by_module(self) -> None:
        """A loader of one's own, even one named as lightsplit's, goes by its
        module: renamed, it is another class."""

        class ImageFileLoader(_Scaled):
            pass

        state = CachingDataModule(_split(), ImageFileLoader(1.0)).state_dict()
        [[name, _]] = state[PROVENANCE_KEY]["sets"]["train"]["loaders"]
        assert name == f"{__name__}.{ImageFileLoader.__qualname__}"
        assert name.endswith(".test_user_loaders_by_module.<locals>.ImageFileLoader")

    def test_loader_shown_on_one_line(self) -> None:
        """A loader whose repr spans lines is shown on one line of the warning."""
        state = CachingDataModule(_split(), _Spread(1.0)).state_dict()
        with pytest.warns(LightsplitWarning) as seen:
            CachingDataModule(_split(), _Spread(2.0)).load_state_dict(state)
        assert "(_Spread( scale=1.0, ) then, _Spread( scale=2.0, ) now)" in str(
            seen[0].message
        )

    def test_label_change_names_classes(self) -> None:
        """A changed label also shows in the class counts."""
        state = _module().state_dict()
        split = _split()
        split["train"][0] = ("t0", 1)
        with pytest.raises(
            DataChangedError,
            match=re.escape(
                "set `train` has class counts {'0': 5, '1': 7}, not {'0': 6, '1': 6}"
            ),
        ):
            _module(split).load_state_dict(state)

    def test_override(self) -> None:
        """With ``allow_data_change``, the differences are warned about instead."""
        state = _module().state_dict()
        split = _split()
        split["train"].append(("t99", 0))
        with pytest.warns(
            LightsplitWarning, match="set `train` has 13 entries"
        ) as seen:
            _module(split, allow_data_change=True).load_state_dict(state)
        [warning] = seen
        assert "`allow_data_change` is" not in str(warning.message)  # no difference

    def test_training_setting_refused(self) -> None:
        """A setting that changes what training sees is an error on resume."""
        state = _module().state_dict()
        with pytest.raises(
            DataChangedError, match=re.escape("`batch_size` is 8, not 4")
        ):
            CachingDataModule(_split(), MemoryLoader(), batch_size=8).load_state_dict(
                state
            )

    def test_model_transforms_named(self) -> None:
        """Other model transforms are refused, named: those of then and now, or
        the one of the same name whose settings changed; a checkpoint that
        recorded no names has those of now said."""

        class Scale(torch.nn.Module):
            def __init__(self, by: float) -> None:
                super().__init__()
                self.by = by

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return x * self.by

        def shift(x: torch.Tensor) -> torch.Tensor:
            return x + 1

        state = _module(model_transforms=[Scale(2.0), shift]).state_dict()
        for transforms, said in [
            (
                [Scale(3.0), shift],
                "the model transforms changed: `Scale`, of the same name, differs "
                "in code, settings or weights",
            ),
            (
                [shift],
                "the model transforms changed: `Scale`, `shift` then, `shift` now",
            ),
        ]:
            with pytest.raises(DataChangedError, match=re.escape(said)):
                _module(model_transforms=transforms).load_state_dict(state)
        del state[PROVENANCE_KEY]["transform_names"]
        with pytest.raises(
            DataChangedError,
            match=re.escape("the model transforms changed (now `shift`)"),
        ):
            _module(model_transforms=[shift]).load_state_dict(state)

    def test_serving_setting_warned(self) -> None:
        """How data are served (`parallel`, caching) may change, with a warning."""
        state = _module().state_dict()
        with pytest.warns(
            LightsplitWarning, match=re.escape("`parallel` is 2, not -1")
        ) as seen:
            _module(parallel=2, cache_samples=True).load_state_dict(state)
        assert str(seen[0].message).startswith(
            "resuming training with settings or loaders that differ from the "
            "checkpoint's (how the data are served, named or loaded, not which "
            "data), 2 differences:"
        )

    def test_monitor_sets_reordered_warned(self) -> None:
        """Monitor sets in another order than the checkpoint's are warned of:
        Lightning numbers their loaders in that order, and metrics numbered so
        would follow other sets than before in the same logs."""
        split = {
            **_split(),
            "monitor-a": entries_named("a", 4),
            "monitor-b": entries_named("b", 4),
        }
        state = _module(split).state_dict()
        reordered = {
            name: split[name] for name in ["monitor-b", *_split(), "monitor-a"]
        }
        with pytest.warns(LightsplitWarning) as seen:
            _module(reordered).load_state_dict(state)
        [said] = [str(w.message) for w in seen]
        assert said.endswith(
            "the monitor sets are validated on in another order: `monitor-a`, "
            "`monitor-b` then, `monitor-b`, `monitor-a` now, so that metrics "
            "numbered by loader (`val_loss/dataloader_idx_1`) follow other sets "
            "than before; keep the split's order of sets, or log each metric under "
            "its set's name"
        )

    def test_same_data_silent(self, recwarn: pytest.WarningsRecorder) -> None:
        """The same data and settings pass without a word."""
        _module().load_state_dict(_module().state_dict())
        assert not recwarn.list


def _checkpoint(tmp_path: Path, split: dict[str, list[Entry]] | None = None) -> Path:
    return fit_to_checkpoint(_module(split), tmp_path)


def _evaluator() -> Trainer:
    """A trainer that evaluates a checkpoint, quietly."""
    return Trainer(
        accelerator="cpu",
        logger=False,
        enable_progress_bar=False,
        enable_checkpointing=False,
    )


# Lightning's advice to pass the checkpoint's callbacks again, irrelevant to testing
@pytest.mark.filterwarnings("ignore:Be aware that when using `ckpt_path`:UserWarning")
class TestEvaluation:
    def test_overlap_with_training_set(self, tmp_path: Path) -> None:
        """Testing on entries the checkpoint was trained on is refused, counted."""
        checkpoint = _checkpoint(tmp_path)
        split = _split()
        split["test"] = [("./t1", 1), ("t2", 0), *entries_named("x", 2)]
        trainer = _evaluator()
        with pytest.warns(LightsplitWarning, match="in two of `train`"):
            module = _module(split)  # said when built, refused when tested
        with pytest.raises(DataChangedError) as exc_info:
            trainer.test(RecordingModel(6), datamodule=module, ckpt_path=checkpoint)
        lines = str(exc_info.value).splitlines()
        assert lines[:2] == [
            "running `test` on entries the checkpoint was trained on, 2 problems:",
            "  set `test` shares 2 of its 4 entries with the training set the "
            'checkpoint was trained on: test.0 ["./t1", 1], test.1 ["t2", 0]',
        ]
        assert lines[2].startswith("  set `test` holds other entries")
        assert lines[3].startswith(
            "Its results would not be held out: evaluate on a set disjoint from the "
            "checkpoint's training set"
        )
        assert lines[3].endswith(
            "To evaluate on training data on purpose, set `allow_data_change=True` "
            "(`--data.allow_data_change true` with LightningCLI)"
        )

    def test_overlap_allowed_said_apart(self, tmp_path: Path) -> None:
        """Allowed, testing on training entries is still said, in a warning of its
        own: not among the data that differ from the checkpoint's."""
        checkpoint = _checkpoint(tmp_path)
        split = _split()
        split["test"] = entries_named("t", 2)
        trainer = _evaluator()
        with pytest.warns(LightsplitWarning, match="in two of `train`"):
            module = _module(split, allow_data_change=True)
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            trainer.test(RecordingModel(6), datamodule=module, ckpt_path=checkpoint)
        messages = [str(w.message) for w in seen if w.category is LightsplitWarning]
        assert any(
            message.startswith(
                "running `test` on entries the checkpoint was trained on, as "
                "`allow_data_change=True` allows: its results are not held out, 1 "
                "problem:\n  set `test` shares 2 of its 2 entries with the training "
                "set"
            )
            for message in messages
        )

    @pytest.mark.parametrize(
        ("train", "test", "shared"),
        [
            pytest.param(
                [["site-A", "p1/a.png", 0], ["site-A", "p1/b.png", 1]],
                [["site-A", "p2/c.png", 0], ["site-B", "./p1/a.png", 0]],
                [1],
                id="site-first",
            ),
            pytest.param(
                [["P1", "p1/a.png", 46, "F", 1]],
                [["P1", "p1/b.png", 46, "F", 1], ["P1", "p1/a.png", 46, "F", 0]],
                [1],
                id="patient-first",
            ),
            pytest.param(
                [{"id": "P1", "image": "p1/a.png"}],
                [{"id": "P1", "image": "p1/b.png"}, {"image": "p1/a.png", "id": "X"}],
                [1],
                id="objects",
            ),
            pytest.param([["t1", 1]], [["./t1", 0], ["t2", 1]], [0], id="no-file"),
            pytest.param(
                [["F", "mdb001.pgm", 0], ["M", "mdb002.pgm", 1]],
                [
                    ["F", "mdb003.pgm", 0],
                    ["M", "MDB004.PGM", 1],
                    ["G", "mdb001.pgm", 0],
                ],
                [2],
                id="folderless-pgm",
            ),
            pytest.param(
                [["site.A", "a.jp2", 0]],
                [["site.A", "b.jp2", 0], ["site.B", "a.jp2", 1]],
                [1],
                id="folderless-jp2",
            ),
        ],
    )
    def test_entries_told_by_their_file(
        self, train: list[object], test: list[object], shared: list[int]
    ) -> None:
        """Entries are told apart by the file they name, not by a patient or site
        written before it (a table's row split by `lightsplit split`)."""
        recorded = {"train_entries": entry_hashes(train)}
        assert overlap(recorded, test) == shared

    def test_typed_entries_told_by_their_path(self) -> None:
        """A dataclass entry, or one holding a path object, is told by its path's
        text: the same entry as a split file's list or object."""
        trained = entry_hashes([_Typed(Path("p1/a.png"), 1), (Path("p2/b.png"), 0)])
        evaluated = [{"path": "p1/a.png", "label": 1}, ["./p2/b.png", 0], ["c.png", 0]]
        assert overlap({"train_entries": trained}, evaluated) == [0, 1]

    def test_older_records_of_typed_entries(self) -> None:
        """Checkpoints recorded typed entries and path objects by their whole JSON
        before: such entries are still found among theirs."""
        typed = [_Typed(Path("p1/a.png"), 1), (Path("p2/b.png"), 0), ("p3/c.png", 0)]
        older = torch.tensor(
            sorted(hash64(_identity(e, paths_as_text=False)) for e in typed)
        )
        assert overlap({"train_entries": older}, typed) == [0, 1, 2]
        assert overlap({"train_entries": older}, [("p4/d.png", 1)]) == []

    def test_older_records_before_suffixes(self) -> None:
        """Checkpoints recorded rows of a folderless file of a suffix lightsplit
        did not know then (``["F", "mdb001.pgm", 0]``) by their first string: a
        training entry is still found among theirs, as before; theirs of other
        entries, and checkpoints recorded since, find the file alone."""
        rows = [["F", "mdb001.pgm", 0], ["M", "mdb002.pgm", 1], ["F", "a/b.png", 0]]
        older = torch.tensor(
            sorted(hash64(_identity(e, suffixes=EARLIER_DATA_SUFFIXES)) for e in rows)
        )
        assert overlap({"train_entries": older}, [rows[1], ["F", "a/c.png", 0]]) == [0]
        assert overlap({"train_entries": entry_hashes(rows)}, [["M", "x.pgm", 1]]) == []
        assert overlap({"train_entries": older}, [{"image": "a.png"}]) == []

    def test_monitor_sets_repeat_training_entries(self, tmp_path: Path) -> None:
        """A `monitor-train` set, which repeats the training entries on purpose,
        is validated with the checkpoint trained on them."""
        split = {**_split(), "monitor-train": entries_named("t", 4)}
        checkpoint = _checkpoint(tmp_path, split)
        trainer = _evaluator()
        model = RecordingModel(6)
        trainer.validate(model, datamodule=_module(split), ckpt_path=checkpoint)
        assert len(model.val_names) == 8  # validation and monitor-train

    @pytest.mark.parametrize(
        ("edit", "difference"),
        [
            pytest.param(
                lambda s: s.__setitem__("test", entries_named("ext", 3)),
                "set `test` has 3 entries, not 4",
                id="changed",
            ),
            pytest.param(
                lambda s: s.__setitem__("test", s.pop("validation")),
                "set `test` holds other entries",
                id="validation-tested",
            ),
            pytest.param(
                lambda s: s.pop("test"),
                "set `test` was not among the checkpoint's sets",
                id="new",
            ),
        ],
    )
    def test_held_out_set_of_another_database(
        self, tmp_path: Path, edit: object, difference: str
    ) -> None:
        """A test set the checkpoint never saw (an external database, a corrected
        set) that shares nothing with its training set is evaluated, with a
        warning: refusing it made users set `allow_data_change`, which also
        lets a test set holding training entries through."""
        trained = _split()
        if "not among" in difference:  # trained without a test set
            edit(trained)  # type: ignore[operator]  # an editing function
            evaluated = _split()
        else:
            evaluated = _split()
            edit(evaluated)  # type: ignore[operator]  # an editing function
        checkpoint = _checkpoint(tmp_path, trained)
        trainer = _evaluator()
        model = RecordingModel(6)
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            trainer.test(model, datamodule=_module(evaluated), ckpt_path=checkpoint)
        assert model.val_names == [name for name, _ in evaluated["test"]]
        said = [str(w.message) for w in seen if w.category is LightsplitWarning]
        assert any(
            message.startswith(
                "running `test` on sets that differ from the checkpoint's, evaluated "
                "as given: none of their entries is in the checkpoint's training set "
                "(patients were not compared: the checkpoint records none, as it was "
                "trained without `group_pattern` or `group_field`)"
            )
            and f"\n  {difference}" in message
            for message in said
        ), said

    def test_changed_set_sharing_training_entries_refused(self, tmp_path: Path) -> None:
        """A changed test set that holds a training entry is refused, its other
        differences with it: held out is what lets a changed set through."""
        checkpoint = _checkpoint(tmp_path)
        split = _split()
        split["test"] = [*entries_named("ext", 3), ("t3", 1)]
        trainer = _evaluator()
        with pytest.warns(LightsplitWarning, match="in two of `train`"):
            module = _module(split)  # said when built, refused when tested
        with pytest.raises(DataChangedError) as exc_info:
            trainer.test(RecordingModel(6), datamodule=module, ckpt_path=checkpoint)
        text = str(exc_info.value)
        assert text.startswith("running `test` on entries the checkpoint was trained")
        assert "set `test` holds other entries" in text

    def test_same_split_passes(self, tmp_path: Path) -> None:
        """Testing a checkpoint on its own split's test set runs."""
        checkpoint = _checkpoint(tmp_path)
        trainer = _evaluator()
        trainer.test(RecordingModel(6), datamodule=_module(), ckpt_path=checkpoint)


def _evaluating(
    module: ConcatDataModule, state: dict[str, Any], stage: TrainerFn
) -> None:
    """Load the checkpoint record ``state`` into ``module`` as ``stage`` does."""
    trainer = Trainer(accelerator="cpu", logger=False, enable_progress_bar=False)
    trainer.state.fn = stage
    module.trainer = trainer
    module.load_state_dict(state)


def _composed(count: int) -> list[Entry]:
    """Training entries whose paths hold an accent, written composed (NFC)."""
    return [(f"p{i}/caf\u00e9{i}.png", i % 2) for i in range(count)]


def _respelt(entries: list[Entry], form: Literal["NFC", "NFD"]) -> list[Entry]:
    return [(unicodedata.normalize(form, path), label) for path, label in entries]


class TestAccents:
    @pytest.mark.parametrize("trained_as", ["NFC", "NFD"])
    def test_other_spelling_of_training_files_refused(
        self, trained_as: Literal["NFC", "NFD"]
    ) -> None:
        """A test set naming the training files with their accents written the
        other way (decomposed, as macOS writes names, or composed) holds the
        training files: it is refused, not evaluated as held out."""
        train = _respelt(_composed(6), trained_as)
        other: Literal["NFC", "NFD"] = "NFD" if trained_as == "NFC" else "NFC"
        split = {"train": train, "validation": entries_named("v", 2)}
        state = _module(split).state_dict()
        with warnings.catch_warnings():  # the files in two sets are warned about
            warnings.simplefilter("ignore", LightsplitWarning)
            module = _module({**split, "test": _respelt(train[:2], other)})
        with pytest.raises(DataChangedError, match="shares 2 of its 2 entries"):
            _evaluating(module, state, TrainerFn.TESTING)

    @pytest.mark.parametrize(
        "path",
        [
            "a.png",
            "./p1/a.png",
            "p1//a.png",
            "p1\\a.png",
            "p1/x/../a.png",
            "",
            "//a",
            "p1/caf\u00e9.png",
            "./caf\u00e9/",
            "../a.png",
        ],
    )
    def test_composed_paths_identified_as_before(self, path: str) -> None:
        """Paths already composed (or ASCII) keep the identity that checkpoints
        recorded before accents were composed: they still match them."""
        before = posixpath.normpath(path.replace("\\", "/")).encode()
        assert _identity((path, 1)) == before
        assert _identity(path) == before
        assert entry_hashes([(path, 1)]).tolist() == [hash64(before)]

    def test_older_records_of_decomposed_paths(self) -> None:
        """A checkpoint recorded before accents were composed holds the hashes
        of paths as written: decomposed training paths are still found, written
        either way."""
        decomposed = _respelt(_composed(2), "NFD")
        older = torch.tensor(
            sorted(hash64(posixpath.normpath(path).encode()) for path, _ in decomposed)
        )
        record = {"train_entries": older}
        assert overlap(record, decomposed) == [0, 1]
        assert overlap(record, [*_composed(2), ("x/a.png", 0)]) == [0, 1]


def _patients(count: int, image: str = "a") -> list[Entry]:
    """Entries of ``count`` patients, one image each: ``p<i>/<image>.png``."""
    return [(f"p{i}/{image}.png", i % 2) for i in range(count)]


class TestResumeRemembers:
    def test_entries_trained_on_before_remembered(self) -> None:
        """Resumed on fewer entries (`allow_data_change`), the checkpoints written
        next still record the entries trained on before: a test set of those is
        refused, not evaluated as held out."""
        trained = entries_named("t", 12)
        before = _module({"train": trained, "validation": entries_named("v", 2)})
        split = {"train": trained[:6], "validation": entries_named("v", 2)}
        resumed = _module(split, allow_data_change=True)
        with pytest.warns(LightsplitWarning, match="set `train` has 6 entries"):
            resumed.load_state_dict(before.state_dict())
        record = resumed.state_dict()[PROVENANCE_KEY]
        assert record["train_entries"].tolist() == sorted(
            entry_hashes(trained).tolist()
        )
        assert record["train_set_entries"].numel() == 6
        tested = _module({**split, "test": trained[6:]})
        with pytest.raises(DataChangedError, match="shares 6 of its 6 entries"):
            _evaluating(tested, {PROVENANCE_KEY: record}, TrainerFn.TESTING)

    def test_resumed_again_compares_the_set_itself(
        self, recwarn: pytest.WarningsRecorder
    ) -> None:
        """A checkpoint that remembers earlier entries compares its own training
        set with the one resumed on: the same passes silently, another is said
        in its own counts."""
        trained = entries_named("t", 12)
        before = _module({"train": trained, "validation": entries_named("v", 2)})
        split = {"train": trained[:6], "validation": entries_named("v", 2)}
        resumed = _module(split, allow_data_change=True)
        resumed.load_state_dict(before.state_dict())
        state = resumed.state_dict()
        recwarn.clear()
        _module(split).load_state_dict(state)
        assert not recwarn.list
        moved = {"train": trained[3:9], "validation": entries_named("v", 2)}
        with pytest.raises(
            DataChangedError,
            match=re.escape(
                "set `train` holds other entries: 3 of its 6 entries name files "
                "that the checkpoint's did not list"
            ),
        ):
            _module(moved).load_state_dict(state)

    def test_patients_trained_on_before_remembered(self) -> None:
        """With `group_pattern`, the patients trained on before are remembered
        too: a test set of their other images is refused."""
        pattern = r"([pq]\d+)/"
        split = {"train": _patients(12), "validation": [("q1/a.png", 0)]}
        before = _module(split, group_pattern=pattern).state_dict()
        fewer = {**split, "train": _patients(6)}
        resumed = _module(fewer, group_pattern=pattern, allow_data_change=True)
        with pytest.warns(LightsplitWarning, match="set `train` has 6 entries"):
            resumed.load_state_dict(before)
        record = resumed.state_dict()[PROVENANCE_KEY]
        assert record["train_groups"].numel() == 12
        tested = _module({**fewer, "test": _patients(12, "b")[6:]})
        with pytest.raises(DataChangedError, match="holds 6 groups"):
            _evaluating(tested, {PROVENANCE_KEY: record}, TrainerFn.TESTING)

    def test_patients_by_another_pattern_not_carried(self) -> None:
        """Groups found by another `group_pattern` do not compare with the new
        pattern's: they are not carried, with a warning, while the entries
        trained on before still are."""
        split = {"train": _patients(12), "validation": [("q1/a.png", 0)]}
        before = _module(split, group_pattern=r"([pq]\d+)/").state_dict()
        fewer = {**split, "train": _patients(6)}
        resumed = _module(fewer, group_pattern=r"([pq]\d)", allow_data_change=True)
        with pytest.warns(LightsplitWarning) as seen:
            resumed.load_state_dict(before)
        assert any(
            str(w.message).startswith(
                "`group_pattern` is `([pq]\\d)`, not `([pq]\\d+)/`: the checkpoint's "
                "training groups, found by its pattern, are not carried"
            )
            for w in seen
        ), [str(w.message) for w in seen]
        record = resumed.state_dict()[PROVENANCE_KEY]
        assert record["train_groups"].numel() == 6
        assert record["train_entries"].numel() == 12

    def test_record_of_older_checkpoint_resumed(self) -> None:
        """A checkpoint of a lightsplit that recorded a training set's entries
        alone (not their loaders) is resumed as before, its entries remembered
        too, read by loaders unknown."""
        trained = entries_named("t", 12)
        before = _module({"train": trained, "validation": entries_named("v", 2)})
        state = before.state_dict()
        assert "train_set_entries" not in state[PROVENANCE_KEY]
        del state[PROVENANCE_KEY]["train_loaders"]
        split = {"train": trained[:6], "validation": entries_named("v", 2)}
        resumed = _module(split, allow_data_change=True)
        with pytest.warns(LightsplitWarning, match="set `train` has 6 entries"):
            resumed.load_state_dict(state)
        record = resumed.state_dict()[PROVENANCE_KEY]
        assert record["train_entries"].numel() == 12
        assert record["train_loaders"] == [
            ["lightsplit_testing.MemoryLoader", None, None],
            None,
        ]


@dataclasses.dataclass
class _Rooted(MemoryLoader):
    """A `MemoryLoader` standing for the loader of one database's folder."""

    root: str = "/data/montgomery"


class _OtherClass(_Rooted):
    """Another loader class, reading the same folder."""


_MONTGOMERY = "/data/montgomery"
_SHENZHEN = "/data/shenzhen"


def _images(count: int, start: int = 0) -> list[Entry]:
    """Entries ``images/0000.png``..., as two databases may both name them."""
    return [(f"images/{i:04d}.png", i % 2) for i in range(start, start + count)]


def _trained_on_montgomery() -> dict[str, Any]:
    """The record of a data module trained on `_MONTGOMERY` alone."""
    loader = _Rooted(root=_MONTGOMERY)
    return ConcatDataModule(
        {"train": [(_images(8), loader)], "validation": [(_images(2, 8), loader)]},
        batch_size=4,
    ).state_dict()


def _evaluated(
    test: list[Entry],
    root: str,
    train_root: str | None,
    loader: type[_Rooted] = _Rooted,
) -> ConcatDataModule:
    """A data module testing ``test`` read from ``root``, with the training and
    validation sets read from ``train_root`` (if any)."""
    splits: dict[str, list[tuple[list[Entry], MemoryLoader]]] = {
        "test": [(test, loader(root=root))]
    }
    if train_root is not None:
        splits["train"] = [(_images(8), _Rooted(root=train_root))]
        splits["validation"] = [(_images(2, 8), _Rooted(root=train_root))]
    return ConcatDataModule(splits, batch_size=4)


class TestOtherDatabases:
    def test_loaders_recorded(self) -> None:
        """The checkpoint records the loaders of the training entries, by class
        and folder (`root`, as an absolute path)."""
        record = _trained_on_montgomery()[PROVENANCE_KEY]
        assert record["train_loaders"] == [[f"{__name__}._Rooted", _MONTGOMERY, None]]

    def test_same_paths_of_another_database_told_apart(self) -> None:
        """A test set of another database (another `root`) whose relative paths
        are training ones is evaluated as held out where the data module reads
        the training set from where it was trained: they are other files."""
        module = _evaluated(_images(4), _SHENZHEN, _MONTGOMERY)
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            _evaluating(module, _trained_on_montgomery(), TrainerFn.TESTING)
        [said] = [str(w.message) for w in seen if w.category is LightsplitWarning]
        assert said.startswith("running `test` on sets that differ")
        assert (
            "\n  set `test`: 4 of its entries have the relative paths of training "
            "entries, but are read from another folder than the data module's "
            "training set reads those from, where the checkpoint's training read "
            f'them: 4 by `{__name__}._Rooted` at "{_SHENZHEN}" (test.0 '
            '["images/0000.png", 0]); they are taken for another database\'s files'
        ) in said

    def test_same_paths_without_training_set_explained(self) -> None:
        """Without the training set to tell them apart, such a test set is
        refused, saying that another folder's loader reads them, and how to go
        on."""
        module = _evaluated(_images(4), _SHENZHEN, None)
        with pytest.raises(DataChangedError) as exc_info:
            _evaluating(module, _trained_on_montgomery(), TrainerFn.TESTING)
        assert (
            "; 4 of them are read by "
            f'`{__name__}._Rooted` at "{_SHENZHEN}", a loader that read none of the '
            f"checkpoint's training entries (read by `{__name__}._Rooted` at \""
            f"{_MONTGOMERY}\"): if they are another database's files of the same "
            "relative paths, add the training set to the data module, read by the "
            "loaders it was trained with (their class and `root`), for them to be "
            "told apart by folder, or set `allow_data_change=True`; if the files "
            "moved there since training, they are training files"
        ) in str(exc_info.value)

    def test_loaders_without_root_cannot_tell_apart(self) -> None:
        """Where a loader has no `root`, the refusal says that files are told
        apart by it, and names every loader of the training entries."""
        plain, rooted = MemoryLoader(), _Rooted(root=_MONTGOMERY)
        state = ConcatDataModule(
            {"train": [(_images(4), plain), (_images(4, 4), rooted)]}
        ).state_dict()
        module = _evaluated(_images(4), _SHENZHEN, None)
        with pytest.raises(DataChangedError) as exc_info:
            _evaluating(module, state, TrainerFn.TESTING)
        assert (
            "(read by `lightsplit_testing.MemoryLoader` (no `root`), "
            f'`{__name__}._Rooted` at "{_MONTGOMERY}"): if they are another '
            "database's files of the same relative paths, set "
            "`allow_data_change=True` (files of one path are told apart by the "
            "`root` of their loaders, which not all of these have)"
        ) in str(exc_info.value)

    @pytest.mark.parametrize(
        ("test_root", "train_root", "loader", "explained"),
        [
            pytest.param(_MONTGOMERY, "/data/moved", _Rooted, False, id="old-folder"),
            pytest.param(_SHENZHEN, "/data/moved", _Rooted, True, id="moved"),
            pytest.param(_MONTGOMERY, _MONTGOMERY, _OtherClass, True, id="class"),
        ],
    )
    def test_training_files_not_told_apart(
        self, test_root: str, train_root: str, loader: type[_Rooted], explained: bool
    ) -> None:
        """Files are told apart by folder only where the data module reads the
        training set from where it was trained: the training files moved, or
        read from their folder by another class, are training files."""
        module = _evaluated(_images(4), test_root, train_root, loader)
        with pytest.raises(DataChangedError, match="shares 4 of its 4") as exc_info:
            _evaluating(module, _trained_on_montgomery(), TrainerFn.TESTING)
        assert ("a loader that read none" in str(exc_info.value)) is explained

    def test_older_checkpoint_not_told_apart(self) -> None:
        """A checkpoint that records no loaders of its training entries tells
        no file apart by folder."""
        state = _trained_on_montgomery()
        del state[PROVENANCE_KEY]["train_loaders"]
        module = _evaluated(_images(4), _SHENZHEN, _MONTGOMERY)
        with pytest.raises(DataChangedError, match="shares 4 of its 4 entries"):
            _evaluating(module, state, TrainerFn.TESTING)

    def test_loaders_of_resumed_checkpoint_remembered(self) -> None:
        """Resumed with the data moved, a run records both folders: the files
        left in the old one are training files."""
        moved = _Rooted(root="/data/moved")
        resumed = ConcatDataModule(
            {"train": [(_images(8), moved)], "validation": [(_images(2, 8), moved)]},
            batch_size=4,
        )
        with pytest.warns(LightsplitWarning, match="the loader of sets"):
            resumed.load_state_dict(_trained_on_montgomery())
        state = resumed.state_dict()
        assert [root for _, root, _ in state[PROVENANCE_KEY]["train_loaders"]] == [
            "/data/moved",
            _MONTGOMERY,
        ]
        module = _evaluated(_images(4), _MONTGOMERY, "/data/moved")
        with pytest.raises(DataChangedError, match="shares 4 of its 4 entries"):
            _evaluating(module, state, TrainerFn.TESTING)


_PATH_PARTS = st.sampled_from(
    ["a.png", "b", ".", "..", "", "café.png", "cafe\u0301.png", "x\\y.png", "p 1"]
)
_PATHS = st.lists(_PATH_PARTS, min_size=1, max_size=4).map("/".join)
_SECOND = st.one_of(
    st.integers(-3, 3),
    st.floats(allow_nan=False),
    st.none(),
    st.booleans(),
    st.lists(st.integers(0, 1), max_size=3),
)


@given(st.lists(st.tuples(_PATHS, _SECOND), min_size=1, max_size=20))
def test_pair_entries_hashed_as_each_alone(pairs: list[tuple[str, object]]) -> None:
    """`[path, value]` entries, whose identities are read all at once, hash as
    each entry's own identity: `./a.png`, `a//b/../a.png`, `x\\y.png` and an
    accent written two ways are normalised alike, so checkpoints match."""
    entries = [list(pair) for pair in pairs]
    each = [hash64(_identity(entry, paths_as_text=False)) for entry in entries]
    assert entry_hashes(entries, in_order=True).tolist() == each
    assert entry_hashes(entries).tolist() == sorted(each)
