"""How much memory a cache may take, refusing one that cannot fit, freeing the rest."""

import ctypes
import functools
import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Final

from ._errors import CacheMemoryError

__all__ = [
    "available_memory",
    "check_cache_fits",
    "format_bytes",
    "release_free_memory",
]

_SHARED_MEMORY: Final = Path("/dev/shm")
_CGROUP: Final = Path("/sys/fs/cgroup")
_SHM_BOUND: Final = "free space in /dev/shm"


def format_bytes(size: float) -> str:
    """Return ``size`` in bytes as a short human-readable string.

    Examples:
        >>> format_bytes(512)
        '512 B'
        >>> format_bytes(3 * 2**30)
        '3.0 GiB'
    """
    if size < 1024:  # noqa: PLR2004 - bytes are shown whole
        return f"{size:.0f} B"
    exponent = min(int(math.log(size, 1024)), 4)
    return f"{size / 1024**exponent:.1f} {'BKMGT'[exponent]}iB"


def _read_int(path: Path) -> int | None:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _meminfo_available() -> int | None:
    try:
        lines = Path("/proc/meminfo").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) * 1024
    return None  # pragma: no cover - every Linux since 3.14 has MemAvailable


def _shm_free() -> int | None:
    """Return the free bytes of ``/dev/shm``, or None where there is none."""
    if not _SHARED_MEMORY.is_dir():
        return None  # pragma: no cover - macOS, Windows
    stat = os.statvfs(_SHARED_MEMORY)
    return stat.f_bavail * stat.f_frsize


def available_memory(*, shared_files: bool = True) -> tuple[int, str]:
    """Return the bytes a new shared cache may take, and where the bound comes from.

    The smallest of: the memory the system reports available, the room left under
    this process's cgroup memory limit, and, for a cache in ``shared_files``, the
    free space of ``/dev/shm`` (where they live on Linux). A cache in anonymous
    memory files (`memfd_create`) is not bound by it: containers often give
    ``/dev/shm`` 64 MiB alone.
    """
    bounds: list[tuple[int, str]] = []
    available = _meminfo_available()
    if available is None and hasattr(os, "sysconf"):  # pragma: no cover - non-Linux
        try:
            available = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (ValueError, OSError):
            available = None
    if available is not None:
        bounds.append((available, "memory available"))
    limit = _read_int(_CGROUP / "memory.max")
    used = _read_int(_CGROUP / "memory.current")
    if limit is not None and used is not None:
        bounds.append((max(limit - used, 0), "room under the cgroup memory limit"))
    free = _shm_free() if shared_files else None
    if free is not None:
        bounds.append((free, _SHM_BOUND))
    if not bounds:  # pragma: no cover - no way to tell: do not refuse
        return (2**63, "unknown")
    return min(bounds)


def check_cache_fits(
    set_name: str, *, count: int, sample_bytes: int, shared_files: bool
) -> int:
    """Estimate the cache of a set, and refuse it when it cannot fit in memory.

    ``shared_files`` says whether the cache goes to files of ``/dev/shm``,
    whose free space then bounds it too.

    Returns:
        The estimated size in bytes.

    Raises:
        CacheMemoryError: naming the size needed and the memory available.
    """
    needed = count * sample_bytes
    available, bound = available_memory(shared_files=shared_files)
    if needed > available:
        fix = (
            "give the container more (`docker run --shm-size`), set `cache_dir` "
            "to cache in files"
            if bound == _SHM_BOUND
            else "free memory"
        )
        msg = (
            f"set `{set_name}`: caching needs about {format_bytes(needed)} "
            f"({count} samples of {format_bytes(sample_bytes)}) but only "
            f"{format_bytes(available)} is available ({bound}); set "
            "`cache_samples=False`, add a model transform that makes samples "
            f"smaller, or {fix}"
        )
        raise CacheMemoryError(msg)
    return needed


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    """Return glibc's ``malloc_trim``, or None with another C library."""
    try:  # the symbols this process has loaded, the C library's among them
        trim: Callable[[int], int] = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):  # pragma: no cover - musl, macOS, Windows
        return None
    return trim


def release_free_memory() -> None:
    """Give the memory the allocator holds free back to the system, where it can.

    Loading a cache frees as much as it allocates (decoded images, conversions),
    but glibc's allocator keeps freed memory in its heaps for later: once a
    cache is built, that memory is of no use to the process. ``malloc_trim``
    returns it (every arena, and free pages inside them); elsewhere nothing is
    done.
    """
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
