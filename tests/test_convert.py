import bz2
import json
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lightsplit import load_split
from lightsplit._codec import ConvertError, Sets
from lightsplit._convert import convert_split, infer_format
from lightsplit._csvsplit import INTEGER_CELL, read_csv_split, write_csv_split
from lightsplit._samples import read_samples

# A datalist as the converter writes one: one item per line, plain test paths.
DATALIST = """\
{
  "training": [
    {"image": "imagesTr/la_003.nii.gz", "label": "labelsTr/la_003.nii.gz"},
    {"image": "imagesTr/la_004.nii.gz", "label": "labelsTr/la_004.nii.gz"}
  ],
  "validation": [
    {"image": "imagesTr/la_005.nii.gz", "label": "labelsTr/la_005.nii.gz"}
  ],
  "test": [
    "imagesTs/la_001.nii.gz",
    "imagesTs/la_002.nii.gz"
  ]
}
"""

# A CSV table as the converter writes one: ints, a zero-padded string, a quoted
# comma, an empty middle item, rows of different lengths and a monitor set.
TABLE = """\
set,column1,column2,column3
train,cxr/0001.png,0,
train,"cxr/a,b.png",1,left
validation,cxr/0003.png,-2,,
test,007,0,right
test,cxr/é.png,10
monitor-train,cxr/0001.png,0
"""


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


class TestRoundTrips:
    def test_decathlon_to_split_and_back(self, tmp_path: Path) -> None:
        """A datalist converted to a split and back is the same file, byte for byte."""
        source = _write(tmp_path / "dataset.json", DATALIST)
        split = tmp_path / "split.json"
        back = tmp_path / "back.json"
        done = convert_split(source, split)
        assert (done.source_format, done.target_format) == ("decathlon", "lightsplit")
        assert done.counts == {"train": 2, "validation": 1, "test": 2}
        assert done.notes == ()
        assert load_split(split, sample_type=tuple[str, ...])["test"] == (
            ("imagesTs/la_001.nii.gz",),
            ("imagesTs/la_002.nii.gz",),
        )
        convert_split(split, back, target_format="decathlon")
        assert back.read_text() == DATALIST

    def test_decathlon_round_trip_keeps_data(self, tmp_path: Path) -> None:
        """Any layout of a datalist comes back as the same JSON data."""
        document = {
            "training": [{"label": "l1", "image": "i1"}],
            "test": [{"image": "t1", "label": "tl1"}, {"image": "t2"}],
        }
        source = _write(tmp_path / "dataset.json", json.dumps(document, indent=4))
        convert_split(source, tmp_path / "split.json")
        convert_split(
            tmp_path / "split.json", tmp_path / "back.json", target_format="decathlon"
        )
        back = json.loads((tmp_path / "back.json").read_text())
        assert back == document

    def test_csv_to_split_and_back(self, tmp_path: Path) -> None:
        """A CSV table converted to a split and back is the same file."""
        source = _write(tmp_path / "split.csv", TABLE)
        convert_split(source, tmp_path / "split.json")
        split = load_split(tmp_path / "split.json")
        assert dict(split) == {
            "train": (["cxr/0001.png", 0], ["cxr/a,b.png", 1, "left"]),
            "validation": (["cxr/0003.png", -2],),
            "test": (["007", 0, "right"], ["cxr/é.png", 10]),
            "monitor-train": (["cxr/0001.png", 0],),
        }
        convert_split(tmp_path / "split.json", tmp_path / "back.csv")
        assert (tmp_path / "back.csv").read_text(encoding="utf-8") == TABLE.replace(
            "0,\n", "0\n"
        ).replace("-2,,\n", "-2\n")

    def test_canonical_csv_is_exact(self, tmp_path: Path) -> None:
        """A table without trailing empty cells comes back byte for byte."""
        table = "set,column1,column2\ntrain,a.png,1\ntrain,,2\ntest,c.png\n"
        source = _write(tmp_path / "s.csv", table)
        convert_split(source, tmp_path / "s.json")
        convert_split(tmp_path / "s.json", tmp_path / "back.csv")
        assert (tmp_path / "back.csv").read_text() == table

    def test_empty_cell_is_null(self, tmp_path: Path) -> None:
        """An empty cell holds no value (null) wherever it is, as `split` reads
        it, and null is written as an empty cell: a split that `split` made from
        a table with empty cells converts back to CSV."""
        table = "set,column1,column2,column3\ntrain,a.png,,P1\ntest,b.png,1,P2\n"
        source = _write(tmp_path / "s.csv", table)
        convert_split(source, tmp_path / "s.json")
        entries = (["a.png", None, "P1"], ["b.png", 1, "P2"])
        assert dict(load_split(tmp_path / "s.json")) == {
            "train": entries[:1],
            "test": entries[1:],
        }
        assert read_samples(source).entries == entries
        convert_split(tmp_path / "s.json", tmp_path / "back.csv")
        assert (tmp_path / "back.csv").read_text() == table

    def test_split_to_csv_and_back(self, tmp_path: Path) -> None:
        """A split of strings and integers comes back from CSV byte for byte."""
        split = tmp_path / "split.json"
        convert_split(_write(tmp_path / "s.csv", TABLE), split)
        convert_split(split, tmp_path / "t.csv")
        convert_split(tmp_path / "t.csv", tmp_path / "back.json")
        assert (tmp_path / "back.json").read_bytes() == split.read_bytes()

    def test_split_to_decathlon_and_back(self, tmp_path: Path) -> None:
        """A split of image and label paths comes back from a datalist exactly."""
        text = (
            '{\n  "test": [\n    ["t.nii", "tl.nii"],\n    ["u.nii"]\n  ],\n'
            '  "train": [\n    ["a.nii", "al.nii"]\n  ],\n  "validation": []\n}\n'
        )
        split = _write(tmp_path / "split.json", text)
        convert_split(split, tmp_path / "d.json", target_format="decathlon")
        assert json.loads((tmp_path / "d.json").read_text()) == {
            "test": [{"image": "t.nii", "label": "tl.nii"}, {"image": "u.nii"}],
            "training": [{"image": "a.nii", "label": "al.nii"}],
            "validation": [],
        }
        convert_split(tmp_path / "d.json", tmp_path / "back.json")
        assert (tmp_path / "back.json").read_text() == text

    def test_compressed_split(self, tmp_path: Path) -> None:
        """A ``.json.bz2`` output is compressed and reads back with ``load_split``."""
        source = _write(tmp_path / "s.csv", TABLE)
        target = tmp_path / "split.json.bz2"
        convert_split(source, target)
        assert bz2.decompress(target.read_bytes()).startswith(b'{\n  "train": [')
        convert_split(target, tmp_path / "back.csv")
        assert "monitor-train" in (tmp_path / "back.csv").read_text()


class TestDecathlonInput:
    def test_metadata_and_extra_keys(self, tmp_path: Path) -> None:
        """Dataset keys are left out and extra item keys follow, with notes."""
        document = {
            "name": "Heart",
            "numTraining": 2,
            "training": [
                {"image": "a", "label": "al", "roi": "ar", "age": 61},
                {"image": "b", "roi": "br"},
            ],
        }
        source = _write(tmp_path / "dataset.json", json.dumps(document))
        done = convert_split(source, tmp_path / "split.json")
        assert json.loads((tmp_path / "split.json").read_text()) == {
            "train": [["a", "al", 61, "ar"], ["b", None, None, "br"]]
        }
        assert done.notes == (
            f"{source}: left out the top-level keys `name`, `numTraining` (not sets)",
            f"{source}: kept the other item keys (`age`, `roi`) as entry items after "
            "the image and label, in that order in every entry (null where an item "
            "has none); they do not convert back to a datalist",
        )

    def test_modalities_round_trip(self, tmp_path: Path) -> None:
        """An image of several modalities is a list of paths, both ways."""
        document = {
            "training": [{"image": ["a/t1.nii", "a/t2.nii"], "label": "a/seg.nii"}],
            "test": [{"image": ["b/t1.nii", "b/t2.nii"]}],
        }
        source = _write(tmp_path / "d.json", json.dumps(document))
        convert_split(source, tmp_path / "s.json")
        assert json.loads((tmp_path / "s.json").read_text()) == {
            "train": [[["a/t1.nii", "a/t2.nii"], "a/seg.nii"]],
            "test": [[["b/t1.nii", "b/t2.nii"]]],
        }
        convert_split(
            tmp_path / "s.json", tmp_path / "back.json", target_format="decathlon"
        )
        assert json.loads((tmp_path / "back.json").read_text()) == document

    def test_datalist_without_training(self, tmp_path: Path) -> None:
        """A datalist is written with `training`, empty, so that it reads back."""
        source = _write(tmp_path / "s.json", json.dumps({"test": [["a.nii", "b.nii"]]}))
        convert_split(source, tmp_path / "d.json", target_format="decathlon")
        assert json.loads((tmp_path / "d.json").read_text()) == {
            "training": [],
            "test": [{"image": "a.nii", "label": "b.nii"}],
        }
        convert_split(tmp_path / "d.json", tmp_path / "again.json")
        assert json.loads((tmp_path / "again.json").read_text()) == {
            "test": [["a.nii", "b.nii"]]
        }

    @pytest.mark.parametrize(
        ("document", "problem"),
        [
            pytest.param(
                {"training": [{"image": "a"}], "val": [{"image": "b"}]},
                "`val` holds 1 items but is no datalist set, so they would be left "
                "out; did you mean `validation`?",
                id="misspelt-set",
            ),
            pytest.param(
                {"training": [{"image": 5}]},
                "training.0: `image` 5 is no path (a string) nor a list of paths (one "
                "per modality); name the image's file(s)",
                id="image-number",
            ),
            pytest.param(
                {"test": [""]},
                "test.0: an empty path; name a file",
                id="empty-path",
            ),
        ],
    )
    def test_invalid_datalist(
        self, tmp_path: Path, document: dict[str, object], problem: str
    ) -> None:
        """Items that are no image, and misspelt sets, are refused, not dropped."""
        source = _write(tmp_path / "d.json", json.dumps(document))
        with pytest.raises(ConvertError) as exc_info:
            convert_split(source, tmp_path / "s.json", source_format="decathlon")
        assert str(exc_info.value) == (
            f"{source}: cannot read it as a decathlon datalist, 1 problem:\n  {problem}"
        )

    def test_forced_format(self, tmp_path: Path) -> None:
        """``source_format`` reads a datalist without a ``training`` key."""
        source = _write(tmp_path / "d.json", '{"test": [{"image": "x"}]}')
        convert_split(source, tmp_path / "s.json", source_format="decathlon")
        assert json.loads((tmp_path / "s.json").read_text()) == {"test": [["x"]]}

    @pytest.mark.parametrize(
        ("document", "problem"),
        [
            pytest.param(
                {"training": ["a.nii"]},
                'training.0: item "a.nii" is not an object with an `image` key; '
                'write {"image": "...", "label": "..."}',
                id="plain-training-path",
            ),
            pytest.param(
                {"training": [], "test": [{"label": "x"}]},
                'test.0: item {"label": "x"} is not an object with an `image` key '
                'or a path; write {"image": "...", "label": "..."}',
                id="no-image",
            ),
            pytest.param(
                {"training": {"image": "a"}},
                'training: must be an array of items, not {"image": "a"}',
                id="not-array",
            ),
        ],
    )
    def test_invalid_items(
        self, tmp_path: Path, document: object, problem: str
    ) -> None:
        """Items that are not datalist items are refused, naming set and index."""
        source = _write(tmp_path / "d.json", json.dumps(document))
        with pytest.raises(ConvertError) as exc_info:
            convert_split(source, tmp_path / "s.json")
        assert str(exc_info.value) == (
            f"{source}: cannot read it as a decathlon datalist, 1 problem:\n  {problem}"
        )

    @pytest.mark.parametrize(
        ("text", "problem"),
        [
            pytest.param("[1]", "a datalist is a JSON object, not an array", id="list"),
            pytest.param(
                '{"name": "x"}',
                "no `training`, `validation` or `test` key; is it a datalist?",
                id="no-sets",
            ),
        ],
    )
    def test_not_a_datalist(self, tmp_path: Path, text: str, problem: str) -> None:
        """A document that is no datalist is refused when read as one."""
        source = _write(tmp_path / "d.json", text)
        with pytest.raises(ConvertError, match=re.escape(problem)):
            convert_split(source, tmp_path / "s.json", source_format="decathlon")

    def test_invalid_json(self, tmp_path: Path) -> None:
        """Invalid JSON is refused with its line and column."""
        source = _write(tmp_path / "d.json", '{"training": [\n  {"image": }]}')
        with pytest.raises(
            ConvertError,
            match=re.escape(
                f"{source}: line 2 column 13: invalid JSON: expected a value between"
            ),
        ):
            convert_split(source, tmp_path / "s.json")

    @pytest.mark.parametrize(
        ("text", "problem"),
        [
            pytest.param(
                '{"training": [{"image": "a", "image": "b"}]}',
                "line 1 column 30: invalid JSON: key `image` appears twice in one "
                "object; keep one of the two",
                id="duplicate-key",
            ),
            pytest.param(
                '{"training": [{"image": "a", "label": NaN}]}',
                "line 1 column 39: invalid JSON: `NaN` is not valid JSON; write a "
                "number or a string",
                id="nan",
            ),
        ],
    )
    def test_json_read_strictly(self, tmp_path: Path, text: str, problem: str) -> None:
        """A datalist is read as strictly as a split file, the problem placed."""
        source = _write(tmp_path / "d.json", text)
        with pytest.raises(ConvertError) as exc_info:
            convert_split(source, tmp_path / "s.json")
        assert str(exc_info.value) == f"{source}: {problem}"

    def test_bad_bzip2(self, tmp_path: Path) -> None:
        """A ``.bz2`` file that is not bzip2 data is refused."""
        source = _write(tmp_path / "s.json.bz2", "not compressed")
        with pytest.raises(
            ConvertError, match=re.escape(f"{source}: not a valid bzip2 file")
        ):
            convert_split(source, tmp_path / "s.csv", source_format="decathlon")

    def test_not_utf8(self, tmp_path: Path) -> None:
        """Text that is not UTF-8 is refused, naming the file, line and column, as
        a split file is."""
        source = tmp_path / "s.csv"
        source.write_bytes(b"set,path\ntrain,\xe9.png\n")
        with pytest.raises(ConvertError) as info:
            convert_split(source, tmp_path / "s.json")
        assert str(info.value) == (
            f"{source}: line 2 column 7: not UTF-8 text (byte 0xe9, invalid "
            "continuation byte): the file was likely saved in another encoding (such "
            "as Windows-1252 or Latin-1); save it as UTF-8 (in a spreadsheet: CSV "
            "UTF-8)"
        )

    @pytest.mark.parametrize(
        ("name", "text", "said"),
        [
            pytest.param(
                "s.json",
                '{"train": [["a.png", 0]]}',
                "UTF-16 text, not UTF-8; save it as UTF-8, which JSON files are",
                id="json",
            ),
            pytest.param(
                "s.csv",
                "set,path\ntrain,a.png\n",
                "UTF-16 text, not UTF-8; save it as UTF-8 (in a spreadsheet: CSV "
                "UTF-8)",
                id="csv",
            ),
        ],
    )
    def test_utf16(self, tmp_path: Path, name: str, text: str, said: str) -> None:
        """UTF-16 without a byte order mark (ASCII and NULs, which pass for UTF-8)
        is said to be UTF-16, as `check` says of a split file."""
        source = tmp_path / name
        source.write_bytes(text.encode("utf-16-le"))
        with pytest.raises(ConvertError) as info:
            convert_split(source, tmp_path / "out.json")
        assert str(info.value) == f"{source}: {said}"


class TestCsvInput:
    def test_spreadsheet_csv(self, tmp_path: Path) -> None:
        """A byte order mark, CRLF line ends, blank lines and free names are fine."""
        source = tmp_path / "s.csv"
        source.write_bytes(
            b"\xef\xbb\xbfset,path,label\r\ntrain,a.png,1\r\n\r\n,,\r\ntest,b.png,0\r\n"
        )
        convert_split(source, tmp_path / "s.json")
        assert json.loads((tmp_path / "s.json").read_text()) == {
            "train": [["a.png", 1]],
            "test": [["b.png", 0]],
        }

    def test_header_alone(self, tmp_path: Path) -> None:
        """A table with no row is refused, not written as a split of no set."""
        source = _write(tmp_path / "s.csv", "set,path,label\n")
        with pytest.raises(ConvertError) as exc_info:
            convert_split(source, tmp_path / "s.json")
        assert str(exc_info.value) == (
            f"{source}: holds no set, so there is nothing to convert; give it entries"
        )

    def test_quote_left_open(self, tmp_path: Path) -> None:
        """A quote never closed would swallow the rows after it: it is refused."""
        source = _write(
            tmp_path / "s.csv", 'set,path,label\ntrain,"a.png,1\ntest,b,0\n'
        )
        with pytest.raises(ConvertError) as exc_info:
            convert_split(source, tmp_path / "s.json")
        assert str(exc_info.value) == (
            f'{source}: row 2 (`train,"a.png,1`): a quote opened in row 2 is never '
            "closed, so the rest of the file reads as one cell; close the quote "
            "opened in row 2"
        )
        assert not (tmp_path / "s.json").exists()

    @pytest.mark.parametrize(
        ("table", "problem"),
        [
            pytest.param(
                "path,label\na.png,1\n",
                "row 1 must be the header `set,column1,column2,...`",
                id="no-header",
            ),
            pytest.param("", "row 1 must be the header", id="empty"),
            pytest.param(
                "set,path\nvalid,a.png\n",
                "row 2: `valid` is not a valid set name; did you mean `validation`?",
                id="set-name",
            ),
            pytest.param(
                "set,path\ntrain,a.png,1\n",
                "row 2: 2 items but the header names 1 columns; add columns",
                id="long-row",
            ),
            pytest.param(
                "set,path\ntrain,,\n",
                "row 2: set `train` but no item; give the row its entry's items",
                id="set-alone",
            ),
        ],
    )
    def test_invalid_table(self, tmp_path: Path, table: str, problem: str) -> None:
        """Tables that are no split are refused, naming the row."""
        source = _write(tmp_path / "s.csv", table)
        with pytest.raises(ConvertError) as exc_info:
            convert_split(source, tmp_path / "s.json")
        message = str(exc_info.value)
        assert message.startswith(f"{source}: cannot read it as a CSV split, 1 problem")
        assert problem in message

    @pytest.mark.parametrize(
        ("table", "problem"),
        [
            pytest.param(
                "set;path\ntrain;a.png\n",
                "row 1 (`set;path`) holds `;` but no comma, so each row reads as one "
                "cell",
                id="semicolons",
            ),
            pytest.param(
                "set,path,label\ntrain;a.png;0\n",
                "row 2 (`train;a.png;0`) holds `;` but no comma, so it reads as one "
                "cell, while row 1 has 3 cells",
                id="row",
            ),
        ],
    )
    def test_other_separator(self, tmp_path: Path, table: str, problem: str) -> None:
        """A table, or a row, separated by `;` is refused, naming the row."""
        source = _write(tmp_path / "s.csv", table)
        with pytest.raises(ConvertError) as exc_info:
            convert_split(source, tmp_path / "s.json")
        assert str(exc_info.value).startswith(f"{source}: {problem}")


class TestUnconvertible:
    @pytest.mark.parametrize(
        ("sets", "problem"),
        [
            pytest.param(
                {"train": [["a.png", 0]]},
                'train.0: entry ["a.png", 0] is not [image] or [image, label] of '
                "paths (an image may be a list of paths), all a datalist item "
                "holds; convert to `csv`, or keep the split file",
                id="int-label",
            ),
            pytest.param(
                {"test": [["a", "b", "c"]]},
                'test.0: entry ["a", "b", "c"] is not [image] or [image, label] of '
                "paths (an image may be a list of paths), all a datalist item "
                "holds; convert to `csv`, or keep the split file",
                id="three-items",
            ),
            pytest.param(
                {"test": ["a.nii"]},
                'test.0: entry "a.nii" is not [image] or [image, label] of '
                "paths (an image may be a list of paths), all a datalist item "
                "holds; convert to `csv`, or keep the split file",
                id="not-an-array",
            ),
            pytest.param(
                {"train": [], "test": [["a.nii"]]},
                "train: an empty `training` list is how a datalist without a `train` "
                "set is written, so an empty `train` set would read back as none; "
                "remove the set, or keep the split file",
                id="empty-train",
            ),
            pytest.param(
                {"monitor-train": [["a", "b"]]},
                "monitor-train: a datalist has no set `monitor-train` (only "
                "`training`, `validation` and `test`); remove the set, or convert "
                "to `csv`",
                id="monitor-set",
            ),
        ],
    )
    def test_to_decathlon(
        self, tmp_path: Path, sets: dict[str, list[object]], problem: str
    ) -> None:
        """Entries a datalist cannot hold are refused, and nothing is written."""
        source = _write(tmp_path / "s.json", json.dumps(sets))
        target = tmp_path / "d.json"
        with pytest.raises(ConvertError) as exc_info:
            convert_split(source, target, target_format="decathlon")
        assert str(exc_info.value) == (
            f"{source}: cannot write it to {target} as a decathlon datalist, "
            f"1 problem:\n  {problem}"
        )
        assert list(tmp_path.iterdir()) == [source]

    @pytest.mark.parametrize(
        ("sets", "problem"),
        [
            pytest.param(
                {"train": [["a.png", 0.5]]},
                'train.0: entry ["a.png", 0.5]: item 0.5 is no string, integer or null',
                id="float",
            ),
            pytest.param(
                {"train": [["a.png", True]]},
                "item true is no string, integer or null",
                id="bool",
            ),
            pytest.param(
                {"train": [["a.png", "42"]]},
                'train.0: entry ["a.png", "42"]: the string "42" would read back as '
                "the integer 42; keep the split file",
                id="integer-string",
            ),
            pytest.param(
                {"train": [["a.png", ""]]},
                'train.0: entry ["a.png", ""]: item "" is an empty string, but an '
                'empty cell reads back as no value (null); write null where "" '
                "means no value, or keep the split file",
                id="final-empty",
            ),
            pytest.param(
                {"train": [["a.png", "", "P1"]]},
                'train.0: entry ["a.png", "", "P1"]: item "" is an empty string, but '
                "an empty cell reads back as no value (null)",
                id="empty",
            ),
            pytest.param(
                {"train": [["a.png", 0], ["b.png", None]]},
                'train.1: entry ["b.png", null] ends with null, written as an empty '
                "last cell, and a row's empty last cells are dropped: it would read "
                "back without that item; remove the last null, or keep the split file",
                id="final-null",
            ),
            pytest.param(
                {"train": [["a\nb.png", 0]]},
                'train.0: entry ["a\\nb.png", 0]: item "a\\nb.png" holds a line end',
                id="line-end",
            ),
            pytest.param(
                {"train": [{"image": "a.png"}]},
                'train.0: entry {"image": "a.png"} is not an array',
                id="object",
            ),
            pytest.param(
                {"train": [["a"], []]},
                "train.1: entry [] has no item, and a row without one reads back as "
                "no entry; give the entry its items, or remove it",
                id="no-item",
            ),
            pytest.param(
                {"train": [["a"]], "test": []},
                "test: the set is empty and a CSV table has no row for it",
                id="empty-set",
            ),
        ],
    )
    def test_to_csv(
        self, tmp_path: Path, sets: dict[str, list[object]], problem: str
    ) -> None:
        """Entries that would not read back the same from CSV are refused."""
        source = _write(tmp_path / "s.json", json.dumps(sets))
        with pytest.raises(ConvertError) as exc_info:
            convert_split(source, tmp_path / "s.csv")
        assert problem in str(exc_info.value)

    def test_many_problems(self, tmp_path: Path) -> None:
        """Five problems are listed, then how many more there are."""
        sets = {"train": [["a", i] for i in range(8)]}
        source = _write(tmp_path / "s.json", json.dumps(sets))
        with pytest.raises(ConvertError) as exc_info:
            convert_split(source, tmp_path / "d.json", target_format="decathlon")
        lines = str(exc_info.value).splitlines()
        assert lines[0].endswith("8 problems:")
        assert lines[5].startswith("  train.4: ")
        assert lines[6:] == ["  and 3 more"]

    def test_invalid_split(self, tmp_path: Path) -> None:
        """A split file that does not load is refused with its errors."""
        source = _write(tmp_path / "s.json", '{"valid": []}')
        with pytest.raises(ConvertError, match="did you mean `validation`"):
            convert_split(source, tmp_path / "s.csv")

    def test_failure_keeps_target(self, tmp_path: Path) -> None:
        """A failed conversion leaves an existing output as it was."""
        source = _write(tmp_path / "s.json", '{"train": [["a", 0.5]]}')
        target = _write(tmp_path / "out.csv", "set\n")
        with pytest.raises(ConvertError):
            convert_split(source, target)
        assert target.read_text() == "set\n"
        assert sorted(path.name for path in tmp_path.iterdir()) == ["out.csv", "s.json"]

    @pytest.mark.parametrize(
        ("name", "problem"),
        [
            pytest.param(
                "nodir/out.json",
                "the folder {tmp}/nodir does not exist; create it, or write the "
                "file elsewhere",
                id="no-folder",
            ),
            pytest.param(
                "adir.json", "a folder; give the path of the file to write", id="folder"
            ),
        ],
    )
    def test_output_named(self, tmp_path: Path, name: str, problem: str) -> None:
        """An output that cannot be written is named as given, not a scratch file."""
        (tmp_path / "adir.json").mkdir()
        source = _write(tmp_path / "s.json", '{"train": [["a", 0]]}')
        with pytest.raises(ConvertError) as exc_info:
            convert_split(source, tmp_path / name)
        said = problem.format(tmp=tmp_path)
        assert str(exc_info.value) == f"{tmp_path / name}: {said}"

    def test_compressed_datalist(self, tmp_path: Path) -> None:
        """A datalist or a table named `.bz2` is written compressed, and reads back."""
        source = _write(tmp_path / "s.json", '{"train": [["a.nii", "b.nii"]]}')
        target = tmp_path / "d.json.bz2"
        convert_split(source, target, target_format="decathlon")
        assert json.loads(bz2.decompress(target.read_bytes())) == {
            "training": [{"image": "a.nii", "label": "b.nii"}]
        }


VALUES = st.one_of(
    st.integers(-(10**6), 10**6),
    st.text(
        st.characters(exclude_categories=["Cs"], exclude_characters="\r\n"),
        min_size=1,
        max_size=5,
    ).map(lambda text: f"0{text}" if INTEGER_CELL.fullmatch(text) else text),
)
"""Items a cell holds: integers, and strings that are not empty, hold no line
end and read as no integer (``"07"``, not ``"7"``)."""

ENTRIES = st.tuples(st.lists(st.one_of(st.none(), VALUES), max_size=3), VALUES).map(
    lambda drawn: [*drawn[0], drawn[1]]
)
"""Entries a row holds: nulls (empty cells) anywhere but last."""

ANY_ENTRIES = st.lists(
    st.one_of(st.none(), VALUES, st.sampled_from(["", "42", "a\nb"])),
    min_size=1,
    max_size=4,
)
"""Entries, some of which no row holds: an empty string, a last null."""


def _splits(entries: st.SearchStrategy[Sequence[object]]) -> st.SearchStrategy[Sets]:
    """Return splits whose sets hold ``entries``, as lists."""
    return st.dictionaries(
        st.sampled_from(["train", "validation", "test"]),
        st.lists(entries.map(list), min_size=1, max_size=4),
        min_size=1,
    )


def _read_back(text: str, sets: Sets) -> None:
    """Assert that ``text`` reads back as ``sets``, in `convert` and `split`."""
    with tempfile.TemporaryDirectory() as folder:
        path = _write(Path(folder) / "s.csv", text)
        assert read_csv_split(path) == sets
        pooled = tuple(entry for entries in sets.values() for entry in entries)
        assert read_samples(path).entries == pooled


def _refused(entry: list[object]) -> bool:
    """Whether no row holds ``entry`` so that it reads back the same."""
    return entry[-1] is None or any(
        isinstance(item, str)
        and (not item or "\n" in item or INTEGER_CELL.fullmatch(item))
        for item in entry
    )


class TestCsvProperties:
    @settings(deadline=None)
    @given(_splits(ENTRIES))
    def test_round_trip(self, sets: Sets) -> None:
        """A split of strings, integers and nulls (but last) converts to CSV and
        reads back the same, as `convert` and `split` read it."""
        text, problems = write_csv_split(sets)
        assert problems == []
        _read_back(text, sets)

    @settings(deadline=None)
    @given(_splits(ANY_ENTRIES))
    def test_refused(self, sets: Sets) -> None:
        """What would not read back the same is refused, one problem an entry
        (an empty string, a last null); the rest reads back the same."""
        text, problems = write_csv_split(sets)
        refused = [
            f"{name}.{index}:"
            for name, entries in sets.items()
            for index, entry in enumerate(entries)
            if _refused(entry)  # type: ignore[arg-type]  # lists, drawn so
        ]
        assert [problem.split(" ")[0] for problem in problems] == refused
        if not problems:
            _read_back(text, sets)


class TestInferFormat:
    @pytest.mark.parametrize(
        ("name", "text", "expected"),
        [
            pytest.param("a.csv", "", "csv", id="csv"),
            pytest.param("a.CSV", "", "csv", id="upper-case"),
            pytest.param("a.json", '{"train": []}', "lightsplit", id="split"),
            pytest.param("a.json", '{"training": []}', "decathlon", id="datalist"),
            pytest.param("a.json", "[]", "lightsplit", id="other-json"),
            pytest.param("a.json.bz2", "", "lightsplit", id="bz2"),
        ],
    )
    def test_input(self, tmp_path: Path, name: str, text: str, expected: str) -> None:
        """Inputs are told apart by suffix, and datalists by their ``training`` key."""
        path = _write(tmp_path / name, text)
        assert infer_format(path, reading=True) == expected

    def test_output_json_is_a_split(self, tmp_path: Path) -> None:
        """An output ``.json`` is a split file, whatever it holds now."""
        path = _write(tmp_path / "d.json", '{"training": []}')
        assert infer_format(path, reading=False) == "lightsplit"

    def test_unknown_suffix(self) -> None:
        """Any other suffix asks for the format."""
        with pytest.raises(
            ConvertError,
            match=re.escape("x.txt: cannot tell the format from the name; name the"),
        ):
            infer_format("x.txt", reading=False)
