"""The Batch page (pages/batch.py) driven by Streamlit's AppTest against lab servers."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from streamlit.testing.v1 import AppTest

from checks.batch.run import BatchReport
from lab.smtp import Scenario

PAGE = str(Path(__file__).resolve().parents[1] / "pages" / "batch.py")
CANARY = "Canary-Page-93be01"


def batch_text(rows: list[dict]) -> str:
    columns = ["name"] + sorted({k for r in rows for k in r if k != "name"})
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def lab_row(lab_settings, server, name, **overrides):
    values = lab_settings(server, **overrides)
    values.pop("password", None)
    values.setdefault("password_env", "LAB_PW")
    return {"name": name, **values}


def shown_text(at: AppTest) -> str:
    parts = [e.value for e in at.markdown] + [e.value for e in at.error] + [e.value for e in at.success]
    parts += [str(e.value) for e in at.dataframe] + [e.value for e in at.code] + [e.value for e in at.text]
    return "\n".join(str(p) for p in parts)


def test_page_runs_a_pasted_batch_and_shows_summary_and_chart(smtp_lab, lab_settings):
    # Given the page, a pasted batch of a working setup and one with a wrong (canary) password
    good, bad = smtp_lab(), smtp_lab(Scenario.BAD_CREDENTIALS)
    text = batch_text([lab_row(lab_settings, good, "works"),
                       lab_row(lab_settings, bad, "wrong-password", password_env="WRONG_PW")])
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    at.text_area(key="batch.text").input(text)
    at.text_input(key="batch.secrets").input(f"LAB_PW={good.account[1]}; WRONG_PW={CANARY}")
    # When the batch is run
    at.button(key="batch.run").click().run()
    # Then the report is kept, the summary counts setups by verdict, and the cause is named in words and charted
    assert not at.exception
    report = at.session_state["batch.report"]
    assert isinstance(report, BatchReport) and [o.name for o in report.outcomes] == ["works", "wrong-password"]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics == {"Setups": "2", "Ready": "1", "Not proven yet": "0", "Problems to fix": "1"}
    summary = at.dataframe[0].value
    assert list(summary["Setup"]) == ["wrong-password", "works"]  # problems first
    cause = summary.loc[summary["Setup"] == "wrong-password", "Cause"].item()
    assert cause == "SMTP sign-in: Authentication unsuccessful (wrong password or bad token)", cause
    assert any("Setups by cause" in m.value for m in at.markdown)
    assert "1 with problems" in at.error[0].value
    assert CANARY not in shown_text(at) and good.account[1] not in shown_text(at)


def test_page_refuses_an_inline_secret_naming_the_row():
    # Given a pasted batch with a password column
    at = AppTest.from_file(PAGE, default_timeout=30).run()
    at.text_area(key="batch.text").input(f"name,host,password\nacme,smtp.lab.test,{CANARY}\n")
    # When it is run
    at.button(key="batch.run").click().run()
    # Then an error names the row, the secret is not shown, nothing ran
    assert not at.exception
    assert len(at.error) == 1 and "row 2" in at.error[0].value and CANARY not in at.error[0].value
    assert "batch.report" not in at.session_state


def test_page_asks_for_a_file_when_nothing_is_given():
    # Given the page with nothing uploaded or pasted
    at = AppTest.from_file(PAGE, default_timeout=30).run()
    # When run is pressed
    at.button(key="batch.run").click().run()
    # Then it asks for a batch file
    assert "Upload a batch file" in at.error[0].value


def test_environment_is_not_read_unless_allowed(smtp_lab, lab_settings, monkeypatch):
    # Given a secret that exists only in the server's environment
    server = smtp_lab()
    monkeypatch.setenv("LAB_PW", server.account[1])
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    at.text_area(key="batch.text").input(batch_text([lab_row(lab_settings, server, "env-only")]))
    # When the batch runs without, then with, the environment allowed
    at.button(key="batch.run").click().run()
    without = at.session_state["batch.report"].outcomes[0]
    at.checkbox(key="batch.use_env").check()
    at.button(key="batch.run").click().run()
    allowed = at.session_state["batch.report"].outcomes[0]
    # Then the reference is unresolved at first and works once allowed
    assert without.state == "invalid" and "LAB_PW" in without.report.results[0].summary
    assert allowed.state == "done" and allowed.verdict == "ready"
