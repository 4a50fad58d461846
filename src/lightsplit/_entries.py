"""The fields of raw entries that checks and splits read: path, label and group.

lightsplit reads three things from an entry, whatever its shape:

- its *path*, which names the file: by default the first string of an array
  entry (``["CXR_png/a.png", 0]``), the first string value of an object entry,
  or a string entry itself, never its label field; or the field a user names
  (a position ``0`` or a key ``"image"``). Paths compare normalised:
  ``./a.png``, ``a.png`` and ``b/../a.png`` are one file.
- its *label*: by default the item after the path in an array entry (unless it
  is itself a file path, as the mask of ``[image, mask]`` is) or the ``label``
  key of an object entry; or the field a user names. ``null`` is no label.
- its *group* (a patient, say): what a regular expression finds in its path,
  or the value of a field the user names (a table's ``PatientID`` column), as
  text: an integer ``17`` is the group ``"17"``.
"""

import dataclasses
import importlib
import json
import os
import posixpath
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from functools import cache
from itertools import repeat
from operator import itemgetter
from types import ModuleType
from typing import Any, Final, Literal, NamedTuple, TypeAlias, cast

from ._errors import preview, printable
from ._types import EVALUATION_SET_NAMES, SetName

__all__ = [
    "DATA_SUFFIXES",
    "DEFAULT_LABEL_KEY",
    "EARLIER_DATA_SUFFIXES",
    "FILE_NAME",
    "FILE_SUFFIX",
    "JSON_TYPES",
    "EntryFields",
    "FieldName",
    "GroupOption",
    "Grouping",
    "GroupsOf",
    "JsonKey",
    "NoPath",
    "SetFields",
    "as_text",
    "compile_group_pattern",
    "describe_entries",
    "edge_spaced",
    "entry_key",
    "field_groups",
    "field_held_nowhere",
    "field_position",
    "field_shown",
    "file_paths",
    "group_text",
    "grouping",
    "groups_by_shape",
    "index_split",
    "is_group_field",
    "is_path_object",
    "label_key",
    "label_names",
    "named",
    "names_file",
    "normalize_path",
    "one_field_for_both",
    "one_way_to_group",
    "parse_field",
    "path_groups",
    "path_key",
    "same_label_key",
    "separator_problem",
    "set_groups",
    "set_paths",
    "tally_key",
    "tally_labels",
    "written_paths",
]

FieldName: TypeAlias = int | str
"""An entry field: a position in an array entry, or a key of an object entry."""

NoPath: TypeAlias = Literal["missing", "null", "empty", "no string"]
"""Why a path field holds no path in an entry (`EntryFields.no_path`)."""

DEFAULT_LABEL_KEY: Final = "label"
"""The key of an object entry read as its label when no label field is named."""

FILE_SUFFIX: Final = re.compile(r"\.[A-Za-z][A-Za-z0-9]{0,4}$")
"""The end of a file name (``.png``, ``.nii``); see `names_file`."""

FILE_NAME: Final = re.compile(rf"[/\\]|{FILE_SUFFIX.pattern}")
"""A string that looks like a file name: a folder separator or a file suffix."""

EARLIER_DATA_SUFFIXES: Final = frozenset(
    [
        ".bmp",
        ".bz2",
        ".csv",
        ".dcm",
        ".dicom",
        ".gif",
        ".gz",
        ".h5",
        ".hdf5",
        ".hdr",
        ".img",
        ".jpeg",
        ".jpg",
        ".json",
        ".mat",
        ".mha",
        ".mhd",
        ".ndpi",
        ".npy",
        ".npz",
        ".nii",
        ".nrrd",
        ".png",
        ".pt",
        ".pth",
        ".raw",
        ".svs",
        ".tif",
        ".tiff",
        ".txt",
        ".webp",
        ".xml",
        ".zarr",
        ".zip",
    ]
)
"""`DATA_SUFFIXES` as checkpoints written before the others were added knew them."""

DATA_SUFFIXES: Final = EARLIER_DATA_SUFFIXES | frozenset(
    [
        # images: Netpbm (MIAS's .pgm), JPEG 2000, JPEG XL, HEIF, Targa
        ".heic",
        ".j2k",
        ".jp2",
        ".jpx",
        ".jxl",
        ".pbm",
        ".pgm",
        ".pnm",
        ".ppm",
        ".tga",
        # volumes: Siemens DICOM, FreeSurfer, MINC, a detached NRRD header
        ".ima",
        ".mgh",
        ".mgz",
        ".mnc",
        ".nhdr",
        # whole slides: Leica, MIRAX, Hamamatsu, Ventana, Zeiss, Olympus, Philips
        ".bif",
        ".czi",
        ".isyntax",
        ".mrxs",
        ".scn",
        ".vms",
        ".vsi",
        # videos: ultrasound, endoscopy
        ".avi",
        ".mkv",
        ".mov",
        ".mp4",
        ".webm",
        # surfaces and meshes: VTK, STL, PLY, Wavefront
        ".obj",
        ".ply",
        ".stl",
        ".vtk",
        ".vtp",
        ".vtu",
    ]
)
"""Suffixes of the files that entries name: images, volumes, slides, videos,
arrays, tables."""


def names_file(text: str, suffixes: frozenset[str] = DATA_SUFFIXES) -> bool:
    """Whether a string of an entry names a file (a mask, say), not a label.

    A file name has a suffix (`FILE_SUFFIX`) and a folder, or a suffix of
    the files entries name (`DATA_SUFFIXES`): ``masks/a.png`` and
    ``a_seg.nii`` are files; ``tb.pos``, ``grade.high``, ``tb/active`` and
    ``N/A`` are labels. ``suffixes`` are those data suffixes
    (`EARLIER_DATA_SUFFIXES` for what older checkpoints recorded).

    Examples:
        >>> names_file("a_seg.nii"), names_file("masks/a.xyz"), names_file("tb.pos")
        (True, True, False)
        >>> names_file("mdb001.pgm"), names_file("site.A"), names_file("a.isyntax")
        (True, False, True)
    """
    suffix = FILE_SUFFIX.search(text)
    if suffix is None:  # or one longer than most (``.isyntax``)
        return text.lower().endswith(_long_suffixes(suffixes))
    return "/" in text or "\\" in text or suffix[0].lower() in suffixes


@cache
def _long_suffixes(suffixes: frozenset[str]) -> tuple[str, ...]:
    """The suffixes among ``suffixes`` that `FILE_SUFFIX` does not find."""
    return tuple(sorted(s for s in suffixes if FILE_SUFFIX.fullmatch(s) is None))


def normalize_path(path: str) -> str:
    """Return the one spelling of ``path`` that names the same file.

    ``.`` components, repeated ``/`` and ``name/..`` pairs are removed, as
    ``posixpath.normpath`` does; a leading ``..`` stays, and so does a leading
    ``//`` (as ``normpath`` keeps it: checkpoints identify their entries by
    this spelling). Letters are composed (Unicode NFC): ``é`` typed as one
    character or as ``e`` and an accent (as macOS writes file names) is one
    spelling.

    Examples:
        >>> normalize_path("./a.png"), normalize_path("b//../a.png")
        ('a.png', 'a.png')
        >>> normalize_path("a//b/../c.png"), normalize_path("../a.png")
        ('a/c.png', '../a.png')
        >>> normalize_path("cafe\u0301.png") == "caf\u00e9.png"
        True
    """
    if not path.isascii():
        path = unicodedata.normalize("NFC", path)
    # Most paths are already normal: test cheaply before calling normpath.
    if path.startswith(".") or "/." in path or "//" in path or path.endswith("/"):
        return posixpath.normpath(path)
    return path


def entry_key(entry: object) -> str:
    """Return the text two entries share exactly when they are equal as JSON.

    Examples:
        >>> entry_key(("a.png", 0)) == entry_key(["a.png", 0])
        True
        >>> entry_key({"b": 1, "a": 2})
        '{"a": 2, "b": 1}'
    """
    return json.dumps(entry, sort_keys=True, ensure_ascii=False, default=repr)


@dataclass(frozen=True, slots=True)
class JsonKey:
    """A label that is no integer or string, keyed by its JSON text."""

    text: str
    """The label as JSON, object keys sorted."""


def label_key(label: object) -> Hashable:
    """Return what two labels share exactly when they are equal as JSON.

    Integers and strings are their own key; anything else (``true``, ``1.0``,
    lists) is keyed by its JSON text, so that ``1``, ``1.0`` and ``true`` differ.

    Examples:
        >>> label_key(1), label_key("1"), label_key(True)
        (1, '1', JsonKey(text='true'))
    """
    if type(label) in (int, str):
        return label
    return JsonKey(entry_key(label))


def same_label_key(label: object, *, class_lists: bool = False) -> Hashable:
    """Return what two labels of one file share exactly when they say the same.

    As `label_key`, except that a list of class names is a set of classes: in
    any order, it is the same label (a 0/1 vector, by contrast, is read by
    position). With ``class_lists`` (the split's integer lists read as lists
    of classes, `label_scheme`), so is a list of class numbers.

    Examples:
        >>> same_label_key(["Mass", "Effusion"]) == same_label_key(["Effusion", "Mass"])
        True
        >>> same_label_key([0, 1]) == same_label_key([1, 0])
        False
        >>> same_label_key([2, 5], class_lists=True) == same_label_key(
        ...     [5, 2], class_lists=True
        ... )
        True
    """
    if isinstance(label, list | tuple) and (
        all(type(item) is str for item in label)
        or (class_lists and all(type(item) is int for item in label))
    ):
        return JsonKey(entry_key(sorted(label)))
    return label_key(label)


def tally_key(label: object) -> Hashable:
    """Return the key of ``label`` in a `tally_labels` count."""
    if label is None or type(label) in (int, str):
        return label
    if isinstance(label, list | tuple):
        try:
            items: tuple[object, ...] = tuple(label)
            hash(items)
        except TypeError:  # it holds lists or objects
            return label_key(label)
        return items
    return label_key(label)


def tally_labels(
    labels: Sequence[object | None], kinds: AbstractSet[type] | None = None
) -> Counter[Hashable]:
    """Count each different label: no label as ``None``, a list as a tuple.

    ``kinds`` is the types of ``labels``, where the caller has them.

    Examples:
        >>> tally_labels([0, 1, 0, None, [1, 0]])
        Counter({0: 2, 1: 1, None: 1, (1, 0): 1})
    """
    if kinds is None:
        kinds = set(map(type, labels))
    if kinds == {type(None)} and labels:  # no entry has a label
        return Counter({None: len(labels)})
    if kinds == {int}:
        counted = _byte_tally(labels)
        if counted is not None:
            return counted
    if kinds <= {int, str, type(None)}:
        return Counter(labels)
    if kinds <= {list, tuple}:
        try:
            return Counter(map(tuple, labels))  # type: ignore[arg-type]  # lists
        except TypeError:  # lists of lists or objects
            pass
    return Counter(map(tally_key, labels))


_ALL_BYTES: Final = bytes(range(256))


def _byte_tally(labels: Sequence[object]) -> Counter[Hashable] | None:
    """Count integer labels from 0 to 255 as bytes; ``None`` for other labels.

    The usual labels (classes numbered from 0) are counted a byte at a time in
    C: a third of the time of `Counter` on 100,000 labels. The counts come in
    the order each label is first found, as `Counter` gives them.
    """
    try:
        data = bytes(labels)  # type: ignore[arg-type]  # integers, or ValueError
    except (TypeError, ValueError):  # not an integer, or one out of 0-255
        return None
    present = _ALL_BYTES.translate(None, _ALL_BYTES.translate(None, data))
    return Counter(
        {label: data.count(label) for label in sorted(present, key=data.find)}
    )


def parse_field(text: str) -> FieldName:
    """Read a field given on the command line: digits are a position, else a key.

    Only ASCII digits make a position: ``²`` or ``٣`` are keys, as written.

    Examples:
        >>> parse_field("0"), parse_field("image"), parse_field("٣")
        (0, 'image', '٣')
    """
    return int(text) if text.isascii() and text.isdigit() else text


def compile_group_pattern(pattern: str | re.Pattern[str]) -> re.Pattern[str]:
    r"""Compile the regular expression that finds an entry's group in its path.

    The group is the named group ``group`` if the pattern has one, else its
    first group, else the whole match; the pattern is searched anywhere in the
    normalised path (``re.search``). As the paths' letters are composed
    (`normalize_path`), so are the pattern's: one copied from a macOS file name
    (``e`` and an accent) finds the paths that spell ``é`` either way.

    Raises:
        ValueError: if ``pattern`` is not a regular expression.

    Examples:
        >>> compile_group_pattern(r"images/(\d{8})_").pattern
        'images/(\\d{8})_'
        >>> print(ascii(compile_group_pattern("patie\u0308nt-(\\d+)").pattern))
        'pati\xebnt-(\\d+)'
    """
    text = pattern.pattern if isinstance(pattern, re.Pattern) else pattern
    composed = text if text.isascii() else unicodedata.normalize("NFC", text)
    if isinstance(pattern, re.Pattern):
        return pattern if composed == text else re.compile(composed, pattern.flags)
    try:
        return re.compile(composed)
    except re.error as exc:
        msg = (
            f"group pattern `{pattern}` is not a regular expression ({exc}); write "
            r"one whose first group finds the group, such as `images/(\d{8})_`"
        )
        raise ValueError(msg) from exc


def one_way_to_group(
    group_pattern: object,
    group_field: object,
    *,
    named: tuple[str, str] = ("group_pattern", "group_field"),
) -> str | None:
    """Say that both a group pattern and a group field are given, if so.

    ``named`` are the two options as the caller spells them (`--group-pattern`).

    Examples:
        >>> print(one_way_to_group("images/", "PatientID"))
        `group_pattern` and `group_field` are both given; an entry's group is \
found in its path by the pattern or read from the field: give one
    """
    if group_pattern is None or group_field is None:
        return None
    pattern_option, field_option = named
    return (
        f"`{pattern_option}` and `{field_option}` are both given; an entry's group "
        "is found in its path by the pattern or read from the field: give one"
    )


def group_text(value: object) -> str | None:
    """Return a group field's value as the group's name, or ``None`` for no group.

    A string is its own name without the blanks around it (a table's cell
    `` 4`` is the patient ``4``), an integer its digits (the patient ``17``
    and ``"17"`` are one group); anything else its JSON text (``true``,
    ``17.5``). ``None`` and a string of blanks alone hold no group. Values are
    compared as text: ``"0017"`` and ``5.0`` are not ``17`` and ``5``
    (`lightsplit._groupvalues` warns of them).

    Examples:
        >>> group_text("P17"), group_text(17), group_text(None), group_text(" ")
        ('P17', '17', None, None)
        >>> group_text(" 4 "), group_text(5.0)
        ('4', '5.0')
    """
    if isinstance(value, str):
        return value.strip() or None
    if type(value) is int:  # not a bool, which is `true` as JSON writes it
        return str(value)
    return None if value is None else entry_key(value)


GroupOption: TypeAlias = Literal["group_pattern", "group_field"]
"""A data module's setting that groups entries: by a pattern or by a field."""


@dataclass(frozen=True, slots=True)
class Grouping:
    r"""How a data module groups its entries: the setting that does it, and its value.

    Examples:
        >>> print(Grouping("group_field", 2), Grouping("group_pattern", r"p(\d+)/"))
        `group_field` `2` `group_pattern` `p(\d+)/`
    """

    option: GroupOption
    """`group_pattern` (``value`` a regular expression searched in each path)
    or `group_field` (``value`` the position or key holding each group)."""
    value: FieldName
    """The pattern, or the field."""

    @property
    def by_field(self) -> bool:
        """Whether groups are read from a field (not found in paths)."""
        return self.option == "group_field"

    @property
    def shown_value(self) -> str:
        """The value as messages write it: a key of digits quoted (``"2"``).

        Such a key is no position, and messages tell the two apart.

        Examples:
            >>> Grouping("group_field", "2").shown_value
            '"2"'
            >>> Grouping("group_field", 2).shown_value
            '2'
        """
        value = self.value
        if not isinstance(value, str):
            return str(value)
        if self.by_field and value.isascii() and value.isdigit():
            return f'"{value}"'
        return printable(value)

    def fields(self) -> "EntryFields":
        """Return the fields that read each entry's group this way.

        Raises:
            ValueError: for a group pattern that is no regular expression.
        """
        if self.by_field:
            return EntryFields(group_field=self.value)
        return EntryFields(group_pattern=compile_group_pattern(str(self.value)))

    def __str__(self) -> str:
        return f"`{self.option}` `{self.shown_value}`"


def grouping(
    group_pattern: str | None, group_field: FieldName | None
) -> Grouping | None:
    """Return how entries are grouped by these settings, or ``None`` if not at all.

    Examples:
        >>> grouping(None, "PatientID")
        Grouping(option='group_field', value='PatientID')
        >>> grouping(None, None) is None
        True
    """
    if group_pattern is not None:
        return Grouping("group_pattern", group_pattern)
    if group_field is not None:
        return Grouping("group_field", group_field)
    return None


def is_group_field(value: object) -> bool:
    """Whether ``value`` is a group field a data module takes (`DataModuleConfig`).

    A position (an `int` of 0 or more, not a truth value) or a key (a string
    holding a character other than blanks: no key of a table is blank).

    Examples:
        >>> is_group_field(2), is_group_field("PatientID"), is_group_field(-1)
        (True, True, False)
        >>> is_group_field(True), is_group_field(""), is_group_field(" ")
        (False, False, False)
    """
    if isinstance(value, str):
        return bool(value.strip())
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


@dataclass(frozen=True, slots=True)
class EntryFields:
    """Which fields of an entry are its path and its label, and how to group it.

    An entry's group is found in its path by `group_pattern`, or read from its
    `group_field`: not both.

    Raises:
        ValueError: if both `group_pattern` and `group_field` are given.
    """

    path_field: FieldName | None = None
    """The path's position or key; ``None``: the first string of the entry that
    is not its label (the label field, or an object's ``label`` key) nor its
    group (the group field), or the
    first path of its first item when that is a list of paths (an image of
    several modalities: ``[["t1.nii", "t2.nii"], "seg.nii"]``)."""
    label_field: FieldName | None = None
    """The label's position or key; ``None``: the item after the path (after the
    group, where the group field is that item: ``["a.png", "P17", 0]``), or
    the ``label`` key of an object entry."""
    group_pattern: re.Pattern[str] | None = None
    """Finds the group in the normalised path; ``None``: no groups (unless
    `group_field` is given)."""
    group_field: FieldName | None = None
    """The position or key of the entry's group, read as text (`group_text`);
    ``None``: no groups (unless `group_pattern` is given)."""
    label_separator: str | None = None
    """Where a label written as text joins several names, the text between
    them (``|`` in NIH's ``Data_Entry_2017.csv``: ``Effusion|Nodule``): such a
    label reads as the list of its names, and an integer (a table's cell
    ``3``) as the one name it writes (`named`). ``None``: a label is read as
    written."""

    def __post_init__(self) -> None:
        both = one_way_to_group(self.group_pattern, self.group_field)
        if both is not None:
            raise ValueError(both)
        problem = separator_problem(self.label_separator)
        if problem is not None:
            msg = f"`label_separator` is {problem}"
            raise ValueError(msg)

    @property
    def grouped(self) -> bool:
        """Whether entries are grouped: by a group pattern or a group field."""
        return self.group_pattern is not None or self.group_field is not None

    def path(self, entry: object) -> str | None:
        """Return the path of ``entry`` as written, or ``None`` if it has none.

        Examples:
            >>> EntryFields().path(["a.png", 0]), EntryFields(path_field=1).path([0])
            ('a.png', None)
            >>> EntryFields().path([["t1.nii", "t2.nii"], "seg.nii"])
            't1.nii'
        """
        field = self.path_field
        if field is None:
            return _first_path(fields_of(entry), self.label_field, self.group_field)
        value = _field_value(entry, field)
        if _paths_first(value):
            return as_text(value[0])  # type: ignore[index, return-value]  # checked
        return value if isinstance(value, str) else None

    def no_path(self, entry: object) -> NoPath | None:
        """Say why the path field named holds no path in ``entry``, or ``None``.

        ``"missing"``: the entry has no such field (a table's row is short of
        its empty last cells); ``"null"``; ``"empty"``: ``""``; ``"no string"``:
        another value, such as an integer. ``None`` where the field holds a
        path, or no path field is named.

        Examples:
            >>> fields = EntryFields(path_field=0)
            >>> [fields.no_path(e) for e in (["a.png"], [], [None, 1], ["", 1], [7])]
            [None, 'missing', 'null', 'empty', 'no string']
        """
        field = self.path_field
        if field is None or self.path(entry):
            return None
        value: object
        if isinstance(field, int):
            if not isinstance(entry, list | tuple) or not (
                -len(entry) <= field < len(entry)
            ):
                return "missing"
            value = entry[field]
        else:
            fields = fields_of(entry)
            if not isinstance(fields, dict) or field not in fields:
                return "missing"
            value = fields[field]
        if value is None:
            return "null"
        return "empty" if isinstance(value, str) and not value else "no string"

    def label(self, entry: object) -> object | None:
        """Return the label of ``entry``, or ``None`` if it has none.

        Examples:
            >>> fields = EntryFields()
            >>> fields.label(["a.png", 1]), fields.label(["a.png", "a_mask.png"])
            (1, None)
            >>> fields.label({"image": "a.png", "label": [0, 1]})
            [0, 1]
            >>> fields.label({"image": "a.nii", "label": "a_seg.nii"}) is None
            True
        """
        field = self.label_field
        if field is not None:
            return self._names(_field_value(entry, field))
        entry = fields_of(entry)
        label = (
            entry.get(DEFAULT_LABEL_KEY)
            if isinstance(entry, dict)
            else self._after_path(entry)
            if isinstance(entry, list | tuple)
            else None
        )
        if isinstance(label, str) and names_file(label):
            return None  # a second file: a segmentation's mask, not a label
        return self._names(label)

    def _names(self, label: object) -> object | None:
        """Return ``label``, as the list of its names with a separator (`named`)."""
        separator = self.label_separator
        return label if separator is None else named(label, separator)

    def _after_path(self, entry: list[object] | tuple[object, ...]) -> object | None:
        """Return the item after the path of an array entry, or ``None``.

        The group, where the group field is that item, is passed over: the
        label of ``["a.png", "P17", 0]`` grouped by its second item is ``0``.
        """
        group = field_position(self.group_field, len(entry))
        if self.path_field is None:
            position = _path_position(entry, None, group)
        else:
            position = self.path_field if isinstance(self.path_field, int) else None
        if position is None:
            return None
        position += 1
        if position == group:
            position += 1
        return entry[position] if position < len(entry) else None

    def entry_group(self, entry: object) -> str | None:
        """Return the group of ``entry`` read from `group_field`, or ``None``.

        ``None`` without a group field, or where the entry's field is missing,
        empty or ``null`` (`group_text`).

        Examples:
            >>> fields = EntryFields(group_field=2)
            >>> fields.entry_group(["a.png", 0, 17]), fields.entry_group(["a.png", 0])
            ('17', None)
        """
        field = self.group_field
        if field is None:
            return None
        return group_text(_field_value(entry, field))

    def group(self, path: str) -> str | None:
        r"""Return the group that the pattern finds in ``path``, or ``None``.

        Examples:
            >>> fields = EntryFields(group_pattern=re.compile(r"(\d{8})_\d{3}"))
            >>> fields.group("images/00000013_005.png")
            '00000013'
        """
        pattern = self.group_pattern
        if pattern is None:
            return None
        match = pattern.search(path)
        if match is None:
            return None
        if "group" in pattern.groupindex:
            return match["group"]
        return match[1] if pattern.groups else match[0]


def separator_problem(separator: object) -> str | None:
    """Say why ``separator`` cannot part the names of a label, or ``None``.

    Said of the separator: ``empty; give ...``, as the option or argument that
    gave it names it.

    Examples:
        >>> print(separator_problem("|"), separator_problem(""))
        None empty; give the text between the names of a label, such as '|'
    """
    if separator is None or (isinstance(separator, str) and separator):
        return None
    what = "empty" if separator == "" else f"{preview(separator)}, no text"
    return f"{what}; give the text between the names of a label, such as '|'"


def named(label: object, separator: str) -> object:
    """Return ``label`` read with a label separator: the names it stands for.

    Text is the names it joins (`label_names`); an integer (not ``true``) is
    the one name it writes, as a table's cell ``3`` beside cells ``3|7`` is
    the finding ``3``; any other label (a list, ``None``) is kept as it is.

    Examples:
        >>> named("3|7", "|"), named(3, "|"), named(["a"], "|"), named(None, "|")
        (['3', '7'], ['3'], ['a'], None)
    """
    if isinstance(label, str):
        return label_names(label, separator)
    if type(label) is int:
        return [str(label)]
    return label


def label_names(label: str, separator: str) -> list[str]:
    """Return the names that ``label`` joins with ``separator``, in its order.

    Spaces around a name are not part of it; a label that names nothing (``""``)
    has no name, and is no class (as an empty list of names).

    Examples:
        >>> label_names("Effusion|Nodule", "|"), label_names("No Finding", "|")
        (['Effusion', 'Nodule'], ['No Finding'])
        >>> label_names("effusion, nodule", ","), label_names("", "|")
        (['effusion', 'nodule'], [])
    """
    return [name for part in label.split(separator) if (name := part.strip())]


def describe_entries(entries: Sequence[object]) -> str:
    """Say what ``entries`` hold, from the first, and which fields to name.

    Examples:
        >>> describe_entries([["a.png", 0]])
        'arrays of 2 items (such as ["a.png", 0]); give a position from 0 to 1'
    """
    first = fields_of(entries[0]) if entries else None
    if isinstance(first, dict):
        keys = ", ".join(f"`{key}`" for key in first)
        return f"objects with the keys {keys}; name one of them"
    if isinstance(first, list | tuple):
        return (
            f"arrays of {len(first)} items (such as {preview(first)}); give a "
            f"position from 0 to {len(first) - 1}"
        )
    return f"{type(first).__name__} values such as {preview(first)}"


def one_field_for_both(
    path_field: FieldName | None,
    label_field: FieldName | None,
    *,
    named: tuple[str, str] = ("path_field", "label_field"),
) -> str | None:
    """Say that one field is named for the path and the label, if so.

    ``named`` are the two options as the caller spells them (`--path-field`).

    Examples:
        >>> print(one_field_for_both(0, 0))
        `path_field` and `label_field` both name `0`; the label is another field \
than the path: name each its own
    """
    if path_field is None or path_field != label_field:
        return None
    path_option, label_option = named
    return (
        f"`{path_option}` and `{label_option}` both name `{path_field}`; the label "
        "is another field than the path: name each its own"
    )


def field_held_nowhere(
    kind: Literal["path", "label", "group"],
    fields: EntryFields,
    values: Iterable[object],
    columns: Sequence[str] = (),
) -> str | None:
    """Say that the path, label or group field named holds nothing in ``values``.

    ``values`` are the paths, labels or groups read from the entries (``None``
    where an entry has none); a field left to its default (or unnamed) is never
    blamed. A field is named by its column in ``columns`` (`field_shown`).

    Examples:
        >>> field_held_nowhere("label", EntryFields(label_field="lbl"), [None])
        'the label field `lbl` holds a label in no entry'
        >>> field_held_nowhere("label", EntryFields(label_field=1), [0, None]) is None
        True
        >>> field_held_nowhere("group", EntryFields(group_field="PatientID"), [None])
        'the group field `PatientID` holds a group in no entry'
    """
    name = (
        fields.path_field
        if kind == "path"
        else fields.label_field
        if kind == "label"
        else fields.group_field
    )
    if name is None or any(value is not None for value in values):
        return None
    what = "a path (a string)" if kind == "path" else f"a {kind}"
    return f"the {kind} field `{field_shown(name, columns)}` holds {what} in no entry"


def field_shown(field: FieldName, columns: Sequence[str] = ()) -> str:
    """Return how a message names a field: a CSV table's column by its name.

    ``columns`` are the names of the entries' items (a table's header), if
    known; a position among them is named by its column, any other field as
    it is.

    Examples:
        >>> field_shown(1, ("ImageID", "PatientID")), field_shown(2), field_shown("id")
        ('PatientID', '2', 'id')
    """
    if isinstance(field, int) and 0 <= field < len(columns):
        return columns[field]
    return str(field)


def _first_path(
    entry: object, label_field: FieldName | None, group_field: FieldName | None = None
) -> str | None:
    """Return the first string of ``entry`` but its label, or its first item's path.

    The label is at ``label_field``, or under the ``label`` key of an object
    when no label field is named: a label written before the path
    (``{"label": "tb", "path": "a.png"}``) is never taken for the path, nor
    is a group (a patient) at ``group_field`` (``["P17", "a.png", 0]``).
    """
    kind = type(entry)
    if kind is list or kind is tuple:
        items: Sequence[object] = entry  # type: ignore[assignment]  # list or tuple
        position = _path_position(
            items,
            field_position(label_field, len(items)),
            field_position(group_field, len(items)),
        )
        if position is None:
            return None
        found = items[position]
        if type(found) in (list, tuple):  # paths: of one image's modalities
            found = found[0]  # type: ignore[index]  # a list of paths
        return found if type(found) is str else as_text(found)  # type: ignore[return-value]  # a path
    if kind is str:
        return entry  # type: ignore[return-value]  # checked above
    if kind is dict:
        key = path_key(entry, label_field, group_field)  # type: ignore[arg-type]  # a dict
        if key is None:
            return None
        value = entry[key]  # type: ignore[index]  # a dict
        return value if type(value) is str else as_text(value)  # type: ignore[return-value]  # a path
    return None


def _path_position(
    items: Sequence[object], skip: int | None, group: int | None
) -> int | None:
    """Return where the path of an array entry is, or ``None`` if it has none.

    That is its first item that is a path, or a list of paths first (the
    modalities of one image), passing over the label at ``skip`` and the group
    at ``group``.
    """
    if items and skip != 0 and group != 0 and _paths_first(items[0]):
        return 0
    return next(  # `_is_path`, written out: a call per item costs a sixth
        (
            i
            for i, x in enumerate(items)
            if (
                type(x) is str
                or (type(x) not in JSON_TYPES and isinstance(x, os.PathLike))
            )
            and i not in (skip, group)
        ),
        None,
    )


def _is_path(value: object) -> bool:
    """Whether ``value`` is a path: a string, or a path object (`os.PathLike`)."""
    return type(value) is str or is_path_object(value)


def is_path_object(value: object) -> bool:
    """Whether ``value`` is a path object (`os.PathLike`), such as a `Path`.

    The types JSON reads are told at once: the check of the ABC is slow, and
    runs for each item of each entry where entries are read.
    """
    return type(value) not in JSON_TYPES and isinstance(value, os.PathLike)


JSON_TYPES: Final = frozenset({str, int, float, bool, type(None), list, dict, tuple})
"""The types of the values JSON reads (tuples too, as sample types make them)."""


def field_position(field: FieldName | None, length: int) -> int | None:
    """Return the position ``field`` names in an array of ``length`` items."""
    if not isinstance(field, int) or not -length <= field < length:
        return None
    return field % length


def path_key(
    entry: dict[str, object],
    label_field: FieldName | None,
    group_field: FieldName | None = None,
) -> str | None:
    """Return the key of an object entry's path when no path field is named.

    The first key of a path that is neither the label's nor the group's.

    Examples:
        >>> path_key({"label": "tb", "image": "a.png"}, None)
        'image'
        >>> path_key({"PatientID": "P17", "image": "a.png"}, None, "PatientID")
        'image'
    """
    label = DEFAULT_LABEL_KEY if label_field is None else label_field
    return next(
        (k for k, v in entry.items() if _is_path(v) and k not in (label, group_field)),
        None,
    )


def _paths_first(value: object) -> bool:
    """Whether ``value`` is a list of paths (an image of several modalities)."""
    return (
        type(value) in (list, tuple) and bool(value) and all(map(_is_path, value))  # type: ignore[call-overload]  # list or tuple
    )


def fields_of(entry: object) -> object:
    """Return the fields of a typed entry as a dict, by name.

    Dataclasses, named tuples and pydantic models (under their field names and
    their aliases, as JSON spells them) are read as objects are, by key: the
    path is their first string but the label, the label their ``label`` field.
    A path object (`os.PathLike`, which a sample type may make of a path) is
    read as its text, as a split file writes it. Entries read from JSON
    (lists, dicts, strings) come back as they are.

    Examples:
        >>> from dataclasses import dataclass
        >>> @dataclass
        ... class Entry:
        ...     path: str
        ...     label: int
        >>> fields_of(Entry("a.png", 1)), fields_of(["a.png", 1])
        ({'path': 'a.png', 'label': 1}, ['a.png', 1])
    """
    kind = type(entry)
    if kind is str or kind is list or kind is tuple or kind is dict:
        return entry  # path objects in them are read where paths are looked for
    if isinstance(entry, tuple):
        named = getattr(entry, "_asdict", None)  # a named tuple's
        return _texts(named()) if callable(named) else tuple(map(as_text, entry))
    found = _declared_fields(entry)
    return entry if found is None else _texts(found)


def _declared_fields(entry: object) -> dict[str, object] | None:
    """Return the fields of a dataclass or pydantic model by name, else ``None``.

    A pydantic model's are also under their aliases, as JSON spells them.
    """
    if dataclasses.is_dataclass(entry) and not isinstance(entry, type):
        return {f.name: getattr(entry, f.name) for f in dataclasses.fields(entry)}
    declared = getattr(type(entry), "model_fields", None)  # a pydantic model's
    if not isinstance(declared, dict):
        return None
    found = {name: getattr(entry, name) for name in declared}
    for name, info in declared.items():
        alias = getattr(info, "alias", None)
        if isinstance(alias, str):
            found.setdefault(alias, found[name])
    return found


def as_text(value: object) -> object:
    """Return a path object (`os.PathLike`) as its text; any other value as it is."""
    if is_path_object(value):
        text = os.fspath(value)  # type: ignore[call-overload]  # a path object
        return text if isinstance(text, str) else value
    return value


def _texts(fields: dict[str, object]) -> dict[str, object]:
    """Return ``fields`` with path objects as their text (`as_text`)."""
    if any(map(is_path_object, fields.values())):
        return {key: as_text(value) for key, value in fields.items()}
    return fields


def _field_value(entry: object, field: FieldName) -> object | None:
    """Return the field of ``entry`` (a position or a key), or ``None``."""
    if isinstance(field, int):
        if isinstance(entry, list | tuple) and -len(entry) <= field < len(entry):
            return as_text(entry[field])
        return None
    entry = fields_of(entry)
    if isinstance(entry, dict):
        return as_text(entry.get(field))
    return None


@dataclass(frozen=True, slots=True)
class SetFields:
    """The fields of every entry of one set, in set order."""

    paths: list[str | None]
    """The normalised path of each entry, or ``None`` for an entry without one."""
    labels: list[object | None]
    """The label of each entry, or ``None``."""
    tally: Counter[Hashable]
    """How many entries have each different label (`tally_labels`)."""
    found_groups: "list[str | None] | _Cut | None"
    """`groups`, or what cuts them out of `paths` when first asked for."""
    group_set: frozenset[str] | None
    """The different groups of the set, ``None`` without groups."""
    ungrouped: bool
    """Whether an entry has no group (the pattern does not match its path, or
    its group field holds nothing)."""
    backslashed: bool = False
    """Whether a path holds a backslash ``\\`` (a separator on Windows alone)."""
    spaced: bool = False
    """Whether a path starts or ends with a space or tab (`edge_spaced`)."""
    pathless: bool = False
    """Whether an entry has no path (`paths` holds ``None``)."""
    pairs: bool = False
    """Whether every entry is an array of two items, its path, written with no
    space, and an integer (not ``true``, not ``1.0``) or a string with no space
    (a label, or a second file such as a mask): the entries whose split's hash
    `text_sha256` may read from the split's text."""
    separated: bool | None = None
    """With a label separator: whether a label written as text holds it (else
    each label is one name, and the separator likely not the labels'); ``None``
    without one."""

    @property
    def groups(self) -> list[str | None] | None:
        """The group of each entry, or ``None`` for all without groups.

        An entry's group is ``None`` where the pattern does not match its path,
        or the group field holds nothing. Groups cut out of paths of one shape
        are cut when first asked for: most checks need only `group_set`, found
        without a list of 100,000 strings.
        """
        found = self.found_groups
        if isinstance(found, _Cut):
            found = list(map(found.cut, self.paths))  # type: ignore[arg-type]  # no None in a shape
            object.__setattr__(self, "found_groups", found)
        return found


class _Cut(NamedTuple):
    """Cuts the group out of each path of a set, all of one shape (`SetFields`)."""

    cut: Callable[[str], str]


def _raw_paths(
    samples: Sequence[object], fields: EntryFields
) -> tuple[list[str | None], bool, str | None]:
    """Return the path of each entry as written (see `EntryFields.path`).

    Also return whether every entry is an array whose first item is its path,
    and, where every entry is such an array, the paths joined by line ends
    (joining them tells that all are strings).
    """
    field = fields.path_field
    label = fields.label_field
    first_is_path = field == 0 or (
        field is None
        and (label is None or isinstance(label, str) or label > 0)
        and fields.group_field != 0
    )
    if samples and first_is_path:
        # The usual entries, arrays with the path first, read in one pass:
        # `list.__getitem__` refuses anything but a list, `_first_items` reads
        # tuples too.
        try:
            firsts: list[object] | None = list(map(_ITEM, samples, repeat(0)))  # type: ignore[arg-type]  # lists, or TypeError
        except TypeError:  # not a list
            firsts = _first_items(samples)
        except IndexError:
            firsts = None
        if firsts is not None:
            try:
                text = "\n".join(firsts)  # type: ignore[arg-type]  # or TypeError
            except TypeError:  # a path that is no string
                pass
            else:
                return firsts, True, text  # type: ignore[return-value]  # strings
    return [fields.path(entry) for entry in samples], False, None


_ITEM: Final = list.__getitem__
"""An item of a list: of lists alone (else `TypeError`)."""


def _first_items(samples: Sequence[object]) -> list[object] | None:
    """Return the first item of each of ``samples``, if all are lists or tuples."""
    if not set(map(type, samples)) <= {list, tuple}:
        return None
    try:
        return [entry[0] for entry in samples]  # type: ignore[index]  # arrays
    except IndexError:
        return None


_SLASHED: Final = bytes.maketrans(b".\n", b"//")
"""Turns each ``.`` and line end into ``/``: see `_normalized`."""


def written_paths(samples: Sequence[object], fields: EntryFields) -> list[str | None]:
    """Return the path of each entry as written (`EntryFields.path`), or ``None``.

    Arrays with their path first are read in one pass.

    Examples:
        >>> written_paths([["./a.png", 0], ["b.png"], [7]], EntryFields())
        ['./a.png', 'b.png', None]
    """
    return _raw_paths(samples, fields)[0]


def set_paths(samples: Sequence[object], fields: EntryFields) -> list[str | None]:
    """Return the normalised path of each entry (`EntryFields.path`), or ``None``."""
    raw, _, text = _raw_paths(samples, fields)
    return _normalized(raw, text)[0]


_FOLDER_AND_SUFFIX: Final = re.compile(r"(?m)^[^\n]*/[^\n]*\.[A-Za-z][A-Za-z0-9]{0,4}$")
"""A line that names a file by its folder and suffix (see `names_file`)."""


def file_paths(samples: Sequence[object]) -> list[str | None]:
    """Return the normalised path of the file each entry names, or ``None``.

    That is its first string that names a file (`names_file`), else its first
    string: a table's row ``["P003", "p3/a.png", 1]`` is told by its image, not
    by the patient it shares with others, as checkpoints tell entries apart.
    Paths that all have a folder and a suffix are taken at once.
    """
    paths = set_paths(samples, EntryFields())
    present = [path for path in paths if path is not None]
    named = sum(1 for _ in _FOLDER_AND_SUFFIX.finditer("\n".join(present)))
    if named == len(present):
        return paths
    return [
        path if path is None or names_file(path) else _file_of(entry, path)
        for path, entry in zip(paths, samples, strict=True)
    ]


def _file_of(entry: object, first: str) -> str:
    """Return the first string of ``entry`` that names a file, else ``first``."""
    entry = fields_of(entry)
    if isinstance(entry, str | bytes):
        return first
    items = entry.values() if isinstance(entry, dict) else entry
    for item in items if isinstance(items, Iterable) else ():
        text = as_text(item)
        if isinstance(text, str) and names_file(text):
            return normalize_path(text)
    return first


def _normalized(
    paths: list[str | None], text: str | None = None, shape: str | None = None
) -> tuple[list[str | None], str]:
    r"""Return ``paths`` normalised, testing them at once for the usual case.

    Also return them joined by line ends, ``None`` left out (`_joined`):
    ``text`` is ``paths`` so joined, if the caller has it. ``paths`` itself is
    returned when no path changes.

    A path needs `normalize_path` when it starts with ``.``, ends with ``/``
    or holds ``/.`` or ``//``: joined by line ends, with each ``.`` and line
    end then made a ``/``, no path does if the text has no ``//`` (one search
    instead of four; a ``..`` or ``.\n`` in a name only sends all to the
    slow path). Text that is not ASCII must also be composed already (NFC).
    Where every path has the same ``shape`` (`_shared_shape`) and is ASCII,
    none changes if the first does not: where its ``.`` and ``/`` are, and
    so what `normalize_path` does, is the shape's.
    """
    if text is None:
        text = _joined(paths)
    first = paths[0] if shape is not None and text.isascii() else None
    if first is not None and normalize_path(first) == first:
        return paths, text
    if not (
        text.startswith(".")
        or text.endswith("/")
        or b"//" in text.encode("utf-8", "surrogatepass").translate(_SLASHED)
        or not (text.isascii() or unicodedata.is_normalized("NFC", text))
    ):
        return paths, text  # no path has a `.`, `..` or empty component
    normal = [None if path is None else normalize_path(path) for path in paths]
    return normal, _joined(normal)


def _joined(paths: list[str | None]) -> str:
    """Return ``paths`` joined by line ends, ``None`` left out."""
    if None in paths:
        return "\n".join([path for path in paths if path is not None])
    return "\n".join(paths)  # type: ignore[arg-type]  # no None


def _labels(
    samples: Sequence[object], fields: EntryFields, *, path_first: bool
) -> tuple[list[object | None], set[type] | None, bool, bool | None]:
    """Return the label of each entry (see `EntryFields.label`), as `_written_labels`.

    With a label separator (`EntryFields.label_separator`), each label is the
    list of the names it stands for (`named`); the last value says whether a
    label written as text holds the separator (``None`` without one).
    """
    separator = fields.label_separator
    if separator is None:
        return (*_written_labels(samples, fields, path_first=path_first), None)
    written = dataclasses.replace(fields, label_separator=None)
    labels, _, pairs = _written_labels(samples, written, path_first=path_first)
    held = any(separator in label for label in labels if type(label) is str)
    return [named(label, separator) for label in labels], None, pairs, held


def _written_labels(
    samples: Sequence[object], fields: EntryFields, *, path_first: bool
) -> tuple[list[object | None], set[type] | None, bool]:
    """Return the label of each entry (see `EntryFields.label`).

    ``path_first`` says that every entry is an array whose first item is its
    path, so that the label is the second item. Also return the types of the
    labels where they were told (else ``None``), and whether every entry is a
    pair of its path and an integer (not ``true``, not ``1.0``) or a string
    with no space (`SetFields.pairs`).
    """
    if path_first and fields.label_field is None and fields.group_field != 1:
        arrays = cast("Sequence[Sequence[object]]", samples)
        pairs = True
        try:
            labels: list[object | None] = [label for _, label in arrays]
        except ValueError:  # an entry of more or fewer than two items
            pairs = False
            try:
                labels = [entry[1] for entry in arrays]
            except IndexError:  # an entry with a path alone
                return [fields.label(entry) for entry in samples], None, False
        kinds = set(map(type, labels))
        if str not in kinds:  # no label that may be a file
            return labels, kinds, pairs and kinds == {int}
        if kinds == {str}:
            text = "\n".join(labels)  # type: ignore[arg-type]  # all strings
            files = _files_among(labels, text)  # type: ignore[arg-type]
            if files is not None:
                plain = pairs and " " not in text
                if files:  # a second file each, such as a mask: no label
                    return [None] * len(labels), {type(None)}, plain
                return labels, kinds, plain
        # a second file, such as a segmentation mask, is no label
        return (
            [
                None if type(label) is str and names_file(label) else label
                for label in labels
            ],
            None,
            False,
        )
    return [fields.label(entry) for entry in samples], None, False


def _files_among(strings: list[str], text: str) -> bool | None:
    """Whether all ``strings`` name files (True) or none does (False).

    Told from ``text``, the strings joined by line ends: none does without a
    ``.``; all do when every line ends with the first string's suffix, one of
    `DATA_SUFFIXES`, as a segmentation split's second strings (``masks/a.png``)
    do. ``None`` otherwise, or when a string holds a line end: test each
    (`names_file`).
    """
    if text.count("\n") != len(strings) - 1:
        return None  # a string with a line end
    if "." not in text:
        return False
    suffix = FILE_SUFFIX.search(strings[0])
    if (
        suffix is None
        or suffix[0].lower() not in DATA_SUFFIXES  # a file by its folder alone
        or not text.endswith(suffix[0])
    ):
        return None
    return text.count(f"{suffix[0]}\n") == len(strings) - 1 or None


def path_groups(
    paths: list[str | None],
    pattern: re.Pattern[str],
    text: str | None = None,
    *,
    shape: str | None = None,
) -> list[str | None]:
    """Return the group the pattern finds in each path (`EntryFields.group`).

    ``text`` is ``paths`` joined by line ends, if the caller has it and none
    is ``None``. ``shape`` is the shape of every path, where the caller found
    that they share one (`_shared_shape`) and the pattern is blind to digits.
    """
    if shape is not None:
        return _groups_in_shape(paths, pattern, shape)
    if text is not None or None not in paths:
        text = "\n".join(paths) if text is None else text  # type: ignore[arg-type]  # no None
        found = _groups_by_shape(paths, pattern, text)  # type: ignore[arg-type]
        if found is None:
            found = _groups_at_once(paths, pattern, text)  # type: ignore[arg-type]
        if found is not None:
            return found
    which = _which_group(pattern)
    return [
        None if match is None or path is None else match[which] or None
        for match, path in zip(
            map(pattern.search, [path or "" for path in paths]), paths, strict=True
        )
    ]


def _which_group(pattern: re.Pattern[str]) -> int | str:
    """Return the group of ``pattern`` that names a path's group."""
    return "group" if "group" in pattern.groupindex else int(pattern.groups > 0)


_ZEROS: Final = str.maketrans("123456789", "000000000")
"""Writes every ASCII digit as ``0``: a path's *shape* (see `_groups_by_shape`)."""

_ZERO_BYTES: Final = bytes.maketrans(b"123456789", b"000000000")
"""`_ZEROS` for text encoded as UTF-8 (whose other bytes are no ASCII digit)."""

_SHAPES_SAMPLED: Final = 2_000
"""Paths whose shapes are counted before all are (see `_groups_by_shape`)."""

_SHAPES_AT_MOST: Final = 8
"""Paths per different shape, at the fewest, for finding groups by shape to pay."""


def _groups_by_shape(
    paths: list[str], pattern: re.Pattern[str], text: str | None = None
) -> list[str | None] | None:
    """Return the group of every path, searched once per shape; ``None`` if not.

    A path's shape is the path with each ASCII digit written ``0``. A pattern
    that cannot tell one ASCII digit from another (`_blind_to_digits`) makes
    the same decisions on a path and on its shape, so it finds its group at
    the same place in both. Names of medical images differ mostly in digits
    (``images/00012345_001.png``): most splits have a handful of shapes, and
    each is searched once, the groups cut out of the paths at the places found.
    ``text`` is ``paths`` joined by line ends, if the caller has it. ``None``
    (search each path) for a pattern that tells digits apart, a path with a
    line end, or paths with too many shapes for this to pay.
    """
    if not _shapes_pay(paths, pattern):
        return None  # names that differ in more than digits: not worth it
    text = "\n".join(paths) if text is None else text
    if text.count("\n") != len(paths) - 1:
        return None  # a path with a line end
    return _groups_of_shapes(paths, text, pattern)


def _shapes_pay(paths: list[str], pattern: re.Pattern[str]) -> bool:
    """Whether ``pattern`` is blind to digits and the first paths share few shapes.

    The shapes of the first `_SHAPES_SAMPLED` paths are counted: at least
    `_SHAPES_AT_MOST` paths per shape.
    """
    if not paths or not _blind_to_digits(pattern.pattern, pattern.flags):
        return False
    sample = "\n".join(paths[:_SHAPES_SAMPLED]).translate(_ZEROS).split("\n")
    return len(set(sample)) * _SHAPES_AT_MOST <= len(sample)


def groups_by_shape(samples: Sequence[object], fields: EntryFields) -> bool:
    """Whether `set_groups` likely finds the groups of ``samples`` by shape.

    Read from the first `_SHAPES_SAMPLED` entries alone (under a millisecond),
    so that a caller can tell whether the groups of a large set are quick to
    find before it reads all of them.
    """
    pattern = fields.group_pattern
    if pattern is None:
        return False
    paths = set_paths(samples[:_SHAPES_SAMPLED], fields)
    return None not in paths and _shapes_pay(paths, pattern)  # type: ignore[arg-type]  # no None


def _groups_of_shapes(
    paths: list[str], text: str, pattern: re.Pattern[str]
) -> list[str | None] | None:
    """Return the groups of ``paths``, which ``text`` joins by line ends.

    The shapes are found in the text encoded as UTF-8, a byte at a time.
    ``None`` for too many shapes.
    """
    which = _which_group(pattern)
    shaped = text.encode("utf-8", "surrogatepass").translate(_ZERO_BYTES)
    first = _one_shape(paths, shaped)
    if first is not None:
        return _groups_in_shape(paths, pattern, first)
    shapes = shaped.decode("utf-8", "surrogatepass").split("\n")
    spans = {shape: _group_span(pattern, shape, which) for shape in set(shapes)}
    if len(spans) * _SHAPES_AT_MOST > len(paths):
        return None
    return [
        None if span is None else path[span[0] : span[1]]
        for path, span in zip(paths, map(spans.__getitem__, shapes), strict=True)
    ]


def _one_shape(paths: Sequence[str], shaped: bytes) -> str | None:
    """Return the shape of every path of ``paths``, if all have the first's.

    ``shaped`` is the paths joined by line ends, as UTF-8, digits made ``0``.
    """
    first = paths[0].translate(_ZEROS)
    line = first.encode("utf-8", "surrogatepass") + b"\n"
    return first if _repeated(shaped, line, len(paths)) else None


_BLOCK: Final = 1 << 15
"""Bytes compared at a time by `_repeated` (without copying the text)."""


def _repeated(text: bytes, line: bytes, count: int) -> bool:
    """Whether ``text`` is ``line`` ``count`` times over, less the last byte.

    Compared a block of lines at a time, in place: building the repeated text
    and ``text`` with its last byte, to compare them whole, costs more (two
    copies of megabytes, each new memory).
    """
    whole = len(line) * count  # the length of ``text`` with its last byte
    if len(text) + 1 != whole:
        return False
    block = line * max(1, _BLOCK // len(line))
    last = (whole - 1) // len(block) * len(block)  # the block with the last byte
    return all(text.startswith(block, at) for at in range(0, last, len(block))) and (
        text[last:] + line[-1:] == block[: whole - last]
    )


def _shared_shape(paths: list[str], text: str) -> str | None:
    """Return the shape that every path of ``paths`` has, if they share one.

    ``text`` is the paths joined by line ends. The first `_SHAPES_SAMPLED`
    paths are tested first, so that paths of many shapes cost little.
    """
    if not paths:
        return None
    sample = "\n".join(paths[:_SHAPES_SAMPLED]).encode("utf-8", "surrogatepass")
    if _one_shape(paths[:_SHAPES_SAMPLED], sample.translate(_ZERO_BYTES)) is None:
        return None
    if not text.isascii():
        return _one_shape(
            paths, text.encode("utf-8", "surrogatepass").translate(_ZERO_BYTES)
        )
    first = paths[0].translate(_ZEROS)
    line = first.encode("ascii") + b"\n"
    return first if _shaped_lines(text, line, len(paths)) else None


def _shaped_lines(text: str, line: bytes, count: int) -> bool:
    """Whether ASCII ``text`` is ``count`` lines, each ``line`` once shaped.

    The last line without its line end; shaped as `_one_shape` shapes them,
    a block of lines at a time: the text shaped whole would be two copies of
    megabytes, each new memory (a page fault every 4 KiB, which costs as much
    as shaping them).
    """
    if len(text) + 1 != len(line) * count:
        return False
    block = line * max(1, _BLOCK // len(line))
    size = len(block)
    return all(
        text[at : at + size].encode("ascii").translate(_ZERO_BYTES)
        == block[: len(text) - at]
        for at in range(0, len(text), size)
    )


def _groups_in_shape(
    paths: Sequence[str | None], pattern: re.Pattern[str], shape: str
) -> list[str | None]:
    """Return the groups of ``paths``, which all have ``shape``.

    Each is cut where the pattern, blind to digits, finds the group in the shape.
    """
    cut = _shape_cut(pattern, shape)
    if cut is None:
        return [None] * len(paths)
    return list(map(cut, paths))  # type: ignore[arg-type]  # no None in a shape


def _shape_cut(pattern: re.Pattern[str], shape: str) -> Callable[[str], str] | None:
    """Return what cuts the group out of a path of ``shape``; ``None`` if it has none.

    The pattern, blind to digits, finds the group at the same place in every
    path of the shape as in the shape itself.
    """
    span = _group_span(pattern, shape, _which_group(pattern))
    return None if span is None else itemgetter(slice(*span))


def _group_span(
    pattern: re.Pattern[str], path: str, which: int | str
) -> tuple[int, int] | None:
    """Return where the group is in ``path``; ``None`` without one or if empty."""
    match = pattern.search(path)
    if match is None:
        return None
    start, end = match.span(which)
    return None if start == end else (start, end)  # (-1, -1): did not take part


@cache
def _blind_to_digits(pattern: str, flags: int) -> bool:
    r"""Whether ``pattern`` matches alike wherever one ASCII digit replaces another.

    True when no literal, class range or back reference of the pattern tells
    ASCII digits apart: ``(\d{8})_\d{3}``, ``[0-9a-f]+``, ``(\w+)/``; not
    ``case_1``, ``[1-5]`` or ``(\d)\1``. Read from the parse that `re`
    makes of the pattern; False for anything in it that is not known here.
    """
    try:
        tree = importlib.import_module("re._parser").parse(pattern, flags)
        return _DigitBlind(importlib.import_module("re._constants")).items(tree)
    except Exception:  # another Python's parser: search each path
        return False


_DIGIT_CODES: Final = range(ord("0"), ord("9") + 1)
"""The code points of the ASCII digits."""


class _DigitBlind:
    """Reads the parse of a pattern (``re._parser``) for `_blind_to_digits`."""

    def __init__(self, codes: ModuleType) -> None:
        self.codes = codes
        self.repeats = {codes.MAX_REPEAT, codes.MIN_REPEAT, codes.POSSESSIVE_REPEAT}

    def items(self, items: Iterable[tuple[Any, Any]]) -> bool:
        """Whether parsed ``items`` treat every ASCII digit alike."""
        codes = self.codes
        for code, value in items:
            if code in (codes.LITERAL, codes.NOT_LITERAL):
                blind = value not in _DIGIT_CODES
            elif code == codes.IN:
                blind = all(map(self.member, value))
            elif code in (codes.ANY, codes.AT):
                blind = True
            elif code in self.repeats:  # (least, most, items)
                blind = self.items(value[2])
            elif code == codes.SUBPATTERN:  # (group, flags on, flags off, items)
                blind = self.items(value[3])
            elif code in (codes.ASSERT, codes.ASSERT_NOT):  # (direction, items)
                blind = self.items(value[1])
            elif code == codes.BRANCH:  # (None, branches)
                blind = all(map(self.items, value[1]))
            elif code == codes.ATOMIC_GROUP:
                blind = self.items(value)
            else:  # a back reference, a test of a group, or unknown
                blind = False
            if not blind:
                return False
        return True

    def member(self, member: tuple[Any, Any]) -> bool:
        """Whether a member of a class ``[...]`` holds all ASCII digits or none."""
        code, value = member
        codes = self.codes
        if code == codes.LITERAL:
            return value not in _DIGIT_CODES
        if code == codes.RANGE:
            low: int = value[0]
            high: int = value[1]
            first, last = _DIGIT_CODES[0], _DIGIT_CODES[-1]
            return high < first or low > last or (low <= first and high >= last)
        return code in (codes.CATEGORY, codes.NEGATE)


_LOOKING_AROUND: Final = re.compile(r"\(\?[=!<]|\\[AZ]")
"""What may see past the end of a path when paths are searched as one text."""


def _groups_at_once(
    paths: list[str], pattern: re.Pattern[str], text: str | None = None
) -> list[str | None] | None:
    r"""Return the group of every path, all searched as one text; ``None`` if not.

    Each path is a line; ``^[^\n]*?(?:pattern)[^\n]*$`` (multi-line) matches a
    line exactly as searching the path alone would, the lazy prefix taking the
    place of the search's start positions, unless the pattern crosses a line
    end: then a match spans lines, and there are fewer matches than paths. A
    pattern that looks around or at the text's ends, or is verbose, a path with
    a line end, a path without a match or an empty group: ``None``, and the
    paths are searched one by one. ``text`` is ``paths`` joined by line ends,
    if the caller has it.
    """
    if (
        not paths
        or pattern.flags & re.VERBOSE
        or _LOOKING_AROUND.search(pattern.pattern)
    ):
        return None
    # Without groups, the whole match is the group: capture it; with groups,
    # keep their numbers (for back references) and take the right one.
    opening = "(?:" if pattern.groups else "("
    try:
        lines = re.compile(
            f"^[^\\n]*?{opening}{pattern.pattern})[^\\n]*$",
            pattern.flags | re.MULTILINE,
        )
    except re.error:  # such as inline flags, which must come first
        return None
    text = "\n".join(paths) if text is None else text
    if text.count("\n") != len(paths) - 1:
        return None  # a path with a line end
    found = lines.findall(text)  # strings, or tuples of them with several groups
    if len(found) != len(paths):
        return None  # a path without a match, or a match across paths
    groups: list[str | None] = (
        list(map(itemgetter(lines.groupindex.get("group", 1) - 1), found))
        if lines.groups > 1
        else found
    )
    return None if "" in groups else groups


def set_groups(samples: Sequence[object], fields: EntryFields) -> list[str | None]:
    """Return the group of each entry of a set (`SetFields.groups`).

    Raises:
        ValueError: if ``fields`` has neither a group pattern nor a group field.
    """
    if fields.group_field is not None:
        return field_groups(samples, fields.group_field)
    if fields.group_pattern is None:
        msg = "no group pattern or group field to find groups with"
        raise ValueError(msg)
    paths = set_paths(samples, fields)
    return path_groups(paths, fields.group_pattern)


def field_groups(samples: Sequence[object], field: FieldName) -> list[str | None]:
    """Return the group each entry's ``field`` holds (`EntryFields.entry_group`).

    Arrays holding the field, whose values are strings and integers (a CSV
    table's rows), are read in one pass.

    Examples:
        >>> field_groups([["a.png", 0, 17], ["b.png", 1, ""], ["c.png"]], 2)
        ['17', None, None]
    """
    if samples and isinstance(field, int) and set(map(type, samples)) <= {list, tuple}:
        try:
            values: list[object] = [entry[field] for entry in samples]  # type: ignore[index]  # arrays
        except IndexError:  # an entry without the field
            pass
        else:
            if set(map(type, values)) <= {str, int, type(None)}:
                return list(map(group_text, values))
    fields = EntryFields(group_field=field)
    return [fields.entry_group(entry) for entry in samples]


GroupsOf: TypeAlias = Callable[[SetName, list[str | None]], list[str | None] | None]
"""Gives the groups of a set from its name and normalised paths, if it has them."""


def index_split(
    split: Mapping[SetName, Sequence[object]],
    fields: EntryFields,
    *,
    found_groups: GroupsOf | None = None,
    last: SetName | None = None,
) -> dict[SetName, SetFields]:
    """Read the path, label and group of every entry of ``split``, set by set.

    An empty group (an optional group that did not take part in the match)
    counts as no group. ``found_groups`` may give a set's groups found by the
    group pattern (found aside, as `set_groups` finds them); the groups of set
    ``last`` are asked for after every other set is read. Groups read from a
    group field are read entry by entry (`field_groups`), not from the paths.

    Examples:
        >>> index = index_split({"train": [["./a.png", 0], ["b.png"]]}, EntryFields())
        >>> index["train"].paths, index["train"].labels
        (['a.png', 'b.png'], [0, None])
    """
    pattern = fields.group_pattern
    # the groups of paths of one shape are found once: their shape is found first
    shapes = pattern is not None and _blind_to_digits(pattern.pattern, pattern.flags)
    read: dict[SetName, _Read] = {}
    index: dict[SetName, SetFields] = {}
    for name, samples in split.items():
        raw, path_first, text = _raw_paths(samples, fields)
        labels, kinds, int_pairs, separated = _labels(
            samples, fields, path_first=path_first
        )
        # `text` is None unless every path is a string: paths as written, joined
        pairs = not samples or (int_pairs and text is not None and " " not in text)
        pathless = text is None and None in raw
        shape = None if text is None or not shapes else _shared_shape(raw, text)  # type: ignore[arg-type]  # no None
        paths, text = _normalized(raw, text, shape)
        found = _Read(
            paths,
            labels,
            kinds,
            text,
            pairs=pairs,
            pathless=pathless,
            separated=separated,
            shape=shape if paths is raw else None,  # the shape of paths as written
        )
        if pattern is None:
            groups = (
                None
                if fields.group_field is None
                else field_groups(samples, fields.group_field)
            )
            index[name] = found.fields(
                (None, None, False) if groups is None else (groups, *_group_set(groups))
            )
        else:
            read[name] = found
    if pattern is None:
        return index
    order = sorted(split, key=lambda name: name == last)  # stable: `last` last
    grouped: dict[SetName, tuple[list[str | None] | _Cut, frozenset[str], bool]] = {}
    for name in order:
        evaluated = name in EVALUATION_SET_NAMES  # a leak is between evaluated sets
        earlier = [g[1] for n, g in grouped.items() if n in EVALUATION_SET_NAMES]
        grouped[name] = _grouped(
            name, read[name], pattern, found_groups, earlier if evaluated else ()
        )
    for name, found in read.items():
        index[name] = found.fields(grouped[name])
    return index


def edge_spaced(text: str) -> bool:
    r"""Whether a line of ``text`` (paths joined by line ends) has edge spaces.

    A space or a tab, at the start or the end of the line.

    Examples:
        >>> edge_spaced("a.png\nb.png"), edge_spaced("a.png \nb.png")
        (False, True)
        >>> edge_spaced("my scans/a.png\n\tb.png")
        True
    """
    if " " not in text and "\t" not in text:  # the usual case, found at once
        return False
    return any(
        (text.startswith(space) or text.endswith(space))
        or f"{space}\n" in text
        or f"\n{space}" in text
        for space in " \t"
    )


class _Read(NamedTuple):
    """What `index_split` reads of a set's entries before their groups."""

    paths: list[str | None]
    labels: list[object | None]
    kinds: set[type] | None
    """The types of the labels, where `_labels` told them."""
    text: str
    """The paths joined by line ends, ``None`` left out."""
    pairs: bool
    pathless: bool
    shape: str | None
    """The shape of every path, if they share one (`_shared_shape`)."""
    separated: bool | None = None
    """Whether a label holds the label separator; ``None`` without one."""

    def fields(
        self,
        grouped: tuple[list[str | None] | _Cut | None, frozenset[str] | None, bool],
    ) -> SetFields:
        """Return the set's fields, given ``grouped`` (see `_grouped`)."""
        groups, group_set, ungrouped = grouped
        return SetFields(
            self.paths,
            self.labels,
            tally_labels(self.labels, self.kinds),
            groups,
            group_set,
            ungrouped=ungrouped,
            backslashed="\\" in self.text,
            spaced=edge_spaced(self.text),
            pairs=self.pairs,
            pathless=self.pathless,
            separated=self.separated,
        )


def _grouped(
    name: SetName,
    read: _Read,
    pattern: re.Pattern[str],
    found_groups: GroupsOf | None,
    earlier: Sequence[frozenset[str]] = (),
) -> tuple[list[str | None] | _Cut, frozenset[str], bool]:
    """Return a set's groups, its different groups, and whether one is missing.

    Paths of one shape give what cuts their groups out (`SetFields.groups`)
    and their different groups, cut once each: each cut that repeats one is
    freed at once, and its memory used again (new memory costs a page fault
    every 4 KiB, as long as cutting them). Unless the groups of its first
    entries are in the ``earlier`` sets' groups (`_LEAK_SAMPLE`): a leak will
    list its groups, and its different groups are found from that list, not
    cut twice.
    """
    paths = read.paths
    groups = None if found_groups is None else found_groups(name, paths)
    cut = (
        None
        if groups is not None or read.shape is None
        else _shape_cut(pattern, read.shape)
    )
    if cut is not None:
        shaped = cast("list[str]", paths)  # no None in a shape
        sample = frozenset(map(cut, shaped[:_LEAK_SAMPLE]) if earlier else ())
        if all(map(sample.isdisjoint, earlier)):
            return _Cut(cut), frozenset(map(cut, shaped)), False
        listed = list(map(cut, shaped))
        return cast("list[str | None]", listed), frozenset(listed), False
    if groups is None or len(groups) != len(paths):
        text = None if read.pathless else read.text
        groups = path_groups(paths, pattern, text, shape=read.shape)
    return groups, *_group_set(groups)


_LEAK_SAMPLE: Final = 1_000
"""Entries of a set whose groups, found in those of other sets, tell a leak."""


def _group_set(groups: list[str | None]) -> tuple[frozenset[str], bool]:
    """Return the different groups of a set, and whether an entry has none."""
    found: frozenset[str | None] = frozenset(groups)
    ungrouped = None in found
    if ungrouped:
        found -= {None}
    return found, ungrouped  # type: ignore[return-value]  # None left out
