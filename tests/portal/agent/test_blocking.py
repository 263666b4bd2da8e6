"""Blocking a requester: agents holding "tickets.block" block an address from the ticket page
or the profile (confirmed); its forms and replies are refused with a clear message (what was
typed kept), its mail is held in "Mail received" until an unblock and a retry; both recorded in
the system log."""

import re

import pytest
from sqlalchemy import func, select

from kb import clock
from portal.desk import blocking
from portal.desk.forms import create_form
from portal.desk.models import BlockedRequester, Ticket, TicketMessage
from portal.extensions import db
from portal.mail.inbound import pipeline
from portal.mail.models import DONE, HELD, InboundMail
from portal.security.models import AuditEntry
from tests.conftest import PASSWORD
from tests.portal.mail.inbound_helpers import deliver, message, receiving_brand, tickets

REFUSAL = "Requests from this address are not accepted."


@pytest.fixture
def brand(make):
    return make.brand(slug="acme", name="Acme")


def _sign_in(app, user):
    client = app.test_client()
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 303
    return client


def _block(ctx, make, email="mina@example.com", brand=None):
    admin = make.user(role="admin")
    blocking.block(ctx, admin, email, brand_id=brand.id if brand else None, now=clock.now())
    ctx.commit()
    return admin


def _entries(ctx, action):
    ctx.expire_all()
    return list(ctx.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def test_an_admin_blocks_the_requester_from_the_ticket_page_after_confirming(
    client, login, make, ctx, brand
):
    ticket = make.ticket(brand, requester_email="Mina@Example.com")
    login("admin")
    page = client.get(f"/agent/tickets/{ticket.id}").get_data(as_text=True)
    link = (
        re.search(r'href="(/agent/requesters/block\?[^"]+)"', page).group(1).replace("&amp;", "&")
    )
    question = client.get(link)
    assert question.status_code == 200
    assert "Block mina@example.com?" in question.get_data(as_text=True)
    assert ctx.scalar(select(func.count()).select_from(BlockedRequester)) == 0  # asked only

    done = client.post(link, data={"confirmed": "yes", "reason": "  Abusive   language "})
    assert done.status_code == 303 and "/agent/customers/by-email" in done.headers["Location"]
    row = ctx.scalar(select(BlockedRequester))
    assert (row.email, row.reason) == ("mina@example.com", "Abusive language")
    [entry] = _entries(ctx, "requester.blocked")
    assert (entry.kind, entry.brand_id, entry.target_name) == ("system", brand.id, row.email)

    page = client.get(f"/agent/tickets/{ticket.id}").get_data(as_text=True)
    assert "Blocked" in page and REFUSAL in page and "Unblock requester" in page
    unblock = re.search(r'action="(/agent/requesters/unblock\?[^"]+)"', page).group(1)
    response = client.post(unblock.replace("&amp;", "&"), data={"confirmed": "yes"})
    assert response.status_code == 303
    assert not blocking.is_blocked(ctx, "mina@example.com")
    [entry] = _entries(ctx, "requester.unblocked")
    assert entry.brand_id == brand.id


def test_the_customer_profile_offers_the_block_too(client, login, make, brand):
    customer = make.user(role="customer", email="jun@example.com")
    make.ticket(brand, customer)
    login("admin")
    page = client.get(f"/agent/customers/{customer.id}").get_data(as_text=True)
    assert f"/agent/requesters/block?email=jun@example.com&amp;brand={brand.id}" in page


def test_an_agent_may_neither_block_nor_unblock(client, login, make, ctx, brand):
    """Agents hold tickets.view/reply/note/assign: the page offers nothing, the routes 403."""
    ticket = make.ticket(brand)
    login("agent", brands=[brand])
    page = client.get(f"/agent/tickets/{ticket.id}").get_data(as_text=True)
    assert "Block requester" not in page
    query = f"?email=mina@example.com&brand={brand.id}"
    assert client.get(f"/agent/requesters/block{query}").status_code == 403
    data = {"confirmed": "yes"}
    assert client.post(f"/agent/requesters/block{query}", data=data).status_code == 403
    assert client.post(f"/agent/requesters/unblock{query}", data=data).status_code == 403
    assert not blocking.is_blocked(ctx, "mina@example.com")
    # Someone who never asked this brand anything: the same answer as an unknown page.
    other = f"?email=nobody@example.com&brand={brand.id}"
    assert client.get(f"/agent/requesters/block{other}").status_code == 404


def test_an_editor_gets_the_back_office_refusal(client, login, make, brand):
    make.ticket(brand)
    login("editor", brands=[brand])
    query = f"?email=mina@example.com&brand={brand.id}"
    assert client.get(f"/agent/requesters/block{query}").status_code == 403


def test_a_blocked_address_sending_a_form_is_refused_and_keeps_what_it_typed(
    client, make, ctx, brand
):
    form = create_form(ctx, brand, {"en": "Question"}, {})
    _block(ctx, make, "mina@example.com", brand)
    url = f"/acme/en/requests/new?form={form.id}"
    key = re.search(r'name="key" value="([^"]+)"', client.get(url).get_data(as_text=True))
    response = client.post(
        url,
        data={
            "key": key.group(1),
            "name": "Mina Park",
            "email": "MINA@example.com",
            "subject": "Charged twice",
            "description": "My card was charged twice for order 1234.",
            "action": "send",
        },
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert REFUSAL in page
    assert 'value="Charged twice"' in page and "charged twice for order 1234." in page
    assert 'value="Mina Park"' in page
    assert ctx.scalar(select(func.count()).select_from(Ticket)) == 0


def test_a_blocked_customer_cannot_reply_on_their_request(app, make, ctx, brand):
    customer = make.user(role="customer", email="jun@example.com", password=PASSWORD)
    ticket = make.ticket(brand, customer)
    _block(ctx, make, customer.email, brand)
    client = _sign_in(app, customer)
    response = client.post(
        f"/acme/en/requests/{ticket.id}", data={"body": "Why is nobody answering?"}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert REFUSAL in page and "Why is nobody answering?" in page
    count = select(func.count()).select_from(TicketMessage)
    assert ctx.scalar(count.where(TicketMessage.ticket_id == ticket.id)) == 0


def test_mail_from_a_blocked_sender_is_held_listed_and_released_after_the_unblock(
    app, make, ctx, login, client
):
    desk = receiving_brand(make, ctx)
    admin = _block(ctx, make, "mina@example.com", desk.brand)
    row = deliver(app, message(desk.address, sender="Mina Park <Mina@Example.com>"))
    assert (row.status, row.reason) == (HELD, "blocked sender")
    assert tickets(ctx) == []
    stored = ctx.get(InboundMail, row.id)
    assert b"My card is declined" in stored.raw  # kept, never lost

    login("admin")
    page = client.get("/admin/mail-in").get_data(as_text=True)
    assert "blocked sender" in page and f"/admin/mail-in/{row.id}/retry" in page

    # Retried while still blocked: held again.
    with app.app_context():
        assert pipeline.retry(db.session, row.id, clock.now()).status == HELD
    assert tickets(ctx) == []

    blocking.unblock(ctx, admin, "mina@example.com", brand_id=desk.brand.id, now=clock.now())
    ctx.commit()
    response = client.post(f"/admin/mail-in/{row.id}/retry")
    assert response.status_code == 303
    [ticket] = tickets(ctx)
    assert ticket.requester_email == "mina@example.com"
    ctx.expire_all()
    assert ctx.get(InboundMail, row.id).status == DONE


def test_a_reply_by_mail_from_a_blocked_requester_is_held_too(app, make, ctx):
    desk = receiving_brand(make, ctx)
    first = deliver(app, message(desk.address))
    [ticket] = tickets(ctx)
    _block(ctx, make, "mina@example.com", desk.brand)
    again = message(desk.address, subject=f"Re: [#{ticket.id}] Card declined", body="Hello?")
    again["In-Reply-To"] = first.message_id
    row = deliver(app, again)
    assert (row.status, row.reason) == (HELD, "blocked sender")
    count = select(func.count()).select_from(TicketMessage)
    assert ctx.scalar(count.where(TicketMessage.ticket_id == ticket.id)) == 1  # the first only


def test_held_mail_of_a_blocked_sender_is_not_announced_as_a_runaway_sender(
    app, make, ctx, client, login
):
    desk = receiving_brand(make, ctx)
    _block(ctx, make, "mina@example.com", desk.brand)
    deliver(app, message(desk.address))
    login("agent", brands=[desk.brand])
    page = client.get("/agent/").get_data(as_text=True)
    assert "Mail held by the sender limit" not in page
