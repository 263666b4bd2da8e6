"""Satisfaction ratings reach the agents: on the ticket page and in My performance."""

import secrets

import pytest

from kb import clock
from portal.desk.models import Ticket


@pytest.fixture
def acme(make):
    return make.brand(slug="acme", name="Acme")


def rated(make, brand, score, comment=None, assignee=None, subject="Card declined"):
    now = clock.now()
    row = Ticket(
        brand_id=brand.id,
        locale="en",
        subject=subject,
        description="Please help",
        status="solved",
        solved_at=now,
        requester_name="Kim",
        requester_email="kim@example.com",
        link_secret=secrets.token_hex(16),
        assignee_id=assignee.id if assignee else None,
        satisfaction=score,
        satisfaction_comment=comment,
        created_at=now,
        updated_at=now,
    )
    make.session.add(row)
    make.session.commit()
    return row


def test_ticket_page_shows_the_rating_and_its_comment(client, make, acme, login):
    """Issue 15 item 10: the requester's rating and comment were invisible to agents."""
    me = login("agent", brands=[acme])
    ticket = rated(make, acme, "bad", "Took three days & no refund", assignee=me)
    html = client.get(f"/agent/tickets/{ticket.id}").get_data(as_text=True)
    assert 'id="satisfaction-heading"' in html
    assert '<strong class="rating rating-bad">Bad</strong>' in html
    assert "Took three days &amp; no refund" in html


def test_ticket_page_says_when_the_ticket_is_not_rated(client, make, acme, login):
    """Issue 15 item 10: an unrated ticket says so instead of showing nothing."""
    login("agent", brands=[acme])
    ticket = rated(make, acme, None)
    html = client.get(f"/agent/tickets/{ticket.id}").get_data(as_text=True)
    assert "Not rated yet" in html


def test_my_performance_lists_the_ratings_of_my_tickets(client, make, acme, login):
    """Issue 15 item 10: /agent/me shows the ratings of the agent's tickets with comments and
    links, not a colleague's."""
    me = login("agent", brands=[acme])
    colleague = make.user(role="agent", brands=[acme], email="lee@example.com", name="Lee")
    good = rated(make, acme, "good", "Quick and kind", assignee=me, subject="Login loop")
    bad = rated(make, acme, "bad", None, assignee=me, subject="Refund")
    rated(make, acme, "bad", "Colleague's customer", assignee=colleague)
    html = client.get("/agent/me").get_data(as_text=True)
    assert 'id="ratings-heading"' in html
    assert "Quick and kind" in html and f'href="/agent/tickets/{good.id}"' in html
    assert f'href="/agent/tickets/{bad.id}"' in html
    assert "Colleague&#39;s customer" not in html
    assert 'data-rating="good">1<' in html and 'data-rating="bad">1<' in html
