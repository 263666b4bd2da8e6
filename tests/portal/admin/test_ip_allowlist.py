"""The staff IP allowlist at /admin/security: bad lines said one by one with what was typed
kept, the lock-out guard, staff pages and staff sign-in only from listed addresses (customers
never restricted), and the client address through TRUSTED_PROXIES hops of X-Forwarded-For."""

import pytest
from sqlalchemy import select

from portal import create_app
from portal.extensions import db
from portal.security import allowlist
from portal.security.models import AuditEntry, SecuritySettings
from tests.conftest import PASSWORD

OFFICE = "203.0.113.9"  # inside 203.0.113.0/24
HOME = "192.0.2.44"  # outside it


@pytest.fixture
def org(make):
    org = make.org()
    make.session.commit()
    return org


@pytest.fixture
def office_admin(client, login, org):
    """An admin signed in from the office."""
    client.environ_base["REMOTE_ADDR"] = OFFICE
    return login("admin")


def listed(ctx, make, org, *entries):
    """The organization's allowlist set through the domain (by an admin in the office)."""
    allowlist.change(ctx, make.user(role="admin"), org.id, list(entries), _now(), OFFICE)
    ctx.commit()


def _now():
    from kb import clock

    return clock.now()


def sign_in(client, user, address):
    client.environ_base["REMOTE_ADDR"] = address
    return client.post("/login", data={"email": user.email, "password": PASSWORD})


# -- the settings page -----------------------------------------------------------------------


def test_admin_saves_the_list_and_the_change_is_logged(client, ctx, office_admin):
    page = client.get("/admin/security").get_data(as_text=True)
    assert "The list is empty: staff can sign in from any address." in page
    assert f"Your address now: {OFFICE}." in page
    response = client.post(
        "/admin/security/allowlist", data={"allowlist": "203.0.113.0/24\n2001:DB8::/32\n"}
    )
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "The IP allowlist is saved." in page
    assert "203.0.113.0/24\n2001:db8::/32</textarea>" in page
    entry = ctx.scalars(
        select(AuditEntry).where(AuditEntry.action == "security.ip_allowlist_changed")
    ).one()
    assert (entry.actor_id, entry.ip) == (office_admin.id, OFFICE)
    assert entry.details == {"before": [], "after": ["203.0.113.0/24", "2001:db8::/32"]}


def test_every_bad_line_is_said_and_what_was_typed_is_kept(client, ctx, office_admin):
    typed = "203.0.113.0/24\nintranet.example\n10.0.0.1/8\n"
    response = client.post("/admin/security/allowlist", data={"allowlist": typed})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Line 2: “intranet.example” is not an IP address or a CIDR range" in page
    assert (
        "Line 3: “10.0.0.1/8” has bits set after its prefix length: did you mean 10.0.0.0/8?"
        in (page)
    )
    assert "intranet.example\n10.0.0.1/8\n</textarea>" in page
    assert ctx.scalars(select(SecuritySettings)).all() == []


def test_a_list_that_would_lock_out_the_admin_is_refused(client, ctx, office_admin):
    response = client.post("/admin/security/allowlist", data={"allowlist": "198.51.100.0/24"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert f"Your address {OFFICE} is not in the list" in page
    assert "198.51.100.0/24</textarea>" in page
    ctx.expire_all()
    assert ctx.scalar(select(SecuritySettings.ip_allowlist)) in (None, [])
    assert ctx.scalars(select(AuditEntry.action)).all() == ["staff.sign_in"]


def test_the_form_answers_htmx_with_its_block(client, office_admin):
    response = client.post(
        "/admin/security/allowlist",
        data={"allowlist": "nonsense"},
        headers={"HX-Request": "true"},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "<html" not in page
    assert 'id="allowlist-form"' in page and "Line 1: “nonsense”" in page


def test_editors_and_agents_cannot_change_the_list(client, login, org):
    login("editor")
    assert client.post("/admin/security/allowlist", data={"allowlist": ""}).status_code == 403


# -- staff pages and sign-in -----------------------------------------------------------------


def test_staff_pages_answer_only_from_listed_addresses(client, ctx, make, org):
    agent = make.user(role="agent", brands=[make.brand()], password=PASSWORD)
    assert sign_in(client, agent, OFFICE).status_code == 303
    listed(ctx, make, org, "203.0.113.0/24")
    assert client.get("/agent/").status_code == 200
    client.environ_base["REMOTE_ADDR"] = HOME  # the same session, from elsewhere
    for path in ("/agent/", "/agent/me", "/account/settings", "/account/security"):
        response = client.get(path)
        assert response.status_code == 403, path
        page = response.get_data(as_text=True)
        assert "Your address is not allowed" in page
        assert f"your address ({HOME}) is not on it" in page
    assert client.post("/logout").status_code == 303  # signing out always works


def test_admin_pages_answer_only_from_listed_addresses(client, ctx, make, org):
    admin = make.user(role="admin", password=PASSWORD)
    sign_in(client, admin, OFFICE)
    listed(ctx, make, org, "203.0.113.0/24", "2001:db8::/32")
    assert client.get("/admin/security").status_code == 200
    client.environ_base["REMOTE_ADDR"] = "2001:db8::7"
    assert client.get("/admin/security").status_code == 200
    client.environ_base["REMOTE_ADDR"] = HOME
    assert client.get("/admin/security").status_code == 403
    assert client.get("/admin/organization").status_code == 403
    assert client.post("/admin/security/allowlist", data={"allowlist": ""}).status_code == 403


def test_staff_sign_in_from_outside_is_refused_on_the_form(client, ctx, make, org):
    listed(ctx, make, org, "203.0.113.0/24")
    agent = make.user(role="agent", brands=[make.brand()], password=PASSWORD)
    response = sign_in(client, agent, HOME)
    assert response.status_code == 403
    page = response.get_data(as_text=True)
    assert f"Staff cannot sign in from your address ({HOME})" in page
    assert agent.email in page  # the address typed is kept
    assert client.get("/agent/").status_code == 302  # nobody signed in
    entry = ctx.scalars(select(AuditEntry).where(AuditEntry.actor_id == agent.id)).one()
    assert (entry.action, entry.ip, entry.details) == (
        "staff.sign_in_refused",
        HOME,
        {"reason": "ip_allowlist"},
    )
    assert sign_in(client, agent, OFFICE).status_code == 303


def test_customers_are_not_restricted(client, ctx, make, org):
    brand = make.brand(slug="acme", locales=("en",))
    listed(ctx, make, org, "203.0.113.0/24")
    customer = make.user(role="customer", password=PASSWORD)
    assert sign_in(client, customer, HOME).status_code == 303
    assert client.get("/account/settings").status_code == 200
    assert client.get(f"/{brand.slug}/en/requests").status_code == 200
    assert client.get(f"/{brand.slug}/en/").status_code == 200


def test_an_empty_list_restricts_nobody(client, make, org):
    agent = make.user(role="agent", brands=[make.brand()], password=PASSWORD)
    assert sign_in(client, agent, HOME).status_code == 303
    assert client.get("/agent/").status_code == 200


# -- the client address: X-Forwarded-For through TRUSTED_PROXIES only -----------------------


def test_x_forwarded_for_is_ignored_without_trusted_proxies(app, client, ctx, make, org):
    assert app.config["TRUSTED_PROXIES"] == 0
    listed(ctx, make, org, "203.0.113.0/24")
    agent = make.user(role="agent", brands=[make.brand()], password=PASSWORD)
    client.environ_base["REMOTE_ADDR"] = HOME
    response = client.post(
        "/login",
        data={"email": agent.email, "password": PASSWORD},
        headers={"X-Forwarded-For": OFFICE},
    )
    assert response.status_code == 403
    assert ctx.scalars(select(AuditEntry.ip)).all()[-1] == HOME


@pytest.fixture
def proxied_app(app, tmp_path):
    """The same database behind one trusted proxy."""
    proxied = create_app(
        {
            "INSTANCE_PATH": str(tmp_path),
            "SECRET_KEY": "test-secret",
            "DATABASE_URL": app.config["DATABASE_URL"],
            "TESTING": True,
            "WTF_CSRF_ENABLED": False,
            "TRUSTED_PROXIES": 1,
            "LOGIN_RATE_LIMIT": "10000 per minute",
        }
    )
    yield proxied
    with proxied.app_context():
        db.session.remove()
        db.engine.dispose()


def test_x_forwarded_for_is_honoured_through_one_trusted_proxy(proxied_app, ctx, make, org):
    listed(ctx, make, org, "203.0.113.0/24")
    agent = make.user(role="agent", brands=[make.brand()], password=PASSWORD)
    client = proxied_app.test_client()
    client.environ_base["REMOTE_ADDR"] = "10.0.0.2"  # the proxy
    # The proxy appends the address it saw; anything before it was sent by the client.
    forged = {"X-Forwarded-For": f"{OFFICE}, {HOME}"}
    response = client.post(
        "/login", data={"email": agent.email, "password": PASSWORD}, headers=forged
    )
    assert response.status_code == 403
    honest = {"X-Forwarded-For": OFFICE}
    response = client.post(
        "/login", data={"email": agent.email, "password": PASSWORD}, headers=honest
    )
    assert response.status_code == 303
    assert client.get("/agent/", headers=honest).status_code == 200
    assert client.get("/agent/", headers={"X-Forwarded-For": HOME}).status_code == 403
    ips = ctx.scalars(select(AuditEntry.ip).order_by(AuditEntry.id)).all()
    assert ips[-2:] == [HOME, OFFICE]  # the refusal, then the sign-in


def test_proxy_fix_hops_is_still_read_as_the_older_name(tmp_path):
    proxied = create_app(
        {
            "INSTANCE_PATH": str(tmp_path),
            "SECRET_KEY": "x",
            "DATABASE_URL": f"sqlite:///{tmp_path}/a.db",
            "PROXY_FIX_HOPS": "2",
        }
    )
    assert proxied.config["TRUSTED_PROXIES"] == 2
