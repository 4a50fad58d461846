"""Where lightsplit writes: files written whole, and the sidecar of a split file."""

import dataclasses
import json
import os
import shlex
import stat
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Final

from ._entries import EntryFields, FieldName, compile_group_pattern, parse_field
from ._errors import printable

__all__ = [
    "RECORDED_FIELDS",
    "SIDECAR_SUFFIX",
    "clashing",
    "column_named",
    "fields_said",
    "is_sidecar_document",
    "is_special_file",
    "named_columns",
    "read_sidecar",
    "recorded_columns",
    "recorded_fields",
    "same_file",
    "sidecar_of",
    "sidecar_path",
    "sidecar_record",
    "write_bytes",
]

SIDECAR_SUFFIX: Final = ".lightsplit.json"
"""Added to a split file's name to name its sidecar file."""

RECORDED_FIELDS: Final = (
    "group_pattern",
    "group_field",
    "path_field",
    "label_field",
    "label_separator",
)
"""The fields of `EntryFields` a sidecar records, as `recorded_fields` reads them."""


def same_file(path: Path, other: Path) -> bool:
    """Whether ``path`` and ``other`` name one file (through links, too)."""
    try:
        return path.resolve() == other.resolve() or (
            path.exists() and other.exists() and path.samefile(other)
        )
    except (OSError, RuntimeError):  # a link loop: no file to overwrite
        return False


def clashing(split: Path, named: str, other: Path) -> str | None:
    """Say whether the file ``other`` is the split file ``split`` or its sidecar.

    Returns ``named`` (what ``split`` is, ``"the split file"``), ``"its sidecar"``,
    or ``None`` when ``other`` is neither.
    """
    paths = ((split, named), (sidecar_path(split), "its sidecar"))
    return next((what for path, what in paths if same_file(path, other)), None)


def sidecar_path(split_path: Path) -> Path:
    """Return the sidecar file of ``split_path``.

    Examples:
        >>> sidecar_path(Path("folds/fold-0.json")).as_posix()
        'folds/fold-0.json.lightsplit.json'
    """
    return split_path.with_name(split_path.name + SIDECAR_SUFFIX)


def sidecar_of(split_path: Path) -> Path:
    """Return the sidecar file that describes ``split_path``, to read it.

    Its own (`sidecar_path`); else, for a compressed split ``X.bz2`` without
    one, the sidecar of ``X``: a split compressed after ``lightsplit split``
    wrote it keeps its content hash, which that sidecar records (`check` and
    `card` warn when the hashes differ). Its own when neither exists.

    Examples:
        >>> sidecar_of(Path("split.json.bz2")).name  # neither exists here
        'split.json.bz2.lightsplit.json'
    """
    own = sidecar_path(split_path)
    if own.exists() or split_path.suffix.lower() != ".bz2":
        return own
    uncompressed = sidecar_path(split_path.with_suffix(""))
    return uncompressed if uncompressed.exists() else own


def is_sidecar_document(document: object) -> bool:
    """Whether a JSON document is a sidecar's: an object with a `lightsplit` key.

    No split file holds that key: it is no set name.
    """
    return isinstance(document, dict) and "lightsplit" in document


def sidecar_record(path: Path) -> dict[str, object] | None:
    """Return what the sidecar file at ``path`` holds, read as plain JSON.

    ``None`` when there is no such file, or it holds no sidecar's document.
    """
    return read_sidecar(path)[0]


def read_sidecar(path: Path) -> tuple[dict[str, object] | None, str | None]:
    """Return what the sidecar file at ``path`` holds, and why it gives nothing.

    The first as `sidecar_record` reads it. The second is ``None`` when there
    is no such file, or it holds a sidecar's document whose group and fields
    `recorded_fields` reads: a sidecar cut short or overwritten would
    otherwise drop, unsaid, the group pattern or field that `check` reads.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None, None
    except OSError as exc:
        return None, f"its sidecar file {path} cannot be read: {exc.strerror or exc}"
    try:
        document = json.loads(data)
    except ValueError as exc:
        return None, _unwritten(path, f"it is no JSON ({exc})")
    if not (isinstance(document, dict) and is_sidecar_document(document)):
        return None, _unwritten(path, "it holds no `lightsplit` key")
    why = _grouping_problem(document)
    return document, None if why is None else _unwritten(path, why)


def _unwritten(path: Path, why: str) -> str:
    """Say that the sidecar file at ``path`` is not one `split` writes, and why."""
    return f"its sidecar file {path} is not one that `lightsplit split` writes: {why}"


def _grouping_problem(document: Mapping[str, object]) -> str | None:
    """Say why a sidecar's group and fields cannot be read (`recorded_fields`)."""
    if "group_pattern" not in document and "group_field" not in document:
        return "it records neither `group_pattern` nor `group_field`"
    pattern = document.get("group_pattern")
    if pattern is not None:
        if not isinstance(pattern, str):
            shown = json.dumps(pattern)
            return f"its `group_pattern` is {shown}, no regular expression"
        try:
            compile_group_pattern(pattern)
        except ValueError as exc:
            return f"its `group_pattern`: {exc}"
    for name in ("group_field", "path_field", "label_field"):
        value = document.get(name)
        if value is not None and _field_of(value) is None:
            return (
                f"its `{name}` is {json.dumps(value)}, neither a position (0, 1, "
                "...) nor a key"
            )
    if pattern is not None and document.get("group_field") is not None:
        return "it records both a `group_pattern` and a `group_field`"
    return None


def is_special_file(path: Path) -> bool:
    """Whether ``path`` is (or links to) something other than a file or folder.

    A device (``/dev/null``), a pipe (``/dev/stdout`` in a pipeline) or a
    socket: written straight through, never replaced.
    """
    try:
        mode = path.stat().st_mode  # through links
    except OSError:  # missing (or unreadable): a file is made
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


def write_bytes(
    path: Path, data: bytes, *, check: Callable[[Path], None] | None = None
) -> None:
    """Write ``data`` to ``path`` whole: to a file next to it, then renamed.

    The file written first is named like ``path`` (a hidden name with the same
    suffix, so that a reader choosing by suffix reads it as ``path``) and made by
    ``open``, unlike ``mkstemp``, so that it gets the permissions of any new
    file. ``check``, given that file, may raise to leave ``path`` untouched.

    A symbolic link stays one: the file it names is written. A device or a pipe
    (`is_special_file`) is written straight through, as a shell's ``>``
    would, after ``check`` (of a temporary file) passed: renaming a file over
    it would replace ``/dev/null`` itself.

    Raises:
        OSError: if the file cannot be written.
    """
    if is_special_file(path):
        if check is not None:
            import tempfile  # noqa: PLC0415 - rarely: its import slows every command

            with tempfile.TemporaryDirectory(prefix="lightsplit-") as folder:
                checked = Path(folder, f"checked{path.suffix}")
                checked.write_bytes(data)
                check(checked)
        with path.open("wb") as file:
            file.write(data)
        return
    if path.is_symlink():
        path = path.resolve()  # the file it names, made if missing
    written = path.with_name(f".{path.name}.{os.urandom(4).hex()}{path.suffix}")
    try:
        with written.open("xb") as file:
            file.write(data)
        if check is not None:
            check(written)
        written.replace(path)
    finally:
        written.unlink(missing_ok=True)


def recorded_fields(
    document: Mapping[str, object] | None, fields: EntryFields
) -> EntryFields:
    """Complete ``fields`` with those a sidecar records, if any.

    ``document`` is what the sidecar holds (`sidecar_record`), ``None``
    without one.

    A split made by ``lightsplit split --group-pattern`` (or ``--group-field``)
    is checked by patient without the option given again, by `check` and
    `card` alike; a group pattern or field given wins over both the sidecar's,
    and a field given for one role (``--path-field 1``) is not read for another
    by the sidecar's word (its label field 1).
    A sidecar that is no JSON object of lightsplit's, whose pattern is no
    regular expression, or that records both a pattern and a group field,
    gives nothing (`card` says why); one that holds more than lightsplit
    writes (a key of a later version, a note) still gives the fields it
    records.
    """
    if document is None:
        return fields
    found: dict[str, Any] = {}
    pattern = document.get("group_pattern")
    group_field = _field_of(document.get("group_field"))
    if not fields.grouped:
        if isinstance(pattern, str) and group_field is not None:
            return fields
        if isinstance(pattern, str):
            try:
                found["group_pattern"] = compile_group_pattern(pattern)
            except ValueError:
                return fields
        elif group_field is not None:
            found["group_field"] = group_field
    for name in ("path_field", "label_field"):
        value = _field_of(document.get(name))
        if getattr(fields, name) is None and value is not None:
            found[name] = value
    # a field given is not read for another role as well, by the sidecar's word
    taken = {fields.path_field, fields.label_field, fields.group_field} - {None}
    found = {
        name: value
        for name, value in found.items()
        if name == "group_pattern" or value not in taken
    }
    separator = document.get("label_separator")
    if fields.label_separator is None and isinstance(separator, str) and separator:
        found["label_separator"] = separator
    return dataclasses.replace(fields, **found) if found else fields


def named_columns(
    document: Mapping[str, object] | None, fields: EntryFields
) -> EntryFields:
    """Return ``fields`` with the input's columns named read at their positions.

    `lightsplit split` writes a table's rows as arrays, and records the fields
    it was given by column name as positions: ``check --group-field 'Patient
    ID'`` of such a split means the position its sidecar (``document``)
    records for that column, which `check` prints. A name the sidecar does not
    record is left as given (a key of object entries).

    Examples:
        >>> command = "lightsplit split t.csv --folds 5 --group-field PatientID -o f"
        >>> document = {"command": command, "group_field": 3}
        >>> named_columns(document, EntryFields(group_field="PatientID")).group_field
        3
    """
    if document is None:
        return fields
    columns = document.get("columns")
    positions: dict[str, int] = {}
    if isinstance(columns, list):
        positions = {name: i for i, name in enumerate(columns) if isinstance(name, str)}
    roles = ("group_field", "path_field", "label_field")
    recorded = {
        role: field
        for role in roles
        if isinstance(field := _field_of(document.get(role)), int)
    }
    held = EntryFields(
        path_field=recorded.get("path_field"),
        label_field=recorded.get("label_field"),
        group_field=recorded.get("group_field"),
    )
    for role, named in recorded_columns(document, held, recorded).items():
        positions[named] = recorded[role]
    found: dict[str, Any] = {
        name: positions[value]
        for name in ("group_field", "path_field", "label_field")
        if isinstance(value := getattr(fields, name), str) and value in positions
    }
    return dataclasses.replace(fields, **found) if found else fields


def column_named(
    command: str, columns: Sequence[object] | None, option: str, field: int
) -> str | None:
    """Return the name of the input's column that a sidecar's field ``field`` was.

    `lightsplit split` records a field given by its column (``--group-field
    PatientID``) as its position in the entries it wrote; ``command`` is the
    command it records, ``option`` the field's option (``--group-field``),
    ``columns`` the columns it records (``--columns``). ``None`` for a field
    given by its position alone.

    Examples:
        >>> command = "lightsplit split t.csv --folds 5 --group-field PatientID -o f"
        >>> column_named(command, None, "--group-field", 3)
        'PatientID'
        >>> column_named(command, ("ImageID", "label"), "--path-field", 0)
        'ImageID'
    """
    try:
        words = shlex.split(command)
    except ValueError:  # a command edited by hand
        words = []
    given = [
        parse_field(words[i + 1]) for i, word in enumerate(words[:-1]) if word == option
    ]
    if given and isinstance(given[-1], str):
        return given[-1]
    if columns is not None and 0 <= field < len(columns):
        column = columns[field]
        return column if isinstance(column, str) else None
    return None


def recorded_columns(
    document: Mapping[str, object] | None, fields: EntryFields, names: Iterable[str]
) -> dict[str, str]:
    """Return the column name of each field ``names`` of ``fields`` a sidecar gave.

    For each of ``names`` (``group_field``, ``path_field``, ``label_field``)
    that is the position the sidecar holding ``document`` records, the name
    of the input's column it was (`column_named`), where the sidecar tells it.
    """
    if document is None:
        return {}
    command = document.get("command")
    columns = document.get("columns")
    kept = _field_columns(document)
    found: dict[str, str] = {}
    for name in names:
        field = getattr(fields, name)
        if not isinstance(field, int) or document.get(name) != field:
            continue
        named = kept.get(name)
        if named is None and isinstance(command, str):
            named = column_named(
                command,
                columns if isinstance(columns, list) else None,
                "--" + name.replace("_", "-"),
                field,
            )
        if named is not None:
            found[name] = named
    return found


def fields_said(fields: EntryFields, columns: Mapping[str, str]) -> dict[str, str]:
    """Say how each field set in ``fields`` reads entries, by its name.

    A position is named with the input's column, where ``columns`` (field name
    -> column, as `recorded_columns` gives them) names it.

    Examples:
        >>> fields = EntryFields(path_field=0, group_field=2)
        >>> said = fields_said(fields, {"group_field": "PatientID"})
        >>> said["group_field"], said["path_field"]
        ('group field `PatientID` (position 2)', 'path field `0`')
    """
    said: dict[str, str] = {}
    if fields.group_pattern is not None:
        pattern = printable(fields.group_pattern.pattern)
        said["group_pattern"] = f"group pattern `{pattern}`"
    for name in ("group_field", "path_field", "label_field"):
        value = getattr(fields, name)
        if value is None:
            continue
        kind, shown = name.replace("_", " "), printable(str(value))
        column = columns.get(name)
        said[name] = (
            f"{kind} `{shown}`"
            if column is None
            else f"{kind} `{printable(column)}` (position {shown})"
        )
    if fields.label_separator is not None:
        shown = printable(fields.label_separator)
        said["label_separator"] = f"label separator `{shown}`"
    return said


def _field_columns(document: Mapping[str, object]) -> dict[str, str]:
    """Return the columns a sidecar records of its fields (``field_columns``)."""
    kept = document.get("field_columns")
    if not isinstance(kept, dict):
        return {}
    return {k: v for k, v in kept.items() if isinstance(k, str) and isinstance(v, str)}


def _field_of(value: object) -> FieldName | None:
    """Return a field a sidecar records: a position or a key, else ``None``."""
    if isinstance(value, str) or (
        isinstance(value, int) and not isinstance(value, bool) and value >= 0
    ):
        return value
    return None
