"""AppTest: a console hosted for a team limits runs per session and refuses targets outside its allow-list."""

from pathlib import Path

from streamlit.testing.v1 import AppTest

from checks.safe_text import plain

APP = str(Path(__file__).resolve().parents[1] / "app.py")


def texts(elements) -> str:
    """What the user reads in these elements (Markdown escapes resolved)."""
    return "\n".join(plain(str(getattr(e, "value", ""))) for e in elements)


def test_run_limit_refuses_the_second_run_of_the_hour(monkeypatch):
    # Given a hosted console allowing one run per hour and session
    monkeypatch.setenv("RELAY_CONSOLE_RESTRICT_TARGETS", "1")
    monkeypatch.setenv("RELAY_CONSOLE_MAX_RUNS_PER_HOUR", "1")
    at = AppTest.from_file(APP, default_timeout=90).run()
    # When a practice scenario runs twice
    at.button[0].click().run()
    assert "Ready for go-live" in texts(at.success)
    at.button[0].click().run()
    # Then the second run is refused with a plain message, and the practice lab itself was allowed to run
    assert not at.exception
    assert "1 runs per hour" in texts(at.error)


def test_hosted_console_names_the_refused_field(monkeypatch):
    # Given a hosted console (provider hosts and ports 25/465/587 only)
    monkeypatch.setenv("RELAY_CONSOLE_RESTRICT_TARGETS", "1")
    at = AppTest.from_file(APP, default_timeout=60).run().switch_page("pages/check_relay.py").run()
    # When someone aims it at an internal host
    at.selectbox(key="form.profile").set_value("custom").run()
    at.text_input(key="form.host").set_value("intranet.corp").run()
    at.text_input(key="form.username").set_value("a@corp.example").run()
    at.text_input(key="form.password").set_value("secret-value").run()
    next(b for b in at.button if "Run checks" in b.label).click().run()
    # Then nothing runs and the host field says what this console may test
    assert not at.exception
    assert "this console may only test" in texts(at.markdown) + texts(at.error) + texts(at.caption)
