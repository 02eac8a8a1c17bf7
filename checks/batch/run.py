"""Batch runs: many relay setups checked concurrently (files: batch/file.py; reports: batch/report.py).

Each setup runs `run_checklist` on a worker thread; at most `jobs` setups run at once (each uses up to
MAX_PARALLEL_CHECKS threads of its own). With `processes` above one the setups are shared between this process and
`processes - 1` worker processes (batch/processes.py), so the batch is not limited to one CPU core. A setup with
invalid settings gets one failing ``settings`` row; a setup whose run broke keeps the rows it finished and gets
``error`` rows for the rest. Observer callbacks run on the caller's thread.
"""

from __future__ import annotations

import datetime as dt
import os
import ssl
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol

from checks import __version__
from checks.batch.file import BatchSetup
from checks.batch.processes import ProcessPool, WorkerProcessError
from checks.model import CheckId, CheckResult, RunReport, Status, Verdict
from checks.redact import guard, redact, secret_values
from checks.registry import SPECS, plan
from checks.report.display import batch_html
from checks.report.export import REPORT_COLUMNS, SETUP_COLUMN
from checks.report.markdown import batch_markdown, batch_verdict_line
from checks.run_state import Dependencies
from checks.runner import notify, run_checklist
from checks.safe_text import one_line
from checks.settings.config import InvalidSettings, ProfileId, RelayConfig
from checks.settings.fields import ENV_REFERENCES
from checks.settings.loading import config_from_values
from checks.settings.profiles import profile
from checks.smtp.tls_context import client_context
from checks.target_policy import TargetPolicy
from checks.workers import DaemonExecutor

DEFAULT_JOBS = 32  # setups are different tenants: 32 at once meets the 20x target at 200 setups
MAX_JOBS = 64  # x (1 + MAX_PARALLEL_CHECKS) threads at most: 320
BATCH_COLUMNS = (SETUP_COLUMN, *REPORT_COLUMNS)
SUMMARY_TITLE = "Setup summary"
SUMMARY_COLUMNS = ("setup", "state", "verdict", "profile", "host", "port", "pass", "warn", "fail", "skip",
                   "error", "problems", "duration_ms", "run_id")
WAIT_SLICE = 0.5  # seconds the collecting loop sleeps at most (keeps Ctrl-C responsive everywhere)


class SetupState(StrEnum):
    DONE = "done"  # the checklist ran (whatever its verdict)
    INVALID = "invalid"  # the settings did not validate: one failing `settings` row
    CRASHED = "crashed"  # the run itself broke: finished rows kept, the rest `error`


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
        if self.problems:
            return Verdict.PROBLEMS
        return Verdict.INCOMPLETE if any(o.verdict is Verdict.INCOMPLETE for o in self.outcomes) else Verdict.READY

    def __repr__(self) -> str:
        return f"<BatchReport {one_line(self.batch_id, 24)}: {batch_verdict_line(self)}>"

    def _repr_html_(self) -> str:
        return batch_html(self)

    def _repr_markdown_(self) -> str:
        return batch_markdown(self)


class BatchObserver(Protocol):
    """Told about progress on the caller's thread (a UI may draw from it). Every method is optional."""

    def on_batch_plan(self, names: list[str]) -> None: ...
    def on_setup_start(self, name: str) -> None: ...
    def on_setup_finish(self, outcome: SetupOutcome) -> None: ...


Runner = Callable[..., RunReport]




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
    result = CheckResult.of(
        CheckId.SETTINGS, SPECS[CheckId.SETTINGS].title, Status.FAIL,
        guard(f"Invalid settings ({fields}): {exc}", secrets),
        details=guard("\n".join(str(e) for e in exc.errors), secrets),
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
        results.append(done if done is not None else CheckResult.of(
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
        (deps or Dependencies()).policy.screen(setup.values)
        config = config_from_values(setup.values, environ=environ)
        secrets = secret_values(config, secrets)
        report = (runner or run_checklist)(config, only=only, observer=collector, deps=deps)
        return SetupOutcome(setup.name, SetupState.DONE, report, int((time.monotonic() - started) * 1000))
    except InvalidSettings as exc:  # bad values, or a target the console's policy refuses (before any check)
        if collector.finished:
            return _crashed_outcome(setup, exc, collector, config, only, started, started_at, secrets)
        return _invalid_outcome(setup, exc, started, started_at, secrets)
    except Exception as exc:  # noqa: BLE001 - one broken setup never stops the batch
        return _crashed_outcome(setup, exc, collector, config, only, started, started_at, secrets)


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
        key = str(raw).strip() if isinstance(raw, (str, Path)) and str(raw).strip() else None
        if key is not None and (base or Dependencies()).policy.restricted:
            return base  # a hosted console refuses ca_file before touching any file
        with self._lock:
            context = self._contexts.get(key)
            if context is None:
                try:
                    context = client_context(Path(key) if key else None)
                except (OSError, ValueError, ssl.SSLError):
                    return base  # not a CA file: this setup's settings check says so, the others run on
                self._contexts[key] = context
        return replace(base, ssl_context=context) if base is not None else Dependencies(ssl_context=context)


class _WorkerJob:
    """run_setup as a worker process runs it: the batch's checks, its hosting policy and the environment variables
    its setups name (secrets included: they travel through the pipe to the process, never to disk); one shared
    TLS context per CA file in each process."""

    def __init__(self, environ: dict[str, str], policy: TargetPolicy, only: tuple[CheckId, ...] | None) -> None:
        self.environ, self.policy, self.only = environ, policy, only
        self.shared = _SharedTls()

    def __getstate__(self) -> tuple[Any, ...]:
        return self.environ, self.policy, self.only

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        self.__init__(*state)

    def __call__(self, setup: BatchSetup) -> SetupOutcome:
        deps = self.shared.deps_for(setup, Dependencies(policy=self.policy))
        return run_setup(setup, environ=self.environ, deps=deps, only=self.only)


def _named_environ(setups: Sequence[BatchSetup], environ: Mapping[str, str]) -> dict[str, str]:
    """The environment variables the setups name in their *_env columns, and nothing else."""
    names = {str(s.values[ref]).strip() for s in setups for ref in ENV_REFERENCES if s.values.get(ref)}
    return {name: environ[name] for name in names if name in environ}


def _injected(deps: Dependencies | None) -> bool:
    """Whether `deps` replaces more than the hosting policy (a test's resolver, clock...): those stay in-process."""
    return deps is not None and deps != Dependencies(policy=deps.policy)


def _lost_outcome(setup: BatchSetup, exc: WorkerProcessError, only: tuple[CheckId, ...] | None, started: float,
                  environ: Mapping[str, str]) -> SetupOutcome:
    """A setup whose worker process could not give its outcome back: every planned check is an `error` row."""
    return _crashed_outcome(setup, exc, _Collector(), None, only, started, dt.datetime.now(dt.UTC),
                            _referenced_secrets(setup.values, environ))


def run_batch(setups: Sequence[BatchSetup], *, jobs: int = DEFAULT_JOBS, processes: int = 1,
              observer: BatchObserver | None = None, environ: Mapping[str, str] | None = None,
              deps: Dependencies | None = None, only: Iterable[CheckId | str] | None = None,
              runner: Runner | None = None, share_tls: bool = True) -> BatchReport:
    """Check every setup, at most `jobs` at a time, shared by `processes` processes (this one and processes - 1
    workers); an interrupt (Ctrl-C) returns what finished so far.

    `environ` is where `*_env` references are looked up (default: os.environ; see `secrets_environ`).
    `runner` replaces run_checklist (tests). Observer callbacks run on this (the caller's) thread.
    """
    if not 1 <= jobs <= MAX_JOBS:
        raise ValueError(f"jobs must be from 1 to {MAX_JOBS}")
    if processes < 1 or (processes > 1 and (runner is not None or _injected(deps))):
        raise ValueError("processes must be 1 or more, and 1 with a replaced runner or injected dependencies")
    environ = os.environ if environ is None else environ
    only_ids = tuple(CheckId(c) for c in only) if only is not None else None
    started_at = dt.datetime.now(dt.UTC)
    batch_id = uuid.uuid4().hex[:12]
    shared = _SharedTls() if share_tls else None
    names = [s.name for s in setups]
    notify(observer, "on_batch_plan", names)

    outcomes: dict[str, SetupOutcome] = {}
    waiting = list(setups)
    running: dict[Future, tuple[BatchSetup, float]] = {}
    interrupted = False
    pool: ProcessPool | None = None
    executor = DaemonExecutor(min(jobs, max(1, len(setups))), name="batch")
    here: set[Future] = set()  # the setups running in this process (one of the `processes`)
    if processes > 1:
        policy = deps.policy if deps is not None else TargetPolicy.from_environment(environ)
        pool = ProcessPool(processes - 1, _WorkerJob(_named_environ(setups, environ), policy, only_ids),
                           threads=jobs)

    def submit(setup: BatchSetup) -> None:
        here.intersection_update(running)
        if pool is not None and pool.working and (len(here) + 1) * processes > len(running) + 1:  # ours are busy
            future = pool.submit(setup)
        else:
            setup_deps = shared.deps_for(setup, deps) if shared is not None else deps
            future = executor.submit(run_setup, setup, environ=environ, deps=setup_deps, only=only_ids,
                                     runner=runner)
            here.add(future)
        running[future] = (setup, time.monotonic())
        notify(observer, "on_setup_start", setup.name)

    def outcome_of(future: Future) -> SetupOutcome:
        setup, started = running.pop(future)
        try:
            return future.result()
        except WorkerProcessError as exc:
            return _lost_outcome(setup, exc, only_ids, started, environ)

    try:
        while waiting or running:
            while waiting and len(running) < jobs:
                submit(waiting.pop(0))
            done, _ = wait(running, timeout=WAIT_SLICE, return_when=FIRST_COMPLETED)
            for future in done:
                outcome = outcome_of(future)
                outcomes[outcome.name] = outcome
                notify(observer, "on_setup_finish", outcome)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        executor.shutdown(wait=False, cancel_futures=True)
        for future in list(running):  # finished between the interrupt and here: keep it
            if future.done() and not future.cancelled() and future.exception() is None:
                outcome = outcome_of(future)
                outcomes[outcome.name] = outcome
        if pool is not None:
            pool.shutdown()
    ordered = tuple(outcomes[n] for n in names if n in outcomes)
    return BatchReport(outcomes=ordered, not_run=tuple(n for n in names if n not in outcomes),
                       interrupted=interrupted, started_at=started_at, finished_at=dt.datetime.now(dt.UTC),
                       jobs=jobs, batch_id=batch_id)
