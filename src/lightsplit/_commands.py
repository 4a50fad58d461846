"""The ``lightsplit`` commands, each run from its parsed arguments.

Each returns the exit status: 0 when all went well, 1 when it found a problem.
Usage errors found after parsing go through ``args.parser.error`` (status 2).

Only loading samples (``check --loader/--root``) and the demo need torch: they
import it when they run, so that ``--help``, ``schema``, ``convert`` and
``check`` without a loader start in a fraction of a second.
"""

import argparse
import dataclasses
import importlib
import os
import sys
from collections.abc import Mapping, Sequence
from importlib.util import find_spec
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from ._checks import SampleFailure, check_split_loading
from ._entries import EntryFields
from ._errors import (
    SET_INPUT_KEY,
    WRAP_IN_MAPPING_LOADER,
    SplitFileError,
    first_few,
    missing_dependency,
    printable,
)
from ._folds import FoldFamily, check_family, fold_families
from ._jsontext import indented_json
from ._lint import SplitWarning
from ._outputs import (
    RECORDED_FIELDS,
    SIDECAR_SUFFIX,
    named_columns,
    read_sidecar,
    recorded_columns,
    recorded_fields,
    sidecar_of,
    sidecar_record,
    write_bytes,
)
from ._report import SplitReport, summarize_split
from ._split import read_split

if TYPE_CHECKING:
    from ._sample import RawDataLoader

__all__ = [
    "check_command",
    "convert_command",
    "demo_command",
    "fail",
    "is_sidecar",
    "schema_command",
    "sidecars_named",
    "write_line",
    "write_text",
]


def write_line(text: str) -> None:
    """Write one line of output (see `write_text`)."""
    write_text(f"{text}\n")


def write_text(text: str) -> None:
    """Write ``text`` to stdout; once its reader has gone, write nothing more.

    When the reader of a pipe stops reading (``lightsplit split ... | head``),
    the command still does its work (the files are written): the rest of its
    output goes to the null device, with no traceback.
    """
    try:
        sys.stdout.write(text)
    except BrokenPipeError:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.stdout.fileno())
        os.close(null)


def fail(
    args: argparse.Namespace, message: str, *, about: tuple[str, str] | None = None
) -> int:
    """Report a failure that is no usage error; return exit status 1.

    With ``about`` (a key and the file the command was given), ``--json`` gets
    ``{key: file, "ok": false, "error": message}`` on stdout too, as ``check
    --json`` reports a file it cannot read: a script reading the JSON gets JSON.
    """
    if about is not None and args.json and getattr(args, "output", None) is None:
        key, given = about
        document = {key: given, "ok": False, "error": message}
        write_line(indented_json(document))
    sys.stderr.write(f"{args.parser.prog}: error: {message}\n")
    return 1


# --- schema ------------------------------------------------------------------


def schema_command(args: argparse.Namespace) -> int:
    """Write the JSON Schema of split files to stdout or ``--output``."""
    from ._schema import split_json_schema  # noqa: PLC0415 - imported when it runs

    schema = split_json_schema(args.sample_type)
    text = indented_json(schema) + "\n"
    if args.output is None:
        write_text(text)
        return 0
    try:
        write_bytes(args.output, text.encode())
    except OSError as exc:
        return fail(args, f"cannot write {args.output}: {exc.strerror or exc}")
    return 0


# --- check -------------------------------------------------------------------


def _is_loader(value: object) -> bool:
    """Whether ``value`` is a loader object (not a class) with a ``sample`` method."""
    return not isinstance(value, type) and callable(getattr(value, "sample", None))


def _import(spec: str, parser: argparse.ArgumentParser) -> object:
    """Return the attribute ``MODULE:ATTR`` names."""
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        parser.error(
            f"`--loader` `{spec}` is not MODULE:ATTR; write it as "
            "`my_package.loaders:XrayLoader`"
        )
    if "" not in sys.path and os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())  # as `python -m` does, for local modules
    try:
        value: object = importlib.import_module(module_name)
    except Exception as exc:  # any error in the user's module
        parser.error(
            f"`--loader` `{spec}`: cannot import `{module_name}` "
            f"({type(exc).__name__}: {exc}); give a module on the Python path "
            "(the current folder is on it)"
        )
    for part in attribute.split("."):
        if not hasattr(value, part):
            parser.error(f"`--loader` `{spec}`: `{module_name}` has no `{attribute}`")
        value = getattr(value, part)
    return value


def _make_loader(args: argparse.Namespace) -> "RawDataLoader[Any] | None":
    """Return the loader that ``--loader`` and ``--root`` ask for, if any."""
    parser: argparse.ArgumentParser = args.parser
    root: Path | None = args.root
    if args.loader is None and args.input_key is not None:
        parser.error(
            "`--input-key` needs `--loader`: it reads the mappings a loader of "
            "yours returns"
        )
    if args.loader is None:
        if root is None:
            if args.limit is not None:
                parser.error(
                    "`--limit` needs `--loader` or `--root`: it limits loading"
                )
            return None
        from ._images import ImageFileLoader  # noqa: PLC0415 - torch, only to load

        return ImageFileLoader(root)
    spec: str = args.loader
    value = _import(spec, parser)
    if not _is_loader(value):
        if not callable(value):
            parser.error(
                f"`--loader` `{spec}` is a `{type(value).__name__}`; name a loader "
                "(with a `sample` method), its class or a function returning one"
            )
        call = "()" if root is None else f"(root={str(root)!r})"
        try:
            value = value() if root is None else value(root=root)
        except Exception as exc:  # any error in the user's code
            hint = "; give `--root DIR` to pass `root=DIR`" if root is None else ""
            parser.error(
                f"`--loader` `{spec}`: `{spec.partition(':')[2]}{call}` failed "
                f"({type(exc).__name__}: {exc}){hint}"
            )
        if not _is_loader(value):
            parser.error(
                f"`--loader` `{spec}`: `{spec.partition(':')[2]}{call}` returned a "
                f"`{type(value).__name__}`, which has no `sample` method"
            )
    elif root is not None:
        parser.error(
            f"`--root` is given but `--loader` `{spec}` is a loader object, which "
            "takes no root; remove `--root`, or name the loader's class"
        )
    from ._parts import refuse_loader  # noqa: PLC0415 - with pydantic

    input_key: str | None = args.input_key
    try:
        if input_key is not None:
            from ._mapping import MappingLoader  # noqa: PLC0415 - torch, to load

            value = MappingLoader(value, input_key=input_key)  # type: ignore[arg-type]  # checked by MappingLoader
        refuse_loader(value)
    except TypeError as exc:
        parser.error(f"`--loader` `{spec}`: {_fixed_for_check(str(exc))}")
    loader: RawDataLoader[Any] = value  # type: ignore[assignment]  # checked just above
    return loader


def _load_all(
    split: Mapping[str, Sequence[object]],
    loader: "RawDataLoader[Any]",
    *,
    limit: int,
    source: str,
) -> tuple[list[SampleFailure], int]:
    """Load the samples (the first ``limit`` of each set) behind a progress bar."""
    from tqdm import tqdm  # noqa: PLC0415 - only when loading

    counts = {
        name: len(samples) if limit == 0 else min(limit, len(samples))
        for name, samples in split.items()
    }
    total = sum(counts.values())
    with tqdm(
        total=total, desc=f"loading {source}", unit="sample", disable=None, leave=False
    ) as progress:
        failures = check_split_loading(split, loader, limit, progress=progress.update)
    return [_said_for_check(failure) for failure in failures], total


_MAPPING_FIXES: Final = {
    WRAP_IN_MAPPING_LOADER: (
        "give `--input-key KEY`, the key of the input tensor (`image` for mednet's "
        "loaders)"
    ),
    SET_INPUT_KEY: "give `--input-key` the key of the input tensor",
}
"""The fixes of a loader's mappings that Python code makes, as `check` makes them."""


def _fixed_for_check(text: str) -> str:
    """Return ``text`` with a fix said as `check`'s options make it."""
    for said, fix in _MAPPING_FIXES.items():
        text = text.replace(said, fix)
    return text


def _said_for_check(failure: SampleFailure[Any]) -> SampleFailure[Any]:
    """Return ``failure`` with a fix said as `check`'s options make it."""
    return dataclasses.replace(
        failure,
        message=_fixed_for_check(failure.message),
        reason=_fixed_for_check(failure.reason),
    )


def _check_file(
    path: Path,
    args: argparse.Namespace,
    loader: "RawDataLoader[Any] | None",
    fields: EntryFields,
) -> SplitReport:
    """Read, summarize and (with a loader) load one split file."""
    try:
        split, text = read_split(path, sample_type=args.sample_type)
    except SplitFileError as exc:
        return SplitReport(str(path), error=str(exc))
    except OSError as exc:
        return SplitReport(
            str(path), error=f"{path}: cannot read: {exc.strerror or exc}"
        )
    sidecar = sidecar_of(path)
    record, problem = read_sidecar(sidecar)
    given = named_columns(record, fields)
    named = {  # columns named as given, read at the positions the sidecar records
        name: str(getattr(fields, name))
        for name in ("group_field", "path_field", "label_field")
        if getattr(fields, name) != getattr(given, name)
    }
    fields = recorded_fields(record, given)
    plain = args.sample_type is Any  # entries as the file has them
    report = summarize_split(
        split,
        source=str(path),
        fields=fields,
        labels=plain,
        text=text if plain else None,
    )
    if fields is not given:  # the sidecar fills only the fields not given
        report.fields_from = str(sidecar)
        report.sidecar_fields = tuple(
            name
            for name in RECORDED_FIELDS
            if getattr(given, name) is None and getattr(fields, name) is not None
        )
        report.sidecar_columns = recorded_columns(record, fields, report.sidecar_fields)
    report.sidecar_columns = {**report.sidecar_columns, **named}
    edited = _edited(sidecar, record, report.sha256)
    if edited is not None:
        report.warnings.append(edited)
    unread = _unread_sidecar(problem, given)
    if unread is not None:
        report.warnings.append(unread)
    report.strict = args.strict
    if loader is not None:
        limit = args.limit or 0
        report.failures, report.loaded = _load_all(
            split, loader, limit=limit, source=str(path)
        )
    return report


def _edited(
    sidecar: Path, record: Mapping[str, object] | None, sha256: str | None
) -> SplitWarning | None:
    """Warn of a split changed since ``lightsplit split`` wrote it, as `card` says.

    ``record`` is what its sidecar file ``sidecar`` holds (`sidecar_record`),
    if it has one.
    """
    recorded = None if record is None else record.get("sha256")
    if not isinstance(recorded, str) or sha256 is None or recorded == sha256:
        return None
    message = (
        f"edited since `lightsplit split` wrote it: its sidecar "
        f"{sidecar.name} records SHA-256 {printable(recorded[:12])}..., "
        "so the seed and options there no longer describe it; cite this hash, or "
        "split again"
    )
    return SplitWarning("split_edited", message, 1)


def _unread_sidecar(problem: str | None, given: EntryFields) -> SplitWarning | None:
    """Warn of a sidecar file that gives nothing: its group went unchecked.

    ``problem`` says why it gives nothing (`read_sidecar`). No warning where a
    group pattern or field was given, which the sidecar's would not have
    replaced.
    """
    if problem is None or given.grouped:
        return None
    message = (
        f"{problem}; so the group pattern or field it may record was not used, "
        "and no group (patient) was checked: restore it (`lightsplit split` "
        "writes it again), or give `--group-pattern` or `--group-field`"
    )
    return SplitWarning("sidecar_unreadable", message, 1)


def _check_root(args: argparse.Namespace) -> None:
    """Refuse a ``--root`` that is no folder, before anything is loaded."""
    root: Path | None = args.root
    if root is None or root.is_dir():
        return
    what = "is a file, not a folder" if root.exists() else "does not exist"
    args.parser.error(
        f"`--root` {root} {what}; give the folder that the entries' paths are "
        "relative to"
    )


def is_sidecar(path: Path) -> bool:
    """Whether ``path`` is the sidecar of a split: by its name and what it holds.

    A file named so that is no sidecar (a split file, or one that does not
    load) is checked as a split, so that its problems are reported.
    """
    return path.name.endswith(SIDECAR_SUFFIX) and sidecar_record(path) is not None


def sidecars_named(paths: Sequence[Path]) -> str:
    """Say that ``paths`` are the sidecar files of splits, not splits."""
    shown = first_few([str(path) for path in paths])
    one = len(paths) == 1
    what, held = (
        ("a sidecar file", "it holds") if one else ("sidecar files", "they hold")
    )
    return (
        f"{shown}: {what}, where `lightsplit split` records how it made a "
        f"split, not {'a split file' if one else 'split files'}; `lightsplit card "
        f"SPLIT` shows what {held}"
    )


def check_command(args: argparse.Namespace) -> int:
    """Check each split file; report as text or ``--json``; 1 if any has a problem."""
    _check_root(args)
    if args.loader is None and args.root is not None and find_spec("PIL") is None:
        hint = missing_dependency("PIL")
        return fail(
            args, f"`--root` loads images with Pillow, which is not installed; {hint}"
        )
    sidecars = [path for path in args.splits if is_sidecar(path)]
    splits = [path for path in args.splits if path not in sidecars]
    if not splits:
        args.parser.error(
            f"{sidecars_named(sidecars)}; give the split files themselves"
        )
    loader = _make_loader(args)
    fields = EntryFields(
        args.path_field,
        args.label_field,
        args.group_pattern,
        args.group_field,
        args.label_separator,
    )
    candidates = fold_families(splits)
    in_family = {path for family in candidates for path in family}
    reports = []
    for path in splits:
        report = _check_file(path, args, loader, fields)
        if path not in in_family:
            report.keys = {}  # needed by no family: freed now
        reports.append(report)
    by_path = dict(zip(splits, reports, strict=True))
    families = [
        family
        for members in candidates
        if (family := _check_family(members, by_path, strict=args.strict))
    ]
    ok = all(report.ok for report in reports)
    ok = ok and not any(family.problems for family in families)
    if args.json:
        document = {
            "ok": ok,
            "files": [report.to_json() for report in reports],
            "families": [family.to_json() for family in families],
            "skipped": [str(path) for path in sidecars],
        }
        write_line(indented_json(document))
        return 0 if ok else 1
    if sidecars:
        write_line(f"skipped {sidecars_named(sidecars)}")
    for report in reports:
        for line in report.lines():
            write_line(line)
    for family in families:
        for line in family.lines():
            write_line(line)
    if len(reports) > 1:
        failed = sum(not report.ok for report in reports)
        found = f"{failed} with problems" if failed else "all ok"
        found += _families_said(families)
        write_line(f"checked {len(reports)} files: {found}")
    return 0 if ok else 1


def _families_said(families: Sequence["FoldFamily"]) -> str:
    """Sum the families of folds up for the last line of ``check``, if any."""
    if len(families) == 1:
        return f"; 1 family of folds: {families[0].verdict()}"
    if not families:
        return ""
    failing = sum(bool(family.problems) for family in families)
    warned = sum(bool(family.warnings) for family in families)
    said = f"; {len(families)} families of folds: "
    said += f"{failing} with problems" if failing else "all ok"
    return said + (f", {warned} with warnings" if warned and not failing else "")


def _check_family(
    members: Sequence[Path], reports: Mapping[Path, SplitReport], *, strict: bool
) -> "FoldFamily | None":
    """Check a family of folds across its files that load, if two or more do."""
    loaded = [path for path in members if reports[path].error is None]
    if len(loaded) < 2:  # noqa: PLR2004 - a family is two files at least
        return None
    keys = {str(path): reports[path].keys for path in loaded}
    records = {str(path): sidecar_record(sidecar_of(path)) for path in loaded}
    return check_family(keys, records=records, strict=strict)


# --- convert -----------------------------------------------------------------


def convert_command(args: argparse.Namespace) -> int:
    """Convert ``input`` to ``--output``; say what was written, or why not."""
    from ._codec import ConvertError  # noqa: PLC0415 - what convert alone needs
    from ._convert import convert_split  # noqa: PLC0415

    try:
        done = convert_split(
            args.input,
            args.output,
            source_format=args.source_format,
            target_format=args.target_format,
        )
    except ConvertError as exc:
        return fail(args, str(exc))
    except OSError as exc:
        return fail(args, f"{exc.filename or args.output}: {exc.strerror or exc}")
    sets = ", ".join(f"{name} {count}" for name, count in done.counts.items())
    write_line(
        f"wrote {args.output} ({done.target_format}) from {args.input} "
        f"({done.source_format}): {sets or 'no set'}"
    )
    for note in done.notes:
        write_line(f"note: {note}")
    return 0


# --- demo --------------------------------------------------------------------


def demo_command(args: argparse.Namespace) -> int:
    """Run the demo, which prints its own progress and accuracy."""
    from ._demo import run_demo  # noqa: PLC0415 - the demo's imports, only when asked

    try:
        run_demo(epochs=args.epochs, workdir=args.workdir, parallel=args.parallel)
    except (ImportError, RuntimeError) as exc:  # a missing extra, a failed check
        return fail(args, str(exc))
    return 0
