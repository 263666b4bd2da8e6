"""A customer's whole way through Portal in Chromium, with and without JavaScript: sign up,
confirm the address through the link in the mail a real SMTP server received, send a request,
find it under "My requests", reply, mark it solved and rate the help."""

import re
import socket
import time
import uuid
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from aiosmtpd.controller import Controller
from playwright.sync_api import Page, Response, expect
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from kb import clock
from kb.people import User
from portal.config import defaults
from portal.desk.models import Ticket, TicketMessage
from portal.mail.outbox import SmtpSettings, send_due

BRAND = "hanbit-pay"
LOCALE = "en"
# The demo's "Account question" (portal/demo/forms.py): one required email and a radio choice,
# nothing that opens more questions.
FORM_NAME = "Account question"
MIN_SECONDS = defaults("")["INQUIRY_MIN_SECONDS"]
# Links in mail are built on PORTAL_BASE_URL, never on the request's host; the live server of
# the browser tests keeps the default, so the link names another port than the one it serves.
MAIL_BASE_URL = defaults("")["PORTAL_BASE_URL"].rstrip("/")
CONFIRM_LINK = re.compile(r"https?://\S+/account/confirm/\S+")


# ---------------------------------------------------------------- a real SMTP server


class Collector:
    """An aiosmtpd handler keeping every message it receives (as tests/portal/mail does)."""

    def __init__(self):
        self.raw: list[bytes] = []

    async def handle_DATA(self, server, session, envelope):
        self.raw.append(envelope.original_content)
        return "250 OK"

    def messages_to(self, address: str) -> list[EmailMessage]:
        parsed = [
            message_from_bytes(raw.replace(b"\r\n", b"\n"), policy=policy.default)
            for raw in self.raw
        ]
        return [m for m in parsed if m["To"] and m["To"].addresses[0].addr_spec == address]


@pytest.fixture
def smtp_server():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    handler = Collector()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield handler, SmtpSettings(host="127.0.0.1", port=port, timeout=5)
    controller.stop()


# ---------------------------------------------------------------- the live server's database


@pytest.fixture(scope="module")
def engine(live_server, tmp_path_factory):
    """An engine of the test's own on the live server's SQLite file (conftest makes its
    instance folder with mktemp("browser-instance"), as test_inquiry.py finds it)."""
    found = sorted(tmp_path_factory.getbasetemp().glob("browser-instance[0-9]*"))
    assert len(found) == 1, f"expected one live-server instance folder, found {found}"
    database: Path = found[0] / "portal.db"
    engine = create_engine(f"sqlite:///{database}", connect_args={"timeout": 10})
    yield engine
    engine.dispose()


# ---------------------------------------------------------------- what the customer does


class Customer:
    def __init__(self, mode: str):
        tag = uuid.uuid4().hex[:8]
        self.name = "Hana Seo"
        self.email = f"hana.{mode}.{tag}@example.com"  # fresh for every run and mode
        self.password = f"brisk-otter-{tag}"
        self.subject = f"Cannot sign in to the app ({tag})"
        self.description = f"The app says my password is wrong since this morning ({tag})."
        self.reply = f"I also cleared the app's cache; it still fails ({tag})."


def follow(page: Page, act) -> Response:
    """Do `act` and return the first answer to the page load it starts (before redirects)."""
    with page.expect_response(lambda r: r.request.is_navigation_request()) as answer:
        act()
    return answer.value


def flash(page: Page):
    return page.locator(".flashes")


def deliver_confirmation(engine, smtp_server, email: str) -> str:
    """Sends the outbox to the SMTP server; the confirmation link from the text part."""
    collector, settings = smtp_server
    counts = send_due(engine, settings, clock.now(), batch=500)
    assert counts["failed"] == 0, counts
    [message] = collector.messages_to(email)
    assert message["Subject"] == "Confirm your email address for Hanbit Pay"
    text = message.get_body(preferencelist=("plain",)).get_content()
    [link] = CONFIRM_LINK.findall(text)
    return link


def on_live_server(link: str, live_server: str) -> str:
    """The mail's link on the live server: same path and query, the server's own origin."""
    assert link.startswith(MAIL_BASE_URL + "/"), link
    parts = urlsplit(link)
    return f"{live_server}{parts.path}?{parts.query}" if parts.query else live_server + parts.path


def status_badge(page: Page):
    return page.locator("main .badge")


# ---------------------------------------------------------------- the flow


def test_customer_signs_up_confirms_sends_replies_solves_and_rates(
    live_server, open_page, javascript, screenshot, engine, smtp_server
):
    customer = Customer("js" if javascript else "nojs")
    page = open_page()

    # Sign up: from the help center's header to "Sign in", then "Create an account".
    response = page.goto(f"{live_server}/{BRAND}/{LOCALE}/")
    assert response is not None and response.status == 200
    page.locator("header.site-header").get_by_role("link", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    page.get_by_role("link", name="Create an account").click()
    expect(page).to_have_url(f"{live_server}/{BRAND}/{LOCALE}/signup")
    page.get_by_label("Your name").fill(customer.name)
    page.get_by_label("Email", exact=True).fill(customer.email)
    page.get_by_label("Password", exact=True).fill(customer.password)
    sent = follow(page, page.get_by_role("button", name="Create an account").click)
    assert sent.status == 303, f"{sent.url} answered {sent.status}"
    expect(page).to_have_url(f"{live_server}/{BRAND}/{LOCALE}/signup?sent=1")
    expect(page.get_by_role("status")).to_contain_text("Check your mail to confirm your address.")
    screenshot(page, "1-signed-up")

    # Confirm: the link in the mail the SMTP server received, then the page's button.
    link = deliver_confirmation(engine, smtp_server, customer.email)
    response = page.goto(on_live_server(link, live_server))
    assert response is not None and response.status == 200
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm your email address")
    screenshot(page, "2-confirm")
    confirmed = follow(page, page.get_by_role("button", name="Confirm my address").click)
    assert confirmed.status == 303, f"{confirmed.url} answered {confirmed.status}"
    expect(page).to_have_url(f"{live_server}/{BRAND}/{LOCALE}/requests")
    expect(flash(page)).to_contain_text("Your address is confirmed and you are signed in.")
    expect(page.locator("header .who")).to_have_text(customer.name)
    expect(page.get_by_role("cell", name="No requests here.")).to_be_visible()
    screenshot(page, "3-signed-in")

    # Send a request through the demo's "Account question".
    help_nav = page.get_by_role("navigation", name="Help center")
    help_nav.get_by_role("link", name="Submit a request").click()
    page.get_by_role("link", name=FORM_NAME, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(FORM_NAME)
    shown_at = time.monotonic()
    expect(page.get_by_label("Your email")).to_have_count(0)  # the account says who asks
    page.get_by_role("textbox", name="Subject", exact=True).fill(customer.subject)
    page.get_by_label("Description").fill(customer.description)
    page.get_by_label("Email of your Hanbit Pay account").fill(customer.email)
    page.get_by_label("Signing in").check()
    screenshot(page, "4-form")
    left = MIN_SECONDS + 0.3 - (time.monotonic() - shown_at)  # people are slower than tests
    if left > 0:
        page.wait_for_timeout(left * 1000)
    sent = follow(page, page.get_by_role("button", name="Send request").click)
    assert sent.status == 303, f"{sent.url} answered {sent.status}"
    # Signed in: their own request page (no private-link token), with its actions.
    expect(page).to_have_url(re.compile(rf"/{BRAND}/{LOCALE}/requests/\d+$"))
    ticket_id = int(re.search(r"/requests/(\d+)$", page.url).group(1))
    expect(flash(page)).to_contain_text(f"We received your request #{ticket_id}.")
    expect(page.get_by_role("heading", level=1)).to_have_text(customer.subject)
    expect(page.get_by_role("button", name="This is solved")).to_be_visible()
    screenshot(page, "5-sent")

    # "My requests" lists it; its page (signed in, no token) takes a reply.
    account_nav = page.get_by_role("navigation", name="Your account")
    account_nav.get_by_role("link", name="My requests").click()
    expect(page).to_have_url(f"{live_server}/{BRAND}/{LOCALE}/requests")
    row = page.locator("table.requests tbody tr").filter(has_text=customer.subject)
    expect(row).to_have_count(1)
    expect(row).to_contain_text(f"#{ticket_id}")
    expect(row.locator(".badge")).to_have_text("Open")
    screenshot(page, "6-my-requests")
    row.get_by_role("link", name=customer.subject).click()
    expect(page).to_have_url(f"{live_server}/{BRAND}/{LOCALE}/requests/{ticket_id}")
    expect(page.get_by_role("heading", level=1)).to_have_text(customer.subject)
    page.get_by_label("Add a reply").fill(customer.reply)
    replied = follow(page, page.get_by_role("button", name="Send reply").click)
    assert replied.status == 303, f"{replied.url} answered {replied.status}"
    expect(page).to_have_url(f"{live_server}/{BRAND}/{LOCALE}/requests/{ticket_id}")
    expect(flash(page)).to_contain_text("Your reply was added.")
    bodies = page.locator(".conversation .message-body")
    expect(bodies).to_have_text([customer.description, customer.reply])
    screenshot(page, "7-replied")

    # "This is solved", then "Good".
    solved = follow(page, page.get_by_role("button", name="This is solved").click)
    assert solved.status == 303, f"{solved.url} answered {solved.status}"
    expect(flash(page)).to_contain_text("Marked as solved. Thank you!")
    expect(status_badge(page)).to_have_text("Solved")
    expect(page.get_by_role("button", name="This is solved")).to_have_count(0)
    page.get_by_label("Good, I'm satisfied").check()
    rated = follow(page, page.get_by_role("button", name="Send rating").click)
    assert rated.status == 303, f"{rated.url} answered {rated.status}"
    expect(flash(page)).to_contain_text("Thank you for rating our help.")
    expect(page.get_by_role("region", name="How did we do?")).to_contain_text(
        "You rated this: Good"
    )
    expect(page.get_by_label("Good, I'm satisfied")).to_be_checked()
    expect(status_badge(page)).to_have_text("Solved")
    screenshot(page, "8-solved-and-rated")

    # What the desk sees.
    with Session(engine) as session:
        user = session.scalar(select(User).where(User.email == customer.email))
        assert user is not None and user.email_confirmed_at is not None
        ticket = session.get(Ticket, ticket_id)
        assert ticket.requester_id == user.id
        assert (ticket.status, ticket.satisfaction) == ("solved", "good")
        messages = session.scalars(
            select(TicketMessage)
            .where(TicketMessage.ticket_id == ticket_id)
            .order_by(TicketMessage.id)
        ).all()
        assert [m.body for m in messages][-1] == customer.reply
        assert messages[-1].from_requester and messages[-1].public
