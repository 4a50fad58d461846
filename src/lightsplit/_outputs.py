"""Where lightsplit writes: files written whole, and the sidecar of a split file."""

import os
from collections.abc import Callable
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


def write_bytes(
    path: Path, data: bytes, *, check: Callable[[Path], None] | None = None
) -> None:
    """Write ``data`` to ``path`` whole: to a file next to it, then renamed.

    The file written first is named like ``path`` (a hidden name with the same
    suffix, so that a reader choosing by suffix reads it as ``path``) and made by
    ``open``, unlike ``mkstemp``, so that it gets the permissions of any new
    file. ``check``, given that file, may raise to leave ``path`` untouched.

    Raises:
        OSError: if the file cannot be written.
    """
    written = path.with_name(f".{path.name}.{os.urandom(4).hex()}{path.suffix}")
    try:
        with written.open("xb") as file:
            file.write(data)
        if check is not None:
            check(written)
        written.replace(path)
    finally:
        written.unlink(missing_ok=True)
