"""The groups (patients) of a data module's sets, found by its `group_pattern`.

A data module given a group pattern refuses sets that hold one group in more
than one of `train`, `validation` and `test`, as ``lightsplit check
--group-pattern`` reports them; its checkpoints record an 8-byte hash of each
training group, so that evaluating a checkpoint on a set that holds another
image of a patient it was trained on is found too. Groups are read as
``lightsplit check`` reads them: from each entry's first string, normalised.
"""

import hashlib
from collections.abc import Mapping, Sequence

import torch
from pydantic_core import InitErrorDetails, ValidationError
from torch import Tensor

from ._entries import EntryFields, compile_group_pattern, set_groups
from ._errors import first_few, preview, printable
from ._leaks import EntryRef, find_leaks
from ._types import SetName
from ._validation_errors import group_leak, group_pattern_unmatched

__all__ = ["check_group_leaks", "group_hashes", "shared_groups"]

_SHOWN: int = 3
"""Groups, and entries of each, named in a message."""


def check_group_leaks(
    split: Mapping[SetName, Sequence[object]], pattern: str, *, title: str
) -> None:
    """Refuse ``split`` if a group is in two of `train`, `validation` and `test`.

    ``title`` names what is validated (the data module's class).

    Raises:
        ValidationError: ``group_leak`` at each set holding a group that another
            set holds, or ``group_pattern_unmatched`` if the pattern finds no
            group in any path of those sets (a misspelt pattern checks nothing).
    """
    try:
        report = find_leaks(split, group_pattern=pattern)
    except ValueError as exc:  # no group found: the check would be left undone
        details: list[InitErrorDetails] = [
            {
                "type": group_pattern_unmatched(reason=str(exc)),
                "loc": ("group_pattern",),
                "input": pattern,
            }
        ]
        raise ValidationError.from_exception_data(title, details) from None
    if not report.group_leaks:
        return
    details = []
    for name in split:  # in split order
        leaks = [leak for leak in report.group_leaks if name in leak.sets]
        if not leaks:
            continue
        shown = [
            f"`{printable(leak.group)}` ("
            + ", ".join(
                f"{ref} {preview(ref.entry)}"
                for ref in _one_per_set(leak.entries)[:_SHOWN]
            )
            + ")"
            for leak in leaks[:_SHOWN]
        ]
        details.append(
            {
                "type": group_leak(
                    set_name=name,
                    count=len(leaks),
                    shown=first_few(
                        shown, total=len(leaks), limit=_SHOWN, separator="; "
                    ),
                    pattern=pattern,
                ),
                "loc": (name,),
                "input": len(leaks),
            }
        )
    raise ValidationError.from_exception_data(title, details)


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
    digest = hashlib.blake2b(group.encode("utf-8", "surrogatepass"), digest_size=8)
    return int.from_bytes(digest.digest(), "little", signed=True)


def group_hashes(entries: Sequence[object], pattern: str) -> Tensor:
    """Return an 8-byte hash of each different group of ``entries``, sorted."""
    fields = EntryFields(group_pattern=compile_group_pattern(pattern))
    groups = {group for group in set_groups(entries, fields) if group is not None}
    return torch.tensor(sorted(map(_hash, groups)), dtype=torch.int64)


def shared_groups(
    entries: Sequence[object], pattern: str, recorded: Tensor
) -> dict[str, list[int]]:
    """Return the groups of ``entries`` whose hash ``recorded`` holds, with positions.

    In the order the groups first appear; each with the positions of its entries.
    """
    fields = EntryFields(group_pattern=compile_group_pattern(pattern))
    groups = set_groups(entries, fields)
    found: dict[str, list[int]] = {}
    different = sorted({group for group in groups if group is not None})
    if not different:
        return found
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
    return found
