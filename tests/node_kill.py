"""A 2-process DDP fit whose node-cache owner is killed (SIGKILL) while building.

Run as ``python tests/node_kill.py``; Lightning starts the second process by
running this file again. Local rank 0 builds the node's in-memory cache and kills
itself at sample ``t50``, leaving its shared-memory folder behind.
"""

import os
import signal
import warnings
from dataclasses import dataclass

from lightning.pytorch import Trainer
from lightsplit_testing import Entry, MemoryLoader, entries_named
from tests_models import RecordingModel

from lightsplit import CachingDataModule, Sample


@dataclass
class DyingLoader(MemoryLoader):
    """Kills local rank 0 at sample ``t50``."""

    def sample(self, raw: Entry) -> Sample:
        """Load ``raw``, or die."""
        if raw[0] == "t50" and os.environ.get("LOCAL_RANK", "0") == "0":
            os.kill(os.getpid(), signal.SIGKILL)
        return super().sample(raw)


if __name__ == "__main__":
    warnings.filterwarnings("ignore")  # Lightning's advice for tiny CPU runs
    split = {"train": entries_named("t", 100), "validation": entries_named("v", 4)}
    module = CachingDataModule(split, DyingLoader(), batch_size=10, cache_samples=True)
    trainer = Trainer(
        accelerator="cpu",
        strategy="ddp",
        devices=2,
        max_epochs=1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    trainer.fit(RecordingModel(6), module)
