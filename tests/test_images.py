import json
import os
import re
import sys
from pathlib import Path
from typing import Any, ClassVar

import pytest
import torch
from lightsplit_testing import write_pngs
from PIL import Image

from lightsplit import (
    CachingDataModule,
    ColorMode,
    ConcatDataModule,
    EntryChecker,
    ImageFileLoader,
    ImageMaskLoader,
    MappingLoader,
    PathEscapeError,
    Sample,
    SampleLoadError,
    check_split_loading,
)


class TestImageFileLoader:
    def test_grayscale(self, tmp_path: Path) -> None:
        """A PNG becomes a float tensor in [0, 1] with its name and label."""
        [entry] = write_pngs(tmp_path, 1, size=(5, 3))
        Image.new("L", (5, 3), color=255).save(tmp_path / entry[0])
        sample = ImageFileLoader(tmp_path).sample(entry)
        assert sample.input.shape == (1, 3, 5)
        assert sample.input.dtype == torch.float32
        assert torch.all(sample.input == 1.0)
        assert sample.metadata == {"name": entry[0], "label": entry[1]}

    @pytest.mark.parametrize("loader", [ImageFileLoader, ImageMaskLoader])
    @pytest.mark.parametrize(
        ("root", "error", "message"),
        [
            ("", ValueError, "`root` is empty; give the folder of the files"),
            (5, TypeError, "`root` must be a folder path (a str or os.PathLike), not"),
            ("~/images", ValueError, "`root` (~/images) starts with `~`, which only"),
            (
                "~nobody-here/x",
                ValueError,
                "folder named `~nobody-here` in the current",
            ),
        ],
    )
    def test_root_that_names_no_folder(
        self, loader: type, root: object, error: type[Exception], message: str
    ) -> None:
        """A root that would silently be another folder (the current one, a folder
        named `~`) or is no path is refused when the loader is made, named."""
        with pytest.raises(error, match=re.escape(message)):
            loader(root)

    @pytest.mark.parametrize("loader", [ImageFileLoader, ImageMaskLoader])
    def test_current_folder_as_root(self, loader: type) -> None:
        """``.`` is a root: the current folder, named."""
        assert loader(".").root == Path()

    def test_without_pillow(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Without Pillow, loading says which extra installs it, also through a
        data module; so does a loader of one's own that imports it."""
        entries = write_pngs(tmp_path, 4)
        monkeypatch.setitem(sys.modules, "PIL", None)
        hint = 'install Pillow: pip install "lightsplit[images]"'
        with pytest.raises(ModuleNotFoundError, match=re.escape(hint)):
            ImageFileLoader(tmp_path).sample(entries[0])

        class OwnLoader:
            def sample(self, raw: tuple[str, int]) -> Sample:
                import PIL  # noqa: F401, PLC0415 - as a mednet loader does

                return Sample(torch.zeros(1), {})

            def target(self, raw: tuple[str, int]) -> int:
                return raw[1]

        for loader in (ImageFileLoader(tmp_path), OwnLoader()):
            datamodule = CachingDataModule(
                {"train": entries[:2], "validation": entries[2:]}, loader, batch_size=2
            )
            datamodule.setup("fit")
            with pytest.raises(SampleLoadError) as caught:
                next(iter(datamodule.train_dataloader()))
            assert str(caught.value).startswith("set `train`, index ")
            assert str(caught.value).endswith(hint)
            assert str(caught.value).count(hint) == 1

    @pytest.mark.parametrize("suffix", [".png", ".jpg", ".bmp", ".tiff"])
    def test_formats_and_rgb(self, tmp_path: Path, suffix: str) -> None:
        """Common formats load, in RGB as three channels."""
        Image.new("RGB", (4, 4), color=(255, 0, 0)).save(tmp_path / f"a{suffix}")
        sample = ImageFileLoader(tmp_path, mode="RGB").sample([f"a{suffix}", 2])
        assert sample.input.shape == (3, 4, 4)
        assert sample.input[0].mean() > 0.9
        assert sample.input[1].mean() < 0.1

    @pytest.mark.parametrize("mode", ["L", "RGB"])
    def test_sixteen_bits(self, tmp_path: Path, mode: ColorMode) -> None:
        """A 16-bit grayscale image keeps every level, over 65535 in [0, 1]."""
        levels = [0, 1, 255, 256, 4095, 32768, 65534, 65535]
        image = Image.new("I;16", (len(levels), 1))
        image.putdata(levels)
        image.save(tmp_path / "x16.png")
        with Image.open(tmp_path / "x16.png") as written:
            assert written.mode == "I;16"
        sample = ImageFileLoader(tmp_path, mode=mode).sample(["x16.png", 0])
        assert sample.input.dtype == torch.float32
        assert sample.input.shape == (len(mode), 1, len(levels))
        expected = torch.tensor(levels, dtype=torch.float32) / 65535
        for channel in sample.input:
            assert torch.equal(channel[0], expected)
        with pytest.raises(ValueError, match='is a 16-bit image: `dtype="uint8"`'):
            ImageFileLoader(tmp_path, dtype="uint8").sample(["x16.png", 0])

    @pytest.mark.parametrize("root", ["missing", "file.png"])
    def test_root_that_is_no_folder(self, tmp_path: Path, root: str) -> None:
        """A missing file under a root that is no folder blames the root."""
        Image.new("L", (2, 2)).save(tmp_path / "file.png")
        what = "does not exist" if root == "missing" else "is a file, not a folder"
        with pytest.raises(FileNotFoundError) as exc_info:
            ImageFileLoader(tmp_path / root).sample(["a.png", 0])
        assert str(exc_info.value) == (
            f"the loader's root {tmp_path / root} {what} (read as {tmp_path / root}); "
            "give the folder that the entries' paths are relative to"
        )
        with pytest.raises(FileNotFoundError, match="No such file"):
            ImageFileLoader(tmp_path).sample(["a.png", 0])  # the root is fine

    def test_backslash_path(self, tmp_path: Path) -> None:
        """A path written with Windows' separator is named as such when missing."""
        (tmp_path / "images").mkdir()
        Image.new("L", (2, 2)).save(tmp_path / "images" / "a.png")
        with pytest.raises(FileNotFoundError) as exc_info:
            ImageFileLoader(tmp_path).sample(["images\\a.png", 0])
        assert str(exc_info.value) == (
            f"no file {tmp_path}/images\\a.png: its path holds a backslash `\\`, a "
            "folder separator on Windows alone, which this system reads as part of "
            "a file name; write the paths of the split with `/`"
        )

    def test_wide_pixels_refused(self, tmp_path: Path) -> None:
        """Float or 32-bit pixels, with no range to map to [0, 1], are refused."""
        Image.new("F", (2, 2), 0.5).save(tmp_path / "f.tiff")
        with pytest.raises(ValueError, match=r"has floating-point pixels \(Pillow"):
            ImageFileLoader(tmp_path).sample(["f.tiff", 0])

    @pytest.mark.parametrize(
        ("path", "reason"),
        [
            ("../outside.png", "goes up with `..`"),
            ("a/../../outside.png", "goes up with `..`"),
            ("a/./../../outside.png", "goes up with `..`"),
            ("a\\..\\..\\outside.png", "goes up with `..`"),
            ("/etc/passwd", "is absolute"),
            ("C:\\\\Windows\\\\x.png", "is absolute"),
            ("", "is empty"),
        ],
    )
    def test_refuses_paths_leaving_root(
        self, tmp_path: Path, path: str, reason: str
    ) -> None:
        """Entries naming files outside the root are refused, with the reason."""
        with pytest.raises(PathEscapeError, match=reason) as exc_info:
            ImageFileLoader(tmp_path).sample([path, 0])
        assert str(tmp_path) in str(exc_info.value)
        assert isinstance(exc_info.value, ValueError)

    @pytest.mark.parametrize(
        "path", ["x/y/../../a.png", "x/../a.png", "./x/.././a.png"]
    )
    def test_detours_inside_root_load(self, tmp_path: Path, path: str) -> None:
        """A ``..`` that stays inside the root names the file check compares."""
        (tmp_path / "x" / "y").mkdir(parents=True)
        Image.new("L", (3, 2), color=7).save(tmp_path / "a.png")
        sample = ImageFileLoader(tmp_path, dtype="uint8").sample([path, 0])
        assert sample.input.shape == (1, 2, 3)
        assert int(sample.input.max()) == 7

    def test_refuses_symbolic_link_out(self, tmp_path: Path) -> None:
        """A symbolic link inside the root that leads out is refused too."""
        outside = tmp_path / "outside"
        write_pngs(outside, 1)
        root = tmp_path / "root"
        root.mkdir()
        os.symlink(outside, root / "link")
        with pytest.raises(PathEscapeError, match="symbolic link"):
            ImageFileLoader(root).sample(["link/img_00000.png", 0])

    @pytest.mark.parametrize(
        ("entry", "message"),
        [
            (["a.png"], "not of the form"),
            ("a.png", "not of the form"),
            (["a.png", "1"], "is not an integer"),
            (["a.png", True], "is not an integer"),
            ([3, 1], "is not a string"),
            (
                ["a.png", "masks/a.png"],
                "(entries [image, mask] are `ImageMaskLoader`'s, `--loader "
                "lightsplit:ImageMaskLoader` on the command line)",
            ),
            (
                ["a.png", "left/a.png", "right/a.png"],
                "(entries [image, mask, roi] are `ImageMaskLoader`'s, `--loader "
                "lightsplit:ImageMaskLoader` on the command line; it reads the third "
                "file as the region of interest, not as a second mask: masks to "
                "combine, such as left and right lungs, need a loader of your own)",
            ),
            (
                ["P003", "patient-003/img-0.png", 46, "F", 1],
                "is not an integer; ImageFileLoader reads entries [path, integer "
                "label, ...]: write integer labels, or give a loader that reads these "
                '(its path looks like item 1, "patient-003/img-0.png", not item 0, '
                '"P003": a split made from a table keeps every column of its rows)',
            ),
            (["a.png", "left/a.png", "right/a.png", "x/y.png"], "reads these"),
        ],
    )
    def test_refuses_malformed_entries(
        self, tmp_path: Path, entry: object, message: str
    ) -> None:
        """Malformed entries are named."""
        with pytest.raises(TypeError, match=re.escape(message)):
            ImageFileLoader(tmp_path).sample(entry)  # type: ignore[arg-type]  # the point

    def test_mode_is_checked(self, tmp_path: Path) -> None:
        """Only grayscale and RGB are offered."""
        with pytest.raises(
            ValueError, match="unknown `mode` `CMYK`; use one of `L`, `RGB`"
        ):
            ImageFileLoader(tmp_path, mode="CMYK")  # type: ignore[arg-type]  # the point

    def test_in_a_data_module(self, tmp_path: Path) -> None:
        """It serves a data module; an escaping entry fails with set and index."""
        entries = write_pngs(tmp_path, 6)
        split = {"train": entries[:4], "test": [*entries[4:], ("../x.png", 0)]}
        module = CachingDataModule(split, ImageFileLoader(tmp_path), batch_size=2)
        assert next(iter(module.train_dataloader())).input.shape == (2, 1, 8, 8)
        with pytest.raises(SampleLoadError, match=r"set `test`, index 2"):
            list(module.test_dataloader()["test"])
        [failure] = check_split_loading(split, ImageFileLoader(tmp_path))
        assert (failure.set_name, failure.index) == ("test", 2)
        assert "PathEscapeError" in failure.message


class TestEntriesCheckedWhenBuilt:
    """Entries the loader cannot read fail when the data module is built, not
    when their batch comes up (a label written `"1"`, hours into an epoch)."""

    @pytest.mark.parametrize(
        ("entry", "problem"),
        [
            pytest.param(
                ["p3/c.png", "1"],
                "TypeError: label '1' of entry ['p3/c.png', '1'] is not an integer",
                id="string-label",
            ),
            pytest.param(
                ["p3/c.png", True],
                "TypeError: label True of entry ['p3/c.png', True] is not an integer",
                id="bool-label",
            ),
            pytest.param(
                ["p3/c.png"],
                "TypeError: entry ['p3/c.png'] is not of the form [path, label]",
                id="no-label",
            ),
        ],
    )
    def test_image_file_loader(
        self, tmp_path: Path, entry: list[object], problem: str
    ) -> None:
        """The first entry that is no `[path, integer label]` is named, with its
        set and index, as loading it would name it; no image is opened."""
        split = {"train": [["p1/a.png", 0], ["p2/b.png", 1], entry]}
        with pytest.raises(SampleLoadError) as caught:
            CachingDataModule(split, ImageFileLoader(tmp_path / "not-mounted-yet"))
        assert str(caught.value).startswith(
            f"set `train`, index 2, entry {json.dumps(entry)}: {problem}"
        )

    def test_image_mask_loader(self, tmp_path: Path) -> None:
        """Mask entries of the wrong length fail when built too."""
        split = {
            "train": [["a.png", "a-mask.png"], ["b.png", "l.png", "r.png", "x.png"]]
        }
        with pytest.raises(
            SampleLoadError, match=r"set `train`, index 1, entry .*has 4 items"
        ):
            CachingDataModule(split, ImageMaskLoader(tmp_path))
        with pytest.raises(SampleLoadError, match=r"file path 3 is a `int`"):
            CachingDataModule({"train": [["a.png", 3]]}, ImageMaskLoader(tmp_path))

    def test_own_loader_checks(self) -> None:
        """A loader of one's own with `check_entry` is called on each entry, in
        each part of a set (indices counted across the parts)."""
        checked: list[object] = []

        class Checking:
            def sample(self, raw: tuple[str, int]) -> Sample:
                return Sample(torch.zeros(1), {})

            def target(self, raw: tuple[str, int]) -> int:
                return raw[1]

            def check_entry(self, raw: tuple[str, int]) -> None:
                checked.append(raw)
                if raw[1] < 0:
                    msg = f"label {raw[1]} is negative"
                    raise ValueError(msg)

        loader = Checking()
        assert isinstance(loader, EntryChecker)
        parts = [([("a", 0), ("b", 1)], loader), ([("c", 0), ("d", -1)], loader)]
        with pytest.raises(SampleLoadError) as caught:
            ConcatDataModule({"train": parts})
        assert str(caught.value) == (
            'set `train`, index 3, entry ["d", -1]: ValueError: label -1 is negative'
        )
        assert checked == [("a", 0), ("b", 1), ("c", 0), ("d", -1)]

    def test_subclass_reading_other_entries(self, tmp_path: Path) -> None:
        """A subclass that reads other entries (it overrides `sample` and
        `target`, not `check_entry`) is not held to its base class's check."""
        (a, _), (b, _), (c, _) = write_pngs(tmp_path, 3)

        class ByKey(ImageFileLoader):
            def sample(self, raw: dict[str, object]) -> Sample:  # type: ignore[override]  # other entries
                return super().sample([raw["image"], raw["label"]])

            def target(self, raw: dict[str, object]) -> int:  # type: ignore[override]
                label = raw["label"]
                assert isinstance(label, int)
                return label

        split = {
            "train": [{"image": a, "label": 0}, {"image": b, "label": 1}],
            "validation": [{"image": c, "label": 0}],
        }
        module = CachingDataModule(split, ByKey(tmp_path), batch_size=2)
        module.setup("fit")
        batch = next(iter(module.train_dataloader()))
        assert sorted(batch.metadata["label"].tolist()) == [0, 1]

        class Checked(ByKey):  # one that checks its own entries is called
            def check_entry(self, raw: object) -> None:
                if not isinstance(raw, dict):
                    msg = f"entry {raw!r} is no object"
                    raise TypeError(msg)

        # an entry of the wrong kind, on purpose: no type checker would let it by
        mixed: dict[str, list[Any]] = {"train": [{"image": a, "label": 0}, [b, 1]]}
        with pytest.raises(SampleLoadError, match=r"index 1, .*is no object"):
            CachingDataModule(mixed, Checked(tmp_path))

    def test_wrapper_handing_attributes_on(self, tmp_path: Path) -> None:
        """A wrapper that hands what it lacks to the loader it wraps (by
        `__getattr__`) reads entries of its own: the wrapped check is not called."""
        (a, _), (b, _) = write_pngs(tmp_path, 2)

        class Named:
            classes: ClassVar[dict[str, int]] = {"normal": 0, "tb": 1}

            def __init__(self, inner: ImageFileLoader) -> None:
                self.inner = inner

            def __getattr__(self, name: str) -> object:
                return getattr(self.inner, name)

            def sample(self, raw: tuple[str, str]) -> Sample:
                return self.inner.sample([raw[0], self.classes[raw[1]]])

            def target(self, raw: tuple[str, str]) -> int:
                return self.classes[raw[1]]

        loader = Named(ImageFileLoader(tmp_path))
        split = {"train": [(a, "normal")], "validation": [(b, "tb")]}
        module = CachingDataModule(split, loader)
        module.setup("fit")
        assert next(iter(module.train_dataloader())).metadata["label"].tolist() == [0]

    def test_mapping_loader_hands_the_check_on(self, tmp_path: Path) -> None:
        """`MappingLoader` has the loader it wraps check each entry."""

        class Mednet:
            def sample(self, raw: list[object]) -> dict[str, object]:
                return {"image": torch.zeros(1), "target": raw[1]}

            def target(self, raw: list[object]) -> int:
                label = raw[1]
                assert isinstance(label, int)
                return label

            def check_entry(self, raw: list[object]) -> None:
                if type(raw[1]) is not int:
                    msg = f"label {raw[1]!r} is not an integer"
                    raise TypeError(msg)

        split: dict[str, list[list[object]]] = {"train": [["a.png", 0], ["b.png", "1"]]}
        with pytest.raises(SampleLoadError, match=r"index 1, .*label '1' is not an"):
            CachingDataModule(split, MappingLoader(Mednet()))


class TestImageMaskLoader:
    def test_image_mask_roi(self, tmp_path: Path) -> None:
        """Image, mask and region of interest load as float tensors."""
        Image.new("RGB", (4, 3), color=(0, 255, 0)).save(tmp_path / "i.png")
        mask = Image.new("L", (4, 3), color=0)
        mask.putpixel((1, 1), 200)
        mask.save(tmp_path / "m.png")
        Image.new("L", (4, 3), color=255).save(tmp_path / "r.png")
        loader = ImageMaskLoader(tmp_path)
        sample = loader.sample(["i.png", "m.png", "r.png"])
        assert sample.input.shape == (3, 3, 4)
        assert sample.metadata["target"].sum() == 1
        assert sample.metadata["target"][0, 1, 1] == 1.0
        assert torch.all(sample.metadata["roi"] == 1.0)
        without_roi = loader.sample(["i.png", "m.png"])
        assert torch.equal(without_roi.metadata["roi"], torch.ones(1, 3, 4))
        assert loader.target(["i.png", "m.png"]) == 0

    def test_sizes_must_match(self, tmp_path: Path) -> None:
        """A mask of another size than its image is refused, naming the sizes of
        the files the entry names (no region of interest where it has none)."""
        Image.new("L", (4, 3)).save(tmp_path / "i.png")
        Image.new("L", (2, 2)).save(tmp_path / "m.png")
        loader = ImageMaskLoader(tmp_path, mode="L")
        with pytest.raises(ValueError, match="must be the same size") as info:
            loader.sample(["i.png", "m.png"])
        assert "image is (3, 4) but mask is (2, 2); they" in str(info.value)
        with pytest.raises(ValueError, match="must be the same size") as info:
            loader.sample(["i.png", "m.png", "m.png"])
        assert "image is (3, 4) but mask is (2, 2) and roi (2, 2); " in str(info.value)

    def test_refuses_more_items(self, tmp_path: Path) -> None:
        """An entry of more than image, mask and roi is refused, not cut short: its
        fourth item (a real region of interest, say) would be left out."""
        Image.new("L", (4, 3)).save(tmp_path / "i.png")
        with pytest.raises(TypeError, match="has 4 items, not of the form") as info:
            ImageMaskLoader(tmp_path).sample(["i.png", "i.png", "i.png", "r.png"])
        assert "the items past the 3 it reads would be left out" in str(info.value)

    def test_refuses_mask_leaving_root(self, tmp_path: Path) -> None:
        """The mask path is checked like the image path."""
        Image.new("L", (4, 3)).save(tmp_path / "i.png")
        with pytest.raises(PathEscapeError):
            ImageMaskLoader(tmp_path).sample(["i.png", "../m.png"])
