import json
import subprocess
import sys
from pathlib import Path

import pytest

DDP_FIT = Path(__file__).parent / "ddp_fit.py"


@pytest.fixture(scope="module")
def ddp_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two real 2-process DDP fits on CPU (gloo), run side by side."""
    outs = {
        mode: tmp_path_factory.mktemp(mode) for mode in ("plain", "balanced", "node")
    }
    runs = {
        mode: subprocess.Popen(
            [sys.executable, str(DDP_FIT), str(out), mode],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for mode, out in outs.items()
    }
    for mode, run in runs.items():
        output, _ = run.communicate(timeout=240)
        assert run.returncode == 0, f"{mode}: {output[-3000:]}"
    return outs


def _ranks(out: Path) -> list[list[dict[str, list[str]]]]:
    return [json.loads((out / f"rank{rank}.json").read_text()) for rank in (0, 1)]


def test_each_training_sample_once_per_epoch(ddp_runs: dict[str, Path]) -> None:
    """Shuffled training serves every sample exactly once per epoch across ranks."""
    rank0, rank1 = _ranks(ddp_runs["plain"])
    expected = sorted(f"t{index}" for index in range(200))
    for epoch in range(2):
        assert sorted(rank0[epoch]["train"] + rank1[epoch]["train"]) == expected
        assert len(rank0[epoch]["train"]) == len(rank1[epoch]["train"]) == 100
    assert rank0[0]["train"] != rank0[1]["train"]


def test_validation_sharded(ddp_runs: dict[str, Path]) -> None:
    """An odd validation set is split across ranks, no sample lost, its first
    repeated once to even the shards (as Lightning's own sampler does)."""
    for mode in ("plain", "balanced"):
        rank0, rank1 = _ranks(ddp_runs[mode])
        for epoch in range(2):
            assert len(rank0[epoch]["validation"]) == len(rank1[epoch]["validation"])
            served = rank0[epoch]["validation"] + rank1[epoch]["validation"]
            assert sorted(served) == sorted(["v0", *(f"v{i}" for i in range(7))])


def test_evaluation_sets_take_equal_steps(ddp_runs: dict[str, Path]) -> None:
    """Each evaluation set takes as many steps on every rank, with batches of
    one size (the fit gathers per-sample values across ranks at each step): a
    set that does not divide among the ranks (21 samples) repeats its first
    sample, and one smaller than the ranks is served to each."""
    rank0, rank1 = _ranks(ddp_runs["plain"])
    for epoch in range(2):
        odd = [rank0[epoch]["monitor-odd"], rank1[epoch]["monitor-odd"]]
        assert [len(served) for served in odd] == [11, 11]
        assert sorted(set(odd[0] + odd[1])) == sorted(f"o{i}" for i in range(21))
        assert odd[1][-1] == "o0"  # the one repeat: the first sample
        assert rank0[epoch]["monitor-tiny"] == rank1[epoch]["monitor-tiny"] == ["m0"]


def test_monitor_train_served_whole(ddp_runs: dict[str, Path]) -> None:
    """`monitor-train`, served from the cache of `train`, gives every sample."""
    for mode in ("plain", "node"):
        rank0, rank1 = _ranks(ddp_runs[mode])
        for epoch in range(2):
            served = rank0[epoch]["monitor-train"] + rank1[epoch]["monitor-train"]
            assert sorted(served) == sorted(f"t{index}" for index in range(200))


def test_balanced_sampler_sharded(ddp_runs: dict[str, Path]) -> None:
    """Balanced draws are split across ranks and stay balanced."""
    rank0, rank1 = _ranks(ddp_runs["balanced"])
    labels: list[str] = []
    for epoch in range(2):
        assert len(rank0[epoch]["train"]) == len(rank1[epoch]["train"]) == 100
        assert rank0[epoch]["train"] != rank1[epoch]["train"]
        labels += rank0[epoch]["labels"] + rank1[epoch]["labels"]
    assert 0.4 < labels.count("1") / len(labels) < 0.6


def test_cache_built_once_per_node(ddp_runs: dict[str, Path]) -> None:
    """Ranks map the cache files one process wrote, instead of each decoding."""
    for out in ddp_runs.values():
        logs = list(out.glob("loads-*.txt"))
        assert len(logs) == 1
        assert len(logs[0].read_text().split()) == 229  # 200 + 7 + 21 + 1


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="needs /proc")
def test_in_memory_cache_shared_by_the_node(ddp_runs: dict[str, Path]) -> None:
    """Without `cache_dir`, both ranks map one copy of each set, removed already."""
    maps = [
        json.loads((ddp_runs["node"] / f"maps{rank}.json").read_text())
        for rank in (0, 1)
    ]
    assert maps[0] == maps[1]
    # train (which monitor-train repeats: no second copy), validation, and the
    # two other monitor sets
    assert len(maps[0]) == 4
    assert all(name.endswith("(deleted)") for name in maps[0])
    folders = {Path(name.split()[0]).parent for name in maps[0]}
    assert all(not folder.exists() for folder in folders)
