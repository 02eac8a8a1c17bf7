"""AppTest: the Check a relay page - guide values per profile, field errors in place, runs against the lab."""

import datetime as dt
from pathlib import Path

from streamlit.testing.v1 import AppTest

from checks.model import CheckId, CheckResult, RunReport, Status
from checks.safe_text import plain
from console.forms import settings_toml, settings_values
from console.relay_form import apply_settings_file
from console.results import downloads
from console.state import form_values

APP = str(Path(__file__).resolve().parents[1] / "app.py")
RUN_TIMEOUT = 90
CANARY = "Canary-Secret-7731"


def check_page() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=RUN_TIMEOUT).run()
    return at.switch_page("pages/check_relay.py").run()


def texts(elements) -> str:
    """What the user reads in these elements (Markdown escapes resolved)."""
    return "\n".join(plain(str(getattr(e, "value", ""))) for e in elements)


def every_text(at: AppTest) -> str:
    """All text the page shows except input widgets' own values."""
    kinds = ("markdown", "caption", "code", "text", "error", "warning", "info", "success", "title", "subheader")
    parts = [texts(getattr(at, kind)) for kind in kinds]
    parts += [e.label for e in at.expander]
    parts += [str(frame.value.to_dict()) for frame in at.dataframe]
    return "\n".join(parts)


def run_button(at: AppTest):
    return next(b for b in at.button if "Run checks" in b.label)


def test_opens_with_the_guides_gmail_values():
    # Given a first visit  When the page opens
    at = check_page()
    # Then the Gmail preset of the guide is filled in and only the fields it needs are shown
    assert not at.exception
    assert at.selectbox(key="form.profile").value == "gmail"
    assert at.text_input(key="form.host").value == "smtp.gmail.com"
    assert at.text_input(key="form.port").value == "587"
    assert at.selectbox(key="form.security").value == "starttls"
    assert "apppasswords" in at.text_input(key="form.password").help
    assert not [w for w in at.text_input if w.key == "form.tenant_id"]


def test_oauth_profile_shows_app_registration_fields_with_where_to_find_them():
    # Given the page  When the Microsoft 365 OAuth2 setup is picked
    at = check_page()
    at.selectbox(key="form.profile").set_value("m365-oauth2").run()
    # Then its fields appear with help naming where each value is, secrets as password inputs
    assert not at.exception
    assert at.text_input(key="form.host").value == "smtp.office365.com"
    assert "Overview > Directory (tenant) ID" in at.text_input(key="form.tenant_id").help
    assert "Overview > Application (client) ID" in at.text_input(key="form.client_id").help
    assert "Value" in at.text_input(key="form.client_secret").help
    assert not [w for w in at.text_input if w.key == "form.password"]
    for name in ("form.client_secret", "form.refresh_token"):
        assert at.text_input(key=name).proto.type == at.text_input(key=name).proto.PASSWORD


def test_bad_input_is_shown_next_to_the_field_and_nothing_typed_is_lost():
    # Given the Gmail form with a malformed username and no password
    at = check_page()
    at.text_input(key="form.username").set_value("not-an-address")
    at.text_input(key="form.sender").set_value("relay@example.com")
    # When Run is clicked
    run_button(at).click().run()
    # Then each problem shows under its field, no traceback, no run, and the typed values are still there
    assert not at.exception
    shown = texts(at.markdown)
    assert "Username must be a full e-mail address" in shown
    assert "App password is required" in shown
    assert "field(s) marked in red" in texts(at.error)
    assert at.text_input(key="form.username").value == "not-an-address"
    assert at.text_input(key="form.sender").value == "relay@example.com"
    assert "check.report" not in at.session_state


def test_switching_profiles_keeps_what_was_typed():
    # Given a username typed for Gmail and submitted (the run stops at the missing password)
    at = check_page()
    at.text_input(key="form.username").set_value("me@example.com")
    run_button(at).click().run()
    # When the user looks at the OAuth2 setup and comes back to Gmail
    at.selectbox(key="form.profile").set_value("m365-oauth2").run()
    at.selectbox(key="form.profile").set_value("gmail").run()
    # Then the username is still there and the host is Gmail's again
    assert at.text_input(key="form.username").value == "me@example.com"
    assert at.text_input(key="form.host").value == "smtp.gmail.com"


def lab_form(scenario_id: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=RUN_TIMEOUT)
    at.query_params["scenario"] = scenario_id
    return at.run().button[1].click().run()  # "Load into Check a relay"


def secret_input(at: AppTest, label: str):
    """A secret input by its label (its key changes after each submit, so the browser forgets what was typed)."""
    return next(w for w in at.text_input if w.label == label)


def test_typed_password_runs_against_the_lab_and_never_shows_on_the_page():
    # Given the form filled with the lab's "SMTP AUTH disabled for the tenant" scenario and a canary password
    at = lab_form("smtp-auth-disabled-tenant")
    at.text_input(key="form.password").set_value(CANARY)
    # When the checks run
    run_button(at).click().run()
    # Then the sign-in failed with Microsoft's reply and the fix, and the password appears nowhere but its input
    assert not at.exception
    assert "1 problem to fix" in texts(at.error)
    failed = next(e for e in at.expander if "`auth.credentials`" in e.label)
    assert "**Fail**" in failed.label
    assert "5.7.139" in texts(failed.code)
    assert "SmtpClientAuthenticationDisabled" in texts(failed.info)
    assert CANARY not in every_text(at)
    report = at.session_state["check.report"]
    for item in downloads(report):
        assert CANARY.encode() not in item.data
    assert secret_input(at, "Password").value == ""  # write-only: held server-side for the next run
    assert at.session_state["form.held_secrets"]["password"].reveal() == CANARY


def test_working_lab_setup_gets_the_basic_auth_warning_but_is_ready():
    # Given the form with the working Microsoft 365 basic-auth lab scenario
    at = lab_form("working-m365")
    # When the checks run
    run_button(at).click().run()
    # Then the verdict is ready (with a warning about Basic auth's retirement)
    assert not at.exception
    verdict = texts(at.warning) + texts(at.success)
    assert "Ready for go-live" in verdict
    labels = [e.label for e in at.expander if "`" in e.label]
    assert labels and all("**Pass**" in label or "**Warning**" in label for label in labels)


def sample_report(status: Status = Status.FAIL, summary: str = "535 refused") -> RunReport:
    moment = dt.datetime(2026, 11, 1, 9, 0, tzinfo=dt.UTC)
    return RunReport("abc123", moment, moment, "test", "gmail", "smtp.gmail.com", 587, "starttls", "a@example.com",
                     (CheckResult.of(CheckId.SETTINGS, "Settings match the setup guide", Status.PASS, "ok"),
                      CheckResult.of(CheckId.AUTH_CREDENTIALS, "SMTP sign-in", status, summary,
                                  remediation="Create an app password.")))


def test_downloads_are_csv_json_and_markdown_of_the_report():
    # Given a finished run  When its downloads are built
    files = {d.file_name.rsplit(".", 1)[1]: d for d in downloads(sample_report())}
    # Then CSV, JSON and Markdown hold the results and the fix
    assert set(files) == {"csv", "json", "md"}
    assert files["csv"].data.startswith(b"run_id,started_at")
    assert b"Create an app password." in files["json"].data
    assert b"1 problem to fix" in files["md"].data


def test_settings_are_saved_without_secrets_and_loaded_back():
    # Given form values with a password and a client secret
    values = {"profile": "gmail", "host": "smtp.gmail.com", "port": 587, "security": "starttls",
              "username": "me@gmail.com", "password": CANARY, "sender": "me@gmail.com"}
    # When they are saved as TOML and loaded into an empty form
    text, errors = settings_toml(settings_values(values))
    state: dict = {}
    apply_settings_file(state, text.encode(), "relay-settings.toml")
    # Then the file has no secret and the form gets the settings back
    assert not errors and CANARY not in text and "password =" not in text
    loaded = form_values(state)
    assert loaded["username"] == "me@gmail.com" and loaded["host"] == "smtp.gmail.com" and loaded["port"] == "587"
    assert not loaded["password"]


def test_a_settings_file_with_an_inline_secret_is_refused_and_the_form_kept():
    # Given a form with values typed in
    state = {"form.username": "kept@example.com"}
    # When a TOML file holding a password is loaded
    errors = apply_settings_file(state, b'profile = "gmail"\npassword = "x"\n', "bad.toml")
    # Then it is refused by field and nothing in the form changed
    assert [e.field for e in errors] == ["password"]
    assert state["form.username"] == "kept@example.com"
    assert state["check.load_message"][0] == "error"


def test_invalid_toml_is_refused_with_a_message():
    errors = apply_settings_file({}, b"profile = = ", "broken.toml")
    assert errors and "not valid TOML" in errors[0].message


def test_oauth_lab_setup_runs_from_the_form_with_secrets_held_server_side():
    # Given the form filled with the working Microsoft 365 OAuth2 lab scenario (secret and refresh token held)
    at = lab_form("oauth2-working")
    assert at.selectbox(key="form.profile").value == "m365-oauth2"
    assert at.text_input(key="form.client_secret").value == ""
    # When the checks run
    run_button(at).click().run()
    # Then the token checks ran and the setup is ready
    assert not at.exception
    assert "Ready for go-live" in texts(at.warning) + texts(at.success)
    assert any("`oauth.token`" in e.label and "**Pass**" in e.label for e in at.expander)


def test_a_typed_password_survives_an_error_in_another_field():
    # Given a typed password and a malformed sender
    at = check_page()
    at.text_input(key="form.username").set_value("me@gmail.com")
    at.text_input(key="form.password").set_value(CANARY)
    at.text_input(key="form.sender").set_value("bad sender")
    # When Run is clicked
    run_button(at).click().run()
    # Then the sender error shows and the password is kept (server-side) for the next attempt
    assert "Sender must" in texts(at.markdown)
    assert at.session_state["form.held_secrets"]["password"].reveal() == CANARY
    assert "set for this session" in secret_input(at, "App password").placeholder
