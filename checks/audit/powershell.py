"""The read-only Exchange Online PowerShell script for SMTP AUTH, and a parser of its pasted Format-List output."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

SECTION_MARK = "== "
TRANSPORT, MAILBOX, POLICIES = "Get-TransportConfig", "Get-CASMailbox", "Get-AuthenticationPolicy"
_PROPERTY = re.compile(r"^([A-Za-z][A-Za-z0-9]*)\s*:(?:\s(.*))?$")
_PROMPT = re.compile(r"^(PS\s.*>|>)\s*")
MAX_INPUT = 200_000  # characters of pasted output we read


def quoted(text: str) -> str:
    """`text` as a PowerShell single-quoted string."""
    return "'" + text.replace("'", "''") + "'"


def script_for(sender: str) -> str:
    """A read-only script: three Get- cmdlets with Format-List of what decides SMTP AUTH for `sender`."""
    return "\n".join((
        "# Read-only: shows the settings that decide SMTP AUTH. Nothing is changed.",
        "Connect-ExchangeOnline -ShowBanner:$false",
        f"'{SECTION_MARK}{TRANSPORT}'; Get-TransportConfig | Format-List SmtpClientAuthenticationDisabled",
        f"'{SECTION_MARK}{MAILBOX}'; Get-CASMailbox -Identity {quoted(sender)} | Format-List "
        "PrimarySmtpAddress,SmtpClientAuthenticationDisabled",
        f"'{SECTION_MARK}{POLICIES}'; Get-AuthenticationPolicy | Format-List Name,AllowBasicAuthSmtp",
    ))


@dataclass(frozen=True)
class PastedSettings:
    """What the pasted output says; None = not in the paste, '' = shown empty (inherits)."""

    tenant_disabled: str | None = None
    mailbox: str | None = None
    mailbox_disabled: str | None = None
    policies: tuple[tuple[str, str], ...] = ()  # (Name, AllowBasicAuthSmtp)
    policies_listed: bool = False  # the Get-AuthenticationPolicy section was in the paste (maybe empty)
    sections: tuple[str, ...] = field(default=())


def _normalise(text: str) -> list[str]:
    """Lines without trailing spaces; a paste with a blank line after every line (console copy) is un-doubled."""
    lines = [line.rstrip() for line in text[:MAX_INPUT].replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    filled = [i for i, line in enumerate(lines) if line]
    doubled = len(filled) > 2 and all(b - a >= 2 for a, b in zip(filled, filled[1:], strict=False))
    if not doubled:
        return lines
    out: list[str] = []
    run = 0
    for line in lines + ["x"]:
        if not line:
            run += 1
            continue
        out.extend([""] * (1 if run >= 2 else 0))
        out.append(line)
        run = 0
    return out[:-1]


def _section_of(line: str) -> str | None:
    for name in (TRANSPORT, MAILBOX, POLICIES):
        if name.lower() in line.lower():
            return name
    return None


def _records(lines: list[str]) -> tuple[list[tuple[str | None, dict[str, str]]], set[str]]:
    """(section, properties) for each Format-List object, and the sections seen."""
    records: list[tuple[str | None, dict[str, str]]] = []
    seen: set[str] = set()
    section: str | None = None
    current: dict[str, str] = {}
    last: str | None = None

    def close() -> None:
        nonlocal current, last
        if current:
            records.append((section, current))
        current, last = {}, None

    for line in lines:
        stripped = line.strip()
        if not stripped:
            close()
            continue
        if line[0].isspace() and last is not None:
            previous = current[last]
            joiner = " " if (" " in previous or " " in stripped) else ""
            current[last] = (previous + joiner + stripped) if previous else stripped
            continue
        match = _PROPERTY.match(line)
        if match and not stripped.startswith(SECTION_MARK):
            key, value = match.group(1), (match.group(2) or "").strip()
            if key in current:
                close()
            current[key], last = value, key
            continue
        close()
        named = _section_of(stripped) if (stripped.startswith(SECTION_MARK) or _PROMPT.match(stripped)) else None
        if named is not None:
            section = named
            seen.add(named)
    close()
    return records, seen


def parse_output(text: str) -> PastedSettings:
    """Read pasted Format-List output of the script (or of the cmdlets run by hand) into settings."""
    records, seen = _records(_normalise(text))
    tenant = mailbox = mailbox_disabled = None
    policies: list[tuple[str, str]] = []
    for section, props in records:
        if section == POLICIES or "AllowBasicAuthSmtp" in props:
            policies.append((props.get("Name", "(unnamed)"), props.get("AllowBasicAuthSmtp", "")))
        elif section == MAILBOX or "PrimarySmtpAddress" in props:
            mailbox = props.get("PrimarySmtpAddress", mailbox or "")
            mailbox_disabled = props.get("SmtpClientAuthenticationDisabled", mailbox_disabled)
        elif "SmtpClientAuthenticationDisabled" in props:
            if section == TRANSPORT or tenant is None:
                tenant = props["SmtpClientAuthenticationDisabled"]
            else:
                mailbox_disabled = props["SmtpClientAuthenticationDisabled"]
    return PastedSettings(tenant, mailbox, mailbox_disabled, tuple(policies), POLICIES in seen or bool(policies),
                          tuple(sorted(seen)))


def flag(value: str | None) -> bool | None:
    """'True' -> True, 'False' -> False, '' or None -> None (not set / not pasted)."""
    text = (value or "").strip().lower().lstrip("$")
    return True if text == "true" else False if text == "false" else None
