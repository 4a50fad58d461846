"""Train from a YAML file through LightningCLI, as a user's ``train.py`` would.

Run as ``python tests/cli_fit.py MODE fit --config FILE ...`` in a folder of
images: MODE ``subclass`` builds ``LightningCLI(Recorder)`` (the data module's
class comes from the file's ``data.class_path``), ``fixed`` builds
``LightningCLI(Recorder, CachingDataModule)``. Both link
``trainer.accumulate_grad_batches`` to the data module's ``batch_chunk_count``.
After fitting, ``fit.json`` records what the model was served: the training
chunk sizes, the trainer's accumulation, the names seen and the data module's
configuration and set sizes.
"""

import json
import sys
from pathlib import Path
from typing import Any

import torch
from lightning.pytorch import LightningModule
from lightning.pytorch.cli import LightningArgumentParser, LightningCLI
from torch import Tensor

from lightsplit import CachingDataModule, ConcatDataModule, Sample


class Recorder(LightningModule):
    """A linear classifier of 8x8 grayscale images that records its batches."""

    def __init__(self, learning_rate: float = 0.1, label_key: str = "label") -> None:
        """Train with SGD at ``learning_rate`` on the labels at ``label_key``."""
        super().__init__()
        self.layer = torch.nn.Linear(64, 2)
        self.learning_rate = learning_rate
        self.label_key = label_key
        self.chunks: list[int] = []
        self.names: list[str] = []

    def training_step(self, batch: Sample, batch_idx: int) -> Tensor:
        """Record the chunk and return the loss."""
        inputs, metadata = batch
        self.chunks.append(len(inputs))
        self.names += metadata["name"]
        logits: Tensor = self.layer(inputs.float().flatten(1))
        labels: Tensor = metadata[self.label_key]  # ints, or mednet's floats [[0.]]
        return torch.nn.functional.cross_entropy(logits, labels.long().flatten())

    def configure_optimizers(self) -> torch.optim.Optimizer:
        """Plain SGD."""
        return torch.optim.SGD(self.parameters(), lr=self.learning_rate)

    def on_fit_end(self) -> None:
        """Write what was served to ``fit.json``."""
        trainer: Any = self.trainer  # its `datamodule` is set when fitting
        datamodule = trainer.datamodule
        assert isinstance(datamodule, ConcatDataModule)
        record = {
            "chunks": self.chunks,
            "names": self.names,
            "accumulate_grad_batches": self.trainer.accumulate_grad_batches,
            "config": datamodule.config.model_dump(mode="json"),
            "sets": {
                name: len(datamodule.predict_dataloader()[name].dataset)  # type: ignore[arg-type]  # a sized lightsplit set
                for name in datamodule.set_names
            },
            "class": type(datamodule).__name__,
        }
        Path("fit.json").write_text(json.dumps(record))


class SubclassCLI(LightningCLI):
    """The data module's class comes from the YAML file."""

    def add_arguments_to_parser(self, parser: LightningArgumentParser) -> None:
        """Accumulate gradients over the data module's chunks."""
        parser.link_arguments(
            "data.init_args.batch_chunk_count", "trainer.accumulate_grad_batches"
        )


class FixedCLI(LightningCLI):
    """The data module is always a `CachingDataModule`."""

    def add_arguments_to_parser(self, parser: LightningArgumentParser) -> None:
        """Accumulate gradients over the data module's chunks."""
        parser.link_arguments(
            "data.batch_chunk_count", "trainer.accumulate_grad_batches"
        )


if __name__ == "__main__":
    mode, *arguments = sys.argv[1:]
    if mode == "subclass":
        SubclassCLI(Recorder, args=arguments)
    else:
        FixedCLI(Recorder, CachingDataModule, args=arguments)
