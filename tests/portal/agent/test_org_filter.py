"""The queues' organization filter: picked by name (a list without JavaScript, suggestions
with htmx), links by id, and a value that names no organization is said, not ignored."""

import re
import secrets
from html import unescape

import pytest

from kb import clock
from kb.people import CustomerOrganization
from portal.desk.models import Ticket


@pytest.fixture
def acme(make):
    return make.brand(slug="acme", name="Acme")


@pytest.fixture
def orgs(make, acme):
    """Northwind and Nordic Trading have tickets in Acme; Globex Corp only in another brand."""
    other = make.brand(slug="other", name="Other")
    rows = {
        name: CustomerOrganization(name=name, domains=[])
        for name in ("Northwind", "Nordic Trading", "Globex Corp")
    }
    make.session.add_all(rows.values())
    make.session.commit()
    ticket(make, acme, "Northwind's", rows["Northwind"])
    ticket(make, acme, "Nordic's", rows["Nordic Trading"])
    ticket(make, acme, "Nobody's", None)
    ticket(make, other, "Globex's", rows["Globex Corp"])
    return rows


def ticket(make, brand, subject, org):
    now = clock.now()
    make.session.add(
        Ticket(
            brand_id=brand.id,
            locale="en",
            subject=subject,
            description="Please",
            status="open",
            requester_name="Kim",
            requester_email="kim@example.com",
            customer_org_id=org.id if org else None,
            link_secret=secrets.token_hex(16),
            created_at=now,
            updated_at=now,
        )
    )
    make.session.commit()


def subjects(html: str) -> list[str]:
    found = re.findall(r'<td><a href="/agent/tickets/\d+">([^<]+)</a>', html)
    return sorted(unescape(s) for s in found)


def test_organization_is_chosen_by_name_from_a_list_that_needs_no_javascript(
    client, acme, orgs, login
):
    """Issue 15 item 14: the filter was a numeric ID box; it is a name box with a datalist of
    the organizations of the agent's brands."""
    login("agent", brands=[acme])
    html = client.get("/agent/").get_data(as_text=True)
    box = re.search(r'<input[^>]*id="queue-org"[^>]*>', html).group(0)
    assert 'type="number"' not in box and 'list="queue-org-options"' in box
    options = re.search(r'<datalist id="queue-org-options">(.*?)</datalist>', html, re.S).group(1)
    assert re.findall(r'<option value="([^"]+)">', options) == ["Nordic Trading", "Northwind"]
    filtered = client.get("/agent/?org=northwind").get_data(as_text=True)
    assert subjects(filtered) == ["Northwind's"]
    assert 'value="Northwind"' in re.search(r'<input[^>]*id="queue-org"[^>]*>', filtered).group(0)


def test_an_organization_id_in_a_link_still_filters(client, acme, orgs, login):
    """Issue 15 item 14: links made with the id keep working, the box shows the name."""
    login("agent", brands=[acme])
    html = client.get(f"/agent/?org={orgs['Nordic Trading'].id}").get_data(as_text=True)
    assert subjects(html) == ["Nordic's"]
    assert 'value="Nordic Trading"' in html


@pytest.mark.parametrize("value", ["abc", "0", "-3", "Globex Corp", "99999999"])
def test_a_value_naming_no_organization_is_reported(client, acme, orgs, login, value):
    """Issue 15 item 14: `org=abc` was silently ignored; now the page says so beside the box,
    keeps what was typed, and an organization of another brand's customers is not found."""
    login("agent", brands=[acme])
    response = client.get("/agent/", query_string={"org": value})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "No organization of your brands&#39; customers is called that" in html
    box = re.search(r'<input[^>]*id="queue-org"[^>]*>', html).group(0)
    assert f'value="{value}"' in box and 'aria-invalid="true"' in box


def test_htmx_suggestions_follow_what_is_typed(client, acme, orgs, login):
    """Issue 15 item 14: with htmx the list narrows to the organizations matching the text."""
    login("agent", brands=[acme])
    response = client.get(
        "/agent/organizations", query_string={"org": "nord"}, headers={"HX-Request": "true"}
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html
    assert re.findall(r'<option value="([^"]+)">', html) == ["Nordic Trading"]
    html = client.get("/agent/organizations", query_string={"org": "glob"}).get_data(True)
    assert re.findall(r'<option value="([^"]+)">', html) == []
