import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NotRequired

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from pydantic import BaseModel
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
_entries = st.tuples(st.text(max_size=4), st.integers(-5, 5)).map(list) | _json
_documents = st.dictionaries(
    _set_names, st.lists(_entries, max_size=3) | _json, max_size=3
)


def _accepted(path: Path, sample_type: object) -> bool:
    try:
        load_split(path, sample_type=sample_type)
    except SplitFileError:
        return False
    return True


@pytest.mark.parametrize("sample_type", [Any, tuple[str, int]])
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
