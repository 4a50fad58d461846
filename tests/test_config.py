import enum
import json
import math
import os
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from lightsplit import DataModuleConfig


def _error(
    exc_info: pytest.ExceptionInfo[ValidationError],
) -> tuple[str, tuple[int | str, ...]]:
    [error] = exc_info.value.errors(include_url=False)
    return error["type"], error["loc"]


class TestDataModuleConfig:
    def test_defaults(self) -> None:
        """The defaults are those of the reference data module."""
        assert DataModuleConfig().model_dump() == {
            "database_name": "",
            "split_name": "",
            "task": "",
            "num_classes": 1,
            "cache_samples": False,
            "balance_sampler_by_class": False,
            "batch_size": 1,
            "batch_chunk_count": 1,
            "drop_incomplete_batch": False,
            "parallel": -1,
            "cache_dir": None,
            "seed": None,
            "cache_on_device": False,
            "device_headroom": 0.25,
            "allow_data_change": False,
            "group_pattern": None,
            "group_field": None,
        }

    @pytest.mark.parametrize(
        ("name", "fix"),
        [
            ("batch_szie", "did you mean `batch_size`?"),
            ("batchsize", "did you mean `batch_size`?"),
            ("cache_sample", "did you mean `cache_samples`?"),
            ("batch_chunks", "did you mean `batch_chunk_count`?"),
            ("drop_last", "did you mean `drop_incomplete_batch`?"),
            ("num_workers", "the worker processes of lightsplit's loaders are set by"),
        ],
    )
    def test_unknown_setting_named(self, name: str, fix: str) -> None:
        """A name close to a setting, or torch's, is refused naming the setting
        meant: made, replaced and read from JSON alike."""
        changes: dict[str, Any] = {name: 4}
        replace: Callable[..., object] = DataModuleConfig().replace
        attempts: list[Callable[[], object]] = [
            partial(DataModuleConfig.model_validate, changes),
            partial(replace, **changes),
            partial(DataModuleConfig.model_validate_json, json.dumps(changes)),
        ]
        for attempt in attempts:
            with pytest.raises(ValidationError) as exc_info:
                attempt()
            [error] = exc_info.value.errors(include_url=False)
            assert error["type"] == "extra_forbidden"
            assert f"`{name}` is no setting of a data module; {fix}" in error["msg"]

    def test_unknown_setting_with_every_other_problem(self) -> None:
        """A misspelt setting is one error among all the others, each at its
        name (it stopped validation: `foo` and `parallel=-2` went unsaid)."""
        with pytest.raises(ValidationError) as exc_info:
            DataModuleConfig.model_validate(
                {"batch_szie": 8, "paralel": 2, "parallel": -2, "foo": 1}
            )
        found = [(e["type"], e["loc"]) for e in exc_info.value.errors()]
        assert found == [
            ("extra_forbidden", ("batch_szie",)),
            ("extra_forbidden", ("paralel",)),
            ("parallel_invalid", ("parallel",)),
            ("extra_forbidden", ("foo",)),
        ]
        messages = [e["msg"] for e in exc_info.value.errors()]
        assert messages[1] == (
            "`paralel` is no setting of a data module; did you mean `parallel`?"
        )
        assert messages[2].startswith("`parallel` is -2; give an integer")

    def test_current_folder_as_cache_dir(self) -> None:
        """``.`` is the current folder, as the message of an empty one says."""
        config = DataModuleConfig(cache_samples=True, cache_dir=".")
        assert config.cache_dir == Path()

    def test_frozen_field_says_replace(self) -> None:
        """Assigning a setting is refused (pydantic's type), saying how to derive
        a changed configuration."""
        config = DataModuleConfig()
        with pytest.raises(ValidationError) as exc_info:
            config.batch_size = 4  # type: ignore[misc]  # frozen, refused on purpose
        [error] = exc_info.value.errors(include_url=False)
        assert (error["type"], error["loc"]) == ("frozen_instance", ("batch_size",))
        assert "derive a changed copy: `.replace(batch_size=...)`" in error["msg"]
        assert config.batch_size == 1

    @pytest.mark.parametrize(
        ("field", "value", "error_type"),
        [
            pytest.param("batch_size", "64", "int_type", id="batch-size-str"),
            pytest.param("batch_size", True, "int_type", id="batch-size-bool"),
            pytest.param("batch_size", 64.0, "int_type", id="batch-size-float"),
            pytest.param("batch_size", 0, "greater_than_equal", id="batch-size-zero"),
            pytest.param(
                "batch_chunk_count", 0, "greater_than_equal", id="chunks-zero"
            ),
            pytest.param("parallel", -7, "parallel_invalid", id="parallel-minus-7"),
            pytest.param("parallel", "2", "parallel_invalid", id="parallel-str"),
            pytest.param("parallel", 2.0, "parallel_invalid", id="parallel-float"),
            pytest.param("parallel", True, "parallel_invalid", id="parallel-bool"),
            pytest.param("cache_samples", 1, "bool_type", id="cache-int"),
            pytest.param("cache_samples", "yes", "bool_type", id="cache-str"),
            pytest.param("database_name", 3, "string_type", id="name-int"),
            pytest.param("colour", 3, "extra_forbidden", id="unknown"),
            pytest.param("cache_dir", "~/caches", "cache_dir_home", id="home"),
            pytest.param("cache_dir", "~user/caches", "cache_dir_home", id="home-of"),
            pytest.param("device_headroom", "0.1", "float_type", id="headroom-str"),
            pytest.param("device_headroom", True, "float_type", id="headroom-bool"),
            pytest.param(
                "device_headroom", np.float32(0.1), "float_type", id="headroom-f32"
            ),
            pytest.param(
                "device_headroom", torch.tensor(0.1), "float_type", id="headroom-t"
            ),
            pytest.param(
                "device_headroom", math.nan, "finite_number", id="headroom-nan"
            ),
        ],
    )
    def test_invalid_value(self, field: str, value: object, error_type: str) -> None:
        """Each invalid value is refused at its field, nothing coerced."""
        with pytest.raises(ValidationError) as exc_info:
            DataModuleConfig.model_validate({field: value})
        assert _error(exc_info) == (error_type, (field,))

    @pytest.mark.parametrize(
        ("value", "fix"),
        [
            ("0.1", "not the string '0.1'; give 0.1, without quotes"),
            (
                np.float32(0.5),
                "not the numpy.float32 0.5; give a Python `float`, as "
                "in `float(value)`",
            ),
        ],
    )
    def test_number_hint(self, value: object, fix: str) -> None:
        """A value that plainly means a number is refused, saying what to write."""
        with pytest.raises(ValidationError) as exc_info:
            DataModuleConfig(device_headroom=value)  # type: ignore[arg-type]  # the point
        [error] = exc_info.value.errors(include_url=False)
        assert error["msg"] == f"Input should be a valid number, {fix}"

    def test_not_divisible(self) -> None:
        """The error names both fields and proposes the nearest valid values."""
        with pytest.raises(ValidationError) as exc_info:
            DataModuleConfig(batch_size=30, batch_chunk_count=4)
        [error] = exc_info.value.errors(include_url=False)
        assert (error["type"], error["loc"]) == ("batch_not_divisible", ())
        assert error["msg"] == (
            "`batch_size` (30) is not divisible by `batch_chunk_count` (4); "
            "use a `batch_size` of 28 or 32, or a `batch_chunk_count` of 3 or 5"
        )

    def test_not_divisible_small_batch(self) -> None:
        """A batch smaller than the chunk count gets only valid proposals."""
        with pytest.raises(ValidationError) as exc_info:
            DataModuleConfig(batch_size=2, batch_chunk_count=4)
        [error] = exc_info.value.errors(include_url=False)
        assert error["ctx"] == {
            "batch_size": 2,
            "batch_chunk_count": 4,
            "sizes": "4",
            "counts": "2",
        }

    @given(st.integers(1, 500), st.integers(2, 64))
    def test_proposals_are_valid(self, batch_size: int, chunks: int) -> None:
        """Every value the error proposes is accepted with the other one."""
        if batch_size % chunks == 0:
            DataModuleConfig(batch_size=batch_size, batch_chunk_count=chunks)
            return
        with pytest.raises(ValidationError) as exc_info:
            DataModuleConfig(batch_size=batch_size, batch_chunk_count=chunks)
        [error] = exc_info.value.errors(include_url=False)
        ctx = error.get("ctx")
        assert ctx is not None
        sizes = [int(s) for s in str(ctx["sizes"]).split(" or ")]
        counts = [int(c) for c in str(ctx["counts"]).split(" or ")]
        assert sizes
        assert counts
        for size in sizes:
            assert abs(size - batch_size) < chunks
            DataModuleConfig(batch_size=size, batch_chunk_count=chunks)
        for count in counts:
            DataModuleConfig(batch_size=batch_size, batch_chunk_count=count)

    def test_frozen(self) -> None:
        """A configuration cannot be changed in place."""
        config = DataModuleConfig()
        with pytest.raises(ValidationError) as exc_info:
            config.batch_size = 4  # type: ignore[misc]  # as mypy says
        assert _error(exc_info) == ("frozen_instance", ("batch_size",))

    def test_replace_validates(self) -> None:
        """``replace`` returns a new, validated configuration."""
        config = DataModuleConfig(batch_size=8)
        changed = config.replace(batch_chunk_count=4)
        assert (config.batch_chunk_count, changed.batch_chunk_count) == (1, 4)
        with pytest.raises(ValidationError):
            config.replace(batch_chunk_count=3)

    @pytest.mark.parametrize(("parallel", "workers"), [(-1, 0), (1, 1), (5, 5)])
    def test_num_workers(self, parallel: int, workers: int) -> None:
        """``parallel`` maps to ``num_workers`` as in the reference."""
        assert DataModuleConfig(parallel=parallel).num_workers == workers

    def test_integer_enum_members_are_integers(self) -> None:
        """An ``IntEnum`` member is an integer for ``parallel`` as for the others."""

        class Workers(enum.IntEnum):
            TWO = 2

        config = DataModuleConfig(parallel=Workers.TWO, batch_size=Workers.TWO)
        assert (type(config.parallel), config.parallel, config.num_workers) == (
            int,
            2,
            2,
        )
        assert type(config.batch_size) is int

    def test_num_workers_per_cpu(self) -> None:
        """``parallel=0`` uses one worker per CPU this process may run on."""
        expected = len(os.sched_getaffinity(0))
        assert DataModuleConfig(parallel=0).num_workers == expected

    @given(
        st.builds(
            DataModuleConfig,
            database_name=st.text(),
            split_name=st.text(),
            cache_samples=st.booleans(),
            balance_sampler_by_class=st.booleans(),
            batch_size=st.just(12),
            batch_chunk_count=st.sampled_from([1, 2, 3, 4, 6, 12]),
            drop_incomplete_batch=st.booleans(),
            parallel=st.integers(-1, 64),
        )
    )
    def test_json_round_trip(self, config: DataModuleConfig) -> None:
        """A configuration survives a trip through JSON unchanged."""
        assert DataModuleConfig.model_validate_json(config.model_dump_json()) == config

    @pytest.mark.parametrize(
        ("field", "value", "message"),
        [
            pytest.param(
                "batch_size",
                np.int64(8),
                "not the numpy.int64 8; give a Python `int`, as in `int(value)`",
                id="numpy-int",
            ),
            pytest.param(
                "seed",
                torch.tensor(3),
                "not the torch.Tensor tensor(3); give a Python `int`",
                id="tensor-int",
            ),
            pytest.param("batch_size", 64.0, "not the float 64.0; give 64", id="float"),
            pytest.param(
                "batch_chunk_count",
                " 2",
                "not the string ' 2'; give 2, without quotes",
                id="str",
            ),
            pytest.param(
                "num_classes", True, "not the bool True; give a whole number", id="bool"
            ),
            pytest.param(
                "cache_samples",
                "yes",
                "valid boolean, not the string 'yes'; give true or false, without",
                id="yes",
            ),
            pytest.param(
                "allow_data_change",
                np.bool_(True),
                "not the numpy.bool True; give true or false, as in `bool(value)`",
                id="numpy-bool",
            ),
            pytest.param(
                "drop_incomplete_batch", 0, "not the int 0; give true or false", id="0"
            ),
            pytest.param(
                "batch_size",
                8.5,
                "not the float 8.5; give a whole number, such as 8 or 9",
                id="fraction",
            ),
            pytest.param(
                "batch_size", None, "not None; give a whole number", id="None"
            ),
            pytest.param(
                "cache_samples", None, "not None; give true or false", id="null"
            ),
        ],
    )
    def test_wrong_type_says_fix(self, field: str, value: object, message: str) -> None:
        """A value of the wrong type that plainly means a number or truth value
        is still refused, with pydantic's type, and the message says what to give."""
        with pytest.raises(ValidationError) as exc_info:
            DataModuleConfig.model_validate({field: value})
        [error] = exc_info.value.errors(include_url=False)
        assert error["type"] == ("bool_type" if "true or" in message else "int_type")
        assert error["loc"] == (field,)
        assert message in error["msg"]

    @pytest.mark.parametrize("value", ["eight", [8], torch.tensor(8.0)])
    def test_wrong_type_without_fix(self, value: object) -> None:
        """Other values keep pydantic's message: no fix is guessed."""
        with pytest.raises(ValidationError) as exc_info:
            DataModuleConfig.model_validate({"batch_size": value})
        [error] = exc_info.value.errors(include_url=False)
        assert error["msg"] == "Input should be a valid integer"

    def test_json_strict(self) -> None:
        """JSON input is strict too: a quoted number is not a batch size."""
        with pytest.raises(ValidationError) as exc_info:
            DataModuleConfig.model_validate_json('{"batch_size": "64"}')
        assert _error(exc_info) == ("int_type", ("batch_size",))

    def test_json_schema(self) -> None:
        """The exported schema documents each field and forbids unknown ones."""
        schema = DataModuleConfig.model_json_schema()
        assert schema["additionalProperties"] is False
        assert schema["properties"]["parallel"]["minimum"] == -1
        assert "accumulated" in schema["properties"]["batch_chunk_count"]["description"]
        json.dumps(schema)
