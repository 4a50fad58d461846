"""Measure the memory of an in-memory cache under DDP: one copy per node, or per rank.

A fit on the CPU caches a training set of float32 images (1x256x256, 16,384 of
them by default: 4 GiB) in memory, without ``cache_dir``: in one process alone,
and in 2 DDP processes (gloo). Each process records its proportional set size
(PSS: private memory, plus its share of memory that several processes map)
before ``fit``, its peak while setting up (sampled every 50 ms), and once
training starts. Summed over the processes, the cache adds:

- about 1x its size when the node's processes share one copy (lightsplit's
  default under DDP), so that 2 ranks hold little more than one rank alone;
- about 2x when each process builds its own (as before, shown by turning the
  sharing off in a subclass).

::

    .venv/bin/python benchmarks/node_cache.py [--samples N]
"""

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Final

import psutil  # type: ignore[import-untyped]  # no stubs in the dev tools
import torch
from _common import markdown_table
from lightning.pytorch import LightningModule, Trainer
from torch import Tensor

from lightsplit import CachingDataModule, Sample
from lightsplit._types import SetName

MIB: Final = 2**20
SIDE: Final = 256


class ImageLoader:
    """Makes a float32 (1, 256, 256) image from the entry's number."""

    def sample(self, raw: tuple[int, int]) -> Sample:
        """Return the image of ``raw`` and its label as a tensor."""
        number, label = raw
        image = torch.full((1, SIDE, SIDE), number / 4096, dtype=torch.float32)
        return Sample(image, {"target": torch.tensor(label)})

    def target(self, raw: tuple[int, int]) -> int:
        """Return the label."""
        return raw[1]


class PerRank(CachingDataModule):
    """Each process caches its own copy (the node's sharing turned off)."""

    def _open_on_node(self, names: Sequence[SetName]) -> None:
        return


def _pss() -> int:
    return int(psutil.Process().memory_full_info().pss)


class PeakSampler:
    """Samples this process's PSS every 50 ms in a thread; keeps the largest."""

    def __init__(self) -> None:
        self.peak = _pss()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            self.peak = max(self.peak, _pss())

    def stop(self) -> int:
        """Stop sampling; return the peak."""
        self._stop.set()
        self._thread.join()
        return max(self.peak, _pss())


class Probe(LightningModule):
    """Records this process's PSS once training starts, then stops."""

    def __init__(self, out: Path, before: int, sampler: PeakSampler) -> None:
        super().__init__()
        self.layer = torch.nn.Linear(SIDE * SIDE, 2)
        self.out = out
        self.before = before
        self.sampler = sampler

    def on_train_start(self) -> None:
        after = _pss()
        peak = self.sampler.stop()
        record = {"before": self.before, "after": after, "peak": peak}
        (self.out / f"rank{self.global_rank}.json").write_text(json.dumps(record))
        self.trainer.should_stop = True

    def training_step(self, batch: Sample, batch_idx: int) -> Tensor:
        loss: Tensor = self.layer(batch.input.flatten(1)).sum()
        return loss

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.SGD(self.parameters(), lr=0.01)


def fit(out: Path, mode: str, samples: int) -> None:
    """Run in each DDP process: cache, record the memory, stop."""
    warnings.filterwarnings("ignore")
    split = {
        "train": [(index, index % 2) for index in range(samples)],
        "validation": [(index, 0) for index in range(8)],
    }
    module: CachingDataModule
    if mode == "per-rank":
        module = PerRank(split, ImageLoader(), cache_samples=True, batch_size=64)
    else:
        module = CachingDataModule(
            split, ImageLoader(), cache_samples=True, batch_size=64
        )
    before = _pss()
    sampler = PeakSampler()
    trainer = Trainer(
        accelerator="cpu",
        strategy="auto" if mode == "alone" else "ddp",
        devices=1 if mode == "alone" else 2,
        max_steps=1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        num_sanity_val_steps=0,
    )
    trainer.fit(Probe(out, before, sampler), module)


def main() -> None:
    """Run both modes side by side and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=16384)
    arguments = parser.parse_args()
    cache = arguments.samples * SIDE * SIDE * 4 + 8 * SIDE * SIDE * 4
    print(
        f"# lightsplit node cache: 2 DDP processes (gloo, CPU), train "
        f"{arguments.samples} float32 images 1x{SIDE}x{SIDE}, cache "
        f"{cache / MIB:,.0f} MiB\n"
    )
    rows = []
    peaks: dict[str, int] = {}
    labels = {
        "alone": "1 process alone",
        "per-node": "2 DDP processes, one copy per node",
        "per-rank": "2 DDP processes, one copy per process",
    }
    for mode, label in labels.items():
        with tempfile.TemporaryDirectory() as folder:
            out = Path(folder)
            command = [sys.executable, __file__, "--run", str(out), mode]
            command.append(str(arguments.samples))
            subprocess.run(command, check=True, capture_output=True)
            ranks = (0,) if mode == "alone" else (0, 1)
            records = [json.loads((out / f"rank{r}.json").read_text()) for r in ranks]
        added = sum(record["after"] - record["before"] for record in records)
        after = sum(record["after"] for record in records)
        peak = peaks[mode] = sum(record["peak"] for record in records)
        rows.append(
            [
                label,
                f"{after / MIB:,.0f} MiB",
                f"{peak / MIB:,.0f} MiB",
                f"{added / MIB:,.0f} MiB",
                f"{added / cache:.2f}x",
                f"{peak / peaks['alone']:.2f}x",
            ]
        )
    header = [
        "in-memory cache",
        "PSS once training starts",
        "peak PSS (sum of peaks)",
        "added by setup",
        "added / cache",
        "peak / 1 process's",
    ]
    print(markdown_table(header, rows))
    ratio = peaks["per-node"] / peaks["alone"]
    verdict = "PASS" if ratio <= 1.1 else "FAIL"
    print(f"\n{verdict}: 2 ranks' peak is {ratio:.2f}x one rank's (target <= 1.1x)")


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--run":
        fit(Path(sys.argv[2]), sys.argv[3], int(sys.argv[4]))
    else:
        main()
