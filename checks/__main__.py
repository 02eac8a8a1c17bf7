"""`python -m checks`: the command-line interface (see checks/cli/main.py)."""

import gc
import sys

from checks.cli.main import main

if __name__ == "__main__":
    status = main()
    gc.freeze()  # the process ends here: spare the interpreter's last full collection of every object (~10 ms)
    sys.exit(status)
