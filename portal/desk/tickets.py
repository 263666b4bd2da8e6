"""Tickets seen from the customer side: per-locale texts, email addresses, private links, the
public conversation, and how often suggestions deflect a request. Submitting a request is
portal.desk.intake; replying (through a private link too) is portal.desk.replies."""

import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.desk.models import SuggestionClick, Ticket, TicketMessage

MAX_DESCRIPTION = 20_000
_EMAIL = re.compile(r"^[^@\s<>\"',;]{1,64}@[^@\s<>\"',;]+\.[^@\s<>\"',;]{2,}$")
LINK_SALT = "ticket-link"


def localized(texts: dict | None, locale: str, fallback: str) -> str:
    """A per-locale text in this locale, else the brand's default, else any."""
    texts = texts or {}
    return texts.get(locale) or texts.get(fallback) or next(iter(texts.values()), "")


def valid_email(value: str) -> bool:
    return bool(_EMAIL.match(value or "")) and len(value) <= 254


# -- private links --------------------------------------------------------------------------


def link_token(secret_key: str, ticket: Ticket) -> str:
    return URLSafeSerializer(secret_key, salt=LINK_SALT).dumps([ticket.id, ticket.link_secret])


def ticket_for_link(session: Session, secret_key: str, ticket_id: int, token: str | None):
    """The ticket when the token was made for exactly this ticket and is not revoked; else
    None (the caller answers 404, as for an unknown id)."""
    if not token or len(token) > 300:
        return None
    try:
        signed_id, secret = URLSafeSerializer(secret_key, salt=LINK_SALT).loads(token)
    except (BadSignature, ValueError, TypeError):
        return None
    if signed_id != ticket_id or not isinstance(secret, str):
        return None
    ticket = session.get(Ticket, ticket_id)
    if ticket is None or not secrets.compare_digest(ticket.link_secret, secret):
        return None
    if ticket.deleted_at is not None:  # in the trash: gone for the customer
        return None
    return ticket


def revoke_links(session: Session, ticket: Ticket) -> None:
    ticket.link_secret = secrets.token_hex(16)


def public_messages(session: Session, ticket: Ticket) -> list[TicketMessage]:
    """What the requester may read: never internal notes."""
    return list(
        session.scalars(
            select(TicketMessage)
            .where(TicketMessage.ticket_id == ticket.id, TicketMessage.public.is_(True))
            .order_by(TicketMessage.id)
        )
    )


@dataclass
class Deflection:
    """Forms in which a suggested article was opened, and how many of them sent no ticket."""

    opened: int
    no_ticket: int

    @property
    def rate(self) -> float:
        return self.no_ticket / self.opened if self.opened else 0.0


def deflection(
    session: Session, brand_ids: list[int] | None, since: datetime, brand_id: int | None = None
) -> Deflection:
    """Counted per form render (submission key): opening three suggestions counts once."""
    keys = (
        select(SuggestionClick.submission_key.label("key"))
        .where(SuggestionClick.created_at >= since)
        .distinct()
    )
    if brand_ids is not None:
        keys = keys.where(SuggestionClick.brand_id.in_(brand_ids))
    if brand_id is not None:
        keys = keys.where(SuggestionClick.brand_id == brand_id)
    keys = keys.subquery()
    opened, followed = session.execute(
        select(func.count(keys.c.key), func.count(Ticket.id)).outerjoin(
            Ticket, Ticket.submission_key == keys.c.key
        )
    ).one()
    return Deflection(opened=int(opened), no_ticket=int(opened) - int(followed))
