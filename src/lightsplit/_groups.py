"""The groups (patients) of a data module's sets: by `group_pattern` or `group_field`.

A data module given a group pattern (or a group field) refuses sets that hold
one group in more than one of `train`, `validation` and `test`, as ``lightsplit
check --group-pattern`` (``--group-field``) reports them; its checkpoints record
an 8-byte hash of each training group, so that evaluating a checkpoint on a set
that holds another image of a patient it was trained on is found too. Groups
are read as ``lightsplit check`` reads them: found by the pattern in each
entry's first string, normalised, or read from the field as text (the patient
17 and "17" are one group).
"""

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from shlex import quote
from typing import Any

import torch
from pydantic_core import InitErrorDetails, ValidationError
from torch import Tensor

from ._entries import (
    EntryFields,
    Grouping,
    SetFields,
    describe_entries,
    file_paths,
    index_split,
    set_groups,
)
from ._errors import (
    LightsplitWarning,
    caller_stacklevel,
    first_few,
    format_list,
    preview,
    printable,
)
from ._groupvalues import entry_of, file_entries, sets_groups
from ._leaks import (
    EntryRef,
    GroupLeak,
    find_entries,
    group_leaks_in,
    unmatched_pattern,
)
from ._lint import group_value_warnings
from ._patients import patient_folders_across_sets, patients_across_sets
from ._provenance import hash64, recorded_grouping
from ._types import EVALUATION_SET_NAMES, SetName
from ._validation_errors import (
    group_field_files,
    group_field_unheld,
    group_leak,
    group_pattern_unmatched,
)

__all__ = [
    "PatientCheck",
    "check_group_leaks",
    "group_hashes",
    "patients_trained_on",
    "trained_groups",
    "warn_patients_unchecked",
]

_SHOWN: int = 3
"""Groups, and entries of each, named in a message."""


def check_group_leaks(
    split: Mapping[SetName, Sequence[object]], grouping: Grouping, *, title: str
) -> None:
    """Refuse ``split`` if a group is in two of `train`, `validation` and `test`.

    ``title`` names what is validated (the data module's class). Entries of
    those sets that the check leaves out, as the pattern finds no group in
    their path or they hold no path (or their group field holds none), are
    warned about, as ``lightsplit check`` warns about them.

    Raises:
        ValidationError: ``group_leak`` at each set holding a group that another
            set holds, or ``group_pattern_unmatched`` if the pattern finds no
            group in any entry of those sets (a misspelt pattern checks nothing;
            ``group_field_unheld`` if the group field holds none), or
            ``group_field_files`` if the group field holds the entries' files in
            most of them (each image its own patient).
    """
    fields = grouping.fields()
    index = index_split(split, fields)
    held = [name for name in split if name in EVALUATION_SET_NAMES]
    if held and not any(index[name].group_set for name in held):
        details: list[InitErrorDetails] = [
            _unchecked_error(split, held, grouping, index, fields)
        ]
        raise ValidationError.from_exception_data(title, details)
    files = _files_error(split, held, grouping, index) if grouping.by_field else None
    if files is not None:
        raise ValidationError.from_exception_data(title, [files])
    group_leaks, ungrouped = group_leaks_in(split, index)
    pathless: list[EntryRef[object]] = []
    if grouping.by_field:  # entries without a path are grouped by the field too
        ungrouped = tuple(
            EntryRef(name, i, split[name][i])
            for name in held
            for i, group in enumerate(index[name].groups or ())
            if group is None
        )
    else:
        pathless = [
            EntryRef(name, i, split[name][i])
            for name in held
            for i, path in enumerate(index[name].paths)
            if path is None
        ]
    _warn_unchecked(ungrouped, pathless, grouping)
    if grouping.by_field:  # values that may not be the patients they seem
        for warning in group_value_warnings(split, index, grouping.value):
            warnings.warn(
                f"{warning}; `lightsplit check --group-field` lists them",
                LightsplitWarning,
                stacklevel=caller_stacklevel(),
            )
    in_sets = {
        name: [leak for leak in group_leaks if name in leak.sets] for name in split
    }
    find_entries(leak for leaks in in_sets.values() for leak in leaks[:_SHOWN])
    details = [  # in split order
        _leak_error(name, leaks, grouping) for name, leaks in in_sets.items() if leaks
    ]
    if details:
        raise ValidationError.from_exception_data(title, details)


def warn_patients_unchecked(split: Mapping[SetName, Sequence[object]]) -> None:
    """Warn when no grouping is set while a key or folder named for the patient leaks.

    Object entries whose key such as ``PatientID`` holds one value in two of
    `train`, `validation` and `test` (`patients_across_sets`), or paths whose
    folder such as ``patient00001/`` holds entries of two of them
    (`patient_folders_across_sets`), most likely put one patient in two sets:
    refused with ``group_field`` or ``group_pattern``, unseen without.
    """
    spread = "in more than one of `train`, `validation` and `test`"
    patients = patients_across_sets(split)
    if patients is not None:
        said = patients.described(spread)
        neither = "`group_field` nor `group_pattern`"
        setting = f"group_field={patients.option!r}"
        option = f"--group-field {quote(patients.option)}"
    else:
        folders = patient_folders_across_sets(split, file_paths)
        if folders is None:
            return
        said = folders.described(spread)
        neither = "`group_pattern` nor `group_field`"
        setting = f"group_pattern=r'{folders.pattern}'"  # no quote in it
        option = f"--group-pattern {quote(folders.pattern)}"
    warnings.warn(
        f"{said}, but neither {neither} is set, so a patient in two sets is not "
        "refused; "
        f"set `{setting}` to refuse it (`lightsplit check {option}` lists them)",
        LightsplitWarning,
        stacklevel=caller_stacklevel(),
    )


def _unchecked_error(
    split: Mapping[SetName, Sequence[object]],
    held: Sequence[SetName],
    grouping: Grouping,
    index: Mapping[SetName, SetFields],
    fields: EntryFields,
) -> InitErrorDetails:
    """Return the error of a grouping that finds no group in the sets ``held``."""
    if grouping.by_field:
        first = next((split[name] for name in held if split[name]), None)
        entries = (
            "" if first is None else f"; the entries are {describe_entries(first)}"
        )
        reason = (
            f"{grouping} holds a group (a value that is not missing, empty or null) "
            f"in no entry of {format_list(list(held))}, so no group leak could be "
            "checked; name the field that holds each entry's patient (a position "
            f"0, 1, ... in array entries, a key of object entries){entries}"
        )
        return {
            "type": group_field_unheld(reason=reason),
            "loc": ("group_field",),
            "input": grouping.value,
        }
    pattern = str(grouping.value)
    reason = unmatched_pattern(index, fields) or (
        f"no entry of {format_list(list(held))} holds a path "
        f"(a string) for `group_pattern` `{printable(pattern)}` to find a "
        "group in, so no group leak could be checked; read the entries with "
        "a path, or leave `group_pattern` unset"
    )
    return {
        "type": group_pattern_unmatched(reason=reason),
        "loc": ("group_pattern",),
        "input": pattern,
    }


def _files_error(
    split: Mapping[SetName, Sequence[object]],
    held: Sequence[SetName],
    grouping: Grouping,
    index: Mapping[SetName, SetFields],
) -> InitErrorDetails | None:
    """Return the error of a group field that holds the entries' files, if so.

    So it does where most of the entries of the sets ``held`` that it holds a
    group in hold a file name there (`file_entries`): the field of each
    entry's path (``0`` of ``["a.png", 0]``), which makes each image its own
    patient, so that the check finds no patient in two sets that a file in
    two sets would not show.
    """
    groups = sets_groups(index, held)
    files = file_entries(groups)
    if not files:
        return None
    named, grouped = len(files), len(groups) - groups.count(None)
    name, at = entry_of(index, held, files[0])
    entries = describe_entries(split[name])
    reason = (
        f"{grouping} holds the entries' files, not their patients, in {named:,} of "
        f"the {grouped:,} entries of {format_list(list(held))} that it holds a "
        f"value in (such as {name}.{at} {preview(split[name][at])}), which makes "
        "each image its own patient, so no patient could be found in two sets; "
        "name the field that holds each entry's patient "
        f"(a position 0, 1, ... in array entries, a key of object entries); the "
        f"entries are {entries}, or leave `group_field` unset where no field "
        "holds patients"
    )
    return {
        "type": group_field_files(reason=reason),
        "loc": ("group_field",),
        "input": grouping.value,
    }


def _leak_error(
    name: SetName, leaks: Sequence[GroupLeak[object]], grouping: Grouping
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
            option=grouping.option,
            value=grouping.shown_value,
        ),
        "loc": (name,),
        "input": len(leaks),
    }


def _warn_unchecked(
    ungrouped: Sequence[EntryRef[object]],
    pathless: Sequence[EntryRef[object]],
    grouping: Grouping,
) -> None:
    """Warn about entries that the group check leaves out, naming the first."""
    finds = (
        f"{grouping} holds no group (it is missing, empty or null) in"
        if grouping.by_field
        else f"{grouping} finds no group in"
    )
    what, flag = (
        ("field", "--group-field")
        if grouping.by_field
        else (
            "pattern",
            "--group-pattern",
        )
    )
    for refs, problem in (
        (ungrouped, finds),
        (pathless, "no path (a string) for `group_pattern` to search in"),
    ):
        if refs:
            shown = [f"{ref} {preview(ref.entry)}" for ref in refs[:_SHOWN]]
            warnings.warn(
                f"{problem} {len(refs):,} {'entry' if len(refs) == 1 else 'entries'} "
                "of `train`, `validation` and `test`, which the check that no group "
                "is in two sets leaves out: "
                f"{first_few(shown, total=len(refs), limit=_SHOWN)}; fix the "
                f"{what}, or the entries, if they have groups (`lightsplit check "
                f"{flag}` counts each set's groups)",
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


def group_hashes(entries: Sequence[object], grouping: Grouping) -> Tensor:
    """Return an 8-byte hash of each different group of ``entries``, sorted."""
    groups = set_groups(entries, grouping.fields())
    different = {group for group in groups if group is not None}
    return torch.tensor(sorted(map(_hash, different)), dtype=torch.int64)


@dataclass(frozen=True, slots=True)
class PatientCheck:
    """What `patients_trained_on` found of the evaluated sets' patients."""

    lines: list[str]
    """One line per set, and grouping, finding patients trained on."""
    notes: list[str]
    """What could not be compared by patient, to warn about."""
    own: Grouping | None = None
    """The evaluating data module's grouping, where it found patients (trained
    on or not) in entries in which the checkpoint's grouping finds none."""
    ungrouped: bool = False
    """Whether neither grouping finds a patient in some entries."""


def patients_trained_on(
    recorded: Mapping[str, Any],
    held_out: Mapping[SetName, Sequence[object]],
    *,
    asked: Grouping | None,
) -> PatientCheck:
    """Say which evaluated sets hold groups a checkpoint was trained on.

    ``recorded`` is the checkpoint's record (`provenance_of`), ``held_out`` the
    evaluated sets' entries; ``asked`` is how the evaluating data module
    groups entries (its `group_pattern` or `group_field`). The groups are
    found as the checkpoint found them (its pattern, or its field); in the
    entries in which it finds none (a table's rows written as objects, whose
    patient is under a key), by ``asked``, where another: groups are recorded
    as their text (`group_hashes`), found by a pattern or read from a field
    alike, so the patient ``P03`` is one whichever found it. Returns one line
    per set and grouping finding such groups, and notes on what could not be
    compared by group: the checkpoint records no groups while grouping is
    asked for, or entries in which neither grouping finds one.
    """
    found = recorded_grouping(recorded.get("config", {}))
    if isinstance(found, str):
        note = (
            f"{found}: the evaluated sets are compared with its training set by "
            "file only"
        )
        return PatientCheck([], [note], ungrouped=True)  # found by neither
    train_groups = recorded.get("train_groups")
    if found is None or not isinstance(train_groups, Tensor):
        if asked is None or not held_out:
            return PatientCheck([], [])
        note = (
            f"the checkpoint records no training groups (it was trained without "
            f"`group_pattern` or `group_field`, or by a lightsplit that did not "
            f"record them): {format_list(list(held_out))} "
            f"{'is' if len(held_out) == 1 else 'are'} compared with its training "
            f"set by file only, not by {asked}"
        )
        return PatientCheck([], [note])
    own = None if asked == found else asked
    finds = "holds no" if found.by_field else "finds no"
    lines: list[str] = []
    notes: list[str] = []
    own_found = ungrouped_found = False
    for name, entries in held_out.items():
        groups, ungrouped = _shared_groups(entries, found, train_groups)
        if groups:
            lines.append(
                _shared_line(name, entries, f"the checkpoint's {found}", groups)
            )
        if ungrouped and own is not None:
            others = [entries[i] for i in ungrouped]
            by_own, still = _shared_groups(others, own, train_groups)
            own_found = own_found or len(still) < len(others)
            if by_own:
                where = {
                    group: [ungrouped[i] for i in at] for group, at in by_own.items()
                }
                by = (
                    f"the data module's own {own}, as the checkpoint's {found} "
                    f"{finds} group in those entries"
                )
                lines.append(_shared_line(name, entries, by, where))
            ungrouped = [ungrouped[i] for i in still]
        if ungrouped:
            ungrouped_found = True
            shown = [f"{name}.{i} {preview(entries[i])}" for i in ungrouped[:_SHOWN]]
            nor = (
                ""
                if own is None
                else f", nor does the data module's own {own}"
                if own.by_field
                else f", nor does the data module's own {own} find one"
            )
            notes.append(
                f"the checkpoint's {found} {finds} group in {len(ungrouped):,} of "
                f"the {len(entries):,} entries of set `{name}`{nor}, which are "
                "compared with its training set by file only: "
                f"{first_few(shown, total=len(ungrouped), limit=_SHOWN)}"
            )
    return PatientCheck(
        lines,
        notes,
        own if own_found else None,
        ungrouped=ungrouped_found,
    )


def trained_groups(
    recorded: Mapping[str, Any], entries: Sequence[object]
) -> tuple[int, int, int]:
    """Count the groups of ``entries`` a checkpoint was trained on, and their entries.

    Also count the entries in which the checkpoint's grouping finds no group
    (compared with the training set by file alone). ``(0, 0, 0)`` where the
    checkpoint records no training groups.
    """
    grouping = recorded_grouping(recorded.get("config", {}))
    train_groups = recorded.get("train_groups")
    if not isinstance(grouping, Grouping) or not isinstance(train_groups, Tensor):
        return 0, 0, 0
    groups, ungrouped = _shared_groups(entries, grouping, train_groups)
    return len(groups), sum(map(len, groups.values())), len(ungrouped)


def _shared_groups(
    entries: Sequence[object], grouping: Grouping, recorded: Tensor
) -> tuple[dict[str, list[int]], list[int]]:
    """Return the groups of ``entries`` that ``recorded`` holds, and the ungrouped.

    Each group with the positions of its entries, in the order the groups first
    appear; then the positions of the entries in which ``grouping`` finds none.
    """
    groups = set_groups(entries, grouping.fields())
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
    by: str,
    groups: Mapping[str, list[int]],
) -> str:
    """Say that set ``name`` holds ``groups`` of the checkpoint's training set.

    ``by`` says by which grouping they were found (the checkpoint's
    `group_field` `2`).
    """
    shown = [
        f"`{printable(group)}` ({name}.{where[0]} {preview(entries[where[0]])})"
        for group, where in list(groups.items())[:_SHOWN]
    ]
    count = sum(map(len, groups.values()))
    noun = "group" if len(groups) == 1 else "groups"
    return (
        f"set `{name}` holds {len(groups):,} {noun} (patients, by {by}) of the "
        f"training set the checkpoint was trained on, in "
        f"{count:,} of its {len(entries):,} entries: "
        f"{first_few(shown, total=len(groups), limit=_SHOWN)}"
    )
