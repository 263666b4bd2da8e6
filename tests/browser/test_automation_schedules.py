"""An admin creates a schedule in Chromium, with JavaScript (rows added by htmx) and without
(rows added by a plain submit that shows the form again): a bad row is said beside it, the
values stay, and the saved schedule is listed."""

import re

import pytest
from playwright.sync_api import Browser, expect

from portal.demo import DEMO_PASSWORD
from tests.browser.conftest import TIMEOUT_MS

ADMIN = "admin@example.com"  # admins hold "automation" on every brand


@pytest.fixture(scope="module")
def admin_state(browser: Browser, live_server) -> dict:
    context = browser.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.goto(f"{live_server}/login?next=/admin/automation/schedules")
    page.get_by_label("Email").fill(ADMIN)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(rf"^{re.escape(live_server)}/admin/automation/"))
    state = context.storage_state()
    context.close()
    return state


def test_an_admin_creates_a_schedule(
    browser: Browser, live_server, admin_state, javascript, screenshot
):
    context = browser.new_context(java_script_enabled=javascript, storage_state=admin_state)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    name = f"Nudge ({'js' if javascript else 'nojs'})"
    try:
        page.goto(f"{live_server}/admin/automation/schedules")
        expect(page.locator("body")).to_contain_text("Solve after 7 days")
        page.get_by_role("link", name="New schedule").first.click()
        page.get_by_label("Name").fill(name)
        page.get_by_label("Condition 1", exact=True).select_option("status")
        page.get_by_label("Value of condition 1").fill("pending")
        page.get_by_role("button", name="Add a condition").click()
        page.get_by_label("Condition 2", exact=True).select_option("hours_since_agent")
        page.get_by_label("Value of condition 2").fill("soon")
        page.get_by_label("Action 1", exact=True).select_option("add_note")
        page.get_by_label("Value of action 1").fill("Still waiting on the customer.")
        page.get_by_role("button", name="Add an action").click()
        page.get_by_label("Action 2", exact=True).select_option("add_tags")
        page.get_by_label("Value of action 2").fill("waiting")
        expect(page.get_by_label("Value of condition 1")).to_have_value("pending")
        expect(page.get_by_label("Name")).to_have_value(name)
        page.get_by_role("button", name="Save", exact=True).click()

        expect(page.locator("#conditions-1-value-error")).to_contain_text("whole number of hours")
        expect(page.get_by_label("Value of action 1")).to_have_value(
            "Still waiting on the customer."
        )
        screenshot(page, "error")
        page.get_by_label("Value of condition 2").fill("72")
        page.get_by_role("button", name="Save", exact=True).click()
        expect(page).to_have_url(re.compile(r"/admin/automation/schedules#schedule-\d+$"))
        expect(page.locator(".flashes")).to_contain_text(f"Schedule “{name}” saved.")
        row = page.locator("tr", has_text=name)
        expect(row).to_contain_text("Hours since an agent's last reply: 72")
        expect(row).to_contain_text("Add tags: waiting")
        screenshot(page, "list")
    finally:
        context.close()
