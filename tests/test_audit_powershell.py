"""The audit's PowerShell step: a read-only script, and its pasted Format-List output read into pass/fail."""

from __future__ import annotations

import pytest

from checks.audit.powershell import parse_output, script_for
from checks.audit.request import AuditInput
from checks.audit.smtp_auth_checks import check_auth_policy, check_smtp_auth
from checks.model import Status

SENDER = "alice@contoso.com"
REQUEST = AuditInput(client_id="c", sender=SENDER)

# What Exchange Online PowerShell prints when the cmdlets are typed at the prompt (a console 100 columns wide).
TYPED_AT_THE_PROMPT = """\
PS C:\\Users\\admin> Get-TransportConfig | Format-List SmtpClientAuthenticationDisabled

SmtpClientAuthenticationDisabled : True



PS C:\\Users\\admin> Get-CASMailbox -Identity alice@contoso.com | Format-List PrimarySmtpAddress,SmtpClientAuthenticationDisabled

PrimarySmtpAddress               : alice@contoso.com
SmtpClientAuthenticationDisabled :



PS C:\\Users\\admin> Get-AuthenticationPolicy | Format-List Name,AllowBasicAuthSmtp

Name               : Block Basic Auth for everyone except the two scanners on the second floor of the
                     head office
AllowBasicAuthSmtp : False

Name               : Scanners
AllowBasicAuthSmtp : True



"""

# The script's own output: its section lines, then Format-List blocks.
SCRIPT_OUTPUT = """\
== Get-TransportConfig

SmtpClientAuthenticationDisabled : False

== Get-CASMailbox

PrimarySmtpAddress               : alice@contoso.com
SmtpClientAuthenticationDisabled : True

== Get-AuthenticationPolicy
"""


def test_the_script_only_reads_and_names_the_sender():
    script = script_for("o'neil@contoso.com")
    verbs = {line.split(";")[-1].strip().split(" ")[0] for line in script.splitlines()[1:] if line.strip()}
    assert verbs == {"Connect-ExchangeOnline", "Get-TransportConfig", "Get-CASMailbox", "Get-AuthenticationPolicy"}
    assert "-Identity 'o''neil@contoso.com'" in script
    assert "Set-" not in script


def test_output_typed_at_the_prompt_with_a_wrapped_value():
    # Given the cmdlets typed by hand (prompt lines, three blank lines between commands, a wrapped policy name)
    pasted = parse_output(TYPED_AT_THE_PROMPT)
    # Then each value lands where it belongs, the wrapped name joined again
    assert pasted.tenant_disabled == "True"
    assert pasted.mailbox == SENDER and pasted.mailbox_disabled == ""
    assert pasted.policies == (
        ("Block Basic Auth for everyone except the two scanners on the second floor of the head office", "False"),
        ("Scanners", "True"))


@pytest.mark.parametrize("newline", ["\r\n", "\r\n\r\n", "\n\n"])
def test_output_pasted_from_a_console_with_extra_blank_lines(newline):
    # Given a console copy that turned each line break into CRLF, or doubled every line break
    pasted = parse_output(TYPED_AT_THE_PROMPT.replace("\n", newline))
    # Then it reads the same as the clean output
    assert pasted == parse_output(TYPED_AT_THE_PROMPT)


def test_script_output_with_its_section_lines_and_no_policy():
    pasted = parse_output(SCRIPT_OUTPUT)
    assert (pasted.tenant_disabled, pasted.mailbox_disabled) == ("False", "True")
    assert pasted.policies == () and pasted.policies_listed


def test_a_mailbox_block_without_its_address_still_counts_as_the_mailbox_in_script_output():
    text = SCRIPT_OUTPUT.replace("PrimarySmtpAddress               : alice@contoso.com\n", "")
    pasted = parse_output(text)
    assert (pasted.tenant_disabled, pasted.mailbox_disabled) == ("False", "True")


@pytest.mark.parametrize(("tenant", "mailbox", "status", "words"), [
    ("True", "", Status.FAIL, "disabled for the organisation and the mailbox follows it"),
    ("False", "True", Status.FAIL, "disabled for the mailbox"),
    ("True", "False", Status.PASS, "enabled for the mailbox"),
    ("False", "", Status.PASS, "enabled for the organisation"),
])
def test_smtp_auth_is_judged_mailbox_first(tenant, mailbox, status, words):
    text = (f"== Get-TransportConfig\nSmtpClientAuthenticationDisabled : {tenant}\n\n== Get-CASMailbox\n"
            f"PrimarySmtpAddress               : {SENDER}\nSmtpClientAuthenticationDisabled : {mailbox}\n")
    finding = check_smtp_auth(parse_output(text), REQUEST)
    assert finding.status is status
    assert words in finding.summary
    if status is Status.FAIL:
        assert f"Set-CASMailbox -Identity '{SENDER}' -SmtpClientAuthenticationDisabled $false" in \
            [c.code for c in finding.commands]


def test_nothing_pasted_hands_out_the_script():
    finding = check_smtp_auth(None, REQUEST)
    assert finding.status is Status.SKIP
    assert finding.commands[0].code == script_for(SENDER)


def test_output_of_another_mailbox_is_not_taken_for_the_sender():
    text = TYPED_AT_THE_PROMPT.replace("alice@contoso.com", "bob@contoso.com")
    finding = check_smtp_auth(parse_output(text), REQUEST)
    assert finding.status is Status.WARN and "bob@contoso.com" in finding.summary


def test_authentication_policies_matter_for_basic_auth_only():
    pasted = parse_output(TYPED_AT_THE_PROMPT)
    assert check_auth_policy(pasted, REQUEST).status is Status.PASS
    basic = AuditInput(client_id="c", sender=SENDER, relay_profile="m365-basic")
    finding = check_auth_policy(pasted, basic)
    assert finding.status is Status.WARN and "Block Basic Auth" in finding.summary


def test_unrelated_text_and_warnings_in_the_paste_are_ignored():
    text = "WARNING: Your session is about to expire.\n" + SCRIPT_OUTPUT + "\nPS C:\\> exit\n"
    pasted = parse_output(text)
    assert (pasted.tenant_disabled, pasted.mailbox_disabled) == ("False", "True")
