"""Work on large splits done aside, in a forked child: the hash and one task."""

import contextlib
import json
import os
import pickle
import re
import threading
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lightsplit_testing import JSON_ENTRIES

from lightsplit import _aside as aside
from lightsplit import _entries as entries
from lightsplit import _report as report
from lightsplit import split_card, split_sha256
from lightsplit._cli import main
from lightsplit._entries import EntryFields, compile_group_pattern
from lightsplit._hashing import canonical_json
from lightsplit._report import examine_split, summarize_split


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
        monkeypatch.setattr(aside, "_ASIDE_ENTRIES", 0)
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
        with aside.hash_aside(self.SPLIT) as sha256:
            assert len(forks) == 1
            assert sha256() == sha256() == split_sha256(self.SPLIT)

    def test_child_failing_raises_here(self, forks: list[int]) -> None:
        """An entry JSON cannot hold fails as `split_sha256` fails, in the caller."""
        split = {"train": [["a.png", {1, 2}]]}
        with aside.hash_aside(split) as sha256, pytest.raises(TypeError, match="set"):
            sha256()
        assert len(forks) == 1

    def test_child_reaped_when_not_asked(self, forks: list[int]) -> None:
        """Leaving the block without the hash (an error) leaves no child behind."""
        with pytest.raises(RuntimeError), aside.hash_aside(self.SPLIT):
            raise RuntimeError
        [pid] = forks
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)

    def test_no_fork_beside_threads(
        self, forks: list[int], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """With another Python thread running, the hash is computed here."""
        monkeypatch.setattr(threading, "active_count", lambda: 2)
        with aside.hash_aside(self.SPLIT) as sha256:
            assert sha256() == split_sha256(self.SPLIT)
        assert forks == []

    def test_asked_at_once(
        self, forks: list[int], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Asked before the child is done, this process helps: the same hash."""
        monkeypatch.setattr(aside, "_CHUNK_ENTRIES", 3)
        split = {"train": [[f"{n}.png", {"y": n}] for n in range(300)], "test": []}
        with aside.hash_aside(split) as sha256:
            assert sha256() == split_sha256(split)
        assert len(forks) == 1

    def test_task_result_then_hash(self, forks: list[int]) -> None:
        """The child's task comes back as its bytes; the hash follows, as ever."""
        result = pickle.dumps(["a", None, "b" * 70_000])  # more than a pipe holds
        with aside.work_aside(self.SPLIT, lambda: result) as work:
            assert work.first() == result
            assert work.first() is None  # given once
            assert work.sha256() == split_sha256(self.SPLIT)
        assert len(forks) == 1

    def test_hash_without_reading_the_task(self, forks: list[int]) -> None:
        """Asked for the hash alone, the parent reads past the task's result."""
        with aside.work_aside(self.SPLIT, lambda: b"x" * 70_000) as work:
            assert work.sha256() == split_sha256(self.SPLIT)
            assert work.first() is None

    def test_task_failing_leaves_it_here(self, forks: list[int]) -> None:
        """A task that fails in the child: ``None``, and the hash computed here."""

        def task() -> bytes:
            raise RuntimeError

        with aside.work_aside(self.SPLIT, task) as work:
            assert work.first() is None
            assert work.sha256() == split_sha256(self.SPLIT)
        assert len(forks) == 1

    def test_child_gone_mid_result(self) -> None:
        """A result cut short (the child killed while writing it): hashed here."""
        pid = os.fork()
        if pid == 0:  # a child that is gone at once
            os._exit(0)
        requests_read, requests = os.pipe()
        replies, replies_write = os.pipe()
        os.write(replies_write, b"R" + b"%012d" % 100 + b"only part")
        for fd in (requests_read, replies_write):
            os.close(fd)
        work = aside.Aside(self.SPLIT, (pid, requests, replies), tasked=True)
        assert (work.tasked, work.first(), work.tasked) == (True, None, False)
        assert work.sha256() == split_sha256(self.SPLIT)
        with pytest.raises(ChildProcessError):  # reaped
            os.waitpid(pid, os.WNOHANG)

    def test_groups_found_aside(
        self, forks: list[int], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """The largest set's groups, found in the child, are those found here.

        Names that differ in letters (`groups_by_shape` does not pay) are
        searched aside.
        """
        letters = "abcdefghijklmnopqrstuvwxyz"
        split: dict[str, list[object]] = {
            "train": [[f"p{n % 7}/{letters[n % 26]}{n}.png", n % 2] for n in range(40)],
            "validation": [["p1/v.png", 0], ["loose.png", 1]],
            "test": [*([f"p{n}/t.png", 1] for n in range(5, 9)), ["x/y.png", 0]],
        }
        fields = EntryFields(group_pattern=compile_group_pattern(r"p(\d+)/"))
        searched: list[int] = []  # the sizes of the sets searched here
        search = entries.path_groups

        def counted(
            paths: list[str | None],
            pattern: re.Pattern[str],
            text: str | None = None,
            *,
            shape: str | None = None,
        ) -> object:
            searched.append(len(paths))
            return search(paths, pattern, text, shape=shape)

        monkeypatch.setattr(entries, "path_groups", counted)
        monkeypatch.setattr(report, "path_groups", counted)
        aside_found = examine_split(split, fields, labels=True)
        assert (len(forks), searched) == (1, [2, 5, 13])  # train's last 27 aside
        monkeypatch.setattr(threading, "active_count", lambda: 2)  # no fork
        here = examine_split(split, fields, labels=True)
        assert (len(forks), searched) == (1, [2, 5, 13, 2, 5, 40])
        assert aside_found == here
        assert [leak.group for leak in here.leaks.group_leaks] == ["1", "5", "6"]

    def test_groups_by_shape_found_here(
        self, forks: list[int], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Names that differ in digits alone are grouped here: the child only hashes."""
        split: dict[str, list[object]] = {
            "train": [[f"p{n % 7}/{n}.png", n % 2] for n in range(40)],
            "test": [["p1/t.png", 1]],
        }
        fields = EntryFields(group_pattern=compile_group_pattern(r"p(\d+)/"))
        tasks: list[object] = []
        work = aside.work_aside

        def listed(
            split: dict[str, list[object]],
            task: Callable[[], bytes] | None,
            *,
            hashing: bool,
        ) -> "contextlib.AbstractContextManager[aside.Aside]":
            tasks.append(task)
            return work(split, task, hashing=hashing)

        monkeypatch.setattr(report, "work_aside", listed)
        found = examine_split(split, fields, labels=True)
        assert (len(forks), tasks) == (1, [None])
        assert found.index["train"].groups == [f"{n % 7}" for n in range(40)]
        assert [leak.group for leak in found.leaks.group_leaks] == ["1"]

    def test_report_and_card_hash(self, forks: list[int], tmp_path: Path) -> None:
        """`check` and `card` print the split's hash, computed aside."""
        path = tmp_path / "split.json"
        path.write_text(json.dumps(self.SPLIT))
        card = split_card(path)
        report = summarize_split(self.SPLIT, source=str(path))
        assert card.sha256 == report.sha256 == split_sha256(self.SPLIT)
        assert len(forks) == 2

    def test_pairs_hashed_from_their_text(
        self, forks: list[int], tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A file of paths and integer labels is hashed from its text, without a
        child: `check` and `card` give the hash of what it holds."""
        split: dict[str, list[object]] = {"train": self.SPLIT["train"]}
        split["test"] = [["x.png", 1]]
        path = tmp_path / "split.json"
        path.write_text(json.dumps(split, indent=2))
        card = split_card(path)
        assert main(["check", str(path), "--json"]) == 0
        checked = json.loads(capsys.readouterr().out)["files"][0]["sha256"]
        assert card.sha256 == checked == split_sha256(split)
        assert forks == []

    def test_task_alone(self, forks: list[int]) -> None:
        """Not asked to hash, the child does its task alone, and the hash is
        computed here; with no task either, no child is started."""
        with aside.work_aside(self.SPLIT, lambda: b"done", hashing=False) as work:
            assert (work.first(), work.sha256()) == (b"done", split_sha256(self.SPLIT))
        assert len(forks) == 1
        with aside.work_aside(self.SPLIT, hashing=False) as work:
            assert (work.first(), work.sha256()) == (None, split_sha256(self.SPLIT))
        assert len(forks) == 1


SPLITS = st.dictionaries(
    st.sampled_from(["train", "validation", "test", "monitor-x"]),
    st.lists(JSON_ENTRIES, max_size=8),
)
NESTED = settings(suppress_health_check=[HealthCheck.too_slow])
"""Nested JSON values can be slow to draw on a busy machine; the tests are not."""


@NESTED
@given(SPLITS, st.integers(1, 5))
def test_chunks_make_the_canonical_form(
    split: dict[str, list[object]], size: int
) -> None:
    """The chunks a split is hashed by, in order, are its canonical form."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(aside, "_CHUNK_ENTRIES", size)
        chunks = aside._chunks(split)
        text = b"".join(aside._chunk_text(split, chunk) for chunk in chunks)
    assert b"{" + text + b"}" == canonical_json(split)


@NESTED
@given(SPLITS, st.integers(1, 3))
def test_child_shares_what_is_left(split: dict[str, list[object]], size: int) -> None:
    """Helped at its first chunk, the child hashes half; the digest is the split's.

    The exchange runs in this process: the help request and this process's
    half are written to the pipe before the child's loop reads them.
    """
    requests_read, requests = os.pipe()
    replies, replies_write = os.pipe()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(aside, "_CHUNK_ENTRIES", size)
        chunks = aside._chunks(split)
        stop = (len(chunks) + 1) // 2
        rest = b"".join(aside._chunk_text(split, chunk) for chunk in chunks[stop:])
        message = aside._HELP
        if stop < len(chunks):
            message += aside._sized(rest)
        os.write(requests, message)
        aside._work_in_child(split, None, requests_read, replies_write, hashing=True)
    os.close(replies_write)
    with os.fdopen(replies, "rb") as answers:
        answer = answers.read()
    for fd in (requests, requests_read):
        os.close(fd)
    told = b"" if not chunks else b"M%012d" % stop
    assert answer == told + b"D" + split_sha256(split).encode()


def test_child_listens_past_descriptor_1023() -> None:
    """A process with many files open still shares the hash (no `select` limit)."""
    import resource  # noqa: PLC0415 - POSIX, as forking is

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 2100:
        pytest.skip(f"this process may open {hard} files, not the 2,100 needed")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 2100), hard))
    split: dict[str, list[object]] = {"train": [[f"{n}.png", n] for n in range(5)]}
    low = os.pipe() + os.pipe()
    high = (2001, 2002, 2003, 2004)
    try:
        for old, new in zip(low, high, strict=True):
            os.dup2(old, new)
            os.close(old)
        requests_read, requests, replies, replies_write = high
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(aside, "_CHUNK_ENTRIES", 1)
            rest = b"".join(
                aside._chunk_text(split, c) for c in aside._chunks(split)[3:]
            )
            os.write(requests, aside._HELP + aside._sized(rest))
            aside._work_in_child(
                split, None, requests_read, replies_write, hashing=True
            )
        os.close(replies_write)
        answer = aside._read_exact(replies, 200)
    finally:
        for fd in high:
            with contextlib.suppress(OSError):
                os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    assert answer == b"M%012d" % 3 + b"D" + split_sha256(split).encode()
