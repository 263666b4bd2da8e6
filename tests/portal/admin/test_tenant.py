"""The organization page (/admin/organization): name, ID and address, and the API key shown
once in full after it is made or rotated, then only by its prefix."""

import hashlib
import re

import pytest
from sqlalchemy import select

from kb.models import Organization
from portal.security import api_keys
from portal.security.models import AuditEntry, OrganizationApiKey

KEY = re.compile(r'<code id="new-api-key-value">(pk_[A-Za-z0-9_-]{43})</code>')


@pytest.fixture
def org(make):
    org = make.org()
    org.name = "Hanbit Support"
    make.session.commit()
    return org


def test_the_page_shows_name_id_and_the_portals_address(app, client, login, org):
    login("admin")
    response = client.get("/admin/organization")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-store"
    assert 'value="Hanbit Support"' in page
    assert f'<dd id="tenant-id"><code>{org.id}</code></dd>' in page
    assert f"<code>{app.config['PORTAL_BASE_URL']}</code>" in page
    assert "The organization has no API key yet." in page


def test_the_name_is_saved_and_logged(client, ctx, login, org):
    admin = login("admin")
    response = client.post("/admin/organization", data={"name": "  Hanbit   Pay  "})
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "The organization&#39;s name is saved." in page
    ctx.expire_all()
    assert ctx.get(Organization, org.id).name == "Hanbit Pay"
    entry = ctx.scalars(select(AuditEntry).where(AuditEntry.action == "tenant.renamed")).one()
    assert (entry.actor_id, entry.details) == (
        admin.id,
        {"before": "Hanbit Support", "after": "Hanbit Pay"},
    )


def test_an_empty_or_too_long_name_is_refused_and_kept(client, ctx, login, org):
    login("admin")
    response = client.post("/admin/organization", data={"name": "   "})
    assert response.status_code == 422
    assert "Give the organization a name." in response.get_data(as_text=True)
    response = client.post("/admin/organization", data={"name": "x" * 201})
    assert response.status_code == 422
    assert "x" * 201 in response.get_data(as_text=True)
    ctx.expire_all()
    assert ctx.get(Organization, org.id).name == "Hanbit Support"


def test_the_key_is_shown_once_then_only_its_prefix(client, ctx, login, org):
    login("admin")
    response = client.post("/admin/organization/api-key")
    assert response.status_code == 303
    first = client.get("/admin/organization").get_data(as_text=True)
    plaintext = KEY.search(first).group(1)
    assert "it is shown only this once" in first
    again = client.get("/admin/organization").get_data(as_text=True)
    assert plaintext not in again
    assert f"<code>{plaintext[:9]}…</code>" in again
    assert "Never" in again  # not used yet
    row = ctx.scalars(select(OrganizationApiKey)).one()
    assert row.key_hash == hashlib.sha256(plaintext.encode()).hexdigest()
    assert api_keys.verify(ctx, plaintext).id == org.id


def test_rotating_on_the_page_ends_the_old_key(client, ctx, login, org):
    login("admin")
    client.post("/admin/organization/api-key")
    old = KEY.search(client.get("/admin/organization").get_data(as_text=True)).group(1)
    assert "Rotate the API key" in client.get("/admin/organization").get_data(as_text=True)
    client.post("/admin/organization/api-key")
    new = KEY.search(client.get("/admin/organization").get_data(as_text=True)).group(1)
    assert new != old
    ctx.expire_all()
    assert api_keys.verify(ctx, old) is None
    assert api_keys.verify(ctx, new).id == org.id
    actions = ctx.scalars(select(AuditEntry.action).where(AuditEntry.action == "api_key.rotated"))
    assert len(actions.all()) == 2


def test_a_get_to_the_key_address_changes_nothing(client, ctx, login, org):
    login("admin")
    response = client.get("/admin/organization/api-key")
    assert response.status_code == 303
    assert ctx.scalars(select(OrganizationApiKey)).all() == []


def test_the_name_form_answers_htmx_with_its_block(client, login, org):
    login("admin")
    response = client.post("/admin/organization", data={"name": ""}, headers={"HX-Request": "true"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "<html" not in page and 'id="tenant-form"' in page


@pytest.mark.parametrize("role", ["editor", "agent", "customer"])
def test_only_holders_of_security_open_the_page(client, ctx, login, org, role):
    login(role)
    assert client.get("/admin/organization").status_code == 403
    assert client.post("/admin/organization/api-key").status_code == 403
    assert ctx.scalars(select(OrganizationApiKey)).all() == []
