"""Help-desk tables: inquiry forms and their fields, tickets, messages, files and the mail outbox.

They share kb's declarative Base (one metadata, one migration history); kb never imports them.
"""

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kb.clock import now
from kb.db import Base, UTCDateTime

FIELD_TYPES = (
    "text",  # short text
    "textarea",  # long text
    "email",
    "number",
    "date",
    "dropdown",
    "multiselect",
    "checkbox",  # checkboxes: several of the options, or one yes/no box without options
    "radio",
    "file",
    "hidden",  # filled from a query parameter of the form's URL (device, app version, ...)
)
CHOICE_TYPES = ("dropdown", "multiselect", "checkbox", "radio")
FORM_AUDIENCES = ("everyone", "signed_in", "organizations")
TICKET_STATUSES = ("new", "open", "pending", "on_hold", "solved", "closed")
TICKET_PRIORITIES = ("low", "normal", "high", "urgent")
TICKET_TYPES = ("question", "incident", "problem", "task")


class InquiryForm(Base):
    """A brand's form for one kind of request. Subject and description are always asked."""

    __tablename__ = "inquiry_forms"

    id: Mapped[int] = mapped_column(primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    listed: Mapped[bool] = mapped_column(Boolean, default=True)
    # Who may use it: room for customer accounts (signed-in customers, chosen organizations).
    audience: Mapped[str] = mapped_column(String(16), default="everyone")
    organization_ids: Mapped[list] = mapped_column(JSON, default=list)
    names: Mapped[dict] = mapped_column(JSON, default=dict)  # locale -> name
    descriptions: Mapped[dict] = mapped_column(JSON, default=dict)  # locale -> text
    version: Mapped[int] = mapped_column(Integer, default=1)  # bumped by every change
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now, onupdate=now)

    fields: Mapped[list["FormField"]] = relationship(
        back_populates="form",
        cascade="all, delete-orphan",
        order_by="FormField.position, FormField.id",
    )


class FormField(Base):
    """One question of a form, with its validation and an optional condition on another field."""

    __tablename__ = "form_fields"
    __table_args__ = (UniqueConstraint("form_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("inquiry_forms.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(64))  # the input's name: f_<key>
    type: Mapped[str] = mapped_column(String(16))
    position: Mapped[int] = mapped_column(Integer, default=0)
    required: Mapped[bool] = mapped_column(Boolean, default=False)
    labels: Mapped[dict] = mapped_column(JSON, default=dict)  # locale -> label
    help: Mapped[dict] = mapped_column(JSON, default=dict)  # locale -> help text
    # options: [{"value": "ios", "labels": {"en": "iPhone", "ko": "아이폰"}}, ...]
    options: Mapped[list] = mapped_column(JSON, default=list)
    min_length: Mapped[int | None] = mapped_column(Integer)
    max_length: Mapped[int | None] = mapped_column(Integer)
    pattern: Mapped[str | None] = mapped_column(String(200))
    min_value: Mapped[float | None]
    max_value: Mapped[float | None]
    # Shown only when the field with this key has this value (or includes it, for lists).
    condition_key: Mapped[str | None] = mapped_column(String(64))
    condition_value: Mapped[str | None] = mapped_column(String(200))
    query_param: Mapped[str | None] = mapped_column(String(64))  # hidden fields

    form: Mapped[InquiryForm] = relationship(back_populates="fields")


class Ticket(Base):
    """A request: what was submitted, kept as submitted (labels and answers), whoever asked."""

    __tablename__ = "tickets"
    __table_args__ = (
        Index("ix_tickets_brand_status", "brand_id", "status"),
        Index("ix_tickets_requester_email", "requester_email"),
        # "My requests" and "my organization's requests", newest activity first (keyset).
        Index("ix_tickets_requester_brand_updated", "requester_id", "brand_id", "updated_at", "id"),
        Index("ix_tickets_org_brand_updated", "customer_org_id", "brand_id", "updated_at", "id"),
        # Agents' queues: the counts read only tickets still worked on, from this index alone;
        # the pages walk the newest first.
        # (the filters' columns too, so that filtered counts need no table row either)
        Index(
            "ix_tickets_queue_counts",
            "status",
            "brand_id",
            "assignee_id",
            "group_id",
            "solved_at",
            "priority",
            "customer_org_id",
            "requester_email",
        ),
        Index("ix_tickets_assignee_updated", "assignee_id", "updated_at", "id"),
        Index("ix_tickets_priority_updated", "priority", "updated_at", "id"),
        Index("ix_tickets_updated", "updated_at", "id"),
        Index("ix_tickets_deleted", "deleted_at", "id"),  # the trash, and its daily purge
        # The export: one brand's tickets created in a date range, in keyset batches.
        Index("ix_tickets_brand_created", "brand_id", "created_at", "id"),
        # The schedule bot: a brand's tickets in a status, waiting since before a moment.
        Index("ix_tickets_brand_status_changed", "brand_id", "status", "status_changed_at"),
        Index("ix_tickets_brand_status_requester", "brand_id", "status", "requester_replied_at"),
        Index("ix_tickets_brand_status_agent", "brand_id", "status", "agent_replied_at"),
        Index("ix_tickets_brand_status_updated", "brand_id", "status", "updated_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"))
    locale: Mapped[str] = mapped_column(String(16))
    form_id: Mapped[int | None] = mapped_column(
        ForeignKey("inquiry_forms.id", ondelete="SET NULL"), index=True
    )
    form_version: Mapped[int | None] = mapped_column(Integer)
    form_name: Mapped[str] = mapped_column(String(200), default="")
    subject: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="new")
    channel: Mapped[str] = mapped_column(String(16), default="web")
    requester_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    requester_name: Mapped[str] = mapped_column(String(200))
    requester_email: Mapped[str] = mapped_column(String(254))
    # [{"key", "label", "type", "value", "display"}], as the requester saw and answered them.
    answers: Mapped[list] = mapped_column(JSON, default=list)
    # Collected: hidden fields, user agent, the article the requester came from.
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    # One render of a form = one key = at most one ticket (double clicks, retries).
    submission_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    # The requester's organization when sent; its members see the request when the
    # organization shares requests, or when the requester shared it with the organization.
    customer_org_id: Mapped[int | None] = mapped_column(
        ForeignKey("customer_organizations.id", ondelete="SET NULL"), index=True
    )
    shared_with_org: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    solved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    follow_up_of_id: Mapped[int | None] = mapped_column(
        ForeignKey("tickets.id", ondelete="SET NULL")
    )
    # A mail that quoted another ticket but could not join it (its sender takes no part in
    # it): the new ticket names that one, and why (details["mail_not_joined"]).
    related_ticket_id: Mapped[int | None] = mapped_column(
        ForeignKey("tickets.id", ondelete="SET NULL")
    )
    # Agents' side: who handles it, how urgent, what kind (tags in ticket_tags).
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    priority: Mapped[str] = mapped_column(String(8), default="normal", server_default="normal")
    type: Mapped[str | None] = mapped_column(String(16))
    # Read receipts: when the requester last opened the request page (agents see it).
    requester_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The group of agents the ticket is for (assignment rules or an agent's choice).
    group_id: Mapped[int | None] = mapped_column(
        ForeignKey("agent_groups.id", ondelete="SET NULL"), index=True
    )
    satisfaction: Mapped[str | None] = mapped_column(String(8))  # "good" or "bad"
    satisfaction_comment: Mapped[str | None] = mapped_column(Text)
    # Part of the private link's signature; a new value revokes every link sent so far.
    link_secret: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now, onupdate=now)
    # In the trash (portal.desk.trash): gone from every list, purged 30 days later.
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deleted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # What the schedule bot counts from (kept by the desk's operations): the last status
    # change (or creation), the last public message from the customer side (the first one
    # counts), the last public reply of an agent (None before the first).
    status_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    requester_replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    agent_replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    messages: Mapped[list["TicketMessage"]] = relationship(
        back_populates="ticket", cascade="all, delete-orphan", order_by="TicketMessage.id"
    )
    files: Mapped[list["TicketFile"]] = relationship(
        back_populates="ticket", cascade="all, delete-orphan", order_by="TicketFile.id"
    )


class TicketMessage(Base):
    """One message of a ticket's conversation (public, or an agent's internal note)."""

    __tablename__ = "ticket_messages"
    __table_args__ = (Index("uq_ticket_messages_mail_key", "mail_key", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    author_name: Mapped[str] = mapped_column(String(200))
    author_email: Mapped[str | None] = mapped_column(String(254))
    from_requester: Mapped[bool] = mapped_column(Boolean, default=True)
    public: Mapped[bool] = mapped_column(Boolean, default=True)
    body: Mapped[str] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(String(16), default="web")  # web, email
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    # A message that came by mail: the mail (its .eml), one message per mail (`mail_key`, from
    # its Message-ID), and how it found this ticket (in_reply_to, references, address_token,
    # subject_token; None for the mail that opened it).
    inbound_mail_id: Mapped[int | None] = mapped_column(
        ForeignKey("inbound_mails.id", ondelete="SET NULL")
    )
    mail_key: Mapped[str | None] = mapped_column(String(64))
    joined_by: Mapped[str | None] = mapped_column(String(16))
    # The language detected in a message from the customer side ("ko"; None: too short to
    # tell, or an agent's), by portal.desk.translation.
    language: Mapped[str | None] = mapped_column(String(16))

    ticket: Mapped[Ticket] = relationship(back_populates="messages")


class TicketFile(Base):
    """A file sent with a ticket or a message. Before the form is sent it is staged: kept under
    the form's submission key (so a re-shown form keeps it) with no ticket yet."""

    __tablename__ = "ticket_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(32), unique=True)  # names a staged file in forms
    brand_id: Mapped[int] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"))
    ticket_id: Mapped[int | None] = mapped_column(
        ForeignKey("tickets.id", ondelete="CASCADE"), index=True
    )
    message_id: Mapped[int | None] = mapped_column(
        ForeignKey("ticket_messages.id", ondelete="CASCADE")
    )
    submission_key: Mapped[str | None] = mapped_column(String(64), index=True)
    field_key: Mapped[str | None] = mapped_column(String(64))
    # "<submission key>:<field key>:<sha256>" while staged: the same file sent twice with one
    # form (a double click with an attachment) is kept once.
    stage_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    # Its bytes were removed (the row stays, so the conversation can say so): when, and why
    # ("retention": the brand's attachment retention, portal.desk.retention).
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    removed_reason: Mapped[str | None] = mapped_column(String(32))

    ticket: Mapped[Ticket | None] = relationship(back_populates="files")


class OutboxMail(Base):
    """A mail to send, written in the same transaction as the change that causes it."""

    __tablename__ = "mail_outbox"
    __table_args__ = (
        Index("ix_mail_outbox_due", "sent_at", "next_attempt_at"),
        Index("ix_mail_outbox_ticket", "ticket_id", "id"),  # a ticket's thread (threading.py)
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    brand_id: Mapped[int | None] = mapped_column(ForeignKey("brands.id", ondelete="SET NULL"))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"))
    message_id: Mapped[str] = mapped_column(String(255), unique=True)  # the Message-ID header
    sender: Mapped[str] = mapped_column(String(254))
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(255))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str] = mapped_column(Text, default="")
    headers: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)  # a sender has it
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # gave up: shown to admins
    last_error: Mapped[str | None] = mapped_column(String(500))


class SuggestionClick(Base):
    """A suggested article opened from a form (deflection: no ticket followed with that key)."""

    __tablename__ = "suggestion_clicks"

    id: Mapped[int] = mapped_column(primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"), index=True)
    form_id: Mapped[int | None] = mapped_column(ForeignKey("inquiry_forms.id", ondelete="SET NULL"))
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    submission_key: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)


class TicketShare(Base):
    """A person a request is shared with (CC), by email; linked to their account once known."""

    __tablename__ = "ticket_shares"
    __table_args__ = (
        UniqueConstraint("ticket_id", "email"),
        Index("ix_ticket_shares_email", "email"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(254))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)


class AccountToken(Base):
    """A single-use, expiring token mailed to a person: confirm an address, reset a password.
    Only its SHA-256 is stored."""

    __tablename__ = "account_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(16))  # confirm, reset, email
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    new_email: Mapped[str | None] = mapped_column(String(254))  # purpose "email"
    brand_id: Mapped[int | None] = mapped_column(ForeignKey("brands.id", ondelete="SET NULL"))
    locale: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LoginSession(Base):
    """One sign-in of one browser: the session and remember-me cookies carry its random key,
    the server keeps only the key's SHA-256. Signing out deletes the row, so a copied cookie
    stops working; a password change deletes every row of the account."""

    __tablename__ = "login_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class SsoTokenUse(Base):
    """A single sign-on token (its jti) that was used once, per brand: a replay is refused."""

    __tablename__ = "sso_token_uses"
    __table_args__ = (UniqueConstraint("brand_id", "jti"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"))
    jti: Mapped[str] = mapped_column(String(200))
    used_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)


class TicketTag(Base):
    """A tag on a ticket (lower case), one row each so queues can filter by it."""

    __tablename__ = "ticket_tags"
    __table_args__ = (Index("ix_ticket_tags_tag", "tag", "ticket_id"),)

    ticket_id: Mapped[int] = mapped_column(
        ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(64), primary_key=True)


class TicketEvent(Base):
    """Something that happened to a ticket, with who and when: a status, priority, type,
    assignee or tag change, a reply or a note (the agent's timeline; never shown to customers)."""

    __tablename__ = "ticket_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Who acted when no account did: a rule or schedule of the automation ("rule Refunds").
    actor_name: Mapped[str | None] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))  # status, priority, type, assignee, tags, ...
    old_value: Mapped[str | None] = mapped_column(String(200))
    new_value: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)


class CannedResponse(Base):
    """A reply agents insert with a few keystrokes: personal (owner set) or for a whole brand.
    Placeholders such as {{requester_name}} and {{ticket_id}} are filled when inserted."""

    __tablename__ = "canned_responses"

    id: Mapped[int] = mapped_column(primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"), index=True)
    owner_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now, onupdate=now)


class TicketPresence(Base):
    """Which agent has a ticket open, and whether they are typing a reply (collision
    detection): refreshed by the page while it is open, stale after a minute."""

    __tablename__ = "ticket_presence"

    ticket_id: Mapped[int] = mapped_column(
        ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    typing: Mapped[bool] = mapped_column(Boolean, default=False)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)


class AgentGroup(Base):
    """Agents of one brand who share its tickets: round-robin hands the group's new tickets to
    its members who receive tickets, each in turn."""

    __tablename__ = "agent_groups"
    __table_args__ = (UniqueConstraint("brand_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    # Round-robin's turn: the member who got the last ticket (the next one goes to the member
    # after them by id). Changed only while the row is locked, see portal.desk.assignment.
    last_assignee_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)


class AgentGroupMember(Base):
    __tablename__ = "agent_group_members"

    group_id: Mapped[int] = mapped_column(
        ForeignKey("agent_groups.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class RoutingRule(Base):
    """Who new tickets go to: of a whole brand (form_id None) or of one of its forms (that
    rule wins). An agent (assignee_id), a group (its round-robin), or both."""

    __tablename__ = "routing_rules"
    __table_args__ = (UniqueConstraint("brand_id", "form_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"))
    form_id: Mapped[int | None] = mapped_column(ForeignKey("inquiry_forms.id", ondelete="CASCADE"))
    # form_id or 0: unique per brand, where a NULL form_id would not be.
    form_key: Mapped[int] = mapped_column(Integer, default=0)
    group_id: Mapped[int | None] = mapped_column(ForeignKey("agent_groups.id", ondelete="CASCADE"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))


class ScheduledReply(Base):
    """A public reply waiting for its time (the undo window): editable and cancellable until
    the scheduler sends it, once (sent_at is set by a conditional UPDATE)."""

    __tablename__ = "scheduled_replies"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # the ticket's after
    send_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now, onupdate=now)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The submission key its files are staged under (portal.desk.files) until it is sent.
    files_key: Mapped[str] = mapped_column(String(64))
    message_id: Mapped[int | None] = mapped_column(
        ForeignKey("ticket_messages.id", ondelete="SET NULL")
    )


class TicketCount(Base):
    """How many tickets still being worked on (new, open, pending, on hold) each combination of
    brand, status, priority, assignee and group holds, as a sum of rows: the database's
    triggers on tickets (portal.desk.ticket_counts) add +1/-1 rows in the same transaction as
    the change, and readers fold the rows together from time to time. The queue counts read
    these few rows instead of every ticket."""

    __tablename__ = "ticket_counts"

    id: Mapped[int] = mapped_column(primary_key=True)
    brand_id: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    priority: Mapped[str] = mapped_column(String(16))
    assignee_id: Mapped[int | None] = mapped_column(Integer)
    group_id: Mapped[int | None] = mapped_column(Integer)
    n: Mapped[int] = mapped_column(Integer)


class BlockedRequester(Base):
    """An address whose requests are not accepted (portal.desk.blocking): its forms and replies
    are refused, its mail is held (kept, shown to admins)."""

    __tablename__ = "blocked_requesters"

    email: Mapped[str] = mapped_column(String(254), primary_key=True)  # lower case
    blocked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    blocked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reason: Mapped[str] = mapped_column(String(500), default="")
