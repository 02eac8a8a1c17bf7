"""A run as the history keeps it: the summary columns of one stored run, and how a report becomes one."""

from __future__ import annotations

import datetime as dt
import functools
import getpass
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from checks.history.horizons import Horizon, decode, encode, horizons_of
from checks.history.schema import NAME_LENGTH
from checks.knowledge.facts import AadstsFacts, ReplyFacts
from checks.model import RunReport, Verdict
from checks.oauth.facts import ClientFacts
from checks.redact import guard
from checks.report.export import to_json
from checks.report.reader import read_report


class Source:
    """Where a stored run came from (the `source` column)."""

    CLI = "cli"
    BATCH = "batch"
    WATCH = "watch"
    CONSOLE = "console"
    CONSOLE_BATCH = "console-batch"


@dataclass(frozen=True)
class StoredRun:
    """One run in the history, without its report text (listings) or with it (`report_json`)."""

    run_id: str
    setup: str
    label: str
    host: str
    port: int
    profile: str
    started_at: dt.datetime
    finished_at: dt.datetime
    verdict: Verdict
    problems: tuple[str, ...] = ()
    causes: tuple[str, ...] = ()
    horizons: Mapping[Horizon, dt.date] = field(default_factory=dict)
    user: str = ""
    source: str = ""
    batch_id: str = ""
    tool_version: str = ""
    report_json: str = field(default="", repr=False)

    def report(self) -> RunReport:
        """The stored report, read back as `python -m checks` would read a saved JSON report."""
        if not self.report_json:
            raise ValueError("this listing was read without the report; use RunStore.get()")
        return read_report(self.report_json, name=f"run {self.run_id}")


def cause_keys(report: RunReport) -> tuple[str, ...]:
    """One key per problem: the check id, plus the catalog entry or AADSTS code when the engine knew it."""
    keys = []
    for result in report.problems:
        facts = result.facts
        detail = (facts.knowledge_entry if isinstance(facts, ReplyFacts)
                  else facts.aadsts if isinstance(facts, AadstsFacts | ClientFacts) else None)
        keys.append(f"{result.check_id}:{detail}" if detail else str(result.check_id))
    return tuple(dict.fromkeys(keys))


def setup_name(report: RunReport, name: str | None) -> str:
    """The setup a run belongs to: the name given, else host:port."""
    return (name or "").strip()[:NAME_LENGTH] or f"{report.host}:{report.port}"[:NAME_LENGTH]


def naive_utc(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC).replace(tzinfo=None) if moment.tzinfo else moment


def aware_utc(moment: dt.datetime) -> dt.datetime:
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def row_of(report: RunReport, *, setup: str | None = None, label: str = "", user: str = "", source: str = "",
           batch_id: str = "", previous: StoredRun | None = None, hide: Sequence[str] = ()) -> dict[str, Any]:
    """The `runs` row for a finished report (horizons read from its facts before they are dropped).

    `hide`: secret values masked in the report text once more (the engine masked them already).
    """
    horizons = horizons_of(report, previous=previous.horizons if previous else None)
    text = to_json(report, compact=True)
    if hide:

        text = guard(text, tuple(hide))
    return {
        "run_id": report.run_id, "setup": setup_name(report, setup), "label": (label or "").strip()[:NAME_LENGTH],
        "host": report.host[:255], "port": int(report.port), "profile": report.profile[:32],
        "started_at": naive_utc(report.started_at), "finished_at": naive_utc(report.finished_at),
        "verdict": str(report.verdict), "problems": ", ".join(str(r.check_id) for r in report.problems)[:400],
        "causes": json.dumps(list(cause_keys(report))), "horizons": json.dumps(encode(horizons)),
        "user_name": (user or "")[:NAME_LENGTH], "source": source[:16], "batch_id": batch_id[:64],
        "tool_version": report.tool_version[:32], "report": text,
    }


def _json(text: str | None, empty: Any) -> Any:
    """A JSON column's value; the usual empty ones without parsing (listings convert thousands of rows)."""
    if not text or text in ("[]", "{}"):
        return empty
    value = json.loads(text)
    return tuple(value) if isinstance(value, list) else value


@functools.lru_cache(maxsize=1024)
def _horizons(text: str | None) -> Mapping[Horizon, dt.date]:
    """The `horizons` column read back (runs of a setup mostly share the same dates: read each text once)."""
    return MappingProxyType(decode(_json(text, {})))


def stored_run(row: Mapping[str, Any]) -> StoredRun:
    """A `runs` row (a mapping of its columns) as a StoredRun."""
    problems = tuple(p for p in (row["problems"] or "").split(", ") if p)
    return StoredRun(
        run_id=row["run_id"], setup=row["setup"], label=row["label"], host=row["host"], port=int(row["port"]),
        profile=row["profile"], started_at=aware_utc(row["started_at"]), finished_at=aware_utc(row["finished_at"]),
        verdict=Verdict(row["verdict"]), problems=problems, causes=_json(row["causes"], ()),
        horizons=_horizons(row["horizons"]), user=row["user_name"], source=row["source"],
        batch_id=row["batch_id"], tool_version=row["tool_version"], report_json=row.get("report") or "")


def current_user() -> str:
    """The login name of whoever runs the CLI ('' when the system cannot tell)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return ""
