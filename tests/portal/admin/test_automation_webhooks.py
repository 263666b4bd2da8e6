"""/admin/automation/webhooks: admins add, test and follow webhooks (plain HTML forms, errors
beside the fields with what was typed kept); secrets shown once; private addresses only with
a security admin's permission."""

import re
import time

import pytest
from sqlalchemy import select

from kb import clock
from portal.desk.automation import webhooks
from portal.desk.automation.models import WebhookDelivery, WebhookTarget
from portal.security import roles
from portal.security.models import AuditEntry
from tests.conftest import PASSWORD
from tests.portal.desk.automation.receiver import down_url, serve

NEW = "/admin/automation/webhooks/new?brand=acme"


@pytest.fixture
def brand(make):
    return make.brand(slug="acme", locales=("en",), name="Acme")


@pytest.fixture
def receiver():
    state, stop = serve()
    yield state
    stop()


def data(url, **extra):
    values = {
        "name": "Ops channel",
        "kind": "signed",
        "url": url,
        "events": ["ticket_created", "assigned"],
        "active": "y",
        "allow_private": "y",
    }
    values.update(extra)
    return values


def secret_in(html: str) -> str:
    return re.search(r'id="secret" type="text" readonly value="([^"]+)"', html).group(1)


def test_admin_adds_a_signed_webhook_and_sees_its_secret_once(client, ctx, login, brand):
    login("admin")
    response = client.post(NEW, data=data("http://127.0.0.1:9/portal-hook?token=abc"))
    assert response.status_code == 200
    secret = secret_in(response.get_data(as_text=True))
    target = ctx.scalar(select(WebhookTarget))
    assert target.name == "Ops channel" and target.allow_private
    for url in (
        "/admin/automation/webhooks",
        f"/admin/automation/webhooks/{target.id}",
        f"/admin/automation/webhooks/{target.id}/deliveries",
    ):
        html = client.get(url).get_data(as_text=True)
        assert "Ops channel" in html
        assert secret not in html and "token=abc" not in html, url
    assert secret not in repr((target.url, target.secret))
    actions = ctx.scalars(select(AuditEntry.action)).all()
    assert "automation.webhook_created" in actions


def test_a_private_address_is_refused_beside_the_field_with_values_kept(client, login, brand):
    login("admin")
    response = client.post(NEW, data=data("http://169.254.169.254/latest/", allow_private=""))
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "169.254.169.254" in html and 'id="url-error"' in html
    assert 'value="Ops channel"' in html


def test_bad_input_is_refused_beside_each_field(client, login, brand):
    login("admin")
    response = client.post(NEW, data=data("ftp://x.example/", kind="telegram", events=[]))
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "http:// or https://" in html
    assert "Telegram chat id" in html and "Choose at least one event." in html


def test_a_brand_admin_without_security_cannot_allow_private_addresses(client, ctx, make, brand):
    user = make.user(role="editor", brands=[brand], password=PASSWORD)
    roles.grant(ctx, user, "admin", [brand])
    ctx.commit()
    client.post("/login", data={"email": user.email, "password": PASSWORD})
    page = client.get(NEW).get_data(as_text=True)
    assert 'name="allow_private"' not in page
    response = client.post(NEW, data=data("http://127.0.0.1:9/hook"))  # allow_private posted
    assert response.status_code == 400
    assert "127.0.0.1" in response.get_data(as_text=True)
    assert ctx.scalar(select(WebhookTarget)) is None


def test_another_brands_webhook_is_404_for_a_brand_admin(client, ctx, make, brand):
    other = make.brand(slug="globex")
    target, _ = webhooks.save_target(
        ctx,
        None,
        other,
        None,
        webhooks.TargetSettings(
            "Theirs", "slack", "http://127.0.0.1:9/", None, ("alert",), True, True
        ),
        clock.now(),
        "test-secret",
    )
    ctx.commit()
    user = make.user(role="editor", brands=[brand], password=PASSWORD)
    roles.grant(ctx, user, "admin", [brand])
    ctx.commit()
    client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert client.get(f"/admin/automation/webhooks/{target.id}").status_code == 404
    assert client.get("/admin/automation/webhooks?brand=globex").status_code == 404
    assert "Theirs" not in client.get("/admin/automation/webhooks").get_data(as_text=True)


def test_send_a_test_and_read_the_delivery_log(client, ctx, login, brand, receiver):
    login("admin")
    secret = secret_in(client.post(NEW, data=data(receiver.url)).get_data(as_text=True))
    target = ctx.scalar(select(WebhookTarget))
    response = client.post(f"/admin/automation/webhooks/{target.id}/test")
    assert response.status_code == 303
    [got] = receiver.requests
    assert got.headers["X-Portal-Signature"].startswith("sha256=")
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Delivered" in html and ">200<" in html
    assert secret not in html
    fragment = client.get(
        f"/admin/automation/webhooks/{target.id}/deliveries", headers={"HX-Request": "true"}
    ).get_data(as_text=True)
    assert "<html" not in fragment and 'id="delivery-log"' in fragment
    listing = client.get("/admin/automation/webhooks").get_data(as_text=True)
    assert "Delivered" in listing


def test_a_failing_test_is_logged_and_retried_now(client, ctx, login, brand):
    login("admin")
    client.post(NEW, data=data(down_url()))
    target = ctx.scalar(select(WebhookTarget))
    started = time.monotonic()
    client.post(f"/admin/automation/webhooks/{target.id}/test")
    assert time.monotonic() - started < 3
    html = client.get(f"/admin/automation/webhooks/{target.id}/deliveries").get_data(as_text=True)
    assert "Retrying" in html and "refused" in html.lower()
    delivery = ctx.scalar(select(WebhookDelivery))
    response = client.post(f"/admin/automation/webhooks/{target.id}/deliveries/{delivery.id}/retry")
    assert response.status_code == 303
    ctx.expire_all()
    assert ctx.get(WebhookDelivery, delivery.id).attempts == 1  # counted afresh, tried again


def test_rotating_the_secret_shows_a_new_one_once(client, ctx, login, brand):
    login("admin")
    first = secret_in(client.post(NEW, data=data(down_url())).get_data(as_text=True))
    target = ctx.scalar(select(WebhookTarget))
    response = client.post(f"/admin/automation/webhooks/{target.id}/rotate")
    second = secret_in(response.get_data(as_text=True))
    assert second != first
    assert "automation.webhook_secret_rotated" in ctx.scalars(select(AuditEntry.action)).all()


def test_editing_keeps_the_saved_url_and_deleting_removes_it(client, ctx, login, brand):
    login("admin")
    client.post(NEW, data=data(down_url()))
    target = ctx.scalar(select(WebhookTarget))
    saved, target_id = target.url, target.id
    edit = f"/admin/automation/webhooks/{target_id}"
    response = client.post(edit, data=data("", name="Renamed"))
    assert response.status_code == 303
    ctx.expire_all()
    assert ctx.get(WebhookTarget, target.id).name == "Renamed"
    assert ctx.get(WebhookTarget, target.id).url == saved
    assert client.post(f"{edit}/delete").status_code == 303
    ctx.expire_all()
    assert ctx.scalar(select(WebhookTarget).where(WebhookTarget.id == target_id)) is None
    actions = ctx.scalars(select(AuditEntry.action)).all()
    assert {"automation.webhook_changed", "automation.webhook_deleted"} <= set(actions)


def test_editors_and_agents_are_refused(client, login, brand):
    login("editor", brands=[brand])
    assert client.get("/admin/automation/webhooks").status_code == 403
