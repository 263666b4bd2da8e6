"""Bulk actions from the queue: POST /agent/bulk changes every selected ticket alike, in one
transaction, or refuses the lot."""

import secrets

import pytest
from sqlalchemy import func, select

from kb import clock
from portal.desk.models import OutboxMail, Ticket, TicketEvent, TicketMessage, TicketTag
from tests.conftest import PASSWORD

QUEUE = "/agent/?queue=open&priority=high"


@pytest.fixture
def acme(make):
    return make.brand(slug="acme", name="Acme", locales=("en", "ko"))


@pytest.fixture
def globex(make):
    return make.brand(slug="globex", name="Globex")


def new_ticket(make, brand, subject, email="kim@example.com", locale="en", tags=()):
    now = clock.now()
    row = Ticket(
        brand_id=brand.id,
        locale=locale,
        subject=subject,
        description=f"About: {subject}",
        status="open",
        requester_name=email.split("@")[0].title(),
        requester_email=email,
        link_secret=secrets.token_hex(16),
        created_at=now,
        updated_at=now,
    )
    make.session.add(row)
    make.session.flush()
    make.session.add_all(TicketTag(ticket_id=row.id, tag=t) for t in tags)
    make.session.commit()
    return row


@pytest.fixture
def three(make, acme):
    return [
        new_ticket(make, acme, "Card declined", "ana@example.com", tags=("billing",)),
        new_ticket(make, acme, "Login loop", "ben@example.com", locale="ko"),
        new_ticket(make, acme, "Refund", "cho@example.com"),
    ]


def bulk(client, tickets, **fields):
    ids = [str(t.id) if isinstance(t, Ticket) else str(t) for t in tickets]
    return client.post("/agent/bulk", data={"ticket": ids, "back": QUEUE, **fields})


def events_of(make, ticket) -> set[tuple]:
    rows = make.session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id))
    return {(e.kind, e.old_value, e.new_value) for e in rows}


def nothing_changed(make, tickets):
    make.session.expire_all()
    assert make.session.scalar(select(func.count()).select_from(TicketEvent)) == 0
    assert make.session.scalar(select(func.count()).select_from(OutboxMail)) == 0
    for t in tickets:
        row = make.session.get(Ticket, t.id)
        assert (row.status, row.priority, row.assignee_id) == ("open", "normal", None)


def test_queue_rows_have_checkboxes_in_one_bulk_form(client, three, acme, login):
    login("agent", brands=[acme])
    for headers in ({}, {"HX-Request": "true"}):
        html = client.get(QUEUE.replace("&priority=high", ""), headers=headers).get_data(True)
        assert 'action="/agent/bulk"' in html and 'name="csrf_token"' in html
        assert 'name="back" value="/agent/?queue=open"' in html
        for t in three:
            assert f'name="ticket" value="{t.id}"' in html
        assert 'name="assignee"' in html and 'value="me"' in html


def test_bulk_changes_status_assignee_priority_and_tags_with_events(
    client, make, acme, three, login
):
    me = login("agent", brands=[acme])
    response = bulk(
        client, three, status="pending", priority="high", assignee="me", tags="vip, Billing"
    )
    assert response.status_code == 303
    assert response.headers["Location"] == QUEUE
    assert "Updated 3 tickets" in client.get(QUEUE).get_data(True)

    make.session.expire_all()
    name = me.nickname or me.name
    for t in three:
        row = make.session.get(Ticket, t.id)
        assert (row.status, row.priority, row.assignee_id) == ("pending", "high", me.id)
        events = events_of(make, t)
        assert {
            ("status", "open", "pending"),
            ("priority", "normal", "high"),
            ("assignee", None, name),
            ("tag_added", None, "vip"),
        } <= events
        tags = make.session.scalars(select(TicketTag.tag).where(TicketTag.ticket_id == t.id))
        assert {"vip", "billing"} <= set(tags)
    # Tags are added, never removed: the first ticket's billing tag stays without an event.
    assert not any(e[0] == "tag_removed" for e in events_of(make, three[0]))
    assert ("tag_added", None, "billing") not in events_of(make, three[0])


def test_bulk_can_assign_another_agent_of_the_brand_or_nobody(client, make, acme, three, login):
    colleague = make.user(role="agent", brands=[acme], email="lee@example.com", name="Lee")
    login("agent", brands=[acme])
    assert bulk(client, three[:2], assignee=str(colleague.id)).status_code == 303
    make.session.expire_all()
    assert [make.session.get(Ticket, t.id).assignee_id for t in three] == [
        colleague.id,
        colleague.id,
        None,
    ]
    assert bulk(client, three[:1], assignee="none").status_code == 303
    make.session.expire_all()
    assert make.session.get(Ticket, three[0].id).assignee_id is None


def test_bulk_reply_queues_one_mail_per_requester_in_their_language(
    client, make, acme, three, login
):
    login("agent", brands=[acme])
    response = bulk(client, three, body="We are on it.")
    assert response.status_code == 303

    mails = make.session.scalars(select(OutboxMail).order_by(OutboxMail.id)).all()
    assert sorted(m.recipient for m in mails) == [
        "ana@example.com",
        "ben@example.com",
        "cho@example.com",
    ]
    by_ticket = {m.ticket_id: m for m in mails}
    for t in three:
        mail = by_ticket[t.id]
        assert "We are on it." in mail.text_body
        assert f"/acme/{t.locale}/requests/{t.id}" in mail.text_body
    messages = make.session.scalars(select(TicketMessage)).all()
    assert len(messages) == 3 and all(m.public for m in messages)
    make.session.expire_all()
    assert {make.session.get(Ticket, t.id).status for t in three} == {"pending"}


def test_an_id_of_another_brand_refuses_everything_with_404(
    client, make, acme, globex, three, login
):
    login("agent", brands=[acme])
    foreign = new_ticket(make, globex, "Not yours")
    response = bulk(client, [*three, foreign], status="solved", body="Closing all.")
    assert response.status_code == 404
    nothing_changed(make, [*three, foreign])


def test_unknown_or_malformed_id_is_404(client, make, acme, three, login):
    login("agent", brands=[acme])
    assert bulk(client, [three[0], 999999], status="solved").status_code == 404
    assert bulk(client, [three[0], "1 OR 1=1"], status="solved").status_code == 404
    assert bulk(client, [three[0], str(2**40)], status="solved").status_code == 404
    nothing_changed(make, three)


def test_more_than_100_tickets_are_refused(client, make, acme, three, login):
    login("agent", brands=[acme])
    ids = [three[0].id, *range(10_000, 10_100)]
    response = bulk(client, ids, status="solved")
    assert response.status_code == 422
    assert "at most 100 tickets" in response.get_data(True)
    nothing_changed(make, three)


def test_no_selection_comes_back_to_the_queue_with_what_was_typed(client, make, acme, three, login):
    """The queue again (the same one), to select tickets, with the choices and the reply
    kept: nothing typed is lost."""
    login("agent", brands=[acme])
    queue = "/agent/?queue=unassigned"
    response = bulk(client, [], status="solved", body="Kept text", tags="vip", back=queue)
    assert response.status_code == 422
    html = response.get_data(True)
    assert "Select at least one ticket first." in html
    assert '<option value="solved" selected>' in html
    assert ">Kept text</textarea>" in html and 'value="vip"' in html
    assert f'name="back" value="{queue}"' in html  # still that queue
    assert 'aria-current="page"' in html.split("Unassigned")[0].rsplit("<a", 1)[1]
    assert all(f'name="ticket" value="{t.id}"' in html for t in three)  # to choose from
    nothing_changed(make, three)


def test_an_assignee_outside_a_tickets_brand_changes_nothing(
    client, make, acme, globex, three, login
):
    outsider = make.user(role="agent", brands=[globex], email="out@example.com")
    login("agent", brands=[acme])
    response = bulk(client, three, status="solved", assignee=str(outsider.id), body="Typed reply")
    assert response.status_code == 422
    html = response.get_data(True)
    assert "Choose an agent of every selected ticket" in html
    assert "Typed reply" in html and f'name="ticket" value="{three[0].id}" checked' in html
    nothing_changed(make, three)


def test_back_outside_agent_pages_goes_to_the_queues(client, make, acme, three, login):
    login("agent", brands=[acme])
    for back in ("https://evil.example/agent/", "//evil.example/agent/", "/admin/", ""):
        response = client.post(
            "/agent/bulk", data={"ticket": [str(three[0].id)], "priority": "low", "back": back}
        )
        assert response.status_code == 303
        assert response.headers["Location"] == "/agent/"


def test_customer_gets_403(app, make, acme, three):
    customer = make.user(role="customer", email="c@example.com", password=PASSWORD)
    client = app.test_client()
    client.post("/login", data={"email": customer.email, "password": PASSWORD})
    assert bulk(client, three, status="solved").status_code == 403
    nothing_changed(make, three)


def test_anonymous_visitor_is_sent_to_sign_in(client, make, three):
    response = bulk(client, three, status="solved")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
    nothing_changed(make, three)
