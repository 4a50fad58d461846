"""Families of folds: ``lightsplit check`` of several files, by what rotates."""

import json
from collections.abc import Sequence
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lightsplit._cli import main
from lightsplit._folds import check_family, fold_families

Capture = pytest.CaptureFixture[str]
Folds = list[dict[str, list[list[object]]]]


def _run(capsys: Capture, *argv: str | Path) -> tuple[int, str]:
    """Run ``main`` in process; return its status and stdout."""
    status = main([str(arg) for arg in argv])
    return status, capsys.readouterr().out


def _kfold(count: int, folds: int) -> Folds:
    """``folds`` splits of ``count`` entries: fold k tests every k-th entry."""
    entries: list[list[object]] = [[f"img/{i:03d}.png", i % 2] for i in range(count)]
    made = []
    for k in range(folds):
        test = [e for i, e in enumerate(entries) if i % folds == k]
        rest = [e for i, e in enumerate(entries) if i % folds != k]
        made.append({"train": rest[:-3], "validation": rest[-3:], "test": test})
    return made


def _write(folder: Path, folds: Folds, name: str = "fold-{}.json") -> list[Path]:
    """Write each split of ``folds`` as ``folder/fold-<k>.json``."""
    folder.mkdir(exist_ok=True)
    paths = []
    for k, split in enumerate(folds):
        path = folder / name.format(k)
        path.write_text(json.dumps(split))
        paths.append(path)
    return paths


def _family_lines(out: str) -> list[str]:
    """The lines of the family's report (from its heading to its verdict)."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if "one family" in line)
    return lines[start:-1]


def test_split_folds_are_one_clean_family(tmp_path: Path, capsys: Capture) -> None:
    """The files of ``split --folds`` check as one family, each entry tested once."""
    samples = tmp_path / "samples.json"
    samples.write_text(
        json.dumps([[f"p{i % 20:02d}/{i}.png", i % 3] for i in range(60)])
    )
    status, _ = _run(capsys, "split", samples, "--folds", "4", "-o", tmp_path / "f")
    assert status == 0
    folds = [tmp_path / "f" / f"fold-{k}.json" for k in range(4)]
    status, out = _run(capsys, "check", *folds)
    assert status == 0
    first, last = folds[0], folds[-1]
    assert _family_lines(out) == [
        f"{first} ... {last}: 4 files, one family; `test` rotates",
        "  each of the 60 entries is in the `test` set of one file",
        f"{first} ... {last}: ok",
    ]
    assert out.splitlines()[-1] == "checked 4 files: all ok; 1 family of folds: ok"


def test_entry_tested_twice_and_never(tmp_path: Path, capsys: Capture) -> None:
    """An entry moved into a second test set is named, with the files, as is the
    entry that no test set holds any more; ``--strict`` fails on them."""
    folds = _kfold(30, 3)
    moved = folds[1]["test"].pop(0)  # img/001.png: tested in no file now ...
    folds[1]["train"].append(moved)
    twice = folds[0]["test"][1]  # ... and img/003.png in two
    folds[1]["train"].remove(twice)
    folds[1]["test"].append(twice)
    paths = _write(tmp_path, folds)
    status, out = _run(capsys, "check", *paths)
    assert status == 0  # warnings, as in each file's report
    names = ", ".join(map(str, paths[:2]))
    assert _family_lines(out)[1:] == [
        "  29 of the 30 entries are in a `test` set",
        f"  warning: 1 entry in the `test` set of more than one file: img/003.png "
        f"({names}); each entry belongs in the `test` set of one fold only, or "
        "its results are counted twice",
        "  warning: 1 of the 30 entries is in no file's `test` set: img/001.png; "
        "the sets' sizes say these 3 files are the whole family, so it is never "
        "evaluated",
        f"{paths[0]} ... {paths[-1]}: ok, 2 warnings",
    ]
    status, out = _run(capsys, "check", *paths, "--strict")
    assert status == 1
    assert out.splitlines()[-1] == (
        "checked 3 files: all ok; 1 family of folds: 2 problems (warnings included)"
    )
    status, out = _run(capsys, "check", *paths, "--json")
    (family,) = json.loads(out)["families"]
    assert family["files"] == list(map(str, paths))
    assert family["repeated"] == [{"entry": "img/003.png", "files": names.split(", ")}]
    assert family["uncovered"] == ["img/001.png"]
    assert (family["rotating_set"], family["entries"], family["covered"]) == (
        "test",
        30,
        29,
    )


def test_paths_compared_normalised(tmp_path: Path, capsys: Capture) -> None:
    """``./img/003.png`` in one test set is ``img/003.png`` in another."""
    folds = _kfold(30, 3)
    folds[1]["test"].append(["./" + str(folds[0]["test"][1][0]), 1])
    _, out = _run(capsys, "check", *_write(tmp_path, folds))
    assert "1 entry in the `test` set of more than one file: img/003.png" in out


def test_file_lacking_entries(tmp_path: Path, capsys: Capture) -> None:
    """A fold that dropped entries is named, with how many and which."""
    folds = _kfold(30, 3)
    dropped = folds[2]["train"][:2]
    del folds[2]["train"][:2]
    paths = _write(tmp_path, folds)
    _, out = _run(capsys, "check", *paths)
    shown = ", ".join(str(entry[0]) for entry in dropped)
    assert (
        f"  warning: {paths[2]} lacks 2 entries that other files of the family "
        f"hold: {shown}; every fold splits the same entries"
    ) in out.splitlines()


def test_fixed_test_set_validation_rotates(tmp_path: Path, capsys: Capture) -> None:
    """Where every file holds the same `test`, `validation` rotates over the rest."""
    pool: list[list[object]] = [[f"img/{i:03d}.png", i % 2] for i in range(24)]
    test, rest = pool[:6], pool[6:]
    folds: Folds = [
        {
            "train": [e for i, e in enumerate(rest) if i % 3 != k],
            "validation": [e for i, e in enumerate(rest) if i % 3 == k],
            "test": test,
        }
        for k in range(3)
    ]
    paths = _write(tmp_path, folds)
    _, out = _run(capsys, "check", *paths)
    assert _family_lines(out)[:2] == [
        f"{paths[0]} ... {paths[-1]}: 3 files, one family; `validation` rotates",
        "  each of the 18 entries is in the `validation` set of one file",
    ]


def test_some_folds_of_a_family(tmp_path: Path, capsys: Capture) -> None:
    """Two of five folds leave entries in no test set: a warning that says how
    many files the sets' sizes make the family (a fold file may be missing)."""
    paths = _write(tmp_path, _kfold(50, 5))
    status, out = _run(capsys, "check", *paths[:2])
    assert status == 0
    lines = _family_lines(out)
    assert lines[1] == "  20 of the 50 entries are in a `test` set"
    assert lines[2].startswith("  warning: 30 of the 50 entries are in no file's")
    assert lines[2].endswith(
        "the sets' sizes make a family of about 5 files, 2 given: with a fold file "
        "missing, they are never evaluated"
    )


def test_sidecars_name_missing_folds_and_other_runs(
    tmp_path: Path, capsys: Capture
) -> None:
    """The sidecars of `split --folds` say the folds of the family: a fold file
    missing is named by its number, and a fold made by another run (another
    seed) is named with what differs."""
    samples = tmp_path / "samples.json"
    samples.write_text(
        json.dumps([[f"p{i % 20:02d}/{i}.png", i % 3] for i in range(60)])
    )
    for seed in ("1", "2"):
        argv: list[str | Path] = ["split", samples, "--folds", "4", "--seed", seed]
        argv += ["-o", tmp_path / seed]
        assert _run(capsys, *argv)[0] == 0
    folds = [tmp_path / "1" / f"fold-{k}.json" for k in range(4)]
    _, out = _run(capsys, "check", folds[0], folds[1], folds[3])
    assert (
        "the sidecars record 4 folds, and fold 2 is not among the files given and "
        "read: give every fold file (each must read as a split), or they are never "
        "evaluated"
    ) in out
    other = tmp_path / "1" / "fold-2.json"
    other.write_bytes((tmp_path / "2" / "fold-2.json").read_bytes())
    sidecar = tmp_path / "1" / "fold-2.json.lightsplit.json"
    sidecar.write_bytes((tmp_path / "2" / "fold-2.json.lightsplit.json").read_bytes())
    _, out = _run(capsys, "check", *folds)
    assert (
        f"  warning: {other} is from another run than {folds[0]} (its sidecar records "
        "seed 2, not 1): folds of different runs do not part the entries; make them "
        "in one `lightsplit split --folds` run"
    ) in out.splitlines()


def test_no_family_without_rotation(tmp_path: Path, capsys: Capture) -> None:
    """Splits of one pool in which no set rotates (two annotators' masks) are
    no folds, even named so, and neither are numbered splits of different
    entries."""
    split: dict[str, list[list[object]]] = {
        "train": [["a.png", "a-1.png"]],
        "test": [["b.png", "b-1.png"]],
    }
    other: dict[str, list[list[object]]] = {
        "train": [["a.png", "a-2.png"]],
        "test": [["b.png", "b-2.png"]],
    }
    paths = _write(tmp_path / "annotators", [split, other], "fold-{}-masks.json")
    status, out = _run(capsys, "check", *paths)
    assert (status, out.splitlines()[-1]) == (0, "checked 2 files: all ok")
    cohorts: Folds = [
        {"train": [[f"{c}/{i}.png", 0] for i in range(4)], "test": [[f"{c}/t.png", 1]]}
        for c in ("a", "b")
    ]
    _, out = _run(capsys, "check", *_write(tmp_path / "cohorts", cohorts))
    assert "one family" not in out


def test_emptied_fold_is_no_partial_family(tmp_path: Path, capsys: Capture) -> None:
    """A fold whose test set was emptied by mistake leaves its entries never
    tested: a warning, not read as a family of more files than given."""
    folds = _kfold(30, 5)
    folds[2]["train"] += folds[2]["test"]
    folds[2]["test"] = []
    _, out = _run(capsys, "check", *_write(tmp_path, folds))
    assert "  warning: 6 of the 30 entries are in no file's `test` set" in out


def test_family_of_files_that_load(tmp_path: Path, capsys: Capture) -> None:
    """A fold that does not load fails alone; the others are still a family."""
    paths = _write(tmp_path, _kfold(30, 3))
    paths[1].write_text("{")
    status, out = _run(capsys, "check", *paths)
    assert status == 1
    assert f"{paths[0]} ... {paths[2]}: 2 files, one family; `test` rotates" in out
    paths[2].write_text("{")
    _, out = _run(capsys, "check", *paths)
    assert "one family" not in out


@pytest.mark.parametrize(
    ("names", "families"),
    [
        (["d/fold-10.json", "d/fold-9.json", "d/fold-0.json"], [[2, 1, 0]]),
        (["d/v1-fold-0.json.bz2", "d/v1-fold-1.json.bz2"], [[0, 1]]),
        (["d/v1-fold-0.json", "d/v2-fold-0.json"], []),
        (["a/fold-0.json", "b/fold-1.json"], []),
        (["d/fold-0.json", "d/fold-0.json"], []),
        (["d/default.json", "d/test.json"], []),
        (["d/seed-1.json", "d/seed-2.json"], []),
        (["d/manifold1.json", "d/manifold2.json"], []),
        (["d/folds-2.json", "d/Folds-1.json"], [[1, 0]]),
        (["d/CV_Fold1.json", "d/CV_Fold2.json"], [[0, 1]]),
        (["d/fold-1.json.bz2", "d/fold-0.json"], [[1, 0]]),
        (["d/fold-0.json", "d/../d/fold-1.json"], [[0, 1]]),
        (["d/fold-1-of-2.json", "d/fold-0-of-2.json"], [[1, 0]]),
        (
            [f"d/fold{k}_seed{s}.json" for k in (0, 1) for s in (1, 2)],
            [[0, 2], [1, 3]],
        ),
    ],
)
def test_families_by_name(names: list[str], families: list[list[int]]) -> None:
    """Names of folds that differ in the number after `fold` only (and in a
    compression suffix), in one folder however written, make a family, ordered
    by that number; other numbered splits (repeated random splits) do not."""
    paths = [Path(name) for name in names]
    found = fold_families(paths)
    assert found == [[paths[i] for i in family] for family in families]


@settings(max_examples=60, deadline=None)
@given(
    assignment=st.lists(st.integers(0, 3), min_size=8, max_size=40),
    data=st.data(),
)
def test_any_partition_is_clean(assignment: list[int], data: st.DataObject) -> None:
    """Test sets that part the pool give no warning; an entry added to a second
    test set is the one repeated, the one removed the one uncovered."""
    folds = max(assignment) + 1
    if folds < 2 or len(set(assignment)) < folds:
        return
    keys = {
        f"fold-{k}.json": {
            "train": [f"{i}" for i, f in enumerate(assignment) if f != k],
            "test": [f"{i}" for i, f in enumerate(assignment) if f == k],
        }
        for k in range(folds)
    }
    family = check_family(keys)
    assert family is not None
    assert family.warnings == []
    assert (family.entries, family.covered) == (len(assignment), len(assignment))
    entry = data.draw(st.integers(0, len(assignment) - 1))
    into = data.draw(st.integers(0, folds - 1).filter(lambda k: k != assignment[entry]))
    moved = {name: {s: list(v) for s, v in sets.items()} for name, sets in keys.items()}
    moved[f"fold-{into}.json"]["train"].remove(f"{entry}")
    moved[f"fold-{into}.json"]["test"].append(f"{entry}")
    family = check_family(moved)
    assert family is not None
    files = tuple(f"fold-{k}.json" for k in sorted((assignment[entry], into)))
    assert family.repeated == ((f"{entry}", files),)
    assert family.uncovered == ()


def test_check_family_orders_files_as_given() -> None:
    """The family's files are those given, in order; shown by first and last."""
    keys: dict[str, dict[str, Sequence[str]]] = {
        "b.json": {"train": ["x"], "test": ["y"]},
        "a.json": {"train": ["y"], "test": ["x"]},
    }
    family = check_family(keys)
    assert family is not None
    assert (family.files, family.name) == (("b.json", "a.json"), "b.json ... a.json")
