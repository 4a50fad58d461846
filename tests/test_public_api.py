import ast
import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

import lightsplit

INIT = Path(lightsplit.__file__)

HEAVY = ("torch", "lightning", "lightning_fabric", "pytorch_lightning", "pydantic")
"""Top-level packages that ``import lightsplit`` alone must leave unimported."""

IMPORT_ALONE = f"""
import json, sys
import lightsplit
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in {HEAVY!r})))
"""


def _type_checking_imports() -> dict[str, str]:
    """Return name -> module of the imports under ``if TYPE_CHECKING:``."""
    tree = ast.parse(INIT.read_text())
    [block] = [
        node
        for node in tree.body
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING"
    ]
    return {
        alias.asname or alias.name: str(node.module)
        for node in block.body
        if isinstance(node, ast.ImportFrom) and node.level == 1
        for alias in node.names
    }


def _defined_names(path: Path) -> set[str]:
    """Return the names that the top level of a module defines (not imports)."""
    names: set[str] = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.ClassDef | ast.FunctionDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(t.id for t in targets if isinstance(t, ast.Name))
    return names


class TestExports:
    def test_all_is_sorted(self) -> None:
        """``__all__`` is sorted."""
        assert lightsplit.__all__ == sorted(lightsplit.__all__)

    def test_table_matches_all(self) -> None:
        """Every name of ``__all__`` has a module in the table, and nothing else."""
        exports = lightsplit._EXPORTS
        assert [name for name in lightsplit.__all__ if name not in exports] == []
        assert [name for name in exports if name not in lightsplit.__all__] == []

    def test_type_checking_imports_match_table(self) -> None:
        """Type checkers see each public name from the module the table names."""
        assert _type_checking_imports() == dict(lightsplit._EXPORTS)

    @pytest.mark.parametrize("name", lightsplit.__all__)
    def test_name_resolves_to_its_definition(self, name: str) -> None:
        """Each public name is the object its module defines and exports."""
        module = importlib.import_module(f"lightsplit.{lightsplit._EXPORTS[name]}")
        assert name in _defined_names(Path(str(module.__file__)))
        assert name in module.__all__
        value: object = getattr(lightsplit, name)
        assert value is getattr(module, name)
        assert getattr(lightsplit, name) is value  # kept after the first use

    def test_from_import(self) -> None:
        """``from lightsplit import X`` imports X from its module."""
        from lightsplit import CachingDataModule  # noqa: PLC0415 - the point
        from lightsplit._datamodule import (  # noqa: PLC0415 - the point
            CachingDataModule as Defined,
        )

        assert CachingDataModule is Defined

    def test_unknown_name(self) -> None:
        """An unknown name raises ``AttributeError``, as for any module."""
        with pytest.raises(AttributeError) as exc_info:
            _ = lightsplit.Missing  # type: ignore[attr-defined]  # the point of the test
        assert str(exc_info.value) == "module 'lightsplit' has no attribute 'Missing'"
        assert (exc_info.value.name, exc_info.value.obj) == ("Missing", lightsplit)
        with pytest.raises(ImportError, match="cannot import name 'Missing'"):
            from lightsplit import Missing  # type: ignore[attr-defined]  # noqa: F401, PLC0415

    def test_dir_lists_public_names(self) -> None:
        """``dir(lightsplit)`` lists every public name and ``__version__``."""
        names = dir(lightsplit)
        assert names == sorted(names)
        assert set(lightsplit.__all__) | {"__version__"} <= set(names)
        # what the package imports to load the others is no public name
        assert not {"Final", "Mapping", "TYPE_CHECKING", "importlib", "sys"} & set(
            names
        )
        assert {name for name in names if not name.startswith("__")} == set(
            lightsplit.__all__
        )

    def test_version(self) -> None:
        """The package states its version."""
        assert lightsplit.__version__ == "0.1.0"


def test_import_is_light() -> None:
    """``import lightsplit`` alone imports neither torch, Lightning nor pydantic."""
    result = subprocess.run(
        [sys.executable, "-c", IMPORT_ALONE],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(result.stdout) == []


def test_typed_package() -> None:
    """The package ships its PEP 561 marker."""
    assert (INIT.parent / "py.typed").is_file()
