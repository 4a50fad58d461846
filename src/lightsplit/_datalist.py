"""Medical Segmentation Decathlon datalists, read and written as split sets.

A datalist (as MONAI's ``load_decathlon_datalist`` reads it) holds
``training``, ``validation`` and ``test`` arrays of ``{"image": ..., "label":
...}`` items; ``test`` items may also be plain paths.
"""

from collections.abc import Sequence
from pathlib import Path
from typing import Final

from ._codec import Sets, fail, items_of, json_lines, load_json
from ._errors import preview

__all__ = ["DATALIST_SETS", "read_datalist", "write_datalist"]

DATALIST_SETS: Final = {"training": "train", "validation": "validation", "test": "test"}
"""Datalist key -> set name."""

_FIELDS: Final = ("image", "label")


def _entry(key: str, index: int, item: object) -> list[object] | str:
    """Return the entry of one datalist item, or the problem with it."""
    if isinstance(item, str) and key == "test":
        return [item]
    if not isinstance(item, dict) or "image" not in item:
        plain = " or a path" if key == "test" else ""
        return (
            f"{key}.{index}: item {preview(item)} is not an object with an `image` "
            f'key{plain}; write {{"image": "...", "label": "..."}}'
        )
    extra = sorted(name for name in item if name not in _FIELDS)
    entry: list[object] = [item["image"]]
    if "label" in item or extra:
        entry.append(item.get("label"))
    entry += [item[name] for name in extra]
    return entry


def read_datalist(path: Path) -> tuple[Sets, list[str]]:
    """Read the sets of a datalist, and notes on what was left out or moved.

    Each item becomes ``[image, label]``, or ``[image]`` without a label; any
    other keys of an item follow as further items in key order (after a
    ``null`` label if it has none). Top-level keys other than the three sets
    (the dataset's ``name``, ``numTraining``...) are left out.

    Raises:
        ConvertError: naming each item that is not an object with an ``image``.
    """
    document = load_json(path)
    title = f"{path}: cannot read it as a decathlon datalist"
    if not isinstance(document, dict):
        kind = type(document).__name__
        fail(title, [f"a datalist is a JSON object, not a `{kind}`"])
    keys = [key for key in document if key in DATALIST_SETS]
    if not keys:
        fail(title, ["no `training`, `validation` or `test` key; is it a datalist?"])
    sets: Sets = {}
    problems: list[str] = []
    extra: set[str] = set()
    for key in keys:
        items = document[key]
        if not isinstance(items, list):
            problems.append(f"{key}: must be an array of items, not {preview(items)}")
            continue
        entries = sets[DATALIST_SETS[key]] = []
        for index, item in enumerate(items):
            entry = _entry(key, index, item)
            if isinstance(entry, str):
                problems.append(entry)
                continue
            entries.append(entry)
            if isinstance(item, dict):
                extra.update(set(item) - set(_FIELDS))
    if problems:
        fail(title, problems)
    notes = []
    if dropped := [key for key in document if key not in DATALIST_SETS]:
        names = ", ".join(f"`{key}`" for key in dropped)
        notes.append(f"{path}: left out the top-level keys {names} (not sets)")
    if extra:
        names = ", ".join(f"`{key}`" for key in sorted(extra))
        notes.append(
            f"{path}: kept the other item keys ({names}) as entry items after the "
            "image and label, in key order; they do not convert back to a datalist"
        )
    return sets, notes


def _is_item(entry: object) -> bool:
    items = items_of(entry)
    return (
        items is not None
        and 1 <= len(items) <= len(_FIELDS)
        and all(isinstance(item, str) for item in items)
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
        "of strings, all a datalist item holds; convert to `csv`, or keep the "
        "split file"
        for index, entry in enumerate(entries)
        if not _is_item(entry)
    ]


def write_datalist(sets: Sets) -> tuple[str, list[str]]:
    """Return ``sets`` as a datalist, or why they cannot be one.

    Entries must be ``[image]`` or ``[image, label]`` of strings, in the sets
    `train`, `validation` and `test`. A `test` set of ``[image]`` entries only
    is written as plain paths, as the Decathlon's own ``dataset.json`` does.
    """
    problems = [p for name, entries in sets.items() for p in _problems(name, entries)]
    if problems:
        return "", problems
    keys = {name: key for key, name in DATALIST_SETS.items()}
    document: dict[str, list[object]] = {}
    for name, entries in sets.items():
        items = [items_of(entry) or [] for entry in entries]
        if name == "test" and items and all(len(item) == 1 for item in items):
            document[keys[name]] = [item[0] for item in items]
        else:
            document[keys[name]] = [
                dict(zip(_FIELDS, item, strict=False)) for item in items
            ]
    return json_lines(document), []
