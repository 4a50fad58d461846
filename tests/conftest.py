"""Shared fixtures: a small folder of PNG files with its split."""

import os
from pathlib import Path

import pytest
from hypothesis import settings
from lightsplit_testing import Entry, PngLoader, write_pngs

# In continuous integration, property-based tests draw the same examples on every
# run, so that a result can be reproduced; locally, each run explores new ones.
settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


@pytest.fixture
def png_root(tmp_path: Path) -> Path:
    """A folder for the test's images."""
    return tmp_path / "images"


@pytest.fixture
def entries(png_root: Path) -> list[Entry]:
    """Twenty PNG files, labels 0 and 1 alternating."""
    return write_pngs(png_root, 20)


@pytest.fixture
def loader(png_root: Path) -> PngLoader:
    """A loader over ``png_root``."""
    return PngLoader(png_root)


@pytest.fixture
def split(entries: list[Entry]) -> dict[str, list[Entry]]:
    """Train (12), validation (4), test (4) and a monitor set (4)."""
    return {
        "train": entries[:12],
        "validation": entries[12:16],
        "test": entries[16:],
        "monitor-extra": entries[:4],
    }
