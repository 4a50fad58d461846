"""One in-memory cache per node under DDP: built once, mapped by every process.

Without `cache_dir`, each process of a DDP run would decode and hold its own copy
of every cached set: N copies on a node of N GPUs. Instead, the first process of
each node (local rank 0) writes each set's cache file into a folder of shared
memory (``/dev/shm``), the other processes of the node map the same file, and
once every process has mapped it the folder is removed: the pages stay while a
process maps them, and go with the last one, crash or not.

A run killed between the build and the removal leaves a folder behind: each
folder holds its owner's process id, and a folder whose owner is gone is removed
by the next run on the node (or by `remove_stale_folders`).
"""

import contextlib
import logging
import os
import secrets
import shutil
import tempfile
import time
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final, TypeVar

from ._errors import LightsplitWarning, NodeCacheError, caller_stacklevel
from ._persist import CACHE_SUFFIX, map_cache_file, persistent_store
from ._sample import ModelTransform
from ._sources import SetSource
from ._stores import SampleStore

if TYPE_CHECKING:
    from collections.abc import Sequence

    from lightning.pytorch.strategies import Strategy

__all__ = [
    "NodeCache",
    "node_cache_root",
    "open_on_node",
    "remove_stale_folders",
]

_LOG: Final = logging.getLogger("lightsplit")
_PREFIX: Final = "lightsplit-node-cache"
_OWNER: Final = "owner"
_FAILURE: Final = "failure"
"""The caching process's error, for the node's other processes to say: under
``ddp_spawn`` the launcher shows whichever error comes first, often theirs."""
_CLAIMING_S: Final = 60.0
"""A folder without its owner's id yet is being claimed, for this long at most."""

OpenedT = TypeVar("OpenedT")


def node_cache_root() -> Path:
    """Return where node caches go: shared memory, else the temporary folder."""
    shm = Path("/dev/shm")
    if shm.is_dir() and os.access(shm, os.W_OK | os.X_OK):
        return shm
    return Path(tempfile.gettempdir())  # pragma: no cover - systems without /dev/shm


def _folders(root: Path) -> Iterable[Path]:
    return root.glob(f"{_PREFIX}-{os.getuid()}-*")


def _owner_alive(folder: Path) -> bool:
    try:
        pid = int((folder / _OWNER).read_text())
    except (OSError, ValueError):  # being claimed, or claimed and killed at once
        try:
            return time.time() - folder.stat().st_mtime < _CLAIMING_S
        except OSError:
            return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover - another user's process now
        return True
    return True


def remove_stale_folders(root: Path | None = None) -> list[Path]:
    """Remove the node-cache folders of this user whose owning process is gone.

    Returns:
        The folders removed.
    """
    removed = []
    for folder in _folders(root or node_cache_root()):
        if not _owner_alive(folder):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


@dataclass(frozen=True)
class NodeCache:
    """The node's folder of cache files, as one process of the node uses it.

    The owner (local rank 0) builds each set's file there and maps it; the
    other processes only map the files the owner wrote.
    """

    folder: Path
    owner: bool
    workers: int
    seed: int | None = None
    """The data module's, which seeds what a loader draws while caching."""

    def store(
        self, source: SetSource, transforms: "Sequence[ModelTransform]"
    ) -> SampleStore:
        """Return the set's store, mapped from its file in the node's folder.

        Raises:
            SampleLoadError: (owner) naming a sample that fails to load.
            CacheMemoryError: (owner) when the set does not fit in memory.
            OSError: (others) when the owner's file is missing.
            NodeCacheError: (others) when the owner's file is under another
                key: the loader's fingerprint differs between processes.
        """
        if self.owner:
            return persistent_store(
                source,
                transforms,
                cache_dir=self.folder,
                workers=self.workers,
                in_memory=True,
                seed=self.seed,
            )
        try:
            return map_cache_file(source, transforms, cache_dir=self.folder)
        except FileNotFoundError as exc:
            if not self.written(source):
                raise
            msg = (
                f"set `{source.name}`: this process keys its cache otherwise than "
                "the process that cached it for the node (local rank 0), so its "
                "loader or model transforms are fingerprinted otherwise in each "
                "process: one holds a value of each process's own (an address, a "
                "time, a random draw). Give the loader a `fingerprint` (a string, "
                "or a method returning one) that says what it loads"
            )
            raise NodeCacheError(msg) from exc

    def written(self, source: SetSource) -> bool:
        """Whether the set's file is in the folder (it is not when it did not fit).

        The folder is this run's own: a file there is the one just built.
        """
        return any(self.folder.glob(f"{source.name}-*{CACHE_SUFFIX}"))


def _claim(folder: Path) -> None:
    remove_stale_folders(folder.parent)
    folder.mkdir(mode=0o700)
    (folder / _OWNER).write_text(str(os.getpid()))


def _decide(
    strategy: "Strategy",
    ready: bool,  # noqa: FBT001 - this process's part of the decision
    error: BaseException | None,
    folder: Path | None,
) -> tuple[bool, bool]:
    """Return whether every process is ready, and whether some process failed.

    When the others are gone (a Ctrl-C stops them all at once), the
    collective fails: this process removes its ``folder`` (the owner's) and
    raises its own ``error``, which says why, rather than its peers'.
    """
    try:
        everywhere = strategy.reduce_boolean_decision(ready, all=True)
        failed = strategy.reduce_boolean_decision(error is not None, all=False)
    except BaseException:
        if folder is not None:
            with contextlib.suppress(OSError):
                shutil.rmtree(folder)
        if error is None:
            raise
        raise error from None
    return everywhere, failed


def _open_as_owner(
    folder: Path,
    cache: NodeCache,
    sources: Mapping[str, SetSource],
    open_set: Callable[[SetSource, NodeCache | None], OpenedT],
) -> tuple[dict[str, OpenedT], bool]:
    """Cache ``sources`` for the node, as its first process.

    Returns:
        The sets opened, and whether every set's file was written.

    Raises:
        BaseException: what failed, left in ``folder`` for the node's other
            processes to quote.
    """
    try:
        _claim(folder)
        opened = {name: open_set(source, cache) for name, source in sources.items()}
        return opened, all(cache.written(source) for source in sources.values())
    except BaseException as exc:
        with contextlib.suppress(OSError):  # no folder: the peers say less
            (folder / _FAILURE).write_text(f"{type(exc).__name__}: {exc}")
        raise


def _failed_elsewhere(folder: Path, node_rank: int, sources: Iterable[str]) -> str:
    """Say that a process caching ``sources`` failed, and why, if on this node."""
    sets = ", ".join(sources)
    try:
        why = (folder / _FAILURE).read_text()
    except OSError:  # another node's failed (or this one's, before writing it)
        return (
            f"node {node_rank}: a process caching the sets {sets} for its node "
            "(local rank 0, of this node or another) failed; its error says why"
        )
    return (
        f"node {node_rank}: the process caching the sets {sets} for the node "
        f"(local rank 0) failed: {why}"
    )


def open_on_node(
    strategy: "Strategy",
    *,
    local_rank: int,
    node_rank: int,
    workers: int,
    seed: int | None = None,
    sources: Mapping[str, SetSource],
    open_set: Callable[[SetSource, NodeCache | None], OpenedT],
) -> dict[str, OpenedT]:
    """Open ``sources`` in every process of the run, from one cache per node.

    Every process must call it, with the same sets. ``open_set(source, cache)``
    opens one set from ``cache``, or (``None``) caches it in this process alone:
    that happens when some node could not write its files (shared memory too
    small, say), with a warning.

    Raises:
        SampleLoadError: in the owner, when a sample fails to load (or another
            error of its own, such as a loader's root that does not exist).
        NodeCacheError: in the other processes, when the owner failed, quoting
            its error where it is on their node (they stop, rather than each
            meet it again).
    """
    token = strategy.broadcast(secrets.token_hex(8))
    folder = node_cache_root() / f"{_PREFIX}-{os.getuid()}-{token}-{node_rank}"
    owner = local_rank == 0
    cache = NodeCache(folder, owner=owner, workers=workers, seed=seed)
    opened: dict[str, OpenedT] = {}
    error: BaseException | None = None
    ready = True
    try:
        if owner:
            opened, ready = _open_as_owner(folder, cache, sources, open_set)
    except BaseException as exc:  # the other processes must not wait forever
        error, ready = exc, False
    everywhere, failed = _decide(strategy, ready, error, folder if owner else None)
    if error is None and not owner and failed:
        error = NodeCacheError(_failed_elsewhere(folder, node_rank, sources))
    try:
        if error is None and not owner:
            if not everywhere:
                warnings.warn(
                    f"node {node_rank}: the sets {', '.join(sources)} could not be "
                    f"cached once for the node in {folder.parent} (see the warning "
                    "or error of local rank 0): this process caches its own copy. "
                    "Give the node more shared memory, or set `cache_dir`",
                    LightsplitWarning,
                    stacklevel=caller_stacklevel(),
                )
            for name, source in sources.items():
                opened[name] = open_set(source, cache if everywhere else None)
    except BaseException as exc:
        error = exc
    finally:
        strategy.barrier("lightsplit-node-cache-mapped")
        if owner:
            with contextlib.suppress(OSError):
                shutil.rmtree(folder)
    if error is not None:
        raise error
    if everywhere:
        _LOG.info("node %d: cached %s once for the node", node_rank, ", ".join(sources))
    return opened
