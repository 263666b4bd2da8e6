"""Customer organizations at /admin/organizations: admins only, plain HTML forms, no JavaScript."""

import re

import pytest
from sqlalchemy import select

from kb.people import CustomerOrganization, User
from portal import create_app
from portal.desk import orgs
from portal.extensions import db
from tests.conftest import _test_config


@pytest.fixture
def admin(login):
    return login("admin")


@pytest.fixture
def acme(ctx):
    return orgs.create_organization(ctx, "Acme", "example.com", shares_requests=True)


@pytest.fixture
def customer(make):
    return make.user(role="customer", email="mina@elsewhere.test", name="Mina")


def fresh(ctx, model, id_):
    ctx.expire_all()
    return ctx.get(model, id_)


def text(response) -> str:
    return response.get_data(as_text=True)


# -- who may use it -------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_login(client, acme):
    response = client.get(f"/admin/organizations/{acme.id}")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/login?next=/admin/organizations/{acme.id}"


@pytest.mark.parametrize("role", ["editor", "agent"])
def test_editors_and_agents_get_403_and_change_nothing(client, ctx, login, make, acme, role):
    login(role, brands=[make.brand(slug="mine", locales=("en",))])
    assert client.get("/admin/organizations").status_code == 403
    response = client.post(f"/admin/organizations/{acme.id}", data={"name": "Hijacked"})
    assert response.status_code == 403
    response = client.post(f"/admin/organizations/{acme.id}/delete")
    assert response.status_code == 403
    assert fresh(ctx, CustomerOrganization, acme.id).name == "Acme"


def test_the_nav_links_to_organizations_for_admins(client, admin):
    assert 'href="/admin/organizations"' in text(client.get("/admin/forms/"))


def test_the_nav_has_no_organizations_link_for_editors(client, login, make):
    login("editor", brands=[make.brand(slug="mine", locales=("en",))])
    html = text(client.get("/admin/forms/"))
    assert 'href="/admin/forms/"' in html and 'href="/admin/organizations"' not in html


def test_unknown_ids_are_404(client, admin, acme, customer):
    assert client.get("/admin/organizations/999999").status_code == 404
    assert client.get("/admin/organizations/999999/delete").status_code == 404
    assert client.post("/admin/organizations/999999/members", data={}).status_code == 404
    # Someone who is not a member of this organization.
    url = f"/admin/organizations/{acme.id}/members/{customer.id}/remove"
    assert client.get(url).status_code == 404
    assert client.post(url, data={"confirmed": "yes"}).status_code == 404
    assert client.get("/admin/organizations/2147483648").status_code == 404


# -- the list -------------------------------------------------------------------------------


def test_the_list_shows_name_domains_members_and_sharing(client, ctx, admin, acme, customer):
    orgs.add_member(ctx, acme, customer.email)
    orgs.create_organization(ctx, "Globex", "globex.test, globex.example")
    html = text(client.get("/admin/organizations"))
    acme_row = re.search(rf'<tr id="organization-{acme.id}">.*?</tr>', html, re.S).group(0)
    assert "Acme" in acme_row and "example.com" in acme_row
    assert "<td>1</td>" in acme_row and "<td>Yes</td>" in acme_row
    assert "globex.test, globex.example" in html


def test_the_list_searches_by_name(client, ctx, admin, acme):
    orgs.create_organization(ctx, "Globex", "")
    html = text(client.get("/admin/organizations?q=glob"))
    assert "Globex" in html and ">Acme<" not in html
    assert 'value="glob"' in html


def test_the_list_pages_follow_the_next_link(client, ctx, admin, monkeypatch):
    monkeypatch.setattr(orgs, "PER_PAGE", 2)
    for name in ("Org A", "Org B", "Org C"):
        orgs.create_organization(ctx, name, "")
    first = text(client.get("/admin/organizations"))
    link = re.search(r'<a rel="next" href="([^"]+)"', first).group(1).replace("&amp;", "&")
    second = text(client.get(link))
    assert "Org A" in first and "Org B" in first and "Org C" not in first
    assert "Org C" in second and "Org A" not in second and 'rel="next"' not in second
    assert "First page" in second


def test_the_list_answers_htmx_with_its_results_only(client, admin, acme):
    response = client.get("/admin/organizations?q=acm", headers={"HX-Request": "true"})
    html = text(response)
    assert response.status_code == 200 and "<html" not in html
    assert html.lstrip().startswith('<div id="results">') and "Acme" in html
    assert "HX-Request" in response.headers["Vary"]


def test_the_list_without_htmx_is_the_whole_page(client, admin, acme):
    html = text(client.get("/admin/organizations?q=acm"))
    assert "<html" in html and 'id="results"' in html


# -- creating and editing -------------------------------------------------------------------


def test_admin_creates_an_organization_and_is_sent_to_its_page(client, ctx, admin):
    response = client.post(
        "/admin/organizations/new",
        data={"name": " Globex ", "domains": "Globex.test\nglobex.example", "shares_requests": "y"},
    )
    assert response.status_code == 303
    org = ctx.scalar(select(CustomerOrganization))
    assert response.headers["Location"] == f"/admin/organizations/{org.id}#members"
    assert (org.name, org.domains, org.shares_requests) == (
        "Globex",
        ["globex.test", "globex.example"],
        True,
    )
    page = text(client.get(response.headers["Location"]))
    assert "Organization saved." in page and "globex.test\nglobex.example" in page


def test_errors_are_shown_beside_the_fields_with_the_typed_values_kept(client, ctx, admin, acme):
    response = client.post(
        "/admin/organizations/new",
        data={"name": "acme", "domains": "ok.example\n@bad.example, example.com"},
    )
    assert response.status_code == 400
    html = text(response)
    assert 'id="name-error"' in html and "Another organization already has this name." in html
    assert 'id="domains-error"' in html and "without “@”" in html and "@bad.example" in html
    assert 'value="acme"' in html and "ok.example\n@bad.example, example.com" in html
    assert (
        ctx.scalar(select(CustomerOrganization).where(CustomerOrganization.id != acme.id)) is None
    )


def test_a_domain_of_another_organization_is_refused_naming_it(client, ctx, admin, acme):
    response = client.post(
        "/admin/organizations/new", data={"name": "Rival", "domains": "example.com"}
    )
    assert response.status_code == 400
    assert "example.com (Acme)" in text(response)


def test_admin_edits_name_domains_and_sharing(client, ctx, admin, acme):
    response = client.post(
        f"/admin/organizations/{acme.id}", data={"name": "Acme Corp", "domains": "acme.test"}
    )
    assert response.status_code == 303
    assert response.headers["Location"] == f"/admin/organizations/{acme.id}"
    org = fresh(ctx, CustomerOrganization, acme.id)
    # The unchecked box turns sharing off.
    assert (org.name, org.domains, org.shares_requests) == ("Acme Corp", ["acme.test"], False)


def test_the_edit_page_shows_the_settings_and_members(client, ctx, admin, acme, customer):
    orgs.add_member(ctx, acme, customer.email)
    html = text(client.get(f"/admin/organizations/{acme.id}"))
    assert 'value="Acme"' in html and "example.com" in html
    box = re.search(r'<input[^>]*name="shares_requests"[^>]*>', html).group(0)
    assert "checked" in box
    assert "mina@elsewhere.test" in html and "Mina" in html
    assert f'action="/admin/organizations/{acme.id}/members/{customer.id}/remove"' in html


# -- members --------------------------------------------------------------------------------


def test_admin_adds_a_customer_by_email(client, ctx, admin, acme, customer):
    response = client.post(
        f"/admin/organizations/{acme.id}/members", data={"email": "MINA@elsewhere.test"}
    )
    assert response.status_code == 303
    assert response.headers["Location"] == f"/admin/organizations/{acme.id}#members"
    assert fresh(ctx, User, customer.id).customer_org_id == acme.id


def test_staff_cannot_be_added_and_the_error_is_shown_beside_the_email(client, ctx, admin, acme):
    response = client.post(f"/admin/organizations/{acme.id}/members", data={"email": admin.email})
    assert response.status_code == 400
    html = text(response)
    assert 'id="email-error"' in html and "only customers can be members" in html
    assert f'value="{admin.email}"' in html
    # The settings beside it are the stored ones, without errors.
    assert 'value="Acme"' in html and 'id="name-error"' not in html
    assert fresh(ctx, User, admin.id).customer_org_id is None


def test_an_unknown_email_is_refused(client, admin, acme):
    response = client.post(
        f"/admin/organizations/{acme.id}/members", data={"email": "nobody@example.com"}
    )
    assert response.status_code == 400
    assert "No account has this email address." in text(response)


def test_remove_asks_first_then_removes(client, ctx, admin, acme, customer):
    orgs.add_member(ctx, acme, customer.email)
    url = f"/admin/organizations/{acme.id}/members/{customer.id}/remove"
    question = client.post(url)
    assert question.status_code == 200
    html = text(question)
    assert "Remove mina@elsewhere.test from “Acme”?" in html
    assert 'name="confirmed" value="yes"' in html
    assert fresh(ctx, User, customer.id).customer_org_id == acme.id
    assert client.get(url).status_code == 200
    response = client.post(url, data={"confirmed": "yes"})
    assert response.status_code == 303
    assert response.headers["Location"] == f"/admin/organizations/{acme.id}#members"
    assert fresh(ctx, User, customer.id).customer_org_id is None
    assert fresh(ctx, User, customer.id) is not None


# -- deleting -------------------------------------------------------------------------------


def test_delete_asks_on_its_own_page_then_deletes(client, ctx, admin, acme, customer):
    orgs.add_member(ctx, acme, customer.email)
    page = client.get(f"/admin/organizations/{acme.id}/delete")
    assert page.status_code == 200
    assert "Delete the organization “Acme”?" in text(page) and "1 member" in text(page)
    response = client.post(f"/admin/organizations/{acme.id}/delete")
    assert response.status_code == 303 and response.headers["Location"] == "/admin/organizations"
    assert fresh(ctx, CustomerOrganization, acme.id) is None
    assert fresh(ctx, User, customer.id).customer_org_id is None


# -- CSRF -----------------------------------------------------------------------------------


@pytest.fixture
def csrf_client(app, tmp_path_factory):
    config = _test_config(tmp_path_factory, WTF_CSRF_ENABLED=True)
    config["DATABASE_URL"] = app.config["DATABASE_URL"]
    csrf_app = create_app(config)
    yield csrf_app.test_client()
    with csrf_app.app_context():
        db.session.remove()
        db.engine.dispose()


def _token(html: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)


def test_every_post_needs_the_pages_csrf_token(csrf_client, ctx, make, acme, customer):
    from tests.conftest import PASSWORD

    admin = make.user(role="admin", password=PASSWORD)
    login_page = text(csrf_client.get("/login"))
    csrf_client.post(
        "/login",
        data={"email": admin.email, "password": PASSWORD, "csrf_token": _token(login_page)},
    )
    orgs.add_member(ctx, acme, customer.email)
    base = f"/admin/organizations/{acme.id}"
    for url, data in (
        (base, {"name": "Hijacked"}),
        (f"{base}/members", {"email": customer.email}),
        (f"{base}/members/{customer.id}/remove", {"confirmed": "yes"}),
        (f"{base}/delete", {}),
    ):
        assert csrf_client.post(url, data=data).status_code == 400, url
    assert fresh(ctx, CustomerOrganization, acme.id).name == "Acme"
    assert fresh(ctx, User, customer.id).customer_org_id == acme.id
    token = _token(text(csrf_client.get(base)))
    response = csrf_client.post(
        f"{base}/members/{customer.id}/remove", data={"confirmed": "yes", "csrf_token": token}
    )
    assert response.status_code == 303
    assert fresh(ctx, User, customer.id).customer_org_id is None
