"""Results in Jupyter: rich HTML and Markdown that keep outside text inert, and short, secret-free plain reprs."""

from __future__ import annotations

import datetime as dt
import re
import threading
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from test_browser import SCREENSHOTS, chromium

from checks import run_checklist
from checks.batch.file import BatchSetup
from checks.batch.run import run_batch
from checks.model import CheckId, CheckResult, Command, CommandLanguage, RunReport, Status
from lab.smtp import Scenario

STARTED = dt.datetime(2026, 11, 30, 8, 0, tzinfo=dt.UTC)
HOSTILE = ("220 [Sign in again](http://x.test/phish) ![p](http://x.test/beacon.png) "
           "<img src=http://x.test/i.png onerror=alert(1)> <script>alert(1)</script> "
           '<a href="http://x.test/">here</a> \x1b]0;owned\x07\x1b[2J \u202eevil')
DANGEROUS_TAGS = {"img", "script", "a", "iframe", "object", "embed", "link", "meta", "style", "form", "svg"}


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def tags_of(markup: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = Tags()
    parser.feed(markup)
    return parser.tags


def hostile_report() -> RunReport:
    results = (
        CheckResult.of(CheckId.SMTP_GREETING, "Server greets", Status.PASS, HOSTILE, reply=HOSTILE),
        CheckResult.of(CheckId.AUTH_CREDENTIALS, "Credentials accepted", Status.FAIL, "Refused: " + HOSTILE,
                    details=HOSTILE, remediation="Do this: " + HOSTILE, reply="535 " + HOSTILE,
                    guide_section=HOSTILE),
    )
    return RunReport(run_id="run<b>1", started_at=STARTED, finished_at=STARTED, tool_version="0.1.0",
                     profile="gmail<i>", host="smtp.gmail.com", port=587, security="starttls",
                     sender="[x](http://x.test)@example.com", results=results)


def test_html_of_a_hostile_report_is_inert():
    # Given a report whose server replies carry Markdown, HTML and control characters
    markup = hostile_report()._repr_html_()
    # When the HTML a notebook would show is parsed
    tags = tags_of(markup)
    # Then outside text made no tag, link, image or handler; control characters are visible escapes
    assert not [tag for tag, _ in tags if tag in DANGEROUS_TAGS]
    assert not [(tag, attrs) for tag, attrs in tags for name in attrs if name in ("href", "src") or name.startswith("on")]
    assert "\x1b" not in markup and "\x07" not in markup and "\u202e" not in markup
    assert "\\x1b" in markup
    assert "&lt;script&gt;" in markup and "535" in markup


def test_markdown_of_a_hostile_report_has_no_live_link_image_or_tag():
    # Given the Markdown a text front-end would render, with the fenced code blocks (literal text) set aside
    prose = re.sub(r"(?ms)^(`{3,})text\n.*?^\1$", "", hostile_report()._repr_markdown_())
    # Then every bracket, angle bracket and parenthesis from outside text is escaped
    assert not re.search(r"(?<!\\)[<\[]", prose), prose
    assert "\x1b" not in prose and "\u202e" not in prose


def test_html_shows_verdict_coloured_table_and_each_problem_with_its_fix():
    report = hostile_report()
    markup = report._repr_html_()
    assert "1 problem to fix" in markup
    assert markup.count("<tr>") == 1 + len(report.results)
    assert "Fix:" in markup and "Server reply:" in markup and "<pre" in markup
    assert "#a40e26" in markup  # the fail colour


def test_a_single_result_shows_itself_too():
    result = hostile_report().results[1]
    assert "Credentials accepted" in result._repr_html_()
    assert "Credentials accepted" in result._repr_markdown_()


def test_plain_repr_is_short_and_names_the_verdict():
    report = hostile_report()
    assert len(repr(report)) < 200 and "1 problem to fix (auth.credentials)" in repr(report)
    assert len(repr(report.results[1])) < 160 and "auth.credentials" in repr(report.results[1])
    assert "\x1b" not in repr(report.results[0])


CANARY = "Canary-Pw-4c1e9a77"


def test_no_secret_in_any_display_of_a_real_run(smtp_lab, lab_config):
    # Given a run against a lab server that refuses the (canary) password
    server = smtp_lab(Scenario.BAD_CREDENTIALS)
    report = run_checklist(lab_config(server, password=CANARY))
    # Then neither the plain repr nor the rich displays show it
    shown = [repr(report), report._repr_html_(), report._repr_markdown_()]
    shown += [repr(r) + r._repr_html_() + r._repr_markdown_() for r in report.results]
    assert not [text for text in shown if CANARY in text]


def test_copy_ready_commands_show_as_code_with_their_title():
    result = CheckResult.of(CheckId.AUTH_CREDENTIALS, "Credentials accepted", Status.FAIL, "SMTP AUTH is disabled",
                         commands=(Command(CommandLanguage.POWERSHELL,
                                           "Set-CASMailbox -Identity relay@contoso.example -SmtpClientAuthenticationDisabled $false",
                                           "Turn SMTP AUTH on for the mailbox"),))
    markup = result._repr_html_()
    assert "<pre" in markup and "Set-CASMailbox -Identity relay@contoso.example" in markup
    assert "Turn SMTP AUTH on for the mailbox (powershell)" in markup
    assert "```powershell" in result._repr_markdown_()


def test_a_batch_displays_a_row_per_setup_and_each_problem():
    def runner(config, **_):
        report = hostile_report()
        return report if config.username.startswith("bad") else RunReport(
            **{**report.__dict__, "results": report.results[:1]})

    setups = [BatchSetup(name, {"profile": "gmail", "username": f"{name}@example.com", "password": "x"})
              for name in ("good", "bad", "good2")]
    batch = run_batch(setups, jobs=2, environ={}, runner=runner)
    markup = batch._repr_html_()
    assert "3 setups: 2 ready, 1 with problems" in markup
    assert not [tag for tag, _ in tags_of(markup) if tag in DANGEROUS_TAGS]
    assert "bad" in batch._repr_markdown_() and len(repr(batch)) < 200


class Beacon(BaseHTTPRequestHandler):
    """Counts every request: a page that fetches anything from here has live outside content."""

    hits: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        Beacon.hits.append(self.path)
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.mark.browser
def test_the_rich_display_stays_inert_in_a_real_browser(tmp_path):
    # Given a beacon on loopback and a report whose server replies point at it in Markdown, HTML and script
    server = HTTPServer(("127.0.0.1", 0), Beacon)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    beacon = f"http://127.0.0.1:{server.server_port}"
    hostile = (f"220 ![p]({beacon}/md.png) [sign in]({beacon}/md-link) <img src={beacon}/img.png> "
               f"<script>fetch('{beacon}/js')</script> <iframe src={beacon}/frame></iframe> "
               f"<a href={beacon}/a>here</a> <style>@import '{beacon}/css';</style>")
    result = CheckResult.of(CheckId.AUTH_CREDENTIALS, "Credentials accepted", Status.FAIL, hostile, details=hostile,
                            remediation=hostile, reply=hostile)
    report = RunReport(run_id="r1", started_at=STARTED, finished_at=STARTED, tool_version="0.1.0", profile="gmail",
                       host="smtp.gmail.com", port=587, security="starttls", sender=hostile, results=(result,))
    page_file = tmp_path / "report.html"
    page_file.write_text(f"<!doctype html><meta charset=utf-8><body>{report._repr_html_()}</body>", encoding="utf-8")
    # When Chromium shows the notebook's HTML
    try:
        with chromium() as context:
            page = context.new_page()
            page.goto(page_file.as_uri())
            page.wait_for_timeout(500)
            found = page.evaluate("() => ({images: document.images.length, links: document.links.length, "
                                  "scripts: document.scripts.length, frames: document.querySelectorAll('iframe').length, "
                                  "styles: document.querySelectorAll('style').length})")
            shown = page.inner_text("body")
            page.screenshot(path=str(SCREENSHOTS / "rich-display-hostile.png"), full_page=True)
    finally:
        server.shutdown()
    # Then nothing from the replies became an element, nothing was fetched, and the reply reads as text
    assert found == {"images": 0, "links": 0, "scripts": 0, "frames": 0, "styles": 0}
    assert Beacon.hits == []
    assert f"<img src={beacon}/img.png>" in shown
