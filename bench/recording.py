"""What a benchmark records about a command: no machine paths, no password, lab addresses as placeholders."""

from __future__ import annotations

import sys


def shown(command: list[str], replacements: dict[str, str] | None = None) -> str:
    """The command as a reader can rerun it from the project root: `.venv/bin/python`, placeholders for the lab."""
    text = " ".join(command).replace(sys.executable, ".venv/bin/python")
    for value, placeholder in (replacements or {}).items():
        text = text.replace(value, placeholder)
    return text
