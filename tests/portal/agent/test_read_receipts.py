"""Read receipts: the requester opening their request marks the agents' public replies seen;
a colleague it is shared with, or an agent, does not; internal notes never show a receipt."""

import re
from datetime import UTC, datetime, timedelta

from kb import clock
from portal.desk.models import Ticket, TicketShare
from portal.desk.tickets import link_token
from tests.conftest import PASSWORD
from tests.portal.agent.test_ticket import brand, customer_client, new_ticket, page, requester

__all__ = ["brand", "requester"]  # fixtures

T0 = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)


def reply(client, ticket, body="Public words", kind="public"):
    response = client.post(f"/agent/tickets/{ticket.id}/reply", data={"body": body, "kind": kind})
    assert response.status_code in (200, 303)


def receipts(html: str) -> list[str]:
    return re.findall(r'<p class="muted read-receipt">([^<]*)</p>', html)


def seen_at(make, ticket):
    make.session.expire_all()
    return make.session.get(Ticket, ticket.id).requester_seen_at


def setup(client, make, brand, requester, login):
    clock.freeze(T0)
    ticket = new_ticket(make, brand, requester)
    login("agent", brands=[brand])
    reply(client, ticket)
    clock.freeze(T0 + timedelta(minutes=5))
    return ticket


def test_requester_signed_in_marks_reply_seen(app, client, make, brand, requester, login):
    ticket = setup(client, make, brand, requester, login)
    assert receipts(page(client, ticket)) == ["Not seen yet"]
    updated = make.session.get(Ticket, ticket.id).updated_at
    assert customer_client(app, requester).get(f"/acme/ko/requests/{ticket.id}").status_code == 200
    assert seen_at(make, ticket) == T0 + timedelta(minutes=5)
    assert make.session.get(Ticket, ticket.id).updated_at == updated  # a read is no update
    [line] = receipts(page(client, ticket))
    assert line.startswith("Seen by the requester")
    # A reload without a newer reply writes nothing; a newer reply is not seen yet.
    clock.freeze(T0 + timedelta(minutes=10))
    customer_client(app, requester).get(f"/acme/ko/requests/{ticket.id}")
    assert seen_at(make, ticket) == T0 + timedelta(minutes=5)
    reply(client, ticket, "Second")
    html = page(client, ticket)
    assert receipts(html)[0].startswith("Seen by the requester")
    assert receipts(html)[1] == "Not seen yet"


def test_private_link_marks_reply_seen(app, client, make, brand, requester, login):
    ticket = setup(client, make, brand, requester, login)
    url = f"/acme/ko/requests/{ticket.id}?token={link_token('test-secret', ticket)}"
    assert app.test_client().get(url).status_code == 200
    assert seen_at(make, ticket) == T0 + timedelta(minutes=5)
    assert receipts(page(client, ticket))[0].startswith("Seen by the requester")


def test_colleague_shared_with_does_not_mark_seen(app, client, make, brand, requester, login):
    ticket = setup(client, make, brand, requester, login)
    colleague = make.user(role="customer", email="boss@example.com", password=PASSWORD)
    make.session.add(TicketShare(ticket_id=ticket.id, email=colleague.email, user_id=colleague.id))
    make.session.commit()
    other = customer_client(app, colleague)
    assert other.get(f"/acme/ko/requests/{ticket.id}").status_code == 200
    # The colleague holding the forwarded private link is not the requester either.
    url = f"/acme/ko/requests/{ticket.id}?token={link_token('test-secret', ticket)}"
    assert other.get(url).status_code == 200
    # Nor is an agent opening the private link.
    assert client.get(url).status_code == 200
    assert seen_at(make, ticket) is None
    assert receipts(page(client, ticket)) == ["Not seen yet"]


def test_internal_note_never_gets_a_receipt(app, client, make, brand, requester, login):
    ticket = setup(client, make, brand, requester, login)
    reply(client, ticket, "Secret note", kind="internal")
    customer_client(app, requester).get(f"/acme/ko/requests/{ticket.id}")
    html = page(client, ticket)
    assert len(receipts(html)) == 1  # the public reply only
    note = html[html.index("Secret note") - 600 : html.index("Secret note") + 200]
    assert "read-receipt" not in note.split("Secret note")[1]
