"""Browser test: the console in headless Chromium - a failing lab scenario, its fix, the CSV, no secret in HTML."""

from __future__ import annotations

import contextlib
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
CANARY = "Canary-Pw-5fd2e19b"
START_TIMEOUT = 60.0
STEP_TIMEOUT_MS = 60_000

pytestmark = pytest.mark.browser


def shown(text: str) -> re.Pattern[str]:
    """Matches `text` as the console shows outside text: an invisible word joiner may precede '.', ':' and '@'
    (checks.safe_text keeps addresses from turning into links)."""
    return re.compile("".join(f"\u2060?{re.escape(ch)}" if ch in ".:@" else re.escape(ch) for ch in text))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_healthy(url: str, process: subprocess.Popen, timeout: float) -> None:
    give_up = time.monotonic() + timeout
    while time.monotonic() < give_up:
        if process.poll() is not None:
            raise AssertionError(f"streamlit exited early with {process.returncode}")
        with contextlib.suppress(OSError), urllib.request.urlopen(url + "/_stcore/health", timeout=2) as response:
            if response.status == 200:
                return
        time.sleep(0.3)
    raise AssertionError(f"the console did not answer on {url} within {timeout:.0f} s")


@contextlib.contextmanager
def running_console(extra_env: dict[str, str] | None = None, *, port: int | None = None
                    ) -> Iterator[tuple[int, list[bytes]]]:
    """`python -m console` (streamlit run app.py) on a loopback port; yields (port, [its log, filled in once it stopped])."""
    port = port or free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("STREAMLIT_")} | (extra_env or {})
    process = subprocess.Popen(
        [sys.executable, "-m", "console", "--server.headless", "true", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    log: list[bytes] = []
    try:
        wait_healthy(f"http://127.0.0.1:{port}", process, START_TIMEOUT)
        yield port, log
    finally:
        process.terminate()
        try:
            output, _ = process.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate(timeout=10)
        log.append(output)


@pytest.fixture(scope="module")
def console_url():
    with running_console() as (port, log):
        yield f"http://127.0.0.1:{port}"
    assert CANARY.encode() not in log[0], "the typed password reached the console's log"


@contextlib.contextmanager
def chromium(*, timeout_ms: int = STEP_TIMEOUT_MS, **context_options: Any) -> Iterator[Any]:
    """A headless Debian Chromium context driven by playwright; a missing browser fails the test, never skips."""
    assert Path(CHROMIUM).exists(), f"Chromium is required at {CHROMIUM} (apt-get install chromium)"
    from playwright.sync_api import sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    print(f"\nscreenshots: {SCREENSHOTS}")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            context = browser.new_context(**context_options)
            context.set_default_timeout(timeout_ms)
            yield context
        finally:
            browser.close()


def test_failing_lab_scenario_in_the_browser(console_url, tmp_path):
    from playwright.sync_api import expect

    with chromium(viewport={"width": 1400, "height": 1800}, accept_downloads=True) as context:
        page = context.new_page()

        # Given the console's first screen (no configuration): the practice lab
        page.goto(console_url)
        expect(page.get_by_role("heading", name="Practice lab")).to_be_visible()
        expect(page.get_by_role("button", name="Run this scenario")).to_be_visible()
        page.screenshot(path=SCREENSHOTS / "01-first-screen.png", full_page=True)

        # When a failing scenario is loaded into the relay form and run with a canary password typed in
        page.goto(f"{console_url}/?scenario=app-password-required")
        page.get_by_role("button", name="Load into Check a relay").click()
        expect(page.get_by_role("heading", name="Check a relay")).to_be_visible()
        password = page.get_by_label("App password", exact=True)
        password.fill(CANARY)
        password.press("Enter")
        page.wait_for_timeout(500)
        page.get_by_role("button", name="Run checks").click()

        # Then the verdict, the failing step and its fix are shown
        expect(page.get_by_text("1 problem to fix").first).to_be_visible()
        expect(page.get_by_text("SMTP sign-in · auth.credentials")).to_be_visible()
        expect(page.get_by_text("How to fix:").first).to_be_visible()
        expect(page.get_by_text("apppasswords").first).to_be_visible()
        page.screenshot(path=SCREENSHOTS / "02-failing-scenario.png", full_page=True)
        page.get_by_text("SMTP sign-in · auth.credentials").scroll_into_view_if_needed()
        page.screenshot(path=SCREENSHOTS / "03-failing-step.png")

        # And the CSV downloads with the failed check in it and no secret
        with page.expect_download() as download_info:
            page.get_by_test_id("stDownloadButton").filter(has_text="CSV").get_by_role("button").click()
        csv_text = Path(download_info.value.path()).read_text(encoding="utf-8")
        assert "auth.credentials" in csv_text and ",fail," in csv_text
        assert CANARY not in csv_text

        # And the page's HTML never holds the typed password
        assert CANARY not in page.content()



def test_a_deep_link_as_the_first_visit_opens_through_the_console_navigation():
    from playwright.sync_api import expect

    # Given a console that has just started (no visit yet, so Streamlit has not seen app.py's navigation)
    with running_console() as (port, _log), chromium(viewport={"width": 1440, "height": 900}) as context:
        page = context.new_page()
        # When the first visit is a link from a ticket into the decoder
        page.goto(f"http://127.0.0.1:{port}/decode")
        # Then the decoder opens inside the console's own navigation, not as a bare file
        expect(page.get_by_role("heading", name="Decode an error")).to_be_visible()
        expect(page.get_by_text("Practice lab").first).to_be_visible()
        assert page.get_by_text("decode error", exact=True).count() == 0
        assert page.get_by_text("Page not found").count() == 0
        page.screenshot(path=SCREENSHOTS / "deep-link-first-visit.png")
