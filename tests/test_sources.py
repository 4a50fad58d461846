"""Data-module splits, loaders, targets and transforms, checked at the boundary."""

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import pytest
import torch
from lightsplit_testing import (
    Entry,
    MednetStyleLoader,
    PngLoader,
    write_pngs,
    write_split,
)
from pydantic import ValidationError

from lightsplit import (
    CachingDataModule,
    ConcatDataModule,
    DataModuleConfig,
    LightsplitWarning,
    MappingLoader,
    Sample,
    SampleLoadError,
    SplitFileError,
    SplitPart,
    load_split,
)
from lightsplit._datasets import SetDataset


def _errors(
    exc_info: pytest.ExceptionInfo[ValidationError],
) -> list[tuple[str, tuple[int | str, ...]]]:
    return [(e["type"], e["loc"]) for e in exc_info.value.errors(include_url=False)]


class NoTarget:
    def sample(self, raw: Entry) -> Sample:
        raise NotImplementedError


class TestSplitsValidation:
    def test_valid(self, entries: list[Entry], loader: PngLoader) -> None:
        """Lists or tuples of pairs, and a mapping of any kind, are accepted."""
        module = ConcatDataModule(
            {
                # a list pair is accepted at run time, though typed as a tuple
                "train": [(entries[:4], loader), [entries[4:6], loader]],  # type: ignore[list-item]
                "test": ((entries[6:], loader),),
            }
        )
        assert module.set_names == ("train", "test")

    def test_invalid_set_name(self, entries: list[Entry], loader: PngLoader) -> None:
        """A misspelled set name is refused with a suggestion, at its key."""
        with pytest.raises(ValidationError) as exc_info:
            ConcatDataModule(
                {"train": [(entries, loader)], "valdation": [(entries, loader)]}
            )
        assert _errors(exc_info) == [("set_name_invalid", ("valdation", "[key]"))]
        assert "did you mean `validation`?" in str(exc_info.value)

    def test_empty_set(self, loader: PngLoader, entries: list[Entry]) -> None:
        """An empty set is refused, naming it."""
        with pytest.raises(ValidationError) as exc_info:
            ConcatDataModule({"train": [(entries, loader)], "test": [([], loader)]})
        assert _errors(exc_info) == [("set_empty", ("test",))]
        [error] = exc_info.value.errors(include_url=False)
        assert (
            error["msg"]
            == "set `test` has no sample; remove the set or give it samples"
        )

    def test_empty_split_file_set(
        self, loader: PngLoader, entries: list[Entry]
    ) -> None:
        """A split with an empty set (valid in a file) is refused by the data module."""
        with pytest.raises(ValidationError) as exc_info:
            CachingDataModule({"train": entries, "validation": []}, loader)
        assert _errors(exc_info) == [("set_empty", ("validation",))]

    def test_empty_set_names_its_file(
        self, tmp_path: Path, loader: PngLoader, entries: list[Entry]
    ) -> None:
        """An empty set read from a split file is refused naming the file.

        Whether the file is given by its path, read by `load_split`, or named
        in every part of the set; not when another part has no file.
        """
        path = write_split(tmp_path / "split.json", {"train": entries, "test": []})
        expected = (
            f"set `test` has no sample: it is empty in {path}; remove it from the "
            "file or give it samples there"
        )
        makers: tuple[Callable[[], object], ...] = (
            lambda: CachingDataModule(path, loader),
            lambda: CachingDataModule(load_split(path), loader),
            lambda: ConcatDataModule(
                {"train": [(path, loader)], "test": [(path, loader), (path, loader)]}
            ),
        )
        for make in makers:
            with pytest.raises(ValidationError) as exc_info:
                make()
            [error] = exc_info.value.errors(include_url=False)
            assert (error["type"], error["loc"]) == ("set_empty", ("test",))
            assert error["msg"] == expected
        with pytest.raises(ValidationError) as exc_info:
            ConcatDataModule(
                {"train": [(path, loader)], "test": [(path, loader), ([], loader)]}
            )
        [error] = exc_info.value.errors(include_url=False)
        assert (
            error["msg"]
            == "set `test` has no sample; remove the set or give it samples"
        )

    def test_no_set(self) -> None:
        """Splits without any set are refused."""
        with pytest.raises(ValidationError) as exc_info:
            ConcatDataModule({})
        assert _errors(exc_info) == [("splits_empty", ())]

    def test_loader_without_sample(
        self, entries: list[Entry], loader: PngLoader
    ) -> None:
        """A loader with no callable ``sample`` is refused at its set and position."""
        with pytest.raises(ValidationError) as exc_info:
            ConcatDataModule({"train": [(entries, loader), (entries, object())]})  # type: ignore[list-item]  # the point
        assert _errors(exc_info) == [("loader_invalid", ("train", 1, 1))]
        [error] = exc_info.value.errors(include_url=False)
        assert error["msg"] == (
            "the loader (`object`) has no callable `sample`; give an object with "
            "`sample(raw) -> Sample` and `target(raw) -> int | Tensor` methods"
        )

    def test_loader_without_target(self, entries: list[Entry]) -> None:
        """A loader with no ``target`` is refused too."""
        with pytest.raises(ValidationError) as exc_info:
            ConcatDataModule({"train": [(entries, NoTarget())]})  # type: ignore[list-item]  # the point
        assert _errors(exc_info) == [("loader_invalid", ("train", 0, 1))]
        assert "no callable `target`" in str(exc_info.value)

    def test_one_loader_refused_once(self, entries: list[Entry]) -> None:
        """The one loader of every set, refused, is said once, at its first
        place (it was said once per set); another refused loader is said too."""
        bad = NoTarget()
        with pytest.raises(ValidationError) as exc_info:
            CachingDataModule(
                {"train": entries, "validation": entries, "test": entries},
                bad,  # type: ignore[arg-type]  # the point
            )
        assert _errors(exc_info) == [("loader_invalid", ("train", 0, 1))]
        with pytest.raises(ValidationError) as exc_info:
            ConcatDataModule(
                {
                    "train": [(entries, bad)],  # type: ignore[list-item]  # the point
                    "validation": [(entries, bad), (entries, NoTarget())],  # type: ignore[list-item]  # the point
                }
            )
        assert _errors(exc_info) == [
            ("loader_invalid", ("train", 0, 1)),
            ("loader_invalid", ("validation", 1, 1)),
        ]

    def test_samples_not_sequence(self, loader: PngLoader) -> None:
        """Raw samples must be a sequence, and not a string."""
        with pytest.raises(ValidationError) as exc_info:
            ConcatDataModule({"train": [("a.png", loader)]})
        assert _errors(exc_info) == [("samples_invalid", ("train", 0, 0))]
        [error] = exc_info.value.errors(include_url=False)
        assert error["msg"] == (
            "raw samples must be a sequence (a list or tuple of raw samples) or the "
            "path of a split file (`.json`, `.json.bz2`), not `str` 'a.png'"
        )

    @pytest.mark.parametrize(
        ("splits", "fix"),
        [
            ([["a.png", 0]], '; a list of raw samples is one set: `{"train": [...]}`'),
            (None, ""),
        ],
        ids=["list", "None"],
    )
    def test_splits_not_mapping(self, splits: object, fix: str) -> None:
        """Splits that map no set names are refused, saying what they must be
        (pydantic's type), under a title that names them, not a class."""
        with pytest.raises(ValidationError) as exc_info:
            ConcatDataModule(splits)  # type: ignore[arg-type]  # refused on purpose
        assert exc_info.value.title == "the splits of a data module"
        [error] = exc_info.value.errors(include_url=False)
        assert error["type"] == "dict_type"
        assert error["msg"] == (
            "the splits must map set names (`train`, `validation`, `test`, "
            "`monitor-<name>`) to raw samples, or be the path of a split file "
            f"(`.json`, `.json.bz2`), not `{type(splits).__name__}`{fix}"
        )

    def test_pair_shape(self, entries: list[Entry], loader: PngLoader) -> None:
        """Each pair has exactly two items."""
        with pytest.raises(ValidationError) as exc_info:
            ConcatDataModule({"train": [(entries, loader, 3)]})  # type: ignore[list-item]  # the point
        assert _errors(exc_info) == [("too_long", ("train", 0))]

    def test_all_problems_at_once(self, entries: list[Entry]) -> None:
        """Every problem is reported in one error, each at its location."""
        with pytest.raises(ValidationError) as exc_info:
            ConcatDataModule(
                {"train": [(entries, object())], "tset": [("a", 3)]}  # type: ignore[list-item]  # the point
            )
        assert sorted(_errors(exc_info)) == [
            ("loader_invalid", ("train", 0, 1)),
            ("loader_invalid", ("tset", 0, 1)),
            ("samples_invalid", ("tset", 0, 0)),
            ("set_name_invalid", ("tset", "[key]")),
        ]


def test_split_file_of_a_misnamed_set(
    tmp_path: Path, entries: list[Entry], loader: PngLoader
) -> None:
    """A split file given for a misnamed set is not blamed too: the name is the fault.

    Its path was left unread and reported as samples that are no sequence or
    split file path, which it is.
    """
    path = write_split(tmp_path / "split.json", {"train": entries})
    with pytest.raises(ValidationError) as exc_info:
        ConcatDataModule({"train": [(path, loader)], "valid": [(path, loader)]})
    assert _errors(exc_info) == [("set_name_invalid", ("valid", "[key]"))]


class PairLoader:
    """Returns a plain ``(tensor, dict)`` pair, as the reference loaders do."""

    def sample(self, raw: Entry) -> tuple[torch.Tensor, dict[str, object]]:
        return torch.zeros(2), {"name": raw[0], "label": raw[1]}

    def target(self, raw: Entry) -> int:
        return raw[1]


@dataclass
class TargetLoader:
    """Returns ``value`` as the target of every entry."""

    value: Any  # any value at all, to see which are accepted

    def sample(self, raw: Entry) -> Sample:
        return Sample(torch.zeros(2), {"name": raw[0]})

    def target(self, raw: Entry) -> int | torch.Tensor:
        target: int | torch.Tensor = self.value
        return target


def _entries(count: int = 4, prefix: str = "s") -> list[Entry]:
    return [(f"{prefix}{i}.png", i % 2) for i in range(count)]


def _fit_split() -> dict[str, list[Entry]]:
    return {"train": _entries(), "validation": _entries(1, "v")}


class TestLoaderForms:
    def test_plain_pair(self) -> None:
        """A loader returning a plain ``(tensor, dict)`` pair serves `Sample`s."""
        module = CachingDataModule(_fit_split(), PairLoader(), batch_size=4)
        module.setup("fit")
        batch = next(iter(module.unshuffled_train_dataloader()))
        assert isinstance(batch, Sample)
        assert batch.metadata["name"] == ["s0.png", "s1.png", "s2.png", "s3.png"]

    def test_mapping_needs_the_adapter(self, tmp_path: Path) -> None:
        """A loader whose `sample` says it returns a mapping (mednet 2.x's are
        annotated so) is refused when the data module is made, naming the
        adapter to use; it was refused at its first sample only."""
        with pytest.raises(ValidationError) as exc_info:
            CachingDataModule(
                {"train": [("img_00000.png", 0)]},
                MednetStyleLoader(str(tmp_path)),  # type: ignore[arg-type]  # the point
            )
        [error] = exc_info.value.errors(include_url=False)
        assert error["msg"] == (
            "the loader (`MednetStyleLoader`) returns a mapping (its `sample` is "
            "annotated `dict[str, object]`), as mednet 2.x's loaders do, not a "
            "`Sample`; wrap the loader in `MappingLoader(loader, input_key=...)`, "
            "naming the key of the input tensor"
        )

    def test_unannotated_mapping_needs_the_adapter(self, tmp_path: Path) -> None:
        """A loader returning a mapping, unannotated, is refused at its first
        sample, with the adapter to use."""

        class Unannotated:
            def __init__(self, root: str) -> None:
                self.mednet = MednetStyleLoader(root)

            def sample(self, raw: Sequence[object]) -> object:  # says no mapping
                return self.mednet.sample(raw)

            def target(self, raw: Sequence[object]) -> object:
                return self.mednet.target(raw)

        write_pngs(tmp_path, 2)
        module = CachingDataModule(
            {"train": [("img_00000.png", 0)]},
            Unannotated(str(tmp_path)),  # type: ignore[arg-type]  # the point
        )
        loader = module.predict_dataloader()["train"]
        with pytest.raises(SampleLoadError) as exc_info:
            list(loader)
        assert str(exc_info.value) == (
            'set `train`, index 0, entry ["img_00000.png", 0]: TypeError: '
            "`Unannotated.sample` returned a mapping (keys `image`, `target`, "
            "`name`), not a `Sample`; wrap the loader in `MappingLoader(loader, "
            "input_key=...)`, naming the key of the input tensor"
        )

    @pytest.mark.parametrize("cache", [False, True])
    def test_none_in_metadata(self, cache: bool) -> None:
        """A metadata value None is refused, naming the key: no batch holds it."""

        class OptionalMask(PairLoader):
            def sample(self, raw: Entry) -> tuple[torch.Tensor, dict[str, object]]:
                value, metadata = super().sample(raw)
                return value, {**metadata, "mask": None}

        module = CachingDataModule(
            _fit_split(), OptionalMask(), batch_size=4, cache_samples=cache
        )

        def first_batch() -> None:
            module.setup("fit")  # caching, it fails here
            next(iter(module.unshuffled_train_dataloader()))

        with pytest.raises(SampleLoadError) as exc_info:
            first_batch()
        assert str(exc_info.value).endswith(
            "TypeError: `OptionalMask.sample` returned metadata `mask` as None, "
            "which no batch can hold (at any batch size); leave it out of the "
            "metadata, or give it a value in every sample (such as -1, NaN or an "
            "empty string)"
        )

    @pytest.mark.parametrize(
        ("value", "shown"),
        [({"roi": None}, "`extra['roi']`"), ([0, (1, None)], "`extra[1][1]`")],
    )
    @pytest.mark.parametrize("cache", [False, True])
    def test_none_nested_in_metadata(
        self, value: object, shown: str, cache: bool
    ) -> None:
        """A None inside a dict or list of metadata is named where it is, when its
        batch is made (cached or not).

        No batch size collates it: a batch of one is not offered as the fix.
        """

        class NestedNone(PairLoader):
            def sample(self, raw: Entry) -> tuple[torch.Tensor, dict[str, object]]:
                tensor, metadata = super().sample(raw)
                return tensor, {**metadata, "extra": value}

        module = CachingDataModule(
            _fit_split(), NestedNone(), batch_size=1, cache_samples=cache
        )
        with pytest.raises(SampleLoadError) as exc_info:
            next(iter(module.unshuffled_train_dataloader()))
        assert str(exc_info.value).endswith(
            f"metadata {shown} is None, which no batch can hold (at any batch "
            "size); leave it out of the metadata, or give it a value in every "
            "sample (such as -1, NaN or an empty string)"
        )

    def test_metadata_key_that_is_no_string(self) -> None:
        """A metadata key that is no str is refused: keys name batch columns."""

        class NumberedKeys(PairLoader):
            def sample(self, raw: Entry) -> tuple[torch.Tensor, dict[str, object]]:
                value, metadata = super().sample(raw)
                return value, cast(dict[str, object], {0: metadata["label"]})

        module = CachingDataModule(_fit_split(), NumberedKeys(), batch_size=4)
        module.setup("fit")
        with pytest.raises(SampleLoadError) as exc_info:
            next(iter(module.unshuffled_train_dataloader()))
        assert str(exc_info.value).endswith(
            "TypeError: `NumberedKeys.sample` returned metadata key 0 of type `int`; "
            "metadata keys must be str (they name batch columns, such as `label` or "
            "`name`)"
        )

    def test_pair_not_in_a_list(self) -> None:
        """A set given as one pair, not a list of pairs, is named with the fix."""
        with pytest.raises(ValidationError) as exc_info:
            ConcatDataModule(
                {
                    "train": [(_entries(), PairLoader())],
                    "test": (_entries(), PairLoader()),  # type: ignore[dict-item]  # the point
                }
            )
        [error] = exc_info.value.errors(include_url=False)
        assert (error["type"], error["msg"]) == (
            "pair_not_in_list",
            "set `test` is one (samples, loader) pair, not a list of them; write "
            "`[(samples, loader)]` (a set may join several pairs)",
        )

    def test_loader_class_instead_of_object(self) -> None:
        """A loader class is refused at construction, with the call to write."""
        with pytest.raises(ValidationError) as exc_info:
            ConcatDataModule({"train": [(_entries(), PairLoader)]})  # type: ignore[list-item]  # the point
        [error] = exc_info.value.errors(include_url=False)
        assert (error["type"], error["loc"]) == ("loader_not_instance", ("train", 0, 1))
        assert error["msg"] == (
            "the loader is the class `PairLoader`, not a loader object; create one, "
            "as in `PairLoader(...)`"
        )


class TestTargets:
    @pytest.mark.parametrize(
        ("value", "label"),
        [
            pytest.param(1, 1, id="int"),
            pytest.param(torch.tensor(1), 1, id="0-d int64"),
            pytest.param(torch.tensor([0.0]), 0, id="mednet float [0.]"),
            pytest.param(torch.tensor([[1.0]], dtype=torch.float16), 1, id="half"),
            pytest.param(torch.tensor(True), 1, id="bool tensor"),
            pytest.param(torch.tensor([3], dtype=torch.uint8), 3, id="uint8"),
        ],
    )
    def test_integral_targets(self, value: object, label: int) -> None:
        """Ints and one-element tensors of integral value, of any dtype, are classes."""
        module = CachingDataModule(
            _fit_split(), TargetLoader(value), balance_sampler_by_class=True
        )
        module.setup("fit")
        with pytest.warns(LightsplitWarning, match="are all of class"):  # one class
            assert len(list(module.train_dataloader())) == 4
        assert module._targets["train"] == [label] * 4

    @pytest.mark.parametrize(
        ("value", "shown", "advice"),
        [
            pytest.param(torch.tensor([0.5]), "tensor([0.5000])", "", id="fraction"),
            pytest.param(
                torch.tensor([1.0, 0.0]),
                "tensor([1., 0.])",
                "; for a one-hot target, return the index of its class",
                id="one-hot",
            ),
            pytest.param(
                torch.tensor([1.0, 0.0, 1.0]),
                "tensor([1., 0., 1.])",
                "; a multi-label target (several classes, or none, per sample) has "
                "no one class for `balance_sampler_by_class` to balance: leave it "
                "False, and weigh the loss per class instead (BCE's `pos_weight`, "
                "from the training set's counts)",
                id="multi-label",
            ),
            pytest.param(
                [1.0, 0.0, 1.0],
                "[1.0, 0.0, 1.0]",
                "; a multi-label target (several classes, or none, per sample) has "
                "no one class for `balance_sampler_by_class` to balance: leave it "
                "False, and weigh the loss per class instead (BCE's `pos_weight`, "
                "from the training set's counts)",
                id="multi-label-list",
            ),
            pytest.param(True, "True", "", id="bool"),
            pytest.param(None, "None", "", id="none"),
            pytest.param("1", "'1'", "", id="string"),
            pytest.param(1.0, "1.0", "", id="float"),
        ],
    )
    def test_other_targets_refused(
        self, value: object, shown: str, advice: str
    ) -> None:
        """Anything else is an error naming set, index, entry and the value; a
        multi-label target is said to have no class to balance."""
        module = CachingDataModule(
            {"train": _entries()}, TargetLoader(value), balance_sampler_by_class=True
        )
        with pytest.raises(SampleLoadError) as exc_info:
            module.train_dataloader()
        assert str(exc_info.value) == (
            'set `train`, index 0, entry ["s0.png", 0]: TypeError: '
            f"`TargetLoader.target` returned `{shown}`; a class target must be an int "
            "or a tensor holding one integral value (`3`, `tensor(3)`, `tensor([0.])`"
            f"){advice}"
        )

    def test_refused_before_caching(self) -> None:
        """With a cache, a target that cannot be balanced fails in ``setup``,
        before any sample is loaded, not once the whole set is cached."""

        class CountingLoader(TargetLoader):
            loaded = 0

            def sample(self, raw: Entry) -> Sample:
                CountingLoader.loaded += 1
                return super().sample(raw)

        module = CachingDataModule(
            _fit_split(),
            CountingLoader(torch.tensor([1.0, 0.0, 1.0])),
            balance_sampler_by_class=True,
            cache_samples=True,
        )
        with pytest.raises(SampleLoadError, match="a multi-label target"):
            module.setup("fit")
        assert CountingLoader.loaded == 0


class RaisingTarget(TargetLoader):
    def target(self, raw: Entry) -> int:
        label: int = raw["label"]  # type: ignore[call-overload, assignment]  # a bug of the loader
        return label


def _halved(x: torch.Tensor) -> torch.Tensor:
    return x[: len(x) // 2]


def _mismatch(x: torch.Tensor) -> torch.Tensor:
    msg = "size mismatch"
    raise ValueError(msg)


@pytest.mark.parametrize("cache", [False, True])
def test_failing_callable_is_named(cache: bool) -> None:
    """A model transform or ``target`` that raises is named in the error, not
    read as the loader's failure (``entry [...]: ValueError: size mismatch``
    blamed no one); the original error stays its cause."""
    module = CachingDataModule(
        {"train": _entries()},
        TargetLoader(0),
        model_transforms=[torch.nn.Identity(), _mismatch],
        cache_samples=cache,
    )
    with pytest.raises(SampleLoadError) as exc_info:
        list(module.predict_dataloader()["train"])
    assert str(exc_info.value) == (
        'set `train`, index 0, entry ["s0.png", 0]: model transform 1 `_mismatch` '
        "raised ValueError: size mismatch"
    )
    assert isinstance(exc_info.value.__cause__, ValueError)
    module = CachingDataModule(
        {"train": _entries()}, RaisingTarget(0), balance_sampler_by_class=True
    )
    with pytest.raises(SampleLoadError) as exc_info:
        module.train_dataloader()
    assert str(exc_info.value) == (
        'set `train`, index 0, entry ["s0.png", 0]: `RaisingTarget.target` raised '
        "TypeError: tuple indices must be integers or slices, not str"
    )


class MaskLoader:
    """A segmentation loader: a 1x8x8 image with its 8x8 target and mask."""

    def sample(self, raw: Entry) -> Sample:
        image = torch.rand(1, 8, 8)
        mask = torch.ones(1, 8, 8)
        return Sample(image, {"target": image > 0.5, "mask": mask, "label": 1})

    def target(self, raw: Entry) -> int:
        return raw[1]


class WaveLoader:
    """A denoising loader: a noisy waveform, and the clean one as its target."""

    def sample(self, raw: Entry) -> Sample:
        clean = torch.zeros(1, 2000)
        return Sample(clean + torch.rand(1, 2000), {"target": clean})

    def target(self, raw: Entry) -> int:
        return raw[1]


def _spectrogram(wave: torch.Tensor) -> torch.Tensor:
    window = torch.hann_window(128)
    return torch.stft(wave[0], 128, window=window, return_complex=True).abs()


class TestModelTransforms:
    @pytest.mark.parametrize("cache", [False, True])
    def test_resize_apart_from_masks_warned(self, cache: bool) -> None:
        """A transform that resizes an image while its masks keep their size is
        warned about, naming them (mednet's resized masks too): kept on purpose,
        full-size masks are allowed. One that keeps the size, or an input that is
        no image (a waveform made a spectrogram), is not."""
        module = CachingDataModule(
            {"train": _entries()},
            MaskLoader(),
            model_transforms=[torch.nn.AvgPool2d(2)],
            cache_samples=cache,
            batch_size=4,
        )
        with pytest.warns(LightsplitWarning) as seen:
            (batch,) = module.predict_dataloader()["train"]
        assert str(seen[0].message) == (
            "the model transforms made the input image 4x4 from 8x8, but metadata "
            "`target`, `mask` stay 8x8: model transforms change the input alone "
            "(mednet's changed masks too); unless that is meant, resize those in the "
            "loader (nearest-neighbour for masks), or the input with them in a "
            "batch transform"
        )
        assert (batch.input.shape, batch.metadata["mask"].shape) == (
            (4, 1, 4, 4),
            (4, 1, 8, 8),
        )
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            module = CachingDataModule(
                {"train": _entries()},
                MaskLoader(),
                model_transforms=[torch.nn.Identity(), torch.sigmoid],
                cache_samples=cache,
                batch_size=4,
            )
            (batch,) = module.predict_dataloader()["train"]
            assert batch.input.shape == (4, 1, 8, 8)
            module = CachingDataModule(
                {"train": _entries()},
                WaveLoader(),
                model_transforms=[_spectrogram],
                cache_samples=cache,
                batch_size=4,
            )
            (batch,) = module.predict_dataloader()["train"]
            assert batch.input.shape == (4, 65, 63)

    def test_single_module_refused(self) -> None:
        """One transform where a list is expected is refused at construction."""
        with pytest.raises(ValidationError) as exc_info:
            CachingDataModule(
                {"train": _entries()},
                PairLoader(),
                model_transforms=torch.nn.Identity(),  # type: ignore[arg-type]  # the point
            )
        [error] = exc_info.value.errors(include_url=False)
        assert (error["type"], error["loc"]) == (
            "transforms_invalid",
            ("model_transforms",),
        )
        assert error["msg"] == (
            "`model_transforms` must be a list or tuple of transforms, not "
            "`Identity`; for a single transform, write `[transform]`"
        )

    def test_no_model_transforms_as_none(self) -> None:
        """mednet's ``None`` for no transform is refused, saying what means none."""
        with pytest.raises(ValidationError) as exc_info:
            CachingDataModule(
                {"train": _entries()},
                PairLoader(),
                model_transforms=None,  # type: ignore[arg-type]  # the point
            )
        [error] = exc_info.value.errors(include_url=False)
        assert error["msg"] == (
            "`model_transforms` must be a list or tuple of transforms, not None; "
            "for no transform, leave it out or give `[]`"
        )

    @pytest.mark.parametrize(
        ("transform", "message"),
        [
            pytest.param(
                "resize",
                'model transform "resize" (a `str`) is not callable; give a '
                "function or module that maps a tensor to a tensor",
                id="string",
            ),
            pytest.param(
                torch.nn.Identity,
                "model transform <class 'torch.nn.modules.linear.Identity'> is the "
                "class `Identity`, not a transform object; create one, as in "
                "`Identity(...)`",
                id="class",
            ),
        ],
    )
    def test_item_refused(self, transform: object, message: str) -> None:
        """Each transform that is not a transform object is named at its position."""
        with pytest.raises(ValidationError) as exc_info:
            CachingDataModule(
                {"train": _entries()},
                PairLoader(),
                model_transforms=[torch.nn.Identity(), transform],  # type: ignore[list-item]  # the point
            )
        [error] = exc_info.value.errors(include_url=False)
        assert (error["type"], error["loc"]) == (
            "transform_invalid",
            ("model_transforms", 1),
        )
        assert error["msg"] == message

    def test_batch_transform_item_refused(self) -> None:
        """An item of a batch transform list is named a batch transform."""
        with pytest.raises(ValidationError) as exc_info:
            CachingDataModule(
                {"train": _entries()},
                PairLoader(),
                eval_batch_transforms=[3],  # type: ignore[list-item]  # the point
            )
        [error] = exc_info.value.errors(include_url=False)
        assert (error["type"], error["loc"]) == (
            "transform_invalid",
            ("eval_batch_transforms", 0),
        )
        assert error["msg"] == (
            "batch transform 3 (a `int`) is not callable; give a function or module "
            "that maps a tensor to a tensor, or an object with `transform_batch(batch)`"
        )

    def test_setter_checks(self) -> None:
        """Assigned transforms are checked the same way, and nothing changes."""
        module = CachingDataModule({"train": _entries()}, PairLoader())
        with pytest.raises(ValidationError):
            module.model_transforms = ["resize"]  # type: ignore[list-item]  # the point
        assert module.model_transforms == ()


class TestCacheDir:
    @pytest.mark.parametrize(
        ("value", "kind"),
        [
            pytest.param(3, "string_type", id="int"),
            pytest.param(b"cache", "string_type", id="bytes"),
            pytest.param("", "cache_dir_empty", id="empty"),
        ],
    )
    def test_refused_at_construction(self, value: object, kind: str) -> None:
        """A `cache_dir` that is no folder path is a `ValidationError`, at its field."""
        with pytest.raises(ValidationError) as exc_info:
            CachingDataModule(
                {"train": _entries()},
                PairLoader(),
                cache_samples=True,
                cache_dir=value,  # type: ignore[arg-type]  # the point
            )
        [error] = exc_info.value.errors(include_url=False)
        assert (error["type"], error["loc"]) == (kind, ("cache_dir",))

    def test_empty_message(self) -> None:
        """The empty folder's message says how to mean the current folder."""
        with pytest.raises(ValidationError) as exc_info:
            DataModuleConfig(cache_samples=True, cache_dir="")
        assert exc_info.value.errors()[0]["msg"] == (
            "`cache_dir` is empty; give a folder path (`.` for the current folder), "
            "or leave it unset for no persistent cache"
        )


class TestSplitFiles:
    def test_part_from_split_file(self, tmp_path: Path) -> None:
        """A part's samples may be a split file: its set of the same name is read."""
        write_split(
            tmp_path / "a.json", {"train": _entries(3), "test": _entries(1, "t")}
        )
        module = ConcatDataModule(
            {
                "train": [SplitPart(tmp_path / "a.json", PairLoader())],
                "test": [
                    (str(tmp_path / "a.json"), PairLoader()),
                    (_entries(2, "u"), PairLoader()),
                ],
            }
        )
        module.setup("predict")
        sizes = {
            name: len(cast(SetDataset, loader.dataset))  # a lightsplit set
            for name, loader in module.predict_dataloader().items()
        }
        assert sizes == {"train": 3, "test": 3}

    def test_file_without_the_set(self, tmp_path: Path) -> None:
        """A file that lacks the set is named, with the sets it has."""
        write_split(tmp_path / "a.json", {"train": _entries(3)})
        with pytest.raises(SplitFileError) as exc_info:
            ConcatDataModule({"validation": [(str(tmp_path / "a.json"), PairLoader())]})
        assert str(exc_info.value) == (
            f"{tmp_path / 'a.json'}: the split file has no set `validation` (it has "
            "`train`); name a file with a `validation` set there, or give the samples "
            "themselves"
        )

    def test_caching_data_module_from_path(self, tmp_path: Path) -> None:
        """`CachingDataModule` reads a split file given as its path."""
        write_split(
            tmp_path / "s.json", {"train": _entries(3), "test": _entries(2, "t")}
        )
        module = CachingDataModule(str(tmp_path / "s.json"), PairLoader())
        assert module.set_names == ("train", "test")
        with pytest.raises(FileNotFoundError) as exc_info:
            CachingDataModule(tmp_path / "missing.json", PairLoader())
        assert str(exc_info.value) == (
            f"`database_split`: the split file {tmp_path / 'missing.json'} does not "
            "exist; give the path of an existing split file (`.json` or `.json.bz2`)"
        )

    def test_missing_file_named_with_its_set(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A relative path that names no file is shown as it was read."""
        monkeypatch.chdir(tmp_path)
        with pytest.raises(FileNotFoundError) as exc_info:
            ConcatDataModule({"test": [("splits/a.json", PairLoader())]})
        assert str(exc_info.value) == (
            f"set `test`: the split file splits/a.json does not exist (read as "
            f"{tmp_path / 'splits/a.json'}); give the path of an existing split file "
            "(`.json` or `.json.bz2`)"
        )

    def test_arguments_swapped(self) -> None:
        """A loader first and the split second is named as such."""
        with pytest.raises(TypeError) as exc_info:
            CachingDataModule(PairLoader(), {"train": _entries(2)})  # type: ignore[arg-type]  # the point
        assert str(exc_info.value) == (
            "CachingDataModule takes the split first, then the loader: "
            "`CachingDataModule(database_split, raw_data_loader)`; the first "
            "argument is a loader (`PairLoader`), the second a `dict`"
        )

    def test_file_name_in_capitals(self, tmp_path: Path) -> None:
        """``SPLIT.JSON`` names a split file as ``split.json`` does."""
        write_split(tmp_path / "S.JSON", {"train": _entries(3)})
        one = CachingDataModule(str(tmp_path / "S.JSON"), PairLoader())
        assert one.set_names == ("train",)
        module = ConcatDataModule({"train": [(str(tmp_path / "S.JSON"), PairLoader())]})
        assert module.set_names == ("train",)


class TestMednetBatches:
    """Batches read by key, as mednet's engine reads its own."""

    @pytest.mark.parametrize("cache", [False, True])
    def test_read_and_set_by_key(self, tmp_path: Path, cache: bool) -> None:
        """``batch["image"]``, ``batch["target"]`` and assignment, as mednet does."""
        entries = write_pngs(tmp_path, 4)
        module = CachingDataModule(
            {"train": entries},
            MappingLoader(MednetStyleLoader(str(tmp_path)), input_key="image"),
            batch_size=4,
            cache_samples=cache,
            task="classification",
            num_classes=1,
        )
        assert (module.task, module.num_classes) == ("classification", 1)
        batch = next(iter(module.unshuffled_train_dataloader()))
        mednet: Any = batch  # read by untyped code, as mednet's engine is
        assert mednet["image"] is batch.input is mednet["input"] is batch[0]
        assert mednet["target"].shape == (4, 1)
        assert mednet["name"] == [name for name, _ in entries]
        mednet["target"] = mednet["target"].squeeze(1)  # mednet's predictor does so
        assert batch.metadata["target"].shape == (4,)
        x, meta = batch  # typed code unpacks it as before
        assert x is batch.input
        assert meta is batch.metadata
        with pytest.raises(KeyError, match="sample has no key `mask`; its keys: "):
            mednet["mask"]
        # as a dict of its keys: mednet's models ask `batch.get("phase_id")`
        assert "target" in batch
        assert "image" in batch
        assert "mask" not in batch
        assert batch.get("mask") is None
        assert batch.get("name") == mednet["name"]
        assert batch.keys() == ["image", "target", "name"]
        with pytest.raises(TypeError, match=r"make a new one: `sample\._replace"):
            mednet["image"] = x
