import pytest
import torch
from lightsplit_testing import Entry, MemoryLoader, entries_named

from lightsplit import CacheMemoryError, CachingDataModule, Sample
from lightsplit._cache import build_store
from lightsplit._sources import SetSource, sources_from_splits
from lightsplit._stores import ContiguousStore, RaggedStore


def _source(entries: list[Entry], loader: MemoryLoader | None = None) -> SetSource:
    return sources_from_splits({"test": [(entries, loader or MemoryLoader())]})["test"]


class HugeLoader(MemoryLoader):
    """Claims one TiB per sample, without allocating it."""

    def sample(self, raw: Entry) -> Sample:
        return Sample(torch.zeros(1, dtype=torch.uint8).expand(2**40), {"name": raw[0]})


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

    def test_ragged(self) -> None:
        """Samples of different shapes fall back to the ragged store."""
        loader = MemoryLoader(shapes={"t2": (5,)})
        store = build_store(_source(entries_named("t", 4), loader), workers=2)
        assert isinstance(store, RaggedStore)
        assert store.get(2).input.shape == (5,)
        assert store.get(3).input.shape == (2, 3)
        assert store.get(3).metadata == {"label": 1, "name": "t3", "weight": 1.5}

    def test_get_returns_copies(self) -> None:
        """Changing a served sample does not change the cache."""
        store = build_store(_source(entries_named("t", 2)))
        store.get(1).input.zero_()
        store.gather([1]).input.zero_()
        assert store.get(1).input.max() == 1


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
