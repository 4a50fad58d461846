"""Work on a large split done aside, in a forked child: its hash, and one task.

Serializing a split for its content hash takes about as long as reading it
did, and finding the groups of a large set nearly as long. Where the process
can fork (POSIX) and runs no other Python thread, a child process does both
on another core while the caller reads the rest of the split: first the task
it is given (its result comes back as bytes), then the hash. When the hash is
asked for before the child is done, the caller encodes the second half of
what is left and the child hashes it after its own half.

The child and its parent talk through two pipes. To the child: `_HELP`, then
the parent's part of the canonical form (12 digits of length, the bytes).
From the child: ``R`` with the task's result (12 digits of length, the
bytes), ``M`` with the chunk it stops at (12 digits) once asked for help, and
``D`` with the 64 hex digits of the digest.
"""

import contextlib
import hashlib
import os
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Final, TypeAlias

from ._hashing import canonical_json, split_sha256

__all__ = ["Aside", "hash_aside", "work_aside"]

_ASIDE_ENTRIES: Final = 20_000
"""Entries from which working on a split in a process of its own pays."""

_CHUNK_ENTRIES: Final = 1_000
"""Entries encoded at a time when a split is hashed aside."""

_HEX_DIGITS: Final = 2 * hashlib.sha256().digest_size
"""Of a SHA-256 digest."""

_LENGTH: Final = 12
"""Digits of the lengths and chunk numbers sent through the pipes."""

_HELP: Final = b"H"
"""What the parent sends the child when it is free to help hash."""

_Chunk: TypeAlias = tuple[int, str, int, int]
"""Part of a split's canonical form: set number and name, first and end entry."""


def _chunks(split: Mapping[str, Sequence[object]]) -> list[_Chunk]:
    """Cut the canonical form of ``split`` into chunks of entries, in its order."""
    plan: list[_Chunk] = []
    for number, name in enumerate(sorted(split)):
        size = len(split[name])
        starts = range(0, size, _CHUNK_ENTRIES)
        plan += [
            (number, name, start, min(start + _CHUNK_ENTRIES, size)) for start in starts
        ]
        plan += [] if size else [(number, name, 0, 0)]
    return plan


def _chunk_text(split: Mapping[str, Sequence[object]], chunk: _Chunk) -> bytes:
    """Return ``chunk`` of the canonical form, between its opening ``{`` and ``}``.

    The chunks of `_chunks`, in order, are that text (the entries of a set
    encoded a chunk at a time read as the whole set does, split on commas).
    """
    number, name, start, stop = chunk
    entries = split[name]
    if start == 0:
        head = (b"," if number else b"") + canonical_json(name) + b":["
    else:
        head = b","
    body = canonical_json(list(entries[start:stop]))[1:-1]
    return head + body + (b"]" if stop == len(entries) else b"")


def _read_exact(fd: int, size: int) -> bytes:
    """Read ``size`` bytes from ``fd``; fewer only if it ends first."""
    parts: list[bytes] = []
    while size > 0 and (part := os.read(fd, size)):
        parts.append(part)
        size -= len(part)
    return b"".join(parts)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _sized(data: bytes) -> bytes:
    return b"%0*d" % (_LENGTH, len(data)) + data


def _read_sized(fd: int) -> bytes:
    """Read what `_sized` wrote; raise `EOFError` if the writer left before."""
    size = int(_read_exact(fd, _LENGTH))
    data = _read_exact(fd, size)
    if len(data) != size:
        raise EOFError
    return data


def _work_in_child(
    split: Mapping[str, Sequence[object]],
    first: Callable[[], bytes] | None,
    requests: int,
    replies: int,
    *,
    hashing: bool,
) -> None:
    """Do ``first`` and send its result, then hash ``split`` chunk by chunk.

    Between chunks, a help request from the parent is answered with the chunk
    this process stops at: it keeps the first half of the chunks left, then
    hashes the parent's encoding of the rest. Without ``hashing``, only
    ``first`` is done.
    """
    import select  # noqa: PLC0415 - the child alone polls

    if first is not None:
        _write_all(replies, b"R" + _sized(first()))
    if not hashing:
        return
    plan = _chunks(split)
    digest = hashlib.sha256(b"{")
    stop, index, listening = len(plan), 0, True
    poller = select.poll()  # not `select.select`: it refuses descriptors past 1023
    poller.register(requests, select.POLLIN)
    while index < stop:
        if listening and poller.poll(0):
            listening = False
            if os.read(requests, 1) == _HELP:  # nothing when the parent is gone
                stop = index + (stop - index + 1) // 2
                _write_all(replies, b"M%0*d" % (_LENGTH, stop))
        digest.update(_chunk_text(split, plan[index]))
        index += 1
    if stop < len(plan):
        digest.update(_read_sized(requests))
    digest.update(b"}")
    _write_all(replies, b"D" + digest.hexdigest().encode("ascii"))


class Aside:
    """What a block under `work_aside` asks of the work done aside."""

    __slots__ = (
        "_child",
        "_digest",
        "_first_read",
        "_hashing",
        "_replies",
        "_requests",
        "_split",
    )

    def __init__(
        self,
        split: Mapping[str, Sequence[object]],
        child: tuple[int, int, int] | None,
        *,
        tasked: bool,
        hashing: bool = True,
    ) -> None:
        self._split = split
        self._hashing = hashing
        self._digest: str | None = None
        self._first_read = child is None or not tasked
        pid, self._requests, self._replies = child or (0, -1, -1)
        self._child = [pid] if child else []

    @property
    def tasked(self) -> bool:
        """Whether a child does the task given to `work_aside` (until it fails)."""
        return not self._first_read and bool(self._child)

    def first(self) -> bytes | None:
        """Return the result of the task given to `work_aside`, once.

        ``None`` when no child did it (a small split, no fork, or a child that
        failed): the caller does the task itself.
        """
        if self._first_read or not self._child:
            return None
        self._first_read = True
        try:
            if _read_exact(self._replies, 1) == b"R":
                return _read_sized(self._replies)
        except (OSError, ValueError, EOFError):  # the child failed: it is gone
            pass
        self.close()
        return None

    def sha256(self) -> str:
        """Return the split's content hash, `split_sha256`.

        Computed here where the child does not hash (see `work_aside`).
        """
        if self._digest is None:
            digest = self._help() if self._child and self._hashing else None
            self.close()
            self._digest = split_sha256(self._split) if digest is None else digest
        return self._digest

    def _help(self) -> str | None:
        """Ask the child for its half of what is left to hash; return the digest.

        ``None`` when the child failed or is gone: the caller hashes alone.
        """
        requests, replies = self._requests, self._replies
        if not self._first_read:
            self.first()  # read past the task's result
            if not self._child:
                return None
        with contextlib.suppress(BrokenPipeError):  # the child is done: see replies
            _write_all(requests, _HELP)
        try:
            kind = _read_exact(replies, 1)
            if kind == b"M":
                stop = int(_read_exact(replies, _LENGTH))
                plan = _chunks(self._split)
                if stop < len(plan):
                    texts = (_chunk_text(self._split, chunk) for chunk in plan[stop:])
                    _write_all(requests, _sized(b"".join(texts)))
                kind = _read_exact(replies, 1)
            digest = _read_exact(replies, _HEX_DIGITS)
        except (OSError, ValueError, TypeError):  # the child gone, or JSON refuses
            return None
        ok = kind == b"D" and len(digest) == _HEX_DIGITS
        return digest.decode("ascii") if ok else None

    def close(self) -> None:
        """Close the pipes and wait for the child to end (it ends on its own)."""
        if self._child:
            os.close(self._requests)
            os.close(self._replies)
            os.waitpid(self._child.pop(), 0)


def _other_threads() -> bool:
    """Whether the process runs Python threads besides this one.

    Without the ``threading`` module imported, it runs none that a fork would
    leave behind in a state to worry about (and importing it costs every start
    of the command 2 ms).
    """
    threading = sys.modules.get("threading")
    return threading is not None and threading.active_count() > 1


@contextlib.contextmanager
def work_aside(
    split: Mapping[str, Sequence[object]],
    first: Callable[[], bytes] | None = None,
    *,
    hashing: bool = True,
) -> Iterator[Aside]:
    """Do ``first``, then hash ``split``, in a child while the block runs.

    Yield what gives ``first``'s result (`Aside.first`, ``None`` where the
    caller must do it itself) and the split's hash (`Aside.sha256`, computed
    here, raising what `split_sha256` raises, where no child could). A split
    under 20,000 entries, or where the process cannot fork or runs other
    Python threads, is not worked on aside. The split must not change in the
    block. Without ``hashing`` (the caller has the hash another way, as a rule),
    the child does ``first`` alone, and none is started without ``first``.

    Examples:
        >>> split = {"train": [["a.png", 0]], "test": [["b.png", 1]]}
        >>> with work_aside(split, lambda: b"done") as aside:
        ...     result, same = aside.first(), aside.sha256() == split_sha256(split)
        >>> result, same  # a small split: nothing done aside
        (None, True)
    """
    fork = getattr(os, "fork", None)
    entries = sum(map(len, split.values()))
    if (
        entries < _ASIDE_ENTRIES
        or (first is None and not hashing)
        or fork is None
        or _other_threads()
        or not all(type(name) is str for name in split)  # as keys of JSON only
    ):
        yield Aside(split, None, tasked=False, hashing=hashing)
        return
    requests_read, requests = os.pipe()
    replies, replies_write = os.pipe()
    pid = fork()
    if pid == 0:  # the child: work, write the results, leave at once
        status = 1
        try:
            os.close(requests)
            os.close(replies)
            _work_in_child(split, first, requests_read, replies_write, hashing=hashing)
            status = 0
        finally:
            os._exit(status)  # no cleanup of the parent's state: it is the parent's
    os.close(requests_read)
    os.close(replies_write)
    aside = Aside(
        split, (pid, requests, replies), tasked=first is not None, hashing=hashing
    )
    try:
        yield aside
    finally:
        aside.close()  # never asked for the hash: let the child end


@contextlib.contextmanager
def hash_aside(split: Mapping[str, Sequence[object]]) -> Iterator[Callable[[], str]]:
    """Hash ``split`` while the block runs; yield what returns its `split_sha256`.

    See `work_aside`: the same, with no task before the hash.

    Examples:
        >>> split = {"train": [["a.png", 0]], "test": [["b.png", 1]]}
        >>> with hash_aside(split) as sha256:
        ...     same = sha256() == split_sha256(split)
        >>> same
        True
    """
    with work_aside(split) as aside:
        yield aside.sha256
