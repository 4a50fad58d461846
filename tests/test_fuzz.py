"""Property-based tests: any input is accepted and round-trips, or refused clearly."""

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lightsplit_testing import MemoryLoader
from pydantic import ValidationError

from lightsplit import ConcatDataModule, DataModuleConfig, SplitFileError, load_split

FIELDS = list(DataModuleConfig.model_fields)
FUZZ = settings(
    max_examples=200, deadline=2000, suppress_health_check=[HealthCheck.too_slow]
)


def _check_readable(error: Exception, *expected: str) -> None:
    """An error can be printed and says what it is about."""
    text = str(error)
    text.encode("utf-8")
    if isinstance(error, ValidationError):
        assert error.errors(include_url=False)
    for part in expected:
        assert part in text


_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**80), 2**80)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner)
    ),
    max_leaves=5,
)
_names = st.sampled_from(["train", "validation", "test", "monitor-a"]) | st.text(
    alphabet=st.characters(), max_size=10
)


@FUZZ
@given(
    st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=6), _values, max_size=6)
)
def test_config_valid_or_validation_error(data: dict[str, Any]) -> None:
    """Any settings give a configuration that round-trips, or a ValidationError."""
    try:
        config = DataModuleConfig.model_validate(data)
    except ValidationError as exc:
        _check_readable(exc)
        return
    assert DataModuleConfig.model_validate_json(config.model_dump_json()) == config


@FUZZ
@given(st.text(max_size=60) | st.binary(max_size=60).map(lambda b: b.decode("latin-1")))
def test_config_json_text(text: str) -> None:
    """Any JSON text gives a configuration or a ValidationError."""
    try:
        DataModuleConfig.model_validate_json(text)
    except ValidationError as exc:
        _check_readable(exc)


def _document_text(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["json", "duplicate", "deep", "number", "raw"]))
    if kind == "json":
        sets = draw(st.dictionaries(_names, st.lists(_values, max_size=4) | _values))
        return json.dumps(sets)
    if kind == "duplicate":
        name = draw(_names)
        return f"{{{json.dumps(name)}: [], {json.dumps(name)}: [1]}}"
    if kind == "deep":
        depth = draw(st.integers(1, 100_000))
        return '{"train": [' + "[" * depth + "]" * depth + "]}"
    if kind == "number":
        digits = draw(st.integers(1, 10_000))
        exponent = draw(st.sampled_from(["", "e400", "e-400", ".5"]))
        return '{"train": [' + "9" * digits + exponent + "]}"
    return draw(st.text(max_size=40))


@FUZZ
@pytest.mark.parametrize("sample_type", [Any, tuple[str, int], list[object]])
@given(data=st.data())
def test_split_valid_or_split_file_error(
    tmp_path_factory: pytest.TempPathFactory, sample_type: object, data: st.DataObject
) -> None:
    """Any file loads and round-trips, or raises a SplitFileError naming the file."""
    text = data.draw(st.composite(_document_text)())
    path = tmp_path_factory.mktemp("fuzz") / "split.json"
    path.write_text(text, encoding="utf-8")
    try:
        split = load_split(path, sample_type=sample_type)
    except SplitFileError as exc:
        _check_readable(exc, str(path))
        return
    again = tmp_path_factory.mktemp("fuzz") / "again.json"
    again.write_text(
        json.dumps({name: list(samples) for name, samples in split.items()})
    )
    assert load_split(again, sample_type=sample_type) == split


def _loader_or_junk(draw: st.DrawFn) -> object:
    return draw(st.sampled_from([MemoryLoader(), object(), None, "loader", 3]))


@FUZZ
@given(
    st.dictionaries(
        _names | st.integers(),
        st.lists(
            st.tuples(
                st.lists(_values, max_size=3) | _values, st.composite(_loader_or_junk)()
            )
            | _values,
            max_size=3,
        )
        | _values,
        max_size=3,
    )
)
def test_splits_valid_or_validation_error(splits: dict[object, object]) -> None:
    """Any mapping given as splits is accepted or refused with a ValidationError."""
    try:
        module = ConcatDataModule(splits)  # type: ignore[arg-type]  # fuzzed on purpose
    except ValidationError as exc:
        _check_readable(exc)
        return
    assert set(module.set_names) == set(splits)


def test_deep_nesting_is_refused_quickly(tmp_path: Path) -> None:
    """A pathologically nested file is refused, not a crash."""
    path = tmp_path / "deep.json"
    path.write_text('{"train": [' + "[" * 1_000_000 + "]" * 1_000_000 + "]}")
    with pytest.raises(SplitFileError, match="invalid JSON"):
        load_split(path, sample_type=list[object])
