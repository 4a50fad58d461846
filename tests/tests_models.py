"""A tiny Lightning model that records what the data module served it."""

from pathlib import Path
from typing import Any

import torch
from lightning.pytorch import LightningDataModule, LightningModule, Trainer
from lightning.pytorch.callbacks import ModelCheckpoint
from torch import Tensor

from lightsplit import Sample


class RecordingModel(LightningModule):
    """A linear classifier that records the names of the samples it sees."""

    def __init__(self, pixels: int) -> None:
        super().__init__()
        self.layer = torch.nn.Linear(pixels, 2)
        self.train_names: list[str] = []
        self.val_names: list[str] = []
        self.train_chunk_sizes: set[int] = set()

    def training_step(self, batch: Sample, batch_idx: int) -> Tensor:
        inputs, metadata = batch
        self.train_names += metadata["name"]
        self.train_chunk_sizes.add(len(inputs))
        logits: Tensor = self.layer(inputs.float().flatten(1) / 255)
        return torch.nn.functional.cross_entropy(logits, metadata["label"])

    def validation_step(
        self, batch: Sample, batch_idx: int, dataloader_idx: int = 0
    ) -> None:
        self.val_names += batch.metadata["name"]

    def test_step(self, batch: Sample, batch_idx: int, dataloader_idx: int = 0) -> None:
        self.val_names += batch.metadata["name"]

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.SGD(self.parameters(), lr=0.1)


def quiet_trainer(**options: Any) -> Trainer:  # noqa: ANN401 - any of Trainer's
    """Return a CPU trainer that logs, checkpoints and shows nothing, with
    ``options`` (which may turn any of those back on)."""
    settings: dict[str, Any] = {
        "accelerator": "cpu",
        "max_epochs": 1,
        "logger": False,
        "enable_checkpointing": False,
        "enable_progress_bar": False,
        "enable_model_summary": False,
        "num_sanity_val_steps": 0,
    }
    return Trainer(**{**settings, **options})


def fit_to_checkpoint(module: LightningDataModule, folder: Path) -> Path:
    """Fit a `RecordingModel` of 6 pixels one epoch on ``module``; return the
    checkpoint saved at its end, ``folder / "last.ckpt"``."""
    trainer = Trainer(
        accelerator="cpu",
        max_epochs=1,
        logger=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        callbacks=[ModelCheckpoint(dirpath=folder, filename="last")],
    )
    trainer.fit(RecordingModel(6), datamodule=module)
    return folder / "last.ckpt"
