"""Runs the checklist: prerequisites, concurrency, the run deadline and live observer callbacks."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import replace
from typing import Any, Protocol

from checks import __version__
from checks.model import CheckId, CheckResult, Finding, RunReport, Status
from checks.redact import guard, redact, secret_values
from checks.registry import SPECS, CheckSpec, plan
from checks.run_state import CheckContext, Deadline, Dependencies
from checks.safe_text import visible
from checks.settings.config import RelayConfig
from checks.workers import DaemonExecutor

log = logging.getLogger(__name__)
MAX_PARALLEL_CHECKS = 6  # I/O-bound: the SMTP chain must not wait behind dns.* and domain.* lookups


class Observer(Protocol):
    """Told about progress on the caller's thread (so a UI may draw from it). Every method is optional."""

    def on_plan(self, checks: list[tuple[CheckId, str]]) -> None: ...
    def on_start(self, check_id: CheckId, title: str) -> None: ...
    def on_finish(self, result: CheckResult) -> None: ...


def notify(observer: Any, event: str, *args: Any) -> None:
    """Call observer.<event>(*args) when the observer has that method (every observer method is optional)."""
    method = getattr(observer, event, None) if observer is not None else None
    if method is not None:
        method(*args)


def _skip_reason(spec: CheckSpec, finished: dict[CheckId, CheckResult], config: RelayConfig) -> str | None:
    for dep in spec.requires(config):
        result = finished.get(dep)
        if result is not None and not result.ok:
            return f"Not run: '{result.title}' ({dep.value}) ended with {result.status.value}."
    return None


def stamp(check_id: CheckId, title: str, finding: Finding, duration_ms: int, secrets: tuple[str, ...]) -> CheckResult:
    """The report row for `finding`, with every secret of the run masked out of its texts and commands."""

    def clean(text: str) -> str:
        return visible(guard(text, secrets))  # outside text (DNS, certificates, replies) reaches outputs inert

    cleaned = replace(
        finding, summary=clean(finding.summary), details=clean(finding.details),
        remediation=clean(finding.remediation), guide_section=str(finding.guide_section), reply=clean(finding.reply),
        transcript=tuple(clean(line) for line in finding.transcript),
        commands=tuple(replace(c, code=clean(c.code), title=clean(c.title)) for c in finding.commands))
    return CheckResult(check_id, title, cleaned, duration_ms)


def _run_one(spec: CheckSpec, ctx: CheckContext) -> tuple[Finding, int]:
    started = ctx.deps.clock()
    try:
        finding = spec.load()(ctx)
    except Exception as exc:  # noqa: BLE001 - a broken check is reported as `error`, never raised
        log.debug("check %s broke", spec.id.value, exc_info=False)
        message = redact(str(exc), secret_values(ctx.config, ctx.run_secrets()))  # an exception may echo input
        finding = Finding(Status.ERROR, f"The check itself broke: {type(exc).__name__}: {message}",
                          details="This is a fault in the console, not in your setup. Please report it.")
    return finding, int((ctx.deps.clock() - started) * 1000)


def run_checklist(
    config: RelayConfig,
    *,
    only: Iterable[CheckId | str] | None = None,
    observer: Observer | None = None,
    deps: Dependencies | None = None,
    run_id: str | None = None,
) -> RunReport:
    """Run every applicable check for `config` and return the report; never raises for a bad setup.

    Raises TargetRefused (an InvalidSettings) when a hosted console's target policy forbids the settings.
    """
    deps = deps or Dependencies()
    deps.policy.enforce(config)
    only_ids = tuple(CheckId(c) for c in only) if only is not None else None
    specs = plan(config, only_ids)
    deadline = Deadline.after(config.deadline, deps.clock)
    run_id = run_id or os.urandom(6).hex()  # 48 random bits, as uuid4().hex[:12] gave
    ctx = CheckContext(config, deps=deps, deadline=deadline, run_id=run_id)
    started_at = deps.now()
    notify(observer, "on_plan", [(s.id, s.title) for s in specs])

    planned = {s.id for s in specs}
    finished: dict[CheckId, CheckResult] = {}
    running: dict[Future, CheckSpec] = {}
    waiting = list(specs)

    def finish(result: CheckResult) -> None:
        finished[result.check_id] = result
        ctx.record(result)
        notify(observer, "on_finish", result)

    executor = DaemonExecutor(MAX_PARALLEL_CHECKS, name="check")
    try:
        while waiting or running:
            for spec in list(waiting):
                needed = [d for d in spec.requires(config) + spec.after(config) if d in planned]
                if not all(d in finished for d in needed):
                    continue
                waiting.remove(spec)
                reason = _skip_reason(spec, finished, config)
                if reason is None and deadline.expired:
                    reason = f"Not run: the run deadline of {config.deadline:g} s was reached."
                if reason is not None:
                    finish(CheckResult.of(spec.id, spec.title, Status.SKIP, reason))
                    continue
                notify(observer, "on_start", spec.id, spec.title)
                running[executor.submit(_run_one, spec, ctx)] = spec
            if not running:
                continue
            done, _ = wait(running, timeout=deadline.remaining() + 0.5, return_when=FIRST_COMPLETED)
            if not done:
                for future, spec in running.items():
                    future.cancel()
                    finish(CheckResult.of(spec.id, spec.title, Status.ERROR,
                                       f"Did not finish within the run deadline of {config.deadline:g} s.",
                                       details="Raise --deadline, or look for a server that answers very slowly."))
                running.clear()
                continue
            for future in done:
                spec = running.pop(future)
                finding, duration_ms = future.result()
                finish(stamp(spec.id, spec.title, finding, duration_ms, secret_values(config, ctx.run_secrets())))
    finally:
        executor.shutdown(wait=False, cancel_futures=True)
        ctx.close()

    ordered = tuple(sorted(finished.values(), key=lambda r: list(SPECS).index(r.check_id)))
    return RunReport(
        run_id=run_id, started_at=started_at, finished_at=deps.now(),
        tool_version=__version__, profile=config.profile.value, host=config.host, port=config.port,
        security=config.security.value, sender=config.sender or config.username or "", results=ordered,
    )

