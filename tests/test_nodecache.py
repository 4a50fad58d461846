"""Node caches left by killed runs are removed; those of live runs are kept."""

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from lightsplit_testing import Entry, MemoryLoader, entries_named

from lightsplit import (
    CacheMemoryError,
    CachingDataModule,
    LightsplitWarning,
    NodeCacheError,
    Sample,
    SampleLoadError,
)
from lightsplit._nodecache import (
    NodeCache,
    node_cache_root,
    open_on_node,
    remove_stale_folders,
)
from lightsplit._setup import _sweep_node
from lightsplit._sources import SetSource


class HugeLoader(MemoryLoader):
    """Claims one TiB per sample, without allocating it."""

    def sample(self, raw: Entry) -> Sample:
        """Return a sample that looks one TiB large."""
        return Sample(torch.zeros(1, dtype=torch.uint8).expand(2**40), {})


def _folder(root: Path, name: str, owner: int | None, *, age_s: float = 0) -> Path:
    folder = root / f"lightsplit-node-cache-{os.getuid()}-{name}-0"
    folder.mkdir()
    (folder / "train.lscache").write_bytes(b"x" * 100)
    if owner is not None:
        (folder / "owner").write_text(str(owner))
    stamp = time.time() - age_s
    os.utime(folder, (stamp, stamp))
    return folder


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_folders_of_dead_owners_are_removed(tmp_path: Path) -> None:
    """A killed run's folder goes; a live one's, and one being claimed, stay."""
    dead = _folder(tmp_path, "dead", _dead_pid())
    live = _folder(tmp_path, "live", os.getpid())
    claiming = _folder(tmp_path, "claiming", None)
    abandoned = _folder(tmp_path, "abandoned", None, age_s=3600)
    other = tmp_path / f"lightsplit-node-cache-{os.getuid() + 1}-x-0"  # another user
    other.mkdir()
    removed = remove_stale_folders(tmp_path)
    assert sorted(removed) == sorted([dead, abandoned])
    assert not dead.exists()
    assert not abandoned.exists()
    assert live.exists()
    assert claiming.exists()
    assert other.exists()


def test_root_is_shared_memory_when_there_is_some() -> None:
    """Node caches go to /dev/shm where it exists: memory, not a disk."""
    root = node_cache_root()
    if Path("/dev/shm").is_dir():
        assert root == Path("/dev/shm")
    assert root.is_dir()


NODE_KILL = Path(__file__).parent / "node_kill.py"


def _node_folders() -> set[Path]:
    return set(node_cache_root().glob(f"lightsplit-node-cache-{os.getuid()}-*"))


def test_killed_run_leaves_nothing_after_the_next() -> None:
    """A run killed while building leaves its folder; the next run's sweep ends it."""
    before = _node_folders()
    run = subprocess.Popen(
        [sys.executable, str(NODE_KILL)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        run.communicate(timeout=180)
    finally:  # the second process, should it wait for the first forever
        with contextlib.suppress(ProcessLookupError):
            os.killpg(run.pid, signal.SIGKILL)
    assert run.returncode != 0
    left = _node_folders() - before
    assert len(left) == 1  # the killed owner's folder, with its half-built file
    remove_stale_folders()
    assert not any(folder.exists() for folder in left)


def test_process_alone_sweeps_stale_node_caches() -> None:
    """A run that caches alone, not under DDP, also removes the node caches of
    killed runs, whose files hold memory until then."""
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    stale = node_cache_root() / f"lightsplit-node-cache-{os.getuid()}-stale-0"
    stale.mkdir()
    (stale / "owner").write_text(dead.stdout.strip())  # a process gone
    (stale / "train.lscache").write_bytes(b"\0" * 4096)
    _sweep_node.cache_clear()  # once per process: this test's process again
    module = CachingDataModule(
        {"test": entries_named("t", 4)}, MemoryLoader(), cache_samples=True
    )
    module.setup("test")
    assert not stale.exists()


def test_node_cache_must_fit_in_memory(tmp_path: Path) -> None:
    """The node's cache lives in shared memory: too large a set is refused."""
    source = SetSource("train", ((entries_named("t", 1000), HugeLoader()),))
    cache = NodeCache(tmp_path, owner=True, workers=0)
    with pytest.raises(CacheMemoryError, match=r"caching needs about 1000\.0 TiB"):
        cache.store(source, [])
    assert list(tmp_path.iterdir()) == []


class _OwnLoader(MemoryLoader):
    """A loader whose fingerprint is each process's own."""

    fingerprint = "another process"


def test_node_cache_keyed_otherwise_in_another_process(tmp_path: Path) -> None:
    """A process whose loader is fingerprinted otherwise than the caching
    process's finds no file under its key: it says so, and how to fix it (it
    failed to open a file of shared memory, and the caching process then lost
    its peer)."""
    NodeCache(tmp_path, owner=True, workers=0).store(
        SetSource("train", ((entries_named("t", 4), MemoryLoader()),)), []
    )
    other = SetSource("train", ((entries_named("t", 4), _OwnLoader()),))
    with pytest.raises(NodeCacheError) as exc_info:
        NodeCache(tmp_path, owner=False, workers=0).store(other, [])
    assert str(exc_info.value).startswith(
        "set `train`: this process keys its cache otherwise than the process that "
        "cached it for the node (local rank 0)"
    )
    assert isinstance(exc_info.value.__cause__, FileNotFoundError)


class _PeersGone:
    """The strategy once the other processes are gone: collectives fail."""

    def broadcast(self, value: str) -> str:
        return value

    def reduce_boolean_decision(self, decision: bool, all: bool = True) -> bool:  # noqa: A002 - Lightning's signature
        msg = "Connection closed by peer"
        raise RuntimeError(msg)


def test_interrupted_owner_says_so_and_leaves_nothing(tmp_path: Path) -> None:
    """Ctrl-C stops every process of a node at once: the caching process raises
    its KeyboardInterrupt (not the failed collective's error of the peers it
    lost) and removes its folder of shared memory."""
    source = SetSource("train", ((entries_named("t", 4), MemoryLoader()),))
    before = set(node_cache_root().glob("lightsplit-node-cache-*"))

    def interrupted(source: SetSource, cache: NodeCache | None) -> str:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        open_on_node(
            _PeersGone(),  # type: ignore[arg-type]  # a strategy's part
            local_rank=0,
            node_rank=0,
            workers=1,
            sources={"train": source},
            open_set=interrupted,
        )
    assert set(node_cache_root().glob("lightsplit-node-cache-*")) == before


class _OtherProcess:
    """The strategy as a process other than a node's first sees it: every
    process reports ``ready`` and whether ``failed``."""

    def __init__(self, *, ready: bool, failed: bool) -> None:
        self.ready, self.failed = ready, failed

    def broadcast(self, value: str) -> str:
        return value

    def reduce_boolean_decision(self, decision: bool, all: bool = True) -> bool:  # noqa: A002 - Lightning's signature
        return (decision and self.ready) if all else (decision or self.failed)

    def barrier(self, name: str | None = None) -> None:
        pass


@pytest.mark.parametrize("failed", [True, False])
def test_other_processes_when_the_node_cache_is_not_made(failed: bool) -> None:
    """When the node's first process failed (a loader's root missing, say), the
    others stop, saying its error says why, without loading the sets to meet
    it again; when it could not write the cache (no room), they warn and cache
    their own copy, as the message says."""
    source = SetSource("train", ((entries_named("t", 4), MemoryLoader()),))
    opened: list[str] = []

    def open_set(source: SetSource, cache: NodeCache | None) -> str:
        opened.append(source.name)
        return source.name

    def run() -> dict[str, str]:
        return open_on_node(
            _OtherProcess(ready=False, failed=failed),  # type: ignore[arg-type]  # a strategy's part
            local_rank=1,
            node_rank=0,
            workers=1,
            sources={"train": source},
            open_set=open_set,
        )

    if failed:
        with pytest.raises(NodeCacheError) as exc_info:
            run()
        assert str(exc_info.value) == (
            "node 0: a process caching the sets train for its node (local rank 0, "
            "of this node or another) failed; its error says why"
        )
        assert opened == []
        return
    with pytest.warns(LightsplitWarning, match="could not be cached once"):
        assert run() == {"train": "train"}


class _Node(_OtherProcess):
    """The strategy of a node's first process, whose peer runs while it waits
    at the barrier: collectives say every process failed (the first did)."""

    def __init__(self, peer: Callable[[], None]) -> None:
        super().__init__(ready=False, failed=True)
        self.peer = peer

    def broadcast(self, value: str) -> str:
        return "0123456789abcdef"  # every process gets the first's token

    def barrier(self, name: str | None = None) -> None:
        self.peer()


def test_other_processes_quote_the_caching_process_error() -> None:
    """When the node's caching process fails on a sample, the node's other
    processes raise a `NodeCacheError` that quotes its error: under `ddp_spawn`
    the launcher shows whichever process fails first, often one of those."""
    source = SetSource("train", ((entries_named("t", 4), MemoryLoader()),))
    raised: list[BaseException] = []

    def failing(source: SetSource, cache: NodeCache | None) -> str:
        msg = "set `train`: entry 3 failed to load: No such file"
        raise SampleLoadError(msg)

    def peer() -> None:
        with pytest.raises(NodeCacheError) as exc_info:
            open_on_node(
                _Node(lambda: None),  # type: ignore[arg-type]  # a strategy's part
                local_rank=1,
                node_rank=0,
                workers=1,
                sources={"train": source},
                open_set=failing,
            )
        raised.append(exc_info.value)

    with pytest.raises(SampleLoadError):
        open_on_node(
            _Node(peer),  # type: ignore[arg-type]  # a strategy's part
            local_rank=0,
            node_rank=0,
            workers=1,
            sources={"train": source},
            open_set=failing,
        )
    assert [str(error) for error in raised] == [
        "node 0: the process caching the sets train for the node (local rank 0) "
        "failed: SampleLoadError: set `train`: entry 3 failed to load: No such file"
    ]
