"""``lightsplit provenance``: what a checkpoint was trained on, on the command line."""

import json
import os
from pathlib import Path

import pytest
import torch
from lightsplit_testing import MemoryLoader, entries_named, write_split
from tests_models import fit_to_checkpoint

from lightsplit import CachingDataModule, LightsplitWarning, load_split, split_sha256
from lightsplit._cli import main


class _Normalize:
    """A transform a model keeps and pickles with its checkpoint."""

    def __init__(self, mean: list[float], std: list[float]) -> None:
        self.mean, self.std = mean, std


@pytest.fixture
def trained(tmp_path: Path) -> tuple[Path, Path]:
    """A checkpoint of one epoch on a split file, and the split file."""
    split = write_split(
        tmp_path / "split.json",
        {"train": entries_named("t", 8), "validation": entries_named("v", 2)},
    )
    module = CachingDataModule(split, MemoryLoader(), batch_size=4, seed=2)
    return fit_to_checkpoint(module, tmp_path / "ckpt"), split


def test_prints_what_was_recorded(
    trained: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """The text names the data module, the split's hash (as `card` prints it for
    the split file), each set with its size, hash and classes."""
    checkpoint, split = trained
    assert main(["provenance", str(checkpoint)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"{checkpoint}: trained on the data of a `CachingDataModule`"
    assert lines[1] == f"  sha256 {split_sha256(load_split(split))} (of all its sets)"
    assert lines[2].startswith("  train             8 entries  sha256 ")
    assert lines[2].endswith("classes 0: 4, 1: 4")
    assert lines[3] == f"  {' ' * 10}  loaded by `lightsplit_testing.MemoryLoader`"
    assert lines[4] == f"  {' ' * 10}  read from {split}"  # for people to read
    assert "batch_size=4" in lines[8]
    assert main(["card", str(split), "--json"]) == 0
    card = json.loads(capsys.readouterr().out)
    assert main(["provenance", str(checkpoint), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["split_sha256"] == card["sha256"]


def test_which_fold_file_matches(
    trained: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Given every file of a folder (`folds/*.json`, sidecars too), the sidecars
    are skipped and the last line says which file matches."""
    checkpoint, split = trained
    other = write_split(tmp_path / "other.json", {"train": entries_named("t", 9)})
    sidecar = tmp_path / "other.json.lightsplit.json"
    sidecar.write_text(json.dumps({"lightsplit": "0.1.0", "command": "x"}))
    argv = ["provenance", str(checkpoint), str(other), str(sidecar), str(split)]
    assert main(argv) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"skipped {sidecar}: a sidecar file, where ")
    assert lines[-1] == (
        f"{checkpoint}: the splits differ, but for `{split}`, which matches"
    )
    assert main([*argv, "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["matching"] == [str(split)]


def test_compares_split_files(
    trained: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The same split matches; an edited one differs, set by set, with status 1."""
    checkpoint, split = trained
    assert main(["provenance", str(checkpoint), str(split), "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["splits"][str(split)] == {
        "train": "matches",
        "validation": "matches",
    }
    assert document["train_entries_hashed"] == 8
    edited = write_split(
        tmp_path / "edited.json",
        {"train": entries_named("t", 9), "test": entries_named("x", 1)},
    )
    assert main(["provenance", str(checkpoint), str(edited), "--json"]) == 1
    document = json.loads(capsys.readouterr().out)
    assert document["splits"][str(edited)] == {
        "train": "9 entries, the checkpoint's 8",
        "test": "not in the checkpoint",
        "validation": "not in this file",
    }


def test_training_groups(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A checkpoint trained with `group_pattern` shows how many training groups
    it records, and by which pattern; a damaged record of them is said so."""
    split = {"train": [(f"p{i % 3}/{i}", i % 2) for i in range(6)]}
    module = CachingDataModule(split, MemoryLoader(), group_pattern=r"p(\d)/")
    path = tmp_path / "grouped.ckpt"
    torch.save({"CachingDataModule": module.state_dict()}, path)
    assert main(["provenance", str(path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "  training groups: 3 recorded, found by `group_pattern` `p(\\d)/`" in lines
    assert main(["provenance", str(path), "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert (document["train_entries_hashed"], document["train_groups_hashed"]) == (6, 3)
    other = write_split(
        tmp_path / "other.json",
        {"test": [("p0/0", 0), ("p1/9", 1), ("p7/0", 1)]},  # a training file, p1 again
    )
    assert main(["provenance", str(path), str(other)]) == 1
    assert (
        f"  {other}: set `test`: not in the checkpoint; 1 of its entries is in the "
        "checkpoint's training set; 2 of its entries are of 2 groups (patients, by "
        "the checkpoint's `group_pattern`) that the checkpoint was trained on"
    ) in capsys.readouterr().out.splitlines()
    assert main(["provenance", str(path), str(other), "--json"]) == 1
    document = json.loads(capsys.readouterr().out)
    assert document["splits"][str(other)]["test"] == "not in the checkpoint"
    assert document["trained_on"] == {
        str(other): {
            "test": {"entries": 1, "groups": 2, "group_entries": 2, "ungrouped": 0}
        }
    }
    record = module.state_dict()
    record["lightsplit_provenance"]["train_groups"] = [1, 2, 3]
    torch.save({"CachingDataModule": record}, path)
    assert main(["provenance", str(path)]) == 1
    assert "`train_groups` is a list, not a tensor" in capsys.readouterr().err
    record = module.state_dict()
    record["lightsplit_provenance"]["config"]["group_pattern"] = "p(\\d"
    torch.save({"CachingDataModule": record}, path)
    assert main(["provenance", str(path), str(other)]) == 1
    assert "`group_pattern` `p(\\d` is no regular expression" in capsys.readouterr().err


def test_entries_without_patients(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Training entries whose patients a resume with another grouping could not
    carry are counted, and so are a held-out set's entries in which the
    checkpoint's grouping finds no patient: both were compared by file only."""
    split = {"train": [(f"p{i % 3}/{i}", i % 2) for i in range(6)]}
    before = CachingDataModule(split, MemoryLoader(), group_pattern=r"p(\d)/")
    resumed = CachingDataModule(
        {"train": split["train"][:3]},
        MemoryLoader(),
        group_pattern=r"^(p\d)/",  # another pattern: the earlier groups not carried
        allow_data_change=True,
    )
    with pytest.warns(LightsplitWarning) as resuming:
        resumed.load_state_dict(before.state_dict())
    assert any("are not carried" in str(w.message) for w in resuming)
    path = tmp_path / "resumed.ckpt"
    torch.save({"CachingDataModule": resumed.state_dict()}, path)
    other = write_split(
        tmp_path / "other.json",
        {"test": [("p0/7", 0), ("q/2", 1), ("q/3", 1)]},
    )
    assert main(["provenance", str(path), str(other)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert (
        "  training entries without patients: 3, trained on before a resume with "
        "another grouping (or a first one): evaluated sets are compared with them "
        "by file only"
    ) in lines
    assert (
        f"  {other}: set `test`: not in the checkpoint; 1 of its entries is of 1 "
        "group (patients, by the checkpoint's `group_pattern`) that the checkpoint "
        "was trained on; 2 of its entries have no patient by the checkpoint's "
        "`group_pattern`: compared by file only"
    ) in lines
    assert main(["provenance", str(path), str(other), "--json"]) == 1
    document = json.loads(capsys.readouterr().out)
    assert document["train_entries_ungrouped"] == 3
    assert document["trained_on"][str(other)]["test"] == {
        "entries": 0,
        "groups": 1,
        "group_entries": 1,
        "ungrouped": 2,
    }
    record = resumed.state_dict()
    record["lightsplit_provenance"]["train_entries_ungrouped"] = [1, 2]
    torch.save({"CachingDataModule": record}, path)
    assert main(["provenance", str(path)]) == 1
    assert "`train_entries_ungrouped` is a list, not a tensor" in (
        capsys.readouterr().err
    )


def test_not_a_lightsplit_checkpoint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A checkpoint without a lightsplit record is said to be one, status 1."""
    path = tmp_path / "other.ckpt"
    torch.save({"state_dict": {"w": torch.zeros(1)}, "epoch": 3}, path)
    assert main(["provenance", str(path)]) == 1
    assert capsys.readouterr().err == (
        f"lightsplit provenance: error: {path}: no lightsplit data module recorded "
        "its data in this checkpoint (its keys: `state_dict`, `epoch`); it was not "
        "trained with a lightsplit data module, or with one older than provenance\n"
    )


class _Evil:
    """Runs a command when unpickled by `pickle` itself."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return os.system, (f"touch {self.marker}",)


def test_code_is_never_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A file that would run a command when unpickled is refused, not executed,
    naming what it would have called."""
    path, marker = tmp_path / "evil.ckpt", tmp_path / "ran"
    torch.save({"payload": _Evil(marker)}, path)
    assert main(["provenance", str(path)]) == 1
    assert not marker.exists()
    err = capsys.readouterr().err
    assert "cannot be read as a checkpoint without running code from it (" in err
    assert "posix.system" in err
    assert "\x1b" not in err


def test_other_objects_in_the_checkpoint(
    trained: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """A checkpoint that also pickles objects `weights_only` refuses (mednet
    saves a torchvision `Normalize`) still gives its record: it could not be
    read at all, and the message held torch's terminal styling."""
    checkpoint, split = trained
    saved = torch.load(checkpoint, weights_only=True)
    saved["normalizer"] = _Normalize([0.5], [0.25])
    torch.save(saved, checkpoint)
    assert main(["provenance", str(checkpoint), str(split)]) == 0
    assert capsys.readouterr().out.endswith(": the splits match\n")


@pytest.mark.parametrize(
    ("data", "said"),
    [
        pytest.param(
            b"hello", 'is no PyTorch checkpoint: it starts with "hell"', id="text"
        ),
        pytest.param(
            b"", "is no PyTorch checkpoint: it starts with nothing", id="empty"
        ),
        pytest.param(
            b'{"train": []}',
            'is no PyTorch checkpoint: it starts with "{\\"tr"',
            id="json",
        ),
        pytest.param(
            b"\x80\x02}q\x00X",
            "cannot be read as a checkpoint without running code from it (",
            id="cut-pickle",
        ),
    ],
)
def test_not_a_checkpoint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], data: bytes, said: str
) -> None:
    """A file that is no checkpoint, or a damaged one, is said to be so (exit 1),
    without a traceback or torch's advice to load it unsafely."""
    path = tmp_path / "notes.ckpt"
    path.write_bytes(data)
    assert main(["provenance", str(path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"lightsplit provenance: error: {path}: {said}")
    assert "weights_only" not in err


def _good_record() -> dict[str, object]:
    return {
        "format": 1,
        "split_sha256": "0" * 64,
        "sets": {
            "train": {
                "size": 2,
                "sha256": "1" * 64,
                "class_counts": {"0": 1, "1": 1},
                "loaders": [["x.Loader", "ab"]],
            }
        },
        "config": {"batch_size": 2},
        "transforms": [],
        "train_entries": torch.zeros(2, dtype=torch.int64),
    }


@pytest.mark.parametrize(
    ("change", "said"),
    [
        pytest.param({}, None, id="whole"),
        pytest.param({"sets": None}, "`sets`: Input should be a valid dict", id="sets"),
        pytest.param(
            {"format": "1"}, "`format`: Input should be a valid int", id="fmt"
        ),
        pytest.param(
            {"sets": {"train": {"size": 2}}}, "`sets.train.sha256`: Field", id="set"
        ),
        pytest.param(
            {"sets": {"train": {**_good_record()["sets"]["train"], "loaders": [3]}}},  # type: ignore[index]
            "`sets.train.loaders.0`: Input should be a valid list",
            id="loaders",
        ),
        pytest.param(
            {"config": {"seed": torch.tensor(1)}},
            "`config.seed`: input was not a valid JSON value",
            id="tensor-in-config",
        ),
        pytest.param(
            {"train_entries": 5}, "`train_entries` is a int, not a tensor", id="train"
        ),
        pytest.param(
            {"format": 2}, "its lightsplit record has format 2, and this", id="format"
        ),
    ],
)
@pytest.mark.parametrize("as_json", [False, True])
def test_damaged_record(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    change: dict[str, object],
    said: str | None,
    as_json: bool,
) -> None:
    """A record damaged, or of another layout, is said to be so (exit 1), naming
    what is amiss, without a traceback; a whole one reads."""
    path = tmp_path / "model.ckpt"
    torch.save(
        {"CachingDataModule": {"lightsplit_provenance": {**_good_record(), **change}}},
        path,
    )
    status = main(["provenance", str(path), *(["--json"] if as_json else [])])
    out, err = capsys.readouterr()
    if said is None:
        assert (status, err) == (0, "")
        assert "train" in out
        return
    assert status == 1
    assert err.startswith(f"lightsplit provenance: error: {path}: ")
    assert said in err


def test_unreadable_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """With ``--json``, a file that is no checkpoint gives a JSON document saying
    so on stdout (a script gets JSON), and the error on stderr."""
    path = tmp_path / "notes.ckpt"
    path.write_text("notes")
    assert main(["provenance", str(path), "--json"]) == 1
    out, err = capsys.readouterr()
    document = json.loads(out)
    assert document["checkpoint"] == str(path)
    assert document["ok"] is False
    assert document["error"].startswith(f"{path}: is no PyTorch checkpoint")
    assert err == f"lightsplit provenance: error: {document['error']}\n"
