"""Collision detection on the agent ticket page: who else is viewing or typing, and the
"new message since you opened it" check that keeps the draft."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from kb import clock
from portal.desk import presence
from portal.desk.models import TicketMessage, TicketPresence
from tests.conftest import PASSWORD
from tests.portal.agent.test_ticket import customer_client, new_ticket


@pytest.fixture
def brand(make):
    return make.brand(slug="acme", locales=("en", "ko"), name="Acme")


@pytest.fixture
def requester(make):
    return make.user(role="customer", email="mina@example.com", name="Mina", password=PASSWORD)


@pytest.fixture
def ticket(make, brand, requester):
    return new_ticket(make, brand, requester)


@pytest.fixture
def agnes(make, brand):
    return make.user(role="agent", brands=[brand], name="Agnes", email="agnes@example.com")


def poll(client, ticket, body=""):
    return client.post(
        f"/agent/tickets/{ticket.id}/presence", data={"body": body}, headers={"HX-Request": "true"}
    )


# --- domain --------------------------------------------------------------------------------


def test_others_lists_fresh_agents_but_not_me_nor_stale_ones(make, brand, ticket, agnes):
    me = make.user(role="agent", brands=[brand], name="Me")
    old = make.user(role="agent", brands=[brand], name="Oldie")
    now = clock.now()
    presence.touch(make.session, ticket.id, me.id, False, now)
    presence.touch(make.session, ticket.id, agnes.id, False, now - timedelta(seconds=5))
    presence.touch(make.session, ticket.id, agnes.id, True, now)  # an update, not a second row
    presence.touch(make.session, ticket.id, old.id, False, now - timedelta(seconds=61))
    make.session.commit()
    assert [(u.name, t) for u, t in presence.others(make.session, ticket.id, me.id, now)] == [
        ("Agnes", True)
    ]
    assert len(make.session.scalars(select(TicketPresence)).all()) == 3


# --- the endpoint and the page -------------------------------------------------------------


def test_poll_shows_another_agent_viewing_then_typing_and_not_myself(
    client, make, brand, ticket, agnes, login, frozen_now
):
    me = login("agent", brands=[brand])
    me.name = "Bert"
    make.session.commit()
    presence.touch(make.session, ticket.id, agnes.id, False, frozen_now - timedelta(seconds=30))
    make.session.commit()
    html = poll(client, ticket, body="half a reply").get_data(as_text=True)
    assert "Agnes is viewing" in html and "Bert" not in html
    presence.touch(make.session, ticket.id, agnes.id, True, frozen_now)
    make.session.commit()
    assert "Agnes is typing a reply…" in poll(client, ticket).get_data(as_text=True)
    row = make.session.get(TicketPresence, (ticket.id, me.id))
    make.session.refresh(row)
    assert row.typing is False and row.seen_at == frozen_now  # the empty box is not typing


def test_polling_with_text_marks_me_typing_for_the_others(
    client, make, brand, ticket, agnes, login, frozen_now
):
    login("agent", brands=[brand])
    poll(client, ticket, body="Dear Mina")
    assert [t for _u, t in presence.others(make.session, ticket.id, agnes.id, frozen_now)] == [True]


def test_stale_agents_are_hidden(client, make, brand, ticket, agnes, login, frozen_now):
    login("agent", brands=[brand])
    presence.touch(make.session, ticket.id, agnes.id, True, frozen_now - timedelta(seconds=61))
    make.session.commit()
    assert "Agnes" not in poll(client, ticket).get_data(as_text=True)


def test_page_without_js_lists_others_and_records_my_visit(
    client, make, brand, ticket, agnes, login, frozen_now
):
    me = login("agent", brands=[brand])
    presence.touch(make.session, ticket.id, agnes.id, False, frozen_now)
    make.session.commit()
    html = client.get(f"/agent/tickets/{ticket.id}").get_data(as_text=True)
    assert "Agnes is viewing" in html
    assert 'hx-trigger="load, every 10s"' in html and 'hx-include="#reply-body"' in html
    assert make.session.get(TicketPresence, (ticket.id, me.id)) is not None


def test_agent_of_another_brand_gets_404(client, make, ticket, login):
    login("agent", brands=[make.brand(slug="other")])
    assert poll(client, ticket).status_code == 404
    assert client.get(f"/agent/tickets/{ticket.id}").status_code == 404
    assert make.session.scalars(select(TicketPresence)).all() == []


def test_customer_gets_403(app, ticket, requester):
    client = customer_client(app, requester)
    assert poll(client, ticket).status_code == 403


# --- new message while writing -------------------------------------------------------------


def test_new_message_warns_keeps_the_draft_and_the_second_send_goes_through(
    client, make, brand, ticket, login
):
    login("agent", brands=[brand])
    html = client.get(f"/agent/tickets/{ticket.id}").get_data(as_text=True)
    assert 'name="last_message_id" value="0"' in html
    make.session.add(
        TicketMessage(
            ticket_id=ticket.id,
            author_name="Mina",
            public=True,
            body="Never mind, it works now",
            created_at=clock.now(),
        )
    )
    make.session.commit()
    form = {
        "body": "Try again please",
        "kind": "public",
        "status": "solved",
        "last_message_id": "0",
    }
    response = client.post(f"/agent/tickets/{ticket.id}/reply", data=form)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "A new message arrived while you were writing. Read it, then send again." in html
    assert "Never mind, it works now" in html
    assert "Try again please</textarea>" in html
    assert 'value="solved" selected' in html
    assert 'name="confirm_new" value="1"' in html
    assert len(make.session.scalars(select(TicketMessage)).all()) == 1

    # The htmx form swap shows the same.
    fragment = client.post(
        f"/agent/tickets/{ticket.id}/reply", data=form, headers={"HX-Request": "true"}
    )
    assert fragment.status_code == 422
    assert "Never mind, it works now" in fragment.get_data(as_text=True)

    response = client.post(f"/agent/tickets/{ticket.id}/reply", data={**form, "confirm_new": "1"})
    assert response.status_code == 303
    bodies = make.session.scalars(select(TicketMessage.body).order_by(TicketMessage.id)).all()
    assert bodies == ["Never mind, it works now", "Try again please"]


def test_internal_note_or_already_seen_message_does_not_warn(client, make, brand, ticket, login):
    login("agent", brands=[brand])
    client.post(f"/agent/tickets/{ticket.id}/reply", data={"body": "note", "kind": "internal"})
    seen = make.session.scalars(select(TicketMessage.id)).one()
    response = client.post(
        f"/agent/tickets/{ticket.id}/reply",
        data={"body": "Hello", "kind": "public", "last_message_id": "0"},
    )
    assert response.status_code == 303  # only public messages count
    response = client.post(
        f"/agent/tickets/{ticket.id}/reply",
        data={"body": "Again", "kind": "public", "last_message_id": str(seen + 1)},
    )
    assert response.status_code == 303
