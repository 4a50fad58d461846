"""Content hashes of splits: SHA-256 of a canonical JSON form.

The canonical form is compact JSON with object keys sorted and non-ASCII text
kept as UTF-8: whitespace and key order (of the file, of set names, of objects
inside entries) do not change the hash; entry order, and any value, does.
Tuples hash as the lists they are in a file.
"""

import contextlib
import hashlib
import json
import os
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Final, TypeAlias

__all__ = [
    "canonical_json",
    "encode_entries",
    "encoded_split_sha256",
    "entries_sha256",
    "hash_aside",
    "split_sha256",
]

_ASIDE_ENTRIES: Final = 20_000
"""Entries from which hashing a split in a process of its own pays."""

_MARK: Final = "\x00"
"""Put between entries encoded at once, then split on (written ``"\\u0000"``)."""


def canonical_json(value: object) -> bytes:
    """Return the canonical JSON form of ``value``, as UTF-8 bytes.

    Raises:
        TypeError: if ``value`` holds something JSON cannot represent.
        ValueError: for ``NaN`` or infinite floats, which JSON has no form for.

    Examples:
        >>> canonical_json({"b": [1, 2], "a": ("x", 1.5)})
        b'{"a":["x",1.5],"b":[1,2]}'
    """
    return _dumps(value, canonical=True).encode("utf-8")


def _dumps(value: object, *, canonical: bool) -> str:
    """Return ``value`` as JSON text: canonical, or as ``json.dumps`` writes it.

    Values are first written without looking for cycles (a third faster for
    many small entries, which hold none); only a value that nests too deep is
    written again with that check, to say whether it holds a cycle.
    """
    try:
        return _written(value, canonical=canonical, check_circular=False)
    except RecursionError:  # a cycle, or a value nested too deep
        return _written(value, canonical=canonical, check_circular=True)


def _written(value: object, *, canonical: bool, check_circular: bool) -> str:
    if canonical:
        return json.dumps(
            value,
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
            allow_nan=False,
            check_circular=check_circular,
        )
    return json.dumps(value, ensure_ascii=False, check_circular=check_circular)


def encode_entries(entries: Sequence[object], *, canonical: bool = False) -> list[str]:
    """Return each entry as ``json.dumps(entry, ensure_ascii=False)`` would.

    With ``canonical``, each is in the canonical form instead (as
    `canonical_json` writes it, before UTF-8). The entries are encoded in one
    call, each followed by a mark the text is then split on: as fast as one
    document, where a call per entry is not.

    Raises:
        TypeError: if an entry holds something JSON cannot represent.
        ValueError: with ``canonical``, for ``NaN`` or infinite floats.

    Examples:
        >>> encode_entries([["a.png", 0], {"b": [1, 2], "a": 1}])
        ['["a.png", 0]', '{"b": [1, 2], "a": 1}']
        >>> encode_entries([["a.png", 0], {"b": [1, 2], "a": 1}], canonical=True)
        ['["a.png",0]', '{"a":1,"b":[1,2]}']
    """
    comma = "," if canonical else ", "
    marked = [item for entry in entries for item in (entry, _MARK)]
    text = _dumps(marked, canonical=canonical)
    separator = f"{comma}{json.dumps(_MARK)}"
    parts = text[1 : -1 - len(separator)].split(f"{separator}{comma}")
    if len(parts) == len(entries) and entries:
        return parts
    return [_dumps(entry, canonical=canonical) for entry in entries]  # a mark in one


def encoded_split_sha256(sets: Mapping[str, Sequence[str]]) -> str:
    """Return `split_sha256` of sets whose entries are already canonical text.

    ``sets`` holds each entry as ``encode_entries(..., canonical=True)`` wrote
    it: writing many splits of the same entries (the files of a k-fold split),
    each entry is encoded once.

    Examples:
        >>> split = {"train": [["a.png", 0]], "test": [["b.png", {"y": 1, "x": 2}]]}
        >>> encoded = {name: encode_entries(entries, canonical=True)
        ...            for name, entries in split.items()}
        >>> encoded_split_sha256(encoded) == split_sha256(split)
        True
    """
    digest = hashlib.sha256(b"{")
    for number, name in enumerate(sorted(sets)):
        head = json.dumps(name, ensure_ascii=False)
        digest.update(f"{',' if number else ''}{head}:[".encode())
        digest.update(",".join(sets[name]).encode("utf-8"))
        digest.update(b"]")
    digest.update(b"}")
    return digest.hexdigest()


def entries_sha256(entries: Sequence[object]) -> str:
    """Return the SHA-256 (hex) of one set's entries, in order."""
    return hashlib.sha256(canonical_json(list(entries))).hexdigest()


def split_sha256(split: Mapping[str, Sequence[object]]) -> str:
    """Return the content hash of a split: SHA-256 (hex) of its canonical form.

    Two files hash alike exactly when they hold the same sets with the same
    entries in the same order, however they are indented or their keys ordered:
    the hash to cite for the split a result was obtained on.

    Raises:
        TypeError: if an entry holds something JSON cannot represent.

    Examples:
        >>> first = split_sha256({"train": [["a.png", 0]], "test": [["b.png", 1]]})
        >>> first == split_sha256({"test": [("b.png", 1)], "train": [("a.png", 0)]})
        True
        >>> first == split_sha256({"train": [["a.png", 1]], "test": [["b.png", 1]]})
        False
    """
    return hashlib.sha256(
        canonical_json({name: list(entries) for name, entries in split.items()})
    ).hexdigest()


_CHUNK_ENTRIES: Final = 1_000
"""Entries encoded at a time when a split is hashed aside (`hash_aside`)."""

_HEX_DIGITS: Final = 2 * hashlib.sha256().digest_size
"""Of a SHA-256 digest."""

_HELP: Final = b"H"
"""What this process sends the hashing child when it is free to help."""

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
        head = f"{',' if number else ''}{_dumps(name, canonical=True)}:["
    else:
        head = ","
    body = _dumps(list(entries[start:stop]), canonical=True)[1:-1]
    tail = "]" if stop == len(entries) else ""
    return f"{head}{body}{tail}".encode()


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


def _hash_in_child(
    split: Mapping[str, Sequence[object]], requests: int, replies: int
) -> None:
    """Hash ``split`` chunk by chunk; when asked for help, share what is left.

    Between chunks, a help request from the parent (`_HELP` on ``requests``)
    is answered with ``M`` and the chunk this process stops at (12 digits):
    it keeps the first half of the chunks left, then reads the parent's
    encoding of the rest from ``requests`` (12 digits of length, the bytes).
    The digest goes to ``replies`` as ``D`` and 64 hex digits.
    """
    import select  # noqa: PLC0415 - the child alone polls

    plan = _chunks(split)
    digest = hashlib.sha256(b"{")
    stop, index, listening = len(plan), 0, True
    while index < stop:
        if listening and select.select([requests], [], [], 0)[0]:
            listening = False
            if os.read(requests, 1) == _HELP:  # nothing when the parent is gone
                stop = index + (stop - index + 1) // 2
                _write_all(replies, b"M%012d" % stop)
        digest.update(_chunk_text(split, plan[index]))
        index += 1
    if stop < len(plan):
        size = int(_read_exact(requests, 12))
        rest = _read_exact(requests, size)
        if len(rest) != size:
            raise EOFError  # the parent stopped helping: fail, it will hash
        digest.update(rest)
    digest.update(b"}")
    _write_all(replies, b"D" + digest.hexdigest().encode("ascii"))


def _help_child(
    split: Mapping[str, Sequence[object]], requests: int, replies: int
) -> str | None:
    """Ask the hashing child for its half of what is left; return the digest.

    ``None`` when the child failed or is gone: the caller hashes alone.
    """
    with contextlib.suppress(BrokenPipeError):  # the child is done: see replies
        _write_all(requests, _HELP)
    try:
        kind = _read_exact(replies, 1)
        if kind == b"M":
            stop = int(_read_exact(replies, 12))
            plan = _chunks(split)
            if stop < len(plan):
                rest = b"".join(_chunk_text(split, chunk) for chunk in plan[stop:])
                _write_all(requests, b"%012d" % len(rest) + rest)
            kind = _read_exact(replies, 1)
        digest = _read_exact(replies, _HEX_DIGITS)
    except (OSError, ValueError, TypeError):  # the child gone, or an entry JSON refuses
        return None
    ok = kind == b"D" and len(digest) == _HEX_DIGITS
    return digest.decode("ascii") if ok else None


@contextlib.contextmanager
def hash_aside(split: Mapping[str, Sequence[object]]) -> Iterator[Callable[[], str]]:
    """Hash ``split`` while the block runs; yield what returns its `split_sha256`.

    Serializing a large split for its hash takes about as long as reading it
    did. Where this process can fork (POSIX) and runs no other Python thread, a
    child process hashes the split on another core while the block goes on;
    when the hash is asked for before the child is done, this process encodes
    the second half of what is left and the child hashes it after its own
    half. Otherwise, or if the child fails, the hash is computed here when
    asked for (raising what `split_sha256` raises). The split must not change
    in the block.

    Examples:
        >>> split = {"train": [["a.png", 0]], "test": [["b.png", 1]]}
        >>> with hash_aside(split) as sha256:
        ...     same = sha256() == split_sha256(split)
        >>> same
        True
    """
    fork = getattr(os, "fork", None)
    entries = sum(map(len, split.values()))
    if (
        entries < _ASIDE_ENTRIES
        or fork is None
        or threading.active_count() > 1
        or not all(type(name) is str for name in split)  # as keys of JSON only
    ):
        yield lambda: split_sha256(split)
        return
    requests_read, requests = os.pipe()
    replies, replies_write = os.pipe()
    pid = fork()
    if pid == 0:  # the child: hash, write the digest, leave at once
        status = 1
        try:
            os.close(requests)
            os.close(replies)
            _hash_in_child(split, requests_read, replies_write)
            status = 0
        finally:
            os._exit(status)  # no cleanup of the parent's state: it is the parent's
    os.close(requests_read)
    os.close(replies_write)
    found: list[str] = []
    child = [pid]  # until reaped

    def reap() -> None:
        if child:
            os.close(requests)
            os.close(replies)
            os.waitpid(child.pop(), 0)

    def sha256() -> str:
        if not found:
            digest = None if not child else _help_child(split, requests, replies)
            reap()
            found.append(split_sha256(split) if digest is None else digest)
        return found[0]

    try:
        yield sha256
    finally:
        reap()  # never asked for: let the child end
