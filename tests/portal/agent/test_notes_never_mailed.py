"""An internal note can never be mailed, whichever door it comes through: the agent page (now,
with a delay, with files), bulk actions, the scheduler's sender and `flask mail send`; and the
only code that queues a reply's mail is portal/desk/replies.py."""

import ast
import io
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

import portal
from kb import clock
from portal.desk import replies
from portal.desk.models import OutboxMail, ScheduledReply, Ticket, TicketFile, TicketMessage
from portal.extensions import db

NOTE = "Internal ZqSecretNote: the customer is on a watch list."
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PORTAL = Path(portal.__file__).parent


@pytest.fixture
def brand(make):
    return make.brand(slug="acme", locales=("en",), name="Acme")


@pytest.fixture
def ticket(make, brand):
    requester = make.user(role="customer", email="mina@example.com", name="Mina")
    return make.ticket(brand, requester)


@pytest.fixture
def agent(login, brand):
    return login("agent", brands=[brand])


def post_note(client, ticket, **data):
    form = {"body": NOTE, "kind": "internal", "status": "solved", **data}
    return client.post(
        f"/agent/tickets/{ticket.id}/reply", data=form, content_type="multipart/form-data"
    )


def assert_no_note_in_the_outbox(ctx):
    ctx.expire_all()
    mails = ctx.scalars(select(OutboxMail)).all()
    assert not [m for m in mails if "ZqSecretNote" in m.text_body + m.html_body + m.subject]


def notes_through_the_agent_page(client, ticket) -> None:
    """Every way the reply box can carry a note: now, delayed, delayed badly, with a file."""
    assert post_note(client, ticket).status_code == 303
    assert post_note(client, ticket, delay="600").status_code == 303
    assert post_note(client, ticket, delay="86400").status_code == 303
    assert post_note(client, ticket, delay="not a delay").status_code == 303
    upload = {"attachments": (io.BytesIO(PNG), "watchlist.png")}
    assert post_note(client, ticket, delay="600", **upload).status_code == 303


def test_a_note_from_the_agent_page_is_added_at_once_never_scheduled_nor_mailed(
    app, client, ctx, ticket, agent
):
    notes_through_the_agent_page(client, ticket)
    messages = ctx.scalars(select(TicketMessage)).all()
    assert len(messages) == 5 and not any(m.public for m in messages)
    assert ctx.scalars(select(ScheduledReply)).all() == []
    assert ctx.get(Ticket, ticket.id).status == "open"  # a note's status is not used
    file = ctx.scalars(select(TicketFile)).one()
    assert file.message_id in {m.id for m in messages}
    assert_no_note_in_the_outbox(ctx)


def test_the_scheduler_and_flask_mail_send_never_mail_a_note(app, client, ctx, ticket, agent):
    notes_through_the_agent_page(client, ticket)
    with app.app_context():
        assert replies.send_due(db.session, clock.now() + timedelta(days=2)) == 0
        db.session.remove()
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["mail", "send"])
    assert result.exit_code == 0, result.output
    assert "scheduled replies sent" not in result.output
    assert_no_note_in_the_outbox(ctx)


def test_bulk_offers_only_public_replies_and_does_not_carry_a_note_along(
    app, client, ctx, ticket, agent
):
    assert post_note(client, ticket).status_code == 303
    # Bulk has no note: whatever is posted, its reply is public, and only its own text goes.
    sent = client.post(
        "/agent/bulk",
        data={"ticket": [str(ticket.id)], "body": "We are on it.", "kind": "internal"},
    )
    assert sent.status_code == 303
    bulk_reply = ctx.scalars(select(TicketMessage).where(TicketMessage.public.is_(True))).one()
    assert bulk_reply.body == "We are on it."
    mails = ctx.scalars(select(OutboxMail)).all()
    assert [m.recipient for m in mails] == ["mina@example.com"]
    assert "We are on it." in mails[0].text_body
    assert_no_note_in_the_outbox(ctx)


def test_a_reply_is_mailed_only_from_desk_replies():
    """No other module queues the "agent_reply" mail, or writes an agent's message
    (agent_tickets.add_reply) that it could then mail or forget to. (The customer
    notifications word that mail: replies asks them, notifications.mail_reply.)"""
    callers = {"agent_reply": set(), "add_reply": set()}
    for path in PORTAL.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        where = path.relative_to(PORTAL.parent).as_posix()
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and node.value == "agent_reply":
                callers["agent_reply"].add(where)
            if isinstance(node, ast.Call):
                name = getattr(node.func, "attr", None) or getattr(node.func, "id", None)
                if name == "add_reply":
                    callers["add_reply"].add(where)
    assert callers == {
        "agent_reply": {"portal/desk/automation/notifications.py"},
        "add_reply": {"portal/desk/replies.py"},
    }
