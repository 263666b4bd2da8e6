"""After a reply the agent's page comes back at the conversation, at the message just sent."""

import re
import secrets

import pytest
from sqlalchemy import select

from portal.desk.models import Ticket, TicketMessage


@pytest.fixture
def ticket(make):
    brand = make.brand(slug="acme", locales=("en",))
    row = Ticket(
        brand_id=brand.id,
        locale="en",
        subject="Card declined",
        description="It was declined.",
        status="open",
        requester_name="Visitor",
        requester_email="visitor@example.com",
        link_secret=secrets.token_hex(16),
    )
    make.session.add(row)
    make.session.commit()
    row.brand = brand
    return row


def _reply(client, ticket, kind, headers=None):
    return client.post(
        f"/agent/tickets/{ticket.id}/reply",
        data={"body": f"A {kind} answer", "kind": kind, "status": "pending", "delay": "0"},
        headers=headers or {},
    )


def _newest_message(ctx, ticket) -> TicketMessage:
    ctx.expire_all()
    return ctx.scalars(
        select(TicketMessage)
        .where(TicketMessage.ticket_id == ticket.id)
        .order_by(TicketMessage.id.desc())
    ).first()


@pytest.mark.parametrize("kind", ["public", "internal"])
def test_sent_reply_leads_back_to_the_message_not_the_top(client, ctx, login, ticket, kind):
    """Issue 15 item 26: after a reply the page opened at the reply form's anchor (htmx: at
    the top); it opens at the message just sent, where the agent's focus goes."""
    login("agent", brands=[ticket.brand])
    response = _reply(client, ticket, kind)
    assert response.status_code == 303
    message = _newest_message(ctx, ticket)
    assert response.headers["Location"].endswith(f"/agent/tickets/{ticket.id}#message-{message.id}")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f'id="message-{message.id}"' in page


def test_sent_reply_with_htmx_loads_the_page_at_the_message(client, ctx, login, ticket):
    """Issue 15 item 26: the htmx answer names the same anchor, which arrival.js focuses."""
    login("agent", brands=[ticket.brand])
    response = _reply(client, ticket, "public", headers={"HX-Request": "true"})
    assert response.status_code == 204
    message = _newest_message(ctx, ticket)
    assert re.search(
        rf"/agent/tickets/{ticket.id}#message-{message.id}$", response.headers["HX-Location"]
    )
