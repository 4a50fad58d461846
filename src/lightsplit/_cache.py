"""Building a set's cache: loading every sample into a shared store, in parallel.

Build processes write inputs straight into the shared buffer, and send back
each span's metadata packed by key (`pack_values`) and pickled by value into
bytes: whatever the metadata holds, nothing crosses through a file descriptor
of its own, as torch would share each tensor.
"""

import contextlib
import ctypes
import errno
import io
import logging
import os
import pickle
import resource
import signal
import sys
import time
import traceback
from collections import deque
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from multiprocessing.process import BaseProcess
from types import NotImplementedType, TracebackType
from typing import Any, Final, NamedTuple, TypeAlias

import torch
from torch import Tensor
from tqdm import tqdm

from ._errors import SampleLoadError
from ._files import FileInputs
from ._generators import derived_seed, generators_kept, seed_generators
from ._memory import check_cache_fits, format_bytes, release_free_memory
from ._metadata import MetadataRules, Packed, SpanPacker, pack_values
from ._processes import start_context
from ._sample import ModelTransform, Sample
from ._sources import SetSource
from ._stores import (
    ContiguousStore,
    RaggedStore,
    SampleStore,
    anonymous_shared_memory,
    join_columns,
    shared_empty,
)
from ._threads import one_intra_op_thread
from ._workererrors import WorkerFailure, unsent_metadata

__all__ = ["build_store"]

_LOG: Final = logging.getLogger("lightsplit")
_QUEUED: Final = 2
"""Spans handed to each build process ahead: one to work on, one waiting."""
_OPEN_FILES_SIGNS: Final = ("Too many open files", "received 0 items of ancdata")
"""How running out of file descriptors reads: EMFILE, or torch failing to get one."""
_RETRY: Final = "try again, or set `parallel=-1` to load in this process"


def _sample_bytes(sample: Sample) -> int:
    tensors = [value for value in sample.metadata.values() if isinstance(value, Tensor)]
    return (
        sample.input.nbytes + sum(t.nbytes for t in tensors) + 64 * len(sample.metadata)
    )


def _too_many_files(exc: BaseException) -> bool:
    """Tell whether ``exc``, or an exception it chains to, is out of descriptors."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno == errno.EMFILE:
            return True
        if any(sign in str(current) for sign in _OPEN_FILES_SIGNS):
            return True
        current = current.__cause__ or current.__context__
    return False


def _open_files_error(where: str) -> SampleLoadError:
    """Report running out of file descriptors at ``where``, with the limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        wanted = max(4 * soft, 4096)
        wanted = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        limit = f"(the limit, `ulimit -n`, is {soft})"
        fix = f"raise it (`ulimit -n {wanted}` before starting Python)"
    else:
        limit = f"(the limit, `ulimit -n`, is {soft}, also its hard limit)"
        fix = "ask for a higher hard limit"
    msg = (
        f"{where}: too many open files {limit}; {fix}, lower `parallel`, or make "
        "the loader close the files it opens"
    )
    return SampleLoadError(msg)


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _pool_broken(
    name: str, exc: BrokenProcessPool, processes: Sequence[BaseProcess]
) -> SampleLoadError:
    """Report why the build processes stopped: its cause, a signal, or an exit.

    Once one build process is gone, the pool stops the others with ``SIGTERM``:
    another signal, or an exit code, tells the process that went first.
    """
    where = f"set `{name}`"
    if _too_many_files(exc):
        return _open_files_error(where)
    if exc.__cause__ is not None:  # a result this process could not receive
        lines = [line for line in str(exc.__cause__).splitlines() if line.strip("' ")]
        msg = (
            f"{where}: the result of a cache build process could not be received "
            f"({lines[-1] if lines else exc}); {_RETRY}"
        )
        return SampleLoadError(msg)
    codes = [code for code in (p.exitcode for p in processes) if code is not None]
    signals = [-code for code in codes if code < 0]
    exits = [code for code in codes if code > 0]
    killed = [number for number in signals if number != signal.SIGTERM]
    killed = killed or ([] if exits else signals)
    if killed:
        number = killed[0]
        hint = " (the out-of-memory killer sends SIGKILL: check memory use)"
        msg = (
            f"{where}: a cache build process was killed by {_signal_name(number)} "
            f"while loading samples{hint if number == signal.SIGKILL else ''}; "
            f"{_RETRY}"
        )
    else:
        msg = (
            f"{where}: a cache build process exited with code "
            f"{exits[0] if exits else 0} while loading samples (does the loader "
            f"end its process?); {_RETRY}"
        )
    return SampleLoadError(msg)


def _tensor_from_bytes(
    dtype: torch.dtype, shape: tuple[int, ...], data: bytearray
) -> Tensor:
    if not data:
        return torch.empty(shape, dtype=dtype)
    return torch.frombuffer(data, dtype=dtype).view(shape)


class _SpanPickler(pickle.Pickler):
    """Pickles CPU tensors by value, as raw bytes: no shared memory, no descriptor.

    ``pickle`` copies any tensor by value, through ``torch.save``; raw bytes cost
    far less to write and read.
    """

    def reducer_override(
        self, obj: object
    ) -> (
        tuple[Callable[..., Tensor], tuple[torch.dtype, tuple[int, ...], bytearray]]
        | NotImplementedType
    ):
        """Reduce a plain CPU tensor to its dtype, shape and bytes."""
        if (
            type(obj) is Tensor
            and obj.device.type == "cpu"
            and obj.layout == torch.strided
            and not (obj.requires_grad or obj.is_quantized)
            and not (obj.is_conj() or obj.is_neg())
        ):
            data = bytearray(obj.nbytes)
            if data:
                flat = obj.reshape(-1).view(torch.uint8)
                torch.frombuffer(data, dtype=torch.uint8).copy_(flat)
            return _tensor_from_bytes, (obj.dtype, tuple(obj.shape), data)
        return NotImplemented  # type: ignore[no-any-return]  # typeshed derives its type from Any


def _dumps(value: object) -> bytes:
    buffer = io.BytesIO()
    _SpanPickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(value)
    return buffer.getvalue()


# What a build process works on: set once per process by ``_start_builder``.
_BUILD: dict[str, Any] = {}


_BufferSpec: TypeAlias = Tensor | tuple[FileInputs, tuple[int, ...], torch.dtype]
"""The buffer build processes fill: a shared tensor, or a file region to map."""


_PR_SET_PDEATHSIG: Final = 1
"""Linux's ``prctl`` option: the signal a process gets when its parent ends."""


def _end_with(parent: int) -> None:
    """Have this build process killed when ``parent`` ends (Linux).

    A forked build process waits for spans on a pipe whose both ends it holds:
    were its parent killed (a pre-empted job), it would wait forever, holding
    the cache's shared memory. Elsewhere, or where ``prctl`` is missing, it is
    left as it is.
    """
    if not sys.platform.startswith("linux"):
        return  # pragma: no cover - Linux only
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # pragma: no cover - no C library to ask
        return
    if os.getppid() != parent:  # it ended before the request was made
        os._exit(1)  # pragma: no cover - a race of a few microseconds


def _start_builder(
    parent: int,
    source: SetSource,
    transforms: Sequence[ModelTransform],
    inputs: _BufferSpec,
    rules_and_seed: tuple[MetadataRules, int],
) -> None:
    """Prepare a build process: one intra-op thread, the set and the shared buffer.

    ``rules_and_seed``: the metadata rules of sample 0, and the seed of spans.

    The process ends with ``parent`` (`_end_with`). A buffer in a file is
    mapped again here, so that it is shared under any start method (a pickled
    tensor would be copied). An error here is raised by each span the process
    is given: the pool would only log it, then report the process gone.
    """
    _end_with(parent)
    # a handler of the parent's that ignores SIGTERM (forked with it) would
    # keep the build from being ended at once (`_stop`)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    torch.set_num_threads(1)
    try:
        if not isinstance(inputs, Tensor):
            target, shape, dtype = inputs
            inputs = target.map(shape, dtype)
    except Exception as exc:  # raised with the first span
        _BUILD["error"] = exc
        return
    rules, seed = rules_and_seed
    _BUILD.update(
        source=source, transforms=transforms, inputs=inputs, rules=rules, seed=seed
    )


def _load(
    source: SetSource, index: int, transforms: Sequence[ModelTransform]
) -> Sample:
    """Load sample ``index``; running out of file descriptors is said as such.

    In a build process, a loader that ends the process (``sys.exit``) fails
    the sample: the exit would reach the pool, which hands it to this process.
    """
    try:
        return source.load(index, transforms)
    except SampleLoadError as exc:
        if _too_many_files(exc):
            raise _open_files_error(source.where(index)) from exc
        raise
    except SystemExit as exc:
        if not _BUILD:  # this process: it ends, as the loader asks
            raise
        msg = (
            f"{source.where(index)}: the loader called `sys.exit({exc.code!r})` in "
            "a cache build process; a loader must raise an exception, not end "
            "its process"
        )
        raise SampleLoadError(msg) from exc


class _Filled(NamedTuple):
    """What loading a span of samples gives back besides the inputs it wrote."""

    start: int
    stop: int
    metadata: dict[str, Packed]
    """The span's values of each metadata key, packed by `pack_values`."""
    odd: dict[int, Tensor]
    """Inputs whose shape or dtype differs from the buffer's, by index."""


_SEED_BLOCK: Final = 16
"""Samples loaded after one seeding of the generators (`_seed_span`); spans of
work are whole blocks, so that what a sample draws does not depend on them."""


def _seed_span(base: int, start: int) -> None:
    """Seed torch's, Python's and numpy's generators for the block from ``start``.

    In a build of several processes, which process loads a span depends on
    timing, and forked processes start with the generators of their parent:
    a loader drawing random numbers (a random crop) would draw alike for
    samples of different processes. Seeded by block of `_SEED_BLOCK` samples
    (sample 0 alone is one), draws differ between samples and repeat from run
    to run for the same ``base``, with any `parallel`.
    """
    seed_generators(derived_seed(f"{base}:{start}".encode()))


def _fill(
    source: SetSource,
    transforms: Sequence[ModelTransform],
    inputs: Tensor,
    rules: MetadataRules,
    span: tuple[int, int],
    *,
    seed: int | None = None,
) -> _Filled:
    """Load samples ``span`` into ``inputs``; return their metadata and odd inputs.

    Metadata comes back packed by key: one tensor per key where values stack,
    which crosses processes and joins into columns far faster than one value
    per sample. With ``seed``, the generators are seeded at the start of each
    block of `_SEED_BLOCK` samples (`_seed_span`).

    Raises:
        SampleLoadError: when a sample fails to load, or its metadata breaks the
            rules of sample 0 (other keys, a value of another type).
    """
    start, stop = span
    packers = {key: SpanPacker(kind, stop - start) for key, kind in rules.kinds.items()}
    odd: dict[int, Tensor] = {}
    shape, dtype = inputs.shape[1:], inputs.dtype
    for index in range(start, stop):
        if seed is not None and (index - 1) % _SEED_BLOCK == 0:  # a block starts
            _seed_span(seed, index)
        sample = _load(source, index, transforms)
        if sample.input.shape == shape and sample.input.dtype == dtype:
            inputs[index] = sample.input
        else:
            odd[index] = sample.input
        metadata = sample.metadata
        rules.check(metadata, index, source.where)
        for key, packer in packers.items():
            packer.add(metadata[key])
    packed = {key: packer.packed() for key, packer in packers.items()}
    return _Filled(start, stop, packed, odd)


def _fill_in_builder(span: tuple[int, int]) -> bytes:
    """Fill ``span`` in a build process; return the `_Filled`, pickled by value.

    A sample that fails comes back as a `WorkerFailure`: raised, the error
    would cross processes without its cause, the loader's own exception.
    """
    error = _BUILD.get("error")
    if error is not None:
        raise error
    try:
        filled = _fill(
            _BUILD["source"],
            _BUILD["transforms"],
            _BUILD["inputs"],
            _BUILD["rules"],
            span,
            seed=_BUILD["seed"],
        )
    except SampleLoadError as exc:
        failure = exc
    else:
        try:
            return _dumps(filled)
        except Exception:
            where = _BUILD["source"].where(filled.start)
            unsent = unsent_metadata(filled.metadata, where, process=_BUILDER)
            if unsent is None:
                raise
            failure = unsent
    return pickle.dumps(WorkerFailure.of(failure, process=_BUILDER))


_BUILDER: Final = "a cache build process"
"""A build process, as errors that come from one name it."""


def _pool_processes(pool: ProcessPoolExecutor) -> list[BaseProcess]:
    """Return the processes of ``pool``: it has no public list of them."""
    return list((getattr(pool, "_processes", None) or {}).values())


def _spans(size: int, workers: int) -> list[tuple[int, int]]:
    """Cut samples ``1:size`` (sample 0 is loaded first, alone) into spans of work.

    Each span is whole blocks of `_SEED_BLOCK` samples (the last but its end).
    """
    step = max(1, min(256, size // (workers * 32)))  # small spans: balanced ends
    step = -(-step // _SEED_BLOCK) * _SEED_BLOCK
    return [(start, min(start + step, size)) for start in range(1, size, step)]


def _share_spans(
    pool: ProcessPoolExecutor,
    source: SetSource,
    transforms: Sequence[ModelTransform],
    inputs: Tensor,
    rules: MetadataRules,
    *,
    helpers: int,
    seed: int,
) -> Iterator[_Filled]:
    """Give the build processes spans from the start, fill spans here from the end.

    Every block of every span is seeded from ``seed`` (`_seed_span`), here as
    in them.
    """
    spans = deque(_spans(len(source), helpers + 1))
    pending: dict[Future[bytes], tuple[int, int]] = {}
    while spans or pending:
        while spans and len(pending) < _QUEUED * helpers:
            span = spans.popleft()
            pending[pool.submit(_fill_in_builder, span)] = span
        if spans:
            yield _fill(source, transforms, inputs, rules, spans.pop(), seed=seed)
            done = {future for future in pending if future.done()}
        else:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
        for future in done:
            filled = _received(future.result(), source.name, pending.pop(future))
            if isinstance(filled, WorkerFailure):
                raise filled.error()
            yield filled


def _received(
    data: bytes, name: str, span: tuple[int, int]
) -> "_Filled | WorkerFailure":
    """Unpickle what a build process sent for ``span``, or say why it cannot be.

    A metadata value may pickle there yet not unpickle here (its class's
    ``__reduce__`` says how to make it again, and that fails).
    """
    try:
        received: _Filled | WorkerFailure = pickle.loads(data)  # ours
    except Exception as exc:
        start, stop = span
        samples = (
            f"sample {start}" if stop - start == 1 else f"samples {start}-{stop - 1}"
        )
        msg = (
            f"set `{name}`, {samples}: the result of a "
            f"cache build process could not be received ({type(exc).__name__}: "
            f"{exc}); give metadata values that pickle and unpickle, or load in "
            "this process (`parallel=-1`)"
        )
        raise SampleLoadError(msg) from exc
    return received


def _fill_in_processes(
    source: SetSource,
    transforms: Sequence[ModelTransform],
    inputs: Tensor,
    spec: _BufferSpec,
    rules: MetadataRules,
    *,
    helpers: int,
    seed: int,
) -> Generator[_Filled, None, None]:
    """Fill ``inputs`` here and in ``helpers`` build processes; yield spans as done.

    Every block of every span is seeded from ``seed`` (`_seed_span`).

    The build processes take spans from the start of the set, this process from
    its end, each on one intra-op thread: the process that would otherwise wait
    decodes too, so ``helpers + 1`` processes keep as many cores busy, from the
    first moment (while the build processes start) to the last span. A build
    process that dies (killed by a signal, out of memory) ends the build with an
    error instead of leaving its work undone and the build waiting forever.

    Raises:
        SampleLoadError: for a failing sample, too many open files, or a build
            process that died (naming its signal or exit code).
    """
    processes: list[BaseProcess] = []
    try:
        pool = ProcessPoolExecutor(
            helpers,
            mp_context=start_context(),
            initializer=_start_builder,
            initargs=(os.getpid(), source, transforms, spec, (rules, seed)),
        )
        done = False
        try:
            yield from _share_spans(
                pool, source, transforms, inputs, rules, helpers=helpers, seed=seed
            )
            done = True
        except BrokenProcessPool:
            # their exit codes tell which went first, and how
            processes.extend(_pool_processes(pool))
            raise
        finally:
            if done:  # every span is in: the build processes end on their own time
                pool.shutdown(wait=False, cancel_futures=True)
            else:  # an error, or an interrupt: not held up by a slow or stuck loader
                _stop(pool)
    except SampleLoadError:
        raise
    except BrokenProcessPool as exc:
        raise _pool_broken(source.name, exc, processes) from exc
    except Exception as exc:
        if _too_many_files(exc):
            where = f"set `{source.name}`"
            raise _open_files_error(where) from exc
        raise


def _stop(pool: ProcessPoolExecutor) -> None:
    """End the build processes of ``pool`` now, without waiting for their spans.

    On an error or an interrupt here, a build process may be in a loader that
    takes long, or never returns (a hung network read): waiting for it would
    hold the error back, or keep the program from ending.
    """
    processes = _pool_processes(pool)
    for process in processes:
        process.terminate()
    deadline = time.monotonic() + _STOP_SECONDS
    for process in processes:
        process.join(max(deadline - time.monotonic(), 0))
        if process.is_alive():  # pragma: no cover - SIGTERM caught and ignored
            process.kill()
            process.join()
    # The pool's own thread reaps them too, racing this one: once it is done (at
    # once, they are gone), each one's exit code is known (`_pool_broken`).
    pool.shutdown(wait=True, cancel_futures=True)


_STOP_SECONDS: Final = 5.0
"""How long the build processes are given to end on SIGTERM, all together,
before SIGKILL."""


def build_store(
    source: SetSource,
    transforms: Sequence[ModelTransform] = (),
    *,
    workers: int = 0,
    target: FileInputs | None = None,
    seed: int | None = None,
) -> SampleStore:
    """Load and transform every sample of ``source`` into a shared store.

    Every process loads on one torch intra-op thread, this one included (see
    `one_intra_op_thread`), with torch's, Python's and NumPy's generators seeded
    for each block of 16 samples from ``seed``, or without one from torch's
    initial seed (which `seed_everything` sets): what a loader draws repeats
    from run to run, with any number of processes, and this process's
    generators are left as they were. Once done, the memory the
    allocator keeps from the samples loaded here is given back to the system.

    Args:
        source: the set to cache.
        transforms: the model transforms, applied before caching.
        workers: processes that load samples, this one included; 0 or 1
            loads in this process only.
        target: build the inputs straight into this file (which need not fit in
            memory, unless it is in memory itself) instead of shared memory.
        seed: the data module's, which seeds what a loader draws.

    Returns:
        A `ContiguousStore` when every input has the shape and dtype of the
        first, else a `RaggedStore` (in shared memory).

    Raises:
        SampleLoadError: naming the set, index and entry of a sample that fails.
        CacheMemoryError: when the estimated cache does not fit in memory.
        OSError: when ``target`` cannot be written.
    """
    try:
        with one_intra_op_thread(), generators_kept():
            return _build(source, transforms, workers=workers, target=target, seed=seed)
    except BaseException as exc:
        _forget_partial(exc.__traceback__)
        raise
    finally:
        release_free_memory()


def _forget_partial(trace: TracebackType | None) -> None:
    """Clear this module's frames in ``trace``: the partial cache goes now.

    The traceback of a failed or interrupted build holds the frames that built
    the cache, and so the part built: a notebook keeps the last traceback (for
    post-mortem debugging), and with it that memory. The frames of the loader
    keep their variables, to be debugged.
    """
    for frame, _ in traceback.walk_tb(trace):
        if frame.f_code.co_filename == __file__:
            with contextlib.suppress(RuntimeError):  # a frame still running
                frame.clear()


def _build(
    source: SetSource,
    transforms: Sequence[ModelTransform],
    *,
    workers: int,
    target: FileInputs | None,
    seed: int | None,
) -> SampleStore:
    size = len(source)
    if seed is None:
        seed = torch.initial_seed()  # as set by `seed_everything`, or drawn
    _seed_span(seed, 0)
    first = _load(source, 0, transforms)
    sample_bytes = _sample_bytes(first)
    if target is None or target.in_memory:
        needed = check_cache_fits(
            source.name,
            count=size,
            sample_bytes=sample_bytes,
            shared_files=target is not None or not anonymous_shared_memory(),
        )
    else:
        needed = size * sample_bytes
    _LOG.info(
        "caching set `%s`: %d samples of %s %s, about %s",
        source.name,
        size,
        tuple(first.input.shape),
        first.input.dtype,
        format_bytes(needed),
    )
    shape, dtype = (size, *first.input.shape), first.input.dtype
    if target is None:
        inputs = shared_empty(shape, dtype, lazy=True)
        spec: _BufferSpec = inputs
    else:
        inputs = target.allocate(shape, dtype)
        spec = (target, shape, dtype)
    inputs[0] = first.input
    rules = MetadataRules(first.metadata, described=f"sample 0 ({source.where(0)})")
    parts: dict[int, Mapping[str, Packed]] = {
        0: {
            key: pack_values([first.metadata[key]], kind)
            for key, kind in rules.kinds.items()
        }
    }
    odd: dict[int, Tensor] = {}
    progress = tqdm(
        total=size, desc=f"caching {source.name}", unit="sample", disable=None
    )
    with progress:
        progress.update(1)
        if min(workers, size) <= 1:
            spans: Generator[_Filled, None, None] = (
                _fill(source, transforms, inputs, rules, span, seed=seed)
                for span in _spans(size, 1)
            )
        else:
            helpers = min(workers, size) - 1
            spans = _fill_in_processes(
                source, transforms, inputs, spec, rules, helpers=helpers, seed=seed
            )
        # closed however the loop ends: an interrupt raised here, between two
        # spans, would otherwise leave the build processes to the garbage
        # collector, and the exit waiting for them (for ever, on a stuck loader)
        with contextlib.closing(spans):
            for filled in spans:
                parts[filled.start] = filled.metadata
                odd.update(filled.odd)
                progress.update(filled.stop - filled.start)
    columns = join_columns([parts[start] for start in sorted(parts)], rules.kinds)
    if not odd:
        return ContiguousStore(source.name, inputs, columns, where=source.where)
    _LOG.info(
        "set `%s`: samples differ in shape or dtype, caching them one by one",
        source.name,
    )
    ragged = [odd[index] if index in odd else inputs[index] for index in range(size)]
    return RaggedStore.pack(source.name, ragged, columns, where=source.where)
