"""Run the examples of the documentation pages and compare what they print.

``tests/test_docs.py`` runs each page of ``docs/`` in a child process through
this module (``python tests/docs_examples.py --docs docs --workdir DIR
--report FILE PAGE``); the conventions below are those the pages follow.

Running a page:

- The page runs in a fresh, empty working directory. Its fenced blocks are
  taken in page order; its ``python`` blocks run in one namespace, a module
  named ``__main__``, as one script saved in that directory would (the
  directory is also first on ``sys.path``, so files a page writes can be
  imported).
- ``<!-- docs-examples: after other-page.md -->``, anywhere in a page, runs
  the blocks of ``other-page.md`` first, in the same directory but in their own
  namespace, so that the page can use the files the other page writes. The
  other page's failures are reported too.

Blocks, by language:

- ``python``: the code runs. What it prints on stdout is compared with the
  ``text`` block that immediately follows it (nothing but blank lines between
  the two fences). A ``python`` block that no ``text`` block follows must print
  nothing: a reader who runs the page sees exactly what the page shows. An
  exception fails the page and stops it, as it would stop a script.
- ``console``: each line that starts with ``$ `` is a command, run with
  ``bash -c`` in the working directory, with the interpreter's own ``bin``
  folder (the project's ``.venv/bin``) first on ``PATH``, so that ``python``
  and ``lightsplit`` are the project's. The lines that follow it, up to the
  next ``$ `` line, are its expected output, stdout and stderr together (one
  command per line: no continuation lines). A
  command that itself prints lines starting with ``$ `` (``lightsplit demo``
  echoes the commands it runs) takes as many of the following ``$ `` lines as
  output. Commands do not share a shell (``cd`` and variables do not carry
  over), but ``$?`` is the exit status of the previous command: a page that
  states a status shows it with ``$ echo $?``; otherwise the status is not
  checked (the output is).
- ``json``, ``yaml``, ``toml``, ``text``, ``ini``, ``csv``: data, never run.
  When such a block, or a ``python`` block, has a file name as its title
  (`` ```json title="split.json" ``), its content is written to that file of
  the working directory when the page reaches it (``--8<-- "name"`` lines are
  replaced with the file of ``docs/`` they include, as ``pymdownx.snippets``
  does). A title is a file name when it ends in a suffix (``loaders.py``,
  ``docs/split-file.schema.json``); it may not go up with ``..``. A
  ``python`` block written to a file is not run, so a page can show a module
  that its commands import (``lightsplit check --loader loaders:rgb_loader``).
  Other titles (``title="lightsplit"``) are captions only.
- Any other language is an error: choose one of the above, or mark the block.

Comparing output: trailing whitespace of each line and trailing blank lines are
ignored; everything else must be equal, except that, as with doctest's
``ELLIPSIS``, ``...`` in an expected line matches any text within that line,
and a line holding only ``...`` matches any number of lines, none included.
Use them for what truly varies (timings, speeds), sparingly.

Blocks that must not run:

- a block whose title names another library (``title="mednet"``), shown for
  comparison, is skipped;
- ``<!-- docs-examples: skip REASON -->`` on the last non-blank line before a
  fence skips that block (and the ``text`` block that shows its output), for
  the reason given; a block of any language can be skipped so. A ``skip``
  that no block follows, and any other ``docs-examples:`` comment, is an
  error. ``tests/test_docs.py`` lists every skipped block that is code, with
  its reason, as a skipped test.

Environment of a page (a child process, isolated from pytest and from the other
pages): Python's default warning filters (``PYTHONWARNINGS`` is
removed from the environment), so that warnings (``LightsplitWarning``,
Lightning's advice) never fail an example by themselves: a ``python`` block's
warnings go to stderr, which is not compared and is shown when the page fails;
a ``console`` command's warnings are part of its output, as in a terminal.
``CUDA_VISIBLE_DEVICES`` is empty (examples run on the CPU), ``COLUMNS`` is 80
and Python's output is unbuffered, so that stdout and stderr interleave as in
a terminal.
"""

import argparse
import contextlib
import difflib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import traceback
import types
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Final

__all__ = [
    "Block",
    "DocsError",
    "Failure",
    "Page",
    "example_environment",
    "load_report",
    "main",
    "output_matches",
    "parse_page",
    "run_page",
    "skipped_blocks",
]

RUN_LANGUAGES: Final = frozenset({"python", "console"})
"""Languages whose blocks run."""

DATA_LANGUAGES: Final = frozenset({"json", "yaml", "toml", "text", "ini", "csv"})
"""Languages whose blocks are data: never run, written to a file when titled."""

OTHER_LIBRARIES: Final = frozenset({"mednet"})
"""Block titles that mark code of another library, shown for comparison."""

PROMPT: Final = "$ "
"""The start of a command line in a ``console`` block."""

ELLIPSIS: Final = "..."
"""In expected output: any text within a line, or alone, any number of lines."""

COMMAND_TIMEOUT_S: Final = 300
"""Longest a single ``console`` command may run."""

_FENCE: Final = re.compile(r"^(?P<indent> *)(?P<fence>```+|~~~+)\s*(?P<info>.*)$")
_ATTRIBUTE: Final = re.compile(r'(\w+)="([^"]*)"')
_DIRECTIVE: Final = re.compile(r"^<!--\s*docs-examples:\s*(?P<text>.*?)\s*-->$")
_SNIPPET: Final = re.compile(r'^--8<--\s+"(?P<name>[^"]+)"$')
_FILE_TITLE: Final = re.compile(r"^[\w.-]+(/[\w.-]+)*\.\w+$")


class DocsError(ValueError):
    """A page breaks the conventions of this module."""

    def __init__(self, page: str, line: int, text: str) -> None:
        super().__init__(_located(page, line, text))
        self.page = page
        self.line = line
        self.text = text


def _located(page: str, line: int, text: str) -> str:
    """Return ``text`` after the page and line (0: the whole page) it is about."""
    where = f"docs/{page}, line {line}" if line else f"docs/{page}"
    return f"{where}: {text}"


@dataclass(frozen=True)
class Block:
    """One fenced block of a page."""

    page: str
    """The page's file name, ``index.md``."""
    line: int
    """Line number of the opening fence, from 1."""
    language: str
    """The first word of the fence's info string."""
    title: str | None
    """The fence's ``title="..."``, if any."""
    body: str
    """The block's content, its indentation removed."""
    skip: str | None = None
    """Why the block does not run, or ``None``."""
    expected: str | None = None
    """For a ``python`` block, the ``text`` block that follows it."""

    @property
    def file(self) -> str | None:
        """The file the block is written to, when its title is a file name."""
        if self.title is not None and _FILE_TITLE.fullmatch(self.title):
            return self.title
        return None

    @property
    def runs(self) -> bool:
        """Whether the block is code to run (not data, a file or a skipped block)."""
        return self.language in RUN_LANGUAGES and self.skip is None and not self.file


@dataclass(frozen=True)
class Page:
    """The blocks of a page and the pages to run before it."""

    name: str
    blocks: tuple[Block, ...]
    after: tuple[str, ...]


@dataclass(frozen=True)
class Failure:
    """One example whose outcome differs from what its page shows."""

    page: str
    line: int
    """The line of the block or command, or 0 for the whole page."""
    message: str

    def __str__(self) -> str:
        return _located(self.page, self.line, self.message)


def _directive(line: str, page: str, number: int) -> tuple[str, str] | None:
    """Return the keyword and argument of a ``docs-examples`` comment, if any.

    Raises:
        DocsError: if the directive is neither ``after PAGE.md`` nor ``skip REASON``.
    """
    match = _DIRECTIVE.fullmatch(line.strip())
    if match is None:
        return None
    keyword, _, argument = match["text"].partition(" ")
    keyword, argument = keyword.rstrip(":"), argument.strip()
    if keyword == "after" and argument.endswith(".md"):
        return keyword, argument
    if keyword == "skip" and argument:
        return keyword, argument
    msg = (
        f"cannot read `{match['text']}`; write "
        "`docs-examples: after PAGE.md` or `docs-examples: skip REASON`"
    )
    raise DocsError(page, number, msg)


def _fenced_blocks(lines: Sequence[str], page: str) -> Iterator[tuple[int, Block]]:
    """Yield each fenced block of ``lines`` with the index of its closing line.

    Raises:
        DocsError: if a block has no language, or is never closed.
    """
    index = 0
    while index < len(lines):
        opening = _FENCE.fullmatch(lines[index])
        if not opening:
            index += 1
            continue
        indent, fence, info = opening["indent"], opening["fence"], opening["info"]
        end = index + 1
        while end < len(lines):
            closing = _FENCE.fullmatch(lines[end])
            if closing and closing["fence"].startswith(fence) and not closing["info"]:
                break
            end += 1
        else:
            raise DocsError(page, index + 1, "the block is never closed")
        words = info.split()
        if not words or words[0].startswith("{"):
            msg = (
                "a block needs a language (`python`, `console`, or data: "
                f"{', '.join(sorted(DATA_LANGUAGES))})"
            )
            raise DocsError(page, index + 1, msg)
        body = "\n".join(line.removeprefix(indent) for line in lines[index + 1 : end])
        title = dict(_ATTRIBUTE.findall(info)).get("title")
        yield end, Block(page, index + 1, words[0], title, body)
        index = end + 1


def _read_gap(
    lines: Sequence[str], gap: range, page: str, after: list[str]
) -> str | None:
    """Read the directives of the lines ``gap`` between two blocks.

    Appends the pages of ``after`` directives to ``after``.

    Returns:
        The reason of the ``skip`` directive that ends the gap (blank lines
        aside), or ``None``.

    Raises:
        DocsError: for a directive not understood, or a ``skip`` that text
            follows.
    """
    skip: tuple[int, str] | None = None
    for index in gap:
        directive = _directive(lines[index], page, index + 1)
        if directive is None and lines[index].strip() and skip is not None:
            raise DocsError(page, skip[0], "no block follows this `skip`")
        if directive is not None and directive[0] == "after":
            after.append(directive[1])
        elif directive is not None:
            skip = (index + 1, directive[1])
    return skip[1] if skip is not None else None


def parse_page(path: Path) -> Page:
    """Return the blocks of the page at ``path``, each python one with its output.

    Raises:
        DocsError: if a block is not closed, has no or an unknown language, or a
            directive is not understood or not followed by a block.
    """
    lines = path.read_text(encoding="utf-8").splitlines()
    page = path.name
    blocks: list[Block] = []
    after: list[str] = []
    previous_end = -1
    for end, block in _fenced_blocks(lines, page):
        between = range(previous_end + 1, block.line - 1)  # line indexes
        skip = _read_gap(lines, between, page, after)
        if skip is None and block.language not in RUN_LANGUAGES | DATA_LANGUAGES:
            msg = (
                f"blocks of `{block.language}` do not run; use `python`, `console` "
                "or a data language, or mark the block "
                "`<!-- docs-examples: skip REASON -->`"
            )
            raise DocsError(page, block.line, msg)
        if skip is None and block.title and block.title.split()[0] in OTHER_LIBRARIES:
            skip = f"{block.title.split()[0]} code, shown for comparison"
        last = blocks[-1] if blocks else None
        if (
            last is not None
            and not any(lines[index].strip() for index in between)
            and last.language == "python"
            and last.file is None
            and last.expected is None
            and block.language == "text"
            and block.title is None
            and skip is None
        ):
            blocks[-1] = replace(last, expected=block.body)
        else:
            blocks.append(replace(block, skip=skip))
        previous_end = end
    if _read_gap(lines, range(previous_end + 1, len(lines)), page, after):
        raise DocsError(page, 0, "no block follows the last `skip` directive")
    return Page(page, tuple(blocks), tuple(after))


def skipped_blocks(docs: Path) -> list[Block]:
    """Return the blocks of ``docs`` that are code but do not run.

    Pages that do not parse are left out: their own test reports why.
    """
    skipped: list[Block] = []
    for path in sorted(docs.glob("*.md")):
        with contextlib.suppress(DocsError):
            page = parse_page(path)
            skipped += [
                block
                for block in page.blocks
                if block.language not in DATA_LANGUAGES and block.skip is not None
            ]
    return skipped


def _normalized(text: str) -> list[str]:
    """Return the lines of ``text`` without trailing whitespace or blank lines."""
    lines = [line.rstrip() for line in text.splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def _line_pattern(line: str) -> re.Pattern[str]:
    """Return the regular expression of one expected line."""
    return re.compile(".*?".join(map(re.escape, line.split(ELLIPSIS))))


def output_matches(expected: str, actual: str) -> bool:
    """Return whether ``actual`` is what ``expected`` shows (see the module notes)."""
    wanted, got = _normalized(expected), _normalized(actual)
    patterns = [None if line == ELLIPSIS else _line_pattern(line) for line in wanted]
    # reachable[j]: the expected lines so far match the first j actual lines.
    reachable = [True] + [False] * len(got)
    for pattern in patterns:
        if pattern is None:
            for j in range(1, len(got) + 1):
                reachable[j] = reachable[j] or reachable[j - 1]
            continue
        shifted = [False] * (len(got) + 1)
        for j in range(1, len(got) + 1):
            shifted[j] = reachable[j - 1] and pattern.fullmatch(got[j - 1]) is not None
        reachable = shifted
    return reachable[len(got)]


def _diff(expected: str, actual: str, where: str) -> str:
    """Return a unified diff of the expected and the actual output."""
    lines = difflib.unified_diff(
        _normalized(expected),
        _normalized(actual),
        f"expected (as the page shows it, {where})",
        "actual",
        lineterm="",
    )
    return "\n".join(lines)


def _content(block: Block, docs: Path) -> str:
    """Return the block's text with its ``--8<--`` lines replaced by the files."""
    lines = []
    for line in block.body.splitlines():
        snippet = _SNIPPET.match(line.strip())
        if snippet:
            lines.append(
                (docs / snippet["name"]).read_text(encoding="utf-8").rstrip("\n")
            )
        else:
            lines.append(line)
    return "\n".join(lines) + "\n"


def example_environment() -> dict[str, str]:
    """Return the environment of a page and its commands (see the module notes)."""
    environment = {k: v for k, v in os.environ.items() if k != "PYTHONWARNINGS"}
    bin_dir = str(Path(sys.executable).parent)
    environment["PATH"] = os.pathsep.join([bin_dir, environment.get("PATH", "")])
    environment.update(CUDA_VISIBLE_DEVICES="", COLUMNS="80", PYTHONUNBUFFERED="1")
    return environment


class _Runner:
    """Runs the blocks of one page in the current working directory."""

    def __init__(self, docs: Path, page: Page) -> None:
        self.docs = docs
        self.page = page
        self.failures: list[Failure] = []
        self.namespace = types.ModuleType("__main__")
        self.namespace.__file__ = str(Path.cwd() / page.name.replace(".md", ".py"))
        self.status = 0

    def fail(self, block: Block, line: int, message: str) -> None:
        self.failures.append(Failure(block.page, line, message))

    def run(self) -> list[Failure]:
        for block in self.page.blocks:
            if block.file is not None and block.skip is None:
                path = Path(block.file)
                if ".." in path.parts:
                    self.fail(block, block.line, "a file title cannot go up with `..`")
                    break
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(_content(block, self.docs), encoding="utf-8")
            elif block.runs and block.language == "python":
                if not self.python(block):
                    break
            elif block.runs:
                self.console(block)
        return self.failures

    def python(self, block: Block) -> bool:
        """Run a python block; return whether the page can go on."""
        source = "\n" * block.line + block.body + "\n"
        code = compile(source, str(self.docs / block.page), "exec")
        stdout = io.StringIO()
        main = sys.modules["__main__"]
        sys.modules["__main__"] = self.namespace
        try:
            with contextlib.redirect_stdout(stdout):
                exec(code, self.namespace.__dict__)
        except (Exception, SystemExit):
            printed = f"\nit printed:\n{stdout.getvalue()}" if stdout.getvalue() else ""
            self.fail(
                block,
                block.line,
                f"python block raised:\n{traceback.format_exc()}{printed}",
            )
            return False
        finally:
            sys.modules["__main__"] = main
        expected = block.expected if block.expected is not None else ""
        if not output_matches(expected, stdout.getvalue()):
            where = "no text block follows" if block.expected is None else "text block"
            self.fail(
                block,
                block.line,
                f"python block prints another output:\n"
                f"{_diff(expected, stdout.getvalue(), where)}",
            )
        return True

    def console(self, block: Block) -> None:
        """Run the commands of a console block and compare their output."""
        lines = block.body.splitlines()
        if lines and not lines[0].startswith(PROMPT):
            self.fail(block, block.line + 1, f"a console block starts with `{PROMPT}`")
            return
        shell = shutil.which("bash") or "bash"
        index = 0
        while index < len(lines):
            command = lines[index].removeprefix(PROMPT)
            line = block.line + 1 + index
            try:
                done = subprocess.run(
                    [shell, "-c", f"(exit {self.status}); {command}"],
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    env=example_environment(),
                    timeout=COMMAND_TIMEOUT_S,
                    check=False,
                )
            except subprocess.TimeoutExpired:
                self.fail(block, line, f"`{command}` ran over {COMMAND_TIMEOUT_S} s")
                return
            self.status = done.returncode
            actual = done.stdout.decode("utf-8", errors="replace")
            echoed = sum(out.startswith(PROMPT) for out in actual.splitlines())
            index += 1
            expected: list[str] = []
            while index < len(lines) and (
                not lines[index].startswith(PROMPT) or echoed
            ):
                echoed -= lines[index].startswith(PROMPT)
                expected.append(lines[index])
                index += 1
            wanted = "\n".join(expected)
            if not output_matches(wanted, actual):
                self.fail(
                    block,
                    line,
                    f"`{command}` (exit status {done.returncode}) prints another "
                    f"output:\n{_diff(wanted, actual, 'console block')}",
                )


@contextlib.contextmanager
def _inside(workdir: Path) -> Iterator[None]:
    """Run in ``workdir``, first on ``sys.path``; restore both afterwards."""
    previous = Path.cwd()
    os.chdir(workdir)
    sys.path.insert(0, str(workdir))
    try:
        yield
    finally:
        sys.path.remove(str(workdir))
        os.chdir(previous)


def run_page(docs: Path, name: str, workdir: Path) -> list[Failure]:
    """Run the page ``name`` of ``docs``, after its prerequisites, in ``workdir``.

    Returns:
        The examples whose outcome differs from their page, in page order; the
        prerequisites' failures first.
    """
    order: list[Page] = []
    pending: list[str] = []

    def visit(page_name: str) -> None:
        if any(page.name == page_name for page in order):
            return
        if page_name in pending:
            cycle = " -> ".join([*pending, page_name])
            raise DocsError(page_name, 0, f"pages wait for each other: {cycle}")
        path = docs / page_name
        if not path.is_file():
            msg = f"runs after docs/{page_name}, which does not exist"
            raise DocsError(pending[-1], 0, msg)
        pending.append(page_name)
        page = parse_page(path)
        for before in page.after:
            visit(before)
        pending.pop()
        order.append(page)

    try:
        visit(name)
    except DocsError as error:
        return [Failure(error.page, error.line, error.text)]
    failures: list[Failure] = []
    with _inside(workdir):
        for page in order:
            failures += _Runner(docs, page).run()
    return failures


def main(argv: Sequence[str] | None = None) -> int:
    """Run one page (the child process of ``tests/test_docs.py``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("page", help="the page's file name, e.g. index.md")
    parser.add_argument("--docs", type=Path, required=True, help="the docs folder")
    parser.add_argument("--workdir", type=Path, required=True, help="an empty folder")
    parser.add_argument("--report", type=Path, required=True, help="JSON report")
    arguments = parser.parse_args(argv)
    failures = run_page(arguments.docs.resolve(), arguments.page, arguments.workdir)
    arguments.report.write_text(json.dumps([asdict(failure) for failure in failures]))
    return 0


def load_report(path: Path) -> list[Failure]:
    """Read the failures that ``main`` wrote to ``path``."""
    records: Sequence[Mapping[str, object]] = json.loads(path.read_text())
    return [
        Failure(str(record["page"]), int(str(record["line"])), str(record["message"]))
        for record in records
    ]


if __name__ == "__main__":
    sys.exit(main())
