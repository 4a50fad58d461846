"""Caching on the training device: refused clearly without CUDA, gathered alike."""

import pytest
import torch
from lightning import Trainer
from lightsplit_testing import MemoryLoader, entries_named

from lightsplit import CacheDeviceError, CacheMemoryError, CachingDataModule, Sample
from lightsplit._cache import build_store
from lightsplit._datasets import CachedDataset
from lightsplit._devicecache import DeviceDataset, device_dataset
from lightsplit._loader import build_loader
from lightsplit._sampling import SeededIndices
from lightsplit._sources import SetSource

CUDA = torch.cuda.is_available()


def _source(loader: MemoryLoader, count: int = 6) -> SetSource:
    return SetSource("train", ((entries_named("x", count), loader),))


def _same(left: Sample, right: Sample) -> None:
    assert torch.equal(left.input.cpu(), right.input.cpu())
    assert left.input.dtype == right.input.dtype
    assert left.metadata.keys() == right.metadata.keys()
    for key, value in left.metadata.items():
        other = right.metadata[key]
        if isinstance(value, torch.Tensor):
            assert isinstance(other, torch.Tensor), key
            assert torch.equal(value.cpu(), other.cpu()), key
        else:
            assert value == other, key


@pytest.mark.skipif(CUDA, reason="checks the machine without CUDA")
class TestWithoutCuda:
    def test_refused_before_loading(self) -> None:
        """No CUDA: a clear error naming the set and the way out, no sample loaded."""
        loader = MemoryLoader(loaded=[])
        module = CachingDataModule(
            {"train": entries_named("x", 4), "validation": entries_named("v", 2)},
            loader,
            cache_samples=True,
            cache_on_device=True,
        )
        with pytest.raises(CacheDeviceError, match="set `train`") as raised:
            module.setup("fit")
        assert "no CUDA device" in str(raised.value)
        assert "cache_on_device=False" in str(raised.value)
        assert loader.loaded == []

    def test_refused_on_a_cpu_trainer(self) -> None:
        """Training on the CPU with `cache_on_device` names the training device."""
        module = CachingDataModule(
            {"train": entries_named("x", 4), "validation": entries_named("v", 2)},
            MemoryLoader(),
            cache_samples=True,
            cache_on_device=True,
        )
        trainer = Trainer(accelerator="cpu", logger=False, max_epochs=1)
        module.trainer = trainer
        with pytest.raises(CacheDeviceError, match="training device is `cpu`"):
            module.setup("fit")


def test_cache_ignores_seeds_of_indices() -> None:
    """A cache draws nothing: indices given with a seed gather what they name."""
    host = CachedDataset(build_store(_source(MemoryLoader())))
    plain = [torch.tensor([3, 1]), torch.tensor([0])]
    seeded = [SeededIndices(indices, seed=7) for indices in plain]
    for gathered, expected in zip(
        host.batches(seeded), host.batches(plain), strict=True
    ):
        _same(gathered, expected)


class TestDeviceDataset:
    """The device set's gathers, checked on the CPU (the code does not differ)."""

    def test_batches_equal_the_host_cache(self) -> None:
        """Inputs, tensor and other metadata are gathered as the host cache does."""
        source = _source(MemoryLoader())
        store = build_store(source)
        host = CachedDataset(store)
        device = device_dataset(
            store, torch.device("cpu"), headroom=0.25, where=source.where
        )
        assert len(device) == len(host)
        for indices in ([0, 1, 2], [5, 0], torch.tensor([3, 3, 4])):
            _same(device.batch(indices), host.batch(indices))
        for index in range(len(host)):
            _same(device.sample(index), host.sample(index))

    def test_uint8_stays_uint8(self) -> None:
        """A uint8 cache is served as uint8: the conversion is for the device."""
        source = _source(MemoryLoader(dtype=torch.uint8))
        store = build_store(source)
        device = device_dataset(
            store, torch.device("cpu"), headroom=0.25, where=source.where
        )
        assert device.batch([0, 1]).input.dtype == torch.uint8

    def test_inputs_of_several_shapes(self) -> None:
        """Inputs that differ in shape cannot be one device tensor: said so."""
        source = _source(MemoryLoader(shapes={"x2": (3, 3)}))
        store = build_store(source)
        with pytest.raises(CacheDeviceError, match=r"set `train`.*one shape"):
            device_dataset(store, torch.device("cpu"), headroom=0.25, where=str)

    def test_loader_has_no_workers_nor_pinning(self) -> None:
        """A set on the device is gathered in the process: no workers, no pinning."""
        source = _source(MemoryLoader())
        dataset = device_dataset(
            build_store(source), torch.device("cpu"), headroom=0.25, where=str
        )
        module = CachingDataModule(
            {"train": entries_named("x", 6)},
            MemoryLoader(),
            cache_samples=True,
            parallel=2,
            batch_size=2,
        )
        loader = build_loader(dataset, module.config, chunk_size=2, train=True)
        assert loader.num_workers == 0
        assert not loader.pin_memory
        served = sorted(int(i) for batch in loader for i in batch.input[:, 0, 0])
        assert served == list(range(6))


@pytest.mark.gpu
@pytest.mark.skipif(not CUDA, reason="needs a CUDA device")
class TestOnCuda:
    def test_fit_serves_batches_from_the_device(self) -> None:
        """Batches come out of the loader already on the GPU, equal to the host's."""
        split = {"train": entries_named("x", 8), "validation": entries_named("v", 4)}
        on_device = CachingDataModule(
            split, MemoryLoader(), cache_samples=True, cache_on_device=True
        )
        on_host = CachingDataModule(split, MemoryLoader(), cache_samples=True)
        on_device.setup("validate")
        on_host.setup("validate")
        assert isinstance(on_device._dataset("validation"), DeviceDataset)
        left = list(on_device.val_dataloader()["validation"])
        right = list(on_host.val_dataloader()["validation"])
        for device_batch, host_batch in zip(left, right, strict=True):
            assert device_batch.input.is_cuda
            _same(device_batch, host_batch)

    def test_too_large_for_the_headroom(self) -> None:
        """Keeping 99% of the device free leaves no room: refused with the sizes."""
        module = CachingDataModule(
            {"train": entries_named("x", 4), "validation": entries_named("v", 2)},
            MemoryLoader(),
            cache_samples=True,
            cache_on_device=True,
            device_headroom=0.999999,
        )
        with pytest.raises(CacheMemoryError, match="device_headroom"):
            module.setup("validate")


@pytest.mark.gpu
@pytest.mark.skipif(not CUDA, reason="needs a CUDA device")
class TestPinnedHostCache:
    @pytest.mark.parametrize("count", [8, 3000])
    def test_batches_are_gathered_pinned(self, count: int) -> None:
        """Small and large cached batches come out pinned, equal to unpinned ones."""
        split = {
            "train": entries_named("x", 4),
            "validation": entries_named("v", count),
        }
        loader = MemoryLoader(shapes={f"v{i}": (64, 64) for i in range(count)})
        module = CachingDataModule(split, loader, cache_samples=True, batch_size=512)
        module.setup("validate")
        dataset = module._dataset("validation")
        assert isinstance(dataset, CachedDataset)
        assert dataset.pinned
        unpinned = CachedDataset(dataset.store)
        validation = module.val_dataloader()["validation"]
        assert not validation.pin_memory
        for number, batch in enumerate(validation):
            start = number * 512
            rows = list(range(start, min(start + 512, count)))
            assert batch.input.is_pinned()
            _same(batch, unpinned.batch(rows))
            on_device = batch.input.to("cuda", non_blocking=True)
            assert torch.equal(on_device.cpu(), batch.input)
