"""Time the start-up of the ``lightsplit`` command line against bare Python.

Runs each command in a new process: ``python -c pass`` (the floor), ``python -c
"import torch"`` (for scale), then ``lightsplit --help``, ``lightsplit schema``,
``lightsplit check`` and ``lightsplit card`` (a small split, no loader), each
both as ``python -m lightsplit`` and through the console script next to the
interpreter. Prints the median of each, timed side by side, with its ratio to
``python -c pass``::

    .venv/bin/python benchmarks/cli_startup.py [--repeats K]

The commands import the ``lightsplit`` that the interpreter finds, so pointing
``PYTHONPATH`` at another source tree (``PYTHONPATH=old/src``) times that one.
They run as an installed package does: with the modules' bytecode cached (in a
temporary folder, ``PYTHONPYCACHEPREFIX``, even where ``PYTHONDONTWRITEBYTECODE``
is set), written by the warm-up run; ``--no-bytecode`` times them compiling
every module at each start instead, as an editable install does where
``PYTHONDONTWRITEBYTECODE`` is set.
"""

import argparse
import importlib.util
import json
import sys
import tempfile
from collections.abc import Callable
from functools import partial
from pathlib import Path

from _common import markdown_table, median_seconds, process_environment, run_quietly


def commands(python: str, split: Path) -> dict[str, list[str]]:
    """Return the command lines to time, by label, the baseline first."""
    script = str(Path(python).parent / "lightsplit")
    lightsplit_runs = {
        "--help": ["--help"],
        "schema": ["schema"],
        "check split.json": ["check", str(split)],
        "card split.json": ["card", str(split)],
    }
    lines = {
        "python -c pass": [python, "-c", "pass"],
        'python -c "import torch"': [python, "-c", "import torch"],
    }
    for label, arguments in lightsplit_runs.items():
        lines[f"python -m lightsplit {label}"] = [
            python,
            "-m",
            "lightsplit",
            *arguments,
        ]
        lines[f"lightsplit {label}"] = [script, *arguments]
    return lines


def main() -> None:
    """Time each command line and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument(
        "--no-bytecode",
        action="store_true",
        help="compile every module at each start (no bytecode cache)",
    )
    args = parser.parse_args()
    repeats: int = args.repeats

    spec = importlib.util.find_spec("lightsplit")
    origin = "not found" if spec is None else str(spec.origin)
    with tempfile.TemporaryDirectory() as tmp:
        split = Path(tmp, "split.json")
        entries = [[f"{i}.png", i % 2] for i in range(100)]
        split.write_text(json.dumps({"train": entries[:80], "test": entries[80:]}))
        lines = commands(sys.executable, split)
        bytecode = None if args.no_bytecode else Path(tmp, "bytecode")
        env = process_environment(bytecode)
        runs: list[Callable[[], object]] = [
            partial(run_quietly, line, env) for line in lines.values()
        ]
        medians = median_seconds(runs, repeats)
    base = medians[0]
    rows = [
        [label, f"{seconds:#.3g}", f"{seconds / base:.1f}x"]
        for label, seconds in zip(lines, medians, strict=True)
    ]
    cached = "never cached" if args.no_bytecode else "cached"
    print(
        f"lightsplit from {origin}; each command in a new process, bytecode "
        f"{cached}, median of {repeats} after one warm-up, timed side by side\n"
    )
    print(markdown_table(["command", "seconds", "ratio to python -c pass"], rows))


if __name__ == "__main__":
    main()
