"""Fields named for each entry's patient, noticed where no group was given.

A table's ``Patient ID`` column (NIH's ``Data_Entry.csv``), ``PatientID``
(PadChest's), ``subject_id`` (MIMIC-CXR's), or such a key of object entries,
names what a split must keep in one set. Without a group field or pattern,
each path is a group of its own: ``split`` may put one patient's images in two
sets, and ``check`` does not compare patients. Both then look for a field so
named (by its CSV column or object key: array entries name no field) whose
values repeat, and warn, naming the option that would use it.
"""

from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from itertools import chain, islice
from typing import Final, NamedTuple

from ._entries import FieldName, field_groups
from ._errors import printable
from ._types import EVALUATION_SET_NAMES, SetName

__all__ = ["PATIENT_NAMES", "Patients", "patients_across_sets", "patients_repeated"]

PATIENT_NAMES: Final = frozenset(
    {
        "patient",
        "patientid",
        "patientuid",
        "patientnumber",
        "patientno",
        "subject",
        "subjectid",
        "participant",
        "participantid",
        "mrn",
    }
)
"""Field names (in any case, letters and digits alone: ``Patient ID``,
``patient_id``) read as each entry's patient."""

_KEYS_SAMPLED: Final = 100
"""Object entries whose keys are read for a patient field."""


class Patients(NamedTuple):
    """A field named for the patient, and how its values spread."""

    field: FieldName
    """The field read: a CSV column's position, or an object entry's key."""
    shown: str
    """The field as the user names it: ``column `PatientID```, ``key `patient```."""
    option: str
    """What ``--group-field`` takes to read it: the column's or key's name."""
    values: int
    """Different values the field holds."""
    found: tuple[str, ...]
    """The values found: held by several entries (`patients_repeated`), or in
    more than one set (`patients_across_sets`), in order of first entry."""

    def described(self, spread: str) -> str:
        """Say which field seems to name the patient, and its values ``spread``.

        ``spread`` says where the values found are (``held by several
        entries``); the first of them is named.
        """
        count = len(self.found)
        return (
            f"{self.shown} seems to name each entry's patient, and {count} of its "
            f"{self.values} values {'is' if count == 1 else 'are'} {spread} (such "
            f"as `{printable(self.found[0])}`)"
        )


def _named(name: str) -> bool:
    return "".join(filter(str.isalnum, name.casefold())) in PATIENT_NAMES


def _candidates(
    entries: Iterable[object], columns: Sequence[str], skip: Collection[FieldName]
) -> list[tuple[FieldName, str, str]]:
    """Return the fields named for a patient: (field, shown, option), in order."""
    if columns:
        return [
            (i, f"column `{name}`", name)
            for i, name in enumerate(columns)
            if _named(name) and i not in skip and name not in skip
        ]
    keys: dict[str, None] = {}
    for entry in islice(entries, _KEYS_SAMPLED):
        if isinstance(entry, Mapping):
            keys.update(dict.fromkeys(k for k in entry if isinstance(k, str)))
    return [(k, f"key `{k}`", k) for k in keys if _named(k) and k not in skip]


def patients_repeated(
    entries: Sequence[object],
    columns: Sequence[str] = (),
    *,
    skip: Collection[FieldName] = (),
) -> Patients | None:
    """Return the first field named for a patient that holds a value twice.

    ``columns`` names the items of a CSV table's rows; object entries are
    read by their keys. ``skip`` holds the path and label fields.

    Examples:
        >>> rows = [["a.png", 0, "P1"], ["b.png", 1, "P1"], ["c.png", 0, "P2"]]
        >>> found = patients_repeated(rows, ("image", "label", "Patient ID"))
        >>> found.field, found.option, found.values, found.found
        (2, 'Patient ID', 2, ('P1',))
        >>> print(patients_repeated(rows[1:], ("image", "label", "Patient ID")))
        None
    """
    for field, shown, option in _candidates(entries, columns, skip):
        counts = Counter(filter(None, field_groups(entries, field)))
        repeated = tuple(value for value, count in counts.items() if count > 1)
        if repeated:
            return Patients(field, shown, option, len(counts), repeated)
    return None


def patients_across_sets(
    split: Mapping[SetName, Sequence[object]], *, skip: Collection[FieldName] = ()
) -> Patients | None:
    """Return the first key named for a patient with a value in two sets.

    The sets compared are `train`, `validation` and `test`, as group leaks
    are; ``skip`` holds the path and label fields.

    Examples:
        >>> split = {
        ...     "train": [{"file": "a.png", "patient": 7}],
        ...     "test": [{"file": "b.png", "patient": 7}],
        ... }
        >>> patients_across_sets(split).found
        ('7',)
    """
    evaluated = {n: s for n, s in split.items() if n in EVALUATION_SET_NAMES}
    entries = chain.from_iterable(evaluated.values())
    for field, shown, option in _candidates(entries, (), skip):
        sets: dict[str, set[SetName]] = {}
        for name, samples in evaluated.items():
            for value in filter(None, field_groups(samples, field)):
                sets.setdefault(value, set()).add(name)
        across = tuple(value for value, found in sets.items() if len(found) > 1)
        if across:
            return Patients(field, shown, option, len(sets), across)
    return None
