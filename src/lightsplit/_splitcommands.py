"""The ``lightsplit split`` command.

It imports neither torch nor Lightning, and needs no scikit-learn. It returns
the exit status: 0 when the files were written, 1 when the input could not be
read or split, and usage errors go through ``args.parser.error`` (status 2).
"""

import argparse
import hashlib
import json
import re
import shlex
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from fractions import Fraction
from pathlib import Path
from typing import Final

from . import __version__
from ._commands import fail, write_line
from ._entries import (
    EntryFields,
    FieldName,
    describe_entries,
    edge_spaced,
    written_paths,
)
from ._errors import (
    LightsplitError,
    SplittingError,
    first_few,
    format_list,
    preview,
    printable,
)
from ._gcpause import gc_paused
from ._hashing import encode_entries
from ._lint import later_path, separator_unused
from ._outputs import (
    RECORDED_FIELDS,
    SIDECAR_SUFFIX,
    clashing,
    fields_said,
    is_special_file,
    named_columns,
    read_sidecar,
    recorded_columns,
    recorded_fields,
    same_file,
    sidecar_of,
    sidecar_path,
)
from ._patients import patient_folders_repeated, patients_repeated
from ._samples import (
    SampleList,
    kept_fields,
    read_samples,
    shown_field,
    unheld_fields,
)
from ._sidecar import write_split_file
from ._splitsummary import MadeSet, made_sets, summary_lines
from ._splitting import (
    FOLD_SETS,
    FRACTION_SETS,
    SplitPool,
    carved_files,
    check_folds,
    fields_not_held,
    fold_assignments,
    fraction_assignment,
    parse_fractions,
    pool_samples,
)

__all__ = ["LABEL_COLUMNS", "PATH_COLUMNS", "split_command"]

PATH_COLUMNS: Final = ("path", "file", "image")
"""Names (in any case) of the CSV column read as the path without `--path-field`."""

LABEL_COLUMNS: Final = ("label", "target", "class")
"""Names (in any case) of the CSV column read as the label without `--label-field`."""

_FOLD_FILE: Final = re.compile(
    rf"fold-(0|[1-9][0-9]*)\.json(?:{re.escape(SIDECAR_SUFFIX)})?"
)
"""The name of a file that ``--folds`` writes, and its fold."""


def _column(
    field: FieldName | None, samples: SampleList, args: argparse.Namespace, option: str
) -> FieldName | None:
    """Return a field, a CSV column name read as the column's position."""
    if not isinstance(field, str) or not samples.columns:
        return field
    if field not in samples.columns:
        columns = ", ".join(f"`{c}`" for c in samples.columns)
        alike = [c for c in samples.columns if _letters(c) == _letters(field)]
        name = f"; did you mean `{alike[0]}`? Name" if len(alike) == 1 else "; name"
        args.parser.error(
            f"`{option}` `{field}` is not a column of {args.input}{name} one of "
            f"{columns}, or give a position (0, 1, ...)"
        )
    found = [i for i, column in enumerate(samples.columns) if column == field]
    if len(found) > 1:
        places = " and ".join(map(str, found))
        args.parser.error(
            f"`{option}` `{field}` names {len(found)} columns of {args.input} "
            f"(positions {places}); give the position of the one to read, or "
            "rename the others in the header"
        )
    return found[0]


def _letters(name: str) -> str:
    """Return a column name's letters and digits, in lower case (``patientid``)."""
    return "".join(filter(str.isalnum, name.casefold()))


def _named_column(
    samples: SampleList, names: Sequence[str], role: str, args: argparse.Namespace
) -> int | None:
    """Return the position of the CSV column named one of ``names``, if one is."""
    found = [i for i, c in enumerate(samples.columns) if c.casefold() in names]
    if len(found) > 1:
        columns = ", ".join(f"`{samples.columns[i]}`" for i in found)
        args.parser.error(
            f"{args.input}: the columns {columns} could each be the {role}; give "
            f"`--{role}-field` naming the one to read"
        )
    return found[0] if found else None


def _fields(
    samples: SampleList, args: argparse.Namespace
) -> tuple[EntryFields, list[str]]:
    """Return the fields to read, and notes on the CSV columns chosen by name.

    Without `--path-field` (`--label-field`), a CSV column named one of
    `PATH_COLUMNS` (`LABEL_COLUMNS`) is read as the path (label). A table of
    more than two columns, none named as a label, needs `--label-field`. The
    columns ``column1``, ``column2``... that ``convert`` writes name nothing.
    `--group-field` names a CSV column by its name, as the other fields do.

    Raises:
        SystemExit: through ``args.parser.error`` (status 2), for an unknown
            column, two columns of one role, or a label column to choose.
    """
    path_field = _column(args.path_field, samples, args, "--path-field")
    label_field = _column(args.label_field, samples, args, "--label-field")
    group_field = _column(args.group_field, samples, args, "--group-field")
    columns = samples.columns
    generated = tuple(f"column{n}" for n in range(1, len(columns) + 1))
    chosen: list[str] = []
    if columns and columns != generated:
        if path_field is None:
            path_field = _named_column(samples, PATH_COLUMNS, "path", args)
            if path_field is not None:
                chosen.append(f"the path is column `{columns[path_field]}`")
        if label_field is None:
            label_field = _named_column(samples, LABEL_COLUMNS, "label", args)
            if label_field is not None:
                chosen.append(f"the label is column `{columns[label_field]}`")
            elif len(columns) > 2:  # noqa: PLR2004 - a path, a label and more
                *others, last = (f"`{name}`" for name in LABEL_COLUMNS)
                names = f"{', '.join(others)} or {last}"
                args.parser.error(
                    f"{args.input}: none of the columns {format_list(columns)} is "
                    f"named {names}, and with {len(columns)} columns the label "
                    "column is not guessed; give `--label-field COLUMN` naming it"
                )
    notes = [f"{args.input}: {' and '.join(chosen)}, by their names"] if chosen else []
    fields = EntryFields(
        path_field, label_field, args.group_pattern, group_field, args.label_separator
    )
    return fields, notes


def _kept(
    samples: SampleList, fields: EntryFields, args: argparse.Namespace
) -> tuple[SampleList, EntryFields]:
    """Return the entries as `--columns` keeps them, and their fields there.

    The path and label fields read (named, or CSV columns found by name) and
    the group field must be kept: what is stratified and grouped is what is
    written, and `check` of the file written groups it by the same field.

    Raises:
        SystemExit: through ``args.parser.error`` (status 2), for a field named
            twice or held by no entry, or a path, label or group field left
            out.
        SplittingError: for an entry lacking a field before one it holds.
    """
    unnamed = [
        f"`--{role}-field`"
        for role, field, held in (
            ("path", fields.path_field, True),
            ("label", fields.label_field, _labelled(samples.entries, fields)),
        )
        if field is None and held
    ]
    if unnamed:
        args.parser.error(
            f"`--columns` needs {' and '.join(unnamed)} named too: the entries "
            "written are read by their new places, where the first string and "
            "the item after it need not be the path and label the split is made "
            "by; name them (CSV columns named `path` and `label` are found by name)"
        )
    kept: list[FieldName] = []
    for given in args.columns:
        field = _column(given, samples, args, "--columns")
        if field in kept:
            args.parser.error(f"`--columns` names `{given}` twice; name each once")
        kept.append(given if field is None else field)
    for role, field in (
        ("path", fields.path_field),
        ("label", fields.label_field),
        ("group", fields.group_field),
    ):
        if field is not None and field not in kept:
            shown = shown_field(field, samples.columns)
            args.parser.error(
                f"`--columns` leaves out {shown}, the {role} field the split is "
                f"made by; keep it, so that the split file holds the {role}s it "
                "was made by"
            )
    unheld = unheld_fields(samples.entries, kept)
    if unheld:
        shown = first_few([shown_field(field, samples.columns) for field in unheld])
        args.parser.error(
            f"`--columns`: no entry of {args.input} holds {shown}; the entries are "
            f"{describe_entries(samples.entries)}"
        )
    place = {field: position for position, field in enumerate(kept)}
    try:
        written = kept_fields(samples, kept)
    except SplittingError as exc:
        msg = f"{args.input}: {exc}"
        raise SplittingError(msg) from None
    return written, EntryFields(
        None if fields.path_field is None else place[fields.path_field],
        None if fields.label_field is None else place[fields.label_field],
        fields.group_pattern,
        None if fields.group_field is None else place[fields.group_field],
        fields.label_separator,
    )


def _labelled(entries: Sequence[object], fields: EntryFields) -> bool:
    """Whether some entry has a label, read by ``fields``."""
    return any(fields.label(entry) is not None for entry in entries)


def _check_fields_held(
    samples: SampleList, fields: EntryFields, args: argparse.Namespace
) -> None:
    """Refuse a `--path-field`, `--label-field` or `--group-field` no entry holds.

    A split made without the labels, paths or groups meant would not be
    stratified, or not grouped, and say nothing: `check` refuses the same
    fields.

    Raises:
        SystemExit: through ``args.parser.error`` (status 2).
    """
    named = EntryFields(  # a column picked by its name, left empty, is no error
        fields.path_field if args.path_field is not None else None,
        fields.label_field if args.label_field is not None else None,
        group_field=fields.group_field,
    )
    problem = fields_not_held(samples.entries, named, samples.columns)
    if problem is not None:
        args.parser.error(f"{args.input}: {problem}")


def _pool_warnings(
    pool: SplitPool[object], shares: Sequence[Fraction], folds: int | None
) -> list[str]:
    """Say what the entries to split hold that the split may not be meant for."""
    unclear = pool.unclear_labels
    found = [
        _unlabelled(pool),
        None if unclear is None else f"the list labels {unclear}",
        None
        if pool.number_spellings is None
        else f"{pool.number_spellings}, so they are split as different classes; "
        "write each label one way",
        *pool.odd_groups,
        *pool.odd_labels,
        _large_group(pool, shares, folds),
        _differing(pool),
        pool.mixed_labels,
        _joined_labels(pool),
        _listed_labels(pool),
        None
        if pool.separator_unused is None
        else separator_unused(pool.separator_unused, pool.class_names).message,
    ]
    return [warning for warning in found if warning is not None]


def _listed_labels(pool: SplitPool[object]) -> str | None:
    """Say that labels are lists written as text, if several are.

    PadChest's table writes an image's findings so (``['effusion', 'nodule']``):
    read as one label, each list is a class, another order another class.
    """
    listed = [name for name in pool.class_names if _text_list(name)]
    if len(listed) < 2:  # noqa: PLR2004 - one such name may be a name
        return None
    return (
        f"{len(listed)} of the {len(pool.class_names)} classes are lists written as "
        f"text (such as `{listed[0]}`): each list is split as a class of its own "
        "(the same names in another order another class), and a finding's "
        "prevalence is not kept set by set; to stratify by each name, give each "
        'label as a JSON list of names in a JSON list of entries ([path, ["a", '
        '"b"]])'
    )


def _text_list(name: str) -> bool:
    """Whether class ``name`` (`class_name`) is a list written as text.

    PadChest's ``['effusion', 'nodule']`` is no JSON, and a JSON list in a
    string is shown quoted (``"[0, 1]"``); a list label of lists (``[[0], [1]]``)
    has the lists ``[0]`` and ``[1]`` as classes, no text.
    """
    if name.startswith('"[') and name.endswith(']"'):
        return True
    if not (name.startswith("[") and name.endswith("]")):
        return False
    try:
        json.loads(name)
    except ValueError:
        return True
    return False


def _joined_labels(pool: SplitPool[object]) -> str | None:
    """Say that labels look like several names joined by ``|``, if several do.

    Tables such as NIH's ``Data_Entry.csv`` write an image's findings so
    (``Effusion|Nodule``): read as one label, each combination is a class.
    """
    joined = [name for name in pool.class_names if "|" in name]
    if len(joined) < 2:  # noqa: PLR2004 - one such name may be a name
        return None
    return (
        f"{len(joined)} of the {len(pool.class_names)} classes are names joined by "
        f"`|` (such as `{joined[0]}`): each combination is split as a class of its "
        "own, and a finding's prevalence is not kept set by set; to stratify by "
        "each name, give `--label-separator '|'` (each label is then read as the "
        "list of its names)"
    )


def _differing(pool: SplitPool[object]) -> str | None:
    """Say which repeated entries left out differ from the one kept, if any do."""
    found = pool.differing
    if not found:
        return None
    listed = first_few(found, separator="; ")
    noun = "entry" if len(found) == 1 else "entries"
    return (
        f"{len(found)} repeated {noun} (same path, same label) left out "
        f"{'differs' if len(found) == 1 else 'differ'} from the one kept in how "
        f"the path is written or in other items ({listed}); the one whose path is "
        "written as normalised (no `./`, `..` or `//`, accents composed), else "
        "whose JSON text sorts first, is kept, whatever the order of the input: "
        "remove or correct the others"
    )


def _large_group(
    pool: SplitPool[object], shares: Sequence[Fraction], folds: int | None
) -> str | None:
    """Warn when one group holds more entries than the largest set should get.

    Groups stay whole, so that such a split cannot come near its fractions (or
    folds near equal): often a group pattern that finds one group for many
    patients (or a group field holding a site, not a patient). A group too
    large for a smaller set only is not warned about: it goes to a larger one.
    """
    total = len(pool.entries)
    if not pool.groups or not total:
        return None
    largest = max(range(len(pool.groups)), key=lambda g: pool.groups[g].size)
    size = pool.groups[largest].size
    if shares:
        largest_set = max(range(len(shares)), key=shares.__getitem__)
        wanted = shares[largest_set] * total
        what = f"set `{FRACTION_SETS[len(shares)][largest_set]}` should get"
    else:
        wanted = Fraction(total, folds or 1)
        what = "each test fold should get"
    if size <= wanted or size == 1:  # a group of one entry is no larger than it
        return None
    example = pool.entries[pool.group_of.index(largest)]
    finds = (
        "the group pattern finds"
        if pool.group_field is None
        else f"the group field `{pool.shown_group_field}` holds"
    )
    return (
        f"the largest group holds {size} of the {total} entries (such as "
        f"{preview(example)}), more than the {float(wanted):.0f} that {what}: "
        "groups stay whole, so the sets cannot come near their targets; check "
        f"that {finds} one patient per group"
    )


def _unlabelled(pool: SplitPool[object]) -> str | None:
    """Say how many entries have no label when others have one, and which."""
    where = pool.unlabelled
    if not where or not pool.class_names:
        return None
    listed = first_few(where)
    verb = "has" if len(where) == 1 else "have"
    classless = sum(pool.class_totals[len(pool.class_names) :]) - len(where)
    noun = "entry whose label names" if classless == 1 else "entries whose labels name"
    besides = f", with the {classless} {noun} no class," if classless > 0 else ","
    return (
        f"{len(where)} of {len(pool.entries)} entries {verb} no label ({listed}); "
        f"they are split as a class of their own{besides} in the `no class` column "
        "below; give each a label, or remove them"
    )


def _check_output(args: argparse.Namespace) -> None:
    """Refuse an output that is of the wrong kind, or would overwrite the input.

    Also refuse, for `--folds`, a folder holding fold files past the last one
    this split writes, left from an earlier split into more folds.

    Raises:
        SystemExit: through ``args.parser.error`` (status 2).
    """
    output: Path = args.output
    source: Path = args.input
    if output.name.endswith(SIDECAR_SUFFIX):
        args.parser.error(
            f"`-o` {output} is named as the sidecar of a split file, where `split` "
            "records how it made that split (written beside the split); give the "
            "split file's own name (or, with `--folds`, a folder)"
        )
    if args.fractions is not None:
        if output.is_dir():
            args.parser.error(
                f"`-o` {output} is a folder; give the split file to write"
            )
        if output.suffix.lower() == ".csv":
            args.parser.error(
                f"`-o` {output}: `split` writes a JSON split file, which a `.csv` "
                "name would have read as a table; name it `.json` (or `.json.bz2`), "
                "then `lightsplit convert` it to CSV if you need one"
            )
        what = clashing(output, "the split", source)
        if what is not None:
            args.parser.error(
                f"`-o` {output}: {what} would overwrite the input {source}; give "
                "another file name"
            )
        _refuse_unmade(args, [output])
        return
    if output.exists() and not output.is_dir():
        args.parser.error(
            f"`-o` {output} is a file; give the folder to write the folds in"
        )
    named = output.name.lower()
    if not output.exists() and named.endswith((".json", ".json.bz2", ".csv")):
        args.parser.error(
            f"`-o` {output} names a file; with `--folds`, give the folder to write "
            f"the folds in (fold-0.json to fold-{args.folds - 1}.json), such as "
            f"{output.with_name(output.name.split('.')[0])}"
        )
    try:
        names = [path.name for path in output.iterdir()] if output.is_dir() else []
    except OSError:  # unreadable: writing there fails, saying so
        names = []
    for name in names:  # only a file there can be the input (by name or link)
        match = _FOLD_FILE.fullmatch(name)
        if match and int(match[1]) < args.folds and same_file(output / name, source):
            args.parser.error(
                f"`-o` {output}: the input {source} is its `{name}`, which the "
                "split would overwrite; choose another folder"
            )
    written = sorted(  # those there: the folds asked for may be too many to list
        (int(match[1]), output / name)
        for name in names
        if (match := _FOLD_FILE.fullmatch(name))
        and int(match[1]) < args.folds
        and not name.endswith(SIDECAR_SUFFIX)
    )
    _refuse_unmade(args, [path for _, path in written])
    stale = sorted(
        (int(match[1]), name)
        for name in names
        if (match := _FOLD_FILE.fullmatch(name)) and int(match[1]) >= args.folds
    )
    if stale:
        args.parser.error(
            f"`-o` {output} holds {format_list([name for _, name in stale])} of an "
            f"earlier split into more folds, which would be left next to the "
            f"{args.folds} new ones; remove them, or choose another folder"
        )


def _refuse_unmade(args: argparse.Namespace, outputs: Sequence[Path]) -> None:
    """Refuse to overwrite split files that `split` did not write (no sidecar).

    A split written by `split` is written again (its sidecar says how it was
    made); any other file there may be a split made by hand, or by a script
    since lost, that nothing else holds.
    """
    unmade = [
        path for path in outputs if path.is_file() and not sidecar_path(path).exists()
    ]
    if not unmade:
        return
    one = len(unmade) == 1
    if args.fractions is not None:
        said, other = f"`-o` {args.output} exists", "file name"
    else:
        shown = format_list([path.name for path in unmade])
        said = f"`-o` {args.output} holds {shown}, which the split would overwrite"
        other = "folder"
    args.parser.error(
        f"{said}, and `split` did not write {'it' if one else 'them'} (no sidecar "
        f"{sidecar_path(unmade[0]).name} beside {unmade[0].name}): it may be a "
        f"split made otherwise; give another {other}, or remove "
        f"{'it' if one else 'them'} first"
    )


def _command_line(args: argparse.Namespace) -> list[str]:
    """Return the options of ``split`` as a user would write them."""
    words = ["lightsplit", "split", str(args.input)]
    if args.fractions is not None:
        words += ["--fractions", *args.fractions]
    else:
        words += ["--folds", str(args.folds)]
    if args.group_pattern is not None:
        words += ["--group-pattern", args.group_pattern.pattern]
    for option, value in (
        ("--group-field", args.group_field),
        ("--path-field", args.path_field),
        ("--label-field", args.label_field),
        ("--label-separator", args.label_separator),
    ):
        if value is not None:
            words += [option, str(value)]
    if args.columns is not None:
        words += ["--columns", *map(str, args.columns)]
    return [*words, "--seed", str(args.seed), "-o", str(args.output)]


def _described(
    pool: SplitPool[object],
    samples: SampleList,
    args: argparse.Namespace,
    *,
    grouped: bool,
) -> str:
    classes = len(pool.class_names)
    labels = (
        f"{classes} {'class' if classes == 1 else 'classes'}"
        if classes
        else "no labels"
    )
    groups = f"{len(pool.groups)} groups" if grouped else "each path its own group"
    kept = ""
    if pool.dropped:
        noun = "entry" if pool.dropped == 1 else "entries"
        kept = f"; {pool.dropped} repeated {noun} (same path, same label) kept once"
    read = f"read {len(samples.entries)} entries from {args.input}"
    return f"{read}: {labels}, {groups}{kept}"


def _entries_to_split(
    args: argparse.Namespace,
) -> tuple[SampleList, EntryFields, list[str], dict[str, object] | None]:
    """Read the entries to split and the fields to read them by; notes on these.

    Also return what the sidecar of a split given holds (`read_sidecar`).

    Raises:
        LightsplitError: for an input that cannot be split, saying why.
        OSError: for an input that cannot be read.
        SystemExit: through ``args.parser.error`` (status 2), for fields that
            the entries do not hold.
    """
    samples = read_samples(args.input)
    fields, chosen = _fields(samples, args)
    record = None
    if not samples.columns:  # a split made by `split` may have a sidecar
        samples, fields, record = _recorded(args.input, samples, fields)
    # the patient's column is looked for among all the input's, kept or not
    patients = _ungrouped_patients(samples, fields, kept=args.columns is not None)
    if args.columns is not None:
        samples, fields = _kept(samples, fields, args)
    if patients is not None:
        warned = (*samples.warnings, f"{args.input}: {patients}")
        samples = replace(samples, warnings=warned)
    if samples.columns and isinstance(fields.path_field, int):
        samples = _paths_as_text(samples, fields.path_field)
    _check_fields_held(samples, fields, args)
    _check_path_names_file(samples, fields, args)
    return samples, fields, chosen, record


def _paths_as_text(samples: SampleList, field: int) -> SampleList:
    """Return a CSV table's entries with their path column's integers as text.

    Cells are read as integers where they are written as one (labels, as a
    rule), but an image numbered ``1004`` is the file ``1004``: a path is text
    in a split file, and `check` reads no other. The text is the cell's, as an
    integer cell is written as Python writes the integer.
    """
    entries = tuple(
        [*entry[:field], str(entry[field]), *entry[field + 1 :]]
        if isinstance(entry, list) and len(entry) > field and type(entry[field]) is int
        else entry
        for entry in samples.entries
    )
    return replace(samples, entries=entries)


def _recorded(
    path: Path, samples: SampleList, fields: EntryFields
) -> tuple[SampleList, EntryFields, dict[str, object] | None]:
    """Complete ``fields`` with those the sidecar of the split ``path`` records.

    A split made by ``lightsplit split --group-field`` (or ``--group-pattern``)
    and split again, into other fractions or folds, stays grouped by the same
    patients, as `check` and `card` read it: each field not given is the
    sidecar's, said in a note, and a column named as `split` was given it is
    read at the position the sidecar records. A sidecar that gives nothing
    (cut short, overwritten) is warned of, where no group was given. Also
    return what the sidecar holds (`read_sidecar`).
    """
    sidecar = sidecar_of(path)
    record, problem = read_sidecar(sidecar)
    fields = named_columns(record, fields)  # `--group-field 'Patient ID'`
    found = recorded_fields(record, fields)
    if problem is not None and not found.grouped:
        warning = (
            f"{path}: {problem}; so the group pattern or field it may record is "
            "not used, and each path is a group of its own: give "
            "`--group-pattern` or `--group-field` to keep each patient's entries "
            "in one set"
        )
        samples = replace(samples, warnings=(*samples.warnings, warning))
    if found is fields:
        return samples, fields, record
    names = [
        name
        for name in RECORDED_FIELDS
        if getattr(fields, name) is None and getattr(found, name) is not None
    ]
    said = fields_said(found, recorded_columns(record, found, names))
    note = (
        f"{path}: entries read by the {', '.join(said[name] for name in names)} "
        f"that its sidecar {sidecar.name} records, as `lightsplit split` made it; "
        "give the option to read them otherwise"
    )
    return replace(samples, notes=(*samples.notes, note)), found, record


def _check_path_names_file(
    samples: SampleList, fields: EntryFields, args: argparse.Namespace
) -> None:
    """Refuse entries whose path, their first string, names no file while another does.

    A MIAS table's row ``["F", "mdb001.pgm", 0]`` would be read as the file
    ``F``: every row of the tissue ``F`` one file listed again, all but one
    left out of the split. `check` warns of the same (``entry_path_key``).

    Raises:
        SystemExit: through ``args.parser.error`` (status 2), naming the field
            to give.
    """
    if fields.path_field is not None:
        return
    found = later_path(
        {"train": samples.entries}, fields.label_field, fields.group_field
    )
    if found is None:
        return
    first, position, _ = found
    field = (
        samples.columns[position] if position < len(samples.columns) else str(position)
    )
    shown = shlex.quote(field)
    where = (
        shown_field(position, samples.columns) if samples.columns else f"item {field}"
    )
    args.parser.error(
        f"{args.input}: the path of an entry is read as its first string (such "
        f"as `{printable(str(fields.path(first.entry)))}` in "
        f"{samples.origins[first.index]}, {preview(first.entry)}), which names no "
        f"file while {where} does: entries "
        "sharing that string would be taken for one file listed again, and all "
        f"but one left out; give `--path-field {shown}`"
    )


def _say_read(
    pool: SplitPool[object],
    samples: SampleList,
    fields: EntryFields,
    *,
    chosen: Sequence[str],
    shares: Sequence[Fraction],
    args: argparse.Namespace,
) -> None:
    """Say what was read, with the notes and warnings on it."""
    write_line(_described(pool, samples, args, grouped=fields.grouped))
    for note in (*samples.notes, *chosen):
        write_line(f"note: {note}")
    for said in samples.warnings:
        write_line(f"warning: {said}")
    paths = written_paths(samples.entries, fields)
    found = (
        _backslashes(samples, paths),
        _spaces(samples, paths),
        *_pool_warnings(pool, shares, args.folds),
    )
    for warning in found:
        if warning is not None:
            write_line(f"warning: {args.input}: {warning}")


def _ungrouped_patients(
    samples: SampleList, fields: EntryFields, *, kept: bool
) -> str | None:
    """Warn of a field or folder named for the patient, repeated, with no group.

    Each path is then a group of its own, so that one patient's images may be
    put in two sets (`patients_repeated` finds such a field, else
    `patient_folders_repeated` such folders). ``kept`` says
    that `--columns` chooses the fields written, which must keep the group's.
    """
    if fields.group_pattern is not None or fields.group_field is not None:
        return None
    skip = [f for f in (fields.path_field, fields.label_field) if f is not None]
    patients = patients_repeated(samples.entries, samples.columns, skip=skip)
    spread = "held by several entries"
    if patients is not None:
        said = patients.described(spread)
        option = f"`--group-field {shlex.quote(patients.option)}`"
        option += " (and keep it in `--columns`)" if kept else ""
    else:
        folders = patient_folders_repeated(written_paths(samples.entries, fields))
        if folders is None:
            return None
        said = folders.described(spread)
        option = f"`--group-pattern {shlex.quote(folders.pattern)}`"
    return (
        f"{said}; without `--group-field` or `--group-pattern`, each path is a "
        "group of its own, so one patient's entries may be put in two sets: give "
        f"{option} to keep each patient's entries in one set"
    )


def _spaces(samples: SampleList, paths: Sequence[str | None]) -> str | None:
    """Warn about paths with edge spaces, as `check` does (`path_spaces`).

    ``paths`` are the entries' paths as written. A file system keeps the
    spaces, so that ``a.png `` and ``a.png`` are split as two files.
    """
    if not edge_spaced("\n".join(filter(None, paths))):
        return None
    found = [i for i, path in enumerate(paths) if path and path != path.strip()]
    listed = first_few([samples.origins[i] for i in found])
    noun = "path starts or ends" if len(found) == 1 else "paths start or end"
    return (
        f"{len(found)} {noun} with a space or a tab ({listed}), which file systems "
        "keep: `a.png ` and `a.png` are two files, for the loader and the split, "
        "which tells files apart by their paths; remove the spaces (or check that "
        "the files are so named)"
    )


def _backslashes(samples: SampleList, paths: Sequence[str | None]) -> str | None:
    r"""Warn about paths holding a backslash, as `check` does (`path_backslash`).

    On Linux and macOS ``p1\a.png`` is one file name: the loader does not find
    it, and ``p1\a.png`` and ``p1/a.png`` are split as two files (a group
    pattern ``p1/`` finds no group in the first). ``paths`` are the entries'
    paths as written.
    """
    if "\\" not in "\n".join(filter(None, paths)):
        return None
    found = [i for i, path in enumerate(paths) if path and "\\" in path]
    first = paths[found[0]] or ""
    listed = first_few([samples.origins[i] for i in found])
    noun = "path holds" if len(found) == 1 else "paths hold"
    return (
        f"{len(found)} {noun} a backslash `\\`, a folder separator on Windows "
        f"alone ({listed}): Linux and macOS read `{printable(first)}` as one file "
        f"name, not as `{printable(first.replace(chr(92), '/'))}`, and so does "
        "the split, which tells files apart and groups them by their paths; "
        "write the paths with `/`, which every system reads"
    )


@gc_paused()
def split_command(args: argparse.Namespace) -> int:
    """Split the entries of ``input``; write the split files and their sidecars."""
    shares: tuple[Fraction, ...] = ()
    if args.fractions is not None:
        try:
            shares = parse_fractions(args.fractions)
        except ValueError as exc:
            args.parser.error(f"`--fractions`: {exc}")
    if args.folds is not None:
        try:
            check_folds(args.folds, name="--folds")
        except ValueError as exc:
            args.parser.error(str(exc))
    _check_output(args)
    output: Path = args.output
    try:
        samples, fields, chosen, record = _entries_to_split(args)
    except LightsplitError as exc:
        return fail(args, str(exc))
    except OSError as exc:
        return fail(args, f"{args.input}: cannot read: {exc.strerror or exc}")
    try:
        pool = pool_samples(
            samples.entries,
            fields,
            seed=args.seed,
            origins=samples.origins,
            columns=samples.columns,
        )
        placements = (
            [fraction_assignment(pool, shares)]
            if shares
            else fold_assignments(pool, args.folds)
        )
    except SplittingError as exc:
        return fail(args, f"{args.input}: {exc}")
    _say_read(pool, samples, fields, chosen=chosen, shares=shares, args=args)
    provenance: dict[str, object] = {
        "lightsplit": __version__,
        "command": shlex.join(_command_line(args)),
        "input": str(args.input),
        "input_entries": len(samples.entries),
        "input_sha256": hashlib.sha256(args.input.read_bytes()).hexdigest(),
        "fractions": None if args.fractions is None else tuple(args.fractions),
        "folds": args.folds,
        "fold": None,
        "seed": args.seed,
        "group_pattern": None
        if fields.group_pattern is None
        else fields.group_pattern.pattern,
        "group_field": fields.group_field,
        "path_field": fields.path_field,
        "label_field": fields.label_field,
        "label_separator": fields.label_separator,
        "columns": None if args.columns is None else tuple(args.columns),
        "field_columns": _field_columns(samples, fields, record) or None,
    }
    try:
        made = _write(pool, placements, shares, output, provenance)
    except OSError as exc:
        return fail(args, f"{exc.filename or output}: {exc.strerror or exc}")
    for line in summary_lines(pool, made):
        write_line(f"  {line}")
    for warning in _untrained_classes(pool, made):
        write_line(f"warning: {args.input}: {warning}")
    carved = carved_files(placements) if args.folds is not None else []
    if carved:
        write_line(f"note: {_carved_note(carved)}")
    return 0


def _field_columns(
    samples: SampleList, fields: EntryFields, record: dict[str, object] | None
) -> dict[str, str]:
    """Name the input table's column of each field read at a position.

    A table's columns by their names; a split's, as its own sidecar names
    them (``record``): so that a split of a split of a table still names
    `Patient ID`, and reads `--group-field 'Patient ID'` at its position.
    """
    roles = ("group_field", "path_field", "label_field")
    if samples.columns:
        return {
            role: samples.columns[field]
            for role in roles
            if isinstance(field := getattr(fields, role), int)
            and field < len(samples.columns)
        }
    return recorded_columns(record, fields, roles)


def _untrained_classes(pool: SplitPool[object], made: Sequence[MadeSet]) -> list[str]:
    """Say which classes a `train` set has no entry of, where another set has.

    A model trained so never sees the class it is evaluated on: a class of so
    few groups (patients) that some training set goes without it.
    """
    by_file: dict[str, dict[str, MadeSet]] = {}
    for made_set in made:
        by_file.setdefault(made_set.file, {})[made_set.name] = made_set
    missing: dict[int, list[str]] = {}  # class -> the files that miss it
    for file, sets in by_file.items():
        train = sets.get("train")
        if train is None:
            continue
        for c, count in enumerate(train.class_counts):
            if not count and any(s.class_counts[c] for s in sets.values()):
                missing.setdefault(c, []).append(file)
    held = Counter(  # class -> the groups that hold it, in one pass
        c
        for group in pool.groups
        for c in {k for k, _ in group.classes}
        if c in missing
    )
    classes = [  # in class order
        (f"`{pool.class_names[c]}`", _groups_said(held[c]), files)
        for c, files in sorted(missing.items())
    ]
    if len(classes) <= _UNTRAINED_SAID:
        return [
            f"{_trained_on(files)} no entry of class {name} (held by {groups}), "
            "which the evaluation sets hold: a model trained so never sees it; "
            "gather more of it, or merge it with another class"
            for name, groups, files in classes
        ]
    listed = first_few(
        [
            f"{name} (held by {groups}"
            + (
                ""
                if files == [""]
                else f"; not in the `train` set of {format_list(files)}"
            )
            + ")"
            for name, groups, files in classes
        ],
        separator="; ",
    )
    where = "the `train` set" if by_file.keys() == {""} else "some files' `train` set"
    return [
        f"{len(classes)} classes that the evaluation sets hold have no entry in "
        f"{where}, so a model trained there never sees them: {listed}; gather more "
        "of them, or merge them with other classes"
    ]


def _groups_said(count: int) -> str:
    """Return ``1 group``, ``2 groups``..."""
    return f"{count} {'group' if count == 1 else 'groups'}"


def _trained_on(files: Sequence[str]) -> str:
    """Say which files train without a class: the split's own set, or files."""
    return "its `train` set has" if files == [""] else f"{format_list(files)} train on"


_UNTRAINED_SAID: Final = 3
"""Classes without training entries warned of one by one; more, in one warning."""


def _carved_note(carved: Sequence[int]) -> str:
    """Say which fold files validate on a carved set, not on the next fold."""
    names = format_list([f"fold-{file}.json" for file in carved])
    one = len(carved) == 1
    return (
        f"{names} {'validates on a set' if one else 'validate on sets'} carved "
        "from the other folds, not on the fold the next file tests on, which "
        "would leave a set one entry or more off its share of a class; so not "
        "every entry is validated on in exactly one file"
    )


def _write(
    pool: SplitPool[object],
    placements: Sequence[dict[int, int]],
    shares: Sequence[Fraction],
    output: Path,
    provenance: dict[str, object],
) -> list[MadeSet]:
    """Write each split made and its sidecar; say so; return the sets made."""
    encoded = encode_entries(pool.entries)
    canonical = encode_entries(pool.entries, canonical=True)

    def write(
        path: Path, placed: dict[int, int], names: Sequence[str], **more: object
    ) -> str:
        positions = pool.positions(placed, names)
        split = {
            name: [pool.entries[p] for p in found] for name, found in positions.items()
        }
        texts = {name: [encoded[p] for p in found] for name, found in positions.items()}
        hashed = {
            name: [canonical[p] for p in found] for name, found in positions.items()
        }
        record = write_split_file(
            path, split, {**provenance, **more}, encoded=texts, canonical=hashed
        )
        return record.sha256

    if shares:
        [placed] = placements
        names = FRACTION_SETS[len(shares)]
        output.parent.mkdir(parents=True, exist_ok=True)
        special = is_special_file(output)
        sha256 = write(output, placed, names)
        beside = (
            "no sidecar: it is no file"
            if special
            else f"its sidecar {sidecar_path(output)}"
        )
        write_line(f"wrote {output} (sha256 {sha256}) and {beside}")
        return made_sets(pool, placed, names, shares)
    folds = len(placements)
    output.mkdir(parents=True, exist_ok=True)
    targets = [Fraction(folds - 2, folds), Fraction(1, folds), Fraction(1, folds)]
    made: list[MadeSet] = []
    carved = carved_files(placements)
    for fold, placed in enumerate(placements):
        name = f"fold-{fold}.json"
        write(output / name, placed, FOLD_SETS, fold=fold, carved=fold in carved)
        made += made_sets(pool, placed, FOLD_SETS, targets, file=name)
    write_line(
        f"wrote {folds} splits in {output}: fold-0.json to fold-{folds - 1}.json, each "
        f"with its sidecar (fold-0.json{SIDECAR_SUFFIX}...); each entry is in the "
        "`test` set of one of them"
    )
    return made
