import contextlib
import errno
import multiprocessing
import os
import re
import resource
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import NamedTuple

import pytest
import torch
from lightsplit_testing import Entry, KillingLoader, MemoryLoader, entries_named

from lightsplit import CachingDataModule, Sample, SampleLoadError
from lightsplit._cache import build_store
from lightsplit._files import FileInputs
from lightsplit._sources import sources_from_splits

TESTS = Path(__file__).parent


def _report(run: Callable[[], str], sender: Connection) -> None:
    try:
        sender.send(run())
    except Exception as exc:  # the test reads it
        sender.send(f"{type(exc).__name__}: {exc}")


def in_child(run: Callable[[], str]) -> str:
    """Return what ``run`` returns (or raises) in a forked child process.

    A child can lower its own limits without touching this process.
    """
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=_report, args=(run, sender))
    child.start()
    sender.close()
    try:
        result: str = receiver.recv()
    finally:
        child.join()
    return result


class TensorTargetLoader(MemoryLoader):
    """Gives metadata as mednet does: a scalar tensor target and a float vector."""

    def sample(self, raw: Entry) -> Sample:
        """Return the sample of ``raw`` with tensor metadata."""
        number = int(raw[0][1:])
        return Sample(
            super().sample(raw).input,
            {
                "target": torch.tensor(raw[1]),
                "vec": torch.tensor([number / 2, 1.0]),
                "name": raw[0],
            },
        )


@dataclass
class LeakingLoader(MemoryLoader):
    """Opens a file for each sample and never closes it."""

    kept: list[int] = field(default_factory=list)

    def sample(self, raw: Entry) -> Sample:
        """Return the sample of ``raw``, keeping one more file open."""
        self.kept.append(os.open(os.devnull, os.O_RDONLY))
        return super().sample(raw)


@dataclass
class ExitingLoader(MemoryLoader):
    """Exits its process on ``victim``, unless it is the main process: with code 3
    at once, or with ``sys.exit(0)`` as a script would (``script``)."""

    victim: str = ""
    main_pid: int = 0
    script: bool = False

    def sample(self, raw: Entry) -> Sample:
        """Load ``raw``, or exit."""
        if raw[0] == self.victim and os.getpid() != self.main_pid:
            if self.script:
                sys.exit(0)
            os._exit(3)
        return super().sample(raw)


class TwoPartError(Exception):
    """An exception that pickles, but does not unpickle (it needs two arguments)."""

    def __init__(self, first: str, second: str) -> None:
        super().__init__(f"{first} {second}")


class Unsendable:
    """A metadata value that cannot leave its process."""

    def __reduce__(self) -> tuple[object, ...]:
        first = "cannot"
        raise TwoPartError(first, "send")


def _local_box() -> Callable[[torch.Tensor], tuple[torch.Tensor]]:
    class Box(NamedTuple):  # made in a function: pickle cannot find it by name
        x: torch.Tensor

    return Box


_BOX = _local_box()


class LocalBoxLoader(MemoryLoader):
    """Gives metadata that default_collate batches, but pickle cannot send."""

    def sample(self, raw: Entry) -> Sample:
        """Return the sample of ``raw`` with a ``Box`` of its label."""
        box = _BOX(torch.tensor(raw[1]))
        return Sample(super().sample(raw).input, {"box": box})


class UnsendableLoader(MemoryLoader):
    """Gives metadata that cannot be pickled."""

    def sample(self, raw: Entry) -> Sample:
        """Return the sample of ``raw`` with an ``Unsendable`` value."""
        return Sample(super().sample(raw).input, {"odd": Unsendable()})


def _two_parts(first: str) -> object:
    raise TwoPartError(first, "receive")


class Unreceivable:
    """A metadata value that pickles, but does not unpickle."""

    def __reduce__(self) -> tuple[object, ...]:
        return (_two_parts, ("cannot",))


class UnreceivableLoader(MemoryLoader):
    """Gives metadata that pickles, but does not unpickle."""

    def sample(self, raw: Entry) -> Sample:
        """Return the sample of ``raw`` with an ``Unreceivable`` value."""
        return Sample(super().sample(raw).input, {"odd": Unreceivable()})


@dataclass(frozen=True)
class UnmappableInputs(FileInputs):
    """A cache file that only the main process can map."""

    main_pid: int = 0

    def map(self, shape: Sequence[int], dtype: torch.dtype) -> torch.Tensor:
        """Map the inputs region, or fail in any other process."""
        if os.getpid() != self.main_pid:
            raise PermissionError(errno.EACCES, "not in a build process", self.path)
        return super().map(shape, dtype)


# torch's SIGCHLD handler raises again when the other worker exits; when that
# lands inside a garbage-collector callback, Python can only print it
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_killed_loader_worker() -> None:
    """A loader worker killed by a signal ends the epoch with an error, no hang."""
    loader = KillingLoader(victim="x5", main_pid=os.getpid())
    module = CachingDataModule({"test": entries_named("x", 12)}, loader, parallel=2)
    with pytest.raises(
        SampleLoadError, match="set `test`: a loader worker process died"
    ):
        list(module.test_dataloader()["test"])


class BoxesLoader(MemoryLoader):
    """Gives each sample as many boxes as its number: lists of several lengths."""

    def sample(self, raw: Entry) -> Sample:
        number = int(raw[0][1:])
        return Sample(torch.zeros(2), {"boxes": [[0, 0, 1, 1]] * number})


@pytest.mark.parametrize(
    ("cache", "parallel"), [(False, -1), (False, 1), (True, -1), (True, 2)]
)
def test_uncollated_metadata_named(cache: bool, parallel: int) -> None:
    """Metadata that cannot be collated into a batch is said so, naming the
    samples, in a worker too, where it used to read as a worker that died."""
    module = CachingDataModule(
        {"test": entries_named("x", 4)},
        BoxesLoader(),
        batch_size=2,
        cache_samples=cache,
        parallel=parallel,
    )
    module.setup("test")
    with pytest.raises(SampleLoadError) as exc_info:
        list(module.test_dataloader()["test"])
    assert str(exc_info.value) == (
        'set `test`, index 1, entry ["x1", 1]: metadata `boxes` is a list of 1 items '
        "but of 0 in the batch's first sample (set `test`, index 0, entry "
        '["x0", 0]); give `boxes` values of one structure in every sample (dicts of '
        "one set of keys, lists of one length), or use a `batch_size` of 1"
    )


def test_killed_build_process() -> None:
    """A cache build process killed by a signal fails the build, naming the signal."""
    # the build process takes the first spans, this process decodes from the end
    loader = KillingLoader(victim="x1", main_pid=os.getpid())
    module = CachingDataModule(
        {"test": entries_named("x", 64)}, loader, parallel=2, cache_samples=True
    )
    with pytest.raises(SampleLoadError) as exc_info:
        module.setup("test")
    assert str(exc_info.value) == (
        "set `test`: a cache build process was killed by SIGKILL while loading "
        "samples (the out-of-memory killer sends SIGKILL: check memory use); try "
        "again, or set `parallel=-1` to load in this process"
    )


def test_exited_build_process() -> None:
    """A cache build process that exits is reported with its exit code, not killed."""
    loader = ExitingLoader(victim="x1", main_pid=os.getpid())
    module = CachingDataModule(
        {"test": entries_named("x", 64)}, loader, parallel=2, cache_samples=True
    )
    with pytest.raises(
        SampleLoadError,
        match=re.escape(
            "set `test`: a cache build process exited with code 3 while loading "
            "samples (does the loader end its process?)"
        ),
    ):
        module.setup("test")


def test_unsendable_metadata_names_sample_key_and_cause() -> None:
    """Metadata that cannot leave a build process names the sample, key and why.

    The loader's exception is the cause, even one that does not unpickle.
    """
    module = CachingDataModule(
        {"test": entries_named("x", 64)},
        UnsendableLoader(),
        parallel=2,
        cache_samples=True,
    )
    with pytest.raises(SampleLoadError) as exc_info:
        module.setup("test")
    # the build process loads the first spans, whichever ends first
    assert re.fullmatch(
        r'set `test`, index \d+, entry \["x\d+", [01]\]: metadata `odd` cannot be '
        r"sent from a cache build process to this one \(TwoPartError: cannot "
        r"send\); give it values of types that pickle finds by name \(classes "
        r"defined at the top level of a module\), or load in this process "
        r"\(`parallel=-1`\)",
        str(exc_info.value),
    )
    assert "raised in a cache build process" in str(exc_info.value.__cause__)


_FIRST_BATCH: str = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, sys.argv[1])
    from lightsplit_testing import entries_named
    from test_faults import LocalBoxLoader
    from lightsplit import CachingDataModule, SampleLoadError

    module = CachingDataModule(
        {"test": entries_named("x", 64)},
        LocalBoxLoader(),
        parallel=2,
        cache_samples=sys.argv[2] == "cache",
    )
    try:
        next(iter(module.test_dataloader()["test"]))
    except SampleLoadError as error:
        print(error)
    """
)
"""Serves the first batch of a set whose metadata pickle cannot send, or says why."""


@pytest.mark.parametrize("cache", [False, True])
def test_metadata_of_a_local_class_from_other_processes(cache: bool) -> None:
    """A value of a class made in a function, which default_collate batches but
    pickle cannot send, fails naming the key: a loader worker would otherwise
    have its batch dropped by torch, and the loader wait for it forever (hence
    a process of its own, given two minutes)."""
    said = subprocess.run(
        [sys.executable, "-c", _FIRST_BATCH, str(TESTS), "cache" if cache else ""],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    process = "a cache build process" if cache else "a loader worker process"
    assert re.fullmatch(
        r'set `test`, index \d+, entry \["x\d+", [01]\]: metadata `box` cannot '
        f"be sent from {process} to this one "
        r"\((Pickling|Attribute)Error: Can't (pickle|get local object) "
        r".*_local_box.<locals>.Box.*\); "
        "give it values of types that pickle finds by name.*\n",
        said,
    )


def test_unreceivable_result_names_its_cause() -> None:
    """A build process whose result cannot be received is reported with the cause."""
    module = CachingDataModule(
        {"test": entries_named("x", 64)},
        UnreceivableLoader(),
        parallel=2,
        cache_samples=True,
    )
    with pytest.raises(
        SampleLoadError,
        match=r"set `test`, samples? \d+(-\d+)?: the result of a cache build "
        r"process could not be received \(TwoPartError: cannot receive\); give "
        r"metadata values that pickle and unpickle, or load in this process "
        r"\(`parallel=-1`\)",
    ):
        module.setup("test")


def test_build_process_that_cannot_start(tmp_path: Path) -> None:
    """A build process that cannot map the cache file raises the error it got."""
    source = sources_from_splits({"test": [(entries_named("x", 64), MemoryLoader())]})
    target = UnmappableInputs(tmp_path / "cache", 4096, main_pid=os.getpid())
    with pytest.raises(PermissionError, match="not in a build process"):
        build_store(source["test"], workers=2, target=target)


def test_parallel_tensor_metadata_under_256_open_files() -> None:
    """4,096 samples with tensor metadata build in 2 processes under 256 files."""
    source = sources_from_splits(
        {"test": [(entries_named("m", 4096), TensorTargetLoader())]}
    )["test"]

    def build() -> str:
        _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))
        parallel, serial = build_store(source, workers=2), build_store(source)
        indices = torch.randperm(4096, generator=torch.Generator().manual_seed(0))
        for start in range(0, 4096, 64):
            batch = indices[start : start + 64]
            left, right = parallel.gather(batch), serial.gather(batch)
            tensors = [(left.input, right.input)] + [
                (left.metadata[key], right.metadata[key]) for key in ("target", "vec")
            ]
            if left.metadata["name"] != right.metadata["name"] or not all(
                a.dtype == b.dtype and torch.equal(a, b) for a, b in tensors
            ):
                return f"batch {batch.tolist()[:4]}... differs"
        return "same"

    assert in_child(build) == "same"


def test_too_many_open_files() -> None:
    """Running out of file descriptors is said so, with the limit and the fixes."""
    source = sources_from_splits({"test": [(entries_named("x", 400), LeakingLoader())]})

    def build() -> str:
        limit = len(os.listdir("/proc/self/fd")) + 40
        _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (limit, hard))
        try:
            build_store(source["test"], workers=2)
        except SampleLoadError as exc:
            return f"{limit} {hard} {exc}"
        return "built"

    if not Path("/proc/self/fd").is_dir():
        pytest.skip("needs /proc")
    limit, hard, message = in_child(build).split(" ", 2)
    wanted = min(4096, int(hard)) if int(hard) != resource.RLIM_INFINITY else 4096
    assert re.fullmatch(r'set `test`, index \d+, entry \["x\d+", [01]\]: .*', message)
    assert message.endswith(
        f": too many open files (the limit, `ulimit -n`, is {limit}); raise it "
        f"(`ulimit -n {wanted}` before starting Python), lower `parallel`, or make "
        "the loader close the files it opens"
    )


def test_full_disk_falls_back_to_memory(tmp_path: Path) -> None:
    """A cache file that cannot be written (disk full) leaves the cache in memory."""
    script = textwrap.dedent(
        f"""
        import resource, signal, sys, warnings
        sys.path.insert(0, {str(TESTS)!r})
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of death
        # room for the shared-memory cache, not for the whole cache file
        resource.setrlimit(resource.RLIMIT_FSIZE, (60_000, 60_000))
        from lightsplit_testing import MemoryLoader, entries_named
        from lightsplit import CachingDataModule, LightsplitWarning

        module = CachingDataModule({{"test": entries_named("x", 2000)}}, MemoryLoader(),
                                   cache_samples=True, cache_dir={str(tmp_path)!r})
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            module.setup("test")
        loader = module.test_dataloader()["test"]
        names = [n for b in loader for n in b.metadata["name"]]
        assert names == [f"x{{i}}" for i in range(2000)], names[:5]
        print([str(w.message) for w in caught if w.category is LightsplitWarning])
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "caching in memory only" in result.stdout
    assert "File too large" in result.stdout
    assert list(tmp_path.glob("*.lscache")) == []


@pytest.mark.parametrize("persistent", [False, True])
def test_wrong_shape_sample_is_never_cached_silently(
    persistent: bool, tmp_path: Path
) -> None:
    """A sample of another shape fails to batch, named with its entry: never cut."""
    loader = MemoryLoader(shapes={"x3": (3, 2)})
    module = CachingDataModule(
        {"test": entries_named("x", 6)},
        loader,
        cache_samples=True,
        cache_dir=tmp_path if persistent else None,
        batch_size=2,
    )
    with pytest.raises(
        SampleLoadError,
        match=re.escape(
            'set `test`, index 3, entry ["x3", 1]: input is (3, 2) torch.float32 but '
            "(2, 3) torch.float32 in the batch's first sample (set `test`, index 2, "
            'entry ["x2", 0])'
        ),
    ):
        list(module.test_dataloader()["test"])


_PRE_EMPTED: str = textwrap.dedent(
    """
    import sys, time
    sys.path.insert(0, sys.argv[1])
    from lightsplit_testing import MemoryLoader, entries_named
    from lightsplit import CachingDataModule

    class Slow(MemoryLoader):
        def sample(self, raw):
            time.sleep(0.05)
            return super().sample(raw)

    module = CachingDataModule(
        {"test": entries_named("x", 400)}, Slow(), parallel=2, cache_samples=True
    )
    print("building", flush=True)
    module.setup("test")
    """
)
"""Builds a slow cache with a build process, to be killed while it does."""


def _children(parent: int) -> list[int]:
    """Return the processes whose parent is ``parent`` (read from /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # it ended meanwhile
            continue
        if int(fields[1]) == parent:
            found.append(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux's prctl")
def test_build_process_ends_with_a_killed_parent() -> None:
    """A pre-empted job's build process ends too, not holding the cache forever."""
    with subprocess.Popen(
        [sys.executable, "-c", _PRE_EMPTED, str(TESTS)],
        stdout=subprocess.PIPE,
        text=True,
    ) as job:
        assert job.stdout is not None
        assert job.stdout.readline() == "building\n"
        deadline = time.monotonic() + 60
        while not (helpers := _children(job.pid)) and time.monotonic() < deadline:
            time.sleep(0.05)  # the build process starting
        assert helpers
        job.kill()
    deadline = time.monotonic() + 30
    while any(map(_alive, helpers)) and time.monotonic() < deadline:
        time.sleep(0.05)
    left = [pid for pid in helpers if _alive(pid)]
    for pid in left:
        os.kill(pid, 9)  # not to leave them to the next tests
    assert left == []


def test_sys_exit_in_a_build_process() -> None:
    """A loader's ``sys.exit`` in a build process fails the sample, named.

    The pool would hand the exit to this process, which would end, status 0,
    as if the run had succeeded.
    """
    loader = ExitingLoader(victim="x1", main_pid=os.getpid(), script=True)
    module = CachingDataModule(
        {"test": entries_named("x", 64)}, loader, parallel=2, cache_samples=True
    )
    with pytest.raises(SampleLoadError) as exc_info:
        module.setup("test")
    assert str(exc_info.value) == (
        'set `test`, index 1, entry ["x1", 1]: the loader called `sys.exit(0)` in a '
        "cache build process; a loader must raise an exception, not end its process"
    )


def test_sys_exit_in_a_loader_worker() -> None:
    """A loader's ``sys.exit`` in a worker process of an uncached set fails the
    sample, named, as in a build process (the worker died, and torch's error
    named no sample)."""
    loader = ExitingLoader(victim="x1", main_pid=os.getpid(), script=True)
    module = CachingDataModule({"test": entries_named("x", 8)}, loader, parallel=1)
    module.setup("test")
    with pytest.raises(SampleLoadError) as exc_info:
        list(module.test_dataloader()["test"])
    assert (
        'set `test`, index 1, entry ["x1", 1]: the loader called `sys.exit(0)` in a '
        "loader worker process; a loader must raise an exception, not end its process"
    ) in str(exc_info.value)


_STUCK: str = textwrap.dedent(
    """
    import faulthandler, os, signal, sys, time
    sys.path.insert(0, sys.argv[1])
    faulthandler.dump_traceback_later(60)  # where it waits, should it hang
    # Ctrl-C raises KeyboardInterrupt, as in a terminal: a parent started in the
    # background (`cmd &`) passes SIGINT on ignored, and Python then keeps it so
    signal.signal(signal.SIGINT, signal.default_int_handler)
    from lightsplit_testing import MemoryLoader, entries_named
    from lightsplit import CachingDataModule, SampleLoadError

    MAIN = os.getpid()

    class Stuck(MemoryLoader):
        def sample(self, raw):
            if raw[0] == "x1" and os.getpid() != MAIN:
                open(sys.argv[3], "w").close()
                print("stuck", flush=True)
                time.sleep(10**6)  # a read that never returns, in the build process
            if raw[0] == "x63" and sys.argv[2] != "interrupt":  # here, first
                # the build process stuck, and the test has seen its processes
                while not os.path.exists(sys.argv[3] + ".seen"):
                    time.sleep(0.01)
                if sys.argv[2].startswith("fail"):
                    raise OSError("cannot read x63")
            return super().sample(raw)

    class Between:  # progress whose update is interrupted: between two spans
        def __init__(self, *args, **kwargs): pass
        def __enter__(self): return self
        def __exit__(self, *args): return False
        def update(self, count):
            if count and os.path.exists(sys.argv[3]):
                while not os.path.exists(sys.argv[3] + ".seen"):
                    time.sleep(0.01)
                raise KeyboardInterrupt

    def ignored(*args):  # as a job's "bypassing SIGTERM" handler does
        open(sys.argv[3] + ".ignored", "w").close()

    if sys.argv[2] == "fail-ignoring-sigterm":  # forked into the build process
        signal.signal(signal.SIGTERM, ignored)
    if sys.argv[2] == "interrupt-between-spans":
        import lightsplit._cache
        lightsplit._cache.tqdm = Between

    module = CachingDataModule(
        {"test": entries_named("x", 64)}, Stuck(), parallel=2, cache_samples=True
    )
    try:
        module.setup("test")
    except SampleLoadError as error:
        print(error, flush=True)
    """
)
"""A cache build whose build process never returns from the loader."""


@pytest.mark.parametrize(
    "ending",
    ["fail", "fail-ignoring-sigterm", "interrupt", "interrupt-between-spans"],
)
def test_stuck_build_process_does_not_hold_the_end(tmp_path: Path, ending: str) -> None:
    """An error here, or an interrupt of this process alone (``kill -INT``, a
    notebook's "interrupt"), ends the build at once, the stuck build process
    with it: nothing waits for its span. Also an interrupt that lands between
    two spans, outside the code that runs the build processes (made certain
    here by a progress bar that raises it), and with a SIGTERM handler that
    does not exit (a job's "bypassing SIGTERM"), which build processes do not
    keep."""
    errors = tmp_path / "stderr"
    with (
        errors.open("w") as stderr,
        subprocess.Popen(
            [sys.executable, "-c", _STUCK, str(TESTS), ending, str(tmp_path / "stuck")],
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        ) as job,
    ):
        assert job.stdout is not None
        helpers: list[int] = []
        status: int | None = None
        try:
            assert job.stdout.readline() == "stuck\n"
            helpers = _children(job.pid)
            # before it fails: ended at once, its processes could be gone already
            (tmp_path / "stuck.seen").touch()
            if ending == "interrupt":
                job.send_signal(signal.SIGINT)
            with contextlib.suppress(subprocess.TimeoutExpired):
                status = job.wait(timeout=120)  # a guard: it ends at once, or never
        finally:
            job.kill()
        said = job.stdout.read()
    assert status is not None, errors.read_text()  # its threads' stacks, if stuck
    deadline = time.monotonic() + 30
    while any(map(_alive, helpers)) and time.monotonic() < deadline:
        time.sleep(0.05)
    left = [pid for pid in helpers if _alive(pid)]
    for pid in left:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)  # not to leave them to the next tests
    if ending.startswith("fail"):
        assert status == 0
        # a build process forked with a handler that ignores SIGTERM ends anyway,
        # at once: the handler is not there
        assert not (tmp_path / "stuck.ignored").exists()
        assert said.endswith(
            'set `test`, index 63, entry ["x63", 1]: OSError: cannot read x63\n'
        )
    else:
        assert status != 0  # ended by the interrupt
    assert helpers
    assert left == []
