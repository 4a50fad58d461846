"""``DataWaitMonitor``: the fraction of training time spent waiting for data."""

import time
from dataclasses import dataclass

import pytest
from lightning.pytorch import Trainer
from lightsplit_testing import Entry, MemoryLoader, entries_named
from tests_models import RecordingModel
from torch import Tensor

from lightsplit import CachingDataModule, DataWaitMonitor, Sample


@dataclass
class SlowLoader(MemoryLoader):
    """Takes ``delay`` seconds per sample."""

    delay: float = 0.0

    def sample(self, raw: Entry) -> Sample:
        """Sleep, then load."""
        time.sleep(self.delay)
        return super().sample(raw)


class SlowValidation(RecordingModel):
    """Takes ``seconds`` per training step, thirty times as long per validation one."""

    def __init__(self, seconds: float) -> None:
        super().__init__(6)
        self.seconds = seconds

    def training_step(self, batch: Sample, batch_idx: int) -> Tensor:
        time.sleep(self.seconds)
        return super().training_step(batch, batch_idx)

    def validation_step(
        self, batch: Sample, batch_idx: int, dataloader_idx: int = 0
    ) -> None:
        time.sleep(30 * self.seconds)


def _fit(delay: float, val_check_interval: float = 1.0) -> float:
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
        num_sanity_val_steps=0,
        val_check_interval=val_check_interval,
    )
    module = CachingDataModule(split, SlowLoader(delay=delay), batch_size=2)
    model = RecordingModel(6) if delay else SlowValidation(0.01)
    trainer.fit(model, datamodule=module)
    logged = float(trainer.callback_metrics["data_wait"])
    assert logged == pytest.approx(monitor.fraction, rel=1e-6)  # logged as float32
    return logged


@pytest.mark.parametrize("name", [3, ""])
def test_name_refused(name: object) -> None:
    """A name to log under that is no string, or empty, is refused at once."""
    with pytest.raises(TypeError, match="give the name to log the fraction under"):
        DataWaitMonitor(name=name)  # type: ignore[arg-type]  # the point


def test_logs_a_fraction() -> None:
    """The epoch's wait is logged as a fraction in [0, 1], for fast or slow loading."""
    assert 0.0 <= _fit(0.0) <= 1.0
    assert 0.0 < _fit(0.01) <= 1.0


def test_validation_within_an_epoch_is_no_wait() -> None:
    """Validating within the epoch, longer than training, is not counted as
    waiting for data (it was 80% of the epoch's time; the wait is a few %)."""
    assert _fit(0.0, val_check_interval=0.5) < 0.5
