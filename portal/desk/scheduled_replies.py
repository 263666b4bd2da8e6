"""Delayed send: a public reply that waits (up to a day) before it goes out, editable and
cancellable until then, and sent once by whichever process claims it first.

Claiming is one conditional UPDATE (sent_at from NULL to now) in the same transaction as the
message and its mail: a second process, or a second run, finds the row taken and does nothing.
A reply goes out only while its author may still answer the ticket (an active agent of its
brand, or an admin); otherwise it is dropped, with an event on the ticket. Only the author
changes or sends a reply early; any agent of the brand may cancel it.
"""

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from kb.people import User
from portal.desk import agent_tickets
from portal.desk.agent_tickets import PropertyError
from portal.desk.assignment import can_work
from portal.desk.models import (
    TICKET_STATUSES,
    ScheduledReply,
    Ticket,
    TicketEvent,
    TicketFile,
)
from portal.desk.trash import live

MAX_DELAY = timedelta(hours=24)
# What the reply form offers, in seconds ("0": now).
DELAYS = (0, 60, 600, 3600, 4 * 3600, 24 * 3600)


def _text(body: str, status: str) -> tuple[str, str]:
    """The cleaned body and the status after sending; PropertyError otherwise."""
    body = agent_tickets.clean_body(body)
    agent_tickets.check_placeholders(body)  # filled when it is sent (desk.replies)
    if status not in TICKET_STATUSES:
        raise PropertyError("status", "invalid")
    return body, status


def check(body: str, status: str, delay_seconds: int | None) -> tuple[str, str, timedelta]:
    """The cleaned body, the status after sending and the delay; PropertyError otherwise."""
    body, status = _text(body, status)
    if delay_seconds is None or not 0 < delay_seconds <= MAX_DELAY.total_seconds():
        raise PropertyError("delay", "invalid_delay")
    return body, status, timedelta(seconds=delay_seconds)


def schedule(
    session: Session,
    ticket: Ticket,
    agent: User,
    body: str,
    status: str,
    delay_seconds: int | None,
    files_key: str,
    now: datetime,
) -> ScheduledReply:
    body, status, delay = check(body, status, delay_seconds)
    row = ScheduledReply(
        ticket_id=ticket.id,
        author_id=agent.id,
        body=body,
        status=status,
        send_at=now + delay,
        files_key=files_key,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    return row


def waiting(session: Session, ticket: Ticket) -> list[ScheduledReply]:
    """The ticket's replies not sent nor cancelled yet, soonest first."""
    return list(
        session.scalars(
            select(ScheduledReply)
            .where(
                ScheduledReply.ticket_id == ticket.id,
                ScheduledReply.sent_at.is_(None),
                ScheduledReply.cancelled_at.is_(None),
            )
            .order_by(ScheduledReply.send_at, ScheduledReply.id)
        )
    )


def files_of(session: Session, row: ScheduledReply) -> list[TicketFile]:
    return list(
        session.scalars(
            select(TicketFile)
            .where(TicketFile.submission_key == row.files_key, TicketFile.ticket_id.is_(None))
            .order_by(TicketFile.id)
        )
    )


def _still_waiting(row_id: int):
    return (
        (ScheduledReply.id == row_id)
        & ScheduledReply.sent_at.is_(None)
        & ScheduledReply.cancelled_at.is_(None)
    )


def _if_waiting(session: Session, row: ScheduledReply, **values) -> bool:
    """Set `values` on the row unless it went out or was cancelled meanwhile (one conditional
    UPDATE, so a sender claiming it at the same moment wins or loses whole); the row is
    reloaded either way."""
    done = session.execute(
        update(ScheduledReply)
        .where(_still_waiting(row.id))
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(row)
    return bool(done)


def change(
    session: Session,
    row: ScheduledReply,
    body: str,
    status: str,
    delay_seconds: int | None,
    now: datetime,
    keep_time: bool = False,
) -> bool:
    """New text, status and time (counted from now, or the time it had with `keep_time`);
    False when it went out or was cancelled meanwhile (nothing changed). PropertyError for
    bad input."""
    if keep_time:
        body, status = _text(body, status)
        return _if_waiting(session, row, body=body, status=status, updated_at=now)
    body, status, delay = check(body, status, delay_seconds)
    return _if_waiting(session, row, body=body, status=status, send_at=now + delay, updated_at=now)


def cancel(session: Session, row: ScheduledReply, agent: User, now: datetime) -> bool:
    """Cancel it (its files go with it); False when it was sent or cancelled already."""
    if not _if_waiting(session, row, cancelled_at=now, updated_at=now):
        return False
    _delete_files(session, row)
    session.add(
        TicketEvent(
            ticket_id=row.ticket_id,
            actor_id=agent.id,
            kind="scheduled_reply_cancelled",
            created_at=now,
        )
    )
    return True


def _delete_files(session: Session, row: ScheduledReply) -> None:
    for f in files_of(session, row):
        session.delete(f)


def send_now(session: Session, row: ScheduledReply, now: datetime) -> bool:
    """Make it due at once (the next run sends it)."""
    return _if_waiting(session, row, send_at=now, updated_at=now)


def due_ids(session: Session, now: datetime, limit: int = 100) -> list[int]:
    return list(
        session.scalars(
            select(ScheduledReply.id)
            .where(
                ScheduledReply.sent_at.is_(None),
                ScheduledReply.cancelled_at.is_(None),
                ScheduledReply.send_at <= now,
                # A ticket in the trash says nothing more; restored, its replies go out.
                ScheduledReply.ticket_id.in_(select(Ticket.id).where(live())),
            )
            .order_by(ScheduledReply.send_at, ScheduledReply.id)
            .limit(limit)
        )
    )


def claim(
    session: Session, row_id: int, now: datetime
) -> tuple[ScheduledReply, Ticket | None, User | None] | None:
    """Take one due reply, in the caller's transaction: the row, its ticket and its author
    when the author may still answer the ticket (else None: the account is gone, off, or no
    longer of this brand). None when another run took it, or it was cancelled or moved later.
    portal.desk.replies.send_due turns it into the message, or drops it."""
    taken = session.execute(
        update(ScheduledReply)
        .where(_still_waiting(row_id), ScheduledReply.send_at <= now)
        .values(sent_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not taken:
        return None
    row = session.get(ScheduledReply, row_id, populate_existing=True)
    ticket = session.get(Ticket, row.ticket_id)
    agent = None
    if ticket is not None and row.author_id is not None:
        agent = session.scalar(
            select(User).where(User.id == row.author_id, can_work(ticket.brand_id))
        )
    return row, ticket, agent


def drop(session: Session, row: ScheduledReply, ticket: Ticket | None, now: datetime) -> None:
    """A claimed reply that cannot go out: cancelled, its files deleted, an event on the
    ticket."""
    row.sent_at, row.cancelled_at = None, now
    _delete_files(session, row)
    if ticket is not None:
        session.add(
            TicketEvent(ticket_id=ticket.id, kind="scheduled_reply_dropped", created_at=now)
        )
