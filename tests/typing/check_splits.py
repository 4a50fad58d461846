"""Type-checked, never run: what mypy sees of the split tools."""

from typing import assert_type

from lightsplit import (
    DatabaseSplit,
    GroupLeak,
    LeakReport,
    SplitCard,
    SplitProvenance,
    find_leaks,
    split_card,
    split_folds,
    split_samples,
)

entries = [("images/00000001_000.png", 0), ("images/00000002_000.png", 1)]
assert_type(split_samples(entries, seed=3), DatabaseSplit[tuple[str, int]])
assert_type(split_folds(entries, folds=5), tuple[DatabaseSplit[tuple[str, int]], ...])
split_samples(entries, fractions=0.7)  # type: ignore[arg-type]
split_folds(entries, folds="5")  # type: ignore[arg-type]

report = find_leaks({"train": entries}, group_pattern=r"(\d{8})_")
assert_type(report, LeakReport[tuple[str, int]])
assert_type(report.group_leaks, tuple[GroupLeak[tuple[str, int]], ...])
assert_type(report.problems, int)
report.problems = 0  # type: ignore[misc]

card = split_card("split.json", path_field=0)
assert_type(card, SplitCard)
assert_type(card.sha256, str)
assert_type(card.edited, bool | None)
assert_type(card.provenance, SplitProvenance | None)

# the records keep the entries' type: no cast to unpack one
path, label = report.path_leaks[0].entries[0].entry
assert_type(path, str)
assert_type(label, int)
assert_type(report.conflicts[0].entries[0][0].entry, tuple[str, int])


# read-only, so a report of tuples is a report of objects, which bare names mean
def pathless(anything: LeakReport) -> None:
    assert_type(anything.pathless[0].entry, object)


pathless(report)
