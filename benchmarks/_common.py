"""Helpers shared by the benchmarks: timing and Markdown tables."""

import statistics
import time
from collections.abc import Callable, Sequence


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
