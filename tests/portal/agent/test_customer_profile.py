"""The customer profile for agents: /agent/customers/<id> (account holders) and
/agent/customers/by-email?email= (requesters without an account), linked from the ticket."""

import re
import secrets
from datetime import timedelta

import pytest

from kb import clock
from kb.people import CustomerOrganization
from portal.desk.models import Ticket, TicketMessage


@pytest.fixture
def acme(make):
    return make.brand(slug="acme", name="Acme")


@pytest.fixture
def initech(make):
    return make.brand(slug="initech", name="Initech")


@pytest.fixture
def globex(make):
    return make.brand(slug="globex", name="Globex")


@pytest.fixture
def mina(make):
    org = CustomerOrganization(name="Northwind Traders", domains=[])
    make.session.add(org)
    make.session.commit()
    user = make.user(role="customer", email="mina@example.com", name="Mina Park")
    user.locale = "ko"
    user.customer_org_id = org.id
    make.session.commit()
    return user


def ticket(make, brand, subject, requester=None, email=None, agent_ua="Firefox/1", **fields):
    now = clock.now() - timedelta(minutes=fields.pop("minutes_ago", 0))
    row = Ticket(
        brand_id=brand.id,
        locale="en",
        subject=subject,
        description="Please",
        status=fields.pop("status", "open"),
        requester_id=requester.id if requester else None,
        requester_name=requester.name if requester else "Visitor Lee",
        requester_email=requester.email if requester else email,
        customer_org_id=requester.customer_org_id if requester else None,
        details={"user_agent": agent_ua},
        link_secret=secrets.token_hex(16),
        created_at=now,
        updated_at=now,
        **fields,
    )
    make.session.add(row)
    make.session.commit()
    return row


def note(make, row, body):
    make.session.add(TicketMessage(ticket_id=row.id, author_name="Ann", body=body, public=False))
    make.session.commit()


def test_profile_shows_requests_across_brands_organization_language_devices_and_notes(
    client, make, acme, initech, globex, mina, login
):
    """Issue 15 item 15: agents had no customer profile page."""
    login("agent", brands=[acme, initech])
    first = ticket(make, acme, "Card declined", mina, agent_ua="Safari/17 iPhone", minutes_ago=9)
    ticket(make, initech, "Refund late", mina, status="closed", agent_ua="Chrome/120 Windows")
    ticket(make, globex, "Globex secret", mina)
    note(make, first, "VIP: handle with care")
    response = client.get(f"/agent/customers/{mina.id}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Mina Park" in html and "mina@example.com" in html
    assert "Northwind Traders" in html and "한국어" in html
    assert "Card declined" in html and "Refund late" in html  # both of the agent's brands
    assert "Acme" in html and "Initech" in html
    assert "Globex secret" not in html  # a brand the agent is not a member of
    assert "Safari/17 iPhone" in html and "Chrome/120 Windows" in html
    assert "VIP: handle with care" in html


def test_requester_without_account_has_a_profile_by_email(client, make, acme, login):
    """Issue 15 item 15: an anonymous requester's requests are gathered by their email."""
    login("agent", brands=[acme])
    ticket(make, acme, "Where is my parcel", email="lee@example.net")
    ticket(make, acme, "Someone else's", email="other@example.net")
    response = client.get("/agent/customers/by-email", query_string={"email": "lee@example.net"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Where is my parcel" in html and "Someone else" not in html
    assert "No account" in html


def test_ticket_page_links_the_requester_to_their_profile(client, make, acme, mina, login):
    """Issue 15 item 15: the ticket page's requester leads to the profile."""
    login("agent", brands=[acme])
    own = ticket(make, acme, "Card declined", mina)
    anonymous = ticket(make, acme, "Parcel", email="lee@example.net")
    html = client.get(f"/agent/tickets/{own.id}").get_data(as_text=True)
    assert f'href="/agent/customers/{mina.id}"' in html
    html = client.get(f"/agent/tickets/{anonymous.id}").get_data(as_text=True)
    assert re.search(r'href="/agent/customers/by-email\?email=lee(@|%40)example.net"', html)


@pytest.mark.parametrize("address", ["nobody@example.net", "", "x" * 400])
def test_profile_of_someone_without_requests_in_my_brands_is_404(
    client, make, acme, globex, mina, login, address
):
    """Issue 15 item 15: agents see only people with requests in their brands."""
    login("agent", brands=[acme])
    ticket(make, globex, "Globex only", mina)
    assert client.get(f"/agent/customers/{mina.id}").status_code == 404
    assert client.get("/agent/customers/999999").status_code == 404
    response = client.get("/agent/customers/by-email", query_string={"email": address})
    assert response.status_code == 404
