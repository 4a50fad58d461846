"""Serving cached sets: batches gathered ahead in threads, reused outputs, threads."""

import itertools
import multiprocessing
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from multiprocessing.queues import Queue
from pathlib import Path

import pytest
import torch
from PIL import Image
from torch import Tensor

from lightsplit import CachingDataModule, Sample, SampleLoader
from lightsplit import _threads as threads_module
from lightsplit._datasets import CachedDataset
from lightsplit._serving import (
    GATHER_THREADS,
    THREADED_BYTES,
    GatheringThreads,
    OutputBuffers,
    gather_ahead,
)
from lightsplit._stores import REUSED_BYTES
from lightsplit._threads import _TIMED, _TRIAL, ThreadChoice, one_intra_op_thread

SIDE = 256
"""Images of SIDE x SIDE pixels: a batch of BATCH of them as float32 is gathered
in threads, as uint8 in the consumer's thread."""
BATCH = 40
COUNT = 100

Entry = tuple[str, int]


@dataclass(frozen=True)
class NoiseLoader:
    """Decodes ``[file name, label]`` PNG entries as float32 in [0, 1] or uint8."""

    root: Path
    dtype: torch.dtype = torch.float32

    def sample(self, raw: Entry) -> Sample:
        """Return the image (1, H, W) with its label as a tensor, and its name."""
        name, label = raw
        with Image.open(self.root / name) as image:
            data = torch.frombuffer(bytearray(image.tobytes()), dtype=torch.uint8)
            pixels = data.view(1, image.height, image.width)
        if self.dtype == torch.float32:
            pixels = pixels.to(torch.float32).div_(255)
        return Sample(pixels, {"target": torch.tensor(label), "name": name})

    def target(self, raw: Entry) -> int:
        """Return the label."""
        return raw[1]


@pytest.fixture(scope="module")
def noise(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Entry]]:
    """COUNT PNG files of random pixels, SIDE x SIDE, and their entries."""
    root = tmp_path_factory.mktemp("noise")
    generator = torch.Generator().manual_seed(0)
    entries: list[Entry] = []
    for index in range(COUNT):
        pixels = torch.randint(0, 256, (SIDE, SIDE), generator=generator)
        name = f"{index:03d}.png"
        Image.fromarray(pixels.to(torch.uint8).numpy()).save(root / name)
        entries.append((name, index % 3))
    return root, entries


def _module(
    noise: tuple[Path, list[Entry]], dtype: torch.dtype, *, cache: bool = True
) -> CachingDataModule:
    root, entries = noise
    return CachingDataModule(
        {"train": entries},
        NoiseLoader(root, dtype),
        cache_samples=cache,
        batch_size=BATCH,
        seed=7,
    )


def _same(left: Sample, right: Sample) -> bool:
    return (
        left.input.dtype == right.input.dtype
        and torch.equal(left.input, right.input)
        and left.metadata["name"] == right.metadata["name"]
        and left.metadata["target"].dtype == right.metadata["target"].dtype
        and torch.equal(left.metadata["target"], right.metadata["target"])
    )


def _copy(batch: Sample) -> Sample:
    return Sample(
        batch.input.clone(),
        {"target": batch.metadata["target"].clone(), "name": batch.metadata["name"]},
    )


class TestBatches:
    def test_sizes_take_both_paths(self) -> None:
        """These batches are gathered ahead as float32, here as uint8, both reused."""
        assert BATCH * SIDE * SIDE * 4 > THREADED_BYTES >= BATCH * SIDE * SIDE
        assert BATCH * SIDE * SIDE >= REUSED_BYTES

    @pytest.mark.parametrize("dtype", [torch.float32, torch.uint8])
    def test_cached_equals_uncached(
        self, noise: tuple[Path, list[Entry]], dtype: torch.dtype
    ) -> None:
        """Cached batches are bit for bit those of the uncached path, two epochs."""
        cached = _module(noise, dtype).train_dataloader()
        uncached = _module(noise, dtype, cache=False).train_dataloader()
        for _ in range(2):
            pairs = list(zip(cached, uncached, strict=True))
            assert len(pairs) == 3
            assert all(_same(left, right) for left, right in pairs)

    @pytest.mark.parametrize("dtype", [torch.float32, torch.uint8])
    def test_held_batch_keeps_its_values(
        self, noise: tuple[Path, list[Entry]], dtype: torch.dtype
    ) -> None:
        """A batch, or a view of one, keeps its values while later ones are made."""
        loader = _module(noise, dtype).train_dataloader()
        batches = iter(loader)
        first = next(batches)
        second = next(batches)
        kept, part = _copy(first), second.input[5:9]
        kept_part = part.clone()
        del second
        for _ in range(3):  # the rest of the epoch, then whole epochs
            for batch in batches:
                assert batch.input.data_ptr() != first.input.data_ptr()
            batches = iter(loader)
        assert _same(first, kept)
        assert torch.equal(part, kept_part)

    @pytest.mark.parametrize("dtype", [torch.float32, torch.uint8])
    def test_buffers_are_reused(
        self, noise: tuple[Path, list[Entry]], dtype: torch.dtype
    ) -> None:
        """Batches dropped once used leave their memory to later batches."""
        loader = _module(noise, dtype).train_dataloader()
        addresses = {
            batch.input.data_ptr() for _ in range(4) for batch in loader
        }  # 12 batches
        # the batch held, one gathered per thread, one set out for the next
        assert len(addresses) <= GATHER_THREADS + 2

    def test_resume_counts_batches_handed_out(
        self, noise: tuple[Path, list[Entry]]
    ) -> None:
        """Batches gathered ahead are not served: a resumed epoch serves the rest."""
        module = _module(noise, torch.float32)
        whole = [_copy(batch) for batch in module.train_dataloader()]
        interrupted = _module(noise, torch.float32).train_dataloader()
        first = next(iter(interrupted))
        state = interrupted.state_dict()
        assert (state["served"], state["complete"]) == (1, False)
        resumed = _module(noise, torch.float32).train_dataloader()
        resumed.load_state_dict(state)
        rest = list(resumed)
        assert len(rest) == 2
        assert all(map(_same, [first, *rest], whole))

    def test_forked_child_gathers_with_threads_of_its_own(
        self, noise: tuple[Path, list[Entry]]
    ) -> None:
        """A process forked after batches were gathered ahead serves them too."""
        loader = _module(noise, torch.float32).train_dataloader()
        sizes = [len(batch.input) for batch in loader]
        context = multiprocessing.get_context("fork")
        done: Queue[list[int]] = context.Queue()
        child = context.Process(
            target=_serve_epoch, args=(loader, done), name="lightsplit-test-child"
        )
        child.start()
        child.join(timeout=120)
        assert child.exitcode == 0
        assert done.get(timeout=1) == sizes


def _serve_epoch(loader: SampleLoader, done: "Queue[list[int]]") -> None:
    done.put([len(batch.input) for batch in loader])


class TestOutputBuffers:
    def test_held_buffer_is_not_handed_out(self) -> None:
        """A buffer is handed out again only once its batch and views are gone."""
        buffers = OutputBuffers(keep=2)
        first = buffers.take(4, (3,), torch.float32)
        view = first[1:3]
        del first
        second = buffers.take(4, (3,), torch.float32)
        assert second.data_ptr() != view.data_ptr() - 3 * 4
        address = view.data_ptr() - 3 * 4
        del view
        third = buffers.take(4, (3,), torch.float32)
        assert third.data_ptr() == address

    def test_shared_buffer_is_not_handed_out(self) -> None:
        """A buffer whose memory became shared (sent to another process) is
        never handed out again, even once this process holds it no more."""
        buffers = OutputBuffers(keep=2)
        first = buffers.take(4, (3,), torch.float32)
        first.untyped_storage().share_memory_()  # what sending it through a queue does
        address = first.data_ptr()
        del first
        assert buffers.take(4, (3,), torch.float32).data_ptr() != address

    def test_smaller_batch_takes_a_part(self) -> None:
        """A batch smaller than a free buffer gets its first rows."""
        buffers = OutputBuffers(keep=1)
        address = buffers.take(4, (3,), torch.uint8).data_ptr()
        last = buffers.take(2, (3,), torch.uint8)
        assert (last.shape, last.data_ptr()) == ((2, 3), address)

    def test_free_buffer_too_small_is_replaced(self) -> None:
        """A larger batch replaces a free buffer too small for it."""
        buffers = OutputBuffers(keep=1)
        buffers.take(2, (3,), torch.uint8)
        address = buffers.take(4, (3,), torch.uint8).data_ptr()
        assert buffers.take(4, (3,), torch.uint8).data_ptr() == address

    def test_keeps_at_most_keep(self) -> None:
        """Past ``keep`` buffers held at once, new ones are not kept."""
        buffers = OutputBuffers(keep=2)
        held = [buffers.take(2, (3,), torch.uint8) for _ in range(3)]
        addresses = {tensor.data_ptr() for tensor in held}
        del held
        again = [buffers.take(2, (3,), torch.uint8) for _ in range(2)]
        assert {tensor.data_ptr() for tensor in again} < addresses

    def test_shapes_and_dtypes_are_apart(self) -> None:
        """A buffer serves batches of its row shape and dtype only."""
        buffers = OutputBuffers(keep=2)
        address = buffers.take(2, (3,), torch.uint8).data_ptr()
        other = buffers.take(2, (3,), torch.int16)
        assert other.dtype == torch.int16
        assert buffers.take(2, (3,), torch.uint8).data_ptr() == address


@pytest.fixture(scope="module")
def gathering() -> Iterator[GatheringThreads]:
    """Two gathering threads of their own, stopped after the tests."""
    threads = GatheringThreads(2)
    yield threads
    threads.stop()


class TestGatherAhead:
    def test_results_in_order(self, gathering: GatheringThreads) -> None:
        """Results come in the order of the tasks, whatever order they end in."""
        tasks = [_constant(value) for value in range(20)]
        assert list(gather_ahead(tasks, gathering)) == list(range(20))

    def test_error_at_its_turn(self, gathering: GatheringThreads) -> None:
        """A task's exception is raised when its result is asked for, not before."""
        tasks = [_constant(0), _constant(1), _failing("broken"), _constant(3)]
        results = gather_ahead(tasks, gathering)
        assert [next(results), next(results)] == [0, 1]
        with pytest.raises(ValueError, match="broken"):
            next(results)

    def test_reads_tasks_as_asked(self, gathering: GatheringThreads) -> None:
        """Tasks are read in the consumer's thread, a few past the one asked for."""
        read: list[str] = []

        def tasks() -> Iterator[Callable[[], int]]:
            for value in range(50):
                read.append(threading.current_thread().name)
                yield _constant(value)

        results = gather_ahead(tasks(), gathering)
        assert read == []
        assert next(results) == 0
        assert 1 < len(read) <= GATHER_THREADS + 2
        results.close()
        assert set(read) == {threading.current_thread().name}
        assert len(read) <= GATHER_THREADS + 2


def _constant(value: int) -> Callable[[], int]:
    return lambda: value


def _failing(message: str) -> Callable[[], int]:
    def fail() -> int:
        raise ValueError(message)

    return fail


class TestGatheringThreads:
    def test_one_intra_op_thread_each(self, gathering: GatheringThreads) -> None:
        """Gathering threads run on one intra-op thread; this thread keeps its own."""
        before = torch.get_num_threads()
        counts = [gathering.submit(torch.get_num_threads).result() for _ in range(8)]
        assert set(counts) == {1}
        assert torch.get_num_threads() == before

    def test_default_of_new_threads_is_kept(self) -> None:
        """Threads started after the gathering threads get torch's usual count."""
        before = torch.get_num_threads()
        threads = GatheringThreads(2)
        threads.stop()
        counts: list[int] = []
        thread = threading.Thread(target=lambda: counts.append(torch.get_num_threads()))
        thread.start()
        thread.join()
        assert counts == [before]

    def test_stop_ends_them(self) -> None:
        """Stopping ends every thread once the tasks given are done."""
        threads = GatheringThreads(2)
        future = threads.submit(_constant(5))
        threads.stop()
        assert future.result() == 5
        assert not any(thread.is_alive() for thread in threads._threads)


class FakeClock:
    """Stands in for ``time`` in `lightsplit._threads`: copies advance it."""

    def __init__(self) -> None:
        self.now = 0.0

    def perf_counter(self) -> float:
        """Return the fake time."""
        return self.now

    def monotonic(self) -> float:
        """Return the fake time."""
        return self.now


class TestThreadChoice:
    @pytest.fixture
    def clock(self, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeClock]:
        """A fake clock for the choice, two intra-op threads for the caller."""
        fake = FakeClock()
        monkeypatch.setattr(threads_module, "time", fake)
        threads = torch.get_num_threads()
        torch.set_num_threads(2)
        yield fake
        torch.set_num_threads(threads)

    @staticmethod
    def _copies(
        choice: ThreadChoice, clock: FakeClock, seconds: dict[int, float], count: int
    ) -> list[int]:
        """Run ``count`` copies that take ``seconds[threads]``; return their counts."""

        def copy(rows: int) -> int:
            threads = torch.get_num_threads()
            clock.now += seconds[threads] * rows
            return threads

        return [choice.run(copy, 8, 8) for _ in range(count)]

    def _on_two_threads(self, clock: FakeClock) -> ThreadChoice:
        """Return a choice settled on two threads (the faster), no try under way."""
        choice = ThreadChoice()
        self._copies(choice, clock, {1: 2.0, 2: 1.0}, 20)
        while choice._trial is not None:  # end a try of one thread under way
            self._copies(choice, clock, {1: 2.0, 2: 1.0}, 1)
        assert self._copies(choice, clock, {1: 2.0, 2: 1.0}, 1) == [2]
        return choice

    @staticmethod
    def _quiet(monkeypatch: pytest.MonkeyPatch, cpus: float | None = 0.0) -> None:
        monkeypatch.setattr(threads_module._OtherLoad, "cpus", lambda _: cpus)

    def test_two_threads_when_faster(
        self, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Two threads are tried after a few copies, and kept when faster."""
        self._quiet(monkeypatch)
        counts = self._copies(ThreadChoice(), clock, {1: 2.0, 2: 1.0}, 100)
        assert counts[:7] == [1] * 7
        assert counts[-50:].count(2) >= 45  # one thread is tried now and then
        assert torch.get_num_threads() == 2

    def test_one_thread_when_faster(
        self, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Two threads that lose are tried less and less often."""
        self._quiet(monkeypatch)
        counts = self._copies(ThreadChoice(), clock, {1: 1.0, 2: 1.5}, 2000)
        tries = [
            i for i, (a, b) in enumerate(itertools.pairwise([1, *counts])) if b > a
        ]
        assert counts[:7] == [1] * 7
        assert 3 <= len(tries) <= 10
        gaps = [later - earlier for earlier, later in itertools.pairwise(tries)]
        assert gaps == sorted(gaps)

    def test_stalling_threads_are_dropped_at_once(
        self, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A try ends after its second copy when that one is far slower.

        The first copy of a try wakes its threads up: it is not judged alone.
        """
        self._quiet(monkeypatch)
        counts = self._copies(ThreadChoice(), clock, {1: 1.0, 2: 50.0}, 12)
        assert counts.count(2) == 2

    def test_not_tried_while_others_are_busy(
        self, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """While other processes keep the other CPU busy, two threads are not tried."""
        self._quiet(monkeypatch, cpus=1.0)
        monkeypatch.setattr(threads_module, "_usable_cpus", lambda: 2)
        counts = self._copies(ThreadChoice(), clock, {1: 1.0, 2: 0.5}, 500)
        assert set(counts) == {1}

    def test_one_thread_once_others_are_busy(
        self, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """On two threads, the next look at a busy machine goes to one, untried."""
        load: list[float] = [0.0]
        monkeypatch.setattr(threads_module._OtherLoad, "cpus", lambda _: load[0])
        monkeypatch.setattr(threads_module, "_usable_cpus", lambda: 2)
        choice = ThreadChoice()
        assert self._copies(choice, clock, {1: 2.0, 2: 1.0}, 40)[-1] == 2
        load[0] = 1.0
        counts = self._copies(choice, clock, {1: 2.0, 2: 1.0}, 80)
        first = counts.index(1)  # at the next look, which comes later and later
        assert counts[first:] == [1] * (80 - first)

    def test_back_to_one_thread_after_a_stall(
        self, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """When copies on two threads stall, one thread is tried after the second
        timed one (a copy in `_TIMED` is timed)."""
        self._quiet(monkeypatch)
        choice = self._on_two_threads(clock)
        counts = self._copies(choice, clock, {1: 2.0, 2: 40.0}, 4 * _TIMED)
        assert counts[0] == 2
        assert counts.index(1) <= 2 * _TIMED
        assert counts[-4:] == [1] * 4

    def test_copies_between_timings_are_not_timed(
        self, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Settled on two threads, one copy in `_TIMED` is timed, and no more."""
        self._quiet(monkeypatch)
        choice = self._on_two_threads(clock)
        timings = 0
        perf_counter = clock.perf_counter

        def counted() -> float:
            nonlocal timings
            timings += 1
            return perf_counter()

        monkeypatch.setattr(clock, "perf_counter", counted)
        counts = self._copies(choice, clock, {1: 2.0, 2: 1.0}, 10 * _TIMED)
        assert counts.count(2) >= 9 * _TIMED
        assert timings <= 2 * 10 + 2 * _TRIAL  # a start and an end each, a try

    def test_one_slow_copy_is_noise(
        self, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A lone slow copy on two threads (an interrupt, say) changes nothing."""
        self._quiet(monkeypatch)
        choice = self._on_two_threads(clock)
        estimate = choice._seconds[2]
        for _ in range(5):  # one slow copy now and then, each timed
            while choice._since % _TIMED or choice._since + 1 >= choice._wait:
                self._copies(choice, clock, {1: 2.0, 2: 1.0}, 1)
            counts = self._copies(choice, clock, {1: 2.0, 2: 40.0}, 1)
            counts += self._copies(choice, clock, {1: 2.0, 2: 1.0}, _TIMED)
            assert counts == [2] * (_TIMED + 1)
        assert choice._seconds[2] == estimate

    def test_caller_on_one_thread_is_left_alone(self) -> None:
        """A caller on one intra-op thread keeps it: nothing to choose."""
        choice = ThreadChoice()
        with one_intra_op_thread():
            counts = [
                choice.run(lambda _: torch.get_num_threads(), 0, 1) for _ in range(50)
            ]
            assert torch.get_num_threads() == 1
        assert set(counts) == {1}


def _cached(noise: tuple[Path, list[Entry]]) -> CachedDataset:
    dataset = _module(noise, torch.uint8).train_dataloader().dataset
    assert isinstance(dataset, CachedDataset)
    return dataset


def test_small_batches_are_gathered_here(
    noise: tuple[Path, list[Entry]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Batches under THREADED_BYTES are gathered in the consumer's thread."""
    dataset = _cached(noise)
    index = torch.arange(BATCH)
    seen: list[str] = []
    collect = dataset.store.collect

    def spy(indices: Tensor, *, buffers: OutputBuffers | None = None) -> Sample:
        seen.append(threading.current_thread().name)
        return collect(indices, buffers=buffers)

    monkeypatch.setattr(dataset.store, "collect", spy)
    batches = list(dataset.batches([index, index]))
    assert len(batches) == 2
    assert set(seen) == {threading.current_thread().name}


@dataclass(frozen=True)
class MixedLoader:
    """Small samples with metadata of every column kind: a tensor, a number, a
    string and a mapping (kept as objects, collated per batch)."""

    def sample(self, raw: Entry) -> Sample:
        """Return the sample of ``raw``."""
        name, label = raw
        number = int(name)
        return Sample(
            torch.full((1, 4, 4), number, dtype=torch.float32),
            {
                "target": torch.tensor(label),
                "name": name,
                "weight": number / 2,
                "extra": {"id": number},
            },
        )

    def target(self, raw: Entry) -> int:
        """Return the label."""
        return raw[1]


def _identical(left: Sample, right: Sample) -> bool:
    """Whether two batches hold the same inputs and metadata, dtypes included."""
    if list(left.metadata) != list(right.metadata):
        return False
    values: list[tuple[object, object]] = [(left.input, right.input)]
    values += [(left.metadata[key], right.metadata[key]) for key in left.metadata]
    values += [(left.metadata["extra"]["id"], right.metadata["extra"]["id"])]
    return all(
        a.dtype == b.dtype and torch.equal(a, b)
        if isinstance(a, Tensor) and isinstance(b, Tensor)
        else a == b
        for a, b in values
        if not isinstance(a, dict)
    )


def test_small_batches_collected_as_collect_does() -> None:
    """The per-epoch collector of small batches gives what `collect` gives, and
    the uncached path too: every column kind, in the loader's key order."""
    entries = [(f"{n:03d}", n % 2) for n in range(50)]
    split = {"train": entries[:40], "validation": entries[40:]}
    cached = CachingDataModule(
        split, MixedLoader(), batch_size=8, cache_samples=True, seed=3
    )
    plain = CachingDataModule(
        split, MixedLoader(), batch_size=8, cache_samples=False, seed=3
    )
    for module in (cached, plain):
        module.setup("fit")
    dataset = cached.train_dataloader().dataset
    assert isinstance(dataset, CachedDataset)
    collect = dataset.store.collector()
    for index in (torch.tensor([7, 3, 3, 39]), torch.arange(40)):
        fast, slow = collect(index), dataset.store.collect(index)
        assert list(fast.metadata) == ["target", "name", "weight", "extra"]
        assert _identical(fast, slow)
    served = list(cached.train_dataloader())
    expected = list(plain.train_dataloader())
    assert len(served) == len(expected) == 5
    assert all(_identical(a, b) for a, b in zip(served, expected, strict=True))
