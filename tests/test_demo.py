import re
import sys
from pathlib import Path

import pytest

from lightsplit import load_split
from lightsplit._demo import _check_split, run_demo


class TestRunDemo:
    def test_one_epoch(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """One epoch writes the digits and their split and learns well above chance."""
        pytest.importorskip("sklearn")
        accuracy = run_demo(epochs=1, workdir=tmp_path, parallel=-1)
        assert len(list((tmp_path / "digits").glob("*.png"))) == 1797
        split = load_split(tmp_path / "split.json", sample_type=tuple[str, int])
        sizes = {name: len(samples) for name, samples in split.items()}
        assert sizes == {"train": 1257, "validation": 270, "test": 270}
        assert split["test"][0][0].startswith("digits/")
        assert accuracy > 0.5
        output = capsys.readouterr().out
        assert "checked with `lightsplit check" in output
        assert "epoch 1/1: test accuracy" in output
        assert f"test accuracy: {accuracy:.1%} (chance 10%)" in output

    def test_without_scikit_learn(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Without scikit-learn the demo says which extra to install."""
        monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
        with pytest.raises(ImportError, match=r"install lightsplit\[demo\]"):
            run_demo()

    def test_no_epoch(self) -> None:
        """Zero epochs is refused before anything is written."""
        with pytest.raises(
            ValueError, match=re.escape("`epochs` (0) must be at least 1")
        ):
            run_demo(epochs=0)

    def test_failed_check(self, tmp_path: Path) -> None:
        """A split that `lightsplit check` rejects stops the demo."""
        split_path = tmp_path / "split.json"
        split_path.write_text('{"train": [["missing.png", 0]]}')
        with pytest.raises(RuntimeError, match=re.escape("`lightsplit check` failed")):
            _check_split(split_path, tmp_path)
