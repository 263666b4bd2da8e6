"""Customer notifications: the mail a requester gets as their request moves (received, an
agent's reply, a reminder while it waits for them, solved, closed), per brand switched on or
off and worded per language.

The one place these mails are decided. `on_event` (called by portal.desk.automation.events for
every ticket event) sends "received" for a new request (web form or mail: the mail channel
makes no ticket of auto-replies, bounces, lists or our own mail, so none of those is ever
answered, RFC 3834) and "solved" / "closed" as the status becomes one of them (once per
ticket in one chain of events); `remind` sends the "pending reminder" (the schedule bot's
"remind" action); `mail_reply` mails an agent's public reply in the brand's wording.

An agent's reply is the conversation itself: it is always mailed, whatever the switch says
(as in Zendesk, where the reply is the mail); a brand only words what surrounds it, and the
reply's text is in every wording (where {{last_reply}} stands, else after the text).

Wording: the brand's template in the recipient's language, else the one in the brand's
default language, else the built-in text (mail/request_received, mail/agent_reply, ...:
exactly the mail sent before notifications were configurable). Everything goes through
portal.mail.requesters.mail_about_request: the recipient's language and link, the outbox, the
ticket's thread; automatic ones say so (Auto-Submitted). A requester whose address is
blocked, or a request in the trash, gets nothing.
"""

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from kb.models import Brand
from kb.people import User
from portal.desk import blocking, placeholders
from portal.desk.automation import events
from portal.desk.automation.models import CustomerNotification, NotificationTemplate
from portal.desk.models import OutboxMail, Ticket, TicketMessage
from portal.mail import outbox, requesters
from portal.security import audit

RECEIVED = "received"
AGENT_REPLIED = "agent_replied"
PENDING_REMINDER = "pending_reminder"
SOLVED = "solved"
CLOSED = "closed"
KINDS = (RECEIVED, AGENT_REPLIED, PENDING_REMINDER, SOLVED, CLOSED)
# What a brand that configured nothing sends: what Portal sent before (received, replies).
DEFAULT_ON = frozenset({RECEIVED, AGENT_REPLIED})
# An agent's reply always reaches the requester: only its wording is the brand's.
ALWAYS_ON = frozenset({AGENT_REPLIED})
# The built-in mail of each kind (portal/templates/mail/<name>.txt and .html).
BUILT_IN = {
    RECEIVED: "request_received",
    AGENT_REPLIED: "agent_reply",
    PENDING_REMINDER: "request_pending_reminder",
    SOLVED: "request_solved",
    CLOSED: "request_closed",
}
CONFIGURED = "customer_notification"  # the mail template wearing a brand's own wording
# Who wrote it (RFC 3834): "received" answers the customer's message; an agent's reply is
# a person's; the others Portal sends on its own.
TICKET_CREATED, STATUS_CHANGED = events.TICKET_CREATED, events.STATUS_CHANGED
_SENT = "portal.notifications.sent"  # session.info: (kind, ticket id, moment) already mailed
AUTO_SUBMITTED = {
    RECEIVED: outbox.AUTO_REPLIED,
    AGENT_REPLIED: None,
    PENDING_REMINDER: outbox.AUTO_GENERATED,
    SOLVED: outbox.AUTO_GENERATED,
    CLOSED: outbox.AUTO_GENERATED,
}
MAX_SUBJECT = 200
MAX_BODY = 5000


# -- settings ---------------------------------------------------------------------------------


def is_on(session: Session, brand_id: int, kind: str) -> bool:
    """Whether the brand sends `kind` (its switch, else the default)."""
    if kind in ALWAYS_ON:
        return True
    enabled = session.scalar(
        select(CustomerNotification.enabled).where(
            CustomerNotification.brand_id == brand_id, CustomerNotification.kind == kind
        )
    )
    return kind in DEFAULT_ON if enabled is None else bool(enabled)


@dataclass
class Setting:
    """One kind of notification of a brand, as its admin page shows it."""

    kind: str
    enabled: bool
    templates: dict[str, NotificationTemplate]  # locale -> the brand's wording

    @property
    def always_on(self) -> bool:
        return self.kind in ALWAYS_ON


def settings(session: Session, brand: Brand) -> list[Setting]:
    """Each kind of notification of `brand`: on or off, and its wordings per language."""
    switches = {
        row.kind: row.enabled
        for row in session.scalars(
            select(CustomerNotification).where(CustomerNotification.brand_id == brand.id)
        )
    }
    templates: dict[str, dict[str, NotificationTemplate]] = {}
    for row in session.scalars(
        select(NotificationTemplate).where(NotificationTemplate.brand_id == brand.id)
    ):
        templates.setdefault(row.kind, {})[row.locale] = row
    return [
        Setting(
            kind,
            kind in ALWAYS_ON or switches.get(kind, kind in DEFAULT_ON),
            templates.get(kind, {}),
        )
        for kind in KINDS
    ]


def template(
    session: Session, brand_id: int, kind: str, locale: str
) -> NotificationTemplate | None:
    """The brand's own wording of `kind` in `locale`, if it has one."""
    return session.scalar(
        select(NotificationTemplate).where(
            NotificationTemplate.brand_id == brand_id,
            NotificationTemplate.kind == kind,
            NotificationTemplate.locale == locale,
        )
    )


def template_for(session: Session, brand: Brand, kind: str, locale: str):
    """The wording used for a recipient reading `locale`: the brand's in that language, else
    in its default language, else None (the built-in text)."""
    found = template(session, brand.id, kind, locale)
    if found is None and locale != brand.default_locale:
        found = template(session, brand.id, kind, brand.default_locale)
    return found


def switch(
    session: Session,
    brand: Brand,
    kind: str,
    enabled: bool,
    *,
    actor: User,
    now: datetime,
    ip: str = "",
) -> bool:
    """Turn `kind` on or off for `brand` (audited); whether it changed. An agent's reply is
    always mailed: its switch stays on (ValueError)."""
    if kind not in KINDS:
        raise ValueError(f"unknown notification {kind!r}")
    if kind in ALWAYS_ON and not enabled:
        raise ValueError("an agent's reply is always mailed")
    if is_on(session, brand.id, kind) == enabled:
        return False
    row = session.scalar(
        select(CustomerNotification).where(
            CustomerNotification.brand_id == brand.id, CustomerNotification.kind == kind
        )
    )
    if row is None:
        row = CustomerNotification(brand_id=brand.id, kind=kind)
        session.add(row)
    row.enabled, row.updated_at = enabled, now
    _audit(session, brand, actor, now, ip, {"kind": kind, "enabled": enabled})
    return True


@dataclass
class TemplateValues:
    """A wording as typed, trimmed, with error codes per field ("required", "too_long",
    "unknown_placeholder": the unknown ones in `unknown`). Both empty: the built-in text."""

    subject: str = ""
    body: str = ""
    errors: dict[str, list[str]] = field(default_factory=dict)
    unknown: dict[str, list[str]] = field(default_factory=dict)  # field -> placeholders as typed

    @property
    def empty(self) -> bool:
        return not self.subject and not self.body


def check_template(subject: str | None, body: str | None) -> TemplateValues:
    """The wording's subject (one line) and body, checked: both or neither, within the
    lengths, and only placeholders a notification knows (placeholders.NOTIFICATION_NAMES)."""
    values = TemplateValues(" ".join((subject or "").split()), (body or "").strip())
    for name, text, limit in (
        ("subject", values.subject, MAX_SUBJECT),
        ("body", values.body, MAX_BODY),
    ):
        if not text and not values.empty:
            values.errors.setdefault(name, []).append("required")
        if len(text) > limit:
            values.errors.setdefault(name, []).append("too_long")
        found = placeholders.unknown(text, placeholders.NOTIFICATION_NAMES)
        if found:
            values.errors.setdefault(name, []).append("unknown_placeholder")
            values.unknown[name] = found
    return values


def change_template(
    session: Session,
    brand: Brand,
    kind: str,
    locale: str,
    values: TemplateValues,
    *,
    actor: User,
    now: datetime,
    ip: str = "",
) -> NotificationTemplate | None:
    """Save the brand's wording of `kind` in `locale` (checked values; both empty: removed,
    the built-in text is used again); audited when it changed."""
    if values.errors or kind not in KINDS or locale not in (brand.locales or []):
        raise ValueError("unchecked notification template")
    row = template(session, brand.id, kind, locale)
    if values.empty:
        if row is not None:
            session.delete(row)
            _audit(
                session, brand, actor, now, ip, {"kind": kind, "locale": locale, "removed": True}
            )
        return None
    if row is None:
        row = NotificationTemplate(brand_id=brand.id, kind=kind, locale=locale, subject="", body="")
        session.add(row)
    changed = [n for n in ("subject", "body") if getattr(row, n) != getattr(values, n)]
    row.subject, row.body, row.updated_at = values.subject, values.body, now
    if changed:
        _audit(session, brand, actor, now, ip, {"kind": kind, "locale": locale, "changed": changed})
    return row


def _audit(session, brand, actor, now, ip, details) -> None:
    audit.record(
        session,
        "automation.notification_changed",
        now=now,
        actor=actor,
        target=f"brand:{brand.id}",
        target_name=brand.name,
        brand_id=brand.id,
        ip=ip,
        details=details,
    )


# -- wording ----------------------------------------------------------------------------------


@dataclass
class Wording:
    """What to render: mail/<template> with `context` (the ticket and its link are added by
    whoever renders it)."""

    template: str
    context: dict


def word(
    kind: str,
    wording,
    *,
    ticket,
    brand: Brand,
    link: str,
    last_reply: str = "",
    agent_name: str = "",
    message=None,
) -> Wording:
    """The mail of `kind` about `ticket`: the built-in one when `wording` (anything with
    subject and body: a NotificationTemplate, TemplateValues) is None, else the brand's text
    with its placeholders filled. An agent's reply (`message`) is always in it."""
    if wording is None:
        return Wording(BUILT_IN[kind], {"message": message, "agent_name": agent_name})
    reply = message.body if message is not None else last_reply
    values = {
        "requester_name": ticket.requester_name or "",
        "requester_email": ticket.requester_email or "",
        "ticket_id": str(ticket.id),
        "ticket_subject": ticket.subject or "",
        "subject": ticket.subject or "",
        "ticket_link": link,
        "last_reply": reply or "",
        "brand_name": brand.name,
        "agent_name": agent_name or "",
    }
    body = placeholders.fill_values(wording.body, values)
    # The reply is the conversation: where the text places it, else after the text.
    placed = "last_reply" in placeholders.used(wording.body)
    return Wording(
        CONFIGURED,
        {
            "notification_subject": placeholders.fill_values(wording.subject, values),
            "notification_body": body,
            "reply": message.body if message is not None and not placed else None,
        },
    )


def _last_reply(session: Session, ticket) -> TicketMessage | None:
    """The newest public message from the desk's side."""
    return session.scalar(
        select(TicketMessage)
        .where(
            TicketMessage.ticket_id == ticket.id,
            TicketMessage.public.is_(True),
            TicketMessage.from_requester.is_(False),
        )
        .order_by(TicketMessage.id.desc())
        .limit(1)
    )


def last_reply_of(session: Session, ticket) -> tuple[str, str]:
    """(the text, the author's name) of the ticket's newest public reply from the desk."""
    found = _last_reply(session, ticket) if getattr(ticket, "id", None) else None
    return (found.body, found.author_name or "") if found is not None else ("", "")


# -- sending ----------------------------------------------------------------------------------


def _queue(
    session: Session,
    kind: str,
    ticket: Ticket,
    to: str,
    brand: Brand,
    *,
    message: TicketMessage | None = None,
    agent_name: str = "",
) -> OutboxMail:
    account = requesters.recipient_account(session, ticket, to)
    locale = requesters.recipient_locale(brand, ticket, account)
    private = (
        ticket.requester_id is None
        and to.strip().lower() == (ticket.requester_email or "").strip().lower()
    )
    link = requesters.request_link(brand, ticket, locale, private=private)
    last_reply, last_author = ("", "") if message is not None else last_reply_of(session, ticket)
    wording = word(
        kind,
        template_for(session, brand, kind, locale),
        ticket=ticket,
        brand=brand,
        link=link,
        last_reply=last_reply,
        agent_name=agent_name or last_author,
        message=message,
    )
    return requesters.mail_about_request(
        session,
        wording.template,
        ticket,
        to,
        brand=brand,
        auto_submitted=AUTO_SUBMITTED[kind],
        **wording.context,
    )


def _notify(session: Session, kind: str, ticket: Ticket) -> bool:
    """Mail the requester `kind` when the brand has it on, the request is not in the trash
    and its requester's address is not blocked; whether a mail was queued."""
    to = ticket.requester_email
    if not to or ticket.deleted_at is not None or blocking.is_blocked(session, to):
        return False
    if not is_on(session, ticket.brand_id, kind):
        return False
    _queue(session, kind, ticket, to, session.get(Brand, ticket.brand_id))
    return True


def mail_reply(
    session: Session, ticket: Ticket, message: TicketMessage, agent_name: str, to: str, brand
) -> OutboxMail:
    """An agent's public reply mailed to `to` (the requester or someone the request is shared
    with), in the brand's wording of "agent replied" for their language, or the built-in one.
    Always sent: the reply is the conversation (portal.desk.replies calls this)."""
    assert message.public, "an internal note is never mailed"
    return _queue(session, AGENT_REPLIED, ticket, to, brand, message=message, agent_name=agent_name)


# Received (a ticket made), solved and closed (a status change); replies mail themselves.
LISTENS_TO = (events.TICKET_CREATED, events.STATUS_CHANGED)


def on_event(session: Session, event) -> None:
    """Queue the requester's notification for this event, when the brand has it switched on:
    "received" for a new request (not for the follow-up a reply to a closed request opens:
    the reply is that conversation's), "solved" or "closed" as the status becomes one of
    them, once per ticket in one chain of events (a rule setting it back and forth mails
    once: the chain's events share their moment)."""
    ticket = event.ticket
    if event.kind == TICKET_CREATED:
        if ticket.follow_up_of_id is None:
            _notify(session, RECEIVED, ticket)
        return
    if event.kind == STATUS_CHANGED and event.new in (SOLVED, CLOSED):
        # One chain of events shares its moment (each reaction acts with the event's `now`).
        sent = session.info.setdefault(_SENT, set())
        key = (event.new, ticket.id, event.now)
        if key not in sent and _notify(session, event.new, ticket):
            sent.add(key)


def remind(session: Session, ticket, now) -> bool:
    """Mail the requester the brand's "pending reminder" (the schedule bot's "remind" action),
    when the brand has it switched on; whether a mail was queued (in the caller's
    transaction)."""
    return _notify(session, PENDING_REMINDER, ticket)
