"""``DataWaitMonitor``: the fraction of training time spent waiting for data."""

import time
from dataclasses import dataclass

import pytest
from lightning.pytorch import Trainer
from lightsplit_testing import Entry, MemoryLoader, entries_named
from tests_models import RecordingModel

from lightsplit import CachingDataModule, DataWaitMonitor, Sample


@dataclass
class SlowLoader(MemoryLoader):
    """Takes ``delay`` seconds per sample."""

    delay: float = 0.0

    def sample(self, raw: Entry) -> Sample:
        """Sleep, then load."""
        time.sleep(self.delay)
        return super().sample(raw)


def _fit(delay: float) -> float:
    monitor = DataWaitMonitor()
    split = {"train": entries_named("t", 8), "validation": entries_named("v", 2)}
    trainer = Trainer(
        accelerator="cpu",
        max_epochs=1,
        callbacks=[monitor],
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    module = CachingDataModule(split, SlowLoader(delay=delay), batch_size=2)
    trainer.fit(RecordingModel(6), datamodule=module)
    logged = float(trainer.callback_metrics["data_wait"])
    assert logged == pytest.approx(monitor.fraction, rel=1e-6)  # logged as float32
    return logged


def test_logs_a_fraction() -> None:
    """The epoch's wait is logged as a fraction in [0, 1], for fast or slow loading."""
    assert 0.0 <= _fit(0.0) <= 1.0
    assert 0.0 < _fit(0.01) <= 1.0
