"""Validators of sample types stricter than pydantic's strict mode.

pydantic's strict mode still takes, from JSON:

- ``true`` for the ``1`` of a ``Literal[0, 1]`` or an ``IntEnum`` (``True == 1``
  in Python), ``1`` for the ``True`` of ``Literal[True]``, and ``1.0`` for the
  ``1`` of a literal or an integer enum;
- an object for a ``NamedTuple``, by its field names (the JSON Schema of a
  named tuple, like its type, is an array);
- an integer beyond a float's range for a ``float``, as infinity.

`strict_validator` rebuilds the validator of a core schema with each refused,
so that an entry is read as its JSON Schema says, and nothing is silently
turned into something else.
"""

import enum
import json
from collections.abc import Callable, Sequence
from typing import Any, Final

from pydantic_core import PydanticCustomError, SchemaValidator, core_schema

__all__ = ["strict_validator"]

_CONFIG: core_schema.CoreConfig = {
    "strict": True,
    "validate_default": True,
    "extra_fields_behavior": "forbid",
}
"""The top-level settings of `SAMPLE_CONFIG`, which the schemas within carry too."""


def strict_validator(schema: core_schema.CoreSchema) -> SchemaValidator:
    """Return a strict validator of ``schema``, with the cases above refused."""
    stricter = _stricter(schema)
    assert isinstance(stricter, dict)  # a schema stays a schema
    return SchemaValidator(stricter, _CONFIG)


def _stricter(node: object) -> object:
    """Return ``node`` (a part of a core schema) with its checks made stricter."""
    if isinstance(node, list):
        return [_stricter(item) for item in node]
    if not isinstance(node, dict):
        return node
    schema: dict[str, Any] = {key: _stricter(value) for key, value in node.items()}
    kind = schema.get("type")
    if kind == "float":
        schema["allow_inf_nan"] = False  # no infinity from a very large integer
        return schema
    check: Callable[[object], object] | None = None
    if kind == "literal":
        check = _one_of(schema["expected"])
    elif kind == "enum":
        check = _one_of([member.value for member in schema["members"]])
    elif kind == "named-tuple":
        check = _array_of(schema["cls"])
    if check is None:
        return schema
    ref = schema.pop("ref", None)  # definitions are found by it: the wrapper holds it
    wrapped = dict(core_schema.no_info_before_validator_function(check, schema))
    if ref is not None:
        wrapped["ref"] = ref
    return wrapped


_SCALARS: Final = frozenset({str, int, float, bool})
"""The kinds of JSON values that a literal can be."""


def _value(expected: object) -> object:
    return expected.value if isinstance(expected, enum.Enum) else expected


def _one_of(values: Sequence[object]) -> Callable[[object], object]:
    """Return a check refusing JSON values equal to one of ``values`` in Python alone.

    Such as a boolean for a number, a number for a boolean, ``1.0`` for 1.
    """
    kinds = {type(_value(value)) for value in values}
    choices = _choices([_value(value) for value in values])
    members = {
        (type(value.value), value.value): value
        for value in values
        if isinstance(value, enum.Enum)
    }

    def check(value: object) -> object:
        kind = type(value)
        member = members.get((kind, value)) if kind in _SCALARS else None
        if member is not None:
            return member  # the value of a member stands for it, as in the schema
        if kind is bool and bool not in kinds:
            why = "a JSON `true` or `false` is no number"
        elif kind is int and kinds == {bool}:
            why = "a number is no JSON `true` or `false`"
        elif kind is float and float not in kinds and kinds & {int, bool}:
            why = "write the integer without a fraction"
        else:
            return value
        msg = f"Input should be {choices}; {why}"
        raise _refusal(msg, kind="literal_error")

    return check


def _choices(values: Sequence[object]) -> str:
    """Return ``values`` as JSON, joined with commas and a last ``or``."""
    written = [_json(value) for value in values]
    if len(written) == 1:
        return written[0]
    return f"{', '.join(written[:-1])} or {written[-1]}"


def _json(value: object) -> str:
    try:
        return json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)


def _array_of(named: type) -> Callable[[object], object]:
    """Return a check that refuses a JSON object for the named tuple ``named``."""
    fields = ", ".join(getattr(named, "_fields", ()))

    def check(value: object) -> object:
        if isinstance(value, dict):
            msg = (
                f"Input should be a JSON array of the items of `{named.__name__}` "
                f"in order ({fields}), not an object"
            )
            raise _refusal(msg, kind="tuple_type")
        return value

    return check


def _refusal(message: str, *, kind: str) -> PydanticCustomError:
    """Return an error of type ``kind``; its message as is (braces included)."""
    return PydanticCustomError(kind, "{message}", {"message": message})
