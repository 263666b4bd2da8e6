"""The organization admin manages members in Chromium (with JavaScript and without): invites a
member with a role per brand, sees them "Invited", is told what was wrong when a field is bad
(what was typed kept), deactivates them; and makes a custom role."""

import re
import uuid

from playwright.sync_api import Browser, expect

from portal.demo import DEMO_PASSWORD
from tests.browser.conftest import TIMEOUT_MS

OWNER = "owner@example.com"


def signed_in(browser: Browser, base_url: str, javascript: bool, email: str):
    context = browser.new_context(java_script_enabled=javascript)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.goto(f"{base_url}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/admin/members$"))  # an owner's first page
    return context, page


def test_owner_invites_a_member_and_deactivates_them(browser: Browser, live_server, javascript):
    tag = uuid.uuid4().hex[:8]
    context, page = signed_in(browser, live_server, javascript, OWNER)
    try:
        page.get_by_role("link", name="Invite a member").click()
        page.get_by_label("Name").fill(f"Nina {tag}")
        page.get_by_label("Email").fill(f"not an address {tag}")
        page.get_by_label("Role on Hanbit Pay").select_option(label="Agent")
        page.get_by_label("Role on Norrsken Energi").select_option(label="Editor")
        page.get_by_role("button", name="Send the invitation").click()
        expect(page.get_by_role("alert")).to_contain_text("Give a valid email address.")
        expect(page.get_by_label("Name")).to_have_value(f"Nina {tag}")
        chosen = page.get_by_label("Role on Hanbit Pay").locator("option:checked")
        expect(chosen).to_have_text("Agent")

        page.get_by_label("Email").fill(f"nina.{tag}@example.com")
        page.get_by_role("button", name="Send the invitation").click()
        expect(page).to_have_url(re.compile(r"/admin/members$"))
        expect(page.get_by_text(f"Invitation sent to nina.{tag}@example.com.")).to_be_visible()
        row = page.locator("table.members tr").filter(has_text=f"Nina {tag}")
        expect(row).to_contain_text("Invited")
        expect(row).to_contain_text("Agent on Hanbit Pay")
        expect(row).to_contain_text("Editor on Norrsken Energi")

        row.get_by_role("link", name=f"Nina {tag}").click()
        page.get_by_role("button", name="Deactivate").click()
        expect(page.get_by_text(f"Nina {tag} is deactivated and signed out.")).to_be_visible()
        expect(page.locator("table.members tr").filter(has_text=f"Nina {tag}")).to_contain_text(
            "Deactivated"
        )
    finally:
        context.close()


def test_owner_makes_a_custom_role(browser: Browser, live_server, javascript):
    name = f"Triage {uuid.uuid4().hex[:6]}"
    context, page = signed_in(browser, live_server, javascript, OWNER)
    try:
        page.goto(f"{live_server}/admin/roles/new")
        page.get_by_label("Name").fill(name)
        page.get_by_role("button", name="Save").click()
        expect(page.get_by_role("alert")).to_contain_text("Choose at least one permission.")
        expect(page.get_by_label("Name")).to_have_value(name)
        page.get_by_label("Tickets: view").check()
        page.get_by_label("Tickets: internal notes").check()
        page.get_by_role("button", name="Save").click()
        expect(page).to_have_url(re.compile(r"/admin/roles$"))
        row = page.locator("table.roles tr").filter(has_text=name)
        expect(row).to_contain_text("Tickets: view, Tickets: internal notes")
        expect(
            page.locator("table.roles tr").filter(has_text="Writer (drafts only)")
        ).to_contain_text("Knowledge base: write")
    finally:
        context.close()
