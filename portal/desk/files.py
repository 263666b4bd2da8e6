"""Files sent with requests: checked by kb.attachments' one validator, staged under the form's
submission key until the ticket exists, then served only through the ticket's access check."""

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kb import attachments
from portal.desk.models import ScheduledReply, TicketFile

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_FILES = 30
MAX_TOTAL_BYTES = 50 * 1024 * 1024
STAGED_FOR = timedelta(days=1)  # a staged file nobody sent is removed after this


@dataclass(frozen=True)
class Limits:
    file_bytes: int = MAX_FILE_BYTES
    files: int = MAX_FILES
    total_bytes: int = MAX_TOTAL_BYTES


def staged(session: Session, submission_key: str) -> list[TicketFile]:
    return list(
        session.scalars(
            select(TicketFile)
            .where(TicketFile.submission_key == submission_key, TicketFile.ticket_id.is_(None))
            .order_by(TicketFile.id)
        )
    )


def attach_staged(
    session: Session, submission_key: str, ticket, message=None, *, brand_id: int | None = None
) -> None:
    """Give the files staged under `submission_key` to the ticket (and to the message they came
    with). Only files no ticket has taken yet; with `brand_id`, only files staged on that brand.
    Every door that sends files with a ticket or a message links them here."""
    taken = update(TicketFile).where(
        TicketFile.submission_key == submission_key, TicketFile.ticket_id.is_(None)
    )
    if brand_id is not None:
        taken = taken.where(TicketFile.brand_id == brand_id)
    values = {"ticket_id": ticket.id}
    if message is not None:
        values["message_id"] = message.id
    session.execute(taken.values(**values))


def _usage(session: Session, submission_key: str) -> tuple[int, int]:
    count, total = session.execute(
        select(func.count(TicketFile.id), func.coalesce(func.sum(TicketFile.size), 0)).where(
            TicketFile.submission_key == submission_key
        )
    ).one()
    return int(count), int(total)


def stage(
    session: Session,
    uploads_dir: Path,
    *,
    brand_id: int,
    submission_key: str,
    field_key: str | None,
    stream: BinaryIO,
    filename: str | None,
    now: datetime,
    limits: Limits = Limits(),
) -> tuple[TicketFile | None, list[str]]:
    """Keeps one uploaded file for a submission not yet sent: (the file, []) or (None, error
    codes). A rejected file rejects only itself."""
    received = attachments.receive(uploads_dir, stream, filename, limits.file_bytes)
    try:
        count, total = _usage(session, submission_key)
        errors = attachments.validate(
            received.size,
            received.content_type,
            count,
            total,
            attachments.Limits(limits.file_bytes, limits.files, limits.total_bytes),
        )
        if errors:
            return None, errors
        stage_key = f"{submission_key}:{field_key or ''}:{received.sha256}"
        same = session.scalar(select(TicketFile).where(TicketFile.stage_key == stage_key))
        if same is not None:
            return same, []  # sent again with the same form (a double click): kept once
        row = TicketFile(
            token=secrets.token_hex(16),
            brand_id=brand_id,
            submission_key=submission_key,
            field_key=field_key,
            stage_key=stage_key,
            sha256=received.sha256,
            filename=received.name or "file",
            content_type=received.content_type,
            size=received.size,
            created_at=now,
        )
        session.add(row)
        try:
            session.commit()
        except IntegrityError:  # the same file from a parallel send of the same form
            session.rollback()
            return session.scalar(select(TicketFile).where(TicketFile.stage_key == stage_key)), []
        received.keep(Path(uploads_dir))
        return row, []
    finally:
        received.discard()


@dataclass(frozen=True)
class Refusal:
    """One refused file: the form field it came in, its name fit to show, and why (a code)."""

    field: str
    filename: str
    code: str


def stage_uploads(
    session: Session,
    uploads_dir: Path,
    uploads,
    *,
    brand_id: int,
    submission_key: str,
    now: datetime,
    limits: Limits = Limits(),
) -> list[Refusal]:
    """Keeps each upload of (field, field key, filename, stream) that passes, and answers
    every refused one, so that a page can name each of them (not only the last)."""
    refusals = []
    for field, field_key, filename, stream in uploads:
        _row, codes = stage(
            session,
            uploads_dir,
            brand_id=brand_id,
            submission_key=submission_key,
            field_key=field_key,
            stream=stream,
            filename=filename,
            now=now,
            limits=limits,
        )
        if codes:
            refusals.append(Refusal(field, attachments.clean_filename(filename), codes[0]))
    return refusals


def unstage(session: Session, submission_key: str, tokens: set[str]) -> None:
    """Drops staged files the visitor removed (only this submission's, never a ticket's)."""
    if tokens:
        session.execute(
            delete(TicketFile).where(
                TicketFile.submission_key == submission_key,
                TicketFile.ticket_id.is_(None),
                TicketFile.token.in_(tokens),
            )
        )
        session.commit()


def remove_abandoned(session: Session, now: datetime, uploads_dir: Path) -> int:
    """Staged files of forms never sent, and their bytes unless another row (a ticket's
    file or an article's attachment) uses them; a scheduled reply's files wait for it. The
    scheduler's leader runs this every hour."""
    waiting = select(ScheduledReply.files_key).where(
        ScheduledReply.sent_at.is_(None), ScheduledReply.cancelled_at.is_(None)
    )
    gone = session.scalars(
        delete(TicketFile)
        .where(
            TicketFile.ticket_id.is_(None),
            TicketFile.created_at < now - STAGED_FOR,
            TicketFile.submission_key.not_in(waiting),
        )
        .returning(TicketFile.sha256)
    ).all()
    session.commit()
    for sha256 in set(gone):
        if not bytes_in_use(session, sha256):
            attachments.path_for(uploads_dir, sha256).unlink(missing_ok=True)
    return len(gone)


def bytes_in_use(session: Session, sha256: str) -> bool:
    """Whether a row still uses these stored bytes: ticket files (staged or not) and article
    attachments share one content-addressed folder, so neither removes what the other uses."""
    return in_tickets(session, sha256) or attachments.in_use(session, sha256)


def in_tickets(session: Session, sha256: str) -> bool:
    """Whether a ticket's file (staged or not) uses these stored bytes; a file removed under
    the retention policy (portal.desk.retention) keeps its row, not its bytes."""
    return (
        session.scalar(
            select(TicketFile.id)
            .where(TicketFile.sha256 == sha256, TicketFile.removed_at.is_(None))
            .limit(1)
        )
        is not None
    )


def path_for(uploads_dir: Path, row: TicketFile) -> Path:
    return attachments.path_for(uploads_dir, row.sha256)
