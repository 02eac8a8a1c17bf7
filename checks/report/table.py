"""Terminal output: live progress lines for a run and the final results table, safe against hostile text."""

from __future__ import annotations

import textwrap
from typing import Any

from checks.model import CheckId, RunReport, Status, Verdict
from checks.report.markdown import verdict_line
from checks.safe_text import visible

UNICODE_ICONS = {Status.PASS: "✓", Status.WARN: "!", Status.FAIL: "✗", Status.SKIP: "-", Status.ERROR: "?"}
ASCII_ICONS = {Status.PASS: "+", Status.WARN: "!", Status.FAIL: "x", Status.SKIP: "-", Status.ERROR: "?"}
COLOURS = {Status.PASS: "32", Status.WARN: "33", Status.FAIL: "31", Status.SKIP: "2", Status.ERROR: "35"}
RUNNING = "…"
CHECK_ID_WIDTH = max(len(c.value) for c in CheckId)


def safe_text(text: Any) -> str:
    """Text fit for a terminal: escape sequences, control and bidi characters shown as \\xNN, never executed."""
    return visible(text).replace("\t", "    ")


def supports_unicode(stream: Any) -> bool:
    encoding = getattr(stream, "encoding", None) or "utf-8"
    try:
        "".join(UNICODE_ICONS.values()).encode(encoding) and RUNNING.encode(encoding)
        return True
    except (UnicodeEncodeError, LookupError):
        return False


def paint(text: str, code: str, colour: bool) -> str:
    return f"\x1b[{code}m{text}\x1b[0m" if colour else text


def status_mark(status: Status, *, unicode: bool = True, colour: bool = False) -> str:
    """'✓ pass', '✗ fail', ... padded so columns line up."""
    icon = (UNICODE_ICONS if unicode else ASCII_ICONS)[status]
    return paint(f"{icon} {status.value:<5}", COLOURS[status], colour)


def duration_text(duration_ms: int) -> str:
    return f"{duration_ms} ms" if duration_ms < 1000 else f"{duration_ms / 1000:.1f} s"


def _indent(text: str, prefix: str, width: int | None) -> list[str]:
    lines = []
    for raw in safe_text(text).split("\n"):
        if width and len(prefix) + len(raw) > width:
            lines.extend(textwrap.wrap(raw, width=max(20, width), initial_indent=prefix, subsequent_indent=prefix,
                                       break_long_words=False, break_on_hyphens=False) or [prefix.rstrip()])
        else:
            lines.append((prefix + raw).rstrip())
    return lines


def render_table(report: RunReport, *, verbose: bool = False, colour: bool = False, unicode: bool = True,
                 width: int | None = None) -> str:
    """The run as a terminal table: status, check id, summary; then cause, reply and fix per problem."""

    security = f" ({safe_text(report.security)})" if report.security else ""
    out = [f"Relay check of {safe_text(report.host)}:{report.port}{security}, profile {safe_text(report.profile)}"
           f", run {safe_text(report.run_id)}, {report.started_at.isoformat(timespec='seconds')}", ""]
    lead = 2 + 7 + 2 + CHECK_ID_WIDTH + 2
    out.append(f"  {'STATUS':<7}  {'CHECK':<{CHECK_ID_WIDTH}}  SUMMARY")
    for result in report.results:
        summary = _indent(result.summary, " " * lead, width) or [""]
        first = summary[0][lead:] if summary[0].startswith(" " * lead) else summary[0].strip()
        out.append(f"  {status_mark(result.status, unicode=unicode, colour=colour)}  "
                   f"{result.check_id.value:<{CHECK_ID_WIDTH}}  {first}".rstrip())
        out.extend(summary[1:])
    for result in report.results:
        shown = result.status in (Status.FAIL, Status.WARN, Status.ERROR) or (verbose and result.transcript)
        if not shown:
            continue
        out += ["", f"{status_mark(result.status, unicode=unicode, colour=colour).rstrip()}  "
                    f"{result.check_id.value} - {safe_text(result.title)}"]
        if result.status != Status.PASS:
            out.extend(_indent(result.summary, "    ", width))
        if result.reply:
            out.append("    Server reply:")
            out.extend(_indent(result.reply, "      ", None))
        if result.details:
            out.extend(_indent(result.details, "    ", width))
        if result.remediation:
            out.extend(_indent("Fix: " + result.remediation, "    ", width))
        if result.guide_section:
            out.extend(_indent(f"Setup guide: {result.guide_section}", "    ", width))
        if verbose and result.transcript:
            out.append("    Transcript:")
            for line in result.transcript:
                out.extend(_indent(line, "      ", None))
    verdict = verdict_line(report)
    code = {Verdict.READY: "32", Verdict.INCOMPLETE: "33"}.get(report.verdict, "31")
    out += ["", paint(verdict, code, colour)]
    return "\n".join(out) + "\n"
