"""The class-balanced sampler: each class drawn as often as any other."""

from collections import Counter
from collections.abc import Sequence

import torch
from torch.utils.data import WeightedRandomSampler

__all__ = ["balanced_sampler", "class_weights"]


def class_weights(targets: Sequence[int]) -> torch.Tensor:
    """Return per-sample weights inversely proportional to their class frequency.

    Examples:
        >>> class_weights([0, 0, 0, 1]).tolist()
        [0.3333333333333333, 0.3333333333333333, 0.3333333333333333, 1.0]
    """
    counts = Counter(targets)
    return torch.tensor(
        [1.0 / counts[target] for target in targets], dtype=torch.float64
    )


def balanced_sampler(
    targets: Sequence[int], *, generator: torch.Generator | None = None
) -> WeightedRandomSampler:
    """Return a sampler that draws ``len(targets)`` samples, classes balanced.

    Draws are with replacement, each sample weighted by the inverse of its class
    frequency, so every class has the same chance per draw.
    """
    return WeightedRandomSampler(
        class_weights(targets).tolist(),
        num_samples=len(targets),
        replacement=True,
        generator=generator,
    )
