"""The console's answer-first logic: the verdict card's content, commands, horizon, reading order, shared links,
reports by run time, batch reports opened as runs, guide ticks in the address, the live elapsed time."""

import datetime as dt
import json
from pathlib import Path

from streamlit.testing.v1 import AppTest

from checks.batch.file import BatchSetup
from checks.batch.report import batch_to_csv, batch_to_json
from checks.batch.run import run_batch
from checks.model import CheckId, CheckResult, RunReport, Status
from checks.report.export import to_csv
from checks.settings.check import BASIC_AUTH_OFF_BY_DEFAULT
from console.answer import Tone, answer, horizon, reading_order, root_cause
from console.commands import commands_in, layout
from console.pictures import path_dot
from console.reports_io import load_reports
from console.results import LiveStatus
from console.share import link_values, open_link, remember_link

APP = str(Path(__file__).resolve().parents[1] / "app.py")
MOMENT = dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.UTC)
SENDER = "relay@contoso.example"
MAILBOX_FIX = ("Exchange Online PowerShell: Set-CASMailbox -Identity <address> -SmtpClientAuthenticationDisabled "
               "$false (or Microsoft 365 admin center > Users). Check with Get-CASMailbox -Identity <address> | "
               "Format-List SmtpClientAuthenticationDisabled: False = allowed.")


def result(check_id: CheckId, status: Status, summary: str = "", **more) -> CheckResult:
    return CheckResult.of(check_id, check_id.value, status, summary or f"{check_id.value} {status.value}", **more)


def report(*results: CheckResult, profile: str = "m365-basic", moment: dt.datetime = MOMENT,
           run_id: str = "r1") -> RunReport:
    return RunReport(run_id, moment, moment, "test", profile, "smtp.office365.com", 587, "starttls", SENDER, results)


def skipped_after(check_id: CheckId, before: CheckId, status: str = "fail") -> CheckResult:
    return result(check_id, Status.SKIP, f"Not run: '{before.value}' ({before.value}) ended with {status}.")


PORT_CLOSED = report(result(CheckId.SETTINGS, Status.WARN, "Basic authentication ends"),
                     result(CheckId.DNS_HOST, Status.PASS), result(CheckId.PORT, Status.FAIL, "Connection refused."),
                     skipped_after(CheckId.SMTP_GREETING, CheckId.PORT),
                     skipped_after(CheckId.TLS, CheckId.SMTP_GREETING, "skip"),
                     skipped_after(CheckId.AUTH_CREDENTIALS, CheckId.TLS, "skip"))


def test_checks_read_problems_first_and_every_skip_names_the_root_cause():
    # Given a run whose port check failed and whose later steps were skipped one after the other
    # When the checks are put in reading order and each skip traced back
    order = [r.check_id for r in reading_order(PORT_CLOSED)]
    roots = {r.check_id: root_cause(PORT_CLOSED, r).check_id for r in PORT_CLOSED.results if r.status is Status.SKIP}
    # Then the failure comes first, then the warning, skips, passes; every skip points at the port
    assert order[:2] == [CheckId.PORT, CheckId.SETTINGS] and order[-1] == CheckId.DNS_HOST
    assert set(roots.values()) == {CheckId.PORT}


def test_verdict_card_names_the_first_failure_its_cause_fix_and_filled_in_commands():
    # Given a sign-in refused because SMTP AUTH is off for the mailbox
    refused = report(result(CheckId.SETTINGS, Status.WARN), result(CheckId.PORT, Status.PASS),
                     result(CheckId.AUTH_CREDENTIALS, Status.FAIL, "SMTP sign-in refused: SMTP AUTH disabled.",
                            details="Cause: SMTP AUTH is turned off for this mailbox.", remediation=MAILBOX_FIX))
    # When the verdict card's answer is built
    found = answer(refused)
    # Then it names the failed step, the catalog's cause, the fix and the commands with the sender's address
    assert found.tone is Tone.PROBLEM and found.headline == "1 problem to fix"
    assert found.step.check_id is CheckId.AUTH_CREDENTIALS
    assert found.cause == "SMTP AUTH is turned off for this mailbox."
    assert f"Set-CASMailbox -Identity {SENDER} -SmtpClientAuthenticationDisabled $false" in found.fix
    assert [c.code for c in found.commands] == [
        f"Set-CASMailbox -Identity {SENDER} -SmtpClientAuthenticationDisabled $false",
        f"Get-CASMailbox -Identity {SENDER} | Format-List SmtpClientAuthenticationDisabled"]


def test_a_working_basic_auth_setup_says_until_when_it_works():
    # Given a working Microsoft 365 basic-auth run with only the retirement warning
    works = report(result(CheckId.SETTINGS, Status.WARN, "Microsoft disables Basic authentication"),
                   result(CheckId.AUTH_CREDENTIALS, Status.PASS))
    # When answered  Then the headline gives the switch-off date, on the go-live horizon too
    found = answer(works)
    assert found.tone is Tone.CAUTION
    assert found.headline == f"Ready for go-live (1 warning): works until {BASIC_AUTH_OFF_BY_DEFAULT.isoformat()}"
    assert found.horizon[0].day == BASIC_AUTH_OFF_BY_DEFAULT


def test_go_live_horizon_lists_the_secret_and_the_refresh_token_soonest_first():
    # Given an OAuth2 run whose secret expires in 2027 and whose token was just used
    oauth = report(result(CheckId.OAUTH_SECRET_EXPIRY, Status.PASS, "The client secret expires on 2027-05-01."),
                   result(CheckId.OAUTH_TOKEN, Status.PASS), profile="m365-oauth2")
    # When its horizon is read  Then the token's 90-day inactivity comes first, then the secret
    dates = horizon(oauth)
    assert [d.day for d in dates] == [dt.date(2027, 2, 28), dt.date(2027, 5, 1)]
    assert "refresh token" in dates[0].what and "client secret" in dates[1].what


def test_commands_are_found_in_prose_and_laid_out_for_a_phone():
    # Given a fix that names a pipeline and a command with a placeholder, in prose
    found = commands_in("Run Get-TransportConfig | Format-List SmtpClientAuthenticationDisabled, then "
                        "Add-RecipientPermission -Identity <sender address> -Trustee <authenticated address> "
                        "-AccessRights SendAs or ask an admin.", {"sender": SENDER, "username": "me@contoso.example"})
    # Then each is whole, filled in, and a long one breaks before a parameter with PowerShell's backtick
    assert found == ("Get-TransportConfig | Format-List SmtpClientAuthenticationDisabled",
                     f"Add-RecipientPermission -Identity {SENDER} -Trustee me@contoso.example -AccessRights SendAs")
    assert layout(found[1]) == (f"Add-RecipientPermission -Identity {SENDER} `\n"
                                "    -Trustee me@contoso.example -AccessRights SendAs")


def test_live_status_counts_the_seconds_of_the_waiting_step():
    # Given a run whose greeting step started 7 seconds ago on a fake clock
    now = [100.0]

    class Box:
        def markdown(self, text: str) -> None:
            pass

    live = LiveStatus(Box(), clock=lambda: now[0])
    live.apply("plan", [(CheckId.PORT, "port"), (CheckId.SMTP_GREETING, "smtp.greeting")])
    live.apply("start", "port")
    live.apply("finish", result(CheckId.PORT, Status.PASS))
    live.apply("start", "smtp.greeting")
    now[0] = 107.2
    # Then the status line names the step, the progress and the seconds waited
    assert live.label() == "Checking: smtp.greeting… (1/2) · 7 s"


def test_shared_link_carries_no_secret_and_the_page_does_not_re_read_its_own_address():
    # Given a form with a password held and a typed one
    form = {"profile": "m365-basic", "host": "smtp.example.org", "port": "2525", "security": "tls",
            "username": SENDER, "sender": SENDER, "password": "Canary-Link-1", "timeout": "10"}
    values = link_values(form)
    assert "password" not in values and values["port"] == "2525" and values["host"] == "smtp.example.org"
    # When the page writes its address and a rerun comes back with it
    state: dict = {}
    query: dict = {}

    class Query(dict):
        def to_dict(self):
            return dict(self)

        def from_dict(self, other):
            self.clear()
            self.update(other)

    query = Query()
    remember_link(state, query, form)
    # Then it is not read as a new link (the form is left alone); a colleague's new link is
    assert not open_link(state, query)
    assert open_link(state, {**query, "host": "smtp.other.example"})
    assert state["form.host"] == "smtp.other.example"


def test_reports_open_oldest_first_and_a_batch_report_opens_as_its_runs():
    # Given two reports uploaded newer first, and a batch of two setups (invalid ones: no network needed)
    older = report(result(CheckId.AUTH_CREDENTIALS, Status.FAIL), run_id="older")
    newer = report(result(CheckId.AUTH_CREDENTIALS, Status.PASS), moment=MOMENT + dt.timedelta(hours=1),
                   run_id="newer")
    batch = run_batch([BatchSetup("shop", {"profile": "gmail", "host": "smtp.gmail.com"}),
                       BatchSetup("crm", {"profile": "m365-basic", "port": "99999"})], jobs=1, environ={})
    # When they are opened
    pair = load_reports([("after.csv", to_csv(newer).encode()), ("before.csv", to_csv(older).encode())])
    from_csv = load_reports([("batch.csv", batch_to_csv(batch).encode())])
    from_json = load_reports([("batch.json", batch_to_json(batch).encode())])
    # Then the older run comes first, and each batch file gives one run per setup
    assert [r.run_id for r in pair.reports] == ["older", "newer"] and pair.names == ("before.csv", "after.csv")
    assert sorted(from_csv.names) == sorted(from_json.names) == ["crm", "shop"]
    assert not from_csv.errors and not from_json.errors


def test_a_file_that_is_not_a_report_gets_a_plain_sentence():
    # Given a binary file and a JSON file of something else
    loaded = load_reports([("photo.csv", b"\xff\xfe\x00\xd8garbage\x00"), ("other.json", json.dumps([1, 2]).encode())])
    # Then each is named with a plain sentence, no Python error text
    assert len(loaded.errors) == 2 and not loaded.reports
    assert all("codec" not in e and "Traceback" not in e for e in loaded.errors)
    assert loaded.errors[0].startswith("photo.csv")


def test_guide_ticks_come_from_the_address_and_keep_their_section_open():
    # Given the setup guide opened with two OAuth2 steps ticked in its address (a reload or a shared link)
    at = AppTest.from_file(APP, default_timeout=30)
    at.query_params["done"] = "o.register,o.ids"
    at.run().switch_page("pages/setup_guide.py")
    at.query_params["done"] = "o.register,o.ids"
    at.run()
    # Then the OAuth2 section counts them and is the open one
    assert not at.exception
    oauth = next(e for e in at.expander if e.label.startswith("Microsoft 365 with OAuth2"))
    assert "2/12 done" in oauth.label and oauth.proto.expanded
    # When another step is ticked  Then the address carries all three, and the section stays open
    at.checkbox(key="guide.o.secret").check().run()
    assert "o.register,o.ids,o.secret" in str(at.query_params["done"])
    assert next(e for e in at.expander if e.label.startswith("Microsoft 365 with OAuth2")).proto.expanded
    assert "5 permissions" in " ".join(c.label for c in at.checkbox)


def test_path_picture_marks_where_the_conversation_broke():
    # Given the run whose port was closed  When its path is drawn
    dot = path_dot(PORT_CLOSED)
    # Then the hops follow the conversation, the port is the one that broke, later hops are skipped
    order = [name for name in ("application", "DNS", "TCP 587", "greeting", "TLS", "AUTH", "send") if name in dot]
    assert order == ["application", "DNS", "TCP 587", "greeting", "TLS", "AUTH", "send"]
    assert dot.index("TCP 587") < dot.index("broke here") < dot.index("greeting")
    assert dot.count("broke here") == 1 and "greeting\\nskipped" in dot
    assert "(not asked)" in dot  # no test message was requested
