"""The random generators a loader may draw from: seeded, and kept around a call.

A loader that draws random numbers (a random crop, a flip) draws them from
torch's, Python's or NumPy's global generators. Which process loads a sample,
and what it drew before, depends on ``parallel``, on timing and on where a run
was resumed; seeded from what is loaded, the draws do not.
"""

import contextlib
import hashlib
import random
import sys
from collections.abc import Iterator

import torch

__all__ = ["derived_seed", "generators_kept", "global_seed", "seed_generators"]


def global_seed() -> int:
    """Return a seed drawn once from torch's global generator (`seed_everything`'s)."""
    return int(torch.randint(2**62, (), dtype=torch.int64))


def derived_seed(*parts: object) -> int:
    """Return a 64-bit seed made of ``parts`` (ints, strings, bytes), mixed.

    Examples:
        >>> derived_seed(7, b"ab") == derived_seed(7, b"ab") != derived_seed(8, b"ab")
        True
    """
    digest = hashlib.blake2b(digest_size=8)
    for part in parts:
        digest.update(part if isinstance(part, bytes) else f"{part}:".encode())
    return int.from_bytes(digest.digest(), "little")


def seed_generators(seed: int) -> None:
    """Seed the global generators of torch, Python and NumPy with ``seed``.

    torch's of the CPU (a GPU's stays as it is); NumPy's only where it is
    imported, as a loader that uses it has.
    """
    torch.default_generator.manual_seed(seed)
    random.seed(seed)
    numpy = sys.modules.get("numpy")  # seeded where the loader may use it
    if numpy is not None:
        numpy.random.seed(seed % 2**32)


@contextlib.contextmanager
def generators_kept() -> Iterator[None]:
    """Restore torch's, Python's and NumPy's global generators after the block.

    What the block seeds and draws leaves the program's own draws as if none
    had been made.
    """
    numpy = sys.modules.get("numpy")
    states = (
        torch.get_rng_state(),
        random.getstate(),
        None if numpy is None else numpy.random.get_state(),
    )
    try:
        yield
    finally:
        torch.set_rng_state(states[0])
        random.setstate(states[1])
        if numpy is not None and states[2] is not None:
            numpy.random.set_state(states[2])
