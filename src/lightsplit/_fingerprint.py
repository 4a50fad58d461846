"""Fingerprints that key persistent caches: entries, loaders and model transforms."""

import functools
import hashlib
import json
import types
from collections.abc import Iterable, Sequence
from itertools import chain
from typing import Final

import torch

from ._sample import ModelTransform
from ._sources import SetSource

__all__ = ["CACHE_FORMAT", "fingerprint_of", "set_key"]

CACHE_FORMAT: Final = 1
"""Version of the cache file format; part of every key."""


def _declared(obj: object) -> str | None:
    """Return the ``fingerprint`` an object declares (a string or a method), if any."""
    declared = getattr(obj, "fingerprint", None)
    if declared is None:
        return None
    return str(declared() if callable(declared) else declared)


def _code_digest(code: types.CodeType) -> str:
    digest = hashlib.sha256(code.co_code)
    for const in code.co_consts:
        nested = isinstance(const, types.CodeType)
        digest.update((_code_digest(const) if nested else repr(const)).encode())
    return digest.hexdigest()


def fingerprint_of(obj: object) -> str:
    """Return a string that changes when ``obj`` would transform or load differently.

    It holds the object's type, the code of its class's methods, its declared
    ``fingerprint`` (a string, or a method returning one: bump it when what it
    loads changes other than through its code), and its state: for a function,
    its qualified name, code, defaults, captured values and the module globals
    its code reads (a ``MEAN`` constant, say; a function of its module or a
    class read so, by its code; another module's function, by its name;
    modules left out); for a ``functools.partial``, its function and
    arguments; for a ``torch.nn.Module``, the class code and the attributes of
    it and of each of its submodules, and every parameter and buffer value; for
    a tensor or a NumPy array, its dtype, shape and every value (a ``repr``
    shortens large ones); for a list, tuple, dict or set, its items; otherwise
    its ``repr`` and those of its attributes that are or hold arrays (all its
    attributes when the ``repr`` shows an address; an object that shows only
    its address and has no attributes, such as a lock or a database
    connection, counts by its type alone, the same in every process).
    """
    return _fingerprint(obj, frozenset())


def _fingerprint(obj: object, seen: frozenset[int]) -> str:
    """`fingerprint_of`; ``seen`` holds the objects being fingerprinted, by id."""
    if id(obj) in seen:  # an object that leads back to itself
        return f"seen:{type(obj).__qualname__}"
    inner = seen | {id(obj)}
    declared = _declared(obj)
    kind = f"{type(obj).__module__}.{type(obj).__qualname__}"
    if declared is not None:
        kind = f"{kind}:{declared}"
    if isinstance(obj, types.FunctionType):
        closure = [_fingerprint(c.cell_contents, inner) for c in obj.__closure__ or ()]
        defaults = [_fingerprint(value, inner) for value in obj.__defaults__ or ()]
        name = f"{obj.__module__}.{obj.__qualname__}"
        code = _code_digest(obj.__code__)
        read = _globals_read(obj, inner)
        return f"function:{name}:{code}:{defaults}:{closure}:{read}"
    if isinstance(obj, functools.partial):
        arguments = [_fingerprint(value, inner) for value in obj.args]
        keywords = {k: _fingerprint(value, inner) for k, value in obj.keywords.items()}
        return f"partial:{_fingerprint(obj.func, inner)}:{arguments}:{keywords}"
    data = _data(obj, inner)
    if data is not None:
        return f"{kind}:{data}"
    text = repr(obj)
    if hasattr(obj, "__dict__"):
        state = vars(obj).items()
        if " at 0x" in text:  # a repr that shows no state: the attributes
            text = _attributes(state, inner)
        else:  # its repr, and what a repr shortens: arrays
            arrays = [(name, value) for name, value in state if _holds_array(value)]
            text = f"{text}:{_attributes(arrays, inner)}"
    elif " at 0x" in text:  # no state shown, no attributes: a lock, a connection
        # counted by its type (and slots): its address differs in every process
        text = _attributes(_slots(obj), inner)
    return f"{kind}:{_class_digest(type(obj))}:{text}"


def _slots(obj: object) -> list[tuple[str, object]]:
    """Return the attributes an object holds in ``__slots__``, by name."""
    found: list[tuple[str, object]] = []
    for cls in type(obj).__mro__:
        names = getattr(cls, "__slots__", ())
        found.extend(
            (name, getattr(obj, name))
            for name in ((names,) if isinstance(names, str) else names)
            if hasattr(obj, name) and name not in {"__dict__", "__weakref__"}
        )
    return found


def _holds_array(value: object) -> bool:
    """Whether ``value`` is, or directly holds, a tensor or a NumPy array."""
    items: Iterable[object] = (value,)
    if isinstance(value, list | tuple | set | frozenset):
        items = chain(items, value)
    elif isinstance(value, dict):
        items = chain(items, value.values())
    return any(isinstance(item, torch.Tensor) or _is_array(item) for item in items)


def _is_array(value: object) -> bool:
    """Whether ``value`` is a NumPy array (NumPy is not imported for it)."""
    return type(value).__module__ == "numpy" and hasattr(value, "tobytes")


def _data(obj: object, seen: frozenset[int]) -> str | None:
    """Fingerprint values, modules and containers by what they hold, else ``None``."""
    found: str | None = None
    if isinstance(obj, torch.Tensor):
        found = _tensor_digest(obj)
    elif _is_array(obj):
        found = _array_digest(obj)
    elif isinstance(obj, torch.nn.Module):
        found = _module_digest(obj, seen)
    elif isinstance(obj, _PLAIN):
        found = repr(obj)
    elif isinstance(obj, list | tuple):
        plain = all(type(item) in _PLAIN for item in obj)  # a list of paths, say
        items = obj if plain else [_fingerprint(item, seen) for item in obj]
        found = repr(list(items))
    elif isinstance(obj, dict):
        plain = all(type(v) in _PLAIN for v in obj.values())  # a table of labels
        pairs = (
            (repr(k), v if plain else _fingerprint(v, seen)) for k, v in obj.items()
        )
        found = repr(sorted(pairs))
    elif isinstance(obj, set | frozenset):
        found = repr(sorted(_fingerprint(item, seen) for item in obj))
    return found


_PLAIN: Final = (str, bytes, int, float, complex, bool, type(None))
"""Types whose ``repr`` is their whole value, written in full."""

_MODULE_INTERNALS: Final = frozenset(vars(torch.nn.Module()))
"""The attributes every module has (its hooks, its `training` flag, the dicts
of its parameters, buffers and submodules), left out of its attributes."""


def _attributes(attributes: Iterable[tuple[str, object]], seen: frozenset[int]) -> str:
    """Fingerprint attributes, sorted by name."""
    return repr(sorted((name, _fingerprint(value, seen)) for name, value in attributes))


def _module_digest(module: torch.nn.Module, seen: frozenset[int]) -> str:
    """Digest a module: the code and attributes of it and of its submodules.

    And its parameter and buffer values, non-persistent buffers included.
    """
    digest = hashlib.sha256()
    for name, submodule in module.named_modules(remove_duplicate=False):
        own = (
            (key, value)
            for key, value in vars(submodule).items()
            if key not in _MODULE_INTERNALS
        )
        kind = f"{type(submodule).__module__}.{type(submodule).__qualname__}"
        code = _class_digest(type(submodule))
        digest.update(f"{name}:{kind}:{code}:{_attributes(own, seen)}".encode())
    tensors = chain(
        module.named_parameters(remove_duplicate=False),
        module.named_buffers(remove_duplicate=False),
    )
    for name, tensor in tensors:
        digest.update(f"{name}={_tensor_digest(tensor)}".encode())
    return digest.hexdigest()


def _tensor_digest(tensor: torch.Tensor) -> str:
    """Digest a tensor's dtype, shape and values."""
    digest = hashlib.sha256(f"{tensor.dtype}:{tuple(tensor.shape)}".encode())
    values = tensor.detach().cpu()
    try:
        digest.update(
            values.contiguous().reshape(-1).view(torch.uint8).numpy().tobytes()
        )
    except (RuntimeError, TypeError, ValueError):  # sparse, quantized, no NumPy
        digest.update(repr(values.tolist()).encode())
    return digest.hexdigest()


def _array_digest(array: object) -> str:
    """Digest a NumPy array's dtype, shape and values (objects by their items)."""
    dtype = getattr(array, "dtype", None)
    header = f"{dtype}:{getattr(array, 'shape', None)}"
    digest = hashlib.sha256(header.encode())
    if getattr(dtype, "hasobject", True):  # pointers: the items instead
        digest.update(repr(array.tolist()).encode())  # type: ignore[attr-defined]  # an array
    else:
        digest.update(array.tobytes())  # type: ignore[attr-defined]  # an array
    return digest.hexdigest()


def _names(code: types.CodeType) -> set[str]:
    """Return the names ``code`` (and the code nested in it) reads or calls."""
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _names(const)
    return names


def _globals_read(function: types.FunctionType, seen: frozenset[int]) -> list[str]:
    """Fingerprint the module globals ``function`` reads, modules left out."""
    found = []
    namespace = function.__globals__
    for name in sorted(_names(function.__code__)):
        if name not in namespace:
            continue  # an attribute, or a builtin
        value = namespace[name]
        if isinstance(value, types.ModuleType):
            continue
        if isinstance(value, type):
            text = f"{value.__module__}.{value.__qualname__}:{_class_digest(value)}"
        elif (
            isinstance(value, types.FunctionType | types.BuiltinFunctionType)
            and value.__module__ != function.__module__
        ):  # a library's function: by name, not through all that it reads
            text = f"{value.__module__}.{value.__qualname__}"
        else:
            text = _fingerprint(value, seen)
        found.append(f"{name}={text}")
    return found


def _class_digest(cls: type) -> str:
    """Digest the code of the methods a class and its bases define in Python."""
    digest = hashlib.sha256()
    for klass in cls.__mro__:
        for name, attribute in sorted(vars(klass).items()):
            if isinstance(attribute, types.FunctionType):
                digest.update(f"{klass.__qualname__}.{name}".encode())
                digest.update(_code_digest(attribute.__code__).encode())
    return digest.hexdigest()


def set_key(source: SetSource, transforms: Sequence[ModelTransform]) -> str:
    """Return the cache key of a set: its entries, loaders and model transforms."""
    digest = hashlib.sha256(f"lightsplit-cache:{CACHE_FORMAT}:{source.name}".encode())
    for samples, loader in source.parts:
        digest.update(fingerprint_of(loader).encode())
        digest.update(json.dumps(list(samples), default=repr).encode())
    for transform in transforms:
        digest.update(fingerprint_of(transform).encode())
    return digest.hexdigest()
