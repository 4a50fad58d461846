"""``parse_type_expression``: sample types from the command line, without ``eval``."""

import ast
import functools
import operator
from collections.abc import Mapping
from types import GenericAlias
from typing import Any, Final

__all__ = ["ALLOWED_TYPES", "parse_type_expression"]

ALLOWED_TYPES: Final = (
    "`str`, `int`, `float`, `bool`, `None`, `Any`, `list[T]`, `tuple[T1, T2]`, "
    "`tuple[T, ...]`, `dict[str, T]` and unions `T1 | T2`"
)
"""What a type expression may use, for help texts and error messages."""

_MAX_CHARS: Final = 1000
"""Longest expression accepted: no real sample type comes near it."""

_SCALARS: Final[Mapping[str, object]] = {
    "str": str,
    "int": int,
    "float": float,
    "bool": bool,
    "None": None,
    "Any": Any,
}
_GENERICS: Final[Mapping[str, type]] = {"list": list, "tuple": tuple, "dict": dict}
_ARITY: Final[Mapping[str, int]] = {"list": 1, "dict": 2}


class _RefusedError(ValueError):
    """A part of the expression that is not one of the allowed forms."""

    def __init__(self, node: ast.expr, reason: str) -> None:
        super().__init__(f"`{ast.unparse(node)}` {reason}")
        self.node = node
        self.reason = reason


def _is_ellipsis(node: ast.expr) -> bool:
    return (isinstance(node, ast.Constant) and node.value is Ellipsis) or (
        isinstance(node, ast.Name) and node.id == "Ellipsis"
    )


def _subscript(node: ast.Subscript) -> object:
    """Evaluate ``list[T]``, ``tuple[...]`` or ``dict[str, T]``."""
    if not isinstance(node.value, ast.Name) or node.value.id not in _GENERICS:
        known = isinstance(node.value, ast.Name) and node.value.id in _SCALARS
        raise _RefusedError(
            node.value, "takes no `[...]`" if known else "is not allowed"
        )
    name = node.value.id
    items = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
    if name == "tuple":
        if len(items) == 2 and _is_ellipsis(items[1]):  # noqa: PLR2004 - tuple[T, ...]
            return GenericAlias(tuple, (_evaluate(items[0]), ...))
        if not items:
            raise _RefusedError(node, "has no item type")
    elif len(items) != _ARITY[name]:
        expected = "one type" if _ARITY[name] == 1 else "two types"
        raise _RefusedError(node, f"needs {expected} in `[...]`")
    elif name == "dict" and not (
        isinstance(items[0], ast.Name) and items[0].id == "str"
    ):
        raise _RefusedError(
            items[0], "is not allowed as a key type: JSON object keys are strings"
        )
    return GenericAlias(_GENERICS[name], tuple(_evaluate(item) for item in items))


def _evaluate(node: ast.expr) -> object:
    """Return the type ``node`` stands for, refusing anything not allowed."""
    if isinstance(node, ast.Constant) and node.value is None:
        return None
    if isinstance(node, ast.Name) and node.id in _SCALARS:
        return _SCALARS[node.id]
    if isinstance(node, ast.Name) and node.id in _GENERICS:
        return _GENERICS[node.id]
    if isinstance(node, ast.Subscript):
        return _subscript(node)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        members = [_evaluate(node.left), _evaluate(node.right)]
        as_types = [type(None) if member is None else member for member in members]
        return functools.reduce(operator.or_, as_types)
    if _is_ellipsis(node):
        raise _RefusedError(node, "is only allowed as the last item of `tuple[T, ...]`")
    raise _RefusedError(node, "is not allowed")


def parse_type_expression(text: str) -> object:
    """Return the sample type that ``text`` writes, such as ``tuple[str, int]``.

    The text is parsed, never run: only builtin scalar types, ``None``, ``Any``,
    ``list``, ``tuple``, ``dict`` and ``|`` unions are understood.

    Args:
        text: a Python type expression.

    Returns:
        The type, ready for `load_split` and `split_json_schema`.

    Raises:
        ValueError: naming the part of ``text`` that is not allowed and listing
            what is.

    Examples:
        >>> parse_type_expression("tuple[str, int]")
        tuple[str, int]
        >>> parse_type_expression("tuple[str, list[int] | None]")
        tuple[str, list[int] | None]
        >>> parse_type_expression("tuple[str, bytes]")
        Traceback (most recent call last):
        ...
        ValueError: type expression `tuple[str, bytes]`: `bytes` is not allowed; \
write one from `str`, `int`, `float`, `bool`, `None`, `Any`, `list[T]`, \
`tuple[T1, T2]`, `tuple[T, ...]`, `dict[str, T]` and unions `T1 | T2`
    """
    fix = f"; write one from {ALLOWED_TYPES}"
    if len(text) > _MAX_CHARS:
        msg = f"type expression of {len(text)} characters is too long{fix}"
        raise ValueError(msg)
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        msg = f"type expression `{text}` is not a Python expression ({exc.msg}){fix}"
        raise ValueError(msg) from exc
    try:
        return _evaluate(tree.body)
    except _RefusedError as exc:
        problem = f" {exc.reason}" if exc.node is tree.body else f": {exc}"
        msg = f"type expression `{text}`{problem}{fix}"
        raise ValueError(msg) from exc
    except RecursionError as exc:  # pragma: no cover - needs a deeply nested text
        msg = f"type expression `{text}` is nested too deeply{fix}"
        raise ValueError(msg) from exc
