"""The ordered stages every received message goes through, whichever door it came in by.

store (store.keep, before the sender is answered) -> parse -> classify -> identify the sender
-> match the thread -> attachments -> a new ticket (portal.desk.intake.submit) or a reply
(portal.desk.replies.reply). Each stage is a small function; `process` runs them for one
stored message and records what became of it (InboundMail.status and reason).
"""

from datetime import datetime

from sqlalchemy.orm import Session

from portal.mail.models import InboundMail


def process(session: Session, mail_id: int, now: datetime) -> InboundMail | None:
    """Run the stages for one stored message, once (claimed; committed). None when another
    worker has it or it was processed already."""
    raise NotImplementedError  # being written


def retry(session: Session, mail_id: int, now: datetime) -> InboundMail | None:
    """An admin's retry of a FAILED or HELD message: processed again at once (committed)."""
    raise NotImplementedError  # being written


def process_due(session: Session, now: datetime, limit: int = 100) -> int:
    """Process the messages still RECEIVED (a crash came between storing and processing, or
    they were fetched over IMAP); how many were processed."""
    raise NotImplementedError  # being written
