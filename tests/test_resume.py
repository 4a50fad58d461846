"""Exact mid-epoch resume: a killed run, resumed, serves what an unbroken run would."""

import contextlib
import os
import signal
import subprocess
import sys
import warnings
from functools import partial
from pathlib import Path

import pytest
import torch
from lightning.pytorch import Callback, LightningModule, Trainer
from lightning.pytorch.callbacks import ModelCheckpoint
from lightsplit_testing import MemoryLoader, entries_named
from resume_fit import fit, latest_checkpoint, make_datamodule
from tests_models import quiet_trainer
from torch import Tensor

from lightsplit import CachingDataModule, LightsplitWarning, Sample
from lightsplit._sampling import EpochSampler, SeededIndices

SCRIPT = Path(__file__).with_name("resume_fit.py")


def _run(
    out: Path, mode: str, phase: str, devices: int, epochs: int = 3, *more: str
) -> int:
    """Run a phase in its own process group (a ``kill`` phase kills its group)."""
    result = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            str(out),
            mode,
            phase,
            str(devices),
            str(epochs),
            *more,
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        start_new_session=True,
        env={**os.environ, "PYTHONWARNINGS": ""},
    )
    if result.returncode and phase != "kill":  # shown with the failing test
        print(result.stderr[-4000:])  # noqa: T201 - the phase's own error
    return result.returncode


def _steps(out: Path, phase: str, rank: int = 0) -> list[str]:
    path = out / f"{phase}-rank{rank}.txt"
    return path.read_text().splitlines() if path.exists() else []


def _served_before_kill(out: Path) -> int:
    """Return the training batches the latest checkpoint had started."""
    checkpoint = torch.load(latest_checkpoint(out), weights_only=True)
    progress = checkpoint["loops"]["fit_loop"]["epoch_loop.batch_progress"]
    ready: int = progress["total"]["ready"]
    return ready


def _quietly_fit(out: Path, mode: str, phase: str, **options: object) -> list[str]:
    """Fit in this process, Lightning's advice silenced; return the warnings."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit(out, mode, phase, 1, **options)  # type: ignore[arg-type]  # epochs or settings
    return [str(w.message) for w in caught if issubclass(w.category, LightsplitWarning)]


@pytest.mark.parametrize("mode", ["plain", "balanced"])
def test_killed_run_resumes_exactly(tmp_path: Path, mode: str) -> None:
    """Shuffled, cached, chunked and dropping; or balanced with 2 workers: exact."""
    assert _run(tmp_path, mode, "kill", 1) == -9  # SIGKILL, mid-epoch
    killed = _steps(tmp_path, "kill")
    served = _served_before_kill(tmp_path)
    assert served < len(killed)  # batches after the checkpoint were lost
    assert _quietly_fit(tmp_path, mode, "resume") == []
    _quietly_fit(tmp_path, mode, "full")
    full = _steps(tmp_path, "full")
    assert killed[:served] + _steps(tmp_path, "resume") == full
    names = [name for step in full[:14] for name in step.split("\t")[1].split(",")]
    if mode == "plain":  # one epoch: every sample once, but the 3 of no full batch
        assert len(names) == len(set(names)) == 28
        assert full[14].startswith("1\t")  # 7 batches of 4, in 14 chunks of 2


@pytest.mark.parametrize(
    ("mode", "seeded"), [("plain", True), ("balanced", True), ("plain", False)]
)
def test_resumed_after_an_epoch_draws_the_next(
    tmp_path: Path, mode: str, seeded: bool
) -> None:
    """Resumed from a checkpoint of an epoch's end (Lightning's default), the
    next epoch is the one the run would have drawn, not the one before again:
    with or without a fixed seed, with workers, and with the same batch
    transforms when seeded (without a fixed seed, those follow the process)."""
    more = () if seeded else ("unseeded",)
    assert _run(tmp_path, mode, "epochs", 1, 2, *more) == 0
    assert _run(tmp_path, mode, "after-epoch", 1, 2, *more) == 0
    ran = _steps(tmp_path, "epochs")
    resumed = _steps(tmp_path, "after-epoch")
    first, second = (
        [step for step in ran if step.startswith(f"{epoch}\t")] for epoch in (0, 1)
    )
    assert resumed
    assert {step.split("\t")[0] for step in resumed} == {"1"}
    if not seeded:  # only the order: the batch transforms follow the process
        first, second, resumed = (
            [step.split("\t")[1] for step in steps]
            for steps in (first, second, resumed)
        )
    assert resumed == second
    assert resumed != first


def test_ddp_resumes_exactly(tmp_path: Path) -> None:
    """Under DDP with as many processes, each rank takes its order up exactly."""
    assert _run(tmp_path, "plain", "kill", 2) == -9
    served = _served_before_kill(tmp_path)
    assert _run(tmp_path, "plain", "resume", 2) == 0
    assert _run(tmp_path, "plain", "full", 2) == 0
    for rank in (0, 1):
        killed = _steps(tmp_path, "kill", rank)
        assert killed[:served] + _steps(tmp_path, "resume", rank) == _steps(
            tmp_path, "full", rank
        )


def test_changed_set_starts_next_epoch(tmp_path: Path) -> None:
    """Resumed on a training set that changed, the epoch's rest is skipped, said.

    Its order was drawn from the set as it was: served from the set as it is,
    it would repeat some entries and miss others.
    """
    assert _run(tmp_path, "plain", "kill", 1) == -9
    messages = _quietly_fit(
        tmp_path, "plain", "resume", train=30, allow_data_change=True
    )
    assert any(
        "set `train` differs from the one epoch 1 was drawn from (resumed with "
        "`allow_data_change`): the rest of that epoch"
        in message
        and "training goes on with epoch 2, drawn from the set as it is (epochs "
        "count from 0: with `max_epochs=2`, no epoch is left, and the run ends "
        "without training)"
        in message
        for message in messages
    )
    resumed = [step.split("\t") for step in _steps(tmp_path, "resume")]
    assert {epoch for epoch, *_ in resumed} == {"2"}
    names = [name for _, step, _ in resumed for name in step.split(",")]
    # the whole set as it is, once, but the 2 of no full batch of 4
    assert len(names) == len(set(names)) == 28
    assert "t30" not in names


def test_other_world_size_starts_next_epoch(tmp_path: Path) -> None:
    """Resumed on another number of processes, the epoch's rest is skipped, said."""
    assert _run(tmp_path, "plain", "kill", 2, epochs=4) == -9
    messages = _quietly_fit(tmp_path, "plain", "resume", epochs=4)
    assert any(
        "epoch 2 was interrupted with 24 of its 32 draws left, which do not share "
        "into the 12 steps left of the epoch with 1 process of 2 samples: they "
        "are not served, and training goes on with epoch 3 (epochs count from 0: "
        "where `max_epochs` is 3, the run ends instead)" in message
        for message in messages
    )
    resumed = _steps(tmp_path, "resume")
    assert {step.split("\t")[0] for step in resumed} == {"3"}
    sampler = make_datamodule("plain").train_dataloader().sampler
    assert isinstance(sampler, EpochSampler)
    sampler.set_epoch(3)
    batches = [b.indices if isinstance(b, SeededIndices) else b for b in sampler]
    expected = [",".join(f"t{i}" for i in batch.tolist()) for batch in batches]
    assert [step.split("\t")[1] for step in resumed] == expected


def test_epoch_end_on_fewer_processes_said(tmp_path: Path) -> None:
    """Resumed on 1 process from a checkpoint of 2 on an epoch's last step,
    Lightning takes the steps the longer epoch has left in the epoch it
    resumes: the next epoch's first steps, said, then the epoch after whole."""
    assert _run(tmp_path, "plain", "steps", 2, epochs=1) == 0
    messages = _quietly_fit(tmp_path, "plain", "resume", epochs=3)
    assert (
        "set `train`: epoch 0 was over when the checkpoint was taken, after 8 "
        "steps of the interrupted run, but with 1 process of 2 samples an epoch "
        "is 14 steps, and Lightning takes the 6 left in the epoch it resumes: "
        "they serve the first 6 steps of epoch 1, its rest is not served, and "
        "training goes on with epoch 2. Resume with the processes and batch size "
        "of the interrupted run to take the epochs up exactly"
    ) in messages

    def epoch(number: int) -> list[str]:
        sampler = make_datamodule("plain").train_dataloader().sampler
        assert isinstance(sampler, EpochSampler)
        sampler.set_epoch(number)
        batches = [b.indices if isinstance(b, SeededIndices) else b for b in sampler]
        return [",".join(f"t{i}" for i in batch.tolist()) for batch in batches]

    resumed = [step.split("\t")[:2] for step in _steps(tmp_path, "resume")]
    assert [names for number, names in resumed if number == "1"] == epoch(1)[:6]
    assert [names for number, names in resumed if number == "2"] == epoch(2)


class _Names(LightningModule):
    """Records the names of the samples of each training step, by epoch."""

    def __init__(self) -> None:
        super().__init__()
        self.layer = torch.nn.Linear(6, 2)
        self.seen: dict[int, list[str]] = {}

    def training_step(self, batch: Sample, batch_idx: int) -> Tensor:
        inputs, metadata = batch
        self.seen.setdefault(self.current_epoch, []).extend(metadata["name"])
        logits: Tensor = self.layer(inputs.flatten(1))
        return torch.nn.functional.cross_entropy(logits, metadata["label"])

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.SGD(self.parameters(), lr=0.1)


def _names_fit(
    root: Path,
    epochs: int,
    *,
    ckpt: Path | None = None,
    every: int | None = None,
    reload: bool = True,
    seed: int | None = 42,
    limit: float | None = None,
) -> dict[int, list[str]]:
    """Fit 22 samples in batches of 4 (6 steps an epoch), reloading the loaders
    each epoch (unless not to ``reload``); with ``every``, checkpoint every so
    many steps into ``root``. Torch's global generator starts at seed 0."""
    torch.manual_seed(0)
    callbacks: list[Callback] = []
    if every is not None:
        callbacks.append(
            ModelCheckpoint(
                dirpath=root,
                filename="{step}",
                every_n_train_steps=every,
                save_top_k=-1,
            )
        )
    trainer = Trainer(
        accelerator="cpu",
        max_epochs=epochs,
        reload_dataloaders_every_n_epochs=int(reload),
        limit_train_batches=limit,
        callbacks=callbacks,
        logger=False,
        enable_checkpointing=every is not None,
        enable_progress_bar=False,
        enable_model_summary=False,
        default_root_dir=root,
    )
    datamodule = CachingDataModule(
        {"train": entries_named("s", 22)}, MemoryLoader(), batch_size=4, seed=seed
    )
    model = _Names()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        trainer.fit(model, datamodule=datamodule, ckpt_path=ckpt)
    return model.seen


def test_reloaded_loader_after_a_step_checkpoint_at_an_epoch_end(
    tmp_path: Path,
) -> None:
    """Resumed from a step checkpoint on an epoch's last batch, loaders reloaded
    each epoch: the next epoch is the one the run would have drawn (the loader
    reloaded while the fit loop restarts gets no state from Lightning; it drew
    epoch 0 again)."""
    reference = _names_fit(tmp_path / "reference", 3)
    _names_fit(tmp_path / "first", 2, every=6)
    resumed = _names_fit(
        tmp_path / "resumed", 3, ckpt=tmp_path / "first" / "step=12.ckpt"
    )
    assert set(resumed) == {2}
    assert resumed[2] == reference[2]
    assert resumed[2] != reference[0]


@pytest.mark.parametrize("reload", [False, True])
@pytest.mark.parametrize("step", [2, 4])
def test_resumed_epoch_cut_short_by_a_limit(
    tmp_path: Path, reload: bool, step: int
) -> None:
    """Epochs cut short by `limit_train_batches` (4 of 6 batches): resumed from
    a checkpoint on the last batch of one, the run goes on with the next
    epoch's order, as the uninterrupted run (it served the unserved rest of
    the epoch the trainer had ended); from one in the middle, with its rest."""
    reference = _names_fit(tmp_path / "reference", 3, reload=reload, limit=4)
    _names_fit(tmp_path / "first", 2, every=step, reload=reload, limit=4)
    resumed = _names_fit(
        tmp_path / "resumed",
        3,
        ckpt=tmp_path / "first" / f"step={step}.ckpt",
        reload=reload,
        limit=4,
    )
    done = {} if step == 4 else {0: reference[0][4 * step :]}
    assert resumed == {**done, 1: reference[1], 2: reference[2]}


def test_reloaded_loaders_keep_the_drawn_seed(tmp_path: Path) -> None:
    """Without a fixed seed, loaders reloaded each epoch draw every order from
    the seed the first one drew, which a checkpoint keeps: resumed in the middle
    of an epoch, the run serves the epochs after it as the uninterrupted run
    (a reloaded loader drew a seed of its own from torch's global generator,
    whose state a resumed run does not share)."""
    reference = _names_fit(tmp_path / "reference", 4, seed=None)
    _names_fit(tmp_path / "first", 2, every=3, seed=None)
    resumed = _names_fit(
        tmp_path / "resumed", 4, ckpt=tmp_path / "first" / "step=9.ckpt", seed=None
    )
    assert resumed == {1: reference[1][12:], 2: reference[2], 3: reference[3]}
    assert len({tuple(sorted(reference[e])) for e in range(4)}) == 1
    assert len({tuple(reference[e]) for e in range(4)}) == 4


@pytest.mark.parametrize(
    ("reload", "limit"), [(False, None), (True, None), (False, 4), (False, 0.7)]
)
def test_resumed_twice_mid_epoch_after_an_epoch_end(
    tmp_path: Path, reload: bool, limit: float | None
) -> None:
    """A run resumed from a step checkpoint on an epoch's last batch, itself
    resumed from its checkpoint in the middle of the next epoch, serves the
    rest of that epoch, as the uninterrupted run did: Lightning counts that
    epoch as not started in the second checkpoint, and would run it whole
    again (the first 12 samples twice). With epochs cut to 4 of their 6
    batches (`limit_train_batches` 4, or 0.7 of 6), the rest is served up to
    the limit (the epoch's order was served on, past it)."""
    steps = 6 if limit is None else 4  # an epoch's
    fit = partial(_names_fit, reload=reload, limit=limit)
    reference = fit(tmp_path / "reference", 3)
    fit(tmp_path / "first", 1, every=steps)
    fit(
        tmp_path / "second",
        2,
        ckpt=tmp_path / "first" / f"step={steps}.ckpt",
        every=steps // 2,
    )
    middle = tmp_path / "second" / f"step={steps + steps // 2}.ckpt"
    resumed = fit(tmp_path / "third", 3, ckpt=middle)
    assert resumed == {1: reference[1][4 * (steps // 2) :], 2: reference[2]}


class _Validated(_Names):
    """`_Names`, logging a validation loss for checkpoints to follow."""

    def validation_step(self, batch: Sample, batch_idx: int) -> None:
        inputs, metadata = batch
        logits: Tensor = self.layer(inputs.flatten(1))
        loss = torch.nn.functional.cross_entropy(logits, metadata["label"])
        self.log("val_loss", loss, batch_size=len(inputs))


def _chunked(
    more: dict[str, list[tuple[str, int]]] | None = None,
) -> CachingDataModule:
    """A data module of 24 training samples in batches of 4, cut in 2 chunks."""
    sets = {"train": entries_named("t", 24), **(more or {})}
    return CachingDataModule(
        sets, MemoryLoader(), batch_size=4, batch_chunk_count=2, seed=1
    )


@pytest.mark.parametrize(("interval", "warned"), [(3, True), (4, False)])
def test_checkpoint_inside_an_accumulation_said(
    tmp_path: Path, interval: int, warned: bool
) -> None:
    """A checkpoint taken after validating in the middle of an optimizer step's
    chunks (every 3 batches of 2 chunks) is warned of, once, naming the batch
    and the setting; validating every 4 batches warns of nothing."""
    datamodule = _chunked({"validation": entries_named("v", 4)})
    trainer = quiet_trainer(
        val_check_interval=interval,
        accumulate_grad_batches=datamodule.accumulate_grad_batches,
        callbacks=[
            ModelCheckpoint(dirpath=tmp_path, monitor="val_loss", save_top_k=-1)
        ],
        enable_checkpointing=True,
    )
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        trainer.fit(_Validated(), datamodule=datamodule)
    said = [str(w.message) for w in seen if issubclass(w.category, LightsplitWarning)]
    assert len(list(tmp_path.glob("*.ckpt"))) == 12 // interval
    if not warned:
        assert said == []
        return
    assert said == [
        "a checkpoint was taken 3 batches into epoch 0, between the chunks of an "
        "optimizer step (1 of its 2 chunks done): Lightning keeps no gradients, so "
        "a run resumed from it makes that step from its last chunk alone, and "
        "its weights part from the uninterrupted run's. Take checkpoints on "
        "optimizer steps: validate every multiple of 2 batches (`val_check_interval`)"
    ]


def _chunked_fit(
    root: Path, max_steps: int, ckpt: Path | None = None
) -> tuple[list[str], list[str]]:
    """Fit batches of 4 in 2 chunks, saving every 2 optimizer steps into
    ``root``; return the checkpoints saved there and lightsplit's warnings."""
    datamodule = _chunked()
    trainer = quiet_trainer(
        max_epochs=None,
        max_steps=max_steps,
        accumulate_grad_batches=datamodule.accumulate_grad_batches,
        callbacks=[
            ModelCheckpoint(
                dirpath=root, filename="{step}", every_n_train_steps=2, save_top_k=-1
            )
        ],
        enable_checkpointing=True,
    )
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        trainer.fit(_Names(), datamodule=datamodule, ckpt_path=ckpt)
    said = [
        str(w.message)
        for w in seen
        if issubclass(w.category, LightsplitWarning) and "chunks" in str(w.message)
    ]
    return sorted(path.name for path in root.glob("*.ckpt")), said


def test_resumed_step_not_saved_again_between_chunks(tmp_path: Path) -> None:
    """Resumed from a step checkpoint with batches of 2 chunks, step checkpoints
    are not taken again at the step resumed from, after its first chunk:
    Lightning's `ModelCheckpoint` forgets the step it saved, and saved a
    `step=4.ckpt` between the chunks (with a warning), which a run resumed
    from it would make from its last chunk alone."""
    assert _chunked_fit(tmp_path / "first", 4) == (["step=2.ckpt", "step=4.ckpt"], [])
    resumed = _chunked_fit(tmp_path / "second", 8, tmp_path / "first" / "step=4.ckpt")
    assert resumed == (["step=6.ckpt", "step=8.ckpt"], [])
    checkpoint = torch.load(tmp_path / "second" / "step=6.ckpt", weights_only=True)
    progress = checkpoint["loops"]["fit_loop"]["epoch_loop.batch_progress"]
    assert progress["current"]["ready"] % 2 == 0  # on an optimizer step


class _PreemptedError(Exception):
    """The job's end, after SLURM's pre-emption signal (SLURM kills it then)."""


class _SignalledNames(_Names):
    """`_Names` that gets SLURM's pre-emption signal in training batch ``at``."""

    def __init__(self, at: int | None) -> None:
        super().__init__()
        self.at = at

    def training_step(self, batch: Sample, batch_idx: int) -> Tensor:
        loss = super().training_step(batch, batch_idx)
        if self.current_epoch == 0 and batch_idx == self.at:
            # Lightning's handler saves `hpc_ckpt_1.ckpt` now, inside the step
            os.kill(os.getpid(), signal.SIGUSR1)
            raise _PreemptedError
        return loss


def _slurm_fit(
    root: Path, chunks: int, at: int | None = None
) -> tuple[dict[int, list[str]], list[str]]:
    """Fit 2 epochs of 24 samples in batches of 4 cut in ``chunks``, as a SLURM
    job with auto-requeue, in ``root``; pre-empted in batch ``at`` if given;
    resumed from the job's `hpc_ckpt_*.ckpt` as a requeued job is. Return the
    names each epoch trained on (the pre-empted step's not kept) and
    lightsplit's warnings."""
    datamodule = CachingDataModule(
        {"train": entries_named("t", 24), "validation": entries_named("v", 4)},
        MemoryLoader(),
        batch_size=4,
        batch_chunk_count=chunks,
        seed=1,
    )
    trainer = quiet_trainer(
        max_epochs=2, accumulate_grad_batches=chunks, default_root_dir=root
    )
    model = _SignalledNames(at)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        with contextlib.suppress(_PreemptedError):
            trainer.fit(model, datamodule=datamodule)
    if at is not None:
        model.seen[0][-4 // chunks :] = []  # SLURM killed the job in that step
    said = [str(w.message) for w in seen if issubclass(w.category, LightsplitWarning)]
    return model.seen, said


@pytest.fixture
def slurm_job(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run as a SLURM job of one task, which Lightning requeues when pre-empted."""
    for name, value in {
        "SLURM_JOB_ID": "4242",
        "SLURM_JOB_NAME": "train",
        "SLURM_NTASKS": "1",
        "SLURM_NTASKS_PER_NODE": "1",
        "SLURM_NODEID": "0",
        "SLURM_PROCID": "0",
        "SLURM_LOCALID": "0",
        "SLURM_NODELIST": "localhost",
        "PATH": "",  # no `scontrol` found: no real job is requeued
    }.items():
        monkeypatch.setenv(name, value)


@pytest.mark.parametrize(("chunks", "at"), [(1, 3), (2, 2)])
@pytest.mark.usefixtures("slurm_job")
def test_slurm_preemption_in_a_step_resumes_exactly(
    tmp_path: Path, chunks: int, at: int
) -> None:
    """SLURM's pre-emption signal in a training step (the first chunk of an
    optimizer step): the checkpoint Lightning saves there, resumed, serves the
    interrupted step's batch again, then the rest: each sample once an epoch,
    in the uninterrupted run's order. The batch handed out was lost before."""
    reference, _ = _slurm_fit(tmp_path / "reference", chunks)
    pre_empted, said = _slurm_fit(tmp_path / "job", chunks, at)
    assert list(tmp_path.joinpath("job").glob("hpc_ckpt_*.ckpt"))
    resumed, said_after = _slurm_fit(tmp_path / "job", chunks)  # requeued
    assert (said, said_after) == ([], [])
    assert pre_empted[0] + resumed[0] == reference[0]
    assert resumed[1] == reference[1]


@pytest.mark.usefixtures("slurm_job")
def test_slurm_preemption_between_chunks_said(tmp_path: Path) -> None:
    """Pre-empted in the second chunk of an optimizer step, the checkpoint falls
    between chunks: that is warned of, saying where it came from and what
    makes every batch end a step; the data served is still each sample once."""
    reference, _ = _slurm_fit(tmp_path / "reference", 2)
    pre_empted, said = _slurm_fit(tmp_path / "job", 2, 3)
    assert said == [
        "a checkpoint was taken 3 batches into epoch 0, between the chunks of an "
        "optimizer step (1 of its 2 chunks done): Lightning keeps no gradients, so "
        "a run resumed from it makes that step from its last chunk alone, and its "
        "weights part from the uninterrupted run's. It was taken during a "
        "training step, as Lightning saves SLURM's pre-emption checkpoint "
        "(`hpc_ckpt_*.ckpt`): at once, wherever the run is. With "
        "`batch_chunk_count=1` every batch ends a step, and such a checkpoint "
        "resumes exactly"
    ]
    resumed, _ = _slurm_fit(tmp_path / "job", 2)
    assert pre_empted[0] + resumed[0] == reference[0]


class _StopAtStep(Callback):
    """Stop training after optimizer step ``step``, as `max_time` does when the
    time is up (or an early stop, in the middle of an epoch)."""

    def __init__(self, step: int | None) -> None:
        self.step = step

    def on_train_batch_end(self, trainer: Trainer, *_: object) -> None:
        if trainer.global_step == self.step:
            trainer.should_stop = True


def _stopped_fit(
    root: Path, stop: int | None, ckpt: Path | None = None, *, reload: bool = False
) -> tuple[dict[int, list[str]], list[str]]:
    """Fit up to 4 epochs of 24 samples in batches of 4 (6 steps an epoch),
    stopped after step ``stop``, saving `last.ckpt` into ``root``, reloading
    the loaders each epoch if told to; return the names each epoch trained on
    and lightsplit's warnings."""
    datamodule = CachingDataModule(
        {"train": entries_named("t", 24), "validation": entries_named("v", 4)},
        MemoryLoader(),
        batch_size=4,
        seed=1,
    )
    trainer = quiet_trainer(
        max_epochs=4,
        callbacks=[ModelCheckpoint(dirpath=root, save_last=True), _StopAtStep(stop)],
        enable_checkpointing=True,
        reload_dataloaders_every_n_epochs=int(reload),
    )
    model = _Names()
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        trainer.fit(model, datamodule=datamodule, ckpt_path=ckpt)
    said = [str(w.message) for w in seen if issubclass(w.category, LightsplitWarning)]
    return model.seen, said


@pytest.mark.parametrize("reload", [False, True])
def test_stopped_mid_epoch_serves_the_rest_next(tmp_path: Path, reload: bool) -> None:
    """Training stopped in the middle of epoch 1 (as by `max_time`) saves a
    checkpoint that counts the epoch as over; resumed from it, Lightning runs
    epoch 2, whose steps serve the rest of epoch 1's order (with a warning that
    says so), so that no sample of epoch 1 is left out; epoch 3 follows. Stopped
    again in that epoch, the next resume serves the rest again; loaders
    reloaded each epoch serve it once. The rest of epoch 1 was not served
    before."""
    fit = partial(_stopped_fit, reload=reload)
    reference, _ = fit(tmp_path / "reference", None)
    stopped, _ = fit(tmp_path / "first", 8)  # 2 steps into epoch 1
    resumed, said = fit(tmp_path / "second", 10, tmp_path / "first" / "last.ckpt")
    assert said == [
        "epoch 1 stopped before its end (`max_time`, an early stop or "
        "`should_stop`), and the checkpoint saved then counts it as over: "
        "Lightning runs epoch 2 next. Its 4 batches serve the rest of the order "
        "drawn for epoch 1 (2 batches of it were served), so that each of its "
        "samples is served once; epoch 3 follows (the order epoch 2 would have "
        "drawn is not used)"
    ]
    assert stopped[1] + resumed[2] == reference[1][: 4 * 4]
    last, said = fit(tmp_path / "third", None, tmp_path / "second" / "last.ckpt")
    assert (
        "2 batches serve the rest of the order drawn for epoch 1 (4 batches" in said[0]
    )
    assert stopped[1] + resumed[2] + last[3] == reference[1]
    assert set(last) == {3}


def _chunked_stop_fit(
    root: Path, epochs: int, stop: int | None = None, ckpt: Path | None = None
) -> list[str]:
    """Fit 38 samples in batches of 4 cut in 2 chunks (19 chunks, 10 optimizer
    steps an epoch), stopped after step ``stop``; return lightsplit's warnings."""
    datamodule = CachingDataModule(
        {"train": entries_named("t", 38), "validation": entries_named("v", 4)},
        MemoryLoader(),
        batch_size=4,
        batch_chunk_count=2,
        seed=1,
    )
    trainer = quiet_trainer(
        max_epochs=epochs,
        accumulate_grad_batches=2,
        callbacks=[ModelCheckpoint(dirpath=root, save_last=True), _StopAtStep(stop)],
        enable_checkpointing=True,
        limit_val_batches=0,
    )
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        trainer.fit(_Names(), datamodule=datamodule, ckpt_path=ckpt)
    return [str(w.message) for w in seen if issubclass(w.category, LightsplitWarning)]


def test_stopped_epoch_rest_of_a_lone_chunk_said(tmp_path: Path) -> None:
    """The rest of an epoch stopped after 6 of its 19 chunks is 13 chunks, the
    last one alone: Lightning, counting that epoch as 19 batches, makes no
    step of it as the epoch ends (the uninterrupted epoch did), and drops its
    gradients; the warning says so."""
    _chunked_stop_fit(tmp_path / "first", 3, stop=13)
    said = _chunked_stop_fit(
        tmp_path / "second", 3, ckpt=tmp_path / "first" / "last.ckpt"
    )
    assert said[-1].endswith(
        "Its 13 batches serve the rest of the order drawn for epoch 1 (6 batches "
        "of it were served), so that each of its samples is served once; epoch 3 "
        "follows (the order epoch 2 would have drawn is not used); they end with 1 "
        "of an optimizer step's 2 chunks, of which Lightning makes no step as this "
        "epoch ends (it counts the epoch as 19 batches), and it zeroes their "
        "gradients as epoch 3 begins"
    )
