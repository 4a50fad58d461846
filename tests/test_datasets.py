import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

import pytest
import torch
from lightsplit_testing import Entry, MemoryLoader, entries_named

from lightsplit import CachingDataModule, LightsplitWarning, Sample, SampleLoadError
from lightsplit._datasets import collate_samples
from lightsplit._fingerprint import fingerprint_of
from lightsplit._loader import SampleLoader


@dataclass
class MetadataLoader(MemoryLoader):
    """Adds the metadata of ``extra(number)`` to each sample."""

    kind: str = "mixed"

    def sample(self, raw: Entry) -> Sample:
        sample = super().sample(raw)
        number = int(raw[0][1:])
        extra: dict[str, object]
        if self.kind == "mixed":
            extra = {"score": number + 0.5, "flag": number > 1}
        elif self.kind == "tensor":
            extra = {
                "mask": torch.full((2, 2), number),
                "box": torch.tensor([number, 1.0]),
            }
        elif self.kind == "ragged-tensor":
            extra = {"points": torch.zeros(number + 1)}
        elif self.kind == "dtypes":  # one sample's target of another dtype
            extra = {
                "target": torch.tensor(
                    number, dtype=torch.float64 if number == 1 else torch.float32
                )
            }
        elif self.kind == "types":
            extra = {"score": "three" if number == 3 else number}
        elif self.kind == "nested-keys":  # a dict of one more key in one sample
            extra = {"info": {"x": 1, "y": 2} if number == 1 else {"x": 1}}
        elif self.kind == "nested-dtypes":  # a nested tensor of another dtype
            dtype = torch.float32 if number == 1 else torch.uint8
            extra = {"box": {"t": torch.tensor([1, 2], dtype=dtype)}}
        elif self.kind == "wide":  # a 64-bit unsigned hash, say
            extra = {"accession": 2**63 + number if number == 1 else number}
        else:
            extra = {"only_some": 1} if number == 2 else {}
        return Sample(sample.input, {**sample.metadata, **extra})


SERVING: Final = [(True, -1), (True, 2), (False, -1), (False, 2)]
"""Cached or not, in process or in loader workers: ``(cache, parallel)``."""

FIRST: Final = 'the batch\'s first sample (set `test`, index 0, entry ["x0", 0])'
"""How messages name the first sample of the first test batch."""


def _both(
    loader: MemoryLoader, count: int = 4, batch_size: int = 2
) -> list[list[Sample]]:
    split = {"test": entries_named("x", count)}
    return [
        list(
            CachingDataModule(
                split, loader, cache_samples=c, batch_size=batch_size
            ).test_dataloader()["test"]
        )
        for c in (True, False)
    ]


def _test_batches(
    loader: MemoryLoader, *, batch_size: int = 2, **settings: bool | int
) -> SampleLoader:
    """Return the loader of a test set of 4 entries of ``loader``."""
    module = CachingDataModule(
        {"test": entries_named("x", 4)},
        loader,
        batch_size=batch_size,
        **settings,  # type: ignore[arg-type]  # cache_samples, parallel
    )
    return module.test_dataloader()["test"]


def _failure(loader: MemoryLoader, **settings: bool | int) -> str:
    """Return the message of the error the batches of `_test_batches` raise."""
    with pytest.raises(SampleLoadError) as exc_info:
        list(_test_batches(loader, **settings))
    return str(exc_info.value)


class TestMetadata:
    @pytest.mark.parametrize("kind", ["mixed", "tensor"])
    def test_cached_equals_uncached(self, kind: str) -> None:
        """Numbers, booleans and tensors collate the same, cached or not."""
        cached, uncached = _both(MetadataLoader(kind=kind))
        for left, right in zip(cached, uncached, strict=True):
            for key, value in left.metadata.items():
                other = right.metadata[key]
                if isinstance(value, torch.Tensor):
                    assert value.dtype == other.dtype
                    assert torch.equal(value, other)
                else:
                    assert value == other

    def test_ragged_tensor_metadata(self) -> None:
        """Tensors of several shapes in metadata are served one by one."""
        cached, uncached = _both(MetadataLoader(kind="ragged-tensor"), batch_size=1)
        assert [b.metadata["points"].shape for b in cached] == [
            b.metadata["points"].shape for b in uncached
        ]

    @pytest.mark.parametrize(
        ("cache", "parallel"), [(True, -1), (True, 2), (False, -1)]
    )
    def test_keys_must_agree(self, cache: bool, parallel: int) -> None:
        """Samples with different metadata keys get an error naming sample and keys."""
        module = CachingDataModule(
            {"test": entries_named("x", 4)},
            MetadataLoader(kind="keys"),
            batch_size=4,
            cache_samples=cache,
            parallel=parallel,
        )
        first = "sample 0" if cache else "the batch's first sample"
        with pytest.raises(SampleLoadError) as exc_info:
            list(module.test_dataloader()["test"])
        assert str(exc_info.value) == (
            'set `test`, index 2, entry ["x2", 0]: metadata keys '
            "['label', 'name', 'only_some', 'weight'] differ from those of "
            f'{first} (set `test`, index 0, entry ["x0", 0]) '
            "['label', 'name', 'weight'] (extra `only_some`); give every sample of "
            "a set the same metadata keys"
        )

    @pytest.mark.parametrize(("cache", "parallel"), SERVING)
    def test_tensor_dtypes_must_agree_in_a_batch(
        self, cache: bool, parallel: int
    ) -> None:
        """A tensor of another dtype in a batch is refused, cached, in process or
        in workers alike (workers would cast it to the first's, others widen)."""
        settings = {"cache_samples": cache, "parallel": parallel}
        assert _failure(MetadataLoader(kind="dtypes"), **settings) == (
            'set `test`, index 1, entry ["x1", 1]: metadata `target` is a tensor of '
            "dtype torch.float64 but of dtype torch.float32 in the batch's first "
            'sample (set `test`, index 0, entry ["x0", 0]); give `target` one dtype '
            "in every sample (in the loader, `torch.tensor(value, "
            "dtype=torch.float32)`)"
        )
        batches = _test_batches(MetadataLoader(kind="dtypes"), batch_size=1, **settings)
        dtypes = [batch.metadata["target"].dtype for batch in batches]
        assert dtypes == [torch.float32, torch.float64, torch.float32, torch.float32]

    @pytest.mark.parametrize(("cache", "parallel"), SERVING)
    @pytest.mark.parametrize(
        ("kind", "message"),
        [
            pytest.param(
                "wide",
                "metadata `accession` is 9223372036854775809, beyond what a batch's "
                "64-bit integers hold (-9223372036854775808 to 9223372036854775807); "
                "give `accession` as a string (`str(value)`)",
                id="beyond-64-bits",
            ),
            pytest.param(
                "nested-keys",
                "metadata `info` is a dict of keys ['x', 'y'] but ['x'] (extra `y`) in "
                f"{FIRST}; give `info` values of one structure in every sample (dicts "
                "of one set of keys, lists of one length), or use a `batch_size` of 1",
                id="nested-keys",
            ),
            pytest.param(
                "nested-dtypes",
                "metadata `box['t']` is a tensor of dtype torch.float32 but of dtype "
                f"torch.uint8 in {FIRST}; give `box['t']` one dtype in every sample "
                "(in the loader, `torch.tensor(value, dtype=torch.uint8)`)",
                id="nested-dtypes",
            ),
        ],
    )
    def test_values_no_batch_holds_are_named(
        self, cache: bool, parallel: int, kind: str, message: str
    ) -> None:
        """An integer beyond 64 bits, a nested dict of other keys (one more was
        dropped, one fewer a bare KeyError) or a nested tensor of another dtype
        (widened in process only) is refused, naming the sample and the place."""
        settings = {"cache_samples": cache, "parallel": parallel}
        assert _failure(MetadataLoader(kind=kind), **settings) == (
            f'set `test`, index 1, entry ["x1", 1]: {message}'
        )

    @pytest.mark.parametrize("parallel", [-1, 2])
    def test_types_must_agree_when_cached(self, parallel: int) -> None:
        """A key whose type changes fails the cache build at setup, naming both."""
        module = CachingDataModule(
            {"test": entries_named("x", 4)},
            MetadataLoader(kind="types"),
            cache_samples=True,
            parallel=parallel,
        )
        with pytest.raises(SampleLoadError) as exc_info:
            module.setup("test")
        assert str(exc_info.value) == (
            'set `test`, index 3, entry ["x3", 1]: metadata `score` is of type '
            '`str` but of type `int` in sample 0 (set `test`, index 0, entry ["x0", '
            "0]); give `score` values of one type in every sample of a set"
        )

    def test_types_must_agree_in_a_batch(self) -> None:
        """A key whose type changes within a batch names both samples."""
        module = CachingDataModule(
            {"test": entries_named("x", 4)}, MetadataLoader(kind="types"), batch_size=4
        )
        with pytest.raises(SampleLoadError) as exc_info:
            list(module.test_dataloader()["test"])
        assert str(exc_info.value) == (
            'set `test`, index 3, entry ["x3", 1]: metadata `score` is of type '
            "`str` but of type `int` in the batch's first sample (set `test`, index "
            '0, entry ["x0", 0]); give `score` values of one type in every sample of '
            "a set"
        )

    @pytest.mark.parametrize("cache", [True, False])
    def test_tensor_shapes_must_agree_in_a_batch(self, cache: bool) -> None:
        """Tensors of several shapes in one batch are named with both samples."""
        assert _failure(MetadataLoader(kind="ragged-tensor"), cache_samples=cache) == (
            'set `test`, index 1, entry ["x1", 1]: metadata `points` is a tensor of '
            "shape (2,) but of shape (1,) in the batch's first sample (set `test`, "
            'index 0, entry ["x0", 0]); give `points` one shape in every sample, or '
            "use a `batch_size` of 1"
        )


class TestCollate:
    def test_collate_samples(self) -> None:
        """Loaded samples collate into one batch; a batch passes through."""
        samples = [Sample(torch.full((2,), i), {"i": i, "s": str(i)}) for i in range(3)]
        batch = collate_samples(samples)
        assert torch.equal(batch.input, torch.tensor([[0, 0], [1, 1], [2, 2]]))
        assert batch.metadata["s"] == ["0", "1", "2"]
        assert collate_samples(batch) is batch

    def test_collate_samples_names_batch_items(self) -> None:
        """Without a set, an input of another shape is named by its batch item."""
        samples = [Sample(torch.zeros(2), {}), Sample(torch.zeros(3), {})]
        with pytest.raises(SampleLoadError) as exc_info:
            collate_samples(samples)
        assert str(exc_info.value) == (
            "batch item 1: input is (3,) torch.float32 but (2,) torch.float32 in the "
            "batch's first sample (batch item 0); add a model transform that gives "
            "every sample the same shape and dtype (or, for samples with masks, "
            "resize both in the loader: a model transform sees the input alone), or "
            "use a `batch_size` of 1"
        )

    def test_collate_samples_names_the_odd_one(self) -> None:
        """The input unlike most of the batch is named, not a later one like them.

        Where no shape is the most common, the first sample's is the one expected.
        """
        samples = [Sample(torch.zeros(3), {})] + [Sample(torch.zeros(2), {})] * 3
        with pytest.raises(SampleLoadError) as exc_info:
            collate_samples(samples)
        assert str(exc_info.value).startswith(
            "batch item 0: input is (3,) torch.float32 but (2,) torch.float32 in 3 of "
            "the batch's 4 samples (such as batch item 1); add a model transform"
        )
        samples = [Sample(torch.zeros(n), {}) for n in (2, 3, 3, 2, 1)]
        with pytest.raises(SampleLoadError) as exc_info:
            collate_samples(samples)
        assert str(exc_info.value).startswith(
            "batch item 1: input is (3,) torch.float32 but (2,) torch.float32 in 2 of "
            "the batch's 5 samples (such as batch item 0); add"
        )


class TestTargets:
    @pytest.mark.parametrize(
        ("target", "ok"),
        [
            (torch.tensor(1), True),
            (torch.tensor([0]), True),
            (torch.tensor([0.5]), False),
            (torch.tensor([0, 1]), False),
            ("1", False),
            (True, False),
        ],
    )
    def test_target_kinds(self, target: object, ok: bool) -> None:
        """Targets are ints or one-element integer tensors; others are named."""

        class Targets(MemoryLoader):
            def target(self, raw: Entry) -> int:
                return target  # type: ignore[return-value]  # the point of the test

        module = CachingDataModule(
            {"train": entries_named("t", 4)}, Targets(), balance_sampler_by_class=True
        )
        if ok:  # every sample of one class, which balancing says is for nothing
            with pytest.warns(LightsplitWarning, match="are all of class"):
                assert len(list(module.train_dataloader())) == 4
        else:
            with pytest.raises(
                SampleLoadError, match=r"set `train`, index 0, entry \[\"t0\", 0\]"
            ):
                module.train_dataloader()

    def test_transform_must_return_a_tensor(self) -> None:
        """A model transform that returns no tensor is named."""
        module = CachingDataModule(
            {"test": entries_named("x", 2)},
            MemoryLoader(),
            model_transforms=[lambda x: x.tolist()],
        )
        with pytest.raises(
            SampleLoadError,
            match=re.escape("model transforms must return a `torch.Tensor`"),
        ):
            list(module.test_dataloader()["test"])


class TestFingerprint:
    def test_partial_and_closures(self) -> None:
        """Arguments of partials and values captured by closures are part of it."""

        def scale(x: torch.Tensor, factor: float) -> torch.Tensor:
            return x * factor

        def make(factor: float) -> Callable[[torch.Tensor], torch.Tensor]:
            return lambda x: x * factor

        assert fingerprint_of(functools.partial(scale, factor=2)) != fingerprint_of(
            functools.partial(scale, factor=3)
        )
        assert fingerprint_of(make(2)) == fingerprint_of(make(2))
        assert fingerprint_of(make(2)) != fingerprint_of(make(3))

    def test_module_parameters(self) -> None:
        """A module's parameter values are part of it."""
        layer = torch.nn.Linear(2, 1)
        before = fingerprint_of(layer)
        with torch.no_grad():
            layer.weight.add_(1)
        assert fingerprint_of(layer) != before

    def test_plain_objects(self) -> None:
        """Objects whose repr is an address are described by their attributes."""

        class Shift:
            def __init__(self, by: int) -> None:
                self.by = by

            def __call__(self, x: torch.Tensor) -> torch.Tensor:
                return x + self.by

        assert fingerprint_of(Shift(1)) == fingerprint_of(Shift(1))
        assert fingerprint_of(Shift(1)) != fingerprint_of(Shift(2))
