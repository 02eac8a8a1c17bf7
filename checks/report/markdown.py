"""Reports as Markdown for tickets and notebooks, and the verdict lines every output shares.

Outside text goes through `checks.safe_text`, so nothing in a reply becomes a link, image or tag. This module
reads results by their fields and imports no engine module, so the model can use it for its own display
(statuses and verdicts are string enums: plain strings stand for them here).
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from checks.safe_text import markdown, visible

MARKDOWN_ICONS = {"pass": "✅", "warn": "⚠️", "fail": "❌", "skip": "⏭️", "error": "💥"}
VERDICT_ICONS = {"ready": "✅", "incomplete": "⚠️", "problems": "❌"}


def verdict_line(report: Any) -> str:
    """'Ready for go-live' (with warnings counted), 'N problems to fix', or 'Not proven yet: N checks ...'."""
    problems, skipped = len(report.problems), len(report.skipped)
    if problems:
        return f"{problems} problem{'s' if problems != 1 else ''} to fix"
    if skipped:
        return f"Not proven yet: {skipped} check{'s' if skipped != 1 else ''} could not run"
    warnings = len(report.warnings)
    suffix = f" ({warnings} warning{'s' if warnings != 1 else ''})" if warnings else ""
    return f"Ready for go-live{suffix}"


def batch_verdict_line(batch: Any) -> str:
    """'12 setups: 10 ready, 2 with problems' (+ how many did not run after an interrupt)."""
    total = len(batch.outcomes)
    verdicts = Counter(str(o.verdict) for o in batch.outcomes)
    line = f"{total} setup{'s' if total != 1 else ''}: {verdicts['ready']} ready, {verdicts['problems']} with problems"
    if verdicts["incomplete"]:
        line += f", {verdicts['incomplete']} not proven yet"
    if batch.not_run:
        line += f"; {len(batch.not_run)} did not finish (interrupted)" if batch.interrupted \
            else f"; {len(batch.not_run)} did not finish"
    return line


def md_cell(text: str) -> str:
    """Text inert inside a Markdown table cell: every special character escaped, line breaks as <br>."""
    return markdown(str(text).strip()).replace("  \n", "<br>")


def _md_prose(text: str) -> str:
    return markdown(str(text).strip())


def _md_code(text: str, language: str = "text") -> str:
    body = visible(text).rstrip("\n")
    longest = max((len(run) for run in re.findall(r"`+", body)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{language}\n{body}\n{fence}"


def md_commands(commands: tuple[Any, ...]) -> list[str]:
    """Markdown lines for copy-ready commands: each one a fenced code block, its title as a line above."""
    lines: list[str] = []
    for command in commands:
        lines += [""] + ([_md_prose(command.title), ""] if command.title else []) + [
            _md_code(command.code, str(command.language))]
    return lines


def result_markdown(result: Any, *, setup: str = "") -> str:
    """One result's section: status and title, summary, details, the server's reply, the fix and its commands."""
    icon = MARKDOWN_ICONS[str(result.status)]
    named = f"{_md_prose(setup)} - " if setup else ""
    lines = [f"### {named}{icon} {result.status}: {_md_prose(result.title)} (`{result.check_id}`)", "",
             _md_prose(result.summary)]
    if result.details:
        lines += ["", f"**Details:** {_md_prose(result.details)}"]
    if result.reply:
        lines += ["", "**Server reply:**", "", _md_code(result.reply)]
    if result.remediation:
        lines += ["", f"**Fix:** {_md_prose(result.remediation)}"]
    if result.commands:
        lines += ["", "**Commands:**", *md_commands(result.commands)]
    if result.guide_section:
        lines += ["", f"**Setup guide:** {_md_prose(str(result.guide_section))}"]
    return "\n".join(lines) + "\n"


def to_markdown(report: Any) -> str:
    """A report to paste into a ticket: verdict header, results table, a section per non-pass result."""
    host = f"{report.host}:{report.port}" + (f" ({report.security})" if report.security else "")
    lines = [
        f"## {VERDICT_ICONS[str(report.verdict)]} SMTP relay check: {verdict_line(report)}",
        "",
        "| | |",
        "|---|---|",
        f"| Host | {md_cell(host)} |",
        f"| Profile | {md_cell(report.profile)} |",
    ]
    if report.sender:
        lines.append(f"| Sender | {md_cell(report.sender)} |")
    lines += [
        f"| Run | {md_cell(report.run_id)} |",
        f"| Date | {md_cell(report.started_at.isoformat(timespec='seconds'))} |",
    ]
    if report.tool_version:
        lines.append(f"| Tool version | {md_cell(report.tool_version)} |")
    lines += ["", "| Status | Check | Summary |", "|---|---|---|"]
    for result in report.results:
        lines.append(f"| {MARKDOWN_ICONS[str(result.status)]} {result.status} | `{result.check_id}` "
                     f"{md_cell(result.title)} | {md_cell(result.summary)} |")
    for result in report.results:
        if str(result.status) != "pass":
            lines += ["", result_markdown(result).rstrip("\n")]
    return "\n".join(lines) + "\n"


def batch_markdown(batch: Any) -> str:
    """A batch for a ticket: the verdict line, one table row per setup, then each problem of each setup."""
    lines = [f"## {VERDICT_ICONS[str(batch.verdict)]} SMTP relay batch: {batch_verdict_line(batch)}", "",
             "| Setup | Verdict | Host | Profile | Problems |", "|---|---|---|---|---|"]
    for outcome in batch.outcomes:
        report = outcome.report
        problems = ", ".join(f"`{r.check_id}`" for r in report.problems)
        lines.append(f"| {md_cell(outcome.name)} | {VERDICT_ICONS[str(report.verdict)]} {report.verdict} | "
                     f"{md_cell(f'{report.host}:{report.port}')} | {md_cell(report.profile)} | {problems} |")
    for outcome in batch.outcomes:
        for result in outcome.report.problems:
            lines += ["", result_markdown(result, setup=outcome.name).rstrip("\n")]
    return "\n".join(lines) + "\n"
