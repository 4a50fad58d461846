"""Fingerprints that key persistent caches: entries, loaders and model transforms."""

import functools
import hashlib
import json
import types
from collections.abc import Sequence
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
    arguments; for a ``torch.nn.Module``, its ``repr`` and its parameter and
    buffer values; otherwise its ``repr`` (or its attributes, when the ``repr``
    only shows an address).
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
    if isinstance(obj, torch.nn.Module):
        digest = hashlib.sha256()
        for name, tensor in obj.state_dict().items():
            digest.update(name.encode())
            digest.update(repr(tensor.detach().cpu().tolist()).encode())
        return f"{kind}:{obj!r}:{digest.hexdigest()}"
    text = repr(obj)
    if " at 0x" in text and hasattr(obj, "__dict__"):
        text = repr(
            sorted(
                (key, _fingerprint(value, inner)) for key, value in vars(obj).items()
            )
        )
    return f"{kind}:{_class_digest(type(obj))}:{text}"


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
