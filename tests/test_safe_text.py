"""Outside text stays text: control and bidi characters visible in every format, Markdown with nothing live."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import unicodedata

import pytest

from checks.model import CheckId, CheckResult, RunReport, Status
from checks.report.export import to_csv, to_json, to_markdown
from checks.safe_text import markdown, one_line, plain, visible

BANNER = "220 [Sign in again](http://x.example/phish) ![p](http://127.0.0.1:9/beacon.png) <img src=x> www.evil.example"
HOSTILE_NAME = "\x1b]0;pwned\x07\x1b[2J evil\u202egnp.exe \u200bzero mail@evil.example"
LIVE = re.compile(r"(?<!\\)[\[\]<>!`*_|]|https?://|www\.|\w@\w")  # an unescaped special character, or a link


def report_with(text: str) -> RunReport:
    now = dt.datetime(2026, 11, 30, tzinfo=dt.UTC)
    result = CheckResult.of(CheckId.TLS, "TLS encryption and certificate", Status.FAIL, f"Certificate: {text}",
                            details=f"issued by {text}", remediation=text, reply=text, transcript=(f"S: {text}",))
    return RunReport("run1", now, now, "1", "custom", f"h{text}", 587, "starttls", text, (result,))


@pytest.mark.parametrize("code", [*range(0x00, 0x09), *range(0x0B, 0x20), *range(0x7F, 0xA0), 0x202E, 0x2066,
                                  0x200B, 0xFEFF, 0x2028, 0xE0041])
def test_every_control_bidi_and_invisible_character_becomes_a_visible_escape(code):
    shown = visible(f"a{chr(code)}b")
    assert chr(code) not in shown and shown.startswith("a\\") and shown.endswith("b")
    assert visible(shown) == shown  # idempotent: escaping twice changes nothing


def test_no_format_or_control_character_survives_visible():
    survivors = [hex(c) for c in range(0x110000) if unicodedata.category(chr(c)) in ("Cc", "Cf")
                 and chr(c) not in "\n\t" and chr(c) in visible(chr(c))]
    assert survivors == []


def test_markdown_of_a_hostile_banner_has_no_link_image_or_html_and_reads_the_same():
    shown = markdown(BANNER)
    assert not LIVE.search(shown)
    assert plain(shown) == BANNER


def test_markdown_keeps_lines_and_one_line_cuts():
    assert plain(markdown("a\nb")) == "a\nb"
    assert one_line("a\nb" * 100, 10) == "a ba ba b…" and len(one_line("x" * 500, 300)) == 300


def test_csv_and_json_exports_show_control_and_bidi_characters_as_escapes():
    # Given a report whose certificate name carries a terminal title escape, a screen clear and a bidi override
    report = report_with(HOSTILE_NAME)
    # When exported as CSV and JSON
    for text in (to_csv(report), to_json(report)):
        # Then no raw control or bidi character is in the file, and their escapes are
        assert not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202e\u200b]", text)
        assert "\\x1b]0;pwned\\x07" in text.replace("\\\\", "\\") and "\\u202e" in text.replace("\\\\", "\\")
    assert next(csv.DictReader(io.StringIO(to_csv(report))))["summary"].startswith("Certificate: \\x1b]0;pwned")
    assert json.loads(to_json(report))["results"][0]["reply"] == visible(HOSTILE_NAME)


def test_markdown_export_of_a_hostile_banner_beacons_nothing():
    # Given a report whose server reply and summary carry a Markdown link, image and HTML
    text = to_markdown(report_with(BANNER))
    # Then outside the fenced server reply nothing is live, and the words are all there
    prose = re.sub(r"````?text\n.*?\n````?", "", text, flags=re.S)
    assert not re.search(r"(?<!\\)!\[|(?<!\\)\]\(|(?<!\\)<img|https?://|www\.", prose)
    assert "Certificate: " + BANNER in plain(text)


def test_batch_exports_show_a_hostile_setup_name_as_escapes():
    from checks.batch.report import batch_to_csv, batch_to_json, summary_to_csv
    from checks.batch.run import BatchReport, SetupOutcome, SetupState

    # Given a batch whose setup name (from the uploaded file) carries an escape sequence and a bidi override
    outcome = SetupOutcome(HOSTILE_NAME, SetupState.DONE, report_with("ok"))
    batch = BatchReport((outcome,), not_run=("\x1b[2Jlater",))
    # Then no batch export holds a raw control or bidi character
    for text in (batch_to_csv(batch), summary_to_csv(batch), batch_to_json(batch)):
        assert not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202e\u200b]", text)
