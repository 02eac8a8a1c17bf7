"""The audit's reading of Conditional Access and Security Defaults, on policy shapes as Graph returns them."""

from __future__ import annotations

from checks.audit.graph_reads import TenantSnapshot
from checks.audit.request import AuditInput
from checks.audit.tenant_checks import check_conditional_access, check_security_defaults
from checks.model import Status
from checks.oauth.endpoints import EXCHANGE_APP_ID
from checks.oauth.graph import GraphAnswer

SENDER_ID = "11111111-2222-3333-4444-555555555555"
OAUTH2 = AuditInput(client_id="c", sender="relay@contoso.com")
BASIC = AuditInput(client_id="c", sender="relay@contoso.com", relay_profile="m365-basic")


def policy(name: str, *, state: str = "enabled", apps=("All",), clients=("all",), control: str = "block",
           include_users=("All",), exclude_users=(), include_groups=(), frequency=None) -> dict:
    return {"id": name, "displayName": name, "state": state,
            "conditions": {"applications": {"includeApplications": list(apps), "excludeApplications": []},
                           "users": {"includeUsers": list(include_users), "excludeUsers": list(exclude_users),
                                     "includeGroups": list(include_groups), "excludeGroups": []},
                           "clientAppTypes": list(clients)},
            "grantControls": {"operator": "OR", "builtInControls": [control]},
            "sessionControls": {"signInFrequency": frequency} if frequency else None}


def snapshot(*policies: dict, security_defaults: bool = False) -> TenantSnapshot:
    ok = GraphAnswer(200, {})
    return TenantSnapshot(
        application=ok, client_principal=ok, resources={}, grants=ok,
        security_defaults=GraphAnswer(200, {"id": "00000000-0000-0000-0000-000000000005", "isEnabled": security_defaults}),
        conditional_access=GraphAnswer(200, {"value": list(policies)}),
        user=GraphAnswer(200, {"id": SENDER_ID, "userPrincipalName": "relay@contoso.com"}))


def test_a_policy_blocking_exchange_online_for_everyone_fails_and_is_named():
    finding = check_conditional_access(snapshot(policy("No Exchange", apps=(EXCHANGE_APP_ID,))), OAUTH2)
    assert finding.status is Status.FAIL and "'No Exchange'" in finding.summary
    assert "Exclude" in finding.remediation


def test_blocking_legacy_authentication_matters_for_basic_auth_only():
    legacy = policy("Block legacy authentication", clients=("exchangeActiveSync", "other"))
    assert check_conditional_access(snapshot(legacy), OAUTH2).status is Status.PASS
    assert "legacy authentication only" in check_conditional_access(snapshot(legacy), OAUTH2).details
    assert check_conditional_access(snapshot(legacy), BASIC).status is Status.FAIL


def test_report_only_disabled_and_excluding_policies_do_not_block():
    policies = (policy("Report only", state="enabledForReportingButNotEnforced"), policy("Off", state="disabled"),
                policy("Not for the relay", exclude_users=(SENDER_ID,)), policy("SharePoint only", apps=("sp-app",)))
    finding = check_conditional_access(snapshot(*policies), OAUTH2)
    assert finding.status is Status.PASS
    assert "'Report only' (report-only)" in finding.details
    assert "Off" not in finding.details and "Not for the relay" not in finding.details


def test_a_block_through_a_group_and_a_sign_in_frequency_warn():
    grouped = policy("Block contractors", include_users=(), include_groups=("group-id",))
    frequency = policy("Re-sign-in daily", control="mfa", frequency={"isEnabled": True, "value": 1, "type": "days"})
    finding = check_conditional_access(snapshot(grouped, frequency), OAUTH2)
    assert finding.status is Status.WARN
    assert "through a group or role" in finding.details and "every 1 days" in finding.details
    assert "AADSTS70043" in finding.details


def test_security_defaults_warn_for_oauth2_and_fail_for_basic_auth():
    assert check_security_defaults(snapshot(security_defaults=True), OAUTH2).status is Status.WARN
    assert check_security_defaults(snapshot(security_defaults=True), BASIC).status is Status.FAIL
    assert check_security_defaults(snapshot(security_defaults=False), OAUTH2).status is Status.PASS


def test_unreadable_policies_say_which_permission_and_role_are_needed():
    denied = GraphAnswer(403, {"error": {"code": "Authorization_RequestDenied", "message": "Insufficient privileges"}})
    state = snapshot()
    finding = check_conditional_access(TenantSnapshot(**{**state.__dict__, "conditional_access": denied}), OAUTH2)
    assert finding.status is Status.SKIP
    assert "Policy.Read.All" in finding.details and "Global Reader" in finding.details
