"""The ``lightsplit provenance`` command: what data a checkpoint was trained on.

The checkpoint is read with ``torch.load(..., weights_only=True)``: no code of
the checkpoint runs, and the user's model is never imported. torch is imported
by this command only.
"""

import argparse
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, Final, NotRequired

from pydantic import (
    ConfigDict,
    Field,
    JsonValue,
    TypeAdapter,
    ValidationError,
    with_config,
)
from typing_extensions import TypedDict  # pydantic reads only this, before 3.12

from ._commands import fail, is_sidecar, sidecars_named, write_line
from ._entries import is_group_field
from ._errors import (
    LightsplitError,
    first_few,
    format_list,
    located_problems,
    preview,
    printable,
)
from ._hashing import entries_sha256
from ._jsontext import indented_json
from ._split import load_split
from ._types import HELD_OUT_SET_NAMES

__all__ = ["provenance_command", "read_provenance"]


@with_config(ConfigDict(strict=True))
class _SetRecord(TypedDict):
    """What a checkpoint records of one set (see `lightsplit._provenance`)."""

    size: Annotated[int, Field(ge=0)]
    sha256: str
    class_counts: dict[str, int] | None
    loaders: list[Annotated[list[str], Field(min_length=2, max_length=2)]]
    files: NotRequired[list[str | None]]
    """The split file of each part, where known (since lightsplit 0.1.0)."""


@with_config(ConfigDict(strict=True))
class _Record(TypedDict):
    """What a data module records in a checkpoint, as this command reads it."""

    format: int
    split_sha256: NotRequired[str | None]
    sets: dict[str, _SetRecord]
    config: dict[str, JsonValue]
    transforms: NotRequired[list[str]]
    train_entries: NotRequired[object]
    """A tensor of 8-byte hashes (checked apart: pydantic has no tensor type)."""
    train_groups: NotRequired[object]
    """A tensor of 8-byte hashes of the training groups (checked apart too)."""
    train_entries_ungrouped: NotRequired[object]
    """A tensor of 8-byte hashes of training entries whose groups are not
    recorded (trained on before a resume with another grouping)."""


def _damaged(path: Path, found: str) -> LightsplitError:
    return LightsplitError(
        f"{path}: its lightsplit record is damaged, or was written by another "
        f"version of lightsplit: {found}"
    )


def _checked_record(path: Path, record: object) -> Mapping[str, Any]:
    """Return ``record`` once it has the layout this command reads.

    Raises:
        LightsplitError: naming what is amiss, for a record damaged or written
            by another version of lightsplit.
    """
    from torch import Tensor  # noqa: PLC0415 - imported by `read_provenance` already

    from ._provenance import PROVENANCE_FORMAT  # noqa: PLC0415 - imports torch

    try:
        checked = TypeAdapter(_Record).validate_python(record)
    except ValidationError as exc:
        found = located_problems(exc.errors(include_url=False), whole="the record")
        raise _damaged(path, found) from exc
    pattern = checked["config"].get("group_pattern")
    if isinstance(pattern, str):
        try:
            re.compile(pattern)
        except re.error as exc:
            raise _damaged(
                path, f"`group_pattern` `{pattern}` is no regular expression ({exc})"
            ) from exc
    field = checked["config"].get("group_field")
    if field is not None and not is_group_field(field):
        raise _damaged(
            path, f"`group_field` {preview(field)} is neither a position nor a key"
        )
    if field is not None and pattern is not None:
        raise _damaged(path, "both `group_pattern` and `group_field` are recorded")
    for key in ("train_entries", "train_groups", "train_entries_ungrouped"):
        hashes = checked.get(key)
        if hashes is not None and not isinstance(hashes, Tensor):
            raise _damaged(path, f"`{key}` is a {type(hashes).__name__}, not a tensor")
    if checked["format"] != PROVENANCE_FORMAT:
        msg = (
            f"{path}: its lightsplit record has format {checked['format']}, and this "
            f"lightsplit reads format {PROVENANCE_FORMAT}; read it with the version "
            "of lightsplit that trained it"
        )
        raise LightsplitError(msg)
    return checked


def read_provenance(path: Path) -> tuple[str, Mapping[str, Any]]:
    """Return the data module's class and its record from the checkpoint at ``path``.

    Raises:
        LightsplitError: if the file cannot be loaded without running code, or
            holds no lightsplit record.
        OSError: if the file cannot be read.
    """
    from ._provenance import PROVENANCE_KEY  # noqa: PLC0415 - imports torch

    with path.open("rb") as file:
        start = file.read(4)
    if not start.startswith((b"PK\x03\x04", b"\x80")):  # a zip archive, or a pickle
        shown = preview(start.decode("utf-8", "replace")) if start else "nothing"
        msg = (
            f"{path}: is no PyTorch checkpoint: it starts with {shown}, where a "
            "checkpoint saved by `Trainer` (`torch.save`) is a zip archive; give the "
            "`.ckpt` file of a run"
        )
        raise LightsplitError(msg)
    try:
        checkpoint = _load_unrun(path)
    except OSError:
        raise
    except Exception as exc:  # damaged data raises any kind (struct.error...)
        lines = _ANSI.sub("", str(exc)).strip().splitlines()
        named = [line for line in lines if "unsupported global" in line.lower()]
        first = (named or lines or [repr(exc)])[0].strip()  # torch's own cause
        msg = (
            f"{path}: cannot be read as a checkpoint without running code from it "
            f"({first}); is it a PyTorch checkpoint, saved by `Trainer`?"
        )
        raise LightsplitError(msg) from exc
    if isinstance(checkpoint, Mapping):
        for key, value in checkpoint.items():
            if isinstance(value, Mapping) and PROVENANCE_KEY in value:
                return str(key), _checked_record(path, value[PROVENANCE_KEY])
    keys = list(checkpoint) if isinstance(checkpoint, Mapping) else []
    msg = (
        f"{path}: no lightsplit data module recorded its data in this checkpoint "
        f"(its keys: {format_list([str(k) for k in keys]) or 'none'}); it was not "
        "trained with a lightsplit data module, or with one older than provenance"
    )
    raise LightsplitError(msg)


_ANSI: Final = re.compile(r"\x1b\[[0-9;]*m")
"""Terminal styling, which torch's messages hold."""


class _Unread:
    """A class or function of a checkpoint that no lightsplit record needs.

    mednet's pickled normalizer, say: read as a stand-in, so that its code is
    neither imported nor run.
    """

    def __init__(self, *args: object, **kwargs: object) -> None:
        """Take any arguments, and keep none."""

    def __setstate__(self, state: object) -> None:
        """Take any state, and keep none."""


def _load_unrun(path: Path) -> object:
    """Load a checkpoint with ``weights_only=True``, objects of other classes unread.

    A checkpoint may pickle objects that ``weights_only`` refuses (mednet's
    saves a torchvision ``Normalize``): each is read as an `_Unread` stand-in,
    its class never imported.
    """
    import pickle  # noqa: PLC0415 - with torch, for this command only

    import torch  # noqa: PLC0415 - only this command needs torch
    from torch.serialization import (  # noqa: PLC0415 - with torch
        get_unsafe_globals_in_checkpoint,
        safe_globals,
    )

    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        names = get_unsafe_globals_in_checkpoint(path)
        if not names:
            raise
    with safe_globals([(_Unread, name) for name in names]):
        return torch.load(path, map_location="cpu", weights_only=True)


def _matches(
    record: Mapping[str, Any], split_path: Path
) -> tuple[dict[str, JsonValue], dict[str, JsonValue]]:
    """Compare a split file's sets with the record's.

    Also return, for each `validation` or `test` set that differs, what of it
    the checkpoint was trained on (`_trained_on`), where it was trained on any.
    """
    split = load_split(split_path)
    sets: Mapping[str, Any] = record["sets"]
    found: dict[str, JsonValue] = {}
    trained: dict[str, JsonValue] = {}
    for name, entries in split.items():
        recorded = sets.get(name)
        if recorded is None:
            found[name] = "not in the checkpoint"
        elif recorded["size"] != len(entries):
            noun = "entry" if len(entries) == 1 else "entries"
            found[name] = f"{len(entries)} {noun}, the checkpoint's {recorded['size']}"
        elif recorded["sha256"] != entries_sha256(entries):
            found[name] = "other entries (or order) than the checkpoint's"
        else:
            found[name] = "matches"
        if name in HELD_OUT_SET_NAMES and found[name] != "matches":
            counts = _trained_on(record, entries)
            if any(counts.values()):
                trained[name] = counts
    for name in sets:
        found.setdefault(name, "not in this file")
    return found, trained


def _trained_on(
    record: Mapping[str, Any], entries: Sequence[object]
) -> dict[str, JsonValue]:
    """Count what of a held-out set's ``entries`` the checkpoint was trained on.

    ``entries``: those whose file is in the training set; ``groups`` and
    ``group_entries``: where the checkpoint records its training groups, the
    groups (patients) it shares with the training set, and their entries;
    ``ungrouped``: the entries in which the checkpoint's grouping finds no
    group, compared by file only.
    """
    from ._groups import trained_groups  # noqa: PLC0415 - imports torch
    from ._provenance import overlap  # noqa: PLC0415 - imports torch

    groups, held, ungrouped = trained_groups(record, entries)
    return {
        "entries": len(overlap(record, entries)),
        "groups": groups,
        "group_entries": held,
        "ungrouped": ungrouped,
    }


def _trained_text(counts: Mapping[str, int], option: str) -> str:
    """Say what `_trained_on` counted, after a set's verdict.

    ``option`` is the setting that found the checkpoint's groups.
    """
    said = ""
    if counts["entries"]:
        verb = "is" if counts["entries"] == 1 else "are"
        said += (
            f"; {counts['entries']:,} of its entries {verb} in the checkpoint's "
            "training set"
        )
    if counts["groups"]:
        verb = "is" if counts["group_entries"] == 1 else "are"
        noun = "group" if counts["groups"] == 1 else "groups"
        said += (
            f"; {counts['group_entries']:,} of its entries {verb} of "
            f"{counts['groups']:,} {noun} (patients, by the checkpoint's "
            f"`{option}`) that the checkpoint was trained on"
        )
    if counts.get("ungrouped"):
        verb = "has" if counts["ungrouped"] == 1 else "have"
        said += (
            f"; {counts['ungrouped']:,} of its entries {verb} no patient by the "
            f"checkpoint's `{option}`: compared by file only"
        )
    return said


def _document(
    path: Path, owner: str, record: Mapping[str, Any], comparisons: Mapping[str, Any]
) -> dict[str, JsonValue]:
    from ._provenance import ungrouped_training  # noqa: PLC0415 - imports torch

    train = record.get("train_entries")
    groups = record.get("train_groups")
    sets: dict[str, JsonValue] = {
        name: {
            "entries": value["size"],
            "sha256": value["sha256"],
            "class_counts": value["class_counts"],
            "loaders": [{"class": c, "fingerprint": f} for c, f in value["loaders"]],
            "files": value.get("files", []),
        }
        for name, value in record["sets"].items()
    }
    return {
        "checkpoint": str(path),
        "data_module": owner,
        "format": record["format"],
        "split_sha256": record.get("split_sha256"),
        "sets": sets,
        "config": record["config"],
        "model_transforms": list(record.get("transforms", [])),
        "train_entries_hashed": 0 if train is None else int(train.numel()),
        "train_groups_hashed": 0 if groups is None else int(groups.numel()),
        "train_entries_ungrouped": ungrouped_training(record),
        "splits": dict(comparisons),
        "matching": list(_matching(comparisons)),
        "ok": all(
            verdict == "matches"
            for sets_found in comparisons.values()
            for verdict in sets_found.values()
            if verdict != "not in this file"
        ),
    }


def _lines(document: Mapping[str, Any]) -> list[str]:
    owner = document["data_module"]
    lines = [f"{document['checkpoint']}: trained on the data of a `{owner}`"]
    if document["split_sha256"] is not None:  # recorded since lightsplit 0.1.0
        lines.append(f"  sha256 {document['split_sha256']} (of all its sets)")
    width = max(len(name) for name in document["sets"]) if document["sets"] else 3
    for name, value in document["sets"].items():
        classes = value["class_counts"]
        shown = (
            ", ".join(f"{label}: {count}" for label, count in classes.items())
            if classes
            else "-"
        )
        lines.append(
            f"  {name.ljust(width)}  {value['entries']:>7} entries  "
            f"sha256 {value['sha256'][:16]}  classes {shown}"
        )
        loaders = format_list([loader["class"] for loader in value["loaders"]])
        lines.append(f"  {' ' * width}  loaded by {loaders}")
        files = [file for file in value["files"] if file is not None]
        if files:
            read = first_few(list(dict.fromkeys(files)))
            lines.append(f"  {' ' * width}  read from {read}")
    settings = ", ".join(
        f"{key}={value!r}" for key, value in document["config"].items()
    )
    lines.append(f"  settings: {settings}")
    field = document["config"].get("group_field")
    option = "group_pattern" if field is None else "group_field"
    if document["train_groups_hashed"]:
        pattern = document["config"].get("group_pattern")
        found = (
            f"found by `group_pattern` `{printable(str(pattern))}`"
            if field is None
            else f"read from `group_field` `{printable(str(field))}`"
        )
        lines.append(
            f"  training groups: {document['train_groups_hashed']:,} recorded, {found}"
        )
    if document["train_entries_ungrouped"]:
        count = document["train_entries_ungrouped"]
        lines.append(
            f"  training entries without patients: {count:,}, trained on before a "
            "resume with another grouping (or a first one): evaluated sets are "
            "compared with them by file only"
        )
    lines.append(f"  model transforms: {len(document['model_transforms'])}")
    for split, verdicts in document["splits"].items():
        trained = document.get("trained_on", {}).get(split, {})
        for name, verdict in verdicts.items():
            said = _trained_text(trained[name], option) if name in trained else ""
            lines.append(f"  {split}: set `{name}`: {verdict}{said}")
    if document["splits"]:
        lines.append(f"{document['checkpoint']}: {_verdict(document['splits'])}")
    return lines


def _matching(splits: Mapping[str, Mapping[str, str]]) -> list[str]:
    """Return the split files whose every set matches the checkpoint's record."""
    return [
        split
        for split, verdicts in splits.items()
        if all(v in ("matches", "not in this file") for v in verdicts.values())
    ]


def _verdict(splits: Mapping[str, Mapping[str, str]]) -> str:
    """Say whether the split files match, and which do when only some do."""
    matching = _matching(splits)
    if len(matching) == len(splits):
        return "the splits match"
    if not matching:
        return "the splits differ"
    return f"the splits differ, but for {format_list(matching)}, which matches"


def provenance_command(args: argparse.Namespace) -> int:
    """Print what a checkpoint was trained on; compare it with split files."""
    path: Path = args.checkpoint
    splits: Sequence[Path] = [p for p in args.splits if not is_sidecar(p)]
    skipped = [p for p in args.splits if p not in splits]  # `folds/*.json`
    try:
        owner, record = read_provenance(path)
        matched = {str(split): _matches(record, split) for split in splits}
    except LightsplitError as exc:
        return fail(args, str(exc), about=("checkpoint", str(path)))
    except OSError as exc:
        problem = f"{exc.filename or path}: cannot read: {exc.strerror or exc}"
        return fail(args, problem, about=("checkpoint", str(path)))
    comparisons = {split: found for split, (found, _) in matched.items()}
    document = _document(path, owner, record, comparisons)
    document["trained_on"] = {
        split: counts for split, (_, counts) in matched.items() if counts
    }
    document["skipped"] = [str(p) for p in skipped]
    if args.json:
        write_line(indented_json(document))
    else:
        if skipped:
            write_line(f"skipped {sidecars_named(skipped)}")
        for line in _lines(document):
            write_line(line)
    return 0 if document["ok"] else 1
