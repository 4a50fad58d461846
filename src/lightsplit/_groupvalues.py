"""Group values read from a field that may not be the patients they seem.

A group field's values are compared as text (`group_text`), by design: ``17``
and ``"0017"`` are two groups, as are ``5`` and ``5.0``, where a table or a
script may have written one patient two ways. A value such as ``NaN``,
``N/A`` or ``None`` (a missing patient, as pandas or a spreadsheet writes it)
is one group, that holds every entry written so. ``split`` and ``check`` keep
such values as they are, and warn (`OddGroups`), naming them and their
entries.
"""

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from ._classes import number_of, number_text, reads_as_number
from ._entries import SetFields, names_file
from ._errors import first_few, printable
from ._types import SetName

__all__ = [
    "MISSING_WORDS",
    "OddGroups",
    "entry_of",
    "file_entries",
    "files_message",
    "missing_message",
    "odd_groups",
    "sets_groups",
    "spellings_message",
]

MISSING_WORDS: Final = frozenset({"nan", "na", "n/a", "#n/a", "null", "none"})
"""Group values (in any case) that read as a missing value, not as a patient."""

_PLAIN_INTEGER: Final = re.compile(r"0|-?[1-9][0-9]*")
"""An integer as JSON writes it: two such texts are never one number."""

_SHOWN: Final = 3
"""Entries named for each value in a warning."""


@dataclass(frozen=True, slots=True)
class OddGroups:
    """The groups that may not be the patients they seem (see the module)."""

    spelled: tuple[tuple[str, frozenset[str]], ...] = ()
    """Each number written several ways, as text (``17``), with its spellings
    (``17``, ``0017``, ``17.0``)."""
    missing: frozenset[str] = frozenset()
    """The groups that read as a missing value (`MISSING_WORDS`)."""

    def __bool__(self) -> bool:
        return bool(self.spelled or self.missing)

    @property
    def values(self) -> frozenset[str]:
        """Every group named, spelled several ways or missing."""
        spelled = (text for _, texts in self.spelled for text in texts)
        return self.missing.union(spelled)


def odd_groups(groups: Iterable[str]) -> OddGroups:
    """Find the groups that are one number written several ways, or missing.

    ``groups`` are the different groups. An integer written as JSON writes it
    (``17``) is passed over at first: two such texts are never one number, so
    that only the others (``0017``, ``5.0``, ``NaN``) are read as numbers, and
    an integer joins those that are its number. A number too large for
    `decimal` (``1e999999999999999999999``) is no spelling of another.

    Examples:
        >>> odd = odd_groups(["17", "0017", "4", "5", "5.0", "P6", "NaN"])
        >>> sorted((n, sorted(t)) for n, t in odd.spelled), sorted(odd.missing)
        ([('17', ['0017', '17']), ('5', ['5', '5.0'])], ['NaN'])
        >>> bool(odd_groups(["17", "18", "0019", "P17", "n/a patient"]))
        False
    """
    plain = _PLAIN_INTEGER.fullmatch
    integers: set[str] = set()
    numbers: dict[Decimal, set[str]] = {}
    missing: set[str] = set()
    for text in groups:
        if plain(text) is not None:
            integers.add(text)
        elif text.casefold() in MISSING_WORDS:
            missing.add(text)
        elif reads_as_number(text):
            try:
                number = number_of(text)
            except ArithmeticError:  # an exponent beyond what `decimal` holds
                continue
            numbers.setdefault(number, set()).add(text)
    longest = max(map(len, integers), default=0)
    spelled = []
    for number, texts in numbers.items():
        integer = _integer_text(number, longest)
        if integer in integers:
            texts.add(integer)
        if len(texts) > 1:
            spelled.append((integer or number_text(number), frozenset(texts)))
    return OddGroups(tuple(spelled), frozenset(missing))


def _integer_text(number: Decimal, digits: int) -> str | None:
    """Return ``number`` as JSON writes an integer, if it is one of ``digits`` at most.

    Longer integers are no text of the groups, and are not written out (``1e400``
    would be 401 digits).

    Examples:
        >>> _integer_text(number_of("1.7e1"), 2), _integer_text(number_of("-0.0"), 1)
        ('17', '0')
        >>> _integer_text(number_of("1e400"), 3), _integer_text(number_of("0.5"), 3)
        (None, None)
    """
    if number != number.to_integral_value() or number.adjusted() >= digits:
        return None
    return f"{number:f}" if number else "0"


def _at(text: str, where: Mapping[str, Sequence[str]], count: int) -> str:
    """Return ```0017` (row 3, row 9 and 2 more)``: a value and its entries."""
    listed = first_few(where[text], total=count, limit=_SHOWN)
    return f"`{printable(text)}` ({listed})"


def spellings_message(
    field: str,
    odd: OddGroups,
    where: Mapping[str, Sequence[str]],
    counts: Mapping[str, int],
    *,
    consequence: str,
) -> str | None:
    """Say which values of the group field ``field`` are one number, if any.

    ``where`` gives each value's first entries (``row 3``, ``train.0``), in
    the order they come (which orders the values); ``counts`` their numbers.
    ``consequence`` says what telling them apart does (to the split, or to the
    check).

    Examples:
        >>> odd = odd_groups(["17", "0017"])
        >>> print(spellings_message("PatientID", odd, {"17": ["row 2"],
        ...     "0017": ["row 3"]}, {"17": 1, "0017": 1}, consequence="so"))
        the group field `PatientID` holds one number written several ways: \
`17` (row 2) and `0017` (row 3) are 17; group values are compared as text, \
so; if they are one patient, write the number one way in every entry (such \
as `17`, not `0017`)
    """
    if not odd.spelled:
        return None
    rank = {text: i for i, text in enumerate(where)}
    clusters = sorted(
        (
            (sorted(texts, key=rank.__getitem__), number)
            for number, texts in odd.spelled
        ),
        key=lambda cluster: rank[cluster[0][0]],
    )
    said = []
    for texts, number in clusters:
        shown = [_at(text, where, counts[text]) for text in texts]
        said.append(f"{', '.join(shown[:-1])} and {shown[-1]} are {number}")
    texts, number = clusters[0]
    others = " or ".join(f"`{printable(t)}`" for t in texts if t != number)
    return (
        f"the group field `{printable(field)}` holds one number written several "
        f"ways: {'; '.join(said)}; group values are compared as text, "
        f"{consequence}; if they are one patient, write the number one way in "
        f"every entry (such as `{number}`, not {others})"
    )


def missing_message(
    field: str,
    odd: OddGroups,
    where: Mapping[str, Sequence[str]],
    counts: Mapping[str, int],
    *,
    consequence: str,
) -> str | None:
    """Say which values of the group field ``field`` read as missing, if any.

    ``where`` and ``counts`` are as `spellings_message` takes them;
    ``consequence`` says what such a group does, and what to do.

    Examples:
        >>> odd = odd_groups(["NaN", "P1"])
        >>> print(missing_message("PatientID", odd, {"NaN": ["row 2", "row 5"]},
        ...     {"NaN": 2}, consequence="so"))
        the group field `PatientID` holds `NaN` in 2 entries (row 2, row 5), \
which reads as a missing value, not as a patient, yet is one group (one \
patient) of all the entries holding it; so
    """
    if not odd.missing:
        return None
    ordered = [text for text in where if text in odd.missing]
    shown = [
        f"`{printable(text)}` in {counts[text]} "
        f"{'entry' if counts[text] == 1 else 'entries'} "
        f"({first_few(where[text], total=counts[text], limit=_SHOWN)})"
        for text in ordered
    ]
    one = len(shown) == 1
    listed = shown[0] if one else f"{', '.join(shown[:-1])} and {shown[-1]}"
    reads = (
        "which reads as a missing value, not as a patient, yet is one group"
        if one
        else "which read as missing values, not as patients, yet each is one group"
    )
    return (
        f"the group field `{printable(field)}` holds {listed}, {reads} (one "
        f"patient) of all the entries holding it; {consequence}"
    )


def file_entries(groups: Sequence[str | None]) -> list[int]:
    """Return the entries whose group is a file name, where they are most.

    ``groups`` are the entries' groups read from a field (``None`` for
    none). A field where most of the entries that hold a group hold a file
    name (`names_file`) is the field of each entry's path (an `ImageID`
    column), which makes each image a patient of its own: the positions of
    those entries come back, none otherwise. The different groups are judged
    once each.

    Examples:
        >>> file_entries(["a.png", "b.png", None, "P1"]), file_entries(["P1", "a.png"])
        ([0, 1], [])
    """
    files = {group for group in set(groups) - {None} if names_file(group)}  # type: ignore[arg-type]  # None left out
    if not files:
        return []
    named = [i for i, group in enumerate(groups) if group in files]
    grouped = len(groups) - groups.count(None)
    return named if 2 * len(named) > grouped else []


def sets_groups(
    index: Mapping[SetName, SetFields], names: Sequence[SetName]
) -> list[str | None]:
    """Return the groups of the entries of the sets ``names``, one set after another.

    As `file_entries` takes them; `entry_of` tells where a position lies.
    """
    return [group for name in names for group in index[name].groups or ()]


def entry_of(
    index: Mapping[SetName, SetFields], names: Sequence[SetName], at: int
) -> tuple[SetName, int]:
    """Return the set and the position in it of position ``at`` of `sets_groups`.

    Raises:
        IndexError: for a position past the sets' entries.
    """
    for name in names:
        size = len(index[name].groups or ())
        if at < size:
            return name, at
        at -= size
    msg = f"position {at} is past the entries of {', '.join(names)}"
    raise IndexError(msg)


def files_message(
    field: str,
    groups: Sequence[str | None],
    named: Sequence[int],
    origin: Callable[[int], str],
    *,
    consequence: str,
) -> str:
    """Say that the group field ``field`` holds the entries' files.

    ``groups`` are the entries' groups (``None`` for none), ``named`` the
    positions of those that are file names (`file_entries`, not empty),
    ``origin`` gives the origin of the entry at a position (``row 2``);
    ``consequence`` says what such groups do.

    Examples:
        >>> groups = ["a.png", "b.png", None, "P1"]
        >>> print(files_message("ImageID", groups, file_entries(groups),
        ...     lambda i: f"row {i + 2}", consequence="so"))
        the group field `ImageID` holds file names, not patients, in 2 of the \
3 entries that hold a group (such as `a.png`, row 2): each image is a group \
(a patient) of its own; so; name the field that holds each entry's patient, \
or leave the group field out
    """
    grouped = len(groups) - groups.count(None)
    first = named[0]
    return (
        f"the group field `{printable(field)}` holds file names, not patients, in "
        f"{len(named):,} of the {grouped:,} entries that hold a group (such as "
        f"`{printable(groups[first] or '')}`, {origin(first)}): each image is a group "
        f"(a patient) of its own; {consequence}; name the field that holds each "
        "entry's patient, or leave the group field out"
    )
