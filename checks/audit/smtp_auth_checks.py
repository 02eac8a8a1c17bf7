"""Judge the pasted PowerShell output: SMTP AUTH for the tenant and the mailbox, and authentication policies."""

from __future__ import annotations

from checks.audit.powershell import PastedSettings, flag, quoted, script_for
from checks.audit.request import AuditInput
from checks.knowledge.guide import GuideSection
from checks.model import Command, CommandLanguage, Finding, Status

SECTION = GuideSection.M365_SMTP_AUTH
RUN_SCRIPT = "Run the audit's PowerShell script in Exchange Online PowerShell and paste its whole output."


def _script(request: AuditInput) -> tuple[Command, ...]:
    return (Command(CommandLanguage.POWERSHELL, script_for(request.sender),
                    "Read-only: run in Exchange Online PowerShell, then paste the output"),)


def _enable(request: AuditInput, *, tenant: bool) -> tuple[Command, ...]:
    mailbox = Command(CommandLanguage.POWERSHELL, f"Set-CASMailbox -Identity {quoted(request.sender)} "
                      "-SmtpClientAuthenticationDisabled $false", "Enable SMTP AUTH for this mailbox only")
    whole = Command(CommandLanguage.POWERSHELL, "Set-TransportConfig -SmtpClientAuthenticationDisabled $false",
                    "Or enable SMTP AUTH for the whole organisation")
    return (mailbox, whole) if tenant else (mailbox,)


def check_smtp_auth(pasted: PastedSettings | None, request: AuditInput) -> Finding:
    """audit.smtp_auth: the mailbox's SmtpClientAuthenticationDisabled wins; empty means the tenant's value applies."""
    if pasted is None or (pasted.tenant_disabled is None and pasted.mailbox_disabled is None):
        return Finding(Status.SKIP, "SMTP AUTH settings not read yet (Graph cannot show them).",
                       remediation=RUN_SCRIPT, guide_section=SECTION, commands=_script(request))
    tenant, mailbox = flag(pasted.tenant_disabled), flag(pasted.mailbox_disabled)
    facts = {"tenant_disabled": tenant, "mailbox_disabled": mailbox, "mailbox": pasted.mailbox}
    enable = (f"Set-CASMailbox -Identity {quoted(request.sender)} -SmtpClientAuthenticationDisabled $false (this mailbox "
              "only), or Set-TransportConfig -SmtpClientAuthenticationDisabled $false (the whole organisation).")
    shown = (f"Get-TransportConfig: SmtpClientAuthenticationDisabled = {pasted.tenant_disabled or '(not pasted)'}\n"
             f"Get-CASMailbox {pasted.mailbox or ''}: SmtpClientAuthenticationDisabled = "
             f"{pasted.mailbox_disabled if pasted.mailbox_disabled else '(empty: follows the organisation)'}")
    other = pasted.mailbox and pasted.mailbox.lower() != request.sender.lower()
    if other:
        return Finding(Status.WARN, f"The pasted mailbox is {pasted.mailbox}, not the sender {request.sender}.",
                       details=shown, remediation=RUN_SCRIPT, guide_section=SECTION, facts=facts,
                       commands=_script(request))
    if mailbox is True:
        return Finding(Status.FAIL, "SMTP AUTH is disabled for the mailbox (SmtpClientAuthenticationDisabled True).",
                       details=shown, remediation=enable.split(", or")[0] + ".", guide_section=SECTION, facts=facts,
                       commands=_enable(request, tenant=False))
    if mailbox is False:
        return Finding(Status.PASS, "SMTP AUTH is enabled for the mailbox (its own setting wins over the "
                       "organisation's).", details=shown, facts=facts)
    if tenant is None:
        return Finding(Status.WARN, "The mailbox follows the organisation's setting, which is not in the paste.",
                       details=shown, remediation=RUN_SCRIPT, guide_section=SECTION, facts=facts,
                       commands=_script(request))
    if tenant:
        return Finding(Status.FAIL, "SMTP AUTH is disabled for the organisation and the mailbox follows it.",
                       details=shown, remediation=enable, guide_section=SECTION, facts=facts,
                       commands=_enable(request, tenant=True))
    return Finding(Status.PASS, "SMTP AUTH is enabled for the organisation and the mailbox follows it.",
                   details=shown, facts=facts)


def check_auth_policy(pasted: PastedSettings | None, request: AuditInput) -> Finding:
    """audit.auth_policy: authentication policies that turn off Basic auth for SMTP (OAuth2 is not affected)."""
    if pasted is None or not pasted.policies_listed:
        return Finding(Status.SKIP, "Authentication policies not read yet.", remediation=RUN_SCRIPT,
                       guide_section=SECTION, commands=_script(request))
    blocking = [name for name, allowed in pasted.policies if flag(allowed) is False]
    facts = {"policies": [{"name": n, "AllowBasicAuthSmtp": v} for n, v in pasted.policies]}
    shown = "\n".join(f"{n}: AllowBasicAuthSmtp = {v or '(empty)'}" for n, v in pasted.policies) \
        or "No authentication policy exists."
    if not blocking:
        return Finding(Status.PASS, "No authentication policy turns off SMTP AUTH.", details=shown, facts=facts)
    names = ", ".join(repr(n) for n in blocking)
    if request.relay_profile == "m365-basic":
        return Finding(Status.WARN, f"Authentication policies {names} turn off Basic-auth SMTP for the users they are "
                       "assigned to (or for everyone, if one is the organisation's default).", details=shown,
                       remediation="Get-User -Identity <sender> | Format-List AuthenticationPolicy shows the user's "
                                   "policy; move to OAuth2, or assign a policy with -AllowBasicAuthSmtp.",
                       guide_section=SECTION, facts=facts)
    return Finding(Status.PASS, f"Authentication policies {names} turn off Basic-auth SMTP only; OAuth2 is not "
                   "affected.", details=shown, facts=facts)
