"""Collision detection: which agents have a ticket open and who is typing a reply.

Each open ticket page refreshes its row (seen_at, typing); rows older than STALE are ignored."""

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kb.people import User
from portal.desk.models import TicketMessage, TicketPresence

STALE = timedelta(seconds=60)


def touch(session: Session, ticket_id: int, user_id: int, typing: bool, now: datetime) -> None:
    """Upsert my row: update, insert when there was none, update again if another request
    inserted it first (portable across SQLite and PostgreSQL)."""
    values = {"typing": bool(typing), "seen_at": now}

    def _update() -> int:
        return session.execute(
            update(TicketPresence)
            .where(TicketPresence.ticket_id == ticket_id, TicketPresence.user_id == user_id)
            .values(**values)
            .execution_options(synchronize_session=False)
        ).rowcount

    if _update():
        return
    try:
        with session.begin_nested():
            session.add(TicketPresence(ticket_id=ticket_id, user_id=user_id, **values))
    except IntegrityError:
        _update()


def others(
    session: Session, ticket_id: int, user_id: int, now: datetime
) -> list[tuple[User, bool]]:
    """The other agents seen on this ticket in the last minute, with whether they are typing."""
    rows = session.execute(
        select(User, TicketPresence.typing)
        .join(TicketPresence, TicketPresence.user_id == User.id)
        .where(
            TicketPresence.ticket_id == ticket_id,
            TicketPresence.user_id != user_id,
            TicketPresence.seen_at >= now - STALE,
        )
        .order_by(User.name, User.id)
    ).all()
    return [(user, typing) for user, typing in rows]


def newer_public_messages(session: Session, ticket_id: int, after_id: int) -> list[TicketMessage]:
    """Public messages that arrived after message `after_id` (the newest one a form saw)."""
    return list(
        session.scalars(
            select(TicketMessage)
            .where(
                TicketMessage.ticket_id == ticket_id,
                TicketMessage.public.is_(True),
                TicketMessage.id > after_id,
            )
            .order_by(TicketMessage.id)
        )
    )
