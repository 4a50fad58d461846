"""How lightsplit starts its loader workers and cache build processes.

On Linux they are forked: they start at once and share the parent's memory
(the loader, the split) until written to. Python's default start method is
not relied on, since the process may have been started otherwise: Lightning's
``ddp_spawn`` starts each rank with ``spawn``, which its children then inherit
(each worker a new interpreter importing torch, seconds per worker, and a
loader that must be picklable), and Python 3.14 defaults to ``forkserver``.
macOS starts them with ``spawn``: forking a process that has used its system
frameworks is unsafe there.
"""

import multiprocessing
import sys
from multiprocessing.context import BaseContext
from typing import Final, Literal

__all__ = ["START_METHOD", "start_context"]

START_METHOD: Final[Literal["fork", "spawn"]] = (
    "spawn" if sys.platform == "darwin" else "fork"
)
"""The start method of lightsplit's worker and build processes."""


def start_context() -> BaseContext:
    """Return the multiprocessing context that starts lightsplit's processes."""
    return multiprocessing.get_context(START_METHOD)
