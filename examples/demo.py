"""Train a tiny CNN on a synthetic PNG database served by a cached data module.

Writes 1,200 noisy grayscale 16x16 images of three classes (horizontal bars,
vertical bars, blobs) and their split file to a temporary folder, loads the split,
builds the data module from a JSON configuration, trains for one epoch, tests,
and prints the training throughput and the test accuracy::

    .venv/bin/python examples/demo.py
"""

import json
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import torch
from lightning.fabric.utilities.warnings import PossibleUserWarning
from lightning.pytorch import Callback, LightningModule, Trainer
from lightning.pytorch.utilities.types import STEP_OUTPUT
from PIL import Image
from torch import Tensor, nn
from torch.nn import functional
from typing_extensions import override

from lightsplit import DataModuleConfig, Sample, build_datamodule, load_split

SIZE: Final = 16
"""Side of every image, in pixels."""

CLASSES: Final = ("horizontal bars", "vertical bars", "blob")
"""Class names, by label."""

IMAGES: Final = 1200
"""Images in the database: 70% train, 15% validation, 15% test."""

EPOCHS: Final = 1
"""Training epochs."""

CONFIG: Final = """{
    "database_name": "bars-and-blobs",
    "split_name": "default",
    "batch_size": 32,
    "batch_chunk_count": 2,
    "cache_samples": true,
    "parallel": 2
}"""
"""The data module settings, as a configuration file would hold them."""


def draw(label: int, generator: torch.Generator) -> Tensor:
    """Return a noisy uint8 ``(SIZE, SIZE)`` image of class ``label``."""
    image = torch.zeros(SIZE, SIZE)
    if CLASSES[label] == "blob":
        row, column = torch.randint(4, SIZE - 4, (2,), generator=generator).tolist()
        grid = torch.arange(SIZE)
        squared = (grid[:, None] - row) ** 2 + (grid[None, :] - column) ** 2
        image = torch.exp(-squared / 8.0)
    else:
        lines = torch.randperm(SIZE, generator=generator)[:3]
        if CLASSES[label] == "horizontal bars":
            image[lines, :] = 1.0
        else:
            image[:, lines] = 1.0
    noisy = image + 0.3 * torch.randn(SIZE, SIZE, generator=generator)
    return (noisy.clamp(0, 1) * 255).round().to(torch.uint8)


def write_database(root: Path) -> Path:
    """Write the images and their split file under ``root``.

    Returns:
        The path of the split file.
    """
    generator = torch.Generator().manual_seed(0)
    (root / "images").mkdir()
    entries: list[tuple[str, int]] = []
    for index in range(IMAGES):
        label = index % len(CLASSES)
        name = f"images/{index:04d}.png"
        pixels = bytes(draw(label, generator).flatten().tolist())
        Image.frombytes("L", (SIZE, SIZE), pixels).save(root / name)
        entries.append((name, label))
    train, test = IMAGES * 70 // 100, IMAGES * 85 // 100
    split = {
        "train": entries[:train],
        "validation": entries[train:test],
        "test": entries[test:],
    }
    path = root / "split.json"
    path.write_text(json.dumps(split, indent=1))
    return path


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


class TinyCNN(LightningModule):
    """One convolution, max pooling and a linear classifier."""

    def __init__(self, learning_rate: float = 0.01) -> None:
        super().__init__()
        self.learning_rate = learning_rate
        self.net = nn.Sequential(
            nn.Conv2d(1, 8, 5, padding=2),
            nn.ReLU(),
            nn.MaxPool2d(4),
            nn.Flatten(),
            nn.Linear(8 * (SIZE // 4) ** 2, len(CLASSES)),
        )

    @override
    def forward(self, images: Tensor) -> Tensor:
        """Return the class logits of a batch of uint8 images."""
        logits: Tensor = self.net((images.float() - 128) / 64)
        return logits

    def _evaluate(self, batch: Sample) -> tuple[Tensor, Tensor]:
        """Return the loss and the accuracy on ``batch``."""
        logits: Tensor = self(batch.input)
        labels: Tensor = batch.metadata["label"]
        loss = functional.cross_entropy(logits, labels)
        accuracy = (logits.argmax(dim=1) == labels).float().mean()
        return loss, accuracy

    @override
    def training_step(self, batch: Sample, batch_idx: int) -> Tensor:
        """Return the loss of one chunk, shown in the progress bar."""
        loss, _ = self._evaluate(batch)
        self.log("loss", loss, prog_bar=True, batch_size=len(batch.input))
        return loss

    @override
    def validation_step(self, batch: Sample, batch_idx: int) -> None:
        """Log the validation accuracy, shown in the progress bar."""
        _, accuracy = self._evaluate(batch)
        self.log("val_accuracy", accuracy, prog_bar=True, batch_size=len(batch.input))

    @override
    def test_step(self, batch: Sample, batch_idx: int) -> None:
        """Log the test accuracy."""
        _, accuracy = self._evaluate(batch)
        self.log("test_accuracy", accuracy, batch_size=len(batch.input))

    @override
    def configure_optimizers(self) -> torch.optim.Optimizer:
        """Return an Adam optimizer."""
        return torch.optim.Adam(self.parameters(), lr=self.learning_rate)


class TrainingThroughput(Callback):
    """Training samples served, and the time spent loading and stepping on them."""

    def __init__(self) -> None:
        self.samples = 0
        self.seconds = 0.0
        self._mark = 0.0

    @override
    def on_train_epoch_start(
        self, trainer: Trainer, pl_module: LightningModule
    ) -> None:
        """Start the clock (validation, after the last step, is not counted)."""
        self._mark = time.perf_counter()

    @override
    def on_train_batch_end(
        self,
        trainer: Trainer,
        pl_module: LightningModule,
        outputs: STEP_OUTPUT,
        batch: Sample,
        batch_idx: int,
    ) -> None:
        """Count the chunk and the time since the previous one."""
        now = time.perf_counter()
        self.seconds += now - self._mark
        self._mark = now
        self.samples += len(batch.input)


def main() -> None:
    """Write the database, train, test and print the results."""
    # Cached sets are served from memory in the main process on purpose (one
    # index_select per batch), so Lightning's hint to add workers does not apply.
    warnings.filterwarnings(
        "ignore", message=".*does not have many workers", category=PossibleUserWarning
    )
    # Lightning 2.6 calls a torch pytree API that torch 2.13 deprecates; remove
    # this filter once Lightning stops calling it.
    warnings.filterwarnings(
        "ignore",
        message=r"`isinstance\(treespec, LeafSpec\)` is deprecated",
        category=FutureWarning,
    )
    torch.manual_seed(0)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        split = load_split(write_database(root), sample_type=tuple[str, int])
        print(f"database: {IMAGES} PNG images of {', '.join(CLASSES)}; {split}")
        config = DataModuleConfig.model_validate_json(CONFIG)
        print(f"configuration: {config}")
        loader = PngLoader(root)
        datamodule = build_datamodule(
            config, {name: [(samples, loader)] for name, samples in split.items()}
        )
        throughput = TrainingThroughput()
        trainer = Trainer(
            accelerator="cpu",
            max_epochs=EPOCHS,
            accumulate_grad_batches=datamodule.accumulate_grad_batches,
            logger=False,
            enable_checkpointing=False,
            callbacks=[throughput],
        )
        model = TinyCNN()
        trainer.fit(model, datamodule=datamodule)
        [results] = trainer.test(model, datamodule=datamodule)
    rate = throughput.samples / throughput.seconds
    print(
        f"training: {throughput.samples} samples in {throughput.seconds:.2f} s, "
        f"{rate:,.0f} samples/s (loading and optimizer steps)"
    )
    chance = 1 / len(CLASSES)
    print(f"test accuracy: {results['test_accuracy']:.1%} (chance: {chance:.1%})")


if __name__ == "__main__":
    main()
