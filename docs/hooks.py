"""The configuration reference, made from ``DataModuleConfig``: written, checked.

``docs/configuration.md`` holds, between pairs of markers, text made from the
pydantic model itself, so that the page reads whole where Markdown is shown
as it is (a clone, a repository's web page):

- ``<!-- lightsplit:config-fields -->``: one table row per field (name, type,
  default, constraints, description), from ``model_fields`` and
  ``model_json_schema()``.
- ``<!-- lightsplit:config-properties -->``: the derived, read-only properties.
- ``<!-- lightsplit:config-schema -->``: the model's JSON Schema.

Each block ends at ``<!-- /lightsplit:config-... -->``. Run as a script
(``.venv/bin/python docs/hooks.py``), this module writes the blocks again; as
an MkDocs hook, it fails the build when a block differs from what the model
gives, so that the reference cannot drift from the code.


The model is imported from ``src/lightsplit/_config.py`` under a private package
name, without running ``lightsplit/__init__.py``: that would import torch and
Lightning and add seconds to every build, for a module that needs only pydantic.
"""

import importlib
import importlib.util
import json
import re
import sys
from pathlib import Path
from types import ModuleType, UnionType
from typing import Annotated, Final, Union, get_args, get_origin

from mkdocs.exceptions import PluginError
from mkdocs.structure.pages import Page
from pydantic import BaseModel, Strict
from pydantic.fields import FieldInfo

PAGE: Final = "configuration.md"
FIELDS_MARKER: Final = "<!-- lightsplit:config-fields -->"
PROPERTIES_MARKER: Final = "<!-- lightsplit:config-properties -->"
SCHEMA_MARKER: Final = "<!-- lightsplit:config-schema -->"

_PACKAGE_DIR: Final = Path(__file__).resolve().parent.parent / "src" / "lightsplit"
_ALIAS: Final = "_lightsplit_docs"

# JSON Schema keyword -> how the constraint reads in the table.
_CONSTRAINTS: Final = {
    "minimum": "≥ {}",
    "exclusiveMinimum": "> {}",
    "maximum": "≤ {}",
    "exclusiveMaximum": "< {}",
    "multipleOf": "multiple of {}",
    "minLength": "at least {} characters",
    "maxLength": "at most {} characters",
    "pattern": "matches `{}`",
    "minItems": "at least {} items",
    "maxItems": "at most {} items",
}


def _config_module() -> ModuleType:
    """Import ``lightsplit._config`` alone (pydantic only, no torch)."""
    if _ALIAS not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            _ALIAS,
            _PACKAGE_DIR / "__init__.py",
            submodule_search_locations=[str(_PACKAGE_DIR)],
        )
        if spec is None:  # pragma: no cover - the file is part of the repository
            msg = f"cannot find the lightsplit sources in {_PACKAGE_DIR}"
            raise PluginError(msg)
        # The package is registered but its __init__ is not run.
        sys.modules[_ALIAS] = importlib.util.module_from_spec(spec)
    return importlib.import_module(f"{_ALIAS}._config")


def _model() -> type[BaseModel]:
    model: type[BaseModel] = _config_module().DataModuleConfig
    return model


def _cell(text: str) -> str:
    """Return ``text`` on one line, safe inside a Markdown table cell."""
    return " ".join(text.split()).replace("|", "\\|")


def _first_paragraph(doc: str | None) -> str:
    paragraphs = (doc or "").strip().split("\n\n")
    return _cell(paragraphs[0])


def _type_name(annotation: object) -> str:
    if annotation is type(None):
        return "None"
    if isinstance(annotation, type):
        return annotation.__name__
    if get_origin(annotation) is Annotated:  # validators and bounds: not the type
        return _type_name(get_args(annotation)[0])
    if get_origin(annotation) in (Union, UnionType):
        return " | ".join(_type_name(arg) for arg in get_args(annotation))
    return str(annotation).replace("typing.", "")


def _strictness(field: FieldInfo, *, model_strict: bool) -> str | None:
    """Say how ``field`` departs from the model's strictness, if it does."""
    strict = model_strict
    for item in field.metadata:
        if isinstance(item, Strict):
            strict = item.strict
    if strict == model_strict:
        return None
    return "strict" if strict else "not strict: converts compatible values"


def _constraints(schema: dict[str, object], strictness: str | None) -> str:
    """Say the bounds of ``schema``, or of the forms of an optional field's."""
    forms = schema.get("anyOf")
    schemas = [schema, *(forms if isinstance(forms, list) else [])]
    found = [
        template.format(form[key]).replace("1 characters", "1 character")
        for form in schemas
        for key, template in _CONSTRAINTS.items()
        if key in form
    ]
    if strictness is not None:
        found.append(strictness)
    return ", ".join(found) or "—"


def fields_table(model: type[BaseModel]) -> str:
    """Return the Markdown table of the fields of ``model``."""
    properties = model.model_json_schema()["properties"]
    settings: dict[str, object] = dict(model.model_config)
    model_strict = bool(settings.get("strict", False))
    rows = [
        "| Field | Type | Default | Constraints | Description |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name, field in model.model_fields.items():
        default = "required" if field.is_required() else f"`{field.default!r}`"
        strictness = _strictness(field, model_strict=model_strict)
        rows.append(
            f"| `{name}` | `{_type_name(field.annotation)}` | {default} | "
            f"{_constraints(properties[name], strictness)} | "
            f"{_cell(field.description or '')} |"
        )
    rules = [
        f"`{key}={settings[key]!r}`"
        for key in ("strict", "frozen", "extra")
        if key in settings
    ]
    if rules:
        rows += ["", f"Model settings: {', '.join(rules)}."]
    return "\n".join(rows)


def properties_table(model: type[BaseModel]) -> str:
    """Return the Markdown table of the public read-only properties of ``model``."""
    rows = ["| Property | Type | Description |", "| --- | --- | --- |"]
    for name, value in vars(model).items():
        if name.startswith("_") or not isinstance(value, property):
            continue
        returns = getattr(value.fget, "__annotations__", {}).get("return", object)
        summary = _first_paragraph(value.__doc__)
        rows.append(f"| `{name}` | `{_type_name(returns)}` | {summary} |")
    return "\n".join(rows)


def schema_block(model: type[BaseModel]) -> str:
    """Return the JSON Schema of ``model`` as a fenced code block."""
    return "```json\n" + json.dumps(model.model_json_schema(), indent=2) + "\n```"


def filled(markdown: str) -> str:
    """Return ``markdown`` with each block between markers made again."""
    model = _model()
    for marker, render in (
        (FIELDS_MARKER, fields_table),
        (PROPERTIES_MARKER, properties_table),
        (SCHEMA_MARKER, schema_block),
    ):
        markdown = _fill_block(markdown, marker, render(model))
    return markdown


def on_page_markdown(
    markdown: str,
    /,
    *,
    page: Page,
    **_: object,  # config and files: not needed
) -> str:
    """Fail the build where the blocks of ``configuration.md`` are out of date."""
    if page.file.src_uri == PAGE and filled(markdown) != markdown:
        msg = (
            f"{PAGE}: the configuration reference differs from DataModuleConfig; "
            "write it again with `.venv/bin/python docs/hooks.py`"
        )
        raise PluginError(msg)
    return markdown


def _fill_block(markdown: str, marker: str, text: str) -> str:
    """Put ``text`` between ``marker`` and its end marker, indented as they are."""
    end = marker.replace("<!-- ", "<!-- /", 1)
    pattern = re.compile(
        rf"^([ \t]*){re.escape(marker)}[ \t]*\n.*?^[ \t]*{re.escape(end)}[ \t]*$",
        re.MULTILINE | re.DOTALL,
    )
    match = pattern.search(markdown)
    if match is None:
        msg = f"{PAGE}: the lines {marker} and {end} are missing; the reference needs them"  # noqa: E501
        raise PluginError(msg)
    indent = match.group(1)
    lines = [marker, *text.splitlines(), end]
    indented = "\n".join(indent + line if line else line for line in lines)
    return markdown[: match.start()] + indented + markdown[match.end() :]


if __name__ == "__main__":
    page = Path(__file__).with_name(PAGE)
    page.write_text(filled(page.read_text(encoding="utf-8")), encoding="utf-8")
