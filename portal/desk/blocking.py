"""Blocked requesters: an address whose requests are not accepted. Its forms and replies are
refused (intake.submit, replies.reply) and its mail is held, kept for admins to release
(portal.mail.inbound.pipeline); one function per action, each recorded in the system log."""

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kb.people import User
from portal.desk.models import BlockedRequester, Ticket
from portal.desk.tickets import valid_email
from portal.security import audit

MAX_REASON = 500
# The reason of held mail from a blocked address (InboundMail.reason, as the pipeline writes).
MAIL_REASON = "blocked sender"


class BlockError(ValueError):
    """A block that cannot be made: `code` names why (the doors word it)."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def normalised(email: str | None) -> str:
    return (email or "").strip().lower()[:254]


def is_blocked(session: Session, email: str | None) -> bool:
    """Whether requests from this address (any case) are refused."""
    email = normalised(email)
    if not email:
        return False
    found = session.scalar(
        select(func.count()).select_from(BlockedRequester).where(BlockedRequester.email == email)
    )
    return bool(found)


def requester_of_brand(session: Session, email: str | None, brand_id: int) -> bool:
    """Whether `email` asked something of this brand: a ticket's requester address, or the
    address of the account that sent one (what agents may block from its pages)."""
    email = normalised(email)
    if not email:
        return False
    by_address = select(Ticket.id).where(
        Ticket.brand_id == brand_id, func.lower(Ticket.requester_email) == email
    )
    by_account = (
        select(Ticket.id)
        .join(User, User.id == Ticket.requester_id)
        .where(Ticket.brand_id == brand_id, func.lower(User.email) == email)
    )
    return session.scalar(select(by_address.exists() | by_account.exists())) is True


def block_of(session: Session, email: str | None) -> BlockedRequester | None:
    """The block on this address, to show when and why, or None."""
    email = normalised(email)
    return session.get(BlockedRequester, email) if email else None


def block(
    session: Session,
    actor: User,
    email: str,
    *,
    reason: str = "",
    brand_id: int | None,
    ip: str = "",
    now: datetime,
) -> BlockedRequester:
    """Refuse requests from `email` from now on (the caller commits); blocking an address
    blocked already changes nothing. BlockError("invalid_email") for a malformed address,
    ("own_address") for a staff member's own address."""
    email = normalised(email)
    if not valid_email(email):
        raise BlockError("invalid_email")
    if email == normalised(actor.email):
        raise BlockError("own_address")
    row = session.get(BlockedRequester, email)
    if row is not None:
        return row
    row = BlockedRequester(
        email=email,
        blocked_at=now,
        blocked_by_id=actor.id,
        reason=" ".join((reason or "").split())[:MAX_REASON],
    )
    session.add(row)
    audit.record(
        session,
        "requester.blocked",
        now=now,
        kind=audit.SYSTEM,
        actor=actor,
        target=f"requester:{email}"[:64],
        target_name=email,
        brand_id=brand_id,
        ip=ip,
        details={"reason": row.reason} if row.reason else None,
    )
    return row


def unblock(
    session: Session,
    actor: User,
    email: str,
    *,
    brand_id: int | None,
    ip: str = "",
    now: datetime,
) -> bool:
    """Accept requests from `email` again (the caller commits); False when it was not
    blocked. Its held mail waits for an admin's retry at /admin/mail-in."""
    row = block_of(session, email)
    if row is None:
        return False
    session.delete(row)
    audit.record(
        session,
        "requester.unblocked",
        now=now,
        kind=audit.SYSTEM,
        actor=actor,
        target=f"requester:{row.email}"[:64],
        target_name=row.email,
        brand_id=brand_id,
        ip=ip,
    )
    return True
