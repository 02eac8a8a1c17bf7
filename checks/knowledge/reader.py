"""Read a paste of any size: find every decisive fragment, name the client that printed it, explain, rank."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import lru_cache
from itertools import islice

from checks.knowledge import catalog
from checks.knowledge.aadsts_codes import codes_in, decoded
from checks.knowledge.catalog import Client, Explanation

MAX_READ_CHARS = 8_000_000  # a bigger paste is read from its end: the decisive line of a log is usually last
MAX_RESULTS = 50
MAX_CODES_PER_LINE = 200  # AADSTS codes read from one line (a pasted blob can repeat one code on one line)
CONTEXT_LINES = 3  # lines around a fragment searched for the client's wrapper
SCORE_NET, SCORE_AADSTS = 5, 6

_REPLY_TRIGGER = re.compile(r"[45]\d\d[ -]|[45]\.\d{1,3}\.\d|\(\s*[45]\d\d\s*,")
_AADSTS_WORDS = ("aadsts", "error_codes", "errorcodes", "errorno", " - [")  # searched in the lower-cased paste
_GROUPS = re.compile(r"\([^()]*\)[?*+]?|\[[^\]]*\][?*+]?|\\[a-zA-Z][?*+]?|.[?*]|\{[\d,]*\}")
_META = re.compile(r"[\\|?*+.{}^$]")
_STARTS = (catalog._TUPLE, catalog._CODE_ENH_ANYWHERE, re.compile(r"(?<![\w.\-:/])(?P<code>[45]\d\d)[ -](?=[A-Za-z#<(\[])"),
           catalog._ENH_ANYWHERE)
_CODE_ONLY = re.compile(r"\(?\s*[2-5]\d\d\s*[ ,-]\s*b?['\"]?$")  # "535 " or "(535, b'" before the enhanced code
_HOST = re.compile(r"\b(smtp(?:-relay|-legacy|-mail)?\.(?:office365\.com|office365\.us|gmail\.com|outlook\.com|"
                   r"partner\.outlook\.cn)|outlook-dod\.office365\.us)\b(?:\[[^\]]*\])?(?::(?P<port>\d{2,3}))?",
                   re.IGNORECASE)
_MAILBOX = re.compile(r"(?:User \"|SendAsDenied; )(?P<address>[\w.+-]+@[\w.-]+\w)")


@dataclass(frozen=True)
class Reading:
    """What was read of a paste, the client that printed it, and each decisive fragment explained (best first)."""

    explanations: tuple[Explanation, ...]
    client: str
    total_chars: int
    read_chars: int
    total_lines: int
    first_line: int
    last_line: int
    fragments: int

    def summary(self) -> str:
        """One sentence a support engineer can quote: how much was read and what was found where."""
        part = ("all of it" if self.read_chars == self.total_chars else
                f"the last {self.read_chars:,} characters, lines {self.first_line:,} to {self.last_line:,}")
        found = [e for e in self.explanations if e.known]
        where = ", ".join(f"line {e.line:,}" for e in found[:3] if e.line) or "no line"
        head = (f"Read {self.total_chars:,} characters in {self.total_lines:,} lines ({part}); "
                f"{len(found)} decisive fragment{'s' if len(found) != 1 else ''} found ({where})")
        return head + (f"; printed by {self.client}." if self.client else ".")


@dataclass(frozen=True)
class _Found:
    line: int
    score: int
    explanation: Explanation


def _required_text(pattern: str) -> str:
    """The longest literal run every match of `pattern` contains (lower case): found with str.find, not a regex."""
    stripped = pattern
    while True:
        shorter = _GROUPS.sub("\0", stripped)
        if shorter == stripped:
            break
        stripped = shorter
    chunks = [c.strip().lower() for c in re.split(r"\0|" + _META.pattern, stripped)]
    return max(chunks, key=len, default="")


@lru_cache(maxsize=1)
def _word_patterns() -> tuple[tuple[str, re.Pattern[str]], ...]:
    """(required literal, pattern) of every network error and standalone reply wording."""
    patterns = [p for e in catalog.net_entries() for p in e.patterns]
    patterns += [p for e in catalog.smtp_entries() if e.standalone for p in e.patterns]
    return tuple((_required_text(p.pattern), p) for p in patterns)


def _line_of(starts: list[int], position: int) -> int:
    return bisect_right(starts, position) - 1


def _literal_lines(lower: str, word: str, starts: list[int]) -> set[int]:
    """Indices of the lines that contain `word` (already lower case)."""
    found: set[int] = set()
    position = lower.find(word)
    while position != -1:
        line = _line_of(starts, position)
        found.add(line)
        position = lower.find(word, starts[line + 1] if line + 1 < len(starts) else len(lower))
    return found


def _pattern_lines(pattern: re.Pattern[str], body: str, starts: list[int]) -> set[int]:
    """Indices of the lines where `pattern` matches, searching each line once (not every match on it)."""
    found: set[int] = set()
    match = pattern.search(body)
    while match is not None:
        line = _line_of(starts, match.start())
        found.add(line)
        match = pattern.search(body, starts[line + 1]) if line + 1 < len(starts) else None
    return found


def _first_of_each(lines: list[str], indices: set[int]) -> set[int]:
    """The indices whose text was not seen on an earlier index: a log repeats the same reply thousands of times."""
    first: dict[str, int] = {}
    for index in sorted(indices):
        first.setdefault(lines[index], index)
    return set(first.values())


def _word_lines(body: str, lower: str, lines: list[str], starts: list[int]) -> set[int]:
    """Lines holding a network error or a standalone reply wording (literal search first, then the pattern)."""
    hits: set[int] = set()
    for word, pattern in _word_patterns():
        candidates = _literal_lines(lower, word, starts) if len(word) >= 3 else set(range(len(lines)))
        hits.update(i for i in candidates - hits if pattern.search(lines[i]))
    return _first_of_each(lines, hits)


def _pieces(line: str) -> list[str]:
    """The line cut where each SMTP reply starts (a .NET message can hold 5.7.57 ... Error: 535 5.7.139 ...)."""
    starts = sorted({m.start() for pattern in _STARTS for m in pattern.finditer(line)})
    kept: list[int] = []
    for start in starts:  # "535 5.7.139" starts at 535: its enhanced code is not a reply of its own
        if not kept or not _CODE_ONLY.match(line[kept[-1]:start]):
            kept.append(start)
    return [line[a:b].strip() for a, b in zip(kept, [*kept[1:], len(line)], strict=False)]


def _replies(lines: list[str], candidates: list[int]) -> list[tuple[int, list[str]]]:
    """(line index, reply lines) of each SMTP reply on the candidate lines; continuation lines joined."""
    groups: list[tuple[int, list[str]]] = []
    current: list[str] | None = None
    continues_with: set[str] = set()  # what the next line starts with when it continues the current reply
    previous = -2
    for index in candidates:
        if index != previous + 1:
            current = None
        previous = index
        for piece in _pieces(lines[index]):
            head = catalog._REPLY_LINE.match(piece)
            inner = None if head else catalog._ENH_LINE.match(piece)
            key = head["code"] if head else (inner["enh"] if inner else "")
            if current is not None and key in continues_with:
                current.append(piece)
                if head and head["sep"] != "-":
                    current = None
                continue
            current = [piece]
            groups.append((index, current))
            enh = catalog._ENH_ANYWHERE.search(piece)
            if head and head["sep"] == "-":
                continues_with = {head["code"]}
            elif catalog._TUPLE.search(piece) or (inner and enh):
                continues_with = {enh["enh"]} if enh else set()
            else:
                current = None
    return groups


def _smtp_found(index: int, reply_lines: list[str], wrapped: str = "") -> _Found | None:
    """The explanation of one reply; `wrapped` is the next line, tried when a reply broken over lines is unknown."""
    code, enh, text = catalog._parse([catalog._tidy(line) for line in reply_lines])
    entry = catalog.best_smtp_entry(code, enh, text)
    if entry is None and wrapped:
        code, enh, text = catalog._parse([catalog._tidy(line) for line in reply_lines] + [wrapped.strip()])
        entry = catalog.best_smtp_entry(code, enh, text) or catalog.best_smtp_entry(code, enh, text, standalone=True)
    if entry is not None:
        score = catalog._score(entry, code, enh, text) or 0
        return _Found(index, score, catalog._from_entry(entry, code, enh, catalog._display(code, enh, text)))
    if code is None:
        return None  # a lone "2.7.18" is more likely a version number than a reply
    return _Found(index, 0, catalog._unknown_smtp(code, enh, catalog._display(code, enh, text)))


def _detect_client(lines: list[str], near: set[int]) -> Client | None:
    window = set(range(min(100, len(lines)))) | set(range(max(0, len(lines) - 100), len(lines)))
    for index in near:
        window.update(range(max(0, index - CONTEXT_LINES), min(len(lines), index + CONTEXT_LINES + 1)))
    text = "\n".join(lines[i] for i in sorted(window))
    return next((c for c in catalog.clients() if any(p.search(text) for p in c.patterns)), None)


def given_values(*, username: str | None = None, host: str | None = None, port: str | int | None = None,
                 tenant: str | None = None, client_id: str | None = None) -> dict[str, str]:
    """The values a user typed (CLI flags, the decoder page) as command fill-ins; they win over the paste's."""
    given = {"username": username, "host": host, "port": port, "tenant": tenant, "client_id": client_id}
    values = {key: str(value).strip() for key, value in given.items() if value is not None and str(value).strip()}
    if "username" in values:
        values["mailbox"] = values["username"]
    return values


def values_from_paste(text: str) -> dict[str, str]:
    """Values a fix can be filled with, read from the paste itself: the relay host and port, the mailbox."""
    values: dict[str, str] = {}
    host = _HOST.search(text)
    if host:
        values["host"] = host[1].lower()
        values["port"] = host["port"] or "587"  # the submission port both providers document
    mailbox = _MAILBOX.search(text)
    if mailbox:
        values["mailbox"] = values["username"] = mailbox["address"]
    return values


def _finish(explanation: Explanation, client: Client | None, values: Mapping[str, str]) -> Explanation:
    """The explanation with its commands filled in and the client's own wording of the fix beside it."""
    entry = catalog.entry(explanation.entry_id)
    if entry is None:
        return explanation
    commands = tuple(catalog.fill(c, values) for c in entry.commands)
    client_fix = client.fixes.get(entry.topic) if client is not None and entry.topic else None
    if client_fix is not None:
        commands += tuple(catalog.fill(c, values) for c in client_fix.commands)
    return replace(explanation, commands=commands, client=client.name if client else "",
                   client_fix=catalog.fill_text(client_fix.text, values) if client_fix else "")


def read_paste(text: str | bytes, *, values: Mapping[str, str] | None = None) -> Reading:
    """Every decisive fragment of a paste (SMTP replies, AADSTS codes, network/TLS/library errors), best first."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    text = str(text or "")
    start = 0 if len(text) <= MAX_READ_CHARS else text.find("\n", len(text) - MAX_READ_CHARS) + 1
    skipped = text.count("\n", 0, start)
    body = catalog._unescape(text[start:])
    lines = body.split("\n")
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line) + 1)
    lower = body.lower()
    reply_lines = _first_of_each(lines, _pattern_lines(_REPLY_TRIGGER, body, starts))
    aadsts_lines = set().union(*(_literal_lines(lower, word, starts) for word in _AADSTS_WORDS))
    word_lines = _word_lines(body, lower, lines, starts)
    found: list[_Found] = []
    known_reply_lines: set[int] = set()
    seen: dict[tuple[str, ...], _Found | None] = {}
    for index, group in _replies(lines, sorted(reply_lines)):
        following = index + len(group)
        wrapped = lines[following] if following < len(lines) and following not in reply_lines else ""
        key = (*group, wrapped)
        if key not in seen:  # a log repeats the same reply thousands of times: explain it once
            seen[key] = _smtp_found(index, group, wrapped)
        item = seen[key] and replace(seen[key], line=index)
        if item is not None:
            found.append(item)
            if item.explanation.known:
                known_reply_lines.add(index)
    for index in sorted(aadsts_lines):
        line = decoded(lines[index])
        for number in dict.fromkeys(islice(codes_in(line), MAX_CODES_PER_LINE)):
            words = catalog._DESCRIPTION_END.split(line[max(0, line.lower().find("aadsts")):], maxsplit=1)[0]
            explanation = catalog._aadsts_explanation(number, words)
            found.append(_Found(index, SCORE_AADSTS if explanation.known else 0, explanation))
    for index in sorted(word_lines - known_reply_lines):
        line = lines[index]
        for entry in catalog.net_entries():
            if any(p.search(line) for p in entry.patterns):
                found.append(_Found(index, SCORE_NET, catalog.from_net_entry(entry, catalog._clip(line.strip()))))
        entry = catalog.best_smtp_entry(None, "", line, standalone=True)
        if entry is not None:
            found.append(_Found(index, catalog.SCORE_PATTERN, catalog._from_entry(entry, None, "",
                                                                                 catalog._clip(line.strip()))))
    client = _detect_client(lines, {f.line for f in found})
    filled = {**values_from_paste(body[-200_000:] if len(body) > 200_000 else body), **(values or {})}
    ranked = sorted(found, key=lambda f: (not f.explanation.known, f.explanation.negative, f.explanation.temporary,
                                          -f.score, f.line))
    unique: dict[tuple[str, str, str], Explanation] = {}
    for item in ranked:
        key = (item.explanation.entry_id, item.explanation.code, item.explanation.enhanced_code)
        if key not in unique:
            unique[key] = replace(_finish(item.explanation, client, filled), line=skipped + item.line + 1)
    return Reading(explanations=tuple(unique.values())[:MAX_RESULTS], client=client.name if client else "",
                   total_chars=len(text), read_chars=len(text) - start, total_lines=text.count("\n") + 1,
                   first_line=skipped + 1, last_line=skipped + len(lines), fragments=len(found))


# ------------------------------------------------------------------------------- the paste-level entry points


def explain_all(text: str, *, values: Mapping[str, str] | None = None) -> tuple[Explanation, ...]:
    """Every decisive fragment of a paste of any size (replies, AADSTS codes, network errors), best first; never
    empty. `values` (mailbox, tenant, host...) fill in the copy-ready commands."""
    if isinstance(text, Mapping):
        return (catalog.explain_aadsts(text),)
    try:
        found = read_paste(text if isinstance(text, str | bytes) else str(text or ""), values=values).explanations
    except (TypeError, ValueError):  # pragma: no cover - defensive: explain never raises
        found = ()
    return found or _explain_lines(text)


def _explain_lines(text: str) -> tuple[Explanation, ...]:
    """Class guidance for a paste without decisive fragments (2xx/3xx conversation, unknown text), in order."""
    try:
        if isinstance(text, bytes):
            text = text.decode("utf-8", "replace")
        text = catalog._unescape(str(text or "")[:catalog.MAX_INPUT_CHARS])
        found: list[tuple[int, Explanation]] = []
        for number, lines in catalog._segments(text):
            code, enh, one = catalog._parse(lines)
            explanation = catalog._explain_parsed(code, enh, one)
            if code is None and not explanation.known:
                continue  # a lone "2.7.18" is more likely a version number than a reply
            found.append((number, explanation))
        found.sort(key=lambda item: item[0])
        unique: dict[tuple[str, str, str], Explanation] = {}
        for _, explanation in found:
            unique.setdefault((explanation.entry_id, explanation.code, explanation.enhanced_code), explanation)
        results = tuple(unique.values())
        errors = tuple(e for e in results if e.known or not e.code or e.code[0] not in "23")
        if results:  # a 250 or 334 among errors is conversation, not a finding
            return (errors or results)[:catalog.MAX_RESULTS]
        head = text[:catalog.FALLBACK_CHARS]  # nothing decisive anywhere: class guidance from the paste's beginning
        lines = [line for line in head.splitlines()[:catalog.MAX_LINES] if line.strip()]
        return (catalog._explain_parsed(*catalog._parse(lines)),)
    except (TypeError, ValueError) as exc:  # pragma: no cover - defensive: explain never raises
        return (catalog._not_recognised(f"{type(exc).__name__}"),)


def explain(text: str) -> Explanation:
    """Explain one pasted reply, AADSTS error, MSAL dict or bare code; the first known one if several."""
    if isinstance(text, Mapping):
        return catalog.explain_aadsts(text)
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    text = str(text) if text is not None else ""
    bare = text.strip()
    if not bare:
        return catalog._not_recognised("")
    if bare.isdigit():
        return catalog.explain_reply(int(bare), "") if len(bare) == 3 else catalog.explain_aadsts(bare)
    results = explain_all(text)
    return next((e for e in results if e.known), results[0])
