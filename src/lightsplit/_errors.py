"""Error and warning types, and the messages shared by lightsplit's errors."""

import json
import os
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from types import FrameType
from typing import Any, Final, TypeVar

from ._types import EVALUATION_SET_NAMES, SET_NAME_RE

__all__ = [
    "MAX_LISTED",
    "OPTIONAL_DEPENDENCIES",
    "SET_INPUT_KEY",
    "WRAP_IN_MAPPING_LOADER",
    "CacheDeviceError",
    "CacheMemoryError",
    "DataChangedError",
    "LightsplitError",
    "LightsplitWarning",
    "NodeCacheError",
    "PathEscapeError",
    "SampleLoadError",
    "SetMissingError",
    "SplitFileError",
    "SplittingError",
    "check_set_name",
    "choose",
    "closest_set_name",
    "first_few",
    "format_list",
    "format_problems",
    "json_kind",
    "json_syntax_problem",
    "located_problems",
    "missing_dependency",
    "preview",
    "printable",
    "refuse_set_names",
    "same_entry",
    "set_name_problem",
    "shell_command",
]

ChoiceT = TypeVar("ChoiceT", bound=str)

WRAP_IN_MAPPING_LOADER: Final = (
    "wrap the loader in `MappingLoader(loader, input_key=...)`, naming the key of "
    "the input tensor"
)
"""The fix of a loader that returns mappings (mednet 2.x's), said in Python;
`lightsplit check` says it as its option `--input-key`."""

SET_INPUT_KEY: Final = "set `input_key` to the key of the input tensor"
"""The fix of a `MappingLoader` whose key the mappings lack, said in Python."""

MAX_LISTED: Final = 5
PREVIEW_CHARS: Final = 200
"""Characters of an offending entry shown in an error message."""
"""How many items an error message lists before it says ``and N more``."""


class LightsplitError(Exception):
    """Base class of every error lightsplit raises outside pydantic validation."""


class SplitFileError(LightsplitError, ValueError):
    """A split file that is not valid JSON or breaks the split-file rules."""


class SetMissingError(LightsplitError, ValueError):
    """A stage needs a set that the split does not have."""


class PathEscapeError(LightsplitError, ValueError):
    """A split entry names a file outside the loader's root folder."""


class CacheDeviceError(LightsplitError, ValueError):
    """A cache on the training device that cannot be made there.

    The training device is not a CUDA GPU, or the set's inputs differ in shape.
    """


class DataChangedError(LightsplitError, ValueError):
    """A checkpoint was made on other data, or settings, than the data module's."""


class SampleLoadError(LightsplitError, RuntimeError):
    """A loader failed on one raw sample, or returned something that is no sample."""


class NodeCacheError(LightsplitError, RuntimeError):
    """The process that caches a node's sets failed, or keys them otherwise.

    Raised in the node's other processes, which stop rather than each meet
    the caching process's error again; the message quotes that error.
    """


class CacheMemoryError(LightsplitError, MemoryError):
    """A set's cache would not fit in the memory available."""


class LightsplitWarning(UserWarning):
    """Warning issued by lightsplit; filter it with ``warnings.filterwarnings``."""


def first_few(
    items: Sequence[str],
    *,
    total: int | None = None,
    limit: int = MAX_LISTED,
    separator: str = ", ",
) -> str:
    """Join the first ``limit`` of ``items``, then say how many more there are.

    ``total`` counts all the items (by default, those given): only the first
    need be given. Items that hold commas are joined by ``"; "``, and so is
    the count of the others.

    Examples:
        >>> first_few(["a", "b", "c"], limit=2)
        'a, b and 1 more'
        >>> first_few(["x, y", "z"], total=4, separator="; ")
        'x, y; z; and 2 more'
    """
    shown = items[:limit]
    hidden = (len(items) if total is None else total) - len(shown)
    text = separator.join(shown)
    if hidden <= 0:
        return text
    before = "; " if separator == "; " else " "
    return f"{text}{before}and {hidden} more"


def located_problems(errors: Sequence[Mapping[str, Any]], *, whole: str) -> str:
    """Join pydantic's errors as ```location`: message``, the first few only.

    ``whole`` names the location of an error of the whole value.

    Examples:
        >>> located_problems([{"loc": ("seed",), "msg": "Field required"}], whole="it")
        '`seed`: Field required'
    """
    return first_few(
        [f"`{'.'.join(map(str, e['loc'])) or whole}`: {e['msg']}" for e in errors],
        separator="; ",
    )


def format_list(items: Sequence[str], *, limit: int = MAX_LISTED) -> str:
    """Join ``items`` as backticked names, listing at most ``limit`` of them.

    Examples:
        >>> format_list(["train", "test"])
        '`train`, `test`'
        >>> format_list([str(i) for i in range(7)], limit=2)
        '`0`, `1` and 5 more'
    """
    return first_few(
        [f"`{item}`" for item in items[:limit]], total=len(items), limit=limit
    )


def choose(value: str, choices: Sequence[ChoiceT], *, what: str) -> ChoiceT:
    """Return the one of ``choices`` equal to ``value``, typed as that choice.

    Raises:
        ValueError: naming ``what`` and the valid choices.

    Examples:
        >>> choose("fit", ("fit", "test"), what="stage")
        'fit'
    """
    for choice in choices:
        if value == choice:
            return choice
    msg = (
        f"unknown {what} `{value}`; use one of {format_list([str(c) for c in choices])}"
    )
    raise ValueError(msg)


def format_problems(
    title: str, problems: Sequence[str], *, noun: str = "problem"
) -> str:
    """Return ``title`` with its problems counted and listed (at most 5).

    ``noun`` names one of them (``"difference"``); an ``s`` makes it plural.

    Examples:
        >>> print(format_problems("a.json: invalid", ["x", "y"]))
        a.json: invalid, 2 problems:
          x
          y
    """
    listed = [f"  {problem}" for problem in problems[:MAX_LISTED]]
    if len(problems) > MAX_LISTED:
        listed.append(f"  and {len(problems) - MAX_LISTED} more")
    counted = noun if len(problems) == 1 else f"{noun}s"
    return f"{title}, {len(problems)} {counted}:\n" + "\n".join(listed)


_SET_NAME_WORDS: Final = {
    "val": "validation",
    "valid": "validation",
    "dev": "validation",
    "eval": "validation",
    "tune": "validation",
    "tuning": "validation",
    "training": "train",
    "tr": "train",
    "testing": "test",
    "holdout": "test",
    "heldout": "test",
    "ts": "test",
}
"""Other words for a set, as other tools name them: the set name they mean."""


def closest_set_name(name: str) -> str | None:
    """Return the valid set name closest to ``name``, if one is close.

    Examples:
        >>> closest_set_name("valid")
        'validation'
        >>> closest_set_name("Monitor_Train")
        'monitor-Train'
        >>> closest_set_name("monitor")
        'monitor-<name>'
        >>> print(closest_set_name("samples"))
        None
    """
    lowered = name.strip().lower()
    if lowered.startswith("monitor"):
        rest = re.sub(r"[^A-Za-z0-9._-]", "-", name.strip()[len("monitor") :])
        rest = rest.strip("-_. ")
        return f"monitor-{rest}" if rest else "monitor-<name>"
    word = re.sub(r"[^a-z]", "", lowered)
    if word in _SET_NAME_WORDS:
        return _SET_NAME_WORDS[word]
    import difflib  # noqa: PLC0415 - for this message alone

    matches = difflib.get_close_matches(lowered, EVALUATION_SET_NAMES, n=1, cutoff=0.6)
    return matches[0] if matches else None


def home_written_out(path: Path) -> str | None:
    """Say how to write ``path`` without a leading ``~``, if it starts with one.

    Only a shell reads ``~`` as a home folder: opened as it is, ``~/x`` is a
    folder named ``~`` in the current one. ``None`` for a path without one;
    else the path expanded, in backticks, or "the full path" where it cannot
    be expanded (``~user`` of no known user).
    """
    if not path.parts or not path.parts[0].startswith("~"):
        return None
    try:
        expanded = path.expanduser()
    except RuntimeError:  # ~user of no known user
        return "the full path"
    return f"`{expanded}`" if expanded != path else "the full path"


def printable(text: str) -> str:
    r"""Return ``text`` with control characters and lone surrogates escaped.

    A name or path read from a file then stays on its line of a message (and
    can be written as UTF-8).

    Examples:
        >>> printable("tr\ud800ain")
        'tr\\ud800ain'
        >>> print(printable("a\nevil.json: ok\tb\x00.png"))
        a\nevil.json: ok\tb\x00.png
    """
    if _CONTROL.search(text):
        text = _CONTROL.sub(lambda found: _ESCAPES[found[0]], text)
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def shell_command(command: str) -> str:
    r"""Return a command line written by ``shlex.join``, to copy into a shell.

    As `printable` writes it, but a word holding a control character is
    quoted as a POSIX shell reads the escapes back (``$'\t'``: a tab), not
    as ``'\t'`` (a backslash and a ``t``). A command that no shell splits
    (written by hand) is written as `printable` writes it.

    Examples:
        >>> print(shell_command("lightsplit split t.csv --label-separator '\t'"))
        lightsplit split t.csv --label-separator $'\t'
        >>> print(shell_command("lightsplit split 'a b.csv' -o 'it'\"'\"'s.json"))
        lightsplit split 'a b.csv' -o 'it'"'"'s.json
    """
    import shlex  # noqa: PLC0415 - for cards alone

    try:
        words = shlex.split(command)
    except ValueError:  # an unclosed quote
        return printable(command)
    return " ".join(map(_shell_word, words))


def _shell_word(word: str) -> str:
    """Quote ``word`` for a POSIX shell: ``$'...'`` where it holds a control."""
    import shlex  # noqa: PLC0415 - for cards alone

    if not _CONTROL.search(word):
        return printable(shlex.quote(word))
    escaped = word.replace("\\", "\\\\").replace("'", "\\'")
    return f"$'{printable(escaped)}'"


_CONTROL: Final = re.compile(r"[\x00-\x1f\x7f-\x9f]")
"""Control characters: written raw, they break a message's lines."""

_ESCAPES: Final = {
    chr(code): {"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(chr(code), f"\\x{code:02x}")
    for code in [*range(0x20), *range(0x7F, 0xA0)]
}
"""How `printable` writes each control character."""


def json_kind(value: object) -> str:
    """Name what JSON value ``value`` was read from, as JSON calls it.

    Examples:
        >>> [json_kind(v) for v in (None, True, 3, 1.5, "a", [], {})]
        ['null', 'true', 'a number', 'a number', 'a string', 'an array', 'an object']
    """
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "an array" if isinstance(value, list | tuple) else "an object"


def preview(entry: object) -> str:
    """Return ``entry`` as compact JSON (or ``repr``), cut to a readable length.

    Examples:
        >>> preview(("a.png", 0))
        '["a.png", 0]'
    """
    try:
        text = json.dumps(entry, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(entry)
    text = printable(text)
    return text if len(text) <= PREVIEW_CHARS else text[: PREVIEW_CHARS - 3] + "..."


def same_entry(first: object, again: object) -> bool:
    """Whether two raw entries are equal, or shown alike by `preview`.

    Examples:
        >>> same_entry(["a.png", 0], ("a.png", 0))
        True
        >>> same_entry({"image": "a", "label": 1}, {"label": 1, "image": "a"})
        True
        >>> same_entry(["a.png", 0], ["./a.png", 0])
        False
    """
    try:
        if first is again or bool(first == again):
            return True
    except Exception:  # an array's == is an array: compared as shown, below
        pass
    return preview(first) == preview(again)


def set_name_problem(name: str) -> str | None:
    """Return what is wrong with set name ``name``, or ``None`` if it is valid.

    Examples:
        >>> set_name_problem("train") is None
        True
        >>> print(set_name_problem("Train"))
        `Train` is not a valid set name; did you mean `train`? Set names are \
`train`, `validation`, `test` or `monitor-<name>` (<name>: letters, digits, \
`.`, `_`, `-`)
    """
    given: object = name  # checked at run time too, for untyped callers
    if not isinstance(given, str):
        return (
            f"set name {given!r} is a `{type(given).__name__}`; set names are "
            "strings: `train`, `validation`, `test` or `monitor-<name>`"
        )
    if SET_NAME_RE.fullmatch(name) is not None:
        return None
    from ._validation_errors import set_name_invalid  # noqa: PLC0415 - pydantic-core, when needed

    return set_name_invalid(name=name).message()


def refuse_set_names(names: Iterable[str]) -> None:
    """Refuse set names that no split file may hold, each said (`set_name_problem`).

    Raises:
        ValueError: naming every such set name, and what would be valid.
    """
    problems = [p for name in names if (p := set_name_problem(name)) is not None]
    if problems:
        raise ValueError("; ".join(problems))


def check_set_name(name: str) -> str:
    """Return ``name`` if it is a valid set name, else raise ``set_name_invalid``."""
    if SET_NAME_RE.fullmatch(name) is None:
        from ._validation_errors import set_name_invalid  # noqa: PLC0415 - pydantic-core, when needed

        raise set_name_invalid(name=name)
    return name


class SplittingError(LightsplitError, ValueError):
    """Samples that cannot be split as asked (conflicting labels, too few groups)."""


OPTIONAL_DEPENDENCIES: Final[Mapping[str, tuple[str, str]]] = {
    "PIL": ("Pillow", "images"),
    "jsonargparse": ("jsonargparse", "lightning-cli"),
    "sklearn": ("scikit-learn", "demo"),
}
"""Module -> the package that provides it and the lightsplit extra installing it."""


def missing_dependency(module: str) -> str | None:
    """Return how to install the optional package providing ``module``, if known.

    Examples:
        >>> missing_dependency("PIL.Image")
        'install Pillow: pip install "lightsplit[images]"'
        >>> missing_dependency("numpy") is None
        True
    """
    found = OPTIONAL_DEPENDENCIES.get(module.partition(".")[0])
    if found is None:
        return None
    package, extra = found
    return f'install {package}: pip install "lightsplit[{extra}]"'


_JSON_PROBLEMS: Final[Mapping[str, tuple[str, str]]] = {
    "Expecting ',' delimiter": ("expected `,`", "separate the items with `,`"),
    "Expecting ':' delimiter": (
        "expected `:`",
        "write `:` between a key and its value",
    ),
    "Invalid control character at": (
        "a control character (a tab or a line break) inside a string",
        "write it as `\\t` or `\\n`",
    ),
    "Invalid \\escape": (
        "an invalid backslash escape",
        "write a backslash in a string as `\\\\`",
    ),
    "Invalid \\uXXXX escape": (
        "an invalid `\\u` escape",
        "write `\\u` and four hexadecimal digits",
    ),
}
"""What Python's JSON messages mean, and how to fix the text."""

_EXCERPT: Final = 40
"""Characters of a file quoted either side of a JSON syntax error."""


_COMMENT: Final = ("a comment", "remove it: JSON has no comments")
"""What a comment is where JSON wanted a value or a key, and the fix."""


def _comment(after: str) -> bool:
    """Whether the text ``after`` a JSON error starts a comment (``//``, ``#``)."""
    return after[:2] in ("//", "/*") or after[:1] == "#"


def _missing_value(doc: str, pos: int) -> tuple[str, str]:
    """Say what stands where a JSON value was expected, and the fix."""
    after = doc[pos : pos + 2]
    if after[:1] in ("]", "}") and doc[:pos].rstrip().endswith(","):
        return "a comma with no value after it", "remove the comma before `]` or `}`"
    if _comment(after):
        return _COMMENT
    if after[:1] == "'":
        return "a string in single quotes", 'write strings in double quotes (`"a.png"`)'
    if after[:1].isalpha() or after[:1] in ("_", ".", "/"):
        return (
            "text without quotes",
            'write strings in double quotes (`"a.png"`), and `true`, `false` and '
            "`null` in lower case",
        )
    return "expected a value", "write a value (a string, number, array or object)"


def _missing_key(doc: str, pos: int) -> tuple[str, str]:
    """Say what stands where a key in double quotes was expected, and the fix."""
    after = doc[pos : pos + 2]
    if after[:1] == "}" and doc[:pos].rstrip().endswith(","):
        return "a comma with no key after it", "remove the comma before `}`"
    if _comment(after):
        return _COMMENT
    if after[:1] == "'":
        return "a key in single quotes", 'write keys in double quotes (`"train"`)'
    return (
        "expected a key in double quotes",
        'write the key in double quotes (`"train"`)',
    )


def json_syntax_problem(exc: json.JSONDecodeError) -> str:
    """Describe a JSON syntax error: where, the text around it, and the fix.

    Examples:
        >>> try:
        ...     json.loads('{"train": [["a.png", 0] ["b.png", 1]]}')
        ... except json.JSONDecodeError as exc:
        ...     print(json_syntax_problem(exc))
        line 1 column 25: invalid JSON: expected `,` between `{"train": [["a.png", 0]` \
and `["b.png", 1]]}`; separate the items with `,`
        >>> try:
        ...     json.loads('{"train": [["a.p')
        ... except json.JSONDecodeError as exc:
        ...     print(json_syntax_problem(exc))
        line 1 column 13: invalid JSON: a string is never closed: `"a.p` runs to \
the end of the file; close it with `"`, or restore the end of the file if it was \
cut short
    """
    if exc.msg.startswith("Illegal trailing comma"):  # Python 3.13 on: at the comma
        rest = exc.doc[exc.pos + 1 :].lstrip(" \t\n\r")  # as before 3.13: after it
        said = (
            "Expecting property name enclosed in double quotes"
            if exc.msg.endswith("object")
            else "Expecting value"
        )
        exc = json.JSONDecodeError(said, exc.doc, len(exc.doc) - len(rest))
    doc, pos = exc.doc, exc.pos
    before = " ".join(doc[max(0, pos - 2 * _EXCERPT) : pos].split())[-_EXCERPT:]
    after = " ".join(doc[pos : pos + 2 * _EXCERPT].split())[:_EXCERPT]
    where = f"line {exc.lineno} column {exc.colno}: invalid JSON"
    if exc.msg.startswith("Unterminated string"):
        return (
            f"{where}: a string is never closed: `{after}` runs to the end of the "
            'file; close it with `"`, or restore the end of the file if it was cut '
            "short"
        )
    if not doc.strip():
        return f"{where}: the file is empty; write a JSON value in it"
    if exc.msg == "Extra data":
        return (
            f"{where}: more text after the JSON value (`{after}` after `{before}`); "
            "remove it: a file holds one JSON value"
        )
    if exc.msg == "Expecting value":
        problem, fix = _missing_value(doc, pos)
    elif exc.msg == "Expecting property name enclosed in double quotes":
        problem, fix = _missing_key(doc, pos)
    else:
        problem, fix = _JSON_PROBLEMS.get(
            exc.msg, (exc.msg.removesuffix(" at").lower(), "correct the text there")
        )
    if not doc[pos:].strip():
        return (
            f"{where}: {problem} after `{before}`, where the file ends; restore the "
            f"end of the file if it was cut short, else {fix}"
        )
    place = f"between `{before}` and `{after}`" if before else f"before `{after}`"
    return f"{where}: {problem} {place}; {fix}"


_PACKAGE: Final = str(Path(__file__).parent) + os.sep


_FRAMEWORKS: Final = (
    "lightning",
    "pytorch_lightning",
    "lightning_fabric",
    "torch",
    "jsonargparse",
)
"""Packages that call lightsplit for the user: a warning names the user's line."""


def caller_stacklevel() -> int:
    """Return the ``stacklevel`` of a warning that points at the user's code.

    That of the first frame outside lightsplit and the frameworks that call it
    (Lightning, torch, LightningCLI's parser), counted from the function that
    calls this one (stacklevel 1): a warning raised through several of
    lightsplit's frames (a setting assigned through its descriptor, say), or
    from a hook that Lightning calls, names the user's line (``trainer.fit``),
    whatever the path to it; Python then shows it once for each such line, not
    once for every line of the user's calling it from Lightning's. Where no
    frame is the user's (a worker process), the outermost.
    """
    prefixes = [_PACKAGE]
    for name in _FRAMEWORKS:
        module = sys.modules.get(name)
        found = getattr(module, "__file__", None)
        if isinstance(found, str):
            prefixes.append(os.path.dirname(found) + os.sep)
    inside = tuple(prefixes)
    frame: FrameType | None = sys._getframe(1)  # the frames, as warnings walks them
    level = 1
    while frame is not None and frame.f_code.co_filename.startswith(inside):
        if frame.f_back is None:
            return level  # no frame of the user's: the outermost
        frame = frame.f_back
        level += 1
    return level
