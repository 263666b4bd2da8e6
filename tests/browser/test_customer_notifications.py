"""An admin switches on Hanbit Pay's "closed" notification and words it in English, in Chromium
with JavaScript (the preview comes in by htmx) and without (the preview is a whole page). Put
back afterwards, as the other tests expect the demo's notifications."""

from playwright.sync_api import Browser, expect

from portal.demo import DEMO_PASSWORD
from tests.browser.conftest import TIMEOUT_MS
from tests.browser.test_csp import RECORD

ADMIN = "admin@example.com"
LIST = "/admin/automation/notifications?brand=hanbit-pay"
EDITOR = "/admin/automation/notifications/closed?brand=hanbit-pay&locale=en"


def test_admin_switches_on_and_words_a_notification(browser: Browser, live_server, javascript):
    context = browser.new_context(java_script_enabled=javascript)
    context.set_default_timeout(TIMEOUT_MS)
    context.add_init_script(RECORD)
    page = context.new_page()
    try:
        page.goto(f"{live_server}/login?next={LIST.replace('&', '%26')}")
        page.get_by_label("Email").fill(ADMIN)
        page.get_by_label("Password").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("Customer notifications")

        page.get_by_role("button", name="Switch on Request closed").click()
        expect(page.locator(".flash-success")).to_contain_text("are saved")
        row = page.locator("#notification-closed")
        expect(row.get_by_role("button", name="Switch off Request closed")).to_be_visible()

        row.get_by_role("link", name="English").click()
        page.get_by_label("Subject").fill("Closed: {{ticket_subject}}")
        page.get_by_label("Text").fill("Bye {{requester_name}}, {{nickname}}")
        page.get_by_role("button", name="Save").click()
        expect(page.locator("#body-error")).to_contain_text("Unknown placeholder: {{nickname}}")
        expect(page.get_by_label("Subject")).to_have_value("Closed: {{ticket_subject}}")

        page.get_by_label("Text").fill(
            "Bye {{requester_name}}, thanks for choosing {{brand_name}}."
        )
        page.get_by_role("button", name="Preview").click()
        preview = page.locator("#notification-preview")
        expect(preview).to_contain_text("Closed: A sample request")
        expect(preview).to_contain_text("thanks for choosing Hanbit Pay.")
        frame = preview.frame_locator("iframe")
        expect(frame.locator("body")).to_contain_text("thanks for choosing Hanbit Pay.")
        # By the keyboard: the frame's mail still settling its height may move a pointer's aim.
        page.get_by_role("button", name="Save").press("Enter")
        expect(page.locator(".flash-success")).to_contain_text("The wording is saved.")
        expect(page.get_by_label("Text")).to_have_value(
            "Bye {{requester_name}}, thanks for choosing {{brand_name}}."
        )
        if javascript:
            assert page.evaluate("window.__csp || []") == []
    finally:
        # Back to the demo: closed off, no English wording of it.
        page.goto(f"{live_server}{EDITOR}")
        page.get_by_label("Subject").fill("")
        page.get_by_label("Text").fill("")
        page.get_by_role("button", name="Save").click()
        page.goto(f"{live_server}{LIST}")
        off = page.get_by_role("button", name="Switch off Request closed")
        if off.count():
            off.click()
        context.close()
