"""Time reading a large split file: ``json.load`` against ``load_split``.

Writes a split of 112,000 entries as ``.json`` and ``.json.bz2`` in a temporary
folder, and prints, for each file, the median time of plain ``json.load`` and of
``load_split`` without and with a sample type, with their ratio to
``json.load``::

    .venv/bin/python benchmarks/split_loading.py [--entries N] [--repeats K]
"""

import argparse
import bz2
import json
import tempfile
from collections.abc import Callable
from functools import partial
from pathlib import Path

from _common import markdown_table, median_seconds

from lightsplit import load_split


def split_document(entries: int) -> dict[str, list[tuple[str, int]]]:
    """Return a split of ``entries`` samples: 90/112 train, the rest halved."""
    train = entries * 90 // 112
    validation = (entries - train) // 2
    samples = [(f"CXR_png/MCUCXR_{i:06d}_{i % 2}.png", i % 2) for i in range(entries)]
    return {
        "train": samples[:train],
        "validation": samples[train : train + validation],
        "test": samples[train + validation :],
    }


def json_load(path: Path) -> object:
    """Read ``path`` with the standard library only, decompressing ``.bz2``."""
    if path.suffix == ".bz2":
        with bz2.open(path) as stream:
            return json.load(stream)
    with path.open() as stream:
        return json.load(stream)


def main() -> None:
    """Write the split files, time each way to read them and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--entries", type=int, default=112_000)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    entries: int = args.entries
    repeats: int = args.repeats

    text = json.dumps(split_document(entries))
    rows: list[list[str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        plain = Path(tmp, "split.json")
        plain.write_text(text)
        compressed = Path(tmp, "split.json.bz2")
        compressed.write_bytes(bz2.compress(text.encode()))
        for path in (plain, compressed):
            runs: list[Callable[[], object]] = [
                partial(json_load, path),
                partial(load_split, path),
                partial(load_split, path, sample_type=tuple[str, int]),
            ]
            base, untyped, typed = median_seconds(runs, repeats)
            kib = path.stat().st_size / 1024
            rows.append(
                [
                    f"{path.name} ({kib:,.0f} KiB)",
                    f"{base:#.3g}",
                    f"{untyped:#.3g} ({untyped / base:.2f}x)",
                    f"{typed:#.3g} ({typed / base:.2f}x)",
                ]
            )
    print(f"{entries:,} entries, median of {repeats} repeats after one warm-up\n")
    header = [
        "file",
        "json.load (s)",
        "load_split Any (s, ratio)",
        "load_split tuple[str, int] (s, ratio)",
    ]
    print(markdown_table(header, rows))


if __name__ == "__main__":
    main()
