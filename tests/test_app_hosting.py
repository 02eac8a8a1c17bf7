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
    at.text_input(key="form.host").set_value("intranet.corp")
    at.text_input(key="form.username").set_value("a@corp.example")
    at.text_input(key="form.password").set_value("secret-value")
    next(b for b in at.button if "Run checks" in b.label).click().run()
    # Then nothing runs and the host field says what this console may test
    assert not at.exception
    assert "this console may only test" in texts(at.markdown) + texts(at.error) + texts(at.caption)


BATCH_PAGE = str(Path(__file__).resolve().parents[1] / "pages" / "batch.py")


def batch_of(count: int) -> str:
    rows = [f"s{i},gmail,smtp.gmail.com,a{i}@gmail.com,PW" for i in range(count)]
    return "\n".join(["name,profile,host,username,password_env", *rows]) + "\n"


def test_every_setup_of_a_batch_counts_against_the_hourly_runs(monkeypatch):
    # Given a hosted console allowing 2 runs per hour, and a batch of 3 setups (each with its own password)
    monkeypatch.setenv("RELAY_CONSOLE_RESTRICT_TARGETS", "1")
    monkeypatch.setenv("RELAY_CONSOLE_MAX_RUNS_PER_HOUR", "2")
    at = AppTest.from_file(BATCH_PAGE, default_timeout=30).run()
    at.text_area(key="batch.text").input(batch_of(3))
    at.text_input(key="batch.secrets").input("PW=abcdefghijklmnop")
    # When it is run, three times
    for _ in range(3):
        at.button(key="batch.run").click().run()
    # Then no checklist ran: three setups are over the allowance of two
    assert not at.exception
    assert at.session_state["batch.report"] is None
    assert "2 runs per hour" in texts(at.error) and "3 runs would go over it" in texts(at.error)


def test_a_hosted_batch_is_capped_and_never_reads_the_environment(monkeypatch):
    # Given a hosted console (default caps) and a batch of 21 setups
    monkeypatch.setenv("RELAY_CONSOLE_RESTRICT_TARGETS", "1")
    at = AppTest.from_file(BATCH_PAGE, default_timeout=30).run()
    # Then the environment option is not offered, and concurrency is capped
    assert not [c for c in at.checkbox if c.key == "batch.use_env"]
    assert at.number_input(key="batch.jobs").max == 4
    # When the batch is run
    at.text_area(key="batch.text").input(batch_of(21))
    at.button(key="batch.run").click().run()
    # Then it is refused by size before anything runs
    assert not at.exception
    assert "at most 20 setups per batch (this one has 21)" in texts(at.error)


def test_a_new_browser_session_does_not_reset_the_allowance(monkeypatch):
    # Given a hosted console allowing one run per hour, used up by one session
    monkeypatch.setenv("RELAY_CONSOLE_RESTRICT_TARGETS", "1")
    monkeypatch.setenv("RELAY_CONSOLE_MAX_RUNS_PER_HOUR", "1")
    first = AppTest.from_file(APP, default_timeout=90).run()
    first.button[0].click().run()
    assert "Ready for go-live" in texts(first.success)
    # When a new session (same client address) runs again
    second = AppTest.from_file(APP, default_timeout=90).run()
    second.button[0].click().run()
    # Then it is refused too
    assert not second.exception
    assert "1 runs per hour" in texts(second.error)
