"""Keyboard users see where they are: the focus ring in the browser, in each brand's colours."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import TIMEOUT_MS

PAYMENT_KO = "결제"  # in most Korean demo articles (portal/demo/hanbit-pay.toml)


def _luminance(rgb: tuple[int, int, int]) -> float:
    def linear(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c / 255) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _contrast(a, b) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def _rgb(css_color: str) -> tuple[int, int, int]:
    return tuple(int(v) for v in re.findall(r"\d+", css_color)[:3])


FOCUSED_STYLE = """() => {
  const el = document.activeElement, s = getComputedStyle(el);
  return {style: s.outlineStyle, width: parseFloat(s.outlineWidth), color: s.outlineColor,
          background: getComputedStyle(el).backgroundColor};
}"""


@pytest.fixture
def js_page(browser):
    """Instant search needs JavaScript: one run, with it on."""
    context = browser.new_context(java_script_enabled=True)
    context.set_default_timeout(TIMEOUT_MS)
    yield context.new_page()
    context.close()


def test_selected_instant_result_has_a_visible_outline(live_server, js_page):
    """Issue 15 item 24: the instant-search result chosen with the arrow keys had no outline."""
    page = js_page
    page.goto(f"{live_server}/hanbit-pay/ko/")
    search_box = page.get_by_role("search").get_by_role("searchbox")
    search_box.press_sequentially(PAYMENT_KO, delay=80)
    first = page.locator("#instant-results .instant-list a.instant-item").first
    expect(first).to_be_visible()
    page.keyboard.press("ArrowDown")
    expect(first).to_be_focused()

    ring = page.evaluate(FOCUSED_STYLE)
    assert ring["style"] == "solid" and ring["width"] >= 2, ring
    assert _contrast(_rgb(ring["color"]), _rgb(ring["background"])) >= 3, ring


@pytest.mark.parametrize("brand", ["hanbit-pay", "norrsken-energi"])
def test_focused_link_outline_has_three_to_one_contrast(live_server, js_page, brand):
    """Issue 15 item 24: a link reached with Tab is ringed at 3:1 or more against the page."""
    page = js_page
    page.goto(f"{live_server}/{brand}/en/")
    link = page.get_by_role("main").get_by_role("link").first
    link.focus()
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Tab")  # focus from the keyboard, so :focus-visible applies
    expect(link).to_be_focused()
    ring = page.evaluate(FOCUSED_STYLE)
    assert ring["style"] == "solid" and ring["width"] >= 2, ring
    assert _contrast(_rgb(ring["color"]), (255, 255, 255)) >= 3, ring
