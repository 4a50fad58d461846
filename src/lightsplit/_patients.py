"""Fields and folders named for each entry's patient, noticed where no group was given.

A table's ``Patient ID`` column (NIH's ``Data_Entry.csv``), ``PatientID``
(PadChest's), ``subject_id`` (MIMIC-CXR's), or such a key of object entries,
names what a split must keep in one set; so does a folder of the paths named
for the patient (CheXpert's ``train/patient00001/study1/view1_frontal.jpg``,
BIDS' ``sub-01/anat/...``). Without a group field or pattern, each path is a
group of its own: ``split`` may put one patient's images in two sets, and
``check`` does not compare patients. Both then look for a field so named (by
its CSV column or object key: array entries name no field), or such folders,
whose values repeat, and warn, naming the option that would use them.
"""

import re
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from itertools import chain, islice
from typing import Final, NamedTuple, TypeVar

from ._entries import FieldName, field_groups
from ._errors import printable
from ._types import EVALUATION_SET_NAMES, SetName

__all__ = [
    "PATIENT_NAMES",
    "PatientFolders",
    "Patients",
    "patient_folder",
    "patient_folders_across_sets",
    "patient_folders_repeated",
    "patients_across_sets",
    "patients_repeated",
]

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


_PATIENT_FOLDER: Final = re.compile(
    r"(?:^|/)((?:patient|subject|participant|case|pat)[-_ ]?\d[^/]*"
    r"|sub-[^\W_][^/]*|p\d+(?=/s\d+/))/",
    re.IGNORECASE,
)
"""A folder named for the patient, in any case, its name group 1: a patient
word and a number (``patient00001`` as CheXpert's, ``case_00012`` as KiTS',
``Subject 7``), BIDS' ``sub-<label>``, or ``p`` and a number holding a study
folder ``s`` and a number (MIMIC-CXR's ``p10/p10000032/s50414267/``, whose
``p10/`` gathers patients); not ``subset1`` nor ``patches``."""

_MIMIC_FOLDER: Final = re.compile(r"p\d+", re.IGNORECASE)
"""MIMIC-CXR's patient folder, as a whole name."""

_MIMIC_PATTERN: Final = r"(?:^|/)(p\d+)/s\d+/"
"""The group pattern that finds MIMIC-CXR's patient folders."""

_FOLDER_WORD: Final = re.compile(
    r"(?:patient|subject|participant|case|pat)[-_ ]?|sub-", re.IGNORECASE
)
"""The word that starts such a folder's name, as written."""

_PATHS_SAMPLED: Final = 1000
"""Paths of a set looked at first, evenly spread: the rest only if one has
such a folder (datasets so laid out have it in every path)."""

_T = TypeVar("_T")


class PatientFolders(NamedTuple):
    """Folders of the paths named for the patient, and how they spread."""

    pattern: str
    """A group pattern that finds each path's folder (``--group-pattern``)."""
    values: int
    """Different folders so named."""
    found: tuple[str, ...]
    """The folders found: holding several entries (`patient_folders_repeated`)
    or entries of more than one set (`patient_folders_across_sets`), in order
    of first entry."""

    def described(self, spread: str) -> str:
        """Say which folders seem to name the patient, and where those found are."""
        count = len(self.found)
        return (
            f"the paths' folders seem to name each entry's patient (such as "
            f"`{printable(self.found[0])}/`), and {count} of those {self.values} "
            f"folders {'is' if count == 1 else 'are'} {spread}"
        )


def patient_folder(path: str | None) -> str | None:
    """Return the first folder of ``path`` named for a patient, or ``None``.

    Examples:
        >>> patient_folder("CheXpert-v1.0/train/patient00001/study1/view1.jpg")
        'patient00001'
        >>> patient_folder("sub-01/anat/sub-01_T1w.nii.gz")
        'sub-01'
        >>> print(patient_folder("subset1/a.mhd"), patient_folder("CXR_png/p1.png"))
        None None
    """
    found = _PATIENT_FOLDER.search(path) if path else None
    return None if found is None else found[1]


def sampled(items: Sequence[_T], count: int = _PATHS_SAMPLED) -> Sequence[_T]:
    """Return about ``count`` items of ``items``, evenly spread."""
    return items[:: max(1, len(items) // count)]


def _folder_pattern(folders: Sequence[str]) -> str:
    """Return a group pattern that finds ``folders`` (one or more) in paths."""
    if all(_MIMIC_FOLDER.fullmatch(f) for f in folders):
        lower = all(f.startswith("p") for f in folders)
        return _MIMIC_PATTERN if lower else f"(?i){_MIMIC_PATTERN}"
    word = _FOLDER_WORD.match(folders[0])
    prefix = "" if word is None else word[0]
    if prefix and all(_FOLDER_WORD.match(f)[0] == prefix for f in folders):  # type: ignore[index]  # each is such a folder
        rest = "[^/]+" if prefix.casefold() == "sub-" else r"\d[^/]*"
        return f"(?:^|/)({prefix}{rest})/"
    return f"(?i){_PATIENT_FOLDER.pattern}"


def patient_folders_repeated(paths: Sequence[str | None]) -> PatientFolders | None:
    r"""Return the folders named for a patient that hold several paths, if any.

    Examples:
        >>> found = patient_folders_repeated(
        ...     ["p/patient1/a.png", "p/patient1/b.png", "p/patient2/a.png"]
        ... )
        >>> print(found.pattern, found.values, found.found)
        (?:^|/)(patient\d[^/]*)/ 2 ('patient1',)
    """
    if not any(map(patient_folder, sampled(paths))):
        return None
    counts = Counter(filter(None, map(patient_folder, paths)))
    repeated = tuple(folder for folder, count in counts.items() if count > 1)
    if not repeated:
        return None
    return PatientFolders(_folder_pattern(repeated), len(counts), repeated)


def patient_folders_across_sets(
    sets: Mapping[SetName, Sequence[_T]],
    paths: Callable[[Sequence[_T]], Sequence[str | None]],
) -> PatientFolders | None:
    """Return the folders named for a patient in two of the evaluated sets.

    ``paths`` gives the path of each of some entries of a set (`file_paths`,
    or the paths themselves): asked for a sample of each set first, and for
    whole sets only where a path of the samples has such a folder. The sets
    compared are `train`, `validation` and `test`, as group leaks are.

    Examples:
        >>> patient_folders_across_sets(
        ...     {"train": ["patient1/a.png"], "test": ["patient1/b.png"]}, list
        ... ).found
        ('patient1',)
    """
    evaluated = {n: s for n, s in sets.items() if n in EVALUATION_SET_NAMES}
    if len(evaluated) < 2 or not any(  # noqa: PLR2004 - two sets to compare
        any(map(patient_folder, paths(sampled(found)))) for found in evaluated.values()
    ):
        return None
    held: dict[str, set[SetName]] = {}
    for name, found in evaluated.items():
        for folder in filter(None, map(patient_folder, paths(found))):
            held.setdefault(folder, set()).add(name)
    across = tuple(folder for folder, names in held.items() if len(names) > 1)
    if not across:
        return None
    return PatientFolders(_folder_pattern(across), len(held), across)
