"""Which of our addresses a message is for: the listener refuses the others at RCPT time."""

from email.utils import parseaddr

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.mail import tokens
from portal.mail.models import MailAddress


def known_address(session: Session, address: str) -> MailAddress | None:
    """The support address `address` is (a `+tag` form of it too), or None."""
    base = tokens.base_address(address or "")
    if "@" not in base or len(base) > 254:
        return None
    return session.scalar(select(MailAddress).where(MailAddress.address == base))


def our_addresses(session: Session) -> set[str]:
    """Every address we send from or receive at (mail from them is our own, looping back)."""
    ours = set(session.scalars(select(MailAddress.address)))
    ours.add(parseaddr(current_app.config["MAIL_FROM"])[1].lower())
    return ours
