"""The ``lightsplit split`` command.

It imports neither torch nor Lightning, and needs no scikit-learn. It returns
the exit status: 0 when the files were written, 1 when the input could not be
read or split, and usage errors go through ``args.parser.error`` (status 2).
"""

import argparse
import hashlib
import shlex
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

from . import __version__
from ._commands import fail, write_line
from ._entries import EntryFields, FieldName
from ._errors import LightsplitError, SplittingError
from ._gcpause import gc_paused
from ._hashing import encode_entries
from ._outputs import SIDECAR_SUFFIX
from ._samples import SampleList, read_samples
from ._sidecar import write_split_file
from ._splitsummary import MadeSet, made_sets, summary_lines
from ._splitting import (
    FOLD_SETS,
    FRACTION_SETS,
    SplitPool,
    check_folds,
    fold_assignments,
    fraction_assignment,
    parse_fractions,
    pool_samples,
)

__all__ = ["split_command"]


def _column(
    field: FieldName | None, samples: SampleList, args: argparse.Namespace, option: str
) -> FieldName | None:
    """Return a field, a CSV column name read as the column's position."""
    if not isinstance(field, str) or not samples.columns:
        return field
    if field not in samples.columns:
        columns = ", ".join(f"`{c}`" for c in samples.columns)
        args.parser.error(
            f"`{option}` `{field}` is not a column of {args.input}; name one of "
            f"{columns}, or give a position (0, 1, ...)"
        )
    return samples.columns.index(field)


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
        ("--path-field", args.path_field),
        ("--label-field", args.label_field),
    ):
        if value is not None:
            words += [option, str(value)]
    return [*words, "--seed", str(args.seed), "-o", str(args.output)]


def _described(
    pool: SplitPool[object], samples: SampleList, args: argparse.Namespace
) -> str:
    classes = len(pool.class_names)
    labels = (
        f"{classes} {'class' if classes == 1 else 'classes'}"
        if classes
        else "no labels"
    )
    groups = (
        f"{len(pool.groups)} groups"
        if args.group_pattern is not None
        else "each path its own group"
    )
    kept = ""
    if pool.dropped:
        noun = "entry" if pool.dropped == 1 else "entries"
        kept = f"; {pool.dropped} repeated {noun} (same path, same label) kept once"
    read = f"read {len(samples.entries)} entries from {args.input}"
    return f"{read}: {labels}, {groups}{kept}"


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
    output: Path = args.output
    if args.fractions is not None and output.is_dir():
        args.parser.error(f"`-o` {output} is a folder; give the split file to write")
    if args.folds is not None and output.exists() and not output.is_dir():
        args.parser.error(
            f"`-o` {output} is a file; give the folder to write the folds in"
        )
    try:
        samples = read_samples(args.input)
    except LightsplitError as exc:
        return fail(args, str(exc))
    except OSError as exc:
        return fail(args, f"{args.input}: cannot read: {exc.strerror or exc}")
    fields = EntryFields(
        _column(args.path_field, samples, args, "--path-field"),
        _column(args.label_field, samples, args, "--label-field"),
        args.group_pattern,
    )
    try:
        pool = pool_samples(
            samples.entries, fields, seed=args.seed, origins=samples.origins
        )
        placements = (
            [fraction_assignment(pool, shares)]
            if shares
            else fold_assignments(pool, args.folds)
        )
    except SplittingError as exc:
        return fail(args, f"{args.input}: {exc}")
    write_line(_described(pool, samples, args))
    for note in samples.notes:
        write_line(f"note: {note}")
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
        if args.group_pattern is None
        else args.group_pattern.pattern,
        "path_field": fields.path_field,
        "label_field": fields.label_field,
    }
    try:
        made = _write(pool, placements, shares, output, provenance)
    except OSError as exc:
        return fail(args, f"{exc.filename or output}: {exc.strerror or exc}")
    for line in summary_lines(pool, made):
        write_line(f"  {line}")
    return 0


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
        sha256 = write(output, placed, names)
        write_line(
            f"wrote {output} (sha256 {sha256}) and its sidecar "
            f"{output.name}{SIDECAR_SUFFIX}"
        )
        return made_sets(pool, placed, names, shares)
    folds = len(placements)
    output.mkdir(parents=True, exist_ok=True)
    targets = [Fraction(folds - 2, folds), Fraction(1, folds), Fraction(1, folds)]
    made: list[MadeSet] = []
    for fold, placed in enumerate(placements):
        name = f"fold-{fold}.json"
        write(output / name, placed, FOLD_SETS, fold=fold)
        made += made_sets(pool, placed, FOLD_SETS, targets, file=name)
    write_line(
        f"wrote {folds} splits in {output}: fold-0.json to fold-{folds - 1}.json, each "
        f"with its sidecar (fold-0.json{SIDECAR_SUFFIX}...); each entry is in the "
        "`test` set of one of them"
    )
    return made
