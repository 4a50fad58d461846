"""Which sets each Lightning stage uses, and refusing a stage whose set is missing."""

from collections.abc import Sequence
from typing import Final, get_args

from ._errors import SetMissingError, choose, format_list
from ._types import SetName, Stage

__all__ = ["STAGES", "require_set", "stage_sets", "validation_sets"]

STAGES: Final[tuple[Stage, ...]] = get_args(Stage)
"""Every Lightning stage, in the order Lightning runs them."""


def require_set(names: Sequence[SetName], stage: Stage, name: SetName) -> None:
    """Refuse ``stage`` when the splits, holding ``names``, lack set ``name``.

    Raises:
        SetMissingError: naming the stage, the set and the sets there are.
    """
    if name not in names:
        msg = (
            f"stage `{stage}` needs set `{name}`, but the splits hold only "
            f"{format_list(list(names))}; add a `{name}` set or run another stage"
        )
        raise SetMissingError(msg)


def validation_sets(names: Sequence[SetName], stage: Stage) -> list[SetName]:
    """Return the sets validated on: `validation` (else `train`) and `monitor-*`.

    Raises:
        SetMissingError: when there is neither a `validation` nor a `train` set.

    Examples:
        >>> validation_sets(["train", "validation", "monitor-a"], "fit")
        ['validation', 'monitor-a']
        >>> validation_sets(["train", "test"], "validate")
        ['train']
    """
    monitors = [name for name in names if name.startswith("monitor-")]
    if "validation" in names:
        return ["validation", *monitors]
    if "train" not in names:
        require_set(names, stage, "validation")
    return ["train", *monitors]


def stage_sets(names: Sequence[SetName], stage: str) -> list[SetName]:
    """Return the sets ``stage`` uses, of the splits' sets ``names``.

    ``fit`` uses `train` and the validation sets; ``validate`` the validation
    sets; ``test`` the `test` set; ``predict`` every set.

    Raises:
        ValueError: for an unknown stage.
        SetMissingError: when the stage needs a set that ``names`` lacks.

    Examples:
        >>> stage_sets(["train", "validation", "test"], "fit")
        ['train', 'validation']
        >>> stage_sets(["train", "validation", "test"], "predict")
        ['train', 'validation', 'test']
    """
    checked = choose(stage, STAGES, what="stage")
    if checked == "fit":
        require_set(names, checked, "train")
        return list(dict.fromkeys(["train", *validation_sets(names, checked)]))
    if checked == "validate":
        return validation_sets(names, checked)
    if checked == "test":
        require_set(names, checked, "test")
        return ["test"]
    return list(names)
