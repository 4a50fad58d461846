"""Serving a cached set: large batches gathered ahead by threads, into reused outputs.

A cached batch is one ``index_select`` per tensor, a memory copy. For large
batches (more than `THREADED_BYTES` of inputs), two things decide how fast it
runs, and both are settled here rather than by torch's intra-op threads:

- *Threads that never wait for each other.* torch splits a copy between its
  intra-op threads, and each copy then waits for all of them: when another
  process holds a core, that wait costs far more than the copy (tens of times,
  measured on two cores). Here each gathering thread copies whole batches on
  one intra-op thread: on a quiet machine two batches are copied at once, on a
  busy one each thread goes as fast as the core it gets, and the batches
  gathered ahead overlap with whatever the consumer does with the current one.
- *Outputs that exist already.* A new batch is new memory, which the allocator
  of a thread takes from the system and gives back, page by page; a buffer of
  an earlier batch costs none of that. A buffer is reused only once nothing
  references its memory any more: a batch the consumer still holds, or any
  view of it, is never written over (the buffer is left to it, and another
  one made).

Smaller batches are gathered in the consumer's thread when it asks for them (see
`CachedDataset.batches`): handing them to a thread would cost more than the copy.
"""

import atexit
import os
import queue
import threading
from collections import deque
from collections.abc import Callable, Generator, Iterable
from concurrent.futures import Future
from typing import Any, Final, TypeAlias, TypeVar

import torch
from torch import Tensor

__all__ = [
    "GATHER_THREADS",
    "THREADED_BYTES",
    "GatheringThreads",
    "OutputBuffers",
    "gather_ahead",
    "gathering_threads",
    "output_buffers",
    "pinned_buffers",
]

ResultT = TypeVar("ResultT")

THREADED_BYTES: Final = 8 << 20
"""Batches whose inputs take more bytes are gathered ahead, in threads (below, the
hand-over to a thread costs more than two copies at once save, on two cores)."""
GATHER_THREADS: Final = 2
"""Threads that gather batches, at most (one per CPU this process may use)."""
_AHEAD: Final = GATHER_THREADS
"""Batches set out past the one asked for: one per thread."""
_HELD: Final = 2
"""Batches a consumer may hold while asking for the next (Lightning holds 2)."""

_Key: TypeAlias = tuple[tuple[int, ...], torch.dtype]
_Task: TypeAlias = tuple[Callable[[], object], Future[Any]]


def _use_count(tensor: Tensor) -> int:
    """Return how many tensors and storage objects hold the memory of ``tensor``."""
    # torch has no public count of a storage's holders; its CUDA graphs use this one
    storage = tensor.untyped_storage()
    count: int = torch._C._storage_Use_Count(storage._cdata)
    return count


def _sent_away(tensor: Tensor) -> bool:
    """Whether the memory of ``tensor`` went to shared memory, for another process.

    torch moves a tensor's memory into shared memory, in place, when it sends
    the tensor to another process (a ``torch.multiprocessing`` queue): that
    process may read it for as long as it likes, and no count of this one's
    says when it is done.
    """
    return bool(tensor.untyped_storage().is_shared())


class OutputBuffers:
    """Output tensors for gathered batches, reused once nothing else holds them.

    Up to ``keep`` buffers are kept per row shape and dtype. `take` hands out a
    view of a kept buffer that no tensor but the kept one references (the batch
    it last held, and every view of that batch, are gone), else of a new one:
    what a consumer holds is never written over. A buffer whose batch was sent
    to another process (its memory made shared) is never reused.

    ``pinned`` buffers are page-locked, for batches copied to a CUDA device
    without blocking: each is new, from torch's pinned-memory allocator, which
    reuses a block only once the copies that read it are done (a batch let go
    here may still be on its way to the device).
    """

    def __init__(self, *, keep: int, pinned: bool = False) -> None:
        self._keep = keep
        self.pinned = pinned
        self._kept: dict[_Key, list[tuple[Tensor, int]]] = {}
        self._lock = threading.Lock()

    def take(self, rows: int, row: tuple[int, ...], dtype: torch.dtype) -> Tensor:
        """Return a tensor of ``rows`` rows of shape ``row``, free to write into."""
        if self.pinned:
            return torch.empty((rows, *row), dtype=dtype, pin_memory=True)
        with self._lock:
            kept = self._kept.setdefault((row, dtype), [])
            kept[:] = [pair for pair in kept if not _sent_away(pair[0])]
            small: int | None = None
            for position, (buffer, free) in enumerate(kept):
                if _use_count(buffer) != free:
                    continue
                if len(buffer) >= rows:
                    return buffer[:rows]
                small = position
            buffer = torch.empty((rows, *row), dtype=dtype)
            if small is not None:  # a free buffer too small for this batch
                del kept[small]
            if len(kept) < self._keep:
                kept.append((buffer, _use_count(buffer)))
            return buffer[:rows]

    def clear(self) -> None:
        """Drop every kept buffer (the batches handed out stay valid)."""
        with self._lock:
            self._kept.clear()


class GatheringThreads:
    """Daemon threads that run tasks in turn, each with one torch intra-op thread.

    torch's thread count is set per thread, but setting it also changes the
    default of threads started later: once the threads have set theirs, the
    caller's count is set again, which restores that default.
    """

    def __init__(self, count: int) -> None:
        self._tasks: queue.SimpleQueue[_Task | None] = queue.SimpleQueue()
        threads = torch.get_num_threads()
        started = [threading.Event() for _ in range(count)]
        self._threads = [
            threading.Thread(
                target=self._run,
                args=(event,),
                name=f"lightsplit-gather-{number}",
                daemon=True,
            )
            for number, event in enumerate(started)
        ]
        for thread in self._threads:
            thread.start()
        for event in started:
            event.wait()
        torch.set_num_threads(threads)
        atexit.register(self.stop)

    def _run(self, started: threading.Event) -> None:
        # torch sets a thread's count from the default on the thread's first use:
        # that first, then one thread, which later defaults do not change
        torch.get_num_threads()
        torch.set_num_threads(1)
        started.set()
        while (job := self._tasks.get()) is not None:
            _run_task(*job)
            del job  # the batch is the consumer's alone: its buffer frees with it

    def submit(self, task: Callable[[], ResultT]) -> "Future[ResultT]":
        """Run ``task`` in one of the threads; return its future."""
        future: Future[ResultT] = Future()
        self._tasks.put((task, future))
        return future

    def stop(self) -> None:
        """End the threads once the tasks given are done (at exit, before torch).

        A thread still running torch code while the interpreter ends can abort
        the process: they are stopped and waited for while the interpreter runs.
        """
        for _ in self._threads:
            self._tasks.put(None)
        for thread in self._threads:
            if thread is not threading.current_thread():
                thread.join()
        atexit.unregister(self.stop)


def _run_task(task: Callable[[], object], future: "Future[Any]") -> None:
    if not future.set_running_or_notify_cancel():
        return
    try:
        result = task()
    except BaseException as exc:  # handed to the consumer
        future.set_exception(exc)
    else:
        future.set_result(result)


class _Shared:
    """This process's gathering threads and output buffers, made on first use."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Forget them: in a forked child, its parent's threads do not exist."""
        self.lock = threading.Lock()
        self.threads: GatheringThreads | None = None
        self.buffers: OutputBuffers | None = None
        self.pinned: OutputBuffers | None = None


_SHARED: Final = _Shared()
if hasattr(os, "register_at_fork"):  # pragma: no branch - every POSIX system
    os.register_at_fork(after_in_child=_SHARED.reset)


def _usable_cpus() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1  # pragma: no cover - macOS, Windows


def gathering_threads() -> GatheringThreads | None:
    """Return this process's gathering threads; none on a single CPU."""
    count = min(GATHER_THREADS, _usable_cpus())
    if count < 2:  # noqa: PLR2004 - on one CPU, a thread only adds hand-overs
        return None
    with _SHARED.lock:
        if _SHARED.threads is None:
            _SHARED.threads = GatheringThreads(count)
        return _SHARED.threads


def output_buffers() -> OutputBuffers:
    """Return this process's output buffers, shared by every cached set."""
    with _SHARED.lock:
        if _SHARED.buffers is None:
            _SHARED.buffers = OutputBuffers(keep=_AHEAD + _HELD)
        return _SHARED.buffers


def pinned_buffers() -> OutputBuffers:
    """Return this process's page-locked outputs, for batches bound to a GPU."""
    with _SHARED.lock:
        if _SHARED.pinned is None:
            _SHARED.pinned = OutputBuffers(keep=0, pinned=True)
        return _SHARED.pinned


def gather_ahead(
    tasks: Iterable[Callable[[], ResultT]], threads: GatheringThreads
) -> Generator[ResultT, None, None]:
    """Yield the result of each task of ``tasks``, in order, run ahead by ``threads``.

    Tasks are set out up to `_AHEAD` past the one whose result is asked for.
    ``tasks`` is read in this thread only, as results are asked for: the
    consumer's thread alone touches what makes the tasks (a sampler, say).

    An exception raised by a task is raised when its result is asked for.
    Results of tasks run ahead and never asked for (the consumer stopped) are
    dropped.
    """
    items = iter(tasks)
    pending: deque[Future[ResultT]] = deque()
    try:
        while True:
            while len(pending) <= _AHEAD:
                task = next(items, None)
                if task is None:
                    break
                pending.append(threads.submit(task))
            if not pending:
                return
            yield pending.popleft().result()
    finally:
        for waiting in pending:
            waiting.cancel()
