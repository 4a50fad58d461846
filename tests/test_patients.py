"""Folders named for the patient, noticed where no group was given."""

import json
import re
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lightsplit_testing import Entry, MemoryLoader

from lightsplit import CachingDataModule, LightsplitWarning, find_leaks
from lightsplit._cli import main
from lightsplit._entries import EntryFields, index_split
from lightsplit._leaks import leaks_in
from lightsplit._lint import SplitWarning, lint_split
from lightsplit._patients import patient_folder

Capture = pytest.CaptureFixture[str]


@pytest.mark.parametrize(
    ("path", "folder"),
    [
        ("CheXpert-v1.0/train/patient00001/study1/view1_frontal.jpg", "patient00001"),
        ("sub-01/anat/sub-01_T1w.nii.gz", "sub-01"),
        ("ds/sub-CC110033/anat/t1.nii.gz", "sub-CC110033"),
        ("kits19/data/case_00012/imaging.nii.gz", "case_00012"),
        ("Patient_7/slice3.png", "Patient_7"),
        ("Subject 12/scan.png", "Subject 12"),
        ("pat12/a.png", "pat12"),
        ("patient1/patient1.png", "patient1"),
        ("mimic-cxr-jpg/files/p10/p10000032/s50414267/02aa804e.jpg", "p10000032"),
        ("files/p10/p10000032/s50414267.txt", None),  # a study's report
        ("p1/img.png", None),
        ("LUNA16/subset1/1.3.6.1.mhd", None),
        ("patches01/a.png", None),
        ("pathology/x1.png", None),
        ("cases2020/a.png", None),
        ("CXR_png/MCUCXR_0001_0.png", None),
        ("images/00000001_000.png", None),
        ("patient00001.png", None),  # a file, not a folder
        ("tb/patient3.png", None),
    ],
)
def test_patient_folders_of_real_layouts(path: str, folder: str | None) -> None:
    """The layouts of CheXpert, BIDS, KiTS and the like name a patient folder;
    class folders, LUNA16's subsets and file names do not."""
    assert patient_folder(path) == folder


def _warnings(split: Mapping[str, Sequence[object]]) -> list[SplitWarning]:
    index = index_split(split, EntryFields())
    return lint_split(split, index, leaks_in(split, index), labels=False)


def _chexpert(*sets: tuple[str, list[int]]) -> dict[str, list[Entry]]:
    """Entries ``(path, label)`` of CheXpert's layout, one per patient given."""
    return {
        name: [
            (f"CheXpert-v1.0/train/patient{p:05d}/study{i}/view1_frontal.jpg", i % 2)
            for i, p in enumerate(patients)
        ]
        for name, patients in sets
    }


def test_patient_folders_across_sets_warned() -> None:
    """Folders named for the patient holding entries of two evaluated sets are
    a warning when no group is given, naming the pattern that compares them."""
    split = _chexpert(("train", [1, 2, 2]), ("validation", [3]), ("test", [1, 4]))
    [warning] = [w for w in _warnings(split) if w.kind == "group_pattern_unused"]
    assert warning.message == (
        "the paths' folders seem to name each entry's patient (such as "
        "`patient00001/`), and 1 of those 4 folders is in more than one of "
        "`train`, `validation` and `test`, but no group pattern was given, so "
        "patients were not compared; their entries: train.0 "
        '["CheXpert-v1.0/train/patient00001/study0/view1_frontal.jpg", 0], test.0 '
        '["CheXpert-v1.0/train/patient00001/study0/view1_frontal.jpg", 0]; give '
        "`--group-pattern '(?:^|/)(patient\\d[^/]*)/'` (`group_pattern=` in "
        "Python) to check that no patient is in two sets"
    )
    assert [str(ref) for ref in warning.examples] == ["train.0", "test.0"]


def test_patient_folders_not_warned_where_they_cannot_leak() -> None:
    """Nothing is said of patients apart, of a patient in a monitor set besides,
    of folders named for no patient, or when a group is given."""
    apart = _chexpert(("train", [1, 1, 2]), ("test", [3]))
    monitored = _chexpert(("train", [1]), ("monitor-train", [1]))
    classes = {
        "train": [("normal/1.png", 0), ("tb/2.png", 1)],
        "test": [("normal/3.png", 0), ("tb/4.png", 1)],
    }
    for split in (apart, monitored, classes):
        assert "group_pattern_unused" not in [w.kind for w in _warnings(split)]
    leaking = _chexpert(("train", [1]), ("test", [1]))
    assert "group_pattern_unused" in [w.kind for w in _warnings(leaking)]
    pattern = "(patient[0-9]+)/"
    index = index_split(leaking, EntryFields(group_pattern=re.compile(pattern)))
    grouped = lint_split(
        leaking, index, leaks_in(leaking, index), labels=False, group_pattern=pattern
    )
    assert "group_pattern_unused" not in [w.kind for w in grouped]


_LAYOUTS = st.sampled_from(
    [
        "data/patient{}/a{}.png",
        "sub-{}/anat/t{}.nii.gz",
        "kits/case_{}/im{}.nii.gz",
        "files/p10/p1000{}/s5{}/view.jpg",
    ]
)
_SETS = st.sampled_from(["train", "validation", "test", "monitor-x"])


@given(
    layout=_LAYOUTS,
    placed=st.lists(st.tuples(st.integers(0, 6), _SETS), min_size=1, max_size=30),
)
def test_suggested_pattern_finds_the_patients_warned_of(
    layout: str, placed: list[tuple[int, str]]
) -> None:
    """Whatever the layout and the placing of patients' entries, the warning
    comes exactly when a patient's folder is in two evaluated sets, counts
    them, and the pattern it gives finds those patients as group leaks."""
    split: dict[str, list[object]] = {}
    for entry, (patient, name) in enumerate(placed):
        split.setdefault(name, []).append([layout.format(patient, entry), 0])
    evaluated = {"train", "validation", "test"}
    sets: dict[int, set[str]] = {}
    for patient, name in placed:
        if name in evaluated:
            sets.setdefault(patient, set()).add(name)
    leaking = {patient for patient, names in sets.items() if len(names) > 1}
    found = [w for w in _warnings(split) if w.kind == "group_pattern_unused"]
    assert len(found) == bool(leaking)
    if not leaking:
        return
    said = found[0].message
    assert f", and {len(leaking)} of those {len(sets)} folders " in said
    pattern = said.split("`--group-pattern '")[1].split("'`")[0]
    report = find_leaks(split, group_pattern=pattern)
    assert {leak.group for leak in report.group_leaks} == {
        patient_folder(layout.format(patient, 0)) for patient in leaking
    }


def test_data_module_warns_of_patient_folders() -> None:
    """A data module with no grouping warns of patient folders across sets,
    from the caller's line, naming the setting that refuses them; given that
    setting, it refuses the split."""
    split = _chexpert(("train", [1, 2]), ("test", [1]))
    with pytest.warns(LightsplitWarning) as seen:
        CachingDataModule(split, MemoryLoader())
    [said] = [w for w in seen if "seem to name" in str(w.message)]
    assert str(said.message) == (
        "the paths' folders seem to name each entry's patient (such as "
        "`patient00001/`), and 1 of those 2 folders is in more than one of "
        "`train`, `validation` and `test`, but neither `group_pattern` nor "
        "`group_field` is set, so a patient in two sets is not refused; set "
        "`group_pattern=r'(?:^|/)(patient\\d[^/]*)/'` to refuse it (`lightsplit "
        "check --group-pattern '(?:^|/)(patient\\d[^/]*)/'` lists them)"
    )
    assert said.filename == __file__
    with pytest.raises(ValueError, match="patient00001"):
        CachingDataModule(
            split, MemoryLoader(), group_pattern=r"(?:^|/)(patient\d[^/]*)/"
        )
    apart = _chexpert(("train", [1, 2]), ("test", [3]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        CachingDataModule(apart, MemoryLoader())


def test_split_warns_of_patient_folders(tmp_path: Path, capsys: Capture) -> None:
    """`split` without a group warns of folders named for the patient that hold
    several entries; the pattern it names keeps each patient in one set."""
    entries = [
        [f"data/patient{p}/view{v}.png", p % 2] for p in range(12) for v in range(3)
    ]
    source = tmp_path / "samples.json"
    source.write_text(json.dumps(entries))
    output = tmp_path / "out.json"
    halves = ("split", str(source), "--fractions", "0.5", "0.5", "-o", str(output))
    assert main(list(halves)) == 0
    out = capsys.readouterr().out
    pattern = "(?:^|/)(patient\\d[^/]*)/"
    assert (
        f"warning: {source}: the paths' folders seem to name each entry's patient "
        "(such as `patient0/`), and 12 of those 12 folders are held by several "
        "entries; without `--group-field` or `--group-pattern`, each path is a "
        "group of its own, so one patient's entries may be put in two sets: give "
        f"`--group-pattern '{pattern}'` to keep each patient's entries in one set"
    ) in out.splitlines()
    assert main([*halves, "--group-pattern", pattern]) == 0
    assert "seem to name" not in capsys.readouterr().out
    split = json.loads(output.read_text())
    placed = {
        patient_folder(path): name for name, found in split.items() for path, _ in found
    }
    assert len(placed) == 12
    for name, found in split.items():
        assert all(placed[patient_folder(path)] == name for path, _ in found)
