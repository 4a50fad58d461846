"""``MappingLoader``: mednet-2.x-style loaders that return one mapping per sample."""

import re
from collections.abc import Sequence
from pathlib import Path

import pytest
import torch
from lightsplit_testing import Entry, MednetStyleLoader, write_pngs

from lightsplit import CachingDataModule, MappingLoader, SampleLoadError
from lightsplit._fingerprint import fingerprint_of


@pytest.fixture
def mednet_split(tmp_path: Path) -> dict[str, list[Entry]]:
    """Eight PNG files under ``tmp_path``: six for training, two for validation."""
    entries = write_pngs(tmp_path, 8, labels=[0, 0, 0, 0, 0, 1, 1, 1])
    return {"train": entries[:6], "validation": entries[6:]}


class TestMappingLoader:
    def test_splits_the_mapping(self, tmp_path: Path) -> None:
        """The input comes from ``input_key``; every other key is metadata."""
        write_pngs(tmp_path, 1)
        loader = MappingLoader(MednetStyleLoader(str(tmp_path)), input_key="image")
        x, meta = loader.sample(("img_00000.png", 1))
        assert x.shape == (1, 8, 8)
        assert set(meta) == {"target", "name"}
        assert torch.equal(meta["target"], torch.tensor([1.0]))
        target = loader.target(("img_00000.png", 1))
        assert isinstance(target, torch.Tensor)
        assert torch.equal(target, torch.tensor([1.0]))

    def test_missing_key(self, tmp_path: Path) -> None:
        """A mapping without the input key names the keys it has."""
        write_pngs(tmp_path, 1)
        loader = MappingLoader(MednetStyleLoader(str(tmp_path)), input_key="input")
        with pytest.raises(
            ValueError,
            match=re.escape(
                "`MednetStyleLoader.sample` returned no `input` key (keys `image`, "
                "`target`, `name`); set `input_key` to the key of the input tensor"
            ),
        ):
            loader.sample(("img_00000.png", 1))

    def test_input_not_a_tensor(self, tmp_path: Path) -> None:
        """The entry under the input key must be a tensor."""
        write_pngs(tmp_path, 1)
        loader = MappingLoader(MednetStyleLoader(str(tmp_path)), input_key="name")
        with pytest.raises(TypeError, match=re.escape("returned a `str` under `name`")):
            loader.sample(("img_00000.png", 1))

    def test_not_a_mapping(self, tmp_path: Path) -> None:
        """A wrapped loader that returns a pair is told it needs no adapter."""
        write_pngs(tmp_path, 1)
        loader: MappingLoader[Entry] = MappingLoader(PairReturning())  # type: ignore[arg-type]  # the point
        with pytest.raises(TypeError, match=re.escape("needs no `MappingLoader`")):
            loader.sample(("img_00000.png", 1))

    def test_class_refused(self) -> None:
        """A loader class instead of a loader object is refused at once."""
        with pytest.raises(
            TypeError, match=re.escape("as in `MednetStyleLoader(...)`")
        ):
            MappingLoader(MednetStyleLoader)  # type: ignore[arg-type]  # the point

    def test_fingerprint_follows_key_and_loader(self, tmp_path: Path) -> None:
        """Persistent caches are keyed by the wrapped loader and the input key."""
        first = MappingLoader(MednetStyleLoader(str(tmp_path)))
        assert fingerprint_of(first) == fingerprint_of(
            MappingLoader(MednetStyleLoader(str(tmp_path)))
        )
        assert fingerprint_of(first) != fingerprint_of(
            MappingLoader(MednetStyleLoader(str(tmp_path / "other")))
        )
        assert fingerprint_of(first) != fingerprint_of(
            MappingLoader(MednetStyleLoader(str(tmp_path)), input_key="name")
        )


class PairReturning:
    def sample(self, raw: Entry) -> tuple[torch.Tensor, dict[str, object]]:
        return torch.zeros(1), {}

    def target(self, raw: Entry) -> int:
        return 0


class TestInDataModule:
    @pytest.mark.parametrize("cache", [False, True])
    def test_balanced_training(
        self, tmp_path: Path, mednet_split: dict[str, list[Entry]], cache: bool
    ) -> None:
        """Float targets ``[0.]``/``[1.]`` balance classes; batches keep them."""
        loader = MappingLoader(MednetStyleLoader(str(tmp_path)))
        module = CachingDataModule(
            mednet_split,
            loader,
            batch_size=6,
            cache_samples=cache,
            balance_sampler_by_class=True,
            seed=0,
        )
        module.setup("fit")
        [batch] = list(module.train_dataloader())
        assert batch.input.shape == (6, 1, 8, 8)
        assert batch.metadata["target"].shape == (6, 1)
        assert batch.metadata["target"].dtype == torch.float32
        assert len(batch.metadata["name"]) == 6

    def test_failure_names_the_sample(
        self, tmp_path: Path, mednet_split: dict[str, list[Entry]]
    ) -> None:
        """A missing input key is reported with the set, index and entry."""
        loader = MappingLoader(MednetStyleLoader(str(tmp_path)), input_key="x")
        module = CachingDataModule(mednet_split, loader, cache_samples=True)
        with pytest.raises(
            SampleLoadError,
            match=re.escape(
                'set `train`, index 0, entry ["img_00000.png", 0]: ValueError: '
                "`MednetStyleLoader.sample` returned no `x` key"
            ),
        ):
            module.setup("fit")

    def test_target_failure_names_the_wrapped_loader(
        self, tmp_path: Path, mednet_split: dict[str, list[Entry]]
    ) -> None:
        """A target that is no class names the user's loader, not the wrapper."""
        loader = MappingLoader(FloatTargets(str(tmp_path)))
        module = CachingDataModule(
            mednet_split, loader, balance_sampler_by_class=True, seed=0
        )
        with pytest.raises(
            SampleLoadError,
            match=re.escape(
                "`FloatTargets.target` (through `MappingLoader`) returned `0.5`"
            ),
        ):
            module.train_dataloader()


class FloatTargets(MednetStyleLoader):
    """Gives a fraction as every target."""

    def target(self, raw: Sequence[object]) -> torch.Tensor:
        return torch.tensor(0.5)
