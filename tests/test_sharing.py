import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch
from lightsplit_testing import Entry, MemoryLoader, ThreadsLoader, entries_named

from lightsplit import CachingDataModule, Sample, SampleLoader
from lightsplit._cache import build_store
from lightsplit._datasets import CachedDataset, collate_samples
from lightsplit._sources import sources_from_splits
from lightsplit._stores import ContiguousStore

TESTS = Path(__file__).parent


def _store(count: int) -> ContiguousStore:
    source = sources_from_splits(
        {"test": [(entries_named("t", count), MemoryLoader())]}
    )
    store = build_store(source["test"])
    assert isinstance(store, ContiguousStore)
    return store


@pytest.mark.parametrize("context", ["fork", "spawn"])
def test_workers_read_the_shared_cache(context: str) -> None:
    """Workers see a change made to the cache after they started: no copy."""
    store = _store(16)
    loader = SampleLoader(
        CachedDataset(store),
        batch_size=4,
        num_workers=2,
        persistent_workers=True,
        multiprocessing_context=context,
        collate_fn=collate_samples,
    )
    before = torch.cat([batch.input for batch in loader])
    store.inputs.add_(1000)
    after = torch.cat([batch.input for batch in loader])
    assert torch.equal(after, before + 1000)


class PidLoader(MemoryLoader):
    """Records in each sample's metadata the process that loaded it."""

    def sample(self, raw: Entry) -> Sample:
        """Return the sample of ``raw`` with ``pid`` metadata."""
        sample = super().sample(raw)
        return Sample(sample.input, {**sample.metadata, "pid": os.getpid()})


@pytest.mark.parametrize("workers", [1, 2])
def test_build_processes_use_one_thread(workers: int) -> None:
    """Every process that loads samples uses one intra-op thread, this one included."""
    source = sources_from_splits({"test": [(entries_named("t", 64), ThreadsLoader())]})
    threads = torch.get_num_threads()
    store = build_store(source["test"], workers=workers)
    assert set(store.gather(range(64)).metadata["threads"].tolist()) == {1}
    assert torch.get_num_threads() == threads


@pytest.mark.parametrize("workers", [2, 3])
def test_parallel_build_decodes_here_and_in_build_processes(workers: int) -> None:
    """``workers`` processes decode, this one among them; every sample once."""
    source = sources_from_splits({"test": [(entries_named("t", 400), PidLoader())]})
    store = build_store(source["test"], workers=workers)
    pids = store.gather(range(400)).metadata["pid"].tolist()
    assert os.getpid() in pids
    assert 1 < len(set(pids)) <= workers
    assert store.gather(range(400)).metadata["name"] == [f"t{i}" for i in range(400)]


def test_build_in_one_process_when_workers_is_one() -> None:
    """One loading process is this one: no build process is started for it."""
    source = sources_from_splits({"test": [(entries_named("t", 50), PidLoader())]})
    store = build_store(source["test"], workers=1)
    assert set(store.gather(range(50)).metadata["pid"].tolist()) == {os.getpid()}


def test_open_files_do_not_grow_with_samples() -> None:
    """The cache holds a fixed number of descriptors, whatever its size."""
    fds = Path("/proc/self/fd")
    if not fds.is_dir():
        pytest.skip("needs /proc")
    before = len(os.listdir(fds))
    stores = [_store(5000), _store(10)]
    during = len(os.listdir(fds))
    assert during - before <= 2 * 4
    assert len(stores[0]) == 5000


def test_cached_epoch_with_workers_under_256_open_files(tmp_path: Path) -> None:
    """4,096 cached samples, built and served with 2 workers, under 256 open files."""
    script = textwrap.dedent(
        f"""
        import resource, sys
        sys.path.insert(0, {str(TESTS)!r})
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))
        from lightsplit_testing import MemoryLoader, entries_named
        from lightsplit import CachingDataModule, SampleLoader
        from lightsplit._datasets import collate_samples

        split = {{"train": entries_named("t", 4096),
                 "validation": entries_named("v", 8)}}
        module = CachingDataModule(split, MemoryLoader(), cache_samples=True,
                                   parallel=2, batch_size=64)
        module.setup("fit")
        served = sum(len(b.input) for b in module.train_dataloader())
        train = module.train_dataloader()
        workers = SampleLoader(train.dataset, batch_size=64, shuffle=True,
                               num_workers=2, collate_fn=collate_samples)
        names = [name for b in workers for name in b.metadata["name"]]
        assert served == 4096 and sorted(names) == sorted(n for n, _ in split["train"])
        print("ok", served, len(names))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["ok", "4096", "4096"]


def test_cached_sets_are_served_in_process() -> None:
    """Cached sets are gathered in the main process: workers would only add copies."""
    module = CachingDataModule(
        {"train": entries_named("t", 8)}, MemoryLoader(), cache_samples=True, parallel=2
    )
    assert module.train_dataloader().num_workers == 0
