"""A data module's `group_field`: patients read from a field of each entry (a
table's patient column, for file names that carry none), kept out of two sets
and out of evaluations of checkpoints trained on them, as `group_pattern` does."""

import json
import warnings
from pathlib import Path
from typing import Any

import pytest
import torch
from lightning.pytorch import Trainer
from lightning.pytorch.trainer.states import TrainerFn
from lightsplit_testing import MemoryLoader
from pydantic import ValidationError
from tests_models import RecordingModel, fit_to_checkpoint

from lightsplit import (
    CachingDataModule,
    ConcatDataModule,
    DataChangedError,
    DataModuleConfig,
    LightsplitWarning,
    Sample,
    build_datamodule,
)
from lightsplit._cli import main
from lightsplit._entries import Grouping
from lightsplit._groups import group_hashes
from lightsplit._provenance import PROVENANCE_KEY

Row = list[Any]
"""A row of a table: ``[file name, label, patient]``."""


def _rows(*patients: int | str, start: int = 0) -> list[Row]:
    """Two images of each patient, named by a running number alone."""
    return [
        [f"{start + 2 * at + i:05d}.png", (at + i) % 2, patient]
        for at, patient in enumerate(patients)
        for i in (0, 1)
    ]


def _split() -> dict[str, list[Row]]:
    """Patients 11-16 in train (integers), 17-18 in validation, "P19" in test."""
    return {
        "train": _rows(11, 12, 13, 14, 15, 16),
        "validation": _rows(17, 18, start=12),
        "test": _rows("P19", start=16),
    }


class RowLoader(MemoryLoader):
    """`MemoryLoader` of ``[name, label, ...]`` rows."""

    def sample(self, raw: Row) -> Sample:  # type: ignore[override]  # a longer row
        """Return the sample of the row's name and label."""
        return super().sample((raw[0], raw[1]))

    def target(self, raw: Row) -> int:  # type: ignore[override]  # a longer row
        """Return the label."""
        label: int = raw[1]
        return label


def _module(
    split: dict[str, list[Row]] | None = None,
    /,
    **settings: Any,  # noqa: ANN401 - any setting
) -> CachingDataModule:
    return CachingDataModule(split or _split(), RowLoader(), batch_size=4, **settings)


def _errors(error: ValidationError) -> list[tuple[str, str]]:
    return [(e["type"], ".".join(map(str, e["loc"]))) for e in error.errors()]


class TestSetting:
    def test_both_ways_to_group_refused(self) -> None:
        """A pattern and a field are two ways to find patients: both are refused,
        naming both, by the configuration, the constructors and assignment."""
        with pytest.raises(ValidationError) as exc_info:
            DataModuleConfig(group_pattern=r"p(\d+)/", group_field="PatientID")
        assert _errors(exc_info.value) == [("group_pattern_and_field", "")]
        assert exc_info.value.errors()[0]["msg"] == (
            r"`group_pattern` (`p(\d+)/`) and `group_field` (`PatientID`) are both "
            "set; an entry's group is found in its path by the pattern or read from "
            "the field: set one of them, and leave the other unset"
        )
        with pytest.raises(ValidationError, match="group_pattern_and_field"):
            _module(group_pattern="^0", group_field=2)
        module = _module(group_field=2)
        before = module.config
        with pytest.raises(ValidationError, match="are both set"):
            module.group_pattern = "^0"
        assert module.config is before

    @pytest.mark.parametrize(
        ("value", "described"),
        [
            pytest.param(-1, "-1, a position counted from the end", id="negative"),
            pytest.param(True, "the truth value True", id="bool"),
            pytest.param("", "an empty string", id="empty"),
            pytest.param(" \t", "' \\t', blanks alone", id="blanks"),
            pytest.param(2.0, "the float 2.0", id="float"),
            pytest.param([2], "the list [2]", id="list"),
        ],
    )
    def test_invalid_field_refused(self, value: object, described: str) -> None:
        """A field that is neither a position (0 or more) nor a key is refused,
        saying what each is."""
        with pytest.raises(ValidationError) as exc_info:
            DataModuleConfig(group_field=value)  # type: ignore[arg-type]  # refused
        assert _errors(exc_info.value) == [("group_field_invalid", "group_field")]
        message = exc_info.value.errors()[0]["msg"]
        assert message.startswith(f"`group_field` is {described}")
        assert message.endswith(
            "name the field that holds each entry's group (its patient): a "
            "position in array entries (0 for the first item, 1, 2, ...) or a key "
            "of object entries (a string that is not empty or blank), such as 2 or "
            "`PatientID`; or "
            "leave it unset"
        )

    def test_field_of_the_files_refused(self) -> None:
        """A field that holds the entries' files (position 0 of ``["a.png", 0]``)
        makes each image its own patient: refused, saying so and what to name."""
        split = {
            "train": [[f"{i:05d}.png", i % 2] for i in range(6)],
            "test": [["00090.png", 0], ["00091.png", 1]],
        }
        with pytest.raises(ValidationError) as exc_info:
            CachingDataModule(split, _AnyLoader(), group_field=0)
        assert _errors(exc_info.value) == [("group_field_files", "group_field")]
        assert exc_info.value.errors()[0]["msg"] == (
            "`group_field` `0` holds the entries' files, not their patients, in 8 "
            "of the 8 entries of `train`, `test` that it holds a value in (such as "
            'train.0 ["00000.png", 0]), which makes each image its own patient, so '
            "no patient could be found in two sets; name the field that holds each "
            "entry's patient (a position 0, 1, ... in array entries, a key of object "
            'entries); the entries are arrays of 2 items (such as ["00000.png", 0]); '
            "give a position from 0 to 1, or leave `group_field` unset where no "
            "field holds patients"
        )
        objects = {
            name: [{"image": row[0], "label": row[1]} for row in rows]
            for name, rows in split.items()
        }
        with pytest.raises(ValidationError, match="group_field_files"):
            CachingDataModule(objects, _AnyLoader(), group_field="image")
        # a few patients written as file names among many are no such field
        rows = _split()
        rows["train"][0][2] = "scan.png"
        assert _module(rows, group_field=2).group_field == 2

    def test_string_of_digits_is_a_key(self) -> None:
        """``"2"`` (from a JSON or YAML file) is a key, never converted to a
        position: array rows hold no key, so it is refused as holding nothing."""
        config = DataModuleConfig.model_validate_json('{"group_field": "2"}')
        assert config.group_field == "2"
        assert DataModuleConfig(group_field=2).group_field == 2
        with pytest.raises(ValidationError) as exc_info:
            _module(group_field="2")
        assert _errors(exc_info.value) == [("group_field_unheld", "group_field")]
        assert exc_info.value.errors()[0]["msg"].startswith('`group_field` `"2"` holds')

    def test_settable_on_every_data_module(self) -> None:
        """The constructors, `build_datamodule` and assignment take it."""
        module = _module(group_field=2)
        assert (module.group_field, module.config.group_field) == (2, 2)
        parts = {name: [(rows, RowLoader())] for name, rows in _split().items()}
        concat = ConcatDataModule(parts, group_field=2)
        assert concat.group_field == 2
        built = build_datamodule(DataModuleConfig(group_field=2), parts)
        assert built.group_field == 2
        module.group_field = None
        assert module.config.group_field is None


class TestGroupLeaks:
    def test_patient_in_two_sets_refused(self) -> None:
        """A patient with images in `train` and `test` is refused at both sets,
        naming the field; its number in one set and its text in the other are
        one patient (17 and "17"). Without the field it passes: no file name
        says who the patient is."""
        split = _split()
        split["test"] += [["00099.png", 1, "12"]]
        with pytest.raises(ValidationError) as exc_info:
            _module(split, group_field=2)
        assert _errors(exc_info.value) == [
            ("group_leak", "train"),
            ("group_leak", "test"),
        ]
        assert exc_info.value.errors()[0]["msg"] == (
            "set `train` holds 1 group that another set holds too (by `group_field` "
            '`2`): `12` (in `train`, `test`: train.2 ["00002.png", 1, 12], test.2 '
            '["00099.png", 1, "12"]); put each group in one set (`lightsplit split '
            "--group-field` makes such splits), or fix the field if it does not "
            "hold patients"
        )
        assert len(_module(split)._sources["test"]) == 3

    def test_blanks_around_a_patient_dropped(self) -> None:
        """A patient `" 12 "` (a table's cell with blanks) is the patient 12, as
        `lightsplit check --group-field` reads it."""
        split = _split()
        split["test"] += [["00099.png", 1, " 12 "]]
        with pytest.raises(ValidationError) as exc_info:
            _module(split, group_field=2)
        assert _errors(exc_info.value) == [
            ("group_leak", "train"),
            ("group_leak", "test"),
        ]
        assert "`12` (in `train`, `test`" in exc_info.value.errors()[0]["msg"]

    def test_one_number_written_two_ways_warned(self) -> None:
        """A patient `0012` in `test` and `12` in `train` are two groups, as
        `lightsplit check` counts them: warned, naming both, as check does."""
        split = _split()
        split["test"] += [["00099.png", 1, "0012"]]
        with pytest.warns(LightsplitWarning) as seen:
            _module(split, group_field=2)
        [said] = [str(w.message) for w in seen if "several ways" in str(w.message)]
        assert said.startswith(
            "the group field `2` holds one number written several ways: `12` "
            "(train.2, train.3) and `0012` (test.2) are 12;"
        )
        assert said.endswith("; `lightsplit check --group-field` lists them")

    def test_missing_value_words_warned(self) -> None:
        """`NaN` for several patients is one patient of them all: warned."""
        split = _split()
        split["validation"] = [[f"0009{i}.png", i % 2, "NaN"] for i in range(4)]
        with pytest.warns(LightsplitWarning, match="holds `NaN` in 4 entries"):
            _module(split, group_field=2)

    def test_key_of_object_entries(self) -> None:
        """Object entries are grouped by the key named."""
        split = {
            "train": [{"image": "0.png", "label": 0, "PatientID": "A"}],
            "test": [{"image": "1.png", "label": 1, "PatientID": "A"}],
        }
        with pytest.raises(ValidationError) as exc_info:
            CachingDataModule(split, _AnyLoader(), group_field="PatientID")
        assert (
            "(by `group_field` `PatientID`): `A`" in exc_info.value.errors()[0]["msg"]
        )

    def test_patient_key_without_grouping_warned(self) -> None:
        """Object entries whose `PatientID` is in two sets, with no grouping
        set, are warned of from the caller's line, naming the setting that
        refuses them; set, they are refused; apart, or in array entries (which
        name no key), nothing is said."""
        split: dict[str, list[Any]] = {
            "train": [{"image": "0.png", "label": 0, "PatientID": "A"}],
            "test": [{"image": "1.png", "label": 1, "PatientID": "A"}],
        }
        with pytest.warns(LightsplitWarning) as seen:
            CachingDataModule(split, _AnyLoader())
        [said] = [w for w in seen if "seems to name" in str(w.message)]
        assert str(said.message) == (
            "key `PatientID` seems to name each entry's patient, and 1 of its 1 "
            "values is in more than one of `train`, `validation` and `test` (such "
            "as `A`), but neither `group_field` nor `group_pattern` is set, so a "
            "patient in two sets is not refused; set `group_field='PatientID'` to "
            "refuse it (`lightsplit check --group-field PatientID` lists them)"
        )
        assert said.filename == __file__
        split["test"][0]["PatientID"] = "B"
        rows = {"train": [["0.png", 0, "A"]], "test": [["1.png", 1, "A"]]}
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            CachingDataModule(split, _AnyLoader())
            CachingDataModule(rows, _AnyLoader())

    def test_clean_split_and_monitor_sets_pass(self) -> None:
        """Sets of their own patients pass; `monitor-*` sets repeat on purpose."""
        split = _split()
        split["monitor-train"] = split["train"][:2]
        assert _module(split, group_field=2).group_field == 2

    def test_field_holding_no_group_refused(self) -> None:
        """A field that holds no patient in any entry (a misnamed one) would
        check nothing: refused, saying what the entries hold."""
        with pytest.raises(ValidationError) as exc_info:
            _module(group_field=3)
        assert _errors(exc_info.value) == [("group_field_unheld", "group_field")]
        assert exc_info.value.errors()[0]["msg"] == (
            "`group_field` `3` holds a group (a value that is not missing, empty or "
            "null) in no entry of `train`, `validation`, `test`, so no group leak "
            "could be checked; name the field that holds each entry's patient (a "
            "position 0, 1, ... in array entries, a key of object entries); the "
            'entries are arrays of 3 items (such as ["00000.png", 0, 11]); give a '
            "position from 0 to 2"
        )

    def test_entries_without_group_warned_about(self) -> None:
        """Entries whose field is null or empty escape the check: said, naming them."""
        split = _split()
        split["train"] += [["00098.png", 0, None], ["00099.png", 1, ""]]
        with pytest.warns(LightsplitWarning) as seen:
            _module(split, group_field=2)
        assert str(seen[0].message) == (
            "`group_field` `2` holds no group (it is missing, empty or null) in 2 "
            "entries of `train`, `validation` and `test`, which the check that no "
            'group is in two sets leaves out: train.12 ["00098.png", 0, null], '
            'train.13 ["00099.png", 1, ""]; fix the field, or the entries, if they '
            "have groups (`lightsplit check --group-field` counts each set's groups)"
        )

    def test_field_set_later_checked(self) -> None:
        """Setting the field on a data module checks its sets; refused, the
        configuration stays as it was."""
        split = _split()
        split["validation"] += [["00099.png", 1, 11]]
        module = _module(split)
        with pytest.raises(ValidationError) as exc_info:
            module.group_field = 2
        assert _errors(exc_info.value)[0] == ("group_leak", "train")
        assert module.group_field is None


class _AnyLoader:
    """Loads any entry as the same sample, of class 0."""

    def sample(self, raw: object) -> Sample:
        return Sample(torch.zeros(2, 3), {"label": 0})

    def target(self, raw: object) -> int:
        return 0


def _test(module: CachingDataModule, checkpoint: Path) -> None:
    trainer = Trainer(
        accelerator="cpu",
        logger=False,
        enable_progress_bar=False,
        enable_checkpointing=False,
    )
    trainer.test(RecordingModel(6), datamodule=module, ckpt_path=checkpoint)


def _evaluating(module: ConcatDataModule, state: dict[str, Any]) -> None:
    """Load the checkpoint record ``state`` into ``module`` as testing does."""
    trainer = Trainer(accelerator="cpu", logger=False, enable_progress_bar=False)
    trainer.state.fn = TrainerFn.TESTING
    module.trainer = trainer
    module.load_state_dict(state)


# Lightning's advice to pass the checkpoint's callbacks again, irrelevant to testing
@pytest.mark.filterwarnings("ignore:Be aware that when using `ckpt_path`:UserWarning")
class TestCheckpoints:
    def test_training_groups_recorded(self) -> None:
        """With a field, the record holds one hash per training patient."""
        record = _module(group_field=2).state_dict()[PROVENANCE_KEY]
        assert record["config"]["group_field"] == 2
        assert record["train_groups"].numel() == 6
        assert torch.equal(
            record["train_groups"],
            group_hashes(_split()["train"], Grouping("group_field", 2)),
        )

    def test_other_image_of_trained_patient_refused(self, tmp_path: Path) -> None:
        """Testing on another image of a training patient (its number written as
        text) is refused, by the checkpoint's field, even where the evaluating
        data module sets none; a set of other patients is evaluated as given."""
        checkpoint = fit_to_checkpoint(_module(group_field=2), tmp_path)
        split = _split()
        split["test"] = [["00090.png", 1, "P19"], ["00091.png", 0, "12"]]
        with pytest.raises(DataChangedError) as exc_info:
            _test(_module(split), checkpoint)
        lines = str(exc_info.value).splitlines()
        assert lines[0].startswith(
            "running `test` on patients the checkpoint was trained on"
        )
        assert lines[1] == (
            "  set `test` holds 1 group (patients, by the checkpoint's `group_field` "
            "`2`) of the training set the checkpoint was trained on, in 1 of its 2 "
            'entries: `12` (test.1 ["00091.png", 0, "12"])'
        )
        split["test"] = [["00090.png", 1, "P19"], ["00091.png", 0, "P20"]]
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            _test(_module(split, group_field=2), checkpoint)
        said = [str(w.message) for w in seen if w.category is LightsplitWarning]
        assert any(
            "evaluated as given: none of their entries, nor patients, is in the "
            "checkpoint's training set" in message
            for message in said
        ), said

    def test_held_out_without_patients_not_said_compared_by_patient(
        self, tmp_path: Path
    ) -> None:
        """Evaluated on entries in which the checkpoint's field holds no patient,
        the sets are compared by file alone: the warning that they are held out
        does not say that no patient of theirs was trained on."""
        checkpoint = fit_to_checkpoint(_module(group_field=2), tmp_path)
        split = _split()
        split["test"] = [["00090.png", 1], ["00091.png", 0, "P20"]]
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            _test(_module(split), checkpoint)
        said = [str(w.message) for w in seen if w.category is LightsplitWarning]
        assert any(
            message.startswith(
                "the checkpoint's `group_field` `2` holds no group in 1 of the 2 "
                "entries of set `test`"
            )
            for message in said
        ), said
        held_out = [m for m in said if "evaluated as given" in m]
        assert len(held_out) == 1, said
        assert "nor patients" not in held_out[0]
        assert (
            "evaluated as given: none of their entries is in the checkpoint's "
            "training set, nor is the patient of any in which the checkpoint's "
            "grouping finds one (the others were compared by file only), but"
        ) in held_out[0]

    def test_patient_found_by_own_field_where_checkpoint_finds_none(self) -> None:
        """A checkpoint trained on array rows grouped by position 1, evaluated on
        the same data written as objects: its field holds no patient there, so
        the evaluating data module's own field finds them. A training patient
        is refused, the message saying by which field it was found."""
        rows = [[f"{i}.png", f"P0{i // 2}", i % 2] for i in range(8)]
        record = CachingDataModule({"train": rows}, _AnyLoader(), group_field=1)
        test = [
            {"image": "36.png", "PatientID": "P03", "label": 1},
            {"image": "37.png", "PatientID": "P08", "label": 0},
        ]
        tested = CachingDataModule(
            {"test": test}, _AnyLoader(), group_field="PatientID"
        )
        with pytest.raises(DataChangedError) as exc_info:
            _evaluating(tested, record.state_dict())
        lines = str(exc_info.value).splitlines()
        assert lines[0].startswith(
            "running `test` on patients the checkpoint was trained on"
        )
        assert lines[1] == (
            "  set `test` holds 1 group (patients, by the data module's own "
            "`group_field` `PatientID`, as the checkpoint's `group_field` `1` holds "
            "no group in those entries) of the training set the checkpoint was "
            'trained on, in 1 of its 2 entries: `P03` (test.0 {"image": "36.png", '
            '"PatientID": "P03", "label": 1})'
        )

    def test_concatenated_array_and_object_parts_compared_by_patient(self) -> None:
        """A set of an array part and an object part: the checkpoint's field
        finds the patients of one, the data module's own those of the other;
        entries in which neither finds one are compared by file only."""
        rows = [[f"{i}.png", f"P0{i // 2}", i % 2] for i in range(8)]
        record = CachingDataModule({"train": rows}, _AnyLoader(), group_field=1)
        arrays = [["40.png", "P08", 0], ["41.png", "P09", 1]]
        objects = [
            {"image": "42.png", "PatientID": "P02", "label": 0},
            {"image": "43.png", "label": 1},
        ]
        with pytest.warns(LightsplitWarning, match="holds no group"):
            tested = ConcatDataModule(
                {"test": [(arrays, _AnyLoader()), (objects, _AnyLoader())]},
                group_field="PatientID",
            )
        with (
            pytest.raises(DataChangedError) as exc_info,
            pytest.warns(LightsplitWarning, match="compared with its training set"),
        ):
            _evaluating(tested, record.state_dict())
        assert (
            "  set `test` holds 1 group (patients, by the data module's own "
            "`group_field` `PatientID`, as the checkpoint's `group_field` `1` holds "
            "no group in those entries) of the training set the checkpoint was "
            'trained on, in 1 of its 4 entries: `P02` (test.2 {"image": "42.png", '
            '"PatientID": "P02", "label": 0})'
        ) in str(exc_info.value).splitlines()
        objects[0]["PatientID"] = "P10"
        with pytest.warns(LightsplitWarning, match="holds no group"):
            tested = ConcatDataModule(
                {"test": [(arrays, _AnyLoader()), (objects, _AnyLoader())]},
                group_field="PatientID",
            )
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            _evaluating(tested, record.state_dict())
        said = [str(w.message) for w in seen if w.category is LightsplitWarning]
        assert (
            "the checkpoint's `group_field` `1` holds no group in 1 of the 4 entries "
            "of set `test`, nor does the data module's own `group_field` "
            "`PatientID`, which are compared with its training set by file only: "
            'test.3 {"image": "43.png", "label": 1}'
        ) in said, said
        held_out = [m for m in said if "evaluated as given" in m]
        assert len(held_out) == 1, said
        assert (
            "evaluated as given: none of their entries is in the checkpoint's "
            "training set, nor is the patient of any in which the checkpoint's "
            "grouping, or the data module's own, finds one (patients found by the "
            "data module's own `group_field` `PatientID` where the checkpoint's "
            "grouping finds none; the others were compared by file only), but"
        ) in held_out[0]

    def test_patients_of_uncarried_entries_not_said_compared(self) -> None:
        """Trained with a pattern, resumed with a field on fewer patients (the
        pattern's groups not carried), then tested: the patients of the entries
        trained on before are not recorded, and the warning does not say that
        none of the test set's patients was trained on."""
        split = {
            name: [[f"p{row[2]}/{row[0]}", *row[1:]] for row in rows]
            for name, rows in _split().items()
        }
        before = _module(split, group_pattern=r"p(\w+)/").state_dict()
        fewer = {**split, "train": split["train"][:6]}
        resumed = _module(fewer, group_field=2, allow_data_change=True)
        with pytest.warns(LightsplitWarning) as resuming:
            resumed.load_state_dict(before)
        assert any("are not carried" in str(w.message) for w in resuming)
        record = resumed.state_dict()
        assert record[PROVENANCE_KEY]["train_entries_ungrouped"].numel() == 6
        # patient 16, trained on before the resumption, in other images
        tested = _module({**fewer, "test": _rows(16, start=50)}, group_field=2)
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            _evaluating(tested, record)
        said = [str(w.message) for w in seen if w.category is LightsplitWarning]
        held_out = [m for m in said if "evaluated as given" in m]
        assert len(held_out) == 1, said
        assert "nor patients" not in held_out[0]
        assert (
            "evaluated as given: none of their entries is in the checkpoint's "
            "training set, nor is the patient of any among the training patients it "
            "records (it records no patient for the 6 entries it was trained on "
            "before it was resumed with another grouping (or a first one): those "
            "were compared by file only), but"
        ) in held_out[0]
        # resumed again with the same field: still not recorded
        again = _module(fewer, group_field=2)
        again.load_state_dict(record)
        kept = again.state_dict()[PROVENANCE_KEY]["train_entries_ungrouped"]
        assert torch.equal(kept, record[PROVENANCE_KEY]["train_entries_ungrouped"])

    def test_one_image_of_trained_patient_counted_in_words(self) -> None:
        """A test set of one image of a training patient is refused, its size
        said as one entry."""
        record = _module(group_field=2).state_dict()
        tested = _module({**_split(), "test": [["00090.png", 1, 12]]})
        with pytest.raises(DataChangedError) as exc_info:
            _evaluating(tested, record)
        lines = str(exc_info.value).splitlines()
        assert "  set `test` has 1 entry, not 2" in lines, lines

    def test_patients_trained_on_before_remembered(self) -> None:
        """Resumed on fewer patients with the same field, the checkpoints written
        next remember all of them: a test set of the others is refused."""
        before = _module(group_field=2).state_dict()
        fewer = {**_split(), "train": _split()["train"][:6]}
        resumed = _module(fewer, group_field=2, allow_data_change=True)
        with pytest.warns(LightsplitWarning, match="set `train` has 6 entries"):
            resumed.load_state_dict(before)
        record = resumed.state_dict()[PROVENANCE_KEY]
        assert record["train_groups"].numel() == 6
        tested = _module({**fewer, "test": _rows(16, start=50)})
        with pytest.raises(DataChangedError, match="holds 1 group"):
            _evaluating(tested, {PROVENANCE_KEY: record})

    def test_another_grouping_on_resume_not_carried(self) -> None:
        """Groups read from another field (or found by a pattern) do not compare
        with the new field's: not carried, with a warning; removing the field
        is warned about as removing a pattern is."""
        before = _module(group_field=2).state_dict()
        fewer = {**_split(), "train": _split()["train"][:6]}
        sited = {  # a site column, each patient's own
            name: [[*row, f"S{row[2]}"] for row in rows] for name, rows in fewer.items()
        }
        resumed = _module(sited, group_field=3, allow_data_change=True)
        with pytest.warns(LightsplitWarning) as seen:
            resumed.load_state_dict(before)
        assert any(
            str(w.message).startswith(
                "`group_field` is `3`, not `2`: the checkpoint's training groups, "
                "read from its field, are not carried"
            )
            for w in seen
        ), [str(w.message) for w in seen]
        assert resumed.state_dict()[PROVENANCE_KEY]["train_groups"].numel() == 3
        by_pattern = _module(fewer, group_pattern=r"^(\d+)\.", allow_data_change=True)
        with pytest.warns(LightsplitWarning) as seen:
            by_pattern.load_state_dict(before)
        assert any(
            str(w.message).startswith(
                r"`group_pattern` is `^(\d+)\.`, not unset, where the checkpoint set "
                "`group_field` `2`: the checkpoint's training groups, read from its "
                "field, are not carried"
            )
            for w in seen
        ), [str(w.message) for w in seen]
        with pytest.warns(LightsplitWarning, match="`group_field` is unset, not `2`"):
            _module().load_state_dict(_module(group_field=2).state_dict())

    def test_grouping_removed_shown_as_written(self) -> None:
        """Resuming without the checkpoint's pattern (or field) names it as the
        other messages of groups do, as written: a pattern's backslashes are not
        doubled, and the key "2" is told from the position 2."""
        pattern = r"^(\d+)\."
        record = _module(group_pattern=pattern).state_dict()
        with pytest.warns(LightsplitWarning) as seen:
            _module().load_state_dict(record)
        said = [str(w.message) for w in seen]
        assert any(
            "`group_pattern` is unset, not `^(\\d+)\\.`: checkpoints" in m for m in said
        ), said
        record = _module(group_field=2).state_dict()
        record[PROVENANCE_KEY]["config"]["group_field"] = "2"
        with pytest.warns(LightsplitWarning) as seen:
            _module().load_state_dict(record)
        said = [str(w.message) for w in seen]
        assert any('`group_field` is unset, not `"2"`: checkpoints' in m for m in said)

    def test_checkpoint_of_older_lightsplit(self) -> None:
        """A record written before `group_field` (no such key) loads as before:
        resumed with the field set, no difference; evaluated, its pattern's
        groups are still compared."""
        record = _module().state_dict()
        del record[PROVENANCE_KEY]["config"]["group_field"]
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            _module(group_field=2).load_state_dict(record)
        patterned = CachingDataModule(
            {"train": [("p1/a", 0), ("p2/a", 1)]},
            MemoryLoader(),
            group_pattern=r"p(\d)/",
        ).state_dict()
        del patterned[PROVENANCE_KEY]["config"]["group_field"]
        tested = CachingDataModule(
            {"train": [("p1/a", 0), ("p2/a", 1)], "test": [("p2/b", 1)]},
            MemoryLoader(),
        )
        with pytest.raises(DataChangedError, match=r"`group_pattern` `p\(\\d\)/`"):
            _evaluating(tested, patterned)

    def test_provenance_command_names_the_field(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """``lightsplit provenance`` says the groups were read from the field."""
        path = tmp_path / "grouped.ckpt"
        torch.save({"CachingDataModule": _module(group_field=2).state_dict()}, path)
        other = tmp_path / "other.json"
        other.write_text(json.dumps({"test": [["00090.png", 0, 11]]}))
        assert main(["provenance", str(path), str(other)]) == 1
        lines = capsys.readouterr().out.splitlines()
        assert "  training groups: 6 recorded, read from `group_field` `2`" in lines
        assert (
            f"  {other}: set `test`: 1 entry, the checkpoint's 2; 1 of its entries is "
            "of 1 group (patients, by the checkpoint's `group_field`) that the "
            "checkpoint was trained on"
        ) in lines
