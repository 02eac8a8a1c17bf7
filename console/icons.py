"""Status icons and words shared by every screen."""

from __future__ import annotations

from checks.model import Status

STATUS_ICONS = {Status.PASS: "✅", Status.WARN: "⚠️", Status.FAIL: "❌", Status.SKIP: "⏭️", Status.ERROR: "💥"}
STATUS_WORDS = {Status.PASS: "Pass", Status.WARN: "Warning", Status.FAIL: "Fail", Status.SKIP: "Skipped",
                Status.ERROR: "Check broke"}
CHANGE_ICONS = {"fixed": "🟢", "broke": "🔴", "changed": "🟡", "same": "⚪", "added": "➕", "removed": "➖"}


def badge(status: Status | str) -> str:
    """'❌ Fail' for a status."""
    status = Status(status)
    return f"{STATUS_ICONS[status]} {STATUS_WORDS[status]}"
