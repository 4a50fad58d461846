import bz2
import codecs
import errno
import gc
import gzip
import json
import pickle
import re
import sys
import typing
import weakref
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Annotated, Any, Final

import pytest
from pydantic import ValidationError

from lightsplit import DatabaseSplit, SplitFileError, load_split
from lightsplit._cli import main
from lightsplit._errors import json_syntax_problem
from lightsplit._outputs import sidecar_path
from lightsplit._split import read_split

Capture = pytest.CaptureFixture[str]


class TypingEntry(typing.TypedDict):
    """A ``typing.TypedDict``, which pydantic reads from Python 3.12 on."""

    image: str


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

    @pytest.mark.parametrize(
        "sample_type",
        [
            tuple[str, int] | tuple[str, list[int]],
            Annotated[tuple[str, int] | tuple[str, list[int]], "a note"],
        ],
    )
    def test_union_sample_type_one_problem_per_entry(
        self, tmp_path: Path, sample_type: object
    ) -> None:
        """An entry matching no form of a union is one problem, saying why per form
        (``Annotated`` or not).

        The entry is shown once: a value that is the whole entry is not again.
        """
        path = _write(tmp_path, {"train": [["a.png", "x"], ["b.png", 1], 3]})
        with pytest.raises(SplitFileError) as exc_info:
            load_split(path, sample_type=sample_type)
        assert str(exc_info.value) == (
            f"{path}: invalid split file, 2 problems:\n"
            f'  {path}: train.0: entry ["a.png", "x"]: matches no form of the sample '
            "type: as `tuple[str, int]`, Input should be a valid integer (at `1`), "
            'got "x"; as `tuple[str, list[int]]`, Input should be a valid array (at '
            '`1`), got "x"\n'
            f"  {path}: train.2: entry 3: matches no form of the sample type: as "
            "`tuple[str, int]`, Input should be a valid array; as "
            "`tuple[str, list[int]]`, Input should be a valid array"
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

    @pytest.mark.parametrize(
        "sample_type",
        [frozenset, set[str], tuple[str, frozenset[int]], list[set[int]]],
    )
    def test_unordered_sample_type(self, tmp_path: Path, sample_type: object) -> None:
        """A set type would read an array without its order and repeats: refused."""
        path = _write(tmp_path, {"train": [["a.png", 0, "a.png"]]})
        with pytest.raises(TypeError, match="losing its order and repeated items"):
            load_split(path, sample_type=sample_type)

    def test_sidecar_given(self, tmp_path: Path) -> None:
        """The sidecar of a split (which `*.json` matches too) is said to be one,
        naming its split, not read as a split of 10 invalid set names."""
        samples = tmp_path / "samples.json"
        samples.write_text(json.dumps([[f"{i}.png", i % 2] for i in range(6)]))
        folds = tmp_path / "folds"
        assert main(["split", str(samples), "--folds", "3", "-o", str(folds)]) == 0
        sidecar = folds / "fold-0.json.lightsplit.json"
        with pytest.raises(SplitFileError) as exc_info:
            load_split(sidecar)
        assert str(exc_info.value) == (
            f"{sidecar}: the sidecar file where `lightsplit split` records how it "
            f"made a split, not a split file; give the split file, {folds}/"
            "fold-0.json, itself (a pattern such as `*.json` matches both: leave out "
            "`*.lightsplit.json`)"
        )

    def test_folder(self, tmp_path: Path) -> None:
        """A folder given for the split file is said to be one."""
        with pytest.raises(SplitFileError, match=r"is a folder; give the path of a"):
            load_split(tmp_path)

    def test_csv_table(self, tmp_path: Path) -> None:
        """A CSV table given for the split file is said to be one, with the command
        that converts it; a `.csv` name holding JSON is read."""
        table = tmp_path / "split.csv"
        table.write_text("set,path,label\ntrain,a.png,0\n")
        with pytest.raises(SplitFileError) as exc_info:
            load_split(table)
        json_path = tmp_path / "split.json"
        assert str(exc_info.value) == (
            f"{table}: a CSV table, not a JSON split file; `lightsplit convert "
            f"{table} -o {json_path}` makes a split file of a table with a `set` "
            "column, then one column per entry item, and `lightsplit split "
            f"{table} --fractions 0.7 0.15 0.15 -o {json_path}` splits a table of "
            "samples (a path and a label column)"
        )
        table.write_text('{"train": [["a.png", 0]]}')
        assert load_split(table)["train"] == (["a.png", 0],)

    def test_empty_set_name(self, tmp_path: Path) -> None:
        """An empty set name is said to be empty, not given a name to mean."""
        path = _write(tmp_path, {"": [["a.png", 0]]})
        with pytest.raises(SplitFileError) as exc_info:
            load_split(path)
        assert str(exc_info.value).splitlines()[1] == (
            f"  {path}: (empty name): a set name is empty; name the set. Set names "
            "are `train`, `validation`, `test` or `monitor-<name>` (<name>: "
            "letters, digits, `.`, `_`, `-`)"
        )

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
                "line 1 column 15: invalid JSON: key `train` appears twice in one "
                "object; keep one of the two",
                id="duplicate-set",
            ),
            pytest.param(
                '{"train": [{"a": 1, "a": 2}]}',
                "line 1 column 21: invalid JSON: key `a` appears twice",
                id="duplicate-inner",
            ),
            pytest.param(
                '{"\\ud800": [], "\\ud800": [1]}',
                "key `\\ud800` appears twice",
                id="duplicate-surrogate",
            ),
            pytest.param(
                '{"train": [NaN]}',
                "line 1 column 12: invalid JSON: `NaN` is not valid JSON",
                id="nan",
            ),
            pytest.param(
                '{"train": [["NaN.png", 0], Infinity]}',
                "line 1 column 28: invalid JSON: `Infinity` is not valid",
                id="inf",
            ),
            pytest.param(
                '{"train": [[0], [1e400]]}',
                "line 1 column 18: invalid JSON: number 1e400 is too large",
                id="overflow",
            ),
            pytest.param(
                '{"a": [{"k": 1}], "b": [{"k": 1, "k": 2}]}',
                ": invalid JSON: key `k` appears twice",  # three: not told where
                id="duplicate-unplaced",
            ),
            pytest.param(
                '{"train": [["a.png", 0],]}',
                "line 1 column 25: invalid JSON: a comma with no value after it "
                'between `{"train": [["a.png", 0],` and `]}`',
                id="trailing-comma",
            ),
            pytest.param(
                '{"train": [[a.png, 0]]}', "text without quotes between", id="bare"
            ),
            pytest.param(
                "{\"train\": [['a.png', 0]]}",
                "a string in single quotes between",
                id="single-quotes",
            ),
            pytest.param(
                '// split\n{"train": []}',
                "a comment before `// split {",
                id="comment",
            ),
            pytest.param(
                '{\n  // train\n  "train": []}',
                "line 2 column 3: invalid JSON: a comment between `{` and `// train "
                '"train": []}`; remove it: JSON has no comments',
                id="comment-for-a-key",
            ),
            pytest.param(
                "{'train': []}",
                "a key in single quotes between `{` and `'train': []}`; write keys "
                'in double quotes (`"train"`)',
                id="key-in-single-quotes",
            ),
            pytest.param(
                '{"train": [],}',
                'a comma with no key after it between `{"train": [],` and `}`; '
                "remove the comma before `}`",
                id="comma-before-brace",
            ),
            pytest.param(
                "{train: []}",
                "expected a key in double quotes between `{` and `train: []}`; "
                'write the key in double quotes (`"train"`)',
                id="bare-key",
            ),
            pytest.param(
                '{"train": [["a\\ud800.png", 0]]}',
                "line 1 column 15: `\\ud800` is half of a UTF-16 surrogate pair, "
                "which names no character; write the character itself, or both",
                id="lone-surrogate",
            ),
            pytest.param(
                '{"train": [["\\ud83d\\ude00.png", 0], ["\\udc00.png", 1]]}',
                "line 1 column 39: `\\udc00` is half",
                id="lone-second-half",
            ),
            pytest.param(
                '{"train": [["a", ' + "9" * 5000 + "]]}",
                f"invalid JSON: an integer of more than {sys.get_int_max_str_digits()} "
                "digits; write a smaller number",
                id="long-integer",
            ),
            pytest.param(
                '{"train": [' + "[" * 100_000 + "]" * 100_000 + "]}",
                "invalid JSON: arrays or objects nested too deep to read",
                id="too-deep",
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

    @pytest.mark.parametrize(
        ("end", "doc", "older", "said"),
        [
            (
                "array",
                '{"train": [["a.png", 0] ,\n ]}',
                "Expecting value",
                "line 2 column 2: invalid JSON: a comma with no value after it "
                'between `{"train": [["a.png", 0] ,` and `]}`; remove the comma '
                "before `]` or `}`",
            ),
            (
                "object",
                '{"train": [] ,\n }',
                "Expecting property name enclosed in double quotes",
                "line 2 column 2: invalid JSON: a comma with no key after it "
                'between `{"train": [] ,` and `}`; remove the comma before `}`',
            ),
        ],
    )
    def test_trailing_comma_alike_on_every_python(
        self, end: str, doc: str, older: str, said: str
    ) -> None:
        """Python 3.13 reports a trailing comma at the comma ("Illegal trailing
        comma"), earlier versions after it: both read alike."""
        comma = doc.index(",\n")
        newer = json.JSONDecodeError(
            f"Illegal trailing comma before end of {end}", doc, comma
        )
        before = json.JSONDecodeError(older, doc, doc.rindex("\n") + 2)
        assert json_syntax_problem(newer) == json_syntax_problem(before) == said

    def test_not_utf8(self, tmp_path: Path) -> None:
        """Bytes that are not UTF-8 are placed, with the encoding to save in."""
        path = tmp_path / "split.json"
        path.write_bytes('{"train": [\n  ["caf\u00e9.png", 0]]}'.encode("cp1252"))
        with pytest.raises(SplitFileError) as exc_info:
            load_split(path)
        assert str(exc_info.value) == (
            f"{path}: line 2 column 8: not UTF-8 text (byte 0xe9, invalid "
            "continuation byte): the file was likely saved in another encoding "
            "(such as Windows-1252 or Latin-1); save it as UTF-8, which JSON files "
            "are"
        )

    def test_utf16_refused(self, tmp_path: Path) -> None:
        """A UTF-16 file, which Python's ``json`` reads, is refused, as JSON is UTF-8
        and other tools would refuse it."""
        path = tmp_path / "split.json"
        path.write_bytes(json.dumps(REFERENCE).encode("utf-16"))
        with pytest.raises(SplitFileError) as exc_info:
            load_split(path)
        assert str(exc_info.value) == (
            f"{path}: UTF-16 text, not UTF-8; save it as UTF-8, which JSON files are"
        )

    @pytest.mark.parametrize("sample_type", [Any, tuple[str, int]])
    def test_byte_order_mark_read(self, tmp_path: Path, sample_type: object) -> None:
        """A UTF-8 file that starts with a byte order mark (as Windows editors
        save) is read, with a sample type or without."""
        path = tmp_path / "split.json"
        path.write_bytes(codecs.BOM_UTF8 + json.dumps(REFERENCE).encode())
        split = load_split(path, sample_type=sample_type)
        assert [list(entry) for entry in split["train"]] == REFERENCE["train"]

    def test_too_deep_for_a_sample_type(self, tmp_path: Path) -> None:
        """Entries nested deeper than pydantic reads are named as such, not as a
        document that is no object."""
        path = tmp_path / "split.json"
        path.write_text('{"train": [' + "[" * 300 + "]" * 300 + "]}")
        assert len(load_split(path)["train"]) == 1
        with pytest.raises(SplitFileError) as exc_info:
            load_split(path, sample_type=list[Any])
        assert "recursion limit exceeded at line 1 column" in str(exc_info.value)
        assert str(exc_info.value).endswith(
            "the JSON is valid, but pydantic, which checks the entries against a "
            "sample type, cannot read it (arrays or objects nested more than about "
            "200 levels deep, say); leave out the sample type"
        )

    def test_surrogate_pair_read(self, tmp_path: Path) -> None:
        """A character beyond U+FFFF written as a pair of escapes is read, and a
        backslash before `u` is no escape."""
        path = _write(
            tmp_path, '{"train": [["\\ud83d\\ude00.png", 0], ["\\\\ud800", 1]]}'
        )
        assert list(load_split(path)["train"]) == [
            ["\U0001f600.png", 0],
            ["\\ud800", 1],
        ]

    def test_set_not_array_typed(self, tmp_path: Path) -> None:
        """With a sample type, a set that is not an array is refused too, with
        the same message as without one."""
        path = _write(tmp_path, {"train": {"a": 1}})
        message = 'train: a set must be a JSON array of samples, not {"a": 1}'
        for sample_type in (Any, tuple[str, int]):
            with pytest.raises(SplitFileError, match=re.escape(message)):
                load_split(path, sample_type=sample_type)

    @pytest.mark.parametrize(
        ("sample_type", "entry", "place"),
        [
            pytest.param(tuple[str, int], ["a", "1"], "1", id="item"),
            pytest.param(
                tuple[str, list[list[int]]],
                ["a", [[1], [2, "x"]]],
                "1[1][1]",
                id="deep",
            ),
            pytest.param(
                tuple[str, dict[str, int]], ["a", {"1.2": "x"}], '1["1.2"]', id="key"
            ),
            pytest.param(
                dict[str, list[int]], {"boxes": [0, "x"]}, "boxes[1]", id="field"
            ),
        ],
    )
    def test_place_in_entry(
        self, tmp_path: Path, sample_type: object, entry: object, place: str
    ) -> None:
        """The place of a wrong value within its entry reads as one: items of
        arrays in brackets, keys that are no names quoted (not ``1.1``, which
        reads as a number, nor ``1.2`` for the key ``"1.2"``)."""
        path = _write(tmp_path, {"train": [entry]})
        with pytest.raises(SplitFileError, match=re.escape(f"(at `{place}`)")):
            load_split(path, sample_type=sample_type)

    def test_control_characters_of_set_names_escaped(self, tmp_path: Path) -> None:
        """A set name's control characters are escaped in its entries' problems,
        as in its own: a message stays on its line and cannot recolour a terminal."""
        path = _write(tmp_path, {"test\x1b[31m\n": [["a", "1"]]})
        with pytest.raises(SplitFileError) as caught:
            load_split(path, sample_type=tuple[str, int])
        message = str(caught.value)
        assert "\x1b" not in message
        assert message.count("\n") == 2  # the title and one line per problem
        assert "test\\x1b[31m\\n.0: entry" in message

    def test_empty_path(self) -> None:
        """An empty path is named as such, not as the current folder (``.``)."""
        with pytest.raises(SplitFileError, match="the path of the split file is empty"):
            load_split("")
        with pytest.raises(SplitFileError, match="the path of the split file is empty"):
            read_split("")  # as `check` and `card` read a split with its text

    @pytest.mark.parametrize(
        ("data", "kind"),
        [
            (b"\x89PNG\r\n\x1a\n\x00\x00", "a PNG image"),
            (b"\xff\xd8\xff\xe0\x00\x10JFIF", "a JPEG image"),
            (bytes(128) + b"DICM\x02\x00", "a DICOM file"),
            (b"\x93NUMPY\x01\x00", "a NumPy array (`.npy`)"),
        ],
        ids=["png", "jpeg", "dicom", "npy"],
    )
    def test_data_file_given(self, tmp_path: Path, data: bytes, kind: str) -> None:
        """A data file given for the split file (an image named in place of the
        split) is named as what it is, not as text of another encoding."""
        path = tmp_path / "split.json"
        path.write_bytes(data)
        with pytest.raises(SplitFileError) as caught:
            load_split(path)
        assert str(caught.value) == (
            f"{path}: {kind}, not a split file; give the path of a split file "
            "(`.json` or `.json.bz2`)"
        )

    def test_bad_bzip2(self, tmp_path: Path) -> None:
        """A ``.bz2`` file that is not bzip2 data is reported as such."""
        path = tmp_path / "split.json.bz2"
        path.write_text("{}")
        with pytest.raises(SplitFileError, match="not a valid bzip2 file"):
            load_split(path)

    @pytest.mark.parametrize("name", ["split.JSON.BZ2", "split.json"])
    def test_bzip2_told_by_its_data(self, tmp_path: Path, name: str) -> None:
        """bzip2 data is read as such under an upper-case or a plain name."""
        path = tmp_path / name
        path.write_bytes(bz2.compress(json.dumps(REFERENCE).encode()))
        assert list(load_split(path)) == list(REFERENCE)

    def test_missing_file_named(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A missing file, or a link to one, is named as the data modules name it,
        the absolute path of a relative one included (it was a bare errno)."""
        monkeypatch.chdir(tmp_path)
        (tmp_path / "link.json").symlink_to("gone.json")
        for name, why in [
            ("nowhere.json", ""),
            ("link.json", " (a link to gone.json, which does not exist)"),
        ]:
            with pytest.raises(FileNotFoundError) as exc_info:
                load_split(name)
            assert str(exc_info.value) == (
                f"`load_split`: the split file {name} does not exist (read as "
                f"{tmp_path / name}){why}; give the path of an existing split "
                "file (`.json` or `.json.bz2`)"
            )
            error = exc_info.value
            assert (error.errno, error.strerror, error.filename) == (
                errno.ENOENT,
                "No such file or directory",
                name,
            )
            assert str(pickle.loads(pickle.dumps(error))) == str(error)

    def test_other_compression_named(self, tmp_path: Path) -> None:
        """gzip data is named as such, not blamed on the text's encoding."""
        path = tmp_path / "split.json.gz"
        path.write_bytes(gzip.compress(json.dumps(REFERENCE).encode()))
        with pytest.raises(SplitFileError) as exc_info:
            load_split(path)
        assert str(exc_info.value) == (
            f"{path}: gzip-compressed data; lightsplit reads JSON text, plain or "
            "compressed with bzip2: decompress it, or recompress it with bzip2"
        )

    @pytest.mark.parametrize(
        ("sample_type", "said"),
        [
            pytest.param(
                3,
                "`sample_type` 3 is no type to check entries by (Unable to generate "
                "pydantic-core schema for 3)",
                id="3",
            ),
            pytest.param(
                "Undefined",
                "`sample_type` 'Undefined' is no type to check entries by (name "
                "'Undefined' is not defined)",
                id="name-not-defined",
            ),
            pytest.param(
                TypingEntry,
                f"`sample_type` {TypingEntry!r} is no type to check entries "
                "by (Please use `typing_extensions.TypedDict` instead of "
                "`typing.TypedDict` on Python < 3.12)",
                id="typing-typeddict",
                marks=pytest.mark.skipif(
                    sys.version_info >= (3, 12), reason="read from Python 3.12"
                ),
            ),
            pytest.param(
                None,
                "`sample_type` None would require every entry to be null",
                id="none",
            ),
            pytest.param(
                [str, int],
                "`sample_type` [<class 'str'>, <class 'int'>] is a list, not a type "
                "(for object entries, give a `typing_extensions.TypedDict`)",
                id="list",
            ),
            pytest.param(
                {"path": str},
                "`sample_type` {'path': <class 'str'>} is a dict, not a type (for "
                "object entries, give a `typing_extensions.TypedDict`)",
                id="dict",
            ),
            pytest.param(
                "not a type",
                "`sample_type` 'not a type' is no type to check entries by (Forward "
                "reference must be an expression -- got 'not a type')",
                id="string-no-expression",
            ),
        ],
    )
    def test_sample_type_that_is_no_type(
        self, tmp_path: Path, sample_type: object, said: str
    ) -> None:
        """A sample type that is no type is named, with the fix."""
        path = _write(tmp_path, REFERENCE)
        with pytest.raises(TypeError) as exc_info:
            load_split(path, sample_type=sample_type)
        assert str(exc_info.value) == (
            f"{said}; give the type of one entry, such as `tuple[str, int]`, or "
            "leave it out"
        )

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
        kept = [object()]  # a container, which the collector tracks
        gc.freeze()
        try:
            load_split(path)
            # A frozen object is in none of the generations the collector reads
            # (not a count, which other threads' freed objects lower).
            assert not any(item is kept for item in gc.get_objects())
        finally:
            gc.unfreeze()
        assert any(item is kept for item in gc.get_objects())


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

    @pytest.mark.parametrize(
        ("samples", "kind"),
        [
            pytest.param("images/a.png", "str", id="string"),
            pytest.param(None, "None", id="none"),
            pytest.param({"images/a.png", "images/b.png"}, "set", id="unordered"),
        ],
    )
    def test_set_that_is_no_sequence(self, samples: object, kind: str) -> None:
        """A string set is not read as its characters, nor ``None`` as a crash."""
        with pytest.raises(ValidationError) as exc_info:
            DatabaseSplit({"train": [["b.png", 0]], "test": samples})  # type: ignore[arg-type]  # the point
        [error] = exc_info.value.errors(include_url=False)
        assert (error["type"], error["loc"]) == ("set_invalid", ("test",))
        assert error["msg"] == (
            f"set `test` must be a sequence (a list or tuple) of raw samples, not "
            f"`{kind}`; a set of one sample is a list of one"
        )

    def test_split_that_is_no_mapping(self) -> None:
        """Pairs of names and sets are refused, saying that a mapping is wanted."""
        with pytest.raises(TypeError, match=r"takes a mapping of set names"):
            DatabaseSplit([("train", [["a.png", 0]])])  # type: ignore[arg-type]  # the point

    def test_mapping_protocol(self, tmp_path: Path) -> None:
        """A split is a mapping: ``len``, ``in``, ``items`` and equality work."""
        path = _write(tmp_path, REFERENCE)
        split = load_split(path, sample_type=tuple[str, int])
        assert len(split) == 4
        assert "test" in split
        assert split == load_split(path, sample_type=tuple[str, int])
        assert split.source == str(path)


def _run(capsys: Capture, *argv: str | Path) -> tuple[int, str, str]:
    """Run ``main`` in process; return its status, stdout and stderr."""
    status = main([str(arg) for arg in argv])
    out, err = capsys.readouterr()
    return status, out, err


def _table(tmp_path: Path, text: str, name: str = "samples.csv") -> Path:
    """Write ``text`` as the table ``name``; return its path."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _array(tmp_path: Path, count: int = 30) -> Path:
    """Write a JSON array of ``count`` entries of 5 patients, labels 0 and 1."""
    path = tmp_path / "samples.json"
    path.write_text(
        json.dumps([[f"p{i % 5}/{i:03d}.png", i % 2] for i in range(count)])
    )
    return path


def _halves(
    capsys: Capture, source: Path, *options: str | Path
) -> tuple[int, str, str]:
    """Split ``source`` in halves into ``out.json`` next to it."""
    output = source.with_name("out.json")
    return _run(
        capsys, "split", source, "--fractions", "0.5", "0.5", "-o", output, *options
    )


def _first_warning(capsys: Capture, source: Path) -> str:
    """Split ``source`` in halves; return the line after the one that reads it."""
    status, out, err = _halves(capsys, source)
    assert (status, err) == (0, ""), err
    return out.splitlines()[1]


def _entries_file(tmp_path: Path, entries: list[list[object]]) -> Path:
    """Write ``entries`` as the JSON array ``samples.json``."""
    source = tmp_path / "samples.json"
    source.write_text(json.dumps(entries))
    return source


class TestSplitCsvTables:
    """``lightsplit split`` refuses tables it would mis-read; reads columns by name."""

    def test_table_separated_by_comma_and_space(
        self, tmp_path: Path, capsys: Capture
    ) -> None:
        """A table written `path, label` is read without the space after each
        comma, as its header is: labels `0` and `1`, not the text ` 0` (two
        classes " 0" and " 1" were written, unwarned); quotes still hold commas."""
        rows = [f"p{i}/{i}.png, {i % 2}" for i in range(10)] + ['"a, b.png", 0']
        source = _table(tmp_path, "path, label\n" + "\n".join(rows) + "\n")
        status, _, err = _halves(capsys, source)
        assert (status, err) == (0, "")
        entries = [
            e for s in load_split(source.with_name("out.json")).values() for e in s
        ]
        assert sorted(entries) == sorted(
            [[f"p{i}/{i}.png", i % 2] for i in range(10)] + [["a, b.png", 0]]
        )

    def test_table_not_named_csv_said(self, tmp_path: Path, capsys: Capture) -> None:
        """A tab-separated `.tsv` is read as JSON, and fails so: the error says
        that only `.csv` names are read as tables (it spoke of JSON alone)."""
        source = _table(tmp_path, "path\tlabel\na.png\t0\nb.png\t1\n", "t.tsv")
        status, _, err = _halves(capsys, source)
        assert status == 1
        assert err.startswith(
            f"lightsplit split: error: {source}: read as JSON, as only files named "
            "`.csv` are read as tables, and it is none (line 1 column 1: invalid JSON"
        )
        assert err.endswith(
            "); save the table as CSV (separated by commas), named `.csv`\n"
        )
        workbook = source.with_name("t.xlsx")
        workbook.write_bytes(b"PK\x03\x04 a spreadsheet")
        status, _, err = _halves(capsys, workbook)
        assert status == 1
        assert err.startswith(
            f"lightsplit split: error: {workbook}: read as JSON, as only files named "
            "`.csv` are read as tables, and it is none (zip-compressed data"
        )

    @pytest.mark.parametrize(
        ("text", "message"),
        [
            pytest.param(
                'path,label\n"p1/a.png,0\np2/b.png,1\np3/c.png,0\n',
                'row 2 (`"p1/a.png,0`): a quote opened in row 2 is never closed, so '
                "the rest of the file reads as one cell; close the quote opened in "
                "row 2\n",
                id="never-closed",
            ),
            pytest.param(
                'path,label\nz.png,1\n"p1/a.png,0\np2/b.png",1\np3/c.png,0\n',
                'row 3 (`"p1/a.png,0`): a quote opened in row 3 is closed only in row '
                "4, so these rows read as one cell, and a table read here holds one "
                "entry a line; close the quote opened in row 3, or, if the cell is "
                "meant to span rows (a report's text), write it on one line\n",
                id="closed-later",
            ),
            pytest.param(
                'path,label\n"p1/a.png,0\np2/b.png"x,1\n',
                'row 2 (`"p1/a.png,0`): a quote opened in row 2 is closed only in row '
                "3, so these rows read as one cell, and a table read here holds one "
                "entry a line; close the quote opened in row 2, or, if the cell is "
                "meant to span rows (a report's text), write it on one line\n",
                id="closed-later-then-text",
            ),
            pytest.param(
                'path,label,report\na.png,0,ok\nb.png,1,"Effusion.\nNo nodule."\n',
                'row 3 (`b.png,1,"Effusion.`): a quote opened in row 3 is closed only '
                "in row 4, so these rows read as one cell, and a table read here holds "
                "one entry a line; close the quote opened in row 3, or, if the cell "
                "is meant to span rows (a report's text), write it on one line\n",
                id="report-of-two-lines",
            ),
            pytest.param(
                'path,label\n"p1/a.png" x,0\n',
                'row 2 (`"p1/a.png" x,0`): text after the closing quote of a cell; '
                'quote the whole cell, writing each quote in it as `""`, or remove '
                "the quotes\n",
                id="text-after-quote",
            ),
        ],
    )
    def test_quote_left_open(
        self, tmp_path: Path, capsys: Capture, text: str, message: str
    ) -> None:
        """A quote that runs over rows is refused, naming the row it opens in."""
        source = _table(tmp_path, text)
        status, out, err = _halves(capsys, source)
        assert (status, out) == (1, "")
        assert err == f"lightsplit split: error: {source}: {message}"
        assert not (tmp_path / "out.json").exists()

    @pytest.mark.parametrize(
        ("text", "seen"),
        [
            pytest.param("path;label\na.png;0\nb.png;1\n", "`;`", id="semicolon"),
            pytest.param("path\tlabel\na.png\t0\nb.png\t1\n", "a tab", id="tab"),
        ],
    )
    def test_other_delimiter(
        self, tmp_path: Path, capsys: Capture, text: str, seen: str
    ) -> None:
        """A table separated by ``;`` or tabs is refused, not read as one column."""
        source = _table(tmp_path, text)
        status, _, err = _halves(capsys, source)
        assert status == 1
        header = text.split("\n", maxsplit=1)[0].replace("\t", "\\t")
        assert err == (
            f"lightsplit split: error: {source}: row 1 (`{header}`) holds {seen} but "
            "no comma, so each row reads as one cell: lightsplit reads "
            "comma-separated tables; save the table with `,` between the cells\n"
        )

    @pytest.mark.parametrize(
        ("text", "problem"),
        [
            pytest.param(
                "path,label\na.png,0\nb.png;1\n",
                "row 3 (`b.png;1`) holds `;` but no comma, so it reads as one cell, "
                "while row 1 has 2 cells",
                id="row",
            ),
            pytest.param(
                "path;label\na.png,0\nb.png,1\n",
                "row 1 (`path;label`) holds `;` but no comma, so it names one column, "
                "while row 2 has 2 cells",
                id="header",
            ),
        ],
    )
    def test_mixed_delimiters(
        self, tmp_path: Path, capsys: Capture, text: str, problem: str
    ) -> None:
        """Rows separated otherwise than the header are refused: a row read as
        one cell would be an entry whose path holds its label."""
        source = _table(tmp_path, text)
        status, _, err = _halves(capsys, source)
        assert status == 1
        assert err == (
            f"lightsplit split: error: {source}: {problem}; save the table with `,` "
            "between the cells\n"
        )

    @pytest.mark.parametrize(
        ("text", "reason"),
        [
            pytest.param(
                "a.png,0\nb.png,1\nc.png,0\n", "`a.png` is a file name", id="file"
            ),
            pytest.param(
                "\ufeffimages/a,0\nimages/b,1\n", "`0` is an integer", id="integer-bom"
            ),
            pytest.param(
                "p1/a.jpg,x\np2/b,y\n", "`p1/a.jpg` is a file name", id="folder"
            ),
        ],
    )
    def test_no_header(
        self, tmp_path: Path, capsys: Capture, text: str, reason: str
    ) -> None:
        """A first row that looks like an entry is refused, not taken as the header."""
        source = _table(tmp_path, text)
        status, _, err = _halves(capsys, source)
        assert status == 1
        row = text.removeprefix("\ufeff").split("\n")[0]
        assert err == (
            f"lightsplit split: error: {source}: row 1 (`{row}`) looks like an "
            f"entry, not a header: {reason}; the table needs a header row naming "
            "the columns: add one above it, such as `path,label`\n"
        )

    def test_header_with_a_dot(self, tmp_path: Path, capsys: Capture) -> None:
        """A column name ending unlike the file names below it is a header."""
        rows = "".join(f"{i}.png,{i % 2}\n" for i in range(6))
        source = _table(tmp_path, "scan.name,label\n" + rows)
        status, out, _ = _halves(capsys, source)
        assert status == 0
        assert out.startswith(f"read 6 entries from {source}: 2 classes")

    def test_label_column_by_name(self, tmp_path: Path, capsys: Capture) -> None:
        """Without `--label-field`, the column named `label` is read, not the second."""
        rows = "".join(f"{i}.png,{20 + i},{i % 2}\n" for i in range(8))
        source = _table(tmp_path, "file,age,label\n" + rows)
        status, out, _ = _halves(capsys, source)
        assert status == 0
        assert out.splitlines()[:2] == [
            f"read 8 entries from {source}: 2 classes, each path its own group",
            f"note: {source}: the path is column `file` and the label is column "
            "`label`, by their names",
        ]
        split = load_split(tmp_path / "out.json", sample_type=tuple[str, int, int])
        for entries in split.values():
            assert sorted(label for _, _, label in entries) == [0, 0, 1, 1]

    def test_named_columns_any_order_and_bom(
        self, tmp_path: Path, capsys: Capture
    ) -> None:
        """Names match in any case, behind a byte order mark, in any order."""
        rows = "".join(f"{i % 2},x{i}.png\n" for i in range(10))
        source = tmp_path / "samples.csv"
        source.write_bytes(b"\xef\xbb\xbfTarget,Image\n" + rows.encode())
        status, out, _ = _halves(capsys, source)
        assert status == 0
        assert "the path is column `Image` and the label is column `Target`" in out
        split = load_split(tmp_path / "out.json", sample_type=tuple[int, str])
        assert sorted(sum(label for label, _ in s) for s in split.values()) == [2, 3]

    def test_label_field_wins(self, tmp_path: Path, capsys: Capture) -> None:
        """A `--label-field` given is read, whatever the columns are named."""
        rows = "".join(f"{i}.png,{20 + i % 4},{i % 2}\n" for i in range(8))
        source = _table(tmp_path, "file,age,label\n" + rows)
        status, out, _ = _halves(capsys, source, "--label-field", "age")
        assert status == 0
        assert out.startswith(f"read 8 entries from {source}: 4 classes")

    def test_label_column_needed(self, tmp_path: Path, capsys: Capture) -> None:
        """More than two columns, none named as a label: the user must name it."""
        source = _table(tmp_path, "file,age,sex\na.png,30,m\nb.png,40,f\n")
        status, out, err = _halves(capsys, source)
        assert (status, out) == (2, "")
        assert err.endswith(
            f"lightsplit split: error: {source}: none of the columns `file`, `age`, "
            "`sex` is named `label`, `target` or `class`, and with 3 columns the "
            "label column is not guessed; give `--label-field COLUMN` naming it\n"
        )
        status, _, _ = _halves(capsys, source, "--label-field", "sex")
        assert status == 0

    def test_column_named_twice(self, tmp_path: Path, capsys: Capture) -> None:
        """A field naming two columns of one name is refused: the first was read."""
        source = _table(tmp_path, "path,label,label\na.png,0,1\nb.png,1,1\n")
        status, _, err = _halves(capsys, source, "--label-field", "label")
        assert status == 2
        assert err.endswith(
            f"`--label-field` `label` names 2 columns of {source} (positions 1 and "
            "2); give the position of the one to read, or rename the others in the "
            "header\n"
        )
        assert _halves(capsys, source, "--label-field", "2")[0] == 0

    def test_two_label_columns(self, tmp_path: Path, capsys: Capture) -> None:
        """Two columns named as labels are not chosen between."""
        source = _table(tmp_path, "path,Label,class\na.png,0,1\nb.png,1,1\n")
        status, _, err = _halves(capsys, source)
        assert status == 2
        assert (
            "the columns `Label`, `class` could each be the label; give "
            "`--label-field` naming the one to read"
        ) in err

    def test_converted_columns_name_nothing(
        self, tmp_path: Path, capsys: Capture
    ) -> None:
        """The `column1`... names that `convert` writes leave the entries' own rules."""
        rows = "".join(f"train,{i}.png,{i % 2},m{i}.png\n" for i in range(6))
        source = _table(tmp_path, "set,column1,column2,column3\n" + rows)
        status, out, _ = _halves(capsys, source)
        assert status == 0
        assert out.startswith(f"read 6 entries from {source}: 2 classes")
        assert "note:" not in out


_WIDE: Final = (
    "Image Index,Finding Labels,Follow-up #,Patient ID,Patient Age\n"
    + "".join(
        f"{p:08d}_{i:03d}.png,{'Mass' if (p + i) % 3 == 0 else 'No Finding'},"
        f"{i},{p},{40 + p}\n"
        for p in range(12)
        for i in range(1 + p % 3)
    )
)
"""A table as NIH's, one row per image, several per patient: five columns."""


class TestSplitColumns:
    """``--columns`` writes the fields a loader reads, not whole rows."""

    def test_wide_table(self, tmp_path: Path, capsys: Capture) -> None:
        """The entries written are `[path, label]`, split by patient and label."""
        source = _table(tmp_path, _WIDE)
        status, out, err = _halves(
            capsys,
            source,
            "--columns",
            "Image Index",
            "Finding Labels",
            "--path-field",
            "Image Index",
            "--label-field",
            "Finding Labels",
            "--group-pattern",
            r"^(\d{8})_",
        )
        assert (status, err) == (0, ""), err
        assert out.startswith(f"read 24 entries from {source}: 2 classes, 12 groups")
        output = tmp_path / "out.json"
        split = load_split(output, sample_type=tuple[str, str])
        rows = {
            (row.split(",")[0], row.split(",")[1]) for row in _WIDE.splitlines()[1:]
        }
        written = [entry for entries in split.values() for entry in entries]
        assert sorted(written) == sorted(rows)  # every row once, as [path, label]
        train, test = ({path[:8] for path, _ in s} for s in split.values())
        assert not train & test
        record = json.loads(sidecar_path(output).read_text())
        assert record["columns"] == ["Image Index", "Finding Labels"]
        assert (record["path_field"], record["label_field"]) == (0, 1)
        assert "--columns 'Image Index' 'Finding Labels'" in record["command"]
        # `check` reads the written file by the sidecar's fields: by patient
        status, out, _ = _run(capsys, "check", output)
        assert status == 0, out
        assert (
            "group pattern `^(\\d{8})_`, path field `Image Index` (position 0), label "
            "field `Finding Labels` (position 1)"
        ) in out

    def test_empty_cells_hold_no_value(self, tmp_path: Path, capsys: Capture) -> None:
        """An empty label cell is no label wherever it is in its row (not the
        class `""`), written `null`; a row short of its empty last cells is
        written with them named before a later column."""
        rows = [f"P{i},p{i}/a.png,{i % 2},{40 + i}" for i in range(12)]
        rows += ["P12,p12/a.png,,50", "P13,p13/a.png,,"]  # empty label, then last
        source = _table(tmp_path, "\n".join(["Patient,Image,Label,Age", *rows]))
        fields = ("--path-field", "Image", "--label-field", "Label")
        status, out, err = _halves(capsys, source, *fields)
        assert status == 0, err
        assert "2 classes" in out
        assert "2 of 14 entries have no label (row 14, row 15)" in out
        assert 'label ""' not in out
        written = load_split(tmp_path / "out.json")
        entries = [entry for entries in written.values() for entry in entries]
        assert ["P12", "p12/a.png", None, 50] in entries
        assert ["P13", "p13/a.png"] in entries
        status, out, err = _halves(
            capsys, source, *fields, "--columns", "Label", "Image"
        )
        assert status == 0, err
        written = load_split(tmp_path / "out.json")
        entries = [entry for entries in written.values() for entry in entries]
        assert [None, "p12/a.png"] in entries
        assert [None, "p13/a.png"] in entries
        assert [1, "p1/a.png"] in entries

    def test_order_and_positions(self, tmp_path: Path, capsys: Capture) -> None:
        """Fields are written in the order named; positions name array items."""
        source = tmp_path / "samples.json"
        rows = [[f"{i}.png", f"site{i % 2}", i % 2, 50 + i] for i in range(8)]
        source.write_text(json.dumps(rows))
        options = ("--columns", "2", "0", "--path-field", "0", "--label-field", "2")
        status, out, err = _halves(capsys, source, *options)
        assert status == 0, err
        assert out.startswith(f"read 8 entries from {source}: 2 classes")
        split = load_split(tmp_path / "out.json", sample_type=tuple[int, str])
        assert sorted(e for s in split.values() for e in s) == sorted(
            (label, path) for path, _, label, _ in rows
        )
        for entries in split.values():  # stratified by the label written first
            assert sorted(label for label, _ in entries) == [0, 0, 1, 1]

    @pytest.mark.parametrize(
        ("options", "unnamed"),
        [
            pytest.param((), "`--path-field` and `--label-field`", id="both"),
            pytest.param(("--path-field", "image"), "`--label-field`", id="label"),
        ],
    )
    def test_fields_named_with_columns(
        self, tmp_path: Path, capsys: Capture, options: tuple[str, ...], unnamed: str
    ) -> None:
        """With `--columns`, the path and label must be named: read again from
        the entries written, the first string (`site` first) was taken for the
        path, and 10 entries came out as 2 of no label."""
        source = tmp_path / "samples.json"
        entries = [
            {"image": f"p{i}/a.png", "label": i % 2, "site": "X" if i < 5 else "Y"}
            for i in range(10)
        ]
        source.write_text(json.dumps(entries))
        columns = ("--columns", "site", "image", "label")
        status, out, err = _halves(capsys, source, *columns, *options)
        assert (status, out) == (2, "")
        assert f"error: `--columns` needs {unnamed} named too" in err
        named = ("--path-field", "image", "--label-field", "label")
        status, out, _ = _halves(capsys, source, *columns, *named)
        assert status == 0
        assert out.startswith(f"read 10 entries from {source}: 2 classes")
        written = load_split(tmp_path / "out.json", sample_type=tuple[str, str, int])
        assert sum(map(len, written.values())) == 10

    def test_objects_become_arrays(self, tmp_path: Path, capsys: Capture) -> None:
        """Keys of object entries are written as arrays; a missing last key is
        written as a shorter entry, as an empty last cell is read."""
        source = tmp_path / "samples.json"
        entries = [{"image": f"{i}.png", "label": i % 2, "age": i} for i in range(6)]
        del entries[5]["label"]
        source.write_text(json.dumps(entries))
        named = ("--path-field", "image", "--label-field", "label")
        status, out, err = _halves(
            capsys, source, "--columns", "image", "label", *named
        )
        assert status == 0, err
        assert "1 of 6 entries has no label (entry 5)" in out
        written = load_split(tmp_path / "out.json")
        assert sorted(map(list, (e for s in written.values() for e in s))) == [
            ["0.png", 0],
            ["1.png", 1],
            ["2.png", 0],
            ["3.png", 1],
            ["4.png", 0],
            ["5.png"],
        ]

    def test_gap_refused(self, tmp_path: Path, capsys: Capture) -> None:
        """An entry lacking a field before one it holds is refused, naming it:
        its next field would be written in the place of the missing one."""
        source = tmp_path / "samples.json"
        entries = [
            {"path": "a.png", "age": 30, "label": 0},
            {"path": "b.png", "label": 1},
        ]
        source.write_text(json.dumps(entries))
        columns = ("--columns", "path", "age", "label", "--path-field", "path")
        status, out, err = _halves(capsys, source, *columns, "--label-field", "label")
        assert (status, out) == (1, "")
        assert err == (
            f"lightsplit split: error: {source}: entry 1 lacks `age`, which "
            "`--columns` names before `label`: `label` would be written in its "
            "place; give the entry `age`, or leave it out of `--columns`\n"
        )
        assert not (tmp_path / "out.json").exists()

    @pytest.mark.parametrize(
        ("columns", "message"),
        [
            pytest.param(
                ["path", "age"],
                "`--columns` leaves out column `label`, the label field the split "
                "is made by; keep it, so that the split file holds the labels it "
                "was made by",
                id="label-left-out",
            ),
            pytest.param(
                ["label", "path", "label"],
                "`--columns` names `label` twice; name each once",
                id="twice",
            ),
            pytest.param(
                ["path", "weight"],
                "`--columns` `weight` is not a column of {source}; name one of "
                "`path`, `age`, `label`, or give a position (0, 1, ...)",
                id="unknown",
            ),
            pytest.param(
                ["path", "label", "7"],
                "`--columns`: no entry of {source} holds `7`; the entries are "
                'arrays of 3 items (such as ["a.png", 30, 0]); give a position '
                "from 0 to 2",
                id="unheld",
            ),
        ],
    )
    def test_usage_errors(
        self, tmp_path: Path, capsys: Capture, columns: list[str], message: str
    ) -> None:
        """Fields that cannot be written as meant are usage errors, before
        anything is split."""
        source = _table(tmp_path, "path,age,label\na.png,30,0\nb.png,40,1\n")
        status, out, err = _halves(capsys, source, "--columns", *columns)
        assert (status, out) == (2, "")
        assert err.endswith(
            f"lightsplit split: error: {message.format(source=source)}\n"
        )


class TestSplitOutput:
    """``lightsplit split`` never overwrites its input, nor leaves stale folds."""

    @pytest.mark.parametrize("how", [["--fractions", "0.5", "0.5"], ["--folds", "3"]])
    def test_into_a_sidecar_name(
        self, tmp_path: Path, capsys: Capture, how: list[str]
    ) -> None:
        """An output named as a sidecar (another split's record) is refused."""
        output = tmp_path / "s.json.lightsplit.json"
        output.write_text('{"lightsplit": "0.1.0"}')
        argv: list[str | Path] = ["split", _array(tmp_path), *how, "-o", output]
        status, out, err = _run(capsys, *argv)
        assert (status, out, output.read_text()) == (2, "", '{"lightsplit": "0.1.0"}')
        assert err.endswith(
            f"lightsplit split: error: `-o` {output} is named as the sidecar of a "
            "split file, where `split` records how it made that split (written "
            "beside the split); give the split file's own name (or, with "
            "`--folds`, a folder)\n"
        )

    def test_folds_into_a_file_name(self, tmp_path: Path, capsys: Capture) -> None:
        """``--folds`` into a name such as ``folds.json`` is refused: it would be a
        folder named so."""
        output = tmp_path / "Folds.json.bz2"
        argv: list[str | Path] = [
            "split",
            _array(tmp_path),
            "--folds",
            "3",
            "-o",
            output,
        ]
        status, out, err = _run(capsys, *argv)
        assert (status, out, output.exists()) == (2, "", False)
        assert err.endswith(
            f"lightsplit split: error: `-o` {output} names a file; with `--folds`, "
            "give the folder to write the folds in (fold-0.json to fold-2.json), "
            f"such as {tmp_path / 'Folds'}\n"
        )

    def test_stale_folds(self, tmp_path: Path, capsys: Capture) -> None:
        """Fewer folds into a folder of more is refused, before anything is written."""
        source, folds = _array(tmp_path), tmp_path / "folds"
        assert _run(capsys, "split", source, "--folds", "5", "-o", folds)[0] == 0
        before = {p.name: p.read_bytes() for p in folds.iterdir()}
        status, out, err = _run(
            capsys, "split", source, "--folds", "3", "--seed", "1", "-o", folds
        )
        assert (status, out) == (2, "")
        assert err.endswith(
            f"lightsplit split: error: `-o` {folds} holds `fold-3.json`, "
            "`fold-3.json.lightsplit.json`, `fold-4.json`, "
            "`fold-4.json.lightsplit.json` of an earlier split into more folds, "
            "which would be left next to the 3 new ones; remove them, or choose "
            "another folder\n"
        )
        assert {p.name: p.read_bytes() for p in folds.iterdir()} == before
        for stale in folds.glob("fold-[34].json*"):
            stale.unlink()
        status, _, _ = _run(capsys, "split", source, "--folds", "3", "-o", folds)
        assert status == 0

    def test_same_folds_again(self, tmp_path: Path, capsys: Capture) -> None:
        """Folds written again into their own folder replace the files there."""
        source, folds = _array(tmp_path), tmp_path / "folds"
        for seed in ("0", "1"):
            argv = ("--folds", "3", "--seed", seed, "-o", folds)
            assert _run(capsys, "split", source, *argv)[0] == 0
        assert len(list(folds.iterdir())) == 6

    def test_hand_made_file_kept(self, tmp_path: Path, capsys: Capture) -> None:
        """A split file that `split` did not write (no sidecar) is not
        overwritten; one it wrote is written again."""
        source, output = _array(tmp_path), tmp_path / "mine.json"
        output.write_text('{"train": [["kept.png", 0]]}')
        argv = ("split", source, "--fractions", "0.5", "0.5", "-o", output)
        status, out, err = _run(capsys, *argv)
        assert (status, out, output.read_text()) == (
            2,
            "",
            '{"train": [["kept.png", 0]]}',
        )
        assert err.endswith(
            f"lightsplit split: error: `-o` {output} exists, and `split` did not "
            "write it (no sidecar mine.json.lightsplit.json beside mine.json): it "
            "may be a split made otherwise; give another file name, or remove it "
            "first\n"
        )
        output.unlink()
        assert _run(capsys, *argv)[0] == 0
        assert _run(capsys, *argv, "--seed", "1")[0] == 0

    def test_hand_made_fold_kept(self, tmp_path: Path, capsys: Capture) -> None:
        """A fold file that `split` did not write is not overwritten either."""
        source, folds = _array(tmp_path), tmp_path / "folds"
        assert _run(capsys, "split", source, "--folds", "3", "-o", folds)[0] == 0
        (folds / "fold-1.json.lightsplit.json").unlink()
        before = {p.name: p.read_bytes() for p in folds.iterdir()}
        status, _, err = _run(
            capsys, "split", source, "--folds", "3", "--seed", "1", "-o", folds
        )
        assert status == 2
        assert err.endswith(
            f"lightsplit split: error: `-o` {folds} holds `fold-1.json`, which the "
            "split would overwrite, and `split` did not write it (no sidecar "
            "fold-1.json.lightsplit.json beside fold-1.json): it may be a split "
            "made otherwise; give another folder, or remove it first\n"
        )
        assert {p.name: p.read_bytes() for p in folds.iterdir()} == before

    @pytest.mark.parametrize("link", [False, True])
    def test_output_is_input(self, tmp_path: Path, capsys: Capture, link: bool) -> None:
        """`-o` naming the input (or a link to it) is refused; the input is kept."""
        source = _array(tmp_path)
        text = source.read_text()
        output = source
        if link:
            output = tmp_path / "link.json"
            output.symlink_to(source)
        status, _, err = _run(
            capsys, "split", source, "--fractions", "0.5", "0.5", "-o", output
        )
        assert status == 2
        assert err.endswith(
            f"lightsplit split: error: `-o` {output}: the split would overwrite "
            f"the input {source}; give another file name\n"
        )
        assert source.read_text() == text

    def test_fold_folder_holds_input(self, tmp_path: Path, capsys: Capture) -> None:
        """The input named as one of the fold files to write is refused."""
        folds = tmp_path / "folds"
        folds.mkdir()
        source = _array(tmp_path).rename(folds / "fold-1.json")
        text = source.read_text()
        status, _, err = _run(capsys, "split", source, "--folds", "3", "-o", folds)
        assert status == 2
        assert err.endswith(
            f"lightsplit split: error: `-o` {folds}: the input {source} is its "
            "`fold-1.json`, which the split would overwrite; choose another folder\n"
        )
        assert [p.name for p in folds.iterdir()] == ["fold-1.json"]
        assert source.read_text() == text


class TestSplitMessages:
    """What ``lightsplit split`` says about fractions, labels and groups."""

    @pytest.mark.parametrize(
        ("rows", "path_field", "where"),
        [
            pytest.param(
                [[t, f"mdb{i:03d}.pgm", i % 2] for i, t in enumerate("FGDFGDFGDFGD")],
                "1",
                "item 1",
                id="mias-rows",
            ),
            pytest.param(
                [[f"P{i % 4}", f"p{i % 4}/{i}.png", i % 2] for i in range(12)],
                "1",
                "item 1",
                id="patient-first",
            ),
        ],
    )
    def test_path_after_a_first_string(
        self,
        tmp_path: Path,
        capsys: Capture,
        rows: list[list[object]],
        path_field: str,
        where: str,
    ) -> None:
        """Rows whose first string names no file while a later one does are
        refused, naming the field to give: read by their first string, rows of
        one tissue or patient were one file listed again, all but one left out."""
        source = _entries_file(tmp_path, rows)
        status, out, err = _halves(capsys, source)
        assert (status, out) == (2, "")
        assert f"which names no file while {where} does" in err
        assert err.rstrip().endswith(f"give `--path-field {path_field}`")
        status, _, err = _halves(capsys, source, "--path-field", path_field)
        assert (status, err) == (0, ""), err
        written = load_split(tmp_path / "out.json")
        assert sorted(e for s in written.values() for e in s) == sorted(rows)

    def test_table_column_of_files_named(self, tmp_path: Path, capsys: Capture) -> None:
        """In a table, the column is named by its name."""
        rows = [f"F,mdb{i:03d}.pgm,{i % 2}" for i in range(12)]
        source = _table(tmp_path, "\n".join(["BG,REFNUM,CLASS", *rows]))
        status, _, err = _halves(capsys, source, "--label-field", "CLASS")
        assert status == 2
        assert "(such as `F` in row 2, " in err
        assert "while column `REFNUM` does" in err
        assert err.rstrip().endswith("give `--path-field REFNUM`")

    @pytest.mark.parametrize(
        ("fractions", "message"),
        [
            pytest.param(
                ["0.7", "0.3", "0"],
                "fraction 3 (0) is zero; give fractions above 0",
                id="zero",
            ),
            pytest.param(
                ["0.7", "-0.1", "0.4"],
                "fraction 2 (-0.1) is negative; give fractions above 0",
                id="negative",
            ),
            pytest.param(
                ["0.7", "0.15", "0.15000001"],
                "fractions 0.7 0.15 0.15000001 add up to 1.00000001; give fractions "
                "above 0 that add up to 1, such as 0.7 0.15 0.15",
                id="almost",
            ),
        ],
    )
    def test_fractions(
        self, tmp_path: Path, capsys: Capture, fractions: list[str], message: str
    ) -> None:
        """Each fraction's own problem is named; a sum is shown exactly."""
        status, out, err = _run(
            capsys, "split", _array(tmp_path), "--fractions", *fractions, "-o", "s.json"
        )
        assert (status, out) == (2, "")
        assert f"lightsplit split: error: `--fractions`: {message}" in err

    def test_unlabelled_entries_warned(self, tmp_path: Path, capsys: Capture) -> None:
        """Entries without a label among labelled ones get a warning naming them."""
        entries: list[list[object]] = [[f"{i:02d}.png", i % 2] for i in range(20)]
        for i in (3, 7, 8, 11, 12, 15, 19):
            del entries[i][1]
        source = _entries_file(tmp_path, entries)
        assert _first_warning(capsys, source) == (
            f"warning: {source}: 7 of 20 entries have no label (entry 3, entry 7, "
            "entry 8, entry 11, entry 12 and 2 more); they are split as a class of "
            "their own, in the `no class` column below; give each a label, or remove "
            "them"
        )
        split = load_split(tmp_path / "out.json")
        assert sorted(sum(len(e) == 1 for e in s) for s in split.values()) == [3, 4]

    def test_unlabelled_with_no_class(self, tmp_path: Path, capsys: Capture) -> None:
        """Entries naming no class (`[]`) share the `no class` column: said so."""
        entries: list[list[object]] = [[f"{i:02d}.png", ["A"]] for i in range(12)]
        for i in (1, 4, 7):
            entries[i][1] = []
        for i in (2, 5):
            del entries[i][1]
        source = _entries_file(tmp_path, entries)
        assert _first_warning(capsys, source) == (
            f"warning: {source}: 2 of 12 entries have no label (entry 2, entry 5); "
            "they are split as a class of their own, with the 3 entries whose "
            "labels name no class, in the `no class` column below; give each a "
            "label, or remove them"
        )

    @pytest.mark.parametrize("multi", [False, True])
    def test_backslashes_warned(
        self, tmp_path: Path, capsys: Capture, *, multi: bool
    ) -> None:
        """Paths written with Windows separators get a warning naming them, with
        single and multi-hot labels alike (read in one pass or entry by entry)."""
        entries: list[list[object]] = [
            [f"p{i}/{i:02d}.png", [i % 2, 1 - i % 2] if multi else i % 2]
            for i in range(20)
        ]
        for i in (4, 9):
            entries[i][0] = f"p{i}\\{i:02d}.png"
        source = _entries_file(tmp_path, entries)
        status, out, _ = _halves(capsys, source)
        assert status == 0
        assert (
            f"warning: {source}: 2 paths hold a backslash `\\`, a folder separator "
            "on Windows alone (entry 4, entry 9): Linux and macOS read "
            "`p4\\04.png` as one file name, not as `p4/04.png`, and so does the "
            "split, which tells files apart and groups them by their paths; write "
            "the paths with `/`, which every system reads"
        ) in out.splitlines()
        entries[4][0] = entries[9][0] = "p4/x.png"
        status, out, _ = _halves(capsys, _entries_file(tmp_path, entries))
        assert "backslash" not in out

    def test_ragged_vectors_warned(self, tmp_path: Path, capsys: Capture) -> None:
        """0/1 lists of two lengths are split as lists of classes, with a warning."""
        entries: list[list[object]] = [[f"p{i}.png", [0, 1, 0]] for i in range(5)]
        entries += [[f"q{i}.png", [1, 0]] for i in range(5)]
        source = _entries_file(tmp_path, entries)
        status, out, _ = _halves(capsys, source)
        assert status == 0
        assert out.splitlines()[1] == (
            f"warning: {source}: the list labels are lists of 0 and 1 of several "
            "lengths (2 and 3), so they are read as lists of classes, not as "
            "multi-hot vectors; give every vector one length (a place per class)"
        )

    def test_differing_repeat_named(self, tmp_path: Path, capsys: Capture) -> None:
        """A file listed twice with one label but other items is kept once, and
        the entry left out is named with the one kept; an exact repeat is not."""
        entries: list[list[object]] = [
            ["p0.png", 0, 60, "M"],
            ["p1.png", 1, 50, "F"],
            ["p0.png", 0, 99, "F"],
            ["p2.png", 0, 1, "M"],
            ["p2.png", 0, 1, "M"],
        ]
        source = _entries_file(tmp_path, entries)
        status, out, _ = _halves(capsys, source)
        assert status == 0
        assert out.splitlines()[1] == (
            f"warning: {source}: 1 repeated entry (same path, same label) left out "
            "differs from the one kept in how the path is written or in other items "
            '(entry 2 ["p0.png", 0, 99, "F"], kept: entry 0 ["p0.png", 0, 60, "M"]); '
            "the one whose path is written as normalised (no `./`, `..` or `//`, "
            "accents composed), else whose JSON text sorts first, is kept, whatever "
            "the order of the input: remove or correct the others"
        )

    @pytest.mark.parametrize(
        ("spellings", "said"),
        [
            pytest.param(
                ["./p1/x/../a.png", "p1/a.png", "p1//a.png"],
                "the same path written another way",
                id="dots",
            ),
            pytest.param(
                ["Jose\u0301/a.png", "Jos\u00e9/a.png"],
                "the same path with decomposed accents",
                id="nfd",
            ),
        ],
    )
    def test_tidy_spelling_kept(
        self, tmp_path: Path, capsys: Capture, spellings: list[str], said: str
    ) -> None:
        """Of one file written several ways, the normalised spelling is kept,
        which opens where `x/../a.png` does not (no folder `x`): the one whose
        JSON text sorted first (`./...`, decomposed accents) was kept."""
        entries: list[list[object]] = [[path, 1] for path in spellings]
        entries += [["p2/b.png", 0], ["p3/c.png", 1], ["p4/d.png", 0]]
        source = _entries_file(tmp_path, entries)
        status, out, _ = _halves(capsys, source)
        assert status == 0
        split = load_split(tmp_path / "out.json", sample_type=tuple[str, int])
        paths = [path for entries in split.values() for path, _ in entries]
        kept = set(paths) - {"p2/b.png", "p3/c.png", "p4/d.png"}
        assert kept == {spellings[1]}
        assert len(paths) == 4
        assert f"({said})" in out

    @pytest.mark.parametrize(
        ("entries", "options"),
        [
            ([{"label": f"c{i % 4}", "path": f"img/{i}.png"} for i in range(40)], ()),
            (
                [[f"c{i % 4}", f"img/{i}.png"] for i in range(40)],
                ("--label-field", "0"),
            ),
        ],
        ids=["label-key-first", "label-position-first"],
    )
    def test_label_written_first_is_not_the_path(
        self,
        tmp_path: Path,
        capsys: Capture,
        entries: list[object],
        options: tuple[str, ...],
    ) -> None:
        """A label written before the path (``json.dumps(sort_keys=True)`` does)
        is not read as the path: every entry is split, stratified, none lost."""
        source = tmp_path / "samples.json"
        source.write_text(json.dumps(entries))
        status, out, _ = _halves(capsys, source, *options)
        assert status == 0, out
        written = json.loads(source.with_name("out.json").read_text())
        assert sorted(map(json.dumps, written["train"] + written["test"])) == sorted(
            map(json.dumps, entries)
        )
        assert "4 classes" in out.splitlines()[0]
        assert "repeated" not in out

    def test_number_spellings_warned(self, tmp_path: Path, capsys: Capture) -> None:
        """One number written several ways is split as several classes, with a
        warning naming the spellings; labels of one spelling each get none."""
        spellings: list[object] = [0, 1, 1.0, "01", True]
        entries = [[f"{i:02d}.png", spellings[i % 5]] for i in range(20)]
        source = _entries_file(tmp_path, entries)
        status, out, _ = _halves(capsys, source)
        assert status == 0
        assert out.splitlines()[1] == (
            f'warning: {source}: labels 1, "01", 1.0 and true are one number (1) '
            "written 4 ways, so they are split as different classes; write each "
            "label one way"
        )
        plain = _entries_file(tmp_path, [[f"{i}.png", i % 2] for i in range(20)])
        assert "warning" not in _halves(capsys, plain)[1]

    def test_numbers_beyond_decimal(self, tmp_path: Path, capsys: Capture) -> None:
        """Labels of exponents too large to write out, or to read as a `decimal`,
        are classes like others: the split is written, one number written two
        ways is said with its exponent, not in a hundred million digits."""
        labels = ["1e999999999999999999999", "1e99999999", "1E+99999999", "0"]
        entries: list[list[object]] = [
            [f"{i:02d}.png", labels[i % 4]] for i in range(16)
        ]
        source = _entries_file(tmp_path, entries)
        status, out, err = _halves(capsys, source)
        assert (status, err) == (0, ""), err
        assert (
            f'warning: {source}: labels "1E+99999999" and "1e99999999" are one '
            "number (1E+99999999) written 2 ways"
        ) in out
        assert "4 classes" in out.splitlines()[0]

    def test_empty_label_cell_warned(self, tmp_path: Path, capsys: Capture) -> None:
        """A CSV row with an empty label cell is named by its row."""
        source = _table(tmp_path, "path,label\na.png,0\nb.png,1\nc.png,\nd.png,1\n")
        status, out, _ = _halves(capsys, source)
        assert status == 0
        assert f"warning: {source}: 1 of 4 entries has no label (row 4);" in out

    def test_no_label_at_all(self, tmp_path: Path, capsys: Capture) -> None:
        """Entries none of which has a label are no reason for a warning, nor
        for a column `no class` of 100% in every set."""
        source = _entries_file(tmp_path, [[f"{i}.png"] for i in range(6)])
        status, out, _ = _halves(capsys, source)
        assert status == 0
        assert out.startswith(f"read 6 entries from {source}: no labels")
        assert "warning:" not in out
        assert "no class" not in out
        assert "  set    entries  share  target  groups" in out.splitlines()

    def test_ungrouped_paths_listed_once(self, tmp_path: Path, capsys: Capture) -> None:
        """Paths the pattern misses are listed up to 5, with the fix said once."""
        source = _array(tmp_path)
        status, _, err = _halves(capsys, source, "--group-pattern", r"q(\d)")
        assert status == 1
        assert err.splitlines() == [
            f"lightsplit split: error: {source}: the group pattern `q(\\d)` finds no "
            "group in 30 of 30 paths (searched as normalised: no `./`, `..` or "
            "repeated `/`); fix the pattern so that it finds the group in every "
            "path:",
            '  entry 0: ["p0/000.png", 0]',
            '  entry 1: ["p1/001.png", 1]',
            '  entry 2: ["p2/002.png", 0]',
            '  entry 3: ["p3/003.png", 1]',
            '  entry 4: ["p4/004.png", 0]',
            "  and 25 more",
        ]

    def test_ungrouped_path_shown_as_searched(
        self, tmp_path: Path, capsys: Capture
    ) -> None:
        """A path written with `./` is listed as the pattern searched it."""
        source = _entries_file(tmp_path, [["./00000000_0.png", 0], ["b/1_0.png", 1]])
        status, _, err = _halves(capsys, source, "--group-pattern", r"^\./(\d{8})_")
        assert status == 1
        assert '  entry 0: ["./00000000_0.png", 0] (searched as `00000000_0.png`)' in (
            err.splitlines()
        )
        assert '  entry 1: ["b/1_0.png", 1]' in err.splitlines()


def _warning_lines(out: str) -> list[str]:
    """Return the lines of ``split``'s output that warn."""
    return [line for line in out.splitlines() if line.startswith("warning")]


class TestSplitLabelsWritten:
    """Labels a split file should not hold are said where `split` reads them,
    as `check` would say them of the file it writes."""

    @pytest.mark.parametrize(
        ("table", "said"),
        [
            pytest.param(
                "path,label\n" + "".join(f"{i}.png,{i % 2}.0\n" for i in range(8)),
                'the classes "0.0" and "1.0" are numbers written as text (a CSV cell '
                "is read as an integer only when written as one: `0`, not `0.0` nor "
                "` 0`): they are written to the split as text, which `lightsplit "
                "check` warns of and loaders of integer labels refuse; write the "
                "labels as integers",
                id="pandas-floats",
            ),
            pytest.param(
                "path,label\n" + "".join(f"{i}.png, {i % 2}\n" for i in range(8)),
                'the classes " 0" and " 1" are numbers written as text (a CSV cell '
                "is read as an integer only when written as one: `0`, not `0.0` nor "
                "` 0`): they are written to the split as text, which `lightsplit "
                "check` warns of and loaders of integer labels refuse; write the "
                "labels as integers",
                id="space-after-comma",
            ),
            pytest.param(
                "path,label\n"
                + "".join(f"{i}.png,{'NaN' if i < 2 else i % 2}\n" for i in range(8)),
                'the class "NaN" (2 entries) reads as a missing value: such entries '
                "are split as a class of their own; give each its label, or leave "
                "the label empty (an entry without a label)",
                id="missing",
            ),
        ],
    )
    def test_table_labels(
        self, tmp_path: Path, capsys: Capture, table: str, said: str
    ) -> None:
        """A table's labels of numbers that are not read as integers, or that
        read as missing, are warned of (each was a class of its own, silently)."""
        source = _table(tmp_path, table)
        status, out, err = _halves(capsys, source)
        assert (status, err) == (0, "")
        warnings = _warning_lines(out)
        assert warnings == [f"warning: {source}: {said}"]
        if "missing" not in said:  # as check says of the split written
            status, out, _ = _run(capsys, "check", source.with_name("out.json"))
            assert status == 0
            assert "8 labels are numbers written as a string" in out

    @pytest.mark.parametrize(
        ("labels", "said"),
        [
            pytest.param(
                [1.0, 0],
                "the class 1.0 is neither an integer nor a name: it is written to "
                "the split as it is",
                id="float",
            ),
            pytest.param(
                [True, False],
                "the classes false and true are neither integers nor names: they "
                "are written to the split as they are",
                id="booleans",
            ),
            pytest.param(
                [[[0], [1]], [[1]]],
                "the classes [0] and [1] are neither integers nor names: they are "
                "written to the split as they are",
                id="nested-lists",
            ),
        ],
    )
    def test_json_labels(
        self, tmp_path: Path, capsys: Capture, labels: list[object], said: str
    ) -> None:
        """Float, boolean and nested list labels are warned of, by their classes
        (nested lists are no lists written as text)."""
        entries = [[f"{i}.png", labels[i % 2]] for i in range(8)]
        source = _entries_file(tmp_path, entries)
        status, out, err = _halves(capsys, source)
        assert (status, err) == (0, "")
        [warning] = _warning_lines(out)
        assert warning.startswith(f"warning: {source}: {said}, which `lightsplit ")

    def test_paths_with_edge_spaces(self, tmp_path: Path, capsys: Capture) -> None:
        """A table's path with a trailing space is warned of, as `check` does."""
        source = _table(
            tmp_path,
            "path,label\n" + "".join(f"{i}.png{' ' * (i == 3)},0\n" for i in range(6)),
        )
        status, out, err = _halves(capsys, source)
        assert (status, err) == (0, "")
        warnings = _warning_lines(out)
        assert warnings == [
            f"warning: {source}: 1 path starts or ends with a space or a tab (row "
            "5), which file systems keep: `a.png ` and `a.png` are two files, for "
            "the loader and the split, which tells files apart by their paths; "
            "remove the spaces (or check that the files are so named)"
        ]

    @pytest.mark.parametrize("odd", [0.5, None, 2])
    def test_vectors_spoilt_by_a_few_values(
        self, tmp_path: Path, capsys: Capture, odd: object
    ) -> None:
        """A few 0/1 vectors holding another value (`0.5`, `null` as pandas
        writes a missing one, `2`) make none read as a multi-hot
        vector: said, naming the value and the entries (it was a warning
        about the class `0.5` alone, the split not stratified by finding)."""
        vectors = [[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0]]
        entries: list[list[object]] = [
            [f"{i}.png", vectors[i % 4] if i > 1 else [odd, 1, 0]] for i in range(16)
        ]
        source = _entries_file(tmp_path, entries)
        status, out, err = _halves(capsys, source)
        assert (status, err) == (0, "")
        shown = json.dumps(odd)
        assert (
            f"warning: {source}: the list labels are lists of one length whose "
            f"places hold other values than 0 and 1 (such as `{shown}`), so that "
            "none is read as a multi-hot vector (each is a list of classes, "
            f"`{shown}` among them); write 0 or 1 in every place (0 where a "
            f"finding is unknown); unlike the others: entry 0 "
            f'["0.png", [{shown}, 1, 0]]; entry 1 ["1.png", [{shown}, 1, 0]]'
        ) in _warning_lines(out)

    def test_float_vectors_are_multi_hot(self, tmp_path: Path, capsys: Capture) -> None:
        """0/1 vectors written with floats (`df.values.tolist()`) are multi-hot
        vectors, stratified by position, as their integer twins: they were read
        as lists of the classes 0.0 and 1.0, every entry holding both."""
        vectors = [[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0]]
        written = {}
        for name, kind in (("ints", int), ("floats", float)):
            entries: list[list[object]] = [
                [f"{i}.png", list(map(kind, vectors[i % 4]))] for i in range(16)
            ]
            folder = tmp_path / name
            folder.mkdir()
            status, out, err = _halves(capsys, _entries_file(folder, entries))
            assert (status, err) == (0, ""), err
            assert "warning" not in out
            assert "label 0  label 1  label 2" in out
            written[name] = json.loads((folder / "out.json").read_text())
        assert {
            name: [[path for path, _ in entries] for entries in split.values()]
            for name, split in written.items()
        }["floats"] == [[path for path, _ in s] for s in written["ints"].values()]


def _padchest(patients: int = 40) -> str:
    """A table as PadChest's: image names that carry no patient, a `PatientID`
    column (integers), one to four images per patient, labels as names."""
    rows = ["ImageID,StudyID,PatientID,Projection,Labels"]
    image = 0
    for patient in range(patients):
        for _ in range(1 + patient % 4):
            image += 1
            name = f"{(image * 2654435761) % 2**32:08x}{image:04d}.png"
            label = ("normal", "cardiomegaly", "pneumonia")[(patient + image) % 3]
            rows.append(f"{name},S{image},{9000 + patient},PA,{label}")
    return "\n".join(rows) + "\n"


_PADCHEST_FIELDS: Final = (
    "--path-field",
    "ImageID",
    "--label-field",
    "Labels",
    "--group-field",
    "PatientID",
)
"""The options that split `_padchest` by image, label and patient."""


def _patients_in(split: DatabaseSplit[Any], position: int) -> dict[str, set[object]]:
    """Return the patients of each set, read at ``position`` of each entry."""
    return {name: {entry[position] for entry in s} for name, s in split.items()}


class TestSplitGroupField:
    """``--group-field`` groups entries by a field, such as a `PatientID` column."""

    def test_fractions_by_patient(self, tmp_path: Path, capsys: Capture) -> None:
        """No patient crosses sets, every row is written once, the sidecar
        records the column by its position, and `check` of the file written
        groups it by that field without the option: no leak, groups counted."""
        text = _padchest()
        source = _table(tmp_path, text, "padchest.csv")
        output = tmp_path / "split.json"
        status, out, err = _run(
            capsys,
            "split",
            source,
            "--fractions",
            "0.7",
            "0.15",
            "0.15",
            *_PADCHEST_FIELDS,
            "-o",
            output,
        )
        assert (status, err) == (0, ""), err
        assert out.startswith(f"read 100 entries from {source}: 3 classes, 40 groups")
        split = load_split(output)
        patients = _patients_in(split, 2)
        names = list(patients)
        assert names == ["train", "validation", "test"]
        for i, name in enumerate(names):
            for other in names[i + 1 :]:
                assert not patients[name] & patients[other], (name, other)
        rows = [row.split(",") for row in text.splitlines()[1:]]
        written = sorted(json.dumps(e) for s in split.values() for e in s)
        expected = [
            [image, study, int(pid), view, label]
            for image, study, pid, view, label in rows
        ]
        assert written == sorted(json.dumps(row) for row in expected)
        record = json.loads(sidecar_path(output).read_text())
        assert (record["group_field"], record["path_field"], record["label_field"]) == (
            2,
            0,
            4,
        )
        assert record["group_pattern"] is None
        assert "--group-field PatientID" in record["command"]
        status, out, _ = _run(capsys, "check", output)
        assert status == 0, out
        assert (
            "group field `PatientID` (position 2), path field `ImageID` (position "
            "0), label field `Labels` (position 4) from its sidecar" in out
        )
        assert "no duplicate, leak, label conflict or group leak" in out
        status, out, _ = _run(capsys, "check", output, "--json")
        [report] = json.loads(out)["files"]
        assert (report["group_field"], report["group_pattern"]) == (2, None)
        counts = {name: s["groups"] for name, s in report["sets"].items()}
        assert counts == {name: len(found) for name, found in patients.items()}
        assert sum(counts.values()) == 40

    def test_split_again_by_the_patients_of_its_sidecar(
        self, tmp_path: Path, capsys: Capture
    ) -> None:
        """A split made by patient and split again (other fractions) keeps each
        patient in one set, reading the group field its sidecar records, and
        says so; the new sidecar records it, so that `check` groups by it too.
        It was split by path: 22 of 40 patients in two sets, every tool `ok`."""
        source = _table(tmp_path, _padchest(), "padchest.csv")
        first = tmp_path / "v1.json"
        fractions = ("--fractions", "0.7", "0.15", "0.15")
        argv = ("split", source, *fractions, *_PADCHEST_FIELDS, "-o", first)
        assert _run(capsys, *argv)[0] == 0
        second = tmp_path / "v2.json"
        status, out, err = _halves(capsys, first, "-o", second)
        assert (status, err) == (0, ""), err
        lines = out.splitlines()
        assert lines[0] == f"read 100 entries from {first}: 3 classes, 40 groups"
        assert lines[1] == (
            f"note: {first}: entries read by the group field `PatientID` (position "
            "2), path field `ImageID` (position 0), label field `Labels` (position "
            "4) that its sidecar v1.json.lightsplit.json records, as `lightsplit "
            "split` made it; give the option to read them otherwise"
        )
        patients = _patients_in(load_split(second), 2)
        assert set(patients) == {"train", "test"}
        assert not patients["train"] & patients["test"]
        assert len(patients["train"] | patients["test"]) == 40
        record = json.loads(sidecar_path(second).read_text())
        assert (record["group_field"], record["path_field"]) == (2, 0)
        assert record["field_columns"] == {
            "group_field": "PatientID",
            "path_field": "ImageID",
            "label_field": "Labels",
        }
        status, out, _ = _run(capsys, "check", second)
        assert status == 0, out
        assert "no duplicate, leak, label conflict or group leak" in out
        assert out.splitlines()[2].startswith(
            "  group field `PatientID` (position 2), path field `ImageID` (position 0)"
        )  # the names, carried on from the first split's sidecar
        status, out, _ = _run(capsys, "check", second, "--group-field", "PatientID")
        assert status == 0, out
        # the column named as the sidecar names it, read at its position
        third = tmp_path / "v3.json"
        status, out, err = _halves(
            capsys, first, "-o", third, "--group-field", "PatientID"
        )
        assert (status, err) == (0, ""), err
        assert out.startswith(f"read 100 entries from {first}: 3 classes, 40 groups")
        assert json.loads(sidecar_path(third).read_text())["group_field"] == 2

    def test_split_again_with_a_sidecar_of_no_group_warned(
        self, tmp_path: Path, capsys: Capture
    ) -> None:
        """A sidecar whose group field is no position or key gives no group:
        splitting its split again warns, and so does `check` (both were
        silent, and split by path)."""
        source = _table(tmp_path, _padchest(), "padchest.csv")
        first = tmp_path / "v1.json"
        assert _halves(capsys, source, *_PADCHEST_FIELDS, "-o", first)[0] == 0
        record = json.loads(sidecar_path(first).read_text())
        sidecar_path(first).write_text(json.dumps({**record, "group_field": [2]}))
        status, out, _ = _halves(capsys, first, "-o", tmp_path / "v2.json")
        assert status == 0
        assert (
            f"its sidecar file {first}.lightsplit.json is not one that `lightsplit "
            "split` writes: its `group_field` is [2], neither a position (0, 1, ...) "
            "nor a key"
        ) in out
        assert _run(capsys, "check", first, "--strict")[0] == 1

    def test_split_again_with_an_unreadable_sidecar_warned(
        self, tmp_path: Path, capsys: Capture
    ) -> None:
        """A sidecar cut short gives no group field: splitting its split again
        warns that each path is then a group of its own."""
        source = _table(tmp_path, _padchest(), "padchest.csv")
        first = tmp_path / "v1.json"
        assert _halves(capsys, source, *_PADCHEST_FIELDS, "-o", first)[0] == 0
        sidecar_path(first).write_text("{")
        status, out, _ = _halves(capsys, first, "-o", tmp_path / "v2.json")
        assert status == 0
        assert "each path its own group" in out.splitlines()[0]
        assert (
            f"warning: {first}: its sidecar file {first}.lightsplit.json is not one "
            "that `lightsplit split` writes: it is no JSON ("
        ) in out
        assert (
            "so the group pattern or field it may record is not used, and each path "
            "is a group of its own: give `--group-pattern` or `--group-field` to "
            "keep each patient's entries in one set"
        ) in out

    def test_numbered_images_written_as_paths(
        self, tmp_path: Path, capsys: Capture
    ) -> None:
        """An image column of numbers (`1004`) is written as text: a path, which
        `check` reads (the file written held `[1004, 0, "P251"]`, and `check`
        refused it); the label column stays integers."""
        rows = [f"{i},{i % 2},P{i // 4}" for i in range(1001, 1041)]
        source = _table(tmp_path, "image,label,patient\n" + "\n".join(rows) + "\n")
        output = tmp_path / "out.json"
        status, _, err = _halves(capsys, source, "--group-field", "patient")
        assert (status, err) == (0, "")
        entries = [e for s in load_split(output).values() for e in s]
        assert sorted(entries) == sorted(
            [str(i), i % 2, f"P{i // 4}"] for i in range(1001, 1041)
        )
        status, out, _ = _run(capsys, "check", output)
        assert status == 0, out

    @pytest.mark.parametrize(
        ("entry", "field"),
        [
            pytest.param(lambda i: [f"{i}.png", f"P{i % 6}", i % 2], "1", id="after"),
            pytest.param(lambda i: [f"P{i % 6}", f"{i}.png", i % 2], "0", id="before"),
        ],
    )
    def test_patient_next_to_the_path(
        self,
        tmp_path: Path,
        capsys: Capture,
        entry: Callable[[int], list[object]],
        field: str,
    ) -> None:
        """The group field is neither the path nor the label when they are not
        named: ``["a.png", "P17", 0]`` and ``["P17", "a.png", 0]`` grouped by the
        patient are labelled by the item after it, and told by their file."""
        source = _entries_file(tmp_path, [entry(i) for i in range(24)])
        status, out, err = _halves(capsys, source, "--group-field", field)
        assert (status, err) == (0, ""), err
        assert out.startswith(f"read 24 entries from {source}: 2 classes, 6 groups")
        split = load_split(tmp_path / "out.json")
        position = int(field)
        for name, entries in split.items():
            others = [e for n, s in split.items() if n != name for e in s]
            assert not {e[position] for e in entries} & {e[position] for e in others}
        assert sorted(len(e) for e in split.values()) == [12, 12]

    def test_patient_column_not_given_warned(
        self, tmp_path: Path, capsys: Capture
    ) -> None:
        """Without a group, a column named for the patient whose values repeat
        is a warning naming the option that keeps patients whole; given, or
        where no column is so named (array entries name none), it is not."""
        source = _table(tmp_path, _padchest(), "padchest.csv")
        named = ("--path-field", "ImageID", "--label-field", "Labels")
        status, out, err = _halves(capsys, source, *named)
        assert (status, err) == (0, ""), err
        warning = (
            f"warning: {source}: column `PatientID` seems to name each entry's "
            "patient, and 30 of its 40 values are held by several entries (such "
            "as `9001`); without `--group-field` or `--group-pattern`, each path "
            "is a group of its own, so one patient's entries may be put in two "
            "sets: give `--group-field PatientID` to keep each patient's entries "
            "in one set"
        )
        assert warning in out.splitlines()
        # the column left out of the entries written: still warned of
        kept = ("--columns", "ImageID", "Labels")
        status, out, err = _halves(capsys, source, *named, *kept)
        assert (status, err) == (0, ""), err
        assert (
            warning.replace(
                "PatientID` to keep", "PatientID` (and keep it in `--columns`) to keep"
            )
            in out.splitlines()
        )
        status, out, err = _halves(capsys, source, *named, "--group-field", "2")
        assert (status, err) == (0, ""), err
        assert "seems to name each entry's patient" not in out
        arrays = _entries_file(tmp_path, [[f"{i}.png", i % 2, 7] for i in range(8)])
        status, out, err = _halves(capsys, arrays)
        assert (status, err) == (0, ""), err
        assert "seems to name each entry's patient" not in out
        objects = [
            {"image": f"{i}.png", "label": i % 2, "subject_id": i // 2}
            for i in range(8)
        ]
        source = tmp_path / "objects.json"
        source.write_text(json.dumps(objects))
        status, out, err = _halves(capsys, source)
        assert (status, err) == (0, ""), err
        assert (
            "key `subject_id` seems to name each entry's patient, and 4 of its 4" in out
        )

    def test_one_file_of_two_patients(self, tmp_path: Path, capsys: Capture) -> None:
        """A file listed under two patients is refused, naming both: which set
        it goes to cannot be told, and it would join the two patients' sets."""
        entries: list[list[object]] = [
            [f"{i}.png", f"P{i % 6}", i % 2] for i in range(24)
        ]
        entries.append(["./2.png", "P5", 0])
        source = _entries_file(tmp_path, entries)
        status, out, err = _halves(capsys, source, "--group-field", "1")
        assert (status, out) == (1, "")
        assert err == (
            f"lightsplit split: error: {source}: cannot split files listed with "
            "different groups, 1 problem:\n"
            '  2.png: groups "P2" (entry 2), "P5" (entry 24); one file is one '
            "patient's: keep the right one (or give one patient one group)\n"
        )
        assert not (tmp_path / "out.json").exists()

    def test_folds_by_patient(self, tmp_path: Path, capsys: Capture) -> None:
        """Folds keep each patient in one set of every file; with `--columns`,
        the group field is written, and recorded by its new position."""
        source = _table(tmp_path, _padchest(), "padchest.csv")
        folder = tmp_path / "folds"
        columns = ("--columns", "ImageID", "Labels", "PatientID")
        status, out, err = _run(
            capsys,
            "split",
            source,
            "--folds",
            "4",
            *_PADCHEST_FIELDS,
            *columns,
            "-o",
            folder,
        )
        assert (status, err) == (0, ""), err
        files = sorted(folder.glob("fold-?.json"))
        assert [path.name for path in files] == [f"fold-{i}.json" for i in range(4)]
        tested: list[object] = []
        for path in files:
            split = load_split(path, sample_type=tuple[str, str, int])
            patients = _patients_in(split, 2)
            assert not patients["train"] & patients["validation"]
            assert not (patients["train"] | patients["validation"]) & patients["test"]
            assert sum(map(len, split.values())) == 100
            tested += split["test"]
            record = json.loads(sidecar_path(path).read_text())
            assert (record["group_field"], record["label_field"]) == (2, 1)
        assert len(tested) == len(set(tested)) == 100  # each row tested once
        status, out, _ = _run(capsys, "check", *files)
        assert status == 0, out
        assert out.count("no duplicate, leak, label conflict or group leak") == 4

    def test_check_finds_a_moved_patient(self, tmp_path: Path, capsys: Capture) -> None:
        """A patient moved by hand into another set is a group leak, found by
        the sidecar's group field, or by `--group-field` given (a position)."""
        source = _table(tmp_path, _padchest(12), "padchest.csv")
        output = tmp_path / "split.json"
        status, _, err = _run(
            capsys,
            "split",
            source,
            "--fractions",
            "0.5",
            "0.5",
            *_PADCHEST_FIELDS,
            "-o",
            output,
        )
        assert status == 0, err
        split = json.loads(output.read_text())
        moved = next(
            e
            for e in split["train"]
            if sum(other[2] == e[2] for other in split["train"]) > 1
        )
        split["train"].remove(moved)
        split["test"].append(moved)
        edited = tmp_path / "edited.json"
        edited.write_text(json.dumps(split))
        status, out, _ = _run(
            capsys, "check", edited, "--group-field", "2", "--path-field", "0"
        )
        assert status == 1
        at = len(split["test"]) - 1
        assert f"group leak: 1 group is in both `train` and `test`: {moved[2]} (" in out
        assert f"test.{at})" in out
        sidecar_path(edited).write_bytes(sidecar_path(output).read_bytes())
        status, again, _ = _run(capsys, "check", edited)
        assert status == 1
        assert (
            f"group leak: 1 group is in both `train` and `test`: {moved[2]} (" in again
        )

    def test_columns_must_keep_the_group_field(
        self, tmp_path: Path, capsys: Capture
    ) -> None:
        """`--columns` leaving out the group field is refused: the file written
        could not be checked by patient."""
        source = _table(tmp_path, _padchest(), "padchest.csv")
        status, out, err = _halves(
            capsys, source, *_PADCHEST_FIELDS, "--columns", "ImageID", "Labels"
        )
        assert (status, out) == (2, "")
        assert err.endswith(
            "lightsplit split: error: `--columns` leaves out column `PatientID`, the "
            "group field the split is made by; keep it, so that the split file holds "
            "the groups it was made by\n"
        )

    @pytest.mark.parametrize("command", ["split", "check", "card"])
    def test_pattern_and_field_refused(
        self, tmp_path: Path, capsys: Capture, command: str
    ) -> None:
        """Both ways of grouping at once is a usage error naming both options."""
        source = _table(tmp_path, _padchest(), "padchest.csv")
        given = (
            [str(source)]
            if command != "split"
            else [
                str(source),
                "--fractions",
                "0.5",
                "0.5",
                "-o",
                str(tmp_path / "o.json"),
            ]
        )
        status, out, err = _run(
            capsys, command, *given, "--group-pattern", "P", "--group-field", "2"
        )
        assert (status, out) == (2, "")
        assert err.endswith(
            f"lightsplit {command}: error: `--group-pattern` and `--group-field` are "
            "both given; an entry's group is found in its path by the pattern or "
            "read from the field: give one\n"
        )

    def test_unknown_column(self, tmp_path: Path, capsys: Capture) -> None:
        """A column name that is not in the header is refused, listing them; one
        that differs from a column in case, spaces or punctuation alone names it."""
        source = _table(tmp_path, _padchest(), "padchest.csv")
        options = (*_PADCHEST_FIELDS[:4], "--group-field", "Patient")
        status, _, err = _halves(capsys, source, *options)
        assert status == 2
        assert err.endswith(
            f"`--group-field` `Patient` is not a column of {source}; name one of "
            "`ImageID`, `StudyID`, `PatientID`, `Projection`, `Labels`, or give a "
            "position (0, 1, ...)\n"
        )
        for alike in ("PatientId", "patient id", "PATIENT_ID"):
            options = (*_PADCHEST_FIELDS[:4], "--group-field", alike)
            status, _, err = _halves(capsys, source, *options)
            assert status == 2
            assert err.endswith(
                f"`--group-field` `{alike}` is not a column of {source}; did you "
                "mean `PatientID`? Name one of `ImageID`, `StudyID`, `PatientID`, "
                "`Projection`, `Labels`, or give a position (0, 1, ...)\n"
            )

    def test_field_held_nowhere(self, tmp_path: Path, capsys: Capture) -> None:
        """A group field that no entry holds is a usage error, as a path field's."""
        source = _array(tmp_path)
        status, _, err = _halves(capsys, source, "--group-field", "PatientID")
        assert status == 2
        assert err.endswith(
            f"lightsplit split: error: {source}: the group field `PatientID` holds a "
            "group in no entry (a value that is not empty or null), so no entry could "
            'be grouped; the entries are arrays of 2 items (such as ["p0/000.png", '
            "0]); give a position from 0 to 1\n"
        )

    def test_rows_without_a_group_listed(self, tmp_path: Path, capsys: Capture) -> None:
        """Rows whose group cell is empty are named; nothing is written."""
        rows = [f"{i}.png,{'' if i in (3, 5) else i // 2},{i % 2}" for i in range(12)]
        source = _table(tmp_path, "\n".join(["Image,PatientID,Label", *rows]))
        status, out, err = _halves(capsys, source, "--group-field", "PatientID")
        assert (status, out) == (1, "")
        assert err.splitlines() == [
            f"lightsplit split: error: {source}: the group field `PatientID` holds no "
            "group "
            "(it is missing, empty or null) in 2 of 12 entries; give each entry its "
            "group (a patient), or remove it:",
            '  row 5: ["3.png", null, 1]',
            '  row 7: ["5.png", null, 1]',
        ]
        assert not (tmp_path / "out.json").exists()

    def test_rows_without_a_path_listed(self, tmp_path: Path, capsys: Capture) -> None:
        """Rows whose path cell is empty, in the middle of the row or last, name no
        file: they are named, with or without groups; nothing is written."""
        rows = [
            f"{'' if i in (3, 5) else f'{i}.png'},{i // 2},{i % 2}" for i in range(12)
        ]
        source = _table(tmp_path, "\n".join(["Image,PatientID,Label", *rows]))
        for options in (("--group-field", "PatientID"), ("--label-field", "Label")):
            status, out, err = _halves(capsys, source, *options)
            assert (status, out) == (1, ""), err
            assert err.splitlines() == [
                f"lightsplit split: error: {source}: the path field `0` holds no path "
                "(it is missing, empty or null) in 2 of 12 entries; give each entry "
                "its file, or remove it:",
                "  row 5: [null, 1, 1]",
                "  row 7: [null, 2, 1]",
            ]
            assert not (tmp_path / "out.json").exists()
        rows = [f"P{i},{i % 2},{'' if i == 4 else f'{i}.png'}" for i in range(12)]
        source = _table(tmp_path, "\n".join(["PatientID,Label,Image", *rows]))
        status, _, err = _halves(capsys, source, "--group-field", "PatientID")
        assert status == 1
        assert "in 1 of 12 entries; give each entry its file" in err
        assert err.endswith('  row 6: ["P4", 0]\n')

    def test_blanks_around_a_patient_dropped(
        self, tmp_path: Path, capsys: Capture
    ) -> None:
        """A cell ` 4 ` is the patient `4`: one group, wherever the blanks are."""
        patients = ["4", " 4", "4 ", " 4 ", "5", "5 ", "6", "7"]
        rows = [f"{i}.png,{patient},{i % 2}" for i, patient in enumerate(patients)]
        source = _table(tmp_path, "\n".join(["Image,PatientID,Label", *rows]))
        status, out, err = _halves(capsys, source, "--group-field", "PatientID")
        assert (status, err) == (0, ""), err
        assert out.startswith(f"read 8 entries from {source}: 2 classes, 4 groups\n")
        split = load_split(source.with_name("out.json"))
        held = {name: {str(e[1]).strip() for e in s} for name, s in split.items()}
        assert not held["train"] & held["test"]

    def test_number_spellings_warned(self, tmp_path: Path, capsys: Capture) -> None:
        """`17`, `0017`, `17.0` and `1.7e1` are four groups, each of which may go
        to another set: warned, naming each and its rows, saying how to write
        them; the split is still written."""
        patients = ["17", "0017", "17.0", "1.7e1", *(f"P{i}" for i in range(8))]
        rows = [f"{i}.png,{patient},{i % 2}" for i, patient in enumerate(patients)]
        source = _table(tmp_path, "\n".join(["Image,PatientID,Label", *rows]))
        status, out, err = _halves(capsys, source, "--group-field", "PatientID")
        assert (status, err) == (0, ""), err
        assert (
            f"warning: {source}: the group field `PatientID` holds one number "
            "written several ways: `17` (row 2), `0017` (row 3), `17.0` (row 4) and "
            "`1.7e1` (row 5) are 17; group values are compared as text, so each "
            "spelling is a group (a patient) of its own, which may go to another "
            "set; if they are one patient, write the number one way in every entry "
            "(such as `17`, not `0017` or `17.0` or `1.7e1`)\n"
        ) in out
        assert "12 groups" in out
        assert source.with_name("out.json").exists()

    def test_image_column_given_for_patients(
        self, tmp_path: Path, capsys: Capture
    ) -> None:
        """`--group-field ImageID` (the file column) splits by image: warned,
        naming the column and the first row; the split is still written."""
        rows = [f"{i:03d}.png,P{i % 7},{i % 2}" for i in range(30)]
        source = _table(tmp_path, "\n".join(["ImageID,PatientID,Label", *rows]))
        status, out, err = _halves(
            capsys, source, "--group-field", "ImageID", "--path-field", "ImageID"
        )
        assert (status, err) == (0, ""), err
        assert (
            f"warning: {source}: the group field `ImageID` holds file names, not "
            "patients, in 30 of the 30 entries that hold a group (such as "
            "`000.png`, row 2): each image is a group (a patient) of its own; so "
            "the split is by image, not by patient; name the field that holds each "
            "entry's patient, or leave the group field out\n"
        ) in out
        status, out, _ = _halves(capsys, source, "--group-field", "PatientID")
        assert status == 0
        assert "file names" not in out

    def test_missing_values_warned(self, tmp_path: Path, capsys: Capture) -> None:
        """`NaN` and `N/A` (missing patients, as pandas and spreadsheets write
        them) are each one group of all their entries: warned, naming them; a
        table of distinct patient numbers is not."""
        patients = ["NaN", "P1", "NaN", "N/A", "P2", "NaN", "NaN", "P3", "P4", "P5"]
        rows = [f"{i}.png,{patient},{i % 2}" for i, patient in enumerate(patients)]
        source = _table(tmp_path, "\n".join(["Image,PatientID,Label", *rows]))
        status, out, err = _halves(capsys, source, "--group-field", "PatientID")
        assert (status, err) == (0, ""), err
        assert (
            f"warning: {source}: the group field `PatientID` holds `NaN` in 4 "
            "entries (row 2, row 4, row 7 and 1 more) and `N/A` in 1 entry (row 5), "
            "which read as missing values, not as patients, yet each is one group "
            "(one patient) of all the entries holding it; the entries of such a "
            "group all go to one set; give each entry its patient, or remove the "
            "entries that have none\n"
        ) in out
        status, out, _ = _halves(
            capsys, _table(tmp_path, _padchest(), "padchest.csv"), *_PADCHEST_FIELDS
        )
        assert status == 0
        assert "warning" not in out

    def test_too_few_groups_named(self, tmp_path: Path, capsys: Capture) -> None:
        """Fewer patients than sets names the field that holds so few, by its
        column, as the field (not a count of groups)."""
        rows = [f"{i}.png,P{i % 2},{i % 2}" for i in range(8)]
        source = _table(tmp_path, "\n".join(["Image,PatientID,Label", *rows]))
        status, _, err = _run(
            capsys,
            "split",
            source,
            "--folds",
            "3",
            "--group-field",
            "PatientID",
            "-o",
            tmp_path / "folds",
        )
        assert status == 1
        assert err.endswith(
            "cannot make 3 folds from 2 groups (the different values of the group "
            "field `PatientID`): every fold needs a group; give more entries (or a "
            "group field that holds more groups)\n"
        )

    def test_sidecar_with_both_refused(self, tmp_path: Path, capsys: Capture) -> None:
        """A sidecar recording both a group pattern and a group field is not one
        that `split` writes: its card says so, and `check` groups by neither."""
        from lightsplit._sidecar import SplitProvenance  # noqa: PLC0415

        record = {
            "lightsplit": "0.1.0",
            "sha256": "0" * 64,
            "command": "lightsplit split a.json",
            "input": "a.json",
            "input_entries": 2,
            "input_sha256": "0" * 64,
            "fractions": ["0.5", "0.5"],
            "folds": None,
            "fold": None,
            "seed": 0,
            "group_pattern": "p",
            "group_field": 2,
            "path_field": None,
            "label_field": None,
        }
        with pytest.raises(ValidationError, match="are both recorded"):
            SplitProvenance.model_validate_json(json.dumps(record))
        alone = {**record, "group_pattern": None}
        assert SplitProvenance.model_validate_json(json.dumps(alone)).group_field == 2
        split = _write(
            tmp_path, {"train": [["a.png", 0, 1]], "test": [["b.png", 1, 1]]}
        )
        sidecar_path(split).write_text(json.dumps(record))
        status, out, _ = _run(capsys, "check", split)
        assert status == 0, out  # grouped by neither: patient 1 is no leak
        assert "groups" not in out
        status, out, _ = _run(capsys, "card", split)
        assert status == 0
        assert "are both recorded" in out
        sidecar_path(split).write_text(json.dumps(alone))
        status, out, _ = _run(capsys, "check", split)
        assert status == 1
        assert "group leak: 1 group is in both `train` and `test`: 1 (" in out
