"""A data module's `group_pattern`: no patient in two sets, nor in training and
in an evaluation with one of its checkpoints."""

import json
import warnings
from pathlib import Path

import pytest
import torch
from lightning.pytorch import Trainer
from lightsplit_testing import Entry, MemoryLoader
from pydantic import ValidationError
from tests_models import RecordingModel, fit_to_checkpoint

from lightsplit import (
    CachingDataModule,
    ConcatDataModule,
    DataChangedError,
    DataModuleConfig,
    LightsplitWarning,
    Sample,
    find_leaks,
    load_split,
)
from lightsplit._entries import Grouping
from lightsplit._groups import group_hashes, patients_trained_on
from lightsplit._provenance import PROVENANCE_KEY

PATTERN = r"p(\d+)/"


def _split() -> dict[str, list[Entry]]:
    """Patients 1-6 in train, 7-8 in validation, 9 in test; two images each."""

    def images(*patients: int) -> list[Entry]:
        return [(f"p{p}/{i}", (p + i) % 2) for p in patients for i in (0, 1)]

    return {
        "train": images(1, 2, 3, 4, 5, 6),
        "validation": images(7, 8),
        "test": images(9),
    }


def _module(
    split: dict[str, list[Entry]] | None = None, /, **settings: object
) -> CachingDataModule:
    return CachingDataModule(
        split or _split(),
        MemoryLoader(),
        batch_size=4,
        **settings,  # type: ignore[arg-type]  # settings
    )


def _errors(error: ValidationError) -> list[tuple[str, str]]:
    return [(e["type"], ".".join(map(str, e["loc"]))) for e in error.errors()]


class TestGroupLeaks:
    def test_patient_in_two_sets_refused(self) -> None:
        """A patient with images in two of the sets is refused at each set that
        holds one, in split order, naming the patient and an image in each set."""
        split = _split()
        split["test"] = [*split["test"], ("p2/9", 0), ("p8/9", 1)]
        with pytest.raises(ValidationError) as exc_info:
            _module(split, group_pattern=PATTERN)
        assert _errors(exc_info.value) == [
            ("group_leak", "train"),
            ("group_leak", "validation"),
            ("group_leak", "test"),
        ]
        train, validation, test = exc_info.value.errors()
        assert train["msg"] == (
            "set `train` holds 1 group that another set holds too (by "
            r"`group_pattern` `p(\d+)/`): `2` (in `train`, `test`: train.2 "
            '["p2/0", 0], test.2 ["p2/9", 0]); put each group in one set '
            "(`lightsplit split --group-pattern` makes such splits), or fix the "
            "pattern if it does not find patients"
        )
        assert "`8` (in `validation`, `test`: validation.2" in validation["msg"]
        assert test["msg"].startswith("set `test` holds 2 groups")

    def test_same_split_without_pattern_accepted(self) -> None:
        """Without a group pattern, nothing is checked by group (as before)."""
        split = _split()
        split["test"] = [*split["test"], ("p2/9", 0)]
        assert len(_module(split)._sources["test"]) == 3

    def test_monitor_sets_and_clean_split_pass(self) -> None:
        """`monitor-<name>` sets repeat patients on purpose; a split whose sets
        hold their own patients passes."""
        split = _split()
        split["monitor-train"] = split["train"][:2]
        module = _module(split, group_pattern=PATTERN)
        assert module.group_pattern == PATTERN

    def test_pattern_finding_no_group_refused(self) -> None:
        """A misspelt pattern, which would check nothing, is refused."""
        with pytest.raises(ValidationError) as exc_info:
            _module(group_pattern=r"patient-(\d+)/")
        assert _errors(exc_info.value) == [("group_pattern_unmatched", "group_pattern")]
        assert "finds no group in any path" in exc_info.value.errors()[0]["msg"]

    def test_invalid_pattern_refused(self) -> None:
        """A pattern that is no regular expression is refused by the configuration."""
        with pytest.raises(ValidationError) as exc_info:
            DataModuleConfig(group_pattern="p(\\d+")
        assert _errors(exc_info.value) == [("group_pattern_invalid", "group_pattern")]
        assert exc_info.value.errors()[0]["msg"].startswith(
            r"`group_pattern` `p(\d+` is not a regular expression (missing ), "
            "unterminated subpattern"
        )

    def test_pattern_set_later_checked(self) -> None:
        """Setting a pattern on a data module checks its sets; refused, the
        configuration stays as it was."""
        split = _split()
        split["validation"] = [*split["validation"], ("p1/9", 1)]
        module = _module(split)
        with pytest.raises(ValidationError) as exc_info:
            module.group_pattern = PATTERN
        assert _errors(exc_info.value)[0] == ("group_leak", "train")
        assert module.group_pattern is None

    def test_entries_left_out_warned_about(self) -> None:
        """Entries in which the pattern finds no group (a path written with
        backslashes) escape the check: said, naming them, as `check` says it."""
        split = _split()
        split["train"] += [("p7\\9", 0), ("p8\\9", 1)]
        with pytest.warns(LightsplitWarning) as seen:
            _module(split, group_pattern=PATTERN)
        assert str(seen[0].message).startswith(
            r"`group_pattern` `p(\d+)/` finds no group in 2 entries of `train`, "
            "`validation` and `test`, which the check that no group is in two sets "
            'leaves out: train.12 ["p7\\\\9", 0], train.13 ["p8\\\\9", 1]; fix the '
            "pattern, or the entries"
        )

    def test_path_objects_read_as_paths(self, tmp_path: Path) -> None:
        """Entries read with a sample type of `Path` (or dataclasses holding one)
        are grouped by their path, as their text: a patient in two sets is
        found (it was taken for an entry without a path)."""
        split_file = tmp_path / "split.json"
        split_file.write_text(
            json.dumps({"train": [["p1/a", 0], ["p2/a", 1]], "test": [["p1/b", 1]]})
        )
        typed = load_split(split_file, sample_type=tuple[Path, int])
        assert find_leaks(typed, group_pattern=PATTERN).group_leaks[0].group == "1"
        images = [Path("p1/t1.nii"), Path("p1/t2.nii")]  # several images, as paths
        several = find_leaks({"train": [[images, 0]], "test": [[images, 1]]})
        assert [leak.path for leak in several.path_leaks] == ["p1/t1.nii"]
        with pytest.raises(ValidationError) as exc_info:
            CachingDataModule(typed, _PathLoader(), group_pattern=PATTERN)
        assert _errors(exc_info.value) == [
            ("group_leak", "train"),
            ("group_leak", "test"),
        ]

    def test_entry_without_path_among_others_warned_about(self) -> None:
        """An entry without a path (here one JSON cannot even write, as it holds
        itself) among entries with one is left out of the check, with a warning."""
        selfish: dict[str, object] = {"id": 1}
        selfish["self"] = selfish
        split: dict[str, list[object]] = {
            "train": [selfish, ("p1/a", 0)],
            "test": [("p2/a", 1)],
        }
        with pytest.warns(LightsplitWarning) as seen:
            CachingDataModule(split, _AnyLoader(), group_pattern=PATTERN)
        assert str(seen[0].message).startswith(
            "no path (a string) for `group_pattern` to search in 1 entry of `train`, "
            "`validation` and `test`, which the check that no group is in two sets "
            "leaves out: train.0 "
        )

    def test_entries_without_paths_refused(self) -> None:
        """A pattern has nothing to search in entries without a path (numbers):
        refused, as a pattern that finds no group is."""
        with pytest.raises(ValidationError) as exc_info:
            CachingDataModule(
                {"train": [(1, 0), (2, 1)], "test": [(3, 1)]},
                _PathLoader(),
                group_pattern=PATTERN,
            )
        assert _errors(exc_info.value) == [("group_pattern_unmatched", "group_pattern")]
        assert exc_info.value.errors()[0]["msg"].startswith(
            "no entry of `train`, `test` holds a path (a string) for `group_pattern` "
        )

    def test_concatenated_parts_checked_together(self) -> None:
        """Parts of one set count as that set: a patient in the second part of
        `test` and in `train` is found."""
        loader = MemoryLoader()
        with pytest.raises(ValidationError) as exc_info:
            ConcatDataModule(
                {
                    "train": [(_split()["train"], loader)],
                    "test": [(_split()["test"], loader), ([("p3/7", 0)], loader)],
                },
                group_pattern=PATTERN,
            )
        assert _errors(exc_info.value) == [
            ("group_leak", "train"),
            ("group_leak", "test"),
        ]
        assert "test.2" in exc_info.value.errors()[1]["msg"]


class _AnyLoader:
    """Loads any entry as the same sample, of class 0."""

    def sample(self, raw: object) -> Sample:
        return Sample(torch.zeros(2, 3), {"label": 0})

    def target(self, raw: object) -> int:
        return 0


class _PathLoader:
    """Loads entries whose first item is anything, their label second."""

    def sample(self, raw: tuple[object, int]) -> Sample:
        return Sample(torch.zeros(2, 3), {"label": raw[1]})

    def target(self, raw: tuple[object, int]) -> int:
        return raw[1]


def _checkpoint(tmp_path: Path, **settings: object) -> Path:
    return fit_to_checkpoint(_module(**settings), tmp_path)


def _test(module: CachingDataModule, checkpoint: Path) -> None:
    trainer = Trainer(
        accelerator="cpu",
        logger=False,
        enable_progress_bar=False,
        enable_checkpointing=False,
    )
    trainer.test(RecordingModel(6), datamodule=module, ckpt_path=checkpoint)


def _other_images_of_trained_patients() -> dict[str, list[Entry]]:
    """The split, its test set another image of patients 2 and 5 and a new one."""
    split = _split()
    split["test"] = [("p9/0", 1), ("p2/7", 1), ("p5/7", 0), ("p5/8", 1)]
    return split


# Lightning's advice to pass the checkpoint's callbacks again, irrelevant to testing
@pytest.mark.filterwarnings("ignore:Be aware that when using `ckpt_path`:UserWarning")
class TestCheckpoints:
    def test_training_groups_recorded(self) -> None:
        """With a pattern, the record holds one sorted hash per training patient."""
        record = _module(group_pattern=PATTERN).state_dict()[PROVENANCE_KEY]
        groups = record["train_groups"]
        assert groups.dtype == torch.int64
        assert groups.tolist() == sorted(set(groups.tolist()))
        assert groups.numel() == 6
        assert torch.equal(
            groups, group_hashes(_split()["train"], Grouping("group_pattern", PATTERN))
        )
        assert record["config"]["group_pattern"] == PATTERN
        assert "train_groups" not in _module().state_dict()[PROVENANCE_KEY]

    def test_other_image_of_trained_patient_refused(self, tmp_path: Path) -> None:
        """Testing on another image of a patient the checkpoint was trained on is
        refused, by the checkpoint's pattern, even where the evaluating data module
        has none; no entry is the same file."""
        checkpoint = _checkpoint(tmp_path, group_pattern=PATTERN)
        module = _module(_other_images_of_trained_patients())
        with pytest.raises(DataChangedError) as exc_info:
            _test(module, checkpoint)
        lines = str(exc_info.value).splitlines()
        assert lines[0].startswith(
            "running `test` on patients the checkpoint was trained on"
        )
        assert lines[1] == (
            "  set `test` holds 2 groups (patients, by the checkpoint's "
            r"`group_pattern` `p(\d+)/`) of the training set the checkpoint was "
            'trained on, in 3 of its 4 entries: `2` (test.1 ["p2/7", 1]), `5` '
            '(test.2 ["p5/7", 0])'
        )
        assert not any("shares" in line for line in lines)

    def test_allowed_with_a_warning(self, tmp_path: Path) -> None:
        """`allow_data_change` lets it run, said in a warning of its own."""
        checkpoint = _checkpoint(tmp_path, group_pattern=PATTERN)
        module = _module(_other_images_of_trained_patients(), allow_data_change=True)
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            _test(module, checkpoint)
        messages = [str(w.message) for w in seen if w.category is LightsplitWarning]
        assert any(
            message.startswith(
                "running `test` on patients the checkpoint was trained on, as "
                "`allow_data_change=True` allows"
            )
            and "holds 2 groups (patients" in message
            for message in messages
        )

    def test_new_patients_evaluated_as_given(self, tmp_path: Path) -> None:
        """A changed test set of new patients alone runs, said to be compared by
        patient as well as by file."""
        checkpoint = _checkpoint(tmp_path, group_pattern=PATTERN)
        split = _split()
        split["test"] = [("p10/0", 1), ("p11/0", 0)]
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            _test(_module(split, group_pattern=PATTERN), checkpoint)
        said = [str(w.message) for w in seen if w.category is LightsplitWarning]
        assert any(
            "evaluated as given: none of their entries, nor patients, is in the "
            "checkpoint's training set" in message
            for message in said
        ), said

    def test_without_pattern_not_checked_by_group(self, tmp_path: Path) -> None:
        """A checkpoint trained without a pattern records no groups: only files
        are compared (the evaluation runs, its test set differing from the
        checkpoint's, which the evaluated module allows)."""
        checkpoint = _checkpoint(tmp_path)
        module = _module(_other_images_of_trained_patients(), allow_data_change=True)
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            _test(module, checkpoint)
        said = [str(w.message) for w in seen]
        assert not any("groups (patients" in m or "on patients" in m for m in said)

    def test_pattern_asked_of_checkpoint_without_groups(self, tmp_path: Path) -> None:
        """A pattern set on the evaluating module, where the checkpoint records no
        groups, cannot be used: said, so that no one takes the sets for checked."""
        checkpoint = _checkpoint(tmp_path)
        module = _module(group_pattern=PATTERN)
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            _test(module, checkpoint)
        assert [
            str(w.message)
            for w in seen
            if str(w.message).startswith("the checkpoint records no training groups")
        ] == [
            "the checkpoint records no training groups (it was trained without "
            "`group_pattern` or `group_field`, or by a lightsplit that did not "
            "record them): "
            "`test` is compared with its training set by file only, "
            r"not by `group_pattern` `p(\d+)/`"
        ]

    def test_entries_without_group_of_the_checkpoint(self, tmp_path: Path) -> None:
        """Evaluated entries in which the checkpoint's pattern finds no group are
        compared by file only: said, naming them."""
        checkpoint = _checkpoint(tmp_path, group_pattern=PATTERN)
        split = _split()
        split["test"] = [("p9/0", 1), ("P9/1", 0)]
        module = _module(split, allow_data_change=True)
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            _test(module, checkpoint)
        assert (
            r"the checkpoint's `group_pattern` `p(\d+)/` finds no group in 1 of the "
            "2 entries of set `test`, which are compared with its training set by "
            'file only: test.1 ["P9/1", 0]'
        ) in [str(w.message) for w in seen]

    def test_damaged_pattern_noted(self) -> None:
        """A record whose pattern is no regular expression compares by file only,
        and says so (no crash when evaluating)."""
        record = _module(group_pattern=PATTERN).state_dict()[PROVENANCE_KEY]
        record["config"]["group_pattern"] = "p(\\d"
        check = patients_trained_on(record, {"test": [("p1/9", 0)]}, asked=None)
        assert check.lines == []
        assert check.notes == [
            "the checkpoint's `group_pattern` `p(\\d` is no regular expression "
            "(its record is damaged): the evaluated sets are compared with its "
            "training set by file only"
        ]

    def test_pattern_removed_on_resume_warned(self) -> None:
        """Resuming without the pattern the checkpoint was trained with is a
        warning: later checkpoints record no groups."""
        record = _module(group_pattern=PATTERN).state_dict()
        with pytest.warns(LightsplitWarning, match="`group_pattern` is unset, not"):
            _module().load_state_dict(record)

    def test_pattern_change_on_resume_not_a_difference(self) -> None:
        """Adding a pattern when resuming changes how data are checked, not which
        data are served: no difference is reported."""
        record = _module().state_dict()
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            _module(group_pattern=PATTERN).load_state_dict(record)
