"""Real pastes from public threads: each is read to the right check and fix; provider tables; big logs; negatives."""

from __future__ import annotations

import time
import tomllib
from pathlib import Path

import pytest

from checks.knowledge.catalog import clients, entry, entry_ids, explain_aadsts, fill_text
from checks.knowledge.reader import explain, explain_all, read_paste
from checks.knowledge.tables import coverage, coverage_markdown, rows

PASTES = tomllib.loads((Path(__file__).parent / "corpus" / "pastes.toml").read_text(encoding="utf-8"))["paste"]
CREDENTIAL_FIXES = ("password", "credential", "smtp auth", "smtpclientauthentication", "set-casmailbox",
                    "set-transportconfig", "consent", "oauth", "client secret", "sasl_passwd", "login(")


def everything_said(explanation) -> str:
    """The fix as the user sees it: the portal/admin fix, the client's wording and every command."""
    return " ".join([explanation.fix, explanation.client_fix,
                     *(f"{c.title} {c.code}" for c in explanation.commands)]).lower()


@pytest.mark.parametrize("paste", PASTES, ids=[f"{i}-{p['entry']}" for i, p in enumerate(PASTES)])
def test_real_paste_is_read_to_its_check_and_fix(paste: dict) -> None:
    # Given a paste exactly as someone posted it in a public thread
    # When the decoder reads it
    found = explain_all(paste["text"])
    # Then the most decisive fragment names the right entry and the check that proves it
    first = found[0]
    assert (first.entry_id, first.check) == (paste["entry"], paste["check"]), paste["source"]
    # And the fix holds the setting or command that must appear, not an echo of the paste
    for words in paste["fix"]:
        assert words.lower() in everything_said(first), (words, paste["source"])


def test_corpus_is_large_varied_and_every_paste_has_a_public_source() -> None:
    # Given the corpus of real pastes
    # Then it holds at least 200, each with its public page, across many wrappers, negatives included
    assert len(PASTES) >= 200
    assert all(p["source"].startswith("https://") for p in PASTES)
    assert len({p["family"] for p in PASTES}) >= 20
    assert sum(1 for p in PASTES if p.get("negative")) >= 20
    assert len({p["text"] for p in PASTES}) == len(PASTES)


def test_the_wrapper_names_the_client_and_picks_its_wording() -> None:
    # Given the same kind of failure printed by five different clients
    cases = {
        "Postfix": ("Sep 28 13:03:50 relay postfix/smtp[17059]: 9BDCBA19EA: SASL authentication failed; server "
                    "smtp.office365.com[40.99.150.50] said: 535 5.7.3 Authentication unsuccessful",
                    "smtp_sasl_password_maps = hash:/etc/postfix/sasl_passwd"),
        "JavaMail / Jakarta Mail": ("javax.mail.AuthenticationFailedException: 535 5.7.3 Authentication unsuccessful",
                                    "mail.smtp.auth=true"),
        "nodemailer": ("Error: Invalid login: 535 5.7.3 Authentication unsuccessful\n  code: 'EAUTH',",
                       "auth: { user:"),
        ".NET System.Net.Mail": ("System.Net.Mail.SmtpException: The SMTP server requires a secure connection or the "
                                 "client was not authenticated. The server response was: 535 5.7.3 Authentication "
                                 "unsuccessful", "new NetworkCredential("),
        "Python smtplib": ("smtplib.SMTPAuthenticationError: (535, b'5.7.3 Authentication unsuccessful')",
                           "smtp.login("),
    }
    for client, (paste, setting) in cases.items():
        # When each is read
        first = explain_all(paste)[0]
        # Then the client is named and the fix speaks its settings, beside the portal fix
        assert first.entry_id == "m365.auth_unsuccessful" and first.client == client
        assert setting in everything_said(first).replace("\n", " ").lower() or setting.lower() in everything_said(first)
        assert "full microsoft 365 address" in first.fix.lower()


def test_known_values_are_filled_into_the_commands() -> None:
    # Given a tenant-wide SMTP AUTH refusal and the mailbox it was for
    found = explain_all("535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the "
                        "Tenant.", values={"mailbox": "alice@contoso.com"})
    # Then the PowerShell is ready to copy, with the mailbox filled in
    codes = [c.code for c in found[0].commands]
    assert "Set-TransportConfig -SmtpClientAuthenticationDisabled $false" in codes
    assert "Set-CASMailbox -Identity alice@contoso.com -SmtpClientAuthenticationDisabled $false" in codes
    assert all(str(c.language) == "powershell" for c in found[0].commands)


def test_aadsts_is_read_in_any_case_bare_or_url_encoded() -> None:
    # Given one Entra ID error written four ways
    for paste in ("aadsts7000215: Invalid client secret provided.", "7000215",
                  "https://app.example/cb?error=invalid_client&error_description=AADSTS7000215%3a+Invalid+client+secret",
                  '{"error": "invalid_client", "error_codes": [7000215]}'):
        # Then each is the same entry
        assert explain(paste).entry_id == "aadsts.7000215", paste


def test_wrong_secret_is_not_claimed_to_be_the_secret_id() -> None:
    # Given AADSTS7000215, where the reply does not say which mistake was made
    explanation = explain_aadsts("AADSTS7000215: Invalid client secret provided.")
    # Then the fix says what to paste, without asserting the user pasted the ID
    assert "you pasted" not in (explanation.fix + explanation.cause).lower()
    assert "Value" in explanation.fix


def test_a_reply_that_says_the_password_is_wrong_is_not_called_a_policy() -> None:
    explanation = explain("535 5.7.139 Authentication unsuccessful, the user credentials were incorrect.")
    assert explanation.entry_id == "m365.auth_credentials_incorrect"
    assert "policy" not in explanation.title.lower() and "password" in explanation.cause.lower()


NEGATIVE_IDS = [i for i in entry_ids() if (e := entry(i)) is not None and e.negative]


@pytest.mark.parametrize("entry_id", NEGATIVE_IDS)
def test_non_relay_problems_never_prescribe_credential_or_tenant_auth_fixes(entry_id: str) -> None:
    # Given a recipient or content problem (unknown recipient, full mailbox, DMARC, size, group restriction...)
    item = entry(entry_id)
    assert item is not None
    # Then neither its fix nor any client wording or command touches credentials, SMTP AUTH or consent
    said = " ".join([item.fix, *(c.code for c in item.commands)]).lower()
    assert not [word for word in CREDENTIAL_FIXES if word in said], entry_id
    assert not item.topic, entry_id  # no client fix (which could name credentials) is added


def test_negative_pastes_say_the_relay_is_fine() -> None:
    for paste in (p for p in PASTES if p.get("negative")):
        first = explain_all(paste["text"])[0]
        assert first.negative, paste["source"]
        assert not [word for word in CREDENTIAL_FIXES if word in everything_said(first)], paste["source"]


@pytest.mark.parametrize("row", [r for r in rows() if r.entry], ids=lambda r: f"{r.table}-{r.code}-{r.entry}")
def test_every_provider_table_row_is_explained_by_its_entry(row) -> None:
    # Given a row of Microsoft's or Google's public table, written as the provider words it
    explanation = explain_aadsts(row.code) if row.table == "entra" else explain(row.sample)
    # Then the entry the coverage table names explains it, with a public source
    assert explanation.known and explanation.entry_id == row.entry, row.sample
    assert row.source.startswith("https://")
    assert explanation.sources or row.table == "entra"


def test_coverage_doc_matches_the_tables() -> None:
    # Given the three provider tables
    doc = (Path(__file__).parents[1] / "docs" / "knowledge-coverage.md").read_text(encoding="utf-8")
    # Then the docs show the current coverage, and every row left out says why
    assert coverage_markdown() in doc
    for table in coverage():
        assert table.covered + len(table.omitted) == table.total
        assert all(r.omitted for r in table.omitted)
    assert {t.table: t.covered == t.total for t in coverage()} == {"exchange": True, "gmail": True, "entra": False}


def test_a_5_mb_log_with_the_decisive_line_at_the_end_is_read_in_under_a_second() -> None:
    # Given 5 MB of ordinary Postfix log with one SASL failure on the very last line
    filler = ("Nov 30 04:00:01 relay postfix/smtp[2231]: 4F1A2B3C4D: to=<user@example.org>, "
              "relay=smtp.office365.com[52.96.0.1]:587, delay=0.9, delays=0.1/0/0.3/0.5, dsn=2.0.0, "
              "status=sent (250 2.0.0 OK <20261130040001.4F1A2B3C4D@relay.example.org> [Hostname=AM0PR01MB1])\n")
    decisive = ("Nov 30 04:59:59 relay postfix/smtp[2240]: 9BDCBA19EA: SASL authentication failed; server "
                "smtp.office365.com[40.99.150.50] said: 535 5.7.3 Authentication unsuccessful [FR3P281CA0094]")
    log = filler * (5_000_000 // len(filler)) + decisive
    # When it is read
    started = time.process_time()
    reading = read_paste(log)
    spent = time.process_time() - started
    # Then the decisive line is found, first, with its line number, and the reading says what it read
    first = reading.explanations[0]
    assert first.entry_id == "m365.auth_unsuccessful" and first.line == reading.total_lines
    assert reading.client == "Postfix" and "smtp_sasl_auth_enable = yes" in everything_said(first)
    assert f"{reading.total_lines:,} lines (all of it)" in reading.summary()
    assert spent < 1.0, spent


def test_a_paste_bigger_than_the_reader_reads_is_read_from_its_end_and_says_so() -> None:
    log = ("x" * 99 + "\n") * 90_000 + "550 5.1.1 The email account that you tried to reach does not exist."
    reading = read_paste(log)
    assert reading.explanations[0].entry_id == "smtp.unknown_recipient"
    assert reading.read_chars < reading.total_chars and "the last" in reading.summary()


def test_client_wording_shows_known_values_and_never_a_raw_placeholder() -> None:
    # Given a JavaMail trace through a TLS-inspecting proxy that names the relay host
    paste = ("javax.mail.MessagingException: Could not convert socket to TLS;\n  nested exception is:\n"
             "\tjavax.net.ssl.SSLHandshakeException: PKIX path building failed; host smtp.office365.com, port 587")
    # When it is read
    first = explain_all(paste)[0]
    # Then the client's own wording carries the host from the paste
    assert first.client == "JavaMail / Jakarta Mail" and "mail.smtp.ssl.trust=smtp.office365.com" in first.client_fix
    # And no client's wording anywhere leaves a {placeholder} for the reader to fill
    for client in clients():
        for topic, fix in client.fixes.items():
            assert "{" not in fill_text(fix.text), (client.name, topic)


def test_exim_bounce_gets_exim_wording_for_a_relay_that_wants_sign_in() -> None:
    # Given an Exim bounce where the relay refused mail from an unauthenticated client
    paste = ("SMTP error from remote mail server after MAIL FROM:<app@contoso.com> SIZE=1834:\n"
             "    530 5.7.57 Client not authenticated to send mail. [AM0PR01CA0001.eurprd01.prod.exchangelabs.com]")
    # When it is read
    first = explain_all(paste)[0]
    # Then Exim is named and the fix speaks Exim's transport and authenticator options
    assert first.client == "Exim"
    assert "hosts_require_auth" in first.client_fix and "client_send" in first.client_fix
