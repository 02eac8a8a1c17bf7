"""`python -m checks`: the command-line interface."""
