"""Status icons and words shared by every screen."""

from __future__ import annotations

from checks.model import Status

STATUS_WORDS = {Status.PASS: "Pass", Status.WARN: "Warning", Status.FAIL: "Fail", Status.SKIP: "Skipped",
                Status.ERROR: "Check broke"}
STATUS_MATERIAL = {Status.PASS: ":green[:material/check_circle:]", Status.WARN: ":orange[:material/warning:]",
                   Status.FAIL: ":red[:material/cancel:]", Status.SKIP: ":gray[:material/skip_next:]",
                   Status.ERROR: ":violet[:material/bug_report:]"}
STATUS_COLOURS = {Status.PASS: "#dafbe1", Status.WARN: "#fff8c5", Status.FAIL: "#ffebe9", Status.SKIP: "#eaeef2",
                  Status.ERROR: "#fbefff"}


def label(status: Status | str) -> str:
    """Markdown with a font icon (renders without an emoji font): ':red[:material/cancel:] **Fail**'."""
    status = Status(status)
    return f"{STATUS_MATERIAL[status]} **{STATUS_WORDS[status]}**"


def word(status: Status | str) -> str:
    return STATUS_WORDS[Status(status)]
