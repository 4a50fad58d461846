"""``check_split_loading``: load a split's samples and collect every failure.

Failures of one cause (350 missing files) share a `SampleFailure.reason`, the
message without what is particular to the entry, by which `group_failures`
groups them.

Importing this module imports no torch, so that ``lightsplit check`` without a
loader starts fast: `check_split_loading` imports the loading code when called.
"""

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Generic, TypeVar

from ._entries import FILE_NAME
from ._errors import SampleLoadError, missing_dependency, preview, refuse_set_names
from ._types import EntryT_co, SetName, generic_record

if TYPE_CHECKING:
    from ._metadata import MetadataRules
    from ._sample import RawDataLoader, Sample

__all__ = [
    "FailureGroup",
    "SampleFailure",
    "check_split_loading",
    "failure_reason",
    "group_failures",
]

RawT = TypeVar("RawT")

MIN_REPLACED: Final = 4
"""Strings of an entry this long or longer are taken out of a failure's reason."""


@generic_record
@dataclass(frozen=True, slots=True)
class SampleFailure(Generic[EntryT_co]):
    """A raw sample that its loader could not load."""

    set_name: SetName
    """The set holding the sample."""
    index: int
    """The sample's position in its set."""
    entry: EntryT_co
    """The raw sample description."""
    message: str
    """What went wrong: the exception's type and message."""
    reason: str = ""
    """The message without what is particular to the entry (its path), shared
    by failures of one cause; ``""``: the message."""

    def __str__(self) -> str:
        return (
            f"{self.set_name}.{self.index}: entry {preview(self.entry)}: {self.message}"
        )


@generic_record
@dataclass(frozen=True, slots=True)
class FailureGroup(Generic[EntryT_co]):
    """Failures of one cause, such as files missing."""

    reason: str
    """The cause: the failures' shared message, without their paths."""
    failures: tuple[SampleFailure[EntryT_co], ...]
    """The failures, in split order."""


def _strings(entry: object) -> Iterator[str]:
    """Yield the strings of an entry: itself, its items or its values."""
    if isinstance(entry, str):
        yield entry
    elif isinstance(entry, list | tuple):
        yield from (item for item in entry if isinstance(item, str))
    elif isinstance(entry, dict):
        yield from (value for value in entry.values() if isinstance(value, str))


def failure_reason(
    exc: BaseException, entry: object, *, root: object | None = None
) -> str:
    """Return what ``exc`` says about ``entry`` without what is particular to it.

    A file error keeps its type and cause, and the loader's ``root`` when the
    file is in it (``FileNotFoundError: No such file or directory under
    images``); a missing module says which extra installs it; any other message
    loses what is particular to the entry: the entry itself (``<entry>``), its
    other values (``<value>``) and its strings (``<path>``, ``<text>``).

    Examples:
        >>> error = FileNotFoundError(2, "No such file", "data/a.png")
        >>> failure_reason(error, ["a.png"], root="data")
        'FileNotFoundError: No such file under data'
        >>> failure_reason(ValueError("bad a.png"), ["a.png", 0])
        'ValueError: bad <path>'
        >>> entry = ["a.png", [0, 1], "healthy"]
        >>> failure_reason(TypeError(f"label [0, 1] of {entry!r} is healthy"), entry)
        'TypeError: label <value> of <entry> is <text>'
    """
    name = type(exc).__name__
    if isinstance(exc, OSError) and exc.strerror and exc.filename is not None:
        folder = "" if root is None else str(root)
        inside = folder and str(exc.filename).startswith(folder)
        return f"{name}: {exc.strerror}" + (f" under {folder}" if inside else "")
    if isinstance(exc, ModuleNotFoundError) and exc.name:
        hint = missing_dependency(exc.name)
        return f"{name}: no module named `{exc.name}`" + (f"; {hint}" if hint else "")
    message = f"{name}: {exc}".replace(repr(entry), "<entry>")
    for item in sorted(_values(entry), key=lambda item: -len(repr(item))):
        # a short number is left (`0` is in many messages), a list never (`[]`,
        # NIH's "no finding", made its own line of failures)
        if len(repr(item)) >= MIN_REPLACED or isinstance(item, list | tuple | dict):
            message = message.replace(repr(item), "<value>")
    for text in _strings(entry):
        if len(text) >= MIN_REPLACED:
            message = message.replace(
                text, "<path>" if FILE_NAME.search(text) else "<text>"
            )
    return message


def _values(entry: object) -> Iterator[object]:
    """Yield the items of an entry (or the values of an object) that are no strings."""
    if isinstance(entry, list | tuple):
        yield from (item for item in entry if not isinstance(item, str))
    elif isinstance(entry, dict):
        yield from (value for value in entry.values() if not isinstance(value, str))


def group_failures(
    failures: Sequence[SampleFailure[RawT]],
) -> list[FailureGroup[RawT]]:
    """Group failures by reason, in the order each reason first appears."""
    groups: dict[str, list[SampleFailure[RawT]]] = {}
    for failure in failures:
        groups.setdefault(failure.reason or failure.message, []).append(failure)
    return [FailureGroup(reason, tuple(found)) for reason, found in groups.items()]


def check_split_loading(
    split: Mapping[SetName, Sequence[RawT]],
    loader: "RawDataLoader[RawT]",
    limit: int = 0,
    *,
    progress: Callable[[], object] | None = None,
) -> list[SampleFailure[RawT]]:
    """Load the samples of every set and return the failures, in split order.

    A failure is a loader that raises, or returns something other than a
    `Sample` (a tensor and a mapping), or whose ``target`` raises or returns
    what is no class target (an int, or a tensor of one integral value) nor a
    tensor of several (a multi-label target): a string, say, which class
    balancing would refuse in the middle of a run.

    Args:
        split: set name -> raw samples.
        loader: the loader to try.
        limit: load only the first ``limit`` samples of each set; 0 loads all.
        progress: called after each sample (to move a progress bar, say).

    Returns:
        One `SampleFailure` per sample that failed; empty when all loaded.

    Raises:
        TypeError: if ``limit`` is no `int`, or ``loader`` is a class or lacks a
            `sample` or `target` method (as the data modules refuse it).
        ValueError: if ``limit`` is negative, or a set name is not one of a
            split file (``valid``).
    """
    if isinstance(limit, bool) or not isinstance(limit, int):
        msg = f"`limit` is {limit!r}; give a whole number: 0 (every sample) or a count"
        raise TypeError(msg)
    if limit < 0:
        msg = f"`limit` ({limit}) must be 0 (every sample) or a positive count"
        raise ValueError(msg)
    refuse_set_names(split)
    from torch import Tensor  # noqa: PLC0415 - torch, only to load samples

    from ._parts import refuse_loader  # noqa: PLC0415 - with pydantic

    refuse_loader(loader)

    from ._sources import as_sample, target_as_int  # noqa: PLC0415 - as torch

    failures: list[SampleFailure[RawT]] = []
    where = f"`{type(loader).__name__}.sample`"
    where_target = f"`{type(loader).__name__}.target`"
    root: object | None = getattr(loader, "root", None)
    for set_name, samples in split.items():
        count = len(samples) if limit == 0 else min(limit, len(samples))
        batchable = _Batchable(set_name, samples)
        for index in range(count):
            raw = samples[index]
            try:
                batchable.check(index, as_sample(loader.sample(raw), where=where))
                target = loader.target(raw)
                if not isinstance(target, Tensor) or target.numel() == 1:
                    target_as_int(target, where=where_target)
            except Exception as exc:
                message = f"{type(exc).__name__}: {exc}"
                reason = failure_reason(exc, raw, root=root)
                failures.append(SampleFailure(set_name, index, raw, message, reason))
            if progress is not None:
                progress()
    return failures


class _Batchable:
    """Checks that the samples of a set batch together, as a data module needs.

    The first sample loaded sets the rules: the same metadata keys, values of
    one type (`MetadataRules`), and, for inputs of the first's shape, metadata
    tensors of one shape: a target vector of another length fails a batch it
    shares, which loading alone would pass. Inputs of several shapes (masks
    with them) are batched one by one, and are not compared.
    """

    def __init__(self, set_name: SetName, samples: Sequence[object]) -> None:
        self.set_name = set_name
        self.samples = samples
        self.first: tuple[int, Sample] | None = None
        self.rules: MetadataRules | None = None

    def where(self, index: int) -> str:
        entry = preview(self.samples[index])
        return f"set `{self.set_name}`, index {index}, entry {entry}"

    def check(self, index: int, sample: "Sample") -> None:
        """Remember the first sample; check the others against it.

        Raises:
            SampleLoadError: for other keys, another type, or a tensor of another
                shape than the first sample's.
        """
        from torch import Tensor  # noqa: PLC0415 - torch, only to load samples

        from ._metadata import MetadataRules  # noqa: PLC0415 - as torch

        if self.first is None or self.rules is None:
            self.first = (index, sample)
            self.rules = MetadataRules(sample.metadata, described=self.where(index))
            return
        self.rules.check(sample.metadata, index, lambda _: "this sample")
        first_index, first = self.first
        if sample.input.shape != first.input.shape:
            return  # a set of several shapes, batched one by one: masks follow
        for key, value in sample.metadata.items():
            before = first.metadata[key]
            if not isinstance(value, Tensor) or not isinstance(before, Tensor):
                continue
            if value.shape != before.shape:
                shapes = f"{tuple(value.shape)} but of shape {tuple(before.shape)}"
                msg = (
                    f"metadata `{key}` is a tensor of shape {shapes} in "
                    f"{self.where(first_index)}; a batch stacks them: give `{key}` "
                    "one shape in every sample"
                )
                raise SampleLoadError(msg)
