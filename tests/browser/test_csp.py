"""The Content-Security-Policy lets every main page work with JavaScript on: Chromium reports
no violation (an inline script or style, htmx's indicator style, a script from elsewhere)."""

import re

from playwright.sync_api import Browser, Page, expect

from portal.demo import DEMO_PASSWORD
from tests.browser.conftest import TIMEOUT_MS

RECORD = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`);
});
"""


def _context(browser: Browser, live_server: str, email: str | None):
    context = browser.new_context(java_script_enabled=True)
    context.set_default_timeout(TIMEOUT_MS)
    context.add_init_script(RECORD)
    if email:
        page = context.new_page()
        page.goto(f"{live_server}/login")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("button", name="Sign out")).to_be_visible()
        page.close()
    return context


def _visit(page: Page, url: str, console: list[str], act=None) -> list[str]:
    response = page.goto(url)
    assert response is not None and response.status == 200, url
    assert response.headers.get("content-security-policy"), url
    if act:
        act(page)
    page.wait_for_timeout(300)  # late reports (htmx swaps) arrive after load
    found = page.evaluate("window.__csp || []")
    reported = [f"{url}: {v}" for v in found] + [f"{url}: {m}" for m in console]
    console.clear()
    return reported


def test_main_pages_report_no_csp_violation_with_javascript(browser: Browser, live_server):
    """Issue 15 item 21: the main pages, with JavaScript on, under the Content-Security-Policy
    (no unsafe-inline scripts, htmx configured not to inject its indicator style)."""
    violations: list[str] = []
    base = live_server

    def type_search(page: Page):
        box = page.get_by_role("searchbox").first
        box.fill("")
        box.press_sequentially("pay", delay=50)
        page.wait_for_timeout(800)

    def type_in_editor(page: Page):
        area = page.locator("textarea").first
        area.press_sequentially(" more", delay=30)
        page.wait_for_timeout(800)

    def preview_mail(page: Page):
        page.get_by_label("Footer text").fill("Hanbit Pay, Seoul")
        page.get_by_role("button", name="Preview").click()
        expect(page.locator("#mail-preview iframe")).to_be_visible()

    def add_row(page: Page):
        page.get_by_role("button", name="Add a condition").click()
        expect(page.locator("#conditions-1-kind")).to_be_attached()

    def preview_notification(page: Page):
        page.get_by_role("button", name="Preview").click()
        expect(page.locator("#notification-preview iframe")).to_be_visible()

    visitors = [
        (None, f"{base}/hanbit-pay/en/", type_search),
        (None, f"{base}/norrsken-energi/sv/", None),
        (None, f"{base}/hanbit-pay/ko/search?q=결제", None),
        (None, f"{base}/hanbit-pay/en/requests/new", None),
        (None, f"{base}/login", None),
        ("customer@example.com", f"{base}/hanbit-pay/en/requests", None),
        ("customer@example.com", f"{base}/account/settings", None),
        ("agent@example.com", f"{base}/agent/", None),
        ("agent@example.com", f"{base}/agent/me", None),
        ("agent@example.com", f"{base}/agent/notifications", None),
        ("agent@example.com", f"{base}/agent/notifications/settings", None),
        ("admin@example.com", f"{base}/admin/kb/", None),
        ("admin@example.com", f"{base}/admin/mail", None),
        ("admin@example.com", f"{base}/admin/mail-addresses", None),
        ("admin@example.com", f"{base}/admin/mail-addresses/new", None),
        ("admin@example.com", f"{base}/admin/mail-in", None),
        ("admin@example.com", f"{base}/admin/mailboxes", None),
        ("admin@example.com", f"{base}/admin/mailboxes/new", None),
        ("admin@example.com", f"{base}/admin/automation/webhooks", None),
        ("admin@example.com", f"{base}/admin/automation/webhooks/new?brand=hanbit-pay", None),
        ("admin@example.com", f"{base}/admin/audit", None),
        ("admin@example.com", f"{base}/admin/security", None),
        ("admin@example.com", f"{base}/admin/organization", None),
        ("owner@example.com", f"{base}/admin/members", None),
        ("owner@example.com", f"{base}/admin/members/invite", None),
        ("owner@example.com", f"{base}/admin/roles", None),
        ("owner@example.com", f"{base}/admin/roles/new", None),
        ("light@example.com", f"{base}/agent/", None),
        ("agent@example.com", f"{base}/account/settings", None),
        ("admin@example.com", f"{base}/agent/trash", None),
        ("admin@example.com", f"{base}/admin/export", None),
        ("admin@example.com", f"{base}/admin/retention", None),
        ("admin@example.com", f"{base}/admin/automation/schedules", None),
        ("admin@example.com", f"{base}/admin/automation/schedules/new?brand=hanbit-pay", None),
        ("admin@example.com", f"{base}/admin/automation/business-hours?brand=hanbit-pay", None),
        ("admin@example.com", f"{base}/admin/brands", None),
        ("admin@example.com", f"{base}/admin/brands/hanbit-pay/theme", None),
        ("admin@example.com", f"{base}/admin/brands/hanbit-pay/mail-template", preview_mail),
        ("admin@example.com", f"{base}/admin/branding", None),
        ("admin@example.com", f"{base}/admin/automation/rules?brand=hanbit-pay", None),
        ("admin@example.com", f"{base}/admin/automation/rules/new?brand=hanbit-pay", add_row),
        ("admin@example.com", f"{base}/admin/automation/translation", None),
        ("admin@example.com", f"{base}/admin/automation/notifications", None),
        (
            "admin@example.com",
            f"{base}/admin/automation/notifications/solved?brand=hanbit-pay&locale=ko",
            preview_notification,
        ),
    ]
    contexts = {}
    try:
        for email, url, act in visitors:
            if email not in contexts:
                contexts[email] = _context(browser, base, email)
            page = contexts[email].new_page()
            console: list[str] = []
            page.on(
                "console",
                lambda m, c=console: (
                    c.append(m.text) if "Content Security Policy" in m.text else None
                ),
            )
            violations += _visit(page, url, console, act)
            if url.endswith("/hanbit-pay/en/"):
                # An article, then the first ticket and the editor as staff.
                link = page.locator("a[href*='/articles/']").first.get_attribute("href")
                violations += _visit(page, base + link, console)
            if url.endswith("/agent/"):
                link = page.locator("a[href*='/agent/tickets/']").first.get_attribute("href")
                violations += _visit(page, base + link, console)
            if url.endswith("/admin/kb/"):
                # An article's editor (not "New article", which asks for a brand first).
                hrefs = page.locator("a[href*='/admin/kb/articles/']").evaluate_all(
                    "links => links.map((a) => a.getAttribute('href'))"
                )
                href = next(h for h in hrefs if re.search(r"/admin/kb/articles/\d+/", h))
                violations += _visit(page, base + href, console, type_in_editor)
            page.close()
    finally:
        for context in contexts.values():
            context.close()
    assert violations == [], "\n".join(violations)
