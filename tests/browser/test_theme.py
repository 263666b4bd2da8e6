"""An admin changes a brand's theme in Chromium (with JavaScript and without): the Preview
button opens the help center with the unsaved colour and header link in a new tab while the live
help center keeps the old ones; Save applies them. The theme is put back afterwards, as the other
tests expect the demo brand."""

import re

from playwright.sync_api import Browser, Page, expect

from portal.demo import DEMO_PASSWORD
from tests.browser.conftest import TIMEOUT_MS
from tests.browser.test_csp import RECORD

ADMIN = "admin@example.com"
BRAND, LOCALE = "norrsken-energi", "sv"
ORIGINAL = "#065f46"  # portal/demo/norrsken-energi.toml
NEW, NEW_RGB = "#5a189a", "rgb(90, 24, 154)"
LINK = "Theme test status"


def header_colour(page: Page) -> str:
    return page.locator(".site-header").evaluate("e => getComputedStyle(e).backgroundColor")


def fill_theme(page: Page, primary: str, label: str, url: str) -> None:
    page.get_by_label("Primary colour").fill(primary)
    page.locator("#header_links-0-text").fill(label)
    page.locator("#header_links-0-url").fill(url)


def test_admin_previews_then_saves_a_theme(browser: Browser, live_server, javascript):
    context = browser.new_context(java_script_enabled=javascript)
    context.set_default_timeout(TIMEOUT_MS)
    context.add_init_script(RECORD)
    page = context.new_page()
    form_url = f"{live_server}/admin/brands/{BRAND}/theme"
    help_center = f"{live_server}/{BRAND}/{LOCALE}/"
    saved = False
    try:
        page.goto(f"{live_server}/login?next=/admin/brands/{BRAND}/theme")
        page.get_by_label("Email").fill(ADMIN)
        page.get_by_label("Password").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page).to_have_url(form_url)
        fill_theme(page, NEW, LINK, "https://status.example.com/")

        with context.expect_page() as opened:
            page.get_by_role("button", name="Preview").click()
        preview = opened.value
        preview.wait_for_load_state()
        # The preview speaks the brand's default language, as its help center does.
        expect(preview.get_by_role("status")).to_contain_text("inget har sparats")
        expect(preview.get_by_role("link", name=LINK)).to_have_attribute(
            "href", "https://status.example.com/"
        )
        assert header_colour(preview) == NEW_RGB
        if javascript:
            assert preview.evaluate("window.__csp || []") == []
        preview.close()

        live = context.new_page()
        live.goto(help_center)
        expect(live.get_by_role("link", name=LINK)).to_have_count(0)
        assert header_colour(live) != NEW_RGB

        # The form kept what was typed: save it.
        expect(page.get_by_label("Primary colour")).to_have_value(NEW)
        page.get_by_role("button", name="Save").click()
        saved = True
        expect(page.locator(".flash-success")).to_contain_text("is saved")
        expect(page.get_by_label("Primary colour")).to_have_value(NEW)

        # Brands are cached for up to two seconds per process.
        for _ in range(10):
            live.goto(help_center)
            if live.get_by_role("link", name=LINK).count():
                break
            live.wait_for_timeout(500)
        expect(live.get_by_role("link", name=LINK)).to_be_visible()
        assert header_colour(live) == NEW_RGB
        if javascript:
            assert live.evaluate("window.__csp || []") == []
    finally:
        if saved:
            page.goto(form_url)
            fill_theme(page, ORIGINAL, "", "")
            page.get_by_role("button", name="Save").click()
            expect(page.locator(".flash-success")).to_contain_text("is saved")
            expect(page).to_have_url(re.compile(re.escape(form_url)))
        context.close()
