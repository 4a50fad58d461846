"""Batch transforms on the training device, and uint8 kept from loader to batch."""

import re
from pathlib import Path

import pytest
import torch
from lightning.pytorch import LightningModule, Trainer
from lightsplit_testing import Entry, write_pngs
from PIL import Image
from pydantic import ValidationError
from torch import Tensor

from lightsplit import (
    CachingDataModule,
    ImageFileLoader,
    ImageMaskLoader,
    RandomFlip,
    Sample,
    ToFloat,
)
from lightsplit._batch_transforms import apply_batch_transforms


class Watcher(LightningModule):
    """Records the dtype and a digest of every batch it is given."""

    def __init__(self) -> None:
        super().__init__()
        self.layer = torch.nn.Linear(1, 1)
        self.seen: dict[str, list[tuple[torch.dtype, float]]] = {"train": [], "val": []}

    def _see(self, stage: str, batch: Sample) -> None:
        weights = torch.arange(batch.input[0].numel(), dtype=torch.float64)
        digest = float((batch.input.flatten(1).double() * weights).sum())
        self.seen[stage].append((batch.input.dtype, digest))

    def training_step(self, batch: Sample, batch_idx: int) -> Tensor:
        self._see("train", batch)
        loss: Tensor = self.layer(torch.ones(1)).sum() * 0
        return loss

    def validation_step(self, batch: Sample, batch_idx: int) -> None:
        self._see("val", batch)

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.SGD(self.parameters(), lr=0.1)


def _gradient_pngs(root: Path, count: int) -> list[Entry]:
    """Write images whose left and right differ, so that a flip shows."""
    root.mkdir(parents=True, exist_ok=True)
    entries: list[Entry] = []
    for index in range(count):
        pixels = bytes(
            (index * 7 + column * 30) % 256 for _ in range(4) for column in range(6)
        )
        Image.frombytes("L", (6, 4), pixels).save(root / f"g{index:03d}.png")
        entries.append((f"g{index:03d}.png", index % 2))
    return entries


def _fit(module: CachingDataModule, epochs: int = 2) -> Watcher:
    model = Watcher()
    Trainer(
        accelerator="cpu",
        max_epochs=epochs,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        num_sanity_val_steps=0,
    ).fit(model, datamodule=module)
    return model


def _module(root: Path, **options: object) -> CachingDataModule:
    entries = _gradient_pngs(root, 12)
    return CachingDataModule(
        {"train": entries[:8], "validation": entries[8:]},
        ImageFileLoader(root, dtype="uint8"),
        batch_size=4,
        seed=5,
        **options,  # type: ignore[arg-type]  # data-module options
    )


class TestUint8:
    @pytest.mark.parametrize("cache", [False, True])
    def test_kept_from_loader_to_batch(self, tmp_path: Path, cache: bool) -> None:
        """8-bit images stay ``uint8``, with the file's values, cached or not."""
        entries = write_pngs(tmp_path, 5)
        module = CachingDataModule(
            {"train": entries[:4], "validation": entries[4:]},
            ImageFileLoader(tmp_path, dtype="uint8"),
            batch_size=4,
            cache_samples=cache,
        )
        module.setup("fit")
        batch = next(iter(module.unshuffled_train_dataloader()))
        assert batch.input.dtype == torch.uint8
        assert batch.input[:, 0, 0, 0].tolist() == [0, 1, 2, 3]

    def test_masks(self, tmp_path: Path) -> None:
        """The mask loader keeps images and masks as ``uint8`` too."""
        write_pngs(tmp_path, 2)
        x, meta = ImageMaskLoader(tmp_path, dtype="uint8").sample(
            ["img_00001.png", "img_00001.png"]
        )
        assert (x.dtype, meta["target"].dtype, int(meta["target"].max())) == (
            torch.uint8,
            torch.uint8,
            1,
        )

    def test_bad_dtype(self, tmp_path: Path) -> None:
        """Another dtype is refused, naming the valid ones."""
        with pytest.raises(ValueError, match="use one of `float32`, `uint8`"):
            ImageFileLoader(tmp_path, dtype="float16")  # type: ignore[arg-type]  # the point


class TestOnDevice:
    def test_train_and_eval_transforms(self, tmp_path: Path) -> None:
        """Training batches get the training transforms, evaluation its own."""
        module = _module(
            tmp_path,
            train_batch_transforms=[ToFloat()],
            eval_batch_transforms=[ToFloat(scale=2.0)],
        )
        model = _fit(module, epochs=1)
        assert {dtype for dtype, _ in model.seen["train"]} == {torch.float32}
        assert {dtype for dtype, _ in model.seen["val"]} == {torch.float32}
        plain = _fit(_module(tmp_path / "plain"), epochs=1)
        assert {dtype for dtype, _ in plain.seen["train"]} == {torch.uint8}
        assert [d for _, d in model.seen["val"]] == [
            2 * d for _, d in plain.seen["val"]
        ]

    @pytest.mark.parametrize("parallel", [-1, 2])
    def test_augmentation_repeats(self, tmp_path: Path, parallel: int) -> None:
        """Random flips repeat from run to run, for any ``parallel``."""
        transforms = [ToFloat(), RandomFlip(p=0.5)]
        first = _fit(_module(tmp_path, train_batch_transforms=transforms))
        again = _fit(
            _module(tmp_path, train_batch_transforms=transforms, parallel=parallel)
        )
        unflipped = _fit(_module(tmp_path, train_batch_transforms=[ToFloat()]))
        assert first.seen["train"] == again.seen["train"]
        assert first.seen["train"] != unflipped.seen["train"]

    def test_refused_at_construction(self, tmp_path: Path) -> None:
        """A batch transform that is no transform is refused, at its position."""
        with pytest.raises(ValidationError) as exc_info:
            _module(tmp_path, train_batch_transforms=[ToFloat(), "flip"])
        [error] = exc_info.value.errors(include_url=False)
        assert (error["type"], error["loc"]) == (
            "transform_invalid",
            ("train_batch_transforms", 1),
        )


class TestProvided:
    def test_to_float_takes_one_number(self) -> None:
        """A mean and standard deviation given as numbers are one value each; a
        string is refused (``len`` of a float failed)."""
        batch = torch.full((1, 3, 1, 1), 255, dtype=torch.uint8)
        assert ToFloat(mean=0.5, std=0.25)(batch).flatten().tolist() == [2.0] * 3
        with pytest.raises(TypeError, match=re.escape("`mean` is '0.5'; give a")):
            ToFloat(mean="0.5")  # type: ignore[arg-type]  # the point
        with pytest.raises(TypeError, match=re.escape("`std` is [True]")):
            ToFloat(std=[True])

    def test_to_float_normalises_per_channel(self) -> None:
        """``ToFloat`` scales, then normalises each channel."""
        batch = torch.full((2, 3, 1, 1), 255, dtype=torch.uint8)
        output = ToFloat(mean=(0.5, 0.0, 1.0), std=(0.5, 1.0, 2.0))(batch)
        assert output[0, :, 0, 0].tolist() == [1.0, 1.0, 0.0]

    def test_flip_with_mask(self) -> None:
        """``RandomFlip`` flips the named metadata with the image, item by item."""
        image = torch.arange(6.0).view(1, 1, 1, 6).repeat(8, 1, 1, 1)
        batch = Sample(image, {"mask": image.clone(), "name": ["a"] * 8})
        output = apply_batch_transforms(batch, [RandomFlip(keys=["mask"])], seed=1)
        flipped = output.input[:, 0, 0, 0] == 5
        assert 0 < int(flipped.sum()) < 8
        assert torch.equal(output.metadata["mask"], output.input)

    @pytest.mark.parametrize(
        ("keys", "error", "message"),
        [
            pytest.param(
                ["roi"],
                LookupError,
                "RandomFlip(p=0.5, dim=-1, keys=('roi',)): metadata `roi` is not in "
                "the batch, whose tensors are `mask`, `label`; name in `keys` the "
                "masks flipped with the input",
                id="missing",
            ),
            pytest.param(
                ["name"],
                TypeError,
                "RandomFlip(p=0.5, dim=-1, keys=('name',)): metadata `name` is a "
                "`list`, not a tensor",
                id="not-a-tensor",
            ),
            pytest.param(
                ["label"],
                ValueError,
                "RandomFlip(p=0.5, dim=-1, keys=('label',)): metadata `label` of "
                "shape (8,) does not line up with the input (8, 1, 1, 6) along "
                "`dim` -1: only tensors of the input's size (masks) are flipped with "
                "it; remove it from `keys`",
                id="labels",
            ),
        ],
    )
    def test_flip_refuses(
        self, keys: list[str], error: type[Exception], message: str
    ) -> None:
        """A key the batch lacks, or that is no mask of the input's size, is refused
        naming the transform and what the batch holds: labels flipped along the
        batch would be swapped between items."""
        image = torch.arange(6.0).view(1, 1, 1, 6).repeat(8, 1, 1, 1)
        batch = Sample(
            image, {"mask": image.clone(), "label": torch.arange(8), "name": ["a"] * 8}
        )
        with pytest.raises(error) as info:
            apply_batch_transforms(batch, [RandomFlip(keys=keys)], seed=1)
        assert str(info.value) == message

    @pytest.mark.parametrize(
        ("make", "message"),
        [
            pytest.param(lambda: ToFloat(std=(0.0,)), "finite, non-zero", id="std"),
            pytest.param(lambda: ToFloat(mean=(1, 2), std=(1,)), "same", id="lengths"),
            pytest.param(lambda: RandomFlip(p=2), "probability", id="p"),
            pytest.param(lambda: RandomFlip(dim=1), "counting from the end", id="dim"),
            pytest.param(lambda: RandomFlip(dim=-1.0), "an integer", id="dim-float"),  # type: ignore[arg-type]  # the point
            pytest.param(lambda: RandomFlip(p=True), "a number", id="p-bool"),
        ],
    )
    def test_bad_arguments(self, make: object, message: str) -> None:
        """Arguments out of range are refused, saying what is valid."""
        with pytest.raises(ValueError, match=message):
            make()  # type: ignore[operator]  # a constructor call

    def test_keys_as_one_string_refused(self) -> None:
        """``keys="target"`` would be read as the keys ``t``, ``a``, ``r``..."""
        with pytest.raises(TypeError, match=r"as in `keys=\['target'\]`"):
            RandomFlip(keys="target")

    @pytest.mark.parametrize("dim", [-4, -5])
    def test_flip_never_swaps_items(self, dim: int) -> None:
        """A ``dim`` reaching the dimension of items is refused: flipping it would
        give each item another's image, its labels left in place."""
        batch = Sample(torch.arange(4.0).view(4, 1, 1, 1).repeat(1, 1, 2, 2), {})
        with pytest.raises(ValueError, match="dimension of items") as info:
            apply_batch_transforms(batch, [RandomFlip(p=1.0, dim=dim)], seed=1)
        assert str(info.value) == (
            f"RandomFlip(p=1.0, dim={dim}, keys=()): `dim` {dim} is the batch's "
            "dimension of items, or beyond, for a batch of shape (4, 1, 2, 2): "
            "flipping it would swap images between items; give a dimension of each "
            "item, from -1 to -3"
        )

    def test_to_float_refuses_a_float_batch(self) -> None:
        """A batch converted already is not scaled a second time, nor changed."""
        batch = torch.ones(2, 1, 2, 2)
        with pytest.raises(TypeError, match=r"got a batch of torch\.float32, not of"):
            ToFloat()(batch)
        assert torch.equal(batch, torch.ones(2, 1, 2, 2))

    def test_to_float_names_channels(self) -> None:
        """Normalising values of 3 channels on gray images says so."""
        imagenet = ToFloat(mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225))
        with pytest.raises(ValueError, match="whose dimension 1 holds 1 channels"):
            imagenet(torch.zeros(2, 1, 4, 4, dtype=torch.uint8))
