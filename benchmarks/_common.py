"""Helpers shared by the benchmarks: timing, new processes and Markdown tables."""

import os
import statistics
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path


def median_seconds(runs: Sequence[Callable[[], object]], repeats: int) -> list[float]:
    """Return the median time of each of ``runs``, timed side by side.

    Each run is called once to warm up, then ``repeats`` rounds call every run in
    turn, so that a slower moment of the machine weighs on all of them alike.
    """
    for run in runs:
        run()
    times: list[list[float]] = [[] for _ in runs]
    for _ in range(repeats):
        for run, timings in zip(runs, times, strict=True):
            start = time.perf_counter()
            run()
            timings.append(time.perf_counter() - start)
    return [statistics.median(timings) for timings in times]


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Return a Markdown table, each column padded to its widest cell."""
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        padded = (cell.ljust(width) for cell, width in zip(cells, widths, strict=True))
        return "| " + " | ".join(padded) + " |"

    rule = "|" + "|".join("-" * (width + 2) for width in widths) + "|"
    return "\n".join([line(header), rule, *(line(row) for row in rows)])


def process_environment(bytecode: Path | None) -> dict[str, str]:
    """Return this environment, modules' bytecode cached in ``bytecode`` or never.

    With a folder, bytecode is written there (``PYTHONPYCACHEPREFIX``), even
    where ``PYTHONDONTWRITEBYTECODE`` is set: after one run, processes start as
    from an installed package. With ``None``, every start compiles the modules
    it imports from source, as an editable install does under
    ``PYTHONDONTWRITEBYTECODE``.
    """
    env = dict(os.environ)
    if bytecode is None:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        env.pop("PYTHONPYCACHEPREFIX", None)
    else:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(bytecode)
    return env


def run_quietly(
    command: Sequence[str], env: dict[str, str], *, statuses: Sequence[int] = (0,)
) -> None:
    """Run ``command`` to its end, output discarded; raise for another status."""
    done = subprocess.run(
        command,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
        check=False,
    )
    if done.returncode not in statuses:
        raise subprocess.CalledProcessError(done.returncode, command)
