"""An admin adds a team-chat webhook in Chromium (with JavaScript and without): a private
address is refused beside the field with what was typed kept; saved, "Send a test" leads to
its delivery log; the demo's failing webhook shows its log (connection refused)."""

import re
import uuid

from playwright.sync_api import Browser, expect

from portal.demo import DEMO_PASSWORD
from tests.browser.conftest import TIMEOUT_MS


def test_admin_adds_a_webhook_and_reads_its_delivery_log(browser: Browser, live_server, javascript):
    tag = uuid.uuid4().hex[:8]
    context = browser.new_context(java_script_enabled=javascript)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        page.goto(f"{live_server}/login")
        page.get_by_label("Email").fill("admin@example.com")
        page.get_by_label("Password").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.goto(f"{live_server}/admin/automation/webhooks")
        demo_row = page.locator("tr").filter(has_text="Receiver on this computer")
        # Its last delivery: the demo's refused one, or one queued since by another test's ticket.
        expect(demo_row).to_contain_text(re.compile("Retrying|Waiting"))
        demo_row.get_by_role("link", name="Delivery log").click()
        while page.locator("a[rel=next]").count():  # the demo's own delivery is the oldest
            page.locator("a[rel=next]").click()
        expect(page.locator("#delivery-log")).to_contain_text("refused")

        page.goto(f"{live_server}/admin/automation/webhooks")
        page.get_by_role("link", name="Add a webhook for Hanbit Pay").click()
        page.get_by_label("Name").fill(f"Ops {tag}")
        page.get_by_label("Kind").select_option(label="Slack incoming webhook")
        page.get_by_label("URL").fill("http://169.254.169.254/latest/meta-data/")
        page.get_by_role("button", name="Save").click()
        expect(page.locator("#url-error")).to_contain_text("169.254.169.254")
        expect(page.get_by_label("Name")).to_have_value(f"Ops {tag}")

        page.get_by_label("URL").fill(f"https://hooks.slack.invalid/services/T0/B0/{tag}")
        page.get_by_role("button", name="Save").click()
        expect(page).to_have_url(re.compile(r"/admin/automation/webhooks\?brand=hanbit-pay"))
        row = page.locator("tr").filter(has_text=f"Ops {tag}")
        expect(row).to_contain_text("None yet")
        assert f"B0/{tag}" not in page.content()  # the URL holds the token: never shown
        row.get_by_role("button", name="Send a test").click()
        expect(page).to_have_url(re.compile(r"/deliveries$"))
        expect(page.locator("#delivery-log")).to_contain_text("does not resolve")
        expect(page.locator("#delivery-log")).to_contain_text("Retrying")
        assert f"B0/{tag}" not in page.content()
    finally:
        context.close()
