"""Relay console engine: runs the SMTP relay checklist and reports each step; never imports Streamlit.

The public API for scripts and notebooks::

    from checks import config_from_values, run_checklist
    report = run_checklist(config_from_values({"profile": "gmail", "username": "a@example.com", "password": "..."}))
"""

from __future__ import annotations

from importlib import import_module

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing would cost `python -m checks --help` ~10 ms

__version__ = "0.2.0"

if TYPE_CHECKING:
    from checks.model import CheckId, CheckResult, RunReport, Status, Verdict
    from checks.runner import run_checklist
    from checks.settings.config import RelayConfig
    from checks.settings.loading import config_from_values

# Loaded on first use so `python -m checks explain` does not pay for the whole engine (MSAL, dnspython, requests).
_PUBLIC = {
    "CheckId": "checks.model", "CheckResult": "checks.model", "RunReport": "checks.model", "Status": "checks.model",
    "Verdict": "checks.model", "run_checklist": "checks.runner", "RelayConfig": "checks.settings.config",
    "config_from_values": "checks.settings.loading",
}
__all__ = ["CheckId", "CheckResult", "RelayConfig", "RunReport", "Status", "Verdict", "__version__", "config_from_values",
           "run_checklist"]


def __getattr__(name: str):
    if name in _PUBLIC:
        return getattr(import_module(_PUBLIC[name]), name)
    raise AttributeError(f"module 'checks' has no attribute {name!r}")
