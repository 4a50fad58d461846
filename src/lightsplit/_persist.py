"""Persistent caches: one memory-mappable file per set, keyed by its fingerprint.

A cache file is a 4 KiB preamble (magic, then a JSON header with the key, sizes
and CRC-32 checksums), the inputs, the tensor columns, and the other metadata
as JSON. Files are written under a temporary name and renamed into place once
complete, so an interrupted build never leaves a file that is used; a file whose
size or checksums do not match its header is rebuilt.
"""

import contextlib
import fcntl
import json
import logging
import math
import os
import secrets
import struct
import warnings
import zlib
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Final

import torch
from torch import Tensor

from ._cache import build_store
from ._errors import LightsplitWarning, caller_stacklevel
from ._files import FileInputs, open_map, reserve_file
from ._fingerprint import CACHE_FORMAT, set_key
from ._metadata import Describe
from ._sample import ModelTransform
from ._sources import SetSource
from ._stores import (
    Column,
    ContiguousStore,
    ObjectColumn,
    RaggedStore,
    SampleStore,
    TensorColumn,
)

__all__ = ["CACHE_SUFFIX", "cache_file", "map_cache_file", "persistent_store"]

_LOG: Final = logging.getLogger("lightsplit")
_MAGIC: Final = b"LSCACHE\n"
_LENGTH: Final = struct.Struct("<I")
_PREAMBLE: Final = 4096
_ALIGN: Final = 64
CACHE_SUFFIX: Final = ".lscache"
_SCALARS: Final[Mapping[str, type[bool | int | float]]] = {
    "bool": bool,
    "int": int,
    "float": float,
}


class _DamagedError(Exception):
    """A cache file that must not be used."""


class _NotPersistableError(Exception):
    """A store whose metadata a cache file cannot hold exactly."""


def cache_file(cache_dir: Path, set_name: str, key: str) -> Path:
    """Return the cache file of a set with the given key."""
    return cache_dir / f"{set_name}-{key[:32]}{CACHE_SUFFIX}"


def _dtype(name: str) -> torch.dtype:
    dtype = getattr(torch, name.removeprefix("torch."), None)
    if not isinstance(dtype, torch.dtype):
        msg = f"unknown dtype {name}"
        raise _DamagedError(msg)
    return dtype


def _aligned(offset: int) -> int:
    return -(-offset // _ALIGN) * _ALIGN


def _json_exact(value: object) -> bool:
    """Tell whether ``value`` comes back from JSON equal and of the same types."""
    if value is None or isinstance(value, bool | int | str):
        return True
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, list):
        return all(_json_exact(item) for item in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _json_exact(v) for k, v in value.items())
    return False


class _Layout:
    """Where each tensor of a store goes in the data region of a cache file."""

    def __init__(self, start: int) -> None:
        self.end = start
        self.placed: list[tuple[int, Tensor]] = []

    def skip(self, nbytes: int) -> int:
        at, self.end = self.end, _aligned(self.end + nbytes)
        return at

    def place(self, tensor: Tensor) -> int:
        at = self.skip(tensor.nbytes)
        self.placed.append((at, tensor))
        return at


def _describe_columns(columns: Mapping[str, Column], layout: _Layout) -> dict[str, Any]:
    described: dict[str, Any] = {}
    for name, column in columns.items():
        if isinstance(column, TensorColumn):
            described[name] = {
                "kind": "tensor",
                "scalar": column.scalar.__name__ if column.scalar else None,
                "dtype": str(column.values.dtype),
                "shape": list(column.values.shape),
                "offset": layout.place(column.values),
            }
        elif isinstance(column, ObjectColumn) and all(map(_json_exact, column.values)):
            kind = "str" if column.strings else "json"
            described[name] = {"kind": kind, "values": list(column.values)}
        else:
            msg = f"metadata `{name}` holds values that JSON cannot keep exactly"
            raise _NotPersistableError(msg)
    return described


def _write(path: Path, store: SampleStore, key: str, *, inputs_in_file: bool) -> None:
    """Complete the cache file at ``path`` with ``store``, header last.

    With ``inputs_in_file``, the contiguous inputs were built in the file already.
    """
    layout = _Layout(_PREAMBLE)
    inputs: dict[str, Any]
    if isinstance(store, ContiguousStore):
        values = store.inputs
        offset = layout.skip(values.nbytes) if inputs_in_file else layout.place(values)
        inputs = {
            "kind": "contiguous",
            "dtype": str(values.dtype),
            "shape": list(values.shape),
            "offset": offset,
        }
    else:
        assert isinstance(store, RaggedStore)  # the only other store
        inputs = {
            "kind": "ragged",
            "buffers": [
                {
                    "dtype": str(dtype),
                    "numel": buffer.numel(),
                    "offset": layout.place(buffer),
                }
                for dtype, buffer in store.buffers.items()
            ],
            "layout": [
                [str(d), offset, list(shape)] for d, offset, shape in store.layout
            ],
        }
    columns = _describe_columns(store.columns, layout)
    metadata = json.dumps({"inputs": inputs, "columns": columns}).encode()
    data_end = layout.end
    size = data_end + len(metadata)
    if inputs_in_file:
        with path.open("r+b") as file:
            os.posix_fallocate(file.fileno(), 0, size)
    else:
        reserve_file(path, size)
    mapped = open_map(path, writable=True)
    whole = torch.frombuffer(mapped, dtype=torch.uint8)
    for at, tensor in layout.placed:
        whole[at : at + tensor.nbytes] = tensor.contiguous().view(-1).view(torch.uint8)
    del whole
    mapped[data_end:size] = metadata
    with memoryview(mapped) as view:
        data_crc = zlib.crc32(view[_PREAMBLE:data_end])
    header = json.dumps(
        {
            "format": CACHE_FORMAT,
            "key": key,
            "set": store.name,
            "count": len(store),
            "file_size": size,
            "data_end": data_end,
            "data_crc32": data_crc,
            "metadata_crc32": zlib.crc32(metadata),
        }
    ).encode()
    preamble = _MAGIC + _LENGTH.pack(len(header)) + header
    mapped[: len(preamble)] = preamble
    mapped.flush()
    mapped.close()
    with path.open("rb") as file:
        os.fsync(file.fileno())


def _header(path: Path, key: str) -> dict[str, Any]:
    with path.open("rb") as file:
        preamble = file.read(_PREAMBLE)
        size = os.fstat(file.fileno()).st_size
    start = len(_MAGIC) + _LENGTH.size
    if len(preamble) < _PREAMBLE or not preamble.startswith(_MAGIC):
        msg = "not a complete lightsplit cache file"
        raise _DamagedError(msg)
    (length,) = _LENGTH.unpack_from(preamble, len(_MAGIC))
    try:
        header: object = json.loads(preamble[start : start + length])
    except ValueError as exc:
        msg = f"unreadable header: {exc}"
        raise _DamagedError(msg) from exc
    if not isinstance(header, dict):
        msg = "unreadable header: no JSON object"
        raise _DamagedError(msg)
    if header.get("format") != CACHE_FORMAT:
        msg = f"format {header.get('format')}, expected {CACHE_FORMAT}"
        raise _DamagedError(msg)
    if header.get("key") != key:
        msg = "its key does not match the set"
        raise _DamagedError(msg)
    wrong = [
        name for name, kind in _HEADER_FIELDS if type(header.get(name)) is not kind
    ]
    if wrong:  # the header has no checksum of its own: a bit flipped in a name
        msg = f"unreadable header: no valid {', '.join(f'`{n}`' for n in wrong)}"
        raise _DamagedError(msg)
    if size != header["file_size"]:
        msg = f"{size} bytes where its header says {header['file_size']}: truncated"
        raise _DamagedError(msg)
    if not _PREAMBLE <= header["data_end"] <= size:
        msg = f"its data ends at {header['data_end']}, outside its {size} bytes"
        raise _DamagedError(msg)
    return header


_HEADER_FIELDS: Final = (
    ("set", str),
    ("file_size", int),
    ("data_end", int),
    ("data_crc32", int),
    ("metadata_crc32", int),
)
"""The fields of a cache file's header that reading it takes, with their types."""


def _read(
    path: Path,
    key: str,
    *,
    where: Describe,
    check_data: bool = True,
    name: str | None = None,
) -> SampleStore:
    """Map the cache file at ``path`` and check it against its header.

    ``where`` describes a sample of the set in the store's messages, and
    ``name`` names the store (by default, the set whose file it is). Without
    ``check_data``, the checksum of the inputs is not computed (for a file this
    run has just written and checked).

    Raises:
        FileNotFoundError: if there is no such file.
        _DamagedError: if the file is not a complete, intact cache of ``key``.
    """
    header = _header(path, key)
    data_end, size = header["data_end"], header["file_size"]
    mapped = open_map(path, writable=False)
    with memoryview(mapped) as view:
        if check_data and zlib.crc32(view[_PREAMBLE:data_end]) != header["data_crc32"]:
            msg = "the checksum of its data does not match"
            raise _DamagedError(msg)
        metadata = bytes(view[data_end:size])
    if zlib.crc32(metadata) != header["metadata_crc32"]:
        msg = "the checksum of its metadata does not match"
        raise _DamagedError(msg)
    mapped.close()
    # mapped by torch, copy-on-write as `open_map`'s: its tensors own the map
    # (a Python map would be let go of through the interpreter, which a process
    # ending may have finalized by then)
    whole = torch.from_file(str(path), shared=False, size=size, dtype=torch.uint8)
    try:
        named = header["set"] if name is None else name
        store = _store_from(named, json.loads(metadata), whole, where=where)
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        msg = f"inconsistent metadata: {exc}"
        raise _DamagedError(msg) from exc
    store.origin = (_map_again, (path, key, where, named))
    return store


def _map_again(path: Path, key: str, where: Describe, name: str) -> SampleStore:
    """Map a cache file again in another process (`SampleStore.origin`).

    It was checked where it was first mapped: its data is not read again.
    """
    return _read(path, key, where=where, check_data=False, name=name)


def _store_from(
    name: str, metadata: dict[str, Any], whole: Tensor, *, where: Describe
) -> SampleStore:

    def region(offset: int, dtype_name: str, shape: Sequence[int]) -> Tensor:
        dtype = _dtype(dtype_name)
        nbytes = math.prod(shape) * dtype.itemsize
        return whole[offset : offset + nbytes].view(dtype).view(tuple(shape))

    columns: dict[str, Column] = {}
    for key, column in metadata["columns"].items():
        if column["kind"] == "tensor":
            scalar = _SCALARS.get(column["scalar"]) if column["scalar"] else None
            values = region(column["offset"], column["dtype"], column["shape"])
            columns[key] = TensorColumn(values, scalar)
        else:
            values_tuple = tuple(column["values"])
            columns[key] = ObjectColumn(values_tuple, strings=column["kind"] == "str")
    inputs = metadata["inputs"]
    if inputs["kind"] == "contiguous":
        tensor = region(inputs["offset"], inputs["dtype"], inputs["shape"])
        return ContiguousStore(name, tensor, columns, where=where)
    buffers = {
        _dtype(b["dtype"]): region(b["offset"], b["dtype"], [b["numel"]])
        for b in inputs["buffers"]
    }
    layout = [
        (_dtype(d), offset, tuple(shape)) for d, offset, shape in inputs["layout"]
    ]
    return RaggedStore(name, buffers, layout, columns, where=where)


def _file_on_the_way(folder: Path) -> Path | None:
    """Return ``folder`` or the first folder above it that is a file, if one is."""
    for path in (*reversed(folder.parents), folder):
        if path.exists() and not path.is_dir():
            return path
    return None


def _remove_stale(cache_dir: Path) -> None:
    """Remove the temporary files of builds whose process is gone (killed).

    A build holds a lock on its temporary file (`_locked_temporary`) until it is
    done, which the system lets go when its process dies, in whatever process
    namespace or on whatever node of a shared file system it ran: a file whose
    lock can be taken is a dead build's. One whose lock cannot be asked for (a
    file system without locks) is left alone.
    """
    for stale in cache_dir.glob(f".*{CACHE_SUFFIX}.*.tmp"):
        try:
            descriptor = os.open(stale, os.O_RDWR)
        except OSError:
            continue  # gone, or another user's
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            continue  # a live build's (or no locks here)
        else:
            stale.unlink(missing_ok=True)
        finally:
            os.close(descriptor)


@contextlib.contextmanager
def _locked_temporary(path: Path) -> Iterator[Path]:
    """Create a temporary file for ``path``'s build, locked while the build runs.

    Its name is unique to this build (the process id is not: two containers,
    or two nodes, may run their trainers under the same one): no other build
    opens it. It is created under a name `_remove_stale` does not look at, then
    locked, then given its ``.tmp`` name, so that no other process takes it for
    a dead build's before the lock is held. The file is removed on the way out
    (once renamed to ``path``, there is nothing left to remove).
    """
    stem = f".{path.name}.{os.getpid()}-{secrets.token_hex(8)}"
    creating = path.with_name(f"{stem}.new")
    temporary = path.with_name(f"{stem}.tmp")
    descriptor = os.open(creating, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        with contextlib.suppress(OSError):  # a file system without locks
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        creating.replace(temporary)
        yield temporary
    finally:
        os.close(descriptor)  # lets go of the lock
        for leftover in (creating, temporary):
            with contextlib.suppress(OSError):
                leftover.unlink(missing_ok=True)


def map_cache_file(
    source: SetSource, transforms: Sequence[ModelTransform], *, cache_dir: Path
) -> SampleStore:
    """Map the set's cache file that another process of this run has written.

    The file was checked by the process that wrote it: its data is not read
    again here.

    Raises:
        OSError: when the file is missing or unreadable.
        ValueError: when the file is not an intact cache of the set.
    """
    key = set_key(source, transforms)
    path = cache_file(cache_dir, source.name, key)
    try:
        return _read(path, key, where=source.where, check_data=False)
    except _DamagedError as exc:
        msg = f"set `{source.name}`: cache file {path} is damaged ({exc})"
        raise ValueError(msg) from exc


def _alike_store(
    source: SetSource,
    alike: SetSource | None,
    transforms: Sequence[ModelTransform],
    *,
    cache_dir: Path,
) -> SampleStore | None:
    """Map the cache file of ``alike`` for ``source``, if it has an intact one."""
    if alike is None:
        return None
    key = set_key(alike, transforms)
    path = cache_file(cache_dir, alike.name, key)
    try:
        store = _read(path, key, where=source.where, name=source.name)
    except (OSError, _DamagedError):
        return None
    _LOG.info(
        "set `%s`: mapped cache file %s of set `%s`, of the same entries",
        source.name,
        path,
        alike.name,
    )
    return store


def persistent_store(
    source: SetSource,
    transforms: Sequence[ModelTransform],
    *,
    cache_dir: Path,
    workers: int,
    in_memory: bool = False,
    alike: SetSource | None = None,
    seed: int | None = None,
) -> SampleStore:
    """Return the set's store from its cache file, building the file if needed.

    ``in_memory`` says ``cache_dir`` is in memory (shared memory): the set must
    then fit in the memory available, as an in-memory cache must. ``alike`` is
    a set of the same entries and loaders (`train` for `monitor-train`): when
    this set has no file, that set's file is mapped instead of building a
    second one of the same data. ``seed`` seeds what a loader draws while the
    file is built (see `build_store`).

    A damaged file is rebuilt with a warning. When the file cannot be written
    (read-only folder, full disk) or its metadata cannot be kept exactly, the set
    is cached in memory only, with a warning.

    Raises:
        SampleLoadError: naming the set, index and entry of a sample that fails.
        CacheMemoryError: when the cache cannot fit in memory, and must (in
            memory, or falling back to memory).
    """
    key = set_key(source, transforms)
    path = cache_file(cache_dir, source.name, key)
    try:
        store = _read(path, key, where=source.where)
    except OSError as exc:  # not there yet, or not readable
        lent = _alike_store(source, alike, transforms, cache_dir=cache_dir)
        if lent is not None:
            return lent
        why = "none yet" if isinstance(exc, FileNotFoundError) else str(exc)
        _LOG.info("set `%s`: building cache file %s (%s)", source.name, path, why)
    except _DamagedError as exc:
        warnings.warn(
            f"cache file {path} is damaged ({exc}); rebuilding it",
            LightsplitWarning,
            stacklevel=caller_stacklevel(),
        )
    else:
        _LOG.info("set `%s`: mapped cache file %s", source.name, path)
        return store
    built: SampleStore | None = None
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        _remove_stale(cache_dir)
        with _locked_temporary(path) as temporary:
            target = FileInputs(temporary, _PREAMBLE, in_memory=in_memory)
            built = build_store(
                source, transforms, workers=workers, target=target, seed=seed
            )
            contiguous = isinstance(built, ContiguousStore)
            _write(temporary, built, key, inputs_in_file=contiguous)
            temporary.replace(path)
    except (OSError, _NotPersistableError) as exc:
        # mkdir says "File exists" of a file there, or of a file on the way
        blocking = (
            _file_on_the_way(cache_dir)
            if isinstance(exc, FileExistsError | NotADirectoryError)
            else None
        )
        why = str(exc) if blocking is None else f"{blocking} is a file, not a folder"
        warnings.warn(
            f"set `{source.name}`: cannot keep its cache in {cache_dir} ({why}); "
            "caching in memory only",
            LightsplitWarning,
            stacklevel=caller_stacklevel(),
        )
        return (
            built
            if built is not None
            else build_store(source, transforms, workers=workers, seed=seed)
        )
    return _read(path, key, where=source.where)
