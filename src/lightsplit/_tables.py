"""Tables of text: aligned columns for a terminal, and Markdown."""

from collections.abc import Sequence
from typing import Final

__all__ = ["markdown_table", "percent", "text_table"]


def percent(count: int, total: int) -> str:
    """Return ``count`` as a percentage of ``total``, with one decimal.

    A count above zero never reads as none: under 0.05% it is ``<0.1%``.

    Examples:
        >>> percent(11, 96_269), percent(0, 10), percent(1, 3)
        ('<0.1%', '0.0%', '33.3%')
    """
    share = 100 * count / total if total else 0
    return "<0.1%" if 0 < share < 0.05 else f"{share:.1f}%"  # noqa: PLR2004 - 0.05 rounds to 0.1


def text_table(rows: Sequence[Sequence[str]], *, left: int = 1) -> list[str]:
    r"""Return ``rows`` as aligned lines: the first ``left`` columns to the left.

    The other columns (numbers) are aligned to the right.

    Examples:
        >>> print("\n".join(text_table([["set", "entries"], ["train", "12"]])))
        set    entries
        train       12
    """
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(
            cell.rjust(width) if i >= left else cell.ljust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in rows
    ]


def markdown_table(rows: Sequence[Sequence[str]]) -> list[str]:
    r"""Return ``rows`` (a header first) as a Markdown table, numbers to the right.

    A ``|`` in a cell is escaped (a class named ``Cardiomegaly|Emphysema`` is one
    cell), and so are a backslash and what Markdown would read as markup
    wherever it stands (``*``, a backquote; ``<`` is written ``&lt;``): a class
    named ``*a*`` or ``<b>`` shows as itself. A line end is a space.

    Examples:
        >>> print("\n".join(markdown_table([["set", "entries"], ["train", "12"]])))
        | set   | entries |
        |-------|--------:|
        | train |      12 |
        >>> print("\n".join(markdown_table([["class", "train"], ["A|B", "1"]])))
        | class | train |
        |-------|------:|
        | A\|B  |     1 |
        >>> print(markdown_table([["class"], ["*a* <b> `c`"]])[2])
        | \*a\* &lt;b> \`c\` |
    """
    rows = [[_escaped(cell) for cell in row] for row in rows]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]

    def line(row: Sequence[str]) -> str:
        cells = (
            cell.rjust(width) if i else cell.ljust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        )
        return "| " + " | ".join(cells) + " |"

    rule = (
        "|"
        + "|".join(
            "-" * (width + 2) if i == 0 else "-" * (width + 1) + ":"
            for i, width in enumerate(widths)
        )
        + "|"
    )
    return [line(rows[0]), rule, *(line(row) for row in rows[1:])]


_MARKDOWN_CELL: Final = str.maketrans(
    {"\\": "\\\\", "|": "\\|", "\n": " ", "\r": " "}
    | {"*": "\\*", "`": "\\`", "<": "&lt;"}
)
"""Escapes what would end or split a Markdown table's cell, or format it."""


def _escaped(cell: str) -> str:
    return cell.translate(_MARKDOWN_CELL)
