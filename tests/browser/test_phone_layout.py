"""On a phone (390 px wide): a one-row header with a menu button, a queue that fits as a list,
and an article's contents before its text. With JavaScript and without."""

import re
import tomllib
import uuid

import pytest
from playwright.sync_api import Browser, expect

from portal.demo import CONTENT_DIR, DEMO_PASSWORD
from tests.browser.conftest import TIMEOUT_MS
from tests.browser.test_agent import send_requests

PHONE = {"width": 390, "height": 844}
BRAND = "hanbit-pay"
AGENT = "agent@example.com"


def article_title(key: str) -> str:
    content = tomllib.loads((CONTENT_DIR / f"{BRAND}.toml").read_text(encoding="utf-8"))
    return next(a for a in content["articles"] if a["key"] == key)["translations"]["en"]["title"]


@pytest.fixture(scope="module")
def agent_state(browser: Browser, live_server) -> dict:
    """The agent signs in once for the module (the sign-in limit is per address and minute)."""
    context = browser.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.goto(f"{live_server}/login?next=/agent/")
    page.get_by_label("Email").fill(AGENT)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{live_server}/agent/")
    state = context.storage_state()
    context.close()
    return state


@pytest.fixture
def phone(browser: Browser, javascript):
    """phone(storage_state=None): a page 390 px wide, JavaScript as the test's run says."""
    contexts = []

    def open_(storage_state=None):
        context = browser.new_context(
            viewport=PHONE,
            java_script_enabled=javascript,
            storage_state=storage_state,
            locale="en-US",
            extra_http_headers={"Accept-Language": "en-US,en;q=0.9"},
        )
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield open_
    for context in contexts:
        context.close()


def page_width(page) -> int:
    return page.evaluate("() => document.documentElement.scrollWidth")


def widest(page) -> str:
    """The element reaching furthest right, to say in a failure what widened the page."""
    return page.evaluate(
        """() => { let best = null, right = 0;
        for (const el of document.body.querySelectorAll("*")) {
          const r = el.getBoundingClientRect().right;
          if (r > right) { right = r; best = el; } }
        return best ? `${best.tagName}#${best.id}.${best.className} ${right}px` : ""; }"""
    )


def test_phone_header_is_one_row_with_a_menu_button(live_server, phone, screenshot):
    """Issue 15 item 27: at 390 px the header wrapped into three rows with no menu button."""
    page = phone()
    page.goto(f"{live_server}/{BRAND}/en/")
    header = page.locator("header.site-header")
    brand_link = header.get_by_role("link", name="Hanbit Pay")
    menu = header.locator("summary", has_text="Menu")
    expect(menu).to_be_visible()
    brand_box, menu_box = brand_link.bounding_box(), menu.bounding_box()
    assert (
        abs((brand_box["y"] + brand_box["height"] / 2) - (menu_box["y"] + menu_box["height"] / 2))
        < 8
    ), "the menu button is not beside the brand"
    assert header.bounding_box()["height"] <= 72, "the header takes more than one row"
    faq = header.get_by_role("link", name="FAQ")
    expect(faq).to_be_hidden()
    assert page_width(page) <= PHONE["width"]
    screenshot(page, "1-closed")

    menu.click()
    expect(faq).to_be_visible()
    expect(header.get_by_role("navigation", name="Language").get_by_role("link")).to_have_count(3)
    screenshot(page, "2-open")
    faq.click()
    expect(page).to_have_url(re.compile(rf"/{BRAND}/en/faq"))


def test_wide_header_shows_its_links_without_a_menu_button(live_server, browser, javascript):
    """Issue 15 item 27: the menu button is for narrow screens only."""
    context = browser.new_context(
        viewport={"width": 1280, "height": 800}, java_script_enabled=javascript
    )
    try:
        page = context.new_page()
        page.goto(f"{live_server}/{BRAND}/en/")
        header = page.locator("header.site-header")
        expect(header.locator("summary", has_text="Menu")).to_be_hidden()
        expect(header.get_by_role("link", name="FAQ")).to_be_visible()
        assert header.bounding_box()["height"] <= 72
    finally:
        context.close()


def test_phone_article_shows_its_contents_before_the_text(live_server, phone, screenshot):
    """Issue 15 item 27: the table of contents landed below the article."""
    page = phone()
    page.goto(f"{live_server}/{BRAND}/en/search?q=password")
    page.get_by_role("link", name=article_title("reset-password")).first.click()
    toc = page.get_by_role("navigation", name="In this article")
    expect(toc).to_be_visible()
    body = page.locator(".article-body")
    assert toc.bounding_box()["y"] < body.bounding_box()["y"]
    assert page_width(page) <= PHONE["width"]
    screenshot(page, "article")


def test_phone_queue_is_a_list_that_fits(live_server, phone, agent_state, screenshot):
    """Issue 15 item 27: the agents' queue table was 841 px wide on a 390 px phone."""
    subject = f"Phone queue ({uuid.uuid4().hex[:8]})"
    send_requests(phone(), live_server, [subject], email="phone.visitor@example.com")
    page = phone(agent_state)
    page.goto(f"{live_server}/agent/?queue=open")
    row = page.locator("table.tickets tbody tr").filter(has_text=subject)
    expect(row.get_by_role("link", name=subject)).to_be_visible()
    assert page.locator("table.tickets").bounding_box()["width"] <= PHONE["width"]
    assert page_width(page) <= PHONE["width"], widest(page)
    # Each cell says what it is, as the column headings do on a wide screen.
    expect(row.locator("td[data-label]").first).to_be_visible()
    screenshot(page, "queue")
