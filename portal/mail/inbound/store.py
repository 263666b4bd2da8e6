"""The first stage: keep a message's raw bytes, committed, before anything else happens.

The listener answers 250 only after `keep` returned, and the IMAP fetcher moves or flags a
message only after it; what comes after (parsing, tickets) reads the row back, so a crash
between the two loses nothing: rows still RECEIVED are picked up again (pipeline.process_due).
"""

import hashlib
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.mail.models import RECEIVED, InboundMail


def keep(
    session: Session,
    raw: bytes,
    *,
    source: str,
    now: datetime,
    envelope_from: str = "",
    recipients: Iterable[str] = (),
    mailbox_id: int | None = None,
    uidvalidity: int | None = None,
    uid: int | None = None,
    claim_seconds: int | None = None,
) -> InboundMail:
    """Store one message as received and commit. A mailbox's message (mailbox, UIDVALIDITY,
    UID) is stored once: fetched again, the row stored the first time is returned.
    `claim_seconds`: stored already claimed by the caller, who processes it next
    (pipeline.process(claimed=True)); after that time anyone may (a crash in between)."""
    row = InboundMail(
        source=source,
        mailbox_id=mailbox_id,
        uidvalidity=uidvalidity,
        uid=uid,
        envelope_from=(envelope_from or "")[:254],
        recipients=[r.strip().lower()[:254] for r in recipients],
        raw=raw,
        size=len(raw),
        sha256=hashlib.sha256(raw).hexdigest(),
        received_at=now,
        status=RECEIVED,
        attempts=1 if claim_seconds else 0,
        claimed_until=now + timedelta(seconds=claim_seconds) if claim_seconds else None,
    )
    session.add(row)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        if mailbox_id is None:
            raise
        found = session.scalar(
            select(InboundMail).where(
                InboundMail.mailbox_id == mailbox_id,
                InboundMail.uidvalidity == uidvalidity,
                InboundMail.uid == uid,
            )
        )
        if found is None:
            raise
        return found
    return row
