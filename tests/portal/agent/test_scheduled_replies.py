"""Delayed send (an undo window of up to a day) and files in agents' replies and notes: what
the customer sees, what is mailed, and that a due reply goes out once even with two senders."""

import io
import re
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from kb import clock
from kb.people import BrandMember, User
from portal.desk.models import OutboxMail, ScheduledReply, Ticket, TicketFile, TicketMessage
from portal.desk.replies import send_due as send_due_replies
from portal.extensions import db
from tests.conftest import PASSWORD

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


@pytest.fixture
def brand(make):
    return make.brand(slug="acme", locales=("en",), name="Acme")


@pytest.fixture
def requester(make):
    return make.user(role="customer", email="mina@example.com", name="Mina", password=PASSWORD)


@pytest.fixture
def ticket(make, brand, requester):
    return make.ticket(brand, requester)


@pytest.fixture
def agent(login, brand):
    return login("agent", brands=[brand])


@pytest.fixture
def frozen():
    at = clock.now().replace(microsecond=0)
    clock.freeze(at)
    yield at
    clock.freeze(None)


def customer_page(app, requester, ticket) -> str:
    client = app.test_client()
    client.post("/login", data={"email": requester.email, "password": PASSWORD})
    return client.get(f"/acme/en/requests/{ticket.id}").get_data(as_text=True)


def reply(client, ticket, body="We refunded you.", **data):
    form = {"body": body, "kind": "public", "status": "pending", **data}
    return client.post(
        f"/agent/tickets/{ticket.id}/reply", data=form, content_type="multipart/form-data"
    )


def send_due(app, at) -> int:
    """One run of the scheduler's sender, as the scheduler makes it (in an app context)."""
    with app.app_context():
        try:
            return send_due_replies(db.session, at)
        finally:
            db.session.remove()


def mails(ctx) -> list[OutboxMail]:
    return ctx.scalars(select(OutboxMail)).all()


# --- delayed send ----------------------------------------------------------------------------


def test_a_delayed_reply_waits_then_goes_out_once(
    app, client, ctx, ticket, requester, agent, frozen
):
    sent = reply(client, ticket, "Refund on its way, ZqLater.", delay="600")
    assert sent.status_code == 303
    page = client.get(sent.headers["Location"]).get_data(as_text=True)
    assert "Reply scheduled for" in page and "Scheduled replies" in page
    assert "Refund on its way, ZqLater." in page  # the agent can still edit it
    assert "ZqLater" not in customer_page(app, requester, ticket)
    assert mails(ctx) == []
    assert ctx.get(Ticket, ticket.id).status == "open"

    assert send_due(app, frozen + timedelta(minutes=9)) == 0
    assert send_due(app, frozen + timedelta(minutes=10)) == 1
    assert send_due(app, frozen + timedelta(minutes=11)) == 0  # once
    ctx.expire_all()
    assert "ZqLater" in customer_page(app, requester, ticket)
    assert [m.recipient for m in mails(ctx)] == ["mina@example.com"]
    assert ctx.get(Ticket, ticket.id).status == "pending"
    message = ctx.scalars(select(TicketMessage)).one()
    assert (message.public, message.author_id) == (True, agent.id)
    assert "Scheduled replies" not in client.get(f"/agent/tickets/{ticket.id}").get_data(
        as_text=True
    )


def test_a_scheduled_reply_can_be_changed_sent_now_or_cancelled(
    app, client, ctx, ticket, requester, agent, frozen
):
    reply(client, ticket, "First words", delay="3600")
    row = ctx.scalar(select(ScheduledReply))
    changed = client.post(
        f"/agent/tickets/{ticket.id}/scheduled/{row.id}",
        data={"body": "Better words", "status": "solved", "delay": "86400"},
    )
    assert changed.status_code == 303
    ctx.refresh(row)
    assert (row.body, row.status, row.send_at) == (
        "Better words",
        "solved",
        frozen + timedelta(hours=24),
    )
    refused = client.post(
        f"/agent/tickets/{ticket.id}/scheduled/{row.id}",
        data={"body": "Even better", "status": "solved", "delay": "90000"},
    )
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert "Choose when to send it: now, or within 24 hours." in html
    assert "Even better" in html  # the edit is kept

    now_sent = client.post(f"/agent/tickets/{ticket.id}/scheduled/{row.id}/send")
    assert now_sent.status_code == 303
    assert "Better words" in customer_page(app, requester, ticket)
    ctx.expire_all()
    assert ctx.get(Ticket, ticket.id).status == "solved"

    reply(client, ticket, "ZqNever sent", delay="60")
    second = ctx.scalar(select(ScheduledReply).where(ScheduledReply.body == "ZqNever sent"))
    assert (
        client.post(f"/agent/tickets/{ticket.id}/scheduled/{second.id}/cancel").status_code == 303
    )
    assert send_due(app, frozen + timedelta(hours=2)) == 0
    assert "ZqNever" not in customer_page(app, requester, ticket)
    page = client.get(f"/agent/tickets/{ticket.id}").get_data(as_text=True)
    assert "cancelled a scheduled reply" in page
    late = client.post(
        f"/agent/tickets/{ticket.id}/scheduled/{second.id}",
        data={"body": "Too late", "status": "pending", "delay": "60"},
        follow_redirects=True,
    )
    assert "This reply was sent or cancelled already." in late.get_data(as_text=True)


def test_a_bad_delay_keeps_the_reply(client, ticket, agent):
    for delay in ("90000", "soon", "-5"):
        refused = reply(client, ticket, "Keep me", delay=delay)
        assert refused.status_code == 422
        html = refused.get_data(as_text=True)
        assert "Choose when to send it: now, or within 24 hours." in html
        assert "Keep me" in html


def test_a_reply_of_another_ticket_is_404(client, make, ctx, brand, ticket, requester, agent):
    reply(client, ticket, "Hello", delay="600")
    row = ctx.scalar(select(ScheduledReply))
    other = Ticket(
        brand_id=brand.id,
        locale="en",
        subject="Other",
        description="Other",
        requester_name="X",
        requester_email="x@example.com",
        link_secret="0" * 32,
    )
    ctx.add(other)
    ctx.commit()
    assert client.post(f"/agent/tickets/{other.id}/scheduled/{row.id}/cancel").status_code == 404


def test_two_senders_at_once_send_a_due_reply_once(app, ctx, client, ticket, agent, frozen):
    for n in range(5):
        reply(client, ticket, f"Reply {n}", delay="60")
    errors, counts = [], []
    start = threading.Barrier(4)

    def sender():
        try:
            with app.app_context():
                start.wait()
                counts.append(send_due_replies(db.session, frozen + timedelta(minutes=2)))
                db.session.remove()
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=sender) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sum(counts) == 5
    bodies = ctx.scalars(select(TicketMessage.body).order_by(TicketMessage.id)).all()
    assert sorted(bodies) == [f"Reply {n}" for n in range(5)]
    assert len(mails(ctx)) == 5


# --- files ------------------------------------------------------------------------------------


def test_files_of_a_public_reply_reach_the_customer_and_a_notes_never(
    app, client, ctx, ticket, requester, agent
):
    reply(client, ticket, "Here is the receipt.", attachments=[(io.BytesIO(PNG), "receipt.png")])
    client.post(
        f"/agent/tickets/{ticket.id}/reply",
        data={
            "body": "Fraud check attached",
            "kind": "internal",
            "attachments": [(io.BytesIO(b"ZqInternal report"), "fraud-report.txt")],
        },
        content_type="multipart/form-data",
    )
    agent_page = client.get(f"/agent/tickets/{ticket.id}").get_data(as_text=True)
    assert "receipt.png" in agent_page and "fraud-report.txt" in agent_page
    link = re.search(r'href="([^"]*/files/\d+/fraud-report.txt)"', agent_page).group(1)
    download = client.get(link)
    assert download.status_code == 200 and download.data == b"ZqInternal report"
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert download.headers["Content-Security-Policy"].split(";")[0] == "sandbox"
    assert download.headers["Content-Disposition"].startswith("attachment")
    download.close()

    html = customer_page(app, requester, ticket)
    assert "receipt.png" in html
    assert "fraud-report.txt" not in html and "Fraud check" not in html
    note_file = ctx.scalar(select(TicketFile).where(TicketFile.filename == "fraud-report.txt"))
    customer = app.test_client()
    customer.post("/login", data={"email": requester.email, "password": PASSWORD})
    url = f"/acme/en/requests/{ticket.id}/files/{note_file.id}/fraud-report.txt"
    assert customer.get(url).status_code == 404


def test_a_refused_file_keeps_the_text_and_the_files_already_taken(client, ctx, ticket, agent):
    refused = reply(
        client,
        ticket,
        "Two files",
        attachments=[(io.BytesIO(PNG), "good.png"), (io.BytesIO(SVG), "evil.svg")],
    )
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert "evil.svg: This kind of file is not accepted." in html
    assert "Two files" in html and "Attached:" in html and "good.png" in html
    assert ctx.scalar(select(TicketMessage)) is None
    files_key = re.search(r'name="files_key" value="(r[\d-]+[0-9a-f]{32})"', html).group(1)
    assert files_key.startswith(f"r{ticket.id}-{agent.id}-")
    sent = reply(client, ticket, "Two files", files_key=files_key)
    assert sent.status_code == 303
    message = ctx.scalar(select(TicketMessage))
    files = ctx.scalars(select(TicketFile).where(TicketFile.message_id == message.id)).all()
    assert [f.filename for f in files] == ["good.png"]


def test_a_files_key_of_another_agents_draft_is_not_taken(app, make, ctx, brand, ticket, client):
    """A reply's files are staged under a key naming the ticket and the agent: a colleague
    who somehow has that key posts with a fresh one, and the first agent's files stay theirs."""
    first = make.user(role="agent", brands=[brand], name="Ann", password=PASSWORD)
    client.post("/login", data={"email": first.email, "password": PASSWORD})
    html = reply(client, ticket, "Draft", attachments=[(io.BytesIO(SVG), "evil.svg"),
                 (io.BytesIO(PNG), "mine.png")]).get_data(as_text=True)  # fmt: skip
    files_key = re.search(r'name="files_key" value="([^"]+)"', html).group(1)
    colleague = make.user(role="agent", brands=[brand], name="Bo", password=PASSWORD)
    other = app.test_client()
    other.post("/login", data={"email": colleague.email, "password": PASSWORD})
    assert reply(other, ticket, "Taking them", files_key=files_key).status_code == 303
    assert (
        ctx.scalar(select(TicketFile).where(TicketFile.filename == "mine.png")).message_id is None
    )


def test_a_scheduled_replys_files_wait_with_it(app, client, ctx, ticket, requester, agent, frozen):
    reply(
        client,
        ticket,
        "Later, with a file",
        delay="600",
        attachments=[(io.BytesIO(PNG), "later.png")],
    )
    assert "later.png" not in customer_page(app, requester, ticket)
    assert "later.png" in client.get(f"/agent/tickets/{ticket.id}").get_data(as_text=True)
    send_due(app, frozen + timedelta(minutes=10))
    assert "later.png" in customer_page(app, requester, ticket)


# --- who may change, send or cancel a scheduled reply -----------------------------------------


def test_only_its_author_changes_or_sends_a_reply_early_a_colleague_may_cancel_it(
    app, make, ctx, brand, ticket, agent, client, frozen
):
    reply(client, ticket, "Ada's own words", delay="3600")
    row = ctx.scalar(select(ScheduledReply))
    colleague = make.user(role="agent", brands=[brand], name="Mallory", password=PASSWORD)
    other = app.test_client()
    other.post("/login", data={"email": colleague.email, "password": PASSWORD})
    page = other.get(f"/agent/tickets/{ticket.id}").get_data(as_text=True)
    assert f"Reply by {agent.name}." in page and "Ada&#39;s own words" in page
    assert f"/scheduled/{row.id}/send" not in page and "Save changes" not in page
    rewrite = {"body": "Mallory's words", "status": "solved", "delay": "60"}
    assert (
        other.post(f"/agent/tickets/{ticket.id}/scheduled/{row.id}", data=rewrite).status_code
        == 403
    )
    assert other.post(f"/agent/tickets/{ticket.id}/scheduled/{row.id}/send").status_code == 403
    ctx.refresh(row)
    assert (row.body, row.send_at) == ("Ada's own words", frozen + timedelta(hours=1))
    assert other.post(f"/agent/tickets/{ticket.id}/scheduled/{row.id}/cancel").status_code == 303
    assert send_due(app, frozen + timedelta(hours=2)) == 0
    page = client.get(f"/agent/tickets/{ticket.id}").get_data(as_text=True)
    assert "Mallory cancelled a scheduled reply" in page


@pytest.mark.parametrize("revoke", ["deactivated", "customer", "left the brand"])
def test_a_reply_is_not_sent_once_its_author_can_no_longer_answer(
    app, make, ctx, brand, ticket, requester, agent, client, frozen, revoke
):
    reply(client, ticket, "ZqGone away", delay="600", status="solved")
    author = ctx.get(User, agent.id)
    if revoke == "deactivated":
        author.active = False
    elif revoke == "customer":
        author.role = "customer"
    else:
        ctx.execute(BrandMember.__table__.delete().where(BrandMember.user_id == author.id))
    ctx.commit()
    assert send_due(app, frozen + timedelta(minutes=10)) == 0
    ctx.expire_all()
    row = ctx.scalar(select(ScheduledReply))
    assert row.sent_at is None and row.cancelled_at is not None
    assert "ZqGone" not in customer_page(app, requester, ticket)
    assert mails(ctx) == [] and ctx.get(Ticket, ticket.id).status == "open"
    admin = app.test_client()
    boss = make.user(role="admin", name="Boss", password=PASSWORD)
    admin.post("/login", data={"email": boss.email, "password": PASSWORD})
    page = admin.get(f"/agent/tickets/{ticket.id}").get_data(as_text=True)
    assert "A scheduled reply was not sent: its author can no longer answer this ticket" in page


def test_editing_the_text_keeps_the_time_unless_another_is_chosen(
    client, ctx, ticket, agent, frozen
):
    reply(client, ticket, "Tomorrow reply with a tpyo", delay="86400")
    row = ctx.scalar(select(ScheduledReply))
    page = client.get(f"/agent/tickets/{ticket.id}").get_data(as_text=True)
    form = page[page.index(f'action="/agent/tickets/{ticket.id}/scheduled/{row.id}"') :]
    delay_select = form[form.index('<select name="delay">') :].split("</select>")[0]
    assert delay_select.index('value="keep"') < delay_select.index('value="60"')  # the default
    assert "selected" not in delay_select
    clock.freeze(frozen + timedelta(hours=2))
    fixed = {"body": "Tomorrow reply with a typo", "status": "pending", "delay": "keep"}
    assert (
        client.post(f"/agent/tickets/{ticket.id}/scheduled/{row.id}", data=fixed).status_code == 303
    )
    ctx.refresh(row)
    assert (row.body, row.send_at) == ("Tomorrow reply with a typo", frozen + timedelta(hours=24))
