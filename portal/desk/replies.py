"""Replies to a ticket, whatever the door: an agent's public reply (now or later) or internal
note, the requester's reply, and the scheduled replies that fall due.

Each action is one function taking `(session, actor, ..., now)` that does the whole of it:
rules, state, events, files (portal.desk.files.attach_staged) and the outbox
(portal.mail.requesters), in the caller's transaction (`send_due` alone commits, once per
reply, so a reply and its mail go out together). Nothing here knows HTTP. This is the only
module that mails a reply: an internal note is never mailed nor scheduled, whichever door it
comes through (the agent page, bulk actions, the scheduler, `flask mail send`, later the mail
channel and the API).
"""

import secrets
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from kb.models import Brand
from kb.people import User, display_name_for_customers
from portal.desk import agent_tickets, blocking, files, presence, scheduled_replies
from portal.desk.agent_tickets import PropertyError
from portal.desk.automation import events as automation
from portal.desk.automation import notifications
from portal.desk.customer_requests import can_reopen
from portal.desk.models import ScheduledReply, Ticket, TicketMessage
from portal.security import roles

# A refused reply: `field` and `code` name what was wrong (the doors word it).
ReplyError = PropertyError


class MessagesArrived(Exception):
    """Public messages reached the ticket after the newest one the agent had seen: shown to
    them before their reply goes out (nothing was changed)."""

    def __init__(self, messages: list[TicketMessage]):
        super().__init__(f"{len(messages)} new message(s)")
        self.messages = messages


@dataclass(frozen=True)
class Requester:
    """The customer side as a reply's author: `account`, a signed-in customer who can see the
    request (its requester or someone it is shared with), or None: the holder of the
    request's private link, who writes as its requester.

    By mail (`mail` set), the door has checked that the sender takes part in the request;
    without an account the sender is named by `email` and `name` (the requester, or a CC)."""

    account: User | None = None
    email: str | None = None
    name: str | None = None
    mail: "MailOrigin | None" = None


@dataclass(frozen=True)
class MailOrigin:
    """Where a reply by mail came from: the stored mail, its one-message key, and how it found
    the ticket (in_reply_to, references, address_token, subject_token)."""

    mail_id: int
    mail_key: str
    joined_by: str | None = None


@dataclass
class Reply:
    """What a reply became: a message added now on `ticket` (a follow-up, when a requester
    answered a closed request), or a reply waiting to go out."""

    message: TicketMessage | None = None
    scheduled: ScheduledReply | None = None
    ticket: Ticket | None = None
    follow_up: bool = field(default=False)

    @property
    def public(self) -> bool:
        return self.scheduled is not None or self.message.public


def clean_body(body: str | None) -> str:
    """A reply's text, trimmed; ReplyError ("required", "too_long") otherwise."""
    return agent_tickets.clean_body(body)


# --- agents --------------------------------------------------------------------------------


def reply(
    session: Session,
    actor: User | Requester,
    ticket: Ticket,
    body: str,
    *,
    public: bool,
    status: str | None = None,
    files_key: str | None = None,
    delay_seconds: int | None = 0,
    seen_up_to: int | None = None,
    reopen_days: int | None = None,
    now: datetime,
) -> Reply:
    """A reply to `ticket` from any door, with the files staged under `files_key`: an agent's
    public reply or internal note (`actor` is the agent), or the requester's side (`actor` is a
    Requester: always public and at once; see _requester_reply).

    An agent's public reply sets the ticket's `status` (pending unless chosen), fills its
    placeholders and is mailed to the requester and everyone the ticket is shared with; with a
    `delay_seconds` other than 0 it waits instead, as a scheduled reply holding its files (None
    or more than a day: refused). A note is added at once, never mailed nor scheduled, and
    leaves the status alone. `seen_up_to`: the newest message the agent saw; public messages
    newer than it raise MessagesArrived. ReplyError for a refused text, status or delay."""
    if isinstance(actor, Requester):
        if not public or status or delay_seconds:
            raise ValueError("a requester's reply is public, sent now, and sets no status")
        return _requester_reply(session, actor, ticket, body, files_key, now, reopen_days)
    agent = actor
    if not roles.holds(
        session, agent, "tickets.reply" if public else "tickets.note", ticket.brand_id
    ):
        raise agent_tickets.PropertyError(
            "body", "reply_not_allowed" if public else "note_not_allowed"
        )
    if seen_up_to is not None:
        arrived = presence.newer_public_messages(session, ticket.id, seen_up_to)
        if arrived:
            raise MessagesArrived(arrived)
    status = (status or "pending") if public else None
    if public and delay_seconds != 0:
        # The row holds its files by their key (a fresh one when it has none).
        key = files_key or secrets.token_hex(16)
        row = scheduled_replies.schedule(
            session, ticket, agent, body, status, delay_seconds, key, now
        )
        return Reply(scheduled=row, ticket=ticket)
    message = agent_tickets.add_reply(session, ticket, agent, body, public, status, now)
    if files_key:
        files.attach_staged(session, files_key, ticket, message, brand_id=ticket.brand_id)
    if public:
        _mail_public_reply(session, ticket, message, agent)
    kind = automation.AGENT_REPLIED if public else automation.NOTE_ADDED
    automation.emit(session, automation.Event(kind, ticket, agent, now, message=message))
    return Reply(message=message, ticket=ticket)


def change_scheduled(
    session: Session,
    agent: User,
    row: ScheduledReply,
    body: str,
    status: str,
    delay_seconds: int | None,
    now: datetime,
    *,
    keep_time: bool = False,
) -> bool:
    """New text, status or time for a reply still waiting (only its author may: the caller
    checks); False when it went out or was cancelled meanwhile. ReplyError for bad input."""
    return scheduled_replies.change(
        session, row, body, status, delay_seconds, now, keep_time=keep_time
    )


def cancel_scheduled(session: Session, agent: User, row: ScheduledReply, now: datetime) -> bool:
    """Cancel a waiting reply and its files; False when it was sent or cancelled already."""
    return scheduled_replies.cancel(session, row, agent, now)


def send_early(session: Session, agent: User, row: ScheduledReply, now: datetime) -> bool:
    """Send a waiting reply now instead of waiting (committed, with its mail); False when it
    was sent or cancelled already."""
    if not scheduled_replies.send_now(session, row, now):
        return False
    session.commit()
    send_due(session, now)
    return True


def send_due(session: Session, now: datetime) -> int:
    """Send the scheduled replies that are due, each claimed once and committed with its
    message, files and mail (the scheduler and `flask mail send` call this); how many went
    out. A reply whose author may no longer answer the ticket is dropped instead."""
    sent = 0
    for row_id in scheduled_replies.due_ids(session, now):
        claimed = scheduled_replies.claim(session, row_id, now)
        if claimed is not None and _send_claimed(session, *claimed, now):
            sent += 1
        session.commit()
    return sent


def _send_claimed(session: Session, row: ScheduledReply, ticket, agent, now: datetime) -> bool:
    """Turn a claimed reply into the public message with its files, and mail it; dropped (with
    an event) when its author is gone or its text no longer passes today's checks."""
    done = None
    if agent is not None:
        try:  # the same reply as one sent at once, from its author, with its files
            done = reply(
                session,
                agent,
                ticket,
                row.body,
                public=True,
                status=row.status,
                files_key=row.files_key,
                now=now,
            )
        except PropertyError:  # a text scheduled before today's checks (a raw placeholder)
            done = None
    if done is None:
        scheduled_replies.drop(session, row, ticket, now)
        return False
    row.message_id = done.message.id
    session.flush()
    return True


def _mail_public_reply(session: Session, ticket: Ticket, message: TicketMessage, agent: User):
    """Queue the public reply in the outbox (caller's transaction) for each recipient, each in
    their language with a link that opens for them (portal.mail.requesters)."""
    assert message.public, "an internal note is never mailed"
    brand = session.get(Brand, ticket.brand_id)
    agent_name = display_name_for_customers(agent)
    for email in agent_tickets.reply_recipients(session, ticket):
        # Worded by the brand's "agent replied" notification; the reply is always in it.
        notifications.mail_reply(session, ticket, message, agent_name, email, brand)


# --- requesters ----------------------------------------------------------------------------


def _requester_reply(
    session: Session,
    actor: Requester,
    ticket: Ticket,
    body: str,
    files_key: str | None,
    now: datetime,
    reopen_days: int | None,
) -> Reply:
    """A public reply from the customer side. A signed-in customer who can see the request,
    or a sender by mail: a request closed, or solved longer than `reopen_days` ago, gets a new
    follow-up ticket with the reply; a solved or pending one opens again. The holder of the
    request's private link writes as its requester: a solved or pending request opens again.
    ReplyError for an empty or too long text, or ("body", "requester_blocked") from an
    address that is blocked (portal.desk.blocking)."""
    body = clean_body(body)
    asked_on = ticket
    status_before = ticket.status
    author = actor.account
    writer = author.email if author is not None else actor.email or ticket.requester_email
    if blocking.is_blocked(session, writer):
        raise ReplyError("body", "requester_blocked")
    if author is None and actor.mail is None:
        message = _requester_message(ticket, body, now)
    else:
        email = author.email if author is not None else actor.email or ticket.requester_email
        name = (author.nickname or author.name) if author is not None else actor.name or email
        if not can_reopen(ticket, now, reopen_days):
            ticket = _follow_up(session, ticket, author, name, email, body, now)
        elif ticket.status in ("solved", "pending", "new"):
            ticket.status = "open" if ticket.status != "new" else "new"
            ticket.solved_at = None
        is_requester = (
            author.id == ticket.requester_id
            if author is not None and ticket.requester_id is not None
            else email.lower() == ticket.requester_email.lower()
        )
        message = TicketMessage(
            ticket_id=ticket.id,
            author_id=author.id if author is not None else None,
            author_name=name,
            author_email=email,
            from_requester=is_requester,
            public=True,
            body=body,
            channel="web",
            created_at=now,
        )
    if actor.mail is not None:
        message.channel = "email"
        message.inbound_mail_id = actor.mail.mail_id
        message.mail_key = actor.mail.mail_key
        message.joined_by = None if ticket is not asked_on else actor.mail.joined_by
        if ticket is not asked_on:
            ticket.channel = "email"
    session.add(message)
    ticket.updated_at = now
    ticket.requester_replied_at = now  # what the schedule bot counts from
    if ticket is asked_on and ticket.status != status_before:
        ticket.status_changed_at = now
    session.flush()
    if files_key:
        files.attach_staged(session, files_key, ticket, message)
    follow_up = ticket is not asked_on
    _tell_automation(session, ticket, message, status_before, follow_up, now)
    return Reply(message=message, ticket=ticket, follow_up=follow_up)


def _tell_automation(session, ticket, message, status_before, follow_up, now) -> None:
    """A customer's reply as events: a new ticket (a follow-up), or a reply, after the
    status change it made (a solved or pending request opens again)."""
    if follow_up:
        automation.emit(session, automation.Event(automation.TICKET_CREATED, ticket, None, now))
        return
    if ticket.status != status_before:
        automation.emit(
            session,
            automation.Event(
                automation.STATUS_CHANGED, ticket, None, now, old=status_before, new=ticket.status
            ),
        )
    automation.emit(
        session, automation.Event(automation.CUSTOMER_REPLIED, ticket, None, now, message=message)
    )


def system_note(session: Session, ticket: Ticket, body: str, now: datetime) -> TicketMessage:
    """An internal note written by Portal itself (what a door could not do, for agents)."""
    message = TicketMessage(
        ticket_id=ticket.id,
        author_id=None,
        author_name="Portal",
        author_email=None,
        from_requester=False,
        public=False,
        body=body[: agent_tickets.MAX_DESCRIPTION],
        channel="web",
        created_at=now,
    )
    session.add(message)
    session.flush()
    return message


def _requester_message(ticket: Ticket, body: str, now: datetime) -> TicketMessage:
    """The private link's holder's reply: in the requester's name."""
    if ticket.status in ("solved", "pending"):
        ticket.status = "open"
    return TicketMessage(
        ticket_id=ticket.id,
        author_id=ticket.requester_id,
        author_name=ticket.requester_name,
        author_email=ticket.requester_email,
        from_requester=True,
        public=True,
        body=body,
        channel="web",
        created_at=now,
    )


def _follow_up(
    session: Session,
    ticket: Ticket,
    author: User | None,
    name: str,
    email: str,
    body: str,
    now: datetime,
) -> Ticket:
    """A new request for a reply to a closed one, linked to it (by mail, from its channel)."""
    follow_up = Ticket(
        brand_id=ticket.brand_id,
        locale=ticket.locale,
        form_id=ticket.form_id,
        form_version=ticket.form_version,
        form_name=ticket.form_name,
        subject=ticket.subject[:190],
        description=body,
        status="new",
        channel="web",
        requester_id=author.id if author is not None else None,
        requester_name=author.name if author is not None else name,
        requester_email=email,
        answers=[],
        details={},
        customer_org_id=author.customer_org_id if author is not None else None,
        follow_up_of_id=ticket.id,
        link_secret=secrets.token_hex(16),
        created_at=now,
        updated_at=now,
        status_changed_at=now,
        requester_replied_at=now,
    )
    session.add(follow_up)
    session.flush()
    return follow_up
