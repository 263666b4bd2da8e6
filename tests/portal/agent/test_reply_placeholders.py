"""Placeholders in replies: one renderer for every reply path (the ticket page, a scheduled
reply, a bulk reply, canned responses), and an unknown placeholder refused before anything is
sent (issue 15 item 2)."""

import secrets
from datetime import timedelta
from html import unescape

import pytest
from sqlalchemy import func, select

from kb import clock
from portal.desk.models import OutboxMail, ScheduledReply, Ticket, TicketMessage
from portal.desk.replies import send_due as send_due_replies
from portal.extensions import db

GREETING = "Hello {{requester_name}}, your request #{{ticket_id}} ({{ subject }}) is fixed."


@pytest.fixture
def brand(make):
    return make.brand(slug="acme", name="Acme", locales=("en",))


def new_ticket(make, brand, name, subject):
    now = clock.now()
    row = Ticket(
        brand_id=brand.id,
        locale="en",
        subject=subject,
        description="About it.",
        status="open",
        requester_name=name,
        requester_email=f"{name.lower()}@example.com",
        link_secret=secrets.token_hex(16),
        answers=[],
        details={},
        created_at=now,
        updated_at=now,
    )
    make.session.add(row)
    make.session.commit()
    return row


@pytest.fixture
def two(make, brand):
    return [
        new_ticket(make, brand, "Ana", "Card declined"),
        new_ticket(make, brand, "Ben", "Login"),
    ]


def count(make, model) -> int:
    make.session.expire_all()
    return make.session.scalar(select(func.count()).select_from(model))


def expected(ticket) -> str:
    return f"Hello {ticket.requester_name}, your request #{ticket.id} ({ticket.subject}) is fixed."


def test_bulk_reply_fills_placeholders_for_each_requester(client, make, brand, two, login):
    """Issue 15 item 2: a bulk public reply fills {{requester_name}}, {{ticket_id}}... per
    ticket, in the message and in the mail, instead of sending them raw."""
    login("agent", brands=[brand])
    ids = [str(t.id) for t in two]
    response = client.post("/agent/bulk", data={"ticket": ids, "body": GREETING})
    assert response.status_code == 303
    for ticket in two:
        body = make.session.scalar(
            select(TicketMessage.body).where(TicketMessage.ticket_id == ticket.id)
        )
        assert body == expected(ticket)
        mail = make.session.scalar(select(OutboxMail).where(OutboxMail.ticket_id == ticket.id))
        assert expected(ticket) in mail.text_body and "{{" not in mail.text_body


def test_bulk_reply_with_an_unknown_placeholder_sends_nothing_and_keeps_the_text(
    client, make, brand, two, login
):
    """Issue 15 item 2: an unknown placeholder is refused with a message before anything is
    sent; the form comes back with the text as typed."""
    login("agent", brands=[brand])
    text = "Hello {{requester_name}}, order {{order_number}} is on its way."
    response = client.post(
        "/agent/bulk", data={"ticket": [str(t.id) for t in two], "body": text, "status": "solved"}
    )
    html = unescape(response.get_data(as_text=True))
    assert response.status_code == 422
    assert "{{order_number}}" in html and "placeholder" in html
    assert f">{text}</textarea>" in html
    assert count(make, TicketMessage) == 0 and count(make, OutboxMail) == 0
    assert {make.session.get(Ticket, t.id).status for t in two} == {"open"}


def test_ticket_page_reply_fills_placeholders(client, make, brand, two, login):
    """Issue 15 item 2: a reply typed on the ticket page goes through the same renderer."""
    login("agent", brands=[brand])
    ticket = two[0]
    response = client.post(
        f"/agent/tickets/{ticket.id}/reply",
        data={"body": GREETING, "kind": "public", "status": "pending"},
    )
    assert response.status_code == 303
    mail = make.session.scalar(select(OutboxMail))
    assert expected(ticket) in mail.text_body


def test_ticket_page_reply_with_an_unknown_placeholder_is_refused_with_the_text_kept(
    client, make, brand, two, login
):
    """Issue 15 item 2: the ticket page refuses an unknown placeholder beside the reply."""
    login("agent", brands=[brand])
    ticket = two[0]
    text = "Hi {{customer_name}}"
    response = client.post(
        f"/agent/tickets/{ticket.id}/reply",
        data={"body": text, "kind": "public", "status": "pending"},
    )
    html = unescape(response.get_data(as_text=True))
    assert response.status_code == 422
    assert "{{customer_name}}" in html and f">{text}</textarea>" in html
    assert count(make, TicketMessage) == 0 and count(make, OutboxMail) == 0


def test_scheduled_reply_fills_placeholders_and_refuses_unknown_ones(
    app, client, make, brand, two, login
):
    """Issue 15 item 2: a scheduled reply is checked when scheduled and filled when sent."""
    login("agent", brands=[brand])
    ticket = two[0]
    url = f"/agent/tickets/{ticket.id}/reply"
    refused = client.post(
        url, data={"body": "{{nope}}", "kind": "public", "status": "pending", "delay": "60"}
    )
    assert refused.status_code == 422
    assert count(make, ScheduledReply) == 0
    data = {"body": GREETING, "kind": "public", "status": "pending", "delay": "60"}
    assert client.post(url, data=data).status_code == 303
    clock.freeze(clock.now() + timedelta(minutes=2))
    with app.app_context():
        assert send_due_replies(db.session, clock.now()) == 1
    mail = make.session.scalar(select(OutboxMail))
    assert expected(ticket) in mail.text_body


def test_internal_note_keeps_braces_as_typed(client, make, brand, two, login):
    """Issue 15 item 2: notes never reach customers, so their text stays exactly as typed."""
    login("agent", brands=[brand])
    ticket = two[0]
    response = client.post(
        f"/agent/tickets/{ticket.id}/reply", data={"body": "see {{whatever}}", "kind": "internal"}
    )
    assert response.status_code == 303
    assert make.session.scalar(select(TicketMessage.body)) == "see {{whatever}}"
