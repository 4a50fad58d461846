"""``DataWaitMonitor``: how much of training is spent waiting for the next batch."""

import time

import torch
from lightning.pytorch import Callback, LightningModule, Trainer
from typing_extensions import override

__all__ = ["DataWaitMonitor"]


class DataWaitMonitor(Callback):
    """Logs, per training epoch, the fraction of time spent waiting for batches.

    The wait of a step runs from the end of the previous step to the start of
    this one: fetching the batch, copying it to the device and the batch
    transforms. The rest, from the start of a step to its end, is the step
    itself. Validation within the epoch (``val_check_interval``) counts as
    neither; what other callbacks do at the end of a step after this one (a
    ``ModelCheckpoint`` saving every few steps) counts as waiting.
    ``data_wait`` is the epoch's wait over its total, in [0, 1], logged to the
    Trainer's logger and shown in the progress bar: near 0, the model is the
    bottleneck; above a few percent, data loading slows training down.

    On a GPU, the host reaches the end of a step before the device does; to
    time what the device really waits for, the monitor synchronizes the device
    at the end of each step (``synchronize=True``, the default), which costs
    little next to a step. ``Trainer(callbacks=[DataWaitMonitor()])`` adds it.
    """

    def __init__(self, *, name: str = "data_wait", synchronize: bool = True) -> None:
        """Log the fraction as ``name``; see the class for ``synchronize``.

        Args:
            name: the name the fraction is logged under.
            synchronize: wait for a CUDA device at each step's end.

        Raises:
            TypeError: for a name that is no string, or empty.
        """
        given: object = name  # checked at run time too, for untyped callers
        if not isinstance(given, str) or not given:
            msg = f"`name` is {name!r}; give the name to log the fraction under"
            raise TypeError(msg)
        self.name = name
        self.synchronize = synchronize
        self._mark = 0.0
        self._started = 0.0
        self._wait = 0.0
        self._busy = 0.0

    def _now(self, module: LightningModule) -> float:
        if self.synchronize and module.device.type == "cuda":
            torch.cuda.synchronize(module.device)
        return time.perf_counter()

    @override
    def on_train_epoch_start(
        self, trainer: Trainer, pl_module: LightningModule
    ) -> None:
        self._wait = self._busy = 0.0
        self._mark = self._now(pl_module)

    @override
    def on_train_batch_start(
        self,
        trainer: Trainer,
        pl_module: LightningModule,
        batch: object,
        batch_idx: int,
    ) -> None:
        self._started = time.perf_counter()
        self._wait += self._started - self._mark

    @override
    def on_train_batch_end(
        self,
        trainer: Trainer,
        pl_module: LightningModule,
        outputs: object,
        batch: object,
        batch_idx: int,
    ) -> None:
        self._mark = self._now(pl_module)
        self._busy += self._mark - self._started

    @override
    def on_validation_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if trainer.state.fn == "fit":  # validation within a training epoch
            self._mark = self._now(pl_module)  # is no wait for data

    @property
    def fraction(self) -> float:
        """The fraction of the current (or last) epoch's time spent waiting."""
        total = self._wait + self._busy
        return self._wait / total if total > 0 else 0.0

    @override
    def on_train_epoch_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        pl_module.log(
            self.name, self.fraction, prog_bar=True, on_step=False, on_epoch=True
        )
