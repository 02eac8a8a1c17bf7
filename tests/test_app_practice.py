"""AppTest: the practice lab page (the console's first screen) runs lab scenarios and shows verdict and fixes."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from checks.safe_text import plain
from console import practice

APP = str(Path(__file__).resolve().parents[1] / "app.py")
RUN_TIMEOUT = 90


def practice_app() -> AppTest:
    return AppTest.from_file(APP, default_timeout=RUN_TIMEOUT).run()


def section(at: AppTest, check_id: str):
    return next(e for e in at.expander if f"`{check_id}`" in e.label)


def texts(element) -> str:
    """What the user reads in these elements (Markdown escapes resolved)."""
    return "\n".join(plain(str(getattr(e, "value", ""))) for e in element)


def pick(at: AppTest, scenario_id: str) -> AppTest:
    """Choose a scenario as a user does: its kind of problem first, then the scenario."""
    at.selectbox(key="practice.family").set_value(practice.family_of(practice.scenario(scenario_id))).run()
    at.selectbox(key="practice.scenario").set_value(scenario_id)
    return at


def run_scenario(at: AppTest, scenario_id: str) -> AppTest:
    return pick(at, scenario_id).button[0].click().run()


def test_first_screen_is_the_practice_lab_with_a_working_scenario_selected():
    # Given a console started with no configuration
    # When it opens
    at = practice_app()
    # Then the practice lab is shown, explains itself and offers a working scenario first
    assert not at.exception
    assert at.title[0].value == "Practice lab"
    assert at.selectbox(key="practice.scenario").value == "working-gmail"
    assert "every check passes" in texts(at.caption)


def test_working_scenario_is_ready_for_go_live():
    # Given the practice lab
    at = practice_app()
    # When the working Gmail scenario runs
    run_scenario(at, "working-gmail")
    # Then every check passes and the verdict says so
    assert not at.exception
    assert "Ready for go-live" in texts(at.success)
    labels = [e.label for e in at.expander if "`" in e.label]
    assert labels and all("**Pass**" in label for label in labels)
    assert any("`auth.credentials`" in label for label in labels)


def test_failing_scenario_names_the_failed_step_and_its_fix():
    # Given the practice lab
    at = practice_app()
    # When the "account password instead of an app password" scenario runs
    run_scenario(at, "app-password-required")
    # Then the verdict counts one problem, the sign-in check failed and its section gives the fix and guide step
    assert not at.exception
    assert "1 problem to fix" in texts(at.error)
    failed = section(at, "auth.credentials")
    assert "**Fail**" in failed.label
    assert "app password" in texts(failed.info).lower()
    assert "Creating an app password" in texts(failed.caption)
    assert "**Skipped**" in section(at, "sender").label
    table = at.dataframe[0].value
    assert "Fail" in set(table["Status"])


@pytest.mark.parametrize("scenario_id, check_id", [("expired-cert", "tls"), ("port-closed", "port"),
                                                   ("oauth2-secret-id-pasted", "oauth.client")])
def test_network_scenarios_fail_at_their_step(scenario_id, check_id):
    # Given the practice lab
    at = practice_app()
    # When a network scenario runs
    run_scenario(at, scenario_id)
    # Then the step it breaks is the one marked failed, with a fix
    assert not at.exception
    failed = section(at, check_id)
    assert "**Fail**" in failed.label, failed.label
    assert texts(failed.info)


def test_load_into_form_opens_check_a_relay_with_the_scenario_settings():
    # Given the practice lab with a scenario chosen
    at = practice_app()
    pick(at, "smtp-auth-disabled-tenant")
    # When its settings are loaded into the form
    at.button[1].click().run()
    # Then the relay form shows them (profile, lab connect-to address; the lab's fake password held server-side)
    assert not at.exception
    assert at.title[0].value == "Check a relay"
    assert at.selectbox(key="form.profile").value == "m365-basic"
    assert at.text_input(key="form.connect_to").value.startswith("127.0.0.1:")
    assert at.text_input(key="form.password").value == ""
    assert at.session_state["form.held_secrets"]["password"]
    assert "set for this session" in at.text_input(key="form.password").placeholder
