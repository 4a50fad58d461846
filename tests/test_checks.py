import dataclasses
from pathlib import Path

import pytest
import torch
from lightsplit_testing import Entry, FailingLoader, MemoryLoader, PngLoader

from lightsplit import Sample, SampleFailure, check_split_loading
from lightsplit._checks import failure_reason, group_failures
from lightsplit._report import SplitReport


class TestCheckSplitLoading:
    @pytest.mark.parametrize(
        ("change", "error", "said"),
        [
            pytest.param(
                {"limit": "2"},
                TypeError,
                "`limit` is '2'; give a whole number: 0 (every sample) or a count",
                id="limit-string",
            ),
            pytest.param({"limit": True}, TypeError, "`limit` is True", id="bool"),
            pytest.param(
                {"split": {"valid": []}},
                ValueError,
                "`valid` is not a valid set name; did you mean `validation`?",
                id="set-name",
            ),
            pytest.param(
                {"loader": PngLoader},
                TypeError,
                "the loader is the class `PngLoader`, not a loader object; create "
                "one, as in `PngLoader(...)`",
                id="class",
            ),
        ],
    )
    def test_arguments_refused_up_front(
        self,
        split: dict[str, list[Entry]],
        loader: PngLoader,
        change: dict[str, object],
        error: type[Exception],
        said: str,
    ) -> None:
        """What the data modules refuse is refused before loading, not reported
        as one failure per sample (a class: ``missing 1 required positional
        argument``), nor taken as another value (``True`` as 1)."""
        arguments: dict[str, object] = {"split": split, "loader": loader, **change}
        with pytest.raises(error) as exc_info:
            check_split_loading(**arguments)  # type: ignore[arg-type]  # the point
        assert said in str(exc_info.value)

    def test_no_failure(self, split: dict[str, list[Entry]], loader: PngLoader) -> None:
        """A loader that loads every sample gives no failure."""
        assert check_split_loading(split, loader) == []

    def test_failures(self, entries: list[Entry], png_root: Path) -> None:
        """Every failing sample is reported with set, index, entry and message."""
        bad = frozenset({entries[1][0], entries[5][0]})
        split = {"train": entries[:4], "test": entries[4:8]}
        failures = check_split_loading(split, FailingLoader(png_root, bad))
        assert [(f.set_name, f.index, f.entry) for f in failures] == [
            ("train", 1, entries[1]),
            ("test", 1, entries[5]),
        ]
        assert failures[0].message == f"OSError: cannot decode {entries[1][0]}"
        assert str(failures[0]) == (
            f'train.1: entry ["{entries[1][0]}", 1]: '
            f"OSError: cannot decode {entries[1][0]}"
        )

    def test_targets_that_are_no_class(self) -> None:
        """A ``target`` that raises or returns no class (a string, a fraction) is
        a failure, as class balancing would find it in the middle of a run; a
        multi-label tensor target is none."""

        class TargetLoader:
            def sample(self, raw: tuple[str, object]) -> Sample:
                return Sample(torch.zeros(1, 2, 2), {})

            def target(self, raw: tuple[str, object]) -> object:
                if raw[0] == "raises":
                    raise KeyError(raw[0])
                return raw[1]

        split = {
            "train": [
                ("a", 1),
                ("b", "0"),
                ("c", torch.tensor([0, 1, 1])),
                ("d", torch.tensor(0.5)),
                ("raises", 0),
            ]
        }
        failures = check_split_loading(split, TargetLoader())  # type: ignore[arg-type]  # returns no int on purpose
        assert [f.index for f in failures] == [1, 3, 4]
        assert failures[0].message.startswith(
            "TypeError: `TargetLoader.target` returned `'0'`; a class target must be "
            "an int or a tensor holding one integral value"
        )
        assert failures[2].message == "KeyError: 'raises'"

    def test_samples_that_do_not_batch(self) -> None:
        """A target vector of another length, or metadata of other keys, load
        alone but fail a batch: they are failures, as a data module finds them;
        inputs of several shapes (batched one by one) are not compared."""

        class VectorLoader:
            def sample(self, raw: tuple[str, list[int]]) -> Sample:
                size = 4 if raw[0] == "wide" else 2
                target = torch.tensor(raw[1], dtype=torch.float32)
                metadata: dict[str, object] = {"target": target}
                if raw[0] == "named":
                    metadata["name"] = raw[0]
                return Sample(torch.zeros(1, size, size), metadata)

            def target(self, raw: tuple[str, list[int]]) -> int:
                return 0

        split = {
            "train": [
                ("a", [0, 1, 0]),
                ("b", [1, 0]),
                ("named", [1, 0, 0]),
                ("wide", [1, 0]),
                ("c", [0, 0, 1]),
            ]
        }
        failures = check_split_loading(split, VectorLoader())
        assert [(f.index, f.message) for f in failures] == [
            (
                1,
                "SampleLoadError: metadata `target` is a tensor of shape (2,) but of "
                'shape (3,) in set `train`, index 0, entry ["a", [0, 1, 0]]; a batch '
                "stacks them: give `target` one shape in every sample",
            ),
            (
                2,
                "SampleLoadError: this sample: metadata keys ['name', 'target'] "
                'differ from those of set `train`, index 0, entry ["a", [0, 1, 0]] '
                "['target'] (extra `name`); give every sample of a set the same "
                "metadata keys",
            ),
        ]

    def test_limit(self, entries: list[Entry], png_root: Path) -> None:
        """With a limit, only the first samples of each set are loaded."""
        loaded: list[str] = []
        split = {"train": entries[:6], "test": entries[6:]}
        check_split_loading(split, MemoryLoader(loaded=loaded), limit=2)
        assert loaded == [entries[0][0], entries[1][0], entries[6][0], entries[7][0]]
        with pytest.raises(ValueError, match="`limit` \\(-1\\) must be 0"):
            check_split_loading(split, MemoryLoader(), limit=-1)

    def test_progress(self, entries: list[Entry]) -> None:
        """The progress callback is called once per sample loaded."""
        calls: list[None] = []
        split = {"train": entries[:6], "test": entries[6:]}
        check_split_loading(
            split, MemoryLoader(), limit=4, progress=lambda: calls.append(None)
        )
        assert len(calls) == 8

    def test_wrong_return_type(self, entries: list[Entry]) -> None:
        """A loader that returns no ``Sample`` is a failure too."""

        class Bad(MemoryLoader):
            def sample(self, raw: Entry) -> Sample:
                return Sample([1, 2], {})  # type: ignore[arg-type]  # the point of the test

        [failure] = check_split_loading({"test": entries[:1]}, Bad())
        assert "input of type `list`" in failure.message

    def test_failure_is_immutable(self) -> None:
        """Failure records cannot be changed."""
        failure = SampleFailure("train", 0, ["a.png", 0], "OSError: x")
        with pytest.raises(dataclasses.FrozenInstanceError):
            failure.index = 1  # type: ignore[misc]  # the point of the test


class TestFailureReasons:
    def test_file_errors_share_a_reason(
        self, entries: list[Entry], png_root: Path
    ) -> None:
        """Missing files fail for one reason: the error and the loader's root."""
        for name, _ in entries[:3]:
            (png_root / name).unlink()
        failures = check_split_loading({"train": entries[:4]}, PngLoader(png_root))
        assert {f.reason for f in failures} == {
            f"FileNotFoundError: No such file or directory under {png_root}"
        }
        [group] = group_failures(failures)
        assert (group.reason, len(group.failures)) == (failures[0].reason, 3)

    def test_paths_taken_out(self) -> None:
        """Another error's reason is its message without the entry's strings."""
        error = ValueError("cannot decode img_00001.png (truncated)")
        assert failure_reason(error, ["img_00001.png", 1]) == (
            "ValueError: cannot decode <path> (truncated)"
        )

    def test_entry_and_values_taken_out(self) -> None:
        """Entries that differ in labels and values fail for one reason."""
        arrays: list[list[object]] = [
            ["images/1.png", ["car", "her"], 57, "M"],
            ["images/2.png", ["car", "emp", "her"], 58, "F"],
            ["images/5.png", [], 59, "F"],  # NIH's "no finding": a short list
        ]
        reasons = {
            failure_reason(TypeError(f"label {e[1]!r} of entry {e!r} bad"), e)
            for e in arrays
        }
        assert reasons == {"TypeError: label <value> of entry <entry> bad"}
        objects = [
            {"image": "images/3.png", "label": "healthy"},
            {"image": "images/4.png", "label": "effusion"},
        ]
        reasons = {
            failure_reason(ValueError(f"label {e['label']!r} in {e['image']}"), e)
            for e in objects
        }
        assert reasons == {"ValueError: label '<text>' in <path>"}

    def test_missing_module(self) -> None:
        """A missing optional module names the extra that installs it."""
        error = ModuleNotFoundError("No module named 'PIL'", name="PIL")
        assert failure_reason(error, ["a.png", 0]) == (
            "ModuleNotFoundError: no module named `PIL`; install Pillow: pip "
            'install "lightsplit[images]"'
        )

    def test_groups_in_order(self) -> None:
        """Groups come in the order their reason first appears; reason-less alone."""
        failures = [
            SampleFailure("train", 0, "a", "E: x", "E"),
            SampleFailure("train", 1, "b", "F: y"),
            SampleFailure("test", 0, "c", "E: z", "E"),
        ]
        groups = group_failures(failures)
        assert [(g.reason, len(g.failures)) for g in groups] == [("E", 2), ("F: y", 1)]


def test_report_counts_failures_left_out() -> None:
    """Past the causes shown, the report counts the failures and causes left."""
    failures = [
        SampleFailure("train", i, [f"{i}.png", 0], f"E: {i}", f"E{min(i, 6)}")
        for i in range(9)
    ]  # causes E0 ... E5 one failure each, E6 three
    report = SplitReport("s.json", sha256="0", failures=failures, loaded=9)
    lines = list(report.lines())
    assert [line for line in lines if "failure" in line][-1] == (
        "  and 4 more failures of 2 more causes (--json lists all)"
    )
    assert lines[-1] == "s.json: 9 problems"
