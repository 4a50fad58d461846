"""A data module warns about files its sets share, or list twice, when built."""

import warnings
from pathlib import Path

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from lightsplit_testing import Entry, MemoryLoader

from lightsplit import (
    CachingDataModule,
    ConcatDataModule,
    ImageFileLoader,
    LightsplitWarning,
    Sample,
    find_leaks,
)


def _said(split: dict[str, list[Entry]]) -> list[str]:
    """Build a data module of ``split``; return its warnings."""
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        CachingDataModule(split, MemoryLoader(), batch_size=1)
    return [str(w.message) for w in seen if w.category is LightsplitWarning]


def _entries(prefix: str, count: int) -> list[Entry]:
    return [(f"{prefix}/{i}.png", i % 2) for i in range(count)]


def test_file_in_two_sets() -> None:
    """A validation image also in `train`, written another way, is named with
    both places: its results would not be held out."""
    split = {
        "train": _entries("a", 4),
        "validation": [("b/0.png", 0), ("./a/2.png", 0)],
    }
    assert _said(split) == [
        '1 file is in two of `train`, `validation` and `test`: train.2 ["a/2.png", '
        "0] and validation.1; the results of the later set are not held out: "
        "remove each from one of them, or, to evaluate on training entries on "
        "purpose, name the set `monitor-<name>` (`lightsplit check` reports them "
        "too)"
    ]


def test_file_twice_in_a_set() -> None:
    """A file listed twice in a set is served twice an epoch, counted twice."""
    split = {"train": [*_entries("a", 3), ("a/0.png", 0), ("a//0.png", 0)]}
    assert _said(split) == [
        '1 file is listed again in the same set: train.0 ["a/0.png", 0] and '
        "train.3, train.4; each is served as often as it is listed, and counts as "
        "many times in a metric; list each once, unless it is meant so "
        "(`lightsplit check` reports them too)"
    ]


def test_many_counted_first_named() -> None:
    """Many files are counted, the first three named."""
    train = _entries("a", 10)
    said = _said({"train": train, "test": train[:7]})
    assert len(said) == 1
    assert said[0].startswith("7 files are in two of")
    assert "train.2" in said[0]
    assert "train.3" not in said[0]
    assert "and 4 more" in said[0]


def test_clean_and_monitor_sets_silent() -> None:
    """Disjoint sets, and a `monitor-train` set repeating `train`, say nothing."""
    train = _entries("a", 4)
    split = {"train": train, "validation": _entries("b", 2), "monitor-train": train}
    assert _said(split) == []


def test_entries_without_paths_silent() -> None:
    """Entries that name no file (tensors, numbers) are not compared."""

    class TensorLoader:
        def sample(self, raw: tuple[torch.Tensor, int]) -> Sample:
            return Sample(raw[0], {})

        def target(self, raw: tuple[torch.Tensor, int]) -> int:
            return raw[1]

    same = [(torch.zeros(2), 0), (torch.ones(2), 1)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        CachingDataModule({"train": same, "validation": same}, TensorLoader())


def test_databases_apart(tmp_path: Path) -> None:
    """Two databases may hold the same relative path: only loaders reading one
    folder (an equal `repr`) share files."""
    first = ImageFileLoader(tmp_path / "montgomery")
    second = ImageFileLoader(tmp_path / "shenzhen")
    entries = [("CXR_png/0.png", 0), ("CXR_png/1.png", 1)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ConcatDataModule(
            {"train": [(entries, first)], "validation": [(entries, second)]}
        )
    with pytest.warns(LightsplitWarning, match="2 files are in two of"):
        ConcatDataModule(
            {
                "train": [(entries, first)],
                "validation": [(entries, ImageFileLoader(tmp_path / "montgomery"))],
            }
        )


@settings(max_examples=60, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["train", "validation", "test"]),
        st.lists(
            st.sampled_from(["a.png", "./a.png", "b.png", "c/d.png", "c//d.png"]),
            min_size=1,
            max_size=5,
        ),
        min_size=1,
    )
)
def test_as_check_finds(paths: dict[str, list[str]]) -> None:
    """The data module warns exactly where `find_leaks` (`lightsplit check`)
    finds duplicates or leaks, counting the same files."""
    split = {name: [(path, 0) for path in found] for name, found in paths.items()}
    report = find_leaks(split)
    said = _said(split)
    shared = [s for s in said if "in two of" in s]
    repeated = [s for s in said if "listed again" in s]
    assert bool(shared) == bool(report.path_leaks)
    assert bool(repeated) == bool(report.duplicates)
    if report.path_leaks:
        assert shared[0].startswith(f"{len(report.path_leaks)} file")


def test_rows_told_by_their_file() -> None:
    """A table's row (`["P0", "p0/0.png", 0]`, as `lightsplit split` keeps
    rows) is told by its image: a patient's several images are no repeats,
    nor one image leaking; the same image in two sets is one."""

    class RowLoader:
        def sample(self, raw: tuple[str, str, int]) -> Sample:
            return Sample(torch.zeros(1), {})

        def target(self, raw: tuple[str, str, int]) -> int:
            return raw[2]

    train = [(f"P{p}", f"p{p}/{i}.png", 0) for p in range(4) for i in range(3)]
    test = [("P0", "p0/9.png", 1), ("P1", "./p1/2.png", 0)]
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        CachingDataModule({"train": train, "test": test}, RowLoader())
    said = [str(w.message) for w in seen if w.category is LightsplitWarning]
    assert len(said) == 1
    assert said[0].startswith(
        '1 file is in two of `train`, `validation` and `test`: train.5 ["P1", '
        '"p1/2.png", 0] and test.1;'
    )


def test_one_loader_per_set() -> None:
    """Loaders of one class, one per set (augmenting `train` alone, say), read
    the same files: a file in both is found."""

    class Augmenting(MemoryLoader):
        def __init__(self, *, augment: bool) -> None:
            self.augment = augment

    entries = _entries("a", 4)
    with pytest.warns(LightsplitWarning, match="1 file is in two of"):
        ConcatDataModule(
            {
                "train": [(entries, Augmenting(augment=True))],
                "test": [(entries[3:], Augmenting(augment=False))],
            }
        )


def test_many_counted_few_described() -> None:
    """Many files are counted, however many; three are described."""
    train = _entries("a", 5000)
    said = _said({"train": [*train, *train[:2000]], "test": train[:3000]})
    assert [s.split(":")[0] for s in said] == [
        "3,000 files are in two of `train`, `validation` and `test`",
        "2,000 files are listed again in the same set",
    ]
    assert said[0].count("train.") == 3
    assert said[0].count("and 2997 more") == 1
