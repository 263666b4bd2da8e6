"""The headers that keep mail about a ticket in one thread and bring its answers back to it.

- From: the address the ticket came in on (its first mail's), while that address belongs to the
  ticket's brand: an organization's own address is answered from itself. Else the brand's
  support address (the lowest id without an organization), else MAIL_FROM
  (portal.mail.compose.sender_for writes it, with a display name).
- Reply-To: the From address with the ticket's signed tag (portal.mail.tokens.reply_address):
  an answer comes back to this ticket even when its subject and headers were lost.
- In-Reply-To and References: the Message-IDs of the mails that came in for the ticket and of
  those sent (or still to send) about it, oldest first; mail given up never arrived and is left
  out. References keeps the first (the thread's root) and the newest ones; In-Reply-To names
  the newest mail from the customer's side, else the newest we sent.

An id taken from a received mail is used only when it has the form <left@right> in printable
ASCII and a modest length: no header grows a line break or an encoded word from it.
"""

import re
from datetime import datetime
from email.headerregistry import Address
from email.utils import parseaddr
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.desk.models import OutboxMail, Ticket
from portal.mail import tokens
from portal.mail.models import InboundMail, MailAddress

# References: the thread's first id and its newest ones, this many in all (a mail client needs
# the root and the parent; the header stays a few lines long).
MAX_REFERENCES = 10
# <left@right>: printable ASCII without spaces, "<", ">" or a second "@".
_MESSAGE_ID = re.compile(r"^<[!-;=?A-~]+@[!-;=?A-~]+>$")
MAX_MESSAGE_ID_LENGTH = 250


class ThreadMail(NamedTuple):
    """A mail of a ticket's thread."""

    message_id: str
    at: datetime  # received, or written to the outbox
    inbound: bool  # came in from outside (the customer's side)


def ticket_address(session: Session, ticket: Ticket) -> MailAddress | None:
    """The address mail about `ticket` is written from (see above); None for MAIL_FROM."""
    first_address_id = session.scalar(
        select(InboundMail.address_id)
        .where(InboundMail.ticket_id == ticket.id)
        .order_by(InboundMail.id)
        .limit(1)
    )
    if first_address_id is not None:
        came_in_on = session.get(MailAddress, first_address_id)
        if came_in_on is not None and came_in_on.brand_id == ticket.brand_id:
            return came_in_on
    return session.scalar(
        select(MailAddress)
        .where(MailAddress.brand_id == ticket.brand_id, MailAddress.customer_org_id.is_(None))
        .order_by(MailAddress.id)
        .limit(1)
    )


def thread_headers(session: Session, ticket: Ticket, sender: str, secret_key: str) -> dict:
    """Reply-To (`sender`, the mail's From, with the ticket's signed tag), and In-Reply-To and
    References when the ticket has mail before this one."""
    name, address = parseaddr(sender)
    tagged = tokens.reply_address(address, secret_key, ticket.id)
    headers = {"Reply-To": str(Address(display_name=name, addr_spec=tagged))}
    thread = thread_mails(session, ticket.id)
    if thread:
        headers["In-Reply-To"] = in_reply_to(thread)
        headers["References"] = " ".join(references(thread))
    return headers


def thread_mails(session: Session, ticket_id: int) -> list[ThreadMail]:
    """The ticket's mails with a usable Message-ID, oldest first, each id once."""
    inbound = session.execute(
        select(InboundMail.received_at, InboundMail.message_id)
        .where(InboundMail.ticket_id == ticket_id, InboundMail.message_id.is_not(None))
        .order_by(InboundMail.id)
    )
    outbound = session.execute(
        select(OutboxMail.created_at, OutboxMail.message_id)
        .where(OutboxMail.ticket_id == ticket_id, OutboxMail.failed_at.is_(None))
        .order_by(OutboxMail.id)
    )
    mails = [ThreadMail(message_id, at, True) for at, message_id in inbound]
    mails += [ThreadMail(message_id, at, False) for at, message_id in outbound]
    seen, thread = set(), []
    for mail in sorted(mails, key=lambda mail: mail.at):  # stable: rows keep their id order
        if usable_message_id(mail.message_id) and mail.message_id not in seen:
            seen.add(mail.message_id)
            thread.append(mail)
    return thread


def references(thread: list[ThreadMail]) -> list[str]:
    """The ids for References: all of them, or the first and the newest up to MAX_REFERENCES."""
    ids = [mail.message_id for mail in thread]
    if len(ids) <= MAX_REFERENCES:
        return ids
    return [ids[0], *ids[-(MAX_REFERENCES - 1) :]]


def in_reply_to(thread: list[ThreadMail]) -> str:
    """The id this mail answers: the newest that came in, else the newest sent."""
    received = [mail for mail in thread if mail.inbound]
    return (received or thread)[-1].message_id


def usable_message_id(message_id: str | None) -> bool:
    """True for a <left@right> id that can go into a header as it is."""
    return (
        message_id is not None
        and len(message_id) <= MAX_MESSAGE_ID_LENGTH
        and _MESSAGE_ID.match(message_id) is not None
    )
