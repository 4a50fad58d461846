"""The ``Sample`` every loader returns, and the loader protocols."""

from collections.abc import Callable, Mapping, MutableMapping
from typing import (
    TYPE_CHECKING,
    Any,
    Final,
    NamedTuple,
    Protocol,
    SupportsIndex,
    TypeAlias,
    TypeVar,
    runtime_checkable,
)
from weakref import WeakKeyDictionary

from torch import Tensor

__all__ = [
    "EntryChecker",
    "LoadedSample",
    "MappingSampleLoader",
    "ModelTransform",
    "RawDataLoader",
    "RawT_contra",
    "Sample",
    "Target",
    "entry_check",
]

RawT_contra = TypeVar("RawT_contra", contravariant=True)
"""The type of one raw sample description (for example ``tuple[str, int]``)."""

Target: TypeAlias = SupportsIndex | Tensor
"""A class label: an integer (an ``int``, or one with ``__index__``, such as
NumPy's ``np.int64``), or a tensor holding one integral value of any dtype
(``tensor(3)``, ``tensor([0.])``). A ``bool`` is refused when the sample loads,
although type checkers take it for an ``int``: a class label is no truth value."""


INPUT_KEYS: Final = ("image", "input")
"""The names a `Sample`'s input goes by when it is read by key, as mednet's
batches (``batch["image"]``) are."""


class Sample(NamedTuple):
    """One loaded sample, or one batch of them.

    A loader returns one ``Sample`` per raw sample. Data loaders yield batches
    that are ``Sample`` too: ``input`` stacked along a new first dimension and
    ``metadata`` collated key by key (numbers and tensors become tensors, strings
    become lists). ``x, meta = sample`` unpacks it.

    It also reads as mednet's batches do, by key, so that code written for them
    (mednet's training steps, callbacks and predictors) runs unchanged:
    ``sample["image"]`` (or ``sample["input"]``) is the input, ``sample[key]``
    a metadata value, and ``sample[key] = value`` sets one in the metadata;
    ``key in sample``, ``sample.get(key)`` and ``sample.keys()`` answer as
    for a dict of those keys.

    Examples:
        >>> import torch
        >>> batch = Sample(torch.zeros(2, 1, 4, 4), {"target": torch.tensor([0, 1])})
        >>> batch["image"].shape, batch["target"].tolist()
        (torch.Size([2, 1, 4, 4]), [0, 1])
        >>> x, meta = batch
    """

    input: Tensor
    """The tensor fed to the model."""

    metadata: Mapping[str, Any]
    """Anything else about the sample: label, name, mask... (passed to torch as is)."""

    def __contains__(self, key: object) -> bool:
        """Whether ``key`` reads a value (``"image"``, a metadata key), as in a dict.

        Anything but a string is looked for among the two fields, as in a tuple.
        """
        if isinstance(key, str):
            return key in INPUT_KEYS or key in self.metadata
        return tuple.__contains__(self, key)

    def get(self, key: str, default: Any = None) -> Any:  # noqa: ANN401 - as `metadata`'s values
        """Return ``sample[key]`` if ``key in sample``, else ``default``.

        As mednet's ``batch.get`` (a dict's).
        """
        return _item(self, key) if key in self else default

    def keys(self) -> list[str]:
        """Return the keys that read a value: ``"image"``, then the metadata's."""
        return [INPUT_KEYS[0], *self.metadata]


def _item(sample: Sample, key: object) -> object:
    """``sample[key]``: by position as a tuple, or by key as mednet's batches."""
    if not isinstance(key, str):
        return tuple.__getitem__(sample, key)  # type: ignore[call-overload]  # a position or slice
    metadata = sample.metadata
    if key in metadata:
        return metadata[key]
    if key in INPUT_KEYS:
        return sample.input
    keys = ", ".join(f"`{name}`" for name in (*INPUT_KEYS, *metadata))
    msg = f"sample has no key `{key}`; its keys: {keys}"
    raise KeyError(msg)


def _set_item(sample: Sample, key: object, value: object) -> None:
    """``sample[key] = value``: a metadata value, as in mednet's batches."""
    metadata = sample.metadata
    if not isinstance(key, str) or key in INPUT_KEYS:
        msg = (
            f"a `Sample`'s input and fields are not assigned (`{key}`); make a new "
            "one: `sample._replace(input=...)`"
        )
        raise TypeError(msg)
    if not isinstance(metadata, MutableMapping):
        kind = type(metadata).__name__
        msg = f"this sample's metadata (a `{kind}`) is read-only"
        raise TypeError(msg)
    metadata[key] = value


if not TYPE_CHECKING:  # typed code indexes the pair as a tuple, precisely typed
    Sample.__getitem__ = _item
    Sample.__setitem__ = _set_item


LoadedSample: TypeAlias = tuple[Tensor, Mapping[str, Any]]
"""What ``RawDataLoader.sample`` may return: a `Sample`, or a plain
``(tensor, mapping)`` pair as the reference loaders return."""

# What the protocols below declare their methods return. mypy checks loaders
# against the precise types. At run time they are ``Any``: LightningCLI's
# argument parser (jsonargparse) accepts a class for a protocol only when each
# return annotation *equals* the protocol's, so a loader whose ``target`` is
# annotated ``-> int`` (narrower than ``int | Tensor``, which is fine) would be
# refused from a YAML file.
if TYPE_CHECKING:
    _SampleResult: TypeAlias = LoadedSample
    _MappingResult: TypeAlias = Mapping[str, Any]
    _TargetResult: TypeAlias = Target
    _TensorResult: TypeAlias = Tensor
else:
    _SampleResult = _MappingResult = _TargetResult = _TensorResult = Any


@runtime_checkable
class RawDataLoader(Protocol[RawT_contra]):
    """Loads one raw sample description into a `Sample`.

    Implement it with any class that has these two methods; no base class is
    needed. ``sample`` returns a `Sample` (or a plain ``(tensor, mapping)``
    pair); ``target`` returns the class label, an ``int`` or a one-element tensor
    of integral value. A loader may also define ``fingerprint`` (a string that
    changes when its output changes) to key persistent caches, and
    ``check_entry(raw)`` (see `EntryChecker`) to have each entry checked when a
    data module is built.
    """

    def sample(self, raw: RawT_contra, /) -> _SampleResult:
        """Load the whole sample ``raw`` describes."""
        ...

    def target(self, raw: RawT_contra, /) -> _TargetResult:
        """Return the class label of ``raw`` without loading the whole sample."""
        ...


@runtime_checkable
class EntryChecker(Protocol[RawT_contra]):
    """A loader that can tell, without loading it, whether it reads an entry.

    A data module calls ``check_entry`` on every entry of a loader that has
    it, when it is built: an entry the loader cannot read (a label written
    ``"1"``) fails then, naming the set and index, not when its batch comes up,
    hours into an epoch. It opens no file, and raises ``TypeError`` or
    ``ValueError`` saying what is wrong with the entry.
    """

    def check_entry(self, raw: RawT_contra, /) -> None:
        """Raise if ``raw`` is no entry this loader reads."""
        ...


def entry_check(loader: object) -> Callable[[Any], None] | None:
    """Return the loader's ``check_entry`` (`EntryChecker`), if it checks its entries.

    The method is looked up on the loader's class: a wrapper that hands the
    attributes it lacks to a loader it wraps (``__getattr__``) reads entries of
    its own, which the wrapped loader's check would refuse. A subclass that
    overrides ``sample`` or ``target`` but not ``check_entry`` also reads other
    entries than its base class checks (``{"image": ..., "label": ...}`` where
    the base reads ``[path, label]``): ``None`` for both, no check.
    """
    kind = type(loader)
    checks = _CHECKING.get(kind)
    if checks is None:
        checks = _CHECKING[kind] = _checks_entries(kind)
    if not checks:
        return None
    check: Callable[[Any], None] = getattr(loader, "check_entry")  # noqa: B009 - typed
    return check


_CHECKING: Final[WeakKeyDictionary[type, bool]] = WeakKeyDictionary()
"""Loader class -> whether `_checks_entries`: found once per class."""


def _checks_entries(kind: type) -> bool:
    """Whether loaders of class ``kind`` check their entries (see `entry_check`)."""
    owner = _defined_by(kind, "check_entry")
    if owner is None or not callable(vars(owner)["check_entry"]):
        return False
    readers = (_defined_by(kind, name) for name in ("sample", "target"))
    # neither overridden below the check
    return all(reader is None or issubclass(owner, reader) for reader in readers)


def _defined_by(kind: type, name: str) -> type | None:
    """Return the first class of ``kind``'s method order that defines ``name``."""
    return next((cls for cls in kind.__mro__ if name in vars(cls)), None)


@runtime_checkable
class MappingSampleLoader(Protocol[RawT_contra]):
    """Loads one raw sample description into one mapping (mednet 2.x, MONAI).

    ``sample`` returns a mapping such as ``{"image": tensor, "target": tensor([0.]),
    "name": "a.png"}``; wrap such a loader in `MappingLoader` to use it.
    """

    def sample(self, raw: RawT_contra, /) -> _MappingResult:
        """Load the whole sample ``raw`` describes, as a mapping of str keys."""
        ...

    def target(self, raw: RawT_contra, /) -> _TargetResult:
        """Return the class label of ``raw`` without loading the whole sample."""
        ...


@runtime_checkable
class ModelTransform(Protocol):
    """A transform applied to each sample's ``input`` after loading, before caching.

    Any callable from tensor to tensor: a function, a ``torch.nn.Module``, or an
    object with ``__call__``.
    """

    def __call__(self, input: Tensor, /) -> _TensorResult:  # noqa: A002 - torch's name
        """Return the transformed ``input``."""
        ...
