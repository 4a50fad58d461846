"""``find_leaks``: files, labels and groups found where a split must not have them."""

import dataclasses
import random
import re
import sys
import threading
import unicodedata
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import ClassVar, NamedTuple

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from pydantic import BaseModel, Field

from lightsplit import _entries as entries
from lightsplit._checks import SampleFailure
from lightsplit._entries import (
    DATA_SUFFIXES,
    FILE_SUFFIX,
    EntryFields,
    _blind_to_digits,
    _groups_by_shape,
    field_groups,
    index_split,
    names_file,
    normalize_path,
    path_groups,
    tally_key,
    tally_labels,
)
from lightsplit._leaks import (
    Duplicate,
    EntryRef,
    GroupLeak,
    LabelConflict,
    PathLeak,
    _entry_refs,
    find_entries,
    find_leaks,
)
from lightsplit._splitting import split_samples

SEGMENTS = st.sampled_from(["a", "b", "img.png", "x_1"])


class TestNormalizePath:
    @pytest.mark.parametrize(
        ("path", "expected"),
        [
            pytest.param("./a.png", "a.png", id="dot"),
            pytest.param("a.png", "a.png", id="plain"),
            pytest.param("b/../a.png", "a.png", id="up"),
            pytest.param("a//b/../a.png", "a/a.png", id="double-slash"),
            pytest.param("a/./b/", "a/b", id="trailing"),
            pytest.param("../a.png", "../a.png", id="leading-up"),
            pytest.param("///data//a.png", "/data/a.png", id="leading-slashes"),
            pytest.param("./cafe\u0301.png", "caf\u00e9.png", id="decomposed"),
        ],
    )
    def test_spellings(self, path: str, expected: str) -> None:
        """Dots, repeated slashes and ``name/..`` pairs go; a leading ``..`` stays."""
        assert normalize_path(path) == expected

    @pytest.mark.parametrize("compiled", [False, True])
    def test_decomposed_pattern_finds_composed_paths(self, compiled: bool) -> None:
        """A group pattern copied from a macOS file name (``e`` and an accent)
        finds the paths however they spell the letter, as they are composed."""
        typed = unicodedata.normalize("NFD", "patiënt-") + r"(\d+)/"
        split = {
            "train": [[unicodedata.normalize("NFD", "patiënt-1/a.png"), 0]],
            "test": [["patiënt-1/b.png", 1]],
        }
        pattern = re.compile(typed) if compiled else typed
        [leak] = find_leaks(split, group_pattern=pattern).group_leaks
        assert (leak.group, leak.sets) == ("1", ("train", "test"))

    @given(st.lists(SEGMENTS, min_size=1, max_size=5), st.lists(SEGMENTS, max_size=3))
    def test_detours_vanish(self, parts: list[str], detour: list[str]) -> None:
        """A path with ``./`` and ``x/..`` detours inserted names the same file."""
        plain = "/".join(parts)
        spelled = "./" + "/".join([*detour, *([".."] * len(detour)), *parts])
        assert normalize_path(spelled) == normalize_path(plain) == plain

    @given(st.lists(st.text("ab./\né", max_size=8), min_size=1, max_size=20))
    def test_index_normalizes_like_each_path(self, paths: list[str]) -> None:
        """Paths read in bulk are normalised as each one alone would be."""
        [fields] = index_split(
            {"train": [[p, 0] for p in paths]}, EntryFields()
        ).values()
        assert fields.paths == [normalize_path(p) for p in paths]


GROUP_PATTERNS = [
    r"images/(\d{8})_",  # the usual: a patient number
    r"(?P<group>p\d+)/",  # a named group
    r"\d{2}",  # no group: the whole match
    r"(x)?(\d)",  # a group that may not take part
    r"^(\w+)",  # anchored at the start
    r"(\d+)\.png$",  # anchored at the end
    r"(\d)\s*",  # may run past a path's end into the next
    r"(\w)\1",  # a back reference
    r"(?i)(IMAGES)/",  # inline flags, which must come first
    r"(?s)(p.)",  # a dot that matches line ends
    r"(?<=p)(\d)",  # looking behind
    r"([^/]*)_",  # a class that matches line ends
]
PATHS = st.text(alphabet="images/p0123_.png\nx", max_size=24)


class TestGroups:
    @given(
        st.sampled_from(GROUP_PATTERNS),
        st.lists(PATHS | st.just("images/00000012_001.png"), max_size=12),
    )
    def test_bulk_search_is_each_path_searched(
        self, pattern: str, paths: list[str]
    ) -> None:
        """Groups found for all paths at once are those each path alone gives."""
        fields = EntryFields(group_pattern=re.compile(pattern))
        [found] = index_split({"train": [[p, 0] for p in paths]}, fields).values()
        assert found.groups == [fields.group(p or "") or None for p in found.paths]

    @given(
        st.binary(min_size=1, max_size=6),
        st.integers(1, 40),
        st.integers(1, 64),
        st.none() | st.tuples(st.integers(0, 300), st.binary(min_size=1, max_size=1)),
    )
    def test_lines_compared_in_blocks(
        self, line: bytes, count: int, block: int, change: tuple[int, bytes] | None
    ) -> None:
        """A text is found to be one line repeated, compared a block at a time,
        exactly when it is (with any block size, any byte changed)."""
        text = bytearray(line * count)[:-1]
        if change is not None and text:
            text[change[0] % len(text)] = change[1][0]
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(entries, "_BLOCK", block)
            found = entries._repeated(bytes(text), line, count)
        assert found == (bytes(text) + line[-1:] == line * count)

    @given(
        st.text(alphabet="a0/7.9", min_size=1, max_size=6),
        st.integers(1, 40),
        st.integers(1, 64),
        st.none() | st.tuples(st.integers(0, 300), st.sampled_from("a0/7.9\n")),
    )
    def test_shapes_compared_in_blocks(
        self, path: str, count: int, block: int, change: tuple[int, str] | None
    ) -> None:
        """ASCII paths are found to share a shape, shaped a block at a time,
        exactly when the whole text shaped at once is that shape repeated."""
        text = list("\n".join([path] * count))
        if change is not None:
            text[change[0] % len(text)] = change[1]
        joined = "".join(text)
        line = path.translate(entries._ZEROS).encode() + b"\n"
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(entries, "_BLOCK", block)
            found = entries._shaped_lines(joined, line, count)
        whole = joined.encode().translate(entries._ZERO_BYTES) + b"\n"
        assert found == (whole == line * count)

    @given(
        st.sampled_from(GROUP_PATTERNS),
        st.text(alphabet="images/p_.#\né", min_size=1, max_size=16),
        st.lists(st.integers(0, 2**32), min_size=1, max_size=12),
    )
    def test_paths_of_one_shape(
        self, pattern: str, template: str, seeds: list[int]
    ) -> None:
        """Paths that differ in digits alone (one shape, read once for all) are
        normalised and grouped as each path alone is, their set of groups too."""
        paths = [
            "".join(
                str(random.Random(seed).randrange(10)) if c == "#" else c
                for c in template
            )
            for seed in seeds
        ]
        fields = EntryFields(group_pattern=re.compile(pattern))
        [found] = index_split({"train": [[p, 0] for p in paths]}, fields).values()
        assert found.paths == [normalize_path(p) for p in paths]
        groups = [fields.group(p or "") or None for p in found.paths]
        assert found.groups == groups
        assert found.group_set == frozenset(g for g in groups if g is not None)
        assert found.ungrouped == (None in groups)

    @given(
        st.lists(
            st.lists(
                st.none()
                | st.integers(-3, 3)
                | st.booleans()
                | st.sampled_from(["", " ", "P1", "1"]),
                max_size=4,
            )
            | st.fixed_dictionaries({"pid": st.sampled_from(["P1", 1])}),
            max_size=10,
        ),
        st.sampled_from([0, 2, -1, "pid"]),
    )
    def test_field_groups_are_each_entry_read(
        self, entries: list[object], field: int | str
    ) -> None:
        """Groups read from a field for all entries at once are those each entry
        gives alone (`EntryFields.entry_group`), and what `index_split` holds."""
        fields = EntryFields(group_field=field)
        alone = [fields.entry_group(entry) for entry in entries]
        assert field_groups(entries, field) == alone
        [found] = index_split({"train": entries}, fields).values()
        assert found.groups == alone
        assert found.group_set == frozenset(g for g in alone if g is not None)
        assert found.ungrouped == (None in alone)
        assert not {"", " "} & set(alone)  # blank values hold no group
        assert field_groups([["a", 1], ["b", "1"], ["c", True]], 1) == [
            "1",
            "1",
            "true",
        ]

    @pytest.mark.parametrize("pattern", GROUP_PATTERNS)
    def test_every_path_matches(self, pattern: str) -> None:
        """Paths that all have a group (the usual case) get each its own."""
        paths = [f"images/p{n:02d}/{n:08d}_00{n % 3}.png" for n in range(40)]
        fields = EntryFields(group_pattern=re.compile(pattern))
        [found] = index_split({"train": [[p, 0] for p in paths]}, fields).values()
        assert found.groups == [fields.group(p) or None for p in paths]


BLIND_PATTERNS = [
    r"(\d{8})_\d{3}",  # a patient number: digits alike
    r"(?P<group>[0-9a-f]+)/",
    r"^(\w+?)_",
    r"(\d+)\.png$",
    r"[/-:]{2}",  # a range around all digits
    r"(?=\d)(\d)\D",  # looking ahead
    r"(x)?(\d)",  # a group that may not take part
    r"\d(?<=\d)",  # looking behind
]
TELLING_PATTERNS = [
    r"case_1",  # a literal digit
    r"([1-5]+)",  # a range through some digits
    r"(\d)\1",  # a back reference
    r"(?P<group>\d)(?P=group)",
    r"\x31",  # an escaped digit
    r"\N{DIGIT ONE}",
    r"(a)?(?(1)\d|0)",  # a test of a group
    r"[^0-9]|0",
]
TEMPLATES = st.text(alphabet="ab_/.0x", min_size=1, max_size=12)


@st.composite
def shaped_paths(draw: st.DrawFn) -> list[str]:
    """Paths of at most three shapes, differing in their digits only."""
    templates = draw(st.lists(TEMPLATES, min_size=1, max_size=3))
    digits = draw(st.randoms(use_true_random=False))  # one draw for all digits
    return [
        "".join(digits.choice("0123456789") if c == "0" else c for c in template)
        for template in (
            templates[number % len(templates)]
            for number in range(draw(st.integers(24, 60)))
        )
    ]


class TestGroupsByShape:
    @pytest.mark.parametrize("pattern", BLIND_PATTERNS)
    def test_blind_patterns(self, pattern: str) -> None:
        """Patterns that cannot tell digits apart are searched once per shape."""
        assert _blind_to_digits(pattern, re.compile(pattern).flags)

    @pytest.mark.parametrize("pattern", TELLING_PATTERNS)
    def test_telling_patterns(self, pattern: str) -> None:
        """A literal digit, a partial range or a back reference: each path searched."""
        compiled = re.compile(pattern)
        assert not _blind_to_digits(pattern, compiled.flags)
        assert _groups_by_shape(["a/12_1.png"] * 20, compiled) is None

    @given(st.sampled_from(BLIND_PATTERNS), shaped_paths())
    def test_shapes_find_what_each_path_does(
        self, pattern: str, paths: list[str]
    ) -> None:
        """Groups found once per shape are those each path searched alone gives."""
        compiled = re.compile(pattern)
        found = _groups_by_shape(paths, compiled)
        assert found is not None  # few shapes: found by shape
        assert found == [EntryFields(group_pattern=compiled).group(p) for p in paths]
        assert path_groups(list(paths), compiled) == found

    def test_many_shapes(self) -> None:
        """Names that differ in more than digits are searched one by one."""
        paths = [f"{chr(97 + n % 26)}{n // 26}_1.png" for n in range(200)]
        pattern = re.compile(r"(\w+)_")
        assert _groups_by_shape(paths, pattern) is None
        assert path_groups(list(paths), pattern) == [p.split("_")[0] for p in paths]

    def test_many_shapes_after_few(self) -> None:
        """Shapes counted on the first paths, then on all: too many, each path."""
        paths = ["images/0001_0.png"] * 2_000
        paths += [f"{chr(97 + n % 26) * (n // 26 + 1)}_{n}.png" for n in range(300)]
        pattern = re.compile(r"([a-z]+|\d+)_")
        assert _groups_by_shape(paths, pattern) is None
        assert path_groups(list(paths), pattern) == [
            p.split("_")[0].split("/")[-1] for p in paths
        ]

    @pytest.mark.parametrize("leak_at", [0, 1_500, None])
    def test_large_sets_of_one_shape(self, leak_at: int | None) -> None:
        """Sets of one shape, leaking early, late or not: each entry's group, leaks.

        Groups cut out of a set whose first entries leak, and of one that leaks
        only further on, are each what its path searched alone gives, and the
        group leaks are those each group's sets give.
        """
        rng = random.Random(leak_at)
        patients = list(range(10_000))
        rng.shuffle(patients)
        own = {"train": patients[:6_000], "test": patients[6_000:]}
        split: dict[str, list[list[object]]] = {
            name: [[f"images/{p:08d}_{n % 7:03d}.png", 0] for n, p in enumerate(ps * 2)]
            for name, ps in own.items()
        }
        if leak_at is not None:
            split["test"][leak_at][0] = f"images/{own['train'][9]:08d}_900.png"
        pattern = re.compile(r"(\d{8})_")
        index = index_split(split, EntryFields(group_pattern=pattern))
        sets_of: dict[str, list[str]] = {}
        for name, entries_ in split.items():
            groups = [EntryFields(group_pattern=pattern).group(e[0]) for e in entries_]  # type: ignore[arg-type]  # a path
            assert index[name].groups == groups
            assert index[name].group_set == frozenset(groups)
            for group in dict.fromkeys(groups):
                sets_of.setdefault(group or "", []).append(name)
        leaks = find_leaks(split, group_pattern=pattern).group_leaks
        assert [(leak.group, leak.sets) for leak in leaks] == [
            (group, tuple(sets)) for group, sets in sets_of.items() if len(sets) > 1
        ]
        assert len(leaks) == (0 if leak_at is None else 1)

    def test_no_match(self) -> None:
        """A shape the pattern does not match leaves its paths without a group."""
        paths = ["images/0001_0.png"] * 10 + ["other/x.png"] * 10
        found = _groups_by_shape(paths, re.compile(r"(\d+)_"))
        assert found == ["0001"] * 10 + [None] * 10


class TestFindLeaks:
    @pytest.mark.parametrize(
        ("options", "said"),
        [
            pytest.param(
                {"path_field": "path"},
                "the path field `path` holds a path (a string) in no entry, so no "
                "path could be compared",
                id="path-field",
            ),
            pytest.param(
                {"label_field": "lbl"},
                "the label field `lbl` holds a label in no entry, so no label could "
                "be compared",
                id="label-field",
            ),
            pytest.param(
                {"group_pattern": r"(patient\d)/"},
                r"the group pattern `(patient\d)/` finds no group in any path of "
                "`train`, `validation` and `test` (such as p1/a.png)",
                id="group-pattern",
            ),
        ],
    )
    def test_check_left_undone_is_refused(
        self, options: dict[str, str], said: str
    ) -> None:
        """A field or pattern that reads nothing raises: a clean report would lie.

        The split has a path leak, a label conflict and a group leak, each of
        which the misspelt option would hide, as `lightsplit check` refuses it.
        """
        split = {"train": [["p1/a.png", 0]], "test": [["p1/a.png", 1]]}
        with pytest.raises(ValueError, match=re.escape(said)):
            find_leaks(split, **options)
        assert not find_leaks(split, group_pattern=r"(p\d)/").ok

    def test_clean(self) -> None:
        """A split without repeats reports nothing."""
        report = find_leaks({"train": [["a", 0]], "test": [["b", 1]]})
        assert report.ok
        assert report.problems == 0

    def test_duplicate_by_path(self) -> None:
        """A file listed twice in one set, spelled two ways, is a duplicate."""
        report = find_leaks({"train": [["a.png", 0], ["b", 1], ["./a.png", 0]]})
        assert report.duplicates == (
            Duplicate(
                "a.png",
                EntryRef("train", 0, ["a.png", 0]),
                EntryRef("train", 2, ["./a.png", 0]),
            ),
        )
        assert str(report.duplicates[0]) == (
            'train.2 repeats the file of train.0 ["a.png", 0]: ["./a.png", 0]'
        )
        again = find_leaks({"train": [["a.png", 0], ["a.png", 0]]}).duplicates[0]
        assert str(again) == 'train.1 repeats train.0: ["a.png", 0]'

    def test_path_leak(self) -> None:
        """A file in train and test is a path leak listing both entries."""
        report = find_leaks({"train": [["x/a.png", 0]], "test": [["x//a.png", 0]]})
        assert report.path_leaks == (
            PathLeak(
                "x/a.png",
                ("train", "test"),
                (
                    EntryRef("train", 0, ["x/a.png", 0]),
                    EntryRef("test", 0, ["x//a.png", 0]),
                ),
            ),
        )
        assert report.conflicts == ()

    def test_label_conflict(self) -> None:
        """One file with two labels is a conflict, its entries by label."""
        report = find_leaks({"train": [["a", 0]], "validation": [["a", 1]]})
        [conflict] = report.conflicts
        assert conflict == LabelConflict(
            "a",
            (0, 1),
            ((EntryRef("train", 0, ["a", 0]),), (EntryRef("validation", 0, ["a", 1]),)),
        )
        assert str(conflict) == "a has 2 labels: 0 (train.0), 1 (validation.0)"

    def test_joined_names_by_separator(self) -> None:
        """With a separator, names joined in another order are the same label."""
        split = {
            "train": [["a.png", "Effusion|Nodule"], ["b.png", "Mass"]],
            "test": [["a.png", "Nodule | Effusion"], ["b.png", "Mass|Nodule"]],
        }
        report = find_leaks(split, label_separator="|")
        assert [c.path for c in report.conflicts] == ["b.png"]
        assert report.conflicts[0].labels == (["Mass"], ["Mass", "Nodule"])
        assert [c.path for c in find_leaks(split).conflicts] == ["a.png", "b.png"]

    def test_labels_compare_as_json(self) -> None:
        """``1``, ``1.0`` and ``true`` are three labels; an unlabelled entry none."""
        report = find_leaks({"train": [["a", 1], ["a", 1.0], ["a", True], ["a"]]})
        [conflict] = report.conflicts
        assert conflict.labels == (1, 1.0, True)

    def test_class_lists_in_any_order(self) -> None:
        """A list of classes, names or numbers, is a set of classes: in another
        order it is the same label (as `card` reads them, "lists of classes");
        a 0/1 vector, where every label is one, is read by position."""
        names = {
            "train": [["a", ["Mass", "Effusion"]], ["b", ["Mass"]]],
            "monitor-train": [["a", ["Effusion", "Mass"]]],
        }
        assert find_leaks(names).conflicts == ()
        numbers: dict[str, list[list[object]]] = {
            "train": [["a", [2, 5]], ["b", [1]], ["c", []]],
            "monitor-train": [["a", [5, 2]]],
        }
        assert find_leaks(numbers).conflicts == ()
        numbers["monitor-train"] = [["a", [5, 3]]]
        [conflict] = find_leaks(numbers).conflicts
        assert conflict.labels == ([2, 5], [5, 3])
        vectors = {"train": [["b", [0, 1]]], "monitor-train": [["b", [1, 0]]]}
        [by_position] = find_leaks(vectors).conflicts
        assert (by_position.path, by_position.labels) == ("b", ([0, 1], [1, 0]))

    @pytest.mark.parametrize("fast", [True, False], ids=["arrays", "objects-too"])
    @pytest.mark.parametrize(
        ("labels", "other", "mask"),
        [
            (("tb/active", "N/A", "tb/latent"), "test", "masks/c.png"),
            (("tb.pos", "grade.high", "tb.neg"), "monitor-site2", "masks/c.pos"),
        ],
        ids=["slashes", "dots"],
    )
    def test_labels_that_name_no_file(
        self, fast: bool, labels: tuple[str, str, str], other: str, mask: str
    ) -> None:
        """``tb/active``, ``N/A``, ``tb.pos`` and ``grade.high`` are labels; a
        second string in a folder with a file's suffix is a mask."""
        extra: list[object] = [] if fast else [{"path": "z.png", "label": 0}]
        first, second, third = labels
        split: dict[str, list[object]] = {
            "train": [["a.png", first], ["b.png", second], *extra],
            other: [["a.png", third], ["c.png", mask]],
        }
        index = index_split(split, EntryFields())
        assert index["train"].labels[:2] == [first, second]
        assert index[other].labels == [third, None]  # a mask, no label
        [conflict] = find_leaks(split).conflicts
        assert conflict.labels == (first, third)

    @given(
        st.lists(
            st.sampled_from(
                [
                    *("m/a.png", "b.png", "c.nii", "tb/active", "N/A", "1.5"),
                    *("x.png\n", "", "tb.pos", "m/b.pos", "grade.high"),
                ]
            ),
            min_size=1,
            max_size=12,
        )
    )
    @example(["m/b.pos", "tb.pos"])  # a file by its folder, then a label
    def test_second_strings_read_alike_at_once_or_one_by_one(
        self, seconds: list[str]
    ) -> None:
        """Second strings that are all files, or none, read as one at a time.

        A set whose second strings all end with one suffix (a segmentation
        split's masks), or hold no ``.``, is read at once: the labels must be
        those that testing each string for a file name (`names_file`) gives.
        """
        split = {"train": [[f"{i}.png", second] for i, second in enumerate(seconds)]}
        expected = [None if names_file(s) else s for s in seconds]
        assert index_split(split, EntryFields())["train"].labels == expected

    def test_folderless_files_of_every_data_suffix(self) -> None:
        """A second string without a folder is a file by a data file's suffix,
        in any case (``a.PGM``, a Netpbm image as MIAS's; ``b.jp2``): every such
        suffix reads as one (`FILE_SUFFIX` finds all but the longest, as
        Philips's ``.isyntax``); ``site.A`` is a label."""
        for suffix in sorted(DATA_SUFFIXES):
            assert FILE_SUFFIX.search(f"a{suffix}") or len(suffix) > 6, suffix
            assert names_file(f"a{suffix.upper()}"), suffix
            assert not names_file(f"a{suffix}x"), suffix
        split = {
            "train": [
                ["a.png", "a.PGM"],
                ["b.png", "b.jp2"],
                ["c.png", "site.A"],
                ["d.png", "d.iSyntax"],
            ]
        }
        labels = index_split(split, EntryFields())["train"].labels
        assert labels == [None, None, "site.A", None]
        slides = {"train": [[f"{i}.png", f"{i}.isyntax"] for i in range(3)]}
        assert index_split(slides, EntryFields())["train"].labels == [None] * 3

    def test_all_labels_with_one_dotted_end(self) -> None:
        """Labels that all end alike (``x.pos``) are labels, not masks."""
        split = {"train": [["a.png", "tb.pos"], ["b.png", "hiv.pos"]]}
        assert index_split(split, EntryFields())["train"].labels == [
            "tb.pos",
            "hiv.pos",
        ]

    @pytest.mark.parametrize(
        ("entry", "fields", "path"),
        [
            ({"label": "tb", "path": "images/a.png"}, EntryFields(), "images/a.png"),
            ({"y": "tb", "image": "a.png"}, EntryFields(label_field="y"), "a.png"),
            (["tb", "images/a.png"], EntryFields(label_field=0), "images/a.png"),
            (["tb", "images/a.png"], EntryFields(label_field=-2), "images/a.png"),
            (["a.png", "tb"], EntryFields(label_field=1), "a.png"),
            ({"label": "a.png"}, EntryFields(), None),
        ],
    )
    def test_label_is_never_the_path(
        self, entry: object, fields: EntryFields, path: str | None
    ) -> None:
        """Without a path field, the path is the first string that is not the label."""
        assert fields.path(entry) == path

    def test_label_first_entries_are_no_duplicates(self) -> None:
        """Entries that write their label first are told apart by their paths."""
        split: dict[str, list[object]] = {
            "train": [["tb", "images/a.png"], ["tb", "images/b.png"]],
            "test": [["normal", "images/c.png"], ["normal", "images/d.png"]],
        }
        fields = EntryFields(label_field=0)
        index = index_split(split, fields)
        assert index["train"].paths == ["images/a.png", "images/b.png"]
        assert index["train"].labels == ["tb", "tb"]
        found = find_leaks(split, label_field=0)
        assert found.problems == 0

    def test_object_label_naming_a_file(self) -> None:
        """An object entry's `label` that names a file is a mask: no label."""
        split: dict[str, list[object]] = {
            "train": [
                {"image": "a.nii", "label": "a_seg.nii"},
                {"image": "b", "label": 1},
            ]
        }
        assert index_split(split, EntryFields())["train"].labels == [None, 1]

    def test_images_of_several_modalities(self) -> None:
        """An image given as a list of paths is found by its first path."""
        split: dict[str, list[object]] = {
            "train": [[["a/t1.nii", "a/t2.nii"], "a/seg.nii"]],
            "test": [[["a/t1.nii", "a/t2.nii"]]],
        }
        [leak] = find_leaks(split).path_leaks
        assert (leak.path, leak.sets) == ("a/t1.nii", ("train", "test"))
        assert index_split(split, EntryFields())["train"].labels == [None]

    def test_group_leak(self) -> None:
        """A group in two of train, validation and test is a leak with its entries."""
        split = {
            "train": [["images/00000001_000.png", 0], ["images/00000002_000.png", 0]],
            "validation": [["images/00000003_000.png", 1]],
            "test": [["images/00000001_002.png", 1], ["images/00000003_001.png", 0]],
        }
        report = find_leaks(split, group_pattern=r"images/(\d{8})_")
        assert [
            (g.group, g.sets, [str(r) for r in g.entries]) for g in report.group_leaks
        ] == [
            ("00000001", ("train", "test"), ["train.0", "test.0"]),
            ("00000003", ("validation", "test"), ["validation.0", "test.1"]),
        ]
        assert isinstance(report.group_leaks[0], GroupLeak)

    def test_group_pattern_forms(self) -> None:
        """The named group ``group``, else the first group, else the whole match."""
        split = {"train": [["s1/p2/a.png", 0]], "test": [["s2/p2/b.png", 0]]}
        assert find_leaks(split, group_pattern=r"(s\d)/(?P<group>p\d)").group_leaks
        assert not find_leaks(split, group_pattern=r"(s\d)/(p\d)").group_leaks
        assert find_leaks(split, group_pattern=r"p\d").group_leaks
        assert find_leaks(split, group_pattern=re.compile(r"P\d", re.I)).group_leaks

    def test_monitor_sets_left_out(self) -> None:
        """Monitor sets repeat paths and groups of other sets without leaking."""
        split = {
            "train": [["p1/a", 0]],
            "test": [["p2/b", 1]],
            "monitor-train": [["p1/a", 0]],
            "monitor-test": [["p2/b", 1], ["p1/c", 0]],
        }
        report = find_leaks(split, group_pattern=r"(p\d)/")
        assert report.ok

    def test_monitor_duplicates_found(self) -> None:
        """A monitor set listing one file twice still has a duplicate."""
        report = find_leaks({"train": [["a", 0]], "monitor-x": [["a", 0], ["a", 0]]})
        assert [str(d.again) for d in report.duplicates] == ["monitor-x.1"]

    def test_ungrouped_and_pathless(self) -> None:
        """Entries the pattern misses, and entries without a path, are listed."""
        split: dict[str, list[list[object]]] = {
            "train": [["p1/a", 0], ["b", 0], [3, 4]],
            "test": [[3, 4]],
        }
        report = find_leaks(split, group_pattern=r"(p\d)/")
        assert [str(r) for r in report.ungrouped] == ["train.1"]
        assert [str(r) for r in report.pathless] == ["train.2", "test.0"]
        assert [leak.path for leak in report.path_leaks] == ["[3, 4]"]

    def test_fields(self) -> None:
        """Named fields choose the path and the label of object entries."""
        split = {
            "train": [{"id": "a", "file": "x.png", "y": 0}],
            "test": [{"id": "b", "file": "x.png", "y": 1}],
        }
        assert find_leaks(split).ok
        report = find_leaks(split, path_field="file", label_field="y")
        assert [c.labels for c in report.conflicts] == [(0, 1)]

    def test_composed_and_decomposed_names(self) -> None:
        """A name typed composed (NFC) or decomposed (NFD, macOS) is one file."""
        report = find_leaks(
            {
                "train": [["\u00fc/caf\u00e9.png", 0]],
                "test": [["u\u0308/cafe\u0301.png", 0]],
            }
        )
        [leak] = report.path_leaks
        assert (leak.path, leak.sets) == ("\u00fc/caf\u00e9.png", ("train", "test"))

    def test_misspelt_set_name(self) -> None:
        """A set name no split file may hold is refused, not left out silently."""
        with pytest.raises(ValueError, match="`validaton` is not a valid set name; "):
            find_leaks({"train": [["a", 0]], "validaton": [["a", 0]]})

    def test_records_are_frozen(self) -> None:
        """Records cannot be changed."""
        ref = EntryRef("train", 0, ["a", 0])
        with pytest.raises(dataclasses.FrozenInstanceError):
            ref.index = 1  # type: ignore[misc]  # the point of the test
        with pytest.raises(dataclasses.FrozenInstanceError, match="delete field"):
            del ref.entry

    def test_records_made_typed(self) -> None:
        """``Record[T](...)``, as typed code may write it, makes a frozen record."""
        ref = EntryRef[tuple[str, int]]("train", 0, ("a.png", 0))
        made: list[object] = [
            ref,
            Duplicate[tuple[str, int]]("a.png", ref, ref),
            PathLeak[tuple[str, int]]("a.png", ("train",), (ref,)),
            LabelConflict[tuple[str, int]]("a.png", (0, 1), ((ref,), (ref,))),
            GroupLeak[tuple[str, int]]("p1", ("train",), (ref,)),
            SampleFailure[tuple[str, int]]("train", 0, ("a.png", 0), "OSError: x"),
        ]
        kinds = [EntryRef, Duplicate, PathLeak, LabelConflict, GroupLeak, SampleFailure]
        assert [type(record) for record in made] == kinds
        for record in made:
            field = dataclasses.fields(record)[0].name  # type: ignore[arg-type]
            with pytest.raises(dataclasses.FrozenInstanceError):
                setattr(record, field, None)

    def test_group_field_leak(self) -> None:
        """A group field's value is the group, as text: a patient written ``17``
        in one set and ``"17"`` in another leaks, with every entry of it; an
        entry whose field is missing, empty or null is ungrouped."""
        split: dict[str, list[list[object]]] = {
            "train": [["a.png", 0, 17], ["b.png", 1, 18], ["c.png", 0, None]],
            "validation": [["d.png", 1, 19]],
            "test": [["e.png", 1, "17"], ["f.png", 0, ""], ["g.png", 0], ["h", 1, 17]],
        }
        report = find_leaks(split, group_field=2)
        assert [
            (g.group, g.sets, [str(r) for r in g.entries]) for g in report.group_leaks
        ] == [("17", ("train", "test"), ["train.0", "test.0", "test.3"])]
        assert [str(r) for r in report.ungrouped] == ["train.2", "test.1", "test.2"]

    def test_group_field_of_objects(self) -> None:
        """A key names the group of object entries; the paths play no part."""
        split = {
            "train": [{"image": "x/1.png", "label": 0, "PatientID": "P1"}],
            "test": [{"image": "y/2.png", "label": 1, "PatientID": "P1"}],
        }
        [leak] = find_leaks(split, group_field="PatientID").group_leaks
        assert (leak.group, [str(r) for r in leak.entries]) == (
            "P1",
            ["train.0", "test.0"],
        )
        assert find_leaks(split, group_pattern=r"^(\w)/").ok  # by path: no leak

    def test_group_field_held_nowhere(self) -> None:
        """A group field no evaluated entry holds raises, naming what they hold."""
        split = {"train": [["p1/a.png", 0]], "test": [["p1/b.png", 1]]}
        with pytest.raises(ValueError, match="group field") as raised:
            find_leaks(split, group_field="PatientID")
        assert str(raised.value) == (
            "the group field `PatientID` holds a group in no entry of `train`, "
            "`validation` and `test`, so no group leak could be checked; name the "
            "field that holds each entry's group (a position 0, 1, ... or a key); "
            'the entries are arrays of 2 items (such as ["p1/a.png", 0]); give '
            "a position from 0 to 1"
        )

    def test_pattern_and_field_refused(self) -> None:
        """A group pattern and a group field together are refused, naming both."""
        with pytest.raises(ValueError, match="both given") as raised:
            find_leaks({"train": [["a", 0, 1]]}, group_pattern="a", group_field=2)
        assert str(raised.value) == (
            "`group_pattern` and `group_field` are both given; an entry's group is "
            "found in its path by the pattern or read from the field: give one"
        )
        with pytest.raises(ValueError, match="are both given"):
            EntryFields(group_pattern=re.compile("a"), group_field=2)

    def test_bad_pattern(self) -> None:
        """A group pattern that is no regular expression says so."""
        with pytest.raises(ValueError, match=re.escape("group pattern `(` is not a")):
            find_leaks({"train": []}, group_pattern="(")

    @given(
        st.lists(
            st.tuples(
                st.sampled_from(["a", "./a", "b", "c/../b", "d"]), st.integers(0, 1)
            ),
            max_size=8,
        ),
        st.lists(
            st.tuples(st.sampled_from(["a", "b", "e"]), st.integers(0, 1)), max_size=8
        ),
    )
    def test_leaks_are_shared_paths(
        self, train: list[tuple[str, int]], test: list[tuple[str, int]]
    ) -> None:
        """The leaked paths are exactly the normalised paths both sets hold."""
        report = find_leaks({"train": train, "test": test})
        shared = {normalize_path(p) for p, _ in train} & {
            normalize_path(p) for p, _ in test
        }
        assert {leak.path for leak in report.path_leaks} == shared

    @given(
        st.dictionaries(
            st.sampled_from(["train", "validation", "test", "monitor-x"]),
            st.lists(st.sampled_from(["p1/a.png", "p2/b.png", "p3/c.png", "u.png"])),
        )
    )
    def test_group_leaks_as_set_by_set(self, sets: dict[str, list[str]]) -> None:
        """Group leaks and ungrouped entries, as a reading of each entry finds them.

        A group leaks when two of train, validation and test hold it; its entries
        are all of theirs, in split order. Monitor sets take no part.
        """
        split = {name: [[path, 0] for path in paths] for name, paths in sets.items()}
        evaluated = [
            (n, i, p)
            for n, ps in sets.items()
            if n != "monitor-x"
            for i, p in enumerate(ps)
        ]
        if evaluated and all(p == "u.png" for _, _, p in evaluated):
            # a pattern that groups nothing checks nothing: refused, not passed
            with pytest.raises(ValueError, match="finds no group in any path"):
                find_leaks(split, group_pattern=r"^(p\d)/")
            return
        report = find_leaks(split, group_pattern=r"^(p\d)/")
        holders: dict[str, set[str]] = {}
        for name, _, path in evaluated:
            if path != "u.png":
                holders.setdefault(path[:2], set()).add(name)
        leaking = {group for group, names in holders.items() if len(names) > 1}
        assert {
            leak.group: [(r.set_name, r.index) for r in leak.entries]
            for leak in report.group_leaks
        } == {
            group: [(n, i) for n, i, p in evaluated if p[:2] == group]
            for group in leaking
        }
        assert [(r.set_name, r.index) for r in report.ungrouped] == [
            (n, i) for n, i, p in evaluated if p == "u.png"
        ]
        in_order = dict.fromkeys(p[:2] for _, _, p in evaluated if p[:2] in leaking)
        assert [(leak.group, leak.sets) for leak in report.group_leaks] == [
            (group, tuple(n for n in sets if n in holders[group])) for group in in_order
        ]


class TestGroupLeakRecords:
    """Group leaks whose entries are found when first read, as records."""

    SPLIT: ClassVar[dict[str, list[tuple[str, int]]]] = {
        "train": [("p1/a.png", 0), ("p2/b.png", 1), ("p1/c.png", 0), ("p3/d.png", 1)],
        "validation": [("p2/e.png", 0), ("p4/f.png", 1)],
        "test": [("p1/g.png", 1), ("p4/h.png", 0)],
    }

    def plain(self) -> list[GroupLeak[tuple[str, int]]]:
        """The leaks of `SPLIT`, made as a user makes them."""
        train, validation, test = (self.SPLIT[n] for n in self.SPLIT)
        return [
            GroupLeak(
                "p1",
                ("train", "test"),
                (
                    EntryRef("train", 0, train[0]),
                    EntryRef("train", 2, train[2]),
                    EntryRef("test", 0, test[0]),
                ),
            ),
            GroupLeak(
                "p2",
                ("train", "validation"),
                (
                    EntryRef("train", 1, train[1]),
                    EntryRef("validation", 0, validation[0]),
                ),
            ),
            GroupLeak(
                "p4",
                ("validation", "test"),
                (
                    EntryRef("validation", 1, validation[1]),
                    EntryRef("test", 1, test[1]),
                ),
            ),
        ]

    def test_records_as_made(self) -> None:
        """Equal, hashed, shown, copied, pickled and replaced as `GroupLeak`s are."""
        import copy  # noqa: PLC0415
        import pickle  # noqa: PLC0415

        found = find_leaks(self.SPLIT, group_pattern=r"(p\d)/").group_leaks
        plain = self.plain()
        assert list(found) == plain
        assert plain == list(found)  # from either side
        assert all(isinstance(leak, GroupLeak) for leak in found)
        assert [repr(leak) for leak in found] == [repr(leak) for leak in plain]
        assert {leak: leak.group for leak in found}[plain[1]] == "p2"
        for leak, made in zip(found, plain, strict=True):
            assert pickle.loads(pickle.dumps(leak)) == made
            assert copy.deepcopy(leak) == made
            assert dataclasses.asdict(leak) == dataclasses.asdict(made)
            moved = dataclasses.replace(leak, group="q")
            assert (moved.group, moved.entries) == ("q", made.entries)
        with pytest.raises(dataclasses.FrozenInstanceError):
            found[0].entries = ()  # type: ignore[misc]  # frozen, as `GroupLeak`

    def test_records_as_found(self) -> None:
        """Entries as the split held them when searched: editing it changes none."""
        split = {name: list(entries) for name, entries in self.SPLIT.items()}
        found = find_leaks(split, group_pattern=r"(p\d)/").group_leaks
        split["test"][0] = ("p9/z.png", 1)  # the leak fixed, say
        split["validation"].pop()
        assert list(found) == self.plain()
        with pytest.raises(dataclasses.FrozenInstanceError, match="of a GroupLeak"):
            found[0].group = "p2"  # type: ignore[misc]  # frozen, as `GroupLeak`

    def test_entries_read_by_threads_at_once(self) -> None:
        """Threads reading a fresh report's entries at once each get them all."""
        patients = 20_000
        split = {
            "train": [[f"{p:08d}_000.png", 0] for p in range(patients)],
            "validation": [[f"{p:08d}_001.png", 0] for p in range(0, patients, 2)],
            "test": [[f"{p:08d}_002.png", 0] for p in range(patients)],
        }
        interval = sys.getswitchinterval()
        sys.setswitchinterval(1e-6)  # threads take turns as often as may be
        try:
            for _ in range(5):
                leaks = find_leaks(split, group_pattern=r"(\d{8})_").group_leaks
                start = threading.Barrier(4)

                def read(
                    leak: GroupLeak[list[object]], start: threading.Barrier
                ) -> int:
                    start.wait()
                    return len(leak.entries)

                with ThreadPoolExecutor(4) as pool:
                    chosen = [leaks[0], leaks[1], leaks[-1], leaks[2]]
                    sizes = list(pool.map(read, chosen, [start] * 4))
                assert sizes == [3, 2, 2, 3]
        finally:
            sys.setswitchinterval(interval)

    @given(
        st.dictionaries(
            st.sampled_from(["train", "validation", "test"]),
            st.lists(st.sampled_from(["p1/a", "p2/b", "p3/c", "p4/d", "p5/e"])),
        ),
        st.sets(st.integers(0, 4)),
    )
    def test_entries_found_for_some_first(
        self, sets: dict[str, list[str]], first: set[int]
    ) -> None:
        """Entries found for the leaks a report shows, then for all, as read at once.

        Whichever leaks have their entries found first, every leak's entries
        are those of its group in its sets, in split order, each found once.
        """
        split = {name: [[path, 0] for path in paths] for name, paths in sets.items()}
        if not any(split.values()):
            return
        expected = {
            group: [
                (name, i)
                for name, paths in sets.items()
                for i, path in enumerate(paths)
                if path[:2] == group
            ]
            for group in {p[:2] for paths in sets.values() for p in paths}
        }
        leaks = find_leaks(split, group_pattern=r"^(p\d)/").group_leaks
        find_entries(leak for i, leak in enumerate(leaks) if i in first)
        for leak in leaks:
            assert [(r.set_name, r.index) for r in leak.entries] == expected[leak.group]
            assert all(r.entry is split[r.set_name][r.index] for r in leak.entries)
            assert leak.entries is leak.entries  # found once, then kept


PATH_TEXT = st.text(alphabet="ab0123_/.\\\n\u00e9e\u0301", max_size=10)
"""Paths with digits, separators, backslashes, line ends and accents both ways."""


LABELS = st.one_of(st.integers(-1, 300), st.booleans(), st.just(1.0))
"""Labels counted as bytes (0 to 255) or not, and labels equal to them as Python
values but not as JSON (``true``, ``1.0``)."""


@given(
    st.lists(
        st.one_of(
            st.tuples(PATH_TEXT, LABELS).map(list),
            st.tuples(PATH_TEXT).map(list),
            st.tuples(st.integers(0, 2), PATH_TEXT).map(list),
            st.tuples(PATH_TEXT, LABELS),
            st.just([]),
            PATH_TEXT,
        ),
        max_size=30,
    ),
    st.sampled_from([r"(\d+)_", r"a(\d)", r"^([^/]*)/", r"(b)?\d"]),
)
@example([["", 0], ["./a\n1_", 1]], r"(\d+)_")  # an empty path, then a line end
@example([["a.png", 0], ("b.png", 1)], r"(\d+)_")  # a list, then a tuple
@example([["a.png", 0], "b1_"], r"(\d+)_")  # a list, then a string
def test_index_reads_each_entry_alone(samples: list[object], pattern: str) -> None:
    """The paths, labels and groups read at once are those each entry gives alone.

    Whatever the entries hold: empty paths, line ends, backslashes, decomposed
    accents, entries without a path or a label, lists, tuples and strings
    mixed. The labels are counted as `tally_key` tells them apart, in the
    order they are first found.
    """
    fields = EntryFields(group_pattern=re.compile(pattern))
    found = index_split({"train": samples}, fields)["train"]
    written = [fields.path(entry) for entry in samples]
    paths = [None if path is None else normalize_path(path) for path in written]
    assert found.paths == paths
    assert found.labels == [fields.label(entry) for entry in samples]
    # an empty group (an optional group left out) is no group
    assert found.groups == [(path and fields.group(path)) or None for path in paths]
    assert found.backslashed == any("\\" in path for path in paths if path)
    tally = Counter(map(tally_key, found.labels))
    assert list(found.tally.items()) == list(tally.items())


@given(st.lists(st.integers(-2, 300) | st.sampled_from([0, 1, 2, 255]), max_size=60))
def test_integer_labels_counted_as_counter_counts(labels: list[int]) -> None:
    """Integer labels are counted as `Counter` counts them, in its order.

    Those from 0 to 255 are counted as bytes; any other sends all to `Counter`.
    """
    assert list(tally_labels(labels).items()) == list(Counter(labels).items())
    assert list(tally_labels(labels, {int}).items()) == list(Counter(labels).items())


@given(st.lists(st.integers(0, 9), max_size=12))
def test_entry_refs_in_bulk(indices: list[int]) -> None:
    """Records made in bulk are those the class makes: equal, frozen, alike."""
    samples = [[f"{n}.png", n] for n in range(10)]
    made = _entry_refs("test", indices, [samples[i] for i in indices])
    assert made == [EntryRef("test", i, samples[i]) for i in indices]
    assert [repr(ref) for ref in made] == [
        repr(EntryRef("test", i, samples[i])) for i in indices
    ]
    for ref in made:
        with pytest.raises(dataclasses.FrozenInstanceError):
            ref.index = 0  # type: ignore[misc]  # frozen
        assert dataclasses.fields(ref) == dataclasses.fields(EntryRef)
        assert dataclasses.astuple(ref) == ("test", ref.index, samples[ref.index])


@dataclasses.dataclass(frozen=True)
class DataclassEntry:
    path: str
    label: int


class ModelEntry(BaseModel):
    path: str
    label: int


class TupleEntry(NamedTuple):
    path: str
    label: int


TYPED_ENTRIES = pytest.mark.parametrize(
    "kind", [DataclassEntry, ModelEntry, TupleEntry], ids=lambda kind: kind.__name__
)
"""The typed entries `load_split` makes (``sample_type``), each read by name."""


@TYPED_ENTRIES
@pytest.mark.parametrize("named", [False, True], ids=["default-fields", "named"])
def test_typed_entries(kind: type[DataclassEntry], named: bool) -> None:
    """Dataclass, pydantic and named-tuple entries are read by their fields, as
    objects are by key: their leaks, conflicts and groups are found."""
    split = {
        "train": [kind(path="p1/a.png", label=0), kind(path="p2/b.png", label=1)],
        "test": [kind(path="./p1/a.png", label=1)],
    }
    fields = {"path_field": "path", "label_field": "label"} if named else {}
    report = find_leaks(split, group_pattern=r"(p\d)/", **fields)
    assert [leak.path for leak in report.path_leaks] == ["p1/a.png"]
    assert [conflict.labels for conflict in report.conflicts] == [(0, 1)]
    assert [leak.group for leak in report.group_leaks] == ["p1"]
    assert report.pathless == ()
    assert report.path_leaks[0].entries[1].entry is split["test"][0]


@TYPED_ENTRIES
def test_typed_entries_split_by_group(kind: type[DataclassEntry]) -> None:
    """`split_samples` groups typed entries by the pattern, keeping the objects."""
    entries = [kind(path=f"p{i % 5}/{i}.png", label=i % 2) for i in range(40)]
    made = split_samples(entries, group_pattern=r"(p\d)/", seed=1)
    groups = {name: {e.path[:2] for e in made[name]} for name in made}
    assert not groups["train"] & (groups["validation"] | groups["test"])
    assert sorted(id(e) for s in made.values() for e in s) == sorted(map(id, entries))


class LabelFirst(NamedTuple):
    label: int
    path: str


class AliasedEntry(BaseModel):
    image_path: str = Field(alias="img")
    target: int = Field(alias="y")


def test_typed_entries_by_name_not_position() -> None:
    """A named tuple is read by its field names, as a dataclass is, whatever
    their order (its label before its path); a pydantic model also by the
    aliases its JSON is written with."""
    split = {
        "train": [LabelFirst(0, "p1/a.png")],
        "test": [LabelFirst(1, "./p1/a.png")],
    }
    report = find_leaks(split)
    assert [conflict.labels for conflict in report.conflicts] == [(0, 1)]
    assert find_leaks(split, path_field=1, label_field=0).conflicts  # positions too
    aliased = {
        "train": [AliasedEntry(img="p1/a.png", y=0)],
        "test": [AliasedEntry(img="p1/a.png", y=1)],
    }
    for fields in (
        {"path_field": "img", "label_field": "y"},
        {"label_field": "target"},
    ):
        found = find_leaks(aliased, **fields)
        assert [conflict.labels for conflict in found.conflicts] == [(0, 1)]
