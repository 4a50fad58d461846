"""Where lightsplit writes: files written whole, and the sidecar of a split file."""

import os
from pathlib import Path
from typing import Final

__all__ = ["SIDECAR_SUFFIX", "sidecar_path", "write_bytes"]

SIDECAR_SUFFIX: Final = ".lightsplit.json"
"""Added to a split file's name to name its sidecar file."""


def sidecar_path(split_path: Path) -> Path:
    """Return the sidecar file of ``split_path``.

    Examples:
        >>> sidecar_path(Path("folds/fold-0.json")).as_posix()
        'folds/fold-0.json.lightsplit.json'
    """
    return split_path.with_name(split_path.name + SIDECAR_SUFFIX)


def write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` whole: to a file next to it, then renamed.

    Raises:
        OSError: if the file cannot be written.
    """
    written = path.with_name(f".{path.name}.{os.urandom(4).hex()}")
    try:
        with written.open("xb") as file:
            file.write(data)
        written.replace(path)
    finally:
        written.unlink(missing_ok=True)
