"""An agent is told in the top bar and on /agent/notifications when a colleague mentions them
in an internal note, reads the list and marks it read (with JavaScript and without)."""

import re
import uuid

import pytest
from playwright.sync_api import Browser, Page, expect

from portal.demo import DEMO_PASSWORD
from tests.browser.conftest import TIMEOUT_MS

AGENT = "agent@example.com"  # Agnes Agent, agent of both demo brands
ADMIN = "admin@example.com"  # Ada Admin, who works every brand's tickets too


@pytest.fixture(scope="module")
def signed_in(browser: Browser, live_server) -> dict[str, dict]:
    states = {}
    for email in (AGENT, ADMIN):
        context = browser.new_context()
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        page.goto(f"{live_server}/login?next=/agent/")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page).to_have_url(re.compile(rf"^{re.escape(live_server)}/agent/"))
        states[email] = context.storage_state()
        context.close()
    return states


@pytest.fixture
def open_as(browser: Browser, signed_in, javascript):
    contexts = []

    def open_(email: str) -> Page:
        context = browser.new_context(
            java_script_enabled=javascript, storage_state=signed_in[email]
        )
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield open_
    for context in contexts:
        context.close()


def test_a_mention_shows_in_the_badge_and_the_list_until_marked_read(open_as, live_server):
    tag = uuid.uuid4().hex[:8]
    admin = open_as(ADMIN)
    admin.goto(f"{live_server}/agent/")
    href = admin.locator("a[href*='/agent/tickets/']").first.get_attribute("href")
    admin.goto(live_server + href)
    admin.get_by_label("Internal note (agents only)").check()
    admin.locator("#reply-body").fill(f"@Agnes Agent could you look at this? ({tag})")
    admin.get_by_role("button", name="Send", exact=True).click()
    expect(admin.locator(".flashes")).to_contain_text("Internal note added.")

    agent = open_as(AGENT)
    agent.goto(f"{live_server}/agent/")
    badge = agent.locator("#notification-count")
    expect(badge).to_be_visible()
    assert int(badge.inner_text().split()[0]) >= 1
    agent.get_by_role("navigation", name="Back office").get_by_role(
        "link", name=re.compile("^Notifications")
    ).click()
    expect(agent).to_have_url(f"{live_server}/agent/notifications")
    entry = agent.locator(".notices li", has_text=tag)
    expect(entry).to_have_class(re.compile(r"\bunread\b"))
    expect(entry).to_contain_text("Ada Admin mentioned you in an internal note")

    agent.get_by_role("button", name="Mark all read").click()
    expect(agent.locator(".notices li.unread")).to_have_count(0)
    expect(badge).to_be_hidden()  # with htmx the badge is swapped with the list

    agent.locator(".notices li", has_text=tag).get_by_role("link").first.click()
    expect(agent).to_have_url(live_server + href)
