"""Translate a customer's message in Chromium, with JavaScript (htmx swaps the translation in
under the message) and without (the page comes back with it): an admin sets up a local
LibreTranslate-compatible server (no translation model can be downloaded here), a customer
writes in Korean, the agent sees the detected language and translates it into English."""

import re
import time
import uuid

import pytest
from playwright.sync_api import expect

from tests.browser.test_agent import (
    ADMIN,
    AGENT,
    BRAND,
    CUSTOMER,
    FORM_NAME,
    LOCALE,
    MIN_SECONDS,
    open_as,  # noqa: F401  (fixture)
    signed_in,  # noqa: F401  (fixture)
)
from tests.translation_servers import LibreTranslateHandler, serve

KOREAN = "카드가 결제되지 않아요. 도와주세요."
ENGLISH = "My card does not go through. Please help."


@pytest.fixture(scope="module")
def libre():
    with serve(LibreTranslateHandler, api_key="lt-key") as server:
        yield server


def set_provider(page, base, provider, url="", key=""):
    page.goto(f"{base}/admin/automation/translation")
    page.locator(f"input[name=provider][value={provider}]").check()
    page.get_by_label("Server address").fill(url)
    page.get_by_label("API key").fill(key)
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".flashes")).to_contain_text("Translation settings saved.")


def ask_in_korean(page, base, subject) -> int:
    page.goto(f"{base}/{BRAND}/{LOCALE}/requests/new")
    page.get_by_role("link", name=FORM_NAME, exact=True).click()
    shown_at = time.monotonic()
    page.get_by_role("textbox", name="Subject", exact=True).fill(subject)
    page.get_by_label("Description").fill(KOREAN)
    page.get_by_label("Email of your Hanbit Pay account").fill(CUSTOMER)
    page.get_by_label("Signing in").check()
    left = MIN_SECONDS + 0.3 - (time.monotonic() - shown_at)
    if left > 0:
        page.wait_for_timeout(left * 1000)
    page.get_by_role("button", name="Send request").click()
    expect(page).to_have_url(re.compile(rf"/{BRAND}/{LOCALE}/requests/\d+(\?token=.+)?$"))
    return int(re.search(r"/requests/(\d+)", page.url).group(1))


def test_an_agent_translates_a_korean_message(live_server, open_as, libre, javascript):  # noqa: F811
    admin = open_as(ADMIN)
    set_provider(admin, live_server, "libretranslate", libre.url, "lt-key")
    try:
        ticket_id = ask_in_korean(open_as(CUSTOMER), live_server, f"Card {uuid.uuid4().hex[:6]}")
        agent = open_as(AGENT)
        agent.goto(f"{live_server}/agent/tickets/{ticket_id}")
        message = agent.locator("li.message.from-requester").first
        expect(message).to_contain_text("Written in 한국어")
        message.get_by_role("button", name="Translate to English").click()
        translated = agent.locator("li.message.from-requester .message-translation").first
        expect(translated).to_contain_text(ENGLISH)
        expect(translated).to_contain_text("Translated into English")
        if javascript:  # swapped in place: still the page as it was, no reload
            expect(agent).to_have_url(f"{live_server}/agent/tickets/{ticket_id}")
        expect(agent.get_by_role("button", name="Translate to English")).to_have_count(0)
    finally:
        set_provider(admin, live_server, "none")
