"""The ``Sample`` every loader returns, and the ``RawDataLoader`` protocol."""

from collections.abc import Mapping
from typing import Any, NamedTuple, Protocol, TypeAlias, TypeVar, runtime_checkable

from torch import Tensor

__all__ = ["RawDataLoader", "RawT_contra", "Sample", "Target"]

RawT_contra = TypeVar("RawT_contra", contravariant=True)
"""The type of one raw sample description (for example ``tuple[str, int]``)."""

Target: TypeAlias = int | Tensor
"""A class label: an ``int``, or a tensor with a single element."""


class Sample(NamedTuple):
    """One loaded sample, or one batch of them.

    A loader returns one ``Sample`` per raw sample. Data loaders yield batches
    that are ``Sample`` too: ``input`` stacked along a new first dimension and
    ``metadata`` collated key by key (numbers and tensors become tensors, strings
    become lists). ``x, meta = sample`` unpacks it.
    """

    input: Tensor
    """The tensor fed to the model."""

    metadata: Mapping[str, Any]
    """Anything else about the sample: label, name, mask... (passed to torch as is)."""


@runtime_checkable
class RawDataLoader(Protocol[RawT_contra]):
    """Loads one raw sample description into a `Sample`.

    Implement it with any class that has these two methods; no base class is
    needed. A loader may also define ``fingerprint`` (a string that changes when
    its output changes) to key persistent caches.
    """

    def sample(self, raw: RawT_contra, /) -> Sample:
        """Load the whole sample ``raw`` describes."""
        ...

    def target(self, raw: RawT_contra, /) -> Target:
        """Return the class label of ``raw`` without loading the whole sample."""
        ...
