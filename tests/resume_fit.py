"""Train with mid-epoch checkpoints, killed or not, and record what each step saw.

Run as ``python tests/resume_fit.py OUT MODE PHASE DEVICES`` or call `fit`:

- MODE ``plain``: shuffled, batches of 4 in chunks of 2 (accumulation 2),
  cached, dropping the incomplete last chunk; ``balanced``: class-balanced
  draws, uncached, 2 loader workers, chunks of 2.
- PHASE ``full`` trains 3 epochs; ``kill`` trains with a checkpoint every 3
  optimizer steps into ``OUT/ckpt`` and kills its process group (SIGKILL) two
  steps after the checkpoint of step 9, mid-epoch; ``resume`` takes the
  latest checkpoint of ``OUT/ckpt`` up. ``epochs`` trains with a checkpoint at
  the end of each epoch (Lightning's default) into ``OUT/ckpt``;
  ``after-epoch`` takes the first of them up. ``steps`` trains with a
  checkpoint every 4 optimizer steps (the last step of each epoch, on 2
  processes) into ``OUT/ckpt``.
- DEVICES: the number of CPU processes (2 runs DDP with gloo).
- A last argument ``unseeded`` leaves the data module without a fixed seed.

Each process appends one line per training step to ``OUT/PHASE-rank{R}.txt``:
the epoch, the names of the samples of the step and the sum of its inputs
after a random batch transform (noise), flushed at once so that a killed run
leaves its record.
"""

import os
import signal
import sys
from pathlib import Path

import torch
from lightning.pytorch import LightningModule, Trainer
from lightning.pytorch.callbacks import Callback, ModelCheckpoint
from lightsplit_testing import MemoryLoader, entries_named
from torch import Tensor

from lightsplit import CachingDataModule, Sample

KILL_STEP = 11
"""The optimizer step after which a ``kill`` run dies (its last checkpoint: 9)."""

LABELS = [1 if index % 3 == 0 else 0 for index in range(31)]


def noise(batch: Tensor) -> Tensor:
    """Add uniform noise: a random batch transform, which must resume exactly."""
    return batch + torch.rand_like(batch)


def make_datamodule(mode: str, train: int = 31, **changes: object) -> CachingDataModule:
    """Return the data module of ``mode``, its first ``train`` training entries,
    with any setting changed."""
    settings: dict[str, object] = {"batch_size": 4, "batch_chunk_count": 2, "seed": 3}
    if mode == "plain":
        settings |= {"cache_samples": True, "drop_incomplete_batch": True}
    else:
        settings |= {"balance_sampler_by_class": True, "parallel": 2}
    split = {
        "train": entries_named("t", train, LABELS[:train]),
        "validation": entries_named("v", 4),
    }
    return CachingDataModule(
        split,
        MemoryLoader(),
        train_batch_transforms=[noise],
        **(settings | changes),  # type: ignore[arg-type]  # checked by the data module
    )


class Recorder(LightningModule):
    """A linear model that records the samples of each training step."""

    def __init__(self, record: Path, *, kill: bool) -> None:
        super().__init__()
        self.layer = torch.nn.Linear(6, 2)
        self.record = record
        self.kill = kill

    def training_step(self, batch: Sample, batch_idx: int) -> Tensor:
        inputs, metadata = batch
        path = self.record.with_name(f"{self.record.name}-rank{self.global_rank}.txt")
        with path.open("a") as record:
            names = ",".join(metadata["name"])
            record.write(f"{self.current_epoch}\t{names}\t{inputs.sum():.6f}\n")
        logits: Tensor = self.layer(inputs.flatten(1))
        return torch.nn.functional.cross_entropy(logits, metadata["label"])

    def on_train_batch_end(
        self, outputs: object, batch: Sample, batch_idx: int
    ) -> None:
        if self.kill and self.global_step == KILL_STEP:
            os.killpg(os.getpgrp(), signal.SIGKILL)

    def validation_step(self, batch: Sample, batch_idx: int) -> None:
        pass

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.SGD(self.parameters(), lr=0.1)


def latest_checkpoint(out: Path, *, first: bool = False) -> Path:
    """Return the checkpoint of the highest (or lowest) step under ``out/ckpt``."""
    paths = (out / "ckpt").glob("step=*.ckpt")
    pick = min if first else max
    return pick(paths, key=lambda path: int(path.stem.split("=")[1]))


def fit(
    out: Path,
    mode: str,
    phase: str,
    devices: int,
    *,
    epochs: int = 3,
    train: int = 31,
    **changes: object,
) -> Trainer:
    """Run ``phase`` of ``mode`` on ``devices`` CPU processes; see the module doc."""
    datamodule = make_datamodule(mode, train, **changes)
    callbacks: list[Callback] = []
    # every 3 steps, mid-epoch; every 4: an epoch's last step, on 2 processes
    every = {"kill": 3, "steps": 4}.get(phase)
    if every is not None:
        callbacks.append(
            ModelCheckpoint(
                dirpath=out / "ckpt",
                filename="{step}",
                every_n_train_steps=every,
                save_top_k=-1,
            )
        )
    if phase == "epochs":  # at the end of each epoch
        callbacks.append(
            ModelCheckpoint(dirpath=out / "ckpt", filename="{step}", save_top_k=-1)
        )
    trainer = Trainer(
        accelerator="cpu",
        devices=devices,
        strategy="ddp" if devices > 1 else "auto",
        max_epochs=epochs,
        accumulate_grad_batches=datamodule.accumulate_grad_batches,
        callbacks=callbacks,
        logger=False,
        enable_checkpointing=phase in ("kill", "steps", "epochs"),
        enable_progress_bar=False,
        enable_model_summary=False,
        num_sanity_val_steps=0,
    )
    model = Recorder(out / phase, kill=phase == "kill")
    ckpt_path = None
    if phase in ("resume", "after-epoch"):
        ckpt_path = latest_checkpoint(out, first=phase == "after-epoch")
    trainer.fit(model, datamodule=datamodule, ckpt_path=ckpt_path)
    return trainer


if __name__ == "__main__":
    out, mode, phase, devices, *rest = sys.argv[1:]
    epochs = int(rest[0]) if rest else 3
    if "unseeded" in rest:
        fit(Path(out), mode, phase, int(devices), epochs=epochs, seed=None)
    else:
        fit(Path(out), mode, phase, int(devices), epochs=epochs)
