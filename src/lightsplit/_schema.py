"""``split_json_schema``: the JSON Schema (draft 2020-12) of split files."""

from typing import Any, Final

from pydantic import JsonValue

from ._split import refuse_sample_type, sample_adapter
from ._types import SET_NAME_PATTERN

__all__ = ["JSON_SCHEMA_DIALECT", "split_json_schema"]

JSON_SCHEMA_DIALECT: Final = "https://json-schema.org/draft/2020-12/schema"
"""The ``$schema`` of every schema lightsplit exports."""


_SET_DESCRIPTIONS: Final = {
    "train": "The raw samples a model is trained on.",
    "validation": (
        "The raw samples a model is validated on while it trains (to choose a "
        "checkpoint or stop early)."
    ),
    "test": "The held-out raw samples a trained model is evaluated on.",
}
"""What each set of a fixed name holds, as the schema describes it."""

_SET_DEFINITION: Final = "set"
"""The name, in ``$defs``, of the schema of every set: an array of raw samples."""

_MONITOR_DESCRIPTION: Final = (
    "A `monitor-<name>` set: raw samples validated on beside `validation`, to "
    "follow them while training (a part of `train`, another site's images)."
)


def split_json_schema(sample_type: object = Any) -> dict[str, JsonValue]:
    r"""Return the JSON Schema that a split file of ``sample_type`` entries satisfies.

    A file validates against it exactly when `load_split` with the same
    ``sample_type`` accepts it, but for what JSON Schema cannot express: a
    duplicated key (which a JSON parser silently merges), an integral float
    such as ``1.0`` where an integer is expected (JSON Schema counts it as an
    integer; lightsplit does not), a number beyond a float's range (``1e400``),
    an escaped half of a surrogate pair (``"\ud800"``), nesting deeper than
    pydantic reads (about 200 levels), the ``format`` of strings (dates,
    UUIDs) where the validator does not assert formats, and constraints that
    validators apply in their own way (see "What the schema cannot check" in
    the docs on split files).

    Args:
        sample_type: the type of every raw sample, for example ``tuple[str, int]``.

    Returns:
        A draft 2020-12 JSON Schema, as a JSON-ready dictionary.

    Raises:
        TypeError: for a ``sample_type`` that `load_split` refuses too (``None``,
            a type holding a set, a type pydantic does not know).

    Examples:
        >>> schema = split_json_schema(tuple[str, int])
        >>> schema["$defs"]["set"]["items"]["prefixItems"]
        [{'type': 'string'}, {'type': 'integer'}]
    """
    refuse_sample_type(sample_type)
    # Wrapped in a list: models, dataclasses and TypedDicts take no outer config.
    adapter = sample_adapter(list[sample_type], sample_type)  # type: ignore[valid-type]  # the sample type is a runtime value
    wrapped = dict(adapter.json_schema())
    definitions = wrapped.pop("$defs", None)
    set_schema: dict[str, JsonValue] = {"type": "array", "items": wrapped["items"]}
    shared = definitions is None or _SET_DEFINITION not in definitions
    if shared:  # written once, referred to by each set (a model may be so named)
        definitions = {**(definitions or {}), _SET_DEFINITION: set_schema}

    def entries(description: str) -> dict[str, JsonValue]:
        if shared:
            return {"description": description, "$ref": f"#/$defs/{_SET_DEFINITION}"}
        return {"description": description, **set_schema}

    schema: dict[str, JsonValue] = {
        "$schema": JSON_SCHEMA_DIALECT,
        "title": "lightsplit database split",
        "description": (
            "Maps set names (`train`, `validation`, `test`, `monitor-<name>`) to "
            "arrays of raw samples."
        ),
        "type": "object",
        # `$` ends the name (ECMA-262); Python's `re` also lets it match before
        # a final line end, which the `not` refuses for validators using it
        "propertyNames": {"pattern": SET_NAME_PATTERN, "not": {"pattern": "\n"}},
        # named, for editors to offer them and describe them; the same array
        "properties": {name: entries(text) for name, text in _SET_DESCRIPTIONS.items()},
        "additionalProperties": entries(_MONITOR_DESCRIPTION),
    }
    if definitions is not None:
        schema["$defs"] = definitions
    return schema
