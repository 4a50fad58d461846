"""Time a data module's record of its data, against ``json.load`` of its split.

A data module records what it serves in every checkpoint: its first
``state_dict()`` (at the first checkpoint) hashes every entry and counts the
classes of every set, and ``load_state_dict()`` (at every resume, or evaluation
from a checkpoint) makes the record again to compare. A generated split of
``--entries`` ``[path, label]`` entries (by default 112,000, the size of the
largest real ones: 30,000 patients, 80/10/10) is written to a file; each round
times, side by side, ``json.load`` of that file, and both calls on a new data
module over the split, with and without a group pattern::

    .venv/bin/python benchmarks/provenance.py [--entries N] [--repeats K]
"""

import argparse
import json
import tempfile
from collections.abc import Callable
from pathlib import Path

import torch
from _common import markdown_table, median_seconds

from lightsplit import CachingDataModule, Sample, load_split

PATIENTS = r"(\d{8})_\d{3}"
"""The group pattern of the generated paths: the patient's 8 digits."""


class LabelLoader:
    """Makes a small tensor for an entry; reads its label."""

    def sample(self, raw: tuple[str, int]) -> Sample:
        """Return a zero image and the label."""
        return Sample(torch.zeros(1, 4, 4), {"label": raw[1]})

    def target(self, raw: tuple[str, int]) -> int:
        """Return the label."""
        return raw[1]


def _write_split(path: Path, entries: int) -> None:
    """Write ``entries`` entries of 30,000 patients (or fewer), split 80/10/10."""
    patients = min(30_000, max(1, entries // 4))
    rows = [
        [f"images/{i % patients:08d}_{i // patients:03d}.png", int(i % 7 == 0)]
        for i in range(entries)
    ]
    rows.sort()
    by_patient: dict[str, list[list[object]]] = {
        "train": [],
        "validation": [],
        "test": [],
    }
    for row in rows:
        patient = int(str(row[0])[7:15])
        share = patient % 10
        name = "train" if share < 8 else "validation" if share == 8 else "test"
        by_patient[name].append(row)
    path.write_text(json.dumps(by_patient))


def _runs(path: Path, group_pattern: str | None) -> tuple[Callable[[], object], ...]:
    split = load_split(path, sample_type=tuple[str, int])
    state = CachingDataModule(
        split, LabelLoader(), batch_size=64, group_pattern=group_pattern
    ).state_dict()

    def read() -> object:
        with path.open(encoding="utf-8") as file:
            return json.load(file)

    def record() -> object:
        module = CachingDataModule(
            split, LabelLoader(), batch_size=64, group_pattern=group_pattern
        )
        return module.state_dict()

    def compare() -> None:
        module = CachingDataModule(
            split, LabelLoader(), batch_size=64, group_pattern=group_pattern
        )
        module.load_state_dict(state)

    return read, record, compare


def main() -> None:
    """Print the table of the record's times and their ratios to ``json.load``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=112_000)
    parser.add_argument("--repeats", type=int, default=9)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "split.json"
        _write_split(path, args.entries)
        for grouping in (None, PATIENTS):
            read, record, compare = median_seconds(_runs(path, grouping), args.repeats)
            by = "no group pattern" if grouping is None else f"group pattern {grouping}"
            rows.append(["json.load of the split file", f"{read:.3f}", "1.00x"])
            for what, seconds in (
                (f"first state_dict(), {by}", record),
                (f"load_state_dict(), {by}", compare),
            ):
                rows.append([what, f"{seconds:.3f}", f"{seconds / read:.2f}x"])
    print(f"{args.entries:,} entries, medians of {args.repeats} rounds")
    print(markdown_table(["run", "seconds", "ratio to json.load"], rows))


if __name__ == "__main__":
    main()
