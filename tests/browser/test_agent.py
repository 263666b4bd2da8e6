"""Agents work the desk in Chromium: a canned reply while a second agent has the ticket open
(with JavaScript and without), an internal note the customer never sees, a ticket solved, and
a morning's queue taken and bulk-closed."""

import re
import time
import uuid

import pytest
from playwright.sync_api import Browser, Page, expect

from portal.config import defaults
from portal.demo import DEMO_PASSWORD
from tests.browser.conftest import TIMEOUT_MS

BRAND = "hanbit-pay"
LOCALE = "en"
# The demo's "Account question" (portal/demo/forms.py): one required email and a radio choice.
FORM_NAME = "Account question"
MIN_SECONDS = defaults("")["INQUIRY_MIN_SECONDS"]
AGENT = "agent@example.com"  # agent of both demo brands
ADMIN = "admin@example.com"  # the second agent: admins work every brand's tickets
CUSTOMER = "customer@example.com"
AGENT_NAME = "Agnes Agent"
ADMIN_NAME = "Ada Admin"
CUSTOMER_NAME = "Chris Customer"
# The ticket page polls presence every 10 s (htmx); the first poll may just have gone by.
PRESENCE_MS = 15_000
# Placeholders as portal/desk/canned.py fills them on insert.
CANNED_BODY = (
    "Hello {{requester_name}}, thanks for request #{{ticket_id}}. "
    "Please sign out and in again ({tag})."
)


def filled(tag: str, ticket_id: int) -> str:
    return (
        CANNED_BODY.replace("{{requester_name}}", CUSTOMER_NAME)
        .replace("{{ticket_id}}", str(ticket_id))
        .replace("{tag}", tag)
    )


# ---------------------------------------------------------------- people in their own browsers


@pytest.fixture(scope="module")
def signed_in(browser: Browser, live_server) -> dict[str, dict]:
    """Each demo account signs in once for the module (the login limit is per address and
    minute); every test opens its own contexts with a copy of that session."""
    states = {}
    for email, landing in (
        (AGENT, "/agent/"),
        (ADMIN, "/admin/"),
        (CUSTOMER, f"/{BRAND}/{LOCALE}/requests"),
    ):
        context = browser.new_context()
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        page.goto(f"{live_server}/login?next={landing}")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page).to_have_url(re.compile(rf"^{re.escape(live_server + landing)}"))
        states[email] = context.storage_state()
        context.close()
    return states


@pytest.fixture
def open_as(browser: Browser, signed_in, javascript):
    """open_as(email): a page in a fresh context signed in as `email` (None: a visitor), with
    JavaScript as the test's `javascript` says."""
    contexts = []

    def open_(email: str | None) -> Page:
        state = signed_in[email] if email else None
        context = browser.new_context(java_script_enabled=javascript, storage_state=state)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield open_
    for context in contexts:
        context.close()


def flash(page: Page):
    return page.locator(".flashes")


# ---------------------------------------------------------------- what customers do


def send_requests(page: Page, base_url: str, subjects: list[str], email: str | None = None):
    """Sends one "Account question" per subject, each from its own tab of `page`'s context
    (a visitor when `email` is given, else the signed-in customer), waiting out the form's
    minimum time once for all of them. Returns the tickets' numbers, in order."""
    page.goto(f"{base_url}/{BRAND}/{LOCALE}/requests/new")
    page.get_by_role("link", name=FORM_NAME, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(FORM_NAME)
    tabs = [page] + [page.context.new_page() for _ in subjects[1:]]
    for tab in tabs[1:]:
        tab.goto(page.url)
    shown_at = time.monotonic()  # when the last tab showed the form
    for tab, subject in zip(tabs, subjects, strict=True):
        if email:
            tab.get_by_label("Your name").fill("Morgan Morning")
            tab.get_by_label("Your email").fill(email)
        tab.get_by_role("textbox", name="Subject", exact=True).fill(subject)
        tab.get_by_label("Description").fill(f"Please help with: {subject}")
        tab.get_by_label("Email of your Hanbit Pay account").fill(email or CUSTOMER)
        tab.get_by_label("Signing in").check()
    # People are slower than tests: the server refuses a form sent within MIN_SECONDS.
    left = MIN_SECONDS + 0.3 - (time.monotonic() - shown_at)
    if left > 0:
        page.wait_for_timeout(left * 1000)
    ids = []
    for tab, subject in zip(tabs, subjects, strict=True):
        tab.get_by_role("button", name="Send request").click()
        expect(tab).to_have_url(re.compile(rf"/{BRAND}/{LOCALE}/requests/\d+(\?token=.+)?$"))
        expect(tab.get_by_role("heading", level=1)).to_have_text(subject)
        ids.append(int(re.search(r"/requests/(\d+)", tab.url).group(1)))
        if tab is not page:
            tab.close()
    return ids


def open_my_request(page: Page, base_url: str, subject: str) -> None:
    page.goto(f"{base_url}/{BRAND}/{LOCALE}/requests")
    row = page.locator("table.requests tbody tr").filter(has_text=subject)
    row.get_by_role("link", name=subject).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(subject)


# ---------------------------------------------------------------- what agents do


def create_canned(page: Page, base_url: str, title: str, body: str) -> None:
    """Through the back office's nav: a personal canned response."""
    page.goto(f"{base_url}/agent/")
    page.get_by_role("navigation", name="Back office").get_by_role(
        "link", name="Canned responses"
    ).click()
    page.get_by_role("link", name="New canned response").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("New canned response")
    page.get_by_label("Title").fill(title)
    page.get_by_label("Text").fill(body)
    page.get_by_label("Who can use it").select_option(label="Just me")
    page.get_by_role("button", name="Save").click()
    expect(page).to_have_url(f"{base_url}/agent/canned")
    expect(flash(page)).to_contain_text("Canned response saved.")
    expect(page.get_by_role("link", name=title, exact=True)).to_be_visible()


def open_from_queue(page: Page, base_url: str, subject: str) -> None:
    """The queue page ("All open", newest first), then the ticket's link."""
    page.goto(f"{base_url}/agent/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Queues")
    row = page.locator("table.tickets tbody tr").filter(has_text=subject)
    row.get_by_role("link", name=subject, exact=True).click()
    expect(page).to_have_url(re.compile(rf"^{re.escape(base_url)}/agent/tickets/\d+"))
    expect(page.get_by_role("heading", level=1)).to_have_text(subject)
    # htmx is a deferred script: a Send clicked before the page has loaded posts the plain form,
    # and the browser, not arrival.js, follows the #anchor (it scrolls there but moves no focus).
    page.wait_for_load_state()


def conversation(page: Page):
    return page.get_by_role("region", name="Conversation").locator(".conversation")


def message_box(page: Page):
    return page.get_by_label("Message", exact=True)


def send_reply(page: Page, text: str, kind: str = "Public reply (mailed to the requester)"):
    """Send whatever the message box holds (checked to be `text`) as `kind`."""
    page.get_by_label(kind).check()
    expect(message_box(page)).to_have_value(text)
    page.get_by_role("button", name="Send", exact=True).click()


def canned_scene(open_as, base_url: str, subject: str, title: str, tag: str):
    """The customer sends `subject`; the agent makes a canned response `title`; the admin, the
    second agent, opens the ticket. Returns the customer's and the agent's pages and the
    ticket's number."""
    customer = open_as(CUSTOMER)
    [ticket_id] = send_requests(customer, base_url, [subject])
    agent = open_as(AGENT)
    create_canned(agent, base_url, title, CANNED_BODY.replace("{tag}", tag))
    other = open_as(ADMIN)
    open_from_queue(other, base_url, subject)
    return customer, agent, ticket_id


def expect_one_ticket_page(page: Page) -> None:
    """After a send the agent sees the ticket page once: not a second page inside the first."""
    expect(page.get_by_role("heading", level=1)).to_have_count(1)
    expect(page.get_by_role("region", name="Conversation")).to_have_count(1)


# ---------------------------------------------------------------- the tests


@pytest.mark.parametrize("javascript", [True], ids=["js"])
def test_canned_reply_while_another_agent_views_and_customer_sees_only_public_part(
    live_server, open_as, screenshot
):
    tag = uuid.uuid4().hex[:8]
    subject = f"Locked out after the update ({tag})"
    title = f"Sign out and in ({tag})"
    note = f"Checked the login logs: nothing unusual ({tag})."
    customer, agent, ticket_id = canned_scene(open_as, live_server, subject, title, tag)

    open_from_queue(agent, live_server, subject)
    presence = agent.locator("#presence")
    expect(presence).to_contain_text(f"{ADMIN_NAME} is viewing", timeout=PRESENCE_MS)
    screenshot(agent, "1-other-agent-viewing")

    # Insert swaps the reply box in place (htmx): the same document, the placeholders filled.
    agent.evaluate("window.__sameDocument = true")
    agent.get_by_label("Canned response").select_option(label=f"{title} (just me)")
    agent.get_by_role("button", name="Insert").click()
    reply = filled(tag, ticket_id)
    expect(message_box(agent)).to_have_value(reply)
    assert agent.evaluate("window.__sameDocument") is True
    assert CUSTOMER_NAME in reply and f"#{ticket_id}" in reply
    screenshot(agent, "2-inserted")

    send_reply(agent, reply)
    expect(flash(agent)).to_contain_text("Reply sent.")
    expect_one_ticket_page(agent)
    expect(conversation(agent).locator(".message-body").last).to_have_text(reply)
    expect(message_box(agent)).to_have_value("")
    screenshot(agent, "3-replied")

    message_box(agent).fill(note)
    send_reply(agent, note, kind="Internal note (agents only)")
    expect(flash(agent)).to_contain_text("Internal note added.")
    expect_one_ticket_page(agent)
    notes = conversation(agent).locator(".internal-note")
    expect(notes).to_have_count(1)
    expect(notes.locator(".message-body")).to_have_text(note)
    expect(notes).to_contain_text("Internal note")
    screenshot(agent, "4-noted")

    # The customer: the canned reply, never the note.
    open_my_request(customer, live_server, subject)
    bodies = customer.locator(".conversation .message-body")
    expect(bodies).to_have_text([f"Please help with: {subject}", reply])
    expect(customer.get_by_role("main")).not_to_contain_text(note)
    expect(customer.get_by_role("main")).not_to_contain_text("Internal note")
    screenshot(customer, "5-customer-sees-reply")


@pytest.mark.parametrize("javascript", [False], ids=["nojs"])
def test_canned_reply_and_solving_without_javascript(live_server, open_as, screenshot):
    tag = uuid.uuid4().hex[:8]
    subject = f"Two-factor code never arrives ({tag})"
    title = f"Codes by SMS ({tag})"
    customer, agent, ticket_id = canned_scene(open_as, live_server, subject, title, tag)

    # Without JavaScript nothing polls: the page lists who was viewing when it was made.
    open_from_queue(agent, live_server, subject)
    expect(agent.locator("#presence")).to_contain_text(f"{ADMIN_NAME} is viewing")

    # Insert posts the reply form without sending it: the page again, its reply box filled.
    agent.get_by_label("Canned response").select_option(label=f"{title} (just me)")
    agent.get_by_role("button", name="Insert").click()
    expect(agent).to_have_url(f"{live_server}/agent/tickets/{ticket_id}/reply")
    reply = filled(tag, ticket_id)
    expect(message_box(agent)).to_have_value(reply)
    screenshot(agent, "1-inserted")

    send_reply(agent, reply)
    expect(agent).to_have_url(re.compile(rf"/agent/tickets/{ticket_id}#message-\d+$"))
    expect(flash(agent)).to_contain_text("Reply sent.")
    expect(conversation(agent).locator(".message-body").last).to_have_text(reply)
    expect(message_box(agent)).to_have_value("")
    properties = agent.get_by_role("region", name="Properties")
    status = properties.get_by_label("Status", exact=True)
    expect(status.locator("option:checked")).to_have_text("Pending")  # a reply's default
    screenshot(agent, "2-replied")

    status.select_option(label="Solved")
    properties.get_by_role("button", name="Save").click()
    expect(flash(agent)).to_contain_text("Ticket updated.")
    expect(status.locator("option:checked")).to_have_text("Solved")
    expect(conversation(agent)).to_contain_text(
        f"{AGENT_NAME} changed the status from Pending to Solved"
    )
    screenshot(agent, "3-solved")

    open_my_request(customer, live_server, subject)
    expect(customer.locator(".conversation .message-body").last).to_have_text(reply)
    expect(customer.locator("main .badge")).to_have_text("Solved")


@pytest.mark.parametrize("javascript", [True], ids=["js"])
def test_morning_queue_take_one_and_bulk_close(live_server, open_as, screenshot):
    tag = uuid.uuid4().hex[:8]
    # A requester of their own, so the queue filtered by their address holds these alone.
    email = f"morning.{tag}@example.com"
    subjects = [f"Morning question {n} ({tag})" for n in (1, 2, 3)]
    send_requests(open_as(None), live_server, subjects, email=email)

    agent = open_as(AGENT)
    agent.goto(f"{live_server}/agent/")
    agent.get_by_label("Requester email").fill(email)
    agent.get_by_role("button", name="Show", exact=True).click()
    expect(agent).to_have_url(re.compile(r"requester=morning\."))
    tabs = agent.get_by_role("navigation", name="Queues")
    rows = agent.locator("table.tickets tbody tr")

    def tab(label: str):
        return tabs.get_by_role("link", name=re.compile(rf"^{label} \d+$"))

    def expect_counts(unassigned: int, mine: int, open_: int) -> None:
        """The numbers on the queue tabs, under the requester filter."""
        expect(tab("Unassigned")).to_have_text(f"Unassigned {unassigned}")
        expect(tab("Assigned to me")).to_have_text(f"Assigned to me {mine}")
        expect(tab("All open")).to_have_text(f"All open {open_}")

    expect(rows).to_have_count(3)
    expect_counts(3, 0, 3)

    # Take the first ticket of the unassigned queue.
    tab("Unassigned").click()
    expect(tab("Unassigned")).to_have_attribute("aria-current", "page")
    expect(rows).to_have_count(3)
    queue_url = agent.url
    screenshot(agent, "1-unassigned")
    first = rows.first.get_by_role("link").first
    taken = first.inner_text()
    first.click()
    expect(agent.get_by_role("heading", level=1)).to_have_text(taken)
    agent.get_by_role("button", name="Take it").click()
    expect(flash(agent)).to_contain_text("Assigned to you.")
    expect(agent.get_by_role("button", name="Take it")).to_have_count(0)
    expect(conversation(agent)).to_contain_text(f"assigned the ticket to {AGENT_NAME}")
    screenshot(agent, "2-taken")

    # Back in the queue: two left unassigned, one mine; select all three and close them.
    agent.goto(queue_url)
    expect(rows).to_have_count(2)
    expect(rows.filter(has_text=taken)).to_have_count(0)
    expect_counts(2, 1, 3)
    tab("All open").click()
    expect(tab("All open")).to_have_attribute("aria-current", "page")
    expect(rows).to_have_count(3)
    for row in rows.all():
        row.get_by_role("checkbox").check()
    bulk = agent.get_by_role("group", name=re.compile("^Change the selected tickets"))
    bulk.get_by_label("Status").select_option(label="Closed")
    screenshot(agent, "3-selected")
    bulk.get_by_role("button", name="Apply to selected").click()

    expect(flash(agent)).to_contain_text("Updated 3 tickets.")
    expect(rows).to_have_count(1)
    expect(rows).to_have_text("No tickets here.")
    expect_counts(0, 0, 0)
    expect(agent).to_have_url(re.compile(r"requester=morning\."))
    screenshot(agent, "4-closed")


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])
def test_a_refused_reply_shows_why_and_keeps_the_draft(live_server, open_as, javascript):
    """Errors come back as 422 with the form: htmx swaps them in like the page would."""
    tag = uuid.uuid4().hex[:8]
    subject = f"Refused reply ({tag})"
    customer = open_as(CUSTOMER)
    send_requests(customer, live_server, [subject])
    agent = open_as(AGENT)
    open_from_queue(agent, live_server, subject)
    message_box(agent).fill(f"Draft {tag}")
    agent.get_by_label("Send the public reply").select_option(label="In 1 hour")
    agent.get_by_label("Files").set_input_files(
        files=[{"name": "evil.svg", "mimeType": "image/svg+xml", "buffer": b"<svg></svg>"}]
    )
    agent.get_by_role("button", name="Send", exact=True).click()
    expect(agent.locator("#reply-files-error")).to_contain_text(
        "evil.svg: This kind of file is not accepted."
    )
    expect(message_box(agent)).to_have_value(f"Draft {tag}")
    expect(agent.get_by_label("Send the public reply").locator("option:checked")).to_have_text(
        "In 1 hour"
    )
    agent.get_by_label("Files").set_input_files([])
    agent.get_by_role("button", name="Send", exact=True).click()
    expect(flash(agent)).to_contain_text("Reply scheduled for")
    scheduled = agent.get_by_role("region", name="Scheduled replies")
    expect(scheduled).to_contain_text(f"Draft {tag}")
    scheduled.get_by_role("button", name="Cancel this reply").click()
    expect(flash(agent)).to_contain_text("Scheduled reply cancelled")
    expect(agent.get_by_role("region", name="Scheduled replies")).to_have_count(0)


# Records what is added to a live region that was already on the page: what a screen reader
# reads out. A region swapped in with its text already inside is not recorded (nor read).
RECORD_ANNOUNCEMENTS = """
window.portalAnnounced = [];
new MutationObserver(function (records) {
  records.forEach(function (record) {
    var target = record.target.nodeType === 1 ? record.target : record.target.parentElement;
    var region = target && target.closest("[role=status], [role=alert], [aria-live]");
    if (region && region.isConnected && record.addedNodes.length) {
      window.portalAnnounced.push(region.textContent.trim());
    }
  });
}).observe(document, { childList: true, subtree: true });
"""


@pytest.mark.parametrize("javascript", [True], ids=["js"])
def test_after_a_reply_focus_stays_at_the_conversation_and_it_is_announced(live_server, open_as):
    """Issue 15 item 26: with JavaScript, focus fell to the top of the page after Send and
    nothing was announced; now the message just sent has focus and "Reply sent." is read."""
    tag = uuid.uuid4().hex[:8]
    subject = f"Focus after a reply ({tag})"
    customer = open_as(CUSTOMER)
    send_requests(customer, live_server, [subject])
    agent = open_as(AGENT)
    agent.add_init_script(RECORD_ANNOUNCEMENTS)
    open_from_queue(agent, live_server, subject)
    message_box(agent).fill(f"Answer {tag}")
    send_reply(agent, f"Answer {tag}")

    sent = conversation(agent).locator("li.message").filter(has_text=f"Answer {tag}")
    expect(sent).to_be_focused()
    expect(agent).to_have_url(re.compile(r"#message-\d+$"))
    agent.wait_for_function(
        "() => window.portalAnnounced.some((text) => text.includes('Reply sent.'))",
        timeout=TIMEOUT_MS,
    )
    expect(agent.get_by_role("status").filter(has_text="Reply sent.")).to_have_count(1)


def test_agent_searches_a_word_opens_the_requesters_profile_and_sees_a_bad_organization(
    live_server, open_as, javascript
):
    """Issue 15 items 14 and 15: the queue's search box finds a request by a word of its
    description, its requester's name leads to their profile, and an organization that does
    not exist is said beside the box (with JavaScript and without)."""
    tag = uuid.uuid4().hex[:8]
    subject = f"Searchable question ({tag})"
    email = f"search.{tag}@example.com"
    send_requests(open_as(None), live_server, [subject], email=email)

    agent = open_as(AGENT)
    agent.goto(f"{live_server}/agent/")
    agent.get_by_label("Search tickets").fill(f"help {tag}")
    agent.get_by_role("button", name="Show", exact=True).click()
    expect(agent).to_have_url(re.compile(rf"q=help(\+|%20){tag}"))
    rows = agent.locator("table.tickets tbody tr")
    expect(rows).to_have_count(1)
    rows.get_by_role("link", name=subject).click()
    expect(agent.get_by_role("heading", level=1)).to_have_text(subject)

    agent.get_by_role("link", name="Morgan Morning").click()
    expect(agent.get_by_role("heading", level=1)).to_have_text("Morgan Morning")
    expect(agent.locator("main")).to_contain_text(email)
    expect(agent.locator("main")).to_contain_text("No account")
    expect(agent.get_by_role("link", name=subject)).to_be_visible()

    agent.goto(f"{live_server}/agent/")
    agent.get_by_label("Organization", exact=True).fill(f"No such company {tag}")
    agent.get_by_role("button", name="Show", exact=True).click()
    expect(agent.locator("#queue-org-error")).to_contain_text(
        "No organization of your brands' customers is called that."
    )
    expect(agent.get_by_label("Organization", exact=True)).to_have_value(f"No such company {tag}")


def test_organization_suggestions_do_not_change_the_address(live_server, open_as, javascript):
    """Issue 15 item 15: typing in the Organization filter put /agent/organizations?org=Dae in
    the address bar (the box inherited the form's hx-push-url), and reloading gave a blank
    404 page; the suggestions now come without changing the address."""
    agent = open_as(AGENT)
    agent.goto(f"{live_server}/agent/")
    box = agent.get_by_label("Organization", exact=True)
    if javascript:
        with agent.expect_response(re.compile(r"/agent/organizations\?")):
            box.press_sequentially("Dae")
        agent.wait_for_timeout(300)  # a pushed address would be there by now
        expect(agent.locator("#queue-org-options option")).to_have_count(1)
    else:
        box.fill("Dae")
    assert "/agent/organizations" not in agent.url
    agent.reload()
    expect(agent.get_by_role("heading", level=1)).to_have_text("Queues")


def test_agent_search_finds_a_closed_ticket_from_the_open_queue(live_server, open_as, javascript):
    """Issue 15 item 15: searching from the queue page only looked in "All open", so the
    demo's closed 법인카드 request could never be found; the search now looks in every status
    and says so."""
    agent = open_as(AGENT)
    agent.goto(f"{live_server}/agent/")
    agent.get_by_label("Search tickets").fill("법인카드")
    agent.get_by_role("button", name="Show", exact=True).click()
    expect(agent.locator("#queue-search-scope")).to_have_text(
        "Search results in every status, closed tickets included."
    )
    rows = agent.locator("table.tickets tbody tr")
    expect(rows.filter(has_text="법인카드 등록 문의")).to_have_count(1)
    expect(rows.filter(has_text="법인카드 등록 문의")).to_contain_text("Closed")
    agent.reload()
    expect(rows.filter(has_text="법인카드 등록 문의")).to_have_count(1)
