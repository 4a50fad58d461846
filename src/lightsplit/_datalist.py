"""Medical Segmentation Decathlon datalists, read and written as split sets.

A datalist (as MONAI's ``load_decathlon_datalist`` reads it) holds
``training``, ``validation`` and ``test`` arrays of ``{"image": ..., "label":
...}`` items; ``test`` items may also be plain paths.
"""

import difflib
from collections.abc import Sequence
from pathlib import Path
from typing import Final

from ._codec import Sets, fail, items_of, json_lines, load_json
from ._errors import json_kind, preview

__all__ = ["DATALIST_SETS", "read_datalist", "write_datalist"]

DATALIST_SETS: Final = {"training": "train", "validation": "validation", "test": "test"}
"""Datalist key -> set name."""

_FIELDS: Final = ("image", "label")


def _is_path(value: object) -> bool:
    """Whether ``value`` names a file: a string that is not empty."""
    return isinstance(value, str) and value != ""


def _is_image(value: object) -> bool:
    """Whether ``value`` is an image: a path, or a list of paths (modalities)."""
    if isinstance(value, list):
        return bool(value) and all(map(_is_path, value))
    return _is_path(value)


def _entry(
    key: str, index: int, item: object, extra: Sequence[str]
) -> list[object] | str:
    """Return the entry of one datalist item, or the problem with it.

    ``extra`` are the item keys other than ``image`` and ``label`` that any item
    of the datalist has: each entry holds them all, in that order (``null``
    where the item has none), so that a key is at one place in every entry.
    """
    if isinstance(item, str) and key == "test":
        return [item] if item else f"{key}.{index}: an empty path; name a file"
    if not isinstance(item, dict) or "image" not in item:
        plain = " or a path" if key == "test" else ""
        return (
            f"{key}.{index}: item {preview(item)} is not an object with an `image` "
            f'key{plain}; write {{"image": "...", "label": "..."}}'
        )
    if not _is_image(item["image"]):
        return (
            f"{key}.{index}: `image` {preview(item['image'])} is no path (a string) "
            "nor a list of paths (one per modality); name the image's file(s)"
        )
    entry: list[object] = [item["image"]]
    if "label" in item or extra:
        entry.append(item.get("label"))
    entry += [item.get(name) for name in extra]
    return entry


def _misspelt_sets(document: dict[str, object]) -> list[str]:
    """Say which top-level keys hold a list of items but name no datalist set.

    Their items would be left out; the dataset's own keys (``name``,
    ``numTraining``, ``labels``...) hold no list.
    """
    problems = []
    for key, value in document.items():
        if key in DATALIST_SETS or not isinstance(value, list) or not value:
            continue
        lower = key.lower()
        meant = [
            name
            for name in DATALIST_SETS
            if name.startswith(lower) or lower.startswith(name[:4])
        ] or difflib.get_close_matches(lower, DATALIST_SETS, n=1, cutoff=0.6)
        fix = (
            f"did you mean `{meant[0]}`?"
            if meant
            else "rename it `training`, `validation` or `test`, or remove it"
        )
        problems.append(
            f"`{key}` holds {len(value)} items but is no datalist set, so they would "
            f"be left out; {fix}"
        )
    return problems


def read_datalist(path: Path) -> tuple[Sets, list[str]]:
    """Read the sets of a datalist, and notes on what was left out or moved.

    Each item becomes ``[image, label]``, or ``[image]`` without a label; the
    image is a path, or a list of paths (one per modality). Item keys other
    than ``image`` and ``label`` follow as further items, in key order, the same
    keys at the same places in every entry (``null`` where an item lacks one,
    after a ``null`` label if it has none). Top-level keys other than the three
    sets (the dataset's ``name``, ``numTraining``...) are left out, unless they
    hold a list of items: a misspelt set. An empty ``training`` next to another
    set is no `train` set (`write_datalist` writes one so).

    Raises:
        ConvertError: naming each item that is not an object with an ``image``
            path (or list of paths), and each misspelt set.
    """
    document = load_json(path)
    title = f"{path}: cannot read it as a decathlon datalist"
    if not isinstance(document, dict):
        fail(title, [f"a datalist is a JSON object, not {json_kind(document)}"])
    keys = [key for key in document if key in DATALIST_SETS]
    if not keys:
        fail(title, ["no `training`, `validation` or `test` key; is it a datalist?"])
    sets: Sets = {}
    problems = _misspelt_sets(document)
    extra = sorted(
        {
            name
            for key in keys
            if isinstance(document[key], list)
            for item in document[key]
            if isinstance(item, dict)
            for name in item
            if name not in _FIELDS
        }
    )
    for key in keys:
        items = document[key]
        if key == "training" and items == [] and len(keys) > 1:
            continue  # no `train` set: written so that a datalist reads as one
        if not isinstance(items, list):
            problems.append(f"{key}: must be an array of items, not {preview(items)}")
            continue
        entries = sets[DATALIST_SETS[key]] = []
        for index, item in enumerate(items):
            entry = _entry(key, index, item, extra)
            if isinstance(entry, str):
                problems.append(entry)
                continue
            entries.append(entry)
    if problems:
        fail(title, problems)
    notes = []
    if dropped := [key for key in document if key not in DATALIST_SETS]:
        names = ", ".join(f"`{key}`" for key in dropped)
        notes.append(f"{path}: left out the top-level keys {names} (not sets)")
    if extra:
        names = ", ".join(f"`{key}`" for key in extra)
        notes.append(
            f"{path}: kept the other item keys ({names}) as entry items after the "
            "image and label, in that order in every entry (null where an item has "
            "none); they do not convert back to a datalist"
        )
    return sets, notes


def _is_item(entry: object) -> bool:
    """Whether ``entry`` is ``[image]`` or ``[image, label]``, written as an item.

    The image is a path or a list of paths; the label a path.
    """
    items = items_of(entry)
    return (
        items is not None
        and 1 <= len(items) <= len(_FIELDS)
        and _is_image(items[0])
        and all(isinstance(item, str) for item in items[1:])
    )


def _problems(name: str, entries: Sequence[object]) -> list[str]:
    """Return why the entries of a set cannot be datalist items."""
    if name not in DATALIST_SETS.values():
        return [
            f"{name}: a datalist has no set `{name}` (only `training`, `validation` "
            "and `test`); remove the set, or convert to `csv`"
        ]
    return [
        f"{name}.{index}: entry {preview(entry)} is not [image] or [image, label] "
        "of paths (an image may be a list of paths), all a datalist item holds; "
        "convert to `csv`, or keep the split file"
        for index, entry in enumerate(entries)
        if not _is_item(entry)
    ]


def write_datalist(sets: Sets) -> tuple[str, list[str]]:
    """Return ``sets`` as a datalist, or why they cannot be one.

    Entries must be ``[image]`` or ``[image, label]`` of paths (the image may
    be a list of paths, one per modality), in the sets `train`, `validation`
    and `test`. A `test` set of ``[image]`` path entries only is written as
    plain paths, as the Decathlon's own ``dataset.json`` does. ``training`` is
    always written, empty where there is no `train` set: it is what tells a
    datalist from a split file.
    """
    problems = [p for name, entries in sets.items() for p in _problems(name, entries)]
    if "train" in sets and not sets["train"] and len(sets) > 1:
        problems.append(
            "train: an empty `training` list is how a datalist without a `train` "
            "set is written, so an empty `train` set would read back as none; "
            "remove the set, or keep the split file"
        )
    if problems:
        return "", problems
    keys = {name: key for key, name in DATALIST_SETS.items()}
    document: dict[str, list[object]] = {} if "train" in sets else {"training": []}
    for name, entries in sets.items():
        items = [items_of(entry) or [] for entry in entries]
        plain = all(len(item) == 1 and isinstance(item[0], str) for item in items)
        if name == "test" and items and plain:
            document[keys[name]] = [item[0] for item in items]
        else:
            document[keys[name]] = [
                dict(zip(_FIELDS, item, strict=False)) for item in items
            ]
    return json_lines(document), []
