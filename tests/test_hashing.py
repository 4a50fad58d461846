"""``split_sha256``: the content hash of a split, as files and data modules give it."""

import datetime
import decimal
import hashlib
import json
import math
import re
import uuid
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from lightsplit_testing import JSON_ENTRIES, MemoryLoader
from pydantic import BaseModel

from lightsplit import (
    CachingDataModule,
    ConcatDataModule,
    Sample,
    load_split,
    split_sha256,
)
from lightsplit import _hashing as hashing
from lightsplit._codec import json_lines
from lightsplit._entries import EntryFields, index_split
from lightsplit._report import examine_split
from lightsplit._sidecar import lines_of_encoded
from lightsplit._split import parse_split

ENTRIES = st.lists(
    st.tuples(st.text(max_size=8), st.integers(-5, 5)), min_size=1, max_size=6
)


class TestSplitSha256:
    @pytest.mark.parametrize(
        ("split", "error", "said"),
        [
            pytest.param(
                [["a.png", 0]],
                TypeError,
                "`split` is a `list`; give a mapping of set names to entries",
                id="list",
            ),
            pytest.param(
                {"train": "ab"},
                TypeError,
                "set `train` is a `str`, not a list of entries",
                id="string-set",
            ),
            pytest.param(
                {"valid": [["a.png", 0]]},
                ValueError,
                "`valid` is not a valid set name",
                id="set-name",
            ),
            pytest.param(
                {1: [["a.png", 0]]},
                ValueError,
                "set name 1 is a `int`; set names are strings",
                id="set-name-int",
            ),
            pytest.param(
                {"train": [["a.png", 0], ["b.png", object()]]},
                TypeError,
                "set `train`, index 1: Object of type object is not JSON serializable",
                id="not-json",
            ),
        ],
    )
    def test_refused(self, split: object, error: type[Exception], said: str) -> None:
        """What no split file holds is refused, naming it: a string set hashed as
        its characters, and an entry JSON cannot write was not located."""
        with pytest.raises(error, match=re.escape(said)):
            split_sha256(split)  # type: ignore[arg-type]  # the point

    @given(ENTRIES, ENTRIES)
    def test_layout_does_not_matter(
        self, train: list[tuple[str, int]], test: list[tuple[str, int]]
    ) -> None:
        """Indentation, set order and tuples-or-lists give the same hash."""
        compact = {"train": [list(e) for e in train], "test": [list(e) for e in test]}
        reordered = json.loads(json.dumps({"test": test, "train": train}, indent=4))
        assert split_sha256(compact) == split_sha256(reordered)

    @given(ENTRIES)
    def test_entry_order_matters(self, train: list[tuple[str, int]]) -> None:
        """Reversing the entries of a set changes the hash, unless that is a no-op."""
        reversed_train = list(reversed(train))
        same = split_sha256({"train": train}) == split_sha256({"train": reversed_train})
        assert same == (reversed_train == train)

    def test_cycle_said_as_such(self) -> None:
        """An entry that holds itself is refused as a cycle, by every encoder."""
        entry: list[object] = ["a.png"]
        entry.append(entry)
        with pytest.raises(ValueError, match="Circular reference"):
            split_sha256({"train": [entry]})
        with pytest.raises(ValueError, match="Circular reference"):
            hashing.encode_entries([entry], canonical=True)

    def test_deep_entries_hash(self) -> None:
        """Entries nested deep, but not too deep for JSON, hash as their text."""
        entry: list[object] = ["a.png"]
        for _ in range(200):
            entry = [entry]
        text = json.dumps({"train": [entry]}, separators=(",", ":"))
        assert (
            split_sha256({"train": [entry]})
            == hashlib.sha256(text.encode()).hexdigest()
        )

    def test_file_and_data_module_agree(self, tmp_path: Path) -> None:
        """A data module over a split file reports the file's hash."""
        path = tmp_path / "s.json"
        path.write_text('{"train": [["a", 0], ["b", 1]],\n "test": [["c", 0]]}')
        expected = split_sha256(load_split(path))
        assert CachingDataModule(path, MemoryLoader()).split_sha256 == expected
        module = ConcatDataModule(
            {
                "train": [([("a", 0)], MemoryLoader()), ([("b", 1)], MemoryLoader())],
                "test": [([("c", 0)], MemoryLoader())],
            }
        )
        assert module.split_sha256 == expected

    def test_whole_floats_hash_as_integers(self, tmp_path: Path) -> None:
        """A sample type of ``float`` reads the file's ``1`` as ``1.0``: the hash
        is still the file's, as JSON does not tell the two apart; other floats,
        and their place, still count."""
        path = tmp_path / "s.json"
        path.write_text('{"train": [["a", 0], ["b", 1]], "test": [["c", 2.5]]}')
        expected = split_sha256(load_split(path))
        typed = load_split(path, sample_type=tuple[str, float])
        assert typed["train"][1] == ("b", 1.0)
        assert split_sha256(typed) == expected
        assert (
            split_sha256({"train": [["a", 0.0], ["b", 1.0]], "test": [["c", 2.5]]})
            == expected
        )
        assert split_sha256({"train": [["a", 0], ["b", 1]], "test": [["c", 2]]}) != (
            expected
        )
        assert hashing.canonical_json({"x": [1.0, -0.0, 1e300, 2.0**53]}) == (
            b'{"x":[1,0,1e+300,9007199254740992.0]}'
        )

    def test_typed_entries_hash_as_their_file(self, tmp_path: Path) -> None:
        """Entries read as dataclasses or models, or made with NumPy numbers and
        paths, hash as the file that holds them; a data module over them records
        them, NaN included, instead of failing at its first checkpoint."""
        path = tmp_path / "s.json"
        path.write_text('{"train": [{"path": "a.png", "label": 1, "weight": 1}]}')
        expected = split_sha256(load_split(path))
        for sample_type in (Record, RecordModel):
            typed = load_split(path, sample_type=sample_type)
            assert split_sha256(typed) == expected, sample_type
        made = {
            "train": [
                {"path": PurePosixPath("a.png"), "label": np.int64(1), "weight": 1.0}
            ]
        }
        assert split_sha256(made) == expected
        with_nan = {"train": [("a.png", math.nan)], "test": [("b.png", 0.5)]}
        module = CachingDataModule(with_nan, WeightLoader())
        assert len(module.split_sha256) == 64
        module.state_dict()  # what a checkpoint saves
        with pytest.raises(ValueError, match="Out of range float"):
            split_sha256(with_nan)  # no JSON file holds it

    def test_typed_split_hashes_as_its_file(self, tmp_path: Path) -> None:
        """Entries that read as more than the file holds (a dataclass's default),
        or as a value written another way (a time in UTC as ``Z``, a decimal's
        text), hash as the file while it is unchanged, in `split_sha256` and in a
        data module's record: the hash `card` prints, which the checkpoint
        then matches. A file changed since hashes as the entries read."""
        path = tmp_path / "s.json"
        path.write_text(
            '{"train": [{"path": "a.png"}, {"path": "b.png", "label": 1}],\n'
            ' "test": [{"path": "c.png", "label": 1}]}'
        )
        expected = split_sha256(load_split(path))
        typed = load_split(path, sample_type=Defaulted)
        assert typed["train"][0] == Defaulted("a.png", 0)
        assert split_sha256(typed) == expected
        assert CachingDataModule(typed, DefaultedLoader()).split_sha256 == expected
        made = {name: list(entries) for name, entries in typed.items()}
        assert split_sha256(made) != expected  # the default, written out
        path.write_text('{"train": [], "test": []}')
        assert split_sha256(typed) == split_sha256(made)
        timed = tmp_path / "t.json"
        timed.write_text(
            '{"train": [["a.png", "2024-01-01T00:00:00Z", "1.50"]], '
            '"test": [["b.png", "2024-01-02T00:00:00Z", "2"]]}'
        )
        typed_times = load_split(
            timed, sample_type=tuple[str, datetime.datetime, decimal.Decimal]
        )
        assert split_sha256(typed_times) == split_sha256(load_split(timed))
        assert hashing.json_form(decimal.Decimal("1.50")) == "1.50"

    def test_dates_and_uuids_hash_as_their_text(self, tmp_path: Path) -> None:
        """Entries read as models with a date, a time and a UUID hash as the file
        that holds their text does."""
        path = tmp_path / "s.json"
        path.write_text(
            '{"train": [{"path": "a.png", "taken": "2024-03-01", "at": "12:30:00", '
            '"id": "12345678-1234-5678-1234-567812345678"}]}'
        )
        typed = load_split(path, sample_type=ScanModel)
        assert isinstance(typed["train"][0].taken, datetime.date)
        assert split_sha256(typed) == split_sha256(load_split(path))
        assert hashing.json_form(uuid.UUID(int=1)) == (
            "00000000-0000-0000-0000-000000000001"
        )
        assert hashing.json_form(datetime.datetime(2024, 3, 1, 12, 30)) == (
            "2024-03-01T12:30:00"
        )
        with pytest.raises(TypeError, match="type object is not JSON serializable"):
            hashing.json_form(object())


class ScanModel(BaseModel):
    """An entry of a split file with a date, a time and a UUID."""

    path: str
    taken: datetime.date
    at: datetime.time
    id: uuid.UUID


class WeightLoader:
    """Loads ``(path, weight)`` entries, the weight a float that may be NaN."""

    def sample(self, raw: tuple[str, float]) -> Sample:
        """Return a sample holding the weight."""
        return Sample(torch.zeros(1), {"weight": raw[1]})

    def target(self, raw: tuple[str, float]) -> int:
        """Return class 0."""
        return 0


@dataclass(frozen=True)
class Defaulted:
    """An entry of a split file whose label may be left out."""

    path: str
    label: int = 0


class DefaultedLoader:
    """Loads `Defaulted` entries."""

    def sample(self, raw: Defaulted) -> Sample:
        """Return a sample of the entry's label."""
        return Sample(torch.full((1,), raw.label), {"path": raw.path})

    def target(self, raw: Defaulted) -> int:
        """Return the entry's label."""
        return raw.label


@dataclass(frozen=True)
class Record:
    """An entry of a split file, as a dataclass."""

    path: str
    label: int
    weight: float


class RecordModel(BaseModel):
    """An entry of a split file, as a pydantic model."""

    path: str
    label: int
    weight: float


@given(
    st.dictionaries(
        st.sampled_from(["train", "validation", "test", "monitor-x"]),
        st.lists(JSON_ENTRIES, max_size=4),
    )
)
def test_files_from_encoded_entries(sets: dict[str, list[object]]) -> None:
    """A split written from entries encoded once has the bytes of one written whole.

    ``split --folds`` encodes each entry once and lays out every fold file from
    those texts; the files must be those that writing each split would give.
    """
    encoded = {name: hashing.encode_entries(entries) for name, entries in sets.items()}
    assert lines_of_encoded(encoded) == json_lines(sets)
    canonical = {
        name: hashing.encode_entries(entries, canonical=True)
        for name, entries in sets.items()
    }
    assert hashing.encoded_split_sha256(canonical) == split_sha256(sets)


PAIRS = st.lists(
    st.tuples(
        st.text(max_size=6),
        st.integers(-3, 3) | st.booleans() | st.text(alphabet='a. /é"', max_size=4),
    ),
    max_size=6,
)
"""Entries as a path and a label or a second file, with any characters (spaces,
quotes, é, \\n)."""

LAYOUTS = st.fixed_dictionaries(
    {
        "indent": st.none() | st.sampled_from([0, 2, "\t"]),
        "separators": st.sampled_from([None, (",", ":"), (" ,\r\n", " :\t")]),
        "ensure_ascii": st.booleans(),
        "sort_keys": st.booleans(),
    }
)
"""How a file may lay its JSON out: none of it changes the content hash."""


class TestTextSha256:
    """A split file's hash read from its text is the hash of what it holds."""

    @staticmethod
    def examined(data: bytes) -> str:
        split = parse_split(data)
        return examine_split(split, EntryFields(), labels=True, text=data).sha256

    @given(
        st.dictionaries(
            st.sampled_from(["train", "validation", "test", "monitor-x.1"]),
            PAIRS | st.lists(JSON_ENTRIES, max_size=4),
        ),
        LAYOUTS,
    )
    def test_same_as_serialized(
        self, sets: dict[str, list[object]], layout: dict[str, Any]
    ) -> None:
        """Any entries, laid out any way: read from the text where that is
        provable, the hash is what serializing the split gives."""
        data = json.dumps(sets, **layout).encode()
        assert self.examined(data) == split_sha256(sets)

    @pytest.mark.parametrize(
        "text",
        [
            '{"test": [["b.png", 1]], "train": [["a.png", 0], ["c.png", 12]]}',
            '{\r\n\t"train" : [ [ "a.png" , 0 ] ] ,\n"test":[["b.png",-1]]\n}\n',
            '{"train": [["é/à.png", 0]], "validation": [], "test": [["b", 0]]}',
            '{"monitor-x": [["a.png", 100000000000000000000000000001]]}',
            '{"train": [["a.png", "masks/a.png"]],\n "test": [["b.png", "m/b.png"]]}',
            '{"train": [["a.png", "cat"], ["b.png", "dog"]]}',
        ],
        ids=["set-order", "whitespace", "utf-8", "long-integer", "masks", "names"],
    )
    def test_read_from_text(self, text: str) -> None:
        """Pairs of a path and an integer or a string, however laid out (an
        image and its mask, say): read from the text."""
        data = text.encode()
        split = parse_split(data)
        index = index_split(split, EntryFields())
        assert all(fields.pairs for fields in index.values())
        assert hashing.text_sha256(data, split) == split_sha256(split)

    @pytest.mark.parametrize(
        ("text", "pairs"),
        [
            ('{"train": [["a.png", -0]]}', True),  # written 0 in the canonical form
            ('{"train": [["\\u00e9.png", 0]]}', True),  # an escape
            ('\ufeff{"train": [["a.png", 0]]}', True),  # a byte-order mark
            ('{"train": [["a b.png", 0]]}', False),  # a space in a string
            ('{"train": [["a.png", 0, 1]]}', False),
            ('{"train": [["a.png", 1.0]]}', False),
            ('{"train": [["a.png", true]]}', False),
            ('{"train": [["a.png", {"x": 1}]]}', False),
            ('{"train": [[1, "a.png"]]}', False),
            ('{"train": [["a.png", "m/a b.png"]]}', False),
            ('{"train": [["a.png", "m/a.png"], ["b.png", 1]]}', False),
        ],
        ids=[
            "minus-zero",
            "escape",
            "bom",
            "space",
            "three-items",
            "float",
            "boolean",
            "object",
            "path-second",
            "space-in-mask",
            "mask-and-integer",
        ],
    )
    def test_serialized_otherwise(self, text: str, *, pairs: bool) -> None:
        """Text that may differ from the canonical form in more than whitespace
        is not read from: the split is serialized, and hashes as it must."""
        data = text.encode()
        split = parse_split(data)
        [fields] = index_split(split, EntryFields()).values()
        assert fields.pairs == pairs
        if pairs:
            assert hashing.text_sha256(data, split) is None
        assert self.examined(data) == split_sha256(split)
