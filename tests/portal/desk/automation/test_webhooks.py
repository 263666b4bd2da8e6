"""Webhook targets and deliveries through the doors a user uses: a request sent through the
help center's form queues a delivery (a row, no HTTP inside the submission), the scheduler's
deliver_due posts it to a local receiver that checks the signature; retries with backoff,
give-up after MAX_ATTEMPTS; the SSRF guard (portal.web.outbound)."""

import hashlib
import hmac
import json
import re
import socket
import time
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from kb import clock
from portal.desk import replies
from portal.desk.automation import deliveries, webhooks
from portal.desk.automation.models import WebhookDelivery, WebhookTarget
from portal.desk.models import InquiryForm, Ticket
from portal.web import outbound
from tests.portal.desk.automation.receiver import down_url, serve

KEY = "test-secret"  # the test app's SECRET_KEY


@pytest.fixture
def receiver():
    state, stop = serve()
    yield state
    stop()


@pytest.fixture
def brand(make):
    return make.brand(slug="acme", locales=("en",), name="Acme")


@pytest.fixture
def form(make, brand):
    form = InquiryForm(brand_id=brand.id, names={"en": "Question"}, descriptions={})
    form.fields = []
    make.session.add(form)
    make.session.commit()
    return form


@pytest.fixture
def in_app(app):
    with app.app_context():
        yield app


def add_target(ctx, brand, url, kind=webhooks.SIGNED, events=webhooks.EVENTS, **extra):
    settings = webhooks.TargetSettings(
        name=f"{kind} hook",
        kind=kind,
        url=url,
        chat_id=extra.pop("chat_id", None),
        events=tuple(events),
        active=True,
        allow_private=extra.pop("allow_private", True),
    )
    target, secret = webhooks.save_target(ctx, None, brand, None, settings, clock.now(), KEY)
    ctx.commit()
    return target, secret


def send_request(client, form, subject="Charged twice", description="My card was charged twice."):
    page = client.get(f"/acme/en/requests/new?form={form.id}").get_data(as_text=True)
    key = re.search(r'name="key" value="([^"]+)"', page).group(1)
    data = {
        "key": key,
        "name": "Mina Park",
        "email": "mina@example.com",
        "subject": subject,
        "description": description,
        "shown": "",
        "action": "send",
    }
    started = time.monotonic()
    response = client.post(f"/acme/en/requests/new?form={form.id}", data=data)
    assert response.status_code in (200, 303), response.get_data(as_text=True)[:300]
    return time.monotonic() - started


def deliver(engine, now=None):
    return deliveries.deliver_due(sessionmaker(engine), now or clock.now(), KEY)


def verify(secret: str, headers, body: bytes, now: float, tolerance: int = 300) -> bool:
    """The README's verifier (with the clock as an argument)."""
    timestamp = headers.get("X-Portal-Timestamp", "")
    if not timestamp.isdigit() or abs(now - int(timestamp)) > tolerance:
        return False  # missing, or older than 5 minutes: a replay
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    expected = "sha256=" + mac.hexdigest()
    return hmac.compare_digest(expected, headers.get("X-Portal-Signature", ""))


def rows(ctx):
    ctx.expire_all()
    return list(ctx.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))


def test_request_sent_through_the_form_reaches_a_signed_receiver(
    client, ctx, engine, brand, form, receiver, in_app
):
    _target, secret = add_target(ctx, brand, receiver.url)
    assert secret.startswith("whsec_")
    send_request(client, form)
    assert receiver.requests == []  # queued, not sent inside the submission
    assert deliver(engine) == {"delivered": 1, "failed": 0, "gave_up": 0}
    [got] = receiver.requests
    assert verify(secret, got.headers, got.body, time.time())
    assert not verify("whsec_other", got.headers, got.body, time.time())
    assert not verify(secret, got.headers, got.body, time.time() + 301)  # a replay, later
    body = json.loads(got.body)
    ticket = ctx.scalar(select(Ticket))
    assert body["event"] == "ticket_created"
    assert body["ticket"]["id"] == ticket.id
    assert body["ticket"]["subject"] == "Charged twice"
    assert body["ticket"]["requester_email"] == "mina@example.com"
    assert body["ticket"]["link"].endswith(f"/agent/tickets/{ticket.id}")
    assert body["text"] == "My card was charged twice."
    [row] = rows(ctx)
    assert got.headers["X-Portal-Delivery"] == str(row.id)
    assert row.delivered_at is not None and row.last_status == 200 and row.attempts == 1


def test_internal_notes_are_never_sent(ctx, engine, brand, make, receiver, in_app):
    add_target(ctx, brand, receiver.url, events=list(webhooks.SUBSCRIBABLE))
    ticket = make.ticket(brand)
    agent = make.user(role="agent", brands=[brand])
    replies.reply(ctx, agent, ticket, "Secret internal remark", public=False, now=clock.now())
    ctx.commit()
    deliver(engine)
    assert all(b"Secret internal remark" not in r.body for r in receiver.requests)


@pytest.mark.parametrize(
    ("kind", "extra"),
    [(webhooks.SLACK, {}), (webhooks.TELEGRAM, {"chat_id": "-1001"}), (webhooks.JANDI, {})],
)
def test_chat_payload_shapes(client, ctx, engine, brand, form, receiver, in_app, kind, extra):
    add_target(ctx, brand, receiver.url, kind=kind, **extra)
    send_request(client, form, subject="<b>Refund</b> please")
    deliver(engine)
    [got] = receiver.requests
    body = json.loads(got.body)
    assert "X-Portal-Signature" not in got.headers
    if kind == webhooks.SLACK:
        assert set(body) == {"text"}
        assert "&lt;b&gt;Refund&lt;/b&gt; please" in body["text"]
        assert "/agent/tickets/" in body["text"]
    elif kind == webhooks.TELEGRAM:
        assert body["chat_id"] == "-1001"
        assert "<b>Refund</b> please" in body["text"]
    else:
        assert got.headers["Accept"] == "application/vnd.tosslab.jandi-v2+json"
        assert set(body) == {"body", "connectColor", "connectInfo"}
        assert body["connectInfo"][0]["title"] == "<b>Refund</b> please"
    assert "mina@example.com" not in got.body.decode()  # chat gets no requester address


def test_a_receiver_that_is_down_is_retried_with_backoff_then_given_up(
    client, ctx, engine, brand, form, in_app
):
    add_target(ctx, brand, down_url())
    took = send_request(client, form)
    assert took < 3  # the submission never waits for the receiver
    [row] = rows(ctx)
    now = clock.now()
    waits = []
    for attempt in range(1, deliveries.MAX_ATTEMPTS + 1):
        counts = deliver(engine, now)
        [row] = rows(ctx)
        assert row.attempts == attempt
        assert "ConnectionRefused" in row.last_error or "refused" in row.last_error.lower()
        if attempt < deliveries.MAX_ATTEMPTS:
            assert counts["failed"] == 1
            assert deliver(engine, now)["failed"] == 0  # not due again yet
            waits.append(row.next_attempt_at - now)
            now = row.next_attempt_at
        else:
            assert counts["gave_up"] == 1
    assert [round(w / timedelta(minutes=1)) for w in waits] == [1, 2, 4, 8, 16, 32, 64]
    assert row.failed_at is not None and row.delivered_at is None
    assert deliver(engine, now + timedelta(days=1)) == {"delivered": 0, "failed": 0, "gave_up": 0}


def test_a_500_then_a_200(ctx, engine, brand, make, receiver, in_app):
    target, _secret = add_target(ctx, brand, receiver.url)
    receiver.plan = [500]
    webhooks.notify(ctx, target.id, make.ticket(brand), webhooks.ALERT, clock.now(), "Late")
    ctx.commit()
    deliver(engine)
    [row] = rows(ctx)
    assert row.last_status == 500 and "receiver says no" in row.last_error
    deliver(engine, row.next_attempt_at)
    [row] = rows(ctx)
    assert row.delivered_at is not None and row.last_status == 200 and row.attempts == 2
    assert len(receiver.requests) == 2
    first, second = receiver.requests
    assert first.headers["X-Portal-Delivery"] == second.headers["X-Portal-Delivery"]


def test_a_claimed_delivery_is_not_posted_twice(ctx, engine, brand, make, receiver, in_app):
    target, _secret = add_target(ctx, brand, receiver.url)
    webhooks.notify(ctx, target.id, make.ticket(brand), webhooks.ALERT, clock.now(), "x")
    ctx.commit()
    [row] = rows(ctx)
    sessions = sessionmaker(engine)
    assert deliveries._claim(sessions, row.id, clock.now(), KEY) is not None
    assert deliveries.deliver_one(sessions, row.id, clock.now(), KEY) is None
    assert receiver.requests == []


def test_notify_refuses_inactive_and_other_brands_targets(ctx, brand, make, receiver, in_app):
    target, _secret = add_target(ctx, brand, receiver.url)
    other = make.ticket(make.brand())
    assert webhooks.notify(ctx, target.id, other, webhooks.ALERT, clock.now()) is False
    assert webhooks.notify(ctx, 999999, make.ticket(brand), webhooks.ALERT, clock.now()) is False
    target.active = False
    assert webhooks.notify(ctx, target.id, make.ticket(brand), webhooks.ALERT, clock.now()) is False
    assert webhooks.targets_of_brand(ctx, brand.id) == [target]


def test_url_token_and_secret_never_reach_the_delivery_log(ctx, engine, brand, make, in_app):
    url = down_url().replace("/hook", "/bot123456:SECRET-TOKEN/sendMessage")
    target, _ = add_target(ctx, brand, url, kind=webhooks.TELEGRAM, chat_id="42")
    signed, secret = add_target(ctx, brand, down_url())
    ticket = make.ticket(brand)
    webhooks.notify(ctx, target.id, ticket, webhooks.ALERT, clock.now(), "x")
    webhooks.notify(ctx, signed.id, ticket, webhooks.ALERT, clock.now(), "x")
    ctx.commit()
    deliver(engine)
    ctx.expire_all()
    stored = " ".join(repr((r.payload, r.last_error)) for r in rows(ctx)) + repr(
        [(t.url, t.secret) for t in ctx.scalars(select(WebhookTarget))]
    )
    assert "SECRET-TOKEN" not in stored and secret not in stored


# --- the SSRF guard ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook",
        "http://10.1.2.3/hook",
        "http://192.168.0.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://[fe80::1]/hook",
        "http://0.0.0.0/",
        "http://224.0.0.1/",
        "http://localhost/hook",
    ],
)
def test_private_addresses_are_refused(url):
    with pytest.raises(outbound.Refused):
        outbound.check(url)
    with pytest.raises(outbound.Refused):
        outbound.post(url, b"{}", {})
    outbound.check(url, allow_private=True)  # an admin's choice


@pytest.mark.parametrize(
    "url", ["ftp://example.com/", "file:///etc/passwd", "http://u:p@x.example/"]
)
def test_other_schemes_and_credentials_are_refused(url):
    with pytest.raises(outbound.Refused):
        outbound.check(url, allow_private=True)


def test_public_addresses_pass():
    assert outbound.is_public("93.184.216.34")
    assert outbound.is_public("2606:2800:220:1::1")
    assert not outbound.is_public("::ffff:10.0.0.1")


def test_a_redirect_to_a_private_address_is_refused(receiver, monkeypatch):
    # The receiver stands for a public server: its own address passes, no other private one.
    real = outbound.is_public
    monkeypatch.setattr(outbound, "is_public", lambda a: a == "127.0.0.1" or real(a))
    receiver.redirect_to = "http://169.254.169.254/latest/meta-data/"
    with pytest.raises(outbound.Refused) as refused:
        outbound.post(receiver.url, b"{}", {})
    assert refused.value.address == "169.254.169.254"
    assert len(receiver.requests) == 1


def test_the_checked_address_is_connected_to_with_the_host_sent(receiver, monkeypatch):
    """No second lookup (DNS rebinding): the name resolves once, the answer is what we dial."""
    port = int(receiver.url.split(":")[2].split("/")[0])
    lookups = []

    def resolve(host, *args, **kwargs):
        lookups.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]

    monkeypatch.setattr(outbound.socket, "getaddrinfo", resolve)
    answer = outbound.post(f"http://hooks.example:{port}/hook", b"{}", {}, allow_private=True)
    assert answer.status == 200
    # The name once; then only the checked IP itself (urllib3's numeric look-up of it).
    assert lookups == ["hooks.example", "127.0.0.1"]
    assert receiver.requests[0].headers["Host"] == f"hooks.example:{port}"


def test_saving_a_private_address_without_permission_is_refused(ctx, brand, in_app):
    with pytest.raises(ValueError, match="127.0.0.1"):
        add_target(ctx, brand, "http://127.0.0.1:9/x", allow_private=False)


def test_an_assignment_is_posted_with_the_assignees_name(
    ctx, engine, brand, make, receiver, in_app
):
    from portal.desk import agent_tickets

    add_target(ctx, brand, receiver.url, kind=webhooks.SLACK, events=["assigned"])
    agent = make.user(role="agent", brands=[brand], name="Jisoo Han")
    ticket = make.ticket(brand)
    agent_tickets.change_properties(ctx, ticket, agent, {"assignee_id": agent.id}, clock.now())
    ctx.commit()
    deliver(engine)
    [got] = receiver.requests
    text = json.loads(got.body)["text"]
    assert text.startswith("<http") and "Assigned" in text and "Jisoo Han" in text


def test_delivered_rows_older_than_30_days_are_pruned(ctx, engine, brand, make, receiver, in_app):
    target, _ = add_target(ctx, brand, receiver.url)
    for _n in range(2):
        webhooks.notify(ctx, target.id, make.ticket(brand), webhooks.ALERT, clock.now())
    ctx.commit()
    deliver(engine)
    [old, _recent] = rows(ctx)
    old.delivered_at = clock.now() - timedelta(days=31)
    ctx.commit()
    assert deliveries.prune(ctx, clock.now()) == 1
    assert len(rows(ctx)) == 1
