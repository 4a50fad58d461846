"""Time serving one training epoch of PNG images, cached and not, by design.

Writes grayscale PNGs and a split file (train 90%, validation 10%) in a
temporary folder, then times one shuffled training epoch in batches of 64 (median
over epochs, after a warm-up one) of: lightsplit with and without its cache, the
reference per-sample design (a list of ``(tensor, dict)`` samples collated by a
plain ``DataLoader``), and the limit (``index_select`` from one contiguous
tensor)::

    .venv/bin/python benchmarks/serving.py [--count N] [--size S] [--epochs E]
"""

import argparse
import json
import random
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any, Final, cast

import torch
from _common import markdown_table, median_seconds
from PIL import Image
from torch import Tensor
from torch.utils.data import DataLoader, Dataset

from lightsplit import CachingDataModule, Sample, load_split

BATCH_SIZE: Final = 64


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


def write_database(root: Path, count: int, size: int) -> Path:
    """Write ``count`` random ``size``-pixel square PNGs and their split file."""
    rng = random.Random(0)
    (root / "images").mkdir()
    entries: list[tuple[str, int]] = []
    for i in range(count):
        name = f"images/{i:06d}.png"
        image = Image.frombytes("L", (size, size), rng.randbytes(size * size))
        image.save(root / name)
        entries.append((name, i % 2))
    train = count * 9 // 10
    path = root / "split.json"
    document = {"train": entries[:train], "validation": entries[train:]}
    path.write_text(json.dumps(document))
    return path


def consume(batches: Iterable[object]) -> None:
    """Draw every batch of one epoch."""
    deque(batches, maxlen=0)


def limit_epoch(inputs: Tensor, labels: Tensor) -> None:
    """Gather one shuffled epoch of batches with ``index_select``, nothing else."""
    for indices in torch.split(torch.randperm(len(inputs)), BATCH_SIZE):
        torch.index_select(inputs, 0, indices)
        torch.index_select(labels, 0, indices)


def main() -> None:
    """Write the database, time an epoch of each design and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--count", type=int, default=4096, help="images to write")
    parser.add_argument("--size", type=int, default=64, help="image side, pixels")
    parser.add_argument("--epochs", type=int, default=5, help="timed epochs")
    args = parser.parse_args()
    count: int = args.count
    size: int = args.size
    epochs: int = args.epochs

    with TemporaryDirectory() as tmp:
        root = Path(tmp)
        split = load_split(
            write_database(root, count, size), sample_type=tuple[str, int]
        )
        loader = PngLoader(root)
        train_count = len(split["train"])

        cached = CachingDataModule(
            split, loader, batch_size=BATCH_SIZE, cache_samples=True, parallel=-1
        )
        start = time.perf_counter()
        cached.setup("fit")
        build = time.perf_counter() - start
        uncached = CachingDataModule(
            split, loader, batch_size=BATCH_SIZE, cache_samples=False, parallel=-1
        )
        uncached.setup("fit")

        samples = [loader.sample(raw) for raw in split["train"]]
        # A list is a map-style dataset to torch, which types only ``Dataset``.
        reference = cast(
            "Dataset[tuple[Tensor, dict[str, Any]]]",
            [(sample.input, dict(sample.metadata)) for sample in samples],
        )
        inputs = torch.stack([sample.input for sample in samples])
        labels = torch.tensor([sample.metadata["label"] for sample in samples])

        designs: dict[str, Callable[[], object]] = {
            "the limit (index_select)": partial(limit_epoch, inputs, labels),
            "lightsplit cached": partial(consume, cached.train_dataloader()),
            "reference per-sample": partial(
                consume, DataLoader(reference, batch_size=BATCH_SIZE, shuffle=True)
            ),
            "lightsplit uncached": partial(consume, uncached.train_dataloader()),
        }
        seconds = median_seconds(list(designs.values()), epochs)

    limit = seconds[0]
    rows = [
        [name, f"{epoch:#.3g}", f"{train_count / epoch:,.0f}", f"{epoch / limit:.1f}x"]
        for name, epoch in zip(designs, seconds, strict=True)
    ]
    print(
        f"{train_count:,} training samples of (1, {size}, {size}) uint8, batches of "
        f"{BATCH_SIZE}, all in this process; median of {epochs} epochs after one "
        "warm-up\n"
    )
    print(
        markdown_table(["design", "epoch (s)", "samples/s", "ratio to the limit"], rows)
    )
    print(
        f"\ncache build (setup('fit'), {count:,} images): {build:.2f} s, "
        f"{count / build:,.0f} samples/s"
    )


if __name__ == "__main__":
    main()
