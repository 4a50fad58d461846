import json
import runpy
import subprocess
import sys
from pathlib import Path
from typing import Any, Final

import pytest
from jsonschema import Draft202012Validator
from lightsplit_testing import Entry, write_pngs, write_split

from lightsplit import split_json_schema
from lightsplit._cli import main

Capture = pytest.CaptureFixture[str]

HEAVY: Final = ("torch", "lightning", "lightning_fabric", "pytorch_lightning")
"""Top-level packages that only loading samples and the demo may import."""

RUN_AND_LIST_IMPORTS: Final = f"""
import json, sys
from lightsplit._cli import main
status = main(sys.argv[2:])
heavy = sorted(m for m in sys.modules if m.split(".")[0] in {HEAVY!r})
with open(sys.argv[1], "w") as stream:
    json.dump({{"status": status, "heavy": heavy}}, stream)
"""
"""Run ``main(argv[2:])``; write its status and the heavy modules to ``argv[1]``."""

LOADERS_MODULE = """
from pathlib import Path

from lightsplit import ImageFileLoader

LOADER = ImageFileLoader({root!r})
NOT_A_LOADER = 3


def make_loader(root: Path) -> ImageFileLoader:
    return ImageFileLoader(root)


def make_number() -> int:
    return 3


def broken() -> ImageFileLoader:
    raise RuntimeError("no data here")
"""


def _run(capsys: Capture, *argv: str | Path) -> tuple[int, str, str]:
    """Run ``main`` in process; return its status, stdout and stderr."""
    status = main([str(arg) for arg in argv])
    out, err = capsys.readouterr()
    return status, out, err


@pytest.fixture
def split_file(tmp_path: Path, split: dict[str, list[Entry]]) -> Path:
    """The conftest split (its monitor set repeats train entries) as a file."""
    return write_split(tmp_path / "split.json", split)


@pytest.fixture
def loaders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, png_root: Path) -> str:
    """The name of an importable module of loaders over ``png_root``."""
    folder = tmp_path / "modules"
    folder.mkdir()
    (folder / "cli_loaders.py").write_text(LOADERS_MODULE.format(root=str(png_root)))
    monkeypatch.syspath_prepend(folder)
    monkeypatch.delitem(sys.modules, "cli_loaders", raising=False)
    return "cli_loaders"


class TestMain:
    def test_help_lists_commands(self, capsys: Capture) -> None:
        """``--help`` lists every command and exits 0."""
        status, out, _ = _run(capsys, "--help")
        assert status == 0
        for command in ("schema", "check", "convert", "demo"):
            assert f"    {command} " in out

    def test_no_command(self, capsys: Capture) -> None:
        """A missing command is a usage error."""
        status, _, err = _run(capsys)
        assert status == 2
        assert "the following arguments are required: COMMAND" in err

    def test_version(self, capsys: Capture) -> None:
        """``--version`` prints the installed version."""
        status, out, _ = _run(capsys, "--version")
        assert (status, out) == (0, "lightsplit 0.1.0\n")

    @pytest.mark.parametrize("command", ["schema", "check", "convert", "demo"])
    def test_command_help(self, capsys: Capture, command: str) -> None:
        """Every command has its own help, with an example."""
        status, out, _ = _run(capsys, command, "--help")
        assert status == 0
        assert out.startswith(f"usage: lightsplit {command} ")
        assert f"  lightsplit {command} " in out


class TestSchema:
    def test_default(self, capsys: Capture) -> None:
        """Without options, the schema of any-entry splits goes to stdout."""
        status, out, _ = _run(capsys, "schema")
        assert status == 0
        schema = json.loads(out)
        Draft202012Validator.check_schema(schema)
        assert schema == split_json_schema()
        assert out == json.dumps(schema, indent=2) + "\n"

    def test_tuple_str_int(self, capsys: Capture) -> None:
        """The schema for ``tuple[str, int]`` accepts exactly such entries."""
        status, out, _ = _run(capsys, "schema", "--sample-type", "tuple[str, int]")
        assert status == 0
        validator = Draft202012Validator(json.loads(out))
        assert validator.is_valid({"train": [["a.png", 0]], "monitor-x": []})
        assert not validator.is_valid({"train": [["a.png", "0"]]})
        assert not validator.is_valid({"train": [["a.png", 0, 1]]})
        assert not validator.is_valid({"valid": [["a.png", 0]]})

    @pytest.mark.parametrize(
        ("expression", "expected"),
        [
            pytest.param("tuple[str, str, str]", tuple[str, str, str], id="three"),
            pytest.param("tuple[str, list[int]]", tuple[str, list[int]], id="list"),
            pytest.param("Any", Any, id="any"),
            pytest.param("dict[str, str]", dict[str, str], id="dict"),
            pytest.param("tuple[str, ...]", tuple[str, ...], id="variadic"),
            pytest.param("tuple[str, int | None]", tuple[str, int | None], id="union"),
            pytest.param("None | float", None | float, id="none-first"),
            pytest.param("list", list, id="bare-list"),
            pytest.param("tuple[bool, Ellipsis]", tuple[bool, ...], id="ellipsis"),
        ],
    )
    def test_sample_types(
        self, capsys: Capture, expression: str, expected: object
    ) -> None:
        """Each allowed expression gives the schema of the type it writes."""
        status, out, _ = _run(capsys, "schema", "--sample-type", expression)
        assert status == 0
        assert json.loads(out) == split_json_schema(expected)

    @pytest.mark.parametrize(
        ("expression", "problem"),
        [
            pytest.param(
                "__import__('os').system('true')",
                "type expression `__import__('os').system('true')` is not allowed",
                id="call",
            ),
            pytest.param(
                "tuple[str, os.path]",
                "type expression `tuple[str, os.path]`: `os.path` is not allowed",
                id="attribute",
            ),
            pytest.param(
                "tuple[str, bytes]",
                "type expression `tuple[str, bytes]`: `bytes` is not allowed",
                id="unknown-name",
            ),
            pytest.param(
                "tuple[str,",
                "type expression `tuple[str,` is not a Python expression",
                id="syntax",
            ),
            pytest.param(
                "list[int, str]",
                "`list[int, str]` needs one type in `[...]`",
                id="arity",
            ),
            pytest.param(
                "dict[int, str]",
                "`int` is not allowed as a key type: JSON object keys are strings",
                id="dict-key",
            ),
            pytest.param("str[int]", "`str` takes no `[...]`", id="scalar-subscript"),
            pytest.param("tuple[()]", "`tuple[()]` has no item type", id="empty-tuple"),
            pytest.param(
                "list[...]",
                "`...` is only allowed as the last item of `tuple[T, ...]`",
                id="ellipsis",
            ),
            pytest.param("x" * 1001, "of 1001 characters is too long", id="long"),
        ],
    )
    def test_invalid_sample_type(
        self, capsys: Capture, expression: str, problem: str
    ) -> None:
        """An expression outside the allowed forms is a usage error saying so."""
        status, out, err = _run(capsys, "schema", "--sample-type", expression)
        assert (status, out) == (2, "")
        assert "lightsplit schema: error: argument --sample-type: " in err
        assert problem in err
        assert (
            "write one from `str`, `int`, `float`, `bool`, `None`, `Any`, `list[T]`, "
            "`tuple[T1, T2]`, `tuple[T, ...]`, `dict[str, T]` and unions `T1 | T2`"
        ) in err

    def test_output_file(self, tmp_path: Path, capsys: Capture) -> None:
        """``-o`` writes the schema to a file and nothing to stdout."""
        path = tmp_path / "split.schema.json"
        status, out, _ = _run(capsys, "schema", "-o", path)
        assert (status, out) == (0, "")
        assert json.loads(path.read_text()) == split_json_schema()

    def test_output_not_writable(self, tmp_path: Path, capsys: Capture) -> None:
        """A file that cannot be written is an error naming it."""
        path = tmp_path / "missing" / "schema.json"
        status, _, err = _run(capsys, "schema", "-o", path)
        assert status == 1
        assert err == (
            f"lightsplit schema: error: cannot write {path}: "
            "No such file or directory\n"
        )


class TestCheck:
    def test_clean_split(self, split_file: Path, capsys: Capture) -> None:
        """A clean split exits 0 with a table of entries and class counts."""
        status, out, err = _run(capsys, "check", split_file)
        assert (status, err) == (0, "")
        assert out == (
            f"{split_file}: 4 sets, 24 entries\n"
            "  set            entries  label 0  label 1\n"
            "  train               12        6        6\n"
            "  validation           4        2        2\n"
            "  test                 4        2        2\n"
            "  monitor-extra        4        2        2\n"
            "  no entry repeated within a set or shared by `train`, `validation` "
            "and `test`\n"
            f"{split_file}: ok\n"
        )

    def test_unlabelled_entries(self, tmp_path: Path, capsys: Capture) -> None:
        """Sets whose entries are not all ``[item, label]`` show no class counts."""
        sets: dict[str, list[object]] = {
            "train": [["a", "m"], ["b", 0]],
            "validation": [["w"], "v"],
            "test": [["c", 1]],
        }
        path = write_split(tmp_path / "s.json", sets)
        status, out, _ = _run(capsys, "check", path)
        assert status == 0
        assert out.splitlines()[1:5] == [
            "  set         entries  label 1",
            "  train             2        -",
            "  validation        2        -",
            "  test              1        1",
        ]

    def test_many_classes(self, tmp_path: Path, capsys: Capture) -> None:
        """With more than ten labels the table shows class sizes instead."""
        train = [[f"{i}.png", i % 12] for i in range(30)]
        path = write_split(tmp_path / "s.json", {"train": train, "test": []})
        status, out, _ = _run(capsys, "check", path)
        assert status == 0
        assert out.splitlines()[1:4] == [
            "  set    entries  classes  smallest  largest",
            "  train       30       12         2        3",
            "  test         0        0         0        0",
        ]

    def test_leakage(
        self, tmp_path: Path, entries: list[Entry], capsys: Capture
    ) -> None:
        """Entries shared by train and test are an error naming sets and examples."""
        sets = {"train": entries[:6], "test": [*entries[6:8], entries[1], entries[4]]}
        path = write_split(tmp_path / "leaky.json", sets)
        status, out, _ = _run(capsys, "check", path)
        assert status == 1
        assert (
            "  leak: 2 entries are in both `train` and `test`: "
            '["img_00001.png", 1] (train.1, test.2), '
            '["img_00004.png", 0] (train.4, test.3)\n'
        ) in out
        assert out.endswith(f"{path}: 1 problem\n")

    def test_leak_examples_are_capped(self, tmp_path: Path, capsys: Capture) -> None:
        """A large leak shows five examples and how many more there are."""
        shared = [[f"{i}.png", 0] for i in range(8)]
        path = write_split(tmp_path / "s.json", {"validation": shared, "test": shared})
        _, out, _ = _run(capsys, "check", path)
        assert "(validation.4, test.4) and 3 more\n" in out

    def test_duplicates(
        self, tmp_path: Path, entries: list[Entry], capsys: Capture
    ) -> None:
        """An entry repeated within a set is an error with both indices."""
        path = write_split(tmp_path / "s.json", {"train": [*entries[:3], entries[1]]})
        status, out, _ = _run(capsys, "check", path)
        assert status == 1
        assert '  duplicate: train.3 repeats train.1: ["img_00001.png", 1]\n' in out

    def test_many_duplicates(self, tmp_path: Path, capsys: Capture) -> None:
        """More than five duplicates are counted after the first five."""
        path = write_split(tmp_path / "s.json", {"test": [["a", 0]] * 8})
        status, out, _ = _run(capsys, "check", path)
        assert status == 1
        assert out.count("  duplicate: ") == 5
        assert "  and 2 more duplicates (--json lists all)\n" in out
        assert out.endswith(f"{path}: 7 problems\n")

    def test_entries_compare_as_json(self, tmp_path: Path, capsys: Capture) -> None:
        """Objects with the same keys in another order are the same entry."""
        train = [{"image": "a", "label": 1}, {"label": 1, "image": "a"}]
        path = write_split(tmp_path / "s.json", {"train": train})
        _, out, _ = _run(capsys, "check", path)
        assert (
            '  duplicate: train.1 repeats train.0: {"label": 1, "image": "a"}\n' in out
        )

    def test_malformed_file(self, tmp_path: Path, capsys: Capture) -> None:
        """A file that does not load is an error naming the file and the problem."""
        path = tmp_path / "broken.json"
        path.write_text('{"train": [["a.png", 0]], "valid": []}')
        status, out, _ = _run(capsys, "check", path)
        assert status == 1
        assert out.startswith(f"{path}: invalid split file, 1 problem:\n")
        assert "did you mean `validation`?" in out
        assert out.endswith(f"{path}: does not load\n")

    def test_wrong_sample_type(self, split_file: Path, capsys: Capture) -> None:
        """Entries that do not match ``--sample-type`` make the file invalid."""
        status, out, _ = _run(
            capsys, "check", split_file, "--sample-type", "tuple[str, str]"
        )
        assert status == 1
        assert f"{split_file}: train.0: entry " in out

    def test_missing_file(self, tmp_path: Path, capsys: Capture) -> None:
        """A file that does not exist is a problem, not a crash."""
        path = tmp_path / "nowhere.json"
        status, out, _ = _run(capsys, "check", path)
        assert status == 1
        assert out == (
            f"{path}: cannot read: No such file or directory\n{path}: does not load\n"
        )

    def test_several_files(
        self, split_file: Path, tmp_path: Path, capsys: Capture
    ) -> None:
        """Each file is reported, then a summary; one bad file fails the check."""
        bad = tmp_path / "bad.json"
        bad.write_text("[]")
        status, out, _ = _run(capsys, "check", split_file, bad)
        assert status == 1
        assert out.endswith("checked 2 files: 1 with problems\n")

    def test_root_loads_images(
        self, split_file: Path, png_root: Path, capsys: Capture
    ) -> None:
        """``--root`` loads every sample with ``ImageFileLoader``."""
        status, out, _ = _run(capsys, "check", split_file, "--root", png_root)
        assert status == 0
        assert "  loaded 24 samples: no failure\n" in out

    def test_missing_image(
        self, tmp_path: Path, entries: list[Entry], png_root: Path, capsys: Capture
    ) -> None:
        """A missing PNG is a failure with its set, index and entry."""
        (png_root / entries[2][0]).unlink()
        path = write_split(tmp_path / "s.json", {"train": entries[:4]})
        status, out, _ = _run(capsys, "check", path, "--root", png_root)
        assert status == 1
        assert "  loaded 4 samples: 1 failed\n" in out
        assert (
            '  failure: train.2: entry ["img_00002.png", 0]: FileNotFoundError: '
            f"[Errno 2] No such file or directory: '{png_root / entries[2][0]}'\n"
        ) in out

    @pytest.mark.parametrize(
        ("entry", "reason"),
        [
            pytest.param("../x.png", "goes up with `..`", id="parent"),
            pytest.param("/etc/passwd", "is absolute", id="absolute"),
        ],
    )
    def test_path_escaping_root(
        self,
        *,
        tmp_path: Path,
        entries: list[Entry],
        png_root: Path,
        capsys: Capture,
        entry: str,
        reason: str,
    ) -> None:
        """A path leaving the root is a failure saying it escapes, not a read."""
        path = write_split(tmp_path / "s.json", {"test": [entries[0], [entry, 1]]})
        status, out, _ = _run(capsys, "check", path, "--root", png_root)
        assert status == 1
        assert (
            f'  failure: test.1: entry ["{entry}", 1]: PathEscapeError: file path '
            f"`{entry}` {reason}: entries must name files inside the root folder "
            f"{png_root}; write the path relative to it\n"
        ) in out

    def test_limit(
        self, tmp_path: Path, entries: list[Entry], png_root: Path, capsys: Capture
    ) -> None:
        """``--limit N`` loads only the first N samples of each set."""
        (png_root / entries[3][0]).unlink()
        path = write_split(tmp_path / "s.json", {"train": entries[:6], "test": []})
        status, out, _ = _run(capsys, "check", path, "--root", png_root, "--limit", "3")
        assert status == 0
        assert "  loaded 3 samples: no failure\n" in out
        status, out, _ = _run(capsys, "check", path, "--root", png_root, "--limit", "4")
        assert status == 1
        assert "  loaded 4 samples: 1 failed\n" in out

    def test_limit_needs_loading(self, split_file: Path, capsys: Capture) -> None:
        """``--limit`` without a loader is a usage error."""
        status, _, err = _run(capsys, "check", split_file, "--limit", "2")
        assert status == 2
        assert "`--limit` needs `--loader` or `--root`" in err

    @pytest.mark.parametrize("limit", ["-1", "two"])
    def test_limit_must_be_a_count(
        self, split_file: Path, capsys: Capture, limit: str
    ) -> None:
        """A negative or non-numeric limit is a usage error."""
        status, _, err = _run(
            capsys, "check", split_file, "--root", ".", "--limit", limit
        )
        assert status == 2
        assert f"argument --limit: `{limit}` is not a count" in err

    def test_json(
        self, tmp_path: Path, entries: list[Entry], png_root: Path, capsys: Capture
    ) -> None:
        """``--json`` prints one document with sets, duplicates, leaks and failures."""
        (png_root / entries[0][0]).unlink()
        sets = {"train": [*entries[:3], entries[1]], "test": [entries[2], entries[5]]}
        path = write_split(tmp_path / "s.json", sets)
        status, out, _ = _run(capsys, "check", path, "--root", png_root, "--json")
        assert status == 1
        document = json.loads(out)
        assert document == {
            "ok": False,
            "files": [
                {
                    "file": str(path),
                    "ok": False,
                    "error": None,
                    "sets": {
                        "train": {"entries": 4, "class_counts": {"0": 2, "1": 2}},
                        "test": {"entries": 2, "class_counts": {"0": 1, "1": 1}},
                    },
                    "duplicates": [
                        {
                            "set": "train",
                            "index": 3,
                            "first": 1,
                            "entry": ["img_00001.png", 1],
                        }
                    ],
                    "leaks": [
                        {
                            "sets": ["train", "test"],
                            "count": 1,
                            "examples": [
                                {"entry": ["img_00002.png", 0], "indices": [2, 0]}
                            ],
                        }
                    ],
                    "failures": [
                        {
                            "set": "train",
                            "index": 0,
                            "entry": ["img_00000.png", 0],
                            "message": document["files"][0]["failures"][0]["message"],
                        }
                    ],
                    "loaded": 6,
                }
            ],
        }
        assert document["files"][0]["failures"][0]["message"].startswith(
            "FileNotFoundError: "
        )

    def test_json_clean_and_unreadable(
        self, split_file: Path, tmp_path: Path, capsys: Capture
    ) -> None:
        """A clean file is ok with no loading; an unreadable one carries its error."""
        bad = tmp_path / "bad.json"
        bad.write_text("{")
        status, out, _ = _run(capsys, "check", split_file, bad, "--json")
        assert status == 1
        clean, broken = json.loads(out)["files"]
        assert (clean["ok"], clean["loaded"], clean["duplicates"]) == (True, None, [])
        assert clean["sets"]["monitor-extra"]["entries"] == 4
        assert broken["ok"] is False
        assert broken["error"].startswith(f"{bad}: line 1 column 2: invalid JSON")
        assert broken["sets"] == {}

    def test_loader_class_gets_root(
        self, split_file: Path, png_root: Path, capsys: Capture
    ) -> None:
        """A loader class is called with ``root=`` the ``--root`` folder."""
        status, out, _ = _run(
            capsys,
            "check",
            split_file,
            "--loader",
            "lightsplit_testing:PngLoader",
            "--root",
            png_root,
        )
        assert status == 0
        assert "  loaded 24 samples: no failure\n" in out

    @pytest.mark.parametrize(
        ("attribute", "root"),
        [
            pytest.param("LOADER", False, id="object"),
            pytest.param("make_loader", True, id="factory"),
        ],
    )
    def test_loader_object_or_factory(
        self,
        *,
        split_file: Path,
        png_root: Path,
        loaders: str,
        capsys: Capture,
        attribute: str,
        root: bool,
    ) -> None:
        """A loader object is used as is; a factory is called with the root."""
        extra = ["--root", str(png_root)] if root else []
        status, out, _ = _run(
            capsys, "check", split_file, "--loader", f"{loaders}:{attribute}", *extra
        )
        assert status == 0
        assert "  loaded 24 samples: no failure\n" in out

    def test_loader_from_current_folder(
        self,
        split_file: Path,
        png_root: Path,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
        capsys: Capture,
    ) -> None:
        """A loader module in the current folder is found, as with ``python -m``."""
        (tmp_path / "here_loaders.py").write_text(
            LOADERS_MODULE.format(root=str(png_root))
        )
        monkeypatch.chdir(tmp_path)
        monkeypatch.syspath_prepend(png_root)  # restores sys.path afterwards
        monkeypatch.delitem(sys.modules, "here_loaders", raising=False)
        status, _, _ = _run(
            capsys, "check", split_file, "--loader", "here_loaders:LOADER"
        )
        assert status == 0

    @pytest.mark.parametrize(
        ("spec", "root", "message"),
        [
            pytest.param(
                "no_colon",
                False,
                "`--loader` `no_colon` is not MODULE:ATTR",
                id="no-colon",
            ),
            pytest.param(
                "no_such_module_here:X",
                False,
                "cannot import `no_such_module_here` (ModuleNotFoundError: ",
                id="no-module",
            ),
            pytest.param(
                "cli_loaders:MISSING",
                False,
                "`cli_loaders` has no `MISSING`",
                id="no-attribute",
            ),
            pytest.param(
                "cli_loaders:NOT_A_LOADER",
                False,
                "`--loader` `cli_loaders:NOT_A_LOADER` is a `int`; name a loader",
                id="not-callable",
            ),
            pytest.param(
                "cli_loaders:make_number",
                False,
                "`make_number()` returned a `int`, which has no `sample` method",
                id="returns-no-loader",
            ),
            pytest.param(
                "cli_loaders:broken",
                False,
                "`broken()` failed (RuntimeError: no data here); give `--root DIR`",
                id="factory-fails",
            ),
            pytest.param(
                "cli_loaders:LOADER",
                True,
                "`--root` is given but `--loader` `cli_loaders:LOADER` is a loader "
                "object",
                id="object-with-root",
            ),
        ],
    )
    def test_bad_loader(
        self,
        *,
        split_file: Path,
        loaders: str,
        capsys: Capture,
        spec: str,
        root: bool,
        message: str,
    ) -> None:
        """A loader that cannot be had is a usage error saying why."""
        extra = ["--root", "."] if root else []
        status, out, err = _run(capsys, "check", split_file, "--loader", spec, *extra)
        assert (status, out) == (2, "")
        assert message in err


class TestConvert:
    def test_writes_and_reports(self, tmp_path: Path, capsys: Capture) -> None:
        """A conversion says what it wrote, per set, and its notes."""
        source = tmp_path / "dataset.json"
        source.write_text(
            json.dumps(
                {
                    "name": "Spleen",
                    "training": [{"image": "a.nii", "label": "a_seg.nii"}],
                    "test": ["b.nii"],
                }
            )
        )
        target = tmp_path / "split.json"
        status, out, _ = _run(capsys, "convert", source, "-o", target)
        assert status == 0
        assert out == (
            f"wrote {target} (lightsplit) from {source} (decathlon): train 1, test 1\n"
            f"note: {source}: left out the top-level keys `name` (not sets)\n"
        )
        assert json.loads(target.read_text()) == {
            "train": [["a.nii", "a_seg.nii"]],
            "test": [["b.nii"]],
        }

    def test_round_trip_through_csv(
        self, split_file: Path, tmp_path: Path, capsys: Capture
    ) -> None:
        """A split converted to CSV and back is the same split."""
        table = tmp_path / "split.csv"
        back = tmp_path / "back.json"
        assert _run(capsys, "convert", split_file, "-o", table)[0] == 0
        assert _run(capsys, "convert", table, "-o", back)[0] == 0
        assert json.loads(back.read_text()) == json.loads(split_file.read_text())

    def test_unconvertible(
        self, split_file: Path, tmp_path: Path, capsys: Capture
    ) -> None:
        """Entries a datalist cannot hold exit 1, naming them, and write nothing."""
        target = tmp_path / "datalist.json"
        status, out, err = _run(
            capsys, "convert", split_file, "-o", target, "--to", "decathlon"
        )
        assert (status, out) == (1, "")
        assert err.startswith(
            f"lightsplit convert: error: {split_file}: cannot write it to {target} "
            "as a decathlon datalist, 21 problems:\n"
            '  train.0: entry ["img_00000.png", 0] is not [image] or [image, label] '
            "of strings"
        )
        assert not target.exists()

    def test_missing_input(self, tmp_path: Path, capsys: Capture) -> None:
        """An input that does not exist is an error naming it."""
        source = tmp_path / "nothing.csv"
        status, _, err = _run(capsys, "convert", source, "-o", tmp_path / "x.json")
        assert status == 1
        assert err == (
            f"lightsplit convert: error: {source}: No such file or directory\n"
        )

    def test_output_required(self, split_file: Path, capsys: Capture) -> None:
        """``-o`` is required."""
        status, _, err = _run(capsys, "convert", split_file)
        assert status == 2
        assert "the following arguments are required: -o/--output" in err


class TestDemo:
    def test_help(self, capsys: Capture) -> None:
        """The demo's help names its options and defaults."""
        status, out, _ = _run(capsys, "demo", "--help")
        assert status == 0
        for option in ("--epochs N", "--workdir DIR", "--parallel N"):
            assert option in out

    @pytest.mark.parametrize(
        ("option", "value", "message"),
        [
            pytest.param("--epochs", "0", "`0` is not allowed here", id="no-epoch"),
            pytest.param("--parallel", "-2", "`-2` is not -1 (no process)", id="-2"),
        ],
    )
    def test_bad_values(
        self, capsys: Capture, option: str, value: str, message: str
    ) -> None:
        """Values the demo cannot run with are usage errors."""
        status, _, err = _run(capsys, "demo", option, value)
        assert status == 2
        assert message in err

    def test_options_reach_the_demo(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: Capture
    ) -> None:
        """The options are passed to ``run_demo`` (replaced here: it trains)."""
        calls: list[dict[str, object]] = []

        def fake_demo(*, epochs: int, workdir: Path | None, parallel: int) -> float:
            calls.append({"epochs": epochs, "workdir": workdir, "parallel": parallel})
            return 0.5

        monkeypatch.setattr("lightsplit._demo.run_demo", fake_demo)
        status, _, _ = _run(
            capsys, "demo", "--epochs", "2", "--workdir", tmp_path, "--parallel", "-1"
        )
        assert status == 0
        assert calls == [{"epochs": 2, "workdir": tmp_path, "parallel": -1}]

    def test_demo_failure(
        self, monkeypatch: pytest.MonkeyPatch, capsys: Capture
    ) -> None:
        """A demo that cannot run exits 1 with its reason."""

        def fake_demo(*, epochs: int, workdir: Path | None, parallel: int) -> float:
            msg = "the demo needs scikit-learn: install lightsplit[demo]"
            raise ImportError(msg)

        monkeypatch.setattr("lightsplit._demo.run_demo", fake_demo)
        status, _, err = _run(capsys, "demo")
        assert (status, err) == (
            1,
            "lightsplit demo: error: the demo needs scikit-learn: "
            "install lightsplit[demo]\n",
        )


def _run_fresh(tmp_path: Path, *argv: str | Path) -> tuple[int, list[str]]:
    """Run ``main`` in a new interpreter; return its status and the heavy imports."""
    found = tmp_path / "imports.json"
    subprocess.run(
        [sys.executable, "-c", RUN_AND_LIST_IMPORTS, found, *argv],
        capture_output=True,
        check=True,
    )
    result: dict[str, Any] = json.loads(found.read_text())
    return result["status"], result["heavy"]


class TestStartup:
    def test_help(self, tmp_path: Path) -> None:
        """``--help`` imports neither torch nor Lightning."""
        assert _run_fresh(tmp_path, "--help") == (0, [])

    def test_schema(self, tmp_path: Path) -> None:
        """``schema`` imports neither torch nor Lightning."""
        argv = ("schema", "--sample-type", "tuple[str, int]", "-o", tmp_path / "s")
        assert _run_fresh(tmp_path, *argv) == (0, [])

    def test_convert(self, split_file: Path, tmp_path: Path) -> None:
        """``convert`` imports neither torch nor Lightning."""
        argv = ("convert", split_file, "-o", tmp_path / "split.csv")
        assert _run_fresh(tmp_path, *argv) == (0, [])

    def test_check_without_loader(self, split_file: Path, tmp_path: Path) -> None:
        """``check`` without ``--loader`` or ``--root`` imports neither."""
        assert _run_fresh(tmp_path, "check", split_file, "--json") == (0, [])

    def test_check_with_root(
        self, split_file: Path, png_root: Path, tmp_path: Path
    ) -> None:
        """``check --root`` loads samples, with torch (the probe sees imports)."""
        status, heavy = _run_fresh(tmp_path, "check", split_file, "--root", png_root)
        assert status == 0
        assert "torch" in heavy


class TestEntryPoints:
    def test_main_module(
        self, monkeypatch: pytest.MonkeyPatch, capsys: Capture
    ) -> None:
        """``lightsplit.__main__`` exits with the status of ``main``."""
        monkeypatch.setattr(sys, "argv", ["lightsplit", "schema", "--sample-type", "x"])
        monkeypatch.delitem(sys.modules, "lightsplit.__main__", raising=False)
        with pytest.raises(SystemExit) as exc_info:
            runpy.run_module("lightsplit", run_name="__main__")
        assert exc_info.value.code == 2
        assert "type expression `x` is not allowed" in capsys.readouterr().err

    def test_python_m(self) -> None:
        """``python -m lightsplit --help`` runs the command line."""
        result = subprocess.run(
            [sys.executable, "-m", "lightsplit", "--help"],
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0
        assert result.stdout.startswith("usage: lightsplit [-h] [--version] COMMAND")

    def test_console_script(self, tmp_path: Path) -> None:
        """The installed ``lightsplit`` script exits with the command's status."""
        script = Path(sys.executable).parent / "lightsplit"
        entries = write_pngs(tmp_path, 2)
        path = write_split(tmp_path / "s.json", {"train": entries, "test": entries})
        result = subprocess.run(
            [script, "check", path], capture_output=True, text=True, check=False
        )
        assert result.returncode == 1
        assert "leak: 2 entries are in both `train` and `test`" in result.stdout
