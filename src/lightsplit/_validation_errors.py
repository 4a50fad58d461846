"""The validation errors lightsplit raises itself: one builder per type.

Each builds a pydantic-core ``PydanticCustomError``, so that lightsplit's own
checks report like pydantic's (``ValidationError`` with a type and a location).
They live apart from `lightsplit._errors` so that reading and checking split
files, which raise none of them, do not import pydantic-core.
"""

import math
import operator
import reprlib
from collections.abc import Iterable, Sequence
from typing import Final, Literal, NoReturn, TypeAlias, get_args

from pydantic_core import (
    ErrorDetails,
    InitErrorDetails,
    PydanticCustomError,
    ValidationError,
    core_schema,
)

from ._errors import WRAP_IN_MAPPING_LOADER, closest_set_name, first_few, printable

__all__ = [
    "ErrorCollector",
    "ErrorType",
    "batch_not_divisible",
    "cache_dir_empty",
    "cache_dir_home",
    "cache_dir_unused",
    "cache_on_device_unused",
    "frozen_field",
    "group_field_files",
    "group_field_invalid",
    "group_field_unheld",
    "group_leak",
    "group_pattern_and_field",
    "group_pattern_invalid",
    "group_pattern_unmatched",
    "line_error",
    "loader_invalid",
    "loader_not_instance",
    "loader_returns_mapping",
    "pair_not_in_list",
    "parallel_invalid",
    "samples_invalid",
    "set_empty",
    "set_invalid",
    "set_name_invalid",
    "splits_empty",
    "splits_not_mapping",
    "strict_type_hint",
    "transform_invalid",
    "transforms_invalid",
    "unknown_setting",
]

ErrorType: TypeAlias = Literal[
    "batch_not_divisible",
    "cache_dir_empty",
    "cache_dir_home",
    "cache_dir_unused",
    "cache_on_device_unused",
    "group_field_files",
    "group_field_invalid",
    "group_field_unheld",
    "group_leak",
    "group_pattern_and_field",
    "group_pattern_invalid",
    "group_pattern_unmatched",
    "loader_invalid",
    "loader_not_instance",
    "loader_returns_mapping",
    "pair_not_in_list",
    "parallel_invalid",
    "samples_invalid",
    "set_empty",
    "set_invalid",
    "set_name_invalid",
    "splits_empty",
    "transform_invalid",
    "transforms_invalid",
]
"""The ``type`` of every validation error lightsplit raises itself."""


def set_name_invalid(*, name: str) -> PydanticCustomError:
    """Error for a set name that is not `train`, `validation`, `test` or `monitor-*`.

    This is the one statement of the set-name rule: every reader of set names
    (split files, CSV tables, data modules) reports a bad name with it.
    """
    rule = (
        "Set names are `train`, `validation`, `test` or `monitor-<name>` "
        "(<name>: letters, digits, `.`, `_`, `-`)"
    )
    if not name:
        return PydanticCustomError(
            "set_name_invalid",
            f"a set name is empty; name the set. {rule}",
            {"name": ""},
        )
    if name == "$schema":
        return PydanticCustomError(
            "set_name_invalid",
            "`$schema` is not a valid set name: a split file cannot name its "
            "JSON Schema, as every key of it is a set (mednet reads it so too); "
            "remove the key, and tell the editor which files the schema is for "
            f"(VS Code: `json.schemas` with `fileMatch` in its settings). {rule}",
            {"name": name},
        )
    suggestion = closest_set_name(name)
    name = printable(name)
    if suggestion is None:
        return PydanticCustomError(
            "set_name_invalid",
            f"`{{name}}` is not a valid set name. {rule}",
            {"name": name},
        )
    return PydanticCustomError(
        "set_name_invalid",
        f"`{{name}}` is not a valid set name; did you mean `{{suggestion}}`? {rule}",
        {"name": name, "suggestion": suggestion},
    )


def set_empty(*, set_name: str, files: Sequence[str] = ()) -> PydanticCustomError:
    """Error for a set with no sample given to a data module.

    ``files`` are the split files its samples come from, when all do.
    """
    if files:
        return PydanticCustomError(
            "set_empty",
            "set `{set_name}` has no sample: it is empty in {files}; remove it "
            "from the file or give it samples there",
            {"set_name": set_name, "files": first_few(list(dict.fromkeys(files)))},
        )
    return PydanticCustomError(
        "set_empty",
        "set `{set_name}` has no sample; remove the set or give it samples",
        {"set_name": set_name},
    )


def set_invalid(*, set_name: str, type_name: str) -> PydanticCustomError:
    """Error for a set of a `DatabaseSplit` that is no sequence of raw samples."""
    return PydanticCustomError(
        "set_invalid",
        "set `{set_name}` must be a sequence (a list or tuple) of raw samples, not "
        "`{type_name}`; a set of one sample is a list of one",
        {"set_name": set_name, "type_name": type_name},
    )


def group_pattern_invalid(*, pattern: str, problem: str) -> PydanticCustomError:
    """Error for a `group_pattern` that is no regular expression."""
    return PydanticCustomError(
        "group_pattern_invalid",
        "`group_pattern` `{pattern}` is not a regular expression ({problem}); write "
        "one whose first group (or group named `group`) finds the patient in a "
        "path, such as `images/(\\d{8})_`",
        {"pattern": printable(pattern), "problem": problem},
    )


def group_pattern_unmatched(*, reason: str) -> PydanticCustomError:
    """Error for a `group_pattern` that finds no group in any path of the sets.

    ``reason`` says so, as `find_leaks` does.
    """
    return PydanticCustomError(
        "group_pattern_unmatched", "{reason}", {"reason": reason}
    )


def group_field_invalid(*, value: object) -> PydanticCustomError:
    """Error for a `group_field` that is neither a position nor a key.

    A position is an `int` of 0 or more (not a truth value, nor a position
    counted from the end, which differs with each entry's length); a key is a
    string holding a character other than blanks. A string of digits is a key,
    never a position.
    """
    if isinstance(value, str):
        described = (
            "an empty string"
            if not value
            else f"{printable(repr(value))}, blanks alone"
        )
    elif isinstance(value, bool):
        described = f"the truth value {value}"
    elif isinstance(value, int) and value < 0:
        described = (
            f"{value}, a position counted from the end (which differs with each "
            "entry's length)"
        )
    else:
        kind = type(value)
        name = kind.__name__ if kind.__module__ == "builtins" else kind.__qualname__
        described = f"the {name} {printable(reprlib.repr(value))}"
    return PydanticCustomError(
        "group_field_invalid",
        "`group_field` is {described}; name the field that holds each entry's "
        "group (its patient): a position in array entries (0 for the first item, "
        "1, 2, ...) or a key of object entries (a string that is not empty or "
        "blank), such as 2 or "
        "`PatientID`; or leave it unset",
        {"described": described},
    )


def group_pattern_and_field(*, pattern: str, field: str) -> PydanticCustomError:
    """Error for both `group_pattern` and `group_field` set: two ways to group."""
    return PydanticCustomError(
        "group_pattern_and_field",
        "`group_pattern` (`{pattern}`) and `group_field` (`{field}`) are both set; "
        "an entry's group is found in its path by the pattern or read from the "
        "field: set one of them, and leave the other unset",
        {"pattern": printable(pattern), "field": printable(field)},
    )


def group_field_files(*, reason: str) -> PydanticCustomError:
    """Error for a `group_field` that holds the entries' files, not their patients.

    ``reason`` says so, with how many entries and the first of them.
    """
    return PydanticCustomError("group_field_files", "{reason}", {"reason": reason})


def group_field_unheld(*, reason: str) -> PydanticCustomError:
    """Error for a `group_field` that holds no group in any entry of the sets.

    ``reason`` says so, with what the entries hold.
    """
    return PydanticCustomError("group_field_unheld", "{reason}", {"reason": reason})


def group_leak(
    *, set_name: str, count: int, shown: str, option: str, value: str
) -> PydanticCustomError:
    """Error for a set holding groups (patients) that another set holds too.

    ``option`` is the setting that found the groups (`group_pattern` or
    `group_field`), ``value`` its value as messages show it.
    """
    noun = "group" if count == 1 else "groups"
    by_field = option == "group_field"
    return PydanticCustomError(
        "group_leak",
        "set `{set_name}` holds {count} {noun} that another set holds too (by "
        "`{option}` `{value}`): {shown}; put each group in one set (`lightsplit "
        "split --{flag}` makes such splits), or fix the {what} if it does not "
        "{finds} patients",
        {
            "set_name": set_name,
            "count": f"{count:,}",
            "noun": noun,
            "option": option,
            "value": printable(value),
            "shown": shown,
            "flag": option.replace("_", "-"),
            "what": "field" if by_field else "pattern",
            "finds": "hold" if by_field else "find",
        },
    )


def splits_empty() -> PydanticCustomError:
    """Error for a data module given no set at all."""
    return PydanticCustomError(
        "splits_empty",
        "the splits have no set; give at least a `train` set",
    )


def samples_invalid(*, value: object) -> PydanticCustomError:
    """Error for raw samples that are neither a sequence nor a split file."""
    return PydanticCustomError(
        "samples_invalid",
        "raw samples must be a sequence (a list or tuple of raw samples) or the "
        "path of a split file (`.json`, `.json.bz2`), not `{type_name}` {shown}",
        {"type_name": type(value).__name__, "shown": printable(reprlib.repr(value))},
    )


def splits_not_mapping(*, value: object) -> PydanticCustomError:
    """Error for splits that are no mapping of set names (pydantic's ``dict_type``)."""
    fix = (
        '; a list of raw samples is one set: `{"train": [...]}`'
        if isinstance(value, list | tuple)
        else ""
    )
    return PydanticCustomError(
        "dict_type",
        "the splits must map set names (`train`, `validation`, `test`, "
        "`monitor-<name>`) to raw samples, or be the path of a split file "
        "(`.json`, `.json.bz2`), not `{type_name}`{fix}",
        {"type_name": type(value).__name__, "fix": fix},
    )


def loader_invalid(*, type_name: str, missing: str) -> PydanticCustomError:
    """Error for a loader that does not satisfy the ``RawDataLoader`` protocol."""
    return PydanticCustomError(
        "loader_invalid",
        "the loader (`{type_name}`) has no callable `{missing}`; give an object "
        "with `sample(raw) -> Sample` and `target(raw) -> int | Tensor` methods",
        {"type_name": type_name, "missing": missing},
    )


def loader_returns_mapping(*, type_name: str, said: str) -> PydanticCustomError:
    """Error for a loader whose `sample` is annotated to return a mapping."""
    return PydanticCustomError(
        "loader_returns_mapping",
        "the loader (`{type_name}`) returns a mapping (its `sample` is annotated "
        "`{said}`), as mednet 2.x's loaders do, not a `Sample`; "
        + WRAP_IN_MAPPING_LOADER,
        {"type_name": type_name, "said": said},
    )


def loader_not_instance(*, type_name: str) -> PydanticCustomError:
    """Error for a loader class given where a loader object is expected."""
    return PydanticCustomError(
        "loader_not_instance",
        "the loader is the class `{type_name}`, not a loader object; create one, "
        "as in `{type_name}(...)`",
        {"type_name": type_name},
    )


def parallel_invalid(*, value: str) -> PydanticCustomError:
    """Error for a `parallel` that is not an integer of -1 or more."""
    return PydanticCustomError(
        "parallel_invalid",
        "`parallel` is {value}; give an integer: -1 to load in this process, 0 for "
        "one worker process per CPU, or N (1 or more) for N worker processes",
        {"value": value},
    )


def pair_not_in_list(*, set_name: str) -> PydanticCustomError:
    """Error for one ``(samples, loader)`` pair given where a list of pairs is."""
    return PydanticCustomError(
        "pair_not_in_list",
        "set `{set_name}` is one (samples, loader) pair, not a list of them; write "
        "`[(samples, loader)]` (a set may join several pairs)",
        {"set_name": set_name},
    )


def transforms_invalid(*, field: str, type_name: str) -> PydanticCustomError:
    """Error for transforms (model or batch) that are not a sequence."""
    if type_name == "NoneType":  # mednet's "no transform"
        return PydanticCustomError(
            "transforms_invalid",
            "`{field}` must be a list or tuple of transforms, not None; for no "
            "transform, leave it out or give `[]`",
            {"field": field, "type_name": type_name},
        )
    return PydanticCustomError(
        "transforms_invalid",
        "`{field}` must be a list or tuple of transforms, not `{type_name}`; for "
        "a single transform, write `[transform]`",
        {"field": field, "type_name": type_name},
    )


def transform_invalid(*, kind: str, value: str, problem: str) -> PydanticCustomError:
    """Error for a transform (of ``kind``) that is no transform object (``problem``)."""
    return PydanticCustomError(
        "transform_invalid",
        "{kind} {value} {problem}",
        {"kind": kind, "value": value, "problem": problem},
    )


def batch_not_divisible(
    *, batch_size: int, batch_chunk_count: int
) -> PydanticCustomError:
    """Error for a batch that cannot be cut into equal chunks.

    The message proposes the nearest valid values of both fields.
    """
    below = batch_size - batch_size % batch_chunk_count
    sizes = [s for s in (below, below + batch_chunk_count) if s >= batch_chunk_count]
    divisors = [d for d in range(1, batch_size + 1) if batch_size % d == 0]
    smaller = [d for d in divisors if d < batch_chunk_count]
    larger = [d for d in divisors if d > batch_chunk_count]
    counts = [*smaller[-1:], *larger[:1]]
    return PydanticCustomError(
        "batch_not_divisible",
        "`batch_size` ({batch_size}) is not divisible by `batch_chunk_count` "
        "({batch_chunk_count}); use a `batch_size` of {sizes}, "
        "or a `batch_chunk_count` of {counts}",
        {
            "batch_size": batch_size,
            "batch_chunk_count": batch_chunk_count,
            "sizes": " or ".join(map(str, sizes)),
            "counts": " or ".join(map(str, counts)),
        },
    )


def cache_dir_unused(*, cache_dir: str) -> PydanticCustomError:
    """Error for a persistent-cache folder given without caching."""
    return PydanticCustomError(
        "cache_dir_unused",
        "`cache_dir` ({cache_dir}) is set but `cache_samples` is false; set "
        "`cache_samples` to true to use it, or remove `cache_dir`",
        {"cache_dir": cache_dir},
    )


def cache_dir_empty() -> PydanticCustomError:
    """Error for an empty `cache_dir`, which would silently mean the current folder."""
    return PydanticCustomError(
        "cache_dir_empty",
        "`cache_dir` is empty; give a folder path (`.` for the current folder), "
        "or leave it unset for no persistent cache",
    )


def cache_dir_home(*, cache_dir: str, expanded: str) -> PydanticCustomError:
    """Error for a `cache_dir` starting with ``~``, which only a shell expands."""
    return PydanticCustomError(
        "cache_dir_home",
        "`cache_dir` ({cache_dir}) starts with `~`, which only a shell reads as a "
        "home folder: it would be a folder named `~` in the current one; write "
        "{expanded}",
        {"cache_dir": cache_dir, "expanded": expanded},
    )


def cache_on_device_unused() -> PydanticCustomError:
    """Error for a device cache asked for without caching."""
    return PydanticCustomError(
        "cache_on_device_unused",
        "`cache_on_device` is true but `cache_samples` is false; set "
        "`cache_samples` to true to cache on the device, or remove `cache_on_device`",
    )


_KNOWN_TYPES: Final = frozenset(get_args(core_schema.ErrorType))
"""pydantic's own error types, which it words itself."""


def line_error(error: ErrorDetails) -> InitErrorDetails:
    """Return an error of a `ValidationError`, to raise again in another one.

    pydantic's own keep their type and context; lightsplit's (and any other
    custom error) their type, message and context.
    """
    kind, context = error["type"], error.get("ctx")
    if kind in _KNOWN_TYPES:
        found = InitErrorDetails(type=kind, loc=error["loc"], input=error["input"])
        if context is not None:
            found["ctx"] = context
        return found
    return InitErrorDetails(
        type=PydanticCustomError(kind, error["msg"], context),
        loc=error["loc"],
        input=error["input"],
    )


def unknown_setting(*, name: str, fix: str) -> PydanticCustomError:
    """Error for a setting that does not exist but plainly means one (``fix``).

    Its type is pydantic's for unknown fields, ``extra_forbidden``.
    """
    return PydanticCustomError(
        "extra_forbidden",
        "`{name}` is no setting of a data module; {fix}",
        {"name": name, "fix": fix},
    )


def frozen_field(*, name: str, model: str, fix: str) -> PydanticCustomError:
    """Error for assigning a field of an immutable model; its type is pydantic's."""
    return PydanticCustomError(
        "frozen_instance",
        "a `{model}` cannot be changed, and `{name}` with it; {fix}",
        {"name": name, "model": model, "fix": fix},
    )


_BOOLEAN_WORDS: frozenset[str] = frozenset(
    {"true", "false", "yes", "no", "on", "off", "y", "n", "1", "0"}
)


def _is_index(value: object) -> bool:
    """Whether ``value`` is an integer of another kind (numpy's, a torch scalar)."""
    try:
        operator.index(value)  # type: ignore[arg-type]  # any object may be one
    except TypeError:
        return False
    return True


def strict_type_hint(
    value: object, *, expected: Literal["integer", "number", "boolean"]
) -> PydanticCustomError | None:
    """Pydantic's type error (``int_type``...) for ``value``, saying how to fix it.

    For a value that strict validation refuses but that plainly means a number
    or a truth value (``np.int64(8)``, ``"8"``, ``8.0``, ``"0.1"``, ``1``,
    ``"yes"``), the error keeps pydantic's type and says what to write instead;
    for any other value, None (pydantic's message stands).

    Examples:
        >>> print(strict_type_hint(8.0, expected="integer"))
        Input should be a valid integer, not the float 8.0; give 8
        >>> print(strict_type_hint("0.1", expected="number"))
        Input should be a valid number, not the string '0.1'; give 0.1, without quotes
        >>> print(strict_type_hint("yes", expected="boolean"))
        Input should be a valid boolean, not the string 'yes'; give true or false, \
without quotes
        >>> print(strict_type_hint(1.5, expected="integer"))
        Input should be a valid integer, not the float 1.5; give a whole number, \
such as 1 or 2
        >>> print(strict_type_hint(None, expected="boolean"))
        Input should be a valid boolean, not None; give true or false
        >>> strict_type_hint([8], expected="integer") is None
        True
    """
    kind = type(value)
    fix: str | None = None
    if value is None:
        fix = {
            "integer": "give a whole number",
            "number": "give a number",
            "boolean": "give true or false",
        }[expected]
    elif expected == "number":
        fix = _number_fix(value)
    elif expected == "integer":
        fix = _integer_fix(value)
    elif isinstance(value, str) and value.strip().lower() in _BOOLEAN_WORDS:
        fix = "give true or false, without quotes"
    elif type(value) is int or (
        str(getattr(value, "dtype", "")) in {"bool", "torch.bool"}
        and getattr(value, "ndim", None) == 0
    ):
        fix = "give true or false, as in `bool(value)`"
    if fix is None:
        return None
    shown = repr(value) if isinstance(value, str) else str(value)
    name = kind.__name__ if kind.__module__ == "builtins" else kind.__qualname__
    module = "" if kind.__module__ == "builtins" else f"{kind.__module__}."
    if isinstance(value, str):
        name = "string"
    if value is None:
        name, shown = "", "None"
    error_type = {"integer": "int_type", "number": "float_type"}.get(expected)
    return PydanticCustomError(
        error_type or "bool_type",
        "Input should be a valid {expected}, not {described}; {fix}",
        {
            "expected": expected,
            "described": f"the {module}{name} {shown}" if name else shown,
            "fix": fix,
        },
    )


def _integer_fix(value: object) -> str | None:
    """Say how to write ``value`` as an integer, if it plainly means one."""
    if isinstance(value, bool):
        return "give a whole number, not a truth value"
    if isinstance(value, float) and value.is_integer():
        return f"give {int(value)}"
    if isinstance(value, float) and math.isfinite(value):
        low, high = math.floor(value), math.ceil(value)
        return f"give a whole number, such as {low} or {high}"
    if isinstance(value, str) and value.strip().lstrip("+-").isdigit():
        return f"give {int(value)}, without quotes"
    if not isinstance(value, str | float) and _is_index(value):
        return "give a Python `int`, as in `int(value)`"
    return None


def _number_fix(value: object) -> str | None:
    """Say how to write ``value`` as a number, if it plainly means one."""
    if isinstance(value, bool):
        return "give a number, not a truth value"
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return None
        return f"give {number!r}, without quotes" if math.isfinite(number) else None
    if hasattr(value, "__float__") and getattr(value, "ndim", 0) == 0:
        return "give a Python `float`, as in `float(value)`"
    return None


class ErrorCollector:
    """Collect validation problems, each with its own location, and raise them once."""

    def __init__(self) -> None:
        self._errors: list[InitErrorDetails] = []

    def add(
        self,
        loc: Iterable[str | int],
        error: PydanticCustomError,
        value: object,
    ) -> None:
        """Record ``error`` about ``value`` found at ``loc``."""
        self._errors.append({"type": error, "loc": tuple(loc), "input": value})

    def __bool__(self) -> bool:
        return bool(self._errors)

    def raise_if_any(self, title: str) -> None:
        """Raise one ``ValidationError`` titled ``title`` if any problem was recorded.

        Raises:
            ValidationError: with every recorded problem.
        """
        if self._errors:
            self.raise_all(title)

    def raise_all(self, title: str) -> NoReturn:
        """Raise the recorded problems as one ``ValidationError``."""
        raise ValidationError.from_exception_data(title, self._errors)
