"""An admin moves a ticket to the trash and restores it in Chromium, with JavaScript and
without: asked first, gone from the queue, listed in the trash, back where it was."""

import re

import pytest
from playwright.sync_api import Browser, expect

from portal.demo import DEMO_PASSWORD
from tests.browser.conftest import TIMEOUT_MS

ADMIN = "admin@example.com"  # admins hold tickets.delete on every brand


@pytest.fixture(scope="module")
def admin_state(browser: Browser, live_server) -> dict:
    context = browser.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.goto(f"{live_server}/login?next=/agent/")
    page.get_by_label("Email").fill(ADMIN)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(rf"^{re.escape(live_server)}/agent/"))
    state = context.storage_state()
    context.close()
    return state


def test_a_ticket_goes_to_the_trash_and_comes_back(
    browser: Browser, live_server, admin_state, javascript, screenshot
):
    context = browser.new_context(java_script_enabled=javascript, storage_state=admin_state)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        page.goto(f"{live_server}/agent/")
        first = page.locator("table.tickets a[href*='/agent/tickets/']").first
        subject = first.inner_text()
        href = first.get_attribute("href")
        page.goto(live_server + href)

        page.get_by_role("link", name="Move to the trash…").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("to the trash?")
        page.get_by_role("button", name="Move to the trash").click()
        expect(page).to_have_url(f"{live_server}/agent/")
        expect(page.locator(".flashes")).to_contain_text("moved to the trash")
        expect(page.locator(f"table.tickets a[href='{href}']")).to_have_count(0)

        page.get_by_role("link", name="Trash", exact=True).click()
        row = page.locator("tr", has=page.locator(f"a[href='{href}']"))
        expect(row).to_contain_text(subject)
        screenshot(page, "trash")
        row.get_by_role("button", name="Restore").click()
        expect(page).to_have_url(live_server + href)
        expect(page.locator(".flashes")).to_contain_text("restored")
        expect(page.locator("#in-trash")).to_have_count(0)

        page.goto(f"{live_server}/agent/")
        expect(page.locator(f"table.tickets a[href='{href}']")).to_have_count(1)
    finally:
        context.close()
