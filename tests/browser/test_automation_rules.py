"""An admin makes a rule in Chromium (with JavaScript and without): a condition row added
with "Add a condition" (values kept), a bad value told beside its row, then saved and listed."""

import re
import uuid

from playwright.sync_api import Browser, expect

from portal.demo import DEMO_PASSWORD
from tests.browser.conftest import TIMEOUT_MS

ADMIN = "admin@example.com"


def test_admin_creates_a_rule(browser: Browser, live_server, javascript):
    tag = uuid.uuid4().hex[:8]
    context = browser.new_context(java_script_enabled=javascript)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        page.goto(f"{live_server}/login")
        page.get_by_label("Email").fill(ADMIN)
        page.get_by_label("Password").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page).not_to_have_url(re.compile(r"/login"))
        page.goto(f"{live_server}/admin/automation/rules?brand=hanbit-pay")
        expect(page.get_by_role("link", name="Refunds")).to_be_visible()
        page.get_by_role("link", name="New rule").click()

        page.get_by_label("Name").fill(f"Cards {tag}")
        page.get_by_label("Condition 1", exact=True).select_option("subject_contains")
        page.get_by_label("Value of condition 1").fill("카드")
        page.get_by_role("button", name="Add a condition").click()
        expect(page.get_by_label("Condition 2", exact=True)).to_be_visible()
        expect(page.get_by_label("Value of condition 1")).to_have_value("카드")
        page.get_by_label("Condition 2", exact=True).select_option("priority_is")
        page.get_by_label("Value of condition 2").fill("huge")
        page.get_by_label("Action 1", exact=True).select_option("add_tags")
        page.get_by_label("Value of action 1").fill("cards")
        page.get_by_role("button", name="Save").click()
        expect(page.get_by_role("alert")).to_contain_text("The rule was not saved")
        expect(page.get_by_text("Write low, normal, high or urgent.")).to_be_visible()
        expect(page.get_by_label("Value of condition 2")).to_have_value("huge")
        expect(page.get_by_label("Name")).to_have_value(f"Cards {tag}")

        page.get_by_label("Value of condition 2").fill("normal")
        page.get_by_role("button", name="Save").click()
        expect(page).to_have_url(re.compile(r"/admin/automation/rules\?brand=hanbit-pay"))
        expect(page.get_by_text(f"Rule “Cards {tag}” saved.")).to_be_visible()
        expect(page.get_by_role("link", name=f"Cards {tag}")).to_be_visible()
    finally:
        context.close()
