import random
import subprocess
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch
from lightning.pytorch import seed_everything
from lightsplit_testing import Entry, MemoryLoader, entries_named, mapped_file
from torch import Tensor
from torch.utils.data import default_collate

from lightsplit import CacheMemoryError, CachingDataModule, Sample, SampleLoadError
from lightsplit import _memory as memory
from lightsplit._cache import build_store
from lightsplit._metadata import SpanPacker, pack_values
from lightsplit._persist import persistent_store
from lightsplit._sources import SetSource, sources_from_splits
from lightsplit._stores import (
    ContiguousStore,
    ObjectColumn,
    RaggedStore,
    TensorColumn,
)


def _source(entries: list[Entry], loader: MemoryLoader | None = None) -> SetSource:
    return sources_from_splits({"test": [(entries, loader or MemoryLoader())]})["test"]


def same(left: object, right: object) -> bool:
    """Tell whether two collated values are equal, of the same types and dtypes."""
    if isinstance(left, Tensor) and isinstance(right, Tensor):
        return left.dtype == right.dtype and torch.equal(left, right)
    if isinstance(left, list | tuple) and isinstance(right, list | tuple):
        return len(left) == len(right) and all(map(same, left, right))
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(
            same(left[k], right[k]) for k in left
        )
    return type(left) is type(right) and left == right


@dataclass
class ColumnsLoader(MemoryLoader):
    """Gives metadata of every kind a column holds; tensors of several shapes too."""

    ragged: bool = True

    def sample(self, raw: Entry) -> Sample:
        number = int(raw[0][1:])
        ragged = {"points": torch.zeros(number % 3)} if self.ragged else {}
        return Sample(
            super().sample(raw).input,
            {
                **ragged,
                "label": raw[1],
                "weight": number / 2,
                "flag": number % 3 == 0,
                "name": raw[0],
                "target": torch.tensor(raw[1]),
                "vec": torch.tensor([float(number), 1.0]),
                "strided": (torch.arange(6).view(2, 3) + number).t(),
                "empty": torch.zeros(0),
                "box": [number, 1],
                "info": {"n": number},
            },
        )


class HugeLoader(MemoryLoader):
    """Claims one TiB per sample, without allocating it."""

    def sample(self, raw: Entry) -> Sample:
        return Sample(torch.zeros(1, dtype=torch.uint8).expand(2**40), {"name": raw[0]})


class RandomLoader(MemoryLoader):
    """Draws from torch's, Python's and numpy's generators in each sample, as a
    random crop would."""

    def sample(self, raw: Entry) -> Sample:
        draws = [
            float(torch.randint(0, 2**30, ())),
            float(random.randrange(2**30)),
            float(np.random.randint(2**30)),
        ]
        return Sample(torch.tensor(draws), {"name": raw[0]})


@dataclass
class MissingLoader(MemoryLoader):
    """Fails on the entry named ``bad``, as a loader of a missing file does."""

    bad: str = ""

    def sample(self, raw: Entry) -> Sample:
        if raw[0] == self.bad:
            raise FileNotFoundError(raw[0])
        return super().sample(raw)


class TestStore:
    def test_contiguous(self) -> None:
        """Same-shape samples share one contiguous tensor in shared memory."""
        store = build_store(
            _source(entries_named("t", 5), MemoryLoader(dtype=torch.uint8))
        )
        assert isinstance(store, ContiguousStore)
        assert store.inputs.shape == (5, 2, 3)
        assert store.inputs.dtype == torch.uint8
        assert store.inputs.untyped_storage().is_shared()
        assert store.nbytes == 5 * 6 + 5 * 8 + 5 * 8

    def test_parallel_build_equals_serial(self) -> None:
        """Building in two processes gives the same store as in one."""
        source = _source(entries_named("t", 300))
        serial, parallel = build_store(source), build_store(source, workers=2)
        assert isinstance(serial, ContiguousStore)
        assert isinstance(parallel, ContiguousStore)
        assert torch.equal(serial.inputs, parallel.inputs)
        assert [serial.get(i).metadata for i in range(300)] == [
            parallel.get(i).metadata for i in range(300)
        ]

    def test_parallel_build_draws_apart(self) -> None:
        """Random draws in the loader differ between samples loaded by different
        build processes (forked alike), and repeat from build to build."""
        source = _source(entries_named("t", 300), RandomLoader())
        stores = []
        for _ in range(2):
            seed_everything(0, verbose=False)  # sample 0 loads here, unseeded
            stores.append(build_store(source, workers=2))
        first, again = stores
        assert isinstance(first, ContiguousStore)
        assert isinstance(again, ContiguousStore)
        for draws in first.inputs.unbind(1):  # each generator's draws
            assert len(set(draws.tolist())) == 300
        assert torch.equal(first.inputs, again.inputs)

    def test_parallel_build_error_keeps_its_cause(self) -> None:
        """A sample failing in a build process raises with the loader's own
        exception as its cause, as in this process."""
        source = _source(entries_named("t", 300), MissingLoader(bad="t1"))
        with pytest.raises(SampleLoadError) as exc_info:
            build_store(source, workers=2)  # sample 1: the build process's first
        assert str(exc_info.value) == (
            'set `test`, index 1, entry ["t1", 1]: FileNotFoundError: t1'
        )
        cause = exc_info.value.__cause__
        assert isinstance(cause, FileNotFoundError)
        assert cause.__notes__[0].startswith("raised in a cache build process:\n")

    def test_failed_build_frees_its_part(self) -> None:
        """A build that fails (or is interrupted) keeps no part of the cache in
        its traceback, which a notebook keeps for post-mortem debugging (it held
        up to the whole set); the loader's frame keeps its variables."""
        source = _source(entries_named("t", 40), MissingLoader(bad="t30"))
        with pytest.raises(SampleLoadError) as exc_info:
            build_store(source)
        tensors, loader_locals = [], {}
        error, cause = exc_info.value, exc_info.value.__cause__
        for raised in (error, *([] if cause is None else [cause])):
            for frame, _ in traceback.walk_tb(raised.__traceback__):
                if frame.f_code.co_name == "sample":
                    loader_locals = dict(frame.f_locals)
                tensors += [v for v in frame.f_locals.values() if isinstance(v, Tensor)]
        assert not [t for t in tensors if t.shape[:1] == (40,)]
        assert loader_locals["raw"][0] == "t30"

    def test_ragged(self) -> None:
        """Samples of different shapes fall back to the ragged store."""
        loader = MemoryLoader(shapes={"t2": (5,)})
        store = build_store(_source(entries_named("t", 4), loader), workers=2)
        assert isinstance(store, RaggedStore)
        assert store.get(2).input.shape == (5,)
        assert store.get(3).input.shape == (2, 3)
        assert store.get(3).metadata == {"label": 1, "name": "t3", "weight": 1.5}

    def test_ragged_batch_names_both_samples(self) -> None:
        """Gathering inputs of two shapes names both samples, entries and shapes."""
        loader = MemoryLoader(shapes={"t2": (5,)})
        store = build_store(_source(entries_named("t", 4), loader))
        with pytest.raises(SampleLoadError) as exc_info:
            store.gather([1, 2])
        assert str(exc_info.value) == (
            'set `test`, index 2, entry ["t2", 0]: input is (5,) torch.float32 but '
            "(2, 3) torch.float32 in the batch's first sample (set `test`, index 1, "
            'entry ["t1", 1]); add a model transform that gives every sample the same '
            "shape and dtype (or, for samples with masks, resize both in the loader: "
            "a model transform sees the input alone), or use a `batch_size` of 1"
        )

    def test_get_returns_copies(self) -> None:
        """Changing a served sample does not change the cache."""
        store = build_store(_source(entries_named("t", 2)))
        store.get(1).input.zero_()
        store.gather([1]).input.zero_()
        assert store.get(1).input.max() == 1


class TestColumns:
    @pytest.mark.parametrize("workers", [1, 2])
    def test_as_default_collate(self, workers: int) -> None:
        """Each column gets and gathers what the loader gave, collated by default."""
        entries = entries_named("m", 300)
        loader = ColumnsLoader()
        store = build_store(_source(entries, loader), workers=workers)
        for index in (0, 1, 150, 299):
            assert same(
                dict(store.get(index).metadata), loader.sample(entries[index]).metadata
            )
        indices = [0, 3, 150, 297]  # the same length of "points"
        batch = store.gather(indices).metadata
        samples = [loader.sample(entries[index]).metadata for index in indices]
        for key, values in batch.items():
            assert same(values, default_collate([s[key] for s in samples])), key

    def test_kinds(self) -> None:
        """Numbers and same-shape tensors are tensor columns; the rest objects."""
        store = build_store(_source(entries_named("m", 40), ColumnsLoader()), workers=2)
        tensors = {k for k, c in store.columns.items() if isinstance(c, TensorColumn)}
        objects = {k for k, c in store.columns.items() if isinstance(c, ObjectColumn)}
        assert tensors == {
            "label",
            "weight",
            "flag",
            "target",
            "vec",
            "strided",
            "empty",
        }
        assert objects == {"name", "points", "box", "info"}
        assert all(
            c.values.untyped_storage().is_shared()
            for c in store.columns.values()
            if isinstance(c, TensorColumn)
        )

    def test_persistent_cache_keeps_them(self, tmp_path: Path) -> None:
        """A cache file built in 2 processes serves the columns a serial build does."""
        source = _source(entries_named("m", 300), ColumnsLoader(ragged=False))
        built = persistent_store(source, (), cache_dir=tmp_path, workers=2)
        mapped = persistent_store(source, (), cache_dir=tmp_path, workers=2)
        serial = build_store(source)
        target = mapped.columns["target"]
        assert isinstance(target, TensorColumn)
        [path] = tmp_path.glob("*.lscache")
        assert mapped_file(target.values) == path
        indices = list(range(0, 300, 7))
        for store in (built, mapped):
            assert same(
                dict(store.gather(indices).metadata),
                dict(serial.gather(indices).metadata),
            )


class TestMemoryCheck:
    def test_refuses_impossible_cache(self) -> None:
        """A cache that cannot fit is refused before loading, with sizes named."""
        loaded: list[str] = []
        module = CachingDataModule(
            {"test": entries_named("t", 1000)},
            HugeLoader(loaded=loaded),
            cache_samples=True,
        )
        with pytest.raises(CacheMemoryError) as exc_info:
            module.setup("test")
        message = str(exc_info.value)
        assert message.startswith("set `test`: caching needs about 1000.0 TiB")
        assert "(1000 samples of 1.0 TiB)" in message
        assert "is available" in message
        assert isinstance(exc_info.value, MemoryError)

    def test_small_dev_shm_binds_only_files_there(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A container's 64 MiB `/dev/shm` bounds a cache in its files (a node's
        cache under DDP), not one in anonymous memory: a process alone caches
        as much as memory holds."""
        monkeypatch.setattr(memory, "_shm_free", lambda: 2**20)  # 1 MiB free
        assert (
            memory.check_cache_fits(
                "train", count=4, sample_bytes=2**20, shared_files=False
            )
            == 4 * 2**20
        )
        with pytest.raises(CacheMemoryError) as exc_info:
            memory.check_cache_fits(
                "train", count=4, sample_bytes=2**20, shared_files=True
            )
        assert str(exc_info.value).endswith(
            "is available (free space in /dev/shm); set `cache_samples=False`, add a "
            "model transform that makes samples smaller, or give the container more "
            "(`docker run --shm-size`), set `cache_dir` to cache in files"
        )
        loader = MemoryLoader(shapes={f"t{i}": (2**18,) for i in range(8)})  # 1 MiB
        module = CachingDataModule(
            {"test": entries_named("t", 8)}, loader, cache_samples=True, batch_size=8
        )
        module.setup("test")  # 8 samples of 1 MiB: more than /dev/shm has free
        [batch] = list(module.test_dataloader()["test"])
        assert batch.input.shape == (8, 2**18)


_MEMORY_SCRIPT = """
import sys
import torch
from lightsplit import Sample
from lightsplit._cache import build_store
from lightsplit._sources import sources_from_splits

def private():
    fields = {}
    with open("/proc/self/smaps_rollup") as rollup:
        for line in rollup:
            parts = line.split()
            if len(parts) == 3:
                fields[parts[0]] = int(parts[1]) * 1024
    return fields["Private_Clean:"] + fields["Private_Dirty:"]

class Decoding:
    def sample(self, raw):
        pixels = torch.randint(0, 256, (1, 256, 256), dtype=torch.uint8)
        image = pixels.to(torch.float32).div_(255)
        return Sample(image, {"target": torch.tensor(raw[1])})
    def target(self, raw):
        return raw[1]

entries = [(f"s{index}", index % 2) for index in range(512)]
source = sources_from_splits({"train": [(entries, Decoding())]})["train"]
Decoding().sample(entries[0])
before = private()
store = build_store(source, workers=int(sys.argv[1]))
store.inputs.sum()  # every page of the cache in this process
print(private() - before, store.nbytes)
"""


class TestMemoryAfterBuild:
    @pytest.mark.skipif(
        not Path("/proc/self/smaps_rollup").exists(), reason="needs Linux's smaps"
    )
    @pytest.mark.parametrize("workers", [1, 2])
    def test_holds_the_cache_and_little_else(self, workers: int) -> None:
        """After a float32 build, private memory grows by the cache and 5% at most."""
        result = subprocess.run(
            [sys.executable, "-c", _MEMORY_SCRIPT, str(workers)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stderr[-2000:]
        grown, cache = map(int, result.stdout.split())
        assert cache == 512 * 256 * 256 * 4 + 512 * 8
        assert grown <= 1.05 * cache


class TestSpanPacker:
    @pytest.mark.parametrize(
        ("kind", "values"),
        [
            pytest.param(Tensor, [torch.full((2,), n) for n in range(5)], id="same"),
            pytest.param(
                Tensor,
                [torch.zeros(2), torch.ones(2), torch.ones(3), torch.zeros(2)],
                id="other-shape",
            ),
            pytest.param(
                Tensor,
                [torch.zeros(2), torch.ones(2, dtype=torch.int64)],
                id="other-dtype",
            ),
            pytest.param(
                Tensor,
                [(torch.arange(6).view(2, 3) + n).t() for n in range(3)],
                id="strided",
            ),
            pytest.param(
                Tensor,
                [torch.ones(2, requires_grad=True) * n for n in range(3)],
                id="grad",
            ),
            pytest.param(int, [1, 2, 3], id="int"),
            pytest.param(str, ["a", "b"], id="str"),
        ],
    )
    def test_as_pack_values(self, kind: type, values: list[object]) -> None:
        """Values packed as they come pack as `pack_values` packs them at once."""
        packer = SpanPacker(kind, len(values))
        for value in values:
            packer.add(value)
        assert same(packer.packed(), pack_values(values, kind))
