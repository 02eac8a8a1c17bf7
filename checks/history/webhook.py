"""Alerts to an incoming webhook (Teams, Slack, Mattermost): one JSON POST per watch cycle, retried.

The body has a `text` those services show as it is, plus the alerts' structured fields. The URL often holds
a token, so it is never printed: messages name only its scheme and host.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from checks import __version__
from checks.workers import call_with_deadline

TIMEOUT = 10.0  # seconds per attempt
ATTEMPTS = 3
BACKOFF = (1.0, 3.0)  # seconds slept before the second and third attempt
MAX_TEXT_LINES = 40
MAX_ANSWER_BYTES = 4096


class WebhookError(ValueError):
    """A webhook URL that cannot be used."""


@dataclass(frozen=True)
class Delivery:
    delivered: bool
    attempts: int
    problem: str = ""  # why the last attempt failed (no URL, no secret)


def check_url(url: str) -> str:
    """The URL, if it is an http(s) URL with a host; WebhookError naming what is wrong otherwise."""
    parts = urllib.parse.urlsplit((url or "").strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise WebhookError("--webhook: give an http:// or https:// URL")
    return url.strip()


def where(url: str) -> str:
    """Scheme and host of the URL (its path and query may hold a token)."""
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}" + (f":{parts.port}" if parts.port else "")


def body(alerts: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The JSON document for these alerts' payloads: `text` first, then the structured fields."""
    lines = [str(a.get("text", "")) for a in alerts]
    shown = lines[:MAX_TEXT_LINES]
    if len(lines) > MAX_TEXT_LINES:
        shown.append(f"... and {len(lines) - MAX_TEXT_LINES} more alerts")
    header = f"Relay console watch: {len(alerts)} alert{'s' if len(alerts) != 1 else ''}"
    return {"text": "\n".join([header, *shown]), "source": "relay-console watch", "tool_version": __version__,
            "alerts": list(alerts)}


def _post(url: str, data: bytes, timeout: float) -> None:
    request = urllib.request.Request(url, data=data, method="POST",
                                     headers={"Content-Type": "application/json",
                                              "User-Agent": f"relay-console/{__version__}"})

    def exchange() -> None:
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310 - scheme checked in check_url
            answer.read(MAX_ANSWER_BYTES)

    call_with_deadline(exchange, timeout, name="webhook")  # the whole exchange, not each read


def deliver(url: str, alerts: Sequence[dict[str, Any]], *, attempts: int = ATTEMPTS,
            sleep: Callable[[float], None] = time.sleep, timeout: float = TIMEOUT,
            post: Callable[[str, bytes, float], None] = _post) -> Delivery:
    """POST the alerts, retrying on failure; never raises (the caller keeps undelivered alerts)."""
    data = json.dumps(body(alerts), ensure_ascii=False).encode("utf-8")
    problem = ""
    for attempt in range(1, attempts + 1):
        if attempt > 1:
            sleep(BACKOFF[min(attempt - 2, len(BACKOFF) - 1)])
        try:
            post(url, data, timeout)
            return Delivery(True, attempt)
        except urllib.error.HTTPError as exc:
            problem = f"{where(url)} answered HTTP {exc.code}"
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            problem = f"{where(url)} could not be reached ({type(reason).__name__})"
    return Delivery(False, attempts, problem)
