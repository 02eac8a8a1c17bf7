"""Catalog of known SMTP replies and Entra ID (AADSTS) errors: what happened, why, and the fix."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from enum import Enum
from functools import lru_cache
from pathlib import Path
from typing import Any

from checks.knowledge.aadsts_codes import codes_in
from checks.knowledge.guide import GuideSection
from checks.knowledge.tables import aadsts_meaning
from checks.model import Command, CommandLanguage

DATA_FILE = Path(__file__).with_name("catalog.toml")
MAX_INPUT_CHARS = 200_000  # one reply (explain_reply, explain_aadsts); whole pastes go through checks.knowledge.reader
MAX_MATCHED_CHARS = 2_000  # the reply text kept in an explanation
MAX_RESULTS = 50  # explain_all stops after this many distinct explanations
MAX_LINES = 5_000  # the class-guidance fallback reads at most this many lines
FALLBACK_CHARS = 20_000  # ... and this many characters
SCORE_PATTERN, SCORE_ENHANCED, SCORE_CODE = 4, 2, 1

PASTE_HINT = (
    "Expected a server reply such as '535 5.7.139 Authentication unsuccessful, ...' (one or more lines), an "
    "enhanced status code such as 5.7.139, or an Entra ID error such as 'AADSTS7000215: ...', MSAL's error "
    "dict, or a bare code (535, 7000215)."
)


class Source(str, Enum):  # noqa: UP042 - same shape as the engine's other enums
    SMTP = "smtp"
    AADSTS = "aadsts"
    NETWORK = "network"
    UNKNOWN = "unknown"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Explanation:
    """One decoded reply or error: cause, fix and guide section, or class guidance when not in the catalog."""

    source: Source
    code: str
    enhanced_code: str
    title: str
    cause: str
    fix: str
    guide_section: str
    matched: str
    known: bool
    temporary: bool
    entry_id: str
    check: str = ""
    negative: bool = False
    client: str = ""
    client_fix: str = ""
    commands: tuple[Command, ...] = ()
    sources: tuple[str, ...] = ()
    line: int | None = None


@dataclass(frozen=True)
class CommandTemplate:
    """A copy-ready command with {mailbox} {tenant} {host} {port} {username} {client_id} still to fill in."""

    language: CommandLanguage
    code: str
    title: str = ""


@dataclass(frozen=True)
class _Entry:
    id: str
    source: Source
    title: str
    cause: str
    fix: str
    section: str
    codes: tuple[int, ...] = ()
    enhanced: tuple[str, ...] = ()
    patterns: tuple[re.Pattern[str], ...] = ()
    needs: str = "code"
    temporary: bool | None = None
    aadsts: int | None = None
    check: str = ""
    negative: bool = False
    topic: str = ""
    commands: tuple[CommandTemplate, ...] = ()
    sources: tuple[str, ...] = ()
    standalone: bool = False


@dataclass(frozen=True)
class ClientFix:
    """How one client (Postfix, JavaMail, nodemailer...) spells a fix topic: its own settings and commands."""

    text: str
    commands: tuple[CommandTemplate, ...] = ()


@dataclass(frozen=True)
class Client:
    """A mail client or MTA recognisable from the wrapper it prints around an error."""

    id: str
    name: str
    patterns: tuple[re.Pattern[str], ...]
    fixes: Mapping[str, ClientFix]


@dataclass(frozen=True)
class _Catalog:
    smtp: tuple[_Entry, ...]
    aadsts: dict[int, _Entry]
    net: tuple[_Entry, ...] = ()
    clients: tuple[Client, ...] = ()
    groups: dict[int, _Entry] | None = None


# ------------------------------------------------------------------------------------------------ loading the data

_TEXT_FIELDS = ("title", "cause", "fix", "section", "append", "temporary", "check", "topic", "commands", "sources",
                "negative")
_FILLED = re.compile(r"\{(mailbox|tenant|host|port|username|client_id)\}")


def _templates(raw: Iterable[Mapping[str, Any]]) -> tuple[CommandTemplate, ...]:
    return tuple(CommandTemplate(CommandLanguage(c["lang"]), c["code"], c.get("title", "")) for c in raw)


def fill(template: CommandTemplate, values: Mapping[str, str] | None = None) -> Command:
    """The command with the known values filled in; unknown ones shown as <mailbox>, <tenant>..."""
    return Command(template.language, fill_text(template.code, values), fill_text(template.title, values))


def fill_text(text: str, values: Mapping[str, str] | None = None) -> str:
    """Text with {mailbox}, {host}... replaced by the known values; unknown ones shown as <mailbox>, <host>..."""
    values = values or {}
    return _FILLED.sub(lambda m: str(values.get(m[1]) or f"<{m[1]}>"), text)
_NEEDS = ("pattern", "enhanced", "code", "any")


def _build_entry(raw: dict[str, Any], source: Source, snippets: Mapping[str, str]) -> _Entry:
    """One validated catalog entry from its TOML table (with `like` already merged)."""
    section = raw.get("section", "")
    section_value = GuideSection[section].value if section else ""
    fix = " ".join([raw["fix"], *(snippets[name] for name in raw.get("append", ()))])
    patterns = tuple(re.compile(p, re.IGNORECASE) for p in raw.get("patterns", ()))
    enhanced = tuple(raw.get("enhanced", ()))
    default_needs = "pattern" if patterns else "enhanced" if enhanced else "code"
    needs = raw.get("needs", default_needs)
    if needs not in _NEEDS:
        raise ValueError(f"{raw['id']}: needs must be one of {_NEEDS}")
    return _Entry(
        id=raw["id"],
        source=source,
        title=raw["title"],
        cause=raw["cause"],
        fix=fix,
        section=section_value,
        codes=tuple(int(c) for c in raw.get("codes", ())),
        enhanced=enhanced,
        patterns=patterns,
        needs=needs,
        temporary=raw.get("temporary"),
        aadsts=raw.get("code") if source is Source.AADSTS else None,
        check=raw.get("check", ""),
        negative=bool(raw.get("negative", False)),
        topic=raw.get("topic", ""),
        commands=_templates(raw.get("commands", ())),
        sources=tuple(raw.get("sources", ())),
        standalone=bool(raw.get("standalone", False)),
    )


def _clients(data: Mapping[str, Any]) -> tuple[Client, ...]:
    return tuple(
        Client(id=key, name=raw["name"], patterns=tuple(re.compile(p) for p in raw["patterns"]),
               fixes={topic: ClientFix(fix["text"], _templates(fix.get("commands", ())))
                      for topic, fix in raw.get("fix", {}).items()})
        for key, raw in data.get("client", {}).items())


@lru_cache(maxsize=1)
def _catalog() -> _Catalog:
    """The catalog, read once from the data file next to this module."""
    import tomllib  # lazy: read once, on the first explanation (a passing run never reads the catalog)

    data = tomllib.loads(DATA_FILE.read_text(encoding="utf-8"))
    snippets = data.get("snippets", {})
    by_id: dict[str, dict[str, Any]] = {}
    smtp: list[_Entry] = []
    net: list[_Entry] = []
    aadsts: dict[int, _Entry] = {}
    for kind, source in (("smtp", Source.SMTP), ("aadsts", Source.AADSTS), ("net", Source.NETWORK)):
        for raw in data.get(kind, ()):
            raw = dict(raw)
            if source is Source.AADSTS:
                raw["id"] = f"aadsts.{raw['code']}"
            if raw["id"] in by_id:
                raise ValueError(f"duplicate catalog id {raw['id']}")
            if "like" in raw:
                like = raw.pop("like")
                base = by_id[like if isinstance(like, str) and "." in like else f"aadsts.{like}"]
                raw = {**{k: base[k] for k in _TEXT_FIELDS if k in base}, **raw}
            by_id[raw["id"]] = raw
            entry = _build_entry(raw, source, snippets)
            if source is Source.AADSTS:
                aadsts[int(raw["code"])] = entry
            else:
                (net if source is Source.NETWORK else smtp).append(entry)
    groups: dict[int, _Entry] = {}
    for raw in data.get("aadsts_group", ()):
        entry = _build_entry({**raw, "id": f"aadsts.group.{raw['id']}"}, Source.AADSTS, snippets)
        for code in raw["codes"]:
            if code in aadsts or code in groups:
                raise ValueError(f"AADSTS{code} is in the catalog twice")
            groups[int(code)] = entry
    return _Catalog(smtp=tuple(smtp), aadsts=aadsts, net=tuple(net), clients=_clients(data), groups=groups)


def clients() -> tuple[Client, ...]:
    """Every client the catalog can recognise from its wrapper, in data order."""
    return _catalog().clients


def net_entries() -> tuple[_Entry, ...]:
    """The network, TLS and library errors that carry no SMTP code."""
    return _catalog().net


def smtp_entries() -> tuple[_Entry, ...]:
    """The SMTP reply entries, most specific first."""
    return _catalog().smtp


def aadsts_known(number: int) -> bool:
    """Whether the catalog explains this AADSTS code (its own entry or a group)."""
    catalog = _catalog()
    return number in catalog.aadsts or number in (catalog.groups or {})


def entry_ids() -> tuple[str, ...]:
    """Every catalog entry id, SMTP entries in data order then AADSTS entries."""
    catalog = _catalog()
    return (tuple(e.id for e in catalog.smtp) + tuple(e.id for e in catalog.aadsts.values())
            + tuple(e.id for e in catalog.net))


def entry(entry_id: str) -> _Entry | None:
    """The catalog entry with this id (SMTP, network or AADSTS), or None."""
    catalog = _catalog()
    if entry_id.startswith("aadsts."):
        number = entry_id.removeprefix("aadsts.")
        if not number.isdigit():
            return None
        return catalog.aadsts.get(int(number)) or (catalog.groups or {}).get(int(number))
    return next((e for e in (*catalog.smtp, *catalog.net) if e.id == entry_id), None)


# ------------------------------------------------------------------------------------------------ normalising

_ENH = r"[245]\.\d{1,3}\.\d{1,3}(?!\d)(?!\.\d)"
_PREFIX = r"(?:(?:<+|>+|\*+|[SC]:|reply:)\s*)?(?:b?['\"])?"
_REPLY_LINE = re.compile(rf"^\s*{_PREFIX}(?P<code>[2-5]\d\d)(?P<sep>[ -]|$)\s*(?:(?P<enh>{_ENH})\s*)?(?P<rest>.*)$")
_ENH_LINE = re.compile(rf"^\s*(?P<enh>{_ENH})\s*(?P<rest>.*)$")
_ENH_ANYWHERE = re.compile(rf"(?<![\d.])(?P<enh>{_ENH})")
_CODE_ENH_ANYWHERE = re.compile(rf"(?<![\d.])(?P<code>[2-5]\d\d)[ -](?P<enh>{_ENH})")
_TUPLE = re.compile(r"\(\s*(?P<code>[2-5]\d\d)\s*,\s*b?['\"](?P<rest>.*)")
_DESCRIPTION_END = re.compile(r"['\"]\s*[,}]")  # end of error_description inside a pasted dict
_SPACES = re.compile(r"\s+")
_ESCAPED_NEWLINE = re.compile(r"\\r\\n|\\n|\\r")


def _one_line(text: str) -> str:
    return _SPACES.sub(" ", text).strip()


def _clip(text: str, limit: int = MAX_MATCHED_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _tidy(rest: str) -> str:
    """A reply line's text without the quoting a Python repr or smtplib debug output wraps it in."""
    rest = rest.rstrip()
    for tail in ("')", '")', "'", '"'):
        if rest.endswith(tail):
            return rest[: -len(tail)]
    if rest.endswith(")") and rest.count(")") > rest.count("("):  # Postfix's "(... said: 535 ...)"
        return rest[:-1]
    return rest


def _unescape(text: str) -> str:
    return _ESCAPED_NEWLINE.sub("\n", text)


def _parse(lines: list[str], code_hint: int | None = None) -> tuple[int | None, str, str]:
    """(code, enhanced code, one-line text) of one reply given as its lines; continuation prefixes dropped."""
    code, enh, parts = code_hint, "", []
    for index, line in enumerate(lines):
        m = _REPLY_LINE.match(line)
        if m and (code is None or int(m["code"]) == code or index == 0):
            code = code if code is not None and index > 0 else int(m["code"])
            enh = enh or m["enh"] or ""
            if m["enh"] and m["enh"] != enh:
                parts.append(m["enh"])
            parts.append(_tidy(m["rest"]))
            continue
        t = _TUPLE.search(line) if index == 0 else None
        if t:
            code = int(t["code"])
            line = t["rest"]
        m = _ENH_LINE.match(line)
        if m and (not enh or m["enh"] == enh):
            enh = m["enh"]
            parts.append(_tidy(m["rest"]))
        else:
            parts.append(_tidy(line))
    text = _one_line(" ".join(parts))
    if not enh:
        m = _ENH_ANYWHERE.search(text)
        if m:
            enh = m["enh"]
    return code, enh, text


def normalise_reply(text: str) -> tuple[int | None, str, str]:
    """(basic code or None, enhanced code or "", one-line text without the codes) of one pasted reply."""
    if not isinstance(text, str) or not text.strip():
        return None, "", ""
    text = _unescape(text[:MAX_INPUT_CHARS])
    lines = [line for line in text.splitlines() if line.strip()]
    if lines and not _REPLY_LINE.match(lines[0]) and not _TUPLE.search(lines[0]):
        m = _CODE_ENH_ANYWHERE.search(text)
        if m:  # "Remote server returned '550 5.1.1 ...'": the reply starts inside the line
            return _parse([text[m.start() :].splitlines()[0]])
    return _parse(lines)


def _display(code: int | None, enh: str, text: str) -> str:
    return _clip(" ".join(part for part in (str(code) if code is not None else "", enh, text) if part))


# ------------------------------------------------------------------------------------------------ SMTP matching


def enhanced_matches(enh: str, listed: Iterable[str]) -> bool:
    """Whether an enhanced code is one of `listed`, which may hold ranges such as 4.7.500-699."""
    for item in listed:
        if enh == item:
            return True
        if "-" in item:
            head, _, span = item.rpartition(".")
            low, _, high = span.partition("-")
            enh_head, _, last = enh.rpartition(".")
            if enh_head == head and last.isdigit() and int(low) <= int(last) <= int(high):
                return True
    return False


def _score(entry: _Entry, code: int | None, enh: str, text: str) -> int | None:
    """How well an entry fits a reply, or None when it does not apply."""
    if not _fits_codes(entry, code, enh):
        return None
    hit_pattern = any(p.search(text) for p in entry.patterns)
    hit_enh = bool(enh) and enhanced_matches(enh, entry.enhanced)
    hit_code = code is not None and code in entry.codes
    needed = {
        "pattern": hit_pattern,
        "enhanced": hit_enh,
        "code": hit_code,
        "any": hit_pattern or hit_enh,
    }[entry.needs]
    if not needed:
        return None
    return SCORE_PATTERN * hit_pattern + SCORE_ENHANCED * hit_enh + SCORE_CODE * hit_code


def _fits_codes(entry: _Entry, code: int | None, enh: str) -> bool:
    """Whether the reply's codes (when it has any) are among the entry's."""
    return not ((entry.codes and code is not None and code not in entry.codes)
                or (entry.enhanced and enh and not enhanced_matches(enh, entry.enhanced)))


def _best_entry(code: int | None, enh: str, text: str, *, standalone: bool = False) -> _Entry | None:
    best, best_score = None, 0
    for entry in _catalog().smtp:
        if standalone and not entry.standalone:
            continue
        score = _score(entry, code, enh, text)
        if standalone and score is None and _fits_codes(entry, code, enh) and any(p.search(text) for p in entry.patterns):
            score = SCORE_PATTERN  # its words alone identify it, even when the codes were lost from the paste
        if score is not None and score > best_score:
            best, best_score = entry, score
    return best


def _is_temporary(code: int | None, enh: str) -> bool:
    return (code is not None and 400 <= code < 500) or enh.startswith("4.")


def _from_entry(entry: _Entry, code: int | None, enh: str, matched: str) -> Explanation:
    code = code if code is not None else (entry.codes[0] if entry.codes else None)
    enh = enh or (entry.enhanced[0] if entry.enhanced and "-" not in entry.enhanced[0] else "")
    temporary = entry.temporary if entry.temporary is not None else _is_temporary(code, enh)
    shown_code = f"AADSTS{entry.aadsts}" if entry.aadsts is not None else (str(code) if code is not None else "")
    return Explanation(
        source=entry.source,
        code=shown_code,
        enhanced_code=enh,
        title=entry.title,
        cause=entry.cause,
        fix=entry.fix,
        guide_section=entry.section,
        matched=matched,
        known=True,
        temporary=temporary,
        entry_id=entry.id,
        check=entry.check,
        negative=entry.negative,
        commands=tuple(fill(c) for c in entry.commands),
        sources=entry.sources,
    )


def commands_for(entry_id: str, values: Mapping[str, str] | None = None) -> tuple[Command, ...]:
    """The copy-ready commands of a catalog entry with the known values (mailbox, host...) filled in."""
    found = entry(entry_id)
    return tuple(fill(c, values) for c in found.commands) if found is not None else ()


def from_net_entry(entry: _Entry, matched: str) -> Explanation:
    """The explanation of a network, TLS or library error (no SMTP code), keeping the words that matched."""
    return replace(_from_entry(entry, None, "", matched), code="", enhanced_code="",
                   temporary=bool(entry.temporary))


def best_smtp_entry(code: int | None, enh: str, text: str, *, standalone: bool = False) -> _Entry | None:
    """The catalog entry that fits a reply best; with standalone, only entries whose words alone are enough."""
    return _best_entry(code, enh, text, standalone=standalone)


_CLASS_TEXT = {
    2: ("Success", "The server accepted the command; this reply is not an error."),
    3: ("Waiting for more input", "The server waits for the next part (334 = AUTH challenge, 354 = send the message)."),
    4: (
        "Temporary failure",
        "A 4xx reply is temporary: retry later. Typical reasons are greylisting, a rate limit or a busy server.",
    ),
    5: ("Permanent failure", "A 5xx reply is permanent: retrying the same thing will fail the same way."),
}
_SUBJECT_TEXT = {
    "0": "x.0.x: other or undefined status.",
    "1": "x.1.x: an address problem (sender or recipient address wrong or unknown).",
    "2": "x.2.x: a mailbox problem (full, disabled, or not accepting mail).",
    "3": "x.3.x: a mail system problem on the server.",
    "4": "x.4.x: a network or routing problem (connection, DNS, loops, congestion).",
    "5": "x.5.x: a protocol problem (a command or its arguments were not accepted).",
    "6": "x.6.x: a message content or format problem.",
    "7": "x.7.x: a security or policy refusal (authentication, permissions, TLS, spam policy).",
}
_CLASS_FIX = {
    2: "Nothing to fix in this reply.",
    3: "Nothing to fix in this reply; the client should continue the conversation.",
    4: "Retry later with increasing pauses; if it keeps happening, read the reply text for the reason "
    "(greylisting, rate limit, maintenance) and slow down or contact the provider.",
    5: "Do not retry unchanged: read the reply text for the reason, correct the setting it names (address, "
    "credentials, permissions, TLS), or send the exact reply to the provider's support.",
}


def _unknown_smtp(code: int | None, enh: str, matched: str) -> Explanation:
    """Class guidance for a reply that is not in the catalog (the reply text kept verbatim)."""
    klass = code // 100 if code is not None else int(enh[0])
    label, meaning = _CLASS_TEXT.get(klass, ("Unrecognised reply", ""))
    subject = _SUBJECT_TEXT.get(enh.split(".")[1], "") if enh else ""
    shown = " ".join(part for part in (str(code) if code is not None else "", enh) if part)
    return Explanation(
        source=Source.SMTP,
        code=str(code) if code is not None else "",
        enhanced_code=enh,
        title=f"{label} ({shown}), not in the catalog",
        cause=" ".join(part for part in (meaning, subject, f"Server said: {matched}") if part),
        fix=_CLASS_FIX.get(klass, _CLASS_FIX[5]),
        guide_section=GuideSection.NETWORK.value if enh[2:4] == "4." else "",
        matched=matched,
        known=False,
        temporary=klass == 4,
        entry_id=f"smtp.class.{klass}xx",
    )


def _not_recognised(text: str) -> Explanation:
    shown = _clip(_one_line(text))
    return Explanation(
        source=Source.UNKNOWN,
        code="",
        enhanced_code="",
        title="Not a recognisable server reply or AADSTS error" if shown else "Nothing to explain",
        cause=PASTE_HINT,
        fix="Paste the server's reply exactly as the portal, the log or the bounce message shows it, all lines "
        "included, or the Microsoft sign-in error (it starts with AADSTS).",
        guide_section="",
        matched=shown,
        known=False,
        temporary=False,
        entry_id="unknown",
    )


def _explain_parsed(code: int | None, enh: str, text: str) -> Explanation:
    matched = _display(code, enh, text)
    entry = _best_entry(code, enh, text)
    if entry:
        return _from_entry(entry, code, enh, matched)
    if code is not None or enh:
        return _unknown_smtp(code, enh, matched)
    return _not_recognised(text)


def explain_reply(code: int, message: str | bytes) -> Explanation:
    """Explain an SMTP reply as smtplib gives it: the basic code and the message (lines joined with "\\n")."""
    try:
        if isinstance(message, bytes):
            message = message.decode("utf-8", "replace")
        message = _unescape(str(message or "")[:MAX_INPUT_CHARS])
        code_int = int(code) if code is not None and 100 <= int(code) <= 599 else None  # smtplib uses -1
        lines = [line for line in message.splitlines() if line.strip()]
        parsed_code, enh, text = _parse(lines, code_hint=code_int) if lines else (code_int, "", "")
        return _explain_parsed(parsed_code, enh, text)
    except (TypeError, ValueError):
        return _not_recognised(f"{code} {message}")


# ------------------------------------------------------------------------------------------------ AADSTS


def _aadsts_explanation(number: int, description: str) -> Explanation:
    matched = _clip(_one_line(description)) or f"AADSTS{number}"
    catalog = _catalog()
    entry = catalog.aadsts.get(number)
    if entry:
        return _from_entry(entry, None, "", matched)
    group = (catalog.groups or {}).get(number)
    if group:
        meaning = aadsts_meaning(number)
        return replace(_from_entry(group, None, "", matched), code=f"AADSTS{number}", entry_id=f"aadsts.{number}",
                       title=f"{group.title} ({meaning})" if meaning else group.title,
                       cause=" ".join(part for part in (f"{meaning}." if meaning else "", group.cause) if part))
    return Explanation(
        source=Source.AADSTS,
        code=f"AADSTS{number}",
        enhanced_code="",
        title=f"Entra ID error AADSTS{number}, not in the catalog",
        cause="Entra ID (the Microsoft sign-in service) refused the token request; the error description says why: "
        + matched,
        fix=f"Look the code up at https://login.microsoftonline.com/error?code={number}. Then check the Tenant ID, "
        "Client ID, client secret Value, API permissions and admin consent of the app registration.",
        guide_section=GuideSection.M365_APP_REGISTRATION.value,
        matched=matched,
        known=False,
        temporary=False,
        entry_id="aadsts.unknown",
    )


def _aadsts_codes(text: str) -> list[int]:
    return list(dict.fromkeys(codes_in(text)))


def explain_aadsts(error: Mapping[str, Any] | str | int) -> Explanation:
    """Explain an Entra ID error: MSAL's error dict, an error text, or a bare code ("7000215", "AADSTS7000215")."""
    try:
        if isinstance(error, Mapping):
            description = str(error.get("error_description") or "")[:MAX_INPUT_CHARS]
            codes = [int(c) for c in error.get("error_codes") or () if str(c).isdigit()]
            codes = list(dict.fromkeys(codes + _aadsts_codes(description)))
            shown = description or str(error.get("error") or "")
        else:
            shown = str(error)[:MAX_INPUT_CHARS]
            bare = shown.strip()
            codes = [int(bare)] if bare.isdigit() and len(bare) <= 9 else _aadsts_codes(shown)
        if not codes:
            return _not_recognised(shown)
        explanations = [_aadsts_explanation(n, shown) for n in codes]
        return next((e for e in explanations if e.known), explanations[0])
    except (TypeError, ValueError, AttributeError):
        return _not_recognised(repr(error)[:MAX_MATCHED_CHARS])


# ------------------------------------------------------------------------------------------------ pasted text


def _reply_start(line: str) -> int | None:
    """Where an SMTP reply starts in a log line, or None."""
    if _REPLY_LINE.match(line):
        return 0
    for pattern in (_TUPLE, _CODE_ENH_ANYWHERE, _ENH_ANYWHERE):
        found = pattern.search(line)
        if found:
            return found.start()
    return None


def _segments(text: str) -> list[tuple[int, list[str]]]:
    """(line number, lines) of each SMTP reply in a pasted blob; multi-line replies grouped."""
    segments: list[tuple[int, list[str]]] = []
    group: list[str] | None = None
    mode = code = enh = ""  # mode "dash": "534-..." lines until "534 ..."; "enh": smtplib's "5.7.8 ..." lines
    for number, line in enumerate(text.splitlines()[:MAX_LINES]):
        if not line.strip(" \t'\""):
            continue
        head = _REPLY_LINE.match(line)
        if group is not None and mode == "dash" and head and head["code"] == code:
            group.append(line)
            group = group if head["sep"] == "-" else None
            continue
        inner = _ENH_LINE.match(line)
        if group is not None and mode == "enh" and inner and inner["enh"] == enh:
            group.append(line)
            continue
        start = _reply_start(line)
        if start is None:
            group = None
            continue
        group = [line[start:]]
        segments.append((number, group))
        head = _REPLY_LINE.match(group[0])
        if head:
            code, mode = head["code"], "dash" if head["sep"] == "-" else ""
        else:
            found = _ENH_ANYWHERE.search(group[0])
            enh, mode = (found["enh"], "enh") if found else ("", "")
        if not mode:
            group = None
    return segments


# ------------------------------------------------------------------------------------------------ output


def to_dict(explanation: Explanation) -> dict[str, Any]:
    """The explanation as JSON-ready data (enum as its value)."""
    return {
        "source": explanation.source.value,
        "code": explanation.code,
        "enhanced_code": explanation.enhanced_code,
        "title": explanation.title,
        "cause": explanation.cause,
        "fix": explanation.fix,
        "guide_section": explanation.guide_section,
        "matched": explanation.matched,
        "known": explanation.known,
        "temporary": explanation.temporary,
        "entry_id": explanation.entry_id,
        "check": explanation.check,
        "negative": explanation.negative,
        "client": explanation.client,
        "client_fix": explanation.client_fix,
        "commands": [{"language": str(c.language), "code": c.code, "title": c.title} for c in explanation.commands],
        "sources": list(explanation.sources),
        "line": explanation.line,
    }


LANGUAGE_LABELS = {CommandLanguage.POWERSHELL: "PowerShell", CommandLanguage.SHELL: "Shell",
                   CommandLanguage.POSTFIX: "Postfix main.cf", CommandLanguage.PROPERTIES: "Properties",
                   CommandLanguage.PYTHON: "Python", CommandLanguage.JAVASCRIPT: "JavaScript",
                   CommandLanguage.CSHARP: "C#", CommandLanguage.PHP: "PHP", CommandLanguage.TEXT: "Text"}


def render_text(explanations: Explanation | Iterable[Explanation]) -> str:
    """Plain text for the CLI: one block per explanation."""
    items = (explanations,) if isinstance(explanations, Explanation) else tuple(explanations)
    blocks = []
    for e in items:
        codes = " ".join(part for part in (e.code, e.enhanced_code) if part)
        head = f"{codes}: {e.title}" if codes else e.title
        lines = [f"{head}  [{e.entry_id}]"]
        if e.matched:
            lines.append(f"  Reply:  {e.matched}")
        if e.line:
            lines.append(f"  Line:   {e.line:,}")
        lines.append(f"  Cause:  {e.cause}")
        if e.negative:
            lines.append("  Note:   not a relay problem: the relay setup and its sign-in are fine.")
        lines.append(f"  Fix:    {e.fix}")
        if e.client_fix:
            lines.append(f"  {e.client}: {e.client_fix}")
        for command in e.commands:
            lines.append(f"  {command.title or LANGUAGE_LABELS.get(command.language, 'Command')}:")
            lines += [f"      {row}" for row in command.code.splitlines()]
        if e.check:
            lines.append(f"  Check:  {e.check} (python -m checks run proves it)")
        if e.guide_section:
            lines.append(f"  Guide:  {e.guide_section}")
        if e.source is Source.SMTP and e.code:
            lines.append(
                "  Kind:   temporary (retry later)" if e.temporary else "  Kind:   permanent (retrying will not help)"
            )
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n" if blocks else ""
