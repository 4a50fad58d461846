"""The label warnings of ``check``: counts and examples, whatever the labels."""

import json
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lightsplit._classes import reads_as_number
from lightsplit._entries import EntryFields, index_split
from lightsplit._errors import MAX_LISTED
from lightsplit._leaks import leaks_in
from lightsplit._lint import WarningKind, lint_split

LABELS = st.one_of(
    st.integers(-3, 3),
    st.sampled_from(["0", "1", "-2.5", "tb", "cat", "masks/a.png", "b.jpg"]),
    st.lists(st.integers(0, 1), max_size=3),
    st.lists(st.sampled_from(["car", "her", "1"]), min_size=1, max_size=2),
    st.lists(st.sampled_from(["car", 1]), min_size=2, max_size=2),
    st.booleans(),
    st.floats(-2, 2, allow_nan=False),
    st.none(),
)
SPLITS = st.dictionaries(
    st.sampled_from(["train", "validation", "test", "monitor-a"]),
    st.lists(st.tuples(st.just("x.png"), LABELS).map(list), max_size=12),
    min_size=1,
)


def _expected(
    split: dict[str, list[list[object]]], *, numeric: bool
) -> tuple[int, list[tuple[str, int]]]:
    """Count and list, entry by entry, the labels a warning is about."""
    places = []
    fields = EntryFields()
    for name, entries in split.items():
        for i, entry in enumerate(entries):
            label = fields.label(entry)
            integer = label is None or type(label) is int
            integers = type(label) is list and all(type(x) is int for x in label)
            names = (
                type(label) is list
                and bool(label)
                and all(type(x) is str and not reads_as_number(x) for x in label)
            )
            if integer or integers or names:
                continue
            if (isinstance(label, str) and reads_as_number(label)) == numeric:
                places.append((name, i))
    return len(places), places[:MAX_LISTED]


@given(SPLITS)
def test_label_warnings_count_and_show_the_first(
    split: dict[str, list[list[object]]],
) -> None:
    """Each label warning counts every label it is about and shows the first ones.

    Labels are judged once per different label, then examples are looked for
    only until enough are found: both must agree with judging every entry.
    """
    index = index_split(split, EntryFields())
    warnings = lint_split(split, index, leaks_in(split, index), labels=True)
    found = {w.kind: w for w in warnings}
    kinds: tuple[tuple[WarningKind, bool], ...] = (
        ("label_numeric_string", True),
        ("label_not_integer", False),
    )
    for kind, numeric in kinds:
        count, places = _expected(split, numeric=numeric)
        if not count:
            assert kind not in found
            continue
        warning = found[kind]
        assert warning.count == count
        assert [(r.set_name, r.index) for r in warning.examples] == places
        assert [r.entry for r in warning.examples] == [
            split[name][i] for name, i in places
        ]


def test_masks_are_no_labels() -> None:
    """A second file (a segmentation mask) is no label, with or without a folder."""
    split = {"train": [["a.png", "masks/a.png"], ["b.png", "b_mask.png"], ["c", 1]]}
    index = index_split(split, EntryFields())
    assert index["train"].labels == [None, None, 1]


def _lint(split: dict[str, list[object]]) -> dict[WarningKind, str]:
    index = index_split(split, EntryFields())
    found = lint_split(split, index, leaks_in(split, index), labels=False)
    return {warning.kind: warning.message for warning in found}


def test_object_paths_from_varied_keys() -> None:
    """Key order that gives object entries paths from two keys is a warning."""
    split: dict[str, list[object]] = {
        "train": [
            {"id": "p1", "image": "a.png", "label": 0},
            {"id": "p2", "image": "b.png", "label": 1},
        ],
        "test": [{"image": "a.png", "id": "p3", "label": 0}],
    }
    assert _lint(split)["entry_path_key"] == (
        "the paths of object entries (their first string) come from different "
        "keys: `id` in 2 entries (train.0, ...), `image` in 1 entry (test.0); name "
        "the key of the path with `--path-field`"
    )


def test_object_paths_from_a_key_naming_no_file() -> None:
    """A first string that names no file, next to one that does, is a warning."""
    split: dict[str, list[object]] = {
        "train": [{"id": "p1", "image": "x/a.png"}, {"id": "p2", "image": "x/b"}],
    }
    message = _lint(split)["entry_path_key"]
    assert message.startswith(
        "the paths of object entries are their first string, under `id` (such "
        'as {"id": '
    )
    assert message.endswith(
        "while `image` does; name the key of the path with `--path-field`"
    )


def test_object_paths_alike_are_no_warning() -> None:
    """Paths from one key, or from names that all look alike, are no warning."""
    alike: dict[str, list[object]] = {"train": [{"exam": "Train/2_L", "label": 0}]}
    codes: dict[str, list[object]] = {"train": [{"id": "p1", "site": "north"}]}
    arrays: dict[str, list[object]] = {"train": [["a.png", 0]]}
    for split in (alike, codes, arrays):
        assert "entry_path_key" not in _lint(split)


def test_backslash_paths() -> None:
    """Paths written with Windows' separator are a warning, counted and shown."""
    split: dict[str, list[object]] = {
        "train": [[f"images\\{i}.png", 0] for i in range(6)],
        "test": [["images/0.png", 0], ["scans\\b.png", 1]],
    }
    index = index_split(split, EntryFields())
    [warning] = [
        w
        for w in lint_split(split, index, leaks_in(split, index), labels=False)
        if w.kind == "path_backslash"
    ]
    assert warning.count == 7
    assert [str(ref) for ref in warning.examples] == [f"train.{i}" for i in range(5)]
    assert warning.message.startswith(
        "7 paths hold a backslash `\\`, a folder separator on Windows alone: Linux "
        "and macOS read `images\\0.png` as one file name, not as `images/0.png`"
    )
    assert warning.message.endswith(
        'train.4 ["images\\\\4.png", 0] and 2 more; write the paths with `/`, '
        "which every system reads"
    )
    assert "path_backslash" not in _lint({"test": [["images/0.png", 0]]})


@pytest.mark.parametrize(
    "path", [" a.png", "a.png ", "a.png\t", "\ta.png", "x/a.png ", "a.png  "]
)
def test_paths_with_edge_spaces(path: str) -> None:
    """A path that starts or ends with a space or a tab, wherever it is in its
    set, is a warning naming it; spaces inside a path are none."""
    split: dict[str, list[object]] = {
        "train": [["b.png", 0], [path, 1], ["my scans/c d.png", 0]],
        "test": [["a.png", 1]],
    }
    index = index_split(split, EntryFields())
    [warning] = [
        w
        for w in lint_split(split, index, leaks_in(split, index), labels=False)
        if w.kind == "path_spaces"
    ]
    assert (warning.count, [str(ref) for ref in warning.examples]) == (1, ["train.1"])
    assert warning.message.startswith(
        "1 path starts or ends with a space or a tab, which file systems keep: "
        "`a.png ` and `a.png` are two files, for the loader and the leak check: "
        f"train.1 {json.dumps([path, 1])}"
    )
    assert "path_spaces" not in _lint({"train": [["my scans/c d.png", 0]]})


def test_list_labels_of_several_lengths() -> None:
    """0/1 lists of two lengths are no multi-hot vectors: a warning says so."""
    split: dict[str, list[object]] = {
        "train": [["a.png", [0, 1, 0]], ["b.png", [1, 0]]],
        "test": [["c.png", [0, 0, 1]]],
    }
    assert _lint(split)["label_lists_unclear"] == (
        "3 list labels are lists of 0 and 1 of several lengths (2 and 3), so they "
        "are read as lists of classes, not as multi-hot vectors; give every vector "
        'one length (a place per class); 1 unlike the others: train.1 ["b.png", '
        "[1, 0]]"
    )


def test_list_labels_odd_ones_named() -> None:
    """Among many vectors, the one of another length, and one holding a 2, are
    the entries named (the first five were named, all valid), with their count."""
    vectors = [[1 if j == i % 14 else 0 for j in range(14)] for i in range(20)]
    vectors[7] = vectors[7][:13]
    vectors[11] = [2, *vectors[11][1:]]
    split: dict[str, list[object]] = {
        "train": [[f"{i}.png", v] for i, v in enumerate(vectors)]
    }
    warning = _lint(split)["label_lists_unclear"]
    assert warning.startswith("20 list labels are lists of integers that repeat")
    assert warning.endswith(
        '; 2 unlike the others: train.7 ["7.png", [0, 0, 0, 0, 0, 0, 0, 1, 0, 0, '
        '0, 0, 0]], train.11 ["11.png", [2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0]]'
    )


def test_mixed_labels_named() -> None:
    """A label that is no list among lists of finding names (NIH's CSV style,
    ``"A|B"``), which makes every list a class of its own, is named."""
    names = ["Atelectasis", "Effusion", "Mass"]
    labels: list[object] = [[names[i % 3]] if i % 4 else [] for i in range(12)]
    labels[5] = "Atelectasis|Effusion"
    split: dict[str, list[object]] = {
        "train": [[f"{i}.png", label] for i, label in enumerate(labels)]
    }
    assert _lint(split)["label_mixed"] == (
        '1 label is no list, among list labels: train.5 ["5.png", '
        '"Atelectasis|Effusion"]; write every label one way: lists (of classes, '
        "or 0/1 vectors), or single labels; mixed, each list is read as a class "
        "of its own; labels that join names by `|` (such as "
        '"Atelectasis|Effusion") read as the list of their names with '
        "`--label-separator '|'`"
    )
    split["train"][5] = ["5.png", ["Atelectasis", "Effusion"]]
    assert "label_mixed" not in _lint(split)


def test_list_labels_repeating_a_value() -> None:
    """Integer lists that repeat a value read neither as vectors nor as classes."""
    split: dict[str, list[object]] = {"train": [["a.png", [0, 2, 0]], ["b.png", [1]]]}
    assert _lint(split)["label_lists_unclear"].startswith(
        "2 list labels are lists of integers that repeat a value, neither "
        "multi-hot vectors (0 and 1 alone, one length) nor lists of classes"
    )


@given(
    st.lists(st.lists(st.integers(0, 1), min_size=3, max_size=3), min_size=1),
    st.lists(st.lists(st.sampled_from(["Mass", "Nodule"]), unique=True), max_size=3),
)
def test_clear_list_labels_are_no_warning(
    vectors: list[list[int]], names: list[list[str]]
) -> None:
    """Vectors of one length, and lists of class names, are no warning."""
    for labels in (vectors, names):
        split: dict[str, list[object]] = {
            "train": [[f"{i}.png", label] for i, label in enumerate(labels)]
        }
        assert "label_lists_unclear" not in _lint(split)


def _patient_rows(
    *sets_of_patients: tuple[str, list[object]],
) -> dict[str, list[object]]:
    """Object entries ``{"file", "label", "Patient ID"}``, one per patient given."""
    split: dict[str, list[object]] = {}
    for name, patients in sets_of_patients:
        split[name] = [
            {"file": f"{name}/{i}.png", "label": i % 2, "Patient ID": patient}
            for i, patient in enumerate(patients)
        ]
    return split


def test_patient_key_across_sets_without_group() -> None:
    """A key named for the patient, with one value in two evaluated sets, is a
    warning when no group is given: it names the key, the patient, its entries
    and the option that compares patients."""
    split = _patient_rows(
        ("train", [17, 18, 18]), ("validation", [19]), ("test", [17, 20, 18])
    )
    index = index_split(split, EntryFields())
    [warning] = [
        w
        for w in lint_split(split, index, leaks_in(split, index), labels=False)
        if w.kind == "group_field_unused"
    ]
    assert warning.message == (
        "key `Patient ID` seems to name each entry's patient, and 2 of its 4 "
        "values are in more than one of `train`, `validation` and `test` (such "
        "as `17`), but no group field was given, so patients were not compared; "
        'their entries: train.0 {"file": "train/0.png", "label": 0, "Patient ID": '
        '17}, train.1 {"file": "train/1.png", "label": 1, "Patient ID": 18}, '
        'train.2 {"file": "train/2.png", "label": 0, "Patient ID": 18}, test.0 '
        '{"file": "test/0.png", "label": 0, "Patient ID": 17}, test.2 {"file": '
        '"test/2.png", "label": 0, "Patient ID": 18}; give `--group-field \'Patient '
        "ID'` (`group_field=` in Python) to check that no patient is in two sets"
    )
    assert warning.count == 5  # the entries of patients 17 and 18, in any set
    assert [str(ref) for ref in warning.examples] == [
        "train.0",
        "train.1",
        "train.2",
        "test.0",
        "test.2",
    ]


def test_patient_key_not_warned_where_it_cannot_leak_or_is_grouped() -> None:
    """No warning when each patient is in one set, when the patient is only in a
    monitor set besides, when the field is named in no patient's words, or when
    a group field or pattern is given (patients are compared then)."""
    apart = _patient_rows(("train", [17, 17]), ("test", [18]))
    monitored = _patient_rows(("train", [17]), ("monitor-train", [17]))
    assert "group_field_unused" not in _lint(apart)
    assert "group_field_unused" not in _lint(monitored)
    renamed: dict[str, list[object]] = {
        "train": [{"file": "train/0.png", "label": 0, "site": 17}],
        "test": [{"file": "test/0.png", "label": 0, "site": 17}],
    }
    assert "group_field_unused" not in _lint(renamed)
    leaking = _patient_rows(("train", [17]), ("test", [17]))
    assert "group_field_unused" in _lint(leaking)
    by_field = index_split(leaking, EntryFields(group_field="Patient ID"))
    by_pattern = index_split(leaking, EntryFields(group_pattern=re.compile("(.+)/")))
    grouped = [
        *lint_split(
            leaking,
            by_field,
            leaks_in(leaking, by_field),
            labels=False,
            group_field="Patient ID",
        ),
        *lint_split(
            leaking,
            by_pattern,
            leaks_in(leaking, by_pattern),
            labels=False,
            group_pattern="(.+)/",
        ),
    ]
    assert "group_field_unused" not in [w.kind for w in grouped]
