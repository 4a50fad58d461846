"""torch's intra-op threads: running work on one, or on as many as pays.

torch splits a large copy or conversion between its intra-op threads, and each
then waits for all of them. When another process holds a core, that wait costs
far more than the work: on two cores, a cached epoch gathered on two threads
next to one busy process took tens of times longer than on one. Cache builds
run on one intra-op thread per process (their parallelism is several
processes); copies repeated batch after batch run on the count that their own
timings show to be faster at the moment (`ThreadChoice`).
"""

import contextlib
import os
import statistics
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Final, Literal, TypeVar

import torch

__all__ = ["ThreadChoice", "one_intra_op_thread"]

ArgT = TypeVar("ArgT")
ResultT = TypeVar("ResultT")


@contextlib.contextmanager
def one_intra_op_thread() -> Iterator[None]:
    """Run torch on one intra-op thread in this thread for the block's duration.

    The count is set back when the block ends; a thread on one already is left
    alone (setting the count costs microseconds).
    """
    threads = torch.get_num_threads()
    if threads == 1:
        yield
        return
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


_FIRST_TRY: Final = 8
"""Copies after which the other thread count is tried again, at first."""
_LAST_TRY: Final = 1024
"""Copies between two tries of the other count, at most: each time it loses, the
wait doubles, so that a count that stalls (its second thread waiting for a busy
core) is seldom tried."""
_TRIAL: Final = 4
"""Copies a try runs on the other count; the first wakes its threads up, the mean
of the others is its timing. A second copy `_HOPELESS` times slower than the
count in use ends the try at once."""
_HOPELESS: Final = 3.0
_STALLS: Final = 2
"""Timed copies on several threads in a row, each `_HOPELESS` times slower than
the estimate, that count as a stall: one thread is tried next."""
_TIMED: Final = 4
"""Copies on the count in use are timed one in `_TIMED`: a timing costs about
0.6 µs in a tight loop, a few percent of a small batch's copy (25 µs for 64
images of 1x28x28 float32)."""
_SMOOTHING: Final = 0.25
"""Weight of the newest timing in the running estimate of the count in use."""
_LOOK: Final = 0.05
"""Seconds over which the load of other processes is measured, at least..."""
_STALE: Final = 2.0
"""... and at most."""
_STAT: Final = Path("/proc/stat")
# looked up once: `ThreadChoice.run` runs for every batch
_get_num_threads, _set_num_threads = torch.get_num_threads, torch.set_num_threads
_TICK: Final = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _busy_seconds() -> float | None:
    """Return the CPU seconds the system has spent busy, all CPUs together.

    Busy is anything but idle and waiting for I/O: time stolen by the
    hypervisor counts, as no process of this machine can use it. None where
    ``/proc/stat`` is not there.
    """
    try:
        with _STAT.open() as stat:
            fields = stat.readline().split()[1:]
    except OSError:  # pragma: no cover - not Linux
        return None
    ticks = [int(field) for field in fields[:8]]
    return (sum(ticks) - ticks[3] - ticks[4]) / _TICK


class _OtherLoad:
    """Tells how many CPUs other processes kept busy since it last told."""

    def __init__(self) -> None:
        self._then = self._now()
        self.known = self._then is not None
        """Whether this system tells (Linux does, through ``/proc/stat``)."""

    @staticmethod
    def _now() -> tuple[float, float, float] | None:
        busy = _busy_seconds()
        if busy is None:  # pragma: no cover - not Linux
            return None
        times = os.times()
        return time.monotonic(), busy, times.user + times.system

    def cpus(self) -> float | None:
        """Return the CPUs other processes used on average since it last told.

        None when that cannot be told: too little time passed (`_LOOK` at least,
        as the system counts CPU time in ticks of 10 ms), or so much that the
        average says little of now (more than `_STALE`: it starts afresh).
        """
        then = self._then
        if then is None or time.monotonic() - then[0] < _LOOK:
            return None
        now = self._now()
        if now is None:  # pragma: no cover - /proc/stat went away
            return None
        self._then = now
        if now[0] - then[0] > _STALE:
            return None
        busy, own = now[1] - then[1], now[2] - then[2]
        return max(busy - own, 0.0) / (now[0] - then[0])


class ThreadChoice:
    """Chooses the intra-op threads of a copy repeated many times.

    Two counts compete: one thread, and the caller's count (two at most). On a
    quiet machine, two threads copy a batch of images up to twice as fast; when
    another process holds a core, they wait for each other and one thread is
    far faster (see the module docstring). So the load of other processes
    decides, looked at now and then, less often while it stays the same: while
    they keep the spare CPUs busy, one thread; while they leave them free, two
    threads are tried for a few copies and kept if faster per row. Where the
    load cannot be told (not Linux), or when a copy on two threads stalls, the
    other count is tried the same way.
    """

    def __init__(self) -> None:
        self._seconds: dict[int, float] = {}
        """Time per row of each count, lately."""
        self._current = 1
        self._since = 0
        self._wait = _FIRST_TRY
        self._trial: list[float] | None = None
        """Timings of the try under way (of the other count), if one is."""
        self._stalled = False
        self._slow = 0
        """Copies in a row on several threads that took `_HOPELESS` times longer."""
        self._load: _OtherLoad | None = None
        """The load of other processes, watched from the first copy on."""

    def run(self, copy: Callable[[ArgT], ResultT], arg: ArgT, rows: int) -> ResultT:
        """Return ``copy(arg)``, run on the count chosen; time it now and then.

        ``rows`` is the size of the copy, so that copies of several sizes (the
        last batch of an epoch) compare.
        """
        caller = _get_num_threads()
        if caller == 1:
            return copy(arg)
        if self._load is None:
            self._load = _OtherLoad()
        since = self._since = self._since + 1
        timed = True
        if self._trial is None and since < self._wait:
            threads = self._current
            timed = since % _TIMED == 1  # between timed copies: the count, no more
        else:
            threads = self._choose(min(caller, 2))
        start = time.perf_counter() if timed else 0.0
        if threads == caller:
            result = copy(arg)
        else:
            _set_num_threads(threads)
            try:
                result = copy(arg)
            finally:
                _set_num_threads(caller)
        if not timed:
            return result
        seconds = (time.perf_counter() - start) / (rows or 1)
        if self._trial is not None:
            self._record_trial(threads, seconds)
            return result
        old = self._seconds.get(threads, seconds)
        if threads > 1 and seconds > _HOPELESS * old:
            # Copies that stall (a busy core) stall one after the other; one
            # slow copy alone is the machine's noise, and is not averaged in.
            self._slow += 1
            if self._slow >= _STALLS:  # try one thread next, against the stall
                self._since, self._stalled, self._slow = self._wait, True, 0
                self._seconds[threads] = seconds
            return result
        self._slow = 0
        self._seconds[threads] = old + _SMOOTHING * (seconds - old)
        return result

    def _choose(self, most: int) -> int:
        """Return the count for a copy when a try is under way, or a look due."""
        current = self._current
        other = 1 if current > 1 else most
        if self._trial is not None:
            return other
        self._since = 0
        load = self._look(most)
        if load == "soon":  # too little time to tell: look again later
            return current
        if load == "busy":
            self._current = 1
            self._wait = min(2 * self._wait, _LAST_TRY)
            return 1
        if load == "free" and current > 1 and not self._stalled:
            self._wait = min(2 * self._wait, _LAST_TRY)
            return current
        self._trial, self._stalled = [], False
        return other

    def _look(self, most: int) -> Literal["busy", "free", "soon", "unknown"]:
        """Tell whether other processes leave ``most`` CPUs free to this one."""
        load = self._load
        if load is None or not load.known:  # pragma: no cover - not Linux
            return "unknown"
        others = load.cpus()
        if others is None:
            return "soon"
        return "busy" if others > _usable_cpus() - most + 0.5 else "free"

    def _record_trial(self, threads: int, seconds: float) -> None:
        trial = self._trial
        assert trial is not None  # called during a try only
        trial.append(seconds)
        current = self._seconds[self._current]
        hopeless = len(trial) > 1 and seconds > _HOPELESS * current
        if len(trial) < _TRIAL and not hopeless:
            return
        tried = statistics.fmean(trial[1:] or trial)
        self._trial = None
        self._seconds[threads] = tried
        if tried < current:  # the count tried wins: use it, try the other soon
            self._current, self._wait = threads, _FIRST_TRY
        else:
            self._wait = min(2 * self._wait, _LAST_TRY)


def _usable_cpus() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1  # pragma: no cover - macOS, Windows
