"""Results in Jupyter: HTML with status colours for a report, one check result, or a batch.

Every piece of text is made visible by `checks.safe_text` (control and bidi characters as escapes) and then
HTML-escaped, so a hostile banner shows as text: no tag, link or image from outside text reaches the page.
Styles are inline (notebook viewers drop <style>) and cells are left-aligned (JupyterLab right-aligns them).
Like `markdown`, it reads results by their fields and imports no engine module, so the model can use it.
"""

from __future__ import annotations

import html
from collections import Counter
from typing import Any

from checks.report.markdown import MARKDOWN_ICONS, VERDICT_ICONS, batch_verdict_line, verdict_line
from checks.safe_text import visible

STATUS_COLOURS = {  # (text, background): readable on light and dark notebook themes
    "pass": ("#116329", "#dafbe1"), "warn": ("#7d4e00", "#fff8c5"), "fail": ("#a40e26", "#ffebe9"),
    "skip": ("#424a53", "#eaeef2"), "error": ("#6639ba", "#fbefff"),
}
VERDICT_COLOURS = {"ready": "#116329", "incomplete": "#7d4e00", "problems": "#a40e26"}
_BOX = "line-height:1.45;max-width:72em"
_CELL = "text-align:left;vertical-align:top;padding:3px 8px;border-bottom:1px solid rgba(128,128,128,.3)"
_PRE = ("white-space:pre-wrap;text-align:left;margin:2px 0 6px;padding:6px 8px;"
        "background:rgba(128,128,128,.12);border-radius:4px")


def text(value: Any) -> str:
    """Any text as inert HTML: control characters visible, every HTML special character escaped."""
    return html.escape(visible(value), quote=True)


def badge(status: Any) -> str:
    colour, background = STATUS_COLOURS[str(status)]
    return (f'<span style="display:inline-block;white-space:nowrap;padding:0 6px;border-radius:8px;'
            f'font-weight:600;color:{colour};background:{background}">{MARKDOWN_ICONS[str(status)]} {status}</span>')


def _headline(verdict: Any, line: str) -> str:
    return (f'<div style="font-size:1.2em;font-weight:600;color:{VERDICT_COLOURS[str(verdict)]}">'
            f'{VERDICT_ICONS[str(verdict)]} {text(line)}</div>')


def _labelled(label: str, body: str) -> str:
    return f'<div style="white-space:pre-wrap;margin:2px 0"><b>{label}</b> {text(body)}</div>'


def _code(label: str, body: str) -> str:
    return f'<div style="margin:2px 0"><b>{label}</b><pre style="{_PRE}"><code>{text(body)}</code></pre></div>'


def _table(headers: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    head = "".join(f'<th style="{_CELL}">{h}</th>' for h in headers)
    body = "".join("<tr>" + "".join(f'<td style="{_CELL}">{cell}</td>' for cell in row) + "</tr>" for row in rows)
    return f'<table style="border-collapse:collapse;margin:6px 0"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def result_section(result: Any, *, setup: str = "") -> str:
    """A result's cause and fix: summary, details, the server's reply, the fix, copy-ready commands, the guide."""
    named = f"<b>{text(setup)}</b> - " if setup else ""
    parts = [f'<div style="border-left:4px solid {STATUS_COLOURS[str(result.status)][0]};padding:2px 0 2px 10px;'
             f'margin:10px 0">',
             f"<div>{named}{badge(result.status)} <b>{text(result.title)}</b> <code>{text(result.check_id)}</code></div>",
             f'<div style="white-space:pre-wrap;margin:4px 0">{text(result.summary)}</div>']
    if result.details:
        parts.append(_labelled("Details:", result.details))
    if result.reply:
        parts.append(_code("Server reply:", result.reply))
    if result.remediation:
        parts.append(_labelled("Fix:", result.remediation))
    for command in result.commands:
        parts.append(_code(f"{text(command.title or 'Command')} ({text(command.language)}):", command.code))
    if result.guide_section:
        parts.append(_labelled("Setup guide:", result.guide_section))
    return "".join(parts) + "</div>"


def report_html(report: Any) -> str:
    """The verdict, what was checked, a status-coloured table of every check, then cause and fix per non-pass."""
    target = f"{report.host}:{report.port}" + (f" ({report.security})" if report.security else "")
    about = " · ".join(text(part) for part in (
        target, f"profile {report.profile}", f"sender {report.sender}" if report.sender else "",
        f"run {report.run_id}", report.started_at.isoformat(timespec="seconds")) if part)
    rows = [(badge(r.status), f"<code>{text(r.check_id)}</code><br>{text(r.title)}",
             f'<span style="white-space:pre-wrap">{text(r.summary)}</span>',
             f'<span style="white-space:nowrap">{int(r.duration_ms)} ms</span>')
            for r in report.results]
    sections = "".join(result_section(r) for r in report.results if str(r.status) != "pass")
    return (f'<div style="{_BOX}">{_headline(report.verdict, verdict_line(report))}'
            f'<div style="opacity:.75;margin-bottom:4px">{about}</div>'
            f'{_table(("Status", "Check", "Summary", "Time"), rows)}{sections}</div>')


def result_html(result: Any) -> str:
    return f'<div style="{_BOX}">{result_section(result)}</div>'


def batch_html(batch: Any) -> str:
    """The batch's verdict line, one row per setup (verdict, counts, problem checks), then each problem."""
    rows = []
    for outcome in batch.outcomes:
        report = outcome.report
        counts = Counter(str(r.status) for r in report.results)
        rows.append((
            text(outcome.name), f'<span style="color:{VERDICT_COLOURS[str(report.verdict)]};font-weight:600">'
            f'{VERDICT_ICONS[str(report.verdict)]} {text(report.verdict)}</span>',
            text(f"{report.host}:{report.port}"), text(report.profile),
            " ".join(f"{badge(status)} {counts[status]}" for status in STATUS_COLOURS if counts[status]),
            " ".join(f"<code>{text(r.check_id)}</code>" for r in report.problems)))
    sections = "".join(result_section(r, setup=outcome.name) for outcome in batch.outcomes
                       for r in outcome.report.problems)
    return (f'<div style="{_BOX}">{_headline(batch.verdict, batch_verdict_line(batch))}'
            f'{_table(("Setup", "Verdict", "Host", "Profile", "Checks", "Problems"), rows)}{sections}</div>')
