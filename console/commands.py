"""Copy-ready commands: PowerShell lines found in a fix's prose, with the setup's known values filled in."""

from __future__ import annotations

import re
from collections.abc import Mapping

_CMDLET = r"(?:Set|Get|New|Add|Remove|Connect|Enable|Disable)-[A-Z][A-Za-z]+"
_VALUE = r"(?:\$(?:true|false)|<[^<>]{1,60}>|[A-Za-z0-9][\w.@-]*)"
_COMMAND = re.compile(rf"\b{_CMDLET}(?:\s+<[^<>]{{1,60}}>)?(?:\s+-[A-Za-z]+(?:\s+{_VALUE})?)*"
                      r"(?:\s*\|\s*Format-List\s+[A-Za-z]+(?:,[A-Za-z]+)*)?")
_STOP_WORDS = {"or", "and", "then", "for", "to", "the", "with", "in", "on", "so", "if", "must"}
LINE_WIDTH = 60  # longer commands are laid out over lines, so phones need no side-scrolling
PLACEHOLDERS = {"address": "sender", "sender": "sender", "sender address": "sender", "mailbox": "sender",
                "authenticated address": "username", "client id": "client_id", "tenant id": "tenant_id"}


def _trim(command: str) -> str:
    """Drop trailing prose words the pattern swallowed ('... $false or' -> '... $false')."""
    words = command.split()
    while words and words[-1].lower().strip(".,;:") in _STOP_WORDS:
        words.pop()
    return " ".join(words).rstrip(".,;:")


def fill(command: str, known: Mapping[str, str]) -> str:
    """Replace placeholders such as <address> with the setup's real values where they are known."""

    def value(match: re.Match[str]) -> str:
        field = PLACEHOLDERS.get(match.group(1).strip().lower())
        return known.get(field, "") or match.group(0) if field else match.group(0)

    return re.sub(r"<([^<>]{1,60})>", value, command)


def layout(command: str, *, width: int = LINE_WIDTH) -> str:
    """A long command over several lines the way PowerShell reads them: a backtick before each further
    parameter, a pipe ending the line; a short one stays on one line."""
    if len(command) <= width:
        return command
    stages = []
    for index, stage in enumerate(command.split(" | ")):
        parts = re.split(r" (?=-[A-Za-z])", stage)
        lines = [("    " if index else "") + parts[0]]
        for part in parts[1:]:
            if len(lines[-1]) + 1 + len(part) > width:
                lines[-1] += " `"
                lines.append("    " + part)
            else:
                lines[-1] += " " + part
        stages.append("\n".join(lines))
    return " |\n".join(stages)


def commands_in(text: str, known: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """The PowerShell commands a fix names, in order, each once, with known values filled in."""
    found: list[str] = []
    for match in _COMMAND.finditer(text or ""):
        command = fill(_trim(match.group(0)), known or {})
        if " " in command and command not in found:  # a bare cmdlet name is prose, not a command to run
            found.append(command)
    return tuple(found)
