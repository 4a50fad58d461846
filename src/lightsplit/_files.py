"""Memory-mapped files: reserving them on disk and mapping them as tensors."""

import errno
import math
import mmap
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor

__all__ = ["FileInputs", "map_file", "open_map", "reserve_file"]


def open_map(path: Path, *, writable: bool) -> mmap.mmap:
    """Map the whole file at ``path``, without reading it.

    Writable maps are shared (writes reach the file and every process mapping it);
    read maps are private copy-on-write, so nothing can change the file.
    """
    with path.open("r+b" if writable else "rb") as file:
        access = mmap.ACCESS_WRITE if writable else mmap.ACCESS_COPY
        return mmap.mmap(file.fileno(), 0, access=access)


def map_file(path: Path, *, writable: bool) -> Tensor:
    """Map the whole file at ``path`` as a ``uint8`` tensor (see `open_map`)."""
    return torch.frombuffer(open_map(path, writable=writable), dtype=torch.uint8)


def reserve_file(path: Path, size: int) -> None:
    """Create ``path`` with ``size`` bytes reserved on disk.

    Reserving up front turns a full disk into an ``OSError`` now rather than a
    crash (``SIGBUS``) when a mapped page cannot be written later.

    Raises:
        OSError: when the file cannot be created or the disk is full.
    """
    with path.open("wb") as file:
        try:
            os.posix_fallocate(file.fileno(), 0, size)
        except OSError as exc:
            if exc.errno not in (errno.EOPNOTSUPP, errno.EINVAL):
                raise
            file.truncate(size)  # this file system cannot reserve: best effort


@dataclass(frozen=True)
class FileInputs:
    """Inputs built straight into a file at ``offset``: the start of a cache file.

    ``in_memory`` says the file lives in memory (shared memory, ``/dev/shm``):
    then, as for any in-memory cache, the set must fit in the memory available.
    """

    path: Path
    offset: int
    in_memory: bool = False

    def allocate(self, shape: Sequence[int], dtype: torch.dtype) -> Tensor:
        """Create the file and return its inputs region as a tensor.

        Raises:
            OSError: when the file cannot be created or the disk is full.
        """
        nbytes = math.prod(shape) * dtype.itemsize
        reserve_file(self.path, self.offset + nbytes)
        return self.map(shape, dtype)

    def map(self, shape: Sequence[int], dtype: torch.dtype) -> Tensor:
        """Map the inputs region of the file, for this process to write."""
        nbytes = math.prod(shape) * dtype.itemsize
        region = map_file(self.path, writable=True)[self.offset : self.offset + nbytes]
        return region.view(dtype).view(tuple(shape))
