"""oauth.* checks driven through the runner against the Entra ID / Graph emulator (real MSAL, PyJWT, requests)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from checks.model import RunReport, Status
from checks.run_state import Dependencies
from checks.runner import run_checklist
from checks.settings.loading import config_from_values
from lab.entra import EntraScenario, RunningEntra

OAUTH_IDS = ["oauth.tenant", "oauth.client", "oauth.secret_expiry", "oauth.token", "oauth.scopes"]


def settings(e: RunningEntra, **changes: Any) -> dict[str, Any]:
    values = {"profile": "m365-oauth2", "login_url": e.base_url, "graph_url": e.graph_url, "ca_file": str(e.ca_file),
              "tenant_id": e.tenant_id, "client_id": e.client_id, "client_secret": e.client_secret,
              "refresh_token": e.refresh_token, "sender": e.sender, "secret_expires": e.secret_expires.isoformat(),
              "timeout": 5}
    values.update(changes)
    return {k: v for k, v in values.items() if v is not None}


def run(e: RunningEntra, only: list[str] | None = None, deps: Dependencies | None = None, **changes: Any
        ) -> RunReport:
    return run_checklist(config_from_values(settings(e, **changes)), only=only or OAUTH_IDS, deps=deps)


def status_of(report: RunReport) -> dict[str, Status]:
    return {r.check_id.value: r.status for r in report.results}


def test_working_setup_passes_every_oauth_check(entra):
    # Given a correctly registered app, consented permissions and a fresh refresh token
    e = entra()
    # When the OAuth checks run
    report = run(e)
    # Then every check passes and the token's user is named
    assert set(status_of(report).values()) == {Status.PASS}, [(r.check_id, r.summary) for r in report.results]
    assert "alice@contoso.example" in report.result("oauth.token").summary
    assert "Mail.Send" in report.result("oauth.scopes").summary


def test_unknown_tenant_is_explained_and_stops_the_chain(entra):
    # Given a Tenant ID that no tenant has
    e = entra(EntraScenario.TENANT_NOT_FOUND)
    # When the checks run
    report = run(e)
    # Then the tenant check fails with AADSTS90002 and the cloud hint; the client check is skipped
    tenant = report.result("oauth.tenant")
    assert tenant.status is Status.FAIL
    assert "not found" in tenant.summary and "AADSTS90002" in tenant.summary
    assert "Directory (tenant) ID" in tenant.remediation and "cloud = usgov or china" in tenant.remediation
    assert report.result("oauth.client").status is Status.SKIP


def test_tenant_in_another_cloud_names_the_cloud_to_choose(entra):
    # Given a tenant that lives in the US Government cloud while the settings say global
    e = entra(EntraScenario.WRONG_CLOUD)
    # When the tenant check runs
    tenant = run(e, ["oauth.tenant"]).result("oauth.tenant")
    # Then it fails and says which cloud to set
    assert tenant.status is Status.FAIL
    assert "US Government cloud" in tenant.summary
    assert "cloud = usgov" in tenant.remediation


def test_sender_domain_of_another_tenant_names_that_tenant(entra):
    # Given a sender whose domain is verified in a different tenant
    e = entra(EntraScenario.SENDER_DOMAIN_OTHER_TENANT)
    other = e.directory.tenants[1].tenant_id
    # When the tenant check runs
    tenant = run(e, ["oauth.tenant"]).result("oauth.tenant")
    # Then it fails naming the tenant the domain belongs to
    assert tenant.status is Status.FAIL
    assert f"fabrikam.example belongs to tenant {other}" in tenant.summary


@pytest.mark.parametrize(("typed", "words"), [
    ("common", "AADSTS50194"), ("alice@contoso.example", "e-mail address"), ("not a tenant", "neither a GUID"),
])
def test_malformed_tenant_id_is_refused_before_any_request(entra, typed, words):
    # Given a Tenant ID that cannot be a tenant
    e = entra()
    # When the tenant check runs
    tenant = run(e, ["oauth.tenant"], tenant_id=typed.replace(" ", "_")).result("oauth.tenant")
    # Then it fails with the reason
    assert tenant.status is Status.FAIL
    assert words in tenant.summary + tenant.details


def test_tenant_given_as_domain_reports_the_directory_id(entra):
    # Given the tenant's verified domain instead of its GUID
    e = entra()
    # When the tenant check runs
    tenant = run(e, ["oauth.tenant"], tenant_id="contoso.example").result("oauth.tenant")
    # Then it passes and shows the GUID
    assert tenant.status is Status.PASS
    assert e.directory.tenants[0].tenant_id in tenant.summary


def test_wrong_client_id_is_decoded(entra):
    # Given a client ID of no app in this tenant
    e = entra(EntraScenario.WRONG_CLIENT_ID)
    # When the client check runs
    client = run(e, ["oauth.client"]).result("oauth.client")
    # Then AADSTS700016 is explained with the fix
    assert client.status is Status.FAIL
    assert "AADSTS700016" in client.summary and "another tenant" in client.summary
    assert "Application (client) ID" in client.remediation


def test_email_pasted_as_client_id_is_called_out(entra):
    # Given an e-mail address in the Client ID field
    e = entra(EntraScenario.EMAIL_AS_CLIENT_ID)
    # When the client check runs
    client = run(e, ["oauth.client"]).result("oauth.client")
    # Then it says exactly that
    assert client.status is Status.FAIL
    assert "you pasted an e-mail address as the client ID" in client.summary


def test_secret_id_pasted_instead_of_value(entra):
    # Given the secret's ID (a GUID) pasted as the client secret
    e = entra(EntraScenario.SECRET_ID_PASTED)
    # When the client check runs
    client = run(e, ["oauth.client"]).result("oauth.client")
    # Then the user is told in the guide's words
    assert client.status is Status.FAIL
    assert "you pasted the secret's ID instead of its Value" in client.summary
    assert "Value column" in client.remediation


def test_expired_secret_fails_client_and_expiry_checks(entra):
    # Given a secret that expired three days ago, entered with its real date
    e = entra(EntraScenario.SECRET_EXPIRED)
    # When the checks run
    report = run(e)
    # Then the client check decodes AADSTS7000222 and the expiry check fails too
    assert report.result("oauth.client").status is Status.FAIL
    assert "AADSTS7000222" in report.result("oauth.client").summary
    expiry = report.result("oauth.secret_expiry")
    assert expiry.status is Status.FAIL and "expired" in expiry.summary
    assert "New client secret" in expiry.remediation


@pytest.mark.parametrize(("days", "status", "words"), [
    (-2, Status.FAIL, "expired on"), (12, Status.WARN, "in 12 days"), (200, Status.PASS, "the warning comes from"),
])
def test_secret_expiry_date_without_network(entra, days, status, words):
    # Given an expiry date relative to a fixed today 200 days before Entra ID's date, and only the date check
    # (--only brings in oauth.client, whose result the comparison with Entra ID reads)
    e = entra()
    today = dt.datetime.combine(e.secret_expires - dt.timedelta(days=200), dt.time(12), tzinfo=dt.UTC)
    when = (today.date() + dt.timedelta(days=days)).isoformat()
    # When the expiry check runs alone
    result = run(e, ["oauth.secret_expiry"], deps=Dependencies(now=lambda: today),
                 secret_expires=when).result("oauth.secret_expiry")
    # Then the status follows the one-month rule
    assert result.status is status
    assert words in result.summary


def test_missing_expiry_date_asks_for_it(entra):
    # Given no expiry date
    e = entra()
    # When the expiry check runs alone
    result = run(e, ["oauth.secret_expiry"], secret_expires=None).result("oauth.secret_expiry")
    # Then it warns and asks for the date
    assert result.status is Status.WARN
    assert "enter the expiry date so you are warned a month ahead" in result.summary


def test_expiry_date_differing_from_entra_is_flagged(entra):
    # Given a date that is not the secret's real endDateTime (Graph readable with Application.Read.All)
    e = entra()
    wrong = (e.secret_expires - dt.timedelta(days=60)).isoformat()
    # When the client and expiry checks run
    result = run(e, ["oauth.client", "oauth.secret_expiry"], secret_expires=wrong).result("oauth.secret_expiry")
    # Then the mismatch is named with both dates
    assert result.status is Status.WARN
    assert str(e.secret_expires) in result.summary and wrong in result.summary


@pytest.mark.parametrize(("scenario", "code", "words"), [
    (EntraScenario.CONSENT_MISSING, "AADSTS65001", "Grant admin consent"),
    (EntraScenario.REFRESH_TOKEN_EXPIRED, "AADSTS700082", "Sign in again"),
    (EntraScenario.REFRESH_TOKEN_REVOKED, "AADSTS50173", "Sign in again"),
    (EntraScenario.MFA_REQUIRED, "AADSTS50076", "MFA"),
    (EntraScenario.CA_BLOCKED, "AADSTS53003", "Sign-in logs"),
    (EntraScenario.WRONG_SCOPE, "AADSTS70011", "https://outlook.office.com/SMTP.Send"),
    (EntraScenario.MIXED_RESOURCES, "AADSTS700022", "one resource per token"),
])
def test_refresh_token_failures_are_decoded(entra, scenario, code, words):
    # Given a refresh token the token endpoint refuses for `scenario`
    e = entra(scenario)
    # When the checks run
    report = run(e)
    # Then oauth.token fails with the code and the fix; oauth.scopes is skipped
    token = report.result("oauth.token")
    assert token.status is Status.FAIL
    assert code in token.summary
    assert words.lower() in token.remediation.lower()
    assert code[6:] in token.reply
    assert report.result("oauth.scopes").status is Status.SKIP


def test_missing_graph_permissions_are_named_with_the_portal_step(entra):
    # Given an app whose consent lacks Mail.Send, Mail.ReadWrite and User.Read.All
    e = entra(EntraScenario.GRAPH_PERMISSIONS_MISSING)
    # When the checks run
    scopes = run(e).result("oauth.scopes")
    # Then each missing permission is named with the portal step
    assert scopes.status is Status.FAIL
    for permission in ("Mail.Send", "Mail.ReadWrite", "User.Read.All"):
        assert permission in scopes.summary
        assert f"Microsoft Graph > Delegated permissions > {permission}" in scopes.remediation
    assert "Grant admin consent" in scopes.remediation


def test_app_only_token_with_send_as_app(entra):
    # Given an app-only setup with SMTP.SendAsApp consented
    e = entra(EntraScenario.APP_ONLY)
    # When the checks run
    report = run(e, auth="oauth2-app", refresh_token=None)
    # Then the token and scopes checks pass
    assert status_of(report)["oauth.token"] is Status.PASS
    assert status_of(report)["oauth.scopes"] is Status.PASS
    assert "SMTP.SendAsApp" in report.result("oauth.token").summary


def test_app_only_without_send_as_app_explains_the_setup(entra):
    # Given an app-only setup without the SMTP.SendAsApp application permission
    e = entra(EntraScenario.APP_ONLY_NO_SEND_AS_APP)
    # When the checks run
    token = run(e, auth="oauth2-app", refresh_token=None).result("oauth.token")
    # Then it fails naming the role, the portal step and the Exchange PowerShell steps
    assert token.status is Status.FAIL
    assert "SMTP.SendAsApp" in token.summary
    assert "Application permissions" in token.remediation and "New-ServicePrincipal" in token.remediation


def test_no_refresh_token_yet_asks_to_sign_in(entra):
    # Given a delegated setup without a refresh token
    e = entra()
    # When the checks run
    report = run(e, refresh_token=None)
    # Then the token check is skipped with the way forward
    token = report.result("oauth.token")
    assert token.status is Status.SKIP and "Sign in with Microsoft" in token.summary


def test_untrusted_certificate_is_a_network_failure(entra):
    # Given the emulator's private CA not being trusted
    e = entra()
    # When the tenant check runs without ca_file
    tenant = run(e, ["oauth.tenant"], ca_file=None).result("oauth.tenant")
    # Then it fails as an untrusted certificate with the --ca-file fix
    assert tenant.status is Status.FAIL
    assert "not trusted" in tenant.summary and "--ca-file" in tenant.remediation


@pytest.mark.parametrize("scenario", list(EntraScenario))
def test_canary_no_secret_or_token_in_any_result(entra, scenario):
    # Given any scenario
    e = entra(scenario)
    auth = "oauth2-app" if scenario.value.startswith("app-only") else "oauth2"
    # When every OAuth check runs
    report = run(e, auth=auth)
    # Then neither the secret, the refresh token nor any issued token shows in any result text or fact
    text = json.dumps([{**r.__dict__, "check_id": r.check_id.value, "status": r.status.value}
                       for r in report.results], default=str)
    secrets = [e.client_secret, e.refresh_token, e.app.secret_value, *e.issued_tokens]
    assert e.issued_tokens or scenario in (EntraScenario.TENANT_NOT_FOUND, EntraScenario.WRONG_CLOUD)
    for secret in secrets:
        assert secret not in text
    assert all(r.status is not Status.ERROR for r in report.results), [(r.check_id, r.summary)
                                                                        for r in report.results]
