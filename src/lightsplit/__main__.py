"""``python -m lightsplit``: the command line, as the ``lightsplit`` script runs it."""

import sys

from ._cli import main

if __name__ == "__main__":
    sys.exit(main())
