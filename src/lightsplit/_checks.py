"""``check_split_loading``: load a split's samples and collect every failure.

Importing this module imports no torch, so that ``lightsplit check`` without a
loader starts fast: `check_split_loading` imports the loading code when called.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from ._errors import preview
from ._types import SetName

if TYPE_CHECKING:
    from ._sample import RawDataLoader

__all__ = ["SampleFailure", "check_split_loading"]

RawT = TypeVar("RawT")


@dataclass(frozen=True, slots=True)
class SampleFailure:
    """A raw sample that its loader could not load."""

    set_name: SetName
    """The set holding the sample."""
    index: int
    """The sample's position in its set."""
    entry: object
    """The raw sample description."""
    message: str
    """What went wrong: the exception's type and message."""

    def __str__(self) -> str:
        return (
            f"{self.set_name}.{self.index}: entry {preview(self.entry)}: {self.message}"
        )


def check_split_loading(
    split: Mapping[SetName, Sequence[RawT]],
    loader: "RawDataLoader[RawT]",
    limit: int = 0,
    *,
    progress: Callable[[], object] | None = None,
) -> list[SampleFailure]:
    """Load the samples of every set and return the failures, in split order.

    A failure is a loader that raises, or returns something other than a
    `Sample` (a tensor and a mapping).

    Args:
        split: set name -> raw samples.
        loader: the loader to try.
        limit: load only the first ``limit`` samples of each set; 0 loads all.
        progress: called after each sample (to move a progress bar, say).

    Returns:
        One `SampleFailure` per sample that failed; empty when all loaded.

    Raises:
        ValueError: if ``limit`` is negative.
    """
    if limit < 0:
        msg = f"`limit` ({limit}) must be 0 (every sample) or a positive count"
        raise ValueError(msg)
    from ._sources import as_sample  # noqa: PLC0415 - torch, only to load samples

    failures: list[SampleFailure] = []
    where = f"`{type(loader).__name__}.sample`"
    for set_name, samples in split.items():
        count = len(samples) if limit == 0 else min(limit, len(samples))
        for index in range(count):
            raw = samples[index]
            try:
                as_sample(loader.sample(raw), where=where)
            except Exception as exc:
                message = f"{type(exc).__name__}: {exc}"
                failures.append(SampleFailure(set_name, index, raw, message))
            if progress is not None:
                progress()
    return failures
