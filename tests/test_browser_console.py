"""Browser tests: the console answers first - a form that runs what it shows, the verdict card in the first
screen with commands to copy, shareable links, and no request outside the console's own address."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from test_browser import CANARY, SCREENSHOTS, chromium, running_console

from checks.model import CheckId, CheckResult, RunReport, Status
from checks.report.export import to_csv
from lab.smtp import LAB_ACCOUNTS, Personality

WIDE = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}
CARD = ".st-key-verdict_card"
M365_SENDER = LAB_ACCOUNTS[Personality.M365][0]
BATCH = ("name,profile,host,port,username,password_env\n"
         "shop,gmail,smtp.gmail.com,99999,shop@example.com,SHOP_PW\n"
         "crm,m365-basic,smtp.office365.com,587,not-an-address,CRM_PW\n")
PAGES = {"practice": "", "check": "check", "sign-in": "sign_in", "decode": "decode", "token": "token",
         "batch": "batch", "report": "report", "guide": "guide"}

EXPECT_TIMEOUT_MS = 30_000  # the machine is shared: a rerun can take seconds
pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True, scope="module")
def patient_expectations():
    from playwright.sync_api import expect

    expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    yield
    expect.set_options(timeout=5_000)


@pytest.fixture(scope="module")
def console_url():
    from playwright.sync_api import expect

    with running_console() as (port, log):
        base = f"http://127.0.0.1:{port}"
        with chromium() as context:  # the first session registers the pages; before that /check is "not found"
            page = context.new_page()
            page.goto(base)
            expect(page.get_by_role("heading", name="Practice lab")).to_be_visible()
        yield base
    assert CANARY.encode() not in log[0], "the typed password reached the console's log"


def size_name(viewport: dict[str, int]) -> str:
    return str(viewport["width"])


def settled(page) -> None:
    """Wait until the console's script run has finished (Streamlit's 'Running' widget is gone)."""
    from playwright.sync_api import expect

    expect(page.get_by_test_id("stStatusWidget")).to_have_count(0, timeout=30_000)


def open_in_form(page, base: str, scenario_id: str) -> None:
    """Practice lab with a scenario (linked by its id) > Load into Check a relay."""
    from playwright.sync_api import expect

    page.goto(f"{base}/?scenario={scenario_id}")
    page.get_by_role("button", name="Load into Check a relay").click()
    expect(page.get_by_role("heading", name="Check a relay")).to_be_visible()


def test_tab_then_click_runs_with_the_typed_password(console_url):
    from playwright.sync_api import expect

    with chromium(viewport=WIDE) as context:
        page = context.new_page()
        # Given the relay form of a Gmail lab setup with no password held yet
        open_in_form(page, console_url, "app-password-required")
        page.get_by_role("button", name="Forget the saved app password").click()
        expect(page.get_by_role("button", name="Forget the saved app password")).to_have_count(0)
        # When a password is typed, Tab pressed twice (to the eye icon and on), and Run checks clicked
        password = page.get_by_label("App password", exact=True)
        password.fill(CANARY)
        password.press("Tab")
        page.keyboard.press("Tab")
        page.get_by_role("button", name="Run checks").click()
        # Then the checks ran with that password: Google's lab refuses it at sign-in, nothing says it is missing
        card = page.locator(CARD)
        expect(card).to_contain_text("Broke at SMTP sign-in")
        expect(page.get_by_text("App password is required")).to_have_count(0)
        # And the typed password is gone from the page (held for this session on the server)
        settled(page)
        # (Streamlit drops the input of the previous key a moment after the run ends: wait for the one left)
        expect(page.get_by_label("App password", exact=True)).to_have_count(1)
        expect(page.get_by_label("App password", exact=True)).to_have_value("")
        expect(page.get_by_label("App password", exact=True)).to_have_attribute("placeholder", re.compile("set for"))
        assert CANARY not in page.content()


def test_port_99999_blocks_the_run_with_the_reason_at_the_field(console_url):
    from playwright.sync_api import expect

    with chromium(viewport=WIDE) as context:
        page = context.new_page()
        # Given the relay form of a working lab setup
        open_in_form(page, console_url, "working-gmail")
        # When the port is set to 99999 and the checks run
        page.get_by_label("Port", exact=True).fill("99999")
        page.get_by_role("button", name="Run checks").click()
        # Then nothing runs, and the port field says why
        expect(page.get_by_text("Port must be a whole number from 1 to 65535").first).to_be_visible()
        expect(page.get_by_text("Fix the 1 field(s) marked in red")).to_be_visible()
        expect(page.locator(CARD)).to_have_count(0)
        expect(page.get_by_label("Port", exact=True)).to_have_value("99999")
        page.screenshot(path=SCREENSHOTS / "check-invalid-port-1440.png")


def test_a_failed_validation_leaves_no_result_that_looks_current(console_url):
    from playwright.sync_api import expect

    with chromium(viewport=WIDE) as context:
        page = context.new_page()
        # Given a finished run of a working lab setup
        open_in_form(page, console_url, "working-gmail")
        page.get_by_role("button", name="Run checks").click()
        expect(page.locator(CARD)).to_contain_text("Ready for go-live")
        # When the sender is made invalid and Run clicked again
        page.get_by_label("Sender", exact=True).fill("not an address")
        page.get_by_role("button", name="Run checks").click()
        # Then the field error shows and the earlier answer is gone
        expect(page.get_by_text("Fix the 1 field(s) marked in red")).to_be_visible()
        expect(page.locator(CARD)).to_have_count(0)
        expect(page.get_by_text("Ready for go-live")).to_have_count(0)


@pytest.mark.parametrize("viewport", [WIDE, PHONE], ids=size_name)
def test_practice_verdict_card_is_inside_the_first_screen(console_url, viewport):
    from playwright.sync_api import expect

    with chromium(viewport=viewport) as context:
        page = context.new_page()
        # Given the practice lab opened on a failing scenario
        page.goto(f"{console_url}/?scenario=smtp-auth-disabled-mailbox")
        # When it runs
        page.get_by_role("button", name="Run this scenario").click()
        card = page.locator(CARD)
        expect(card).to_contain_text("1 problem to fix")
        # Then the verdict card starts inside the first screen, its headline visible without scrolling
        box = card.bounding_box()
        assert box is not None and box["y"] >= 0 and box["y"] + 80 <= viewport["height"], box
        page.screenshot(path=SCREENSHOTS / f"practice-verdict-{size_name(viewport)}.png")


def test_verdict_card_gives_the_command_with_the_senders_address(console_url):
    from playwright.sync_api import expect

    with chromium(viewport={"width": 1440, "height": 1300}) as context:
        page = context.new_page()
        # Given the "SMTP AUTH disabled for the mailbox" scenario  When it runs
        page.goto(f"{console_url}/?scenario=smtp-auth-disabled-mailbox")
        page.get_by_role("button", name="Run this scenario").click()
        card = page.locator(CARD)
        expect(card).to_contain_text("Broke at SMTP sign-in")
        # Then the card holds a code block with the command, the lab mailbox's real address filled in
        command = card.get_by_test_id("stCode").filter(has_text="Set-CASMailbox")
        expect(command.first).to_contain_text(re.compile(rf"Set-CASMailbox -Identity {re.escape(M365_SENDER)}\s"))
        expect(command.first).to_contain_text("-SmtpClientAuthenticationDisabled $false")
        # And the path picture marks the step that broke
        picture = page.get_by_test_id("stGraphVizChart")
        expect(picture).to_contain_text("broke here")
        card.screenshot(path=SCREENSHOTS / "verdict-card.png")
        picture.screenshot(path=SCREENSHOTS / "path-picture.png")


def test_a_shared_link_restores_the_form_without_running(console_url):
    from playwright.sync_api import expect

    with chromium(viewport=WIDE) as context:
        page = context.new_page()
        # Given a colleague's form with a custom server, port and sender (password typed but never shared)
        page.goto(f"{console_url}/check")
        page.get_by_role("combobox", name="Setup to check").click()
        page.get_by_role("option", name="Microsoft 365 (basic auth)").click()
        expect(page.get_by_label("SMTP server", exact=True)).to_have_value("smtp.office365.com")
        settled(page)
        page.get_by_label("SMTP server", exact=True).fill("smtp.example.org")
        page.get_by_label("Port", exact=True).fill("2525")
        page.get_by_label("Username", exact=True).fill("relay@contoso.example")
        page.get_by_label("Password", exact=True).fill(CANARY)
        page.get_by_label("Sender", exact=True).fill("relay@contoso.example")
        page.get_by_label("Send a test message to (optional)", exact=True).fill("bad address")
        page.get_by_role("button", name="Run checks").click()
        expect(page.get_by_text("Fix the 1 field(s) marked in red")).to_be_visible()
        # When they copy the link
        page.get_by_role("button", name="Copy link").click()
        link = page.get_by_test_id("stCode").filter(has_text="/check?").inner_text().strip()
        assert CANARY not in link and "password=" not in link
    with chromium(viewport=WIDE) as context:
        page = context.new_page()
        # And it is opened in a new browser
        page.goto(link)
        # Then the form shows the same settings, and nothing ran
        expect(page.get_by_text("Settings filled in from the link")).to_be_visible()
        expect(page.get_by_label("SMTP server", exact=True)).to_have_value("smtp.example.org")
        expect(page.get_by_label("Port", exact=True)).to_have_value("2525")
        expect(page.get_by_label("Sender", exact=True)).to_have_value("relay@contoso.example")
        expect(page.get_by_role("combobox", name="Setup to check")).to_have_value("Microsoft 365 (basic auth)")
        expect(page.get_by_label("Password", exact=True)).to_have_value("")
        expect(page.locator(CARD)).to_have_count(0)


def report_files(folder) -> list:
    """Two saved reports of one setup: the sign-in failed, then (an hour later) worked."""
    moment = dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.UTC)
    paths = []
    for name, status, hours in (("after.csv", Status.PASS, 1), ("before.csv", Status.FAIL, 0)):
        at = moment + dt.timedelta(hours=hours)
        report = RunReport(name[:-4], at, at, "test", "gmail", "smtp.gmail.com", 587, "starttls", "shop@example.com",
                           (CheckResult.of(CheckId.PORT, "Port reachable", Status.PASS, "Port 587 open."),
                            CheckResult.of(CheckId.AUTH_CREDENTIALS, "SMTP sign-in", status, f"Sign-in {status}.")))
        path = folder / name
        path.write_text(to_csv(report), encoding="utf-8")
        paths.append(path)
    return paths


@pytest.mark.parametrize("viewport", [WIDE, PHONE], ids=size_name)
def test_every_page_stays_on_the_consoles_origin_and_is_photographed(console_url, viewport, tmp_path):
    from playwright.sync_api import expect

    with chromium(viewport=viewport) as context:
        page = context.new_page()
        outside: list[str] = []
        page.on("request", lambda request: outside.append(request.url)
                if not request.url.startswith((console_url, "data:", "blob:")) else None)
        # Given each page of the console  When it is opened (the practice lab and the relay form also run)
        for name, path in PAGES.items():
            page.goto(f"{console_url}/{path}")
            expect(page.get_by_role("heading").first).to_be_visible()
            if name == "practice":
                page.goto(f"{console_url}/?scenario=port-closed")
                page.get_by_role("button", name="Run this scenario").click()
                expect(page.locator(CARD)).to_be_visible()
                expect(page.get_by_test_id("stGraphVizChart")).to_be_visible()
            if name == "check":
                open_in_form(page, console_url, "expired-cert")
                page.get_by_role("button", name="Run checks").click()
                expect(page.locator(CARD)).to_be_visible()
            if name == "batch":  # setups refused by validation: no network needed, the causes still show
                page.get_by_label("…or paste the batch file here").fill(BATCH)
                page.get_by_label("…or paste the batch file here").press("Control+Enter")
                expect(page.get_by_text("2 setups in the file")).to_be_visible()
                settled(page)
                page.get_by_role("button", name="Run the batch").click()
                expect(page.get_by_text("Setups by cause")).to_be_visible()
            if name == "report":  # uploaded newer first; compared older -> newer
                page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(report_files(tmp_path))
                expect(page.get_by_text("What changed")).to_be_visible()
            settled(page)
            page.wait_for_timeout(2000)  # tables and charts paint after the run ends
            page.screenshot(path=SCREENSHOTS / f"page-{name}-{size_name(viewport)}.png")
        # Then nothing was requested from anywhere but the console itself (fonts, icons and pictures are local)
        assert outside == [], outside
