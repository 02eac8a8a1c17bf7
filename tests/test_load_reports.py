"""load_reports: many saved reports (single runs and batches, CSV and JSON) into one tidy DataFrame."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from checks.batch.file import BatchSetup
from checks.batch.report import batch_to_csv, batch_to_json
from checks.batch.run import run_batch
from checks.model import CheckId, CheckResult, RunReport, Status
from checks.report import LOADED_COLUMNS, SkippedReportWarning, load_reports
from checks.report.export import to_csv, to_json

STARTED = dt.datetime(2026, 11, 30, 8, 0, tzinfo=dt.UTC)
BASIC_AUTH_CHECKS = (  # what a Microsoft 365 basic-auth run reports
    CheckId.SETTINGS, CheckId.DNS_HOST, CheckId.DNS_MX, CheckId.PORT, CheckId.SMTP_GREETING, CheckId.TLS,
    CheckId.AUTH_MECHANISMS, CheckId.AUTH_CREDENTIALS, CheckId.SENDER, CheckId.DOMAIN_SPF, CheckId.DOMAIN_DKIM,
    CheckId.DOMAIN_DMARC)


def customer_report(run_id: str, *, failing: CheckId | None = CheckId.AUTH_CREDENTIALS) -> RunReport:
    results = tuple(
        CheckResult.of(check_id, check_id.value.replace(".", " ").title(),
                       Status.FAIL if check_id is failing else Status.PASS,
                       "535 5.7.139 Authentication unsuccessful" if check_id is failing else "fine",
                       remediation="Turn on SMTP AUTH for the mailbox." if check_id is failing else "", duration_ms=12)
        for check_id in BASIC_AUTH_CHECKS)
    return RunReport(run_id=run_id, started_at=STARTED, finished_at=STARTED + dt.timedelta(seconds=2),
                     tool_version="0.1.0", profile="m365-basic", host="smtp.office365.com", port=587,
                     security="starttls", sender="relay@contoso.example", results=results)


def test_a_thousand_report_files_load_fast_into_the_documented_columns(tmp_path):
    # Given 1,000 customer reports, half CSV and half JSON
    report = customer_report("RUN-ID")
    texts = {".csv": to_csv(report), ".json": to_json(report)}
    for number in range(1000):
        suffix = (".csv", ".json")[number % 2]
        (tmp_path / f"customer{number:04d}{suffix}").write_text(
            texts[suffix].replace("RUN-ID", f"run{number:04d}"), encoding="utf-8", newline="")
    # When the folder is loaded
    started = time.perf_counter()
    frame = load_reports(tmp_path)
    elapsed = time.perf_counter() - started
    # Then every check of every run is one row with the run's metadata, in under 5 s
    assert elapsed < 5.0, f"load_reports took {elapsed:.2f} s"
    assert tuple(frame.columns) == LOADED_COLUMNS
    assert len(frame) == 1000 * len(report.results)
    assert frame["run_id"].nunique() == 1000
    first = frame[frame["file"] == "customer0000.csv"]
    assert set(first["setup"]) == {"customer0000"}
    assert first.loc[first["check_id"] == "auth.credentials", "status"].item() == "fail"
    assert set(first["verdict"]) == {"problems"}
    assert str(frame["started_at"].dtype).startswith("datetime64") and frame["port"].dtype == "int64"


def _fake_runner(config, **_):
    failing = CheckId.TLS if "tls" in (config.username or "") else None
    return customer_report(f"run-{config.username.partition('@')[0]}", failing=failing)


def test_batch_reports_give_one_run_per_setup_without_the_summary_rows(tmp_path):
    # Given a batch of two setups saved as CSV and as JSON
    setups = [BatchSetup(name, {"profile": "m365-basic", "username": f"{name}@contoso.example", "password": "x"})
              for name in ("ok", "tls")]
    batch = run_batch(setups, jobs=2, environ={}, runner=_fake_runner)
    (tmp_path / "batch.csv").write_text(batch_to_csv(batch), encoding="utf-8", newline="")
    (tmp_path / "batch.json").write_text(batch_to_json(batch), encoding="utf-8")
    # When both are loaded
    frame = load_reports([tmp_path / "batch.csv", tmp_path / "batch.json"])
    # Then each setup is a run named after the setup, and no 'summary' pseudo-check is among the rows
    assert "summary" not in set(frame["check_id"])
    per_file = frame.groupby("file")["setup"].unique()
    assert {tuple(sorted(v)) for v in per_file} == {("ok", "tls")}
    verdicts = frame.drop_duplicates(["file", "setup"]).set_index(["file", "setup"])["verdict"]
    assert verdicts[("batch.json", "tls")] == "problems" and verdicts[("batch.csv", "ok")] == "ready"


def test_bad_files_are_skipped_with_a_warning_that_names_them(tmp_path):
    # Given a folder with one good report and three files that are not reports
    (tmp_path / "good.csv").write_text(to_csv(customer_report("good")), encoding="utf-8", newline="")
    (tmp_path / "notes.csv").write_text("name,host\nacme,smtp.gmail.com\n", encoding="utf-8")
    (tmp_path / "broken.json").write_text('{"run": {"id": ', encoding="utf-8")
    (tmp_path / "photo.json").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    (tmp_path / "README.txt").write_text("not a report, not even looked at", encoding="utf-8")
    # When the folder is loaded
    with pytest.warns(SkippedReportWarning) as caught:
        frame = load_reports(tmp_path)
    # Then the good report is there and each bad file is named once in a warning
    assert set(frame["file"]) == {"good.csv"}
    messages = " | ".join(str(w.message) for w in caught)
    for name in ("notes.csv", "broken.json", "photo.json"):
        assert name in messages
    assert "README.txt" not in messages


def test_an_empty_folder_gives_an_empty_frame_with_the_columns(tmp_path):
    frame = load_reports(tmp_path)
    assert frame.empty and tuple(frame.columns) == LOADED_COLUMNS


def test_control_and_bidi_characters_from_a_file_come_out_visible(tmp_path):
    # Given a customer's report whose summary carries a terminal escape and a right-to-left override
    report = customer_report("r1")
    hostile = "535 refused \x1b]0;owned\x07 \u202egnp.exe"
    (tmp_path / "evil\u202e.json").write_text(
        to_json(report).replace("535 5.7.139 Authentication unsuccessful", hostile.replace("\x1b", "\\u001b")
                                .replace("\x07", "\\u0007").replace("\u202e", "\\u202e")), encoding="utf-8")
    # When it is loaded
    frame = load_reports(tmp_path)
    # Then no raw control character reaches the table, and the file name is shown with its escape too
    text = frame.to_csv()
    assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text
    assert "\\x1b]0;owned\\x07" in frame.loc[frame["status"] == "fail", "summary"].item()
    assert set(frame["file"]) == {"evil\\u202e.json"}
