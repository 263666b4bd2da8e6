"""One ticket for agents: who may see it, replies and internal notes (which never reach
customers), property changes as events, and the requester's profile."""

import re
import secrets
from datetime import timedelta

import pytest
from sqlalchemy import select

from kb import clock
from kb.people import CustomerOrganization
from portal.desk import agent_tickets
from portal.desk.models import (
    OutboxMail,
    Ticket,
    TicketEvent,
    TicketMessage,
    TicketShare,
    TicketTag,
)
from portal.desk.tickets import link_token
from tests.conftest import PASSWORD

NOTE = "Refund approved by finance, do not tell them about the coupon hack"


@pytest.fixture
def brand(make):
    return make.brand(slug="acme", locales=("en", "ko"), name="Acme")


@pytest.fixture
def requester(make):
    user = make.user(role="customer", email="mina@example.com", name="Mina", password=PASSWORD)
    user.locale = "ko"
    make.session.commit()
    return user


def new_ticket(make, brand, requester, subject="Card declined", **fields):
    now = fields.pop("now", clock.now())
    row = Ticket(
        brand_id=brand.id,
        locale=fields.pop("locale", "ko"),
        subject=subject,
        description=f"About: {subject}",
        status=fields.pop("status", "open"),
        requester_id=requester.id if requester else None,
        requester_name=requester.name if requester else "Visitor",
        requester_email=requester.email if requester else "visitor@example.com",
        customer_org_id=requester.customer_org_id if requester else None,
        link_secret=secrets.token_hex(16),
        answers=[
            {
                "key": "order",
                "label": "Order number",
                "type": "text",
                "value": "A-17",
                "display": "A-17",
            },
            {
                "key": "device",
                "label": "Device",
                "type": "hidden",
                "value": "ios",
                "display": "ios",
            },
        ],
        details={
            "hidden": {"device": "ios"},
            "user_agent": "TestBrowser/1.0",
            "referrer_article_id": 42,
        },
        created_at=now,
        updated_at=now,
        **fields,
    )
    make.session.add(row)
    make.session.commit()
    return row


@pytest.fixture
def ticket(make, brand, requester):
    return new_ticket(make, brand, requester)


def customer_client(app, user):
    client = app.test_client()
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 303
    return client


def page(client, ticket) -> str:
    response = client.get(f"/agent/tickets/{ticket.id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


# --- who may see it ------------------------------------------------------------------------


def test_agent_of_the_brand_sees_the_ticket_with_internal_notes_marked(
    client, make, brand, ticket, login
):
    login("agent", brands=[brand])
    client.post(f"/agent/tickets/{ticket.id}/reply", data={"body": NOTE, "kind": "internal"})
    html = page(client, ticket)
    assert "Card declined" in html
    assert "internal-note" in html and "Internal note" in html
    assert "hack" in html
    # Answers as submitted, collected details and the requester.
    assert "Order number" in html and "A-17" in html
    assert "TestBrowser/1.0" in html and "42" in html
    assert "mina@example.com" in html and "Mina" in html


def test_an_unanswered_file_question_is_blank_not_none(client, make, ticket, brand, login):
    """Issue 15 item 12 (found again by QA): a file question answered with no file read
    "Screenshot None" on the agent's page."""
    ticket.answers = [
        *ticket.answers,
        {"key": "shot", "label": "Screenshot", "type": "file", "value": None, "display": ""},
    ]
    make.session.commit()
    login("agent", brands=[brand])
    page = client.get(f"/agent/tickets/{ticket.id}").get_data(as_text=True)
    answers = page[
        page.index('id="answers-heading"') : page.index("</dl>", page.index('id="answers-heading"'))
    ]
    assert "<dt>Screenshot</dt><dd></dd>" in answers
    assert "None" not in answers


def test_agent_of_another_brand_gets_404(client, make, ticket, login):
    login("agent", brands=[make.brand(slug="other")])
    assert client.get(f"/agent/tickets/{ticket.id}").status_code == 404
    reply = client.post(f"/agent/tickets/{ticket.id}/reply", data={"body": "Hi"})
    assert reply.status_code == 404


def test_customer_gets_403(app, ticket, requester):
    client = customer_client(app, requester)
    assert client.get(f"/agent/tickets/{ticket.id}").status_code == 403


def test_anonymous_visitor_is_sent_to_sign_in(client, ticket):
    response = client.get(f"/agent/tickets/{ticket.id}")
    assert response.status_code == 302
    assert "/login?next=/agent/tickets/" in response.headers["Location"]


# --- replies and notes ---------------------------------------------------------------------


def test_public_reply_reaches_the_customer_and_mails_requester_and_shares_in_their_locale(
    app, client, make, brand, ticket, requester, login
):
    make.session.add(TicketShare(ticket_id=ticket.id, email="boss@example.com"))
    make.session.commit()
    agent = login("agent", brands=[brand])
    response = client.post(
        f"/agent/tickets/{ticket.id}/reply",
        data={"body": "Please try the card again now.", "kind": "public", "status": "pending"},
    )
    assert response.status_code == 303
    assert response.headers["Location"].startswith(f"/agent/tickets/{ticket.id}")

    customer_html = (
        customer_client(app, requester).get(f"/acme/ko/requests/{ticket.id}").get_data(as_text=True)
    )
    assert "Please try the card again now." in customer_html

    mails = make.session.scalars(select(OutboxMail).order_by(OutboxMail.id)).all()
    assert sorted(m.recipient for m in mails) == ["boss@example.com", "mina@example.com"]
    for mail in mails:
        assert mail.ticket_id == ticket.id
        assert "Please try the card again now." in mail.text_body
        assert f"/acme/ko/requests/{ticket.id}" in mail.text_body
        assert "<html" in mail.html_body.lower() or "<p>" in mail.html_body

    make.session.expire_all()
    message = make.session.scalars(select(TicketMessage)).one()
    assert (message.public, message.from_requester, message.author_id) == (True, False, agent.id)
    assert make.session.get(Ticket, ticket.id).status == "pending"


def test_reply_keeps_the_status_the_agent_chose(client, make, brand, ticket, login):
    login("agent", brands=[brand])
    client.post(
        f"/agent/tickets/{ticket.id}/reply",
        data={"body": "Fixed.", "kind": "public", "status": "solved"},
    )
    make.session.expire_all()
    row = make.session.get(Ticket, ticket.id)
    assert row.status == "solved" and row.solved_at is not None


def test_internal_note_never_reaches_the_customer(
    app, client, make, brand, ticket, requester, login
):
    login("agent", brands=[brand])
    client.post(f"/agent/tickets/{ticket.id}/reply", data={"body": NOTE, "kind": "internal"})
    client.post(
        f"/agent/tickets/{ticket.id}/reply", data={"body": "Public words", "kind": "public"}
    )

    customer = customer_client(app, requester)
    seen = [
        customer.get(f"/acme/ko/requests/{ticket.id}"),
        customer.get(f"/acme/ko/requests/{ticket.id}", headers={"HX-Request": "true"}),
        customer.get("/acme/ko/requests"),
        customer.get("/acme/ko/requests", headers={"HX-Request": "true"}),
        app.test_client().get(
            f"/acme/ko/requests/{ticket.id}?token={link_token('test-secret', ticket)}"
        ),
    ]
    for response in seen:
        assert response.status_code == 200
        assert "coupon hack" not in response.get_data(as_text=True)
    assert "Public words" in seen[0].get_data(as_text=True)
    assert "Public words" in seen[4].get_data(as_text=True)

    mails = make.session.scalars(select(OutboxMail)).all()
    assert len(mails) == 1  # the public reply only
    for mail in mails:
        assert "coupon hack" not in mail.text_body + mail.html_body + mail.subject


def test_internal_note_sends_no_mail_and_keeps_the_status(client, make, brand, ticket, login):
    login("agent", brands=[brand])
    client.post(f"/agent/tickets/{ticket.id}/reply", data={"body": NOTE, "kind": "internal"})
    assert make.session.scalars(select(OutboxMail)).all() == []
    make.session.expire_all()
    assert make.session.get(Ticket, ticket.id).status == "open"
    kinds = make.session.scalars(select(TicketEvent.kind)).all()
    assert kinds == ["note"]


def test_empty_reply_answers_422_with_the_text_kept(client, make, brand, ticket, login):
    login("agent", brands=[brand])
    response = client.post(
        f"/agent/tickets/{ticket.id}/reply", data={"body": "   ", "kind": "internal"}
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "<html" in html and 'class="error"' in html
    assert 'value="internal" checked' in html
    assert make.session.scalars(select(TicketMessage)).all() == []


def test_empty_reply_over_htmx_answers_the_form_alone(client, brand, ticket, login):
    login("agent", brands=[brand])
    response = client.post(
        f"/agent/tickets/{ticket.id}/reply",
        data={"body": "", "kind": "public", "status": "on_hold"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "<html" not in html and 'id="reply"' in html
    assert '<option value="on_hold" selected>' in html


# --- properties ----------------------------------------------------------------------------


def test_property_changes_are_events_with_who_and_when(
    client, make, brand, ticket, login, frozen_now
):
    agent = login("agent", brands=[brand])
    colleague = make.user(role="agent", brands=[brand], name="Bora")
    response = client.post(
        f"/agent/tickets/{ticket.id}/properties",
        data={
            "status": "solved",
            "priority": "high",
            "type": "incident",
            "assignee": str(colleague.id),
            "tags": "Billing, VIP , billing",
        },
    )
    assert response.status_code == 303
    events = make.session.scalars(select(TicketEvent).order_by(TicketEvent.id)).all()
    assert [(e.kind, e.old_value, e.new_value) for e in events] == [
        ("status", "open", "solved"),
        ("priority", "normal", "high"),
        ("type", None, "incident"),
        ("assignee", None, "Bora"),
        ("tag_added", None, "billing"),
        ("tag_added", None, "vip"),
    ]
    assert {(e.actor_id, e.created_at) for e in events} == {(agent.id, frozen_now)}
    make.session.expire_all()
    row = make.session.get(Ticket, ticket.id)
    assert row.solved_at == frozen_now and row.assignee_id == colleague.id
    html = page(client, ticket)
    assert f"{agent.name} changed the status from Open to Solved" in html
    assert f"{agent.name} assigned the ticket to Bora" in html
    assert "added tag vip" in html


def test_assignee_outside_the_brand_is_refused(client, make, brand, ticket, login):
    login("agent", brands=[brand])
    outsider = make.user(role="agent", brands=[make.brand(slug="other")])
    response = client.post(
        f"/agent/tickets/{ticket.id}/properties",
        data={"status": "open", "priority": "low", "assignee": str(outsider.id), "tags": ""},
    )
    assert response.status_code == 422
    assert "Choose an agent of this ticket" in response.get_data(as_text=True)
    make.session.expire_all()
    assert make.session.get(Ticket, ticket.id).priority == "normal"  # nothing half-saved
    assert make.session.scalars(select(TicketEvent)).all() == []


def test_too_many_tags_are_refused(client, make, brand, ticket, login):
    login("agent", brands=[brand])
    tags = ",".join(f"t{i}" for i in range(21))
    response = client.post(
        f"/agent/tickets/{ticket.id}/properties",
        data={"status": "open", "priority": "normal", "tags": tags},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "<html" not in html and "at most 20 tags" in html
    assert make.session.scalars(select(TicketTag)).all() == []


def test_take_it_assigns_the_ticket_to_me(client, make, brand, ticket, login):
    me = login("agent", brands=[brand])
    assert "Take it" in page(client, ticket)
    response = client.post(f"/agent/tickets/{ticket.id}/take")
    assert response.status_code == 303
    make.session.expire_all()
    assert make.session.get(Ticket, ticket.id).assignee_id == me.id
    assert "Take it" not in page(client, ticket)


# --- the domain, without HTTP --------------------------------------------------------------


def test_timeline_merges_messages_and_events_by_time(make, brand, ticket):
    agent = make.user(role="agent", brands=[brand])
    start = clock.now()
    agent_tickets.add_reply(make.session, ticket, agent, "note", False, None, start)
    agent_tickets.change_properties(
        make.session, ticket, agent, {"priority": "urgent"}, start + timedelta(minutes=1)
    )
    agent_tickets.add_reply(
        make.session, ticket, agent, "reply", True, None, start + timedelta(minutes=2)
    )
    entries = agent_tickets.timeline(make.session, ticket)
    described = [e.message.body if e.message else e.event.kind for e in entries]
    assert described == ["note", "priority", "reply", "status"]
    assert entries[0].is_note and not entries[2].is_note


def test_requester_profile_lists_other_requests_in_the_agents_brands(
    make, brand, ticket, requester
):
    company = CustomerOrganization(name="Daehan Logistics", domains=[])
    make.session.add(company)
    make.session.commit()
    ticket.customer_org_id = company.id
    older = new_ticket(make, brand, requester, "Older one", now=clock.now() - timedelta(days=1))
    new_ticket(make, make.brand(slug="other"), requester, "Elsewhere")
    profile = agent_tickets.requester_profile(make.session, ticket, [brand.id])
    assert (profile.name, profile.email, profile.organization, profile.language) == (
        "Mina",
        "mina@example.com",
        "Daehan Logistics",
        "ko",
    )
    assert [t.id for t in profile.other_requests] == [older.id]
    everywhere = agent_tickets.requester_profile(make.session, ticket, None)
    assert len(everywhere.other_requests) == 2


def test_tags_are_lower_cased_and_capped():
    assert agent_tickets.parse_tags(" Billing,vip, ,BILLING") == ["billing", "vip"]
    with pytest.raises(agent_tickets.PropertyError):
        agent_tickets.parse_tags("x" * 65)


def test_a_reply_sent_over_htmx_loads_the_ticket_page_in_place(client, brand, ticket, login):
    """Not a redirect: htmx would swap the whole page into the form."""
    login("agent", brands=[brand])
    response = client.post(
        f"/agent/tickets/{ticket.id}/reply",
        data={"body": "Done over htmx", "kind": "public", "status": "pending"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 204
    assert re.fullmatch(rf"/agent/tickets/{ticket.id}#message-\d+", response.headers["HX-Location"])
    assert "Done over htmx" in page(client, ticket)
