import re

import pytest
import torch
from torch import Tensor
from torch.utils.data import default_collate

from lightsplit import SampleLoadError
from lightsplit._metadata import (
    MetadataRules,
    collate_metadata,
    collate_values,
    kind_of,
    pack_values,
)


def _item(position: int) -> str:
    return f"item {position}"


class TestMetadataRules:
    def test_same_keys_and_types_pass(self) -> None:
        """A sample with the first's keys, in another order, and types passes."""
        rules = MetadataRules({"a": 1, "b": "x"}, described="item 0")
        rules.check({"b": "y", "a": 2}, 1, _item)

    def test_keys_differ(self) -> None:
        """Extra and missing keys are both listed."""
        rules = MetadataRules({"a": 1, "b": 2}, described="item 0")
        with pytest.raises(SampleLoadError) as exc_info:
            rules.check({"a": 1, "c": 3}, 4, _item)
        assert str(exc_info.value) == (
            "item 4: metadata keys ['a', 'c'] differ from those of item 0 ['a', 'b'] "
            "(extra `c`, missing `b`); give every sample of a set the same metadata "
            "keys"
        )

    @pytest.mark.parametrize(
        ("first", "other", "found", "expected"),
        [
            pytest.param(1, True, "bool", "int", id="bool-int"),
            pytest.param(1, 1.0, "float", "int", id="int-float"),
            pytest.param("a", None, "NoneType", "str", id="none"),
            pytest.param(torch.tensor(1), 1, "int", "Tensor", id="tensor-int"),
        ],
    )
    def test_types_differ(
        self, first: object, other: object, found: str, expected: str
    ) -> None:
        """Values of another Python type break the rule; bool is not int."""
        rules = MetadataRules({"k": first}, described="item 0")
        with pytest.raises(
            SampleLoadError,
            match=re.escape(
                f"item 2: metadata `k` is of type `{found}` but of type `{expected}` "
                "in item 0; give `k` values of one type in every sample of a set"
            ),
        ):
            rules.check({"k": other}, 2, _item)

    def test_tensors_are_one_type(self) -> None:
        """Tensors of any shape and dtype, or a subclass, are of one type."""
        rules = MetadataRules({"t": torch.zeros(2)}, described="item 0")
        rules.check({"t": torch.zeros(3, dtype=torch.int8)}, 1, _item)
        rules.check({"t": torch.nn.Parameter(torch.zeros(1))}, 2, _item)
        assert kind_of(torch.nn.Parameter(torch.zeros(1))) is Tensor


class TestPackValues:
    @pytest.mark.parametrize(
        ("values", "kind", "dtype"),
        [
            pytest.param([1, 2], int, torch.int64, id="int"),
            pytest.param([0.5, 2.0], float, torch.float64, id="float"),
            pytest.param([True, False], bool, torch.bool, id="bool"),
        ],
    )
    def test_numbers(
        self, values: list[object], kind: type, dtype: torch.dtype
    ) -> None:
        """Numbers become the tensor default_collate makes of them."""
        packed = pack_values(values, kind)
        assert isinstance(packed, Tensor)
        assert packed.dtype == dtype
        assert torch.equal(packed, default_collate(values))

    def test_numbers_beyond_64_bits(self) -> None:
        """Integers no tensor can hold stay a list."""
        assert pack_values([1, 2**70], int) == [1, 2**70]

    def test_same_shape_tensors_stack(self) -> None:
        """Tensors of one shape and dtype are stacked into one tensor."""
        values: list[object] = [torch.tensor([0.0, 1.0]), torch.tensor([2.0, 3.0])]
        packed = pack_values(values, Tensor)
        assert isinstance(packed, Tensor)
        assert torch.equal(packed, torch.tensor([[0.0, 1.0], [2.0, 3.0]]))

    @pytest.mark.parametrize(
        "values",
        [
            pytest.param([torch.zeros(1), torch.zeros(2)], id="shapes"),
            pytest.param(
                [torch.zeros(1), torch.zeros(1, dtype=torch.int8)], id="dtypes"
            ),
        ],
    )
    def test_other_tensors_stay_a_list(self, values: list[object]) -> None:
        """Tensors of several shapes or dtypes stay one by one."""
        assert pack_values(values, Tensor) == values

    def test_strings_stay_a_list(self) -> None:
        """Strings stay a list of strings."""
        assert pack_values(["a", "b"], str) == ["a", "b"]


class TestCollate:
    def test_tensor_shapes_differ(self) -> None:
        """Tensors of several shapes name the first odd sample and the batch's first."""
        with pytest.raises(SampleLoadError) as exc_info:
            collate_values(
                "m", [torch.zeros(2), torch.zeros(2), torch.zeros(3)], where=_item
            )
        assert str(exc_info.value) == (
            "item 2: metadata `m` is a tensor of shape (3,) but of shape (2,) in the "
            "batch's first sample (item 0); give `m` one shape in every sample, or "
            "use a `batch_size` of 1"
        )

    def test_tensor_dtypes_differ(self) -> None:
        """Tensors of several dtypes are refused, not cast to one (as workers do)."""
        with pytest.raises(SampleLoadError) as exc_info:
            collate_values(
                "m", [torch.zeros(2), torch.zeros(2, dtype=torch.float64)], where=_item
            )
        assert str(exc_info.value) == (
            "item 1: metadata `m` is a tensor of dtype torch.float64 but of dtype "
            "torch.float32 in the batch's first sample (item 0); give `m` one dtype "
            "in every sample (in the loader, `torch.tensor(value, "
            "dtype=torch.float32)`)"
        )

    def test_collates_as_default_collate(self) -> None:
        """Each key is collated as default_collate collates its values."""
        metadata: list[dict[str, object]] = [
            {"n": i, "s": str(i), "t": torch.full((2,), i), "l": [i, 1]}
            for i in range(3)
        ]
        batch = collate_metadata(metadata, where=_item)
        expected = default_collate(metadata)
        assert batch["s"] == expected["s"] == ["0", "1", "2"]
        for key in ("n", "t"):
            assert torch.equal(batch[key], expected[key])  # type: ignore[arg-type]  # tensors here
        assert all(
            torch.equal(a, b)
            for a, b in zip(batch["l"], expected["l"], strict=True)  # type: ignore[call-overload]  # lists here
        )

    def test_checks_every_item_against_the_first(self) -> None:
        """A batch item of another type is named with the batch's first."""
        with pytest.raises(
            SampleLoadError,
            match=re.escape(
                "item 1: metadata `n` is of type `str` but of type `int` in the "
                "batch's first sample (item 0)"
            ),
        ):
            collate_metadata([{"n": 1}, {"n": "1"}], where=_item)
