"""AppTest: decoder, token inspector, report upload and comparison, setup guide, sign-in page, secrets."""

import datetime as dt
import time
from pathlib import Path

import jwt
import pytest
from streamlit.testing.v1 import AppTest

from checks.model import CheckId, CheckResult, RunReport, Status
from checks.registry import SPECS
from checks.report.export import to_csv
from checks.safe_text import plain
from console.guide_steps import PARTS
from console.oauth_store import FlowStore
from console.reports_io import load_reports
from console.tokens import countdown, inspect

APP = str(Path(__file__).resolve().parents[1] / "app.py")


def page(path: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=30).run()
    return at.switch_page(path).run()


def texts(elements) -> str:
    """What the user reads in these elements (Markdown escapes resolved)."""
    return "\n".join(plain(str(getattr(e, "value", ""))) for e in elements)


# ------------------------------------------------------------------------------------------------ decoder


def test_decoder_explains_a_gmail_reply_and_an_aadsts_error():
    # Given the decoder page
    at = page("pages/decode_error.py")
    # When a Gmail reply and an AADSTS error are pasted together
    at.text_area(key="decode.text").set_value(
        "534-5.7.9 Application-specific password required. Learn more at\n"
        "534 5.7.9  https://support.google.com/mail/?p=InvalidSecondFactor\n"
        "AADSTS7000215: Invalid client secret provided.").run()
    # Then each is explained with cause, fix and guide section
    assert not at.exception
    fixes = texts(at.info)
    assert "apppasswords" in fixes and "Value" in fixes
    assert "Creating an app password" in texts(at.caption)
    assert "Certificates & secrets" in texts(at.caption)


def test_decoder_reads_a_log_names_the_client_and_shows_copy_ready_commands():
    # Given a Postfix log where the relay refused the sign-in, then a bounce for an unknown recipient
    at = page("pages/decode_error.py")
    at.text_area(key="decode.text").set_value(
        "Nov 30 04:00:01 relay postfix/smtp[2231]: 4F1A: to=<a@example.org>, status=sent (250 2.0.0 OK)\n"
        "Nov 30 04:59:59 relay postfix/smtp[2240]: 9BDC: SASL authentication failed; server "
        "smtp.office365.com[40.99.150.50] said: 535 5.7.3 Authentication unsuccessful [FR3P281CA0094]\n"
        "<bob@example.org>: host mx.example.org[192.0.2.1] said: 550 5.1.1 <bob@example.org>: Recipient "
        "address rejected: User unknown (in reply to RCPT TO command)").run()
    # Then the page says what it read and explains the sign-in failure first, in Postfix's words
    assert not at.exception
    assert "3 lines (all of it)" in texts(at.caption) and "Postfix" in texts(at.caption)
    assert "In Postfix:" in texts(at.info)
    # And the Postfix settings are code blocks with the relay host filled in
    codes = [c.value for c in at.code]
    assert any("relayhost = [smtp.office365.com]:587" in c and "smtp_sasl_auth_enable = yes" in c for c in codes)
    # And the bounce is named a recipient problem, not a relay one
    assert "Not a relay problem" in texts(at.success)


def test_decoder_fills_the_commands_with_the_mailbox_the_user_gives():
    # Given the decoder page and a reply that names no mailbox
    at = page("pages/decode_error.py")
    at.text_area(key="decode.text").set_value(
        "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Mailbox.").run()
    assert any("Set-CASMailbox -Identity <mailbox>" in c.value for c in at.code)
    # When the user types the mailbox that signs in
    at.text_input(key="decode.mailbox").set_value("relay@contoso.com").run()
    # Then the command is ready to copy with that mailbox
    assert not at.exception
    assert any("Set-CASMailbox -Identity relay@contoso.com -SmtpClientAuthenticationDisabled $false" in c.value
               for c in at.code)


def test_decoder_says_when_nothing_is_recognised():
    at = page("pages/decode_error.py")
    at.text_area(key="decode.text").set_value("hello there").run()
    assert not at.exception
    shown = texts(at.warning) + texts(at.markdown)
    assert "Nothing" in shown or "not in the catalog" in texts(at.caption)


# ------------------------------------------------------------------------------------------- token inspector


def token(claims: dict) -> str:
    return jwt.encode(claims, "test-key-not-secret-at-all-32bytes!", algorithm="HS256")


def test_smtp_token_with_scope_and_future_expiry():
    # Given a delegated token for Exchange Online with SMTP.Send
    exp = int(time.time()) + 3600
    raw = token({"aud": "https://outlook.office.com", "scp": "SMTP.Send offline_access", "upn": "a@contoso.com",
                 "tid": "t", "exp": exp})
    # When it is inspected on the page
    at = page("pages/inspect_token.py")
    at.text_input[0].set_value(raw).run()
    # Then audience, the required scope present, and the countdown show; the token is not kept in session state
    assert not at.exception
    assert "Exchange Online" in texts(at.markdown)
    needs = at.dataframe[0].value
    assert list(needs["Permission"]) == ["SMTP.Send"] and list(needs["In token"]) == ["yes"]
    assert "expires in" in texts(at.success)
    assert all(raw not in str(value) for value in at.session_state.values())


def test_graph_token_missing_permissions_and_expired():
    # Given an expired Graph token with only Mail.Send
    raw = token({"aud": "https://graph.microsoft.com", "scp": "Mail.Send", "exp": int(time.time()) - 120})
    # When inspected
    at = page("pages/inspect_token.py")
    at.text_input[0].set_value(raw).run()
    # Then the two missing Graph permissions and the expiry are flagged, with the fix
    assert not at.exception
    needs = at.dataframe[0].value
    assert dict(zip(needs["Permission"], needs["In token"], strict=True)) == {
        "Mail.Send": "yes", "Mail.ReadWrite": "MISSING", "User.Read.All": "MISSING"}
    assert "expired" in texts(at.error)
    assert "admin consent" in texts(at.info)


@pytest.mark.parametrize("exp", [1e300, float("nan"), 253402300800 * 4, -1e20])
def test_a_crafted_expiry_claim_is_shown_not_crashed_on(exp):
    # Given a token whose exp is absurd (too large, not a number, past the year 9999)
    raw = token({"aud": "https://outlook.office.com", "scp": "SMTP.Send", "exp": exp, "upn": "[x](http://x.example)"})
    # When inspected
    at = page("pages/inspect_token.py")
    at.text_input[0].set_value(raw).run()
    # Then the page shows the claims, names the expiry as not a valid time, and renders the user as text
    assert not at.exception
    assert "no expiry" in texts(at.success) + texts(at.error)
    assert "(not a valid time)" in str(at.dataframe[1].value)
    assert "User:** [x](http://x.example)" in texts(at.markdown) and "](http" not in "".join(
        str(m.value) for m in at.markdown)


def test_not_a_jwt_is_explained():
    at = page("pages/inspect_token.py")
    at.text_input[0].set_value("0.AAAA-refresh-token-like").run()
    assert not at.exception and "not a JWT" in texts(at.error)


def test_token_helpers():
    facts = inspect("Bearer " + token({"aud": "https://outlook.office365.com", "roles": ["SMTP.SendAsApp"]}))
    assert facts is not None and facts.resource == "exchange" and facts.requirements[0].present
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    assert countdown(now + dt.timedelta(minutes=5, seconds=3), now) == "expires in 5 min 3 s"
    assert countdown(now - dt.timedelta(hours=2), now) == "expired 2 h 0 min 0 s ago"


# ------------------------------------------------------------------------------------------------- reports


def report(auth_status: Status, run_id: str) -> RunReport:
    moment = dt.datetime(2026, 11, 1, 9, 0, tzinfo=dt.UTC)
    return RunReport(run_id, moment, moment, "test", "gmail", "smtp.gmail.com", 587, "starttls", "a@example.com",
                     (CheckResult.of(CheckId.SETTINGS, "Settings match the setup guide", Status.PASS, "ok"),
                      CheckResult.of(CheckId.AUTH_CREDENTIALS, "SMTP sign-in", auth_status, f"sign-in {auth_status}",
                                  remediation="Create an app password.")))


def test_uploaded_csv_is_read_back_and_bad_files_named():
    # Given a report CSV and a file that is not a report
    good = to_csv(report(Status.FAIL, "before1")).encode()
    # When both are loaded
    loaded = load_reports([("before.csv", good), ("notes.csv", b"hello,world\n1,2\n")])
    # Then the report is read and the other file is named in a readable error
    assert [r.run_id for r in loaded.reports] == ["before1"]
    assert loaded.errors and loaded.errors[0].startswith("notes.csv")


def _one(data):
    from console.reports_io import load_reports
    from console.results import render_report

    loaded = load_reports([("run.csv", data)])
    render_report(loaded.reports[0], key="opened", downloadable=False)


def _two(before, after):
    from console.reports_io import load_reports, render_comparison

    loaded = load_reports([("before.csv", before), ("after.csv", after)])
    render_comparison(loaded.reports[0], loaded.reports[1], loaded.names)


def test_one_uploaded_report_shows_the_results_view():
    # Given a saved CSV  When it is shown as on the Open a report page
    at = AppTest.from_function(_one, args=(to_csv(report(Status.FAIL, "r1")).encode(),)).run()
    # Then the verdict and the failed check's fix show
    assert not at.exception
    assert "1 problem to fix" in texts(at.error)
    assert "Create an app password." in texts(at.info)


def test_two_uploaded_reports_show_what_changed():
    # Given a before (sign-in failed) and an after (fixed) report
    before, after = (to_csv(report(s, r)).encode() for s, r in ((Status.FAIL, "b"), (Status.PASS, "a")))
    # When they are compared
    at = AppTest.from_function(_two, args=(before, after)).run()
    # Then every check shows before and after, the fixed sign-in first, and both verdicts side by side
    assert not at.exception
    changes = at.dataframe[0].value
    assert list(changes["Check"]) == ["SMTP sign-in", "Settings match the setup guide"]
    assert list(changes["Change"]) == ["fixed", "same"]
    assert list(changes["Before"]) == ["Fail", "Pass"] and list(changes["After"]) == ["Pass", "Pass"]
    assert "1 fixed" in texts(at.markdown)


def test_open_report_page_without_files_says_what_to_do():
    at = page("pages/open_report.py")
    assert not at.exception and "No report yet" in texts(at.info)


# --------------------------------------------------------------------------------------------- setup guide


def test_every_guide_step_points_at_real_checks_and_the_page_tracks_progress():
    # Given the guide's steps  Then each verifying check exists in the checklist
    for steps in PARTS.values():
        for step in steps:
            assert all(c in SPECS for c in step.verified_by)
            assert step.verified_by or step.helper_page
    # When a step is ticked on the page  Then its part counts it
    at = page("pages/setup_guide.py")
    assert not at.exception
    at.checkbox(key="guide.g.2sv").check().run()
    assert any(e.label.startswith("Gmail or Google Workspace · 1/") for e in at.expander)
    assert "auth.credentials" in texts(at.caption)


# ------------------------------------------------------------------------------------------------ sign-in


def test_sign_in_page_shows_the_redirect_uri_to_register():
    at = page("pages/sign_in.py")
    assert not at.exception
    assert any(c.value.startswith("http") and c.value.endswith("/sign_in") for c in at.code)
    assert "Authentication" in texts(at.markdown)


def test_returning_with_an_unknown_state_asks_to_start_again():
    # Given a browser coming back to the sign-in page in a new session with a state nobody started
    at = AppTest.from_file(APP, default_timeout=30)
    at.query_params["code"] = "fake-code"
    at.query_params["state"] = "nobody-started-this"
    at.run()
    at.switch_page("pages/sign_in.py")
    at.query_params["code"] = "fake-code"
    at.query_params["state"] = "nobody-started-this"
    at.run()
    # Then it says the sign-in is unknown or expired, and the code leaves the address bar
    assert not at.exception
    assert "unknown or expired" in texts(at.error)
    assert "code" not in at.query_params


def test_returning_with_an_aadsts_error_explains_it():
    at = AppTest.from_file(APP, default_timeout=30).run()
    at.switch_page("pages/sign_in.py")
    at.query_params["error"] = "invalid_request"
    at.query_params["error_description"] = "AADSTS50011: The redirect URI specified in the request does not match."
    at.run()
    assert not at.exception
    assert "redirect" in (texts(at.info) + texts(at.error)).lower()


def test_pending_flows_are_single_use_and_expire():
    # Given a store with a fake clock and a 10 s lifetime
    now = [0.0]
    store = FlowStore(ttl=10, clock=lambda: now[0])
    store.put("s1", object(), settings={}, client_secret=None)
    store.put("s2", object(), settings={}, client_secret=None)
    # When one is taken twice and the other after its lifetime
    first, again = store.take("s1"), store.take("s1")
    now[0] = 11
    # Then the first works once and the expired one is gone
    assert first is not None and again is None
    assert store.take("s2") is None and len(store) == 0


# ------------------------------------------------------------------------------------------------ secrets


def test_pages_run_without_a_secrets_file():
    # Given no .streamlit/secrets.toml (AppTest reads none)  When every page opens  Then none fails
    at = AppTest.from_file(APP, default_timeout=30).run()
    for path in ("pages/check_relay.py", "pages/sign_in.py", "pages/decode_error.py", "pages/inspect_token.py",
                 "pages/open_report.py", "pages/setup_guide.py"):
        at.switch_page(path).run()
        assert not at.exception, path
