import os
import pickle
import signal
import sqlite3
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import torch
from lightsplit_testing import Entry, MemoryLoader, entries_named, mapped_file
from pydantic import ValidationError

from lightsplit import CachingDataModule, DataModuleConfig, LightsplitWarning, Sample
from lightsplit._datasets import CachedDataset
from lightsplit._fingerprint import fingerprint_of
from lightsplit._persist import _locked_temporary, _remove_stale
from lightsplit._stores import ContiguousStore


def _split(count: int = 12) -> dict[str, list[Entry]]:
    return {"train": entries_named("t", count), "test": entries_named("x", 5)}


def _module(
    cache_dir: Path,
    loader: MemoryLoader,
    split: dict[str, list[Entry]] | None = None,
    **options: object,
) -> CachingDataModule:
    options = {"batch_size": 4, **options}
    return CachingDataModule(
        split or _split(),
        loader,
        cache_samples=True,
        cache_dir=cache_dir,
        **options,  # type: ignore[arg-type]  # the tests pass valid options
    )


def _batches(module: CachingDataModule) -> list[Sample]:
    return list(module.test_dataloader()["test"]) + list(
        module.unshuffled_train_dataloader()
    )


def _same(left: list[Sample], right: list[Sample]) -> bool:
    return len(left) == len(right) and all(
        torch.equal(a.input, b.input)
        and a.input.dtype == b.input.dtype
        and a.metadata["name"] == b.metadata["name"]
        and torch.equal(a.metadata["label"], b.metadata["label"])
        and torch.equal(a.metadata["weight"], b.metadata["weight"])
        for a, b in zip(left, right, strict=True)
    )


def _files(cache_dir: Path) -> list[Path]:
    return sorted(cache_dir.glob("*.lscache"))


@dataclass
class OtherLoader(MemoryLoader):
    """Same samples as ``MemoryLoader``, another class."""


@dataclass
class VersionedLoader(MemoryLoader):
    """Declares its version."""

    fingerprint: str = "v1"


class TestPersistentCache:
    def test_pickled_as_its_files(self, tmp_path: Path) -> None:
        """A data module whose sets are mapped from `cache_dir` pickles them as
        their files (as `ddp_spawn` pickles it for each process, which copied
        the cache into shared memory); unpickled, it maps them and serves the
        same batches."""
        split = {"train": entries_named("t", 256), "test": entries_named("x", 64)}
        shapes = {name: (64, 64) for entries in split.values() for name, _ in entries}
        module = _module(tmp_path, MemoryLoader(shapes=shapes), split)
        module.setup("predict")
        cached = sum(path.stat().st_size for path in _files(tmp_path))
        pickled = pickle.dumps(module)
        assert len(pickled) < cached / 8  # 320 samples of 16 KiB: 5 MiB
        again: CachingDataModule = pickle.loads(pickled)
        assert _same(_batches(again), _batches(module))

    def test_reused(self, tmp_path: Path) -> None:
        """A second run maps the files instead of loading, and serves the same."""
        first_loads: list[str] = []
        first = _module(tmp_path, MemoryLoader(loaded=first_loads))
        first.setup("predict")
        assert len(first_loads) == 17
        assert len(_files(tmp_path)) == 2
        second_loads: list[str] = []
        second = _module(tmp_path, MemoryLoader(loaded=second_loads))
        second.setup("predict")
        assert second_loads == []
        assert _same(_batches(first), _batches(second))
        assert _same(
            _batches(second), _batches(_module(tmp_path / "new", MemoryLoader()))
        )

    def test_repeated_set_maps_the_file_of_its_twin(self, tmp_path: Path) -> None:
        """`monitor-train`, the entries and loader of `train`, maps the file of
        `train` when it has none of its own: a run that validates alone, after
        one that fit, decodes nothing again and writes no second file (each
        was a second copy of the training set on disk)."""
        train = entries_named("t", 12)
        split = {"train": train, "validation": entries_named("v", 3)}
        split["monitor-train"] = train
        first_loads: list[str] = []
        fitted = _module(tmp_path, MemoryLoader(loaded=first_loads), split)
        fitted.setup("fit")
        assert len(first_loads) == 15
        assert [path.name.split("-")[0] for path in _files(tmp_path)] == [
            "train",
            "validation",
        ]
        loads: list[str] = []
        validating = _module(tmp_path, MemoryLoader(loaded=loads), split)
        validating.setup("validate")
        assert loads == []
        assert len(_files(tmp_path)) == 2
        served = validating.val_dataloader()["monitor-train"]
        expected = fitted.val_dataloader()["monitor-train"]
        assert _same(list(served), list(expected))
        dataset = served.dataset
        assert isinstance(dataset, CachedDataset)
        assert dataset.name == "monitor-train"

    def test_parallel_build_into_the_file(self, tmp_path: Path) -> None:
        """Two build processes write the file; it serves what one process would."""
        built = _module(tmp_path / "two", MemoryLoader(), parallel=2)
        built.setup("predict")
        assert _same(
            _batches(built), _batches(_module(tmp_path / "one", MemoryLoader()))
        )
        loads: list[str] = []
        _module(tmp_path / "two", MemoryLoader(loaded=loads), parallel=2).setup(
            "predict"
        )
        assert loads == []

    def test_requires_cache_samples(self, tmp_path: Path) -> None:
        """A cache folder without caching is refused."""
        with pytest.raises(ValidationError) as exc_info:
            DataModuleConfig(cache_dir=tmp_path)
        [error] = exc_info.value.errors(include_url=False)
        assert error["type"] == "cache_dir_unused"

    @pytest.mark.parametrize(
        "change",
        [
            "entries",
            "loader-class",
            "loader-fingerprint",
            "loader-settings",
            "transforms",
        ],
    )
    def test_invalidated_by_each_part_of_the_key(
        self, tmp_path: Path, change: str
    ) -> None:
        """Changing entries, loader or transforms rebuilds; the rest is reused."""
        base = VersionedLoader()
        _module(tmp_path, base, model_transforms=[lambda x: x + 1]).setup("test")
        loads: list[str] = []
        loader: MemoryLoader = VersionedLoader(loaded=loads)
        split = _split()
        transforms = [lambda x: x + 1]
        if change == "entries":
            split["test"] = [*split["test"], ("x9", 1)]
        elif change == "loader-class":
            loader = OtherLoader(loaded=loads)
        elif change == "loader-fingerprint":
            loader = VersionedLoader(loaded=loads, fingerprint="v2")
        elif change == "loader-settings":
            loader = VersionedLoader(loaded=loads, dtype=torch.float64)
        else:
            transforms = [lambda x: x + 2]
        module = _module(tmp_path, loader, split, model_transforms=transforms)
        module.setup("test")
        assert len(loads) == len(split["test"])
        assert len(_files(tmp_path)) == 2

    def test_same_key_is_reused_with_transforms(self, tmp_path: Path) -> None:
        """Equal lambdas, loaders and entries give the same key."""
        _module(tmp_path, VersionedLoader(), model_transforms=[lambda x: x + 1]).setup(
            "test"
        )
        loads: list[str] = []
        module = _module(
            tmp_path, VersionedLoader(loaded=loads), model_transforms=[lambda x: x + 1]
        )
        module.setup("test")
        assert loads == []

    @pytest.mark.parametrize(
        "damage",
        [
            "truncate",
            "flip-data",
            "flip-metadata",
            "garbage",
            "format",
            "key",
            "header-name",
        ],
    )
    def test_damaged_file_is_rebuilt(self, tmp_path: Path, damage: str) -> None:
        """A truncated or corrupted file is detected, rebuilt, and never served."""
        expected = _batches(_module(tmp_path / "clean", MemoryLoader()))
        _module(tmp_path, MemoryLoader()).setup("test")
        [path] = _files(tmp_path)
        data = bytearray(path.read_bytes())
        if damage == "truncate":
            data = data[: len(data) - 7]
        elif damage == "flip-data":
            data[4096 + 5] ^= 0x10
        elif damage == "flip-metadata":
            data[-3] ^= 0x01
        elif damage == "format":
            data = data.replace(b'"format": 1', b'"format": 9', 1)
        elif damage == "key":
            data = data.replace(b'"key": "', b'"key": "#', 1).replace(
                b', "set"', b'"set"', 1
            )
        elif damage == "header-name":  # a bit flipped in a name of the header
            data = data.replace(b'"file_size"', b'"fime_size"', 1)
        else:
            data[:16] = b"not a cache file"
        path.write_bytes(bytes(data))
        loads: list[str] = []
        module = _module(tmp_path, MemoryLoader(loaded=loads))
        with pytest.warns(LightsplitWarning, match=r"is damaged \(.*\); rebuilding it"):
            module.setup("test")
        assert len(loads) == 5
        assert _same(_batches(module), expected)
        assert len(path.read_bytes()) > len(data) - 8

    def test_killed_build_leaves_no_cache(self, tmp_path: Path) -> None:
        """A build killed midway leaves no file that a later run uses."""
        script = f"""
import os, signal, sys
sys.path.insert(0, {str(Path(__file__).parent)!r})
from lightsplit_testing import MemoryLoader, entries_named
from lightsplit import CachingDataModule

class Killer(MemoryLoader):
    def sample(self, raw):
        if raw[0] == "x3":
            os.kill(os.getpid(), signal.SIGKILL)
        return super().sample(raw)

CachingDataModule({{"test": entries_named("x", 5)}}, Killer(), cache_samples=True,
                  cache_dir={str(tmp_path)!r}).setup("test")
"""
        result = subprocess.run([sys.executable, "-c", script], check=False)
        assert result.returncode == -signal.SIGKILL
        assert _files(tmp_path) == []
        assert len(list(tmp_path.glob(".*.tmp"))) == 1
        loads: list[str] = []
        module = CachingDataModule(
            {"test": entries_named("x", 5)},
            MemoryLoader(loaded=loads),
            cache_samples=True,
            cache_dir=tmp_path,
        )
        module.setup("test")
        assert len(loads) == 5
        assert list(tmp_path.glob(".*.tmp")) == []
        assert len(_files(tmp_path)) == 1

    @pytest.mark.parametrize("below", [True, False])
    def test_unwritable_folder_falls_back_to_memory(
        self, tmp_path: Path, below: bool
    ) -> None:
        """A cache folder that cannot be made is warned about; caching goes on. A
        file in its place, or above it, is named as such (not "File exists")."""
        blocker = tmp_path / "file"
        blocker.write_text("")
        module = _module(blocker / "cache" if below else blocker, MemoryLoader())
        with pytest.warns(LightsplitWarning, match="caching in memory only") as got:
            module.setup("predict")
        assert f"({blocker} is a file, not a folder)" in str(got[0].message)
        assert _same(
            _batches(module), _batches(_module(tmp_path / "ok", MemoryLoader()))
        )

    def test_metadata_json_cannot_keep(self, tmp_path: Path) -> None:
        """Metadata that JSON would change is kept in memory, with a warning."""

        class TupleLoader(MemoryLoader):
            def sample(self, raw: Entry) -> Sample:
                sample = super().sample(raw)
                return Sample(sample.input, {**sample.metadata, "box": (1, 2)})

        module = CachingDataModule(
            {"test": entries_named("x", 3)},
            TupleLoader(),
            cache_samples=True,
            cache_dir=tmp_path,
        )
        with pytest.warns(LightsplitWarning, match="JSON cannot keep exactly"):
            module.setup("test")
        batch = next(iter(module.test_dataloader()["test"]))
        assert batch.metadata["box"] == [torch.tensor([1]), torch.tensor([2])]

    def test_ragged_sets_persist(self, tmp_path: Path) -> None:
        """Sets of several shapes are written and mapped too."""
        shapes = {"x1": (4,), "x3": (1, 1)}
        first = _module(tmp_path, MemoryLoader(shapes=shapes), batch_size=1)
        first.setup("test")
        loads: list[str] = []
        second = _module(
            tmp_path, MemoryLoader(shapes=shapes, loaded=loads), batch_size=1
        )
        second.setup("test")
        assert loads == []
        left = list(first.test_dataloader()["test"])
        right = list(second.test_dataloader()["test"])
        assert [b.input.shape for b in left] == [b.input.shape for b in right]
        assert all(
            torch.equal(a.input, b.input) for a, b in zip(left, right, strict=True)
        )

    def test_served_from_the_file(self, tmp_path: Path) -> None:
        """A persistent set is served from its memory-mapped file, not a copy."""
        module = _module(tmp_path, MemoryLoader(dtype=torch.uint8))
        module.setup("test")
        dataset = module.test_dataloader()["test"].dataset
        assert isinstance(dataset, CachedDataset)
        store = dataset.store
        assert isinstance(store, ContiguousStore)
        [path] = _files(tmp_path)
        assert mapped_file(store.inputs) == path
        assert path.stat().st_size > store.inputs.nbytes
        assert os.environ.get("LIGHTSPLIT_NEVER") is None


def _loader_class(body: str) -> type[MemoryLoader]:
    namespace: dict[str, object] = {"MemoryLoader": MemoryLoader, "Sample": Sample}
    exec(  # two versions of one class, as after an edit
        f"class Edited(MemoryLoader):\n    def sample(self, raw):\n        {body}\n",
        namespace,
    )
    edited = namespace["Edited"]
    assert isinstance(edited, type)
    return edited


def test_key_follows_loader_code() -> None:
    """Editing a loader's method changes its fingerprint; the same code does not."""
    first = fingerprint_of(_loader_class("return super().sample(raw)")())
    again = fingerprint_of(_loader_class("return super().sample(raw)")())
    edited = fingerprint_of(_loader_class("return super().sample((raw[0], 0))")())
    assert first == again
    assert first != edited


class _LockedLoader:
    """A loader holding a lock and a database connection, as threaded ones do."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.labels = sqlite3.connect(":memory:")

    def sample(self, raw: Entry) -> Sample:
        return Sample(torch.zeros(1), {"name": raw[0]})

    def target(self, raw: Entry) -> int:
        return raw[1]


def test_key_of_a_lock_or_connection_is_its_type() -> None:
    """A lock or a connection shows only its address, which differs in every
    process: it counts by its type, so that every run (and every DDP process)
    finds the same cache (a new cache was written per data module, and DDP
    processes mapped a file the first had written under another key)."""
    first, second = _LockedLoader(), _LockedLoader()
    try:
        assert fingerprint_of(first) == fingerprint_of(second)
        assert "0x" not in fingerprint_of(first)
    finally:
        first.labels.close()
        second.labels.close()


def _scaled(namespace: dict[str, object]) -> object:
    """A transform that reads the module globals ``SCALE`` and ``offset``."""
    exec(  # as a module defines it
        "def offset(x):\n    return x + SHIFT\n"
        "def scale(x):\n    return offset(x) * SCALE\n",
        namespace,
    )
    return namespace["scale"]


def test_key_follows_globals_a_transform_reads() -> None:
    """A constant a transform reads, or one its helper reads, is in its key."""
    namespace: dict[str, object] = {"SCALE": 3.0, "SHIFT": 1, "torch": torch}
    transform = _scaled(namespace)
    first = fingerprint_of(transform)
    assert fingerprint_of(_scaled(dict(namespace))) == first
    for name, value in (("SCALE", 4.0), ("SHIFT", 2)):
        changed = {**namespace, name: value}
        assert fingerprint_of(_scaled(changed)) != first, name
    namespace["unread"] = 5  # a global the code does not read
    assert fingerprint_of(transform) == first


def test_key_of_a_function_reading_itself() -> None:
    """A recursive function, or one read through its own globals, has a key."""
    namespace: dict[str, object] = {}
    exec("def walk(x, n=2):\n    return x if n == 0 else walk(x, n - 1)\n", namespace)
    walk = namespace["walk"]
    assert fingerprint_of(walk) == fingerprint_of(walk)


def test_key_of_a_library_function_read() -> None:
    """Another module's function read as a global counts by its name alone."""
    namespace: dict[str, object] = {"interpolate": torch.nn.functional.interpolate}
    exec("def resize(x):\n    return interpolate(x, size=2)\n", namespace)
    key = fingerprint_of(namespace["resize"])
    assert "interpolate=torch.nn.functional.interpolate" in key
    assert key == fingerprint_of(namespace["resize"])


class Gamma(torch.nn.Module):
    """A model transform whose setting is a plain attribute."""

    def __init__(self, gamma: float) -> None:
        super().__init__()
        self.gamma = gamma
        self.register_buffer("shift", torch.zeros(3), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Raise to the power ``gamma``."""
        result: torch.Tensor = x**self.gamma
        return result


def test_key_follows_a_module_transform_state() -> None:
    """A module's plain attributes, its submodules' and every buffer are in its key."""
    first = fingerprint_of(torch.nn.Sequential(Gamma(2.0)))
    assert fingerprint_of(torch.nn.Sequential(Gamma(2.0))) == first
    assert fingerprint_of(torch.nn.Sequential(Gamma(1.0))) != first
    shifted = torch.nn.Sequential(Gamma(2.0))
    shifted[0].get_buffer("shift").add_(1)  # a buffer left out of the state dict
    assert fingerprint_of(shifted) != first


def _module_class(body: str) -> type[torch.nn.Module]:
    namespace: dict[str, object] = {"torch": torch}
    exec(  # two versions of one class, as after an edit
        f"class Edited(torch.nn.Module):\n    def forward(self, x):\n        {body}\n",
        namespace,
    )
    edited = namespace["Edited"]
    assert isinstance(edited, type)
    assert issubclass(edited, torch.nn.Module)
    return edited


def test_key_follows_a_module_transform_code() -> None:
    """Editing a module transform's ``forward`` changes its key."""
    first = fingerprint_of(_module_class("return x * 2")())
    assert fingerprint_of(_module_class("return x * 2")()) == first
    assert fingerprint_of(_module_class("return x * 10")()) != first


@dataclass
class TableLoader(MemoryLoader):
    """A loader holding a lookup table, which its ``repr`` shortens."""

    table: torch.Tensor = field(default_factory=lambda: torch.arange(5000))


class PlainTableLoader:
    """A loader without a ``repr`` of its own, holding a lookup table."""

    def __init__(self, table: object) -> None:
        self.tables = [table]


def test_key_follows_every_value_of_an_array() -> None:
    """A changed value in the middle of a large tensor or array changes the key."""
    table = torch.arange(5000)
    edited = table.clone()
    edited[2500] = -1
    first = fingerprint_of(TableLoader(table=table))
    assert fingerprint_of(TableLoader(table=table.clone())) == first
    assert fingerprint_of(TableLoader(table=edited)) != first
    assert fingerprint_of(TableLoader(table=table.to(torch.int32))) != first
    arrays = [PlainTableLoader(t.numpy()) for t in (table, table.clone(), edited)]
    assert fingerprint_of(arrays[0]) == fingerprint_of(arrays[1])
    assert fingerprint_of(arrays[0]) != fingerprint_of(arrays[2])
    assert fingerprint_of(_adding(table)) == fingerprint_of(_adding(table.clone()))
    assert fingerprint_of(_adding(table)) != fingerprint_of(_adding(edited))


def _adding(table: torch.Tensor) -> object:
    """Return a transform that captures ``table``."""
    return lambda x: x + table[0]


def test_a_live_build_keeps_its_temporary_file(tmp_path: Path) -> None:
    """Two builds of one file never share a temporary file, and a build in
    progress (its lock held) is not taken for a dead one by another process's
    clean-up, whatever its process id (containers and nodes reuse them)."""
    path = tmp_path / "train-key.lscache"
    with (
        _locked_temporary(path) as first,
        _locked_temporary(path) as second,
    ):
        assert first != second
        assert first.name.endswith(".tmp")
        assert first.exists()
        assert second.exists()
        cleaning = subprocess.run(
            [
                sys.executable,
                "-c",
                "import sys; from pathlib import Path; "
                "from lightsplit._persist import _remove_stale; "
                "_remove_stale(Path(sys.argv[1]))",
                str(tmp_path),
            ],
            check=True,
        )
        assert cleaning.returncode == 0
        assert first.exists()
        assert second.exists()
    assert list(tmp_path.iterdir()) == []
    stale = tmp_path / f".{path.name}.1-0123456789abcdef.tmp"  # its build is gone
    stale.write_bytes(b"half")
    _remove_stale(tmp_path)
    assert not stale.exists()
