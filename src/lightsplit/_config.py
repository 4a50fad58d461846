"""``DataModuleConfig``: the frozen, validated settings of a data module.

The settings are declared here once. The data modules' constructors take them
under the same names and defaults (a test keeps them in step), read them back as
properties and document them from the field docstrings below.
"""

import difflib
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Final, Literal, Self, TypedDict, Unpack

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    PlainValidator,
    ValidationError,
    ValidatorFunctionWrapHandler,
    field_validator,
    model_validator,
)
from pydantic.json_schema import WithJsonSchema
from pydantic_core import InitErrorDetails, PydanticKnownError

from ._entries import Grouping, is_group_field
from ._errors import home_written_out
from ._types import StrPath
from ._validation_errors import (
    batch_not_divisible,
    cache_dir_empty,
    cache_dir_home,
    cache_dir_unused,
    cache_on_device_unused,
    frozen_field,
    group_field_invalid,
    group_pattern_and_field,
    group_pattern_invalid,
    line_error,
    parallel_invalid,
    strict_type_hint,
    unknown_setting,
)

__all__ = [
    "FROZEN_CONFIG",
    "SAMPLE_CONFIG",
    "DataModuleConfig",
    "FrozenModel",
    "SettingChanges",
    "available_cpus",
    "checked_config",
]


def _check_parallel(value: object) -> object:
    """Refuse a `parallel` that is no integer of -1 or more, saying what each means."""
    if isinstance(value, bool) or not isinstance(value, int) or value < -1:
        raise parallel_invalid(value=repr(value))
    return int(value)  # an `IntEnum` member, as pydantic takes the other integers


def _check_group_field(value: object) -> object:
    """Refuse a `group_field` that is neither a position nor a key, saying which are.

    A string holding a character other than blanks is a key, whatever it holds
    (``"2"`` is no position); an `IntEnum` member is the position it stands for.
    """
    if value is None or (isinstance(value, str) and value.strip()):
        return value
    if is_group_field(value):
        return int(value)  # type: ignore[call-overload]  # an `int`, as checked
    raise group_field_invalid(value=value)


def _explained(
    value: object,
    handler: ValidatorFunctionWrapHandler,
    *,
    expected: Literal["integer", "number", "boolean"],
) -> object:
    """Validate ``value``, saying how to fix one that plainly means the type.

    Such a value is still refused, with pydantic's error type (`strict_type_hint`).
    """
    try:
        return handler(value)
    except ValidationError as error:
        types = {e["type"] for e in error.errors()}
        wrong_type = {"int_type", "float_type", "bool_type"} & types
        hint = strict_type_hint(value, expected=expected) if wrong_type else None
        if hint is None:
            raise
        raise hint from None


FROZEN_CONFIG: Final = ConfigDict(
    frozen=True, strict=True, validate_default=True, use_attribute_docstrings=True
)
"""Settings shared by every lightsplit model: immutable, strict, documented."""

SAMPLE_CONFIG: Final = ConfigDict(**FROZEN_CONFIG, extra="forbid")
"""How entries are checked against a sample type: as `FROZEN_CONFIG`, and a key
that an object entry's type (a `TypedDict`, a dataclass) does not declare is
refused, not dropped (a misspelt optional key would lose its value unseen)."""


class FrozenModel(
    BaseModel,
    frozen=True,
    extra="forbid",
    strict=True,
    validate_default=True,
    use_attribute_docstrings=True,
):
    """An immutable, strictly validated model that forbids unknown fields.

    Its settings are `FROZEN_CONFIG`'s, given as class arguments so that type
    checkers see them too: a subclass says ``frozen=True`` again, and mypy
    refuses assignments to its fields as pydantic does at run time.
    """

    def __setattr__(self, name: str, value: object) -> None:
        """Refuse to change a field, saying how to derive a changed copy."""
        if name in type(self).model_fields:
            fix = (
                f"derive a changed copy: `.replace({name}=...)`"
                if hasattr(self, "replace")
                else f"make a new `{type(self).__name__}`"
            )
            error = frozen_field(name=name, model=type(self).__name__, fix=fix)
            raise ValidationError.from_exception_data(
                type(self).__name__, [{"type": error, "loc": (name,), "input": value}]
            )
        super().__setattr__(name, value)

    def _replaced(self, changes: Mapping[str, object]) -> Self:
        """Return a validated copy with ``changes`` applied.

        Raises:
            ValidationError: if the result is not valid.
        """
        return self.model_validate({**self.model_dump(), **changes})


_MEANT: Final = {
    "num_workers": "parallel",
    "num_worker": "parallel",
    "workers": "parallel",
}
"""Names that users of torch's loaders set, and the setting that does it here."""

_TORCH_NAMES: Final = {
    "drop_last": "drop_incomplete_batch",
    "balance_classes": "balance_sampler_by_class",  # mednet's option
}
"""Settings of torch's loaders (or mednet's options), and the setting of the
same effect here."""

_SAMPLING: Final = (
    "the training loader shuffles by `seed` (or draws classes in balance, with "
    "`balance_sampler_by_class=True`), and the others serve their sets in order"
)
_LOADER_ARGUMENTS: Final = {
    "collate_fn": (
        "lightsplit collates every batch into a `Sample` itself (inputs stacked, "
        "metadata key by key): give the inputs one shape, in the loader (pad "
        "sequences to one length, their lengths kept as metadata) or a model "
        "transform, and change whole batches with `train_batch_transforms` or "
        "`eval_batch_transforms`"
    ),
    "pin_memory": (
        "lightsplit's loaders pin their batches when a GPU is there (a cache on "
        "the GPU, `cache_on_device=True`, needs no copy at all)"
    ),
    "shuffle": _SAMPLING,
    "sampler": _SAMPLING,
    "batch_sampler": _SAMPLING,
    "generator": f"{_SAMPLING}; `seed` fixes the orders",
    "persistent_workers": (
        "lightsplit's worker processes (`parallel`) live across epochs already"
    ),
    "prefetch_factor": "lightsplit's loaders keep torch's default (2 batches a worker)",
    "multiprocessing_context": (
        "lightsplit starts its worker processes itself (forked; spawned on macOS)"
    ),
    "worker_init_fn": (
        "lightsplit seeds its worker processes itself, from `seed`; do per-sample "
        "work in the loader"
    ),
}
"""Arguments of torch's `DataLoader` that lightsplit's loaders set themselves,
and why."""


def setting_fix(name: str) -> str | None:
    """Say which setting an unknown ``name`` means, if it plainly means one.

    A close spelling of a setting (``batch_szie``), or torch's ``num_workers``;
    ``None`` for other names.
    """
    if name in _MEANT:
        return (
            f"the worker processes of lightsplit's loaders are set by "
            f"`{_MEANT[name]}` (-1: none, load in this process; N: N processes): "
            "set it instead"
        )
    if name in _TORCH_NAMES:
        return f"did you mean `{_TORCH_NAMES[name]}`?"
    if name in _LOADER_ARGUMENTS:
        return f"{_LOADER_ARGUMENTS[name]}."
    fields = DataModuleConfig.model_fields
    meant = difflib.get_close_matches(name, fields, n=1, cutoff=0.75)
    return f"did you mean `{meant[0]}`?" if meant else None


def available_cpus() -> int:
    """Return the number of CPUs this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1  # pragma: no cover - platforms without affinity


def _folder(value: object) -> Path:
    """Accept a non-empty ``str`` or ``os.PathLike`` as a folder path."""
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if not isinstance(value, str):
        raise PydanticKnownError("string_type")  # noqa: EM101 - pydantic's error type
    if not value:
        raise cache_dir_empty()
    path = Path(value)
    expanded = home_written_out(path)
    if expanded is not None:
        raise cache_dir_home(cache_dir=value, expanded=expanded)
    return path


_Folder = Annotated[
    StrPath,
    PlainValidator(_folder),
    WithJsonSchema({"type": "string", "format": "path", "minLength": 1}),
]
"""A folder: given as a string or path, held as a ``pathlib.Path``."""


class SettingChanges(TypedDict, total=False):
    """The settings `DataModuleConfig.replace` may change, each with its type."""

    database_name: str
    split_name: str
    task: str
    num_classes: int
    cache_samples: bool
    balance_sampler_by_class: bool
    batch_size: int
    batch_chunk_count: int
    drop_incomplete_batch: bool
    parallel: int
    cache_dir: StrPath | None
    seed: int | None
    cache_on_device: bool
    device_headroom: float
    allow_data_change: bool
    group_pattern: str | None
    group_field: int | str | None


class DataModuleConfig(FrozenModel, frozen=True):
    """Settings of a data module: naming, caching, sampling, batching and workers.

    Every field is checked strictly (``"64"`` or ``True`` is not a batch size;
    only `cache_dir` takes a string as well as a path) and the configuration
    cannot be changed once made: derive a new one with ``replace``.
    """

    database_name: str = ""
    """Name of the database (or aggregate of databases) the samples come from."""

    split_name: str = ""
    """Name of the split that groups the samples into sets."""

    task: str = ""
    """What the samples are for, as mednet's engine reads it from a data module
    (``"classification"``, ``"segmentation"``, ``"detection"``); empty when not
    said. lightsplit itself does not use it."""

    num_classes: Annotated[int, Field(ge=1)] = 1
    """Classes a model of this data predicts, as mednet's engine reads it from a
    data module (1 for a binary classifier). lightsplit itself does not use it."""

    cache_samples: bool = False
    """Load every sample of a stage's sets at setup and serve them from memory."""

    balance_sampler_by_class: bool = False
    """Draw training samples with probability inversely proportional to the
    frequency of their class (with replacement, one epoch = the training set's size
    in draws)."""

    batch_size: Annotated[int, Field(ge=1)] = 1
    """Samples per optimizer step (at least 1), loaded `batch_chunk_count` steps
    of the loader at a time; truncated to the training set size when larger."""

    batch_chunk_count: Annotated[int, Field(ge=1)] = 1
    """Chunks each batch is cut into (at least 1, and a divisor of `batch_size`):
    each loader step serves `batch_size / batch_chunk_count` samples, and gradients
    are accumulated over `batch_chunk_count` steps."""

    drop_incomplete_batch: bool = False
    """Drop the samples at the end of each training epoch that make no complete
    batch, every chunk of it: each optimizer step then sees `batch_size`
    samples (a batch truncated to the training set is complete). Evaluation
    never drops samples."""

    parallel: Annotated[int, Field(ge=-1), BeforeValidator(_check_parallel)] = -1
    """Worker processes for loading: -1 loads in the main process, 0 uses one
    worker per CPU this process may run on, N uses N workers. When caching, the
    number of processes that build the cache, the main one among them."""

    cache_dir: _Folder | None = None
    """Folder of persistent caches (needs `cache_samples`): each set's decoded,
    transformed samples are written there once and memory-mapped by later runs
    with the same entries, loader and model transforms. A non-empty path or
    string (`.` for the current folder)."""

    seed: Annotated[int, Field(ge=0, lt=2**63)] | None = None
    """Fixes shuffling, class-balanced draws, worker seeds and what a loader
    draws while caching: the same seed gives the same order on every run, for
    any `parallel`, and each epoch its own. With none, torch's global generator
    decides (seeded by `seed_everything`)."""

    cache_on_device: bool = False
    """Keep each cached set in the memory of the training device (each DDP rank:
    its own GPU), where batches are gathered without any copy from the host
    (needs `cache_samples` and a CUDA device)."""

    device_headroom: Annotated[float, Field(ge=0, lt=1, allow_inf_nan=False)] = 0.25
    """Share of the training device's memory that a cache on the device leaves
    free for the model (at least 0, below 1)."""

    allow_data_change: bool = False
    """Accept a checkpoint made on other data: sets, entries, classes, loaders,
    model transforms or training settings that differ from those it recorded, or
    an evaluated set that shares entries with its training set, are warned about
    instead of refused."""

    group_pattern: str | None = None
    """A regular expression that finds each entry's group (its patient) in its
    path, the entry's first string, as the group pattern of ``lightsplit
    check`` does: the group named ``group``, else the first group, else the
    whole match. With it, sets holding one group in two of `train`, `validation` and
    `test` are refused, and checkpoints record the training groups, so that
    evaluating one on another image of a patient it was trained on is refused
    as evaluating it on a training entry is (`allow_data_change` allows both
    of the latter, with a warning). Not with `group_field`."""

    group_field: (
        Annotated[int, Field(ge=0)] | Annotated[str, Field(min_length=1)] | None
    ) = None
    """The field of each entry that holds its group (its patient), for tables
    whose file names carry none (PadChest's `PatientID` column): a position in
    array entries (0, 1, 2, ...) or a key of object entries, as the group
    field of ``lightsplit check`` reads it. Its value is the group, as text
    (the patient 17 and "17" are one); an entry whose field is missing, empty
    or null has none. In Python a string is always a key ("2" is no
    position); in config files and on the command line, digits are read as
    the number, a position, even quoted (see config-files.md). A key must hold
    a character other than blanks. With it, the sets and checkpoints are
    checked by patient as with `group_pattern`. Not with `group_pattern`."""

    @field_validator("group_pattern", mode="after")
    @classmethod
    def _check_group_pattern(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise group_pattern_invalid(pattern=value, problem=str(exc)) from None
        return value

    @field_validator("group_field", mode="before")
    @classmethod
    def _check_group_field(cls, value: object) -> object:
        return _check_group_field(value)

    @model_validator(mode="after")
    def _check_one_way_to_group(self) -> Self:
        if self.group_pattern is not None and self.group_field is not None:
            raise group_pattern_and_field(
                pattern=self.group_pattern,
                field=Grouping("group_field", self.group_field).shown_value,
            )
        return self

    @field_validator(
        "num_classes", "batch_size", "batch_chunk_count", "seed", mode="wrap"
    )
    @classmethod
    def _explain_integer(
        cls, value: object, handler: ValidatorFunctionWrapHandler
    ) -> object:
        return _explained(value, handler, expected="integer")

    @field_validator("device_headroom", mode="wrap")
    @classmethod
    def _explain_number(
        cls, value: object, handler: ValidatorFunctionWrapHandler
    ) -> object:
        if isinstance(value, bool) or not isinstance(value, float | int):
            # pydantic takes what has `__float__` (`np.float32(0.1)`, a tensor),
            # changing its value: refused as integers' other types are
            hint = strict_type_hint(value, expected="number")
            if hint is not None:
                raise hint
        return _explained(value, handler, expected="number")

    @field_validator(
        "cache_samples",
        "balance_sampler_by_class",
        "drop_incomplete_batch",
        "cache_on_device",
        "allow_data_change",
        mode="wrap",
    )
    @classmethod
    def _explain_boolean(
        cls, value: object, handler: ValidatorFunctionWrapHandler
    ) -> object:
        return _explained(value, handler, expected="boolean")

    @model_validator(mode="wrap")
    @classmethod
    def _check_known_settings(
        cls, data: object, handler: ModelWrapValidatorHandler[Self]
    ) -> Self:
        """Refuse a setting that is close to a known one, naming the known one.

        Its error (``extra_forbidden``, at the setting's name) comes with every
        other problem of the settings, in one error: the rest are validated
        without it. Other unknown names get pydantic's ``extra_forbidden``.
        """
        if not isinstance(data, Mapping):
            return handler(data)
        close = {
            name: fix
            for name in data
            if isinstance(name, str)
            and name not in cls.model_fields
            and (fix := setting_fix(name)) is not None
        }
        if not close:
            return handler(data)
        errors = [
            InitErrorDetails(
                type=unknown_setting(name=name, fix=fix), loc=(name,), input=data[name]
            )
            for name, fix in close.items()
        ]
        try:
            handler({name: value for name, value in data.items() if name not in close})
        except ValidationError as exc:
            errors += map(line_error, exc.errors())
        raise ValidationError.from_exception_data(cls.__name__, errors)

    @model_validator(mode="after")
    def _check_cache_dir_used(self) -> Self:
        if self.cache_dir is not None and not self.cache_samples:
            raise cache_dir_unused(cache_dir=str(self.cache_dir))
        return self

    @model_validator(mode="after")
    def _check_cache_on_device_used(self) -> Self:
        if self.cache_on_device and not self.cache_samples:
            raise cache_on_device_unused()
        return self

    @model_validator(mode="after")
    def _check_batch_divisible(self) -> Self:
        if self.batch_size % self.batch_chunk_count:
            raise batch_not_divisible(
                batch_size=self.batch_size, batch_chunk_count=self.batch_chunk_count
            )
        return self

    def replace(self, **changes: Unpack[SettingChanges]) -> Self:
        """Return a validated copy with ``changes`` applied.

        Raises:
            ValidationError: if the result is not valid.

        Examples:
            >>> DataModuleConfig(batch_size=64).replace(batch_chunk_count=4).batch_size
            64
        """
        return self._replaced(changes)

    @property
    def cache_path(self) -> Path | None:
        """`cache_dir` as a ``pathlib.Path`` (it is held as one)."""
        return None if self.cache_dir is None else Path(self.cache_dir)

    @property
    def num_workers(self) -> int:
        """The ``DataLoader`` worker count that ``parallel`` stands for.

        Examples:
            >>> DataModuleConfig(parallel=-1).num_workers
            0
            >>> DataModuleConfig(parallel=3).num_workers
            3
        """
        if self.parallel < 0:
            return 0
        if self.parallel == 0:
            return available_cpus()
        return self.parallel


def checked_config(config: object, *, name: str) -> DataModuleConfig:
    """Return ``config`` itself once it is checked to be a valid configuration.

    A configuration made without validation (``model_copy(update=...)``,
    ``model_construct``) may hold anything: it is validated again here, where
    a data module is handed one, so that it is refused with pydantic's message
    instead of misbehaving later (a `batch_size` that the chunks do not divide).

    Raises:
        TypeError: for anything but a `DataModuleConfig`, naming ``name``.
        ValidationError: for a configuration whose settings are not valid.
    """
    if not isinstance(config, DataModuleConfig):
        msg = (
            f"`{name}` must be a `DataModuleConfig`, not `{type(config).__name__}`"
            "; make one with `DataModuleConfig(...)` (from a mapping: "
            "`DataModuleConfig.model_validate(mapping)`), or derive one with "
            "`config.replace(...)`"
        )
        raise TypeError(msg)
    # the settings alone, as lightsplit reads them: a subclass's own fields
    # (an alias, `use_enum_values`) need not survive a second validation
    DataModuleConfig.model_validate(
        {name: getattr(config, name) for name in DataModuleConfig.model_fields}
    )
    return config
