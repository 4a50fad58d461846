"""A data module warns about files its sets share, or list twice, when built."""

import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from lightsplit_testing import Entry, MemoryLoader

from lightsplit import (
    CachingDataModule,
    ConcatDataModule,
    ImageFileLoader,
    ImageMaskLoader,
    LightsplitWarning,
    MappingLoader,
    RawDataLoader,
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
        '0] and validation.1 ["./a/2.png", 0]; the results of the later set are '
        "not held out: "
        "remove each from one of them, or, to evaluate on training entries on "
        "purpose, name the set `monitor-<name>` (`lightsplit check` reports them "
        "too)"
    ]


def test_file_twice_in_a_set() -> None:
    """A file listed twice in a set is served twice an epoch, counted twice."""
    split = {"train": [*_entries("a", 3), ("a/0.png", 0), ("a//0.png", 0)]}
    assert _said(split) == [
        '1 file is listed again in the same set: train.0 ["a/0.png", 0] and '
        'train.3, train.4 ["a//0.png", 0]; each is served as often as it is '
        "listed, and counts as many times in a metric; list each once, unless it "
        "is meant so (`lightsplit check` reports them too)"
    ]


def test_file_with_another_label_shown() -> None:
    """The same file with another label shows both entries, in two sets or in
    one: the conflict is seen, not only the place."""
    split = {
        "train": [("x.png", 0), ("y.png", 1), ("y.png", 0)],
        "test": [("x.png", 1)],
    }
    shared, repeated = _said(split)
    assert shared.startswith(
        '1 file is in two of `train`, `validation` and `test`: train.0 ["x.png", '
        '0] and test.0 ["x.png", 1]; '
    )
    assert repeated.startswith(
        '1 file is listed again in the same set: train.1 ["y.png", 1] and '
        'train.2 ["y.png", 0]; '
    )


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
    folder (an equal ``root``) share files."""
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
        '"p1/2.png", 0] and test.1 ["P1", "./p1/2.png", 0];'
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


class _DictLoader:
    """Loads entries into mappings, from its ``root`` (for `MappingLoader`)."""

    def __init__(self, root: str) -> None:
        self.root = root

    def sample(self, raw: Entry) -> dict[str, object]:
        return {"image": torch.zeros(1), "name": raw[0]}

    def target(self, raw: Entry) -> int:
        return raw[1]


class _FolderLoader(MemoryLoader):
    """A loader of the user's, whose folder is no ``root``."""

    def __init__(self, folder: str | Path, *, mode: str = "L") -> None:
        self.folder = folder
        self.mode = mode


class _Wrapper:
    """A loader of the user's, wrapping another under a name of its own."""

    def __init__(self, inner: MemoryLoader) -> None:
        self.inner = inner

    def sample(self, raw: Entry) -> Sample:
        return self.inner.sample(raw)

    def target(self, raw: Entry) -> int:
        return self.inner.target(raw)


def _parts_said(train: RawDataLoader[Any], other: RawDataLoader[Any]) -> list[str]:
    """Build a data module of one set of entries per loader; return its warnings."""
    entries = [("CXR_png/0.png", 0), ("CXR_png/1.png", 1)]
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        ConcatDataModule({"train": [(entries, train)], "test": [(entries, other)]})
    return [str(w.message) for w in seen if w.category is LightsplitWarning]


_SHARED = "2 files are in two of `train`, `validation` and `test`: train.0"


@pytest.mark.parametrize(
    ("make", "database"),
    [
        pytest.param(
            lambda root: MappingLoader(_DictLoader(root)), "/data/x", id="wrapped"
        ),
        pytest.param(_FolderLoader, "/data/x", id="folder"),
        pytest.param(lambda root: _FolderLoader(Path(root)), "x", id="path-object"),
        pytest.param(_FolderLoader, "x", id="folder-named"),
        pytest.param(
            lambda root: _Wrapper(_FolderLoader(root)), "/data/x", id="wrapped-own"
        ),
    ],
)
def test_databases_apart_by_any_folder(
    make: Callable[[str], RawDataLoader[Any]], database: str
) -> None:
    """Loaders whose folder is no ``root`` of theirs (a `MappingLoader`'s is
    the wrapped loader's; a loader of the user's may call it ``folder``) read
    two databases where their folders differ, one where they are the same."""
    other = database.replace("x", "y")
    assert _parts_said(make(database), make(other)) == []
    said = _parts_said(make(database), make(database))
    assert len(said) == 1
    assert said[0].startswith(_SHARED)


def test_one_loader_other_settings_compared() -> None:
    """Loaders of one folder with other settings (not folders: a mode) read the
    same files; so does one loader for all sets."""
    said = _parts_said(_FolderLoader("x", mode="L"), _FolderLoader("x", mode="RGB"))
    assert len(said) == 1
    assert said[0].startswith(_SHARED)
    loader = _Wrapper(MemoryLoader())
    assert len(_parts_said(loader, loader)) == 1


def test_one_folder_written_two_ways(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A folder written relative to the current one, or in full, or through a
    link, is one, whether it exists or not; a loader derived from one of
    lightsplit's reads its files as it does, and each of lightsplit's reads
    ``root/path``."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")

    class Augmenting(ImageFileLoader):
        pass

    for first, second in [
        (ImageFileLoader("data"), ImageFileLoader(tmp_path / "data")),
        (ImageFileLoader("./data/"), ImageFileLoader(f"{tmp_path}/x/../data")),
        (ImageFileLoader("link"), ImageFileLoader(tmp_path / "real")),
        (ImageFileLoader("data"), Augmenting("data")),
    ]:
        said = _parts_said(first, second)
        assert len(said) == 1, (first, second)
        assert said[0].startswith(_SHARED)
    assert _parts_said(ImageFileLoader("data"), Augmenting("other")) == []
    masked = [("CXR_png/1.png", "masks/1.png")]
    with pytest.warns(LightsplitWarning, match="1 file is in two of"):
        ConcatDataModule(
            {
                "train": [([("CXR_png/1.png", 1)], ImageFileLoader("data"))],
                "test": [(masked, ImageMaskLoader(tmp_path / "data"))],
            }
        )


@pytest.mark.parametrize(
    ("train", "test"),
    [
        pytest.param(
            [("F", f"mdb{i:03d}.pgm", i % 2) for i in range(4)],
            [("M", "mdb002.pgm", 0), ("M", "MDB009.PGM", 0)],
            id="pgm",
        ),
        pytest.param(
            [("site.A", f"s{i}.jp2", i % 2) for i in range(4)],
            [("site.A", "s2.jp2", 0), ("site.B", "s9.jp2", 0)],
            id="jp2",
        ),
        pytest.param(
            [("P1", f"slide{i}.mrxs", i % 2) for i in range(4)],
            [("P1", "slide2.mrxs", 0), ("P1", "slide9.mrxs", 0)],
            id="mrxs",
        ),
        pytest.param(
            [("P1", f"slide{i}.iSyntax", i % 2) for i in range(4)],
            [("P1", "slide2.iSyntax", 0), ("P1", "slide9.iSyntax", 0)],
            id="isyntax",
        ),
        pytest.param(
            [("US", f"clip{i}.mov", i % 2) for i in range(4)],
            [("US", "clip2.mov", 0), ("US", "clip9.mov", 0)],
            id="mov",
        ),
    ],
)
def test_rows_of_folderless_files(
    train: list[tuple[str, str, int]], test: list[tuple[str, str, int]]
) -> None:
    """A table's rows whose file has no folder (MIAS's ``["F", "mdb001.pgm",
    0]``) are told by their file, of any image suffix, not by the first
    string (nor a label ``site.A``): no repeats, one file in two sets."""

    class RowLoader:
        def sample(self, raw: tuple[str, str, int]) -> Sample:
            return Sample(torch.zeros(1), {})

        def target(self, raw: tuple[str, str, int]) -> int:
            return raw[2]

    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        CachingDataModule({"train": train, "test": test}, RowLoader())
    said = [str(w.message) for w in seen if w.category is LightsplitWarning]
    assert len(said) == 1
    first, other = train[2], test[0]
    shown = "" if other == first else f' ["{other[0]}", "{other[1]}", 0]'
    assert said[0].startswith(
        f"1 file is in two of `train`, `validation` and `test`: train.2 "
        f'["{first[0]}", "{first[1]}", 0] and test.0{shown};'
    )
