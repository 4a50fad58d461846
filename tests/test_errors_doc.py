import re
from pathlib import Path
from typing import get_args

from lightsplit._validation_errors import ErrorType

ERRORS_PAGE = Path(__file__).parents[1] / "docs" / "errors.md"


def test_every_error_type_is_documented() -> None:
    """``docs/errors.md`` has one section per error type, and no other."""
    documented = re.findall(r"^### `([a-z_]+)`$", ERRORS_PAGE.read_text(), re.MULTILINE)
    assert sorted(documented) == sorted(get_args(ErrorType))
