"""Time and measure the cache of lightsplit against the reference and the limit.

For each workload, writes grayscale PNGs (labels 0/1, about 10% positives) and a
split file (train 90%, validation 10%) in a temporary folder, then runs each
design in fresh processes of this script: the ``fit`` stage's shuffled training
loader, batches of 64. Prints one table per workload (cache build, first epoch
with loader creation, median steady epoch, and peak PSS of the process and its
children sampled every 20 ms in a run of its own) and the targets::

    .venv/bin/python benchmarks/caching.py [--workload a|b|both] [--repeats K]
        [--quick]
"""

import argparse
import contextlib
import json
import math
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, replace
from functools import partial
from multiprocessing import get_context
from pathlib import Path
from types import TracebackType
from typing import Final, Literal, NamedTuple, Self, TypeVar, cast

import psutil  # type: ignore[import-untyped]  # no stubs in the dev tools
import torch
from _common import markdown_table
from PIL import Image
from torch import Tensor
from torch.utils.data import DataLoader, Dataset, default_collate

from lightsplit import CachingDataModule, DatabaseSplit, Sample, load_split

T = TypeVar("T")

BATCH_SIZE: Final = 64
SAMPLING_S: Final = 0.02
TIMING_S: Final = 1.0
# One intra-op thread, as in loader workers: on 2 busy cores, torch's default of 2
# stalls each parallel copy until the other thread gets a core (milliseconds).
THREADS: Final = 1
MIB: Final = 2**20
SMALL: Final = 28
"""Image side up to which the small-image targets apply."""

DESIGNS: Final = {
    "cached-1": "lightsplit cached, parallel=-1",
    "cached-2": "lightsplit cached, parallel=2",
    "uncached-1": "lightsplit uncached, parallel=-1",
    "uncached-2": "lightsplit uncached, parallel=2",
    "reference-0": "reference per-sample, in-process",
    "reference-2": "reference per-sample, 2 workers",
    "limit": "the limit (index_select)",
    "persist-build": "lightsplit cache_dir, first build",
    "persist-hit": "lightsplit cache_dir, hit",
}
MEMORY_DESIGNS: Final = ("cached-1", "cached-2", "reference-0", "reference-2", "limit")
"""The designs whose peak memory is measured, in a run of its own."""
SIDE_BY_SIDE: Final = "side-by-side"
"""One process that builds both caches and alternates the epochs of the designs
the targets compare, so that the load of the machine weighs on each alike."""
ROUNDS: Final = 15
BUILD_ROUNDS: Final = 7
KEPT_CACHES: Final = 3
"""Caches of each design whose epochs are timed: where the pages of a cache land
weighs on its epochs (by 10% and more on this machine), so each design's epoch
is the median over several caches."""
LOADER_ROUNDS: Final = 3


@dataclass(frozen=True)
class Workload:
    """Square grayscale PNGs: ``count`` images of ``size`` pixels a side."""

    name: str
    count: int
    size: int
    quick_count: int


WORKLOADS: Final = {
    "a": Workload("A", 4096, 256, 256),
    "b": Workload("B", 60_000, 28, 4096),
}


@dataclass(frozen=True)
class PngLoader:
    """Loads a ``(name, label)`` entry: the PNG ``root / name`` as uint8 (1, H, W)."""

    root: Path

    def sample(self, raw: tuple[str, int]) -> Sample:
        """Decode the image, with its label and name as metadata."""
        name, label = raw
        with Image.open(self.root / name) as image:
            pixels = torch.frombuffer(bytearray(image.tobytes()), dtype=torch.uint8)
            shape = (1, image.height, image.width)
        return Sample(pixels.view(shape), {"label": label, "name": name})

    def target(self, raw: tuple[str, int]) -> int:
        """Return the label, without reading the image."""
        return raw[1]


@dataclass(frozen=True)
class Result:
    """What one design measured, in seconds and MiB (NaN: not measured)."""

    build: float
    first: float
    steady: float
    peak: float = math.nan
    baseline: float = math.nan


@dataclass(frozen=True)
class Scaling:
    """How much faster two processes load than one: medians of per-round ratios.

    Each round times the two back to back, so that a busier moment of the
    machine weighs on both alike.
    """

    build: float
    """Cache build: ``parallel=-1`` time / ``parallel=2`` time."""
    build_low: float
    build_high: float
    loader: float
    """The loader alone, no lightsplit: one process / two with half the samples
    each; what this machine allows for this loader."""


def paired_ratios(
    slow: Callable[[], float], fast: Callable[[], float], rounds: int
) -> list[float]:
    """Return ``slow() / fast()`` for ``rounds`` rounds, each pair timed in turn."""
    return [slow() / fast() for _ in range(rounds)]


class PeakMemory:
    """Samples the PSS of this process and its children in a background thread."""

    def __init__(self) -> None:
        self.samples: list[int] = []
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

    def _sample(self) -> None:
        me = psutil.Process()
        stopping = False
        while True:
            total = 0
            for process in [me, *me.children(recursive=True)]:
                try:
                    memory = process.memory_full_info()
                except psutil.Error:  # a worker that just ended
                    continue
                total += getattr(memory, "pss", memory.uss)
            self.samples.append(total)
            if stopping:
                return
            stopping = self._stop.wait(SAMPLING_S)


def write_images(root: Path, size: int, span: range) -> list[tuple[str, int]]:
    """Write the PNGs of ``span``: smooth noise plus fine noise, for a real decode."""
    rng = random.Random(span.start)
    coarse = size // 4
    entries: list[tuple[str, int]] = []
    for index in span:
        name = f"images/{index:06d}.png"
        smooth = Image.frombytes("L", (coarse, coarse), rng.randbytes(coarse**2))
        smooth = smooth.resize((size, size), Image.Resampling.BILINEAR)
        noise = Image.frombytes("L", (size, size), rng.randbytes(size * size))
        Image.blend(smooth, noise, 0.25).save(root / name)
        entries.append((name, int(rng.random() < 0.1)))
    return entries


def write_database(root: Path, count: int, size: int) -> None:
    """Write ``count`` PNGs with 2 processes, and the split file ``split.json``."""
    (root / "images").mkdir()
    spans = [range(start, min(start + 2000, count)) for start in range(0, count, 2000)]
    with get_context("fork").Pool(2) as pool:
        parts = pool.map(partial(write_images, root, size), spans)
    entries = [entry for part in parts for entry in part]
    train = count * 9 // 10
    document = {"train": entries[:train], "validation": entries[train:]}
    (root / "split.json").write_text(json.dumps(document))


def consume(batches: Iterable[object]) -> None:
    """Draw every batch of one epoch."""
    deque(batches, maxlen=0)


def timed(make: Callable[[], T], least: int, most: int) -> tuple[float, T]:
    """Return the median time of ``least`` calls of ``make``, and the last result.

    Calls go on up to ``most`` while the calls so far took under ``TIMING_S``;
    each result is dropped before the next call (workers and caches included).
    """
    times: list[float] = []
    results: list[T] = []
    while len(times) < least or (len(times) < most and sum(times) < TIMING_S):
        results.clear()
        start = time.perf_counter()
        results.append(make())
        times.append(time.perf_counter() - start)
    return statistics.median(times), results[0]


def first_epoch(make_loader: Callable[[], Iterable[object]]) -> Iterable[object]:
    """Make a loader, draw its first epoch and return it."""
    loader = make_loader()
    consume(loader)
    return loader


@dataclass(frozen=True)
class LimitLoader:
    """Epochs of a fresh ``randperm`` in batches, gathered from contiguous tensors."""

    inputs: Tensor
    labels: Tensor
    names: list[str]

    def __iter__(self) -> Iterator[tuple[Tensor, Tensor, list[str]]]:
        for indices in torch.split(torch.randperm(len(self.inputs)), BATCH_SIZE):
            yield (
                torch.index_select(self.inputs, 0, indices),
                torch.index_select(self.labels, 0, indices),
                [self.names[index] for index in indices.tolist()],
            )


def load_limit(
    loader: PngLoader, raws: Sequence[tuple[str, int]]
) -> tuple[Tensor, Tensor, list[str]]:
    """Load samples into one contiguous (N, 1, H, W) tensor, labels and names."""
    first = loader.sample(raws[0]).input
    inputs = torch.empty((len(raws), *first.shape), dtype=first.dtype)
    for index, raw in enumerate(raws):
        inputs[index] = loader.sample(raw).input
    labels = torch.tensor([label for _, label in raws], dtype=torch.long)
    return inputs, labels, [name for name, _ in raws]


def prepare(
    design: str, root: Path, split: DatabaseSplit[tuple[str, int]]
) -> Callable[[], Iterable[object]]:
    """Cache the sets of ``design`` (if it caches), and return its loader factory."""
    loader = PngLoader(root)
    if design == "limit":
        limits = [load_limit(loader, split[name]) for name in split]
        return partial(LimitLoader, *limits[0])
    if design.startswith("reference"):
        # mednet's cache: a list of (tensor, dict) pairs per set
        sets = [[tuple(loader.sample(raw)) for raw in split[name]] for name in split]
        # A list is a map-style dataset to torch, which types only ``Dataset``.
        train = cast("Dataset[tuple[Tensor, dict[str, object]]]", sets[0])
        workers = 2 if design == "reference-2" else 0
        return partial(
            DataLoader,
            train,
            batch_size=BATCH_SIZE,
            shuffle=True,
            collate_fn=default_collate,
            num_workers=workers,
            persistent_workers=workers > 0,
        )
    module = CachingDataModule(
        split,
        loader,
        batch_size=BATCH_SIZE,
        cache_samples="uncached" not in design,
        parallel=2 if design.endswith("-2") else -1,
        cache_dir=root / "cache" if "persist" in design else None,
    )
    module.setup("fit")
    return module.train_dataloader


def load_all(loader: PngLoader, raws: Sequence[tuple[str, int]]) -> None:
    """Load every entry of ``raws`` and drop the samples."""
    for raw in raws:
        loader.sample(raw)


def time_loader(
    loader: PngLoader, raws: Sequence[tuple[str, int]], processes: int
) -> float:
    """Time loading ``raws`` in ``processes`` forked processes, evenly split."""
    parts = [raws[part::processes] for part in range(processes)]
    start = time.perf_counter()
    if processes == 1:
        load_all(loader, raws)
    else:
        workers = [
            get_context("fork").Process(target=load_all, args=(loader, part))
            for part in parts
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
    return time.perf_counter() - start


def run_side_by_side(root: Path, rounds: int) -> tuple[dict[str, Result], Scaling]:
    """Build the serial and parallel caches in turn, then alternate epochs.

    Before any timing, one untimed build reads every image, so that no design
    pays for reading them from disk. The limit and the in-process reference get
    the very tensors lightsplit cached (read back through its unshuffled
    loader), so only serving differs.
    """
    torch.set_num_threads(THREADS)
    split = load_split(root / "split.json", sample_type=tuple[str, int])
    builds: dict[str, list[float]] = {"cached-1": [], "cached-2": []}
    modules: dict[str, list[CachingDataModule]] = {"cached-1": [], "cached-2": []}

    def build(design: str) -> float:
        del modules[design][: 1 - KEPT_CACHES]  # keep room for this one
        module = CachingDataModule(
            split,
            PngLoader(root),
            batch_size=BATCH_SIZE,
            cache_samples=True,
            parallel=2 if design.endswith("-2") else -1,
        )
        start = time.perf_counter()
        module.setup("fit")
        builds[design].append(time.perf_counter() - start)
        modules[design].append(module)
        return builds[design][-1]

    build("cached-2")
    builds["cached-2"].clear()
    ratios = paired_ratios(
        partial(build, "cached-1"), partial(build, "cached-2"), BUILD_ROUNDS
    )
    raws = [raw for name in split for raw in split[name]]
    alone = paired_ratios(
        partial(time_loader, PngLoader(root), raws, 1),
        partial(time_loader, PngLoader(root), raws, 2),
        LOADER_ROUNDS,
    )
    scaling = Scaling(
        statistics.median(ratios), min(ratios), max(ratios), statistics.median(alone)
    )
    batches = list(modules["cached-1"][-1].unshuffled_train_dataloader())
    inputs = torch.cat([batch.input for batch in batches])
    labels = torch.cat([batch.metadata["label"] for batch in batches])
    names = [name for batch in batches for name in batch.metadata["name"]]
    pairs = [
        (inputs[index], {"label": int(labels[index]), "name": names[index]})
        for index in range(len(inputs))
    ]
    reference = cast("Dataset[tuple[Tensor, dict[str, object]]]", pairs)
    loaders: dict[str, list[Iterable[object]]] = {
        design: [module.train_dataloader() for module in kept]
        for design, kept in modules.items()
    }
    loaders["reference-0"] = [
        DataLoader(
            reference, batch_size=BATCH_SIZE, shuffle=True, collate_fn=default_collate
        )
    ]
    loaders["limit"] = [LimitLoader(inputs, labels, names)]
    times: dict[str, list[float]] = {design: [] for design in loaders}
    for _ in range(rounds):
        for design, kept_loaders in loaders.items():
            for loader in kept_loaders:
                start = time.perf_counter()
                consume(loader)
                times[design].append(time.perf_counter() - start)
    results = {
        design: Result(
            statistics.median(builds.get(design, [math.nan])),
            math.nan,
            statistics.median(times[design]),
        )
        for design in loaders
    }
    return results, scaling


def run_design(design: str, root: Path, epochs: int, *, memory: bool) -> Result:
    """Measure one design in this process: build and epochs, or its peak memory.

    The memory sampler slows what it watches, so a run does one or the other.
    A cache hit is timed ``epochs`` times, each with a new data module.
    """
    torch.set_num_threads(THREADS)
    split = load_split(root / "split.json", sample_type=tuple[str, int])
    builds = epochs if design == "persist-hit" else 1
    sampler = PeakMemory()
    with sampler if memory else contextlib.nullcontext():
        build, make_loader = timed(
            partial(prepare, design, root, split), builds, builds
        )
        first, loader = timed(partial(first_epoch, make_loader), 1, epochs)
        steady = timed(partial(consume, loader), epochs, 50)[0] if epochs else first
    if not memory:
        return Result(build, first, steady)
    samples = sampler.samples
    return Result(build, first, steady, max(samples) / MIB, samples[0] / MIB)


def _run_fresh(design: str, root: Path, epochs: int, *, memory: bool) -> object:
    """Run ``design`` in a fresh process of this script; return its JSON output."""
    command = [sys.executable, __file__, "--design", design, "--root", str(root)]
    command += ["--epochs", str(epochs), *(["--memory"] if memory else [])]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode:
        msg = f"design `{design}` failed:\n{done.stderr}"
        raise RuntimeError(msg)
    return json.loads(done.stdout.splitlines()[-1])


def measure(design: str, root: Path, epochs: int, *, memory: bool) -> Result:
    """Run ``design`` in a fresh process of this script and return its result."""
    return Result(
        **cast("dict[str, float]", _run_fresh(design, root, epochs, memory=memory))
    )


def measure_side_by_side(root: Path) -> tuple[dict[str, Result], Scaling]:
    """Run the side-by-side comparison in a fresh process."""
    output = cast(
        "dict[str, object]", _run_fresh(SIDE_BY_SIDE, root, ROUNDS, memory=False)
    )
    results = cast("dict[str, dict[str, float]]", output["results"])
    scaling = cast("dict[str, float]", output["scaling"])
    return (
        {design: Result(**values) for design, values in results.items()},
        Scaling(**scaling),
    )


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


def targets(
    results: dict[str, Result], side: dict[str, Result], scaling: Scaling, size: int
) -> list[Target]:
    """Return the targets of one workload.

    Epoch and build ratios come from the side-by-side run; the first epoch,
    memory, cache hit and the reference with workers from the fresh processes.
    """
    serial, parallel = side["cached-1"], side["cached-2"]
    limit = side["limit"].steady
    hit = results["persist-build"].build / results["persist-hit"].build
    first = results["cached-2"].first / results["limit"].steady
    memory = results["cached-2"].peak / results["cached-1"].peak
    checks = [
        Target("parallel=-1 epoch / limit", serial.steady / limit, "<=", 1.5),
        Target("parallel=2 epoch / limit", parallel.steady / limit, "<=", 1.5),
        Target("parallel=2 first epoch / limit", first, "<=", 3),
        Target(
            "parallel=2 epoch / parallel=-1, 5% allowed for noise",
            parallel.steady / serial.steady,
            "<=",
            1.05,
        ),
        Target("parallel=2 peak / parallel=-1", memory, "<=", 1.2),
        Target(
            "serial build / parallel=2 build, median of rounds",
            scaling.build,
            ">=",
            1.7,
        ),
        Target("cache_dir first build / hit", hit, ">=", 10),
    ]
    if size <= SMALL:
        reference = side["reference-0"].steady / serial.steady
        workers = results["reference-2"].steady / results["cached-2"].steady
        checks += [
            Target("reference in-process epoch / parallel=-1", reference, ">=", 3),
            Target("reference 2 workers epoch / parallel=2", workers, ">=", 10),
        ]
    return checks


def memory_cell(result: Result) -> str:
    """Return the peak memory, and its growth over the start of the run."""
    if math.isnan(result.peak):
        return "—"
    return f"{result.peak:,.0f} (+{result.peak - result.baseline:,.0f})"


def table(results: dict[str, Result], train_count: int) -> str:
    """Return the Markdown table of one workload."""
    limit = results["limit"].steady
    rows = [
        [
            DESIGNS[design],
            f"{result.build:#.3g}",
            f"{result.first:#.3g}",
            f"{result.steady:#.3g}",
            f"{train_count / result.steady:,.0f}",
            f"{result.steady / limit:.2f}",
            memory_cell(result),
        ]
        for design, result in results.items()
    ]
    header = ["design", "build s", "first epoch s", "steady epoch s", "samples/s"]
    return markdown_table([*header, "ratio to limit", "peak memory MiB"], rows)


def run_workload(workload: Workload, count: int, repeats: int) -> list[str]:
    """Write the workload's images, measure every design, print its table."""
    with tempfile.TemporaryDirectory(prefix="lightsplit-caching-") as tmp:
        root = Path(tmp)
        start = time.perf_counter()
        write_database(root, count, workload.size)
        written = time.perf_counter() - start
        results: dict[str, Result] = {}
        for design in DESIGNS:
            single = design == "uncached-1" and workload.size <= SMALL
            epochs = 0 if single else repeats
            result = measure(design, root, epochs, memory=False)
            if design in MEMORY_DESIGNS:
                peak = measure(design, root, epochs, memory=True)
                result = replace(result, peak=peak.peak, baseline=peak.baseline)
            results[design] = result
        side, scaling = measure_side_by_side(root)
    train_count = count * 9 // 10
    size = workload.size
    print(
        f"\n## Workload {workload.name}: {count:,} PNGs of (1, {size}, {size}) uint8, "
        f"{train_count:,} in train, batches of {BATCH_SIZE}\n"
    )
    print(table(results, train_count))
    print(
        f"\nPNGs written in {written:.1f} s. First epoch: median of 1 to {repeats} new "
        f"loaders; steady epoch: median of {repeats} to 50 epochs after it (more while "
        f"under {TIMING_S:g} s). Peak memory: PSS of the process and its children "
        "every 20 ms, in a run of its own (+ over its start, "
        f"{results['cached-1'].baseline:,.0f} MiB for lightsplit cached, parallel=-1)."
    )
    rows = [
        [
            DESIGNS[design],
            f"{result.build:#.3g}" if not math.isnan(result.build) else "—",
            f"{result.steady:#.3g}",
            f"{result.steady / side['limit'].steady:.2f}",
        ]
        for design, result in side.items()
    ]
    print(
        f"\nSide by side in one process: builds alternated {BUILD_ROUNDS} times "
        "(median), then "
        f"{ROUNDS} rounds of one epoch of each (median; for lightsplit, one epoch "
        f"of each of its last {KEPT_CACHES} caches per round):\n"
    )
    print(markdown_table(["design", "build s", "epoch s", "ratio to limit"], rows))
    print(
        f"\nCache build, parallel=-1 / parallel=2, each round timed back to back: "
        f"{scaling.build:.2f} (median of {BUILD_ROUNDS} rounds; "
        f"{scaling.build_low:.2f} to {scaling.build_high:.2f}). For scale, the loader "
        f"alone (no lightsplit) in one process / in two with half the images each: "
        f"{scaling.loader:.2f} (median of {LOADER_ROUNDS}), what this machine allows."
    )
    checks = targets(results, side, scaling, size)
    return [target.line(workload.name) for target in checks]


def main() -> None:
    """Measure the chosen workloads, or one design when called by this script."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--workload", choices=["a", "b", "both"], default="both")
    parser.add_argument("--repeats", type=int, default=5, help="steady epochs")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="few images: a smoke run, targets not judged",
    )
    parser.add_argument(
        "--design", choices=[*DESIGNS, SIDE_BY_SIDE], help=argparse.SUPPRESS
    )
    parser.add_argument("--root", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--epochs", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--memory", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.design == SIDE_BY_SIDE:
        side, scaling = run_side_by_side(args.root, args.epochs)
        results = {design: asdict(result) for design, result in side.items()}
        print(json.dumps({"results": results, "scaling": asdict(scaling)}))
        return
    if args.design:
        result = run_design(args.design, args.root, args.epochs, memory=args.memory)
        print(json.dumps(asdict(result)))
        return
    keys = ["a", "b"] if args.workload == "both" else [args.workload]
    print(
        f"# lightsplit caching: {psutil.cpu_count()} CPUs, torch {torch.__version__}, "
        f"{THREADS} intra-op thread per process"
    )
    checks: list[str] = []
    for key in keys:
        workload = WORKLOADS[key]
        count = workload.quick_count if args.quick else workload.count
        checks += run_workload(workload, count, args.repeats)
    print("\n## Targets\n")
    if args.quick:
        print(
            "Not judged: a quick run has too few images for the targets (fixed "
            "costs dominate); it only shows that every design runs."
        )
        return
    print("\n".join(checks))


if __name__ == "__main__":
    main()
