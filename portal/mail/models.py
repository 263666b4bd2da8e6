"""Mail channel tables: support addresses, connected IMAP mailboxes, every message received
(its raw bytes first, then what became of it) and the addresses that bounce.

They share kb's declarative Base (one metadata, one migration history), like portal.desk.models.
"""

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, deferred, mapped_column

from kb.clock import now
from kb.db import Base, UTCDateTime

# What became of a received message (InboundMail.status).
RECEIVED = "received"  # stored, not processed yet (or a crash came between): picked up again
DONE = "done"  # a ticket or a reply was made (ticket_id, ticket_message_id)
IGNORED = "ignored"  # an auto-reply, a list, a bounce or our own mail: nothing made, on purpose
DUPLICATE = "duplicate"  # a Message-ID already taken
HELD = "held"  # the sender's rate limit: kept, not made into tickets; an admin may retry
FAILED = "failed"  # could not be processed: kept, shown to admins with the reason and a retry
INBOUND_STATES = (RECEIVED, DONE, IGNORED, DUPLICATE, HELD, FAILED)


class MailAddress(Base):
    """An address Portal receives mail at: a brand's support address (`customer_org_id` None),
    or an organization's own address whose mail lands in its private requests. Mail to it
    opens tickets through `form_id` (the brand's first listed form when None)."""

    __tablename__ = "mail_addresses"

    id: Mapped[int] = mapped_column(primary_key=True)
    address: Mapped[str] = mapped_column(String(254), unique=True)  # lower case
    brand_id: Mapped[int] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"), index=True)
    form_id: Mapped[int | None] = mapped_column(ForeignKey("inquiry_forms.id", ondelete="SET NULL"))
    customer_org_id: Mapped[int | None] = mapped_column(
        ForeignKey("customer_organizations.id", ondelete="CASCADE")
    )
    name: Mapped[str] = mapped_column(String(200), default="")  # shown in From (else the brand's)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)


class Mailbox(Base):
    """An existing mailbox fetched over IMAP every minute for one address of a brand. Messages
    are taken by UID above `last_uid` while the folder's UIDVALIDITY stays the same."""

    __tablename__ = "mailboxes"

    id: Mapped[int] = mapped_column(primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"), index=True)
    address_id: Mapped[int | None] = mapped_column(
        ForeignKey("mail_addresses.id", ondelete="SET NULL")
    )
    host: Mapped[str] = mapped_column(String(253))
    port: Mapped[int] = mapped_column(Integer, default=993)
    security: Mapped[str] = mapped_column(String(8), default="ssl")  # ssl, starttls, none
    username: Mapped[str] = mapped_column(String(254))
    # Sealed with a key from SECRET_KEY (portal.security.sealing); never shown, logged or sent.
    password: Mapped[str] = mapped_column(String(500))
    folder: Mapped[str] = mapped_column(String(200), default="INBOX")
    # Where taken messages go; None: they stay, flagged \Seen and $PortalImported.
    move_to: Mapped[str | None] = mapped_column(String(200))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # IMAP's UIDVALIDITY and UIDs are unsigned 32-bit numbers: past a signed INTEGER's range.
    uidvalidity: Mapped[int | None] = mapped_column(BigInteger)
    last_uid: Mapped[int] = mapped_column(BigInteger, default=0)
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)


class InboundMail(Base):
    """One message as received, by the listener or from a mailbox: its raw bytes are committed
    before the sender is told it was accepted; processing follows and may be retried."""

    __tablename__ = "inbound_mails"
    __table_args__ = (
        Index("ix_inbound_mails_status", "status", "id"),
        Index("ix_inbound_mails_sender_received", "sender", "received_at"),
        Index("ix_inbound_mails_message_id", "message_id"),
        Index("ix_inbound_mails_ticket", "ticket_id", "id"),  # a ticket's thread
        UniqueConstraint("mailbox_id", "uidvalidity", "uid"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(8))  # smtp, imap
    mailbox_id: Mapped[int | None] = mapped_column(ForeignKey("mailboxes.id", ondelete="SET NULL"))
    uidvalidity: Mapped[int | None] = mapped_column(BigInteger)
    uid: Mapped[int | None] = mapped_column(BigInteger)
    envelope_from: Mapped[str] = mapped_column(String(254), default="")
    recipients: Mapped[list] = mapped_column(JSON, default=list)  # RCPT TO, lower case
    raw: Mapped[bytes] = deferred(mapped_column(LargeBinary))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    # Filled by processing:
    message_id: Mapped[str | None] = mapped_column(String(255))  # the header, or sha256:<hex>
    sender: Mapped[str | None] = mapped_column(String(254))  # From's address, lower case
    subject: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16), default=RECEIVED)
    reason: Mapped[str | None] = mapped_column(String(500))  # why ignored, held or failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    brand_id: Mapped[int | None] = mapped_column(ForeignKey("brands.id", ondelete="SET NULL"))
    address_id: Mapped[int | None] = mapped_column(
        ForeignKey("mail_addresses.id", ondelete="SET NULL")
    )
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"))
    # The message it became (no foreign key: ticket_messages names its mail, a cycle).
    ticket_message_id: Mapped[int | None] = mapped_column(Integer)


class BouncingAddress(Base):
    """An address mail to which came back (a delivery status notification): agents see it."""

    __tablename__ = "bouncing_addresses"

    email: Mapped[str] = mapped_column(String(254), primary_key=True)  # lower case
    reason: Mapped[str] = mapped_column(String(500), default="")
    bounced_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    count: Mapped[int] = mapped_column(Integer, default=1)


class MailTemplate(Base):
    """A brand's words around every mail it sends in one locale: a header line under its name,
    its logo or none, and a footer (plain text, a few Markdown marks; escaped when shown)."""

    __tablename__ = "mail_templates"
    __table_args__ = (UniqueConstraint("brand_id", "locale"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"))
    locale: Mapped[str] = mapped_column(String(16))
    header: Mapped[str] = mapped_column(String(200), default="")
    show_logo: Mapped[bool] = mapped_column(Boolean, default=True)
    footer: Mapped[str] = mapped_column(String(2000), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
