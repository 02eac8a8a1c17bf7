"""The one hosting guard: every page that runs checks asks it first (runs per session and client, batch caps).

A console hosted for a team (RELAY_CONSOLE_RESTRICT_TARGETS=1) counts every run - a single check, a practice
scenario, each setup of a batch, a Microsoft sign-in - against an hourly allowance of the browser session AND of
the client address, so neither a new session nor many tabs reset it. Batches are capped in size and
concurrency, and may not read this server's environment variables. Run locally (not hosted) nothing is refused
unless RELAY_CONSOLE_MAX_RUNS_PER_HOUR is set.
"""

from __future__ import annotations

import ipaddress
import os
import uuid
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any

import streamlit as st

from checks.target_policy import ENV_RESTRICT
from console.history_store import shared_ledger
from console.run_ledger import LEDGER, RunLedger

ENV_MAX_RUNS = "RELAY_CONSOLE_MAX_RUNS_PER_HOUR"
ENV_MAX_BATCH_SETUPS = "RELAY_CONSOLE_MAX_BATCH_SETUPS"
ENV_MAX_BATCH_JOBS = "RELAY_CONSOLE_MAX_BATCH_JOBS"
HOSTED_MAX_RUNS_PER_HOUR = 30
HOSTED_MAX_BATCH_SETUPS = 20
HOSTED_MAX_BATCH_JOBS = 4
SESSION_KEY = "hosting.session_id"
PROXY_HEADERS = ("X-Forwarded-For", "X-Real-Ip")


class HostingRefusal(Exception):
    """What the guard refused and why (the message is for the user)."""


@dataclass(frozen=True)
class HostingLimits:
    """The figures of the guard; None means unlimited."""

    hosted: bool = False
    max_runs_per_hour: int | None = None
    max_batch_setups: int | None = None
    max_batch_jobs: int | None = None

    @property
    def environment_lookups(self) -> bool:
        """Whether a batch may look secrets up in this server's environment variables."""
        return not self.hosted

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> HostingLimits:
        env = os.environ if environ is None else environ
        hosted = env.get(ENV_RESTRICT, "").strip().lower() in ("1", "true", "yes", "on")

        def number(name: str, hosted_default: int) -> int | None:
            text = env.get(name, "").strip()
            if not text:
                return hosted_default if hosted else None
            try:
                value = int(text)
            except ValueError:
                raise ValueError(f"{name} must be a whole number (got {text[:20]!r})") from None
            if value < 0:
                raise ValueError(f"{name} must be 0 or more")
            return value

        return cls(hosted, number(ENV_MAX_RUNS, HOSTED_MAX_RUNS_PER_HOUR),
                   number(ENV_MAX_BATCH_SETUPS, HOSTED_MAX_BATCH_SETUPS),
                   number(ENV_MAX_BATCH_JOBS, HOSTED_MAX_BATCH_JOBS))


def client_address(ip_address: str | None, headers: Mapping[str, str] | None) -> str:
    """The browser's address: the socket peer, or behind a local reverse proxy the address it forwarded."""
    peer = ip_address.strip() if isinstance(ip_address, str) else ""
    proxied = not peer
    if peer:
        try:
            ip = ipaddress.ip_address(peer)
            proxied = ip.is_loopback or ip.is_private
        except ValueError:
            proxied = False
    if proxied and headers:
        for name in PROXY_HEADERS:
            value = str(headers.get(name) or "").split(",")[-1].strip()
            if value:
                return value[:64]
    return peer or "unknown"


def session_id(state: MutableMapping[str, Any]) -> str:
    if SESSION_KEY not in state:
        state[SESSION_KEY] = uuid.uuid4().hex
    return str(state[SESSION_KEY])


def this_client() -> str:
    """The address of the browser of the running script (see client_address)."""
    return client_address(st.context.ip_address, st.context.headers)


def admit(runs: int = 1, *, state: MutableMapping[str, Any] | None = None, client: str | None = None,
          limits: HostingLimits | None = None, ledger: RunLedger = LEDGER) -> str | None:
    """Count `runs` runs for this browser session and client address and return None, or why they are refused."""

    limits = limits or HostingLimits.from_environment()
    state = st.session_state if state is None else state
    client = this_client() if client is None else client
    if limits.max_runs_per_hour is None:
        return None
    keys = (f"session:{session_id(state)}", f"client:{client}")
    if ledger is LEDGER:  # with a PostgreSQL history, every replica counts in the database
        ledger = shared_ledger() or LEDGER
    wait = ledger.take(keys, runs, limits.max_runs_per_hour)
    if wait is None:
        return None
    what = f"{runs} runs" if runs != 1 else "a run"
    return (f"This console allows {limits.max_runs_per_hour} runs per hour for each browser and address; "
            f"{what} would go over it. Try again in about {int(wait // 60) + 1} min, or run the CLI on your own "
            "machine.")


def batch_refusal(setups: int, *, uses_environment: bool, limits: HostingLimits) -> str | None:
    """Why this console refuses a batch of `setups` at `jobs` at a time (before anything is counted), or None."""
    if uses_environment and not limits.environment_lookups:
        return ("This hosted console does not look names up in its environment variables: give each secret in "
                "the secrets box.")
    if limits.max_batch_setups is not None and setups > limits.max_batch_setups:
        return (f"This console checks at most {limits.max_batch_setups} setups per batch (this one has {setups}); "
                "split the file, or run `python -m checks batch` on your own machine.")
    return None


def allowed_jobs(jobs: int, limits: HostingLimits) -> int:
    """`jobs`, capped at the hosted console's concurrency."""
    return min(jobs, limits.max_batch_jobs) if limits.max_batch_jobs is not None else jobs
