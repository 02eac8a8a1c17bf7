"""What the terminal on the other end of a stream can do: is it one, and does it want colour."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any


def is_terminal(stream: Any) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty()) if callable(isatty) else False
    except (ValueError, OSError):  # closed stream
        return False


def wants_colour(stream: Any, environ: Mapping[str, str] | None = None) -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set or TERM is dumb."""
    environ = os.environ if environ is None else environ
    return is_terminal(stream) and "NO_COLOR" not in environ and environ.get("TERM") != "dumb"
