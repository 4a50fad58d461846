"""The settings of `DataModuleConfig` as data-module properties and constructor docs.

The settings are declared once, as the fields of `DataModuleConfig`. This module
derives from them what the data modules need: properties that read a setting
and re-validate on assignment, the configuration built from constructor
arguments, and the constructors' documentation of each setting (read by
``help()`` and by LightningCLI for its ``--help`` and ``--print_config``).
"""

import re
import textwrap
from collections.abc import Mapping
from typing import Final, Generic, Protocol, Self, TypeVar, cast, overload

from ._config import DataModuleConfig, setting_fix

__all__ = [
    "SETTING_NAMES",
    "Setting",
    "config_from_arguments",
    "document_settings",
    "misspelt_setting",
]

T = TypeVar("T")
ClassT = TypeVar("ClassT", bound=type)

SETTING_NAMES: Final = tuple(DataModuleConfig.model_fields)
"""Every setting, in the order of `DataModuleConfig`."""

_DOC_WIDTH: Final = 88

_ARGS_INDENT: Final = 8
"""The indent of an ``Args:`` entry in a class's docstring, as written."""


class _Configured(Protocol):
    """A data module: it holds a configuration and takes a new one."""

    @property
    def config(self) -> DataModuleConfig: ...

    @config.setter
    def config(self, value: DataModuleConfig) -> None: ...


def misspelt_setting(cls: type, name: str) -> str | None:
    """Say why assigning attribute ``name`` to a data module of ``cls`` is refused.

    A public name that is no attribute of ``cls`` and looks like a setting (a
    close spelling, or torch's ``num_workers``) would be a plain attribute that
    lightsplit never reads: a silently ignored setting. ``None`` for any other
    name, and for one that ``cls`` or a base declares (annotates) in its body.
    """
    if name.startswith("_") or hasattr(cls, name):
        return None
    if any(name in vars(base).get("__annotations__", {}) for base in cls.__mro__):
        return None
    fix = setting_fix(name)
    if fix is None:
        return None
    return (
        f"`{name}` is no setting of {cls.__name__}, and lightsplit would never "
        f"read it; {fix} (A subclass that wants an attribute `{name}` of its own "
        f"declares it in its class body: `{name}: ...`.)"
    )


def describe(name: str) -> str:
    """Return the documentation of setting ``name``, on one line."""
    return " ".join((DataModuleConfig.model_fields[name].description or "").split())


class Setting(Generic[T]):
    """One setting of a data module's `DataModuleConfig`, as a property.

    Reading it returns the configuration's value; assigning it replaces the
    configuration with a validated copy (``ValidationError`` if the value is not
    valid, leaving the data module as it was).
    """

    name: str

    def __set_name__(self, owner: type, name: str) -> None:
        if name not in DataModuleConfig.model_fields:
            msg = f"`{name}` is not a field of `DataModuleConfig`"
            raise TypeError(msg)
        self.name = name
        self.__doc__ = describe(name)

    @overload
    def __get__(self, module: None, owner: type) -> Self: ...
    @overload
    def __get__(self, module: _Configured, owner: type) -> T: ...
    def __get__(self, module: _Configured | None, owner: type) -> "Self | T":
        if module is None:
            return self
        return cast(T, getattr(module.config, self.name))  # the field's type

    def __set__(self, module: _Configured, value: T) -> None:
        # the typed `replace` takes literal names; this one comes from the field
        module.config = module.config._replaced({self.name: value})


def config_from_arguments(arguments: Mapping[str, object]) -> DataModuleConfig:
    """Validate the settings among a constructor's ``arguments`` into a configuration.

    Raises:
        ValidationError: for an invalid setting.
    """
    return DataModuleConfig.model_validate(
        {name: arguments[name] for name in SETTING_NAMES}
    )


def document_settings(cls: ClassT) -> ClassT:
    """Fill the ``Args:`` entries of ``cls``'s docstring that name settings.

    In the source, each setting's entry reads ``see `DataModuleConfig`.``; at run
    time it gets the field's own documentation, so that ``help()`` and
    LightningCLI show it.
    """
    doc = cls.__doc__ or ""
    for name in SETTING_NAMES:
        entry = re.compile(
            rf"^(?P<indent>[ ]+){name}: .*(?:\n(?P=indent)[ ]+.*)*$", re.M
        )
        match = entry.search(doc)
        if match is None:
            msg = f"`{cls.__name__}` does not document setting `{name}`"
            raise TypeError(msg)
        indent = match.group("indent")
        # Wrapped to a width of its own, then indented: the same lines whether
        # the docstring keeps its indent or Python removed it (3.13 on).
        lines = textwrap.wrap(
            f"{name}: {describe(name)}",
            width=_DOC_WIDTH - _ARGS_INDENT,
            subsequent_indent="    ",
        )
        text = "\n".join(indent + line for line in lines)
        doc = doc[: match.start()] + text + doc[match.end() :]
    cls.__doc__ = doc
    return cls
