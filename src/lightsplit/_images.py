"""Ready-made loaders for image files: ``[path, label]`` and ``[image, mask]`` entries.

Both read files through Pillow, which the ``images`` extra installs
(``pip install "lightsplit[images]"``), and refuse any entry whose path leaves
their root folder: split files come from other people.
"""

import os
from collections.abc import Sequence
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Final, Literal, TypeAlias

import torch
from torch import Tensor

from ._entries import names_file
from ._errors import (
    PathEscapeError,
    choose,
    home_written_out,
    missing_dependency,
    preview,
)
from ._sample import Sample
from ._types import StrPath

__all__ = [
    "ColorMode",
    "ImageDtype",
    "ImageFileLoader",
    "ImageMaskLoader",
    "resolve_entry_path",
]

ColorMode: TypeAlias = Literal["L", "RGB"]
"""How images are decoded: grayscale (one channel) or RGB (three)."""

_MODES: Final[tuple[ColorMode, ...]] = ("L", "RGB")

ImageDtype: TypeAlias = Literal["float32", "uint8"]
"""How images are kept: ``float32`` in [0, 1], or the file's 8-bit ``uint8`` values."""

_DTYPES: Final[tuple[ImageDtype, ...]] = ("float32", "uint8")


def resolve_entry_path(root: Path, relative: object) -> Path:
    """Return ``root / relative``, refusing a path that could leave ``root``.

    Refused: anything but a string, an absolute path (POSIX or Windows), a
    ``..`` that goes above ``root`` (``a/../b.png`` is ``b.png``, as `lightsplit
    check` compares it; ``../b.png`` is refused), and a path that symbolic links
    lead out of ``root``.

    Raises:
        PathEscapeError: naming the entry and the root.
        TypeError: if ``relative`` is not a string.
    """
    if not isinstance(relative, str):
        msg = f"file path {relative!r} is a `{type(relative).__name__}`; write a string"
        raise TypeError(msg)
    posix, windows = PurePosixPath(relative), PureWindowsPath(relative)
    if not relative or posix.is_absolute() or windows.is_absolute() or windows.drive:
        reason = "is absolute" if relative else "is empty"
    elif _above(posix.parts) or _above(windows.parts):
        reason = "goes up with `..`"
    else:
        path = root / relative
        real_root = os.path.realpath(root)
        if os.path.commonpath([real_root, os.path.realpath(path)]) == real_root:
            return path
        reason = "leads out through a symbolic link"
    msg = (
        f"file path `{relative}` {reason}: entries must name files inside the root "
        f"folder {root}; write the path relative to it"
    )
    raise PathEscapeError(msg)


def _above(parts: tuple[str, ...]) -> bool:
    """Whether the relative path of ``parts`` goes above its start with ``..``."""
    depth = 0
    for part in parts:
        depth += -1 if part == ".." else part not in ("", ".")
        if depth < 0:
            return True
    return False


_SIXTEEN_BITS: Final = frozenset({"I;16", "I;16L", "I;16B", "I;16N"})
"""Pillow's modes of 16-bit grayscale images (X-rays, often)."""


def _image_under(root: Path, file: Path, mode: ColorMode) -> Tensor:
    """Decode ``file`` (`_open_image`); say why a file is missing where it can.

    Raises:
        FileNotFoundError: naming the root when it is no folder, a backslash
            in the path on Linux and macOS, else the file.
    """
    try:
        return _open_image(file, mode)
    except (FileNotFoundError, NotADirectoryError) as exc:
        if root.is_dir() and "\\" in str(file) and os.sep == "/":
            msg = (
                f"no file {file}: its path holds a backslash `\\`, a folder "
                "separator on Windows alone, which this system reads as part of a "
                "file name; write the paths of the split with `/`"
            )
            raise FileNotFoundError(msg) from exc
        if root.is_dir():
            raise
        what = "is a file, not a folder" if root.exists() else "does not exist"
        msg = (
            f"the loader's root {root} {what} (read as {root.absolute()}); give "
            "the folder that the entries' paths are relative to"
        )
        raise FileNotFoundError(msg) from exc


_PILLOW_HINT: Final = missing_dependency("PIL")
"""How to install Pillow, which image loaders need."""


def _open_image(path: Path, mode: ColorMode) -> Tensor:
    """Decode the image at ``path`` as a tensor of shape (C, H, W).

    8-bit images give ``uint8`` pixels; 16-bit grayscale images give
    ``float32`` in [0, 1] (each value over 65535), in three equal channels for
    ``"RGB"``: `_as_dtype` keeps them.

    Raises:
        ValueError: for 32-bit integer or floating-point pixels (Pillow modes
            ``I`` and ``F``), whose range no rule maps to [0, 1].
    """
    try:
        from PIL import Image  # noqa: PLC0415 - Pillow is an optional dependency
    except ModuleNotFoundError as exc:
        msg = f"reading images needs Pillow, which is not installed; {_PILLOW_HINT}"
        raise ModuleNotFoundError(msg, name=exc.name) from exc

    with Image.open(path) as image:
        if image.mode in _SIXTEEN_BITS:
            wide = image.convert("I")  # 32-bit integers, no value lost
            data = torch.frombuffer(bytearray(wide.tobytes()), dtype=torch.int32)
            gray = data.view(1, wide.height, wide.width).to(torch.float32)
            gray = gray.div_(65535)
            return gray.expand(len(mode), -1, -1).contiguous()
        if image.mode in ("I", "F"):
            kind = "32-bit integer" if image.mode == "I" else "floating-point"
            msg = (
                f"image {path} has {kind} pixels (Pillow mode {image.mode}), whose "
                "range no rule maps to [0, 1]; lightsplit's image loaders read 8- "
                "and 16-bit images: convert the file, or give a loader that scales "
                "these"
            )
            raise ValueError(msg)
        converted = image.convert(mode)
        data = torch.frombuffer(bytearray(converted.tobytes()), dtype=torch.uint8)
        channels = len(mode)
        pixels = data.view(converted.height, converted.width, channels)
        return pixels.permute(2, 0, 1).contiguous()


def _as_dtype(pixels: Tensor, dtype: ImageDtype, path: Path) -> Tensor:
    """Return ``uint8`` pixels as they are, or as ``float32`` in [0, 1].

    Raises:
        ValueError: for ``uint8`` of a 16-bit image (`_open_image` gives
            ``float32``), which would lose its low 8 bits.
    """
    if pixels.dtype == torch.float32:  # a 16-bit image
        if dtype == "float32":
            return pixels
        msg = (
            f'image {path} is a 16-bit image: `dtype="uint8"` would keep only its '
            'high 8 bits; use `dtype="float32"`'
        )
        raise ValueError(msg)
    return pixels if dtype == "uint8" else pixels.to(torch.float32).div_(255)


def _root_folder(root: object) -> Path:
    """Return ``root``, a loader's folder, as a path; refuse what names none.

    Raises:
        TypeError: if ``root`` is not a ``str`` or ``os.PathLike``.
        ValueError: if it is empty (which would read as the current folder) or
            starts with ``~``, which only a shell reads as a home folder.
    """
    if not isinstance(root, str | os.PathLike):
        msg = (
            f"`root` must be a folder path (a str or os.PathLike), not "
            f"`{type(root).__name__}` {root!r}"
        )
        raise TypeError(msg)
    text = os.fspath(root)
    if not text:
        msg = "`root` is empty; give the folder of the files (`.` for the current one)"
        raise ValueError(msg)
    path = Path(text)
    full = home_written_out(path)
    if full is not None:
        msg = (
            f"`root` ({text}) starts with `~`, which only a shell reads as a home "
            f"folder: it would be a folder named `{path.parts[0]}` in the current "
            f"one; write {full}"
        )
        raise ValueError(msg)
    return path


def _entry_hint(items: Sequence[object]) -> str:
    """Say which loader reads an entry whose label is a file, if one does.

    Entries of two or three files are `ImageMaskLoader`'s (the third its region
    of interest, not a second mask). A row of a table whose path is not first
    (``["P003", "p3/a.png", 46, 1]``, as `lightsplit split` keeps a CSV's rows)
    needs a loader that reads its columns.
    """
    files = [isinstance(item, str) and names_file(item) for item in items]
    if not files[1]:
        return ""
    if not files[0]:
        return (
            f" (its path looks like item 1, {preview(items[1])}, not item 0, "
            f"{preview(items[0])}: a split made from a table keeps every column of "
            "its rows)"
        )
    if all(files) and len(items) == 2:  # noqa: PLR2004 - image and mask
        return (
            " (entries [image, mask] are `ImageMaskLoader`'s, "
            "`--loader lightsplit:ImageMaskLoader` on the command line)"
        )
    if all(files) and len(items) == 3:  # noqa: PLR2004 - image, mask and roi
        return (
            " (entries [image, mask, roi] are `ImageMaskLoader`'s, "
            "`--loader lightsplit:ImageMaskLoader` on the command line; it "
            "reads the third file as the region of interest, not as a "
            "second mask: masks to combine, such as left and right lungs, "
            "need a loader of your own)"
        )
    return ""


def _items(
    raw: object, *, least: int, shape: str, most: int | None = None
) -> Sequence[object]:
    if (
        isinstance(raw, str | bytes)
        or not isinstance(raw, Sequence)
        or len(raw) < least
    ):
        msg = f"entry {raw!r} is not of the form {shape}"
        raise TypeError(msg)
    if most is not None and len(raw) > most:
        msg = (
            f"entry {raw!r} has {len(raw)} items, not of the form {shape}: the "
            f"items past the {most} it reads would be left out; give entries of "
            "that form, or a loader that reads the others"
        )
        raise TypeError(msg)
    return raw


def _mask_items(raw: object) -> Sequence[object]:
    """Return the items of an `ImageMaskLoader` entry, refusing another length."""
    return _items(raw, least=2, most=3, shape="[image, mask] or [image, mask, roi]")


class ImageFileLoader:
    """Loads ``[path, label]`` entries: an image file and its integer class.

    Images (PNG, JPEG, BMP, TIFF: whatever Pillow reads, 8-bit, or 16-bit
    grayscale as X-rays often are) become float tensors in [0, 1] of shape
    (1, H, W) in mode ``"L"`` or (3, H, W) in mode ``"RGB"``;
    the metadata holds ``name`` (the path as written) and ``label``. Reading
    images needs Pillow: install the ``images`` extra,
    ``pip install "lightsplit[images]"``.

    Examples:
        >>> loader = ImageFileLoader("images", mode="RGB")
        >>> loader.target(["cat/001.png", 3])
        3
    """

    def __init__(
        self, root: StrPath, *, mode: ColorMode = "L", dtype: ImageDtype = "float32"
    ) -> None:
        """Load files under ``root``, decoded in ``mode``, kept as ``dtype``.

        Args:
            root: the folder that the paths of the entries are relative to.
            mode: ``"L"`` decodes images to one grayscale channel, ``"RGB"``
                to three.
            dtype: ``"float32"`` gives values in [0, 1]; ``"uint8"`` keeps the
                8-bit values, 4 times smaller in the cache, in each batch and in
                each copy to the GPU: convert them on the device with a batch
                transform such as `ToFloat`.

        Raises:
            TypeError: for a ``root`` that is no path.
            ValueError: for another mode or dtype, or a ``root`` that is empty
                or starts with ``~`` (`_root_folder`). A folder that does not
                exist is not refused here (the loader may be made before the
                data are mounted): loading a sample from it fails, naming it.
        """
        self.root = _root_folder(root)
        self.mode = choose(mode, _MODES, what="`mode`")
        self.dtype = choose(dtype, _DTYPES, what="`dtype`")

    def __repr__(self) -> str:
        return (
            f"ImageFileLoader({str(self.root)!r}, mode={self.mode!r}, "
            f"dtype={self.dtype!r})"
        )

    def _label(self, raw: object) -> tuple[str, int]:
        items = _items(raw, least=2, shape="[path, label]")
        path, label = items[:2]
        if not isinstance(label, int) or isinstance(label, bool):
            msg = (
                f"label {label!r} of entry {raw!r} is not an integer; "
                "ImageFileLoader reads entries [path, integer label, ...]: write "
                "integer labels, or give a loader that reads these"
            )
            msg += _entry_hint(items)
            raise TypeError(msg)
        if not isinstance(path, str):
            msg = f"path {path!r} of entry {raw!r} is not a string"
            raise TypeError(msg)
        return path, label

    def sample(self, raw: Sequence[object]) -> Sample:
        """Load the image of ``raw`` and return it with its name and label.

        Raises:
            TypeError: if ``raw`` is not ``[path, label]``.
            PathEscapeError: if the path leaves the root folder.
            OSError: if the file is missing or not an image.
            ValueError: for pixels of 32 bits, or 16 bits with ``uint8``.
        """
        path, label = self._label(raw)
        file = resolve_entry_path(self.root, path)
        pixels = _as_dtype(_image_under(self.root, file, self.mode), self.dtype, file)
        return Sample(pixels, {"name": path, "label": label})

    def target(self, raw: Sequence[object]) -> int:
        """Return the label of ``raw`` without opening the image.

        Raises:
            TypeError: if ``raw`` is not ``[path, label]``.
        """
        return self._label(raw)[1]

    def check_entry(self, raw: Sequence[object]) -> None:
        """Raise if ``raw`` is not ``[path, integer label, ...]``; open nothing.

        A data module calls it on every entry when it is built (`EntryChecker`).

        Raises:
            TypeError: naming what is wrong, as `sample` would.
        """
        self._label(raw)


class ImageMaskLoader:
    """Loads ``[image, mask]`` or ``[image, mask, roi]`` entries, for segmentation.

    ``input`` is the image as a float tensor in [0, 1]; the metadata holds
    ``name`` (the image path), ``target`` (the mask, one channel, 1.0 where the
    mask is non-zero) and ``roi`` (the region of interest, likewise, or all ones
    when the entry has none). ``target(raw)`` is 0: segmentation has no class
    label to balance. Like `ImageFileLoader`, it needs the ``images`` extra.
    """

    def __init__(
        self, root: StrPath, *, mode: ColorMode = "RGB", dtype: ImageDtype = "float32"
    ) -> None:
        """Load files under ``root``; images are decoded in ``mode``.

        Args:
            root: the folder that the paths of the entries are relative to.
            mode: ``"L"`` decodes images to one grayscale channel, ``"RGB"``
                to three (masks are always one channel).
            dtype: ``"float32"``: images in [0, 1], masks of 0.0 and 1.0;
                ``"uint8"``: images as their 8-bit values, masks of 0 and 1.

        Raises:
            TypeError: for a ``root`` that is no path.
            ValueError: for another mode or dtype, or a ``root`` that is empty
                or starts with ``~`` (`_root_folder`). A folder that does not
                exist is not refused here (the loader may be made before the
                data are mounted): loading a sample from it fails, naming it.
        """
        self.root = _root_folder(root)
        self.mode = choose(mode, _MODES, what="`mode`")
        self.dtype = choose(dtype, _DTYPES, what="`dtype`")

    def __repr__(self) -> str:
        return (
            f"ImageMaskLoader({str(self.root)!r}, mode={self.mode!r}, "
            f"dtype={self.dtype!r})"
        )

    def _mask(self, relative: object) -> Tensor:
        pixels = _image_under(self.root, resolve_entry_path(self.root, relative), "L")
        return (pixels > 0).to(torch.uint8 if self.dtype == "uint8" else torch.float32)

    def sample(self, raw: Sequence[object]) -> Sample:
        """Load the image, mask and region of interest of ``raw``.

        Raises:
            TypeError: if ``raw`` is not ``[image, mask]`` or ``[image, mask, roi]``.
            PathEscapeError: if a path leaves the root folder.
            OSError: if a file is missing or not an image.
        """
        items = _mask_items(raw)
        file = resolve_entry_path(self.root, items[0])
        image = _as_dtype(_image_under(self.root, file, self.mode), self.dtype, file)
        target = self._mask(items[1])
        roi = self._mask(items[2]) if len(items) > 2 else torch.ones_like(target)  # noqa: PLR2004
        if target.shape[1:] != image.shape[1:] or roi.shape != target.shape:
            sizes = f"image is {tuple(image.shape[1:])} but mask is "
            sizes += f"{tuple(target.shape[1:])}"
            if len(items) > 2:  # noqa: PLR2004 - an roi of its own
                sizes += f" and roi {tuple(roi.shape[1:])}"
            msg = f"entry {list(items)!r}: {sizes}; they must be the same size"
            raise ValueError(msg)
        return Sample(image, {"name": str(items[0]), "target": target, "roi": roi})

    def target(self, raw: Sequence[object]) -> int:
        """Return 0: segmentation entries have no class label."""
        return 0

    def check_entry(self, raw: Sequence[object]) -> None:
        """Raise if ``raw`` is no ``[image, mask]`` or ``[image, mask, roi]``.

        It opens nothing. A data module calls it on every entry when it is
        built (`EntryChecker`).

        Raises:
            TypeError: naming what is wrong, as `sample` would.
        """
        for item in _mask_items(raw):
            if not isinstance(item, str):
                msg = f"file path {item!r} is a `{type(item).__name__}`; write a string"
                raise TypeError(msg)
