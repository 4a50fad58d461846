"""Content hashes of splits: SHA-256 of a canonical JSON form.

The canonical form is compact JSON with object keys sorted and non-ASCII text
kept as UTF-8: whitespace and key order (of the file, of set names, of objects
inside entries) do not change the hash; entry order, and any value, does.
Tuples hash as the lists they are in a file.
"""

import hashlib
import json
from collections.abc import Mapping, Sequence

__all__ = ["canonical_json", "entries_sha256", "split_sha256"]


def canonical_json(value: object) -> bytes:
    """Return the canonical JSON form of ``value``, as UTF-8 bytes.

    Raises:
        TypeError: if ``value`` holds something JSON cannot represent.
        ValueError: for ``NaN`` or infinite floats, which JSON has no form for.

    Examples:
        >>> canonical_json({"b": [1, 2], "a": ("x", 1.5)})
        b'{"a":["x",1.5],"b":[1,2]}'
    """
    text = json.dumps(
        value,
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
    )
    return text.encode("utf-8")


def entries_sha256(entries: Sequence[object]) -> str:
    """Return the SHA-256 (hex) of one set's entries, in order."""
    return hashlib.sha256(canonical_json(list(entries))).hexdigest()


def split_sha256(split: Mapping[str, Sequence[object]]) -> str:
    """Return the content hash of a split: SHA-256 (hex) of its canonical form.

    Two files hash alike exactly when they hold the same sets with the same
    entries in the same order, however they are indented or their keys ordered:
    the hash to cite for the split a result was obtained on.

    Raises:
        TypeError: if an entry holds something JSON cannot represent.

    Examples:
        >>> first = split_sha256({"train": [["a.png", 0]], "test": [["b.png", 1]]})
        >>> first == split_sha256({"test": [("b.png", 1)], "train": [("a.png", 0)]})
        True
        >>> first == split_sha256({"train": [["a.png", 1]], "test": [["b.png", 1]]})
        False
    """
    return hashlib.sha256(
        canonical_json({name: list(entries) for name, entries in split.items()})
    ).hexdigest()
