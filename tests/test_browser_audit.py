"""Browser test: "Audit a tenant" - a lab tenant audited from the page, its finding shown, no token in the page."""

from __future__ import annotations

import pytest
from test_browser import SCREENSHOTS, chromium, running_console
from test_browser_signin import leaks

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def console():
    with running_console() as (port, log):
        yield f"http://localhost:{port}"
    logged = log[0].decode("utf-8", "replace")
    assert not leaks(logged), f"the console's log holds token-shaped text: {leaks(logged)}"


def test_audit_a_lab_tenant_from_the_page(console):
    from playwright.sync_api import expect

    with chromium(viewport={"width": 1400, "height": 1800}) as context:
        page = context.new_page()
        # Given the audit page, with its read-only script and the permissions it asks for
        page.goto(f"{console}/audit")
        expect(page.get_by_role("heading", name="Audit a tenant")).to_be_visible(timeout=30_000)
        expect(page.get_by_label("PowerShell output")).to_be_visible(timeout=30_000)
        # When the lab tenant with a blocking Conditional Access policy is audited
        page.get_by_text("Practice first: audit a lab tenant").click()
        page.get_by_text("A Conditional Access policy blocks Exchange Online").click()
        page.get_by_role("button", name="Audit this lab tenant").click()
        # Then the policy is named as the problem, and the page holds no token or secret
        expect(page.get_by_text("Block Exchange Online for all users").first).to_be_visible(timeout=90_000)  # lab start
        expect(page.get_by_text("audit.conditional_access").first).to_be_visible(timeout=30_000)
        page.screenshot(path=SCREENSHOTS / "audit-01-lab-tenant.png", full_page=True)
        assert not leaks(page.content())
