"""The audit and system log page (/admin/audit), its CSV, and the changes it records."""

import csv
import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from markupsafe import escape
from sqlalchemy import select

from portal.desk import orgs
from portal.security import audit
from portal.security.models import AuditEntry

DAY = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


def entry(ctx, action="organization.created", *, at=DAY, **values):
    added = audit.record(ctx, action, now=at, **values)
    ctx.commit()
    return added


def shown(client, **params):
    response = client.get("/admin/audit", query_string=params, headers={"HX-Request": "true"})
    return response, response.get_data(as_text=True)


def test_non_admins_are_refused(client, login):
    login("editor")
    assert client.get("/admin/audit").status_code == 403
    assert client.get("/admin/audit.csv").status_code == 403


def test_page_shows_who_did_what_to_whom(client, login, ctx, make):
    admin = login("admin")
    brand = make.brand(slug="acme", name="Acme")
    entry(
        ctx,
        actor=admin,
        target="org:7",
        target_name="Globex",
        brand_id=brand.id,
        ip="203.0.113.9",
        details={"domains": ["globex.example"]},
    )
    response = client.get("/admin/audit")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" in page
    for text in (
        "organization.created",
        admin.name,
        f"#{admin.id}",
        admin.email,
        "Globex",
        "org:7",
        "Acme",
        "203.0.113.9",
        "domains: [&#39;globex.example&#39;]",
        "Audit log",
    ):
        assert text in page, text


def test_htmx_gets_the_results_block_only(client, login, ctx):
    login("admin")
    entry(ctx, target_name="Globex")
    response, page = shown(client)
    assert response.status_code == 200
    assert "<html" not in page and 'id="results"' in page and "Globex" in page


@pytest.mark.parametrize(
    ("params", "kept"),
    [
        ({"from": "2026-11-20", "to": "2026-11-20"}, {"today"}),
        ({"from": "2026-11-21"}, {"tomorrow"}),
        ({"to": "2026-11-19"}, {"yesterday"}),
        ({"action": "group.deleted"}, {"yesterday"}),
        ({"kind": "system"}, {"tomorrow"}),
        ({"ip": "198.51.100.7"}, {"today"}),
        ({"ip": "198.51."}, {"today"}),
        ({"ip": "2001:db8"}, {"tomorrow"}),
        ({"q": "globex"}, {"today"}),
        ({"q": "RIVERA"}, {"yesterday"}),
        ({"q": "team:5"}, {"tomorrow"}),
        ({"q": "%"}, set()),
        ({"q": "_"}, {"yesterday"}),
    ],
)
def test_each_filter_keeps_its_entries(client, login, ctx, params, kept):
    login("admin")
    entry(ctx, target_name="today Globex", ip="198.51.100.7")
    entry(
        ctx,
        "group.deleted",
        at=DAY - timedelta(days=1),
        target_name="yesterday a_b",
        actor_email="rivera@example.test",
    )
    entry(
        ctx,
        "mailbox.changed",
        at=DAY + timedelta(days=1),
        kind=audit.SYSTEM,
        target="team:5",
        target_name="tomorrow",
        ip="2001:db8::1",
    )
    response, page = shown(client, **params)
    assert response.status_code == 200
    assert {name for name in ("today", "yesterday", "tomorrow") if name in page} == kept


def test_filter_by_actor_id_and_brand_id_or_slug(client, login, ctx, make):
    admin = login("admin")
    brand = make.brand(slug="acme", name="Acme")
    entry(ctx, actor=admin, target_name="by the admin", brand_id=brand.id)
    entry(ctx, target_name="by Portal")
    assert "by Portal" not in shown(client, q=str(admin.id))[1]
    assert "by the admin" in shown(client, q=str(admin.id))[1]
    for value in ("acme", str(brand.id)):
        page = shown(client, brand=value)[1]
        assert "by the admin" in page and "by Portal" not in page


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"from": "20.11.2026"}, "Give a date as YYYY-MM-DD."),
        ({"from": "2026-11-21", "to": "2026-11-20"}, "The end date comes before the start date."),
        ({"action": "drop.table"}, "Choose one of the listed actions."),
        ({"ip": "1.2.3.4/<script>"}, "Give an IP address or its beginning"),
        ({"kind": "secret"}, "Choose audit or system."),
        ({"brand": "nowhere"}, "No brand has this ID or slug."),
        ({"brand": "99999999999999999999999"}, "No brand has this ID or slug."),
    ],
)
def test_bad_values_are_said_and_kept(client, login, ctx, params, message):
    login("admin")
    entry(ctx, target_name="Globex")
    response = client.get("/admin/audit", query_string=params)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in page
    assert "Globex" not in page  # nothing shown filtered otherwise than asked
    for value in params.values():  # what was typed comes back, beside its error
        assert str(escape(value)) in page


def test_older_link_pages_newest_first_without_gaps(ctx, make):
    for n in range(5):
        entry(ctx, target_name=f"entry {n}", at=DAY + timedelta(minutes=n // 2))
    query = audit.AuditQuery.from_args({}, ctx)
    seen, before = [], None
    while True:
        page = audit.search(ctx, query, page_size=2, before=before)
        seen += [row.target_name for row in page.rows]
        if page.older is None:
            break
        before = audit.parse_before(page.older)
    assert seen == [f"entry {n}" for n in (4, 3, 2, 1, 0)]


def test_older_link_on_the_page(client, login, ctx):
    login("admin")
    for n in range(51):
        entry(ctx, target_name=f"entry-{n:02d}", at=DAY + timedelta(minutes=n))
    first = client.get("/admin/audit", query_string={"kind": "audit"}).get_data(as_text=True)
    assert "entry-50" in first and "entry-00" not in first
    older = first.split('rel="next" href="')[1].split('"')[0].replace("&amp;", "&")
    assert "kind=audit" in older
    second = client.get(older).get_data(as_text=True)
    assert "entry-00" in second and "entry-01" not in second and 'rel="next"' not in second


@pytest.mark.parametrize("cursor", ["yesterday_x", "2026-11-20T09:30:00_" + "9" * 5000, "x_²"])
def test_a_bad_cursor_gives_the_first_page(client, login, ctx, cursor):
    login("admin")
    entry(ctx, target_name="Globex")
    response = client.get("/admin/audit", query_string={"before": cursor})
    assert response.status_code == 200 and "Globex" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("params", "status", "found"),
    [
        ({"from": "0001-01-01", "to": "9999-12-31"}, 200, True),  # the first and last days
        ({"q": "²"}, 200, False),  # a digit to Python, no id
        ({"q": "#"}, 200, False),
        ({"brand": "²"}, 400, False),
        ({"q": "Glo\x01bex"}, 200, True),  # control characters are dropped
        ({"brand": "\x01"}, 200, True),
        ({"q": "Glo\x00bex"}, 400, False),  # the app refuses NUL anywhere (portal/__init__.py)
    ],
)
def test_edge_values_answer_calmly(client, login, ctx, params, status, found):
    login("admin")
    entry(ctx, target_name="Globex")
    response = client.get("/admin/audit", query_string=params)
    assert response.status_code == status
    assert ("Globex" in response.get_data(as_text=True)) is found


def test_csv_has_bom_header_rows_and_neutralised_formulas(client, login, ctx):
    login("admin")
    entry(ctx, target_name='=HYPERLINK("http://evil")', actor_email="+1@example.test")
    entry(ctx, target_name="한국 조직", at=DAY - timedelta(days=1), details={"이름": "-1"})
    entry(ctx, "group.deleted", target_name="left out")
    response = client.get("/admin/audit.csv", query_string={"action": "organization.created"})
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    body = response.get_data()
    assert body.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0][:3] == ["at (UTC)", "kind", "action"]
    assert [row[7] for row in rows[1:]] == ['\'=HYPERLINK("http://evil")', "한국 조직"]
    assert rows[1][5] == "'+1@example.test"
    assert json.loads(rows[2][10]) == {"이름": "-1"}  # the details as JSON


def test_csv_export_is_recorded_with_its_filter(client, login, ctx):
    admin = login("admin")
    client.get("/admin/audit.csv", query_string={"kind": "audit", "q": "globex"}).get_data()
    logged = ctx.scalars(select(AuditEntry).where(AuditEntry.action == "audit.exported")).all()
    assert len(logged) == 1
    assert logged[0].kind == "system" and logged[0].actor_id == admin.id
    assert logged[0].details == {"filter": {"kind": "audit", "q": "globex"}}
    assert logged[0].ip == "127.0.0.1"


def test_csv_with_a_bad_filter_is_the_page_with_its_error(client, login, ctx):
    login("admin")
    response = client.get("/admin/audit.csv", query_string={"from": "soon"})
    assert response.status_code == 400
    assert "Give a date as YYYY-MM-DD." in response.get_data(as_text=True)
    assert ctx.scalar(select(AuditEntry).where(AuditEntry.action == "audit.exported")) is None


def test_nav_links_the_log_for_admins_only(client, login, make):
    login("admin")
    assert 'href="/admin/audit"' in client.get("/admin/organizations").get_data(as_text=True)
    client.post("/logout")
    login("editor", brands=[make.brand()])
    page = client.get("/admin/forms/")
    assert page.status_code == 200 and 'href="/admin/audit"' not in page.get_data(as_text=True)


# -- what the back office records ------------------------------------------------------------


def logged(ctx, action):
    ctx.expire_all()
    return ctx.scalars(select(AuditEntry).where(AuditEntry.action == action)).all()


def test_organization_changes_are_recorded_with_the_admin_and_ip(client, login, ctx, make):
    admin = login("admin")
    remote = {"REMOTE_ADDR": "192.0.2.44"}
    client.post(
        "/admin/organizations/new",
        data={"name": "Globex", "domains": "globex.example"},
        environ_base=remote,
    )
    (created,) = logged(ctx, "organization.created")
    org_id = int(created.target.split(":")[1])
    assert (created.kind, created.actor_id, created.actor_email) == ("audit", admin.id, admin.email)
    assert (created.target_name, created.ip) == ("Globex", "192.0.2.44")
    assert created.details["domains"] == ["globex.example"]

    client.post(
        f"/admin/organizations/{org_id}",
        data={"name": "Globex Corp", "domains": "globex.example"},
        environ_base=remote,
    )
    (changed,) = logged(ctx, "organization.changed")
    assert changed.details == {"name": ["Globex", "Globex Corp"]} and changed.ip == "192.0.2.44"

    customer = make.user(role="customer", email="kim@globex.example")
    client.post(f"/admin/organizations/{org_id}/members", data={"email": customer.email})
    (added,) = logged(ctx, "organization.member_added")
    assert added.details == {"member": [customer.id, customer.email]}
    assert added.actor_id == admin.id
    client.post(
        f"/admin/organizations/{org_id}/members/{customer.id}/remove", data={"confirmed": "yes"}
    )
    assert logged(ctx, "organization.member_removed")[0].details["member"][0] == customer.id

    client.post(f"/admin/organizations/{org_id}/delete", environ_base=remote)
    (deleted,) = logged(ctx, "organization.deleted")
    assert (deleted.target_name, deleted.actor_id, deleted.ip) == (
        "Globex Corp",
        admin.id,
        "192.0.2.44",
    )


def test_a_refused_change_records_nothing(client, login, ctx):
    login("admin")
    orgs.create_organization(ctx, "Acme", "")
    response = client.post("/admin/organizations/new", data={"name": "acme", "domains": ""})
    assert response.status_code == 400
    assert len(logged(ctx, "organization.created")) == 1  # Acme's own, made above


def test_group_changes_are_recorded_with_members(client, login, ctx, make):
    brand = make.brand()
    admin = login("admin")
    ann = make.user(role="agent", brands=[brand], name="Ann")
    bo = make.user(role="agent", brands=[brand], name="Bo")
    url = f"/admin/groups/new?brand={brand.id}"
    client.post(
        url,
        data={"name": "Billing", "members": [str(ann.id)]},
        environ_base={"REMOTE_ADDR": "192.0.2.5"},
    )
    (created,) = logged(ctx, "group.created")
    assert (created.actor_id, created.ip, created.brand_id) == (admin.id, "192.0.2.5", brand.id)
    assert created.details["after"] == {"name": "Billing", "members": [ann.id]}
    group_id = int(created.target.split(":")[1])

    client.post(f"/admin/groups/{group_id}", data={"name": "Billing", "members": [str(ann.id)]})
    assert logged(ctx, "group.changed") == []  # nothing changed, nothing recorded
    client.post(f"/admin/groups/{group_id}", data={"name": "Billing", "members": [str(bo.id)]})
    (changed,) = logged(ctx, "group.changed")
    assert changed.details["before"]["members"] == [ann.id]
    assert changed.details["after"]["members"] == [bo.id]

    client.post(f"/admin/groups/{group_id}/delete")
    (deleted,) = logged(ctx, "group.deleted")
    assert deleted.details == {"members": [bo.id]} and deleted.target_name == "Billing"


def test_mail_address_changes_are_in_the_system_log(client, login, ctx, make):
    brand = make.brand()
    admin = login("admin")
    data = {
        "address": "help@acme.test",
        "brand_id": str(brand.id),
        "form_id": "",
        "customer_org_id": "",
        "name": "",
    }
    client.post("/admin/mail-addresses/new", data=data, environ_base={"REMOTE_ADDR": "192.0.2.6"})
    (created,) = logged(ctx, "mail_address.created")
    assert (created.kind, created.actor_id, created.ip) == ("system", admin.id, "192.0.2.6")
    assert created.target_name == "help@acme.test" and created.brand_id == brand.id
    address_id = int(created.target.split(":")[1])
    client.post(f"/admin/mail-addresses/{address_id}", data={**data, "name": "Acme help"})
    assert logged(ctx, "mail_address.changed")[0].details == {"name": ["", "Acme help"]}
    client.post(f"/admin/mail-addresses/{address_id}/remove")
    assert logged(ctx, "mail_address.deleted")[0].target_name == "help@acme.test"


def test_mailbox_changes_are_in_the_system_log_without_the_password(client, login, ctx, make):
    brand = make.brand()
    admin = login("admin")
    data = {
        "brand_id": str(brand.id),
        "address_id": "0",
        "host": "imap.acme.test",
        "port": "993",
        "security": "ssl",
        "username": "help@acme.test",
        "password": "Sekrit-pa55",
        "folder": "INBOX",
        "move_to": "",
        "enabled": "y",
    }
    assert client.post("/admin/mailboxes/new", data=data).status_code == 303
    (created,) = logged(ctx, "mailbox.created")
    assert (created.kind, created.actor_id) == ("system", admin.id)
    assert created.details["host"] == [None, "imap.acme.test"]
    assert created.details["password_changed"] is True
    mailbox_id = int(created.target.split(":")[1])
    client.post(f"/admin/mailboxes/{mailbox_id}", data={**data, "password": "", "folder": "Help"})
    (changed,) = logged(ctx, "mailbox.changed")
    assert changed.details == {"folder": ["INBOX", "Help"], "password_changed": False}
    client.post(f"/admin/mailboxes/{mailbox_id}/delete")
    assert len(logged(ctx, "mailbox.deleted")) == 1
    every = " ".join(str(e.details) for e in ctx.scalars(select(AuditEntry)))
    assert "Sekrit" not in every
    assert "Sekrit" not in client.get("/admin/audit").get_data(as_text=True)
