"""Who solved a ticket: solving an unassigned ticket assigns it to the agent who solved it, so
"My performance: Solved" counts it for them, whatever the door (ticket page, reply, bulk)."""

import re
import secrets

import pytest
from sqlalchemy import select

from kb import clock
from portal.desk.models import Ticket, TicketEvent


@pytest.fixture
def acme(make):
    return make.brand(slug="acme", name="Acme")


def unassigned(make, brand, subject="Card declined"):
    now = clock.now()
    row = Ticket(
        brand_id=brand.id,
        locale="en",
        subject=subject,
        description="Please help",
        status="open",
        requester_name="Kim",
        requester_email="kim@example.com",
        link_secret=secrets.token_hex(16),
        created_at=now,
        updated_at=now,
    )
    make.session.add(row)
    make.session.commit()
    return row


def solved_today(client) -> str:
    html = client.get("/agent/me").get_data(as_text=True)
    return re.search(r'data-figure="solved" data-period="today">([^<]*)</td>', html).group(1)


def assignee_of(make, ticket):
    make.session.expire_all()
    return make.session.get(Ticket, ticket.id).assignee_id


def test_solving_an_unassigned_ticket_on_its_page_counts_for_the_solver(client, make, acme, login):
    """Issue 15 item 11: the properties form solves an unassigned ticket; it is assigned to
    the solver (with an event) and their "Solved today" counts it."""
    me = login("agent", brands=[acme])
    ticket = unassigned(make, acme)
    response = client.post(
        f"/agent/tickets/{ticket.id}/properties",
        data={"status": "solved", "priority": "normal", "assignee": "", "tags": ""},
    )
    assert response.status_code == 303
    assert assignee_of(make, ticket) == me.id
    kinds = make.session.scalars(select(TicketEvent.kind).where(TicketEvent.ticket_id == ticket.id))
    assert {"status", "assignee"} <= set(kinds)
    assert solved_today(client) == "1"


def test_solving_with_a_public_reply_counts_for_the_solver(client, make, acme, login):
    """Issue 15 item 11: a reply sent with "Solved" assigns the unassigned ticket to its
    author."""
    me = login("agent", brands=[acme])
    ticket = unassigned(make, acme)
    client.post(
        f"/agent/tickets/{ticket.id}/reply",
        data={"body": "Done, the refund is on its way.", "kind": "public", "status": "solved"},
    )
    assert assignee_of(make, ticket) == me.id
    assert solved_today(client) == "1"


def test_bulk_solving_unassigned_tickets_counts_them_for_the_solver(client, make, acme, login):
    """Issue 15 item 11: bulk "Solved" on unassigned tickets assigns each to the solver."""
    me = login("agent", brands=[acme])
    tickets = [unassigned(make, acme, "One"), unassigned(make, acme, "Two")]
    response = client.post(
        "/agent/bulk",
        data={"ticket": [str(t.id) for t in tickets], "status": "solved", "back": "/agent/"},
    )
    assert response.status_code == 303
    assert [assignee_of(make, t) for t in tickets] == [me.id, me.id]
    assert solved_today(client) == "2"


def test_solving_a_colleagues_ticket_keeps_their_assignment(client, make, acme, login):
    """Issue 15 item 11: only unassigned tickets are taken; a colleague's stays theirs."""
    colleague = make.user(role="agent", brands=[acme], email="lee@example.com", name="Lee")
    login("agent", brands=[acme])
    ticket = unassigned(make, acme)
    ticket.assignee_id = colleague.id
    make.session.commit()
    client.post(
        f"/agent/tickets/{ticket.id}/properties",
        data={"status": "solved", "priority": "normal", "assignee": str(colleague.id)},
    )
    assert assignee_of(make, ticket) == colleague.id
