import ast
from pathlib import Path

import lightsplit

INIT = Path(lightsplit.__file__)


def test_all_is_sorted_and_complete() -> None:
    """``__all__`` lists every name ``__init__`` imports, sorted."""
    tree = ast.parse(INIT.read_text())
    imported = {
        alias.asname or alias.name
        for node in tree.body
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }
    assert lightsplit.__all__ == sorted(lightsplit.__all__)
    assert set(lightsplit.__all__) == imported


def test_names_resolve() -> None:
    """Every public name exists."""
    for name in lightsplit.__all__:
        assert getattr(lightsplit, name) is not None


def test_typed_package() -> None:
    """The package ships its PEP 561 marker."""
    assert (INIT.parent / "py.typed").is_file()
