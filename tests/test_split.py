import bz2
import gc
import json
import re
import weakref
from functools import partial
from pathlib import Path

import pytest
from pydantic import ValidationError

from lightsplit import DatabaseSplit, SplitFileError, load_split


def _write(tmp_path: Path, document: object, name: str = "split.json") -> Path:
    path = tmp_path / name
    text = document if isinstance(document, str) else json.dumps(document)
    if name.endswith(".bz2"):
        path.write_bytes(bz2.compress(text.encode()))
    else:
        path.write_text(text)
    return path


REFERENCE = {
    "train": [["CXR_png/MCUCXR_0023_0.png", 0], ["CXR_png/MCUCXR_0024_1.png", 1]],
    "validation": [["CXR_png/MCUCXR_0025_0.png", 0]],
    "test": [["CXR_png/MCUCXR_0026_1.png", 1]],
    "monitor-train-subset": [["CXR_png/MCUCXR_0023_0.png", 0]],
}


class TestLoadSplit:
    @pytest.mark.parametrize("name", ["split.json", "split.json.bz2"])
    def test_reads_reference_format(self, tmp_path: Path, name: str) -> None:
        """Plain and bzip2-compressed files give the same split."""
        split = load_split(
            _write(tmp_path, REFERENCE, name), sample_type=tuple[str, int]
        )
        assert list(split) == list(REFERENCE)
        assert split["train"] == (
            ("CXR_png/MCUCXR_0023_0.png", 0),
            ("CXR_png/MCUCXR_0024_1.png", 1),
        )

    def test_any_keeps_json_values(self, tmp_path: Path) -> None:
        """Without a sample type, entries are the JSON values as parsed."""
        document = {"train": [["a.png", [1, 2]], {"image": "b.png"}, "c.png", 3]}
        split = load_split(_write(tmp_path, document))
        assert list(split["train"]) == document["train"]

    @pytest.mark.parametrize(
        ("sample_type", "document"),
        [
            pytest.param(
                tuple[str, str, str], {"test": [["a", "b", "c"]]}, id="three-str"
            ),
            pytest.param(
                tuple[str, list[int]], {"train": [["a", [1, 2, 3]]]}, id="str-list"
            ),
            pytest.param(
                tuple[str, int, list[list[float]]],
                {"train": [["a", 1, [[0.5, 1], [2.5, 3.0]]]]},
                id="str-int-boxes",
            ),
        ],
    )
    def test_sample_types(
        self, tmp_path: Path, sample_type: object, document: dict[str, object]
    ) -> None:
        """Real-world entry shapes validate against their type."""
        split = load_split(_write(tmp_path, document), sample_type=sample_type)
        assert len(split) == 1

    def test_subset_of_sets(self, tmp_path: Path) -> None:
        """A file may hold only some of the sets, even an empty one."""
        split = load_split(_write(tmp_path, {"test": [], "monitor-x": [1]}))
        assert dict(split) == {"test": (), "monitor-x": (1,)}

    @pytest.mark.parametrize(
        ("value", "shown"),
        [
            pytest.param('"1"', '"1"', id="quoted-int"),
            pytest.param("1.0", "1.0", id="float-int"),
            pytest.param("true", "true", id="bool-int"),
            pytest.param("null", "null", id="null-int"),
        ],
    )
    def test_strict_entries(self, tmp_path: Path, value: str, shown: str) -> None:
        """Nothing is coerced; the error names file, set, index and entry."""
        text = f'{{"train": [["a.png", 0], ["b.png", {value}]]}}'
        path = _write(tmp_path, text)
        with pytest.raises(SplitFileError) as exc_info:
            load_split(path, sample_type=tuple[str, int])
        message = str(exc_info.value)
        assert f"{path}: train.1: entry " in message
        assert f'["b.png", {shown}]' in message
        assert "(at `1`)" in message

    def test_error_message(self, tmp_path: Path) -> None:
        """The full message of an entry error, pinned once."""
        path = _write(tmp_path, {"train": [["a.png", "0"]]})
        with pytest.raises(SplitFileError) as exc_info:
            load_split(path, sample_type=tuple[str, int])
        assert str(exc_info.value) == (
            f"{path}: invalid split file, 1 problem:\n"
            f'  {path}: train.0: entry ["a.png", "0"]: Input should be a valid '
            'integer (at `1`), got "0"'
        )

    def test_wrong_length(self, tmp_path: Path) -> None:
        """An entry with too many items is refused."""
        path = _write(tmp_path, {"train": [["a.png", 0, 1]]})
        with pytest.raises(
            SplitFileError, match=re.escape('train.0: entry ["a.png", 0, 1]')
        ):
            load_split(path, sample_type=tuple[str, int])

    def test_many_errors_listed_briefly(self, tmp_path: Path) -> None:
        """Past five problems, the message counts the rest."""
        path = _write(tmp_path, {"train": [["a", "x"]] * 12})
        with pytest.raises(SplitFileError) as exc_info:
            load_split(path, sample_type=tuple[str, int])
        message = str(exc_info.value)
        assert "12 problems" in message
        assert "and 7 more" in message
        assert "train.4:" in message
        assert "train.5:" not in message

    @pytest.mark.parametrize(
        ("name", "suggestion"),
        [
            pytest.param("trian", "train", id="typo"),
            pytest.param("Train", "train", id="case"),
            pytest.param("valid", "validation", id="short"),
            pytest.param("tests", "test", id="plural"),
            pytest.param("monitor_train", "monitor-train", id="underscore"),
            pytest.param("monitor", "monitor-<name>", id="bare-monitor"),
            pytest.param("monitor-", "monitor-<name>", id="empty-monitor"),
            pytest.param("monitor-a b", "monitor-a-b", id="space"),
            pytest.param("train\n", "train", id="newline"),
        ],
    )
    def test_invalid_set_name(self, tmp_path: Path, name: str, suggestion: str) -> None:
        """An invalid set name is refused with the closest valid one."""
        path = _write(tmp_path, {name: []})
        with pytest.raises(SplitFileError) as exc_info:
            load_split(path)
        message = str(exc_info.value)
        assert f"did you mean `{suggestion}`?" in message
        assert str(path) in message

    @pytest.mark.parametrize("typed", [True, False])
    def test_invalid_set_name_and_entries_in_one_error(
        self, tmp_path: Path, typed: bool
    ) -> None:
        """A bad set name does not hide the other problems of the file."""
        document: dict[str, object] = {
            "Validation": [["c.png", 1]],
            "train": [["a.png", 0], ["b", "x"]],
        }
        if not typed:
            document["test"] = {"not": "a list"}
        path = _write(tmp_path, document)
        load = partial(load_split, sample_type=tuple[str, int]) if typed else load_split
        with pytest.raises(SplitFileError) as exc_info:
            load(path)
        lines = str(exc_info.value).splitlines()
        assert lines[0] == f"{path}: invalid split file, 2 problems:"
        assert "`Validation` is not a valid set name" in lines[1]
        second = 'train.1: entry ["b", "x"]' if typed else "test: a set must be"
        assert second in lines[2]

    def test_missing_file(self, tmp_path: Path) -> None:
        """A missing file is a ``FileNotFoundError``."""
        with pytest.raises(FileNotFoundError):
            load_split(tmp_path / "nope.json")

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            pytest.param('{"train": [}', "line 1 column 12: invalid JSON", id="syntax"),
            pytest.param(
                '{"train": [], "train": [1]}',
                "key `train` appears twice in one object",
                id="duplicate-set",
            ),
            pytest.param(
                '{"train": [{"a": 1, "a": 2}]}',
                "key `a` appears twice",
                id="duplicate-inner",
            ),
            pytest.param(
                '{"\\ud800": [], "\\ud800": [1]}',
                "key `\\ud800` appears twice",
                id="duplicate-surrogate",
            ),
            pytest.param('{"train": [NaN]}', "`NaN` is not valid JSON", id="nan"),
            pytest.param('{"train": [Infinity]}', "`Infinity` is not valid", id="inf"),
            pytest.param(
                '{"train": [1e400]}', "number 1e400 is too large", id="overflow"
            ),
            pytest.param("[1, 2]", "must hold a JSON object", id="top-level-array"),
            pytest.param(
                '{"train": 3}', "train: a set must be a JSON array", id="set-int"
            ),
        ],
    )
    def test_malformed_file(self, tmp_path: Path, text: str, expected: str) -> None:
        """Malformed files raise ``SplitFileError`` naming the file and problem."""
        path = _write(tmp_path, text)
        with pytest.raises(SplitFileError) as exc_info:
            load_split(path)
        assert str(path) in str(exc_info.value)
        assert expected in str(exc_info.value)

    def test_set_not_array_typed(self, tmp_path: Path) -> None:
        """With a sample type, a set that is not an array is refused too."""
        path = _write(tmp_path, {"train": {"a": 1}})
        with pytest.raises(SplitFileError, match=re.escape("train: Input should be")):
            load_split(path, sample_type=tuple[str, int])

    def test_bad_bzip2(self, tmp_path: Path) -> None:
        """A ``.bz2`` file that is not bzip2 data is reported as such."""
        path = tmp_path / "split.json.bz2"
        path.write_text("{}")
        with pytest.raises(SplitFileError, match="not a valid bzip2 file"):
            load_split(path)

    def test_errors_are_value_errors(self, tmp_path: Path) -> None:
        """Users can catch every split-file problem as ``ValueError``."""
        with pytest.raises(ValueError, match="invalid JSON"):
            load_split(_write(tmp_path, "{"))


class TestCollector:
    """Reading a split pauses the cyclic garbage collector, and only then."""

    @pytest.mark.parametrize("enabled", [True, False])
    @pytest.mark.parametrize("text", ['{"train": [["a.png", 0]]}', '{"train": [['])
    def test_left_as_found(self, tmp_path: Path, text: str, *, enabled: bool) -> None:
        """Read or refused, the collector runs afterwards exactly if it ran before."""
        path = tmp_path / "s.json"
        path.write_text(text)
        (gc.enable if enabled else gc.disable)()
        try:
            try:
                load_split(path, sample_type=tuple[str, int])
            except SplitFileError:
                assert not text.endswith("]]}")
            assert gc.isenabled() is enabled
            try:
                load_split(path)
            except SplitFileError:
                assert not text.endswith("]]}")
            assert gc.isenabled() is enabled
        finally:
            gc.enable()

    def test_cycles_still_collected(self, tmp_path: Path) -> None:
        """A cycle made while a split is read is collected; frozen objects stay so."""
        path = tmp_path / "s.json"
        path.write_text('{"train": [["a.png", 0]]}')

        class Node:
            def __init__(self) -> None:
                self.me = self

        gc.collect()
        cycle = weakref.ref(Node())  # garbage from the start: a cycle alone
        load_split(path)  # moves every object to the oldest generation
        gc.collect()
        assert cycle() is None
        kept = [object()]
        gc.freeze()
        try:
            frozen = gc.get_freeze_count()
            load_split(path)
            assert gc.get_freeze_count() == frozen
        finally:
            gc.unfreeze()
        assert kept


class TestDatabaseSplit:
    def test_read_only(self, tmp_path: Path) -> None:
        """Sets cannot be replaced or changed through the split."""
        split = load_split(_write(tmp_path, REFERENCE), sample_type=tuple[str, int])
        with pytest.raises(TypeError):
            split["train"] = ()  # type: ignore[index]  # the point of the test
        with pytest.raises(AttributeError):
            split["train"].append(("x", 1))  # type: ignore[attr-defined]  # the point
        assert isinstance(split["train"], tuple)

    def test_from_mapping(self) -> None:
        """A split built in Python is checked and frozen the same way."""
        samples = [["a", 1]]
        split = DatabaseSplit({"train": samples})
        samples.append(["b", 2])
        assert split["train"] == (["a", 1],)
        assert repr(split) == "<DatabaseSplit (train: 1)>"

    def test_from_mapping_invalid_name(self) -> None:
        """An invalid set name is a validation error at its key."""
        with pytest.raises(ValidationError) as exc_info:
            DatabaseSplit({"Test": []})
        [error] = exc_info.value.errors(include_url=False)
        assert (error["type"], error["loc"]) == ("set_name_invalid", ("Test", "[key]"))
        assert error["msg"].startswith(
            "`Test` is not a valid set name; did you mean `test`?"
        )

    def test_mapping_protocol(self, tmp_path: Path) -> None:
        """A split is a mapping: ``len``, ``in``, ``items`` and equality work."""
        path = _write(tmp_path, REFERENCE)
        split = load_split(path, sample_type=tuple[str, int])
        assert len(split) == 4
        assert "test" in split
        assert split == load_split(path, sample_type=tuple[str, int])
        assert split.source == str(path)
