"""The admin audit end to end: an admin signs in through MSAL over HTTPS to the emulator, the audit reads Graph."""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
from streamlit.testing.v1 import AppTest

from checks.audit.graph_reads import AUDIT_PERMISSIONS, audit_scopes
from checks.audit.run import ENV_ALLOW_AUDIT, AuditRefused, run_audit
from checks.model import CheckId, Status, Verdict
from checks.oauth.endpoints import endpoints_for
from checks.oauth.flows import finish_auth_code_flow, finish_device_flow, start_auth_code_flow, start_device_flow
from checks.report.export import to_csv, to_json, to_markdown
from checks.report.table import render_table
from checks.safe_text import plain
from checks.settings.loading import config_from_values
from checks.settings.secret import Secret
from checks.target_policy import ENV_RESTRICT, TargetRefused
from console import audit as console_audit
from console.oauth_store import FlowStore
from console.state import load_form
from lab.entra import EntraScenario, RunningEntra
from lab.entra_data import LAB_APP_CALLBACK
from lab.practice import AUDIT_SCENARIOS, PracticeLab

ROOT = Path(__file__).resolve().parent.parent
ADMIN = "admin@contoso.example"
CONSOLE = "http://localhost:8501/"
GOOD_POWERSHELL = """
== Get-TransportConfig

SmtpClientAuthenticationDisabled : True

== Get-CASMailbox

PrimarySmtpAddress               : alice@contoso.example
SmtpClientAuthenticationDisabled : False

== Get-AuthenticationPolicy

Name               : Block Basic Auth
AllowBasicAuthSmtp : False
"""
NOT_HOSTED: dict[str, str] = {}


def settings(e: RunningEntra, **changes: Any):
    values = {"profile": "m365-oauth2", "login_url": e.base_url, "graph_url": e.graph_url, "ca_file": str(e.ca_file),
              "tenant_id": e.tenant_id, "client_id": e.client_id, "client_secret": e.client_secret,
              "secret_expires": e.secret_expires.isoformat(), "sender": e.sender, "timeout": 5}
    values.update(changes)
    return config_from_values(values, environ={})


def admin_signs_in_with_auth_code(e: RunningEntra) -> Secret:
    """What the console does: auth code + PKCE for the admin, asking only for the read-only Graph permissions."""
    config = settings(e)
    pending = start_auth_code_flow(config, redirect_uri=CONSOLE, login_hint=ADMIN,
                                   scopes=audit_scopes(endpoints_for(config)))
    answer = requests.get(pending.auth_uri, verify=str(e.ca_file), allow_redirects=False, timeout=5)
    params = dict(parse_qsl(urlsplit(answer.headers["Location"]).query))
    return finish_auth_code_flow(config, pending, params).access_token


def admin_signs_in_with_device_code(e: RunningEntra) -> Secret:
    """What the CLI does: a device code that the admin enters in a browser."""
    config = settings(e)
    pending = start_device_flow(config, scopes=audit_scopes(endpoints_for(config)))
    threading.Timer(0.2, lambda: requests.post(pending.verification_uri, verify=str(e.ca_file), timeout=5,
                                               data={"user_code": pending.user_code, "login_hint": ADMIN})).start()
    return finish_device_flow(config, pending, wait_seconds=15).access_token


def audit(e: RunningEntra, *, powershell: str = GOOD_POWERSHELL, **changes: Any):
    return run_audit(settings(e, **changes), admin_signs_in_with_auth_code(e), app_callback=LAB_APP_CALLBACK,
                     powershell_output=powershell, environ=NOT_HOSTED)


def test_the_sign_in_asks_for_read_only_graph_permissions_only(entra):
    e = entra()
    scopes = audit_scopes(endpoints_for(settings(e)))
    assert [s.rpartition("/")[2] for s in scopes] == list(AUDIT_PERMISSIONS)
    assert not [s for s in scopes if "Write" in s or "Send" in s]


def test_a_good_tenant_passes_every_audit_check(entra):
    # Given the working tenant, and the PowerShell output of a tenant where only the sender may use SMTP AUTH
    e = entra(EntraScenario.WORKING)
    # When the admin signs in and the audit reads the configuration
    report = audit(e)
    # Then every audit check passes
    assert [r.check_id.value for r in report.results] == [c.value for c in CheckId if c.value.startswith("audit.")]
    assert {r.check_id.value: r.status.value for r in report.results if r.status is not Status.PASS} == {}
    assert report.verdict is Verdict.READY


def test_the_device_code_sign_in_gives_the_same_audit(entra):
    e = entra(EntraScenario.WORKING)
    report = run_audit(settings(e), admin_signs_in_with_device_code(e), app_callback=LAB_APP_CALLBACK,
                       powershell_output=GOOD_POWERSHELL, environ=NOT_HOSTED)
    assert report.verdict is Verdict.READY, [(r.check_id.value, r.summary) for r in report.problems]


@pytest.mark.parametrize(("scenario", "check", "status", "words"), [
    (EntraScenario.MULTI_TENANT, "audit.app_audience", Status.FAIL, "organizational directory only"),
    (EntraScenario.NO_WEB_PLATFORM, "audit.app_redirect", Status.FAIL, "Add a platform > Web"),
    (EntraScenario.WRONG_REDIRECT, "audit.app_redirect", Status.FAIL, LAB_APP_CALLBACK),
    (EntraScenario.PERMISSION_NOT_ADDED, "audit.app_permissions", Status.FAIL, "Delegated permissions > Mail.Send"),
    (EntraScenario.CONSENT_MISSING_ONE_SCOPE, "audit.consent", Status.FAIL, "Mail.ReadWrite"),
    (EntraScenario.TWO_SECRETS_ONE_EXPIRED, "audit.secret", Status.WARN, "relay portal (previous)"),
    (EntraScenario.SECURITY_DEFAULTS_ON, "audit.security_defaults", Status.WARN, "Security Defaults are on"),
    (EntraScenario.CA_POLICY_BLOCKS, "audit.conditional_access", Status.FAIL, "Block Exchange Online for all users"),
    (EntraScenario.SENDER_IS_ALIAS, "audit.sender_address", Status.FAIL, "primary address is alice@contoso.example"),
    (EntraScenario.SENDER_IS_SHARED, "audit.sender_account", Status.FAIL, "shared mailbox"),
    (EntraScenario.SENDER_UNLICENSED, "audit.sender_license", Status.FAIL, "Exchange Online"),
])
def test_each_wrong_tenant_ends_in_its_own_finding_with_the_fix(entra, scenario, check, status, words):
    # Given a tenant with one mistake
    e = entra(scenario)
    # When the admin audits it
    report = audit(e)
    result = report.result(check)
    # Then that check names the mistake and the fix, and the guide's section
    assert result.status is status, (result.summary, result.details)
    assert words.lower() in (result.summary + result.details + result.remediation).lower()
    assert result.guide_section
    assert result.remediation or result.status is Status.WARN


def test_only_the_mistaken_parts_of_a_tenant_fail(entra):
    report = audit(entra(EntraScenario.CONSENT_MISSING_ONE_SCOPE))
    assert {r.check_id.value for r in report.problems} == {"audit.consent"}
    assert report.result("audit.app_permissions").status is Status.PASS


def test_the_secret_in_use_is_found_by_its_first_characters_not_by_the_earliest_expiry(entra):
    # Given an app with the configured secret (a year left) and an older, expired one
    e = entra(EntraScenario.TWO_SECRETS_ONE_EXPIRED)
    result = audit(e).result("audit.secret")
    # Then the expiry shown is the configured secret's, and the expired one is named for clean-up
    assert f"expires {e.secret_expires}" in result.summary
    assert result.facts["in_use"]["displayName"] == "relay portal"
    assert "delete them" in result.summary


def test_a_secret_id_pasted_as_secret_is_recognised_without_sending_it(entra):
    e = entra(EntraScenario.SECRET_ID_PASTED)
    config = settings(e)
    assert config.client_secret.reveal() == e.app.secret_id
    # the sign-in itself needs a working secret: the admin signs in through the device code
    report = run_audit(config, admin_signs_in_with_device_code(e), app_callback=LAB_APP_CALLBACK,
                       environ=NOT_HOSTED)
    assert "Secret ID, not the secret's Value" in report.result("audit.secret").summary


def test_the_admin_token_never_leaves_the_session(entra, caplog, tmp_path):
    # Given an audit run with every log message captured
    caplog.set_level(logging.DEBUG)
    e = entra(EntraScenario.CA_POLICY_BLOCKS)
    token = admin_signs_in_with_auth_code(e)
    report = run_audit(settings(e), token, app_callback=LAB_APP_CALLBACK, powershell_output=GOOD_POWERSHELL,
                       environ=NOT_HOSTED)
    # When the report is exported in every format and written to disk
    for name, text in {"r.csv": to_csv(report), "r.json": to_json(report), "r.md": to_markdown(report),
                       "r.txt": render_table(report, verbose=True)}.items():
        (tmp_path / name).write_text(text)
    # Then no token the emulator issued (the admin's access and refresh tokens) appears anywhere
    written = "\n".join(p.read_text() for p in tmp_path.iterdir()) + caplog.text + repr(report)
    issued = e.issued_tokens
    assert token.reveal() in issued
    assert not [t for t in issued if t in written]
    assert e.client_secret not in written


def test_the_audit_refuses_to_run_on_a_hosted_console_unless_enabled(entra):
    e = entra()
    token = Secret("not-used")
    with pytest.raises(AuditRefused, match=ENV_ALLOW_AUDIT):
        run_audit(settings(e), token, environ={ENV_RESTRICT: "1"})
    # enabled on a hosted console, it still refuses endpoint overrides that would carry the admin's token elsewhere
    with pytest.raises(TargetRefused, match="graph_url"):
        run_audit(settings(e), token, environ={ENV_RESTRICT: "1", ENV_ALLOW_AUDIT: "1"})


def test_without_pasted_powershell_the_smtp_auth_checks_wait_for_it(entra):
    report = audit(entra(), powershell="")
    assert report.result("audit.smtp_auth").status is Status.SKIP
    assert "PowerShell" in report.result("audit.smtp_auth").remediation
    assert report.verdict is Verdict.INCOMPLETE


def _cli(e: RunningEntra, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    command = [sys.executable, "-m", "checks", "audit", "--tenant-id", e.tenant_id, "--client-id", e.client_id,
               "--client-secret-env", "AUDIT_TEST_SECRET", "--sender", e.sender, "--login-url", e.base_url,
               "--graph-url", e.graph_url, "--ca-file", str(e.ca_file), "--timeout", "5", *args]
    environment = {k: v for k, v in os.environ.items() if k != ENV_RESTRICT}
    environment.update({"AUDIT_TEST_SECRET": e.client_secret, **(env or {})})
    return subprocess.Popen(command, cwd=ROOT, env=environment, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def test_cli_audit_signs_the_admin_in_with_a_device_code(entra, tmp_path):
    # Given the CLI started for a tenant whose sender is an alias, with the PowerShell output in a file
    e = entra(EntraScenario.SENDER_IS_ALIAS)
    pasted = tmp_path / "smtp-auth.txt"
    pasted.write_text(GOOD_POWERSHELL.replace("alice@contoso.example", e.sender))
    out = tmp_path / "audit.json"
    database = tmp_path / "history.db"
    process = _cli(e, "--app-callback", LAB_APP_CALLBACK, "--powershell-output", str(pasted), "--format", "json",
                   "--output", str(out), "--save", "--name", "contoso go-live", "--db", f"sqlite:///{database}")
    # When the admin enters the code the CLI shows
    line = process.stderr.readline()
    code = re.search(r"enter the code (\w+)", line).group(1)
    requests.post(f"{e.base_url}/devicelogin", data={"user_code": code, "login_hint": ADMIN},
                  verify=str(e.ca_file), timeout=5)
    _, err = process.communicate(timeout=60)
    # Then the report names the alias, the exit status says there are problems, and no token is in any output
    assert process.returncode == 1, err
    document = json.loads(out.read_text())
    results = {r["check_id"]: r for r in document["results"]}
    assert results["audit.sender_address"]["status"] == "fail"
    assert results["audit.smtp_auth"]["status"] == "pass"
    assert "saved in the history" in err
    written = out.read_text() + err + line + database.read_bytes().decode("utf-8", "replace")
    assert document["run"]["id"] in written  # the history holds the audit report...
    assert not [t for t in e.issued_tokens if t in written]  # ...and no token


def test_cli_prints_the_read_only_script_without_signing_in(entra):
    e = entra()
    process = _cli(e, "--print-script")
    out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert f"Get-CASMailbox -Identity '{e.sender}'" in out and "Set-" not in out


def test_cli_audit_is_refused_on_a_hosted_console(entra):
    process = _cli(entra(), env={ENV_RESTRICT: "1"})
    _, err = process.communicate(timeout=30)
    assert process.returncode == 2 and ENV_ALLOW_AUDIT in err


# ------------------------------------------------------------------------------------------------ console


def console_state(e: RunningEntra) -> dict[str, Any]:
    """A console session whose form holds the setup, the app's callback and pasted PowerShell output."""
    state: dict[str, Any] = {}
    load_form(state, {"profile": "m365-oauth2", "tenant_id": e.tenant_id, "client_id": e.client_id,
                      "client_secret": e.client_secret, "sender": e.sender, "login_url": e.base_url,
                      "graph_url": e.graph_url, "ca_file": str(e.ca_file), "timeout": 5,
                      "secret_expires": e.secret_expires.isoformat()})
    state[console_audit.CALLBACK_KEY] = LAB_APP_CALLBACK
    state[console_audit.POWERSHELL_KEY] = GOOD_POWERSHELL
    state[console_audit.ADMIN_HINT_KEY] = ADMIN
    return state


def test_console_audit_signs_the_admin_in_with_an_auth_code_and_keeps_the_token_in_the_session(entra):
    # Given the audit page's form filled in for a tenant with a blocking Conditional Access policy
    e = entra(EntraScenario.CA_POLICY_BLOCKS)
    store = FlowStore()
    outcome = console_audit.start_audit_sign_in(console_state(e), CONSOLE + "?page=audit", store=store)
    assert outcome.ok, outcome.summary
    # When the browser signs the admin in and comes back to the page (a new session)
    location = requests.get(outcome.auth_uri, verify=str(e.ca_file), allow_redirects=False, timeout=5)
    query = dict(parse_qsl(urlsplit(location.headers["Location"]).query))
    fresh: dict[str, Any] = {}
    done = console_audit.finish_audit_sign_in(fresh, query, store=store)
    report = console_audit.audit_now(fresh)
    # Then the form comes back, the audit names the policy, and the token is only a Secret in the session
    assert done.ok and fresh[console_audit.ADMIN_KEY] == ADMIN
    assert fresh[console_audit.CALLBACK_KEY] == LAB_APP_CALLBACK
    assert report.result("audit.conditional_access").status is Status.FAIL
    assert report.result("audit.smtp_auth").status is Status.PASS
    token = fresh[console_audit.TOKEN_KEY]
    assert isinstance(token, Secret) and token.reveal() not in repr(fresh)
    console_audit.forget(fresh)
    assert console_audit.TOKEN_KEY not in fresh and console_audit.REPORT_KEY not in fresh


def test_audit_page_refuses_on_a_hosted_console(monkeypatch):
    monkeypatch.setenv(ENV_RESTRICT, "1")
    monkeypatch.delenv(ENV_ALLOW_AUDIT, raising=False)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30).run()
    at.switch_page("pages/audit.py").run()
    assert not at.exception
    assert ENV_ALLOW_AUDIT in "".join(plain(e.value) for e in at.error)
    assert [b.key for b in at.button] == ["audit.practice_run"]  # the lab practice only


def test_audit_page_shows_the_script_and_why_each_permission_is_asked():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30).run()
    at.switch_page("pages/audit.py").run()
    assert not at.exception
    assert any("Get-CASMailbox" in c.value for c in at.code)
    assert any(c.value.endswith("/audit") for c in at.code)
    assert "Policy.Read.All" in "".join(m.value for m in at.markdown)


# ------------------------------------------------------------------------------------------------ practice


@pytest.fixture(scope="module")
def practice():
    lab = PracticeLab()
    yield lab
    lab.stop()


@pytest.mark.parametrize("item", AUDIT_SCENARIOS, ids=lambda s: s.id)
def test_each_audit_practice_shows_the_mistake_it_promises(practice, item):
    # When the practice audit runs (the lab's admin signs in through MSAL over HTTPS)
    report = console_audit.practice_report(item.id, lab=practice)
    flagged = [r.check_id.value for r in report.results if r.status in (Status.FAIL, Status.WARN, Status.ERROR)]
    # Then only the promised check is flagged (the working tenant passes every check)
    assert flagged == ([item.breaks] if item.breaks else []), [(r.check_id.value, r.summary) for r in report.results
                                                               if r.status is not Status.PASS]
    assert item.breaks or report.verdict is Verdict.READY


def test_an_email_address_as_client_id_is_named_without_asking_graph(entra):
    e = entra(EntraScenario.WORKING)
    token = admin_signs_in_with_auth_code(e)
    report = run_audit(settings(e, client_id="alice@contoso.example"), token, app_callback=LAB_APP_CALLBACK,
                       environ=NOT_HOSTED)
    assert report.result("audit.app_audience").status is Status.FAIL
    assert "not a GUID" in report.result("audit.app_audience").summary
