import itertools
import subprocess
import sys
import textwrap
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

import pytest
import torch
from lightning.pytorch import seed_everything
from lightsplit_testing import MemoryLoader, NoisyLoader, entries_named
from tests_models import RecordingModel, quiet_trainer

from lightsplit import CachingDataModule, Sample, SampleLoader
from lightsplit._sampling import EpochSampler, Shards

TESTS = Path(__file__).parent
LABELS = [1 if index % 5 == 0 else 0 for index in range(40)]


def _orders(
    parallel: int, *, seed: int | None, balanced: bool = False, epochs: int = 2
) -> list[list[str]]:
    module = CachingDataModule(
        {"train": entries_named("t", 40, LABELS)},
        MemoryLoader(),
        batch_size=8,
        parallel=parallel,
        seed=seed,
        balance_sampler_by_class=balanced,
    )
    loader = module.train_dataloader()
    return [
        [n for batch in loader for n in batch.metadata["name"]] for _ in range(epochs)
    ]


@pytest.mark.parametrize("balanced", [False, True])
def test_same_seed_same_order_for_any_parallel(balanced: bool) -> None:
    """A seed fixes the order, whatever the number of workers."""
    orders = [_orders(parallel, seed=11, balanced=balanced) for parallel in (-1, 0, 2)]
    assert orders[0] == orders[1] == orders[2]
    assert orders[0][0] != orders[0][1]
    assert _orders(-1, seed=12, balanced=balanced) != orders[0]


@pytest.mark.parametrize("balanced", [False, True])
def test_a_loader_per_epoch_by_hand(balanced: bool) -> None:
    """A loop without a trainer that makes a training loader each epoch gets
    what one loader passed over again serves: a new order each epoch, the
    order of that epoch; ``set_epoch`` still chooses the epoch drawn next."""
    module = CachingDataModule(
        {"train": entries_named("t", 40, LABELS)},
        MemoryLoader(),
        batch_size=8,
        seed=11,
        balance_sampler_by_class=balanced,
    )

    def epoch(loader: SampleLoader) -> list[str]:
        return [n for batch in loader for n in batch.metadata["name"]]

    by_hand = [epoch(module.train_dataloader()) for _ in range(3)]
    assert by_hand == _orders(-1, seed=11, balanced=balanced, epochs=3)
    again = module.train_dataloader()
    assert isinstance(again.sampler, EpochSampler)
    again.sampler.set_epoch(1)
    assert epoch(again) == by_hand[1]
    assert epoch(module.train_dataloader()) == by_hand[2]


def test_same_seed_across_processes() -> None:
    """Another process with the same seed serves the same order."""
    script = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {str(TESTS)!r})
        from test_reproducibility import _orders
        print(_orders(-1, seed=11, balanced=True))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == str(_orders(-1, seed=11, balanced=True))


def test_seed_everything_without_seed() -> None:
    """Without a seed, Lightning's ``seed_everything`` decides the order."""
    seed_everything(5, verbose=False)
    first = _orders(-1, seed=None)
    seed_everything(5, verbose=False)
    assert _orders(-1, seed=None) == first
    seed_everything(6, verbose=False)
    assert _orders(-1, seed=None) != first


def test_program_draws_without_seed_do_not_depend_on_parallel() -> None:
    """Without a data-module seed, ``seed_everything`` fixes the model's own
    draws (dropout) whatever ``parallel`` is: each loader draws its seeds from
    the global generator once. An epoch in this process drew one more from it
    than in persistent workers, so a speed setting changed the training."""

    def model_draws(parallel: int) -> list[float]:
        seed_everything(7, verbose=False)
        module = CachingDataModule(
            {"train": entries_named("t", 24)},
            MemoryLoader(),
            batch_size=8,
            parallel=parallel,
        )
        loader = module.train_dataloader()
        return [float(torch.rand(())) for _ in range(3) for _batch in loader]

    assert model_draws(-1) == model_draws(2)


@pytest.mark.parametrize("served", [0, 2, 4])
def test_resume_without_seed_draws_later_epochs_alike(served: int) -> None:
    """A seedless run resumed mid-epoch serves what the uninterrupted one would.

    The resumed process's global generator is not the interrupted one's: the
    seed drawn for the orders comes back with the loader's state.
    """

    def loader() -> SampleLoader:
        module = CachingDataModule(
            {"train": entries_named("t", 40, LABELS)}, MemoryLoader(), batch_size=8
        )
        return module.train_dataloader()

    def names(batches: Iterable[Sample]) -> list[str]:
        return [name for batch in batches for name in batch.metadata["name"]]

    seed_everything(5, verbose=False)
    whole = loader()
    epochs = [names(whole) for _ in range(3)]
    seed_everything(5, verbose=False)
    interrupted = loader()
    assert names(interrupted) == epochs[0]
    batches = iter(interrupted)
    seen = names(itertools.islice(batches, served))
    state = interrupted.state_dict()
    seed_everything(99, verbose=False)  # another run: another global state
    resumed = loader()
    resumed.load_state_dict(state)
    assert seen + names(resumed) == epochs[1]
    assert names(resumed) == epochs[2]


def test_workers_are_seeded() -> None:
    """With a seed, random draws in worker processes repeat from run to run."""

    def noise() -> list[float]:
        module = CachingDataModule(
            {"test": entries_named("x", 12)},
            NoisyLoader(),
            parallel=2,
            seed=3,
            batch_size=4,
        )
        return [
            float(n)
            for b in module.test_dataloader()["test"]
            for n in b.metadata["noise"]
        ]

    torch.manual_seed(0)
    first = noise()
    torch.manual_seed(1)
    assert noise() == first


def test_distributed_resume_without_seed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Under DDP without a seed, the shared seed comes back with the loader state.

    Lightning shares a seed among the processes (``PL_GLOBAL_SEED``), which a
    new launch draws again: the later epochs of a resumed run must still be
    those of the interrupted one.
    """
    monkeypatch.setattr("lightsplit._sampling.shard", lambda: (0, 2))
    monkeypatch.setenv("PL_GLOBAL_SEED", "5")
    interrupted = EpochSampler(20, batch_size=2, draw="shuffled")
    interrupted.set_epoch(1)
    later = _indices(interrupted)
    assert interrupted.drawn_seed == 5
    monkeypatch.setenv("PL_GLOBAL_SEED", "77")  # the resumed launch's own
    resumed = EpochSampler(20, batch_size=2, draw="shuffled")
    assert resumed.drawn_seed == 77
    resumed.adopt_drawn_seed(5)  # as `SampleLoader.load_state_dict` does
    resumed.set_epoch(1)
    assert _indices(resumed) == later


def _indices(sampler: EpochSampler) -> list[list[int]]:
    """Return the batches of indices of the sampler's next epoch."""
    batches: list[list[int]] = []
    for batch in sampler:
        assert isinstance(batch, torch.Tensor)  # an unseeded sampler's
        batches.append(batch.tolist())
    return batches


def _shares(
    monkeypatch: pytest.MonkeyPatch, size: int, world: int, batch: int, shards: Shards
) -> list[list[list[int]]]:
    """Return the batches each of ``world`` processes serves of an ordered set."""
    shares: list[list[list[int]]] = []
    for rank in range(world):
        monkeypatch.setattr(
            "lightsplit._sampling.shard", lambda rank=rank: (rank, world)
        )
        sampler = EpochSampler(size, batch_size=batch, draw="ordered", shards=shards)
        batches = _indices(sampler)
        assert len(sampler) == len(batches)  # as Lightning counts the steps
        shares.append(batches)
    return shares


@pytest.mark.parametrize(
    ("layout", "shards", "expected"),
    [
        ((5, 2, 4), "equal", [[[0, 2, 4]], [[1, 3, 0]]]),  # batches of one size
        ((3, 2, 1), "equal", [[[0], [2]], [[1], [0]]]),
        ((5, 2, 2), "equal", [[[0, 2], [4]], [[1, 3], [0]]]),
        ((1, 3, 2), "equal", [[[0]], [[0]], [[0]]]),  # a set smaller than the ranks
        ((6, 3, 4), "equal", [[[0, 3]], [[1, 4]], [[2, 5]]]),  # none repeated
        ((7, 2, 1), "once", [[[0], [2], [4], [6]], [[1], [3], [5]]]),  # no repeat
        ((1, 2, 4), "once", [[[0]], [[0]]]),  # but none left without a sample
        ((3, 4, 1), "equal", [[[0]], [[1]], [[2]], [[0]]]),
        ((2, 5, 1), "equal", [[[0]], [[1]], [[0]], [[1]], [[0]]]),  # smaller: cycled
    ],
)
def test_shards(
    monkeypatch: pytest.MonkeyPatch,
    layout: tuple[int, int, int],
    shards: Shards,
    expected: list[list[list[int]]],
) -> None:
    """Training, validation and test shards are equal (the set's first samples
    repeated where it does not divide), so that every step has batches of one
    size on every rank, even for a set smaller than the ranks; predict repeats
    none but where a rank would have none."""
    size, world, batch = layout  # the set's, the processes', a batch's
    assert _shares(monkeypatch, size, world, batch, shards) == expected


def _noise(batches: Iterable[Sample]) -> list[tuple[str, float]]:
    return [
        (name, float(noise))
        for batch in batches
        for name, noise in zip(
            batch.metadata["name"], batch.metadata["noise"], strict=True
        )
    ]


def _noisy_loader(parallel: int) -> SampleLoader:
    module = CachingDataModule(
        {"train": entries_named("t", 24, LABELS)},
        NoisyLoader(),
        batch_size=4,
        parallel=parallel,
        seed=11,
    )
    return module.train_dataloader()


def test_loader_draws_alike_with_any_parallel() -> None:
    """What a loader draws (random augmentation) depends on the batch and its
    epoch, not on the process that loads it: workers draw as this process does,
    each epoch draws anew, and the program's own generator is left alone."""
    torch.manual_seed(0)
    here = _noisy_loader(-1)
    epochs = [_noise(here) for _ in range(2)]
    after = torch.rand(())
    torch.manual_seed(0)
    assert torch.rand(()) == after  # loading drew nothing from it
    assert [noise for _, noise in epochs[0]] != [noise for _, noise in epochs[1]]
    workers = _noisy_loader(2)
    assert [_noise(workers) for _ in range(2)] == epochs


@pytest.mark.parametrize("parallel", [-1, 2])
@pytest.mark.parametrize("served", [0, 3, 6])
def test_resumed_loader_draws_alike(parallel: int, served: int) -> None:
    """A run resumed mid-epoch (or at its end, 6 batches) draws in its loader
    what the uninterrupted run would have, in that epoch and the next."""
    whole = _noisy_loader(parallel)
    epochs = [_noise(whole) for _ in range(2)]
    interrupted = _noisy_loader(parallel)
    batches = iter(interrupted)
    seen = _noise(itertools.islice(batches, served))
    state = interrupted.state_dict()
    del batches
    torch.manual_seed(123)  # another process: another global state
    resumed = _noisy_loader(parallel)
    resumed.load_state_dict(state)
    if served == len(interrupted):  # the epoch was complete: the next follows
        assert (seen, _noise(resumed)) == (epochs[0], epochs[1])
    else:
        assert seen + _noise(resumed) == epochs[0]
        assert _noise(resumed) == epochs[1]


def test_cached_draws_follow_the_seed() -> None:
    """With a `seed`, what a loader draws while caching is the same on every run
    and with any `parallel`: it followed torch's initial seed (new at each run
    without `seed_everything`), and the spans the build processes took."""

    def cached_noise(parallel: int, initial: int) -> list[float]:
        torch.manual_seed(initial)  # as a new run without seed_everything
        module = CachingDataModule(
            {"train": entries_named("t", 70, [0] * 70)},
            NoisyLoader(),
            cache_samples=True,
            parallel=parallel,
            seed=42,
        )
        module.setup("predict")
        dataset = module.predict_dataloader()["train"].dataset
        return [float(n) for n in dataset[torch.arange(70)].metadata["noise"]]

    first = cached_noise(-1, 1)
    assert len(set(first)) == 70  # every sample drew its own
    assert cached_noise(-1, 2) == first
    assert cached_noise(2, 3) == first
    assert cached_noise(3, 4) == first


@pytest.mark.parametrize("parallel", [-1, 2])
def test_cache_build_leaves_generators_alone(parallel: int) -> None:
    """Building a cache with a loader that draws (sample 0 and every span) does
    not move this process's generators: the model's draws do not depend on it."""
    torch.manual_seed(3)
    expected = torch.rand(())
    torch.manual_seed(3)
    split = {
        "train": entries_named("t", 12, LABELS),
        "validation": entries_named("v", 3),
    }
    module = CachingDataModule(
        split, NoisyLoader(), cache_samples=True, parallel=parallel
    )
    module.setup("fit")
    assert torch.rand(()) == expected
    noise = [
        float(n)
        for n in module.train_dataloader().dataset[torch.arange(12)].metadata["noise"]
    ]
    assert len(set(noise)) == 12  # every sample drew its own


@pytest.mark.parametrize("draw", ["shuffled", "balanced"])
def test_order_drawn_on_one_thread_is_the_same(
    monkeypatch: pytest.MonkeyPatch, draw: Literal["shuffled", "balanced"]
) -> None:
    """An epoch's order is drawn on one intra-op thread, and is what two draw.

    Drawn on two, it would leave torch's second thread spinning for its next
    task, which on a busy machine takes that time from the epoch. The order
    must not change with it (a run resumed from a checkpoint made when orders
    were drawn on two threads serves the same epochs), and the caller's thread
    count is left as it was.
    """
    size = 40_000
    weights = torch.linspace(0.1, 1.0, size, dtype=torch.float64)
    real = torch.randperm if draw == "shuffled" else torch.multinomial
    threads_seen: list[int] = []

    def recording(*args: object, **kwargs: object) -> torch.Tensor:
        threads_seen.append(torch.get_num_threads())
        return real(*args, **kwargs)  # type: ignore[arg-type,call-overload]  # the draw's own

    previous = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        sampler = EpochSampler(size, batch_size=64, draw=draw, seed=3, weights=weights)
        with monkeypatch.context() as patched:
            patched.setattr(torch, real.__name__, recording)
            served = list(itertools.chain.from_iterable(_indices(sampler)))
        assert torch.get_num_threads() == 2  # left as the caller set it
        assert sampler.current is not None  # drawn by the iteration
        on_two = sampler._order(sampler.current)
    finally:
        torch.set_num_threads(previous)
    assert threads_seen == [1]
    assert served == on_two.tolist()


def _fit_order(module: CachingDataModule) -> list[str]:
    """Fit one epoch; return the names of the training samples in order."""
    model = RecordingModel(6)
    quiet_trainer().fit(model, datamodule=module)
    return model.train_names


def _unseeded() -> CachingDataModule:
    return CachingDataModule(
        {"train": entries_named("t", 40), "validation": entries_named("v", 2)},
        MemoryLoader(),
        batch_size=8,
    )


def test_each_fit_without_seed_draws_from_seed_everything() -> None:
    """Without a `seed`, a data module fitted again draws its order from the
    global seed of that fit, as a new one would: a sweep of seeds over one
    data module runs each seed on its own order (the second fit kept the seed
    the first drew)."""
    module = _unseeded()
    seed_everything(1)
    first = _fit_order(module)
    seed_everything(2)
    second = _fit_order(module)
    seed_everything(2)
    fresh = _fit_order(_unseeded())
    assert second == fresh
    assert second != first
    assert sorted(second) == sorted(first)


def test_loaders_by_hand_after_a_fit_draw_new_epochs() -> None:
    """Loaders made by hand after a fit (the trainer still attached) serve an
    epoch each, not the finished fit's last one again."""
    module = CachingDataModule(
        {"train": entries_named("t", 40), "validation": entries_named("v", 2)},
        MemoryLoader(),
        batch_size=8,
        seed=3,
    )
    _fit_order(module)
    orders = [
        tuple(n for batch in module.train_dataloader() for n in batch.metadata["name"])
        for _ in range(3)
    ]
    assert len(set(orders)) == 3
