"""A cached set in the memory of the training device, gathered there.

With ``cache_on_device``, a set is built as a host cache, then its inputs and
tensor columns are copied once to the device (each DDP rank: its own), and the
host copy is let go. Each batch is then a few ``index_select`` calls on the
device: no host-to-device copy per step, no pinned staging, no workers.
"""

from collections.abc import Sequence

import torch
from torch import Tensor
from typing_extensions import override

from ._datasets import SetDataset
from ._errors import CacheDeviceError, CacheMemoryError
from ._memory import format_bytes
from ._metadata import Describe
from ._sample import Sample
from ._stores import Column, ContiguousStore, SampleStore, TensorColumn

__all__ = ["DeviceDataset", "check_device_fits", "device_dataset", "training_device"]


def training_device(device: torch.device | None, set_name: str) -> torch.device:
    """Return the CUDA device a device cache goes to, or refuse one without it.

    ``device`` is the trainer's root device when there is a trainer; without
    one, the current CUDA device.

    Raises:
        CacheDeviceError: when the device is not a CUDA GPU.
    """
    if device is None and torch.cuda.is_available():
        device = torch.device("cuda", torch.cuda.current_device())
    if device is not None and device.type == "cuda":
        return device
    where = (
        "this machine has no CUDA device"
        if device is None
        else (f"the training device is `{device}`")
    )
    msg = (
        f"set `{set_name}`: `cache_on_device` keeps the cache in the memory of a "
        f"CUDA GPU, but {where}; set `cache_on_device=False` to serve the cache "
        "from host memory"
    )
    raise CacheDeviceError(msg)


def check_device_fits(
    set_name: str, needed: int, device: torch.device, *, headroom: float
) -> None:
    """Refuse a device cache that would leave less than ``headroom`` of the device.

    Only CUDA devices report their free memory; others are not checked.

    Raises:
        CacheMemoryError: naming the sizes and what to do instead.
    """
    if device.type != "cuda":
        return
    free, total = torch.cuda.mem_get_info(device)
    allowed = free - int(headroom * total)
    if needed > allowed:
        msg = (
            f"set `{set_name}`: caching on `{device}` needs {format_bytes(needed)} "
            f"but only {format_bytes(max(allowed, 0))} may be taken "
            f"({format_bytes(free)} free, {headroom:.0%} of {format_bytes(total)} "
            "kept for the model, `device_headroom`); keep images as `uint8` (4 "
            "times smaller than `float32`), lower `device_headroom`, or set "
            "`cache_on_device=False` to cache in host memory"
        )
        raise CacheMemoryError(msg)


class DeviceDataset(SetDataset):
    """Serves a set from device memory: one ``index_select`` per tensor per batch.

    ``tensors`` are the tensor columns, their values on the device; ``host``
    the other columns (strings, say), gathered on the host.
    """

    def __init__(
        self,
        name: str,
        inputs: Tensor,
        *,
        tensors: dict[str, TensorColumn],
        host: dict[str, Column],
        where: Describe,
    ) -> None:
        self.name = name
        self.inputs = inputs
        self.tensors = tensors
        self.host = host
        self._where = where

    @override
    def __len__(self) -> int:
        return len(self.inputs)

    @override
    def sample(self, index: int) -> Sample:
        columns = {**self.tensors, **self.host}
        metadata = {key: column.get(index) for key, column in columns.items()}
        return Sample(self.inputs[index].clone(), metadata)

    @override
    def batch(self, indices: Sequence[int] | Tensor) -> Sample:
        host_index = torch.as_tensor(indices, dtype=torch.int64)
        index = host_index.to(self.inputs.device, non_blocking=True)
        metadata: dict[str, object] = {
            key: column.values.index_select(0, index)
            for key, column in self.tensors.items()
        }
        for key, column in self.host.items():
            metadata[key] = column.gather(host_index, key=key, where=self._where)
        return Sample(self.inputs.index_select(0, index), metadata)


def device_dataset(
    store: SampleStore, device: torch.device, *, headroom: float, where: Describe
) -> DeviceDataset:
    """Copy a host store's inputs and tensor columns to ``device``.

    ``where`` describes a sample in messages (the host store is let go).

    Raises:
        CacheDeviceError: for a set whose inputs differ in shape or dtype.
        CacheMemoryError: when the set would not fit (see `check_device_fits`).
    """
    if not isinstance(store, ContiguousStore):
        msg = (
            f"set `{store.name}`: `cache_on_device` needs inputs of one shape and "
            "dtype (this set's differ); add a model transform that gives them one "
            "shape, or set `cache_on_device=False`"
        )
        raise CacheDeviceError(msg)
    check_device_fits(store.name, store.nbytes, device, headroom=headroom)
    tensors: dict[str, TensorColumn] = {}
    host: dict[str, Column] = {}
    for key, column in store.columns.items():
        if isinstance(column, TensorColumn):
            tensors[key] = TensorColumn(column.values.to(device), column.scalar)
        else:
            host[key] = column
    inputs = store.inputs.to(device)
    return DeviceDataset(store.name, inputs, tensors=tensors, host=host, where=where)
