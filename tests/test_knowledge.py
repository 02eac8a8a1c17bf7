"""The knowledge catalog: every provider reply and AADSTS code from docs/providers.md, pasted as users paste them."""

from __future__ import annotations

import json
import random
import string
import time
import tomllib
from pathlib import Path

import pytest

from checks.knowledge.catalog import (
    Explanation,
    Source,
    entry,
    entry_ids,
    explain_aadsts,
    explain_reply,
    normalise_reply,
    render_text,
    to_dict,
)
from checks.knowledge.guide import GuideSection
from checks.knowledge.reader import explain, explain_all
from checks.knowledge.tables import rows
from checks.model import CheckId

PASTES = tomllib.loads((Path(__file__).parent / "corpus" / "pastes.toml").read_text(encoding="utf-8"))["paste"]
MS_TRAILER = "[SN4PR0601CA0012.namprd06.prod.outlook.com 2026-05-13T10:00:00.000Z 08DC6A2B3C4D5E6F]"
DEADLINE = "December 2026"

# (pasted text, expected entry id, phrases the fix must contain)
SMTP_CASES = [
    # ---- Microsoft 365
    (
        "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. "
        f"Visit https://aka.ms/smtp_auth_disabled for more information. {MS_TRAILER}",
        "m365.smtp_auth_disabled_tenant",
        ["Set-TransportConfig -SmtpClientAuthenticationDisabled $false", "Set-CASMailbox -Identity", "up to an hour"],
    ),
    (
        "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Mailbox. "
        f"Visit https://aka.ms/smtp_auth_disabled for more information. {MS_TRAILER}",
        "m365.smtp_auth_disabled_mailbox",
        ["Set-CASMailbox -Identity <address> -SmtpClientAuthenticationDisabled $false"],
    ),
    (
        f"535 5.7.139 Authentication unsuccessful, basic authentication is disabled. {MS_TRAILER}",
        "m365.basic_auth_disabled",
        ["OAuth2", DEADLINE],
    ),
    (
        "535 5.7.139 Authentication unsuccessful, user is locked by your organization's security defaults policy. "
        f"Contact your administrator. {MS_TRAILER}",
        "m365.security_defaults",
        ["OAuth2", "Conditional Access", DEADLINE],
    ),
    (
        "535 5.7.139 Authentication unsuccessful, the request did not meet the criteria to be authenticated "
        f"successfully. Contact your administrator. {MS_TRAILER}",
        "m365.auth_criteria_not_met",
        ["Sign-in logs", "Conditional Access"],
    ),
    (
        f"535 5.7.139 Authentication unsuccessful {MS_TRAILER}",
        "m365.auth_blocked_policy",
        ["Set-CASMailbox -Identity <address> -SmtpClientAuthenticationDisabled $false", "Sign-in logs", DEADLINE],
    ),
    (
        f"535 5.7.3 Authentication unsuccessful {MS_TRAILER}",
        "m365.auth_unsuccessful",
        ["full Microsoft 365 address", "https://outlook.office.com/SMTP.Send", DEADLINE],
    ),
    (
        f"530 5.7.57 Client not authenticated to send mail. {MS_TRAILER}",
        "m365.client_not_authenticated",
        ["SMTP authentication required"],
    ),
    (
        "530 5.7.57 SMTP; Client was not authenticated to send anonymous mail during MAIL FROM "
        "[AM6PR0732BE0065.eurprd07.prod.outlook.com]",
        "m365.client_not_authenticated",
        ["SMTP authentication required"],
    ),
    (
        f"550 5.7.60 SMTP; Client does not have permissions to send as this sender {MS_TRAILER}",
        "m365.send_as_denied",
        ["Sender", "Add-RecipientPermission", "SendAs"],
    ),
    (
        "554 5.2.0 STOREDRV.Submission.Exception:SendAsDeniedException.MapiExceptionSendAsDenied; Failed to process "
        "message due to a permanent exception with message [BeginDiagnosticData]Cannot submit message. "
        "0.35250:0A00C184 [Hostname=DM6PR02MB1234.namprd02.prod.outlook.com]",
        "m365.send_as_denied_submission",
        ["Add-RecipientPermission"],
    ),
    (
        f"550 5.7.30 Basic authentication is not supported for Client Submission. {MS_TRAILER}",
        "m365.basic_auth_not_supported",
        ["OAuth2", DEADLINE],
    ),
    (
        "421 4.7.66 TLS 1.0 and 1.1 are not supported. Please upgrade/update your client to support TLS 1.2. "
        f"Visit https://aka.ms/smtp_auth_tls. {MS_TRAILER}",
        "m365.tls_version_unsupported",
        ["TLS 1.2"],
    ),
    (
        "550 5.2.251 Sender throttled due to continuous mailbox full errors.",
        "m365.throttled_mailbox_full",
        ["quota", "wait"],
    ),
    (
        "550 5.2.252 Sender throttled due to continuous send as denied errors.",
        "m365.throttled_send_as_denied",
        ["Sender", "wait"],
    ),
    (
        "550 5.2.253 Sender throttled due to continuous invalid license errors.",
        "m365.throttled_invalid_license",
        ["licence", "wait"],
    ),
    (
        "550 5.2.254 Sender throttled due to continuous too many recipients errors.",
        "m365.throttled_too_many_recipients",
        ["fewer recipients", "wait"],
    ),
    (
        "550 5.2.255 Sender throttled due to continuous invalid recipients errors.",
        "m365.throttled_invalid_recipients",
        ["invalid recipient", "wait"],
    ),
    (
        "550 5.7.705 Access denied, tenant has exceeded threshold. For more information please go to "
        "https://go.microsoft.com/fwlink/?linkid=2022138",
        "m365.tenant_over_threshold",
        ["Microsoft support"],
    ),
    (
        "550 5.7.708 Service unavailable. Access denied, traffic not accepted from this IP.",
        "m365.ip_not_accepted",
        ["Microsoft support"],
    ),
    (
        f"550 5.1.8 Access denied, bad outbound sender {MS_TRAILER}",
        "m365.restricted_sender",
        ["Restricted entities"],
    ),
    # ---- Gmail (folded over several lines, with help links and session ids)
    (
        "534-5.7.9 Application-specific password required. For more information, go to\n"
        "534 5.7.9  https://support.google.com/mail/?p=InvalidSecondFactor d9443c01a7336-2c9f2a4e1b3sm123456pla.1 - gsmtp",
        "gmail.app_password_required",
        ["https://myaccount.google.com/apppasswords", "16-letter"],
    ),
    (
        "535-5.7.8 Username and Password not accepted. For more information, go to\r\n"
        "535 5.7.8  https://support.google.com/mail/?p=BadCredentials a640c23a62f3a-a9a0f1sm123.12 - gsmtp\r\n",
        "gmail.bad_credentials",
        ["full address", "app password", "2-Step Verification"],
    ),
    (
        "530 5.7.0 Must issue a STARTTLS command first. d2e1a72fcca58-71e5f3sm1234567pfb.12 - gsmtp",
        "gmail.starttls_required",
        ["STARTTLS", "587"],
    ),
    (
        "534-5.7.14 <https://accounts.google.com/signin/continue?sarp=1&scc=1&plt=AKgnsbt0abc>\n"
        "534-5.7.14 Please log in via your web browser and then try again.\n"
        "534-5.7.14  Learn more at\n"
        "534 5.7.14  https://support.google.com/mail/answer/78754 t7sm1234567wrx.12 - gsmtp",
        "gmail.web_login_required",
        ["browser", "app password"],
    ),
    (
        "454 4.7.0 Too many login attempts, please try again later. h10sm123456wrx.11 - gsmtp",
        "gmail.too_many_login_attempts",
        ["wait", "Stop"],
    ),
    (
        "550-5.4.5 Daily user sending limit exceeded. For more information on Gmail\n"
        "550-5.4.5 sending limits go to\n"
        "550 5.4.5  https://support.google.com/a/answer/166852 a1sm123456wrx.1 - gsmtp",
        "gmail.daily_sending_limit",
        ["24 hours", "SMTP relay service"],
    ),
    # ---- generic replies
    ("421 4.3.2 Service not available, closing transmission channel", "smtp.service_not_available", ["Retry later"]),
    ("450 4.2.1 Mailbox busy, try again later", "smtp.mailbox_unavailable_temporary", ["Retry later"]),
    ("451 4.7.1 Greylisting in action, please come back later", "smtp.local_error_temporary", ["Retry later"]),
    ("452 4.5.3 Too many recipients", "smtp.too_many_recipients", ["fewer recipients"]),
    ("452 4.3.1 Insufficient system storage", "smtp.insufficient_storage", ["fewer recipients"]),
    ("454 4.7.0 TLS not available due to temporary reason", "smtp.tls_not_available", ["Retry later"]),
    ("454 4.7.0 Temporary authentication failure", "smtp.temporary_auth_failure", ["Retry later"]),
    ("500 5.5.1 Unrecognized command", "smtp.syntax_error", ["587", "465"]),
    ("501 5.5.4 Invalid argument: MAIL FROM:<bad address>", "smtp.syntax_error_parameters", ["addresses"]),
    ("502 5.5.1 Command not implemented", "smtp.command_not_implemented", ["STARTTLS"]),
    ("503 5.5.1 Bad sequence of commands", "smtp.bad_sequence", ["EHLO, STARTTLS, EHLO, AUTH"]),
    ("504 5.7.4 Unrecognized authentication type", "smtp.parameter_not_implemented", ["XOAUTH2"]),
    ("530 5.7.0 Authentication required", "smtp.auth_required", ["SMTP authentication required"]),
    ("535 5.7.8 Error: authentication failed: authentication failure", "smtp.auth_failed", ["full address"]),
    (
        "550 5.1.1 <bob@example.com>: Recipient address rejected: User unknown in virtual mailbox table",
        "smtp.unknown_recipient",
        ["recipient address"],
    ),
    (
        "550-5.1.1 The email account that you tried to reach does not exist. Please try\n"
        "550-5.1.1 double-checking the recipient's email address for typos or\n"
        "550 5.1.1 https://support.google.com/mail/?p=NoSuchUser a1sm1234wrx.2 - gsmtp",
        "smtp.unknown_recipient",
        ["recipient address"],
    ),
    (
        "553 5.7.1 <mallory@relay.test>: Sender address rejected: not owned by user alice@relay.test",
        "smtp.sender_not_owned",
        ["own address"],
    ),
    ("552 5.3.4 Message size exceeds fixed maximum message size", "smtp.message_too_large", ["smaller message"]),
    (
        "554 5.7.1 Service unavailable; Client host [203.0.113.5] blocked using zen.spamhaus.org",
        "smtp.ip_blocklisted",
        ["blocklist"],
    ),
    ("554 Transaction failed", "smtp.transaction_failed", ["blocklists"]),
    ("235 2.7.0 Authentication successful", "smtp.auth_succeeded", ["Nothing to fix"]),
    # ---- replies the fact-check found missing (FACTCHECK 2026-11-30, table C)
    ("550 5.7.703 Your message can't be delivered because messages to XXX, YYY are blocked by your organization "
     "using Tenant Allow Block List.", "m365.tenant_block_list", ["Tenant Allow/Block Lists"]),
    ("554 5.2.2 mailbox full; STOREDRV.Submission.Exception:QuotaExceededException.MapiExceptionQuotaExceeded",
     "m365.sender_mailbox_full", ["Sent Items"]),
    ("554 5.2.0 STOREDRV.Submission.Exception:SubmissionQuotaExceededException", "m365.submission_quota",
     ["10,000"]),
    ("432 4.3.2 STOREDRV.ClientSubmit; sender thread limit exceeded", "m365.concurrent_connections", ["three"]),
    ("550 5.7.233 Your message can't be sent because your organization has exceeded its external recipient limit",
     "m365.external_recipient_limit", ["licences"]),
    ("550 5.7.750 Service unavailable. Client blocked from sending from unregistered domains",
     "m365.unregistered_domain", ["verified"]),
    ("535 5.7.139 Authentication unsuccessful, the user credentials were incorrect. [BN0PR04CA0123]",
     "m365.auth_credentials_incorrect", ["https://outlook.office.com"]),
    ("554 5.2.252 SendAsDenied; alice@contoso.com not allowed to send as info@contoso.com; "
     "STOREDRV.Submission.Exception:SendAsDeniedException.MapiExceptionSendAsDenied",
     "m365.send_as_denied_submission", ["Add-RecipientPermission"]),
]


@pytest.mark.parametrize(("pasted", "entry_id", "phrases"), SMTP_CASES, ids=[c[1] for c in SMTP_CASES])
def test_every_provider_reply_is_explained(pasted: str, entry_id: str, phrases: list[str]) -> None:
    """Given a reply as a user pastes it, when explained, then the catalog entry and its key action come back."""
    explanation = explain(pasted)

    assert explanation.entry_id == entry_id
    assert explanation.known and explanation.source is Source.SMTP
    for phrase in phrases:
        assert phrase.lower() in explanation.fix.lower(), phrase
    assert "\n" not in explanation.matched and explanation.matched.startswith(explanation.code)


@pytest.mark.parametrize(("pasted", "entry_id", "phrases"), SMTP_CASES, ids=[c[1] for c in SMTP_CASES])
def test_engine_replies_from_smtplib_match_the_same_entries(pasted: str, entry_id: str, phrases: list[str]) -> None:
    """Given the same reply as smtplib hands it over (code apart, lines without code), then the same entry."""
    code, _, _ = normalise_reply(pasted)
    lines = [line[4:] for line in pasted.splitlines() if line.strip()]

    explanation = explain_reply(code, "\n".join(lines).encode())

    assert explanation.entry_id == entry_id


# (pasted text or MSAL dict, expected entry id, phrases the fix must contain)
AADSTS_CASES = [
    (
        {
            "error": "invalid_request",
            "error_description": "AADSTS90002: Tenant 'contoso.onmicrosoft.cm' not found. Check to make sure you "
            "have the correct tenant ID and are signing into the correct cloud.\r\nTrace ID: 0b1c\r\n"
            "Correlation ID: 5e6f\r\nTimestamp: 2026-05-13 10:00:00Z",
            "error_codes": [90002],
            "timestamp": "2026-05-13 10:00:00Z",
            "trace_id": "0b1c",
            "correlation_id": "5e6f",
        },
        "aadsts.90002",
        ["Directory (tenant) ID"],
    ),
    (
        "AADSTS700016: Application with identifier 'admin@contoso.com' was not found in the directory 'Contoso'.",
        "aadsts.700016",
        ["Application (client) ID"],
    ),
    (
        {
            "error": "invalid_client",
            "error_description": "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the "
            "request is the client secret value, not the client secret ID, for a secret added to app "
            "'00000000-0000-0000-0000-000000000001'.",
            "error_codes": [7000215],
        },
        "aadsts.7000215",
        [
            "Paste the secret's Value, not its Secret ID",
            "copy the Value column (shown only once at creation); if it is hidden now, create a new secret."
        ],
    ),
    ("7000215", "aadsts.7000215", ["not its Secret ID"]),
    ("AADSTS7000215", "aadsts.7000215", ["not its Secret ID"]),
    (
        "AADSTS7000222: The provided client secret keys for app '0000-0001' are expired. Visit the Azure portal to "
        "create new keys for your app.",
        "aadsts.7000222",
        ["New client secret", "expiry date"],
    ),
    (
        "AADSTS7000218: The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
        "aadsts.7000218",
        ["Web"],
    ),
    (
        "AADSTS700025: Client is public so neither 'client_assertion' nor 'client_secret' should be presented.",
        "aadsts.700025",
        ["Web", "Allow public client flows"],
    ),
    (
        "AADSTS50194: Application '0000-0001'(Relay) is not configured as a multi-tenant application. Usage of the "
        "/common endpoint is not supported for such applications created after '10/15/2018'.",
        "aadsts.50194",
        ["tenant-specific authority"],
    ),
    (
        "AADSTS9001023: The grant type is not supported over the /common or /consumers endpoints.",
        "aadsts.9001023",
        ["tenant-specific authority"],
    ),
    (
        {
            "error": "invalid_grant",
            "error_description": "AADSTS65001: The user or administrator has not consented to use the application "
            "with ID '0000-0001' named 'Relay'. Send an interactive authorization request for this user and resource.",
            "error_codes": [65001],
            "suberror": "consent_required",
        },
        "aadsts.65001",
        ["Grant admin consent for <tenant>"],
    ),
    (
        "AADSTS90094: Admin consent is required for the permissions requested by this application.",
        "aadsts.90094",
        ["Grant admin consent for <tenant>"],
    ),
    (
        "AADSTS650056: Misconfigured application. This could be due to one of the following: the client has not "
        "listed any permissions for 'Office 365 Exchange Online' in the requested permissions in the client's "
        "application registration.",
        "aadsts.650056",
        ["SMTP.Send", "Grant admin consent"],
    ),
    (
        "AADSTS650057: Invalid resource. The client has requested access to a resource which is not listed in the "
        "requested permissions in the client's application registration.",
        "aadsts.650057",
        ["Add a permission"],
    ),
    (
        "AADSTS70011: The provided request must include a 'scope' input parameter. The provided value for the input "
        "parameter 'scope' is not valid. The scope SMTP.Send is not valid.",
        "aadsts.70011",
        ["https://outlook.office.com/SMTP.Send", "offline_access"],
    ),
    (
        "AADSTS700022: The provided value for the input parameter scope is not valid because it contains more than "
        "one resource. Scope https://graph.microsoft.com/Mail.Send https://outlook.office.com/SMTP.Send is not valid.",
        "aadsts.700022",
        ["one resource per token"],
    ),
    (
        "AADSTS50011: The redirect URI 'https://entreprise.openbeecloud.com/oauth' specified in the request does not "
        "match the redirect URIs configured for the application '0000-0001'.",
        "aadsts.50011",
        ["Redirect URIs", "Web"],
    ),
    (
        "AADSTS500113: No reply address is registered for the application.",
        "aadsts.500113",
        ["Redirect URIs"],
    ),
    ("AADSTS50126: Error validating credentials due to invalid username or password.", "aadsts.50126", ["password"]),
    (
        "AADSTS50076: Due to a configuration change made by your administrator, or because you moved to a new "
        "location, you must use multi-factor authentication to access '00000002-0000-0ff1-ce00-000000000000'.",
        "aadsts.50076",
        ["MFA"],
    ),
    (
        "AADSTS50079: Due to a configuration change made by your administrator, or because you moved to a new "
        "location, you must enroll in multi-factor authentication.",
        "aadsts.50079",
        ["https://aka.ms/mfasetup"],
    ),
    (
        "AADSTS53003: Access has been blocked by Conditional Access policies. The access policy does not allow token "
        "issuance.",
        "aadsts.53003",
        ["Conditional Access"],
    ),
    (
        "AADSTS530035: Access has been blocked by security defaults. This is due to the request using legacy auth or "
        "being deemed unsafe by security defaults policies.",
        "aadsts.530035",
        ["Security Defaults"],
    ),
    (
        "AADSTS50053: The account is locked, you've tried to sign in too many times with an incorrect user ID or "
        "password.",
        "aadsts.50053",
        ["lockout"],
    ),
    ("AADSTS50055: The password is expired.", "aadsts.50055", ["Change the password"]),
    ("AADSTS50057: The user account is disabled.", "aadsts.50057", ["Unblock sign-in"]),
    (
        {
            "error": "invalid_grant",
            "error_description": "AADSTS700082: The refresh token has expired due to inactivity. The token was issued "
            "on 2026-01-01T10:00:00Z and was inactive for 90.00:00:00.",
            "error_codes": [700082],
        },
        "aadsts.700082",
        ["Sign in again", "General Configuration"],
    ),
    (
        "AADSTS70008: The provided authorization code or refresh token has expired due to inactivity. Send a new "
        "interactive authorization request for this user and resource.",
        "aadsts.70008",
        ["General Configuration"],
    ),
    (
        "AADSTS50173: The provided grant has expired due to it being revoked, a fresh auth token is needed. The user "
        "might have changed or reset their password.",
        "aadsts.50173",
        ["Sign in again"],
    ),
    (
        "AADSTS70043: The refresh token has expired or is invalid due to sign-in frequency checks by conditional "
        "access.",
        "aadsts.70043",
        ["Sign in again", "sign-in frequency"],
    ),
    (
        "AADSTS54005: OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an "
        "existing refresh token.",
        "aadsts.54005",
        ["Restart the sign-in"],
    ),
    (
        "AADSTS50020: User account 'someone@outlook.com' from identity provider 'live.com' does not exist in tenant "
        "'Contoso'.",
        "aadsts.50020",
        ["member account"],
    ),
    (
        "AADSTS500011: The resource principal named https://outlook.office.com was not found in the tenant named "
        "Contoso.",
        "aadsts.500011",
        ["https://outlook.office.com/SMTP.Send"],
    ),
]


def _aadsts_id(case: tuple) -> str:
    return case[1] + (".dict" if isinstance(case[0], dict) else "")


@pytest.mark.parametrize(("pasted", "entry_id", "phrases"), AADSTS_CASES, ids=[_aadsts_id(c) for c in AADSTS_CASES])
def test_every_aadsts_code_is_explained(pasted: object, entry_id: str, phrases: list[str]) -> None:
    """Given an Entra ID error as MSAL returns it or a user pastes it, then its entry and key action come back."""
    via_text = explain(pasted)  # explain() also accepts MSAL's dict
    via_aadsts = explain_aadsts(pasted)

    for explanation in (via_text, via_aadsts):
        assert explanation.entry_id == entry_id
        assert explanation.known and explanation.source is Source.AADSTS
        assert explanation.code == "AADSTS" + entry_id.split(".")[1]
        for phrase in phrases:
            assert phrase.lower() in explanation.fix.lower(), phrase


def test_catalog_covers_every_providers_code() -> None:
    """Given the provider tables, then every reply and every AADSTS code (both of a pair) has an entry."""
    aadsts = {
        90002, 700016, 7000215, 7000222, 7000218, 700025, 50194, 9001023, 65001, 90094, 650056, 650057, 70011,
        700022, 50011, 500113, 50126, 50076, 50079, 53003, 530035, 50053, 50055, 50057, 700082, 70008, 50173,
        70043, 54005, 50020, 500011,
    }  # fmt: skip
    ids = set(entry_ids())

    assert {f"aadsts.{code}" for code in aadsts} <= ids
    tested = {case[1] for case in SMTP_CASES} | {r.entry for r in rows()} | {p["entry"] for p in PASTES}
    assert {i for i in ids if not i.startswith("aadsts.")} <= tested  # each one tested here, by a table or a paste
    assert {case[1] for case in AADSTS_CASES} <= ids
    assert len(ids) == len(entry_ids())


def test_every_entry_is_complete_and_points_at_a_guide_section() -> None:
    """Given each catalog entry, then title, cause and fix are filled and the section is a GuideSection value."""
    sections = {s.value for s in GuideSection} | {""}
    checks = {c.value for c in CheckId}
    for entry_id in entry_ids():
        item = entry(entry_id)
        assert item is not None and item.title and item.cause and len(item.fix) > 20, entry_id
        assert item.section in sections, entry_id
        assert item.check in checks and item.sources, entry_id  # the live check that proves it, a public source


def test_paired_codes_share_their_fix() -> None:
    """Given the pairs of one provider-table row, then both entries carry the same fix text."""
    for first, second in ((65001, 90094), (50194, 9001023), (650056, 650057), (50011, 500113), (700082, 70008)):
        assert explain_aadsts(str(first)).fix == explain_aadsts(str(second)).fix


def test_specific_match_beats_generic_ones() -> None:
    """Given 5.7.139 with and without its reason, then the reason wins, then the code, then the 535 class."""
    assert explain(f"535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. {MS_TRAILER}").entry_id == "m365.smtp_auth_disabled_tenant"  # fmt: skip
    assert explain(f"535 5.7.139 Authentication unsuccessful {MS_TRAILER}").entry_id == "m365.auth_blocked_policy"
    assert explain("5.7.139").entry_id == "m365.auth_blocked_policy"
    assert explain("535 Authentication credentials invalid").entry_id == "smtp.auth_failed"
    assert explain("535").entry_id == "smtp.auth_failed"


def test_wording_case_and_missing_codes_still_match() -> None:
    """Given the reason without codes, in other case, or only the help link, then the entry is still found."""
    assert explain("smtpclientauthentication IS DISABLED FOR THE MAILBOX").entry_id == "m365.smtp_auth_disabled_mailbox"
    assert explain("Username and Password not accepted").entry_id == "gmail.bad_credentials"
    assert (
        explain("see https://support.google.com/mail/?p=InvalidSecondFactor").entry_id == "gmail.app_password_required"
    )
    assert explain("5.7.139 Authentication unsuccessful, basic authentication is disabled.").code == "535"


def test_trailing_session_ids_and_smtplib_exceptions_are_tolerated() -> None:
    """Given a Python exception line with an escaped newline, then the Gmail reply inside is found and joined."""
    pasted = (
        "smtplib.SMTPAuthenticationError: (534, b'5.7.9 Application-specific password required. For more "
        "information, go to\\n5.7.9  https://support.google.com/mail/?p=InvalidSecondFactor "
        "d9443c01a7336-2c9f2a4e1b3sm123456pla.1 - gsmtp')"
    )

    explanation = explain(pasted)

    assert explanation.entry_id == "gmail.app_password_required"
    assert explanation.matched.startswith("534 5.7.9 Application-specific password required. For more information")
    assert "5.7.9  https" not in explanation.matched and "- gsmtp" in explanation.matched


def test_normalise_reply_joins_continuation_lines() -> None:
    """Given a folded Gmail reply, then code, enhanced code and one line of text without the repeated prefixes."""
    pasted = (
        "534-5.7.14 <https://accounts.google.com/signin/continue?sarp=1>\r\n"
        "534-5.7.14 Please log in via your web browser and then try again.\r\n"
        "534 5.7.14  https://support.google.com/mail/answer/78754 t7sm12 - gsmtp\r\n"
    )

    assert normalise_reply(pasted) == (
        534,
        "5.7.14",
        "<https://accounts.google.com/signin/continue?sarp=1> Please log in via your web browser and then try "
        "again. https://support.google.com/mail/answer/78754 t7sm12 - gsmtp",
    )
    assert normalise_reply("") == (None, "", "")
    assert normalise_reply("Remote server returned '550 5.1.1 RESOLVER.ADR.RecipNotFound; not found'")[:2] == (
        550,
        "5.1.1",
    )


@pytest.mark.parametrize(
    ("pasted", "temporary", "guidance"),
    [
        ("550 5.7.1 Message refused by local rules", False, ["permanent", "x.7.x", "security"]),
        ("432 4.3.2 Mailbox queue is busy", True, ["temporary", "retry later"]),
        ("553 5.3.0 Address rejected for an unknown reason", False, ["address"]),
        ("522 5.2.2 The email account that you tried to reach is over quota", False, ["mailbox"]),
        ("441 4.4.1 No answer from host", True, ["network or routing"]),
        ("556 5.5.2 Syntax error, goodbye", False, ["protocol"]),
        ("250 2.0.0 OK  1715594400 a1sm123 - gsmtp", False, ["not an error"]),
    ],
)
def test_unknown_replies_keep_verbatim_text_and_class_guidance(
    pasted: str, temporary: bool, guidance: list[str]
) -> None:
    """Given a reply not in the catalog, then its text verbatim and guidance from its class and subject."""
    explanation = explain(pasted)

    assert not explanation.known
    assert explanation.source is Source.SMTP
    assert explanation.matched == pasted.replace("  ", " ")
    assert explanation.temporary is temporary
    assert explanation.entry_id == f"smtp.class.{pasted[0]}xx"
    for phrase in guidance:
        assert phrase.lower() in (explanation.cause + explanation.title).lower(), phrase


def test_unknown_enhanced_code_alone_gets_subject_guidance() -> None:
    """Given only an unknown enhanced code, then the class and subject guidance still apply."""
    explanation = explain("5.2.9 something odd")

    assert not explanation.known and explanation.enhanced_code == "5.2.9" and "mailbox" in explanation.cause


def test_unknown_aadsts_code_points_to_the_lookup() -> None:
    """Given an AADSTS code that is not in the catalog, then the description verbatim and the lookup address."""
    explanation = explain("AADSTS99999: Something new went wrong.")

    assert not explanation.known and explanation.source is Source.AADSTS
    assert explanation.entry_id == "aadsts.unknown"
    assert "https://login.microsoftonline.com/error?code=99999" in explanation.fix
    assert "Something new went wrong." in explanation.matched


def test_msal_dict_without_codes_is_not_recognised_but_kept() -> None:
    """Given an MSAL error dict without AADSTS codes, then an unknown explanation keeps its text."""
    explanation = explain_aadsts({"error": "invalid_grant", "error_description": "Something odd"})

    assert not explanation.known and explanation.matched == "Something odd"


@pytest.mark.parametrize(
    "pasted",
    ["", "   \n\t ", "hello", "Python 2.7.18 on 10.0.0.1", "\x00\x01\x02", "{}", "AADSTS", "abc-", "5.", "-1"],
)
def test_garbage_gives_an_unknown_explanation_saying_what_is_expected(pasted: str) -> None:
    """Given empty or meaningless text, then an unknown explanation that says what to paste."""
    explanation = explain(pasted)

    assert not explanation.known
    assert isinstance(explanation, Explanation)
    if explanation.source is Source.UNKNOWN:
        assert "AADSTS" in explanation.cause and "535" in explanation.cause


@pytest.mark.parametrize(
    "blob",
    [
        "A" * 1_000_000,
        "535 5.7.139 Authentication unsuccessful\n" * 30_000,
        "5." * 500_000,
        "".join(random.Random(7).choice(string.printable) for _ in range(1_000_000)),
        "AADSTS7000215 " * 80_000,
        "534-" * 250_000,
    ],
    ids=["letters", "many-replies", "dots", "random", "many-aadsts", "dashes"],
)
def test_huge_input_returns_quickly_without_raising(blob: str) -> None:
    """Given about 1 MB of text, when explained, then an answer comes back in well under two seconds."""
    started = time.process_time()  # CPU time: the test machine is shared

    single = explain(blob)
    many = explain_all(blob)

    assert time.process_time() - started < 2.0
    assert isinstance(single, Explanation) and many
    assert len(single.matched) <= 2_000


def test_non_text_input_never_raises() -> None:
    """Given values of the wrong type, then explanations rather than exceptions."""
    for value in (None, 535, b"535 5.7.3 Authentication unsuccessful", ["535"], {"error_codes": ["x"]}):
        assert isinstance(explain(value), Explanation)  # type: ignore[arg-type]
    assert isinstance(explain_reply(-1, ""), Explanation)
    assert isinstance(explain_aadsts(None), Explanation)  # type: ignore[arg-type]


def test_explain_all_finds_every_code_in_a_pasted_log() -> None:
    """Given a log excerpt with three failures and some chatter, then the three explanations, in order."""
    log = (
        "2026-05-13 10:00:01 INFO  relay: connecting to smtp.office365.com:587\n"
        "2026-05-13 10:00:01 DEBUG relay: 250-SIZE 157286400\n"
        "2026-05-13 10:00:02 ERROR relay: server said: 535 5.7.139 Authentication unsuccessful, "
        "SmtpClientAuthentication is disabled for the Mailbox. Visit https://aka.ms/smtp_auth_disabled for more "
        f"information. {MS_TRAILER}\n"
        "2026-05-13 10:05:00 ERROR oauth: token request failed: {'error': 'invalid_client', 'error_description': "
        "'AADSTS7000222: The provided client secret keys for app 0000 are expired.\\r\\nTrace ID: 1', "
        "'error_codes': [7000222]}\n"
        "2026-05-13 10:06:00 ERROR gmail: (534, b'5.7.9 Application-specific password required. For more "
        "information, go to\\n5.7.9  https://support.google.com/mail/?p=InvalidSecondFactor a1sm - gsmtp')\n"
        "2026-05-13 10:07:00 INFO  done, retrying in 60 s\n"
    )

    found = explain_all(log)

    assert found[0].entry_id == "m365.smtp_auth_disabled_mailbox"  # most decisive first, then the others
    assert {e.entry_id for e in found} == {
        "m365.smtp_auth_disabled_mailbox",
        "aadsts.7000222",
        "gmail.app_password_required",
    }
    assert [e.line for e in found if e.entry_id == "aadsts.7000222"] == [4]
    assert next(e for e in found if e.entry_id == "aadsts.7000222").matched.startswith("AADSTS7000222: The provided client secret keys for app 0000 are expired.")
    assert explain(log).entry_id == "m365.smtp_auth_disabled_mailbox"


def test_explain_all_keeps_a_multi_line_transcript_reply_whole() -> None:
    """Given an SMTP transcript, then the folded failure is one explanation and the 250 lines are not findings."""
    transcript = (
        "<< 220 smtp.gmail.com ESMTP a1sm123 - gsmtp\n"
        ">> EHLO relay.example.org\n"
        "<< 250-smtp.gmail.com at your service, [203.0.113.5]\n"
        "<< 250-AUTH LOGIN PLAIN XOAUTH2 PLAIN-CLIENTTOKEN OAUTHBEARER XOAUTH\n"
        "<< 250 SMTPUTF8\n"
        ">> AUTH LOGIN ********\n"
        "<< 535-5.7.8 Username and Password not accepted. For more information, go to\n"
        "<< 535 5.7.8  https://support.google.com/mail/?p=BadCredentials a1sm - gsmtp\n"
    )

    found = explain_all(transcript)

    assert [e.entry_id for e in found] == ["gmail.bad_credentials"]
    assert "?p=BadCredentials" in found[0].matched


def test_explain_all_of_nothing_recognisable_returns_one_unknown() -> None:
    """Given text without any code, then exactly one unknown explanation."""
    assert [e.entry_id for e in explain_all("the printer says no")] == ["unknown"]


def test_temporary_flag_follows_the_class_unless_the_catalog_knows_better() -> None:
    """Given 4xx and 5xx replies, then 4xx is temporary, except TLS 1.0/1.1 which retrying cannot fix."""
    assert explain("454 4.7.0 Too many login attempts, please try again later.").temporary
    assert explain("421 4.3.2 Service not available").temporary
    assert not explain("421 4.7.66 TLS 1.0 and 1.1 are not supported.").temporary
    assert not explain("550 5.2.252 Sender throttled due to continuous send as denied errors.").temporary
    assert not explain("AADSTS7000215").temporary


def test_to_dict_is_json_ready_and_render_text_shows_reply_cause_fix_and_guide() -> None:
    """Given explanations, then to_dict serialises to JSON and render_text names the parts for a person."""
    explanations = explain_all(
        "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant.\nAADSTS7000215"
    )

    data = json.loads(json.dumps([to_dict(e) for e in explanations]))
    text = render_text(explanations)

    assert data[0]["source"] == "smtp" and data[0]["entry_id"] == "m365.smtp_auth_disabled_tenant"
    assert set(data[0]) == {
        "source", "code", "enhanced_code", "title", "cause", "fix", "guide_section", "matched", "known",
        "temporary", "entry_id", "check", "negative", "client", "client_fix", "commands", "sources", "line",
    }  # fmt: skip
    assert data[0]["commands"][0] == {"language": "powershell", "title": "",
                                      "code": "Set-TransportConfig -SmtpClientAuthenticationDisabled $false"}
    assert data[1]["code"] == "AADSTS7000215"
    for part in ("SMTP AUTH disabled for the tenant", "Reply:", "Cause:", "Fix:", "Guide:", "Set-TransportConfig"):
        assert part in text
    assert render_text(explanations[1]).startswith("AADSTS7000215: ")
    assert render_text(()) == ""


def test_a_reply_quoted_by_postfix_is_shown_without_postfix_closing_parenthesis():
    # Given a Postfix log line wrapping the relay's reply in "(... said: ...)"
    line = ("Nov 30 05:00:01 mx postfix/smtp[123]: 1A2B3C: to=<a@example.org>, relay=smtp.office365.com[52.96.1.1]:587,"
            " status=deferred (SASL authentication failed; server smtp.office365.com[52.96.1.1] said: 535 5.7.139 "
            "Authentication unsuccessful, SmtpClientAuthentication is disabled for the Mailbox.)")
    # When it is explained
    found = explain_all(line)[0]
    # Then the reply is shown as the server sent it, and Postfix is named as the client
    assert found.entry_id == "m365.smtp_auth_disabled_mailbox"
    assert found.matched.endswith("disabled for the Mailbox.")
    assert found.client == "Postfix"
