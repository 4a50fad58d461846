import pytest
from lightsplit_testing import Entry, PngLoader
from pydantic import ValidationError

from lightsplit import CachingDataModule, ConcatDataModule, Sample


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
                "train": [(entries[:4], loader), [entries[4:], loader]],  # type: ignore[list-item]
                "test": ((entries, loader),),
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

    def test_samples_not_sequence(self, loader: PngLoader) -> None:
        """Raw samples must be a sequence, and not a string."""
        with pytest.raises(ValidationError) as exc_info:
            ConcatDataModule({"train": [("a.png", loader)]})
        assert _errors(exc_info) == [("samples_invalid", ("train", 0, 0))]
        [error] = exc_info.value.errors(include_url=False)
        assert error["msg"] == (
            "raw samples must be a sequence (a list or tuple of raw samples) or the "
            "path of a split file (`.json`, `.json.bz2`), not `str`"
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
