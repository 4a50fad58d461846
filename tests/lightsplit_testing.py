"""Test data: real PNG files on disk and loaders for them."""

import json
import os
import signal
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch
from hypothesis import strategies as st
from PIL import Image
from torch import Tensor

from lightsplit import Sample

Entry = tuple[str, int]


def write_pngs(
    root: Path,
    count: int,
    *,
    size: tuple[int, int] = (8, 8),
    labels: Sequence[int] | None = None,
    prefix: str = "img",
) -> list[Entry]:
    """Write ``count`` grayscale PNG files under ``root``; return their entries.

    Image ``i`` is filled with the value ``i % 256``, so a batch tells which
    samples it holds.
    """
    root.mkdir(parents=True, exist_ok=True)
    entries: list[Entry] = []
    for index in range(count):
        name = f"{prefix}_{index:05d}.png"
        Image.new("L", size, color=index % 256).save(root / name)
        label = labels[index] if labels is not None else index % 2
        entries.append((name, label))
    return entries


def write_split(path: Path, sets: Mapping[str, Sequence[object]]) -> Path:
    """Write ``sets`` as a JSON split file."""
    path.write_text(json.dumps({name: list(samples) for name, samples in sets.items()}))
    return path


def decode_png(path: Path) -> Tensor:
    """Return the PNG at ``path`` as a ``uint8`` tensor of shape (1, H, W)."""
    with Image.open(path) as image:
        gray = image.convert("L")
        data = torch.frombuffer(bytearray(gray.tobytes()), dtype=torch.uint8)
        return data.reshape(1, gray.height, gray.width)


@dataclass(frozen=True)
class PngLoader:
    """Loads ``[file name, label]`` entries from a folder of PNG files."""

    root: Path

    def sample(self, raw: Entry) -> Sample:
        """Return the image and its label and name."""
        name, label = raw
        return Sample(decode_png(self.root / name), {"label": label, "name": name})

    def target(self, raw: Entry) -> int:
        """Return the label."""
        return raw[1]


@dataclass(frozen=True)
class FailingLoader:
    """A ``PngLoader`` that raises on the entries whose name is in ``bad``."""

    root: Path
    bad: frozenset[str]

    def sample(self, raw: Entry) -> Sample:
        """Load ``raw``, or raise if it is bad."""
        if raw[0] in self.bad:
            msg = f"cannot decode {raw[0]}"
            raise OSError(msg)
        return PngLoader(self.root).sample(raw)

    def target(self, raw: Entry) -> int:
        """Return the label."""
        return raw[1]


@dataclass
class MemoryLoader:
    """Makes samples in memory from ``(name, label)`` entries, recording each load.

    The input is a (2, 3) tensor filled with the entry's number (the digits of its
    name), of ``dtype``; ``shapes`` overrides the shape per name.
    """

    dtype: torch.dtype = torch.float32
    shapes: Mapping[str, tuple[int, ...]] | None = None
    loaded: list[str] | None = field(default=None, repr=False)

    def sample(self, raw: Entry) -> Sample:
        """Return the sample of ``raw``."""
        name, label = raw
        if self.loaded is not None:
            self.loaded.append(name)
        shape = (self.shapes or {}).get(name, (2, 3))
        number = int("".join(filter(str.isdigit, name)) or 0)
        value = torch.full(shape, number, dtype=self.dtype)
        return Sample(value, {"label": label, "name": name, "weight": number / 2})

    def target(self, raw: Entry) -> int:
        """Return the label."""
        return raw[1]


def entries_named(
    prefix: str, count: int, labels: Sequence[int] | None = None
) -> list[Entry]:
    """Return ``count`` entries ``(f"{prefix}{i}", label)``."""
    return [
        (f"{prefix}{index}", labels[index] if labels is not None else index % 2)
        for index in range(count)
    ]


@dataclass
class ThreadsLoader(MemoryLoader):
    """Records in each sample's metadata how many intra-op threads torch uses."""

    def sample(self, raw: Entry) -> Sample:
        """Return the sample of ``raw`` with ``threads`` metadata."""
        sample = super().sample(raw)
        return Sample(
            sample.input, {**sample.metadata, "threads": torch.get_num_threads()}
        )


@dataclass
class NoisyLoader(MemoryLoader):
    """Adds a random number drawn from torch's generator when loading."""

    def sample(self, raw: Entry) -> Sample:
        """Return the sample of ``raw`` with ``noise`` metadata."""
        sample = super().sample(raw)
        return Sample(sample.input, {**sample.metadata, "noise": float(torch.rand(()))})


@dataclass
class KillingLoader(MemoryLoader):
    """Kills its process (SIGKILL) on ``victim``, unless it is the main process."""

    victim: str = ""
    main_pid: int = 0

    def sample(self, raw: Entry) -> Sample:
        """Load ``raw``, or die."""
        if raw[0] == self.victim and os.getpid() != self.main_pid:
            os.kill(os.getpid(), signal.SIGKILL)
        return super().sample(raw)


class MednetStyleLoader:
    """Loads ``[file name, label]`` PNG entries into one mapping, as mednet 2.x does.

    ``sample`` returns ``{"image": float tensor, "target": tensor([label.]),
    "name": file name}``; ``target`` returns the float tensor ``[label.]``.
    """

    def __init__(self, root: str) -> None:
        """Load files under ``root``."""
        self.root = Path(root)

    def sample(self, raw: Sequence[object]) -> dict[str, object]:
        """Return the sample of ``raw`` as one mapping."""
        name = str(raw[0])
        image = decode_png(self.root / name).float() / 255
        return {"image": image, "target": self.target(raw), "name": name}

    def target(self, raw: Sequence[object]) -> Tensor:
        """Return the label as a float tensor of one element."""
        label = raw[1]
        assert isinstance(label, int)
        return torch.tensor([float(label)])


JSON_ENTRIES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=8,
)
"""Split entries as JSON can hold them: scalars, lists and objects, nested."""


def mapped_file(tensor: Tensor) -> Path | None:
    """Return the file whose memory map holds ``tensor``'s memory, if any."""
    address = tensor.data_ptr()
    for line in Path("/proc/self/maps").read_text().splitlines():
        span, _, _, _, _, *name = line.split(maxsplit=5)
        start, end = (int(bound, 16) for bound in span.split("-"))
        if start <= address < end and name and name[0].startswith("/"):
            return Path(name[0])
    return None
