import enum
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal, NamedTuple, NotRequired

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from pydantic import BaseModel
from pydantic.dataclasses import dataclass as pydantic_dataclass
from typing_extensions import TypedDict

from lightsplit import SplitFileError, load_split, split_json_schema

COMMITTED = Path(__file__).parents[1] / "docs" / "split-file.schema.json"
REGENERATE = ".venv/bin/lightsplit schema -o docs/split-file.schema.json"


def test_committed_schema_is_current() -> None:
    """The schema in the docs is the one the code exports."""
    committed = json.loads(COMMITTED.read_text())
    assert committed == split_json_schema(), f"regenerate it: {REGENERATE}"


@pytest.mark.parametrize("sample_type", [Any, tuple[str, int], dict[str, str]])
def test_schema_is_valid_draft_2020_12(sample_type: object) -> None:
    """The exported schemas are valid draft 2020-12 schemas."""
    schema = split_json_schema(sample_type)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)


class ImageSample(BaseModel):
    """A raw sample written as a JSON object."""

    image: str
    label: int


def test_model_sample_type(tmp_path: Path) -> None:
    """Object samples get a schema with their definitions, as ``load_split`` reads."""
    schema = split_json_schema(ImageSample)
    Draft202012Validator.check_schema(schema)
    document = {"train": [{"image": "a.png", "label": 1}], "test": [{"image": "b"}]}
    assert not Draft202012Validator(schema).is_valid(document)
    path = tmp_path / "split.json"
    path.write_text(json.dumps(document))
    with pytest.raises(SplitFileError, match=r"test\.0: entry"):
        load_split(path, sample_type=ImageSample)
    del document["test"]
    path.write_text(json.dumps(document))
    assert Draft202012Validator(schema).is_valid(document)
    assert load_split(path, sample_type=ImageSample)["train"][0].label == 1


class Record(TypedDict):
    """An object entry with an optional key."""

    path: str
    label: int
    patient: NotRequired[str]


@dataclass(frozen=True)
class RecordClass:
    """The same entry as a dataclass."""

    path: str
    label: int
    patient: str = ""


@pytest.mark.parametrize("sample_type", [Record, RecordClass])
def test_undeclared_key_is_refused(tmp_path: Path, sample_type: object) -> None:
    """A misspelt optional key is an error, in files and by the schema, not dropped."""
    good = {"path": "a.png", "label": 0, "patient": "p1"}
    misspelt = {"path": "b.png", "label": 1, "pateint": "p2"}
    path = tmp_path / "split.json"
    validator = Draft202012Validator(split_json_schema(sample_type))
    path.write_text(json.dumps({"train": [good, misspelt]}))
    with pytest.raises(SplitFileError) as caught:
        load_split(path, sample_type=sample_type)
    assert "train.1: entry" in str(caught.value)
    assert "key `pateint` is not one the sample type declares" in str(caught.value)
    assert not validator.is_valid({"train": [good, misspelt]})
    path.write_text(json.dumps({"train": [good, {"path": "b.png", "label": 1}]}))
    assert len(load_split(path, sample_type=sample_type)["train"]) == 2
    assert validator.is_valid({"train": [good]})


# JSON values, excluding integral floats: JSON Schema counts 1.0 as an integer
# while lightsplit does not (documented), and NaN, which is not JSON.
_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False).filter(
        lambda f: not f.is_integer()
    )
    | st.text(max_size=5)
)
_json = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner)
    ),
    max_leaves=6,
)
_set_names = st.sampled_from(
    [
        "train",
        "validation",
        "test",
        "monitor-a",
        "monitor-x.1_b",
        "Train",
        "monitor-",
        "x",
    ]
) | st.text(max_size=8)
_entries = (
    st.tuples(st.text(max_size=4), st.integers(-5, 5)).map(list)
    | st.tuples(st.text(max_size=4), _scalars).map(list)
    | st.fixed_dictionaries({"image": st.text(max_size=3), "label": _scalars})
    | _json
)
_documents = st.dictionaries(
    _set_names, st.lists(_entries, max_size=3) | _json, max_size=3
)


def _accepted(path: Path, sample_type: object) -> bool:
    try:
        load_split(path, sample_type=sample_type)
    except SplitFileError:
        return False
    return True


class Finding(enum.IntEnum):
    """Labels as an integer enum."""

    NORMAL = 0
    TUBERCULOSIS = 1


class Pair(NamedTuple):
    """An entry as a named tuple: an array in JSON."""

    image: str
    label: int


@pydantic_dataclass
class LaxRecord:
    """A pydantic dataclass, lax by its own configuration."""

    image: str
    label: int


_TYPES_CHECKED: Final = [
    Any,
    tuple[str, int],
    tuple[str, Literal[0, 1]],
    tuple[str, Finding],
    tuple[str, Literal[True]],
    Pair,
    ImageSample,
    LaxRecord,
]
"""Sample types whose schema is checked against `load_split` on any JSON."""


@pytest.mark.parametrize("sample_type", _TYPES_CHECKED, ids=str)
@settings(max_examples=150, deadline=None)
@given(document=_documents | _json)
def test_schema_agrees_with_load_split(
    tmp_path_factory: pytest.TempPathFactory, sample_type: object, document: object
) -> None:
    """A document matches the schema exactly when ``load_split`` accepts it."""
    path = tmp_path_factory.mktemp("split") / "split.json"
    path.write_text(json.dumps(document))
    valid = Draft202012Validator(split_json_schema(sample_type)).is_valid(document)
    assert _accepted(path, sample_type) == valid


def test_set_name_with_a_final_line_end_is_refused(tmp_path: Path) -> None:
    """``train\\n`` is no set name, for Python validators too (whose ``$`` matches
    before a final line end)."""
    document = {"train\n": [["a.png", 0]]}
    assert not Draft202012Validator(split_json_schema()).is_valid(document)
    path = tmp_path / "split.json"
    path.write_text(json.dumps(document))
    assert not _accepted(path, Any)


class Color(enum.Enum):
    """Members named in a literal, written as their values."""

    RED = "red"
    BLUE = "blue"


@pytest.mark.parametrize(
    ("sample_type", "entry", "message"),
    [
        (ImageSample, {"image": "a", "label": "1"}, "Input should be a valid integer"),
        (ImageSample, {"image": "a", "label": True}, "Input should be a valid integer"),
        (LaxRecord, {"image": "a", "label": "0"}, "Input should be a valid integer"),
        (
            tuple[str, Literal[0, 1]],
            ["a", True],
            "Input should be 0 or 1; a JSON `true` or `false` is no number (at `1`)",
        ),
        (
            tuple[str, Finding],
            ["a", False],
            "Input should be 0 or 1; a JSON `true` or `false` is no number (at `1`)",
        ),
        (
            tuple[str, Literal[True]],
            ["a", 1],
            "Input should be true; a number is no JSON `true` or `false` (at `1`)",
        ),
        (
            Pair,
            {"image": "a", "label": 1},
            "Input should be a JSON array of the items of `Pair` in order (image, "
            "label), not an object",
        ),
    ],
    ids=str,
)
def test_no_value_read_as_another(
    tmp_path: Path, sample_type: object, entry: object, message: str
) -> None:
    """What the schema refuses, ``load_split`` refuses, whatever pydantic would
    take: a string or boolean for a model's integer (a model's own lax settings
    included), a boolean for a literal or enum number, a number for a literal
    boolean, an object for a named tuple."""
    document = {"train": [entry]}
    assert not Draft202012Validator(split_json_schema(sample_type)).is_valid(document)
    path = tmp_path / "split.json"
    path.write_text(json.dumps(document))
    with pytest.raises(SplitFileError) as caught:
        load_split(path, sample_type=sample_type)
    assert f"train.0: entry {json.dumps(entry)}: {message}" in str(caught.value)


@pytest.mark.parametrize(
    ("sample_type", "label"),
    [(tuple[str, Literal[0, 1]], 1.0), (tuple[str, Finding], 1.0)],
    ids=str,
)
def test_integral_float_is_no_integer_label(
    tmp_path: Path, sample_type: object, label: float
) -> None:
    """``1.0`` is not the ``1`` of a literal or an integer enum, as it is not an
    ``int`` (one of the documented cases that JSON Schema cannot express)."""
    path = tmp_path / "split.json"
    path.write_text(json.dumps({"train": [["a", label]]}))
    with pytest.raises(SplitFileError, match="write the integer without a fraction"):
        load_split(path, sample_type=sample_type)


def test_literal_enum_member_reads_its_value(tmp_path: Path) -> None:
    """A literal enum member is written as its value, as the schema says."""
    sample_type = tuple[str, Literal[Color.RED]]
    document = {"train": [["a", "red"]]}
    assert Draft202012Validator(split_json_schema(sample_type)).is_valid(document)
    path = tmp_path / "split.json"
    path.write_text(json.dumps(document))
    assert load_split(path, sample_type=sample_type)["train"] == (("a", Color.RED),)


def test_integer_beyond_a_float_is_refused_as_float(tmp_path: Path) -> None:
    """An integer too large for a float is refused for a ``float``, as ``1e400``
    is, not read as infinity."""
    path = tmp_path / "split.json"
    path.write_text('{"train": [["a", 1' + "0" * 400 + '], ["b", 2]]}')
    with pytest.raises(SplitFileError, match="too large for a 64-bit float"):
        load_split(path, sample_type=tuple[str, float])
    path.write_text('{"train": [["a", 1' + "0" * 300 + '], ["b", 2]]}')
    values = [
        label for _, label in load_split(path, sample_type=tuple[str, float])["train"]
    ]
    assert values == [1e300, 2.0]
    assert all(map(math.isfinite, values))


@pytest.mark.parametrize("sample_type", [None, frozenset[int]])
def test_no_schema_of_a_refused_type(sample_type: object) -> None:
    """No schema is made for a type that ``load_split`` refuses."""
    with pytest.raises(TypeError, match="`sample_type`"):
        split_json_schema(sample_type)
