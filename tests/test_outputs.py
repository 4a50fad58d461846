"""Where ``-o`` writes: a link stays a link, a pipe or a device is written through."""

import json
import os
import threading
from pathlib import Path

import pytest

from lightsplit import load_split
from lightsplit._cli import main
from lightsplit._entries import EntryFields
from lightsplit._outputs import (
    is_special_file,
    named_columns,
    recorded_fields,
    write_bytes,
)

ENTRIES = [[f"{number}.png", number % 2] for number in range(8)]


@pytest.fixture
def entries_file(tmp_path: Path) -> Path:
    path = tmp_path / "entries.json"
    path.write_text(json.dumps(ENTRIES))
    return path


class _Reader(threading.Thread):
    """Reads a named pipe to its end, as ``cat`` would at the other end."""

    def __init__(self, fifo: Path) -> None:
        super().__init__(daemon=True)
        self.fifo = fifo
        self.data = b""

    def run(self) -> None:
        with self.fifo.open("rb") as pipe:
            self.data = pipe.read()

    def finish(self) -> bytes:
        """Wait for the end of the data; end it if nothing opened the pipe."""
        if self.is_alive():
            self.join(timeout=5)
        if self.is_alive():  # the writer never came: let the reader go
            os.close(os.open(self.fifo, os.O_WRONLY | os.O_NONBLOCK))
            self.join(timeout=5)
        return self.data


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "pipe.json"
    os.mkfifo(path)
    return path


def test_link_stays_a_link(tmp_path: Path) -> None:
    """Through a symbolic link, the file it names is written; the link stays."""
    target = tmp_path / "real.json"
    target.write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to(target.name)
    write_bytes(link, b"new")
    assert link.is_symlink()
    assert target.read_bytes() == b"new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.json", "real.json"]


def test_dangling_link_makes_its_file(tmp_path: Path) -> None:
    """A link to a file not made yet gets that file."""
    link = tmp_path / "link.json"
    link.symlink_to("made.json")
    write_bytes(link, b"new")
    assert link.is_symlink()
    assert (tmp_path / "made.json").read_bytes() == b"new"


def test_pipe_is_written_through(fifo: Path) -> None:
    """A named pipe gets the bytes and stays a pipe (``/dev/stdout`` in a pipeline)."""
    reader = _Reader(fifo)
    reader.start()
    checked: list[bytes] = []
    write_bytes(fifo, b"data", check=lambda path: checked.append(path.read_bytes()))
    assert (reader.finish(), checked) == (b"data", [b"data"])
    assert is_special_file(fifo)
    assert sorted(p.name for p in fifo.parent.iterdir()) == ["pipe.json"]


def test_failed_check_writes_nothing_to_a_pipe(fifo: Path) -> None:
    """``check`` runs before a pipe is opened: a refused output never reaches it."""

    def refuse(path: Path) -> None:
        raise ValueError(path.read_bytes().decode())

    with pytest.raises(ValueError, match=r"^data$"):
        write_bytes(fifo, b"data", check=refuse)
    assert is_special_file(fifo)


def test_kinds_of_paths(tmp_path: Path, fifo: Path) -> None:
    """Files, folders and missing paths are no special files; pipes are."""
    (tmp_path / "file").write_text("")
    assert not is_special_file(tmp_path / "file")
    assert not is_special_file(tmp_path)
    assert not is_special_file(tmp_path / "missing")
    assert is_special_file(fifo)
    assert is_special_file(Path(os.devnull))


def test_split_to_a_pipe(
    entries_file: Path, fifo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``split -o`` a pipe writes the split there, and no sidecar beside it."""
    reader = _Reader(fifo)
    reader.start()
    argv = ["split", str(entries_file), "-o", str(fifo), "--seed", "1"]
    status = main([*argv, "--fractions", "0.5", "0.25", "0.25"])
    assert set(json.loads(reader.finish())) == {"train", "validation", "test"}
    assert status == 0
    assert is_special_file(fifo)
    assert not fifo.with_name(f"{fifo.name}.lightsplit.json").exists()
    out = capsys.readouterr().out
    assert f"wrote {fifo} (sha256 " in out
    assert ") and no sidecar: it is no file\n" in out


def test_split_through_a_link(
    entries_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``split -o`` a link writes the file it names; the sidecar is the link's."""
    folder = tmp_path / "splits"
    folder.mkdir()
    link = tmp_path / "current.json"
    link.symlink_to(folder / "v1.json")
    argv = ["split", str(entries_file), "-o", str(link), "--seed", "1"]
    assert main([*argv, "--fractions", "0.5", "0.5"]) == 0
    assert link.is_symlink()
    assert sum(map(len, load_split(folder / "v1.json").values())) == len(ENTRIES)
    sidecar = tmp_path / "current.json.lightsplit.json"
    assert json.loads(sidecar.read_text())["seed"] == 1
    assert f"and its sidecar {sidecar}\n" in capsys.readouterr().out


def test_sidecar_fills_no_field_given_for_another_role() -> None:
    """A field given for one role is not read for another by the sidecar's word:
    `--path-field 1` of a split whose sidecar records label field 1 reads no
    label there (given both, the command refuses them)."""
    document = {"lightsplit": "0", "path_field": 0, "label_field": 1, "group_field": 2}
    given = EntryFields(path_field=1)
    found = recorded_fields(document, given)
    assert (found.path_field, found.label_field, found.group_field) == (1, None, 2)
    assert recorded_fields(document, EntryFields()) == EntryFields(
        path_field=0, label_field=1, group_field=2
    )


def test_column_names_read_at_recorded_positions() -> None:
    """A column named as `split` was given it (or in `--columns`) is read at the
    position its sidecar records; any other name is left as given."""
    document = {
        "command": "lightsplit split t.csv --fractions 0.5 0.5 --group-field "
        "'Patient ID' -o t.json",
        "group_field": 2,
        "columns": None,
    }
    named = named_columns(document, EntryFields(group_field="Patient ID"))
    assert named.group_field == 2
    other = EntryFields(group_field="patient")
    assert named_columns(document, other) is other
    kept = {"command": "lightsplit split t.csv", "columns": ["Label", "Image"]}
    assert named_columns(kept, EntryFields(path_field="Image")).path_field == 1
