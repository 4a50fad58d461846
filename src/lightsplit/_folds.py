"""Fold families: split files checked together, by what their rotating set holds.

``lightsplit split --folds K`` writes ``fold-0.json`` to ``fold-<K-1>.json``,
and mednet ships such families, made by scripts of their own. In each file of
a family one set rotates: `test` (or `validation`, when every file holds the
same `test`), and cross-validation needs that set to hold each entry of the
pool exactly once across the files, the pool being the same in every file.
Checked one at a time, every file of a family can be clean while an entry is
tested twice, or never. Files named as folds whose names differ in the
number after ``fold`` only (``fold-3.json``, ``v1_fold3.json.bz2``,
``fold3_seed1.json``, in one folder) are taken as one family
(`fold_families`), unless a file holds half the entries they hold together
or fewer, or no set rotates (`check_family`). Other numbered splits of one
pool, such as repeated random splits (``seed-1.json``, ``seed-2.json``), may
share test entries on purpose: they are no family.

Entries are compared by their key: their normalised path, else their JSON
text, as `find_leaks` compares them.
"""

import re
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING, Final

from ._errors import first_few, preview, printable
from ._types import SetName

if TYPE_CHECKING:
    from pydantic import JsonValue

__all__ = ["FoldFamily", "check_family", "fold_families"]

_FOLD_NUMBER: Final = re.compile(
    r"(.*?(?<![a-z])folds?[-_ .]?)([0-9]+)(.*)", re.ASCII | re.I
)
"""A fold's file name around the number after ``fold`` (or ``folds``, not
``manifold``): before it, the number, after it (``fold3_seed1.json``:
``fold``, ``3``, ``_seed1.json``)."""

_COMPRESSED: Final = re.compile(r"\.bz2$", re.I)
"""bzip2's suffix: `load_split` reads such files as it reads the others."""


def fold_families(paths: Sequence[Path]) -> list[list[Path]]:
    """Return the families among ``paths``: folds that differ in one number only.

    A family is at least two files of one folder whose names hold ``fold`` (in
    any case) followed by a number, and are the same but for that number (and a
    compression suffix such as ``.bz2``), ordered by that number. Folders are
    compared resolved: ``f/../f/fold-2.json`` is in ``f``.

    Examples:
        >>> names = ["f/fold-1.json", "f/fold-0.json.bz2", "f/s1.json", "f/s2.json"]
        >>> families = fold_families([Path(name) for name in names])
        >>> [[path.name for path in family] for family in families]
        [['fold-0.json.bz2', 'fold-1.json']]
    """
    families: dict[tuple[Path, str, str], list[tuple[int, Path]]] = {}
    for path in dict.fromkeys(paths):
        numbered = _FOLD_NUMBER.fullmatch(path.name)
        if numbered is not None:
            before, number, after = numbered.groups()
            key = (path.parent.resolve(), before.lower(), _COMPRESSED.sub("", after))
            families.setdefault(key, []).append((int(number), path))
    return [
        [path for _, path in sorted(members, key=lambda member: member[0])]
        for members in families.values()
        if len(members) > 1
    ]


def _shown(key: Hashable) -> str:
    """Return an entry's key as the report shows it: its path, else its JSON."""
    text = key if isinstance(key, str) else str(key[1])  # type: ignore[index]  # ("entry", text)
    return printable(text)


@dataclass(frozen=True, slots=True)
class FoldFamily:
    """What the rotating set of a family of split files holds across the files."""

    files: tuple[str, ...]
    """The files, in the order of their numbers."""
    rotating: SetName
    """The set that changes from file to file: `test`, or `validation` when
    every file holds the same `test`."""
    entries: int
    """Entries in the pool: those of the files' `train`, `validation` and
    `test` sets (less the common `test` when `validation` rotates)."""
    covered: int
    """Entries of the pool in the rotating set of some file."""
    repeated: tuple[tuple[str, tuple[str, ...]], ...]
    """Entries in the rotating set of more than one file, with those files."""
    uncovered: tuple[str, ...]
    """Entries of the pool in no file's rotating set."""
    family_size: int
    """How many files the family has: as their sidecars record it
    (`recorded_folds`), else by the mean size of the rotating sets that are
    not empty (the pool's entries over it, rounded)."""
    lacking: tuple[tuple[str, int, tuple[str, ...]], ...]
    """Files that lack entries other files hold: the file, how many, the first."""
    recorded_folds: int | None = None
    """The folds that every file's sidecar records (``lightsplit split
    --folds``), or ``None`` where some file has none, or they differ."""
    missing_folds: tuple[int, ...] = ()
    """The folds of `recorded_folds` that no file given is (by its sidecar)."""
    other_runs: tuple[str, ...] = ()
    """Files whose sidecar records another run than the first file's: what
    differs (seed, input)."""
    strict: bool = False
    """Whether warnings count as problems."""

    @property
    def complete(self) -> bool:
        """Whether the sizes of the rotating sets say these are all the files."""
        return self.family_size <= len(self.files)

    @property
    def warnings(self) -> list[str]:
        """What the family holds that cross-validation should not."""
        found = [  # the cause first: the repeats and misses follow from it
            f"{other}: folds of different runs do not part the entries; make them "
            "in one `lightsplit split --folds` run"
            for other in self.other_runs
        ]
        where = f"`{self.rotating}` set"
        if self.repeated:
            shown = [f"{path} ({', '.join(files)})" for path, files in self.repeated]
            found.append(
                f"{len(self.repeated)} {_entries(len(self.repeated))} in the {where} "
                f"of more than one file: {first_few(shown, separator='; ')}; each "
                f"entry belongs in the {where} of one fold only, or its results are "
                "counted twice"
            )
        if self.uncovered:
            one = len(self.uncovered) == 1
            found.append(
                f"{len(self.uncovered)} of the {self.entries} entries "
                f"{'is' if one else 'are'} in no file's {where}: "
                f"{first_few(self.uncovered)}; {self._why_uncovered(one=one)}"
            )
        for file, count, first in self.lacking:
            found.append(
                f"{file} lacks {count} {_entries(count)} that other files of the "
                f"family hold: {first_few(first, total=count)}; every fold splits "
                "the same entries"
            )
        return found

    def _why_uncovered(self, *, one: bool) -> str:
        """Say why entries in no rotating set matter: never evaluated, or missing."""
        never = "it is" if one else "they are"
        if self.missing_folds:
            missing = ", ".join(map(str, self.missing_folds))
            folds = "fold" if len(self.missing_folds) == 1 else "folds"
            return (
                f"the sidecars record {self.recorded_folds} folds, and {folds} "
                f"{missing} {'is' if len(self.missing_folds) == 1 else 'are'} "
                "not among the files given and read: give every fold file (each "
                "must read as a split), or "
                f"{never} never evaluated"
            )
        if self.recorded_folds is not None:
            basis = f"the sidecars record {self.recorded_folds} folds, all given"
        elif self.complete:
            files = len(self.files)
            basis = f"the sets' sizes say these {files} files are the whole family"
        else:
            return (
                f"the sets' sizes make a family of about {self.family_size} files, "
                f"{len(self.files)} given: with a fold file missing, {never} never "
                "evaluated"
            )
        return f"{basis}, so {never} never evaluated"

    @property
    def problems(self) -> int:
        """How many problems were found: the warnings, when strict."""
        return len(self.warnings) if self.strict else 0

    @property
    def name(self) -> str:
        """The family, by its first and last files."""
        return f"{self.files[0]} ... {self.files[-1]}"

    def lines(self) -> list[str]:
        """Return the report of the family as lines of text."""
        files = len(self.files)
        where = f"`{self.rotating}` set"
        head = f"{self.name}: {files} files, one family; `{self.rotating}` rotates"
        if not self.uncovered and not self.repeated:
            said = f"each of the {self.entries} entries is in the {where} of one file"
        else:
            said = f"{self.covered} of the {self.entries} entries are in a {where}"
        lines = [head, f"  {said}"]
        lines += [f"  warning: {warning}" for warning in self.warnings]
        lines.append(f"{self.name}: {self.verdict()}")
        return lines

    def verdict(self) -> str:
        """Say whether the family is ok, and how many warnings it has."""
        count = len(self.warnings)
        if not count:
            return "ok"
        noun = "warning" if count == 1 else "warnings"
        if not self.strict:
            return f"ok, {count} {noun}"
        return f"{count} {'problem' if count == 1 else 'problems'} (warnings included)"

    def to_json(self) -> "dict[str, JsonValue]":
        """Return the family's report as a JSON-ready dictionary."""
        return {
            "files": list(self.files),
            "ok": self.problems == 0,
            "rotating_set": self.rotating,
            "entries": self.entries,
            "covered": self.covered,
            "family_size": self.family_size,
            "recorded_folds": self.recorded_folds,
            "missing_folds": list(self.missing_folds),
            "other_runs": list(self.other_runs),
            "repeated": [
                {"entry": path, "files": list(files)} for path, files in self.repeated
            ],
            "uncovered": list(self.uncovered),
            "lacking": [
                {"file": file, "count": count, "first": list(first)}
                for file, count, first in self.lacking
            ],
            "warnings": list(self.warnings),
        }


def _entries(count: int) -> str:
    return "entry" if count == 1 else "entries"


EVALUATED: Final = ("train", "validation", "test")


def check_family(
    keys: Mapping[str, Mapping[SetName, Sequence[Hashable]]],
    *,
    records: Mapping[str, Mapping[str, object] | None] | None = None,
    strict: bool = False,
) -> FoldFamily | None:
    """Check what the rotating set of a family holds across its files.

    Files that are no family of folds after all give ``None``: where a file
    holds half the entries that the files hold together or fewer, or where
    the set that would rotate is the same in every file (splits of one pool
    with other labels or masks, such as two annotators').

    Args:
        keys: each file of the family, in order -> its sets of `train`,
            `validation` and `test` -> the keys of their entries.
        records: each file -> its sidecar's record (``lightsplit split``), if
            it has one: the folds and fold it records tell the family's size
            and the files missing, its seed and input the run it is from.
        strict: whether warnings count as problems.

    Examples:
        >>> folds = {
        ...     "fold-0.json": {"train": ["b", "c"], "test": ["a"]},
        ...     "fold-1.json": {"train": ["a", "c"], "test": ["b"]},
        ...     "fold-2.json": {"train": ["a", "c"], "test": ["b"]},
        ... }
        >>> family = check_family(folds)
        >>> family.rotating, family.entries, family.repeated, family.uncovered
        ('test', 3, (('b', ('fold-1.json', 'fold-2.json')),), ('c',))
        >>> family.complete, len(family.warnings)
        (True, 2)
    """
    tests = [frozenset(sets.get("test", ())) for sets in keys.values()]
    fixed_test = bool(tests[0]) and all(test == tests[0] for test in tests)
    rotating: SetName = "validation" if fixed_test else "test"
    common = tests[0] if fixed_test else frozenset()
    pools = {  # unions in C: a fold of 112,000 entries is read in milliseconds
        file: set().union(*(sets.get(name, ()) for name in EVALUATED))
        for file, sets in keys.items()
    }
    if common:
        pools = {file: pool - common for file, pool in pools.items()}
    everything: set[Hashable] = set().union(*pools.values())
    if any(2 * len(pool) <= len(everything) for pool in pools.values()):
        return None  # not splits of one pool
    rotated = (  # the test sets, read once above, unless `validation` rotates
        [frozenset(sets.get(rotating, ())) - common for sets in keys.values()]
        if common
        else tests
    )
    if all(held == rotated[0] for held in rotated):
        return None  # nothing rotates: variants of one split (annotators, say)
    times = Counter(chain.from_iterable(rotated))  # in how many files each is
    sizes = sum(map(len, rotated))
    held_by: dict[Hashable, list[str]] = {}  # of an entry in two files, the files
    if len(times) < sizes:
        held_by = {
            key: [file for file, held in zip(keys, rotated, strict=True) if key in held]
            for key in _ordered(keys, rotating)
            if times[key] > 1
        }
    repeated = list(held_by)
    uncovered = sorted(everything - times.keys(), key=_shown)
    lacking = []
    for file, pool in pools.items():
        missing = everything - pool if len(pool) < len(everything) else ()
        if missing:
            first = sorted(map(_shown, missing))
            lacking.append((file, len(missing), tuple(first[:5])))
    # the files the rotating sets' mean size makes of the pool: k-fold sets are
    # within one entry of each other, so this is the family's size when complete;
    # an empty one (a fold emptied by mistake) is no measure of a fold's size
    measured = sum(1 for found in rotated if found)
    from fractions import Fraction  # noqa: PLC0415 - here alone: 2 ms to import

    family_size = round(Fraction(len(everything) * measured, sizes))
    recorded, missing_folds, other_runs = _as_recorded(keys, records or {})
    return FoldFamily(
        files=tuple(keys),
        rotating=rotating,
        entries=len(everything),
        covered=len(times),
        repeated=tuple((_shown(key), tuple(held_by[key])) for key in repeated),
        uncovered=tuple(map(_shown, uncovered)),
        family_size=family_size if recorded is None else recorded,
        lacking=tuple(lacking),
        recorded_folds=recorded,
        missing_folds=missing_folds,
        other_runs=other_runs,
        strict=strict,
    )


RUN_FIELDS: Final = {"seed": "seed", "input_sha256": "input (SHA-256)"}
"""What a sidecar records of the run that made a file, and how to say it."""


def _as_recorded(
    files: Iterable[str], records: Mapping[str, Mapping[str, object] | None]
) -> tuple[int | None, tuple[int, ...], tuple[str, ...]]:
    """Read the files' sidecars: the folds they record, those missing, other runs.

    The folds count only where every file's sidecar records the same number
    of folds; a file whose sidecar records another seed or input than the
    first file's is from another run.
    """
    found = [(file, records.get(file)) for file in files]
    known = [(file, record) for file, record in found if record is not None]
    if len(known) < len(found):
        return None, (), ()
    first_file, first = known[0]
    other_runs = []
    for file, record in known[1:]:
        differ = [
            f"{said} {preview(record.get(key))}, not {preview(first.get(key))}"
            for key, said in RUN_FIELDS.items()
            if record.get(key) != first.get(key)
        ]
        if differ:
            other_runs.append(
                f"{file} is from another run than {first_file} (its sidecar "
                f"records {'; '.join(differ)})"
            )
    folds = {record.get("folds") for _, record in known}
    count = folds.pop() if len(folds) == 1 else None
    if not isinstance(count, int) or isinstance(count, bool):
        return None, (), tuple(other_runs)
    numbers = {record.get("fold") for _, record in known}
    missing = tuple(k for k in range(count) if k not in numbers)
    return count, missing, tuple(other_runs)


def _ordered(
    keys: Mapping[str, Mapping[SetName, Sequence[Hashable]]], rotating: SetName
) -> list[Hashable]:
    """Return the keys of the rotating sets in file order, each once."""
    return list(
        dict.fromkeys(key for sets in keys.values() for key in sets.get(rotating, ()))
    )
