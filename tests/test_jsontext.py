"""``indented_json``: the text ``json.dumps(value, indent=2)`` writes, faster."""

import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lightsplit._jsontext import indented_json

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()  # NaN and infinities included, written as json writes them
    | st.text()  # line ends, quotes, accents, lone surrogates
)
KEYS = st.text() | st.integers() | st.booleans() | st.none() | st.floats()
VALUES = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=4)
        | st.lists(children, max_size=4).map(tuple)
        | st.dictionaries(st.text(max_size=4), children, max_size=4)
        | st.dictionaries(KEYS, children, max_size=3)  # keys json makes strings
        | st.lists(SCALARS, min_size=17, max_size=30)  # long: written in C
        | st.dictionaries(st.text(max_size=3), SCALARS, min_size=17, max_size=30)
    ),
    max_leaves=30,
)


@given(VALUES)
def test_as_json_writes_it(value: object) -> None:
    """Any JSON value, nested or not, is written character for character as
    `json.dumps(value, indent=2, ensure_ascii=False)` writes it."""
    assert indented_json(value) == json.dumps(value, indent=2, ensure_ascii=False)


def test_a_report() -> None:
    """A report's shape: objects of arrays of objects of entries."""
    refs = [
        {"set": "train", "index": i, "entry": [f"{i}.png", i % 2]} for i in range(3)
    ]
    document = {"ok": False, "leaks": [{"path": "a", "entries": refs}], "n": math.inf}
    assert indented_json(document) == json.dumps(document, indent=2, ensure_ascii=False)


def test_what_json_refuses() -> None:
    """A value json cannot write fails as json.dumps fails."""
    with pytest.raises(TypeError, match="not JSON serializable"):
        indented_json({"a": [1, {2, 3}]})
