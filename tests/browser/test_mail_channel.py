"""The mail channel's back office in Chromium, with JavaScript and without: an admin connects a
support address (a mistake first, shown beside the field with what was typed kept), then finds it
listed, and the received-mail and mailbox pages open."""

import re
import uuid

import pytest
from playwright.sync_api import Browser, expect

from portal.demo import DEMO_PASSWORD
from tests.browser.conftest import TIMEOUT_MS

pytestmark = pytest.mark.browser
ADMIN = "admin@example.com"


@pytest.fixture
def admin_page(browser: Browser, live_server, javascript):
    context = browser.new_context(java_script_enabled=javascript)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.goto(f"{live_server}/login?next=/admin/mail-addresses")
    page.get_by_label("Email").fill(ADMIN)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/admin/mail-addresses$"))
    yield page
    context.close()


def test_an_admin_connects_a_support_address(admin_page, live_server, screenshot):
    page = admin_page
    # The demo's addresses are listed.
    expect(page.get_by_role("link", name="support@hanbit-pay.example", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="daehan@hanbit-pay.example", exact=True)).to_be_visible()
    page.get_by_role("link", name="New address").click()
    local = f"help-{uuid.uuid4().hex[:8]}"
    page.get_by_label("Address").fill(f"{local}+x@norrsken-energi.example")
    page.get_by_label("Brand").select_option(label="Norrsken Energi")
    page.get_by_role("button", name="Save").click()
    # Refused: the +tag is Portal's own; the typed address is kept beside the message.
    field = page.get_by_label("Address")
    expect(field).to_have_value(f"{local}+x@norrsken-energi.example")
    expect(page.locator("#address-error, .field-error, [id$='-error']").first).to_be_visible()
    screenshot(page, "refused")
    field.fill(f"{local}@norrsken-energi.example")
    page.get_by_role("button", name="Save").click()
    expect(page).to_have_url(re.compile(r"/admin/mail-addresses#address-\d+$"))
    added = page.get_by_role("link", name=f"{local}@norrsken-energi.example", exact=True)
    expect(added).to_be_visible()
    expect(page.locator(".flash-success")).to_contain_text(f"{local}@norrsken-energi.example")
    screenshot(page, "listed")
    for path, heading in (("/admin/mail-in", "Mail received"), ("/admin/mailboxes", "Mailboxes")):
        page.goto(live_server + path)
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
