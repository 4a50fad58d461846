"""``split_sha256``: the content hash of a split, as files and data modules give it."""

import json
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st
from lightsplit_testing import MemoryLoader

from lightsplit import CachingDataModule, ConcatDataModule, load_split, split_sha256

ENTRIES = st.lists(
    st.tuples(st.text(max_size=8), st.integers(-5, 5)), min_size=1, max_size=6
)


class TestSplitSha256:
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
