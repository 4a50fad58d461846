"""``SampleLoader``: a ``DataLoader`` whose iteration mypy sees as ``Sample``."""

from collections.abc import Iterator

from torch.utils.data import DataLoader
from typing_extensions import override

from ._sample import Sample

__all__ = ["SampleLoader"]


class SampleLoader(DataLoader[Sample]):
    """A ``torch.utils.data.DataLoader`` whose batches are typed as `Sample`.

    It takes the arguments of ``DataLoader`` unchanged; only ``__iter__`` is
    narrowed, as torch types batches as ``Any``.
    """

    @override
    def __iter__(self) -> Iterator[Sample]:  # type: ignore[override]  # torch returns its private iterator type
        return super().__iter__()
