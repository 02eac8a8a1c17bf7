"""Sign-in flows (auth code + PKCE, device code), the Graph sender rule and XOAUTH2 decoding, against the emulator."""

from __future__ import annotations

import threading
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests

from checks.knowledge.catalog import explain_reply
from checks.model import Status
from checks.oauth.claims import decode_claims, explain_xoauth2_failure
from checks.oauth.client import check_client
from checks.oauth.flows import (
    SignInError,
    finish_auth_code_flow,
    finish_device_flow,
    preflight_auth_code_flow,
    start_auth_code_flow,
    start_device_flow,
)
from checks.oauth.scopes import check_scopes
from checks.oauth.sender import check_graph_sender
from checks.oauth.tenant import check_tenant
from checks.oauth.token import check_token
from checks.run_state import CheckContext, Deadline, Dependencies
from checks.runner import run_checklist
from checks.settings.loading import config_from_values
from console.oauth_store import FlowStore
from lab.entra import EntraScenario, RunningEntra

REDIRECT = "http://localhost:8501/"


def config(e: RunningEntra, **changes: Any):
    values = {"profile": "m365-oauth2", "login_url": e.base_url, "graph_url": e.graph_url, "ca_file": str(e.ca_file),
              "tenant_id": e.tenant_id, "client_id": e.client_id, "client_secret": e.client_secret,
              "refresh_token": e.refresh_token, "sender": e.sender, "timeout": 5}
    values.update(changes)
    return config_from_values({k: v for k, v in values.items() if v is not None})


def browser(e: RunningEntra, url: str) -> requests.Response:
    """What a browser does with the sign-in URL: one GET, no redirect followed (the emulator has no UI)."""
    return requests.get(url, verify=str(e.ca_file), allow_redirects=False, timeout=5)


def prepared_context(e: RunningEntra, **changes: Any) -> CheckContext:
    """A context in which oauth.tenant, .client, .token and .scopes ran, as the runner would leave it."""
    ctx = CheckContext(config(e, **changes), deps=Dependencies(), deadline=Deadline.after(30), run_id="test")
    for check in (check_tenant, check_client, check_token, check_scopes):
        finding = check(ctx)
        assert finding.status in (Status.PASS, Status.WARN, Status.FAIL), finding.summary
    return ctx


def test_auth_code_flow_with_pkce_end_to_end(entra):
    # Given a working app and a console at http://localhost:8501/
    e = entra()
    cfg = config(e, refresh_token=None)
    store = FlowStore()
    pending = start_auth_code_flow(cfg, redirect_uri=REDIRECT)
    store.put(pending.state, pending, settings={}, client_secret=None)
    assert "code_challenge=" in pending.auth_uri and "code_verifier" not in repr(pending)
    # When the browser opens the sign-in page and comes back to the redirect URI
    assert preflight_auth_code_flow(cfg, pending) is None
    answer = browser(e, pending.auth_uri)
    location = answer.headers["Location"]
    assert answer.status_code == 302 and location.startswith(REDIRECT)
    params = dict(parse_qsl(urlsplit(location).query))
    result = finish_auth_code_flow(cfg, store.take(params["state"]).sign_in, params)
    # Then a refresh token for the signed-in user comes back, and it works for a checklist run
    assert result.user == "alice@contoso.example"
    assert "https://outlook.office.com/SMTP.Send" in result.scopes
    assert e.refresh_token not in repr(result)
    report = run_checklist(cfg.with_changes(refresh_token=result.refresh_token), only=["oauth.token"])
    assert report.result("oauth.token").status is Status.PASS
    assert store.take(params["state"]) is None  # single use


def test_auth_code_flow_refuses_a_foreign_state(entra):
    # Given a pending sign-in
    e = entra()
    cfg = config(e)
    pending = start_auth_code_flow(cfg, redirect_uri=REDIRECT)
    # When an answer with another state arrives
    # Then it is refused without calling the token endpoint
    with pytest.raises(SignInError, match="state differs"):
        finish_auth_code_flow(cfg, pending, {"state": "forged", "code": "x"})


def test_auth_code_code_cannot_be_redeemed_twice(entra):
    # Given a completed browser sign-in
    e = entra()
    cfg = config(e)
    pending = start_auth_code_flow(cfg, redirect_uri=REDIRECT)
    params = dict(parse_qsl(urlsplit(browser(e, pending.auth_uri).headers["Location"]).query))
    finish_auth_code_flow(cfg, pending, params)
    # When the same code is redeemed again
    # Then AADSTS54005 is explained
    with pytest.raises(SignInError) as caught:
        finish_auth_code_flow(cfg, pending, params)
    assert "AADSTS54005" in caught.value.finding.summary


def test_redirect_uri_mismatch_is_caught_before_the_user_signs_in(entra):
    # Given an app whose registered redirect URI is not the console's
    e = entra(EntraScenario.REDIRECT_URI_MISMATCH)
    cfg = config(e)
    pending = start_auth_code_flow(cfg, redirect_uri=REDIRECT)
    # When the console loads the sign-in page once
    finding = preflight_auth_code_flow(cfg, pending)
    # Then AADSTS50011 is explained with the fix
    assert finding is not None and finding.status is Status.FAIL
    assert "AADSTS50011" in finding.summary
    assert "Add a platform > Web" in finding.remediation


def test_admin_consent_required_is_caught_at_the_sign_in_page(entra):
    # Given a tenant where the permissions need an administrator's consent
    e = entra(EntraScenario.ADMIN_CONSENT_REQUIRED)
    cfg = config(e)
    pending = start_auth_code_flow(cfg, redirect_uri=REDIRECT)
    # When the console loads the sign-in page once
    finding = preflight_auth_code_flow(cfg, pending)
    # Then AADSTS90094 is explained
    assert finding is not None and "AADSTS90094" in finding.summary
    assert "Grant admin consent" in finding.remediation


def test_mixed_resources_in_one_sign_in_are_decoded(entra):
    # Given a sign-in asking SMTP.Send and a Graph permission together
    e = entra()
    cfg = config(e)
    pending = start_auth_code_flow(cfg, redirect_uri=REDIRECT, scopes=[
        "https://outlook.office.com/SMTP.Send", "https://graph.microsoft.com/Mail.Send"])
    params = dict(parse_qsl(urlsplit(browser(e, pending.auth_uri).headers["Location"]).query))
    # When the code is redeemed
    with pytest.raises(SignInError) as caught:
        finish_auth_code_flow(cfg, pending, params)
    # Then AADSTS700022 is explained: one resource per token
    assert "AADSTS700022" in caught.value.finding.summary
    assert "one resource per token" in caught.value.finding.remediation


def test_device_flow_end_to_end(entra):
    # Given a device sign-in started by the console
    e = entra()
    cfg = config(e, refresh_token=None)
    pending = start_device_flow(cfg)
    assert pending.user_code in pending.message
    # When the user enters the code in a browser while the console waits
    threading.Timer(0.3, lambda: requests.post(pending.verification_uri, data={"user_code": pending.user_code},
                                               verify=str(e.ca_file), timeout=5)).start()
    result = finish_device_flow(cfg, pending, wait_seconds=15)
    # Then a refresh token for the user comes back
    assert result.user == "alice@contoso.example" and result.refresh_token


def test_device_flow_gives_up_after_the_bounded_wait(entra):
    # Given a device sign-in nobody completes
    e = entra()
    pending = start_device_flow(config(e))
    # When the console waits at most one second
    # Then it stops with a clear message
    with pytest.raises(SignInError, match="Nobody completed the device sign-in"):
        finish_device_flow(config(e), pending, wait_seconds=1)


def test_device_flow_not_allowed_is_decoded(entra):
    # Given an app without 'Allow public client flows'
    e = entra(EntraScenario.DEVICE_FLOW_NOT_ALLOWED)
    cfg = config(e)
    pending = start_device_flow(cfg)
    requests.post(pending.verification_uri, data={"user_code": pending.user_code}, verify=str(e.ca_file), timeout=5)
    # When the console polls
    with pytest.raises(SignInError) as caught:
        finish_device_flow(cfg, pending, wait_seconds=5)
    # Then AADSTS7000218 names the switch
    assert "AADSTS7000218" in caught.value.finding.summary
    assert "Allow public client flows" in caught.value.finding.remediation


@pytest.mark.parametrize(("scenario", "status", "words"), [
    (EntraScenario.WORKING, Status.PASS, "is the primary address of the signed-in user alice@contoso.example"),
    (EntraScenario.SENDER_IS_ALIAS, Status.FAIL, "a.smith@contoso.example is an alias of alice@contoso.example"),
    (EntraScenario.SENDER_IS_SHARED, Status.FAIL, "info@contoso.example is a shared mailbox"),
    (EntraScenario.SENDER_MISMATCH, Status.FAIL, "is another user's mailbox; the token belongs to alice"),
])
def test_graph_sender_rule(entra, scenario, status, words):
    # Given a run in which the token checks passed for alice, and the scenario's sender
    e = entra(scenario)
    ctx = prepared_context(e)
    # When the OAuth sender rule is checked through Graph
    finding = check_graph_sender(ctx)
    ctx.close()
    # Then the verdict and the guide's wording follow
    assert finding.status is status, finding.summary
    assert words in finding.summary
    if status is Status.FAIL:
        assert "Change the sender to alice@contoso.example" in finding.remediation
    if scenario in (EntraScenario.SENDER_IS_ALIAS, EntraScenario.SENDER_IS_SHARED):
        assert "Aliases (proxy addresses) and shared mailboxes can't be used to connect through OAuth2. Please " \
               "use a primary address." in finding.summary


def test_sender_alias_of_another_user_is_found_by_proxy_address(entra):
    # Given a sender that is another user's alias
    e = entra()
    ctx = prepared_context(e, sender="sales@contoso.example")
    # When the sender rule is checked
    finding = check_graph_sender(ctx)
    # Then the owner is named
    assert finding.status is Status.FAIL and "alias of bob@contoso.example" in finding.summary


def test_xoauth2_validator_and_decoder(entra):
    # Given a working run's SMTP token, and a Graph token minted in the same run
    e = entra()
    ctx = prepared_context(e)
    token = ctx.state.smtp_token.reveal()
    user = ctx.state.token_user
    graph = ctx.state.graph_token.reveal()
    # When the lab SMTP server asks the emulator to validate them
    # Then the SMTP token is accepted for its user only, and the Graph token is refused and explained
    assert e.xoauth2_validator(user, token) is None
    assert e.xoauth2_validator("bob@contoso.example", token).startswith("535 5.7.3")
    reply = e.xoauth2_validator(user, graph)
    assert reply.startswith("535 5.7.3")
    finding = explain_xoauth2_failure(535, reply[4:], decode_claims(graph))
    assert finding is not None and "Microsoft Graph, not for Exchange Online" in finding.summary
    assert "https://outlook.office.com/SMTP.Send" in finding.remediation
    assert e.token_is_valid(token, "https://outlook.office.com")


def test_smtp_auth_disabled_reply_is_decoded(entra):
    # Given a mailbox with SMTP AUTH disabled
    e = entra(EntraScenario.SMTP_AUTH_DISABLED)
    ctx = prepared_context(e)
    token = ctx.state.smtp_token.reveal()
    # When the token is used for XOAUTH2
    reply = e.xoauth2_validator("alice@contoso.example", token)
    finding = explain_xoauth2_failure(535, reply[4:], decode_claims(token))
    # Then the 5.7.139 reply leads to Set-CASMailbox, with the same fix text as a password sign-in gets
    assert reply.startswith("535 5.7.139")
    assert finding is not None and "Set-CASMailbox" in finding.remediation
    assert finding.remediation == explain_reply(535, reply[4:]).fix
    assert any(c.code.startswith("Set-CASMailbox -Identity alice@contoso.example ") for c in finding.commands)


def test_app_only_token_is_accepted_for_a_mailbox(entra):
    # Given an app-only run with SMTP.SendAsApp
    e = entra(EntraScenario.APP_ONLY)
    ctx = prepared_context(e, auth="oauth2-app", refresh_token=None)
    token = ctx.state.smtp_token.reveal()
    # When used for XOAUTH2 as the shared mailbox (FullAccess) and through the Graph sender rule
    # Then both accept it
    assert e.xoauth2_validator("info@contoso.example", token) is None
    assert check_graph_sender(ctx).status is Status.PASS
