"""Time and measure the cache of lightsplit against the reference and the limits.

Four workloads, each a folder of grayscale PNGs (labels 0/1, about 10% positives)
with a split file (train 80%, validation 10%, test 10%), served through the
``fit`` stage's shuffled training loader in batches of 64:

- A: 4,096 images of 256x256 as uint8, metadata ``label`` (int) and ``name``;
- B: 60,000 images of 28x28, the same;
- C: the images of A decoded to float32 in [0, 1], metadata ``target`` (a tensor);
- D: the images of B, likewise.

For each workload, two runs, each in a fresh process of this script: a quiet one,
and a busy one, where a CPU-bound process that this script starts and stops keeps
one core busy. Each run builds lightsplit's caches with ``parallel=-1`` and
``parallel=2`` and times, side by side in rounds, one epoch of each of: both
caches, mednet's per-sample design (a list of samples collated by
``default_collate``, which stacks on torch's threads), and the limits (the same
batches gathered by ``index_select`` from the cached tensors: into new or reused
outputs, on one or two threads). The quiet run also times the builds against each
other, and the loader alone in one and two processes. Peak memory (private and
shared memory of the process and its children) is measured in runs of their own,
after setup and while serving two epochs. Prints the tables and the targets::

    .venv/bin/python benchmarks/caching.py [--workload a,b,c,d] [--quick]
"""

import argparse
import json
import math
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from functools import partial
from multiprocessing import get_context
from pathlib import Path
from types import TracebackType
from typing import Final, Literal, NamedTuple, Self, cast

import psutil  # type: ignore[import-untyped]  # no stubs in the dev tools
import torch
from _common import markdown_table
from PIL import Image
from torch import Tensor
from torch.utils.data import DataLoader, Dataset, default_collate

from lightsplit import CachingDataModule, DatabaseSplit, Sample, load_split
from lightsplit._datasets import CachedDataset
from lightsplit._stores import ContiguousStore, ObjectColumn, TensorColumn

BATCH_SIZE: Final = 64
SAMPLING_S: Final = 0.02
MIB: Final = 2**20
SETTLE_S: Final = 0.03
"""Pause before each timed epoch. After a task on two intra-op threads, torch's
second thread spins for about 10 ms waiting for the next (libgomp's default);
next to a busy core, that spin takes its time from whatever this process runs
then: the epoch of the design timed next, were it started at once."""
SMALL: Final = 28
"""Image side up to which the small-image targets apply."""
ROUNDS: Final = 11
"""Epochs timed of each design, and their median reported..."""
SMALL_ROUNDS: Final = 31
"""... and of small images: their epochs take 20-50 ms, in which this machine's
noise moved the median of 11 by up to 10% between two designs served by the
same code (the size of the margin judged)."""
BUSY: Final = """
import os
parent = os.getppid()
while os.getppid() == parent:
    for _ in range(100_000):
        pass
"""
"""The CPU-bound process that keeps one core busy in busy runs (it ends with the
process that started it, however that one ends)."""

Load = Literal["quiet", "busy"]
LOADS: Final[tuple[Load, ...]] = ("quiet", "busy")

DESIGNS: Final = {
    "ls-1": "lightsplit cached, parallel=-1",
    "ls-2": "lightsplit cached, parallel=2",
    "reference": "reference per-sample (default_collate)",
    "fresh-1": "limit: index_select, new output, 1 thread",
    "fresh-2": "limit: index_select, new output, 2 threads",
    "reused-1": "limit: index_select, reused output, 1 thread",
    "reused-2": "limit: index_select, reused output, 2 threads",
    "sampler": "lightsplit's sampler alone (no gather)",
}
LIMITS: Final = ("fresh-1", "fresh-2", "reused-1", "reused-2")
ONE_THREAD: Final = ("fresh-1", "reused-1")
LIGHTSPLIT: Final = ("ls-1", "ls-2")
MEMORY: Final = {
    "ls-1": "lightsplit cached, parallel=-1",
    "ls-2": "lightsplit cached, parallel=2",
    "reference": "reference per-sample",
}


@dataclass(frozen=True)
class Workload:
    """Square grayscale PNGs: ``count`` images of ``size`` pixels a side."""

    name: str
    count: int
    size: int
    dtype: Literal["uint8", "float32"]
    quick_count: int

    @property
    def images(self) -> str:
        """The folder of images, shared by workloads of one image size."""
        return f"png-{self.size}-{self.count}"


WORKLOADS: Final = {
    "a": Workload("A", 4096, 256, "uint8", 512),
    "b": Workload("B", 60_000, 28, "uint8", 4096),
    "c": Workload("C", 4096, 256, "float32", 512),
    "d": Workload("D", 60_000, 28, "float32", 4096),
}


@dataclass(frozen=True)
class PngLoader:
    """Loads a ``(name, label)`` entry: the PNG ``root / name`` as (1, H, W).

    uint8 images come with their ``label`` and ``name``; float32 ones (in [0,
    1], as ``ImageFileLoader`` and most tutorials decode them) with a tensor
    ``target``, as mednet's loaders give.
    """

    root: Path
    dtype: Literal["uint8", "float32"]

    def sample(self, raw: tuple[str, int]) -> Sample:
        """Decode the image, with its metadata."""
        name, label = raw
        with Image.open(self.root / name) as image:
            pixels = torch.frombuffer(bytearray(image.tobytes()), dtype=torch.uint8)
            pixels = pixels.view(1, image.height, image.width)
        if self.dtype == "uint8":
            return Sample(pixels, {"label": label, "name": name})
        return Sample(
            pixels.to(torch.float32).div_(255), {"target": torch.tensor(label)}
        )

    def target(self, raw: tuple[str, int]) -> int:
        """Return the label, without reading the image."""
        return raw[1]


def write_images(root: Path, size: int, span: range) -> list[tuple[str, int]]:
    """Write the PNGs of ``span``: smooth noise plus fine noise, for a real decode."""
    rng = random.Random(span.start)
    coarse = max(size // 4, 1)
    entries: list[tuple[str, int]] = []
    for index in span:
        name = f"images/{index:06d}.png"
        smooth = Image.frombytes("L", (coarse, coarse), rng.randbytes(coarse**2))
        smooth = smooth.resize((size, size), Image.Resampling.BILINEAR)
        noise = Image.frombytes("L", (size, size), rng.randbytes(size * size))
        Image.blend(smooth, noise, 0.25).save(root / name)
        entries.append((name, int(rng.random() < 0.1)))
    return entries


def write_database(root: Path, count: int, size: int) -> float:
    """Write ``count`` PNGs with 2 processes and ``split.json``; return seconds."""
    start = time.perf_counter()
    (root / "images").mkdir(parents=True)
    spans = [range(start, min(start + 2000, count)) for start in range(0, count, 2000)]
    with get_context("fork").Pool(2) as pool:
        parts = pool.map(partial(write_images, root, size), spans)
    entries = [entry for part in parts for entry in part]
    train, validation = math.ceil(count * 0.8), math.ceil(count * 0.9)
    document = {
        "train": entries[:train],
        "validation": entries[train:validation],
        "test": entries[validation:],
    }
    (root / "split.json").write_text(json.dumps(document))
    return time.perf_counter() - start


# -- memory -------------------------------------------------------------------


def _smaps(pid: int) -> tuple[int, int]:
    """Return the private and shared resident bytes of process ``pid``."""
    fields: dict[str, int] = {}
    with open(f"/proc/{pid}/smaps_rollup") as rollup:
        for line in rollup:
            parts = line.split()
            if len(parts) == 3 and parts[2] == "kB":
                fields[parts[0].rstrip(":")] = int(parts[1]) * 1024
    private = fields.get("Private_Clean", 0) + fields.get("Private_Dirty", 0)
    shared = fields.get("Shared_Clean", 0) + fields.get("Shared_Dirty", 0)
    return private, shared


def tree_memory(me: "psutil.Process") -> int:
    """Return the physical memory of ``me`` and its children, in bytes.

    Private memory of every process, plus the shared memory of the process that
    maps the most: shared pages counted once (exact when the children share
    pages their parent maps too, as forked ones do).
    """
    private, shared = 0, 0
    for process in [me, *me.children(recursive=True)]:
        try:
            own, common = _smaps(process.pid)
        except OSError:  # a child that just ended
            continue
        private += own
        shared = max(shared, common)
    return private + shared


class PeakMemory:
    """Samples the memory of this process tree in a background thread."""

    def __init__(self) -> None:
        self.samples: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        while not self.samples:
            time.sleep(0.001)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()

    def peak(self, start: float, stop: float = math.inf) -> int:
        """Return the most memory sampled between ``start`` and ``stop``."""
        return max(size for at, size in self.samples if start <= at <= stop)

    def _sample(self) -> None:
        me = psutil.Process()
        stopping = False
        while True:
            self.samples.append((time.perf_counter(), tree_memory(me)))
            if stopping:
                return
            stopping = self._stop.wait(SAMPLING_S)


# -- the designs ----------------------------------------------------------------


def consume(batches: Iterable[object]) -> None:
    """Draw every batch of one epoch, dropping each."""
    for _ in batches:
        pass


@dataclass
class LimitLoader:
    """Epochs of a fresh ``randperm`` in batches, gathered with ``index_select``.

    Tensor columns are gathered alike; other columns (names) as a list.
    """

    inputs: Tensor
    tensors: dict[str, Tensor]
    lists: dict[str, list[object]]
    threads: int
    reused: bool
    _outputs: list[Tensor] = field(default_factory=list)

    def __iter__(self) -> Iterator[tuple[Tensor, dict[str, object]]]:
        caller = torch.get_num_threads()
        torch.set_num_threads(self.threads)
        try:
            order = torch.split(torch.randperm(len(self.inputs)), BATCH_SIZE)
            for number, index in enumerate(order):
                yield self._gather(number, index)
        finally:
            torch.set_num_threads(caller)

    def _gather(self, number: int, index: Tensor) -> tuple[Tensor, dict[str, object]]:
        if self.reused:
            if not self._outputs:
                shape = (BATCH_SIZE, *self.inputs.shape[1:])
                self._outputs = [
                    torch.empty(shape, dtype=self.inputs.dtype) for _ in range(4)
                ]
            out = self._outputs[number % 4][: len(index)]
            inputs = torch.index_select(self.inputs, 0, index, out=out)
        else:
            inputs = self.inputs.index_select(0, index)
        metadata: dict[str, object] = {
            key: values.index_select(0, index) for key, values in self.tensors.items()
        }
        positions = index.tolist()
        for key, items in self.lists.items():
            metadata[key] = [items[position] for position in positions]
        return inputs, metadata


def limit_loaders(store: ContiguousStore) -> dict[str, LimitLoader]:
    """Return the four limits over the very tensors of ``store``."""
    tensors: dict[str, Tensor] = {}
    lists: dict[str, list[object]] = {}
    for key, column in store.columns.items():
        if isinstance(column, TensorColumn):
            tensors[key] = column.values
        else:
            assert isinstance(column, ObjectColumn)
            lists[key] = list(column.values)
    return {
        f"{'reused' if reused else 'fresh'}-{threads}": LimitLoader(
            store.inputs, tensors, lists, threads, reused
        )
        for reused in (False, True)
        for threads in (1, 2)
    }


def reference_loader(store: ContiguousStore) -> DataLoader[object]:
    """Return mednet's per-sample design over the samples of ``store``.

    A list of ``(input, metadata)`` pairs (the inputs are views of the cache: no
    copy), collated by ``default_collate`` on torch's threads, in this process.
    """
    samples = [
        (
            store.inputs[index],
            {key: column.get(index) for key, column in store.columns.items()},
        )
        for index in range(len(store))
    ]
    # A list is a map-style dataset to torch, which types only ``Dataset``.
    dataset = cast("Dataset[object]", samples)
    return DataLoader(
        dataset, batch_size=BATCH_SIZE, shuffle=True, collate_fn=default_collate
    )


def cached_stores(module: CachingDataModule) -> list[ContiguousStore]:
    """Return the cached sets of ``module`` set up for ``fit``."""
    loaders = [module.train_dataloader(), *module.val_dataloader().values()]
    stores: list[ContiguousStore] = []
    for loader in loaders:
        dataset = loader.dataset
        assert isinstance(dataset, CachedDataset)
        assert isinstance(dataset.store, ContiguousStore)
        if all(store is not dataset.store for store in stores):
            stores.append(dataset.store)
    return stores


def reference_cache(
    root: Path, split: DatabaseSplit[tuple[str, int]], workload: Workload
) -> tuple[DataLoader[object], int]:
    """Cache the ``fit`` sets as mednet does; return its training loader and bytes.

    mednet's cache: a list of ``(input, metadata)`` pairs per set, loaded in this
    process.
    """
    loader = PngLoader(root, workload.dtype)
    sets = [
        [loader.sample(raw) for raw in split[name]] for name in ("train", "validation")
    ]
    cache = 0
    for sample in (sample for part in sets for sample in part):
        tensors = [
            value for value in sample.metadata.values() if isinstance(value, Tensor)
        ]
        cache += sample.input.nbytes + sum(tensor.nbytes for tensor in tensors)
    pairs = [(sample.input, dict(sample.metadata)) for sample in sets[0]]
    # A list is a map-style dataset to torch, which types only ``Dataset``.
    dataset = cast("Dataset[object]", pairs)
    serving = DataLoader(
        dataset, batch_size=BATCH_SIZE, shuffle=True, collate_fn=default_collate
    )
    return serving, cache


def train_store(module: CachingDataModule) -> ContiguousStore:
    """Return the cached training set of ``module`` (set up)."""
    dataset = module.train_dataloader().dataset
    assert isinstance(dataset, CachedDataset)
    store = dataset.store
    assert isinstance(store, ContiguousStore)
    return store


def cache_module(
    root: Path, split: DatabaseSplit[tuple[str, int]], workload: Workload, parallel: int
) -> tuple[CachingDataModule, float]:
    """Return a data module with its ``fit`` sets cached, and the setup time."""
    module = CachingDataModule(
        split,
        PngLoader(root, workload.dtype),
        batch_size=BATCH_SIZE,
        cache_samples=True,
        parallel=parallel,
    )
    start = time.perf_counter()
    module.setup("fit")
    return module, time.perf_counter() - start


# -- what the machine allows ------------------------------------------------------


def load_all(loader: PngLoader, raws: Sequence[tuple[str, int]]) -> None:
    """Load every entry of ``raws`` and drop the samples (one intra-op thread)."""
    torch.set_num_threads(1)
    for raw in raws:
        loader.sample(raw)


def time_loader(
    loader: PngLoader, raws: Sequence[tuple[str, int]], processes: int
) -> float:
    """Time loading ``raws`` in ``processes`` forked processes, evenly split."""
    parts = [raws[part::processes] for part in range(processes)]
    start = time.perf_counter()
    workers = [
        get_context("fork").Process(target=load_all, args=(loader, part))
        for part in parts
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return time.perf_counter() - start


class OtherLoad:
    """Measures the CPUs that processes outside this tree keep busy."""

    def __init__(self) -> None:
        self._start = self._now()

    @staticmethod
    def _now() -> tuple[float, float, float]:
        with open("/proc/stat") as stat:
            ticks = [int(value) for value in stat.readline().split()[1:9]]
        busy = (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")
        me = psutil.Process()
        own = 0.0
        for process in [me, *me.children(recursive=True)]:
            try:
                times = process.cpu_times()
            except psutil.Error:
                continue
            own += times.user + times.system
            own += getattr(times, "children_user", 0.0)
            own += getattr(times, "children_system", 0.0)
        return time.monotonic(), busy, own

    def cpus(self) -> float:
        """Return the CPUs other processes used on average since this started."""
        now = self._now()
        wall, busy, own = (now[i] - self._start[i] for i in range(3))
        return max(busy - own, 0.0) / wall


# -- the side-by-side run ---------------------------------------------------------


class Scaling(NamedTuple):
    """Cache builds and the loader alone, one process against two."""

    serial: float
    """Median build time with ``parallel=-1``, s."""
    parallel: float
    """Median build time with ``parallel=2``, s."""
    build: float
    """Median of per-round ratios serial / parallel."""
    build_low: float
    build_high: float
    loader: float
    """The loader alone: one process / two with half the images each."""
    loader_low: float
    loader_high: float
    loader_one: float
    """The loader alone in one process, median s."""
    loader_two: float
    """The loader alone in two processes, median s."""


@dataclass
class Run:
    """What one side-by-side run measured."""

    load: Load
    epochs: dict[str, float]
    """Median epoch time of each design, s."""
    spread: dict[str, tuple[float, float]]
    """Lowest and highest epoch time of each design, s."""
    builds: dict[str, float]
    """First build time of each lightsplit design, s."""
    scaling: Scaling | None
    others: float
    """CPUs that other processes than this run's (its busy one included) used."""


def run_side_by_side(
    root: Path, workload: Workload, load: Load, rounds: int, build_rounds: int
) -> Run:
    """Build both caches, time builds (quiet), then alternate epochs of each design.

    The limits and the reference get the very tensors lightsplit cached, so only
    serving differs. In a busy run, the busy process runs during the epochs only.
    """
    split = load_split(root / "split.json", sample_type=tuple[str, int])
    others = OtherLoad()
    scaling = None
    if build_rounds:
        scaling = time_builds(root, split, workload, build_rounds)
    serial, serial_s = cache_module(root, split, workload, -1)
    parallel, parallel_s = cache_module(root, split, workload, 2)
    store = train_store(serial)
    loaders: dict[str, Iterable[object]] = {
        "ls-1": serial.train_dataloader(),
        "ls-2": parallel.train_dataloader(),
        "reference": reference_loader(store),
        **limit_loaders(store),
        "sampler": cast("Iterable[object]", serial.train_dataloader().sampler),
    }
    times: dict[str, list[float]] = {design: [] for design in loaders}
    with busy_core(on=load == "busy"):
        for loader in loaders.values():  # warm up: caches, allocator, choices
            consume(loader)
        for _ in range(rounds):
            for design, loader in loaders.items():
                time.sleep(SETTLE_S)  # the design before's spinning threads wait
                start = time.perf_counter()
                consume(loader)
                times[design].append(time.perf_counter() - start)
        busy = others.cpus()
    return Run(
        load,
        {design: statistics.median(values) for design, values in times.items()},
        {design: (min(values), max(values)) for design, values in times.items()},
        {"ls-1": serial_s, "ls-2": parallel_s},
        scaling,
        busy,
    )


class busy_core:  # noqa: N801 - used as a context manager, like open()
    """Keeps one core busy with a CPU-bound process while the block runs."""

    def __init__(self, *, on: bool) -> None:
        self._on = on
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> None:
        if self._on:
            self._process = subprocess.Popen([sys.executable, "-c", BUSY])
            time.sleep(0.5)  # let it take its core

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.wait()


def time_builds(
    root: Path,
    split: DatabaseSplit[tuple[str, int]],
    workload: Workload,
    rounds: int,
) -> Scaling:
    """Time serial and parallel builds in turn, and the loader alone, 1 vs 2.

    One untimed build first reads every image, so that no build pays for
    reading them from disk.
    """
    cache_module(root, split, workload, 2)
    serial: list[float] = []
    parallel: list[float] = []
    for _ in range(rounds):
        serial.append(cache_module(root, split, workload, -1)[1])
        parallel.append(cache_module(root, split, workload, 2)[1])
    ratios = [one / two for one, two in zip(serial, parallel, strict=True)]
    raws = [raw for name in ("train", "validation") for raw in split[name]]
    loader = PngLoader(root, workload.dtype)
    one: list[float] = []
    two: list[float] = []
    for _ in range(max(rounds // 2, 1)):
        one.append(time_loader(loader, raws, 1))
        two.append(time_loader(loader, raws, 2))
    alone = [first / second for first, second in zip(one, two, strict=True)]
    return Scaling(
        statistics.median(serial),
        statistics.median(parallel),
        statistics.median(ratios),
        min(ratios),
        max(ratios),
        statistics.median(alone),
        min(alone),
        max(alone),
        statistics.median(one),
        statistics.median(two),
    )


# -- the memory run -----------------------------------------------------------------


@dataclass
class Memory:
    """Memory of one design, MiB: before setup, its cache, and peaks."""

    baseline: float
    cache: float
    setup_peak: float
    serving_peak: float


def run_memory(root: Path, workload: Workload, design: str) -> Memory:
    """Set up ``design`` and serve two epochs, sampling the memory of the tree.

    The baseline is the process before setup: Python with torch, Lightning and
    lightsplit imported, and the split file read.
    """
    split = load_split(root / "split.json", sample_type=tuple[str, int])
    with PeakMemory() as sampler:
        time.sleep(0.1)
        baseline = tree_memory(psutil.Process())
        start = time.perf_counter()
        if design == "reference":
            serving, cache = reference_cache(root, split, workload)
        else:
            parallel = 2 if design == "ls-2" else -1
            module, _ = cache_module(root, split, workload, parallel)
            serving = module.train_dataloader()
            cache = sum(store.nbytes for store in cached_stores(module))
        ready = time.perf_counter()
        for _ in range(2):
            consume(serving)
        time.sleep(2 * SAMPLING_S)
    return Memory(
        baseline / MIB,
        cache / MIB,
        sampler.peak(start, ready) / MIB,
        sampler.peak(ready) / MIB,
    )


# -- orchestration --------------------------------------------------------------------


def run_fresh(arguments: Sequence[str]) -> object:
    """Run this script with ``arguments`` in a fresh process; return its JSON."""
    command = [sys.executable, __file__, *arguments]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode:
        msg = f"{' '.join(arguments)} failed:\n{done.stderr[-4000:]}"
        raise RuntimeError(msg)
    return json.loads(done.stdout.splitlines()[-1])


def measure_run(
    root: Path, key: str, load: Load, rounds: int, build_rounds: int
) -> Run:
    """Run the side-by-side run of workload ``key`` in a fresh process."""
    arguments = ["--run", load, "--root", str(root), "--workload", key]
    arguments += ["--rounds", str(rounds), "--build-rounds", str(build_rounds)]
    output = cast("dict[str, object]", run_fresh(arguments))
    scaling = cast("list[float] | None", output["scaling"])
    return Run(
        load,
        cast("dict[str, float]", output["epochs"]),
        {
            design: (low, high)
            for design, (low, high) in cast(
                "dict[str, list[float]]", output["spread"]
            ).items()
        },
        cast("dict[str, float]", output["builds"]),
        Scaling(*scaling) if scaling is not None else None,
        cast("float", output["others"]),
    )


def measure_memory(root: Path, key: str, design: str) -> Memory:
    """Run the memory run of ``design`` in a fresh process."""
    arguments = ["--memory", design, "--root", str(root), "--workload", key]
    return Memory(**cast("dict[str, float]", run_fresh(arguments)))


class Target(NamedTuple):
    """A ratio the design should keep: ``value`` at most or at least ``bound``."""

    text: str
    value: float
    op: Literal["<=", ">="]
    bound: float

    def line(self, workload: str) -> str:
        """Return the check as a PASS or FAIL line."""
        passed = (
            self.value <= self.bound if self.op == "<=" else self.value >= self.bound
        )
        verdict = "PASS" if passed else "FAIL"
        value = f"{self.value:.2f} ({self.op} {self.bound:g})"
        return f"{verdict} {workload}: {self.text}: {value}"


def best(epochs: dict[str, float], designs: Sequence[str]) -> tuple[str, float]:
    """Return the fastest of ``designs`` and its epoch time."""
    design = min(designs, key=epochs.__getitem__)
    return design, epochs[design]


def targets(
    workload: Workload, runs: dict[Load, Run], memory: dict[str, Memory]
) -> list[Target]:
    """Return the targets of one workload."""
    quiet, busy = runs["quiet"], runs["busy"]
    checks: list[Target] = []
    for design in LIGHTSPLIT:
        label = "parallel=-1" if design == "ls-1" else "parallel=2"
        limit = best(quiet.epochs, LIMITS)[1]
        one = best(busy.epochs, ONE_THREAD)[1]
        checks += [
            Target(
                f"quiet: {label} epoch / best limit",
                quiet.epochs[design] / limit,
                "<=",
                1.1,
            ),
            Target(
                f"busy: {label} epoch / one-thread limit",
                busy.epochs[design] / one,
                "<=",
                1.2,
            ),
        ]
        for run in (quiet, busy):
            ratio = run.epochs["reference"] / run.epochs[design]
            bound = 5.0 if workload.size <= SMALL else 1.0
            checks.append(
                Target(f"{run.load}: reference / {label} epoch", ratio, ">=", bound)
            )
    if quiet.scaling is not None:
        checks.append(
            Target(
                "quiet: build parallel=-1 / parallel=2, median of rounds",
                quiet.scaling.build,
                ">=",
                1.7,
            )
        )
    for design in LIGHTSPLIT:
        use = memory.get(design)
        if use is not None:
            checks.append(
                Target(
                    f"peak memory {MEMORY[design]} / (cache + baseline)",
                    use.serving_peak / (use.cache + use.baseline),
                    "<=",
                    1.1,
                )
            )
    return checks


def serving_table(workload: Workload, runs: dict[Load, Run], train: int) -> str:
    """Return the Markdown table of epochs, quiet and busy side by side."""
    quiet, busy = runs["quiet"], runs["busy"]
    best_quiet = best(quiet.epochs, LIMITS)[1]
    one_busy = best(busy.epochs, ONE_THREAD)[1]
    rows = []
    for design, label in DESIGNS.items():
        cells = [label]
        for run, limit in ((quiet, best_quiet), (busy, one_busy)):
            low, high = run.spread[design]
            epoch = run.epochs[design]
            cells += [
                f"{epoch:#.3g} ({low:#.2g}-{high:#.2g})",
                f"{train / epoch:,.0f}",
                f"{epoch / limit:.2f}",
            ]
        rows.append(cells)
    header = [
        "design",
        "quiet epoch s (range)",
        "samples/s",
        "/ best limit",
        "busy epoch s (range)",
        "samples/s",
        "/ one-thread limit",
    ]
    return markdown_table(header, rows)


def memory_table(memory: dict[str, Memory]) -> str:
    """Return the Markdown table of peak memory."""
    rows = [
        [
            MEMORY[design],
            f"{use.baseline:,.0f}",
            f"{use.cache:,.0f}",
            f"{use.setup_peak:,.0f}",
            f"{use.serving_peak:,.0f}",
            f"{use.serving_peak / (use.cache + use.baseline):.3f}",
        ]
        for design, use in memory.items()
    ]
    header = [
        "design",
        "before setup MiB",
        "cache MiB",
        "peak in setup MiB",
        "peak after setup MiB",
        "after / (cache + before)",
    ]
    return markdown_table(header, rows)


def report(
    workload: Workload,
    count: int,
    written: float,
    runs: dict[Load, Run],
    memory: dict[str, Memory],
    *,
    rounds: int,
) -> None:
    """Print the tables of one workload."""
    size, train = workload.size, math.ceil(count * 0.8)
    metadata = "`label` and `name`" if workload.dtype == "uint8" else "tensor `target`"
    print(
        f"\n### Workload {workload.name}: {count:,} PNGs as (1, {size}, {size}) "
        f"{workload.dtype}, {metadata}, {train:,} in train, batches of {BATCH_SIZE}\n"
    )
    print(serving_table(workload, runs, train))
    quiet = runs["quiet"]
    print(
        f"\nEpochs: median of {rounds} rounds (lowest-highest), each round one "
        f"epoch of each design in turn, in one process per column; other "
        f"processes used {quiet.others:.2f} CPUs on average in the quiet run, "
        f"{runs['busy'].others:.2f} besides the busy process in the busy one. "
        f"First builds in the quiet run: parallel=-1 {quiet.builds['ls-1']:.2f} s, "
        f"parallel=2 {quiet.builds['ls-2']:.2f} s. PNGs written in {written:.1f} s."
    )
    scaling = quiet.scaling
    if scaling is not None:
        print(
            f"\nCache build, parallel=-1 / parallel=2, each round timed back to back: "
            f"{scaling.build:.2f} (median; {scaling.build_low:.2f} to "
            f"{scaling.build_high:.2f}), {scaling.serial:.2f} s against "
            f"{scaling.parallel:.2f} s (medians). For scale, the loader alone (no "
            f"lightsplit) in one process / in two with half the images each: "
            f"{scaling.loader:.2f} ({scaling.loader_low:.2f} to "
            f"{scaling.loader_high:.2f}), {scaling.loader_one:.2f} s against "
            f"{scaling.loader_two:.2f} s: what this machine allows."
        )
    if memory:
        print(
            "\nMemory: private memory of the process and its children plus the "
            "largest shared memory among them, sampled every 20 ms, each design in "
            "a run of its own; before setup is the process with torch, Lightning "
            "and lightsplit imported and the split read; after setup covers two "
            "epochs.\n"
        )
        print(memory_table(memory))


def run_workload(
    key: str, root: Path, *, quick: bool, written: float
) -> tuple[list[str], Workload]:
    """Measure one workload, print its tables; return its target lines."""
    workload = WORKLOADS[key]
    if quick:
        rounds, build_rounds = 3, 1
    else:
        rounds, build_rounds = (ROUNDS if workload.size > SMALL else SMALL_ROUNDS), 4
    runs = {
        load: measure_run(
            root, key, load, rounds, build_rounds if load == "quiet" else 0
        )
        for load in LOADS
    }
    memory = {design: measure_memory(root, key, design) for design in MEMORY}
    count = workload.quick_count if quick else workload.count
    report(workload, count, written, runs, memory, rounds=rounds)
    return [
        target.line(workload.name) for target in targets(workload, runs, memory)
    ], workload


def main() -> None:
    """Measure the chosen workloads, or one run when called by this script."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--workload", default="a,b,c,d", help="workloads, comma-separated"
    )
    parser.add_argument(
        "--quick", action="store_true", help="few images and rounds: a smoke run"
    )
    parser.add_argument("--run", choices=LOADS, help=argparse.SUPPRESS)
    parser.add_argument("--memory", choices=list(MEMORY), help=argparse.SUPPRESS)
    parser.add_argument("--root", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--rounds", type=int, default=11, help=argparse.SUPPRESS)
    parser.add_argument("--build-rounds", type=int, default=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run or args.memory:
        key = args.workload
        workload = WORKLOADS[key]
        if args.run:
            run = run_side_by_side(
                args.root, workload, args.run, args.rounds, args.build_rounds
            )
            print(json.dumps(asdict(run)))
        else:
            print(json.dumps(asdict(run_memory(args.root, workload, args.memory))))
        return
    keys = args.workload.split(",")
    print(
        f"# lightsplit caching: {psutil.cpu_count()} CPUs, torch {torch.__version__}, "
        f"{torch.get_num_threads()} intra-op threads by default"
    )
    checks: list[str] = []
    with tempfile.TemporaryDirectory(prefix="lightsplit-caching-") as tmp:
        written: dict[str, float] = {}
        for key in keys:
            workload = WORKLOADS[key]
            count = workload.quick_count if args.quick else workload.count
            folder = Path(tmp) / workload.images
            if workload.images not in written:
                written[workload.images] = write_database(folder, count, workload.size)
            lines, _ = run_workload(
                key, folder, quick=args.quick, written=written[workload.images]
            )
            checks += lines
    if args.quick:  # the ratios alone: too few images and rounds to judge them
        print("\n### Ratios of this quick run (not judged against the targets)\n")
        checks = [re.sub(r"^(PASS|FAIL) ", "", line) for line in checks]
    else:
        print("\n### Targets in this run\n")
    print("\n".join(checks))


if __name__ == "__main__":
    main()
