"""``read_samples``: entries to split from JSON arrays, split files and CSV tables."""

import bz2
import json
import re
from pathlib import Path

import pytest

from lightsplit._codec import ConvertError
from lightsplit._errors import SplittingError
from lightsplit._samples import read_samples


class TestReadSamples:
    def test_json_array(self, tmp_path: Path) -> None:
        """A JSON array is the entries, each known by its position."""
        path = tmp_path / "s.json"
        path.write_text('[["a.png", 0], ["b.png", [0, 1]]]')
        found = read_samples(path)
        assert found.entries == (["a.png", 0], ["b.png", [0, 1]])
        assert found.origins == ("entry 0", "entry 1")

    def test_compressed(self, tmp_path: Path) -> None:
        """A ``.bz2`` file is decompressed first."""
        path = tmp_path / "s.json.bz2"
        path.write_bytes(bz2.compress(b'[["a", 1]]'))
        assert read_samples(path).entries == (["a", 1],)

    def test_split_file_pooled(self, tmp_path: Path) -> None:
        """A split file's sets are pooled; monitor sets are left out, with a note."""
        path = tmp_path / "s.json"
        sets = {"train": [["a", 0]], "test": [["b", 1]], "monitor-x": [["a", 0]]}
        path.write_text(json.dumps(sets))
        found = read_samples(path)
        assert found.entries == (["a", 0], ["b", 1])
        assert found.origins == ("train.0", "test.0")
        assert found.notes == (
            f"{path}: left out the sets `monitor-x`, as `monitor-<name>` sets repeat "
            "entries of the other sets",
        )

    def test_csv_table(self, tmp_path: Path) -> None:
        """A CSV table: a header, then one entry per row, integers read as such."""
        path = tmp_path / "s.csv"
        path.write_text("path,label\na.png,0\n\nb.png,007,\n")
        found = read_samples(path)
        assert found.entries == (["a.png", 0], ["b.png", "007"])
        assert found.origins == ("row 2", "row 4")
        assert found.columns == ("path", "label")

    def test_csv_split(self, tmp_path: Path) -> None:
        """A CSV table whose first column is ``set`` is a split, pooled."""
        path = tmp_path / "s.csv"
        path.write_text("set,path,label\ntrain,a,0\ntest,b,1\n")
        found = read_samples(path)
        assert found.entries == (["a", 0], ["b", 1])
        assert found.columns == ("path", "label")

    def test_csv_row_too_long(self, tmp_path: Path) -> None:
        """A row longer than the header is refused, naming it."""
        path = tmp_path / "s.csv"
        path.write_text("path\na,0\n")
        with pytest.raises(SplittingError, match=re.escape("row 2 has 2 cells")):
            read_samples(path)

    def test_csv_long_cell(self, tmp_path: Path) -> None:
        """A cell longer than Python's ``csv`` allows by default (128 KiB) is read,
        not taken for a quote left open: no cell spans lines."""
        path = tmp_path / "s.csv"
        long = "x" * 200_000 + ".png"
        path.write_text(f"path,label\n{long},0\nb.png,1\n")
        assert read_samples(path).entries == ([long, 0], ["b.png", 1])

    @pytest.mark.parametrize("columns", ["path,label", "set,path,label"])
    def test_csv_integer_too_long(self, tmp_path: Path, columns: str) -> None:
        """An integer cell of more digits than Python reads is refused, naming the
        row, as the JSON reader refuses one."""
        path = tmp_path / "s.csv"
        cells = "train,a.png" if columns.startswith("set") else "a.png"
        path.write_text(f"{columns}\n{cells},{'9' * 5000}\n")
        with pytest.raises(
            (SplittingError, ConvertError),
            match=re.escape(
                "row 2: a cell of 5000 digits is an integer of more than 4300 digits; "
                "write a smaller number"
            )
            if columns.startswith("set")
            else r"row 2 \(`a\.png,9+\.\.\.`\): a cell of 5000 digits is an integer",
        ):
            read_samples(path)

    def test_csv_bad_set(self, tmp_path: Path) -> None:
        """A CSV split with an invalid set name is refused as ``convert`` does."""
        path = tmp_path / "s.csv"
        path.write_text("set,path\nvalid,a\n")
        with pytest.raises(ConvertError, match="did you mean `validation`"):
            read_samples(path)

    @pytest.mark.parametrize(
        ("text", "message"),
        [
            pytest.param("[]", "holds no entry to split", id="empty"),
            pytest.param("3", "holds a number; give a JSON array", id="number"),
            pytest.param(
                '[["a", 0]', "line 1 column 10: invalid JSON: expected `,`", id="cut"
            ),
        ],
    )
    def test_refused(self, tmp_path: Path, text: str, message: str) -> None:
        """Text that holds no entries to split is refused, saying why."""
        path = tmp_path / "s.json"
        path.write_text(text)
        with pytest.raises(SplittingError, match=re.escape(message)):
            read_samples(path)

    def test_empty_table(self, tmp_path: Path) -> None:
        """An empty table is refused."""
        path = tmp_path / "s.csv"
        path.write_text("")
        with pytest.raises(SplittingError, match="the table is empty"):
            read_samples(path)

    def test_not_utf8(self, tmp_path: Path) -> None:
        """Bytes that are not UTF-8 are refused."""
        path = tmp_path / "s.json"
        path.write_bytes(b"\xff\xfe[")  # UTF-16, cut short
        with pytest.raises(SplittingError) as exc_info:
            read_samples(path)
        assert str(exc_info.value) == (
            f"{path}: UTF-16 text, not UTF-8; save it as UTF-8, which JSON files are"
        )

    def test_datalist_named(self, tmp_path: Path) -> None:
        """A datalist given to split is named, with the command to convert it."""
        path = tmp_path / "dataset.json"
        path.write_text('{"name": "Heart", "training": [{"image": "a.nii"}]}')
        with pytest.raises(SplittingError) as exc_info:
            read_samples(path)
        assert str(exc_info.value) == (
            f"{path}: holds `training`, as a Decathlon or MONAI datalist does, not a "
            "split file; convert it first (`lightsplit convert dataset.json -o "
            "split.json`), then split that"
        )
