"""portal.desk.replies without HTTP: what an agent's reply, a note, a delayed reply and a
requester's reply do to the ticket, its files and the outbox."""

import secrets
from datetime import timedelta

import pytest
from sqlalchemy import select

from kb import clock
from portal.desk import replies
from portal.desk.models import (
    OutboxMail,
    ScheduledReply,
    TicketEvent,
    TicketFile,
    TicketMessage,
    TicketShare,
)

LINK = replies.Requester()  # the holder of a request's private link


@pytest.fixture
def app_ctx(app):
    """Mail needs the app (its secret for private links, its URLs)."""
    with app.app_context():
        yield


@pytest.fixture
def brand(make):
    return make.brand(slug="acme", locales=("en",), name="Acme")


@pytest.fixture
def agent(make, brand):
    return make.user(role="agent", brands=[brand], name="Jun")


@pytest.fixture
def requester(make):
    return make.user(role="customer", email="mina@example.com", name="Mina")


@pytest.fixture
def ticket(make, brand, requester):
    row = make.ticket(brand, requester)
    make.session.add(
        TicketShare(ticket_id=row.id, email="boss@example.com", created_at=clock.now())
    )
    make.session.commit()
    return row


def stage_file(session, brand, key: str, name: str = "receipt.png") -> TicketFile:
    row = TicketFile(
        token=secrets.token_hex(16),
        brand_id=brand.id,
        submission_key=key,
        sha256="0" * 64,
        filename=name,
        content_type="image/png",
        size=10,
    )
    session.add(row)
    session.flush()
    return row


def outbox(session) -> list[OutboxMail]:
    return list(session.scalars(select(OutboxMail).order_by(OutboxMail.id)))


def test_a_public_reply_is_mailed_to_the_requester_and_each_share_with_its_files(
    app_ctx, ctx, brand, agent, ticket
):
    staged = stage_file(ctx, brand, "key-1")
    done = replies.reply(
        ctx, agent, ticket, "Refunded, {{requester_name}}.", public=True, files_key="key-1",
        now=clock.now(),
    )  # fmt: skip
    ctx.commit()
    assert done.scheduled is None and done.message.public
    assert done.message.body == "Refunded, Mina."
    assert [m.recipient for m in outbox(ctx)] == ["mina@example.com", "boss@example.com"]
    assert all(m.ticket_id == ticket.id for m in outbox(ctx))
    ctx.refresh(staged)
    assert (staged.ticket_id, staged.message_id) == (ticket.id, done.message.id)
    assert ticket.status == "pending"


def test_a_note_is_added_unmailed_and_never_scheduled_even_with_a_delay(
    app_ctx, ctx, brand, agent, ticket
):
    staged = stage_file(ctx, brand, "key-2")
    done = replies.reply(
        ctx, agent, ticket, "Internal: ZqNote", public=False, status="solved",
        files_key="key-2", delay_seconds=3600, now=clock.now(),
    )  # fmt: skip
    ctx.commit()
    assert done.scheduled is None
    assert (done.message.public, done.message.body) == (False, "Internal: ZqNote")
    assert outbox(ctx) == []
    assert ctx.scalars(select(ScheduledReply)).all() == []
    assert ticket.status == "open"  # a note leaves the status alone
    ctx.refresh(staged)
    assert staged.message_id == done.message.id


def test_a_delayed_reply_waits_as_a_scheduled_reply_until_send_due(
    app_ctx, ctx, brand, agent, ticket
):
    start = clock.now()
    stage_file(ctx, brand, "key-3")
    done = replies.reply(
        ctx, agent, ticket, "Later ZqLater", public=True, status="solved", files_key="key-3",
        delay_seconds=600, now=start,
    )  # fmt: skip
    ctx.commit()
    assert done.message is None and done.scheduled.send_at == start + timedelta(seconds=600)
    assert ctx.scalars(select(TicketMessage)).all() == []
    assert outbox(ctx) == []

    assert replies.send_due(ctx, start + timedelta(seconds=599)) == 0
    assert replies.send_due(ctx, start + timedelta(seconds=600)) == 1
    assert replies.send_due(ctx, start + timedelta(seconds=601)) == 0
    message = ctx.scalars(select(TicketMessage)).one()
    assert (message.public, message.body) == (True, "Later ZqLater")
    assert [m.recipient for m in outbox(ctx)] == ["mina@example.com", "boss@example.com"]
    assert ctx.scalars(select(TicketFile.message_id)).all() == [message.id]
    ctx.refresh(ticket)
    assert ticket.status == "solved"


@pytest.mark.parametrize("delay", [None, -1, 24 * 3600 + 1])
def test_a_public_reply_with_a_delay_that_is_not_one_is_refused(app_ctx, ctx, agent, ticket, delay):
    with pytest.raises(replies.ReplyError) as refused:
        replies.reply(ctx, agent, ticket, "Hi", public=True, delay_seconds=delay, now=clock.now())
    assert (refused.value.field, refused.value.code) == ("delay", "invalid_delay")


def test_a_reply_is_held_back_when_a_public_message_arrived_since_the_agent_looked(
    app_ctx, ctx, agent, ticket
):
    now = clock.now()
    first = replies.reply(ctx, LINK, ticket, "Still broken", public=True, now=now, reopen_days=7)
    with pytest.raises(replies.MessagesArrived) as held:
        replies.reply(
            ctx, agent, ticket, "Hi", public=True, seen_up_to=first.message.id - 1, now=now
        )
    assert held.value.messages == [first.message]
    replies.reply(ctx, agent, ticket, "Hi", public=True, seen_up_to=first.message.id, now=now)


def test_a_scheduled_reply_whose_author_left_the_brand_is_dropped_not_sent(
    app_ctx, ctx, agent, ticket
):
    start = clock.now()
    replies.reply(ctx, agent, ticket, "Bye", public=True, delay_seconds=60, now=start)
    agent.active = False
    ctx.commit()
    assert replies.send_due(ctx, start + timedelta(minutes=2)) == 0
    assert ctx.scalars(select(TicketMessage)).all() == []
    assert outbox(ctx) == []
    kinds = ctx.scalars(select(TicketEvent.kind)).all()
    assert "scheduled_reply_dropped" in kinds


def test_the_private_link_holders_reply_is_the_requesters_and_opens_a_solved_request(
    ctx, brand, ticket
):
    ticket.status = "solved"
    stage_file(ctx, brand, "key-4")
    done = replies.reply(
        ctx,
        LINK,
        ticket,
        "  It broke again  ",
        public=True,
        files_key="key-4",
        now=clock.now(),
        reopen_days=7,
    )
    assert (done.ticket, done.follow_up) == (ticket, False)
    assert (done.message.body, done.message.from_requester) == ("It broke again", True)
    assert ticket.status == "open"
    assert ctx.scalars(select(TicketFile.message_id)).all() == [done.message.id]
    assert outbox(ctx) == []


def test_a_customers_reply_to_a_closed_request_lands_on_a_follow_up(ctx, requester, ticket):
    ticket.status = "closed"
    done = replies.reply(
        ctx,
        replies.Requester(requester),
        ticket,
        "One more thing",
        public=True,
        now=clock.now(),
        reopen_days=7,
    )
    assert done.follow_up and done.ticket.follow_up_of_id == ticket.id
    assert (done.ticket.status, done.ticket.description) == ("new", "One more thing")
    assert done.message.ticket_id == done.ticket.id and done.message.from_requester


def test_a_requester_cannot_write_a_note_or_schedule_a_reply(ctx, ticket):
    for asked in ({"public": False}, {"public": True, "delay_seconds": 600}):
        with pytest.raises(ValueError):
            replies.reply(ctx, LINK, ticket, "Psst", now=clock.now(), reopen_days=7, **asked)
    assert ctx.scalars(select(TicketMessage)).all() == []


def test_an_empty_requester_reply_is_refused(ctx, ticket):
    with pytest.raises(replies.ReplyError) as refused:
        replies.reply(ctx, LINK, ticket, "   ", public=True, now=clock.now(), reopen_days=7)
    assert refused.value.code == "required"
