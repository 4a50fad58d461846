import bz2
import json
import os
import random
import runpy
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any, Final

import pytest
from jsonschema import Draft202012Validator
from lightsplit_testing import Entry, write_pngs, write_split

from lightsplit import load_split, split_json_schema, split_sha256
from lightsplit._cli import build_parser, main
from lightsplit._outputs import sidecar_path

Capture = pytest.CaptureFixture[str]

HEAVY: Final = (
    "torch",
    "lightning",
    "lightning_fabric",
    "pytorch_lightning",
    "sklearn",
    "scipy",
)
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


class NoTarget:
    def sample(self, raw: object) -> object:
        return LOADER.sample(raw)


class MednetStyle:  # one mapping per sample, as mednet 2.x loaders return

    def sample(self, raw: object) -> object:
        image, metadata = LOADER.sample(raw)
        return {{"image": image, **metadata}}

    def target(self, raw: object) -> object:
        return LOADER.target(raw)


MEDNET_STYLE = MednetStyle()
"""


def _run(capsys: Capture, *argv: str | Path) -> tuple[int, str, str]:
    """Run ``main`` in process; return its status, stdout and stderr."""
    status = main([str(arg) for arg in argv])
    out, err = capsys.readouterr()
    return status, out, err


def _split_halves(
    tmp_path: Path, capsys: Capture, entries: list[object], output: str = "s.json"
) -> tuple[Path, Path, tuple[int, str, str]]:
    """Write ``entries`` as ``samples.json``; split it in halves into ``output``.

    Returns the input, the output and what `_run` returns.
    """
    source = tmp_path / "samples.json"
    source.write_text(json.dumps(entries))
    written = tmp_path / output
    found = _run(capsys, "split", source, "--fractions", "0.5", "0.5", "-o", written)
    return source, written, found


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
        for command in ("schema", "check", "split", "card", "convert", "demo"):
            assert f"    {command} " in out

    def test_no_command(self, capsys: Capture) -> None:
        """A missing command is a usage error."""
        status, _, err = _run(capsys)
        assert status == 2
        assert "the following arguments are required: COMMAND" in err

    def test_unknown_command(self, capsys: Capture) -> None:
        """A command that does not exist is a usage error that lists them all."""
        status, _, err = _run(capsys, "chek", "split.json")
        assert status == 2
        assert "invalid choice: 'chek' (choose from 'schema', 'check', 'split'" in err

    @pytest.mark.parametrize("command", ["check", "card", "split", "provenance"])
    def test_one_command_parsed_alone(self, command: str) -> None:
        """A command line is parsed as the parser of every command parses it, by
        a parser of its command alone."""
        argv = [command, "a.json", "--group-pattern", "p(\\d+)/", "--json"]
        if command == "split":
            argv[-1:] = ["--folds", "5", "-o", "folds"]
        if command == "provenance":
            argv = [command, "a.json"]
        parsed = [vars(build_parser(name).parse_args(argv)) for name in (command, None)]
        for args in parsed:
            args["command"] = args["command"].name  # the function it runs
            del args["parser"]
        assert parsed[0] == parsed[1]
        assert parsed[0]["command"] == f"{command}_command"
        with pytest.raises(SystemExit):  # the other commands are not there
            build_parser(command).parse_args(["schema"])

    def test_version(self, capsys: Capture) -> None:
        """``--version`` prints the installed version."""
        status, out, _ = _run(capsys, "--version")
        assert (status, out) == (0, "lightsplit 0.1.0\n")

    @pytest.mark.parametrize(
        "command", ["schema", "check", "split", "card", "convert", "demo"]
    )
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

    @pytest.mark.parametrize("command", ["schema", "card", "convert"])
    def test_empty_output(
        self, split_file: Path, capsys: Capture, command: str
    ) -> None:
        """``-o ''`` names no file: a usage error, as `split` says it."""
        given = [] if command == "schema" else [split_file]
        status, out, err = _run(capsys, command, *given, "-o", "")
        assert (status, out) == (2, "")
        assert "-o/--output: an empty path names no file; give the file" in err

    def test_empty_root(self, split_file: Path, capsys: Capture) -> None:
        """``--root ''`` names no folder (it would read as the current one)."""
        status, out, err = _run(capsys, "check", split_file, "--root", "")
        assert (status, out) == (2, "")
        assert "argument --root: an empty path names no folder; give the" in err

    def test_null_entries_checked(self, split_file: Path, capsys: Capture) -> None:
        """``--sample-type None`` is a usage error of ``check`` and ``schema``
        alike (no entry is null), as `load_split` refuses it."""
        for argv in (["check", split_file], ["schema"]):
            status, out, err = _run(capsys, *argv, "--sample-type", "None")
            assert (status, out) == (2, "")
            assert (
                "error: argument --sample-type: `None` would require every entry to "
                "be null; give the type of one entry"
            ) in err

    def test_output_not_writable(self, tmp_path: Path, capsys: Capture) -> None:
        """A file that cannot be written is an error naming it."""
        path = tmp_path / "missing" / "schema.json"
        status, _, err = _run(capsys, "schema", "-o", path)
        assert status == 1
        assert err == (
            f"lightsplit schema: error: cannot write {path}: "
            "No such file or directory\n"
        )


def test_internal_error(monkeypatch: pytest.MonkeyPatch, capsys: Capture) -> None:
    """A bug of lightsplit exits with status 3, not 1 (a problem found in the
    files), with its traceback and a word on what it is."""

    def broken(sample_type: object = None) -> dict[str, object]:
        msg = "a bug"
        raise RuntimeError(msg)

    monkeypatch.setattr("lightsplit._schema.split_json_schema", broken)
    status, out, err = _run(capsys, "schema")
    assert (status, out) == (3, "")
    assert "Traceback (most recent call last):" in err
    assert "RuntimeError: a bug\n" in err
    assert err.endswith(
        "lightsplit: internal error: the traceback above is a bug of lightsplit, "
        "not a problem of the files given; please report it, with the command\n"
    )


class TestCheck:
    def test_clean_split(self, split_file: Path, capsys: Capture) -> None:
        """A clean split exits 0 with a table of entries and class counts."""
        status, out, err = _run(capsys, "check", split_file)
        assert (status, err) == (0, "")
        assert out == (
            f"{split_file}: 4 sets, 24 entries\n"
            f"  sha256 {split_sha256(load_split(split_file))}\n"
            "  set            entries  label 0  label 1\n"
            "  train               12        6        6\n"
            "  validation           4        2        2\n"
            "  test                 4        2        2\n"
            "  monitor-extra        4        2        2\n"
            "  no duplicate, leak or label conflict\n"
            f"{split_file}: ok\n"
        )

    def test_unlabelled_entries(self, tmp_path: Path, capsys: Capture) -> None:
        """Entries without a label are counted apart, and warned about."""
        sets: dict[str, list[object]] = {
            "train": [["a", "m"], ["b", 0], ["d", None]],
            "validation": [["w"], "v"],
            "test": [["c", 1]],
        }
        path = write_split(tmp_path / "s.json", sets)
        status, out, _ = _run(capsys, "check", path)
        assert status == 0
        assert out.splitlines()[2:6] == [
            "  set         entries  label 0  label 1  label m  no label",
            "  train             3        1        0        1         1",
            "  validation        2        -        -        -         2",
            "  test              1        0        1        0         0",
        ]
        assert _lines_with(out, "  warning: 3")[0] == (
            "  warning: 3 of 6 entries have no label while the others have one: "
            'train.2 ["d", null], validation.0 ["w"], validation.1 "v"; give each '
            "its label, or remove it (a loader that reads the label fails on it)"
        )

    def test_pattern_of_alternatives_is_explained(
        self, tmp_path: Path, capsys: Capture
    ) -> None:
        """A pattern whose second alternative has its own group leaves the paths
        it matches ungrouped (the first group is the patient): the warning says
        so, and how to write it, where it said only "fix the pattern"."""
        sets = {
            "train": [["MCUCXR_0001_0.png", 0], ["CHNCXR_0002_1.png", 1]],
            "test": [["CHNCXR_0002_0.png", 0]],  # patient 0002 again
        }
        path = write_split(tmp_path / "s.json", sets)
        pattern = r"MCUCXR_(\d+)|CHNCXR_(\d+)"
        status, out, _ = _run(capsys, "check", path, "--group-pattern", pattern)
        assert status == 0
        assert (
            out.count(
                "the pattern matches such paths, but not through its group (the group "
                "named `group`, else the first): write one group around the "
                r"alternatives, as in `(?:MCUCXR_|CHNCXR_)(\d+)`"
            )
            == 1
        )
        fixed = r"(?:MCUCXR_|CHNCXR_)(\d+)"
        status, out, _ = _run(capsys, "check", path, "--group-pattern", fixed)
        assert status == 1  # the patients found, and one leaks
        assert "group leak" in out

    def test_pattern_starting_with_a_dash(
        self, tmp_path: Path, capsys: Capture
    ) -> None:
        """`--group-pattern '-(\\d+)/'` is the pattern, not an option without a
        value (argparse refused it as "expected one argument"); an option after
        `--group-pattern` is still refused as its value."""
        sets = {"train": [["a-1/x.png", 0]], "test": [["a-1/y.png", 1]]}
        path = write_split(tmp_path / "s.json", sets)
        status, out, _ = _run(capsys, "check", path, "--group-pattern", r"-(\d+)/")
        assert status == 1
        assert "group leak: 1 group is in both `train` and `test`: 1" in out
        status, _, err = _run(capsys, "check", path, "--group-pattern", "--json")
        assert status == 2
        assert "--group-pattern: expected one argument" in err

    def test_class_counts_as_cards_give_them(
        self, tmp_path: Path, capsys: Capture
    ) -> None:
        """`check --json` gives every class of the split in every set, 0 where a
        set has none, as `card --json` does: it left such classes out, and the two
        outputs differed for one file."""
        sets = {"train": [["a.png", 0], ["b.png", 1]], "test": [["c.png", 0]]}
        path = write_split(tmp_path / "s.json", sets)
        _, out, _ = _run(capsys, "check", path, "--json")
        checked = json.loads(out)["files"][0]["sets"]
        _, out, _ = _run(capsys, "card", path, "--json")
        carded = json.loads(out)["sets"]
        assert checked["test"]["class_counts"] == {"0": 1, "1": 0}
        for name in sets:
            assert checked[name]["class_counts"] == carded[name]["class_counts"]

    def test_many_classes(self, tmp_path: Path, capsys: Capture) -> None:
        """With more than ten labels the table shows class sizes instead; a class
        absent from a set is its smallest."""
        train = [[f"{i}.png", i % 12] for i in range(30)]
        test = [[f"t{i}.png", i] for i in range(3)]
        sets = {"train": train, "test": test, "validation": []}
        path = write_split(tmp_path / "s.json", sets)
        status, out, _ = _run(capsys, "check", path)
        assert status == 0
        assert out.splitlines()[2:6] == [
            "  set         entries  classes  smallest  largest",
            "  train            30       12         2        3",
            "  test              3        3         0        1",
            "  validation        0        0         0        0",
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
            "  leak: 2 paths are in both `train` and `test`: "
            "img_00001.png (train.1, test.2), img_00004.png (train.4, test.3)\n"
        ) in out
        assert out.endswith(f"{path}: 2 problems\n")

    def test_leak_examples_are_capped(self, tmp_path: Path, capsys: Capture) -> None:
        """A large leak shows five examples and how many more there are."""
        shared = [[f"{i}.png", 0] for i in range(8)]
        path = write_split(tmp_path / "s.json", {"validation": shared, "test": shared})
        _, out, _ = _run(capsys, "check", path)
        assert "(validation.4, test.4) and 3 more (--json lists all)\n" in out

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
        message = document["files"][0]["failures"][0]["message"]
        assert document == {
            "ok": False,
            "files": [
                {
                    "file": str(path),
                    "ok": False,
                    "error": None,
                    "sha256": split_sha256(load_split(path)),
                    "group_pattern": None,
                    "group_field": None,
                    "label_separator": None,
                    "fields_from": None,
                    "sidecar_fields": [],
                    "sidecar_columns": {},
                    "sets": {
                        "train": {
                            "entries": 4,
                            "groups": None,
                            "class_counts": {"0": 2, "1": 2},
                            "unlabelled": 0,
                            "classless": 0,
                        },
                        "test": {
                            "entries": 2,
                            "groups": None,
                            "class_counts": {"0": 1, "1": 1},
                            "unlabelled": 0,
                            "classless": 0,
                        },
                    },
                    "duplicates": [
                        {
                            "set": "train",
                            "index": 3,
                            "first": 1,
                            "entry": ["img_00001.png", 1],
                            "path": "img_00001.png",
                        }
                    ],
                    "leaks": [
                        {
                            "path": "img_00002.png",
                            "sets": ["train", "test"],
                            "entries": [
                                {
                                    "set": "train",
                                    "index": 2,
                                    "entry": ["img_00002.png", 0],
                                },
                                {
                                    "set": "test",
                                    "index": 0,
                                    "entry": ["img_00002.png", 0],
                                },
                            ],
                        }
                    ],
                    "conflicts": [],
                    "group_leaks": [],
                    "unchecked": [],
                    "warnings": [],
                    "failures": [
                        {
                            "set": "train",
                            "index": 0,
                            "entry": ["img_00000.png", 0],
                            "message": message,
                            "reason": "FileNotFoundError: No such file or directory "
                            f"under {png_root}",
                        }
                    ],
                    "loaded": 6,
                }
            ],
            "families": [],
            "skipped": [],
        }
        assert message.startswith("FileNotFoundError: ")

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

    @pytest.mark.parametrize(
        ("key", "said"),
        [
            pytest.param("image", "  loaded 24 samples: no failure\n", id="key"),
            pytest.param(
                None,
                "returned a mapping (keys `image`, `name`, `label`), not a "
                "`Sample`; give `--input-key KEY`, the key of the input tensor "
                "(`image` for mednet's loaders): ",
                id="no-key",
            ),
            pytest.param(
                "video",
                "returned no `video` key (keys `image`, `name`, `label`); give "
                "`--input-key` the key of the input tensor: ",
                id="other-key",
            ),
        ],
    )
    def test_loader_of_mappings(
        self,
        *,
        split_file: Path,
        loaders: str,
        capsys: Capture,
        key: str | None,
        said: str,
    ) -> None:
        """A loader returning mappings (mednet 2.x's) is read with `--input-key`;
        without it, or with a key it lacks, the failures say the option to give
        (they said to wrap it in `MappingLoader`, which a command cannot)."""
        extra = [] if key is None else ["--input-key", key]
        status, out, _ = _run(
            capsys, "check", split_file, "--loader", f"{loaders}:MEDNET_STYLE", *extra
        )
        assert said in out
        assert status == (0 if key == "image" else 1)

    def test_input_key_needs_a_loader(self, split_file: Path, capsys: Capture) -> None:
        """`--input-key` without `--loader` is a usage error."""
        status, _, err = _run(capsys, "check", split_file, "--input-key", "image")
        assert status == 2
        assert "`--input-key` needs `--loader`" in err

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
            pytest.param(
                "cli_loaders:NoTarget",
                False,
                "`--loader` `cli_loaders:NoTarget`: the loader (`NoTarget`) has no "
                "callable `target`; give an object with `sample(raw) -> Sample` and "
                "`target(raw) -> int | Tensor` methods",
                id="no-target",
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


def _lines_with(out: str, start: str) -> list[str]:
    """Return the lines of ``out`` that start with ``start``."""
    return [line for line in out.splitlines() if line.startswith(start)]


class TestCheckLeaks:
    def test_spellings_of_one_path(self, tmp_path: Path, capsys: Capture) -> None:
        """``./a.png``, ``a.png`` and ``b/../a.png`` are one file: a leak, exit 1."""
        sets = {
            "train": [["./a.png", 0], ["c.png", 1]],
            "validation": [["b/../a.png", 0]],
            "test": [["a.png", 0]],
        }
        path = write_split(tmp_path / "s.json", sets)
        status, out, _ = _run(capsys, "check", path)
        assert status == 1
        assert _lines_with(out, "  leak: ") == [
            "  leak: 1 path is in `train`, `validation` and `test`: a.png "
            '(train.0 as "./a.png", validation.0 as "b/../a.png", test.0)'
        ]

    def test_label_conflict(self, tmp_path: Path, capsys: Capture) -> None:
        """One path with two labels is a conflict, besides the leak it is."""
        sets = {"train": [["a.png", 0], ["b.png", 1]], "test": [["./a.png", 1]]}
        path = write_split(tmp_path / "s.json", sets)
        status, out, _ = _run(capsys, "check", path)
        assert status == 1
        assert _lines_with(out, "  conflict: ") == [
            "  conflict: a.png has 2 labels: 0 (train.0), 1 (test.0); keep the "
            "right label"
        ]
        assert out.endswith(f"{path}: 2 problems\n")

    def test_conflict_within_a_set(self, tmp_path: Path, capsys: Capture) -> None:
        """Two labels for one path of one set: a duplicate and a conflict."""
        path = write_split(tmp_path / "s.json", {"train": [["a", 0], ["a", 1]]})
        status, out, _ = _run(capsys, "check", path)
        assert status == 1
        assert (
            '  duplicate: train.1 repeats the file of train.0 ["a", 0]: ["a", 1]\n'
            in out
        )
        assert "  conflict: a has 2 labels: 0 (train.0), 1 (train.1); " in out

    def test_group_leak(self, tmp_path: Path, capsys: Capture) -> None:
        """A patient in two sets is a group leak listing its entries."""
        sets = {
            "train": [["images/00000001_000.png", 0], ["images/00000002_000.png", 1]],
            "test": [["images/00000001_001.png", 1], ["images/00000003_000.png", 0]],
        }
        path = write_split(tmp_path / "s.json", sets)
        status, out, _ = _run(
            capsys, "check", path, "--group-pattern", r"images/(\d{8})_"
        )
        assert status == 1
        assert out.splitlines()[2:5] == [
            "  set    entries  groups  label 0  label 1",
            "  train        2       2        1        1",
            "  test         2       2        1        1",
        ]
        assert _lines_with(out, "  group leak: ") == [
            "  group leak: 1 group is in both `train` and `test`: 00000001 "
            "(train.0, test.0)"
        ]

    def test_control_characters_escaped(self, tmp_path: Path, capsys: Capture) -> None:
        """A path holding a line end stays on its line: it cannot forge an `ok`."""
        forged = "a\nforged.json: ok\nb.png"
        sets = {"train": [[forged, 0]], "test": [[forged, 1]]}
        path = write_split(tmp_path / "s.json", sets)
        status, out, _ = _run(capsys, "check", path)
        assert status == 1
        assert "forged.json: ok" not in out.splitlines()
        assert (
            "  leak: 1 path is in both `train` and `test`: a\\nforged.json: ok\\nb.png "
            in out
        )
        assert "  conflict: a\\nforged.json: ok\\nb.png has 2 labels" in out

    def test_accents_composed_otherwise_shown(
        self, tmp_path: Path, capsys: Capture
    ) -> None:
        """A path whose accent is written as a second character is the same
        file; the line shows that spelling with escapes, which would otherwise
        print as the path itself."""
        sets = {"train": [["cafe\u0301.png", 0]], "test": [["caf\u00e9.png", 0]]}
        path = write_split(tmp_path / "s.json", sets)
        status, out, _ = _run(capsys, "check", path)
        assert status == 1
        assert _lines_with(out, "  leak: ") == [
            "  leak: 1 path is in both `train` and `test`: caf\u00e9.png (train.0 as "
            '"cafe\\u0301.png", test.0)'
        ]

    def test_group_leak_shows_each_set(self, tmp_path: Path, capsys: Capture) -> None:
        """A patient with many images in one set and one in another: the line
        shows an entry of each set, not only the first five of the first."""
        sets = {
            "validation": [[f"p1/{i}.png", 0] for i in range(9)],
            "test": [["p2/0.png", 0], ["p1/9.png", 0]],
        }
        path = write_split(tmp_path / "s.json", sets)
        status, out, _ = _run(capsys, "check", path, "--group-pattern", r"(p\d)/")
        assert status == 1
        assert _lines_with(out, "  group leak: ") == [
            "  group leak: 1 group is in both `validation` and `test`: p1 "
            "(validation.0, validation.1, validation.2, validation.3, test.1 and 5 "
            "more)"
        ]

    def test_group_field(self, tmp_path: Path, capsys: Capture) -> None:
        """``--group-field`` reads each entry's patient from a field (a key
        here, whose file names carry no patient): the leaking patient is named
        with its entries, in the text and in ``--json``; an entry without one is
        warned about."""
        sets = {
            "train": [
                {"image": "a1f3.png", "label": 0, "PatientID": 17},
                {"image": "9c0d.png", "label": 1, "PatientID": 18},
            ],
            "validation": [{"image": "77e2.png", "label": 1, "PatientID": 19}],
            "test": [
                {"image": "b4b4.png", "label": 1, "PatientID": "17"},
                {"image": "0e1a.png", "label": 0, "PatientID": None},
            ],
        }
        path = write_split(tmp_path / "s.json", sets)
        assert _run(capsys, "check", path)[0] == 0  # by file alone: no leak
        status, out, _ = _run(capsys, "check", path, "--group-field", "PatientID")
        assert status == 1
        assert out.splitlines()[2:] == [
            "  set         entries  groups  label 0  label 1",
            "  train             2       2        1        1",
            "  validation        1       1        0        1",
            "  test              2       1        1        1",
            "  group leak: 1 group is in both `train` and `test`: 17 (train.0, test.0)",
            "  warning: the group field `PatientID` holds no group in 1 entry of "
            '`train`, `validation` and `test`: test.1 {"image": "0e1a.png", '
            '"label": 0, "PatientID": null}; they are left out of the group check: '
            "give each its group (a patient), or remove them",
            f"{path}: 1 problem",
        ]
        status, out, _ = _run(
            capsys, "check", path, "--group-field", "PatientID", "--json"
        )
        [report] = json.loads(out)["files"]
        assert (report["group_field"], report["group_pattern"]) == ("PatientID", None)
        assert report["group_leaks"] == [
            {
                "group": "17",
                "sets": ["train", "test"],
                "entries": [
                    {"set": "train", "index": 0, "entry": sets["train"][0]},
                    {"set": "test", "index": 0, "entry": sets["test"][0]},
                ],
            }
        ]

    def test_group_field_held_nowhere(self, tmp_path: Path, capsys: Capture) -> None:
        """A group field that no entry holds is a problem: no group was checked."""
        sets = {"train": [["p1/a.png", 0]], "test": [["p1/b.png", 1]]}
        path = write_split(tmp_path / "s.json", sets)
        status, out, _ = _run(capsys, "check", path, "--group-field", "2")
        assert status == 1
        assert (
            "  problem: the group field `2` holds a group in no entry of `train`, "
            "`validation` and `test`, so no group leak could be checked; name the "
            "field that holds each entry's group (a position 0, 1, ... or a key); "
            'the entries are arrays of 2 items (such as ["p1/a.png", 0]); give a '
            "position from 0 to 1\n"
        ) in out

    def test_group_number_spellings_warned(
        self, tmp_path: Path, capsys: Capture
    ) -> None:
        """A patient written `17` in `train` and `0017`, `17.0` in `test` is no
        group leak, as values are compared as text: warned (exit 0), naming the
        values and their entries, and how to write them; `--json` gives it as
        `group_number_spellings`. A `monitor-<name>` set, left out of the group
        check, is left out of the warning too."""
        sets = {
            "train": [["a.png", 0, 17], ["b.png", 1, 18], ["c.png", 0, "17"]],
            "test": [["d.png", 1, "0017"], ["e.png", 0, 17.0], ["f.png", 1, 19]],
            "monitor-train": [["b.png", 1, "018"], ["g.png", 0, "NaN"]],
        }
        path = write_split(tmp_path / "s.json", sets)
        status, out, _ = _run(capsys, "check", path, "--group-field", "2")
        assert status == 0, out
        assert _lines_with(out, "  warning: ") == [
            "  warning: the group field `2` holds one number written several ways: "
            "`17` (train.0, train.2), `0017` (test.0) and `17.0` (test.1) are 17; "
            "group values are compared as text, so each spelling is a group (a "
            "patient) of its own, and one patient written two ways in two sets is "
            "no group leak; if they are one patient, write the number one way in "
            "every entry (such as `17`, not `0017` or `17.0`)"
        ]
        assert out.endswith(f"{path}: ok, 1 warning\n")
        status, out, _ = _run(capsys, "check", path, "--group-field", "2", "--json")
        [warning] = json.loads(out)["files"][0]["warnings"]
        assert (warning["kind"], warning["count"]) == ("group_number_spellings", 4)
        assert [(e["set"], e["index"]) for e in warning["examples"]] == [
            ("train", 0),
            ("test", 0),
            ("test", 1),
        ]
        status, out, _ = _run(capsys, "check", path, "--group-field", "2", "--strict")
        assert status == 1

    def test_group_missing_values_warned(self, tmp_path: Path, capsys: Capture) -> None:
        """`NaN` and `null` as text are each one patient of all their entries
        (here in both sets, a group leak): warned, naming the values; a `null`
        of JSON holds no group, and is warned of as such."""
        sets = {
            "train": [["a.png", 0, "NaN"], ["b.png", 1, "P1"], ["c.png", 0, "null"]],
            "test": [["d.png", 1, "NaN"], ["e.png", 0, "P2"], ["f.png", 1, None]],
        }
        path = write_split(tmp_path / "s.json", sets)
        status, out, _ = _run(capsys, "check", path, "--group-field", "2")
        assert status == 1
        assert "group leak: 1 group is in both `train` and `test`: NaN (" in out
        assert (
            "  warning: the group field `2` holds `NaN` in 2 entries (train.0, "
            "test.0) and `null` in 1 entry (train.2), which read as missing values, "
            "not as patients, yet each is one group (one patient) of all the entries "
            "holding it; the entries of such a group are checked as one patient's; "
            "give each entry its patient, or leave the field empty (or null) where "
            "it has none (no group, left out of the group check)\n"
        ) in out
        assert "holds no group in 1 entry" in out
        status, out, _ = _run(capsys, "check", path, "--group-field", "2", "--json")
        kinds = [w["kind"] for w in json.loads(out)["files"][0]["warnings"]]
        assert "group_missing_value" in kinds

    def test_group_field_of_files_warned(self, tmp_path: Path, capsys: Capture) -> None:
        """A group field holding the entries' files (the image column given for
        the patient's) makes each image a patient: warned, with its count and
        first entries; a patient column that names a file here and there is not."""
        sets = {
            "train": [[f"{i}.png", f"{i}.png", i % 2] for i in range(4)],
            "test": [["x.png", "x.png", 1], ["y.png", "P9", 0]],
        }
        path = write_split(tmp_path / "s.json", sets)
        status, out, _ = _run(capsys, "check", path, "--group-field", "1")
        assert status == 0, out
        assert (
            "  warning: the group field `1` holds file names, not patients, in 5 of "
            "the 6 entries that hold a group (such as `0.png`, train.0): each image "
            "is a group (a patient) of its own; a group leak is then a file in two "
            "sets, which the leak check finds already; name the field that holds "
            "each entry's patient, or leave the group field out\n"
        ) in out
        status, out, _ = _run(capsys, "check", path, "--group-field", "1", "--json")
        [warning] = [
            w
            for w in json.loads(out)["files"][0]["warnings"]
            if w["kind"] == "group_field_files"
        ]
        assert warning["count"] == 5
        assert [(e["set"], e["index"]) for e in warning["examples"]][:2] == [
            ("train", 0),
            ("train", 1),
        ]
        sets = {"train": [["a.png", "P1", 0], ["b.png", "c.png", 1]], "test": []}
        path = write_split(tmp_path / "s.json", sets)
        status, out, _ = _run(capsys, "check", path, "--group-field", "1")
        assert "file names" not in out

    def test_named_group(self, tmp_path: Path, capsys: Capture) -> None:
        """The named group ``group`` is the group, whatever other groups there are."""
        sets = {"train": [["p1/x/a.png", 0]], "test": [["p1/y/a.png", 0]]}
        path = write_split(tmp_path / "s.json", sets)
        pattern = r"(?P<site>p\d)/(?P<group>\w)/"
        status, _, _ = _run(capsys, "check", path, "--group-pattern", pattern)
        assert status == 0
        status, out, _ = _run(capsys, "check", path, "--group-pattern", r"(p\d)/")
        assert status == 1
        assert "group leak: 1 group is in both `train` and `test`: p1 " in out

    def test_monitor_sets_may_repeat(self, tmp_path: Path, capsys: Capture) -> None:
        """Paths and groups of a monitor set shared with train are no leak."""
        sets = {
            "train": [["p1/a.png", 0], ["p2/b.png", 1]],
            "test": [["p3/c.png", 0]],
            "monitor-train": [["./p1/a.png", 0], ["p2/d.png", 1]],
        }
        path = write_split(tmp_path / "s.json", sets)
        status, out, _ = _run(capsys, "check", path, "--group-pattern", r"(p\d)/")
        assert status == 0
        assert out.endswith(f"{path}: ok\n")

    def test_monitor_sets_may_not_conflict(
        self, tmp_path: Path, capsys: Capture
    ) -> None:
        """A monitor set giving a train path another label is a conflict."""
        sets = {"train": [["a.png", 0]], "monitor-train": [["a.png", 1]]}
        path = write_split(tmp_path / "s.json", sets)
        status, out, _ = _run(capsys, "check", path)
        assert status == 1
        assert "conflict: a.png has 2 labels: 0 (train.0), 1 (monitor-train.0)" in out

    def test_path_field(self, tmp_path: Path, capsys: Capture) -> None:
        """``--path-field`` and ``--label-field`` name the fields of object entries."""
        sets = {
            "train": [{"mask": "m/a.png", "image": "i/a.png", "y": 0}],
            "test": [{"mask": "m/b.png", "image": "./i/a.png", "y": 1}],
        }
        path = write_split(tmp_path / "s.json", sets)
        status, out, _ = _run(capsys, "check", path)
        assert status == 0  # the first string, the mask, differs
        status, out, _ = _run(
            capsys, "check", path, "--path-field", "image", "--label-field", "y"
        )
        assert status == 1
        assert "conflict: i/a.png has 2 labels: 0 (train.0), 1 (test.0)" in out

    def test_json_lists_every_problem(self, tmp_path: Path, capsys: Capture) -> None:
        """``--json`` carries conflicts and group leaks with their entries."""
        sets = {"train": [["p1/a.png", 0]], "test": [["p1/a.png", 1], ["p1/b", 0]]}
        path = write_split(tmp_path / "s.json", sets)
        status, out, _ = _run(
            capsys, "check", path, "--group-pattern", r"(p\d)/", "--json"
        )
        assert status == 1
        [report] = json.loads(out)["files"]
        assert report["conflicts"] == [
            {
                "path": "p1/a.png",
                "labels": [
                    {
                        "label": 0,
                        "entries": [
                            {"set": "train", "index": 0, "entry": ["p1/a.png", 0]}
                        ],
                    },
                    {
                        "label": 1,
                        "entries": [
                            {"set": "test", "index": 0, "entry": ["p1/a.png", 1]}
                        ],
                    },
                ],
            }
        ]
        assert report["group_leaks"] == [
            {
                "group": "p1",
                "sets": ["train", "test"],
                "entries": [
                    {"set": "train", "index": 0, "entry": ["p1/a.png", 0]},
                    {"set": "test", "index": 0, "entry": ["p1/a.png", 1]},
                    {"set": "test", "index": 1, "entry": ["p1/b", 0]},
                ],
            }
        ]
        assert report["sets"]["test"]["groups"] == 1

    @pytest.mark.parametrize(
        ("pattern", "message"),
        [
            pytest.param("(", "missing ), unterminated subpattern", id="syntax"),
            pytest.param("[a-", "unterminated character set", id="set"),
        ],
    )
    def test_bad_group_pattern(
        self, split_file: Path, capsys: Capture, pattern: str, message: str
    ) -> None:
        """A group pattern that is no regular expression is a usage error."""
        status, _, err = _run(capsys, "check", split_file, "--group-pattern", pattern)
        assert status == 2
        assert f"argument --group-pattern: group pattern `{pattern}` is not a " in err
        assert message in err

    @pytest.mark.parametrize(
        ("options", "message"),
        [
            pytest.param(
                ["--label-field", "lable"],
                "problem: the label field `lable` holds a label in no entry, so no "
                "label could be compared; the entries are objects with the keys "
                "`image`, `label`; name one of them",
                id="label-key",
            ),
            pytest.param(
                ["--path-field", "imag"],
                "problem: the path field `imag` holds a path (a string) in no entry",
                id="path-key",
            ),
            pytest.param(
                ["--group-pattern", r"patient(\d+)"],
                "problem: the group pattern `patient(\\d+)` finds no group in any "
                "path of `train`, `validation` and `test` (such as p1/a.png), so "
                "no group leak could be checked; fix the pattern",
                id="pattern",
            ),
        ],
    )
    def test_options_the_file_cannot_answer(
        self, tmp_path: Path, capsys: Capture, options: list[str], message: str
    ) -> None:
        """A misspelt field or a pattern matching nothing fails: a check is undone."""
        sets = {
            "train": [{"image": "p1/a.png", "label": 0}],
            "test": [{"image": "p2/b.png", "label": 1}],
        }
        path = write_split(tmp_path / "s.json", sets)
        status, out, _ = _run(capsys, "check", path, *options)
        assert status == 1
        assert message in out
        assert "no duplicate" not in out  # nothing claims the check was made
        assert "warning" not in out  # the problem says it all, once
        assert out.endswith("s.json: 1 problem\n")
        status, out, _ = _run(capsys, "check", path, *options, "--json")
        [report] = json.loads(out)["files"]
        assert (status, report["ok"], len(report["unchecked"])) == (1, False, 1)
        assert report["warnings"] == []

    def test_positions_holding_no_path(self, tmp_path: Path, capsys: Capture) -> None:
        """A path position past the entries, or holding numbers, says what they are."""
        path = write_split(tmp_path / "s.json", {"train": [["a.png", 0]]})
        for position in ("1", "5"):
            status, out, _ = _run(capsys, "check", path, "--path-field", position)
            assert status == 1
            assert (
                f"the path field `{position}` holds a path (a string) in no entry, "
                "so no path could be compared; the entries are arrays of 2 items "
                '(such as ["a.png", 0]); give a position from 0 to 1'
            ) in out

    def test_card_says_what_it_could_not_check(
        self, tmp_path: Path, capsys: Capture
    ) -> None:
        """The card lists a check undone among its problems, and in its JSON."""
        path = write_split(tmp_path / "s.json", {"train": [["p1/a.png", 0]]})
        status, out, _ = _run(capsys, "card", path, "--group-pattern", "zzz")
        assert status == 0  # the card is written
        assert "- the group pattern `zzz` finds no group in any path" in out
        status, out, _ = _run(capsys, "card", path, "--group-pattern", "zzz", "--json")
        assert json.loads(out)["unchecked"][0].startswith("the group pattern `zzz`")


class TestCheckWarnings:
    def test_empty_set(self, tmp_path: Path, capsys: Capture) -> None:
        """An empty set is a warning (exit 0), with the data module's rule."""
        path = write_split(tmp_path / "s.json", {"train": [["a", 0]], "test": []})
        status, out, _ = _run(capsys, "check", path)
        assert status == 0
        assert _lines_with(out, "  warning: ") == [
            "  warning: set `test` is empty; give it entries or remove it (a data "
            "module refuses an empty set)"
        ]
        assert out.endswith(f"{path}: ok, 1 warning\n")

    def test_array_path_names_no_file(self, tmp_path: Path, capsys: Capture) -> None:
        """Array entries whose first string is a class, their file after it: the
        leaks found on the classes come with a warning naming the fix."""
        sets = {
            "train": [["tb", "img/a.png"], ["tb", "img/b.png"]],
            "test": [["tb", "img/c.png"]],
        }
        path = write_split(tmp_path / "s.json", sets)
        status, out, _ = _run(capsys, "check", path)
        assert status == 1
        assert _lines_with(out, "  warning: ") == [
            "  warning: the paths of array entries are their first string (such as "
            '["tb", "img/a.png"] at train.0), which names no file while item 1 '
            "does; name the path's position with `--path-field 1`"
        ]
        status, out, _ = _run(capsys, "check", path, "--path-field", "1")
        assert status == 0
        assert "entry_path_key" not in out
        plain = write_split(tmp_path / "p.json", {"train": [["img/a.png", 0, "x"]]})
        assert "warning" not in _run(capsys, "check", plain)[1]

    def test_no_set(self, tmp_path: Path, capsys: Capture) -> None:
        """A file with no set is a warning, so that ``--strict`` fails on it."""
        path = write_split(tmp_path / "s.json", {})
        status, out, _ = _run(capsys, "check", path)
        assert status == 0
        assert out.startswith(f"{path}: 0 sets, 0 entries\n")
        assert _lines_with(out, "  warning: ") == [
            "  warning: the split has no set; give it at least a `train` set (a data "
            "module refuses a split with no set)"
        ]
        assert _run(capsys, "check", path, "--strict")[0] == 1
        status, out, _ = _run(capsys, "check", path, "--json")
        [warning] = json.loads(out)["files"][0]["warnings"]
        assert (warning["kind"], warning["count"]) == ("split_empty", 0)

    def test_numbers_written_as_strings(self, tmp_path: Path, capsys: Capture) -> None:
        """Labels such as ``"0"`` are a warning naming them."""
        sets = {"train": [["a", "0"], ["b", "1"]], "test": [["c", " 1.5"]]}
        path = write_split(tmp_path / "s.json", sets)
        status, out, _ = _run(capsys, "check", path)
        assert status == 0
        assert _lines_with(out, "  warning: ") == [
            '  warning: 3 labels are numbers written as a string: train.0 "0", '
            'train.1 "1", test.0 " 1.5"; write numbers without quotes (0, not '
            '"0"): a loader\'s targets are numbers'
        ]

    def test_labels_not_integers(self, tmp_path: Path, capsys: Capture) -> None:
        """Labels that are not integers (or lists of them, or of class names) are a
        warning."""
        labels: list[object] = ["tb", 1.5, True, ["x", 1], [0, 1], 2, None, ["car"]]
        sets = {"train": [[f"{i}.png", label] for i, label in enumerate(labels)]}
        path = write_split(tmp_path / "s.json", sets)
        status, out, _ = _run(capsys, "check", path)
        assert status == 0
        assert _lines_with(out, "  warning: ") == [
            "  warning: 4 labels are not integers (or a list of integers or of class "
            'names): train.0 "tb", train.1 1.5, train.2 true, train.3 ["x", 1]; write '
            "integer labels, or give `--sample-type` to state that the entries are "
            "meant so",
            '  warning: 3 labels are lists, among single labels: train.3 ["3.png", '
            '["x", 1]], train.4 ["4.png", [0, 1]], train.7 ["7.png", ["car"]]; write '
            "every label one way: lists (of classes, or 0/1 vectors), or single "
            "labels; mixed, each list is read as a class of its own",
            "  warning: 1 of 8 entries has no label while the others have one: "
            'train.6 ["6.png", null]; give each its label, or remove it (a loader '
            "that reads the label fails on it)",
        ]

    def test_sample_type_states_the_labels(
        self, tmp_path: Path, capsys: Capture
    ) -> None:
        """With ``--sample-type``, labels are as the type says: no warning."""
        path = write_split(tmp_path / "s.json", {"train": [["a", "0"], ["b", "x"]]})
        status, out, _ = _run(capsys, "check", path, "--sample-type", "tuple[str, str]")
        assert status == 0
        assert "warning" not in out

    def test_masks_are_no_labels(self, tmp_path: Path, capsys: Capture) -> None:
        """A second file (a mask: a file suffix) is no label: no warning, no classes."""
        sets = {"train": [["a.png", "a_mask.png"]], "test": [["b.png", "m/b.png"]]}
        path = write_split(tmp_path / "s.json", sets)
        status, out, _ = _run(capsys, "check", path)
        assert status == 0
        assert "warning" not in out
        assert out.splitlines()[2] == "  set    entries"

    def test_ungrouped_paths(self, tmp_path: Path, capsys: Capture) -> None:
        """Paths the group pattern does not match are a warning naming them."""
        sets = {"train": [["p1/a.png", 0], ["b.png", 1]], "test": [["p2/c.png", 0]]}
        path = write_split(tmp_path / "s.json", sets)
        status, out, _ = _run(capsys, "check", path, "--group-pattern", r"(p\d)/")
        assert status == 0
        assert _lines_with(out, "  warning: ") == [
            r"  warning: the group pattern `(p\d)/` finds no group in 1 path of "
            '`train`, `validation` and `test`: train.1 ["b.png", 1]; they are '
            "left out of the group check: fix the pattern"
        ]

    def test_entries_without_path(self, tmp_path: Path, capsys: Capture) -> None:
        """Entries without a path are compared whole, with a warning."""
        path = write_split(tmp_path / "s.json", {"train": [[1, 2]], "test": [[1, 2]]})
        status, out, _ = _run(capsys, "check", path)
        assert status == 1
        assert "  leak: 1 path is in both `train` and `test`: [1, 2] " in out
        assert (
            "  warning: 2 entries have no path (no string): train.0 [1, 2], test.0 "
            "[1, 2]; they are compared whole; name the path field if the entries "
            "have one\n"
        ) in out

    def test_entries_with_a_null_path(self, tmp_path: Path, capsys: Capture) -> None:
        """An entry whose path field holds `null` is said to, not to lack the
        field; one lacking it, or holding no string there, is said to."""
        sets = {
            "train": [["a.png", 0], [None, 1]],
            "test": [["c.png", 0], [1], [5, 1]],
        }
        path = write_split(tmp_path / "s.json", sets)
        status, out, _ = _run(capsys, "check", path, "--path-field", "0")
        assert status == 0, out
        assert _lines_with(out, "  warning: 3 entries have no path") == [
            "  warning: 3 entries have no path (field `0` holds `null`, or field `0` "
            "holds no string): train.1 [null, 1], test.1 [1], test.2 [5, 1]; they "
            "are compared whole; give each its file, or remove it"
        ]
        sets = {"train": [[None, 1], ["a.png", 0]], "test": [[]]}
        path = write_split(tmp_path / "s.json", sets)
        status, out, _ = _run(capsys, "check", path, "--path-field", "0")
        assert _lines_with(out, "  warning: 2 entries have no path") == [
            "  warning: 2 entries have no path (field `0` holds `null`, or no field "
            "`0`): train.0 [null, 1], test.0 []; they are compared whole; give each "
            "its file, or remove it"
        ]
        sets = {"train": [[None, 1]], "test": [["b.png", 0]]}
        path = write_split(tmp_path / "s.json", sets)
        status, out, _ = _run(capsys, "check", path, "--path-field", "0")
        assert _lines_with(out, "  warning: 1 entry has no path") == [
            "  warning: 1 entry has no path (field `0` holds `null`): train.0 "
            "[null, 1]; they are compared whole; give each its file, or remove it"
        ]

    def test_strict(self, tmp_path: Path, capsys: Capture) -> None:
        """``--strict`` counts warnings as problems."""
        path = write_split(tmp_path / "s.json", {"train": [["a", 0]], "test": []})
        status, out, _ = _run(capsys, "check", path, "--strict")
        assert status == 1
        assert out.endswith(f"{path}: 1 problem (warnings included)\n")

    def test_json_warnings(self, tmp_path: Path, capsys: Capture) -> None:
        """``--json`` carries each warning with its kind, count and examples."""
        path = write_split(tmp_path / "s.json", {"train": [["a", "0"]], "test": []})
        status, out, _ = _run(capsys, "check", path, "--json")
        assert status == 0
        [report] = json.loads(out)["files"]
        assert [(w["kind"], w["count"]) for w in report["warnings"]] == [
            ("set_empty", 1),
            ("label_numeric_string", 1),
        ]
        assert report["warnings"][1]["examples"] == [
            {"set": "train", "index": 0, "entry": ["a", "0"]}
        ]
        assert report["ok"] is True


class TestCheckFiles:
    def test_truncated_json(self, tmp_path: Path, capsys: Capture) -> None:
        """A file cut short names the line, column and text, and says so."""
        path = tmp_path / "cut.json"
        path.write_text(
            '{\n  "train": [\n    ["CXR_png/MCUCXR_0001_1.png", 1],\n    ["CXR'
        )
        status, out, _ = _run(capsys, "check", path)
        assert status == 1
        assert out == (
            f"{path}: line 4 column 6: invalid JSON: a string is never closed: "
            '`"CXR` runs to the end of the file; close it with `"`, or restore '
            "the end of the file if it was cut short\n"
            f"{path}: does not load\n"
        )

    def test_missing_comma(self, tmp_path: Path, capsys: Capture) -> None:
        """A missing comma is shown with the text either side of it."""
        path = tmp_path / "s.json"
        path.write_text('{"train": [["a.png", 0]\n ["b.png", 1]]}')
        status, out, _ = _run(capsys, "check", path)
        assert status == 1
        assert out.splitlines()[0] == (
            f"{path}: line 2 column 2: invalid JSON: expected `,` between "
            '`{"train": [["a.png", 0]` and `["b.png", 1]]}`; separate the items '
            "with `,`"
        )

    def test_sha256_in_json(self, split_file: Path, capsys: Capture) -> None:
        """``--json`` gives each file's content hash, as ``split_sha256``."""
        _, out, _ = _run(capsys, "check", split_file, "--json")
        [report] = json.loads(out)["files"]
        assert report["sha256"] == split_sha256(load_split(split_file))

    def test_hash_ignores_layout(self, tmp_path: Path, capsys: Capture) -> None:
        """The hash printed is the same for the same sets written differently."""
        sets = {"train": [["a", 0], ["b", 1]], "test": [["c", 0]]}
        compact = tmp_path / "a.json"
        compact.write_text(json.dumps(sets))
        spread = tmp_path / "b.json"
        spread.write_text(json.dumps({"test": sets["test"], **sets}, indent=4))
        hashes = [
            _lines_with(_run(capsys, "check", p)[1], "  sha256 ")
            for p in (compact, spread)
        ]
        assert hashes[0] == hashes[1]


class TestCheckLoading:
    @pytest.mark.parametrize("kind", ["missing", "file"])
    def test_root_checked_first(
        self, split_file: Path, tmp_path: Path, capsys: Capture, kind: str
    ) -> None:
        """A ``--root`` that is no folder is a usage error before any loading."""
        root = tmp_path / "nowhere"
        if kind == "file":
            root.write_text("")
        status, out, err = _run(capsys, "check", split_file, "--root", root)
        assert (status, out) == (2, "")
        what = "does not exist" if kind == "missing" else "is a file, not a folder"
        assert err.endswith(
            f"error: `--root` {root} {what}; give the folder that the entries' "
            "paths are relative to\n"
        )

    def test_failures_of_one_cause_grouped(
        self, tmp_path: Path, entries: list[Entry], png_root: Path, capsys: Capture
    ) -> None:
        """Many missing files make one line: their count, the cause, the first ones."""
        for name, _ in entries[:8]:
            (png_root / name).unlink()
        path = write_split(tmp_path / "s.json", {"train": entries[:10]})
        status, out, _ = _run(capsys, "check", path, "--root", png_root)
        assert status == 1
        assert _lines_with(out, "  failure") == [
            "  failure: 8 entries: FileNotFoundError: No such file or directory "
            f'under {png_root}: train.0 ["img_00000.png", 0], train.1 '
            '["img_00001.png", 1], train.2 ["img_00002.png", 0] and 5 more'
        ]
        assert out.endswith(f"{path}: 8 problems\n")

    def test_missing_pillow(
        self,
        split_file: Path,
        png_root: Path,
        monkeypatch: pytest.MonkeyPatch,
        capsys: Capture,
    ) -> None:
        """Without Pillow, ``--root`` names the extra to install, before loading."""
        monkeypatch.setitem(sys.modules, "PIL", None)
        status, out, err = _run(capsys, "check", split_file, "--root", png_root)
        assert (status, out) == (1, "")
        assert err == (
            "lightsplit check: error: `--root` loads images with Pillow, which is "
            'not installed; install Pillow: pip install "lightsplit[images]"\n'
        )

    def test_missing_module_of_a_loader(
        self,
        split_file: Path,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
        capsys: Capture,
    ) -> None:
        """A loader failing on a missing optional module: one line, with the extra."""
        (tmp_path / "pil_loader.py").write_text(
            "class Loader:\n"
            "    def sample(self, raw):\n"
            "        import PIL\n"
            "    def target(self, raw):\n"
            "        return 0\n"
        )
        monkeypatch.syspath_prepend(tmp_path)
        monkeypatch.delitem(sys.modules, "pil_loader", raising=False)
        monkeypatch.setitem(sys.modules, "PIL", None)
        status, out, _ = _run(
            capsys, "check", split_file, "--loader", "pil_loader:Loader"
        )
        assert status == 1
        [line] = _lines_with(out, "  failure")
        assert line.startswith(
            "  failure: 24 entries: ModuleNotFoundError: no module named `PIL`; "
            'install Pillow: pip install "lightsplit[images]": train.0 '
        )


def _samples(count: int = 60, patients: int = 20) -> list[list[object]]:
    """Entries ``["p<patient>/<i>.png", label]``, three labels, patients shared."""
    return [[f"p{i % patients:02d}/{i:03d}.png", i % 3] for i in range(count)]


@pytest.fixture
def samples_file(tmp_path: Path) -> Path:
    """A JSON array of 60 entries of 20 patients."""
    path = tmp_path / "samples.json"
    path.write_text(json.dumps(_samples()))
    return path


PATIENT: Final = r"p(\d+)/"
"""The group pattern of `_samples`."""


def _untrained_warning(
    tmp_path: Path, capsys: Capture, entries: list[object]
) -> tuple[Path, str]:
    """Split ``entries`` into 5 folds by patient ``p<n>/``; its one warning of
    classes that some `train` set has no entry of."""
    samples = tmp_path / "samples.json"
    samples.write_text(json.dumps(entries))
    argv: list[str | Path] = ["split", samples, "--folds", "5"]
    argv += ["--group-pattern", PATIENT, "-o", tmp_path / "f"]
    status, out, _ = _run(capsys, *argv)
    assert status == 0
    [warning] = [line for line in out.splitlines() if "no entry" in line]
    return samples, warning


class TestSplit:
    @pytest.mark.parametrize("command", ["split", "card", "schema"])
    def test_reader_gone(
        self, samples_file: Path, tmp_path: Path, command: str
    ) -> None:
        """With its reader gone (``| head``), a command does its work, quietly."""
        output = tmp_path / "split.json"
        commands: dict[str, list[str | Path]] = {
            "split": ["split", samples_file, "--folds", "3", "-o", tmp_path / "f"],
            "card": ["card", samples_file.with_name("made.json")],
            "schema": ["schema"],
        }
        argv = commands[command]
        made = ["split", samples_file, "--fractions", "0.5", "0.5", "-o", output]
        subprocess.run(
            [sys.executable, "-m", "lightsplit", *map(str, made)], check=True
        )
        output.rename(samples_file.with_name("made.json"))
        read, write = os.pipe()
        os.close(read)  # the reader is gone before the first line
        try:
            ran = subprocess.run(
                [sys.executable, "-m", "lightsplit", *map(str, argv)],
                stdout=write,
                stderr=subprocess.PIPE,
                text=True,
                check=False,
            )
        finally:
            os.close(write)
        assert (ran.returncode, ran.stderr) == (0, "")
        if command == "split":
            written = sorted(path.name for path in (tmp_path / "f").iterdir())
            assert written[::2] == ["fold-0.json", "fold-1.json", "fold-2.json"]

    def test_check_reads_sidecar_fields(
        self, samples_file: Path, tmp_path: Path, capsys: Capture
    ) -> None:
        """A split made with a group pattern is checked by patient without the
        option given again, as `card` describes it, saying where it came from; a
        patient moved by hand into another set is then a leak (it was `ok`)."""
        output = tmp_path / "s.json"
        argv: list[str | Path] = ["split", samples_file, "--fractions", "0.5", "0.5"]
        assert _run(capsys, *argv, "-o", output, "--group-pattern", PATIENT)[0] == 0
        document = json.loads(output.read_text())
        document["test"].append(document["train"][0])  # a patient in both sets
        document["train"] = document["train"][1:]
        output.write_text(json.dumps(document))
        status, out, _ = _run(capsys, "check", output)
        assert status == 1
        lines = out.splitlines()
        assert lines[2] == (
            f"  group pattern `{PATIENT}` from its sidecar {output}.lightsplit.json"
        )
        assert "group leak: 1 group is in both `train` and `test`" in out
        status, out, _ = _run(capsys, "check", output, "--json")
        found = json.loads(out)["files"][0]
        assert (found["group_pattern"], found["fields_from"]) == (
            PATIENT,
            f"{output}.lightsplit.json",
        )
        assert found["sidecar_fields"] == ["group_pattern"]

    def test_check_names_the_fields_its_sidecar_gave(
        self, tmp_path: Path, capsys: Capture
    ) -> None:
        """The line under the hash names the fields the sidecar gave apart from
        those given on the command line, which win over the sidecar's."""
        source = tmp_path / "rows.csv"
        rows = [f"{i}.png,P{i // 2},{i % 2}" for i in range(12)]
        source.write_text("\n".join(["Image,PatientID,Label", *rows]) + "\n")
        output = tmp_path / "s.json"
        argv: list[str | Path] = ["split", source, "--fractions", "0.5", "0.5"]
        assert _run(capsys, *argv, "-o", output, "--group-field", "PatientID")[0] == 0
        status, out, _ = _run(capsys, "check", output)
        assert (status, out.splitlines()[2]) == (
            0,
            "  group field `PatientID` (position 1), path field `Image` (position 0), "
            "label field `Label` (position 2) from its sidecar "
            f"{output}.lightsplit.json",
        )
        given = ("--group-field", "1", "--path-field", "0")
        status, out, _ = _run(capsys, "check", output, *given)
        assert (status, out.splitlines()[2]) == (
            0,
            f"  label field `Label` (position 2) from its sidecar "
            f"{output}.lightsplit.json; group field `1`, path field `0` as given",
        )
        status, out, _ = _run(capsys, "check", output, *given, "--json")
        found = json.loads(out)["files"][0]
        assert (found["fields_from"], found["sidecar_fields"]) == (
            f"{output}.lightsplit.json",
            ["label_field"],
        )

    def test_check_names_the_columns_its_sidecar_fields_were(
        self, tmp_path: Path, capsys: Capture
    ) -> None:
        """A field that `split` was given by its column is named by it, with its
        position in the entries: from the command, or from `--columns`."""
        source = tmp_path / "rows.csv"
        rows = [f"{i}.png,P{i // 2},{i % 2},{40 + i}" for i in range(12)]
        source.write_text("\n".join(["Image,PatientID,Label,Age", *rows]) + "\n")
        output = tmp_path / "s.json"
        argv: list[str | Path] = ["split", source, "--fractions", "0.5", "0.5"]
        argv += ["--columns", "Label", "Image", "PatientID", "-o", output]
        named = ("--group-field", "PatientID", "--path-field", "Image")
        assert _run(capsys, *argv, *named, "--label-field", "Label")[0] == 0
        named_line = (
            "  group field `PatientID` (position 2), path field `Image` (position 1), "
            "label field `Label` (position 0) from its sidecar "
            f"{output}.lightsplit.json"
        )
        status, out, _ = _run(capsys, "check", output)
        assert (status, out.splitlines()[2]) == (0, named_line)
        status, out, _ = _run(capsys, "check", output, "--json")
        assert json.loads(out)["files"][0]["sidecar_columns"] == {
            "group_field": "PatientID",
            "path_field": "Image",
            "label_field": "Label",
        }
        status, out, _ = _run(capsys, "check", output, "--json", "--group-field", "2")
        assert json.loads(out)["files"][0]["sidecar_columns"] == {
            "path_field": "Image",
            "label_field": "Label",
        }
        # the column's name, as check prints it, reads at the position it records
        status, out, _ = _run(capsys, "check", output, "--group-field", "PatientID")
        assert status == 0, out
        assert out.splitlines()[2].endswith(
            "; group field `PatientID` (position 2) as given"
        )
        status, out, _ = _run(
            capsys, "card", output, "--json", "--group-field", "PatientID"
        )
        assert (status, json.loads(out)["group_field"]) == (0, 2)
        by_position = ("--group-field", "1", "--path-field", "0", "--label-field", "2")
        assert _run(capsys, *argv, *by_position)[0] == 0  # the table's positions
        status, out, _ = _run(capsys, "check", output)
        assert (status, out.splitlines()[2]) == (0, named_line)
        argv = ["split", source, "--fractions", "0.5", "0.5", "-o", output]
        assert _run(capsys, *argv, "--group-field", "1")[0] == 0
        status, out, _ = _run(capsys, "check", output)
        assert (status, out.splitlines()[2]) == (
            0,
            "  group field `PatientID` (position 1), path field `Image` (position 0), "
            "label field `Label` (position 2) from its sidecar "
            f"{output}.lightsplit.json",
        )  # named by the table's columns, though given by position
        status, out, _ = _run(capsys, "check", output, "--json")
        assert json.loads(out)["files"][0]["sidecar_columns"] == {
            "group_field": "PatientID",
            "path_field": "Image",
            "label_field": "Label",
        }

    def _leaking(self, samples_file: Path, output: Path, capsys: Capture) -> None:
        """Split ``samples_file`` by patient into ``output``; move one entry of a
        `train` patient into `test`, as a hand edit would."""
        argv: list[str | Path] = ["split", samples_file, "--fractions", "0.5", "0.5"]
        assert _run(capsys, *argv, "-o", output, "--group-pattern", PATIENT)[0] == 0
        document = json.loads(output.read_text())
        document["test"].append(document["train"].pop(0))
        output.write_text(json.dumps(document))

    def test_check_warns_of_an_unreadable_sidecar(
        self, samples_file: Path, tmp_path: Path, capsys: Capture
    ) -> None:
        """A sidecar cut short gives no group pattern: `check` says that no
        patient was checked (it said `ok`, the leak unseen), `--strict` fails;
        a pattern given checks the patients and needs no warning."""
        output = tmp_path / "s.json"
        self._leaking(samples_file, output, capsys)
        sidecar_path(output).write_text('{"lightsplit": "0.1.0", ')
        status, out, _ = _run(capsys, "check", output, "--json")
        assert status == 0
        [warning] = json.loads(out)["files"][0]["warnings"]
        assert warning["kind"] == "sidecar_unreadable"
        assert warning["message"].startswith(
            f"its sidecar file {output}.lightsplit.json is not one that `lightsplit "
            "split` writes: it is no JSON ("
        )
        assert warning["message"].endswith(
            "so the group pattern or field it may record was not used, and no group "
            "(patient) was checked: restore it (`lightsplit split` writes it again), "
            "or give `--group-pattern` or `--group-field`"
        )
        assert _run(capsys, "check", output, "--strict")[0] == 1
        status, out, _ = _run(capsys, "check", output, "--group-pattern", PATIENT)
        assert status == 1
        assert "group leak: 1 group is in both `train` and `test`" in out
        assert "sidecar" not in out

    def test_compressed_split_read_with_the_sidecar_it_was_written_with(
        self, samples_file: Path, tmp_path: Path, capsys: Capture
    ) -> None:
        """`split.json` compressed into `split.json.bz2` keeps its content hash:
        `check` and `card` read the group pattern from `split.json`'s sidecar
        (the group leak was missed and the file called `ok`)."""
        output = tmp_path / "s.json"
        self._leaking(samples_file, output, capsys)
        compressed = tmp_path / "s.json.bz2"
        compressed.write_bytes(bz2.compress(output.read_bytes()))
        output.unlink()
        status, out, _ = _run(capsys, "check", compressed)
        assert status == 1
        assert (
            f"group pattern `{PATIENT}` from its sidecar {output}.lightsplit.json"
            in (out)
        )
        assert "group leak: 1 group is in both `train` and `test`" in out
        status, out, _ = _run(capsys, "card", compressed, "--json")
        card = json.loads(out)
        assert (card["group_pattern"], len(card["group_leaks"])) == (PATIENT, 1)
        assert card["generation"]["group_pattern"] == PATIENT

    def test_check_warns_of_an_edited_split(
        self, samples_file: Path, tmp_path: Path, capsys: Capture
    ) -> None:
        """A split changed since `split` wrote it is warned about, as `card` says
        "edited since": `check` read the sidecar's options and said `ok`."""
        output = tmp_path / "s.json"
        argv: list[str | Path] = ["split", samples_file, "--fractions", "0.5", "0.5"]
        assert _run(capsys, *argv, "-o", output)[0] == 0
        status, out, _ = _run(capsys, "check", output, "--json")
        assert (status, json.loads(out)["files"][0]["warnings"]) == (0, [])
        document = json.loads(output.read_text())
        document["train"][0][1] = 1 - document["train"][0][1]  # a label changed
        output.write_text(json.dumps(document))
        status, out, _ = _run(capsys, "check", output)
        assert status == 0
        assert (
            "  warning: edited since `lightsplit split` wrote it: its sidecar "
            "s.json.lightsplit.json records SHA-256 "
        ) in out
        assert _run(capsys, "check", output, "--strict")[0] == 1
        _, out, _ = _run(capsys, "check", output, "--json")
        [warning] = json.loads(out)["files"][0]["warnings"]
        assert warning["kind"] == "split_edited"

    def test_check_and_card_read_one_sidecar_alike(
        self, samples_file: Path, tmp_path: Path, capsys: Capture
    ) -> None:
        """A sidecar holding a key lightsplit does not write gives both commands
        its group pattern: `card` dropped it, and called a leaking split clean
        where `check` found the leak."""
        output = tmp_path / "s.json"
        argv: list[str | Path] = ["split", samples_file, "--fractions", "0.5", "0.5"]
        assert _run(capsys, *argv, "-o", output, "--group-pattern", PATIENT)[0] == 0
        document = json.loads(output.read_text())
        document["test"].append(document["train"].pop(0))  # a patient in both sets
        output.write_text(json.dumps(document))
        sidecar = Path(f"{output}.lightsplit.json")
        recorded = json.loads(sidecar.read_text())
        sidecar.write_text(json.dumps({**recorded, "note": "made on cluster A"}))
        status, out, _ = _run(capsys, "check", output)
        assert status == 1
        assert "group leak: 1 group is in both `train` and `test`" in out
        status, out, _ = _run(capsys, "card", output)
        assert status == 0
        assert "group leak: 1 group is in both `train` and `test`" in out
        assert "`note`: Extra inputs are not permitted" in out

    def test_check_skips_sidecars(
        self, samples_file: Path, tmp_path: Path, capsys: Capture
    ) -> None:
        """``check DIR/fold-*.json`` checks the folds and says it skipped sidecars."""
        folds = tmp_path / "folds"
        status, _, _ = _run(capsys, "split", samples_file, "--folds", "3", "-o", folds)
        assert status == 0
        matched = sorted(folds.glob("fold-*.json"))  # as the shell expands it
        splits, sidecars = matched[::2], matched[1::2]
        assert [path.name for path in splits] == [f"fold-{n}.json" for n in range(3)]
        status, out, _ = _run(capsys, "check", *matched)
        assert status == 0
        lines = out.splitlines()
        assert lines[0] == (
            f"skipped {', '.join(map(str, sidecars))}: sidecar files, where "
            "`lightsplit split` records how it made a split, not split files; "
            "`lightsplit card SPLIT` shows what they hold"
        )
        assert lines[-1] == "checked 3 files: all ok; 1 family of folds: ok"
        status, out, _ = _run(capsys, "check", *matched, "--json")
        document = json.loads(out)
        assert [f["file"] for f in document["files"]] == list(map(str, splits))
        assert document["skipped"] == list(map(str, sidecars))
        status, _, err = _run(capsys, "check", sidecars[0])
        assert status == 2
        assert f"{sidecars[0]}: a sidecar file, where `lightsplit split`" in err
        assert err.endswith("; give the split files themselves\n")

    def test_split_named_as_sidecar_checked(
        self, tmp_path: Path, capsys: Capture
    ) -> None:
        """A split file whose name ends as a sidecar's is checked, not skipped:
        a sidecar is told by what it holds too."""
        path = tmp_path / "project.lightsplit.json"
        path.write_text(json.dumps({"train": [["a.png", 0]], "test": [["a.png", 0]]}))
        status, out, _ = _run(capsys, "check", path)
        assert status == 1
        assert "leak: 1 path is in both `train` and `test`: a.png" in out
        assert "skipped" not in out

    def test_fractions(
        self, samples_file: Path, tmp_path: Path, capsys: Capture
    ) -> None:
        """``--fractions`` writes one split file, its sidecar, and a table."""
        output = tmp_path / "split.json"
        status, out, _ = _run(
            capsys,
            "split",
            samples_file,
            "--fractions",
            "0.6",
            "0.2",
            "0.2",
            "--group-pattern",
            PATIENT,
            "-o",
            output,
        )
        assert status == 0
        split = load_split(output, sample_type=tuple[str, int])
        assert [len(s) for s in split.values()] == [36, 12, 12]
        lines = out.splitlines()
        assert lines[0] == (
            f"read 60 entries from {samples_file}: 3 classes, 20 groups"
        )
        assert lines[1] == (
            f"wrote {output} (sha256 {split_sha256(split)}) and its sidecar "
            f"{output}.lightsplit.json"
        )
        assert lines[2:7] == [
            "  set         entries  share  target  groups  label 0  label 1  label 2",
            "  train            36  0.600   0.600      12    33.3%    33.3%    33.3%",
            "  validation       12  0.200   0.200       4    33.3%    33.3%    33.3%",
            "  test             12  0.200   0.200       4    33.3%    33.3%    33.3%",
            "  all              60  1.000   1.000      20    33.3%    33.3%    33.3%",
        ]
        assert lines[7] == (
            "  largest gaps from the targets: share 0.000 (train), class "
            "prevalence 0.0 points (train, label 0)"
        )
        status, out, _ = _run(capsys, "check", output, "--group-pattern", PATIENT)
        assert status == 0

    def test_folds(self, samples_file: Path, tmp_path: Path, capsys: Capture) -> None:
        """``--folds K`` writes K files; each entry is in one test set, once a file."""
        output = tmp_path / "folds"
        status, out, _ = _run(
            capsys,
            "split",
            samples_file,
            "--folds",
            "4",
            "--group-pattern",
            PATIENT,
            "-o",
            output,
        )
        assert status == 0
        assert sorted(p.name for p in output.iterdir()) == [
            f"fold-{i}.json{suffix}"
            for i in range(4)
            for suffix in ("", ".lightsplit.json")
        ]
        tested: list[object] = []
        for fold in range(4):
            split = load_split(output / f"fold-{fold}.json")
            every = [tuple(e) for entries in split.values() for e in entries]
            assert sorted(every) == sorted(tuple(e) for e in _samples())
            tested += split["test"]
        assert sorted(map(tuple, tested)) == sorted(tuple(e) for e in _samples())  # type: ignore[arg-type]  # entries are lists
        assert "  fold-3.json  validation  " in out
        assert "carved" not in out  # every file validates on the next fold

    def test_joined_labels_warned(self, tmp_path: Path, capsys: Capture) -> None:
        """Labels of names joined by ``|`` (NIH's table) are a warning with the fix."""
        table = tmp_path / "findings.csv"
        rows = ["a/1.png,car|her", "a/2.png,car", "b/3.png,her|nod", "c/4.png,nod"]
        table.write_text("path,label\n" + "\n".join(rows) + "\n")
        argv: list[str | Path] = [
            "split",
            table,
            "--fractions",
            "0.5",
            "0.5",
            "-o",
            tmp_path / "s.json",
        ]
        status, out, _ = _run(capsys, *argv)
        assert status == 0
        assert (
            f"warning: {table}: 2 of the 4 classes are names joined by `|` (such as "
            "`car|her`): each combination is split as a class of its own, and a "
            "finding's prevalence is not kept set by set; to stratify by each name, "
            "give `--label-separator '|'` (each label is then read as the list of "
            "its names)"
        ) in out.splitlines()
        status, out, _ = _run(capsys, *argv, "--label-separator", "|")
        assert status == 0
        assert "read 4 entries from" in out
        assert ": 3 classes," in out
        assert "joined by" not in out

    def test_label_separator(self, tmp_path: Path, capsys: Capture) -> None:
        """NIH's table: findings joined by ``|``, stratified name by name.

        Each finding's prevalence is kept in every fold, the entries are written
        as the table has them, and the sidecar records the separator, by which
        `check` and `card` read the folds without it given again.
        """
        findings = ["Effusion", "Nodule", "Mass", "Hernia"]
        rng = random.Random(5)
        rows = []
        for patient in range(1, 241):
            for image in range(rng.randint(1, 3)):
                named = rng.sample(findings, rng.randint(0, 2))
                label = "|".join(sorted(named)) or "No Finding"
                rows.append(f"{patient:08d}_{image:03d}.png,{label},{patient}")
        table = tmp_path / "Data_Entry.csv"
        table.write_text("Image Index,Finding Labels,Patient ID\n" + "\n".join(rows))
        output = tmp_path / "folds"
        status, out, err = _run(
            capsys,
            "split",
            table,
            "--folds",
            "4",
            "--label-field",
            "Finding Labels",
            "--group-field",
            "Patient ID",
            "--label-separator",
            "|",
            "-o",
            output,
        )
        assert status == 0, err
        assert ": 5 classes, 240 groups" in out
        assert "warning" not in out
        table_rows = {row.split(",")[0]: row.split(",") for row in rows}
        for fold in range(4):
            split = load_split(output / f"fold-{fold}.json")
            for entries in split.values():
                for entry in entries:
                    file, finding, held_by = table_rows[entry[0]]
                    assert entry == [file, finding, int(held_by)]
            counts = {
                name: Counter(
                    finding for entry in entries for finding in str(entry[1]).split("|")
                )
                for name, entries in split.items()
            }
            everyone = sum(counts.values(), Counter())
            total = sum(len(entries) for entries in split.values())
            for name, entries in split.items():
                for finding, count in everyone.items():
                    share = len(entries) / total
                    assert abs(counts[name][finding] - count * share) < 0.1 * count
            sidecar = json.loads((output / "fold-0.json.lightsplit.json").read_text())
            assert sidecar["label_separator"] == "|"
            assert "--label-separator '|'" in sidecar["command"]
        status, out, _ = _run(capsys, "check", output / "fold-0.json", "--json")
        assert status == 0
        report = json.loads(out)["files"][0]
        assert report["label_separator"] == "|"
        assert "label_separator" in report["sidecar_fields"]
        assert set(report["sets"]["test"]["class_counts"]) == {*findings, "No Finding"}
        status, out, _ = _run(capsys, "card", output / "fold-0.json", "--json")
        assert status == 0
        card = json.loads(out)
        assert card["label_separator"] == "|"
        assert set(card["sets"]["train"]["class_counts"]) == {*findings, "No Finding"}
        status, out, _ = _run(capsys, "card", output / "fold-0.json")
        assert "5 classes, each the names it joins by `|`" in out

    def test_coded_findings(self, tmp_path: Path, capsys: Capture) -> None:
        """Findings coded as numbers: a cell `3` is the name `3`, as in `3|7`."""
        table = tmp_path / "coded.csv"
        codes = ["3", "7", "3|7", "0", "3|7|9"]
        rows = [f"c{i:03d}.png,{codes[i % 5]},{i // 2}" for i in range(100)]
        table.write_text("path,findings,pid\n" + "\n".join(rows) + "\n")
        argv: list[str | Path] = ["split", table, "--fractions", "0.5", "0.5"]
        argv += ["--label-field", "findings", "--group-field", "pid"]
        status, out, _ = _run(
            capsys, *argv, "--label-separator", "|", "-o", tmp_path / "s.json"
        )
        assert status == 0
        assert ": 4 classes, 50 groups" in out
        assert "warning" not in out
        status, out, _ = _run(capsys, "check", tmp_path / "s.json", "--json")
        report = json.loads(out)["files"][0]
        assert report["warnings"] == []
        counts = report["sets"]["train"]["class_counts"]
        assert sorted(counts) == ['"0"', '"3"', '"7"', '"9"']  # names, not numbers

    def test_separator_no_label_holds(self, tmp_path: Path, capsys: Capture) -> None:
        """A separator that no label holds is warned of, naming the likely one."""
        table = tmp_path / "findings.csv"
        labels = ["Mass;Nodule", "Mass", "Edema;Mass", "Nodule"]
        rows = [f"{i}.png,{labels[i % 4]},{i}" for i in range(40)]
        table.write_text("path,label,patient\n" + "\n".join(rows) + "\n")
        split = tmp_path / "s.json"
        argv: list[str | Path] = ["split", table, "--fractions", "0.5", "0.5"]
        argv += ["--group-field", "patient", "--label-separator", "|", "-o", split]
        status, out, _ = _run(capsys, *argv)
        assert status == 0
        said = (
            "no label holds the label separator `|`, so each is read as one name; "
            "the labels seem to join names by `;`: give `--label-separator ';'`"
        )
        assert f"warning: {table}: {said}" in out.splitlines()
        status, out, _ = _run(capsys, "check", split)
        assert status == 0
        assert f"  warning: {said}" in out.splitlines()
        status, out, _ = _run(capsys, "check", split, "--strict", "--json")
        assert status == 1
        [warning] = json.loads(out)["files"][0]["warnings"]
        assert warning["kind"] == "label_separator_unused"

    def test_card_command_with_a_tab(self, tmp_path: Path, capsys: Capture) -> None:
        """A card shows a tab separator as a shell reads it back: `$'\\t'`."""
        table = tmp_path / "t.csv"
        labels = ["A", "A\tB"]
        rows = [f"{i}.png,{labels[i % 2]},{i}" for i in range(20)]
        table.write_text("path,label,patient\n" + "\n".join(rows) + "\n")
        split = tmp_path / "s.json"
        argv: list[str | Path] = ["split", table, "--fractions", "0.5", "0.5"]
        argv += ["--group-field", "patient", "--label-separator", "\t", "-o", split]
        assert _run(capsys, *argv)[0] == 0
        _, out, _ = _run(capsys, "card", split)
        assert "--label-separator $'\\t' --seed 0" in out
        assert "2 classes, each the names it joins by `\\t`" in out

    def test_empty_label_separator(self, tmp_path: Path, capsys: Capture) -> None:
        """An empty separator is a usage error that says what to give."""
        path = write_split(tmp_path / "s.json", {"train": [["a.png", "x|y"]]})
        for command in ("check", "card"):
            status, _, err = _run(capsys, command, path, "--label-separator", "")
            assert status == 2
            assert (
                "argument --label-separator: empty; give the text between the names "
                "of a label, such as '|'"
            ) in err

    def test_listed_labels_warned(self, tmp_path: Path, capsys: Capture) -> None:
        """Labels of lists written as text (PadChest's table) are a warning: each
        list, in each order, is a class."""
        table = tmp_path / "padchest.csv"
        rows = [
            "a/1.png,\"['effusion', 'nodule']\"",
            "b/2.png,\"['nodule', 'effusion']\"",
            "c/3.png,\"['normal']\"",
            "d/4.png,normal",
        ]
        table.write_text("path,label\n" + "\n".join(rows) + "\n")
        output = tmp_path / "s.json"
        status, out, _ = _run(
            capsys, "split", table, "--fractions", "0.5", "0.5", "-o", output
        )
        assert status == 0
        assert (
            f"warning: {table}: 3 of the 4 classes are lists written as text (such as "
            "`['effusion', 'nodule']`): each list is split as a class of its own (the "
            "same names in another order another class), and a finding's prevalence "
            "is not kept set by set; to stratify by each name, give each label as a "
            'JSON list of names in a JSON list of entries ([path, ["a", "b"]])'
        ) in out.splitlines()

    def test_carved_fold_noted(self, tmp_path: Path, capsys: Capture) -> None:
        """A file validating on a set carved from the other folds is named (five
        classes of patients: no order of the folds pairs them all well)."""
        rng = random.Random(0)
        entries = [
            [
                f"p{rng.randrange(60):03d}/{i:04d}.png",
                rng.choices(range(5), [1, 2, 4, 8, 16])[0],
            ]
            for i in range(300)
        ]
        samples = tmp_path / "samples.json"
        samples.write_text(json.dumps(entries))
        argv: list[str | Path] = ["split", samples, "--folds", "5"]
        argv += ["--group-pattern", r"p(\d+)/"]
        status, out, _ = _run(capsys, *argv, "--seed", "0", "-o", tmp_path / "f")
        assert status == 0
        splits = [load_split(tmp_path / "f" / f"fold-{i}.json") for i in range(5)]
        carved = [
            i
            for i, split in enumerate(splits)
            if sorted(split["validation"]) != sorted(splits[(i + 1) % 5]["test"])
        ]
        assert len(carved) == 1
        assert out.splitlines()[-1] == (
            f"note: `fold-{carved[0]}.json` validates on a set carved from the other "
            "folds, not on the fold the next file tests on, which would leave a set "
            "one entry or more off its share of a class; so not every entry is "
            "validated on in exactly one file"
        )
        # the sidecars record it, and each file's card says it
        for fold in range(5):
            path = tmp_path / "f" / f"fold-{fold}.json"
            record = json.loads(sidecar_path(path).read_text())
            assert record["carved"] is (fold in carved)
            assert _run(capsys, "card", path, "-o", tmp_path / "card.md")[0] == 0
            card = (tmp_path / "card.md").read_text()
            validated = (
                f"its `validation` set carved from the other folds, not fold "
                f"{(fold + 1) % 5}, which would have left a set one entry or more "
                "off its share of a class"
                if fold in carved
                else f"its `validation` set fold {(fold + 1) % 5}"
            )
            assert (
                f"file {fold} of a 5-fold split (its `test` set is fold {fold}, "
                f"{validated}), "
            ) in card

    def test_same_seed_same_bytes(
        self,
        samples_file: Path,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
        capsys: Capture,
    ) -> None:
        """The same input and seed give the same bytes; the entries' order is moot."""
        shuffled = tmp_path / "shuffled.json"
        shuffled.write_text(json.dumps(list(reversed(_samples())), indent=1))
        written = []
        for name, source in (("a", samples_file), ("b", samples_file), ("c", shuffled)):
            folder = tmp_path / name
            folder.mkdir()
            (folder / "samples.json").write_bytes(source.read_bytes())
            monkeypatch.chdir(folder)
            argv = ("split", "samples.json", "--folds", "3", "--seed", "7", "-o", "f")
            assert _run(capsys, *argv)[0] == 0
            written.append({p.name: p.read_bytes() for p in (folder / "f").iterdir()})
        assert written[0] == written[1]  # split files and sidecars
        splits = [
            {k: v for k, v in w.items() if k.endswith("-0.json")} for w in written
        ]
        assert splits[0] == splits[2]  # the sidecar records the input file's hash

    def test_other_seed_other_split(
        self, samples_file: Path, tmp_path: Path, capsys: Capture
    ) -> None:
        """Another seed gives another split."""
        contents = []
        for seed in ("1", "2"):
            output = tmp_path / f"{seed}.json"
            argv = ("--fractions", "0.5", "0.5", "--seed", seed, "-o", output)
            assert _run(capsys, "split", samples_file, *argv)[0] == 0
            contents.append(output.read_text())
        assert contents[0] != contents[1]

    def test_csv_columns(self, tmp_path: Path, capsys: Capture) -> None:
        """A CSV table's column names can name the path and label fields."""
        table = tmp_path / "samples.csv"
        rows = "".join(f"{i % 2},x{i}.png\n" for i in range(10))
        table.write_text("label,image\n" + rows)
        output = tmp_path / "s.json"
        status, _, _ = _run(
            capsys,
            "split",
            table,
            "--fractions",
            "0.5",
            "0.5",
            "--path-field",
            "image",
            "--label-field",
            "label",
            "-o",
            output,
        )
        assert status == 0
        split = load_split(output, sample_type=tuple[int, str])
        assert [len(entries) for entries in split.values()] == [5, 5]
        assert sorted(sum(label for label, _ in s) for s in split.values()) == [2, 3]

    def test_csv_empty_label_column_splits_unstratified(
        self, tmp_path: Path, capsys: Capture
    ) -> None:
        """A `label` column left empty, picked by its name, is no misspelt field:
        the pool is split without labels, as before, not refused."""
        table = tmp_path / "samples.csv"
        table.write_text("path,label\n" + "".join(f"x{i}.png,\n" for i in range(8)))
        output = tmp_path / "s.json"
        argv: list[str | Path] = ["split", table, "--fractions", "0.5", "0.5"]
        status, _, err = _run(capsys, *argv, "-o", output)
        assert status == 0, err
        assert [len(s) for s in load_split(output).values()] == [4, 4]

    def test_csv_padded_rows_are_no_entries(
        self, tmp_path: Path, capsys: Capture
    ) -> None:
        """Rows of empty cells, as a spreadsheet pads a table, are skipped as
        `convert` skips them: one was split as an entry `[]` of no label."""
        table = tmp_path / "samples.csv"
        rows = "".join(f"x{i}.png,{i % 2}\n" for i in range(8))
        table.write_text(f"path,label\n{rows},\n,,\n")
        output = tmp_path / "s.json"
        argv: list[str | Path] = ["split", table, "--fractions", "0.5", "0.5"]
        status, out, err = _run(capsys, *argv, "-o", output)
        assert (status, err) == (0, "")
        assert "no label" not in out
        split = load_split(output, sample_type=tuple[str, int])
        assert [len(entries) for entries in split.values()] == [4, 4]

    @pytest.mark.parametrize("command", ["check", "split", "card"])
    def test_one_field_for_path_and_label(
        self, split_file: Path, tmp_path: Path, capsys: Capture, command: str
    ) -> None:
        """The same field named for the path and the label is a usage error: the
        path was taken for the label (one class per file)."""
        argv: list[str | Path] = [command, split_file]
        if command == "split":
            argv += ["--fractions", "0.5", "0.5", "-o", tmp_path / "s.json"]
        status, out, err = _run(
            capsys, *argv, "--path-field", "0", "--label-field", "0"
        )
        assert (status, out) == (2, "")
        assert err.endswith(
            "error: `--path-field` and `--label-field` both name `0`; the label is "
            "another field than the path: name each its own\n"
        )

    def test_non_ascii_digits_are_keys(self, tmp_path: Path, capsys: Capture) -> None:
        """Only ASCII digits name a position: ``٣`` was read as 3, ``²`` failed
        in ``int`` with the parser's "invalid parse_field value"."""
        path = write_split(tmp_path / "s.json", {"train": [{"٣": "a.png", "²": 0}]})
        status, out, _ = _run(
            capsys, "check", path, "--path-field", "٣", "--label-field", "²"
        )
        assert status == 0, out

    def test_unknown_column(self, tmp_path: Path, capsys: Capture) -> None:
        """A field naming no column of the table is a usage error listing them."""
        table = tmp_path / "samples.csv"
        table.write_text("path,label\na.png,0\n")
        status, _, err = _run(
            capsys,
            "split",
            table,
            "--fractions",
            "0.5",
            "0.5",
            "--label-field",
            "y",
            "-o",
            tmp_path / "s.json",
        )
        assert status == 2
        assert (
            f"`--label-field` `y` is not a column of {table}; name one of `path`, "
            "`label`, or give a position (0, 1, ...)"
        ) in err

    @pytest.mark.parametrize(
        ("option", "said"),
        [
            pytest.param(
                "--label-field",
                "the label field `lable` holds a label in no entry, so nothing could "
                "be stratified",
                id="label",
            ),
            pytest.param(
                "--path-field",
                "the path field `lable` holds a path (a string) in no entry, so no "
                "file could be told from another or grouped",
                id="path",
            ),
        ],
    )
    def test_field_no_entry_holds(
        self, tmp_path: Path, capsys: Capture, option: str, said: str
    ) -> None:
        """A misspelt field is refused, not a split left unstratified in silence."""
        entries = [{"image": f"p{i}.png", "label": i % 2} for i in range(8)]
        source = tmp_path / "samples.json"
        source.write_text(json.dumps(entries))
        argv: list[str | Path] = ["split", source, "--fractions", "0.5", "0.5"]
        argv += ["-o", tmp_path / "s.json"]
        status, _, err = _run(capsys, *argv, option, "lable")
        assert status == 2
        assert (
            f"{source}: {said}; the entries are objects with the keys `image`, "
            "`label`; name one of them"
        ) in err
        assert not (tmp_path / "s.json").exists()

    @pytest.mark.parametrize(
        ("how", "said"),
        [
            pytest.param(
                ["--fractions", "0.5", "0.25", "0.25"],
                "more than the 50 that set `train` should get",
                id="fractions",
            ),
            pytest.param(
                ["--folds", "3"],
                "more than the 33 that each test fold should get",
                id="folds",
            ),
        ],
    )
    def test_group_larger_than_a_set(
        self, tmp_path: Path, capsys: Capture, how: list[str], said: str
    ) -> None:
        """A group larger than a set's share is warned about: no split can fit."""
        entries = [[f"p0/img{k}.png", k % 2] for k in range(90)]
        entries += [[f"p{g}/img0.png", g % 2] for g in range(1, 11)]
        source = tmp_path / "samples.json"
        source.write_text(json.dumps(entries))
        status, out, _ = _run(
            capsys,
            "split",
            source,
            *how,
            "--group-pattern",
            r"p(\d+)/",
            "-o",
            tmp_path / "out",
        )
        assert status == 0
        assert (
            f"warning: {source}: the largest group holds 90 of the 100 entries "
            f'(such as ["p0/img0.png", 0]), {said}: groups stay whole, so the sets '
            "cannot come near their targets; check that the group pattern finds one "
            "patient per group"
        ) in out.splitlines()

    def test_group_larger_than_a_small_set(
        self, tmp_path: Path, capsys: Capture
    ) -> None:
        """A group larger than `validation`'s share but not `train`'s goes to
        `train`: no warning that the sets cannot come near their targets."""
        entries = [[f"p0/img{k}.png", k % 2] for k in range(30)]
        entries += [[f"p{g}/img0.png", g % 2] for g in range(1, 71)]
        source = tmp_path / "samples.json"
        source.write_text(json.dumps(entries))
        argv: list[str | Path] = ["split", source, "--fractions", "0.5", "0.25", "0.25"]
        argv += ["--group-pattern", r"p(\d+)/", "-o", tmp_path / "out.json"]
        status, out, _ = _run(capsys, *argv)
        assert status == 0
        assert "warning" not in out
        assert len(load_split(tmp_path / "out.json")["train"]) == 50

    def test_no_group_warning_without_groups(
        self, tmp_path: Path, capsys: Capture
    ) -> None:
        """Each path its own group, no group can be too large: a set too small
        for one entry draws no warning about a group pattern nobody gave."""
        source = tmp_path / "samples.json"
        source.write_text(json.dumps([[f"{i}.png", i % 2] for i in range(20)]))
        fractions = ["0.98", "0.01", "0.01"]
        output = tmp_path / "out.json"
        status, out, _ = _run(
            capsys, "split", source, "--fractions", *fractions, "-o", output
        )
        assert status == 0
        assert not [line for line in out.splitlines() if "warning:" in line]

    def test_pooled_split_file(
        self, split_file: Path, tmp_path: Path, capsys: Capture
    ) -> None:
        """A split file's sets are pooled; monitor sets are left out, with a note."""
        status, out, _ = _run(
            capsys,
            "split",
            split_file,
            "--fractions",
            "0.5",
            "0.5",
            "-o",
            tmp_path / "s.json",
        )
        assert status == 0
        assert out.splitlines()[:2] == [
            f"read 20 entries from {split_file}: 2 classes, each path its own group",
            f"note: {split_file}: left out the sets `monitor-extra`, as "
            "`monitor-<name>` sets repeat entries of the other sets",
        ]

    def test_monitor_entries_alone_warned(
        self, tmp_path: Path, capsys: Capture
    ) -> None:
        """Entries of a monitor set that no other set holds would be in none of
        the sets made: they are counted and named, not left out in silence."""
        source = write_split(
            tmp_path / "pooled.json",
            {
                "train": [["a.png", 0], ["b.png", 1], ["c.png", 0]],
                "test": [["d.png", 1]],
                "monitor-external": [["site2/x.png", 0], ["./a.png", 0]],
            },
        )
        argv: list[str | Path] = ["split", source, "--fractions", "0.5", "0.5"]
        status, out, _ = _run(capsys, *argv, "-o", tmp_path / "s.json")
        assert status == 0
        assert out.splitlines()[2] == (
            f"warning: {source}: 1 entry of `monitor-external` is in no other set "
            '(monitor-external.0 ["site2/x.png", 0]), so in none of the sets made; '
            "add it to `train`, `validation` or `test` to split it"
        )

    def test_backslash_paths_warned(self, tmp_path: Path, capsys: Capture) -> None:
        """Windows paths are warned about, as `check` warns: `p2\\a.png` and
        `p2/a.png` are split as two files, and are no group `p2`."""
        entries: list[object] = [["p2\\a.png", 0], ["p2/a.png", 0], ["p3/b.png", 1]]
        source, _, (status, out, _) = _split_halves(tmp_path, capsys, entries)
        assert status == 0
        assert out.splitlines()[1] == (
            f"warning: {source}: 1 path holds a backslash `\\`, a folder separator "
            "on Windows alone (entry 0): Linux and macOS read `p2\\a.png` as one "
            "file name, not as `p2/a.png`, and so does the split, which tells files "
            "apart and groups them by their paths; write the paths with `/`, which "
            "every system reads"
        )

    def test_repeats_kept_once(self, tmp_path: Path, capsys: Capture) -> None:
        """An entry listed twice (two spellings, one label) is kept once."""
        entries: list[object] = [["./a", 0], ["a", 0], ["b", 1], ["c", 0]]
        _, output, (status, out, _) = _split_halves(tmp_path, capsys, entries)
        assert status == 0
        assert out.splitlines()[0].endswith(
            "; 1 repeated entry (same path, same label) kept once"
        )
        assert sum(map(len, load_split(output).values())) == 3

    def test_conflicting_labels(self, tmp_path: Path, capsys: Capture) -> None:
        """A path listed with two labels stops the split, naming both entries."""
        entries: list[object] = [["a", 0], ["b", 1], ["./a", 1]]
        source, _, (status, out, err) = _split_halves(tmp_path, capsys, entries, "s")
        assert (status, out) == (1, "")
        assert err == (
            f"lightsplit split: error: {source}: cannot split files listed with "
            "different labels, 1 problem:\n"
            "  a: labels 0 (entry 0), 1 (entry 2); keep the right one\n"
        )

    def test_class_of_one_patient_warned(self, tmp_path: Path, capsys: Capture) -> None:
        """A class held by one patient is in no training set of the folds that
        evaluate on it: those files are named, as a model never sees it."""
        entries: list[object] = [[f"p0/{i}.png", 2] for i in range(4)]
        entries += [[f"p{p}/{i}.png", p % 2] for p in range(1, 50) for i in range(4)]
        samples, warning = _untrained_warning(tmp_path, capsys, entries)
        evaluating = [
            i
            for i in range(5)
            if any(
                path.startswith("p0/")
                for name in ("validation", "test")
                for path, _ in load_split(tmp_path / "f" / f"fold-{i}.json")[name]
            )
        ]
        files = ", ".join(f"`fold-{i}.json`" for i in evaluating)
        assert warning == (
            f"warning: {samples}: {files} train on no entry of class `2` (held by "
            "1 group), which the evaluation sets hold: a model trained so never "
            "sees it; gather more of it, or merge it with another class"
        )

    def test_many_untrained_classes_in_one_warning(
        self, tmp_path: Path, capsys: Capture
    ) -> None:
        """Many classes of one patient each: one warning lists them, not one each."""
        entries: list[object] = [
            [f"p{c}/{i}.png", f"rare{c}"] for c in range(6) for i in range(2)
        ]
        entries += [[f"p{p}/{i}.png", p % 2] for p in range(6, 60) for i in range(4)]
        samples, warning = _untrained_warning(tmp_path, capsys, entries)
        assert warning.startswith(
            f"warning: {samples}: 6 classes that the evaluation sets hold have no "
            "entry in some files' `train` set, so a model trained there never sees "
            "them: `rare0` (held by 1 group; not in the `train` set of `fold-"
        )
        assert warning.endswith(
            "; and 1 more; gather more of them, or merge them with other classes"
        )

    def test_one_number_two_ways(self, tmp_path: Path, capsys: Capture) -> None:
        """Labels `1` and `1.0` of one file are said to be one number written two
        ways, in `split` and in `check`, where the content hash takes them for
        one: the fix is to write it one way, not to choose."""
        entries: list[object] = [["a", 1], ["b", 0], ["a", 1.0]]
        _, _, (status, _, err) = _split_halves(tmp_path, capsys, entries, "s")
        assert status == 1
        assert err.endswith(
            "  a: labels 1 (entry 0), 1.0 (entry 2); labels 1 and 1.0 are one "
            "number (1) written 2 ways: write it one way\n"
        )
        split = write_split(
            tmp_path / "t.json", {"train": [["a", 1]], "test": [["a", 1.0]]}
        )
        status, out, _ = _run(capsys, "check", split)
        assert status == 1
        assert (
            "  conflict: a has 2 labels: 1 (train.0), 1.0 (test.0); labels 1 and 1.0 "
            "are one number (1) written 2 ways: write it one way (a loader may read "
            "each differently)"
        ) in out.splitlines()

    def test_one_vector_two_ways(self, tmp_path: Path, capsys: Capture) -> None:
        """Multi-hot vectors `[0, 1]` and `[0.0, 1.0]` of one file are said to
        be one vector written two ways, as numbers are."""
        entries: list[object] = [["a", [0, 1]], ["b", [1, 0]], ["a", [0.0, 1.0]]]
        _, _, (status, _, err) = _split_halves(tmp_path, capsys, entries, "s")
        assert status == 1
        assert err.endswith(
            "  a: labels [0, 1] (entry 0), [0.0, 1.0] (entry 2); labels [0, 1] and "
            "[0.0, 1.0] are one vector written 2 ways: write it one way\n"
        )

    def test_path_without_group(
        self, samples_file: Path, tmp_path: Path, capsys: Capture
    ) -> None:
        """A path the group pattern does not match stops the split, naming it."""
        status, _, err = _run(
            capsys,
            "split",
            samples_file,
            "--fractions",
            "0.5",
            "0.5",
            "--group-pattern",
            "q(\\d)",
            "-o",
            tmp_path / "s.json",
        )
        assert status == 1
        assert (
            "the group pattern `q(\\d)` finds no group in 60 of 60 paths (searched "
            "as normalised: no `./`, `..` or repeated `/`); fix the pattern so that "
            "it finds the group in every path:" in err
        )
        assert '  entry 0: ["p00/000.png", 0]\n' in err
        assert err.count("fix the pattern") == 1
        status, _, err = _run(capsys, "split", samples_file, "--folds", "3", "-o", "")
        assert status == 2
        assert "-o/--output: an empty path names no file; give the file" in err

    def test_odd_vector_named(self, tmp_path: Path, capsys: Capture) -> None:
        """One vector of another length among many is named by `split`, which
        reads the labels as lists of classes for it."""
        vectors = [[1 if j == i % 14 else 0 for j in range(14)] for i in range(20)]
        vectors[7] = vectors[7][:13]
        entries: list[object] = [[f"{i}.png", v] for i, v in enumerate(vectors)]
        _, _, (status, out, _) = _split_halves(tmp_path, capsys, entries)
        assert status == 0
        [warning] = [line for line in out.splitlines() if "several lengths" in line]
        assert (
            "are lists of 0 and 1 of several lengths (13 and 14), so they are read "
            "as lists of classes"
        ) in warning
        assert warning.endswith(
            '; unlike the others: entry 7 ["7.png", [0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, '
            "0, 0]]"
        )

    def test_mixed_labels_named(self, tmp_path: Path, capsys: Capture) -> None:
        """One integer label among lists of names is named by `split`."""
        labels: list[object] = [["Mass"] if i % 2 else [] for i in range(12)]
        labels[3] = 1
        entries: list[object] = [[f"{i}.png", v] for i, v in enumerate(labels)]
        source, _, (status, out, _) = _split_halves(tmp_path, capsys, entries)
        assert status == 0
        assert (
            f"warning: {source}: 1 label is no list, among list labels: entry 3 "
            '["3.png", 1]; write every label one way'
        ) in out

    def test_too_few_groups(
        self, samples_file: Path, tmp_path: Path, capsys: Capture
    ) -> None:
        """Fewer groups than folds is an error saying so."""
        status, _, err = _run(
            capsys,
            "split",
            samples_file,
            "--folds",
            "30",
            "--group-pattern",
            PATIENT,
            "-o",
            tmp_path / "f",
        )
        assert status == 1
        assert err.endswith(
            "cannot make 30 folds from 20 groups: every fold needs a group; give "
            "more entries (or a group pattern that finds more groups)\n"
        )
        # a count far past the entries is refused as soon (the output's fold
        # files are no longer each looked for first: 10**11 of them took hours)
        status, _, err = _run(
            capsys, "split", samples_file, "--folds", "99999999999", "-o", tmp_path
        )
        assert status == 1
        assert "cannot make 99999999999 folds from 60 groups" in err

    @pytest.mark.parametrize(
        ("options", "message"),
        [
            pytest.param(
                ["--fractions", "0.7", "0.2", "0.2"],
                "`--fractions`: fractions 0.7 0.2 0.2 add up to 1.1; give fractions "
                "above 0 that add up to 1, such as 0.7 0.15 0.15",
                id="sum",
            ),
            pytest.param(
                ["--fractions", "1e-400", "1"],
                "`--fractions`: fractions 1e-400 1 add up to more than 1, by 1e-400; "
                "give fractions above 0",
                id="sum-too-long-to-write",
            ),
            pytest.param(
                ["--folds", "-3"],
                "argument --folds: `-3` is not a count; write a positive integer",
                id="negative-folds",
            ),
            pytest.param(
                ["--fractions", "0.5", "0.5", "-o", "s.CSV"],
                "`split` writes a JSON split file, which a `.csv` name would have "
                "read as a table; name it `.json`",
                id="csv-output",
            ),
            pytest.param(
                ["--fractions", "1"],
                "`--fractions`: 1 fraction (1); give 3 (train, validation and "
                "test), such as 0.7 0.15 0.15, or 2 (train and test)",
                id="one",
            ),
            pytest.param(
                ["--fractions", "half", "half"],
                "`--fractions`: fraction `half` is not a number",
                id="text",
            ),
            pytest.param(
                ["--folds", "2"],
                "`--folds` is 2; give 3 or more, so that each split has a test fold",
                id="folds",
            ),
            pytest.param(
                ["--fractions", "0.5", "0.5", "--folds", "3"],
                "argument --folds: not allowed with argument --fractions",
                id="both",
            ),
            pytest.param(
                [],
                "one of the arguments --fractions --folds is required",
                id="neither",
            ),
        ],
    )
    def test_usage_errors(
        self,
        samples_file: Path,
        tmp_path: Path,
        capsys: Capture,
        options: list[str],
        message: str,
    ) -> None:
        """Fractions, folds and their mix are checked before anything is read."""
        output: list[str | Path] = (
            [] if "-o" in options else ["-o", tmp_path / "s.json"]
        )
        status, out, err = _run(capsys, "split", samples_file, *options, *output)
        assert (status, out) == (2, "")
        assert message in err

    def test_output_kinds(
        self, samples_file: Path, tmp_path: Path, capsys: Capture
    ) -> None:
        """Fractions write a file, not into a folder; folds a folder, not a file."""
        status, _, err = _run(
            capsys, "split", samples_file, "--fractions", "0.5", "0.5", "-o", tmp_path
        )
        assert status == 2
        assert f"`-o` {tmp_path} is a folder; give the split file to write" in err
        status, _, err = _run(
            capsys, "split", samples_file, "--folds", "3", "-o", samples_file
        )
        assert status == 2
        assert f"`-o` {samples_file} is a file; give the folder" in err

    def test_unreadable_input(self, tmp_path: Path, capsys: Capture) -> None:
        """An input that is no JSON array, split file or table is an error."""
        source = tmp_path / "samples.json"
        source.write_text('"text"')
        status, _, err = _run(
            capsys, "split", source, "--fractions", "0.5", "0.5", "-o", tmp_path / "s"
        )
        assert status == 1
        assert err == (
            f"lightsplit split: error: {source}: holds a string; give a JSON array "
            "of entries, a split file or a CSV table\n"
        )
        status, _, err = _run(
            capsys,
            "split",
            tmp_path / "none.json",
            "--folds",
            "3",
            "-o",
            tmp_path / "f",
        )
        assert status == 1
        assert "none.json: cannot read: No such file or directory" in err


class TestCard:
    def test_markdown(
        self, samples_file: Path, tmp_path: Path, capsys: Capture
    ) -> None:
        """The card of a split made by ``split`` says how it was made."""
        output = tmp_path / "split.json"
        argv = ("--fractions", "0.5", "0.5", "--group-pattern", PATIENT, "-o", output)
        assert _run(capsys, "split", samples_file, *argv)[0] == 0
        status, out, _ = _run(capsys, "card", output)
        assert status == 0
        sha256 = split_sha256(load_split(output))
        sidecar = json.loads((tmp_path / "split.json.lightsplit.json").read_text())
        assert out.splitlines()[:7] == [
            f"# Split card: {output}",
            "",
            f"- SHA-256: `{sha256}`",
            "- Entries: 60 in 2 sets (train 30, test 30)",
            "- Labels: one per entry, 3 classes",
            r"- Groups: 20, found in the paths by `p(\d+)/`",
            f"- Made by: `lightsplit split {samples_file} --fractions 0.5 0.5 "
            f"--group-pattern 'p(\\d+)/' --seed 0 -o {output}` (lightsplit 0.1.0, "
            f"seed 0), from 60 entries of {samples_file} (SHA-256 of the file's "
            f"bytes `{sidecar['input_sha256']}`); unchanged since",
        ]
        assert "| train |      30 | 0.500 |     10 |" in out
        assert "| 0     | 10 (33.3%) | 10 (33.3%) |" in out
        assert "\nNo duplicate, leak, label conflict or group leak.\n" in out

    def test_edited_since(
        self, samples_file: Path, tmp_path: Path, capsys: Capture
    ) -> None:
        """A split changed after it was made is flagged as edited."""
        output = tmp_path / "split.json"
        argv = ("--fractions", "0.5", "0.5", "-o", output)
        assert _run(capsys, "split", samples_file, *argv)[0] == 0
        split = json.loads(output.read_text())
        split["test"].append(split["train"][0])
        output.write_text(json.dumps(split))
        status, out, _ = _run(capsys, "card", output, "--json")
        assert status == 0
        card = json.loads(out)
        assert card["edited_since_generation"] is True
        assert card["generation"]["sha256"] != card["sha256"]
        assert card["leaks"][0]["sets"] == ["train", "test"]
        status, out, _ = _run(capsys, "card", output)
        assert "; **edited since**: the sidecar records SHA-256 `" in out

    def test_json(self, split_file: Path, capsys: Capture) -> None:
        """``--json`` prints one object with the hash under ``sha256``."""
        status, out, _ = _run(capsys, "card", split_file, "--json")
        assert status == 0
        card = json.loads(out)
        assert card["sha256"] == split_sha256(load_split(split_file))
        assert card["generation"] is None
        assert card["sets"]["train"] == {
            "entries": 12,
            "share": 0.6,
            "groups": None,
            "class_counts": {"0": 6, "1": 6},
            "unlabelled": 0,
            "classless": 0,
        }
        assert card["sets"]["monitor-extra"]["share"] is None

    def test_output_file(
        self, split_file: Path, tmp_path: Path, capsys: Capture
    ) -> None:
        """``-o`` writes the card to a file and nothing to stdout."""
        output = tmp_path / "card.md"
        status, out, _ = _run(capsys, "card", split_file, "-o", output)
        assert (status, out) == (0, "")
        assert output.read_text().startswith(f"# Split card: {split_file}\n")

    def test_unreadable_json(self, tmp_path: Path, capsys: Capture) -> None:
        """With ``--json``, a split that does not load gives a JSON document
        saying so on stdout, as ``check --json`` does, and the error on stderr."""
        path = tmp_path / "bad.json"
        path.write_text("[]")
        status, out, err = _run(capsys, "card", path, "--json")
        assert status == 1
        document = json.loads(out)
        assert document == {"split": str(path), "ok": False, "error": document["error"]}
        assert document["error"].endswith("samples, not an array")
        assert err == f"lightsplit card: error: {document['error']}\n"

    def test_unreadable(self, tmp_path: Path, capsys: Capture) -> None:
        """A split file that does not load is an error naming it."""
        path = tmp_path / "bad.json"
        path.write_text('{"valid": []}')
        status, _, err = _run(capsys, "card", path)
        assert status == 1
        assert err.startswith(f"lightsplit card: error: {path}: invalid split file")


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
            "of paths"
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

    def test_check_imports_its_own(self, split_file: Path, tmp_path: Path) -> None:
        """``check`` imports no other command, nor pydantic or pydantic-core."""
        status, loaded = _modules_after(tmp_path, "check", split_file)
        assert status == 0
        assert "lightsplit._report" in loaded  # the probe sees what check imports
        unneeded = {
            "pydantic",
            "pydantic_core",
            "lightsplit._config",
            "lightsplit._convert",
            "lightsplit._cardcommand",
            "lightsplit._splitcommands",
            "lightsplit._provenancecommand",
            "lightsplit._schema",
        }
        assert unneeded.isdisjoint(loaded)

    def test_card_imports_its_own(self, split_file: Path, tmp_path: Path) -> None:
        """``card`` of a split without sidecar imports no pydantic, nor ``split``."""
        status, loaded = _modules_after(tmp_path, "card", split_file)
        assert status == 0
        assert "lightsplit._card" in loaded  # the probe sees what card imports
        unneeded = {"pydantic", "pydantic_core", "lightsplit._sidecar"}
        unneeded |= {"lightsplit._splitcommands", "lightsplit._splitting"}
        assert unneeded.isdisjoint(loaded)

    def test_card_reads_sidecar(self, split_file: Path, tmp_path: Path) -> None:
        """``card`` of a split made by ``split`` reads how it was made."""
        output = tmp_path / "made.json"
        argv = ("split", split_file, "--fractions", "0.5", "0.25", "0.25")
        assert main([*map(str, argv), "--seed", "3", "-o", str(output)]) == 0
        status, loaded = _modules_after(tmp_path, "card", output)
        assert status == 0
        assert "lightsplit._sidecar" in loaded

    def test_split_and_card(self, split_file: Path, tmp_path: Path) -> None:
        """``split`` and ``card`` import neither torch, Lightning nor scikit-learn."""
        output = tmp_path / "folds"
        argv = ("split", split_file, "--folds", "3", "--seed", "1", "-o", output)
        assert _run_fresh(tmp_path, *argv) == (0, [])
        assert _run_fresh(tmp_path, "card", output / "fold-0.json", "--json") == (0, [])

    def test_check_with_root(
        self, split_file: Path, png_root: Path, tmp_path: Path
    ) -> None:
        """``check --root`` loads samples, with torch (the probe sees imports)."""
        status, heavy = _run_fresh(tmp_path, "check", split_file, "--root", png_root)
        assert status == 0
        assert "torch" in heavy


def _modules_after(tmp_path: Path, *argv: object) -> tuple[int, list[str]]:
    """Run ``lightsplit *argv`` in a new interpreter; return its status and modules."""
    found = tmp_path / "modules.json"
    script = (
        "import contextlib, io, json, sys\n"
        "from lightsplit._cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    status = main(sys.argv[2:])\n"
        "json.dump([status, sorted(sys.modules)], open(sys.argv[1], 'w'))\n"
    )
    command = [sys.executable, "-c", script, str(found), *map(str, argv)]
    subprocess.run(command, capture_output=True, check=True)
    status, loaded = json.loads(found.read_text())
    return int(status), list(loaded)


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
        assert "leak: 2 paths are in both `train` and `test`" in result.stdout


def test_split_counts_entries_without_class(tmp_path: Path, capsys: Capture) -> None:
    """`split` shows the share of multi-label entries with no class (``[]``, NIH's
    "no finding") per set: they are stratified as a class of their own."""
    entries = [
        [f"p{i % 30}/{i}.png", [] if i % 3 == 0 else ["Mass", "Nodule"][: i % 3]]
        for i in range(120)
    ]
    source = tmp_path / "samples.json"
    source.write_text(json.dumps(entries))
    argv: list[str | Path] = ["split", source, "--fractions", "0.5", "0.5"]
    argv += ["--group-pattern", r"p(\d+)/"]
    status, out, _ = _run(capsys, *argv, "-o", tmp_path / "s.json")
    assert status == 0
    header, *rows = _lines_with(out, "  ")[:4]
    assert header.split("  ")[-3:] == ["label Mass", "label Nodule", "no class"]
    shares = {row.split()[0]: row.split()[-1] for row in rows}
    assert shares["all"] == "33.3%"
    split = load_split(tmp_path / "s.json")
    for name in split:
        empty = sum(entry[1] == [] for entry in split[name])
        assert shares[name] == f"{100 * empty / len(split[name]):.1f}%"


@pytest.mark.parametrize("command", ["check", "convert", "split", "card", "provenance"])
def test_help_gives_every_exit_status(command: str, capsys: Capture) -> None:
    """Each command's help says its exit statuses, 3 (a bug) included, so that a
    script can tell a split with problems from a crash."""
    assert main([command, "--help"]) == 0
    said = " ".join(capsys.readouterr().out.split())
    assert "2 usage error, 3 a bug in lightsplit (its traceback" in said
