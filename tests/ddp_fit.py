"""Fit on 2 CPU processes with DDP and record what each rank was served.

Run as ``python tests/ddp_fit.py OUT_DIR MODE`` (MODE: ``plain``, ``balanced``,
or ``node``: cached in memory rather than in ``cache_dir``); Lightning starts the
second process by running this file again. Each rank writes
``OUT_DIR/rank{rank}.json``: per epoch, the names of the training samples and of
the validation samples it saw, and ``OUT_DIR/maps{rank}.json``: the node-cache
files it maps once training starts. Every process appends its loads of raw
samples to ``OUT_DIR/loads-{pid}.txt``.
"""

import json
import os
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import torch
from lightning.pytorch import LightningModule, Trainer
from lightsplit_testing import Entry, MemoryLoader, entries_named
from torch import Tensor

from lightsplit import CachingDataModule, Sample


@dataclass
class LoggingLoader(MemoryLoader):
    """Appends the name of each loaded sample to a file of its process."""

    log_dir: Path = field(default=Path(), repr=False)

    def sample(self, raw: Entry) -> Sample:
        """Load ``raw`` and log it."""
        with (self.log_dir / f"loads-{os.getpid()}.txt").open("a") as log:
            log.write(raw[0] + "\n")
        return super().sample(raw)


NODE = "lightsplit-node-cache"


class Recorder(LightningModule):
    """Records the samples of each epoch, per rank."""

    def __init__(self, out: Path) -> None:
        super().__init__()
        self.layer = torch.nn.Linear(6, 2)
        self.out = out
        self.epochs: list[dict[str, list[str]]] = []

    def on_train_start(self) -> None:
        maps = Path("/proc/self/maps").read_text().splitlines()
        files = sorted({line.split(None, 5)[-1] for line in maps if NODE in line})
        (self.out / f"maps{self.global_rank}.json").write_text(json.dumps(files))

    def on_train_epoch_start(self) -> None:
        self.epochs.append({"train": [], "labels": []})

    def training_step(self, batch: Sample, batch_idx: int) -> Tensor:
        inputs, metadata = batch
        self.epochs[-1]["train"] += metadata["name"]
        self.epochs[-1]["labels"] += [str(int(x)) for x in metadata["label"]]
        logits: Tensor = self.layer(inputs.flatten(1))
        return torch.nn.functional.cross_entropy(logits, metadata["label"])

    def validation_step(
        self, batch: Sample, batch_idx: int, dataloader_idx: int = 0
    ) -> None:
        # a collective each step, as gathering predictions does: every rank
        # must take as many steps of each set
        steps = self.all_gather(torch.tensor(batch_idx))
        assert isinstance(steps, Tensor)
        assert steps.tolist() == [batch_idx, batch_idx]
        # per-sample values too, as gathering predictions does: batches of one
        # size on every rank
        values = self.all_gather(batch.input.flatten(1)[:, 0])
        assert isinstance(values, Tensor)
        assert values.shape == (2, len(batch.input))
        if self.epochs:
            loaders = self.trainer.val_dataloaders
            assert isinstance(loaders, dict)  # the data module's, by set name
            name = list(loaders)[dataloader_idx]
            self.epochs[-1].setdefault(name, []).extend(batch.metadata["name"])

    def on_train_epoch_end(self) -> None:
        path = self.out / f"rank{self.global_rank}.json"
        path.write_text(json.dumps(self.epochs))

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.SGD(self.parameters(), lr=0.01)


def main(out: Path, mode: str) -> None:
    """Fit 2 epochs on 2 processes."""
    warnings.filterwarnings("ignore")  # Lightning's advice for tiny CPU runs
    labels = [1 if index % 10 == 0 else 0 for index in range(200)]
    train = entries_named("t", 200, labels)
    split = {
        "train": train,
        "monitor-train": train,  # as mednet's: served from train's cache
        "validation": entries_named("v", 7),
        "monitor-odd": entries_named("o", 21),  # 11 and 10: 2 and 1 batches of 10
        "monitor-tiny": entries_named("m", 1),  # fewer samples than processes
    }
    module = CachingDataModule(
        split,
        LoggingLoader(log_dir=out),
        batch_size=10,
        balance_sampler_by_class=mode == "balanced",
        cache_samples=True,
        cache_dir=None if mode == "node" else out / "cache",
        seed=7,
    )
    trainer = Trainer(
        accelerator="cpu",
        strategy="ddp",
        devices=2,
        max_epochs=2,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        num_sanity_val_steps=0,
    )
    trainer.fit(Recorder(out), module)


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2])
