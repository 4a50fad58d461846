"""``split_card``: what a split holds and how it was made, in Markdown and JSON.

A card gives the split's content hash (`split_sha256`, to cite), each set's
entries, share and groups, each class's entries per set, the leaks and label
conflicts `find_leaks` finds, and, for a split made by ``lightsplit split``,
how it was made (from its sidecar file) and whether it was edited since.
"""

import re
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final

from ._classes import LabelKind, class_name, class_order
from ._entries import (
    EntryFields,
    FieldName,
    compile_group_pattern,
    one_way_to_group,
)
from ._errors import LightsplitError, located_problems, printable, shell_command
from ._leaks import LeakReport
from ._outputs import (
    column_named,
    named_columns,
    recorded_fields,
    sidecar_of,
    sidecar_path,
    sidecar_record,
)
from ._report import (
    examine_split,
    leak_lines,
    leaks_json,
    nothing_found,
    unchecked_and_warnings,
)
from ._split import read_split
from ._tables import markdown_table, percent
from ._types import EVALUATION_SET_NAMES, SetName, StrPath

if TYPE_CHECKING:
    from pydantic import JsonValue

    from ._sidecar import SplitProvenance

__all__ = ["SetCard", "SplitCard", "split_card"]

DIGITS: Final = 4
"""Decimals of the shares a card's JSON gives."""


@dataclass(frozen=True, slots=True)
class SetCard:
    """One set of a split card."""

    entries: int
    """Entries in the set."""
    share: float | None
    """The set's share of the entries of `train`, `validation` and `test`;
    ``None`` for a `monitor-<name>` set."""
    groups: int | None
    """Different groups in the set; ``None`` without a group pattern or field."""
    class_counts: Mapping[str, int] | None
    """Class -> labelled entries with it, in class order; ``None`` if none has a
    label."""
    unlabelled: int = 0
    """Entries without a label."""
    classless: int = 0
    """Entries whose multi-label label holds no class (``[]``, a vector of 0)."""


@dataclass(frozen=True, slots=True)
class SplitCard:
    """What a split holds and how it was made: the card `split_card` returns."""

    source: str
    """The split file."""
    sha256: str
    """The split's content hash, `split_sha256`: the one to cite."""
    labels: LabelKind
    """How labels name classes: ``single``, ``multi-hot`` or ``multi-label``."""
    classes: tuple[str, ...]
    """The classes, in order."""
    group_pattern: str | None
    """The regular expression that found each entry's group, or ``None``."""
    groups: int | None
    """Different groups in all the sets; ``None`` without a group pattern or
    field."""
    sets: Mapping[SetName, SetCard]
    """Each set, in file order."""
    leaks: LeakReport
    """Duplicates, leaks and label conflicts."""
    problems: tuple[str, ...]
    """The leaks and conflicts as lines of text, at most 5 of each kind."""
    warnings: tuple[str, ...]
    """What the split may hold but likely should not."""
    provenance: "SplitProvenance | None"
    """How ``lightsplit split`` made the split (its sidecar file), or ``None``."""
    provenance_problem: str | None = None
    """Why the sidecar file could not be read, or ``None``."""
    unchecked: tuple[str, ...] = ()
    """What the fields or group pattern ask of the split that it does not hold:
    a path or label field that no entry has, a group pattern that matches no
    path, a group field that no entry holds (the check it asks for could not
    be made)."""
    group_field: FieldName | None = None
    """The field that held each entry's group, or ``None`` (see
    `group_pattern`)."""
    label_separator: str | None = None
    """The text between the names of a label written as text, by which each
    label was read as the list of its names (`EntryFields.label_separator`),
    or ``None``."""

    @property
    def grouped(self) -> bool:
        """Whether entries were grouped: by a group pattern or a group field."""
        return self.group_pattern is not None or self.group_field is not None

    @property
    def group_field_name(self) -> str | None:
        """The name of the input's field (a CSV column) the group field was, if known.

        `lightsplit split` records a group field named by its column
        (``--group-field PatientID``) as its position in the entries written;
        the name is read back from the command or the columns (``--columns``)
        its sidecar records, for the field it records. ``None`` where the card
        is of another field, or the field was given by its position alone.
        """
        made = self.provenance
        field = self.group_field
        if made is None or field is None or made.group_field != field:
            return None
        if isinstance(field, str):
            return None  # a key: its name already
        return column_named(made.command, made.columns, "--group-field", field)

    @property
    def edited(self) -> bool | None:
        """Whether the split changed since it was made; ``None`` if unknown."""
        if self.provenance is None:
            return None
        return self.provenance.sha256 != self.sha256

    def to_json(self) -> "dict[str, JsonValue]":
        """Return the card as a JSON-ready dictionary."""
        sets: dict[str, JsonValue] = {
            name: {
                "entries": card.entries,
                "share": None if card.share is None else round(card.share, DIGITS),
                "groups": card.groups,
                "class_counts": None
                if card.class_counts is None
                else dict(card.class_counts),
                "unlabelled": card.unlabelled,
                "classless": card.classless,
            }
            for name, card in self.sets.items()
        }
        return {
            "file": self.source,
            "sha256": self.sha256,
            "entries": sum(card.entries for card in self.sets.values()),
            "labels": self.labels,
            "classes": list(self.classes),
            "group_pattern": self.group_pattern,
            "group_field": self.group_field,
            "label_separator": self.label_separator,
            "groups": self.groups,
            "sets": sets,
            **leaks_json(self.leaks),
            "unchecked": list(self.unchecked),
            "warnings": list(self.warnings),
            "generation": None
            if self.provenance is None
            else self.provenance.model_dump(mode="json"),
            "generation_problem": self.provenance_problem,
            "edited_since_generation": self.edited,
        }

    def to_markdown(self) -> str:
        """Return the card as a Markdown document."""
        lines = [f"# Split card: {self.source}", ""]
        lines += [f"- {item}" for item in self._facts()]
        lines += ["", "## Sets", "", *self._sets_table()]
        if self.classes or any(card.classless for card in self.sets.values()):
            lines += ["", "## Classes", "", *self._classes_table()]
        lines += ["", "## Leaks and conflicts", ""]
        if self.problems or self.unchecked:
            lines += [f"- {line}" for line in (*self.unchecked, *self.problems)]
        else:
            found = nothing_found(grouped=self.grouped)
            lines.append(f"{found[0].upper()}{found[1:]}.")
        if self.warnings:
            lines += ["", "## Warnings", "", *(f"- {w}" for w in self.warnings)]
        return "\n".join(lines) + "\n"

    def _facts(self) -> list[str]:
        total = sum(card.entries for card in self.sets.values())
        sizes = ", ".join(f"{name} {card.entries}" for name, card in self.sets.items())
        noun = "set" if len(self.sets) == 1 else "sets"
        facts = [
            f"SHA-256: `{self.sha256}`",
            f"Entries: {total} in {len(self.sets)} {noun}"
            + (f" ({sizes})" if sizes else ""),
            f"Labels: {_describe_labels(self.labels, self._present())}"
            + (
                ""
                if self.label_separator is None
                else f", each the names it joins by `{printable(self.label_separator)}`"
            ),
        ]
        if self.group_pattern is not None:
            facts.append(
                f"Groups: {self.groups}, found in the paths by `{self.group_pattern}`"
            )
        elif self.group_field is not None:
            field = printable(str(self.group_field))
            named = self.group_field_name
            facts.append(
                f"Groups: {self.groups}, read from the field `{field}`"
                if named is None
                else f"Groups: {self.groups}, read from the field "
                f"`{printable(named)}` (position {field} of each entry)"
            )
        facts.append(self._made_by())
        return facts

    def _present(self) -> int:
        """Count the classes some entry has (a vector position may have none)."""
        return sum(
            any((card.class_counts or {}).get(name) for card in self.sets.values())
            for name in self.classes
        )

    def _made_by(self) -> str:
        made = self.provenance
        if made is None:
            why = self.provenance_problem or (
                f"no sidecar file {sidecar_path(Path(self.source)).name}"
            )
            return f"Made by: unknown ({why})"
        state = (
            f"**edited since**: the sidecar records SHA-256 `{printable(made.sha256)}`"
            if self.edited
            else "unchanged since"
        )
        fold = ""
        if made.fold is not None and made.folds is not None:
            validated = _validated(made.fold, made.folds, carved=made.carved)
            fold = (
                f"file {made.fold} of a {made.folds}-fold split (its `test` set is "
                f"fold {made.fold}{validated}), "
            )
        command, source = shell_command(made.command), printable(made.input)
        return (
            f"Made by: `{command}` (lightsplit {printable(made.lightsplit)}, seed "
            f"{made.seed}), {fold}from {made.input_entries} entries of {source} "
            f"(SHA-256 of the file's bytes `{printable(made.input_sha256)}`); {state}"
        )

    def _sets_table(self) -> list[str]:
        grouped = self.grouped
        rows = [["set", "entries", "share", *(["groups"] if grouped else [])]]
        for name, card in self.sets.items():
            share = "-" if card.share is None else f"{card.share:.3f}"
            row = [name, str(card.entries), share]
            rows.append(row + ([str(card.groups)] if grouped else []))
        return markdown_table(rows)

    def _classes_table(self) -> list[str]:
        """Return each class's entries per set, then those without a label."""
        rows = [["class", *self.sets]]
        for name in self.classes:
            row = [name]
            for card in self.sets.values():
                if card.class_counts is None:
                    row.append("-")
                    continue
                count = card.class_counts.get(name, 0)
                row.append(_share(count, card.entries))
            rows.append(row)
        cards = self.sets.values()
        if any(card.classless for card in cards):
            rows.append(["no class", *(_share(c.classless, c.entries) for c in cards)])
        if any(card.unlabelled for card in cards):
            rows.append(["no label", *(_share(c.unlabelled, c.entries) for c in cards)])
        return markdown_table(rows)


def _validated(fold: int, folds: int, *, carved: bool | None) -> str:
    """Say what a fold file's `validation` set is, where its sidecar records it."""
    if carved is None:
        return ""
    if carved:
        return (
            f", its `validation` set carved from the other folds, not fold "
            f"{(fold + 1) % folds}, which would have left a set one entry or more "
            "off its share of a class"
        )
    return f", its `validation` set fold {(fold + 1) % folds}"


def _share(count: int, entries: int) -> str:
    """Return ``count`` with its share of a set's ``entries``: ``3 (42.9%)``."""
    return f"{count} ({percent(count, entries)})"


def _describe_labels(kind: LabelKind, classes: int) -> str:
    noun = "class" if classes == 1 else "classes"
    if kind == "single":
        return f"one per entry, {classes} {noun}" if classes else "none"
    if not classes:  # every label `[]`: no list tells its kind
        return "multi-label, no entry with a class"
    if kind == "multi-hot":
        return f"multi-label (0/1 lists), {classes} {noun} present"
    return f"multi-label (lists of classes), {classes} {noun}"


def _provenance(path: Path) -> "tuple[SplitProvenance | None, str | None]":
    """Return how the split at ``path`` was made, or why its sidecar cannot say.

    pydantic, which reads sidecar files, is imported only for a split with one.
    """
    sidecar = sidecar_of(path)
    if not sidecar.exists():
        return None, None
    from pydantic_core import ValidationError  # noqa: PLC0415 - see above

    from ._sidecar import read_provenance  # noqa: PLC0415

    try:
        return read_provenance(path), None
    except ValidationError as exc:
        found = located_problems(exc.errors(include_url=False), whole="the file")
        problem = (
            f"its sidecar file {sidecar} is not one that `lightsplit "
            f"split` writes: {found}"
        )
        return None, problem
    except LightsplitError as exc:  # no strict JSON: a key given twice, say
        problem = (
            f"its sidecar file {sidecar} is not one that `lightsplit "
            f"split` writes: {str(exc).removeprefix(f'{sidecar}: ')}"
        )
        return None, problem
    except OSError as exc:
        problem = f"its sidecar file {sidecar} cannot be read: {exc}"
        return None, problem.splitlines()[0]


def split_card(
    path: StrPath,
    *,
    group_pattern: str | re.Pattern[str] | None = None,
    path_field: FieldName | None = None,
    label_field: FieldName | None = None,
    group_field: FieldName | None = None,
    label_separator: str | None = None,
) -> SplitCard:
    r"""Describe the split file at ``path``: hash, sets, classes, leaks, origin.

    The fields and group pattern (or group field) not given are those the
    sidecar file records, when ``lightsplit split`` made the split.

    Args:
        path: the split file (``.json`` or ``.json.bz2``).
        group_pattern: finds each entry's group in its path (see `find_leaks`).
        path_field: the position or key of the path in each entry.
        label_field: the position or key of the label.
        group_field: the position or key of each entry's group, instead of a
            group pattern (see `find_leaks`).
        label_separator: the text between the names a label written as text
            joins, such as ``"|"`` (NIH's ``"Effusion|Nodule"``): each name is
            counted as a class of its own (see `find_leaks`).

    Returns:
        The card; ``to_markdown()`` and ``to_json()`` give it as text.

    Raises:
        FileNotFoundError: if ``path`` does not exist.
        SplitFileError: if the file is no valid split file.
        ValueError: if ``group_pattern`` is not a regular expression, both
            it and ``group_field`` are given, or ``label_separator`` is empty.

    Examples:
        >>> import json, tempfile, pathlib
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "split.json"
        >>> _ = path.write_text(json.dumps({"train": [["p1/a.png", 0], ["p2/b.png", 1]],
        ...                                 "test": [["p1/c.png", 1]]}))
        >>> card = split_card(path, group_pattern=r"p(\d)/")
        >>> card.sets["train"].class_counts
        {'0': 1, '1': 1}
        >>> [leak.group for leak in card.leaks.group_leaks]
        ['1']
    """
    path = Path(path)
    split, text = read_split(path)
    provenance, problem = _provenance(path)
    both = one_way_to_group(group_pattern, group_field)
    if both is not None:
        raise ValueError(both)
    pattern = None if group_pattern is None else compile_group_pattern(group_pattern)
    # the sidecar's fields, read as `check` reads them: even from a sidecar that
    # holds more than lightsplit writes, which `provenance` does not describe
    given = EntryFields(path_field, label_field, pattern, group_field, label_separator)
    record = sidecar_record(sidecar_of(path))
    fields = recorded_fields(record, named_columns(record, given))
    pattern = fields.group_pattern
    found = examine_split(split, fields, labels=False, text=text)
    unchecked, warnings = unchecked_and_warnings(split, found, fields)
    stats = found.stats
    groups = (
        None
        if not fields.grouped
        else len(frozenset().union(*(f.group_set or () for f in found.index.values())))
    )
    evaluated = sum(s.entries for n, s in stats.items() if n in EVALUATION_SET_NAMES)
    keys: set[Hashable] = {k for s in stats.values() for k in s.class_counts or {}}
    classes = sorted(keys, key=class_order)
    sets = {
        name: SetCard(
            s.entries,
            s.entries / evaluated
            if name in EVALUATION_SET_NAMES and evaluated
            else None,
            s.groups,
            None
            if s.class_counts is None
            else {class_name(k): s.class_counts.get(k, 0) for k in classes},
            s.unlabelled,
            s.classless,
        )
        for name, s in stats.items()
    }
    return SplitCard(
        str(path),
        found.sha256,
        found.scheme.kind,
        tuple(map(class_name, classes)),
        None if pattern is None else pattern.pattern,
        groups,
        sets,
        found.leaks,
        tuple(leak_lines(found.leaks, fields)),
        tuple(str(w) for w in warnings),
        provenance,
        problem,
        tuple(unchecked),
        fields.group_field,
        fields.label_separator,
    )
