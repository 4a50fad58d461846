"""LightningCLI: data modules and loaders built from YAML files, as users train."""

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonargparse import ArgumentError, ArgumentParser
from lightsplit_testing import write_pngs, write_split
from pydantic import ValidationError

from lightsplit import CachingDataModule, DataModuleConfig

SCRIPT = Path(__file__).with_name("cli_fit.py")
TESTS = Path(__file__).parent


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A folder with 12 PNG images under ``images`` and their ``split.json``."""
    entries = write_pngs(tmp_path / "images", 12)
    write_split(
        tmp_path / "split.json", {"train": entries[:8], "validation": entries[8:]}
    )
    return tmp_path


def _data(**overrides: object) -> dict[str, object]:
    """Return the ``init_args`` of a cached, chunked `CachingDataModule`."""
    return {
        "database_split": "split.json",
        "raw_data_loader": {
            "class_path": "lightsplit.ImageFileLoader",
            "init_args": {"root": "images"},
        },
        "batch_size": 4,
        "batch_chunk_count": 2,
        "cache_samples": True,
        "parallel": 2,
        "seed": 42,
        **overrides,
    }


def _config(workdir: Path, data: dict[str, object]) -> Path:
    """Write a LightningCLI configuration of two CPU epochs and ``data``."""
    config = {
        "trainer": {
            "accelerator": "cpu",
            "max_epochs": 2,
            "logger": False,
            "enable_checkpointing": False,
            "enable_progress_bar": False,
            "enable_model_summary": False,
        },
        "data": data,
    }
    path = workdir / "run.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def _run(workdir: Path, mode: str, *arguments: str) -> subprocess.CompletedProcess[str]:
    """Run ``tests/cli_fit.py MODE ARGUMENTS...`` in ``workdir``."""
    environment = {**os.environ, "PYTHONPATH": str(TESTS), "PYTHONWARNINGS": ""}
    return subprocess.run(
        [sys.executable, str(SCRIPT), mode, *arguments],
        cwd=workdir,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _fit_record(workdir: Path, result: subprocess.CompletedProcess[str]) -> Any:  # noqa: ANN401 - JSON
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads((workdir / "fit.json").read_text())


class TestFit:
    def test_fit_from_yaml(self, workdir: Path) -> None:
        """``data.class_path: lightsplit.CachingDataModule`` trains as configured."""
        config = _config(
            workdir,
            {"class_path": "lightsplit.CachingDataModule", "init_args": _data()},
        )
        record = _fit_record(
            workdir, _run(workdir, "subclass", "fit", "-c", str(config))
        )
        assert record["class"] == "CachingDataModule"
        assert record["chunks"] == [2] * 8  # 8 samples in chunks of 2, twice
        assert record["accumulate_grad_batches"] == 2  # linked from the data module
        names = sorted(record["names"])
        assert names == sorted(f"img_{i:05d}.png" for i in range(8) for _ in range(2))
        assert record["config"] == DataModuleConfig(
            cache_samples=True, batch_size=4, batch_chunk_count=2, parallel=2, seed=42
        ).model_dump(mode="json")

    def test_fixed_data_module_class(self, workdir: Path) -> None:
        """``LightningCLI(Model, CachingDataModule)`` takes its arguments directly."""
        config = _config(workdir, _data(batch_chunk_count=4, seed=7))
        record = _fit_record(workdir, _run(workdir, "fixed", "fit", "-c", str(config)))
        assert record["class"] == "CachingDataModule"
        assert record["chunks"] == [1] * 16
        assert record["accumulate_grad_batches"] == 4

    def test_concat_data_module_from_yaml(self, workdir: Path) -> None:
        """Each part of a `ConcatDataModule` set names a split file and its loader."""
        extra = write_pngs(workdir / "more", 4, prefix="more")
        write_split(workdir / "more.json", {"train": extra, "validation": extra[:2]})
        loader = {"class_path": "lightsplit.ImageFileLoader", "init_args": {}}
        parts = {
            "train": [
                ["split.json", {**loader, "init_args": {"root": "images"}}],
                {
                    "samples": "more.json",
                    "loader": {**loader, "init_args": {"root": "more"}},
                },
            ],
            "validation": [["split.json", {**loader, "init_args": {"root": "images"}}]],
        }
        data: dict[str, object] = {
            "class_path": "lightsplit.ConcatDataModule",
            "init_args": {"splits": parts, "batch_size": 4, "cache_samples": True},
        }
        record = _fit_record(
            workdir, _run(workdir, "subclass", "fit", "-c", str(_config(workdir, data)))
        )
        assert record["sets"] == {"train": 12, "validation": 4}
        assert sorted(set(record["names"])) == sorted(
            [f"img_{i:05d}.png" for i in range(8)]
            + [f"more_{i:05d}.png" for i in range(4)]
        )

    def test_mapping_loader_from_yaml(self, workdir: Path) -> None:
        """A mednet-style loader of mappings trains through `MappingLoader`."""
        data = _data(
            raw_data_loader={
                "class_path": "lightsplit.MappingLoader",
                "init_args": {
                    "loader": {
                        "class_path": "lightsplit_testing.MednetStyleLoader",
                        "init_args": {"root": "images"},
                    },
                    "input_key": "image",
                },
            },
            balance_sampler_by_class=True,
        )
        config = _config(
            workdir, {"class_path": "lightsplit.CachingDataModule", "init_args": data}
        )
        arguments = ("fit", "-c", str(config), "--model.label_key", "target")
        record = _fit_record(workdir, _run(workdir, "subclass", *arguments))
        assert record["chunks"] == [2] * 8
        assert len(set(record["names"])) <= 8


class TestPrintConfig:
    def test_every_setting_described(self, workdir: Path) -> None:
        """``--print_config=comments`` shows each setting's value and description."""
        config = _config(
            workdir,
            {"class_path": "lightsplit.CachingDataModule", "init_args": _data()},
        )
        result = _run(
            workdir, "subclass", "fit", "-c", str(config), "--print_config=comments"
        )
        assert result.returncode == 0, result.stderr[-3000:]
        printed = yaml.safe_load(result.stdout)
        assert printed["data"]["init_args"]["batch_size"] == 4
        assert printed["data"]["init_args"]["raw_data_loader"]["init_args"] == {
            "root": "images",
            "mode": "L",
            "dtype": "float32",
        }
        for name, field in DataModuleConfig.model_fields.items():
            first_words = " ".join((field.description or "").split()[:6])
            assert first_words in " ".join(result.stdout.split()), name

    def test_invalid_combination(self, workdir: Path) -> None:
        """An invalid combination fails with lightsplit's message, before training."""
        config = _config(
            workdir,
            {"class_path": "lightsplit.CachingDataModule", "init_args": _data()},
        )
        result = _run(
            workdir,
            "subclass",
            "fit",
            "-c",
            str(config),
            "--data.batch_size",
            "10",
            "--data.batch_chunk_count",
            "3",
        )
        assert result.returncode == 1
        assert (
            "`batch_size` (10) is not divisible by `batch_chunk_count` (3); use a "
            "`batch_size` of 9 or 12, or a `batch_chunk_count` of 2 or 5"
        ) in result.stderr
        assert not (workdir / "fit.json").exists()


def _parse(data: dict[str, object]) -> CachingDataModule:
    """Build a `CachingDataModule` from ``data`` as LightningCLI's parser does."""
    parser = ArgumentParser(exit_on_error=False)
    parser.add_class_arguments(CachingDataModule, "data")
    parsed = parser.parse_object({"data": data})
    module = parser.instantiate(parsed)["data"]
    assert isinstance(module, CachingDataModule)
    return module


LOADERS = {
    "ImageFileLoader": ("lightsplit.ImageFileLoader", {"root": "images"}),
    "ImageMaskLoader": ("lightsplit.ImageMaskLoader", {"root": "images"}),
    "PngLoader": ("lightsplit_testing.PngLoader", {"root": "images"}),
    "MappingLoader": (
        "lightsplit.MappingLoader",
        {
            "loader": {
                "class_path": "lightsplit_testing.MednetStyleLoader",
                "init_args": {"root": "images"},
            }
        },
    ),
}


class TestProtocolCheck:
    @pytest.mark.parametrize("name", list(LOADERS))
    def test_loader_accepted(self, name: str, workdir: Path) -> None:
        """Every ready-made loader, and one written as the docs show, is accepted."""
        class_path, init_args = LOADERS[name]
        loader = {"class_path": class_path, "init_args": init_args}
        entry = ["a.png", "a-mask.png"] if name == "ImageMaskLoader" else ["a.png", 0]
        module = _parse(
            {"database_split": {"train": [entry]}, "raw_data_loader": loader}
        )
        assert type(module.config) is DataModuleConfig

    def test_split_file_path(
        self, workdir: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A path for ``database_split`` is read with `load_split`."""
        monkeypatch.chdir(workdir)
        module = _parse(
            {
                "database_split": "split.json",
                "raw_data_loader": {
                    "class_path": "lightsplit.ImageFileLoader",
                    "init_args": {"root": "images"},
                },
                "model_transforms": [{"class_path": "torch.nn.Identity"}],
            }
        )
        assert module.set_names == ("train", "validation")
        assert len(module.model_transforms) == 1

    @pytest.mark.parametrize(
        ("key", "value"),
        [
            pytest.param("cache_dir", ["a", "b"], id="cache-dir-list"),
            pytest.param("cache_dir", True, id="cache-dir-bool"),
            pytest.param("cache_dir", 5, id="cache-dir-int"),
            pytest.param(
                "database_split", ["split.json", "more.json"], id="split-list"
            ),
        ],
    )
    def test_path_refuses_other_values(
        self, workdir: Path, key: str, value: object
    ) -> None:
        """A path setting given a list, a truth value or a number in YAML is
        refused, naming it; it used to become a folder named `['a', 'b']`."""
        loader = {
            "class_path": "lightsplit.ImageFileLoader",
            "init_args": {"root": "."},
        }
        data = {
            "database_split": {"train": [["a.png", 0]]},
            "raw_data_loader": loader,
            "cache_samples": True,
            key: value,
        }
        with pytest.raises(ArgumentError, match=f'Parser key "data.{key}"'):
            _parse(data)

    def test_quoted_number_is_converted(self, workdir: Path) -> None:
        """jsonargparse reads a quoted ``"4"`` in YAML as 4 (documented as laxer)."""
        loader = {
            "class_path": "lightsplit.ImageFileLoader",
            "init_args": {"root": "."},
        }
        module = _parse(
            {
                "database_split": {"train": [["a.png", 0]]},
                "raw_data_loader": loader,
                "batch_size": "4",
            }
        )
        assert module.batch_size == 4


class TestGroupField:
    """`group_field` from a YAML file, as LightningCLI's parser reads it."""

    def _module(self, split: dict[str, object], text: str) -> CachingDataModule:
        loader = {
            "class_path": "lightsplit.ImageFileLoader",
            "init_args": {"root": "."},
        }
        settings = yaml.safe_load(text)
        return _parse({"database_split": split, "raw_data_loader": loader, **settings})

    def test_position_refuses_a_patient_in_two_sets(self) -> None:
        """``group_field: 2`` groups ``[path, label, patient]`` rows by their
        patient: a patient in `train` and `validation` is refused."""
        split: dict[str, object] = {
            "train": [["0.png", 0, "P1"], ["1.png", 1, 2]],
            "validation": [["2.png", 1, "P3"]],
        }
        assert self._module(split, "group_field: 2").group_field == 2
        split["validation"] = [["2.png", 1, "P3"], ["3.png", 0, "2"]]
        with pytest.raises(ValidationError) as exc_info:
            self._module(split, "group_field: 2")
        assert [e["type"] for e in exc_info.value.errors()] == ["group_leak"] * 2

    def test_quoted_digits_read_as_a_position(self) -> None:
        """jsonargparse reads a quoted ``"2"`` as the number 2, as it reads every
        number (documented): in Python, ``"2"`` stays a key."""
        split: dict[str, object] = {
            "train": [["0.png", 0, "P1"]],
            "validation": [["1.png", 1, "P2"]],
        }
        assert self._module(split, "group_field: '2'").group_field == 2

    def test_both_options_refused(self) -> None:
        """With `group_pattern` too, it is refused, naming both."""
        split: dict[str, object] = {"train": [["0.png", 0, "P1"]]}
        with pytest.raises(ValidationError) as exc_info:
            self._module(split, "{group_field: PatientID, group_pattern: '^(\\d)'}")
        [error] = exc_info.value.errors()
        assert error["type"] == "group_pattern_and_field"
        assert error["msg"].startswith(
            "`group_pattern` (`^(\\d)`) and `group_field` (`PatientID`) are both set"
        )
