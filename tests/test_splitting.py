"""``split_samples`` and ``split_folds``: stratified, grouped, reproducible splits."""

import importlib
import json
import random
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from fractions import Fraction
from typing import Any

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from lightsplit import DatabaseSplit
from lightsplit._entries import EntryFields
from lightsplit._errors import SplittingError
from lightsplit._split import parse_split
from lightsplit._splitsummary import MadeSet, _largest_gap
from lightsplit._splitting import (
    FOLD_SETS,
    carved_files,
    fold_assignments,
    parse_fractions,
    pool_samples,
    split_folds,
    split_samples,
)
from lightsplit._stratify import GroupCounts, assign_groups, fill_empty_sets

Entry = tuple[str, int]

PATIENT = r"p(\d+)/"


def _entries(count: int, *, classes: int = 3, seed: int = 0) -> list[Entry]:
    """Singleton entries with unevenly sized classes (about 1:2:4...)."""
    rng = random.Random(seed)
    weights = [2**c for c in range(classes)]
    return [
        (f"{i:04d}.png", rng.choices(range(classes), weights)[0]) for i in range(count)
    ]


def _grouped(count: int, patients: int, *, seed: int = 0) -> list[Entry]:
    """Entries of ``patients`` patients, labels drawn 30% positive."""
    rng = random.Random(seed)
    return [
        (f"p{rng.randrange(patients):03d}/{i:04d}.png", int(rng.random() < 0.3))
        for i in range(count)
    ]


def _classes_grouped(seed: int = 0) -> list[Entry]:
    """300 entries of 60 patients, in 5 classes of sizes about 1:2:4:8:16."""
    rng = random.Random(seed)
    return [
        (
            f"p{rng.randrange(60):03d}/{i:04d}.png",
            rng.choices(range(5), [1, 2, 4, 8, 16])[0],
        )
        for i in range(300)
    ]


def _group(path: str) -> str:
    match = re.search(PATIENT, path)
    assert match is not None
    return match[1]


def _class_counts(entries: Sequence[object]) -> Counter[object]:
    return Counter(entry[1] for entry in entries)  # type: ignore[index]  # entries


def _within_one(
    split: Mapping[str, Sequence[object]], shares: Mapping[str, Fraction]
) -> None:
    """Assert every set holds its share of every class, within one entry."""
    totals = _class_counts([e for entries in split.values() for e in entries])
    for name, entries in split.items():
        counts = _class_counts(entries)
        for label, total in totals.items():
            assert abs(counts[label] - shares[name] * total) < 1, (name, label)


class TestParseFractions:
    def test_exact(self) -> None:
        """Floats and strings are read as written; fractions as they are."""
        assert parse_fractions([0.7, "0.15", Fraction(3, 20)]) == (
            Fraction(7, 10),
            Fraction(3, 20),
            Fraction(3, 20),
        )
        assert parse_fractions(["1/3", "1/3", "1/3"]) == (Fraction(1, 3),) * 3

    @given(st.integers(1, 98), st.integers(1, 98))
    def test_computed_in_floats(self, first: int, second: int) -> None:
        """Fractions computed in floats (``1 - 0.8``, ``0.19999999999999996``)
        are the ones meant: they add up to 1, exactly as written in hundredths."""
        assume(first + second < 100)
        train, validation = first / 100, second / 100
        assert parse_fractions([train, validation, 1 - train - validation]) == (
            Fraction(first, 100),
            Fraction(second, 100),
            Fraction(100 - first - second, 100),
        )
        assert parse_fractions([train, 1 - train])[1] == Fraction(100 - first, 100)

    def test_numpy_floats_as_written(self) -> None:
        """NumPy's floats are read as NumPy writes them: `np.float32(0.8)` is
        0.8 (its float, 0.800000011920929, made them miss 1; a `TypeError`
        before)."""
        numpy: list[Any] = [np.float32(0.8), np.float32(0.2)]  # not typed `float`
        assert parse_fractions(numpy) == (
            Fraction(4, 5),
            Fraction(1, 5),
        )
        assert parse_fractions([np.float64(0.7), 0.15, "0.15"])[0] == Fraction(7, 10)

    def test_thirds_in_floats_said(self) -> None:
        """Thirds in floats do not add up to 1 even rounded: the message says
        to give them as text."""
        with pytest.raises(ValueError, match=r'give them as text .* such as "1/3"'):
            parse_fractions([1 / 3, 1 / 3, 1 - 2 / 3])
        with pytest.raises(ValueError, match=re.escape("add up to 1.00000001; give")):
            parse_fractions([0.5, 0.50000001])

    @pytest.mark.parametrize(
        ("values", "message"),
        [
            pytest.param([0.5, 0.6], "fractions 0.5 0.6 add up to 1.1; give", id="sum"),
            pytest.param([1.0, 0.0], "fraction 2 (0.0) is zero; give", id="zero"),
            pytest.param(
                ["1.1", "-0.1"], "fraction 2 (-0.1) is negative; give", id="negative"
            ),
            pytest.param(
                ["0.7", "0.15", "0.15000001"],
                "fractions 0.7 0.15 0.15000001 add up to 1.00000001; give",
                id="almost",
            ),
            pytest.param(
                ["1/3", "1/3", "1/2"],
                "fractions 1/3 1/3 1/2 add up to 7/6",
                id="thirds",
            ),
            pytest.param([1.0], "1 fraction (1.0); give 3", id="one"),
            pytest.param([0.25] * 4, "4 fractions", id="four"),
            pytest.param(["x", "1"], "fraction `x` is not a number", id="text"),
        ],
    )
    def test_refused(self, values: list[float | str], message: str) -> None:
        """Anything but 2 or 3 fractions above 0 adding up to 1 is refused."""
        with pytest.raises(ValueError, match=re.escape(message)):
            parse_fractions(values)


class TestArguments:
    @pytest.mark.parametrize("function", ["split_samples", "split_folds"])
    @pytest.mark.parametrize(
        ("field", "said"),
        [
            (
                "label_field",
                "the label field `lbl` holds a label in no entry, so nothing could "
                "be stratified",
            ),
            (
                "path_field",
                "the path field `lbl` holds a path (a string) in no entry, so no "
                "file could be told from another or grouped",
            ),
        ],
    )
    def test_field_no_entry_holds(self, function: str, field: str, said: str) -> None:
        """A misspelt field raises, as the CLI refuses it: no unstratified split."""
        entries = [[f"p{i}.png", int(i < 4)] for i in range(20)]
        split = getattr(importlib.import_module("lightsplit"), function)
        with pytest.raises(ValueError, match=re.escape(said)):
            split(entries, **{field: "lbl"})

    def test_numpy_integers_taken(self) -> None:
        """NumPy's integers are integers: a seed or fold count of them splits as
        the same Python int does."""
        entries = _entries(30)
        seed: int = np.int64(1)  # type: ignore[assignment]  # NumPy's
        assert split_samples(entries, seed=seed) == split_samples(entries, seed=1)
        folds: int = np.int64(3)  # type: ignore[assignment]  # NumPy's
        assert split_folds(entries, folds=folds) == split_folds(entries, folds=3)

    @pytest.mark.parametrize(
        ("call", "error", "said"),
        [
            pytest.param(
                lambda e: split_samples(e, seed=-1),
                ValueError,
                "`seed` is -1; give a whole number, 0 or more",
                id="negative-seed",
            ),
            pytest.param(
                lambda e: split_samples(e, seed=1.5),  # type: ignore[arg-type]  # the point
                TypeError,
                "`seed` is 1.5; give a whole number",
                id="float-seed",
            ),
            pytest.param(
                lambda e: split_folds(e, seed=True),
                TypeError,
                "`seed` is True",
                id="bool-seed",
            ),
            pytest.param(
                lambda e: split_samples(e, fractions="0.7 0.3"),
                TypeError,
                "`fractions` is the string '0.7 0.3'; give a list of numbers",
                id="fractions-string",
            ),
            pytest.param(
                lambda e: split_samples({"train": e}),  # type: ignore[arg-type]  # the point
                TypeError,
                "`entries` is a mapping (a split?)",
                id="split-given",
            ),
            pytest.param(
                lambda e: split_folds(iter(e)),
                TypeError,
                "`entries` is list_iterator; give the list of entries",
                id="iterator",
            ),
            pytest.param(
                lambda e: split_folds(e, folds=5.0),  # type: ignore[arg-type]  # the point
                TypeError,
                "`folds` is 5.0; give a whole number, 3 or more",
                id="float-folds",
            ),
            pytest.param(
                lambda e: split_samples(e, path_field=0, label_field=0),
                ValueError,
                "`path_field` and `label_field` both name `0`",
                id="one-field",
            ),
            pytest.param(
                lambda e: split_folds(e, folds="5"),  # type: ignore[arg-type]  # the point
                TypeError,
                "`folds` is '5'",
                id="string-folds",
            ),
        ],
    )
    def test_argument_refused(
        self, call: Callable[[object], object], error: type[Exception], said: str
    ) -> None:
        """Arguments the CLI could not take are refused, naming them and the fix.

        A negative or float seed made a split no ``--seed`` reproduces; a string
        of fractions was read character by character.
        """
        with pytest.raises(error, match=re.escape(said)):
            call(_entries(30))


class TestSplitSamples:
    @pytest.mark.parametrize(
        "labels",
        [
            pytest.param([[[0, 1]], [[1, 0]]], id="lists-of-lists"),
            pytest.param([[{"x": 1}], [{"x": 2}]], id="lists-of-objects"),
            pytest.param([[], [[0]]], id="empty-and-nested"),
        ],
    )
    def test_list_labels_holding_lists(self, labels: list[object]) -> None:
        """List labels holding lists or objects are split as classes, not a crash.

        They raised ``unhashable type: 'list'`` (an internal error of `split`),
        where `check` and `card` read the same file.
        """
        entries = [[f"p{i}.png", labels[i % 2]] for i in range(8)]
        split = split_samples(entries, fractions=[0.5, 0.5], seed=1)
        placed = [e for samples in split.values() for e in samples]
        assert sorted(map(json.dumps, placed)) == sorted(map(json.dumps, entries))
        for samples in split.values():  # stratified: each class in each set
            assert {json.dumps(e[1]) for e in samples} == set(map(json.dumps, labels))

    def test_each_entry_once(self) -> None:
        """Every entry is in exactly one set, each set sorted by path."""
        entries = _entries(200)
        split = split_samples(entries)
        assert list(split) == ["train", "validation", "test"]
        placed = [e for samples in split.values() for e in samples]
        assert sorted(placed) == sorted(entries)
        assert all(list(s) == sorted(s) for s in split.values())

    @pytest.mark.parametrize("seed", [0, 1, 2])
    @pytest.mark.parametrize(
        "fractions", [(0.7, 0.15, 0.15), (0.8, 0.2), ("1/3", "1/3", "1/3")]
    )
    def test_within_one_entry(
        self, seed: int, fractions: tuple[float | str, ...]
    ) -> None:
        """Without groups, each set holds its share of every class within one."""
        split = split_samples(
            _entries(301, classes=4, seed=seed), fractions=fractions, seed=seed
        )
        shares = dict(zip(split, parse_fractions(fractions), strict=True))
        _within_one(split, shares)

    def test_singleton_groups_within_one(self) -> None:
        """With a patient per entry, the same holds."""
        entries = [
            (f"p{i}/{i}.png", label) for i, (_, label) in enumerate(_entries(250))
        ]
        split = split_samples(entries, group_pattern=PATIENT, seed=5)
        shares = dict(zip(split, parse_fractions([0.7, 0.15, 0.15]), strict=True))
        _within_one(split, shares)

    def test_groups_whole(self) -> None:
        """No patient has entries in two sets."""
        split = split_samples(_grouped(500, 60), group_pattern=PATIENT, seed=3)
        sets_of: dict[str, set[str]] = {}
        for name, entries in split.items():
            for path, _ in entries:
                sets_of.setdefault(_group(path), set()).add(name)
        assert all(len(names) == 1 for names in sets_of.values())

    def test_seed(self) -> None:
        """The same seed gives the same split, whatever the input order."""
        entries = _grouped(300, 50)
        first = split_samples(entries, group_pattern=PATIENT, seed=11)
        again = split_samples(list(reversed(entries)), group_pattern=PATIENT, seed=11)
        other = split_samples(entries, group_pattern=PATIENT, seed=12)
        assert dict(first) == dict(again)
        assert dict(first) != dict(other)

    def test_multi_hot(self) -> None:
        """Multi-hot labels: every class near its share in every set."""
        rng = random.Random(4)
        prevalence = [0.5, 0.2, 0.05, 0.02]
        entries = [
            (f"{i}.png", [int(rng.random() < p) for p in prevalence])
            for i in range(2000)
        ]
        split = split_samples(entries, fractions=[0.6, 0.2, 0.2])
        for c in range(len(prevalence)):
            total = sum(label[c] for _, label in entries)
            for name, share in zip(split, (0.6, 0.2, 0.2), strict=True):
                count = sum(label[c] for _, label in split[name])
                assert abs(count - share * total) < 1.5, (c, name)

    @pytest.mark.parametrize("fractions", [(0.7, 0.15, 0.15), (0.5, 0.5)])
    def test_giant_group_leaves_shares(self, fractions: tuple[float, ...]) -> None:
        """One patient of 400 images among 120 of 5 goes to a set first, and the
        others fill around it: placed last (its class is the common one), it
        went to `train` after the small patients had filled the sets by their
        targets, leaving 820/90/90 for 700/150/150 (700/300 for halves)."""
        entries: list[Entry] = [(f"p000/{i}.png", 1) for i in range(400)]
        entries += [
            (f"p{p:03d}/{i}.png", (p + i) % 2) for p in range(1, 121) for i in range(5)
        ]
        split = split_samples(entries, fractions=fractions, group_pattern=PATIENT)
        sizes = [len(entries) for entries in split.values()]
        for size, fraction in zip(sizes, fractions, strict=True):
            # 5 patients of 5 images at most, traded for the classes' shares
            assert abs(size - fraction * 1000) <= 25, sizes
        assert sum(sizes) == 1000

    def test_repeats_kept_once(self) -> None:
        """A file listed twice with one label is kept once."""
        split = split_samples(
            [("./a", 0), ("a", 0), ("b", 1), ("c", 0)], fractions=[0.5, 0.5]
        )
        assert sum(map(len, split.values())) == 3

    def test_conflicting_labels(self) -> None:
        """A file listed with two labels is refused, naming both."""
        with pytest.raises(SplittingError) as exc_info:
            split_samples([("a", 0), ("b", 0), ("a", 1)], fractions=[0.5, 0.5])
        assert str(exc_info.value) == (
            "cannot split files listed with different labels, 1 problem:\n"
            "  a: labels 0 (entry 0), 1 (entry 2); keep the right one"
        )

    def test_class_lists_in_any_order(self) -> None:
        """A file listed twice with its classes in two orders is kept once."""
        entries = [("a", ["Mass", "Effusion"]), ("b", []), ("a", ["Effusion", "Mass"])]
        split = split_samples(entries, fractions=[0.5, 0.5])
        assert sorted(e[0] for s in split.values() for e in s) == ["a", "b"]

    def test_ungrouped(self) -> None:
        """Paths the group pattern does not match are listed, in input order."""
        entries = [("p1/a.png", 0), *((f"{i}.png", 0) for i in range(9, 0, -1))]
        with pytest.raises(SplittingError) as exc_info:
            split_samples(entries, group_pattern=PATIENT)
        assert str(exc_info.value) == (
            "the group pattern `p(\\d+)/` finds no group in 9 of 10 paths (searched "
            "as normalised: no `./`, `..` or repeated `/`); fix the pattern so that "
            "it finds the group in every path:\n"
            '  entry 1: ["9.png", 0]\n'
            '  entry 2: ["8.png", 0]\n'
            '  entry 3: ["7.png", 0]\n'
            '  entry 4: ["6.png", 0]\n'
            '  entry 5: ["5.png", 0]\n'
            "  and 4 more"
        )

    def test_unlabelled_a_class_of_their_own(self) -> None:
        """Entries without a label are spread over the sets as one more class."""
        entries: list[tuple[str, int] | tuple[str]] = [
            (f"{i:02d}.png", i % 2) if i % 3 else (f"{i:02d}.png",) for i in range(30)
        ]
        split = split_samples(entries, fractions=[0.6, 0.2, 0.2])
        unlabelled = [sum(len(e) == 1 for e in s) for s in split.values()]
        assert unlabelled == [6, 2, 2]
        pool = pool_samples(entries, EntryFields(), seed=0)
        assert pool.unlabelled == tuple(f"entry {i}" for i in range(0, 30, 3))

    def test_too_few_groups(self) -> None:
        """Fewer groups than sets is refused."""
        with pytest.raises(SplittingError, match="cannot make 3 sets from 2 groups"):
            split_samples(
                [("p1/a", 0), ("p2/b", 1), ("p1/c", 0)], group_pattern=PATIENT
            )

    @pytest.mark.parametrize("seed", range(3))
    def test_rare_classes_spread(self, seed: int) -> None:
        """Classes of one or two entries spread over the sets by their sizes: the
        sets keep their shares, and the evaluation sets get rare cases too (they
        all went to `train` before, 615/113/112 entries against 588/126/126)."""
        rng = random.Random(seed)
        entries: list[Entry] = [
            (f"c{c}-{i}.png", c) for c in range(5) for i in range(150)
        ]
        entries += [
            (f"r{c}-{i}.png", 5 + c)
            for c in range(60)
            for i in range(rng.choice((1, 2)))
        ]
        split = split_samples(entries, fractions=[0.7, 0.15, 0.15], seed=seed)
        shares = {
            "train": Fraction(7, 10),
            "validation": Fraction(3, 20),
            "test": Fraction(3, 20),
        }
        _within_one(split, shares)
        for name, share in shares.items():
            assert abs(len(split[name]) - share * len(entries)) <= 1, name
            assert any(label >= 5 for _, label in split[name]), name

    def test_too_few_groups_from_repeats(self) -> None:
        """A path field that names no file (a column of sexes) leaves few paths, and
        the error says that entries were left out as repeats."""
        entries = [
            ("a.png", 0, "M"),
            ("b.png", 1, "F"),
            ("c.png", 0, "M"),
            ("d", 1, "M"),
        ]
        with pytest.raises(SplittingError) as exc_info:
            split_samples(entries, path_field=2)
        assert str(exc_info.value) == (
            "cannot make 3 sets from 2 groups: every set needs a group; give more "
            "entries (or a group pattern that finds more groups); 2 of the 4 entries "
            "were left out as repeats of another's path and label, so check that the "
            "path read (the first string, or the path field given) names each "
            "entry's own file"
        )

    def test_no_empty_set(self) -> None:
        """Small inputs still give every set a group."""
        split = split_samples([("a", 0), ("b", 0), ("c", 0)])
        assert [len(s) for s in split.values()] == [1, 1, 1]


class TestSplitFolds:
    def test_test_sets_partition(self) -> None:
        """Each entry is in the test set of exactly one split, once per split."""
        entries = _entries(103)
        splits = split_folds(entries, folds=4)
        assert len(splits) == 4
        tested = [e for split in splits for e in split["test"]]
        assert sorted(tested) == sorted(entries)
        for split in splits:
            assert sorted(e for s in split.values() for e in s) == sorted(entries)

    @pytest.mark.parametrize("folds", [3, 5, 10])
    def test_within_one_entry(self, folds: int) -> None:
        """Without groups, each set of each split is within one of its share."""
        for split in split_folds(
            _entries(407, classes=3, seed=folds), folds=folds, seed=folds
        ):
            shares = {
                "train": Fraction(folds - 2, folds),
                "validation": Fraction(1, folds),
                "test": Fraction(1, folds),
            }
            _within_one(split, shares)

    @pytest.mark.parametrize(("folds", "rotated"), [(3, 3), (4, 4), (5, 5), (10, 10)])
    def test_validation_rotates(self, folds: int, rotated: int) -> None:
        """File ``i`` validates on the fold file ``i + 1`` tests on, unless that
        leaves a set one entry or more off a share the carve reaches: patients
        are trained on ``folds - 2`` times or about, none never (the carve alone
        drew the same groups for every file's validation: with 3 folds, two
        files trained alike and a third of the patients never). Up to 10 folds,
        the folds are ordered so that adjacent ones make good pairs: the plain
        order carved one file of 10 here."""
        splits = split_folds(
            _grouped(400, 40), folds=folds, group_pattern=PATIENT, seed=folds
        )
        same = [
            sorted(split["validation"]) == sorted(splits[(i + 1) % folds]["test"])
            for i, split in enumerate(splits)
        ]
        assert sum(same) == rotated
        trained: Counter[str] = Counter()
        for split in splits:
            trained.update({_group(p) for p, _ in split["train"]})
        assert len(trained) == 40
        assert folds - 3 <= min(trained.values()) <= max(trained.values()) <= folds - 1
        if rotated == folds:
            assert set(trained.values()) == {folds - 2}

    @pytest.mark.parametrize(
        ("count", "patients", "seed"), [(300, 300, 0), (1000, 200, 0), (400, 400, 5)]
    )
    def test_multi_label_validation_rotates(
        self, count: int, patients: int, seed: int
    ) -> None:
        """Multi-hot labels keep the rotation: every patient is validated on in
        exactly one file (no carve keeps every set of them within one entry of
        every class, which is promised for single labels alone; these inputs
        carved one or two files' validation before)."""
        rng = random.Random(seed)
        entries = [
            (
                f"p{rng.randrange(patients):03d}/{i:04d}.png",
                [int(rng.random() < p) for p in (0.1, 0.3, 0.5)],
            )
            for i in range(count)
        ]
        folds = 5
        splits = split_folds(entries, folds=folds, group_pattern=PATIENT, seed=seed)
        for i, split in enumerate(splits):
            assert split["validation"] == splits[(i + 1) % folds]["test"]
        validated = [p for split in splits for p, _ in split["validation"]]
        assert sorted(validated) == sorted(p for p, _ in entries)

    @pytest.mark.parametrize("folds", [4, 5, 10])
    @pytest.mark.parametrize("seed", range(4))
    def test_multi_label_rare_class_trained_in_every_file(
        self, folds: int, seed: int
    ) -> None:
        """A finding of two patients goes to two folds, and the folds are
        ordered so that no file tests on one and validates on the other: every
        file trains on it (in the plain order the two were folds 0 and 1 for
        every seed, and fold 0 trained without it)."""
        rng = random.Random(seed)
        entries = [
            (f"p{p:03d}/{i}.png", [int(rng.random() < 0.3), int(rng.random() < 0.5), 0])
            for p in range(60)
            for i in range(3)
        ]
        entries += [(f"p{p:03d}/9.png", [0, 1, 1]) for p in (60, 61)]
        splits = split_folds(entries, folds=folds, group_pattern=PATIENT, seed=seed)
        for i, split in enumerate(splits):
            assert any(label[2] for _, label in split["train"]), f"fold-{i}"
            assert split["validation"] == splits[(i + 1) % folds]["test"]
        tested = [p for split in splits for p, _ in split["test"]]
        assert sorted(tested) == sorted(p for p, _ in entries)

    def test_carved_files(self) -> None:
        """`carved_files` names the files whose validation is not the next fold
        (five classes of patients: no order of the folds pairs them all well)."""
        pool = pool_samples(
            _classes_grouped(), EntryFields(group_pattern=re.compile(PATIENT)), seed=0
        )
        placements = fold_assignments(pool, 5)
        splits = [pool.sets(placed, FOLD_SETS) for placed in placements]
        rotated = [
            i
            for i, split in enumerate(splits)
            if sorted(split["validation"]) != sorted(splits[(i + 1) % 5]["test"])
        ]
        assert carved_files(placements) == rotated
        assert len(rotated) == 1

    def test_groups_whole(self) -> None:
        """No patient crosses the sets of any split."""
        for split in split_folds(_grouped(400, 40), folds=5, group_pattern=PATIENT):
            groups = [{_group(p) for p, _ in entries} for entries in split.values()]
            assert not groups[0] & groups[1]
            assert not groups[0] & groups[2]
            assert not groups[1] & groups[2]

    def test_as_good_as_scikit_learn(self) -> None:
        """Grouped folds are as close to the class shares as StratifiedGroupKFold's."""
        model_selection = importlib.import_module("sklearn.model_selection")
        entries = _grouped(3000, 400, seed=8)
        folds = 5
        ours = [
            split["test"]
            for split in split_folds(entries, folds=folds, group_pattern=PATIENT)
        ]
        splitter = model_selection.StratifiedGroupKFold(
            folds, shuffle=True, random_state=0
        )
        labels = [label for _, label in entries]
        groups = [_group(path) for path, _ in entries]
        theirs = [
            [entries[i] for i in test]
            for _, test in splitter.split(labels, labels, groups)
        ]
        positives = sum(labels)

        def worst(tests: Sequence[Sequence[Entry]]) -> float:
            return max(
                abs(sum(label for _, label in test) - positives / folds)
                for test in tests
            )

        assert worst(ours) <= worst(theirs)

    def test_too_few(self) -> None:
        """Fewer than three folds, or than groups, is refused."""
        with pytest.raises(ValueError, match=re.escape("`folds` is 2; give 3 or more")):
            split_folds(_entries(10), folds=2)
        with pytest.raises(SplittingError, match="cannot make 4 folds from 3 groups"):
            split_folds(_entries(3), folds=4)


LABELS = st.one_of(
    st.integers(0, 2),
    st.lists(st.integers(0, 1), min_size=3, max_size=3),
    st.sampled_from(["tb", "normal"]),
    st.none(),
)
ENTRIES = st.lists(
    st.tuples(st.integers(0, 12), st.integers(0, 500), LABELS),
    min_size=1,
    max_size=40,
    unique_by=lambda t: t[1],
)


def _split_file(split: DatabaseSplit[object]) -> DatabaseSplit[object]:
    """Write ``split`` as JSON and read it back as ``load_split`` does."""
    return parse_split(json.dumps({n: list(s) for n, s in split.items()}))


def _check_made(split: DatabaseSplit[object], entries: list[list[object]]) -> None:
    """Assert the split reads back, places each entry once, keeps groups whole."""
    back = _split_file(split)
    placed = [e for samples in back.values() for e in samples]
    assert sorted(map(json.dumps, placed)) == sorted(map(json.dumps, entries))
    sets_of: dict[str, set[str]] = {}
    for name, samples in back.items():
        assert samples, f"set `{name}` is empty"
        for entry in samples:
            sets_of.setdefault(_group(str(entry[0])), set()).add(name)  # type: ignore[index]  # entries
    assert all(len(names) == 1 for names in sets_of.values())


class TestProperties:
    @settings(deadline=None)
    @given(ENTRIES, st.sampled_from([(0.7, 0.15, 0.15), (0.5, 0.5)]), st.integers(0, 9))
    def test_fractions(
        self,
        drawn: list[tuple[int, int, object]],
        fractions: tuple[float, ...],
        seed: int,
    ) -> None:
        """Any labelled, grouped entries give a valid split, or too few groups."""
        entries: list[list[object]] = [
            [f"p{p}/{i}.png", label] for p, i, label in drawn
        ]
        groups = len({p for p, _, _ in drawn})
        if groups < len(fractions):
            with pytest.raises(SplittingError, match="cannot make"):
                split_samples(
                    entries, fractions=fractions, group_pattern=PATIENT, seed=seed
                )
            return
        _check_made(
            split_samples(
                entries, fractions=fractions, group_pattern=PATIENT, seed=seed
            ),
            entries,
        )

    @settings(deadline=None)
    @given(ENTRIES, st.integers(3, 5))
    def test_folds(self, drawn: list[tuple[int, int, object]], folds: int) -> None:
        """Any labelled, grouped entries give valid folds, or too few groups."""
        entries: list[list[object]] = [
            [f"p{p}/{i}.png", label] for p, i, label in drawn
        ]
        if len({p for p, _, _ in drawn}) < folds:
            with pytest.raises(SplittingError, match="cannot make"):
                split_folds(entries, folds=folds, group_pattern=PATIENT)
            return
        splits = split_folds(entries, folds=folds, group_pattern=PATIENT)
        for split in splits:
            _check_made(split, entries)
        tested = [e for split in splits for e in split["test"]]
        assert sorted(map(json.dumps, tested)) == sorted(map(json.dumps, entries))


class TestAssignGroups:
    def test_integer_targets(self) -> None:
        """Shares are reached exactly when the counts allow it."""
        groups = [GroupCounts(((0, 1),), 1)] * 10
        placed = assign_groups(groups, range(10), [7, 3], [10])
        assert Counter(placed.values()) == {0: 7, 1: 3}

    def test_fill_empty_sets(self) -> None:
        """An empty set takes the smallest group of the set with the most groups."""
        groups = [GroupCounts(((0, 5),), 5), GroupCounts(((0, 1),), 1)]
        placed = {0: 0, 1: 0}
        fill_empty_sets(placed, groups, 2)
        assert placed == {0: 0, 1: 1}


def test_largest_gap_counts_entries_without_class() -> None:
    """The largest prevalence gap of a set may be that of its entries with no
    class, stratified as a class of their own: it is reported as such."""
    made = MadeSet("", "validation", Fraction(1, 4), 20, 5, (5, 5), classless=10)
    gap, worst = _largest_gap(made, [0.25, 0.25], 0.3)
    assert (round(gap, 9), worst) == (20.0, 2)
    assert _largest_gap(made, [0.25, 0.25], 0.0) == (0.0, 0)


GROUP_FIELD_ENTRIES = st.lists(
    st.tuples(st.integers(0, 12), st.booleans(), st.integers(0, 500), LABELS),
    min_size=1,
    max_size=40,
    unique_by=lambda t: t[2],
)
"""(patient, whether written as a string, image, label): images named without
their patient, who is in a field of their own."""


def _sets_of_groups(
    split: DatabaseSplit[object], read: Callable[[object], str]
) -> dict[str, set[str]]:
    """Return the sets that hold each group, as ``read`` reads it of an entry."""
    sets_of: dict[str, set[str]] = {}
    for name, samples in split.items():
        for entry in samples:
            sets_of.setdefault(read(entry), set()).add(name)
    return sets_of


class TestGroupFieldProperties:
    """Split by a group field, no group is ever in two sets."""

    @settings(deadline=None)
    @given(
        GROUP_FIELD_ENTRIES,
        st.sampled_from([(0.7, 0.15, 0.15), (0.5, 0.5)]),
        st.integers(0, 9),
        st.booleans(),
    )
    def test_fractions(
        self,
        drawn: list[tuple[int, bool, int, object]],
        fractions: tuple[float, ...],
        seed: int,
        objects: bool,
    ) -> None:
        """Any entries give a split keeping every group whole (a patient written
        `17` or `"17"` is one group), each entry once, or too few groups."""
        rows = [
            [f"{image:03d}.png", label, str(p) if quoted else p]
            for p, quoted, image, label in drawn
        ]
        entries: list[object] = (
            [{"image": i, "label": y, "PatientID": p} for i, y, p in rows]
            if objects
            else list(rows)
        )
        field: int | str = "PatientID" if objects else 2
        if len({p for p, _, _, _ in drawn}) < len(fractions):
            with pytest.raises(SplittingError, match="cannot make"):
                split_samples(
                    entries, fractions=fractions, group_field=field, seed=seed
                )
            return
        split = split_samples(
            entries, fractions=fractions, group_field=field, seed=seed
        )
        names = (
            ["train", "validation", "test"]
            if len(fractions) == 3
            else ["train", "test"]
        )
        assert list(split) == names
        assert all(split.values())
        placed = [entry for samples in split.values() for entry in samples]
        assert sorted(map(json.dumps, placed)) == sorted(map(json.dumps, entries))
        sets_of = _sets_of_groups(split, lambda entry: str(entry[field]))  # type: ignore[index]  # arrays, objects
        assert all(len(held) == 1 for held in sets_of.values()), sets_of

    @settings(deadline=None)
    @given(GROUP_FIELD_ENTRIES, st.integers(3, 5))
    def test_folds(
        self, drawn: list[tuple[int, bool, int, object]], folds: int
    ) -> None:
        """Every fold file keeps every group whole; each entry is tested once."""
        entries: list[list[object]] = [
            [f"{image:03d}.png", label, str(p) if quoted else p]
            for p, quoted, image, label in drawn
        ]
        if len({p for p, _, _, _ in drawn}) < folds:
            with pytest.raises(SplittingError, match="cannot make"):
                split_folds(entries, folds=folds, group_field=-1)
            return
        splits = split_folds(entries, folds=folds, group_field=-1)  # from the end
        for split in splits:
            sets_of = _sets_of_groups(split, lambda entry: str(entry[2]))  # type: ignore[index]  # arrays
            assert all(len(held) == 1 for held in sets_of.values()), sets_of
        tested = [entry for split in splits for entry in split["test"]]
        assert sorted(map(json.dumps, tested)) == sorted(map(json.dumps, entries))


class TestGroupFieldErrors:
    """What `split_samples` and `split_folds` refuse about a group field."""

    def test_pattern_and_field(self) -> None:
        """A group pattern and a group field together are refused."""
        entries = [[f"{i}.png", i % 2, i // 2] for i in range(12)]
        with pytest.raises(ValueError, match="`group_pattern` and `group_field` are"):
            split_samples(entries, group_pattern=PATIENT, group_field=2)
        with pytest.raises(ValueError, match="`group_pattern` and `group_field` are"):
            split_folds(entries, group_pattern=PATIENT, group_field=2)

    def test_field_held_nowhere(self) -> None:
        """A group field that no entry holds is refused, saying what they hold."""
        entries = [[f"{i}.png", i % 2] for i in range(12)]
        said = (
            "the group field `PatientID` holds a group in no entry (a value that "
            "is not empty or null), so no entry could be grouped; the entries are "
            "arrays of 2 items"
        )
        with pytest.raises(ValueError, match=re.escape(said)):
            split_samples(entries, group_field="PatientID")

    def test_entries_without_a_path(self) -> None:
        """Entries whose path field is missing, empty or null name no file: they
        are listed, not compared whole; without a path field, not refused."""
        entries: list[list[object]] = [[f"{i}.png", i % 2, i // 2] for i in range(12)]
        entries[2][0] = None
        entries[6][0] = ""
        entries[8] = []
        with pytest.raises(SplittingError) as raised:
            split_samples(entries, fractions=[0.5, 0.5], path_field=0)
        assert str(raised.value) == (
            "the path field `0` holds no path (it is missing, empty or null) in 3 "
            "of 12 entries; give each entry its file, or remove it:\n"
            "  entry 2: [null, 0, 1]\n"
            '  entry 6: ["", 0, 3]\n'
            "  entry 8: []"
        )
        with pytest.raises(SplittingError, match="the path field `0` holds no path"):
            split_folds(entries, folds=3, path_field=0, group_field=2)
        del entries[8]
        split = split_samples(entries, fractions=[0.5, 0.5])  # compared whole
        assert sum(map(len, split.values())) == 11

    def test_entries_without_a_group(self) -> None:
        """Entries whose group field is missing, empty or null are listed."""
        entries: list[list[object]] = [[f"{i}.png", i % 2, i // 2] for i in range(12)]
        entries[4][2] = None
        entries[7][2] = ""
        del entries[9][2]
        with pytest.raises(SplittingError) as raised:
            split_folds(entries, folds=3, group_field=2)
        assert str(raised.value) == (
            "the group field `2` holds no group (it is missing, empty or null) in 3 "
            "of 12 entries; give each entry its group (a patient), or remove it:\n"
            '  entry 4: ["4.png", 0, null]\n'
            '  entry 7: ["7.png", 1, ""]\n'
            '  entry 9: ["9.png", 1]'
        )


FINDINGS = st.lists(
    st.sampled_from(["Effusion", "Nodule", "Mass", "No Finding"]),
    unique=True,
    max_size=3,
)


class TestLabelSeparator:
    @settings(max_examples=40, deadline=None)
    @given(
        st.lists(st.tuples(st.integers(0, 14), FINDINGS), min_size=6, max_size=40),
        st.integers(0, 3),
        st.booleans(),
    )
    def test_joined_names_split_as_lists(
        self, drawn: list[tuple[int, list[str]]], seed: int, folds: bool
    ) -> None:
        """Labels of names joined by `|` split as the same names in JSON lists do.

        Entry by entry, the sets are those of the entries whose labels are
        lists of the names: each name stratified, the text written as it was.
        """
        listed = [[f"p{p}/{i}.png", names] for i, (p, names) in enumerate(drawn)]
        joined = [[path, "|".join(names)] for path, names in listed]
        assume(len({p for p, _ in drawn}) >= 3)
        if folds:
            by_list = split_folds(listed, folds=3, seed=seed, group_pattern=PATIENT)
            by_text = split_folds(
                joined, folds=3, seed=seed, group_pattern=PATIENT, label_separator="|"
            )
        else:
            by_list = (split_samples(listed, seed=seed, group_pattern=PATIENT),)
            by_text = (
                split_samples(
                    joined, seed=seed, group_pattern=PATIENT, label_separator="|"
                ),
            )
        for made_by_list, made_by_text in zip(by_list, by_text, strict=True):
            assert {
                name: [[path, "|".join(names)] for path, names in entries]
                for name, entries in made_by_list.items()
            } == {name: list(entries) for name, entries in made_by_text.items()}

    @given(
        st.lists(
            st.text(st.characters(exclude_characters="|"), min_size=1).filter(
                lambda name: name == name.strip()
            ),
            max_size=5,
        )
    )
    def test_names_read_back(self, names: list[str]) -> None:
        """Names joined by the separator, spaces around them or not, read back."""
        fields = EntryFields(label_separator="|")
        assert fields.label(["a.png", "|".join(names)]) == names
        assert fields.label(["a.png", " | ".join(names)]) == names
        assert fields.label(["a.png", 3]) == ["3"]  # a table's cell `3`: a name
        assert fields.label(["a.png", 0.5]) == 0.5  # neither: read as written

    def test_empty_separator_refused(self) -> None:
        """An empty separator is refused, saying what to give."""
        with pytest.raises(ValueError, match="`label_separator` is empty; give the"):
            split_samples([["a.png", "x|y"]], label_separator="")
        with pytest.raises(ValueError, match="`label_separator` is empty"):
            EntryFields(label_separator="")
