import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from lightsplit_testing import KillingLoader, MemoryLoader, entries_named

from lightsplit import CachingDataModule, SampleLoadError

TESTS = Path(__file__).parent


# torch's SIGCHLD handler raises again when the other worker exits; when that
# lands inside a garbage-collector callback, Python can only print it
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_killed_loader_worker() -> None:
    """A loader worker killed by a signal ends the epoch with an error, no hang."""
    loader = KillingLoader(victim="x5", main_pid=os.getpid())
    module = CachingDataModule({"test": entries_named("x", 12)}, loader, parallel=2)
    with pytest.raises(
        SampleLoadError, match="set `test`: a loader worker process died"
    ):
        list(module.test_dataloader()["test"])


def test_killed_build_process() -> None:
    """A cache build process killed by a signal fails the build, naming the set."""
    # the build process takes the first spans, this process decodes from the end
    loader = KillingLoader(victim="x1", main_pid=os.getpid())
    module = CachingDataModule(
        {"test": entries_named("x", 64)}, loader, parallel=2, cache_samples=True
    )
    with pytest.raises(SampleLoadError, match="set `test`: a cache build process died"):
        module.setup("test")


def test_full_disk_falls_back_to_memory(tmp_path: Path) -> None:
    """A cache file that cannot be written (disk full) leaves the cache in memory."""
    script = textwrap.dedent(
        f"""
        import resource, signal, sys, warnings
        sys.path.insert(0, {str(TESTS)!r})
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of death
        # room for the shared-memory cache, not for the whole cache file
        resource.setrlimit(resource.RLIMIT_FSIZE, (60_000, 60_000))
        from lightsplit_testing import MemoryLoader, entries_named
        from lightsplit import CachingDataModule, LightsplitWarning

        module = CachingDataModule({{"test": entries_named("x", 2000)}}, MemoryLoader(),
                                   cache_samples=True, cache_dir={str(tmp_path)!r})
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            module.setup("test")
        loader = module.test_dataloader()["test"]
        names = [n for b in loader for n in b.metadata["name"]]
        assert names == [f"x{{i}}" for i in range(2000)], names[:5]
        print([str(w.message) for w in caught if w.category is LightsplitWarning])
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "caching in memory only" in result.stdout
    assert "File too large" in result.stdout
    assert list(tmp_path.glob("*.lscache")) == []


def test_wrong_shape_sample_is_never_cached_silently() -> None:
    """A sample of another shape is served as it is, or fails to batch: never cut."""
    loader = MemoryLoader(shapes={"x3": (3, 2)})
    module = CachingDataModule(
        {"test": entries_named("x", 6)}, loader, cache_samples=True, batch_size=2
    )
    with pytest.raises(SampleLoadError, match=r"input 1 is \(3, 2\)"):
        list(module.test_dataloader()["test"])
