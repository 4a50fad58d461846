"""A subclass overrides the batch hook for `Sample` batches alone, typed."""

from typing import assert_type

from lightsplit import CachingDataModule, Sample


class Flipped(CachingDataModule):
    """Flips each batch after the configured batch transforms."""

    def on_after_batch_transfer(self, batch: Sample, dataloader_idx: int) -> Sample:
        batch = super().on_after_batch_transfer(batch, dataloader_idx)
        return Sample(batch.input.flip(-1), batch.metadata)


def transferred(module: CachingDataModule, batch: Sample) -> None:
    assert_type(module.on_after_batch_transfer(batch, 0), Sample)
