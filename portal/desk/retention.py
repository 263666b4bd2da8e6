"""Attachment retention: a brand removes its tickets' files N days after the ticket closed.

The setting is the brand's `attachment_retention_days` (None: files are kept forever). The
scheduler's leader runs `purge_expired_files` every day: the bytes are removed from the
uploads folder, and the file's row stays, marked removed (`removed_at`, `removed_reason`), so
that the conversation says in its place that it was removed under the retention policy and its
download answers 410 Gone.

A ticket's closing time is its last status change to "closed" (ticket_events); a ticket closed
without such an event (imported, or made by the demo) counts from its last update, never
earlier than that.
"""

from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from kb import attachments
from kb.models import Brand
from kb.people import User
from portal.desk import files
from portal.desk.models import Ticket, TicketEvent, TicketFile
from portal.security import audit

RETENTION = "retention"  # removed_reason
MIN_DAYS, MAX_DAYS = 1, 3650
# A run also finishes the removals of runs that marked rows but stopped before removing their
# bytes (the process died between the commit and the unlink): the rows marked this recently.
FINISH_WITHIN = timedelta(days=7)


class RetentionError(ValueError):
    """A setting refused; `code` names why (portal.web.messages "retention.<code>")."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def set_retention(
    session: Session,
    actor: User,
    brand: Brand,
    days: int | None,
    now: datetime,
    ip: str = "",
) -> bool:
    """Remove `brand`'s ticket files `days` days after their ticket closed (None: keep them
    forever). Recorded in the audit log ("retention.changed") when it changes; answers whether
    it did. RetentionError("days_out_of_range") outside MIN_DAYS..MAX_DAYS. The caller commits."""
    if days is not None and not MIN_DAYS <= days <= MAX_DAYS:
        raise RetentionError("days_out_of_range")
    before = brand.attachment_retention_days
    if before == days:
        return False
    brand.attachment_retention_days = days
    audit.record(
        session,
        "retention.changed",
        now=now,
        actor=actor,
        target=f"brand:{brand.id}",
        target_name=brand.name,
        brand_id=brand.id,
        ip=ip,
        details={"from": before, "to": days},
    )
    return True


def closed_at():
    """The ticket's closing time as a correlated SQL expression (see the module's docstring)."""
    last_closing = (
        select(func.max(TicketEvent.created_at))
        .where(
            TicketEvent.ticket_id == Ticket.id,
            TicketEvent.kind == "status",
            TicketEvent.new_value == "closed",
        )
        .scalar_subquery()
    )
    return func.coalesce(last_closing, Ticket.updated_at)


def expired_file_ids(session: Session, brand: Brand, now: datetime) -> list[int]:
    """Files of `brand`'s tickets closed more than its retention days before `now`, not yet
    removed (none when the brand keeps files forever)."""
    days = brand.attachment_retention_days
    if days is None:
        return []
    stmt = (
        select(TicketFile.id)
        .join(Ticket, Ticket.id == TicketFile.ticket_id)
        .where(
            Ticket.brand_id == brand.id,
            Ticket.status == "closed",
            TicketFile.removed_at.is_(None),
            closed_at() < now - timedelta(days=days),
        )
        .order_by(TicketFile.id)
    )
    return list(session.scalars(stmt))


def purge_expired_files(session: Session, now: datetime, uploads_dir: Path) -> int:
    """Remove the files every brand's retention has expired (see the module's docstring);
    answers how many rows this run marked removed. The run is written to the system log
    ("retention.files_removed", with the count per brand) when it removed something.
    Idempotent: a file is marked once (a conditional UPDATE), and its bytes go only when no
    other row still uses them (ticket files and article attachments share the stored bytes)."""
    brands = session.scalars(
        select(Brand).where(Brand.attachment_retention_days.is_not(None)).order_by(Brand.id)
    ).all()
    per_brand: Counter[str] = Counter()
    removed: set[str] = set()
    for brand in brands:
        ids = expired_file_ids(session, brand, now)
        if not ids:
            continue
        marked = session.execute(
            update(TicketFile)
            .where(TicketFile.id.in_(ids), TicketFile.removed_at.is_(None))
            .values(removed_at=now, removed_reason=RETENTION)
            .returning(TicketFile.sha256)
        ).all()
        per_brand[brand.slug] += len(marked)
        removed.update(sha256 for (sha256,) in marked)
    total = sum(per_brand.values())
    if total:
        audit.record(
            session,
            "retention.files_removed",
            now=now,
            kind=audit.SYSTEM,
            details={"count": total, "brands": dict(sorted(per_brand.items()))},
        )
    session.commit()
    # After the commit, as files.remove_abandoned does: a file re-sent meanwhile keeps them.
    unfinished = session.scalars(
        select(TicketFile.sha256)
        .where(
            TicketFile.removed_reason == RETENTION,
            TicketFile.removed_at >= now - FINISH_WITHIN,
        )
        .distinct()
    )
    for sha256 in removed | set(unfinished):
        path = attachments.path_for(uploads_dir, sha256)
        if path.exists() and not files.bytes_in_use(session, sha256):
            path.unlink(missing_ok=True)
    return total
