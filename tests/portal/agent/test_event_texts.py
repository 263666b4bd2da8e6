"""The agent ticket page's timeline: events as sentences, times to the minute with the zone."""

import re
import secrets
from datetime import UTC, datetime

import pytest

from kb import clock
from portal.desk.models import Ticket

# 12:00:07 in Seoul (UTC+9), the brand's zone.
AT = datetime(2025, 1, 15, 3, 0, 7, tzinfo=UTC)


@pytest.fixture
def acme(make):
    return make.brand(slug="acme", name="Acme", timezone="Asia/Seoul")


@pytest.fixture
def ticket(make, acme):
    row = Ticket(
        brand_id=acme.id,
        locale="en",
        subject="Card declined",
        description="Please help",
        status="open",
        requester_name="Kim",
        requester_email="kim@example.com",
        link_secret=secrets.token_hex(16),
        created_at=AT,
        updated_at=AT,
    )
    make.session.add(row)
    make.session.commit()
    return row


def events(html: str) -> list[str]:
    found = re.findall(r'<li class="event muted" id="event-\d+">(.*?)</li>', html, re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", e).split()) for e in found]


def change(client, ticket, **fields):
    data = {"status": "open", "priority": "normal", "type": "", "assignee": "", "tags": ""}
    client.post(f"/agent/tickets/{ticket.id}/properties", data={**data, **fields})


def test_a_type_set_for_the_first_time_reads_as_a_sentence(client, make, acme, ticket, login):
    """Issue 15 item 16: "changed the type from none to Incident" becomes "set the type to
    Incident.", and every event is a sentence ending with a full stop."""
    agent = login("agent", brands=[acme])
    clock.freeze(AT)
    change(client, ticket, type="incident")
    change(client, ticket, type="question", priority="high")
    change(client, ticket, type="question", priority="high", tags="vip")
    change(client, ticket, type="", priority="high", tags="vip")
    lines = events(client.get(f"/agent/tickets/{ticket.id}").get_data(as_text=True))
    texts = [line.split(" · ")[0] for line in lines]
    assert texts == [
        f"{agent.name} set the type to Incident.",
        f"{agent.name} changed the priority from Normal to High.",
        f"{agent.name} changed the type from Incident to Question.",
        f"{agent.name} added tag vip.",
        f"{agent.name} removed the type Question.",
    ]
    assert not any(" none" in line for line in lines)


def test_event_times_have_no_seconds_and_name_the_zone(client, make, acme, ticket, login):
    """Issue 15 item 16: event dates were given with seconds ("12:00:07 PM") and no zone."""
    login("agent", brands=[acme])
    clock.freeze(AT)
    change(client, ticket, priority="high")
    html = client.get(f"/agent/tickets/{ticket.id}").get_data(as_text=True)
    (line,) = events(html)
    assert line.endswith("· Jan 15, 2025 12:00 PM +0900"), line
    assert "12:00:07" not in html
