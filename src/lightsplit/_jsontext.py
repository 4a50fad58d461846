"""JSON text for people: indented as ``json.dumps(value, indent=2)`` writes it.

Python's ``json`` writes indented text in Python, an item at a time, and
``lightsplit check --json`` on a split whose leaks list 84,000 entries spent
seconds there. Here the arrays and objects that hold no array or object (an
entry, a set's counts) are written by ``json``'s encoder in C, their items
separated by a line end and the indent of their depth; the rest is written as
``json`` writes it. The text is the same, character for character.
"""

import json
from functools import cache
from typing import Final, cast

__all__ = ["indented_json"]

_INDENT: Final = "  "
"""One level of indent."""

_SCALARS: Final = frozenset({str, int, float, bool, type(None)})
"""The types written as one JSON value, with no item of their own."""

_encode_string: Final = json.encoder.encode_basestring
"""Writes a string as JSON (not ASCII only), in C where Python has it."""


def indented_json(value: object) -> str:
    """Return ``json.dumps(value, indent=2, ensure_ascii=False)``, written faster.

    Raises:
        TypeError: for a value ``json`` cannot write, as ``json.dumps`` does.

    Examples:
        >>> print(indented_json({"set": "train", "entry": ["a.png", 0], "n": {}}))
        {
          "set": "train",
          "entry": [
            "a.png",
            0
          ],
          "n": {}
        }
    """
    parts: list[str] = []
    _write(value, 0, parts)
    return "".join(parts)


_PLAIN: Final = json.JSONEncoder(ensure_ascii=False)
"""Writes one value on one line, as ``json.dumps(value, ensure_ascii=False)``."""

_LONG: Final = 16
"""Items from which an array or object of scalars is written by the C encoder."""


@cache
def _long_encoder(depth: int) -> json.JSONEncoder:
    """Write an array or object's items one a line, at the indent of ``depth``."""
    inner = "\n" + _INDENT * (depth + 1)
    return json.JSONEncoder(ensure_ascii=False, separators=("," + inner, ": "))


def _scalar(value: object) -> str:
    """Write a string, number, ``true``, ``false`` or ``null`` as json does."""
    kind = type(value)
    if kind is str:
        return _encode_string(cast("str", value))
    if kind is int:
        return int.__repr__(value)
    if value is None:
        return "null"
    if kind is bool:
        return "true" if value else "false"
    return _PLAIN.encode(value)  # a float: NaN and infinities as json writes them


def _write(value: object, depth: int, parts: list[str]) -> None:
    """Append ``value`` written at ``depth`` (its first line not indented)."""
    kind = type(value)
    if kind in _SCALARS:
        parts.append(_scalar(value))
    elif kind is list or kind is tuple:
        _write_array(value, depth, parts)  # type: ignore[arg-type]  # an array
    elif kind is dict and all(type(key) is str for key in value):  # type: ignore[attr-defined]  # a dict
        _write_object(value, depth, parts)  # type: ignore[arg-type]
    else:  # keys that are no strings, objects of other types (which may fail):
        # as json writes them, every line after the first indented
        text = json.dumps(value, indent=2, ensure_ascii=False)
        parts.append(text.replace("\n", "\n" + _INDENT * depth))


def _long(
    value: list[object] | tuple[object, ...] | dict[str, object], depth: int
) -> str:
    """Write a long array or object of scalars by the C encoder: one item a line."""
    text = _long_encoder(depth).encode(value)
    inner = "\n" + _INDENT * (depth + 1)
    return f"{text[0]}{inner}{text[1:-1]}\n{_INDENT * depth}{text[-1]}"


def _write_array(
    items: list[object] | tuple[object, ...], depth: int, parts: list[str]
) -> None:
    if not items:
        parts.append("[]")
        return
    inner = "\n" + _INDENT * (depth + 1)
    end = "\n" + _INDENT * depth + "]"
    if all(type(item) in _SCALARS for item in items):
        if len(items) > _LONG:
            parts.append(_long(items, depth))
        else:
            parts.append("[" + inner + ("," + inner).join(map(_scalar, items)) + end)
        return
    parts.append("[")
    for number, item in enumerate(items):
        parts.append(inner if number == 0 else "," + inner)
        _write(item, depth + 1, parts)
    parts.append(end)


def _write_object(items: dict[str, object], depth: int, parts: list[str]) -> None:
    if not items:
        parts.append("{}")
        return
    if len(items) > _LONG and all(type(v) in _SCALARS for v in items.values()):
        parts.append(_long(items, depth))
        return
    inner = "\n" + _INDENT * (depth + 1)
    separator = "{" + inner
    for key, item in items.items():
        if type(item) in _SCALARS:
            parts.append(f"{separator}{_encode_string(key)}: {_scalar(item)}")
        else:
            parts.append(f"{separator}{_encode_string(key)}: ")
            _write(item, depth + 1, parts)
        separator = "," + inner
    parts.append("\n" + _INDENT * depth + "}")
