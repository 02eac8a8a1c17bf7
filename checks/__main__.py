"""`python -m checks`: the command-line interface (see checks/cli.py)."""

import sys

from checks.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
