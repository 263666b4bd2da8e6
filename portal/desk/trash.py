"""Deleting tickets, in two steps: the trash (gone from every list, restorable), then the purge
(the ticket, its messages, events, files and mail gone for good), by an agent now or by the
scheduler's leader 30 days later. `live()` is the one condition every ticket list adds."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, literal, select, tuple_, update
from sqlalchemy.orm import Session, aliased

from kb import attachments
from kb.models import Brand
from kb.people import User
from portal.desk import files
from portal.desk.automation.models import ScheduleFiring
from portal.desk.models import (
    OutboxMail,
    ScheduledReply,
    Ticket,
    TicketEvent,
    TicketFile,
    TicketMessage,
    TicketPresence,
    TicketShare,
    TicketTag,
)
from portal.mail.models import InboundMail
from portal.security import audit

KEPT_FOR = timedelta(days=30)  # in the trash this long, then purged
PER_PAGE = 50


def live(t=Ticket):
    """Not in the trash: what every list of tickets (queues, searches, my requests, reports,
    profiles) shows."""
    return t.deleted_at.is_(None)


def _record(session, action, ticket, actor, ip, now, details=None) -> None:
    audit.record(
        session,
        action,
        now=now,
        kind=audit.SYSTEM,
        actor=actor,
        target=f"ticket:{ticket.id}",
        target_name=ticket.subject,
        brand_id=ticket.brand_id,
        ip=ip,
        details=details,
    )


def _set_deleted(session, ticket, when, by_id) -> bool:
    """One conditional UPDATE (two agents at once: one wins); its activity time unchanged."""
    changed = session.execute(
        update(Ticket)
        .where(Ticket.id == ticket.id, live() if when else Ticket.deleted_at.is_not(None))
        .values(deleted_at=when, deleted_by_id=by_id, updated_at=Ticket.updated_at)
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed:
        session.refresh(ticket)
    return bool(changed)


def trash(session: Session, actor: User, ticket: Ticket, *, ip: str = "", now: datetime) -> bool:
    """Move `ticket` to the trash (the caller commits); False when it is there already."""
    if not _set_deleted(session, ticket, now, actor.id):
        return False
    _record(session, "ticket.trashed", ticket, actor, ip, now)
    return True


def restore(session: Session, actor: User, ticket: Ticket, *, ip: str = "", now: datetime) -> bool:
    """Take `ticket` out of the trash, as it was (the caller commits); False when it is not
    in the trash."""
    if not _set_deleted(session, ticket, None, None):
        return False
    _record(session, "ticket.restored", ticket, actor, ip, now)
    return True


def purge(
    session: Session,
    actor: User | None,
    ticket: Ticket,
    *,
    uploads_dir: Path,
    ip: str = "",
    now: datetime,
) -> bool:
    """Delete a ticket in the trash for good, committed: its messages, files (their bytes too,
    unless another row uses them), events, tags, shares, scheduled replies, the mail it came
    in and went out by; tickets naming it forget it. `actor` None: the scheduler. False when
    it is not in the trash."""
    if ticket.deleted_at is None:
        return False
    _record(session, "ticket.purged", ticket, actor, ip, now, {"ticket": ticket.id})
    gone = _delete_rows(session, ticket.id)
    session.commit()
    for sha256 in set(gone):
        if not files.bytes_in_use(session, sha256):
            attachments.path_for(uploads_dir, sha256).unlink(missing_ok=True)
    return True


def _delete_rows(session: Session, ticket_id: int) -> list[str]:
    """Every row that names the ticket (each foreign key to tickets), children first, so it
    holds without SQLite's foreign_keys pragma too; the stored bytes' digests."""
    gone = list(
        session.scalars(
            delete(TicketFile).where(TicketFile.ticket_id == ticket_id).returning(TicketFile.sha256)
        )
    )
    for model in (
        ScheduledReply,
        TicketEvent,
        TicketTag,
        TicketShare,
        TicketPresence,
        ScheduleFiring,
    ):
        session.execute(delete(model).where(model.ticket_id == ticket_id))
    session.execute(delete(TicketMessage).where(TicketMessage.ticket_id == ticket_id))
    session.execute(delete(InboundMail).where(InboundMail.ticket_id == ticket_id))
    session.execute(delete(OutboxMail).where(OutboxMail.ticket_id == ticket_id))
    for column in (Ticket.follow_up_of_id, Ticket.related_ticket_id):
        session.execute(
            update(Ticket)
            .where(column == ticket_id)
            .values({column.key: None, "updated_at": Ticket.updated_at})
        )
    session.execute(delete(Ticket).where(Ticket.id == ticket_id))
    # The ORM's copies of those rows are gone: the ticket's taken out, the rest read again.
    ticket = session.get(Ticket, ticket_id, populate_existing=False)
    if ticket is not None:
        session.expunge(ticket)
    session.expire_all()
    return gone


def purge_trash(session: Session, now: datetime, *, uploads_dir: Path) -> int:
    """The scheduler's daily job: purge the tickets trashed more than 30 days ago, each
    committed on its own; how many."""
    ids = session.scalars(
        select(Ticket.id)
        .where(Ticket.deleted_at.is_not(None), Ticket.deleted_at < now - KEPT_FOR)
        .order_by(Ticket.deleted_at, Ticket.id)
    ).all()
    purged = 0
    for ticket_id in ids:
        ticket = session.get(Ticket, ticket_id)
        if ticket is not None and purge(session, None, ticket, uploads_dir=uploads_dir, now=now):
            purged += 1
    return purged


# -- the trash, as agents see it --------------------------------------------------------------


@dataclass(frozen=True)
class TrashRow:
    ticket: Ticket
    brand_name: str
    deleted_by: str | None
    purge_at: datetime


@dataclass
class TrashPage:
    tickets: list[TrashRow]
    next_before: str | None


def trashed_page(
    session: Session, brand_ids: list[int] | None, before: tuple | None = None
) -> TrashPage:
    """Tickets in the trash of these brands (None: every brand), the most recently trashed
    first, after the cursor (deleted_at, id)."""
    deleter = aliased(User)
    stmt = (
        select(Ticket, Brand.name, deleter.name)
        .join(Brand, Brand.id == Ticket.brand_id)
        .outerjoin(deleter, deleter.id == Ticket.deleted_by_id)
        .where(Ticket.deleted_at.is_not(None))
        .order_by(Ticket.deleted_at.desc(), Ticket.id.desc())
        .limit(PER_PAGE + 1)
    )
    if brand_ids is not None:
        stmt = stmt.where(Ticket.brand_id.in_(brand_ids))
    if before is not None:
        moment = literal(before[0], Ticket.deleted_at.type)
        stmt = stmt.where(tuple_(Ticket.deleted_at, Ticket.id) < tuple_(moment, before[1]))
    rows = [
        TrashRow(t, brand, name, t.deleted_at + KEPT_FOR)
        for t, brand, name in session.execute(stmt)
    ]
    next_before = None
    if len(rows) > PER_PAGE:
        rows = rows[:PER_PAGE]
        last = rows[-1].ticket
        next_before = f"{last.deleted_at.isoformat()}~{last.id}"
    return TrashPage(rows, next_before)


def parse_cursor(text: str | None) -> tuple | None:
    """(deleted_at, id) from a `before` parameter, or None when it is not one."""
    when, _sep, last_id = (text or "").partition("~")
    if not last_id.isdigit() or len(last_id) > 12:
        return None
    try:
        moment = datetime.fromisoformat(when)
    except ValueError:
        return None
    return (moment, int(last_id)) if moment.tzinfo is not None else None
