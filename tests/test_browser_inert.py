"""Browser test: outside text stays text. A banner and a pasted error carrying a Markdown link and image that
point at a loopback beacon go through "Check a relay" and "Decode an error" in Chromium: the beacon is never
asked for anything, and the page holds no link or image to it."""

from __future__ import annotations

import pytest
from test_browser import SCREENSHOTS, chromium, running_console

from lab.hostile import HostileKind, markdown_banner, start_beacon, start_hostile

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def console():
    with running_console() as (port, _):
        yield f"http://127.0.0.1:{port}"


def open_page(page, console: str, title: str) -> None:
    """Open a page from the navigation (a deep link can race the page registry of a fresh session)."""
    page.goto(console)
    page.get_by_role("link", name=title).first.click()
    page.get_by_role("heading", name=title).wait_for()


def live_elements(page, beacon_url: str) -> int:
    """Links and images in the page that lead to the beacon or to the banner's outside host."""
    selector = (f"a[href*='{beacon_url[7:]}'], img[src*='{beacon_url[7:]}'], a[href*='evil.example'], "
                "img[src*='evil.example']")
    return page.locator(selector).count()


def test_a_markdown_banner_is_shown_as_text_in_check_a_relay(console, pki, tmp_path):
    from playwright.sync_api import expect

    beacon = start_beacon()
    server = start_hostile(HostileKind.MARKDOWN_BANNER, pki=pki, beacon=beacon.url)
    settings = tmp_path / "hostile.toml"
    settings.write_text(f'profile = "custom"\nhost = "127.0.0.1"\nport = {server.port}\nsecurity = "starttls"\n'
                        'auth = "none"\ntimeout = 3\n', encoding="utf-8")
    try:
        with chromium(viewport={"width": 1400, "height": 2200}) as context:
            page = context.new_page()
            # Given the relay form filled from a settings file that points at the hostile server
            open_page(page, console, "Check a relay")
            page.get_by_text("Load settings from a file").click()
            page.locator("input[type=file]").first.set_input_files(str(settings))
            expect(page.get_by_role("textbox", name="SMTP server")).to_have_value("127.0.0.1")
            # When the checks run (the banner shows in the live status box and in the check's summary)
            page.get_by_role("button", name="Run checks").click()
            expect(page.get_by_role("heading", name="Check by check")).to_be_visible()
            greeting = page.get_by_test_id("stExpander").filter(has_text="smtp.greeting")
            greeting.locator("summary").click()
            page.wait_for_timeout(1500)
            page.screenshot(path=SCREENSHOTS / "inert-check-a-relay.png", full_page=True)
            # Then the banner's words are on the screen as text, nothing in the page leads to the beacon,
            # and the beacon was never asked for anything
            assert "[Sign in again](" in greeting.inner_text()
            assert live_elements(page, beacon.url) == 0
            assert beacon.requests == []
    finally:
        server.stop()
        beacon.stop()


def test_a_pasted_error_with_markdown_is_shown_as_text_in_decode_an_error(console):
    from playwright.sync_api import expect

    beacon = start_beacon()
    try:
        with chromium(viewport={"width": 1400, "height": 1600}) as context:
            page = context.new_page()
            # Given the decoder and an unknown reply whose text carries a link, an image and a tag
            open_page(page, console, "Decode an error")
            box = page.get_by_label("Error text")
            box.fill(f"550 5.9.9 {markdown_banner(beacon.url)}")
            box.press("Control+Enter")
            # When it is explained
            expect(page.get_by_text("not in the catalog").first).to_be_visible()
            page.wait_for_timeout(1500)
            page.screenshot(path=SCREENSHOTS / "inert-decode-an-error.png", full_page=True)
            # Then the words are there as text, and nothing leads to or asked the beacon
            expect(page.get_by_text("![p](").first).to_be_visible()
            assert live_elements(page, beacon.url) == 0
            assert beacon.requests == []
    finally:
        beacon.stop()
