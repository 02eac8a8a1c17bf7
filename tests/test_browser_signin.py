"""Browser test: "Sign in with Microsoft" end to end - practice lab, the emulator's /authorize, back, checks green."""

from __future__ import annotations

import re

import pytest
from test_browser import SCREENSHOTS, chromium, free_port, running_console, shown

from lab.entra_data import EntraScenario, build_directory
from lab.practice import REDIRECT_URIS_ENV

STEP_TIMEOUT_MS = 30_000
SCENARIO = "oauth2-working"
USER = "alice@contoso.example"
OAUTH_CHECKS = ("oauth.tenant", "oauth.client", "oauth.secret_expiry", "oauth.token", "oauth.scopes",
                "auth.credentials", "sender")
# The emulator runs inside the console's process (the practice lab), so its values are unknown here: look for
# their shapes. Access and ID tokens are JWTs; refresh tokens "0.A" + 64 url-safe characters; the client secret
# 40 characters of [A-Za-z0-9_~].
JWT = re.compile(r"eyJ[A-Za-z0-9_-]{8,}")
REFRESH_TOKEN = re.compile(r"0\.A[A-Za-z0-9_-]{40,}")
CLIENT_SECRET = re.compile(r"(?<![A-Za-z0-9_~.%/-])[A-Za-z0-9_~]{40}(?![A-Za-z0-9_~-])")

pytestmark = pytest.mark.browser


def leaks(text: str) -> list[str]:
    """Token- or secret-shaped strings in `text`, described by kind and length (never shown)."""
    kinds = {"JWT": JWT, "refresh token": REFRESH_TOKEN, "client secret": CLIENT_SECRET}
    return [f"{kind} ({len(m.group(0))} chars at {m.start()})" for kind, pattern in kinds.items()
            for m in pattern.finditer(text)]


def test_leak_patterns_recognise_the_lab_s_secrets():
    # Given a directory built like the practice lab's
    directory = build_directory(EntraScenario.WORKING, ())
    # Then its client secret and a refresh/access token would be caught, and ordinary page text would not
    assert leaks(f"<p>{directory.client_secret}</p>")
    assert leaks('value="0.AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-AbCdEfGhIjKlMnOpQrStUvWxYz01"')
    assert leaks("Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln")
    assert not leaks(f"Signed in as {USER}; tenant 6f1b2c3d-0000-4000-8000-0123456789ab")


@pytest.fixture(scope="module")
def console():
    """The console on localhost:<free port>, its practice lab's app registration accepting its Sign in page."""
    port = free_port()
    base = f"http://localhost:{port}"
    with running_console({REDIRECT_URIS_ENV: f"{base}/sign_in"}, port=port) as (_, log):
        yield base
    logged = log[0].decode("utf-8", "replace")
    assert not leaks(logged), f"the console's log holds token-shaped text: {leaks(logged)}"


def assert_no_secret_in(page, where: str) -> None:
    html = page.content()
    assert not leaks(html), f"{where}: the page's HTML holds secret-shaped text: {leaks(html)}"
    assert "client_secret" not in page.url and "code=" not in page.url, f"{where}: {page.url.split('?')[0]}"


@pytest.fixture
def browser_context():
    """A headless Chromium context that accepts the emulator's lab-CA certificate (this test only)."""
    with chromium(timeout_ms=STEP_TIMEOUT_MS, viewport={"width": 1400, "height": 1600},
                  ignore_https_errors=True) as context:
        yield context


def open_sign_in_with_the_lab_loaded(context, base: str):
    """Practice lab > the working OAuth2 scenario > Load into Check a relay > Sign in with Microsoft."""
    from playwright.sync_api import expect

    page = context.new_page()
    page.goto(f"{base}/?scenario={SCENARIO}")
    expect(page.get_by_role("heading", name="Practice lab")).to_be_visible()
    page.get_by_role("button", name="Load into Check a relay").click()
    expect(page.get_by_role("heading", name="Check a relay")).to_be_visible()
    page.get_by_role("link", name="Sign in with Microsoft to get a refresh token").click()
    expect(page.get_by_role("heading", name="Sign in with Microsoft")).to_be_visible()
    expect(page.get_by_text(f"{base}/sign_in", exact=True)).to_be_visible()  # the redirect URI to register
    return page


def test_sign_in_with_microsoft_in_the_browser(console, browser_context):
    from playwright.sync_api import expect

    # Given the working OAuth2 practice scenario loaded into the relay form, and the Sign in page opened from it
    page = open_sign_in_with_the_lab_loaded(browser_context, console)
    page.screenshot(path=SCREENSHOTS / "signin-01-page.png", full_page=True)

    # When the user starts the sign-in, then opens the Microsoft (emulator) sign-in it offers
    page.get_by_role("button", name="Sign in with Microsoft", exact=True).click()
    opener = page.get_by_role("link", name="Open the Microsoft sign-in")
    expect(opener).to_be_visible()
    assert opener.get_attribute("href").startswith("https://127.0.0.1:")
    page.screenshot(path=SCREENSHOTS / "signin-02-started.png", full_page=True)
    assert_no_secret_in(page, "sign-in started")
    with browser_context.expect_page() as opened:
        opener.click()
    back = opened.value  # a new tab: the redirect back opens a new Streamlit session

    # Then the emulator sends the browser back with code+state, and the new session finishes the sign-in
    expect(back.get_by_text(shown(f"Signed in as {USER}")).first).to_be_visible()
    expect(back.get_by_role("button", name="Sign out")).to_be_visible()
    expect(back.get_by_text("the refresh token is ready for the checks")).to_be_visible()
    assert back.url.startswith(f"{console}/sign_in"), back.url.split("?")[0]
    back.screenshot(path=SCREENSHOTS / "signin-03-signed-in.png", full_page=True)
    assert_no_secret_in(back, "signed in")

    # When the checks run with this sign-in (the form holds the refresh token server-side)
    back.get_by_role("link", name="Run the checks with this sign-in").click()
    expect(back.get_by_role("heading", name="Check a relay")).to_be_visible()
    expect(back.get_by_text(shown(f"Signed in with Microsoft as {USER}"))).to_be_visible()
    back.get_by_role("button", name="Run checks").click()

    # Then the OAuth2 checklist is green
    expect(back.get_by_text("Ready for go-live").first).to_be_visible()
    for check_id in OAUTH_CHECKS:
        section = back.locator("summary").filter(
            has=back.locator("code", has_text=re.compile(rf"^{re.escape(check_id)}$")))
        expect(section).to_contain_text("Pass")
    back.set_viewport_size({"width": 1400, "height": 3200})  # Streamlit scrolls inside the page
    back.get_by_text("every check passed").scroll_into_view_if_needed()
    back.screenshot(path=SCREENSHOTS / "signin-04-checks.png")
    assert_no_secret_in(back, "checks run")


def test_unregistered_redirect_uri_is_explained_before_leaving_the_console(console, browser_context):
    from playwright.sync_api import expect

    # Given the console opened as 127.0.0.1 (only its localhost URL is registered on the lab's app)
    other = console.replace("//localhost:", "//127.0.0.1:")
    page = open_sign_in_with_the_lab_loaded(browser_context, other)

    # When the user starts the sign-in
    page.get_by_role("button", name="Sign in with Microsoft", exact=True).click()

    # Then the console names AADSTS50011 and the fix instead of sending the browser to an error page
    expect(page.get_by_text("(AADSTS50011, while opening the Microsoft sign-in)").first).to_be_visible()
    expect(page.get_by_text(shown("Redirect URIs: add exactly the redirect URI")).first).to_be_visible()
    expect(page.get_by_text("</p>")).to_have_count(0)  # the error page is quoted as text, not markup
    expect(page.get_by_role("link", name="Open the Microsoft sign-in")).to_have_count(0)
    page.screenshot(path=SCREENSHOTS / "signin-05-redirect-uri-mismatch.png", full_page=True)
    assert_no_secret_in(page, "redirect URI mismatch")
