"""``split_sha256``: the content hash of a split, as files and data modules give it."""

import hashlib
import json
import os
import threading
from pathlib import Path
from typing import ClassVar

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lightsplit_testing import MemoryLoader

from lightsplit import (
    CachingDataModule,
    ConcatDataModule,
    load_split,
    split_card,
    split_sha256,
)
from lightsplit import _hashing as hashing
from lightsplit._codec import json_lines
from lightsplit._report import summarize_split
from lightsplit._sidecar import lines_of_encoded

ENTRIES = st.lists(
    st.tuples(st.text(max_size=8), st.integers(-5, 5)), min_size=1, max_size=6
)


class TestSplitSha256:
    @given(ENTRIES, ENTRIES)
    def test_layout_does_not_matter(
        self, train: list[tuple[str, int]], test: list[tuple[str, int]]
    ) -> None:
        """Indentation, set order and tuples-or-lists give the same hash."""
        compact = {"train": [list(e) for e in train], "test": [list(e) for e in test]}
        reordered = json.loads(json.dumps({"test": test, "train": train}, indent=4))
        assert split_sha256(compact) == split_sha256(reordered)

    @given(ENTRIES)
    def test_entry_order_matters(self, train: list[tuple[str, int]]) -> None:
        """Reversing the entries of a set changes the hash, unless that is a no-op."""
        reversed_train = list(reversed(train))
        same = split_sha256({"train": train}) == split_sha256({"train": reversed_train})
        assert same == (reversed_train == train)

    def test_cycle_said_as_such(self) -> None:
        """An entry that holds itself is refused as a cycle, by every encoder."""
        entry: list[object] = ["a.png"]
        entry.append(entry)
        with pytest.raises(ValueError, match="Circular reference"):
            split_sha256({"train": [entry]})
        with pytest.raises(ValueError, match="Circular reference"):
            hashing.encode_entries([entry], canonical=True)

    def test_deep_entries_hash(self) -> None:
        """Entries nested deep, but not too deep for JSON, hash as their text."""
        entry: list[object] = ["a.png"]
        for _ in range(200):
            entry = [entry]
        text = json.dumps({"train": [entry]}, separators=(",", ":"))
        assert (
            split_sha256({"train": [entry]})
            == hashlib.sha256(text.encode()).hexdigest()
        )

    def test_file_and_data_module_agree(self, tmp_path: Path) -> None:
        """A data module over a split file reports the file's hash."""
        path = tmp_path / "s.json"
        path.write_text('{"train": [["a", 0], ["b", 1]],\n "test": [["c", 0]]}')
        expected = split_sha256(load_split(path))
        assert CachingDataModule(path, MemoryLoader()).split_sha256 == expected
        module = ConcatDataModule(
            {
                "train": [([("a", 0)], MemoryLoader()), ([("b", 1)], MemoryLoader())],
                "test": [([("c", 0)], MemoryLoader())],
            }
        )
        assert module.split_sha256 == expected


class TestHashAside:
    """Large splits are hashed in a forked process while the caller goes on."""

    SPLIT: ClassVar[dict[str, list[object]]] = {
        "train": [[f"{n}.png", n % 2] for n in range(50)],
        "test": [["x.png", [0, 1]]],
    }

    @pytest.fixture
    def forks(self, monkeypatch: pytest.MonkeyPatch) -> list[int]:
        """Every split counts as large; the processes forked are listed.

        Threads that earlier tests left waiting (gathering threads) would stop
        the fork: they are not counted.
        """
        monkeypatch.setattr(hashing, "_ASIDE_ENTRIES", 0)
        monkeypatch.setattr(threading, "active_count", lambda: 1)
        forked: list[int] = []
        fork = os.fork

        def counted() -> int:
            pid = fork()
            if pid:
                forked.append(pid)
            return pid

        monkeypatch.setattr(os, "fork", counted)
        return forked

    def test_same_hash_from_the_child(self, forks: list[int]) -> None:
        """The child's hash is `split_sha256`'s, asked for once or twice."""
        with hashing.hash_aside(self.SPLIT) as sha256:
            assert len(forks) == 1
            assert sha256() == sha256() == split_sha256(self.SPLIT)

    def test_child_failing_raises_here(self, forks: list[int]) -> None:
        """An entry JSON cannot hold fails as `split_sha256` fails, in the caller."""
        split = {"train": [["a.png", {1, 2}]]}
        with hashing.hash_aside(split) as sha256, pytest.raises(TypeError, match="set"):
            sha256()
        assert len(forks) == 1

    def test_child_reaped_when_not_asked(self, forks: list[int]) -> None:
        """Leaving the block without the hash (an error) leaves no child behind."""
        with pytest.raises(RuntimeError), hashing.hash_aside(self.SPLIT):
            raise RuntimeError
        [pid] = forks
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)

    def test_no_fork_beside_threads(
        self, forks: list[int], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """With another Python thread running, the hash is computed here."""
        monkeypatch.setattr(threading, "active_count", lambda: 2)
        with hashing.hash_aside(self.SPLIT) as sha256:
            assert sha256() == split_sha256(self.SPLIT)
        assert forks == []

    def test_asked_at_once(
        self, forks: list[int], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Asked before the child is done, this process helps: the same hash."""
        monkeypatch.setattr(hashing, "_CHUNK_ENTRIES", 3)
        split = {"train": [[f"{n}.png", {"y": n}] for n in range(300)], "test": []}
        with hashing.hash_aside(split) as sha256:
            assert sha256() == split_sha256(split)
        assert len(forks) == 1

    def test_report_and_card_hash(self, forks: list[int], tmp_path: Path) -> None:
        """`check` and `card` print the split's hash, computed aside."""
        path = tmp_path / "split.json"
        path.write_text(json.dumps(self.SPLIT))
        card = split_card(path)
        report = summarize_split(self.SPLIT, source=str(path))
        assert card.sha256 == report.sha256 == split_sha256(self.SPLIT)
        assert len(forks) == 2


JSON_ENTRIES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=8,
)


@given(
    st.dictionaries(
        st.sampled_from(["train", "validation", "test", "monitor-é"]),
        st.lists(JSON_ENTRIES, max_size=4),
    )
)
def test_files_from_encoded_entries(sets: dict[str, list[object]]) -> None:
    """A split written from entries encoded once has the bytes of one written whole.

    ``split --folds`` encodes each entry once and lays out every fold file from
    those texts; the files must be those that writing each split would give.
    """
    encoded = {name: hashing.encode_entries(entries) for name, entries in sets.items()}
    assert lines_of_encoded(encoded) == json_lines(sets)
    canonical = {
        name: hashing.encode_entries(entries, canonical=True)
        for name, entries in sets.items()
    }
    assert hashing.encoded_split_sha256(canonical) == split_sha256(sets)


SPLITS = st.dictionaries(
    st.sampled_from(["train", "validation", "test", "monitor-é"]),
    st.lists(JSON_ENTRIES, max_size=12),
)


@given(SPLITS, st.integers(1, 5))
def test_chunks_make_the_canonical_form(
    split: dict[str, list[object]], size: int
) -> None:
    """The chunks a split is hashed by, in order, are its canonical form."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(hashing, "_CHUNK_ENTRIES", size)
        chunks = hashing._chunks(split)
        text = b"".join(hashing._chunk_text(split, chunk) for chunk in chunks)
    assert b"{" + text + b"}" == hashing.canonical_json(split)


@given(SPLITS, st.integers(1, 3))
def test_child_shares_what_is_left(split: dict[str, list[object]], size: int) -> None:
    """Helped at its first chunk, the child hashes half; the digest is the split's.

    The exchange runs in this process: the help request and this process's
    half are written to the pipe before the child's loop reads them.
    """
    requests_read, requests = os.pipe()
    replies, replies_write = os.pipe()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(hashing, "_CHUNK_ENTRIES", size)
        chunks = hashing._chunks(split)
        stop = (len(chunks) + 1) // 2
        rest = b"".join(hashing._chunk_text(split, chunk) for chunk in chunks[stop:])
        message = hashing._HELP
        if stop < len(chunks):
            message += b"%012d" % len(rest) + rest
        os.write(requests, message)
        hashing._hash_in_child(split, requests_read, replies_write)
    os.close(replies_write)
    with os.fdopen(replies, "rb") as answers:
        answer = answers.read()
    for fd in (requests, requests_read):
        os.close(fd)
    told = b"" if not chunks else b"M%012d" % stop
    assert answer == told + b"D" + split_sha256(split).encode()
