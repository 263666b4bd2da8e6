"""portal.ids.parse_id, and the agent and admin inputs it guards: a number no INTEGER column
takes, or digits int() refuses, is refused like an unknown id, never a 500."""

import pytest

from portal.web.ids import MAX_ID, parse_id
from tests.portal.agent.test_ticket import new_ticket


@pytest.fixture
def brand(make):
    return make.brand(slug="acme", locales=("en",), name="Acme")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1", 1),
        ("0042", 42),
        (str(MAX_ID), MAX_ID),
        (str(MAX_ID + 1), None),
        ("0", None),
        ("", None),
        (None, None),
        ("²", None),
        ("١٢", None),  # Arabic-Indic digits
        ("１２", None),  # full-width
        (" 7", None),
        ("-3", None),
        ("9" * 40, None),
    ],
)
def test_parse_id(text, expected):
    assert parse_id(text) == expected


def test_parse_id_bounds():
    assert parse_id("0", low=0) == 0
    assert parse_id("1000000", high=999_999) is None


JUNK = ("%C2%B2", "99999999999999999999", "999999999999")


@pytest.mark.parametrize("junk", JUNK)
def test_agent_inputs_with_junk_numbers_are_refused_not_500(client, make, login, brand, junk):
    login("agent", brands=[brand])
    ticket = new_ticket(make, brand, None)
    for args in (f"org={junk}", f"form={junk}"):
        assert client.get(f"/agent/?{args}").status_code == 200
        assert client.get(f"/agent/counts?{args}").status_code == 200
    value = junk.replace("%C2%B2", "²")
    properties = client.post(
        f"/agent/tickets/{ticket.id}/properties",
        data={"status": "open", "priority": "low", "assignee": value, "tags": ""},
    )
    assert properties.status_code == 422
    group = client.post(
        f"/agent/tickets/{ticket.id}/properties",
        data={"status": "open", "priority": "low", "group": value, "tags": ""},
    )
    assert group.status_code == 422
    reply = client.post(
        f"/agent/tickets/{ticket.id}/reply",
        data={"body": "Hello", "kind": "public", "delay": value},
    )
    assert reply.status_code in (303, 422)
    bulk = client.post("/agent/bulk", data={"ticket": [str(ticket.id), value], "status": "open"})
    assert bulk.status_code == 404
    assignee = client.post("/agent/bulk", data={"ticket": [str(ticket.id)], "assignee": value})
    assert assignee.status_code == 422


@pytest.mark.parametrize("junk", JUNK)
def test_admin_group_inputs_with_junk_numbers_are_ignored_not_500(client, login, brand, junk):
    login("admin")
    value = junk.replace("%C2%B2", "²")
    made = client.post(f"/admin/groups/new?brand={brand.id}", data={"name": "A", "members": value})
    assert made.status_code == 303
    rules = client.post(
        f"/admin/routing/{brand.id}", data={f"target-{value}": "", "target-0": f"agent:{value}"}
    )
    assert rules.status_code in (303, 400, 422)
