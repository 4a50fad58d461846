"""``split_card``: hash, sets, classes, leaks and origin of a split file."""

import dataclasses
import html
import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from lightsplit_testing import write_split

from lightsplit import load_split, split_sha256
from lightsplit._card import SplitCard, split_card
from lightsplit._cli import main
from lightsplit._outputs import sidecar_path

SETS: dict[str, list[list[object]]] = {
    "train": [["p1/a.png", 0], ["p2/b.png", 1], ["p2/c.png", 1]],
    "test": [["p3/d.png", 0], ["p4/e.png", 1]],
}


class TestHash:
    def test_layout_ignored(self, tmp_path: Path) -> None:
        """Whitespace and key order do not change the card's hash."""
        compact = tmp_path / "a.json"
        compact.write_text(json.dumps(SETS, separators=(",", ":")))
        spread = tmp_path / "b.json"
        spread.write_text(json.dumps(dict(reversed(SETS.items())), indent=3))
        assert split_card(compact).sha256 == split_card(spread).sha256

    def test_entry_order_counts(self, tmp_path: Path) -> None:
        """Entries in another order are another split, with another hash."""
        first = write_split(tmp_path / "a.json", SETS)
        swapped = {**SETS, "train": list(reversed(SETS["train"]))}
        second = write_split(tmp_path / "b.json", swapped)
        assert split_card(first).sha256 != split_card(second).sha256

    def test_same_as_split_sha256(self, tmp_path: Path) -> None:
        """The card's hash is `split_sha256` of the file's split."""
        path = write_split(tmp_path / "s.json", SETS)
        assert split_card(path).sha256 == split_sha256(load_split(path))


class TestContents:
    def test_sets_and_classes(self, tmp_path: Path) -> None:
        """Each set has its entries, share, groups and class counts."""
        path = write_split(tmp_path / "s.json", SETS)
        card = split_card(path, group_pattern=r"(p\d)/")
        assert (card.labels, card.classes, card.groups) == ("single", ("0", "1"), 4)
        assert card.sets["train"].entries == 3
        assert card.sets["train"].share == pytest.approx(0.6)
        assert card.sets["train"].groups == 2
        assert card.sets["test"].class_counts == {"0": 1, "1": 1}
        assert card.leaks.ok
        assert card.provenance is None
        assert card.edited is None

    def test_class_names_in_markdown_stay_one_cell(self, tmp_path: Path) -> None:
        """A class holding ``|`` (NIH's joined findings) is one cell of its row."""
        sets = {
            "train": [["a.png", "Cardiomegaly"], ["b.png", "Cardiomegaly|Emphysema"]],
            "test": [["c.png", "Cardiomegaly"], ["d.png", "Hernia"]],
        }
        markdown = split_card(write_split(tmp_path / "s.json", sets)).to_markdown()
        row = next(line for line in markdown.splitlines() if "Emphysema" in line)
        cells = [cell.strip() for cell in re.split(r"(?<!\\)\|", row)[1:-1]]
        assert cells == [r"Cardiomegaly\|Emphysema", "1 (50.0%)", "0 (0.0%)"]

    def test_class_names_shown_as_named(self, tmp_path: Path) -> None:
        """Class names that Markdown would format show as written, rendered."""
        markdown_module = pytest.importorskip("markdown")
        names = ["*bold*", "<b>", "x`y`", "cat|dog", "a\\b"]
        sets = {"train": [[f"{i}.png", name] for i, name in enumerate(names)]}
        text = split_card(write_split(tmp_path / "s.json", sets)).to_markdown()
        page = markdown_module.markdown(text, extensions=["tables"])
        classes = page[page.index("<h2>Classes") :]
        cells = re.findall(r"<td>(.*?)</td>", classes)
        assert sorted(cells) == sorted(html.escape(name, quote=False) for name in names)

    def test_a_string_reading_as_json_is_its_own_class(self, tmp_path: Path) -> None:
        """Labels ``"true"`` and ``true`` are two classes with two names."""
        sets = {"train": [["a.png", "true"], ["b.png", True], ["c.png", 0]]}
        card = split_card(write_split(tmp_path / "s.json", sets))
        assert card.classes == ("0", '"true"', "true")
        assert card.sets["train"].class_counts == {"0": 1, '"true"': 1, "true": 1}

    def test_multi_hot(self, tmp_path: Path) -> None:
        """Multi-hot labels count the entries having each class."""
        sets = {
            "train": [["a", [1, 0, 1]], ["b", [0, 0, 1]]],
            "test": [["c", [0, 1, 0]]],
        }
        card = split_card(write_split(tmp_path / "s.json", sets))
        assert card.labels == "multi-hot"
        assert card.sets["train"].class_counts == {"0": 1, "1": 0, "2": 2}

    def test_leaks_and_warnings(self, tmp_path: Path) -> None:
        """Leaks go in the card's problems, empty sets in its warnings."""
        sets = {"train": [["a", 0]], "validation": [], "test": [["./a", 1]]}
        card = split_card(write_split(tmp_path / "s.json", sets))
        assert card.problems == (
            'leak: 1 path is in both `train` and `test`: a (train.0, test.0 as "./a")',
            "conflict: a has 2 labels: 0 (train.0), 1 (test.0); keep the right label",
        )
        assert card.warnings == (
            "set `validation` is empty; give it entries or remove it (a data "
            "module refuses an empty set)",
        )
        markdown = card.to_markdown()
        assert "## Leaks and conflicts\n\n- leak: 1 path is in both" in markdown
        assert "## Warnings\n\n- set `validation` is empty" in markdown

    def test_markdown_tables(self, tmp_path: Path) -> None:
        """The Markdown card has a table of sets and one of classes."""
        card = split_card(write_split(tmp_path / "s.json", SETS))
        markdown = card.to_markdown()
        assert (
            "## Sets\n\n"
            "| set   | entries | share |\n"
            "|-------|--------:|------:|\n"
            "| train |       3 | 0.600 |\n"
            "| test  |       2 | 0.400 |\n"
        ) in markdown
        assert "| 1     | 2 (66.7%) | 1 (50.0%) |" in markdown

    def test_entries_without_labels(self, tmp_path: Path) -> None:
        """Classes count the labelled entries; the others have a row of their own."""
        sets: dict[str, list[list[object]]] = {
            "train": [*SETS["train"], ["p5/f.png", None]],
            "test": SETS["test"],
        }
        card = split_card(write_split(tmp_path / "s.json", sets))
        assert card.sets["train"].class_counts == {"0": 1, "1": 2}
        assert card.sets["train"].unlabelled == 1
        assert "| no label | 1 (25.0%) |  0 (0.0%) |" in card.to_markdown()
        assert [w.split(":")[0] for w in card.warnings] == [
            "1 of 6 entries has no label while the others have one"
        ]

    def test_no_labels_at_all(self, tmp_path: Path) -> None:
        """Entries with a mask and no label (segmentation) have no classes."""
        sets = {"train": [["a.png", "a_mask.png"]], "test": [["b.png", "b_mask.png"]]}
        card = split_card(write_split(tmp_path / "s.json", sets))
        assert card.sets["train"].class_counts is None
        assert card.sets["train"].unlabelled == 1
        assert "no label" not in card.to_markdown()
        assert card.warnings == ()

    def test_frozen(self, tmp_path: Path) -> None:
        """A card cannot be changed."""
        card = split_card(write_split(tmp_path / "s.json", SETS))
        assert isinstance(card, SplitCard)
        with pytest.raises(dataclasses.FrozenInstanceError):
            card.sha256 = ""  # type: ignore[misc]  # the point of the test


ROWS: dict[str, list[list[object]]] = {
    "train": [["a.png", 0, 17], ["b.png", 1, 18], ["c.png", 1, 18]],
    "test": [["d.png", 0, "17"], ["e.png", 1, 19]],
}
"""Rows with their patient last: 17 in both sets (written `17` and `"17"`)."""


class TestGroupField:
    """Cards of splits grouped by a field of their entries, such as a patient's."""

    def test_groups_and_leak(self, tmp_path: Path) -> None:
        """Groups are counted by the field's text; a patient in two sets leaks."""
        path = write_split(tmp_path / "s.json", ROWS)
        card = split_card(path, group_field=2)
        assert (card.group_field, card.group_pattern, card.groups) == (2, None, 3)
        assert [card.sets[name].groups for name in ("train", "test")] == [2, 2]
        [leak] = card.leaks.group_leaks
        assert (leak.group, [str(ref) for ref in leak.entries]) == (
            "17",
            ["train.0", "test.0"],
        )
        text = card.to_markdown()
        assert "- Groups: 3, read from the field `2`" in text
        assert "| set   | entries | share | groups |" in text
        assert "group leak: 1 group is in both `train` and `test`: 17" in text
        document = card.to_json()
        assert (document["group_field"], document["groups"]) == (2, 3)

    def test_made_by_split(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A split made with `--group-field` is grouped by it without the option."""
        source = tmp_path / "samples.csv"
        rows = [f"{i}.png,{i % 2},P{i // 3}" for i in range(30)]
        source.write_text("\n".join(["Image,Label,PatientID", *rows]) + "\n")
        output = tmp_path / "split.json"
        argv = ["split", str(source), "--fractions", "0.5", "0.5"]
        assert main([*argv, "--group-field", "PatientID", "-o", str(output)]) == 0
        capsys.readouterr()
        card = split_card(output)
        assert (card.group_field, card.groups, card.leaks.ok) == (2, 10, True)
        assert card.provenance is not None
        assert card.provenance.group_field == 2
        assert main(["card", str(output), "--json"]) == 0
        document = json.loads(capsys.readouterr().out)
        assert document["group_field"] == 2
        assert document["generation"]["group_field"] == 2
        assert main(["card", str(output), "--group-pattern", r"^(\d)"]) == 0
        assert "found in the paths by `^(\\d)`" in capsys.readouterr().out

    @pytest.mark.parametrize(
        ("options", "named"),
        [
            pytest.param(
                "--group-field PatientID",
                "read from the field `PatientID` (position 2 of each entry)",
                id="column",
            ),
            pytest.param(
                "--group-field PatientID --path-field Image --label-field Label "
                "--columns PatientID Image Label",
                "read from the field `PatientID` (position 0 of each entry)",
                id="columns-kept",
            ),
            pytest.param(
                "--group-field 2 --path-field 0 --label-field 1 --columns 0 1 2",
                "read from the field `2`",
                id="position",
            ),
        ],
    )
    def test_names_the_group_column(
        self,
        tmp_path: Path,
        capsys: pytest.CaptureFixture[str],
        options: str,
        named: str,
    ) -> None:
        """The card of a split made from a table names the group column by the
        name `split` was given, where the entries hold its position."""
        source = tmp_path / "samples.csv"
        rows = [f"{i}.png,{i % 2},P{i // 3}" for i in range(30)]
        source.write_text("\n".join(["Image,Label,PatientID", *rows]) + "\n")
        output = tmp_path / "split.json"
        argv = ["split", str(source), "--fractions", "0.5", "0.5", "-o", str(output)]
        assert main([*argv, *options.split()]) == 0
        capsys.readouterr()
        card = split_card(output)
        assert f"- Groups: 10, {named}\n" in card.to_markdown()
        assert split_card(output, group_field=1).group_field_name is None

    def test_group_value_warnings(self, tmp_path: Path) -> None:
        """A card warns, as `check` does, of a patient written two ways."""
        rows = {**ROWS, "test": [["d.png", 0, "0017"], ["e.png", 1, 19]]}
        card = split_card(write_split(tmp_path / "s.json", rows), group_field=2)
        assert card.leaks.ok
        [warning] = card.warnings
        assert warning.startswith(
            "the group field `2` holds one number written several ways: `17` "
            "(train.0) and `0017` (test.0) are 17;"
        )

    def test_pattern_and_field_refused(self, tmp_path: Path) -> None:
        """Both ways of grouping at once raise, naming both."""
        path = write_split(tmp_path / "s.json", ROWS)
        with pytest.raises(ValueError, match="`group_pattern` and `group_field` are"):
            split_card(path, group_pattern="a", group_field=2)

    def test_field_held_nowhere(self, tmp_path: Path) -> None:
        """A group field no entry holds is a check left undone, said in the card."""
        card = split_card(write_split(tmp_path / "s.json", SETS), group_field=5)
        assert card.unchecked == (
            "the group field `5` holds a group in no entry of `train`, `validation` "
            "and `test`, so no group leak could be checked; name the field that "
            "holds each entry's group (a position 0, 1, ... or a key); the entries "
            'are arrays of 2 items (such as ["p1/a.png", 0]); give a position from '
            "0 to 1",
        )


class TestProvenance:
    @pytest.fixture
    def made(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
        """A split made by ``lightsplit split``, with its sidecar."""
        samples = tmp_path / "samples.json"
        samples.write_text(json.dumps([[f"p{i % 7}/{i}", i % 2] for i in range(40)]))
        output = tmp_path / "split.json"
        argv = ["split", str(samples), "--fractions", "0.5", "0.5", "--seed", "3"]
        assert main([*argv, "--group-pattern", r"p(\d)/", "-o", str(output)]) == 0
        capsys.readouterr()
        return output

    def test_recorded(self, made: Path) -> None:
        """The sidecar gives the command, seed and pattern; nothing was edited."""
        card = split_card(made)
        assert card.provenance is not None
        assert card.provenance.seed == 3
        assert card.provenance.fractions == ("0.5", "0.5")
        assert card.group_pattern == r"p(\d)/"  # from the sidecar
        assert card.edited is False
        assert card.to_json()["edited_since_generation"] is False

    def test_edited(self, made: Path) -> None:
        """A split changed since is flagged."""
        document = json.loads(made.read_text())
        document["train"].pop()
        made.write_text(json.dumps(document))
        card = split_card(made)
        assert card.edited is True
        assert "**edited since**" in card.to_markdown()

    def test_unreadable_sidecar(self, made: Path) -> None:
        """A sidecar that is not one lightsplit writes is said, not trusted."""
        sidecar_path(made).write_text('{"seed": "x"}')
        card = split_card(made)
        assert card.provenance is None
        assert card.provenance_problem is not None
        assert card.provenance_problem.startswith(
            f"its sidecar file {sidecar_path(made)} is not one that `lightsplit "
            "split` writes: `lightsplit`: Field required; `sha256`: Field required; "
        )
        assert card.provenance_problem.endswith("and 8 more")
        assert "- Made by: unknown (its sidecar file" in card.to_markdown()

    @pytest.mark.parametrize(
        ("change", "said"),
        [
            pytest.param(
                {"group_pattern": "("},
                "`group_pattern`: Value error, group pattern `(` is not a regular",
                id="pattern",
            ),
            pytest.param(
                {"folds": 3, "fold": 3},
                "`fold` 3 is not one of 3 folds (0 to 2)",
                id="fold-past",
            ),
            pytest.param(
                {"folds": 0, "fold": 0}, "`folds`: Input should be", id="folds"
            ),
            pytest.param(
                {"fold": 1}, "`fold` and `folds` are given together", id="one"
            ),
            pytest.param({"input_entries": -1}, "`input_entries`: Input", id="count"),
            pytest.param({"seed": -1}, "`seed`: Input should be greater", id="seed"),
        ],
    )
    def test_impossible_sidecar(
        self, made: Path, change: dict[str, object], said: str
    ) -> None:
        """A sidecar that `split` cannot have written is not trusted, and says why
        (a group pattern that is no regular expression stopped `card` before)."""
        sidecar = sidecar_path(made)
        sidecar.write_text(json.dumps({**json.loads(sidecar.read_text()), **change}))
        card = split_card(made)
        assert card.provenance is None
        assert card.provenance_problem is not None
        assert said in card.provenance_problem

    def test_sidecar_key_twice(self, made: Path) -> None:
        """A sidecar with a key given twice is not trusted (its last value would
        win), as a split file with one is refused."""
        sidecar = sidecar_path(made)
        text = sidecar.read_text()
        sidecar.write_text(text.replace('"seed": 3', '"seed": 3,\n  "seed": 7'))
        card = split_card(made)
        assert card.provenance is None
        assert card.provenance_problem is not None
        assert card.provenance_problem.startswith(
            f"its sidecar file {sidecar} is not one that `lightsplit split` writes: "
        )
        assert "`seed`" in card.provenance_problem

    def test_sidecar_text_escaped(self, made: Path) -> None:
        """Control characters of a sidecar's text (a terminal's escapes) are
        written escaped in the card, never sent to the terminal."""
        sidecar = sidecar_path(made)
        document = json.loads(sidecar.read_text())
        document["command"] = "lightsplit split \x1b[31mred"
        sidecar.write_text(json.dumps(document))
        markdown = split_card(made).to_markdown()
        assert "\x1b" not in markdown
        assert "- Made by: `lightsplit split $'\\x1b[31mred'` (lightsplit" in markdown

    def test_fold_of_a_family(self, tmp_path: Path) -> None:
        """The card of a fold file says which fold it is, from its sidecar."""
        samples = tmp_path / "samples.json"
        samples.write_text(json.dumps([[f"p{i}/a.png", i % 2] for i in range(12)]))
        assert main(["split", str(samples), "--folds", "3", "-o", str(tmp_path)]) == 0
        card = split_card(tmp_path / "fold-2.json")
        assert (
            "), file 2 of a 3-fold split (its `test` set is fold 2, its `validation` "
            "set fold 0), from 12 "
        ) in (card.to_markdown())


class TestOutput:
    @pytest.mark.parametrize(
        ("written", "what"),
        [
            pytest.param(lambda split: split, "the split file", id="split"),
            pytest.param(
                lambda split: Path(f"{split.parent}/../{split.parent.name}/nih.json"),
                "the split file",
                id="spelled-otherwise",
            ),
            pytest.param(sidecar_path, "its sidecar", id="sidecar"),
        ],
    )
    def test_split_and_sidecar_not_overwritten(
        self,
        tmp_path: Path,
        capsys: pytest.CaptureFixture[str],
        written: Callable[[Path], Path],
        what: str,
    ) -> None:
        """``-o`` naming the split or its sidecar is refused; both stay as they were."""
        split = write_split(tmp_path / "nih.json", SETS)
        sidecar = sidecar_path(split)
        sidecar.write_text('{"lightsplit": "0", "seed": 1}')
        before = split.read_bytes(), sidecar.read_bytes()
        output = written(split)
        assert main(["card", str(split), "-o", str(output)]) == 2
        assert (split.read_bytes(), sidecar.read_bytes()) == before
        assert (
            f"`-o` {output} is {what}, which the card would overwrite; give another "
            f"file name, such as {tmp_path / 'nih.card.md'}"
        ) in capsys.readouterr().err


def test_card_written_into_a_new_folder(tmp_path: Path) -> None:
    """``-o`` into a folder that does not exist makes it, as ``split -o`` does."""
    split = write_split(tmp_path / "nih.json", SETS)
    output = tmp_path / "cards" / "2026" / "nih.md"
    assert main(["card", str(split), "-o", str(output)]) == 0
    assert output.read_text().startswith("# ")


MULTI_HOT: dict[str, list[list[object]]] = {
    "train": [["a.png", [1, 0, 0]], ["b.png", [0, 0, 1]], ["c.png", [0, 0, 0]]],
    "test": [["d.png", [0, 0, 0]], ["e.png", [1, 0, 0]]],
}


def test_multi_label_without_class(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Multi-label entries with no class (NIH's "no finding" ``[]``, a vector of
    zeros) are counted in `check` and cards, not left out; every position of a
    vector is a class, even one never set; vector positions are `class N`."""
    path = tmp_path / "vectors.json"
    path.write_text(json.dumps(MULTI_HOT))
    assert main(["check", str(path)]) == 0
    table = capsys.readouterr().out.splitlines()[2:5]
    assert table == [
        "  set    entries  class 0  class 1  class 2  no class",
        "  train        3        1        0        1         1",
        "  test         2        1        0        0         1",
    ]
    card = split_card(path)
    assert card.classes == ("0", "1", "2")
    assert "- Labels: multi-label (0/1 lists), 2 classes present" in (
        card.to_markdown().splitlines()
    )
    assert card.sets["train"].classless == 1
    assert "| no class | 1 (33.3%) | 1 (50.0%) |" in card.to_markdown()
    names = tmp_path / "names.json"
    nothing = tmp_path / "nothing.json"
    nothing.write_text(json.dumps({"train": [["a.png", []], ["b.png", []]]}))
    markdown = split_card(nothing).to_markdown()
    assert "| no class | 2 (100.0%) |" in markdown
    assert "- Labels: multi-label, no entry with a class" in markdown.splitlines()
    names.write_text(json.dumps({"train": [["a.png", ["Mass"]], ["b.png", []]]}))
    assert main(["check", str(names), "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["files"][0]["sets"]["train"]["classless"] == 1
    assert main(["check", str(names)]) == 0
    assert "  set    entries  label Mass  no class" in capsys.readouterr().out
