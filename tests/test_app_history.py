"""AppTest: console runs are saved with their 'Customer / ticket' label; the History page lists, opens and
compares them, also from a link."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from checks.history.store import open_store
from checks.model import CheckId, CheckResult, RunReport, Status
from checks.safe_text import plain

APP = str(Path(__file__).resolve().parents[1] / "app.py")
TIMEOUT = 90
NOW = dt.datetime.now(dt.UTC)


@pytest.fixture
def history(tmp_path, monkeypatch):
    """A fresh history database for the console under test."""
    url = f"sqlite:///{tmp_path / 'console.sqlite3'}"
    monkeypatch.setenv("RELAY_CONSOLE_DB", url)
    store = open_store(url)
    yield store
    store.close()


def report(run_id: str, *, hours_ago: float, sign_in: Status) -> RunReport:
    started = NOW - dt.timedelta(hours=hours_ago)
    return RunReport(run_id, started, started, "0.1.0", "gmail", "smtp.gmail.com", 587, "starttls", "a@contoso.test",
                     (CheckResult.of(CheckId.TLS, "TLS", Status.PASS, "TLS 1.3"),
                      CheckResult.of(CheckId.AUTH_CREDENTIALS, "Sign-in", sign_in, f"sign-in {sign_in}")))


def text_of(at: AppTest) -> str:
    kinds = ("markdown", "caption", "error", "warning", "info", "success", "subheader", "title")
    parts = ["\n".join(plain(str(getattr(e, "value", ""))) for e in getattr(at, kind)) for kind in kinds]
    return "\n".join(parts + [str(frame.value.to_dict()) for frame in at.dataframe])


def history_page(**params: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    for key, value in params.items():
        at.query_params[key] = value
    return at.switch_page("pages/history.py").run()


def test_a_check_run_is_saved_with_its_label_and_a_practice_run_is_not(history):
    # Given the practice lab's working Gmail scenario, run once as practice
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params["scenario"] = "working-gmail"
    at.run()
    next(b for b in at.button if b.label == "Run this scenario").click().run()
    assert not at.exception and history.runs() == []
    # When it is loaded into Check a relay, labelled with a ticket, and run
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params["scenario"] = "working-gmail"
    at = at.run().button[1].click().run()  # "Load into Check a relay"
    at.text_input(key="history.label").set_value("Contoso T-1234")
    next(b for b in at.button if "Run checks" in b.label).click().run()
    # Then the run is in the history under that label, and the page says how to link to it
    assert not at.exception
    runs = history.runs()
    assert [(r.label, r.setup, r.source, r.verdict.value) for r in runs] == [
        ("Contoso T-1234", "Contoso T-1234", "console", "ready")]
    assert f"history?run={runs[0].run_id}" in text_of(at)


def test_history_lists_runs_with_a_timeline_and_filters_by_label(history):
    # Given two setups' runs, one labelled with a ticket
    history.save(report("old-contoso", hours_ago=5, sign_in=Status.FAIL), setup="Contoso", label="T-1")
    history.save(report("new-contoso", hours_ago=1, sign_in=Status.PASS), setup="Contoso", label="T-1")
    history.save(report("fabrikam-01", hours_ago=2, sign_in=Status.PASS), setup="Fabrikam")
    # When the History page opens, then is filtered by the ticket
    at = history_page()
    assert not at.exception
    table = at.dataframe[0].value
    assert list(table["Run"]) == ["new-contoso", "fabrikam-01", "old-contoso"]
    assert list(table["Verdict"]) == ["Ready", "Ready", "Problems"]
    assert len(at.get("vega_lite_chart")) == 1  # the verdict timeline
    at.text_input(key="history.name").set_value("t-1").run()
    # Then only that customer's runs are left
    assert list(at.dataframe[0].value["Run"]) == ["new-contoso", "old-contoso"]


def test_a_run_link_opens_the_run_in_the_result_view(history):
    history.save(report("linked-run-1", hours_ago=1, sign_in=Status.FAIL), setup="Contoso", label="T-9")
    at = history_page(run="linked-run-1")
    assert not at.exception
    shown = text_of(at)
    assert "1 problem to fix" in shown and "Contoso" in shown and "T-9" in shown
    assert any("auth.credentials" in e.label for e in at.expander)
    assert "No saved run" not in shown
    missing = history_page(run="nothing-here")
    assert "not in the history" in text_of(missing)


def test_a_comparison_goes_older_to_newer_whatever_the_order(history):
    history.save(report("before-fix-1", hours_ago=3, sign_in=Status.FAIL), setup="Contoso")
    history.save(report("after-fix-22", hours_ago=1, sign_in=Status.PASS), setup="Contoso")
    at = history_page(compare="after-fix-22,before-fix-1")
    assert not at.exception
    shown = text_of(at)
    assert "1 fixed" in shown
    assert shown.index("before-fix-1") < shown.index("after-fix-22")
