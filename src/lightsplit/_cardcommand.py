"""The ``lightsplit card`` command.

It imports neither torch, Lightning nor pydantic (unless the split has a
sidecar file to read). It returns the exit status: 0 when the card was written,
1 when the split could not be read or the card not written.
"""

import argparse
from pathlib import Path

from ._card import split_card
from ._commands import fail, write_text
from ._errors import LightsplitError
from ._gcpause import gc_paused
from ._jsontext import indented_json
from ._outputs import clashing, write_bytes

__all__ = ["card_command"]


@gc_paused()
def card_command(args: argparse.Namespace) -> int:
    """Write the card of a split file, in Markdown or ``--json``."""
    _check_output(args)
    try:
        card = split_card(
            args.split,
            group_pattern=args.group_pattern,
            path_field=args.path_field,
            label_field=args.label_field,
            group_field=args.group_field,
            label_separator=args.label_separator,
        )
    except LightsplitError as exc:
        return fail(args, str(exc), about=("split", str(args.split)))
    except OSError as exc:
        problem = f"{args.split}: cannot read: {exc.strerror or exc}"
        return fail(args, problem, about=("split", str(args.split)))
    text = indented_json(card.to_json()) + "\n" if args.json else card.to_markdown()
    if args.output is None:
        write_text(text)
        return 0
    try:  # into a folder made if missing, as `split -o` writes
        args.output.parent.mkdir(parents=True, exist_ok=True)
        write_bytes(args.output, text.encode())
    except OSError as exc:
        return fail(args, f"cannot write {args.output}: {exc.strerror or exc}")
    return 0


def _check_output(args: argparse.Namespace) -> None:
    """Refuse an output that is the split file or its sidecar: it would be lost.

    Raises:
        SystemExit: through ``args.parser.error`` (status 2).
    """
    output: Path | None = args.output
    split: Path = args.split
    if output is None:
        return
    what = clashing(split, "the split file", output)
    if what is not None:
        args.parser.error(
            f"`-o` {output} is {what}, which the card would overwrite; give "
            "another file name, such as "
            f"{split.with_name(split.name.split('.')[0] + '.card.md')}"
        )
