"""Every example of ``docs/`` runs, and prints what its page shows.

Each page ``docs/*.md`` (found by a glob, so new pages are covered) runs in a
child process of its own, in a temporary folder: its ``python`` blocks in order,
in one namespace, and the commands of its ``console`` blocks, comparing their
output with the page. ``tests/docs_examples.py`` runs them and describes the
conventions pages follow: which blocks run, how output is compared (``...``
for what varies), how a page waits for another
(``<!-- docs-examples: after getting-started.md -->``) and how a block is
skipped (``<!-- docs-examples: skip REASON -->``, or ``title="mednet"``).

The child keeps Python's default warning filters, not this suite's
``filterwarnings = error``: a warning (``LightsplitWarning``, Lightning's
advice) never fails a ``python`` example by itself, as its stderr is not
compared (it is shown when the page fails); the warnings of a ``console``
command are part of the output the page shows, as in a terminal.

Pages run as many at once as there are CPUs. A page whose example shows a bug
of lightsplit goes in ``KNOWN_BUGS``, which marks its test ``xfail(strict=True)``.
"""

import contextlib
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Final

import pytest
from docs_examples import (
    Block,
    DocsError,
    Failure,
    example_environment,
    load_report,
    output_matches,
    parse_page,
    run_page,
    skipped_blocks,
)

DOCS: Final = Path(__file__).parents[1] / "docs"
RUNNER: Final = Path(__file__).with_name("docs_examples.py")
PAGE_TIMEOUT_S: Final = 600
"""Longest a page may run; the slowest (``cli.md``) takes well under a minute."""

KNOWN_BUGS: Final[dict[str, str]] = {}
"""Pages whose examples show a bug of lightsplit, with the bug: they must fail."""


def _page_params() -> list[object]:
    """One parameter per page, marked ``xfail`` for the pages of ``KNOWN_BUGS``."""
    return [
        pytest.param(
            path.name,
            id=path.name,
            marks=[pytest.mark.xfail(reason=KNOWN_BUGS[path.name], strict=True)]
            if path.name in KNOWN_BUGS
            else [],
        )
        for path in sorted(DOCS.glob("*.md"))
    ]


class PageRuns:
    """Runs pages in child processes, a few at a time, in the order tests ask.

    The pages of the selected tests start as soon as the first test asks for
    one, as many at once as there are CPUs, so that the slow imports of torch
    and Lightning in each child overlap.
    """

    def __init__(self, pages: Sequence[str], folder: Path, jobs: int) -> None:
        self.waiting = list(pages)
        self.folder = folder
        self.jobs = jobs
        self.running: dict[str, subprocess.Popen[bytes]] = {}

    def _start(self, page: str) -> None:
        """Start the child process of ``page``."""
        self.waiting.remove(page)
        folder = self.folder / page
        (folder / "workdir").mkdir(parents=True)
        with (folder / "output.txt").open("wb") as output:
            self.running[page] = subprocess.Popen(
                [
                    sys.executable,
                    str(RUNNER),
                    page,
                    "--docs",
                    str(DOCS),
                    "--workdir",
                    str(folder / "workdir"),
                    "--report",
                    str(folder / "report.json"),
                ],
                cwd=folder / "workdir",
                env=example_environment(),
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # so that close() ends its children too
            )

    def _fill(self) -> None:
        """Start waiting pages until ``jobs`` run."""
        while self.waiting and len(self.running) < self.jobs:
            self._start(self.waiting[0])

    def failures(self, page: str) -> list[Failure]:
        """Wait for ``page`` to finish; return its failures."""
        if page not in self.running:
            self._start(page)
        self._fill()
        process = self.running[page]
        try:
            status = process.wait(timeout=PAGE_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.close()
            pytest.fail(f"docs/{page} ran over {PAGE_TIMEOUT_S} s", pytrace=False)
        del self.running[page]
        self._fill()
        folder = self.folder / page
        output = (folder / "output.txt").read_text(errors="replace").strip()
        if status != 0 or not (folder / "report.json").is_file():
            pytest.fail(
                f"the runner of docs/{page} exited with status {status}:\n{output}",
                pytrace=False,
            )
        failures = load_report(folder / "report.json")
        if failures and output:
            output = textwrap.indent(output[-4000:], "  ")
            failures.append(Failure(page, 0, f"the page's stderr ends with:\n{output}"))
        return failures

    def close(self) -> None:
        """End the pages still running, and the processes they started."""
        for process in self.running.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        self.running.clear()


@pytest.fixture(scope="module")
def page_runs(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PageRuns]:
    """The runs of the pages the selected tests check, in the tests' order."""
    pages = [
        str(item.callspec.params["page"])
        for item in request.session.items
        if isinstance(item, pytest.Function)
        and item.originalname == "test_page_examples"
    ]
    runs = PageRuns(
        pages, tmp_path_factory.mktemp("docs"), len(os.sched_getaffinity(0))
    )
    yield runs
    runs.close()


@pytest.mark.parametrize("page", _page_params())
def test_page_examples(page: str, page_runs: PageRuns) -> None:
    """The page's examples run and print what the page shows."""
    failures = page_runs.failures(page)
    if failures:
        pytest.fail("\n\n".join(map(str, failures)), pytrace=False)


@pytest.mark.parametrize(
    "block",
    skipped_blocks(DOCS),
    ids=lambda block: f"{block.page}:{block.line}",
)
def test_skipped_block(block: Block) -> None:
    """Each python or console block that does not run is listed, with its reason."""
    pytest.skip(f"docs/{block.page}, line {block.line}: {block.skip}")


def _page(tmp_path: Path, text: str, name: str = "page.md") -> Path:
    """Write a page of ``text`` in ``tmp_path / "docs"``; return the folder."""
    docs = tmp_path / "docs"
    docs.mkdir(exist_ok=True)
    (docs / name).write_text(textwrap.dedent(text))
    (tmp_path / "work").mkdir(exist_ok=True)
    return docs


def _failures(tmp_path: Path, text: str) -> list[Failure]:
    """Run a page of ``text`` in this process; return its failures."""
    return run_page(_page(tmp_path, text), "page.md", tmp_path / "work")


class TestOutputMatches:
    def test_exact(self) -> None:
        """Output matches when equal but for trailing whitespace and blank lines."""
        assert output_matches("a\nb", "a  \nb\n\n")
        assert not output_matches("a\nb", "a\nc")
        assert not output_matches("a", "\na")

    def test_ellipsis_within_a_line(self) -> None:
        """``...`` in a line matches any text within that line only."""
        assert output_matches("took ... s", "took 0.4 s")
        assert not output_matches("took ... s", "took 0.4\n s")

    def test_ellipsis_line(self) -> None:
        """A line of ``...`` matches any number of lines, none included."""
        assert output_matches("a\n...\nz", "a\nz")
        assert output_matches("a\n...\nz", "a\nb\nc\nz")
        assert not output_matches("a\n...\nz", "a\nb")


class TestParsePage:
    def test_output_block(self, tmp_path: Path) -> None:
        """A text block right after a python block is its expected output."""
        docs = _page(tmp_path, "```python\nprint(1)\n```\n\n```text\n1\n```\n")
        [block] = parse_page(docs / "page.md").blocks
        assert (block.language, block.line, block.expected) == ("python", 1, "1")

    def test_text_after_prose_is_data(self, tmp_path: Path) -> None:
        """A text block after prose is data, not output."""
        page = "```python\nx = 1\n```\nProse.\n```text\n1\n```\n"
        blocks = parse_page(_page(tmp_path, page) / "page.md").blocks
        assert [(b.language, b.expected, b.runs) for b in blocks] == [
            ("python", None, True),
            ("text", None, False),
        ]

    def test_skipped(self, tmp_path: Path) -> None:
        """A skip directive or another library's title keeps a block from running."""
        page = """\
            <!-- docs-examples: skip needs a GPU -->
            ```console
            $ nvidia-smi
            ```

            ```python title="mednet"
            import mednet
            ```
            """
        blocks = parse_page(_page(tmp_path, page) / "page.md").blocks
        assert [(b.skip, b.runs) for b in blocks] == [
            ("needs a GPU", False),
            ("mednet code, shown for comparison", False),
        ]
        assert skipped_blocks(tmp_path / "docs") == list(blocks)

    @pytest.mark.parametrize(
        ("text", "message"),
        [
            pytest.param(
                "```bash\nls\n```\n", "blocks of `bash` do not run", id="bash"
            ),
            pytest.param("```\nls\n```\n", "a block needs a language", id="none"),
            pytest.param("```python\nx = 1\n", "the block is never closed", id="open"),
            pytest.param(
                "<!-- docs-examples: skip -->\n```python\n```\n",
                "cannot read `skip`",
                id="no-reason",
            ),
            pytest.param(
                "<!-- docs-examples: skip why -->\nText.\n```python\n```\n",
                "line 1: no block follows this `skip`",
                id="dangling-skip",
            ),
        ],
    )
    def test_invalid(self, tmp_path: Path, text: str, message: str) -> None:
        """A page that breaks the conventions is an error naming the line."""
        docs = _page(tmp_path, text)
        with pytest.raises(DocsError, match=message):
            parse_page(docs / "page.md")
        assert not skipped_blocks(docs)


class TestRunPage:
    def test_passes(self, tmp_path: Path) -> None:
        """Blocks share names and files; titled blocks are written to files."""
        page = """\
            ```json title="data/numbers.json"
            [1, 2]
            ```

            ```python
            import json
            from pathlib import Path
            numbers = json.loads(Path("data/numbers.json").read_text())
            ```

            ```python
            print(sum(numbers))
            ```

            ```text
            3
            ```
            """
        assert _failures(tmp_path, page) == []

    def test_output_differs(self, tmp_path: Path) -> None:
        """A block printing other than its text block fails with a diff."""
        page = "Intro.\n\n```python\nprint(2)\n```\n\n```text\n3\n```\n"
        [failure] = _failures(tmp_path, page)
        assert (failure.page, failure.line) == ("page.md", 3)
        assert "-3\n+2" in failure.message

    def test_unexpected_output(self, tmp_path: Path) -> None:
        """A python block that no text block follows must print nothing."""
        [failure] = _failures(tmp_path, "```python\nprint('hello')\n```\n")
        assert "no text block follows" in failure.message
        assert "+hello" in failure.message

    def test_exception_stops_the_page(self, tmp_path: Path) -> None:
        """An exception fails the page at its block, and later blocks do not run."""
        page = "```python\nraise KeyError('k')\n```\n\n```python\nprint(1)\n```\n"
        [failure] = _failures(tmp_path, page)
        assert failure.line == 1
        assert "KeyError: 'k'" in failure.message
        assert 'page.md", line 2' in failure.message

    def test_console(self, tmp_path: Path) -> None:
        """Commands print stdout and stderr together; ``$?`` is the last status."""
        page = """\
            ```console
            $ python -c "import sys; print('out'); sys.exit('err')"
            out
            err
            $ echo $?
            1
            $ echo '$ echoed'; echo done
            $ echoed
            done
            ```
            """
        assert _failures(tmp_path, page) == []

    def test_console_differs(self, tmp_path: Path) -> None:
        """A command printing other than the page shows fails with its line."""
        page = "```console\n$ true\n$ echo $?\n1\n```\n"
        [failure] = _failures(tmp_path, page)
        assert failure.line == 3
        assert "-1\n+0" in failure.message

    def test_after(self, tmp_path: Path) -> None:
        """A page runs after the page it names, in the same folder."""
        docs = _page(
            tmp_path,
            "```python\nfrom pathlib import Path\nPath('x').write_text('x')\n```\n",
            "first.md",
        )
        _page(
            tmp_path,
            "<!-- docs-examples: after first.md -->\n\n```console\n$ cat x\nx\n```\n",
        )
        assert run_page(docs, "page.md", tmp_path / "work") == []

    def test_snippet(self, tmp_path: Path) -> None:
        """A titled block's ``--8<--`` lines are replaced by the files of ``docs/``."""
        page = """\
            ```json title="copy.json"
            --8<-- "data.json"
            ```

            ```console
            $ cat copy.json
            {"a": 1}
            ```
            """
        docs = _page(tmp_path, page)
        (docs / "data.json").write_text('{"a": 1}\n')
        assert run_page(docs, "page.md", tmp_path / "work") == []

    def test_after_cycle(self, tmp_path: Path) -> None:
        """Pages that wait for each other fail, naming the cycle."""
        docs = _page(tmp_path, "<!-- docs-examples: after page.md -->\n", "first.md")
        _page(tmp_path, "<!-- docs-examples: after first.md -->\n")
        [failure] = run_page(docs, "page.md", tmp_path / "work")
        assert str(failure) == (
            "docs/page.md: pages wait for each other: page.md -> first.md -> page.md"
        )

    def test_after_missing_page(self, tmp_path: Path) -> None:
        """A page waiting for a page that does not exist fails."""
        [failure] = _failures(tmp_path, "<!-- docs-examples: after none.md -->\n")
        assert "docs/none.md, which does not exist" in failure.message
