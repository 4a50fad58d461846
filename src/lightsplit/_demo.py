"""``run_demo``: train a small CNN on scikit-learn's digits, end to end.

The demo writes the 1,797 handwritten digits that scikit-learn ships as PNG files
with a split file, checks the split with ``lightsplit check``, loads it, builds a
cached, chunked data module from a JSON configuration and trains on it with
Lightning, printing the test accuracy after each epoch. It needs
``lightsplit[demo]`` (Pillow and scikit-learn).
"""

import importlib
import json
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Final, TypeAlias

import torch
from lightning.fabric.utilities.warnings import PossibleUserWarning
from lightning.pytorch import Callback, LightningModule, Trainer, seed_everything
from lightning.pytorch.utilities.types import STEP_OUTPUT
from torch import Tensor, nn
from torch.nn import functional
from typing_extensions import override

from ._config import DataModuleConfig
from ._factory import build_datamodule
from ._images import ImageFileLoader
from ._loader import SampleLoader
from ._sample import Sample
from ._split import load_split
from ._types import StrPath

__all__ = ["run_demo"]

SIZE: Final = 16
"""Side of the written images, in pixels: the 8x8 digits upscaled bilinearly."""

CLASSES: Final = 10
"""Digits 0 to 9."""

LEARNING_RATE: Final = 0.005
"""Adam's learning rate."""

_Entry: TypeAlias = tuple[str, int]
"""A split entry: an image path relative to the root, and its digit."""


def _say(text: str) -> None:
    print(text, flush=True)  # noqa: T201 - the demo reports its progress on stdout


def _write_database(root: Path) -> Path:
    """Write the digits as PNG files under ``root / "digits"`` and a split file.

    The split is stratified by digit and fixed: 70% train, 15% validation, 15% test.

    Returns:
        The path of the split file.

    Raises:
        ImportError: if scikit-learn or Pillow is missing.
    """
    try:
        from PIL import Image  # noqa: PLC0415 - an optional dependency

        # scikit-learn has no type information and may be missing where mypy runs:
        # import it by name, as a plain module.
        datasets = importlib.import_module("sklearn.datasets")
        model_selection = importlib.import_module("sklearn.model_selection")
    except ImportError as exc:
        msg = (
            f"the demo needs Pillow and scikit-learn ({exc}); install lightsplit[demo]"
        )
        raise ImportError(msg) from exc

    digits = datasets.load_digits()
    pixels = (torch.as_tensor(digits.images) * 255 / 16).round().to(torch.uint8)
    labels = [int(label) for label in digits.target]
    (root / "digits").mkdir(parents=True, exist_ok=True)
    entries: list[_Entry] = []
    for index, (image, label) in enumerate(zip(pixels, labels, strict=True)):
        name = f"digits/{index:04d}.png"
        small = Image.frombytes("L", (8, 8), bytes(image.flatten().tolist()))
        small.resize((SIZE, SIZE), Image.Resampling.BILINEAR).save(root / name)
        entries.append((name, label))
    _say(
        f"wrote {len(entries):,} handwritten digits from scikit-learn (8x8, upscaled "
        f"to {SIZE}x{SIZE}) as PNG files under {root / 'digits'}"
    )

    indices = list(range(len(entries)))
    train, rest = model_selection.train_test_split(
        indices, test_size=0.3, stratify=labels, random_state=0
    )
    validation, test = model_selection.train_test_split(
        rest, test_size=0.5, stratify=[labels[i] for i in rest], random_state=0
    )
    sets = {
        name: [entries[i] for i in sorted(chosen)]
        for name, chosen in (
            ("train", train),
            ("validation", validation),
            ("test", test),
        )
    }
    path = root / "split.json"
    path.write_text(_split_json(sets))
    counts = ", ".join(f"{name} {len(samples):,}" for name, samples in sets.items())
    _say(f"wrote the split file {path}: {counts}")
    return path


def _split_json(sets: Mapping[str, Sequence[_Entry]]) -> str:
    """Return ``sets`` as a split file, one ``[path, label]`` entry per line."""
    blocks = []
    for name, entries in sets.items():
        rows = ",\n".join(f"    {json.dumps(list(entry))}" for entry in entries)
        blocks.append(f"  {json.dumps(name)}: [\n{rows}\n  ]")
    return "{\n" + ",\n".join(blocks) + "\n}\n"


def _check_split(split_path: Path, root: Path) -> None:
    """Run ``lightsplit check`` on the split, as a user would, and show its output.

    Raises:
        RuntimeError: if the check fails.
    """
    command = [sys.executable, "-m", "lightsplit", "check", str(split_path)]
    command += ["--root", str(root)]
    _say(f"checked with `lightsplit check {split_path} --root {root}`:")
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    output = (result.stdout + result.stderr).rstrip()
    if output:
        _say(output)
    if result.returncode:
        msg = f"`lightsplit check` failed (exit status {result.returncode})"
        raise RuntimeError(msg)


class DigitsCNN(LightningModule):
    """Two convolution blocks and a linear classifier for ``SIZE`` pixel digits."""

    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(32 * (SIZE // 4) ** 2, CLASSES),
        )

    @override
    def forward(self, images: Tensor) -> Tensor:
        """Return the class logits of a batch of images in [0, 1]."""
        logits: Tensor = self.net(images * 2 - 1)
        return logits

    def _loss_and_accuracy(self, batch: Sample) -> tuple[Tensor, Tensor]:
        logits: Tensor = self(batch.input)
        labels: Tensor = batch.metadata["label"]
        loss = functional.cross_entropy(logits, labels)
        accuracy = (logits.argmax(dim=1) == labels).float().mean()
        return loss, accuracy

    @override
    def training_step(self, batch: Sample, batch_idx: int) -> Tensor:
        """Return the loss of one chunk, shown in the progress bar."""
        loss, _ = self._loss_and_accuracy(batch)
        self.log("loss", loss, prog_bar=True, batch_size=len(batch.input))
        return loss

    @override
    def validation_step(self, batch: Sample, batch_idx: int) -> None:
        """Log the validation accuracy, shown in the progress bar."""
        _, accuracy = self._loss_and_accuracy(batch)
        self.log("val_acc", accuracy, prog_bar=True, batch_size=len(batch.input))

    @override
    def configure_optimizers(self) -> torch.optim.Optimizer:
        """Return an Adam optimizer."""
        return torch.optim.Adam(self.parameters(), lr=LEARNING_RATE)


@torch.no_grad()
def _accuracy(model: LightningModule, loader: SampleLoader) -> float:
    """Return the fraction of the samples of ``loader`` that ``model`` gets right."""
    was_training = model.training
    model.eval()
    correct = total = 0
    for batch in loader:
        logits: Tensor = model(batch.input)
        labels: Tensor = batch.metadata["label"]
        correct += int((logits.argmax(dim=1) == labels).sum())
        total += len(labels)
    model.train(was_training)
    return correct / total


class EpochReport(Callback):
    """Measures training throughput and prints the test accuracy after each epoch."""

    def __init__(self, test_loader: SampleLoader) -> None:
        self.test_loader = test_loader
        self.accuracy = 0.0
        self.samples = 0
        self.seconds = 0.0
        self._epoch_samples = 0
        self._epoch_seconds = 0.0
        self._mark = 0.0

    @override
    def on_train_epoch_start(
        self, trainer: Trainer, pl_module: LightningModule
    ) -> None:
        """Start the clock."""
        self._epoch_samples, self._epoch_seconds = 0, 0.0
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
        """Count the chunk and the time spent loading it and stepping on it."""
        now = time.perf_counter()
        self._epoch_seconds += now - self._mark
        self._mark = now
        self._epoch_samples += len(batch.input)

    @override
    def on_train_epoch_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        """Evaluate on the test set and print the epoch's results."""
        self.samples += self._epoch_samples
        self.seconds += self._epoch_seconds
        self.accuracy = _accuracy(pl_module, self.test_loader)
        rate = self._epoch_samples / self._epoch_seconds
        pl_module.print(
            f"epoch {trainer.current_epoch + 1}/{trainer.max_epochs}: "
            f"test accuracy {self.accuracy:.1%}, {rate:,.0f} training samples/s"
        )


def _train(
    split_path: Path, root: Path, *, epochs: int, parallel: int, seed: int
) -> float:
    """Load the split, build the data module, train and return the test accuracy."""
    split = load_split(split_path, sample_type=tuple[str, int])
    config_path = root / "datamodule.json"
    config_path.write_text(
        json.dumps(
            {
                "database_name": "sklearn-digits",
                "split_name": "default",
                "task": "classification",
                "num_classes": 10,
                "batch_size": 64,
                "batch_chunk_count": 2,
                "cache_samples": True,
                "parallel": parallel,
                "seed": seed,
            },
            indent=2,
        )
    )
    config = DataModuleConfig.model_validate_json(config_path.read_text())
    _say(f"configuration from {config_path}: {config!r}")
    loader = ImageFileLoader(root)
    datamodule = build_datamodule(
        config, {name: [(samples, loader)] for name, samples in split.items()}
    )
    started = time.perf_counter()
    datamodule.setup("fit")
    datamodule.setup("test")
    workers = config.num_workers
    by = (
        f"{workers} processes: the main one and {workers - 1} more"
        if workers > 1
        else "the main process"
    )
    _say(
        f"cached the {sum(map(len, split.values())):,} images of "
        f"{', '.join(split)} in memory ({by}, {time.perf_counter() - started:.1f} s)"
    )
    seed_everything(seed, verbose=False)
    model = DigitsCNN()
    report = EpochReport(datamodule.test_dataloader()["test"])
    parameters = sum(parameter.numel() for parameter in model.parameters())
    _say(
        f"training a CNN of {parameters:,} parameters for {epochs} epochs "
        f"(seed {seed}): batches of "
        f"{config.batch_size} in {config.batch_chunk_count} chunks of "
        f"{datamodule.chunk_size}, accumulate_grad_batches="
        f"{datamodule.accumulate_grad_batches}"
    )
    trainer = Trainer(
        accelerator="cpu",
        max_epochs=epochs,
        accumulate_grad_batches=datamodule.accumulate_grad_batches,
        logger=False,
        enable_checkpointing=False,
        enable_model_summary=False,
        callbacks=[report],
    )
    # A model this small gains little from a second thread, and on a busy machine
    # threads that wait for each other make each step many times slower.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        trainer.fit(model, datamodule=datamodule)
    finally:
        torch.set_num_threads(threads)
    _say(
        f"test accuracy: {report.accuracy:.1%} (chance {1 / CLASSES:.0%}), "
        f"{report.samples / report.seconds:,.0f} training samples/s"
    )
    return report.accuracy


def run_demo(
    *,
    epochs: int = 5,
    workdir: StrPath | None = None,
    parallel: int = 2,
    seed: int = 0,
) -> float:
    """Write the digits database, check it, train a small CNN on it and test it.

    Args:
        epochs: training epochs.
        workdir: folder for the images, split file and configuration; a temporary
            folder, removed afterwards, when ``None``.
        parallel: processes that build the cache, the main one included (see
            `DataModuleConfig.parallel`).
        seed: seed of the model's initialization and the shuffling.

    Returns:
        The accuracy on the test set after the last epoch, in [0, 1].

    Raises:
        ImportError: if scikit-learn or Pillow is missing.
        RuntimeError: if ``lightsplit check`` finds a problem in the split.
        ValueError: if ``epochs`` is less than 1.
        ValidationError: for an invalid ``parallel``.
    """
    if epochs < 1:
        msg = f"`epochs` ({epochs}) must be at least 1"
        raise ValueError(msg)
    if workdir is None:
        with tempfile.TemporaryDirectory(prefix="lightsplit-demo-") as tmp:
            return run_demo(
                epochs=epochs, workdir=Path(tmp), parallel=parallel, seed=seed
            )
    with warnings.catch_warnings():
        # Cached sets are served from memory in this process on purpose (one
        # index_select per batch), so Lightning's advice to add workers does not apply.
        warnings.filterwarnings(
            "ignore",
            message=".*does not have many workers",
            category=PossibleUserWarning,
        )
        # Lightning 2.6 calls a torch pytree API that torch 2.13 deprecates; remove
        # this filter once Lightning stops calling it.
        warnings.filterwarnings(
            "ignore",
            message=r"`isinstance\(treespec, LeafSpec\)` is deprecated",
            category=FutureWarning,
        )
        root = Path(workdir)
        split_path = _write_database(root)
        _check_split(split_path, root)
        return _train(split_path, root, epochs=epochs, parallel=parallel, seed=seed)
