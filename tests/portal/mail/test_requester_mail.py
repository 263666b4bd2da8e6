"""Every mail to the people of a request carries a link that opens for them, in their language
(issue 15 items 1 and 3): a private token link for a requester without an account, the plain
request address for account holders; the requester account's language when the brand has it."""

import re
import secrets
from datetime import timedelta

import pytest
from sqlalchemy import select

from kb import clock
from portal.desk.models import InquiryForm, OutboxMail, Ticket, TicketShare
from portal.desk.replies import send_due as send_due_replies
from portal.extensions import db
from tests.conftest import PASSWORD

LINK = re.compile(r"http://127\.0\.0\.1:5000(/acme/[a-z]{2}/requests/\d+[^\s\"<]*)")


@pytest.fixture
def brand(make):
    return make.brand(slug="acme", name="Acme", locales=("en", "ko"))


def new_ticket(make, brand, requester=None, locale="en", email="visitor@example.com"):
    now = clock.now()
    row = Ticket(
        brand_id=brand.id,
        locale=locale,
        subject="Card declined",
        description="My card is declined.",
        status="open",
        requester_id=requester.id if requester else None,
        requester_name=requester.name if requester else "Visitor",
        requester_email=requester.email if requester else email,
        link_secret=secrets.token_hex(16),
        answers=[],
        details={},
        created_at=now,
        updated_at=now,
    )
    make.session.add(row)
    make.session.commit()
    return row


def mails_to(make, email) -> list[OutboxMail]:
    make.session.expire_all()
    return make.session.scalars(
        select(OutboxMail).where(OutboxMail.recipient == email).order_by(OutboxMail.id)
    ).all()


def link_in(mail: OutboxMail) -> str:
    text_links = LINK.findall(mail.text_body)
    html_links = LINK.findall(mail.html_body.replace("&amp;", "&"))
    assert text_links, mail.text_body
    assert {link.rstrip('"') for link in html_links} == {text_links[0]}
    return text_links[0]


def agent_reply(client, ticket, body="Please try again now."):
    response = client.post(
        f"/agent/tickets/{ticket.id}/reply",
        data={"body": body, "kind": "public", "status": "pending"},
    )
    assert response.status_code == 303, response.get_data(as_text=True)[:300]


def opens_for_a_stranger(app, link) -> bool:
    response = app.test_client().get(link)
    return response.status_code == 200 and "Card declined" in response.get_data(as_text=True)


def test_reply_mail_to_an_anonymous_requester_carries_a_link_that_opens(
    app, client, make, brand, login
):
    """Issue 15 item 1: the agent's reply mail links to the request with its private token,
    so a requester without an account reads it without being sent to sign in."""
    ticket = new_ticket(make, brand)
    login("agent", brands=[brand])
    agent_reply(client, ticket)
    (mail,) = mails_to(make, "visitor@example.com")
    link = link_in(mail)
    assert "token=" in link
    assert opens_for_a_stranger(app, link)


def test_scheduled_reply_mail_to_an_anonymous_requester_carries_a_link_that_opens(
    app, client, make, brand, login
):
    """Issue 15 item 1: a scheduled reply's mail builds its link in the same place."""
    ticket = new_ticket(make, brand)
    login("agent", brands=[brand])
    response = client.post(
        f"/agent/tickets/{ticket.id}/reply",
        data={"body": "Later.", "kind": "public", "status": "pending", "delay": "60"},
    )
    assert response.status_code == 303
    clock.freeze(clock.now() + timedelta(minutes=2))
    with app.app_context():
        assert send_due_replies(db.session, clock.now()) == 1
    (mail,) = mails_to(make, "visitor@example.com")
    assert opens_for_a_stranger(app, link_in(mail))


def test_bulk_reply_mail_to_an_anonymous_requester_carries_a_link_that_opens(
    app, client, make, brand, login
):
    """Issue 15 item 1: a bulk reply's mails build their links in the same place."""
    ticket = new_ticket(make, brand)
    login("agent", brands=[brand])
    response = client.post(
        "/agent/bulk", data={"ticket": [str(ticket.id)], "body": "Fixed for everyone."}
    )
    assert response.status_code == 303
    (mail,) = mails_to(make, "visitor@example.com")
    assert opens_for_a_stranger(app, link_in(mail))


def test_request_received_mail_carries_a_link_that_opens(app, client, make, brand):
    """Issue 15 item 1: the confirmation of a form sent anonymously links with the token."""
    form = InquiryForm(brand_id=brand.id, names={"en": "Question"})
    make.session.add(form)
    make.session.commit()
    html = client.get(f"/acme/en/requests/new?form={form.id}").get_data(as_text=True)
    key = re.search(r'name="key" value="([^"]+)"', html).group(1)
    client.post(
        f"/acme/en/requests/new?form={form.id}",
        data={
            "key": key,
            "name": "Visitor",
            "email": "visitor@example.com",
            "subject": "Card declined",
            "description": "My card is declined.",
            "action": "send",
        },
    )
    (mail,) = mails_to(make, "visitor@example.com")
    assert opens_for_a_stranger(app, link_in(mail))


def test_reply_mail_to_an_account_holder_and_a_share_carries_the_plain_link(
    app, client, make, brand, login
):
    """Issue 15 item 1: account holders (and people it is shared with) get the request's own
    address, which opens once they sign in; never the requester's private token."""
    requester = make.user(role="customer", email="mina@example.com", password=PASSWORD)
    ticket = new_ticket(make, brand, requester)
    make.session.add(TicketShare(ticket_id=ticket.id, email="boss@example.com"))
    make.session.commit()
    login("agent", brands=[brand])
    agent_reply(client, ticket)
    for email in ("mina@example.com", "boss@example.com"):
        (mail,) = mails_to(make, email)
        assert link_in(mail) == f"/acme/en/requests/{ticket.id}"
    reader = app.test_client()
    reader.post("/login", data={"email": requester.email, "password": PASSWORD})
    assert reader.get(f"/acme/en/requests/{ticket.id}").status_code == 200


def test_reply_mail_follows_the_requesters_profile_language(app, client, make, brand, login):
    """Issue 15 item 3: a requester whose profile says ko gets the reply in Korean, with a
    /ko/ link, although the ticket was sent from the English help center."""
    requester = make.user(role="customer", email="mina@example.com", password=PASSWORD)
    make.session.get(type(requester), requester.id).locale = "ko"
    make.session.commit()
    ticket = new_ticket(make, brand, requester, locale="en")
    login("agent", brands=[brand])
    agent_reply(client, ticket)
    (mail,) = mails_to(make, "mina@example.com")
    assert mail.subject.startswith(f"문의 #{ticket.id}")
    assert '<html lang="ko">' in mail.html_body
    assert link_in(mail) == f"/acme/ko/requests/{ticket.id}"


def test_reply_mail_keeps_the_tickets_language_when_the_brand_lacks_the_profiles(
    app, client, make, brand, login
):
    """Issue 15 item 3: a profile language the brand does not offer falls back to the
    ticket's language."""
    requester = make.user(role="customer", email="mina@example.com", password=PASSWORD)
    make.session.get(type(requester), requester.id).locale = "sv"
    make.session.commit()
    ticket = new_ticket(make, brand, requester, locale="en")
    login("agent", brands=[brand])
    agent_reply(client, ticket)
    (mail,) = mails_to(make, "mina@example.com")
    assert '<html lang="en">' in mail.html_body
    assert link_in(mail) == f"/acme/en/requests/{ticket.id}"


def test_share_mail_follows_the_shared_persons_language(app, client, make, brand, login):
    """Issue 15 item 3: a share's mail goes in the language of that person's account."""
    boss = make.user(role="customer", email="boss@example.com", password=PASSWORD)
    make.session.get(type(boss), boss.id).locale = "ko"
    make.session.commit()
    me = login("customer")
    ticket = new_ticket(make, brand, me)
    response = client.post(
        f"/acme/en/requests/{ticket.id}/shares", data={"emails": "boss@example.com"}
    )
    assert response.status_code == 303
    (mail,) = mails_to(make, "boss@example.com")
    assert '<html lang="ko">' in mail.html_body
    assert link_in(mail) == f"/acme/ko/requests/{ticket.id}"
