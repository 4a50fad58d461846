"""Feed a GPU: lightsplit's cached paths against what the device allows.

One command, under 5 minutes on one GPU (needs CUDA)::

    .venv/bin/python benchmarks/gpu.py [--samples N] [--epochs K]

On the same data (N images of (1, 256, 256), ``uint8`` unless said, a tensor
target, batches of 64), it times, each the median of K epochs after a warm one:

- the GPU-resident cache (``cache_on_device=True``) against a raw
  ``index_select`` of the same batches from one device tensor (target: within
  1.5x);
- the host cache, each batch copied to the device, against the raw bandwidth of
  copying the same bytes from pinned memory (target: at least 0.8x);
- the fraction of training time a ResNet-18 at 256x256 waits for data
  (``DataWaitMonitor``), fed from the GPU cache (target: under 1%), from the
  host cache, uncached, and from a ``float32`` host cache, for scale.

It prints Markdown tables and one PASS or FAIL line per target.
"""

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

import torch
from _common import markdown_table
from lightning.pytorch import LightningModule, Trainer
from torch import Tensor, nn

from lightsplit import CachingDataModule, DataWaitMonitor, Sample, ToFloat

BATCH = 64


class SyntheticLoader:
    """Makes a (1, 256, 256) image of ``dtype`` from each ``(number, label)``."""

    def __init__(self, dtype: str = "uint8") -> None:
        """Make images of ``dtype`` (``uint8`` or ``float32``)."""
        self.dtype = dtype

    def sample(self, raw: tuple[int, int]) -> Sample:
        """Return the image and its target."""
        number, label = raw
        generator = torch.Generator().manual_seed(number)
        image = torch.randint(0, 256, (1, 256, 256), generator=generator)
        value = image.to(torch.uint8) if self.dtype == "uint8" else image / 255
        return Sample(value, {"target": torch.tensor(label)})

    def target(self, raw: tuple[int, int]) -> int:
        """Return the label."""
        return raw[1]


def _module(samples: int, dtype: str, **settings: Any) -> CachingDataModule:  # noqa: ANN401 - settings
    entries = [(number, number % 2) for number in range(samples)]
    return CachingDataModule(
        {"train": entries, "validation": entries[:BATCH]},
        SyntheticLoader(dtype),
        batch_size=BATCH,
        seed=0,
        **settings,
    )


def _sync() -> None:
    torch.cuda.synchronize()


def _median_epoch(run: Callable[[], object], epochs: int) -> float:
    run()
    times = []
    for _ in range(epochs):
        _sync()
        start = time.perf_counter()
        run()
        _sync()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _epoch(module: CachingDataModule, device: torch.device) -> Callable[[], None]:
    loader = module.train_dataloader()

    def run() -> None:
        for batch in loader:
            batch.input.to(device, non_blocking=True)

    return run


def serving(
    samples: int, epochs: int, device: torch.device
) -> tuple[list[list[str]], float, float]:
    """Time cached epochs on the device and from the host against their limits.

    Returns:
        The table's rows, the GPU cache's ratio to ``index_select`` and the host
        cache's transfer rate over that of a pinned copy.
    """
    on_device = _module(samples, "uint8", cache_samples=True, cache_on_device=True)
    on_device.setup("fit")
    host = _module(samples, "uint8", cache_samples=True)
    host.setup("fit")
    loader = host.train_dataloader()
    batches: list[Tensor] = list(loader.sampler)
    data = torch.stack(
        [host.predict_dataloader()["train"].dataset[i].input for i in range(samples)]
    )
    on_gpu = data.to(device)
    device_batches = [batch.to(device) for batch in batches]
    pinned = data[: BATCH * len(batches)].pin_memory()

    def raw_select() -> None:
        for index in device_batches:
            on_gpu.index_select(0, index)

    def raw_copy() -> None:
        for start in range(0, len(pinned), BATCH):
            pinned[start : start + BATCH].to(device, non_blocking=True)

    gpu_epoch = _median_epoch(_epoch(on_device, device), epochs)
    limit = _median_epoch(raw_select, epochs)
    host_epoch = _median_epoch(_epoch(host, device), epochs)
    copy = _median_epoch(raw_copy, epochs)
    gigabytes = data.nbytes / 2**30
    rows = [
        [
            "GPU cache epoch",
            f"{gpu_epoch:.4f}",
            f"{gpu_epoch / limit:.2f}x index_select",
        ],
        ["index_select on the device", f"{limit:.4f}", "1.00x"],
        [
            "host cache epoch, copied to the device",
            f"{host_epoch:.4f}",
            f"{gigabytes / host_epoch:.1f} GiB/s, {copy / host_epoch:.2f}x pinned copy",
        ],
        [
            "pinned copy of the same bytes",
            f"{copy:.4f}",
            f"{gigabytes / copy:.1f} GiB/s",
        ],
    ]
    return rows, gpu_epoch / limit, copy / host_epoch


class _Block(nn.Module):
    def __init__(self, inputs: int, outputs: int, stride: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(inputs, outputs, 3, stride, 1, bias=False),
            nn.BatchNorm2d(outputs),
            nn.ReLU(inplace=True),
            nn.Conv2d(outputs, outputs, 3, 1, 1, bias=False),
            nn.BatchNorm2d(outputs),
        )
        self.skip: nn.Module = nn.Identity()
        if stride != 1 or inputs != outputs:
            self.skip = nn.Sequential(
                nn.Conv2d(inputs, outputs, 1, stride, bias=False),
                nn.BatchNorm2d(outputs),
            )

    def forward(self, x: Tensor) -> Tensor:
        out: Tensor = torch.relu(self.body(x) + self.skip(x))
        return out


class ResNet18(LightningModule):
    """ResNet-18 (as torchvision's, one input channel), trained on the targets."""

    def __init__(self) -> None:
        super().__init__()
        layers: list[nn.Module] = [
            nn.Conv2d(1, 64, 7, 2, 3, bias=False),
            nn.BatchNorm2d(64),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(3, 2, 1),
        ]
        width = 64
        for outputs, stride in [(64, 1), (128, 2), (256, 2), (512, 2)]:
            layers += [_Block(width, outputs, stride), _Block(outputs, outputs, 1)]
            width = outputs
        layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(512, 2)]
        self.net = nn.Sequential(*layers)

    def training_step(self, batch: Sample, batch_idx: int) -> Tensor:
        x, meta = batch
        loss: Tensor = nn.functional.cross_entropy(self.net(x), meta["target"])
        return loss

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.SGD(self.parameters(), lr=0.01)


def data_wait(samples: int) -> list[list[str]]:
    """Return the data-wait fraction of a ResNet-18 fed from each path."""
    rows = []
    paths: list[tuple[str, str, dict[str, Any]]] = [
        ("GPU cache, uint8", "uint8", {"cache_samples": True, "cache_on_device": True}),
        ("host cache, uint8", "uint8", {"cache_samples": True}),
        ("host cache, float32", "float32", {"cache_samples": True}),
        ("uncached, 8 workers, uint8", "uint8", {"parallel": 8}),
    ]
    for name, dtype, settings in paths:
        transforms = [ToFloat(mean=(0.5,), std=(0.25,))] if dtype == "uint8" else []
        module = _module(samples, dtype, train_batch_transforms=transforms, **settings)
        monitor = DataWaitMonitor()
        trainer = Trainer(
            accelerator="gpu",
            devices=1,
            max_epochs=2,
            precision="bf16-mixed",
            callbacks=[monitor],
            logger=False,
            enable_checkpointing=False,
            enable_progress_bar=False,
            enable_model_summary=False,
            limit_val_batches=0,
        )
        start = time.perf_counter()
        trainer.fit(ResNet18(), datamodule=module)
        seconds = time.perf_counter() - start
        rows.append([name, f"{monitor.fraction:.2%}", f"{seconds:.1f}"])
    return rows


def main() -> None:
    """Run every measurement and print the tables and verdicts."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=8192)
    parser.add_argument("--epochs", type=int, default=7)
    args = parser.parse_args()
    if not torch.cuda.is_available():
        parser.error("this benchmark needs a CUDA device")
    device = torch.device("cuda", 0)
    print(f"Device: {torch.cuda.get_device_name(device)}, torch {torch.__version__}")
    print(f"{args.samples:,} images of (1, 256, 256) uint8, batches of {BATCH}\n")
    rows, gpu, copy = serving(args.samples, args.epochs, device)
    print(markdown_table(["path", "epoch s", "against its limit"], rows) + "\n")
    waits = data_wait(args.samples)
    print(markdown_table(["ResNet-18 fed from", "data wait", "fit s"], waits) + "\n")
    wait = float(waits[0][1].removesuffix("%")) / 100
    for ok, text in [
        (gpu <= 1.5, f"GPU cache epoch / index_select: {gpu:.2f} (<= 1.5)"),
        (copy >= 0.8, f"host cache transfer / pinned copy: {copy:.2f} (>= 0.8)"),
        (wait < 0.01, f"data wait from the GPU cache: {wait:.2%} (< 1%)"),
    ]:
        print(f"{'PASS' if ok else 'FAIL'}: {text}")


if __name__ == "__main__":
    main()
