"""The ten settings: declared once, read and assigned on the data modules."""

import inspect
import re
import typing
import warnings
from pathlib import Path
from typing import Any

import pytest
import torch
from lightsplit_testing import Entry, MemoryLoader, entries_named
from pydantic import Field, ValidationError

from lightsplit import (
    CachingDataModule,
    ConcatDataModule,
    DataModuleConfig,
    LightsplitWarning,
    build_datamodule,
)
from lightsplit._config import SettingChanges
from lightsplit._datasets import CachedDataset, LazyDataset
from lightsplit._settings import SETTING_NAMES, Setting, describe


def _split() -> dict[str, list[Entry]]:
    return {"train": entries_named("t", 10), "validation": entries_named("v", 3)}


def _module(**settings: Any) -> CachingDataModule:  # noqa: ANN401 - any setting
    return CachingDataModule(_split(), MemoryLoader(), **settings)


def _plain(annotation: object) -> object:
    """Strip ``Annotated`` metadata from an annotation, at any depth."""
    return typing.get_type_hints(
        type("Holder", (), {"__annotations__": {"x": annotation}})
    )["x"]


# A valid new value of each setting, and one that is not valid.
CHANGES: dict[str, tuple[object, object]] = {
    "database_name": ("montgomery", 3),
    "split_name": ("fold-0", None),
    "task": ("classification", 1),
    "num_classes": (14, 0),
    "cache_samples": (True, "yes"),
    "balance_sampler_by_class": (True, 1),
    "batch_size": (5, 0),
    "batch_chunk_count": (1, 0),
    "drop_incomplete_batch": (True, "no"),
    "parallel": (2, -2),
    "cache_dir": ("cache", ""),
    "seed": (7, -1),
    "cache_on_device": (False, 1),
    "device_headroom": (0.5, 1.0),
    "allow_data_change": (True, 0),
    "group_pattern": (r"^(\w)", "("),
    "group_field": (0, -1),
}


class TestOneSource:
    def test_changes_cover_every_setting(self) -> None:
        """Each setting has a value to try, so no setting escapes the tests below."""
        assert set(CHANGES) == set(DataModuleConfig.model_fields) == set(SETTING_NAMES)

    def test_replace_types_match_the_fields(self) -> None:
        """``replace`` takes each field under its name and type, and nothing else."""
        hints = typing.get_type_hints(SettingChanges)
        assert list(hints) == list(DataModuleConfig.model_fields)
        for name, field in DataModuleConfig.model_fields.items():
            assert _plain(field.annotation) == hints[name], name

    @pytest.mark.parametrize("cls", [ConcatDataModule, CachingDataModule])
    def test_constructors_match_the_fields(self, cls: type[ConcatDataModule]) -> None:
        """Both constructors take every setting, with the field's default and type."""
        parameters = inspect.signature(cls.__init__).parameters
        hints = typing.get_type_hints(SettingChanges)
        for name, field in DataModuleConfig.model_fields.items():
            parameter = parameters[name]
            assert parameter.default == field.default, name
            assert typing.get_type_hints(cls.__init__)[name] == hints[name], name
        others = set(parameters) - set(SETTING_NAMES)
        assert others <= {
            "self",
            "splits",
            "database_split",
            "raw_data_loader",
            "model_transforms",
            "train_batch_transforms",
            "eval_batch_transforms",
        }

    @pytest.mark.parametrize("cls", [ConcatDataModule, CachingDataModule])
    def test_properties_match_the_fields(self, cls: type[ConcatDataModule]) -> None:
        """Each setting is a property of the data modules, typed as its field."""
        hints = typing.get_type_hints(SettingChanges)
        for name in SETTING_NAMES:
            setting = inspect.getattr_static(cls, name)
            assert isinstance(setting, Setting), name
            assert typing.get_args(setting.__orig_class__) == (hints[name],), name  # type: ignore[attr-defined]  # set by Setting[T]()

    @pytest.mark.parametrize("cls", [ConcatDataModule, CachingDataModule])
    def test_documented_from_the_fields(self, cls: type[ConcatDataModule]) -> None:
        """The constructors document each setting with the field's own text."""
        doc = " ".join((cls.__doc__ or "").split())
        for name in SETTING_NAMES:
            assert f"{name}: {describe(name)}" in doc, name
        assert ": see `DataModuleConfig`." not in doc

    def test_factory_hands_the_config_through(self) -> None:
        """``build_datamodule(c, s).config is c``."""
        config = DataModuleConfig(batch_size=6, batch_chunk_count=3, seed=1)
        module = build_datamodule(
            config, {"train": [(entries_named("t", 9), MemoryLoader())]}
        )
        assert module.config is config
        assert type(module) is ConcatDataModule


class TestAssignment:
    @pytest.mark.parametrize("name", list(CHANGES))
    def test_valid_value_replaces_the_config(self, name: str) -> None:
        """Assigning a setting re-validates and replaces the configuration."""
        module = _module(cache_samples=name == "cache_dir")
        value, _ = CHANGES[name]
        setattr(module, name, value)
        expected = Path("cache") if name == "cache_dir" else value
        assert getattr(module.config, name) == expected
        assert getattr(module, name) == expected
        assert name not in vars(module)  # no stray attribute

    @pytest.mark.parametrize("name", list(CHANGES))
    def test_invalid_value_is_refused(self, name: str) -> None:
        """An invalid value raises and leaves the data module as it was."""
        module = _module()
        before = module.config
        _, value = CHANGES[name]
        with pytest.raises(ValidationError):
            setattr(module, name, value)
        assert module.config is before
        assert name not in vars(module)

    def test_batch_size_takes_effect(self) -> None:
        """mednet's ``dm.batch_size = 4`` changes what the next loaders serve."""
        module = _module(batch_size=8)
        module.setup("fit")
        module.batch_size = 4
        sizes = [len(batch.input) for batch in module.unshuffled_train_dataloader()]
        assert (module.batch_size, sizes) == (4, [4, 4, 2])

    def test_not_divisible_names_both_settings(self) -> None:
        """A batch size the chunk count does not divide is refused, naming both."""
        module = _module(batch_size=8, batch_chunk_count=4)
        with pytest.raises(ValidationError) as exc_info:
            module.batch_size = 10
        [error] = exc_info.value.errors()
        assert error["type"] == "batch_not_divisible"
        module.set_chunk_size(10, 5)
        assert (module.batch_size, module.chunk_size) == (10, 2)

    def test_drop_and_seed_take_effect(self) -> None:
        """``drop_incomplete_batch`` and ``seed`` apply to the next training loader."""
        module = _module(batch_size=4)
        module.setup("fit")
        module.drop_incomplete_batch = True
        module.seed = 3

        def first_epoch() -> list[list[str]]:
            loader = module.train_dataloader()
            loader.sampler.set_epoch(0)  # type: ignore[attr-defined]  # lightsplit's sampler
            return [b.metadata["name"] for b in loader]

        first = first_epoch()
        assert [len(names) for names in first] == [4, 4]
        assert first_epoch() == first
        module.seed = 4
        assert first_epoch() != first

    def test_parallel_and_balance_take_effect(self) -> None:
        """``parallel`` and class balancing apply to the next loaders."""
        module = _module()
        module.setup("fit")
        module.parallel = 2
        assert module.train_dataloader().num_workers == 2
        module.balance_sampler_by_class = True
        assert module.train_dataloader().sampler.draw == "balanced"  # type: ignore[attr-defined]  # lightsplit's sampler

    def test_cache_samples_drops_sets(self) -> None:
        """Turning caching on after setup drops the set, which is cached when used."""
        loaded: list[str] = []
        module = CachingDataModule(_split(), MemoryLoader(loaded=loaded))
        module.setup("fit")
        assert isinstance(module.predict_dataloader()["train"].dataset, LazyDataset)
        with pytest.warns(LightsplitWarning, match=re.escape("`cache_samples`")):
            module.cache_samples = True
        assert isinstance(module.predict_dataloader()["train"].dataset, CachedDataset)
        assert len(loaded) == 13  # both sets, cached once each

    def test_cache_dir_takes_effect(self, tmp_path: Path) -> None:
        """A ``cache_dir`` assigned before setup receives the cache files."""
        module = _module(cache_samples=True)
        module.cache_dir = tmp_path / "cache"
        assert module.cache_dir == tmp_path / "cache"
        module.setup("fit")
        assert sorted(path.name[:5] for path in (tmp_path / "cache").iterdir()) == [
            "train",
            "valid",
        ]

    def test_same_value_keeps_sets(self, recwarn: pytest.WarningsRecorder) -> None:
        """Assigning the value a setting already has drops nothing."""
        module = _module(cache_samples=True)
        module.setup("fit")
        module.cache_samples = True
        module.model_transforms = []
        assert not recwarn.list

    @pytest.mark.parametrize(
        ("name", "said"),
        [
            pytest.param("batch_szie", "did you mean `batch_size`?", id="typo"),
            pytest.param("cache_sample", "did you mean `cache_samples`?", id="plural"),
            pytest.param(
                "num_workers",
                "the worker processes of lightsplit's loaders are set by `parallel`",
                id="torch",
            ),
            pytest.param(
                "collate_fn",
                "lightsplit collates every batch into a `Sample` itself",
                id="loader-argument",
            ),
            pytest.param(
                "shuffle", "the training loader shuffles by `seed`", id="sampling"
            ),
            pytest.param(
                "pin_memory", "lightsplit's loaders pin their batches", id="pinning"
            ),
            pytest.param(
                "balance_classes",
                "did you mean `balance_sampler_by_class`?",
                id="mednet-option",
            ),
        ],
    )
    def test_misspelt_setting_refused(self, name: str, said: str) -> None:
        """An attribute that looks like a setting would be ignored: it is refused."""
        module = _module()
        with pytest.raises(AttributeError) as exc_info:
            setattr(module, name, 8)
        message = str(exc_info.value)
        assert message.startswith(
            f"`{name}` is no setting of CachingDataModule, and lightsplit would "
            f"never read it; {said}"
        )
        assert name not in vars(module)

    def test_own_attributes_allowed(self) -> None:
        """Other names, and names a subclass declares, are plain attributes."""

        class Seeded(CachingDataModule):
            seeds: list[int]

        module = _module()
        module.notes = "run 3"  # type: ignore[attr-defined]  # a user's own
        seeded = Seeded(_split(), MemoryLoader())
        seeded.seeds = [1, 2]
        assert (module.notes, seeded.seeds) == ("run 3", [1, 2])  # type: ignore[attr-defined]

    def test_config_assignment(self) -> None:
        """Several settings change at once by assigning a derived configuration."""
        module = _module()
        module.config = module.config.replace(batch_size=6, batch_chunk_count=3)
        assert module.chunk_size == 2
        with pytest.raises(TypeError, match=re.escape("derive one with")):
            module.config = {"batch_size": 6}  # type: ignore[assignment]  # as mypy says

    @pytest.mark.parametrize(
        "make",
        [
            pytest.param(
                lambda c: c.model_copy(update={"batch_size": 9}), id="model_copy"
            ),
            pytest.param(
                lambda c: DataModuleConfig.model_construct(
                    **{**dict(c), "parallel": -7}
                ),
                id="model_construct",
            ),
        ],
    )
    def test_unvalidated_config_is_refused(
        self, make: typing.Callable[[DataModuleConfig], DataModuleConfig]
    ) -> None:
        """A configuration made without validation is validated when handed over.

        ``model_copy(update=...)`` skips validation: batches of 9 in 2 chunks were
        served as chunks of 5 (steps of 10), and a `parallel` of -7 failed in
        ``train_dataloader`` with a comparison of types. Assigned, or given to
        `build_datamodule`, it now raises and the data module keeps its own.
        """
        module = _module(batch_size=8, batch_chunk_count=2)
        before = module.config
        bad = make(before)
        with pytest.raises(ValidationError):
            module.config = bad
        assert module.config is before
        with pytest.raises(ValidationError):
            build_datamodule(bad, {"train": [(entries_named("t", 9), MemoryLoader())]})

    def test_valid_subclass_is_taken(self) -> None:
        """A subclass with fields of its own (an alias) is validated by the
        settings lightsplit reads, and held as it is."""

        class Experiment(DataModuleConfig):
            learning_rate: float = Field(0.1, alias="lr")

        config = Experiment(batch_size=4, lr=0.5)
        module = build_datamodule(
            config, {"train": [(entries_named("t", 9), MemoryLoader())]}
        )
        assert module.config is config
        module.config = config
        assert module.config is config

    def test_factory_refuses_a_mapping(self) -> None:
        """A mapping given for the configuration says how to make one."""
        with pytest.raises(
            TypeError, match=re.escape("DataModuleConfig.model_validate")
        ):
            build_datamodule(
                {"batch_size": 2},  # type: ignore[arg-type]  # the point
                {"train": [(entries_named("t", 9), MemoryLoader())]},
            )

    @pytest.mark.parametrize("name", ["chunk_size", "accumulate_grad_batches"])
    def test_derived_values_are_read_only(self, name: str) -> None:
        """A derived value cannot be assigned; the message names what to set."""
        module = _module()
        with pytest.raises(AttributeError, match="is derived from the settings"):
            setattr(module, name, 3)
        assert name not in vars(module)


@pytest.mark.parametrize("how", ["setting", "config", "model_transforms"])
def test_dropped_sets_warning_names_the_users_line(how: str) -> None:
    """The warning of sets dropped points at the assignment, however it is made."""
    module = CachingDataModule(
        {"train": entries_named("t", 4), "validation": entries_named("v", 2)},
        MemoryLoader(),
    )
    module.setup("fit")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if how == "setting":
            module.cache_samples = True
        elif how == "config":
            module.config = module.config.replace(cache_samples=True)
        else:
            module.model_transforms = [torch.nn.Identity()]
    assert [(w.category, w.filename) for w in caught] == [(LightsplitWarning, __file__)]
    assert "dropping the sets" in str(caught[0].message)
