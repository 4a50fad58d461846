"""``gc_paused``: no cyclic garbage collection while a split is read and examined.

A split file of 100,000 entries becomes as many lists and strings. Python's
cyclic collector runs every few hundred new objects and, more and more often as
they pile up, goes through all of them (and through every other object the
process holds): reading NIH's split with ``json.load`` in a process holding
other data spends up to two thirds of its time there, to find no cycle (JSON
values and the records built from them hold none). Paused, the same objects
are built up to three times as fast; objects are still freed as soon as they
are unused.

Resumed as is, the collector would go through all of them at once, on the next
allocation: they all count as new. So they are moved to its oldest generation
first (``gc.freeze`` then ``gc.unfreeze``), which it goes through only at its
usual, rare full collections; a cycle among them is found there. That is not
done where the program froze objects itself (``gc.get_freeze_count()``), to
leave them frozen.
"""

import contextlib
import gc
from collections.abc import Iterator

__all__ = ["gc_paused"]


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector in the block (if it runs at all).

    For code that builds many objects without cycles. On leaving, however the
    block ends, the objects are moved to the oldest generation (unless some
    are frozen) and the collector is resumed.

    Examples:
        >>> with gc_paused():
        ...     gc.isenabled()
        False
        >>> gc.isenabled()
        True
    """
    if not gc.isenabled():  # paused by the caller: theirs to resume
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        if not gc.get_freeze_count():
            gc.freeze()  # every tracked object, the new ones included...
            gc.unfreeze()  # ...back in the oldest generation, none counted new
        gc.enable()
