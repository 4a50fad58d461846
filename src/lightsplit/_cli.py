"""The ``lightsplit`` command line: schema, check, split, card, convert and demo."""

import argparse
import importlib
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Final, TypeAlias

from ._entries import (
    compile_group_pattern,
    one_field_for_both,
    one_way_to_group,
    parse_field,
    separator_problem,
)
from ._split import refuse_sample_type
from ._typeexpr import ALLOWED_TYPES, parse_type_expression
from ._types import FORMATS

__all__ = ["build_parser", "main"]

PROG: Final = "lightsplit"

Command: TypeAlias = Callable[[argparse.Namespace], int]
"""A command: parsed arguments -> exit status."""

INTERNAL_ERROR: Final = 3
"""The exit status of an error of lightsplit itself (a bug), not of its input."""

_Commands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"
"""What ``add_subparsers`` returns (a private argparse class)."""


def _sample_type(text: str) -> object:
    """Parse ``--sample-type`` for argparse, keeping the message of a refusal.

    A type that `load_split` refuses (``None``: every entry null; a set) is
    refused here too, for ``schema`` as for the commands that read files.
    """
    try:
        value = parse_type_expression(text)
        refuse_sample_type(value)
    except (TypeError, ValueError) as exc:
        msg = str(exc).replace("`sample_type` None", "`None`")
        raise argparse.ArgumentTypeError(msg.replace("`sample_type` ", "")) from exc
    return value


def _count(text: str) -> int:
    """Parse a count of 0 or more."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        msg = f"`{text}` is not a count; write 0 or a positive integer"
        raise argparse.ArgumentTypeError(msg)
    return value


def _positive(text: str) -> int:
    """Parse a positive integer."""
    try:
        value = _count(text)
    except argparse.ArgumentTypeError:
        value = -1
    if value <= 0:
        shown = "`0` is not allowed here" if value == 0 else f"`{text}` is not a count"
        msg = f"{shown}; write a positive integer"
        raise argparse.ArgumentTypeError(msg)
    return value


def _written(text: str) -> Path:
    """Parse a path to write, refusing an empty one (which reads as ``.``)."""
    if not text:
        msg = "an empty path names no file; give the file or folder to write"
        raise argparse.ArgumentTypeError(msg)
    return Path(text)


def _folder(text: str) -> Path:
    """Parse a folder to read, refusing an empty path (which reads as ``.``)."""
    if not text:
        msg = "an empty path names no folder; give the folder (`.` for this one)"
        raise argparse.ArgumentTypeError(msg)
    return Path(text)


def _group_pattern(text: str) -> re.Pattern[str]:
    """Compile ``--group-pattern``, keeping the message of a refusal."""
    try:
        return compile_group_pattern(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def _label_separator(text: str) -> str:
    """Read ``--label-separator``: text, not empty (`separator_problem`)."""
    problem = separator_problem(text)
    if problem is not None:
        raise argparse.ArgumentTypeError(problem)
    return text


def _workers(text: str) -> int:
    """Parse ``--parallel``: -1, 0 or a positive worker count."""
    if text.strip() == "-1":
        return -1
    try:
        return _count(text)
    except argparse.ArgumentTypeError:
        msg = f"`{text}` is not -1 (no process), 0 (one per CPU) or a process count"
        raise argparse.ArgumentTypeError(msg) from None


# --- parser ------------------------------------------------------------------


_SAMPLE_TYPE_HELP: Final = (
    "the type of every entry, such as 'tuple[str, int]' (default: Any, any JSON "
    f"value); allowed: {ALLOWED_TYPES}"
).replace("%", "%%")


def _add_sample_type(parser: argparse.ArgumentParser) -> None:
    """Add ``--sample-type``."""
    parser.add_argument(
        "--sample-type",
        type=_sample_type,
        default=Any,
        metavar="EXPR",
        help=_SAMPLE_TYPE_HELP,
    )


def _add_fields(parser: argparse.ArgumentParser) -> None:
    """Add the options that say how to read entries: path, label and group."""
    parser.add_argument(
        "--group-pattern",
        type=_group_pattern,
        metavar="REGEX",
        help="a regular expression searched in each path; its named group `group`, "
        "else its first group, else the whole match, is the entry's group "
        r"(a patient), such as 'images/(\d{8})_'",
    )
    parser.add_argument(
        "--group-field",
        type=parse_field,
        metavar="FIELD",
        help="the position (0, 1, ...) or key of each entry's group (a patient), "
        "read as text, such as PatientID; not with --group-pattern",
    )
    parser.add_argument(
        "--path-field",
        type=parse_field,
        metavar="FIELD",
        help="the position (0, 1, ...) or key of each entry's path (default: its "
        "first string)",
    )
    parser.add_argument(
        "--label-field",
        type=parse_field,
        metavar="FIELD",
        help="the position or key of each entry's label (default: the item after "
        "the path, unless it is a file path, or the key `label`)",
    )
    parser.add_argument(
        "--label-separator",
        type=_label_separator,
        metavar="SEP",
        help="the text between the names of a label that joins several, such as "
        "'|' for NIH's 'Effusion|Nodule': each name is a class (multi-label)",
    )


class _Lazy:
    """A command imported when it runs: each imports only the modules it needs.

    ``lightsplit check`` then starts without the modules of ``card``, ``split``
    or ``provenance`` (and the pydantic models some of them build).
    """

    def __init__(self, module: str, name: str) -> None:
        self.module = module
        self.name = name

    def __call__(self, args: argparse.Namespace) -> int:
        function: Command = getattr(
            importlib.import_module(self.module, __package__), self.name
        )
        return function(args)


def _command(
    commands: _Commands,
    name: str,
    function: Command,
    *,
    summary: str,
    description: str,
) -> argparse.ArgumentParser:
    parser = commands.add_parser(
        name,
        help=summary,
        description=description,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.set_defaults(command=function, parser=parser)
    return parser


def _add_schema(
    commands: _Commands,
) -> None:
    parser = _command(
        commands,
        "schema",
        _Lazy("._commands", "schema_command"),
        summary="write the JSON Schema of split files",
        description=(
            "Write the JSON Schema (draft 2020-12) that split files of the given\n"
            "sample type satisfy, as `load_split` checks them.\n\n"
            "example:\n"
            "  lightsplit schema --sample-type 'tuple[str, int]' -o split.schema.json"
        ),
    )
    _add_sample_type(parser)
    parser.add_argument(
        "-o",
        "--output",
        type=_written,
        metavar="FILE",
        help="write here, not to stdout",
    )


def _add_check(commands: _Commands) -> None:
    parser = _command(
        commands,
        "check",
        _Lazy("._commands", "check_command"),
        summary="check split files: sets, classes, duplicates, leaks, loading",
        description=(
            "Read each split file and show its content hash (SHA-256), its sets,\n"
            "entries, groups and classes. Report problems (exit status 1): a path\n"
            "repeated within a set, a path in more than one of `train`,\n"
            "`validation` and `test` (`./a.png` and `a.png` are one path), a path\n"
            "with two labels, and with --group-pattern or --group-field a group\n"
            "(a patient) in more than one of them. `monitor-<name>` sets may\n"
            "repeat entries of other sets. Warn (exit status 0) about empty sets,\n"
            "labels that are not integers (without --sample-type), numbers written\n"
            "as strings and entries without a group (a path the group pattern\n"
            "does not match, an empty group field).\n"
            "With --loader or --root, also load every sample and report failures.\n\n"
            "exit status: 0 no problem, 1 problems found, 2 usage error, 3 a bug\n"
            "in lightsplit (its traceback is printed)\n\n"
            "examples:\n"
            "  lightsplit check split.json --group-pattern 'images/(\\d{8})_'\n"
            "  lightsplit check split.json --group-field 2\n"
            "  lightsplit check split.json --sample-type 'tuple[str, int]'\n"
            "  lightsplit check split.json --root images/ --limit 100\n"
            "  lightsplit check split.json --loader my_loaders:XrayLoader --root data/"
        ),
    )
    parser.add_argument(
        "splits",
        nargs="+",
        type=Path,
        metavar="SPLIT",
        help="split files (.json, .json.bz2)",
    )
    _add_sample_type(parser)
    _add_fields(parser)
    parser.add_argument(
        "--loader",
        metavar="MODULE:ATTR",
        help=(
            "load samples with this loader: a loader object, a loader class or a "
            "function returning a loader (classes and functions are called with "
            "root=DIR when --root is given)"
        ),
    )
    parser.add_argument(
        "--root",
        type=_folder,
        metavar="DIR",
        help="the data folder; alone, load [path, label] images with ImageFileLoader",
    )
    parser.add_argument(
        "--input-key",
        metavar="KEY",
        help=(
            "the loader returns one mapping per sample, as mednet 2.x loaders do: "
            "read its input tensor from KEY (`image` for mednet's), the rest as "
            "metadata (MappingLoader)"
        ),
    )
    parser.add_argument(
        "--limit",
        type=_count,
        metavar="N",
        help="load only the first N samples of each set (default, or 0: all)",
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        help="count warnings as problems (exit status 1)",
    )
    parser.add_argument(
        "--json", action="store_true", help="print one JSON document, nothing else"
    )


def _add_convert(
    commands: _Commands,
) -> None:
    parser = _command(
        commands,
        "convert",
        _Lazy("._commands", "convert_command"),
        summary="convert decathlon datalists and CSV tables to and from split files",
        description=(
            "Convert a Medical Segmentation Decathlon datalist or a CSV table\n"
            "(header `set,column1,column2,...`) to a split file, or back. Formats\n"
            "come from the file names: `.csv` is CSV, `.json` a split file, or a\n"
            "datalist when it has a `training` key. The output is read back and\n"
            "must hold exactly the input's sets before it replaces OUTPUT.\n\n"
            "exit status: 0 converted, 1 the input cannot be read or converted, 2 "
            "usage error,\n3 a bug in lightsplit (its traceback is printed)\n\n"
            "examples:\n"
            "  lightsplit convert dataset.json -o split.json\n"
            "  lightsplit convert split.json -o datalist.json --to decathlon\n"
            "  lightsplit convert split.csv -o split.json"
        ),
    )
    parser.add_argument("input", type=Path, metavar="INPUT", help="the file to convert")
    parser.add_argument(
        "-o",
        "--output",
        type=_written,
        metavar="OUTPUT",
        required=True,
        help="write here",
    )
    parser.add_argument(
        "--from",
        dest="source_format",
        choices=FORMATS,
        help="the format of INPUT (default: from its name and content)",
    )
    parser.add_argument(
        "--to",
        dest="target_format",
        choices=FORMATS,
        help="the format of OUTPUT (default: from its name; `.json` is lightsplit)",
    )


def _add_split(commands: _Commands) -> None:
    parser = _command(
        commands,
        "split",
        _Lazy("._splitcommands", "split_command"),
        summary="make split files: by fractions or k folds, stratified and grouped",
        description=(
            "Split a list of entries (a JSON array, a CSV table with a header row,\n"
            "or a split file whose `train`, `validation` and `test` are pooled)\n"
            "into `train`, `validation` and `test`: by fractions into one file, or\n"
            "into K files of a k-fold split (each entry in the `test` set of one;\n"
            "validation a fold's share of the rest). Each set gets its share of\n"
            "every class (single labels, lists or 0/1 vectors); with\n"
            "--group-pattern or --group-field (a column such as PatientID), every\n"
            "group (a patient) goes whole to one set. The same input, options\n"
            "and seed give the same bytes on any machine.\n"
            "Next to each split, `<split>.lightsplit.json` records how it was made.\n\n"
            "exit status: 0 written, 1 the input cannot be read or split, 2 usage "
            "error,\n3 a bug in lightsplit (its traceback is printed)\n\n"
            "examples:\n"
            "  lightsplit split samples.json --fractions 0.7 0.15 0.15 -o split.json\n"
            "  lightsplit split split.json --folds 10 --seed 3 -o folds/ "
            "--group-pattern 'images/(\\d{8})_'\n"
            "  lightsplit split padchest.csv --fractions 0.7 0.15 0.15 --path-field "
            "ImageID \\\n    --label-field Labels --group-field PatientID -o split.json"
        ),
    )
    parser.add_argument(
        "input",
        type=Path,
        metavar="INPUT",
        help="the entries: a JSON array, a CSV table or a split file",
    )
    how = parser.add_mutually_exclusive_group(required=True)
    how.add_argument(
        "--fractions",
        nargs="+",
        metavar="F",
        help="shares of train, validation and test (or of train and test), adding "
        "up to 1, such as 0.7 0.15 0.15; -o names the split file",
    )
    how.add_argument(
        "--folds",
        type=_positive,
        metavar="K",
        help="make K splits (3 or more) of a k-fold split; -o names the folder of "
        "fold-0.json ... fold-<K-1>.json",
    )
    parser.add_argument(
        "-o",
        "--output",
        type=_written,
        required=True,
        metavar="PATH",
        help="the split file (--fractions) or folder (--folds) to write",
    )
    parser.add_argument(
        "--seed", type=_count, default=0, metavar="N", help="default: 0"
    )
    parser.add_argument(
        "--columns",
        nargs="+",
        type=parse_field,
        metavar="FIELD",
        help="write each entry as these fields alone, in this order: columns of "
        "a CSV table (by name or position), positions of array entries, keys of "
        "object entries (default: the whole entry)",
    )
    _add_fields(parser)


def _add_card(commands: _Commands) -> None:
    parser = _command(
        commands,
        "card",
        _Lazy("._cardcommand", "card_command"),
        summary="describe a split file: hash, sets, classes, leaks, how it was made",
        description=(
            "Write the card of a split file, in Markdown (or --json): its content\n"
            "hash (SHA-256, to cite), each set's entries, share and groups, each\n"
            "class's entries per set, the leaks and label conflicts found, and for\n"
            "a split made by `lightsplit split`, how it was made (from its sidecar\n"
            "file) and whether it was edited since. The options not given are those\n"
            "the sidecar records.\n\n"
            "exit status: 0 written (leaks or not), 1 the split cannot be read, 2 "
            "usage error,\n3 a bug in lightsplit (its traceback is printed)\n\n"
            "examples:\n"
            "  lightsplit card split.json -o split.card.md\n"
            "  lightsplit card split.json --json"
        ),
    )
    parser.add_argument("split", type=Path, metavar="SPLIT", help="the split file")
    parser.add_argument(
        "-o",
        "--output",
        type=_written,
        metavar="FILE",
        help="write here, not to stdout",
    )
    parser.add_argument(
        "--json", action="store_true", help="write the card as one JSON object"
    )
    _add_fields(parser)


def _add_provenance(commands: _Commands) -> None:
    parser = _command(
        commands,
        "provenance",
        _Lazy("._provenancecommand", "provenance_command"),
        summary="say what data a checkpoint was trained on; compare split files",
        description=(
            "Print what a lightsplit data module recorded in a Lightning checkpoint:\n"
            "its sets (entries, content hash, classes, loaders), its settings and\n"
            "model transforms. Given split files, say for each set whether it\n"
            "matches. The checkpoint is read without running any code from it\n"
            "(weights_only) and without importing the model.\n\n"
            "exit status: 0 read (and the splits match), 1 no lightsplit record or\n"
            "a split differs, 2 usage error, 3 a bug in lightsplit (its traceback\n"
            "is printed)\n\n"
            "examples:\n"
            "  lightsplit provenance checkpoints/last.ckpt\n"
            "  lightsplit provenance last.ckpt split.json --json"
        ),
    )
    parser.add_argument(
        "checkpoint", type=Path, metavar="CHECKPOINT", help="a Lightning checkpoint"
    )
    parser.add_argument(
        "splits",
        nargs="*",
        type=Path,
        metavar="SPLIT",
        help="split files to compare with what the checkpoint recorded",
    )
    parser.add_argument(
        "--json", action="store_true", help="print one JSON document, nothing else"
    )


def _add_demo(commands: _Commands) -> None:
    parser = _command(
        commands,
        "demo",
        _Lazy("._commands", "demo_command"),
        summary="train a small CNN on scikit-learn's digits, end to end",
        description=(
            "Write the handwritten digits scikit-learn ships as PNG files with a\n"
            "split file, check the split, train a small CNN on it through a cached\n"
            "data module and print the test accuracy after each epoch. Needs\n"
            "`lightsplit[demo]` (Pillow and scikit-learn).\n\n"
            "example:\n"
            "  lightsplit demo --epochs 2 --workdir demo/"
        ),
    )
    parser.add_argument(
        "--epochs", type=_positive, default=5, metavar="N", help="default: 5"
    )
    parser.add_argument(
        "--workdir",
        type=Path,
        metavar="DIR",
        help="write the images, split and configuration here and keep them "
        "(default: a temporary folder, removed afterwards)",
    )
    parser.add_argument(
        "--parallel",
        type=_workers,
        default=2,
        metavar="N",
        help="processes that build the cache, the main one included: -1 the main "
        "one alone, 0 one per CPU, or N (default: 2)",
    )


def _version() -> str:
    import importlib.metadata  # noqa: PLC0415 - imported for --version alone

    try:
        return importlib.metadata.version("lightsplit")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - a raw clone
        return "unknown"


class _VersionAction(argparse.Action):
    """``--version``: print the installed version, looked up only when asked."""

    def __init__(self, option_strings: Sequence[str], dest: str, **_: object) -> None:
        super().__init__(
            option_strings,
            dest,
            nargs=0,
            default=argparse.SUPPRESS,
            help="show program's version number and exit",
        )

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: object,
        option_string: str | None = None,
    ) -> None:
        sys.stdout.write(f"{parser.prog} {_version()}\n")  # stdout, as argparse
        parser.exit()


class _CommandsFormatter(argparse.HelpFormatter):
    """Aligns the commands' summaries alike on every Python.

    Python 3.13 counts the indent of each command in the width of the column
    that the summaries are aligned after; earlier versions do not, and put a
    long command (``provenance``) on a line of its own. This counts it on all.
    """

    def add_argument(self, action: argparse.Action) -> None:
        super().add_argument(action)
        if action.help is argparse.SUPPRESS:
            return
        for subaction in self._iter_indented_subactions(action):
            length = len(self._format_action_invocation(subaction))
            self._action_max_length = max(
                self._action_max_length, length + self._current_indent
            )


_COMMANDS: Final = {
    "schema": _add_schema,
    "check": _add_check,
    "split": _add_split,
    "card": _add_card,
    "convert": _add_convert,
    "provenance": _add_provenance,
    "demo": _add_demo,
}
"""Each command, and what adds it to the parser, in the order of ``--help``."""


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """Return the parser of the ``lightsplit`` command line.

    Given the name of a ``command``, the parser holds that command alone: what
    parses a command line that starts with it (each command added costs about
    a millisecond, every time the command runs). Any other value, such as
    ``--help``, gives the parser of every command.
    """
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Check, convert and describe lightsplit database split files.",
        epilog="Run `lightsplit COMMAND --help` for the options of a command.",
        formatter_class=_CommandsFormatter,
    )
    parser.add_argument("--version", action=_VersionAction)
    commands = parser.add_subparsers(
        title="commands", metavar="COMMAND", dest="command_name", required=True
    )
    for name, add in _COMMANDS.items():
        if command not in _COMMANDS or name == command:
            add(commands)
    return parser


_OPTION_LIKE: Final = re.compile(r"--?[A-Za-z][\w-]*(=.*)?", re.DOTALL)
"""What may be an option (``-h``, ``--root``, ``--root=x``): read as one."""


def _patterns_attached(arguments: list[str]) -> list[str]:
    r"""Attach to ``--group-pattern`` a pattern that starts with ``-``.

    ``argparse`` reads ``--group-pattern '-(\d+)'`` as an option with no value
    (a value starting with ``-`` looks like an option); a pattern such as
    ``-(\d+)`` can be nothing else, so it is passed as ``--group-pattern=...``.

    Examples:
        >>> _patterns_attached(["check", "s.json", "--group-pattern", r"-(\d+)"])
        ['check', 's.json', '--group-pattern=-(\\d+)']
        >>> _patterns_attached(["check", "s.json", "--group-pattern", "--json"])
        ['check', 's.json', '--group-pattern', '--json']
    """
    found: list[str] = []
    for argument in arguments:
        if (
            found
            and found[-1] == "--group-pattern"
            and argument.startswith("-")
            and argument != "--"  # the end of options
            and _OPTION_LIKE.fullmatch(argument) is None
        ):
            found[-1] = f"--group-pattern={argument}"
        else:
            found.append(argument)
    return found


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``lightsplit`` command line and return its exit status.

    Args:
        argv: the arguments, without the program name; by default ``sys.argv[1:]``.

    Returns:
        0 when all went well, 1 when a problem was found (a check failed, a file
        could not be converted), 2 for a usage error, 3 for an error of
        lightsplit itself (its traceback is printed), which a script should not
        take for a problem of its files.

    Examples:
        >>> main(["schema", "--sample-type", "tuple[str, int]"])  # doctest: +ELLIPSIS
        {
          "$schema": "https://json-schema.org/draft/2020-12/schema",
        ...
        0
    """
    arguments = _patterns_attached(sys.argv[1:] if argv is None else list(argv))
    parser = build_parser(arguments[0] if arguments else None)
    try:
        args = parser.parse_args(arguments)
        same = one_field_for_both(
            getattr(args, "path_field", None),
            getattr(args, "label_field", None),
            named=("--path-field", "--label-field"),
        )
        if same is not None:
            args.parser.error(same)
        both = one_way_to_group(
            getattr(args, "group_pattern", None),
            getattr(args, "group_field", None),
            named=("--group-pattern", "--group-field"),
        )
        if both is not None:
            args.parser.error(both)
        command: Command = args.command
        return command(args)
    except SystemExit as exc:  # argparse: --help, --version and usage errors
        code = exc.code
        return code if isinstance(code, int) else int(code is not None)
    except Exception:  # a bug: Python's own status, 1, would read as a problem found
        import traceback  # noqa: PLC0415 - only for a bug: commands start faster

        traceback.print_exc()
        sys.stderr.write(
            "lightsplit: internal error: the traceback above is a bug of lightsplit, "
            "not a problem of the files given; please report it, with the command\n"
        )
        return INTERNAL_ERROR
