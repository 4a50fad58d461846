"""``MappingLoader``: loaders that return one mapping per sample, as `Sample` loaders.

mednet 2.x loaders (and MONAI's dictionary transforms) describe a sample as one
mapping, ``{"image": tensor, "target": tensor([0.]), "name": "a.png"}``; the
adapter takes the input tensor from one key and keeps the rest as metadata.
"""

from collections.abc import Mapping
from typing import Generic, TypeVar

from torch import Tensor

from ._errors import SET_INPUT_KEY, format_list
from ._fingerprint import fingerprint_of
from ._sample import MappingSampleLoader, Sample, Target, entry_check

__all__ = ["MappingLoader"]

RawT = TypeVar("RawT")


class MappingLoader(Generic[RawT]):
    """Makes a loader that returns mappings into a `RawDataLoader`.

    ``sample(raw)`` calls the wrapped loader and returns a `Sample` whose
    ``input`` is the mapping's ``input_key`` entry (a tensor) and whose
    ``metadata`` is every other entry, unchanged; ``target(raw)`` is the wrapped
    loader's.

    Examples:
        >>> import torch
        >>> class DictLoader:
        ...     def sample(self, raw: str) -> dict[str, object]:
        ...         return {"image": torch.zeros(1, 2, 2), "target": 1, "name": raw}
        ...
        ...     def target(self, raw: str) -> int:
        ...         return 1
        >>> x, meta = MappingLoader(DictLoader()).sample("a.png")
        >>> tuple(x.shape), dict(meta)
        ((1, 2, 2), {'target': 1, 'name': 'a.png'})
    """

    def __init__(
        self, loader: MappingSampleLoader[RawT], *, input_key: str = "image"
    ) -> None:
        """Wrap ``loader``, whose mappings hold the input tensor at ``input_key``.

        Args:
            loader: an object with ``sample(raw) -> Mapping[str, Any]`` and
                ``target(raw)`` methods.
            input_key: the key of the input tensor in each mapping.

        Raises:
            TypeError: if ``loader`` is a class, or lacks ``sample`` or ``target``.
        """
        if isinstance(loader, type):
            msg = (
                f"the loader is the class `{loader.__name__}`, not a loader object; "
                f"create one, as in `{loader.__name__}(...)`"
            )
            raise TypeError(msg)
        for method in ("sample", "target"):
            if not callable(getattr(loader, method, None)):
                msg = (
                    f"the loader (`{type(loader).__name__}`) has no callable "
                    f"`{method}`; give an object with `sample(raw) -> Mapping` and "
                    "`target(raw)` methods"
                )
                raise TypeError(msg)
        self.loader = loader
        self.input_key = input_key

    def __repr__(self) -> str:
        return f"MappingLoader({self.loader!r}, input_key={self.input_key!r})"

    def sample(self, raw: RawT) -> Sample:
        """Load ``raw`` with the wrapped loader and split its mapping.

        Raises:
            TypeError: if the wrapped loader returns no mapping, or the input is
                not a tensor.
            ValueError: if the mapping has no ``input_key``.
        """
        result: object = self.loader.sample(raw)
        where = f"`{type(self.loader).__name__}.sample`"
        if not isinstance(result, Mapping):
            msg = (
                f"{where} returned a `{type(result).__name__}`, not a mapping; a "
                "loader that returns `Sample` or `(tensor, metadata)` needs no "
                "`MappingLoader`"
            )
            raise TypeError(msg)
        mapping: dict[str, object] = dict(result)
        if self.input_key not in mapping:
            keys = format_list([str(key) for key in mapping])
            msg = (
                f"{where} returned no `{self.input_key}` key (keys {keys}); "
                f"{SET_INPUT_KEY}"
            )
            raise ValueError(msg)
        value = mapping.pop(self.input_key)
        if not isinstance(value, Tensor):
            msg = (
                f"{where} returned a `{type(value).__name__}` under "
                f"`{self.input_key}`; the input must be a `torch.Tensor`"
            )
            raise TypeError(msg)
        return Sample(value, mapping)

    def target(self, raw: RawT) -> Target:
        """Return the wrapped loader's class label of ``raw``."""
        return self.loader.target(raw)

    def check_entry(self, raw: RawT) -> None:
        """Have the wrapped loader check ``raw``, if it checks entries.

        See `EntryChecker`: a data module calls it on every entry when built.
        """
        check = entry_check(self.loader)
        if check is not None:
            check(raw)

    def fingerprint(self) -> str:
        """Return what keys persistent caches: the wrapped loader and the key."""
        return f"{self.input_key}:{fingerprint_of(self.loader)}"
