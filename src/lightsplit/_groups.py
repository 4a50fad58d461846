"""The groups (patients) of a data module's sets, found by its `group_pattern`.

A data module given a group pattern refuses sets that hold one group in more
than one of `train`, `validation` and `test`, as ``lightsplit check
--group-pattern`` reports them; its checkpoints record an 8-byte hash of each
training group, so that evaluating a checkpoint on a set that holds another
image of a patient it was trained on is found too. Groups are read as
``lightsplit check`` reads them: from each entry's first string, normalised.
"""

import re
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import torch
from pydantic_core import InitErrorDetails, ValidationError
from torch import Tensor

from ._entries import EntryFields, compile_group_pattern, index_split, set_groups
from ._errors import (
    LightsplitWarning,
    caller_stacklevel,
    first_few,
    format_list,
    preview,
    printable,
)
from ._leaks import EntryRef, GroupLeak, group_leaks_in, unmatched_pattern
from ._provenance import hash64
from ._types import EVALUATION_SET_NAMES, SetName
from ._validation_errors import group_leak, group_pattern_unmatched

__all__ = [
    "check_group_leaks",
    "group_hashes",
    "patients_trained_on",
    "trained_groups",
]

_SHOWN: int = 3
"""Groups, and entries of each, named in a message."""


def check_group_leaks(
    split: Mapping[SetName, Sequence[object]], pattern: str, *, title: str
) -> None:
    """Refuse ``split`` if a group is in two of `train`, `validation` and `test`.

    ``title`` names what is validated (the data module's class). Entries of
    those sets that the check leaves out, as the pattern finds no group in
    their path or they hold no path, are warned about, as ``lightsplit check``
    warns about them.

    Raises:
        ValidationError: ``group_leak`` at each set holding a group that another
            set holds, or ``group_pattern_unmatched`` if the pattern finds no
            group in any entry of those sets (a misspelt pattern checks nothing).
    """
    fields = EntryFields(group_pattern=compile_group_pattern(pattern))
    index = index_split(split, fields)
    held = [name for name in split if name in EVALUATION_SET_NAMES]
    if held and not any(index[name].group_set for name in held):
        reason = unmatched_pattern(index, fields) or (
            f"no entry of {format_list(held)} holds a path "
            f"(a string) for `group_pattern` `{printable(pattern)}` to find a "
            "group in, so no group leak could be checked; read the entries with "
            "a path, or leave `group_pattern` unset"
        )
        details: list[InitErrorDetails] = [
            {
                "type": group_pattern_unmatched(reason=reason),
                "loc": ("group_pattern",),
                "input": pattern,
            }
        ]
        raise ValidationError.from_exception_data(title, details)
    group_leaks, ungrouped = group_leaks_in(split, index)
    pathless = [
        EntryRef(name, i, split[name][i])
        for name in held
        for i, path in enumerate(index[name].paths)
        if path is None
    ]
    _warn_unchecked(ungrouped, pathless, pattern)
    details = []
    for name in split:  # in split order
        leaks = [leak for leak in group_leaks if name in leak.sets]
        if leaks:
            details.append(_leak_error(name, leaks, pattern))
    if details:
        raise ValidationError.from_exception_data(title, details)


def _leak_error(
    name: SetName, leaks: Sequence[GroupLeak[object]], pattern: str
) -> InitErrorDetails:
    """Return the ``group_leak`` error of set ``name``, naming the first groups."""
    shown = [
        f"`{printable(leak.group)}` (in {format_list(list(leak.sets))}: "
        + ", ".join(f"{ref} {preview(ref.entry)}" for ref in _one_per_set(leak.entries))
        + ")"
        for leak in leaks[:_SHOWN]
    ]
    return {
        "type": group_leak(
            set_name=name,
            count=len(leaks),
            shown=first_few(shown, total=len(leaks), limit=_SHOWN, separator="; "),
            pattern=pattern,
        ),
        "loc": (name,),
        "input": len(leaks),
    }


def _warn_unchecked(
    ungrouped: Sequence[EntryRef[object]],
    pathless: Sequence[EntryRef[object]],
    pattern: str,
) -> None:
    """Warn about entries that the group check leaves out, naming the first."""
    for refs, problem in (
        (ungrouped, f"`group_pattern` `{printable(pattern)}` finds no group in"),
        (pathless, "no path (a string) for `group_pattern` to search in"),
    ):
        if refs:
            shown = [f"{ref} {preview(ref.entry)}" for ref in refs[:_SHOWN]]
            warnings.warn(
                f"{problem} {len(refs):,} {'entry' if len(refs) == 1 else 'entries'} "
                "of `train`, `validation` and `test`, which the check that no group "
                "is in two sets leaves out: "
                f"{first_few(shown, total=len(refs), limit=_SHOWN)}; fix the "
                "pattern, or the entries, if they have groups (`lightsplit check "
                "--group-pattern` counts each set's groups)",
                LightsplitWarning,
                stacklevel=caller_stacklevel(),
            )


def _one_per_set(refs: Sequence[EntryRef[object]]) -> list[EntryRef[object]]:
    """Return the first of ``refs`` in each set, in order."""
    seen: set[SetName] = set()
    found: list[EntryRef[object]] = []
    for ref in refs:
        if ref.set_name not in seen:
            seen.add(ref.set_name)
            found.append(ref)
    return found


def _hash(group: str) -> int:
    return hash64(group.encode("utf-8", "surrogatepass"))


def group_hashes(entries: Sequence[object], pattern: str) -> Tensor:
    """Return an 8-byte hash of each different group of ``entries``, sorted."""
    fields = EntryFields(group_pattern=compile_group_pattern(pattern))
    groups = {group for group in set_groups(entries, fields) if group is not None}
    return torch.tensor(sorted(map(_hash, groups)), dtype=torch.int64)


def patients_trained_on(
    recorded: Mapping[str, Any],
    held_out: Mapping[SetName, Sequence[object]],
    *,
    asked: str | None,
) -> tuple[list[str], list[str]]:
    """Say which evaluated sets hold groups a checkpoint was trained on.

    ``recorded`` is the checkpoint's record (`provenance_of`), ``held_out`` the
    evaluated sets' entries; ``asked`` is the evaluating data module's own
    `group_pattern`. The groups are found by the checkpoint's pattern. Returns
    one line per set holding such groups, and notes on what could not be
    compared by group: the checkpoint records no groups while a pattern is
    asked for, or entries in which the checkpoint's pattern finds none.
    """
    pattern = recorded.get("config", {}).get("group_pattern")
    if isinstance(pattern, str) and not _compiles(pattern):
        return [], [
            f"the checkpoint's `group_pattern` `{printable(pattern)}` is no regular "
            "expression (its record is damaged): the evaluated sets are compared "
            "with its training set by file only"
        ]
    found = _recorded_groups(recorded)
    if found is None:
        if asked is None or not held_out:
            return [], []
        return [], [
            f"the checkpoint records no training groups (it was trained without "
            f"`group_pattern`, or by a lightsplit that did not record them): "
            f"{format_list(list(held_out))} {'is' if len(held_out) == 1 else 'are'} "
            "compared with its training set by file only, not by `group_pattern` "
            f"`{printable(asked)}`"
        ]
    pattern, train_groups = found
    lines: list[str] = []
    notes: list[str] = []
    for name, entries in held_out.items():
        groups, ungrouped = _shared_groups(entries, pattern, train_groups)
        if groups:
            lines.append(_shared_line(name, entries, pattern, groups))
        if ungrouped:
            shown = [f"{name}.{i} {preview(entries[i])}" for i in ungrouped[:_SHOWN]]
            notes.append(
                f"the checkpoint's `group_pattern` `{printable(pattern)}` finds no "
                f"group in {len(ungrouped):,} of the {len(entries):,} entries of set "
                f"`{name}`, which are compared with its training set by file only: "
                f"{first_few(shown, total=len(ungrouped), limit=_SHOWN)}"
            )
    return lines, notes


def trained_groups(
    recorded: Mapping[str, Any], entries: Sequence[object]
) -> tuple[int, int]:
    """Count the groups of ``entries`` a checkpoint was trained on, and their entries.

    ``(0, 0)`` where the checkpoint records no training groups.
    """
    found = _recorded_groups(recorded)
    if found is None:
        return 0, 0
    groups, _ = _shared_groups(entries, *found)
    return len(groups), sum(map(len, groups.values()))


def _recorded_groups(recorded: Mapping[str, Any]) -> tuple[str, Tensor] | None:
    """Return the checkpoint's group pattern and training groups, if usable.

    ``None`` unless it records both, and the pattern is a regular expression.
    """
    pattern = recorded.get("config", {}).get("group_pattern")
    train_groups = recorded.get("train_groups")
    if (
        not isinstance(pattern, str)
        or not isinstance(train_groups, Tensor)
        or not _compiles(pattern)
    ):
        return None
    return pattern, train_groups


def _compiles(pattern: str) -> bool:
    """Whether ``pattern`` is a regular expression (a record may be damaged)."""
    try:
        re.compile(pattern)
    except re.error:
        return False
    return True


def _shared_groups(
    entries: Sequence[object], pattern: str, recorded: Tensor
) -> tuple[dict[str, list[int]], list[int]]:
    """Return the groups of ``entries`` that ``recorded`` holds, and the ungrouped.

    Each group with the positions of its entries, in the order the groups first
    appear; then the positions of the entries in which the pattern finds none.
    """
    fields = EntryFields(group_pattern=compile_group_pattern(pattern))
    groups = set_groups(entries, fields)
    ungrouped = [index for index, group in enumerate(groups) if group is None]
    found: dict[str, list[int]] = {}
    different = sorted({group for group in groups if group is not None})
    if not different:
        return found, ungrouped
    hashes = torch.tensor([_hash(group) for group in different], dtype=torch.int64)
    known = {
        group
        for group, held in zip(
            different, torch.isin(hashes, recorded).tolist(), strict=True
        )
        if held
    }
    for index, group in enumerate(groups):
        if group in known:
            found.setdefault(group, []).append(index)
    return found, ungrouped


def _shared_line(
    name: SetName,
    entries: Sequence[object],
    pattern: str,
    groups: Mapping[str, list[int]],
) -> str:
    """Say that set ``name`` holds ``groups`` of the checkpoint's training set."""
    shown = [
        f"`{printable(group)}` ({name}.{where[0]} {preview(entries[where[0]])})"
        for group, where in list(groups.items())[:_SHOWN]
    ]
    count = sum(map(len, groups.values()))
    noun = "group" if len(groups) == 1 else "groups"
    return (
        f"set `{name}` holds {len(groups):,} {noun} (patients, by the checkpoint's "
        f"`group_pattern` `{printable(pattern)}`) of the training set the "
        f"checkpoint was trained on, in {count:,} of its {len(entries):,} entries: "
        f"{first_few(shown, total=len(groups), limit=_SHOWN)}"
    )
