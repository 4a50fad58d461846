"""Loader errors raised in a loader worker process, handed back whole.

torch re-raises an exception from a ``DataLoader`` worker process by its type
and its formatted traceback alone: the loader's own exception, the cause of the
`SampleLoadError` that names the sample, is lost on the way, and with it what
``except SampleLoadError as error: error.__cause__`` promises. In the workers
of a lightsplit loader (`mark_worker`), a set that fails returns a
`WorkerFailure` as its batch instead: the message, the loader's exception
pickled, and the worker's traceback. The loader's iterator raises it again in
this process (`WorkerFailure.error`), the loader's exception as its cause.
"""

import io
import pickle
import traceback
from collections.abc import Mapping
from dataclasses import dataclass

from torch import Tensor
from torch.utils.data import get_worker_info

from ._errors import SampleLoadError

__all__ = ["WorkerFailure", "in_marked_worker", "mark_worker", "unsent_metadata"]

_MARKED = False
"""Whether this process is a worker of a lightsplit loader (`mark_worker`)."""


def mark_worker(worker_id: int) -> None:  # torch passes the worker's number
    """Mark this process as a worker of a lightsplit loader: its ``worker_init_fn``.

    Only then may a set hand a `WorkerFailure` back as its batch: a loader made
    elsewhere over a lightsplit set gets the exception raised, as torch does.
    """
    global _MARKED  # noqa: PLW0603 - one flag for the worker process
    _MARKED = True


def in_marked_worker() -> bool:
    """Whether this is a worker process of a lightsplit loader."""
    return _MARKED and get_worker_info() is not None


@dataclass(frozen=True, slots=True)
class WorkerFailure:
    """A `SampleLoadError` raised in a loader worker, handed back as its batch."""

    message: str
    """The error's message: the set, index and entry, and the loader's error."""
    cause: bytes | None
    """The loader's exception, pickled; ``None`` if it could not be."""
    trace: str
    """The traceback of the loader's exception, in the worker."""
    process: str = "a loader worker process"
    """The process it was raised in, as the note on the cause names it."""

    @classmethod
    def of(
        cls, error: SampleLoadError, *, process: str = "a loader worker process"
    ) -> "WorkerFailure":
        """Return the failure of ``error``, its cause pickled if it can be."""
        cause = error.__cause__
        trace = "".join(traceback.format_exception(cause or error))
        try:
            pickled = None if cause is None else pickle.dumps(cause)
            if pickled is not None:
                pickle.loads(pickled)  # an exception may pickle, yet not unpickle
        except Exception:  # any exception may refuse to pickle, or to unpickle
            pickled = None
        return cls(str(error), pickled, trace, process)

    def error(self) -> SampleLoadError:
        """Return the `SampleLoadError` again, the loader's exception as its cause.

        The cause carries the worker's traceback as a note; one that could not
        be pickled is a `RuntimeError` holding that traceback.
        """
        cause: BaseException = RuntimeError(f"raised in {self.process}:\n{self.trace}")
        if self.cause is not None:
            cause = pickle.loads(self.cause)  # pickled by our own worker, in `of`
            cause.add_note(f"raised in {self.process}:\n{self.trace}")
        error = SampleLoadError(self.message)
        error.__cause__ = cause
        return error


class _TensorsAside(pickle.Pickler):
    """Pickles all but tensors: what must pickle for a value to cross processes.

    Tensors cross in shared memory, and would be copied here for nothing.
    """

    def persistent_id(self, obj: object) -> int | None:
        return 0 if isinstance(obj, Tensor) else None


def unsent_metadata(
    metadata: Mapping[str, object], where: str, *, process: str
) -> SampleLoadError | None:
    """Return the error of a metadata value that cannot cross processes, if any.

    A value whose type pickle cannot find by name (a class made in a
    function, say) is collated in ``process`` but never reaches this one: torch
    drops a batch that does not pickle, and its loader waits for it forever.
    ``where`` names the first sample of the batch or span.
    """
    for key, value in metadata.items():
        try:
            _TensorsAside(io.BytesIO(), protocol=pickle.HIGHEST_PROTOCOL).dump(value)
        except Exception as exc:  # pickle raises many kinds
            msg = (
                f"{where}: metadata `{key}` cannot be sent from {process} to this "
                f"one ({type(exc).__name__}: {exc}); give it values of types that "
                "pickle finds by name (classes defined at the top level of a "
                "module), or load in this process (`parallel=-1`)"
            )
            error = SampleLoadError(msg)
            error.__cause__ = exc
            return error
    return None
