"""The providers' public code tables (Exchange Online NDRs, Gmail SMTP errors, Entra AADSTS) and their coverage."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

TABLES_FILE = Path(__file__).with_name("tables.toml")
TABLE_NAMES = {
    "exchange": "Exchange Online: Email non-delivery reports and SMTP errors",
    "gmail": "Google: Gmail SMTP errors and codes",
    "entra": "Microsoft Entra authentication and authorization error codes (AADSTS)",
}


@dataclass(frozen=True)
class Row:
    """One row of a provider table: its code, the provider's words, the entry that explains it or why not."""

    table: str
    code: str
    text: str
    sample: str
    entry: str
    omitted: str
    source: str


@dataclass(frozen=True)
class Coverage:
    """How much of one provider table the catalog explains."""

    table: str
    name: str
    covered: int
    total: int
    omitted: tuple[Row, ...]


@lru_cache(maxsize=1)
def rows() -> tuple[Row, ...]:
    """Every row of the three tables, in table order."""
    import tomllib  # lazy: read once, when the tables are first asked for

    data: dict[str, Any] = tomllib.loads(TABLES_FILE.read_text("utf-8"))
    out = []
    for table in TABLE_NAMES:
        for raw in data.get(table, ()):
            code = str(raw["code"])
            out.append(Row(table=table, code=f"AADSTS{code}" if table == "entra" else code,
                           text=raw.get("text") or raw.get("meaning", ""),
                           sample=raw.get("sample") or f"AADSTS{code}: {raw.get('meaning', '')}",
                           entry=raw.get("entry", ""), omitted=raw.get("omitted", ""), source=raw["source"]))
    return tuple(out)


@lru_cache(maxsize=1)
def _meanings() -> dict[int, str]:
    return {int(r.code.removeprefix("AADSTS")): r.text for r in rows() if r.table == "entra"}


def aadsts_meaning(number: int) -> str:
    """Microsoft's short name for an AADSTS code (from the Entra reference), or ""."""
    return _meanings().get(number, "")


def coverage() -> tuple[Coverage, ...]:
    """Per table: rows explained by a catalog entry, all rows, and the rows left out (each with its reason)."""
    out = []
    for table, name in TABLE_NAMES.items():
        table_rows = [r for r in rows() if r.table == table]
        out.append(Coverage(table, name, sum(1 for r in table_rows if r.entry), len(table_rows),
                            tuple(r for r in table_rows if not r.entry)))
    return tuple(out)


def coverage_markdown() -> str:
    """The coverage section of docs/knowledge-coverage.md (kept in sync by a test)."""
    lines = ["| Table | Rows explained | Rows in the table | Left out |", "|---|---|---|---|"]
    for c in coverage():
        lines.append(f"| {c.name} | {c.covered} | {c.total} | {len(c.omitted)} |")
    for c in coverage():
        if not c.omitted:
            continue
        lines += ["", f"### Left out of {c.name}", "", "| Code | Meaning | Why |", "|---|---|---|"]
        lines += [f"| {r.code} | {r.text} | {r.omitted} |" for r in c.omitted]
    return "\n".join(lines) + "\n"
