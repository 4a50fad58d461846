"""Time the first batch after a resume against the first batch of a fresh epoch.

A set of 60,000 samples of (1, 28, 28) ``uint8`` is served in batches of 64,
shuffled (and class-balanced), cached in memory or loaded on demand. Each round
times, side by side: a fresh loader's first batch of an epoch, and a fresh
loader's first batch after ``load_state_dict`` of a state taken halfway through
that epoch. Resuming skips indices, so both should cost about the same::

    .venv/bin/python benchmarks/resume.py [--samples N] [--repeats K]
"""

import argparse
from collections.abc import Callable
from typing import Any

import torch
from _common import markdown_table, median_seconds

from lightsplit import CachingDataModule, Sample


class TensorLoader:
    """Makes a (1, 28, 28) ``uint8`` image from the entry's number."""

    def sample(self, raw: tuple[int, int]) -> Sample:
        """Return the image of ``raw`` and its label."""
        number, label = raw
        image = torch.full((1, 28, 28), number % 256, dtype=torch.uint8)
        return Sample(image, {"label": label})

    def target(self, raw: tuple[int, int]) -> int:
        """Return the label."""
        return raw[1]


def _first_batches(module: CachingDataModule) -> tuple[Callable[[], object], ...]:
    """Return the two runs: a fresh epoch's first batch, and one after a resume."""
    loader = module.train_dataloader()
    iterator = iter(loader)
    for _ in range(len(loader) // 2):
        next(iterator)
    state: dict[str, Any] = loader.state_dict()

    def fresh() -> object:
        return next(iter(module.train_dataloader()))

    def resumed() -> object:
        again = module.train_dataloader()
        again.load_state_dict(state)
        return next(iter(again))

    return fresh, resumed


def main() -> None:
    """Print the table of first-batch times and their ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=60_000)
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    entries = [(number, number % 2) for number in range(args.samples)]
    rows = []
    for name, settings in [
        ("cached, shuffled", {"cache_samples": True}),
        ("cached, balanced", {"cache_samples": True, "balance_sampler_by_class": True}),
        ("uncached, shuffled", {}),
    ]:
        module = CachingDataModule(
            {"train": entries, "validation": entries[:64]},
            TensorLoader(),
            batch_size=64,
            seed=1,
            **settings,  # type: ignore[arg-type]  # settings of the data module
        )
        module.setup("fit")
        fresh, resumed = median_seconds(_first_batches(module), args.repeats)
        rows.append(
            [
                name,
                f"{fresh * 1000:.2f}",
                f"{resumed * 1000:.2f}",
                f"{resumed / fresh:.2f}",
            ]
        )
    print(
        f"First batch of {args.samples:,} samples in batches of 64, median of "
        f"{args.repeats}:\n"
    )
    print(
        markdown_table(["set", "fresh epoch (ms)", "after resume (ms)", "ratio"], rows)
    )
    worst = max(float(row[3]) for row in rows)
    verdict = "PASS" if worst <= 1.5 else "FAIL"
    print(f"\n{verdict}: resume / fresh first batch, worst {worst:.2f} (<= 1.5)")


if __name__ == "__main__":
    main()
