"""Attachment retention as people meet it: the setting (/admin/retention), and a removed file in
the agent's and the customer's conversation and at its download URL (410 Gone)."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from kb.models import Brand
from portal.desk import retention
from portal.security.models import AuditEntry
from tests.conftest import PASSWORD
from tests.portal.desk.test_retention import close, conversation_with_files

REMOVED_AT = datetime(2026, 12, 21, 3, 0, tzinfo=UTC)  # 21 December in Seoul and in UTC
REMOVED_TEXT = "Removed under the retention policy on Dec 21, 2026."


@pytest.fixture
def acme(make):
    return make.brand(slug="acme", name="Acme", locales=("en",), attachment_retention_days=30)


def saved_days(ctx, slug):
    ctx.expire_all()
    return ctx.scalar(select(Brand.attachment_retention_days).where(Brand.slug == slug))


# -- the setting -------------------------------------------------------------------------------


def test_admin_sets_and_clears_a_brands_retention(client, login, ctx, make, acme):
    make.brand(slug="globex", name="Globex", locales=("en",))
    admin = login("admin")
    page = client.get("/admin/retention").get_data(as_text=True)
    assert "Files are deleted 30 days after the ticket closed." in page  # Acme
    assert "Files are kept forever." in page  # Globex
    response = client.post("/admin/retention", data={"brand": "globex", "days": " 90 "})
    assert response.status_code == 303
    assert response.headers["Location"] == "/admin/retention#brand-globex"
    assert saved_days(ctx, "globex") == 90
    page = client.get("/admin/retention").get_data(as_text=True)
    assert "Attachment retention saved for Globex." in page
    assert 'id="days-globex" name="days" value="90"' in page
    assert client.post("/admin/retention", data={"brand": "acme", "days": ""}).status_code == 303
    assert saved_days(ctx, "acme") is None
    entries = ctx.scalars(
        select(AuditEntry).where(AuditEntry.action == "retention.changed").order_by(AuditEntry.id)
    ).all()
    assert [(e.target_name, e.details) for e in entries] == [
        ("Globex", {"from": None, "to": 90}),
        ("Acme", {"from": 30, "to": None}),
    ]
    assert all(e.actor_id == admin.id and e.kind == "audit" for e in entries)


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("abc", "Give a whole number of days, or leave it empty to keep files forever."),
        ("-5", "Give a whole number of days, or leave it empty to keep files forever."),
        ("٣٠", "Give a whole number of days, or leave it empty to keep files forever."),
        ("0", "Give between 1 and 3650 days."),
        ("99999", "Give between 1 and 3650 days."),
    ],
)
def test_a_bad_number_is_said_beside_it_and_kept(client, login, ctx, acme, typed, message):
    login("admin")
    response = client.post("/admin/retention", data={"brand": "acme", "days": typed})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert f'<p class="error" id="days-acme-error">{message}</p>' in page
    assert f'value="{typed}"' in page
    assert saved_days(ctx, "acme") == 30


def test_an_unknown_brand_is_404(client, login, acme):
    login("admin")
    assert (
        client.post("/admin/retention", data={"brand": "nowhere", "days": "5"}).status_code == 404
    )


def test_editors_may_not_change_it(client, login, ctx, acme):
    login("editor", brands=[acme])
    assert client.get("/admin/retention").status_code == 403
    assert client.post("/admin/retention", data={"brand": "acme", "days": "1"}).status_code == 403
    assert saved_days(ctx, "acme") == 30


# -- a removed file ----------------------------------------------------------------------------


@pytest.fixture
def removed(ctx, make, uploads, acme):
    """A closed conversation of a signed-in customer whose files the retention removed."""
    customer = make.user(role="customer", email="mina@example.com", password=PASSWORD)
    agent = make.user(role="agent", brands=[acme], password=PASSWORD)
    ticket, form_file, reply_file = conversation_with_files(ctx, make, uploads, acme, customer)
    close(ctx, ticket, agent, at=REMOVED_AT - timedelta(days=31))
    assert retention.purge_expired_files(ctx, REMOVED_AT, uploads) == 2
    return {
        "ticket": ticket,
        "files": (form_file, reply_file),
        "customer": customer,
        "agent": agent,
    }


def sign_in(client, user):
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 303


def test_the_agent_sees_the_removal_in_place_of_each_file(client, removed):
    sign_in(client, removed["agent"])
    ticket = removed["ticket"]
    page = client.get(f"/agent/tickets/{ticket.id}").get_data(as_text=True)
    assert page.count(REMOVED_TEXT) == 2
    assert "form.txt" in page and "reply.txt" in page
    assert f"/agent/tickets/{ticket.id}/files/" not in page  # no link to what is gone
    for row in removed["files"]:
        response = client.get(f"/agent/tickets/{ticket.id}/files/{row.id}/{row.filename}")
        assert response.status_code == 410
        text = response.get_data(as_text=True)
        assert "This file was removed" in text and REMOVED_TEXT in text


def test_the_customer_sees_the_removal_in_place_of_each_file(client, removed):
    sign_in(client, removed["customer"])
    ticket = removed["ticket"]
    page = client.get(f"/acme/en/requests/{ticket.id}").get_data(as_text=True)
    assert page.count(REMOVED_TEXT) == 2
    assert f"/requests/{ticket.id}/files/" not in page
    for row in removed["files"]:
        response = client.get(f"/acme/en/requests/{ticket.id}/files/{row.id}/{row.filename}")
        assert response.status_code == 410
        assert REMOVED_TEXT in response.get_data(as_text=True)


def test_files_not_removed_are_still_served(client, ctx, make, uploads, acme):
    customer = make.user(role="customer", email="mina@example.com", password=PASSWORD)
    ticket, form_file, _reply = conversation_with_files(ctx, make, uploads, acme, customer)
    sign_in(client, customer)
    response = client.get(f"/acme/en/requests/{ticket.id}/files/{form_file.id}/form.txt")
    assert response.status_code == 200 and response.get_data() == f"form {ticket.id}\n".encode()
    response.close()
