"""Batch runs: many relay setups from a CSV or TOML file, checked concurrently, reported together.

A batch file is a CSV with a ``name`` column plus setting keys as columns, or a TOML file with one
``[[setup]]`` table per setup (DESIGN.md). Secrets are only given by reference (``password_env`` ...); a
file holding a secret inline is refused as a whole, naming the row. Each setup runs `run_checklist` on a
worker thread; at most `jobs` setups run at once (each uses up to MAX_PARALLEL_CHECKS threads of its own).
A setup with invalid settings gets one failing ``settings`` row; a setup whose run broke keeps the rows it
finished and gets ``error`` rows for the rest. Observer callbacks run on the caller's thread.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import ssl
import threading
import time
import tomllib
import uuid
from collections import ChainMap, Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol

from checks import __version__
from checks.context import Dependencies
from checks.model import (
    SECRET_FIELDS,
    CheckId,
    CheckResult,
    InvalidSettings,
    ProfileId,
    RelayConfig,
    RunReport,
    Status,
    Verdict,
)
from checks.redact import redact, secret_values
from checks.registry import SPECS, plan
from checks.report import CSV_LINE_END, REPORT_COLUMNS, neutralise, result_dict, rows, run_summary, verdict_line
from checks.settings import ENV_REFERENCES, SETTING_KEYS, config_from_values
from checks.spreadsheet_text import csv_records, decode_upload

DEFAULT_JOBS = 32  # setups are different tenants: 32 at once meets the 20x target at 200 setups
MAX_JOBS = 64  # x (1 + MAX_PARALLEL_CHECKS) threads at most: 320
MAX_BATCH_BYTES = 5 * 1024 * 1024
MAX_SETUPS = 10_000
BATCH_COLUMNS = ("setup", *REPORT_COLUMNS)
SUMMARY_CHECK_ID = "summary"  # the per-setup summary row of the CSV report (not a check)
SUMMARY_TITLE = "Setup summary"
SUMMARY_COLUMNS = ("setup", "state", "verdict", "profile", "host", "port", "pass", "warn", "fail", "skip",
                   "error", "problems", "duration_ms", "run_id")
NAME_KEYS = ("name", "setup")
WAIT_SLICE = 0.5  # seconds the collecting loop sleeps at most (keeps Ctrl-C responsive everywhere)


class BatchFileError(ValueError):
    """A batch or secrets file that cannot be used as a whole; the message names the row or line."""


class SetupState(StrEnum):
    DONE = "done"  # the checklist ran (whatever its verdict)
    INVALID = "invalid"  # the settings did not validate: one failing `settings` row
    CRASHED = "crashed"  # the run itself broke: finished rows kept, the rest `error`


@dataclass(frozen=True)
class BatchSetup:
    """One setup of a batch file: its name, where it came from and its settings (secrets only by reference)."""

    name: str
    values: Mapping[str, Any]
    where: str = ""  # "row 3" (CSV, header is row 1) or "setup 2" (TOML, 1-based)


@dataclass(frozen=True)
class SetupOutcome:
    """A finished setup: its report (real, or built for invalid settings or a crash) and how it ended."""

    name: str
    state: SetupState
    report: RunReport
    duration_ms: int = 0

    @property
    def verdict(self) -> Verdict:
        return self.report.verdict


@dataclass(frozen=True)
class BatchReport:
    """The outcomes of a batch in file order; setups that never finished (an interrupt) are named in not_run."""

    outcomes: tuple[SetupOutcome, ...]
    not_run: tuple[str, ...] = ()
    interrupted: bool = False
    started_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    finished_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    jobs: int = DEFAULT_JOBS
    batch_id: str = ""

    @property
    def problems(self) -> tuple[SetupOutcome, ...]:
        return tuple(o for o in self.outcomes if o.verdict is Verdict.PROBLEMS)

    @property
    def verdict(self) -> Verdict:
        return Verdict.PROBLEMS if self.problems else Verdict.READY


class BatchObserver(Protocol):
    """Told about progress on the caller's thread (a UI may draw from it). Every method is optional."""

    def on_batch_plan(self, names: list[str]) -> None: ...
    def on_setup_start(self, name: str) -> None: ...
    def on_setup_finish(self, outcome: SetupOutcome) -> None: ...


Runner = Callable[..., RunReport]


# ----------------------------------------------------------------------------------------------- loading


def _decode(data: bytes | str, prefix: str) -> str:
    if not isinstance(data, str) and len(data) > MAX_BATCH_BYTES:
        raise BatchFileError(f"{prefix}the file is larger than {MAX_BATCH_BYTES // (1024 * 1024)} MB")
    return decode_upload(data)


def _read_source(path_or_bytes: str | Path | bytes, name: str) -> tuple[str, str]:
    """(text, display name) of a path or of uploaded bytes/text."""
    if isinstance(path_or_bytes, (str, Path)) and not (isinstance(path_or_bytes, str) and "\n" in path_or_bytes):
        path = Path(path_or_bytes)
        display = name or str(path)
        try:
            if path.stat().st_size > MAX_BATCH_BYTES:
                raise BatchFileError(f"{display}: the file is larger than {MAX_BATCH_BYTES // (1024 * 1024)} MB")
            return _decode(path.read_bytes(), f"{display}: "), display
        except FileNotFoundError:
            raise BatchFileError(f"no such file: {display}") from None
        except IsADirectoryError:
            raise BatchFileError(f"{display} is a folder, not a file") from None
        except OSError as exc:
            raise BatchFileError(f"cannot read {display}: {exc.strerror or type(exc).__name__}") from None
    return _decode(path_or_bytes, f"{name}: " if name else ""), name


def _normalise_key(key: Any) -> str:
    return str(key).strip().lstrip("\ufeff").lower().replace("-", "_").replace(" ", "_")


def _inline_secret_error(found: list[tuple[str, str]], prefix: str) -> BatchFileError:
    lines = [f"{where}: column {key!r} holds a secret inline" for where, key in found[:20]]
    more = f" (and {len(found) - 20} more)" if len(found) > 20 else ""
    refs = ", ".join(f"{ref}" for ref in ENV_REFERENCES)
    return BatchFileError(
        f"{prefix}secrets are not read from batch files: {'; '.join(lines)}{more}. Remove them, put each secret in "
        f"an environment variable or a --secrets file, and name it in a column {refs} instead.")



def _load_csv(text: str, prefix: str) -> list[BatchSetup]:
    try:
        records = csv_records(text)
    except csv.Error as exc:
        raise BatchFileError(f"{prefix}not a readable CSV file: {exc}") from None
    if not records or not any(cell.strip() for cell in records[0]):
        raise BatchFileError(f"{prefix}the file is empty; expected a header row with a 'name' column and setting keys")
    header = [_normalise_key(cell) for cell in records[0]]
    name_column = next((header.index(k) for k in NAME_KEYS if k in header), None)
    if name_column is None:
        raise BatchFileError(f"{prefix}row 1: no 'name' column (a batch CSV has a 'name' column plus setting keys "
                             f"such as {', '.join(SETTING_KEYS[:6])}, ...)")
    duplicates = sorted({h for h in header if h and header.count(h) > 1})
    if duplicates:
        raise BatchFileError(f"{prefix}row 1: column {duplicates[0]!r} appears more than once")
    inline: list[tuple[str, str]] = []
    setups: list[BatchSetup] = []
    for number, record in enumerate(records[1:], start=2):
        if not any(cell.strip() for cell in record):
            continue
        values: dict[str, Any] = {}
        for position, key in enumerate(header):
            cell = record[position].strip() if position < len(record) else ""
            if not key or not cell:
                continue
            if key in SECRET_FIELDS:
                inline.append((f"row {number}", key))
                continue
            values[key] = cell
        setups.append(_setup(values, name_column_value=values.pop(header[name_column], ""), where=f"row {number}"))
    if inline:
        raise _inline_secret_error(inline, prefix)
    return setups


def _setup(values: dict[str, Any], *, name_column_value: Any, where: str) -> BatchSetup:
    for key in NAME_KEYS:
        values.pop(key, None)
    name = str(name_column_value).strip() or where
    return BatchSetup(name=name, values=values, where=where)


def _load_toml(text: str, prefix: str) -> list[BatchSetup]:
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise BatchFileError(f"{prefix}not valid TOML: {exc}") from None
    other = sorted(k for k in document if k != "setup")
    if other:
        raise BatchFileError(f"{prefix}unexpected top-level key {other[0]!r}: a batch TOML file holds one [[setup]] "
                             "table per setup (name plus setting keys)")
    tables = document.get("setup")
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        raise BatchFileError(f"{prefix}no [[setup]] tables (write one [[setup]] table per setup: name plus setting "
                             "keys)")
    inline: list[tuple[str, str]] = []
    setups: list[BatchSetup] = []
    for number, table in enumerate(tables, start=1):
        where = f"setup {number}"
        values: dict[str, Any] = {}
        for raw_key, value in table.items():
            key = _normalise_key(raw_key)
            if key in SECRET_FIELDS:
                label = f"{where} ({str(table.get('name', ''))[:60]!r})" if table.get("name") else where
                inline.append((label, key))
                continue
            if isinstance(value, (dict, list)):
                values[key] = "(a table or list)"  # reported as an invalid value of that key
                continue
            values[key] = value
        setups.append(_setup(values, name_column_value=values.get("name", values.get("setup", "")), where=where))
    if inline:
        raise _inline_secret_error(inline, prefix)
    return setups


def load_batch(path_or_bytes: str | Path | bytes, *, name: str = "") -> list[BatchSetup]:
    """Read a batch file (CSV or TOML; a path, or uploaded bytes named `name`); BatchFileError if unusable."""
    text, display = _read_source(path_or_bytes, name)
    prefix = f"{display}: " if display else ""
    if not text.strip():
        raise BatchFileError(f"{prefix}the file is empty")
    is_toml = display.lower().endswith(".toml") or (
        not display.lower().endswith(".csv") and text.lstrip().startswith(("[[setup]]", "#", "[")))
    setups = _load_toml(text, prefix) if is_toml else _load_csv(text, prefix)
    if not setups:
        raise BatchFileError(f"{prefix}no setups in the file")
    if len(setups) > MAX_SETUPS:
        raise BatchFileError(f"{prefix}{len(setups)} setups; at most {MAX_SETUPS} per batch")
    seen: dict[str, str] = {}
    for setup in setups:
        if setup.name in seen:
            raise BatchFileError(f"{prefix}{setup.where}: the name {setup.name[:60]!r} is already used in "
                                 f"{seen[setup.name]}; each setup needs its own name")
        seen[setup.name] = setup.where
    return setups


def load_secrets(path_or_bytes: str | Path | bytes, *, name: str = "") -> dict[str, str]:
    """A secrets mapping NAME -> value from TOML (NAME = "value") or .env lines (NAME=value); values never shown."""
    text, display = _read_source(path_or_bytes, name)
    prefix = f"{display}: " if display else ""
    if not display.lower().endswith(".env"):
        try:
            document = tomllib.loads(text)
        except tomllib.TOMLDecodeError:
            if display.lower().endswith(".toml"):
                raise BatchFileError(f"{prefix}not valid TOML (write NAME = \"value\" lines)") from None
        else:
            bad = sorted(k for k, v in document.items() if not isinstance(v, (str, int, float)) or isinstance(v, bool))
            if bad:
                raise BatchFileError(f"{prefix}{bad[0]!r} must be a text value (NAME = \"value\")")
            return {str(k): str(v) for k, v in document.items()}
    return _parse_dotenv(text, prefix)


def _parse_dotenv(text: str, prefix: str) -> dict[str, str]:
    secrets: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export "):].lstrip()
        key, equals, value = line.partition("=")
        key = key.strip()
        if not equals or not key or not (key.replace("_", "a").isalnum() and not key[0].isdigit()):
            raise BatchFileError(f"{prefix}line {number}: expected NAME=value (the value is not shown)")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        secrets[key] = value
    return secrets


def secrets_environ(secrets: Mapping[str, str] | None, environ: Mapping[str, str] | None = None) -> Mapping[str, str]:
    """Where `*_env` references are looked up: the secrets mapping first, then `environ` (None: no environment)."""
    return ChainMap(dict(secrets or {}), dict(environ or {}))


# ------------------------------------------------------------------------------------------------ running


class _Collector:
    """Per-setup runner observer (worker thread): remembers the plan and each finished result."""

    def __init__(self) -> None:
        self.planned: list[tuple[CheckId, str]] = []
        self.finished: dict[CheckId, CheckResult] = {}

    def on_plan(self, checks: list[tuple[CheckId, str]]) -> None:
        self.planned = list(checks)

    def on_finish(self, result: CheckResult) -> None:
        self.finished[result.check_id] = result


def _referenced_secrets(values: Mapping[str, Any], environ: Mapping[str, str]) -> tuple[str, ...]:
    found = []
    for ref in ENV_REFERENCES:
        name = values.get(ref)
        if isinstance(name, str) and name.strip() in environ:
            found.append(environ[name.strip()])
    return tuple(v for v in found if v)


def _port_of(values: Mapping[str, Any]) -> int:
    try:
        return int(str(values.get("port", 0)).strip() or 0)
    except ValueError:
        return 0


def _preset(values: Mapping[str, Any]) -> Any:
    from checks.profiles import profile

    try:
        return profile(ProfileId(str(values.get("profile") or "custom").strip().lower()))
    except (ValueError, KeyError):
        return None


def _synthetic_report(setup: BatchSetup, results: tuple[CheckResult, ...], *, config: RelayConfig | None,
                      started_at: dt.datetime, run_id: str) -> RunReport:
    values = setup.values
    preset = _preset(values) if config is None else None
    return RunReport(
        run_id=run_id, started_at=started_at, finished_at=dt.datetime.now(dt.UTC), tool_version=__version__,
        profile=config.profile.value if config else str(values.get("profile", "") or ""),
        host=config.host if config else str(values.get("host", "") or getattr(preset, "host", "") or ""),
        port=config.port if config else (_port_of(values) or int(getattr(preset, "port", 0) or 0)),
        security=config.security.value if config else str(values.get("security", "") or ""),
        sender=(config.sender or config.username or "") if config else str(values.get("sender", "") or ""),
        results=results)


def _invalid_outcome(setup: BatchSetup, exc: InvalidSettings, started: float, started_at: dt.datetime,
                     secrets: tuple[str, ...]) -> SetupOutcome:
    fields = ", ".join(dict.fromkeys(e.field for e in exc.errors))
    result = CheckResult(
        CheckId.SETTINGS, SPECS[CheckId.SETTINGS].title, Status.FAIL,
        redact(f"Invalid settings ({fields}): {exc}", secrets),
        details=redact("\n".join(str(e) for e in exc.errors), secrets),
        remediation=f"Correct {fields} in {setup.where} of the batch file; the other checks did not run.")
    report = _synthetic_report(setup, (result,), config=None, started_at=started_at, run_id=uuid.uuid4().hex[:12])
    return SetupOutcome(setup.name, SetupState.INVALID, report, int((time.monotonic() - started) * 1000))


def _crashed_outcome(setup: BatchSetup, exc: BaseException, collector: _Collector, config: RelayConfig | None,
                     only: tuple[CheckId, ...] | None, started: float, started_at: dt.datetime,
                     secrets: tuple[str, ...]) -> SetupOutcome:
    text = str(exc).splitlines()[0] if str(exc) else "unexpected"
    reason = redact(f"{type(exc).__name__}: {text}", secrets)
    planned = collector.planned
    if not planned and config is not None:
        try:
            planned = [(s.id, s.title) for s in plan(config, only)]
        except Exception:  # noqa: BLE001 - a broken plan still leaves the settings row below
            planned = []
    if not planned:
        planned = [(CheckId.SETTINGS, SPECS[CheckId.SETTINGS].title)]
    results = []
    for check_id, title in planned:
        done = collector.finished.get(check_id)
        results.append(done if done is not None else CheckResult(
            check_id, title, Status.ERROR, f"Not finished: the run of this setup broke ({reason}).",
            details="This is a fault in the console, not in your setup. The other setups of the batch ran on."))
    report = _synthetic_report(setup, tuple(results), config=config, started_at=started_at,
                               run_id=uuid.uuid4().hex[:12])
    return SetupOutcome(setup.name, SetupState.CRASHED, report, int((time.monotonic() - started) * 1000))


def run_setup(setup: BatchSetup, *, environ: Mapping[str, str], deps: Dependencies | None = None,
              only: tuple[CheckId, ...] | None = None, runner: Runner | None = None) -> SetupOutcome:
    """Check one setup of a batch; never raises (invalid settings and crashes become rows)."""
    started, started_at = time.monotonic(), dt.datetime.now(dt.UTC)
    secrets = _referenced_secrets(setup.values, environ)
    collector = _Collector()
    config: RelayConfig | None = None
    try:
        config = config_from_values(setup.values, environ=environ)
        secrets = secret_values(config, secrets)
        report = (runner or _run_checklist)(config, only=only, observer=collector, deps=deps)
        return SetupOutcome(setup.name, SetupState.DONE, report, int((time.monotonic() - started) * 1000))
    except InvalidSettings as exc:  # bad values, or a target the console's policy refuses (before any check)
        if collector.finished:
            return _crashed_outcome(setup, exc, collector, config, only, started, started_at, secrets)
        return _invalid_outcome(setup, exc, started, started_at, secrets)
    except Exception as exc:  # noqa: BLE001 - one broken setup never stops the batch
        return _crashed_outcome(setup, exc, collector, config, only, started, started_at, secrets)


def _run_checklist(config: RelayConfig, **kwargs: Any) -> RunReport:
    from checks.runner import run_checklist

    return run_checklist(config, **kwargs)


class _SharedTls:
    """One verifying client context per --ca-file, shared by the setups of a batch (loading the system store
    costs milliseconds of CPU and a few hundred kB per context)."""

    def __init__(self) -> None:
        self._contexts: dict[str | None, ssl.SSLContext] = {}
        self._lock = threading.Lock()

    def deps_for(self, setup: BatchSetup, base: Dependencies | None) -> Dependencies | None:
        if base is not None and base.ssl_context is not None:
            return base
        raw = setup.values.get("ca_file")
        key = str(raw).strip() if raw else None
        if key is not None and not Path(key).is_file():
            return base  # validation will name the missing file
        with self._lock:
            context = self._contexts.get(key)
            if context is None:
                from checks.tls_context import client_context

                context = client_context(_CaOnly(Path(key) if key else None))
                self._contexts[key] = context
        return replace(base, ssl_context=context) if base is not None else Dependencies(ssl_context=context)


@dataclass(frozen=True)
class _CaOnly:
    ca_file: Path | None


def _notify(observer: Any, event: str, *args: Any) -> None:
    method = getattr(observer, event, None) if observer is not None else None
    if method is not None:
        method(*args)


def run_batch(setups: Sequence[BatchSetup], *, jobs: int = DEFAULT_JOBS, observer: BatchObserver | None = None,
              environ: Mapping[str, str] | None = None, deps: Dependencies | None = None,
              only: Iterable[CheckId | str] | None = None, runner: Runner | None = None,
              share_tls: bool = True) -> BatchReport:
    """Check every setup, at most `jobs` at a time; an interrupt (Ctrl-C) returns what finished so far.

    `environ` is where `*_env` references are looked up (default: os.environ; see `secrets_environ`).
    `runner` replaces run_checklist (tests). Observer callbacks run on this (the caller's) thread.
    """
    if not 1 <= jobs <= MAX_JOBS:
        raise ValueError(f"jobs must be from 1 to {MAX_JOBS}")
    environ = os.environ if environ is None else environ
    only_ids = tuple(CheckId(c) for c in only) if only is not None else None
    started_at = dt.datetime.now(dt.UTC)
    batch_id = uuid.uuid4().hex[:12]
    shared = _SharedTls() if share_tls else None
    names = [s.name for s in setups]
    _notify(observer, "on_batch_plan", names)

    outcomes: dict[str, SetupOutcome] = {}
    waiting = list(setups)
    running: dict[Future, str] = {}
    interrupted = False
    executor = ThreadPoolExecutor(max_workers=min(jobs, max(1, len(setups))), thread_name_prefix="batch")

    def submit(setup: BatchSetup) -> None:
        setup_deps = shared.deps_for(setup, deps) if shared is not None else deps
        future = executor.submit(run_setup, setup, environ=environ, deps=setup_deps, only=only_ids, runner=runner)
        running[future] = setup.name
        _notify(observer, "on_setup_start", setup.name)

    try:
        while waiting or running:
            while waiting and len(running) < jobs:
                submit(waiting.pop(0))
            done, _ = wait(running, timeout=WAIT_SLICE, return_when=FIRST_COMPLETED)
            for future in done:
                name = running.pop(future)
                outcome = future.result()
                outcomes[name] = outcome
                _notify(observer, "on_setup_finish", outcome)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        executor.shutdown(wait=False, cancel_futures=True)
    for future in list(running):  # finished between the interrupt and here: keep it
        if future.done() and not future.cancelled():
            outcomes[running.pop(future)] = future.result()
    ordered = tuple(outcomes[n] for n in names if n in outcomes)
    return BatchReport(outcomes=ordered, not_run=tuple(n for n in names if n not in outcomes),
                       interrupted=interrupted, started_at=started_at, finished_at=dt.datetime.now(dt.UTC),
                       jobs=jobs, batch_id=batch_id)


# ------------------------------------------------------------------------------------------------ reports


def _counts(report: RunReport) -> Counter:
    return Counter(str(r.status) for r in report.results)


def summary_rows(batch: BatchReport) -> list[dict[str, Any]]:
    """One plain dict per finished setup (SUMMARY_COLUMNS): verdict, counts by status, the problem check ids."""
    out = []
    for outcome in batch.outcomes:
        report, counts = outcome.report, _counts(outcome.report)
        out.append({
            "setup": outcome.name, "state": str(outcome.state), "verdict": str(report.verdict),
            "profile": report.profile, "host": report.host, "port": int(report.port),
            **{s.value: counts.get(s.value, 0) for s in Status},
            "problems": ", ".join(str(r.check_id) for r in report.problems),
            "duration_ms": outcome.duration_ms, "run_id": report.run_id,
        })
    return out


def problem_counts(batch: BatchReport) -> dict[str, int]:
    """How many setups each check failed or broke in, most first (for a 'which checks fail most' chart)."""
    counts: Counter = Counter()
    for outcome in batch.outcomes:
        counts.update(str(r.check_id) for r in outcome.report.problems)
    order = {c.value: i for i, c in enumerate(CheckId)}
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], order.get(kv[0], 99))))


def _worst(report: RunReport) -> Status:
    statuses = {r.status for r in report.results}
    for status in (Status.ERROR, Status.FAIL, Status.WARN, Status.PASS):
        if status in statuses:
            return status
    return Status.SKIP


def _summary_row(outcome: SetupOutcome) -> dict[str, Any]:
    report, counts = outcome.report, _counts(outcome.report)
    problems = ", ".join(str(r.check_id) for r in report.problems)
    return {
        "run_id": report.run_id, "started_at": report.started_at.isoformat(timespec="seconds"),
        "profile": report.profile, "host": report.host, "port": int(report.port), "sender": report.sender,
        "check_id": SUMMARY_CHECK_ID, "title": SUMMARY_TITLE, "status": str(_worst(report)),
        "summary": verdict_line(report) + (f": {problems}" if problems else ""),
        "details": ", ".join(f"{s.value} {counts.get(s.value, 0)}" for s in Status)
                   + ("" if outcome.state is SetupState.DONE else f" (setup {outcome.state})"),
        "remediation": "", "guide_section": "", "duration_ms": outcome.duration_ms,
    }


def batch_rows(batch: BatchReport, *, include_summary: bool = True) -> list[dict[str, Any]]:
    """One dict per setup and check (BATCH_COLUMNS), then each setup's summary row (check_id 'summary')."""
    out = []
    for outcome in batch.outcomes:
        out.extend({"setup": outcome.name, **row} for row in rows(outcome.report))
        if include_summary:
            out.append({"setup": outcome.name, **_summary_row(outcome)})
    return out


def batch_to_csv(batch: BatchReport, *, include_summary: bool = True, bom: bool = False) -> str:
    """The batch CSV: the report's columns with a leading `setup` column; formula-like cells neutralised."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, quoting=csv.QUOTE_MINIMAL, lineterminator=CSV_LINE_END)
    writer.writerow(BATCH_COLUMNS)
    for row in batch_rows(batch, include_summary=include_summary):
        writer.writerow([row[c] if c in ("port", "duration_ms") else neutralise(str(row[c])) for c in BATCH_COLUMNS])
    text = buffer.getvalue()
    return ("\ufeff" + text) if bom else text


def summary_to_csv(batch: BatchReport) -> str:
    """The summary table (SUMMARY_COLUMNS) as CSV, one row per setup."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, quoting=csv.QUOTE_MINIMAL, lineterminator=CSV_LINE_END)
    writer.writerow(SUMMARY_COLUMNS)
    for row in summary_rows(batch):
        writer.writerow([row[c] if isinstance(row[c], int) else neutralise(str(row[c])) for c in SUMMARY_COLUMNS])
    return buffer.getvalue()


def batch_to_json(batch: BatchReport) -> str:
    """{"batch": {...}, "setups": [{"setup", "state", "summary", "run", "results"}]} (each entry a report)."""
    summaries = {row["setup"]: row for row in summary_rows(batch)}
    setups = []
    for outcome in batch.outcomes:
        summary = {k: v for k, v in summaries[outcome.name].items() if k not in ("setup", "run_id")}
        setups.append({"setup": outcome.name, "state": str(outcome.state), "summary": summary,
                       "run": run_summary(outcome.report),
                       "results": [result_dict(r) for r in outcome.report.results]})
    verdicts = Counter(str(o.verdict) for o in batch.outcomes)
    document = {
        "batch": {"id": batch.batch_id, "started_at": batch.started_at.isoformat(),
                  "finished_at": batch.finished_at.isoformat(), "tool_version": __version__, "jobs": batch.jobs,
                  "setups": len(batch.outcomes) + len(batch.not_run), "finished": len(batch.outcomes),
                  "ready": verdicts.get(str(Verdict.READY), 0), "problems": verdicts.get(str(Verdict.PROBLEMS), 0),
                  "interrupted": batch.interrupted, "not_run": list(batch.not_run),
                  "verdict": str(batch.verdict)},
        "setups": setups,
    }
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def batch_verdict_line(batch: BatchReport) -> str:
    """'12 setups: 10 ready, 2 with problems' (+ how many did not run after an interrupt)."""
    total = len(batch.outcomes)
    problems = len(batch.problems)
    line = f"{total} setup{'s' if total != 1 else ''}: {total - problems} ready, {problems} with problems"
    if batch.not_run:
        line += f"; {len(batch.not_run)} did not finish (interrupted)" if batch.interrupted \
            else f"; {len(batch.not_run)} did not finish"
    return line
