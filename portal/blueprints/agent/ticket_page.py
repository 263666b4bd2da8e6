"""What an agent's ticket page shows, decided here rather than in agent/ticket.html: which rows
of answers and details appear and how, whether the description opens the conversation, how
each message arrived, read receipts, which scheduled replies the agent may change, the choices
the reply and properties boxes start with, which errors belong to which box, whether "Take it"
is offered, and which of the ticket's people bounce mail."""

from dataclasses import dataclass, field
from datetime import datetime

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.desk.models import ScheduledReply, Ticket, TicketFile, TicketMessage, TicketShare
from portal.mail.models import BouncingAddress

ARTICLE_KEYS = ("article_id", "referrer_article_id")
# Shown above the conversation instead (not_joined), not among the collected details.
MAIL_NOT_JOINED = "mail_not_joined"


@dataclass
class Answer:
    label: str
    hidden: bool
    value: object


@dataclass
class Detail:
    """One collected detail: a label and a value, or "key: value" pairs for a mapping; or the
    referring article (`article`, `url`)."""

    label: str
    value: object = ""
    pairs: list[tuple[str, object]] | None = None
    url: str | None = None


@dataclass
class ScheduledRow:
    """A scheduled reply as the page shows it; `own`: the agent's, so they may change it or
    send it early (with what they typed after a refusal, and the errors, in `draft`)."""

    row: ScheduledReply
    own: bool
    author_name: str
    files: list[TicketFile]
    body: str
    status: str
    delay: str | None
    errors: dict = field(default_factory=dict)


def answers(ticket: Ticket) -> list[Answer]:
    return [
        Answer(
            label=a.get("label"),
            hidden=a.get("type") == "hidden",
            value=a.get("display")
            if a.get("display") not in (None, "")
            else (a.get("value") if a.get("value") is not None else ""),
        )
        for a in ticket.answers or []
    ]


def details(ticket: Ticket, brand, referring_article) -> list[Detail]:
    """The collected details worth showing, by key (as `dictsort` orders them)."""
    labels = {"user_agent": _l("User agent"), "hidden": _l("Hidden fields")}
    rows = []
    items = sorted((ticket.details or {}).items(), key=lambda kv: kv[0].lower())
    for key, value in items:
        if value is None or value == "" or value == {} or key == MAIL_NOT_JOINED:
            continue
        if key in ARTICLE_KEYS:
            if referring_article is not None:
                rows.append(_article_row(brand, referring_article))
            continue
        if isinstance(value, dict):
            pairs = sorted(value.items(), key=lambda kv: kv[0].lower())
            rows.append(Detail(label=labels.get(key, key), pairs=pairs))
        else:
            rows.append(Detail(label=labels.get(key, key), value=value))
    return rows


def _article_row(brand, article) -> Detail:
    url = url_for(
        "helpcenter.article",
        brand=brand.slug,
        locale=article.locale,
        id_slug=f"{article.article_id}-{article.slug}",
    )
    return Detail(label=_l("Referring article"), value=article.title, url=url)


def shows_description(ticket: Ticket, timeline) -> bool:
    """The description, unless the conversation starts with it (tickets made by forms do)."""
    first = timeline[0].message if timeline and timeline[0].message else None
    return not (first and first.from_requester and first.body == ticket.description)


def arrival(message: TicketMessage) -> str:
    """How a message arrived: "email", "portal" (the requester or someone the request is
    shared with, on the web) or "agent" (an agent's reply or note)."""
    if message.channel == "email":
        return "email"
    return "portal" if message.from_requester else "agent"


def arrivals(timeline) -> dict[int, str]:
    """message id -> how it arrived (arrival), for every message of the timeline."""
    return {e.message.id: arrival(e.message) for e in timeline if e.message}


@dataclass
class NotJoined:
    """The ticket was opened by a mail that named another ticket but could not join it."""

    ticket_id: int
    reason: str | None  # "not_participant": the sender takes no part in that ticket


def not_joined(ticket: Ticket) -> NotJoined | None:
    if not ticket.related_ticket_id:
        return None
    found = (ticket.details or {}).get(MAIL_NOT_JOINED)
    reason = found.get("reason") if isinstance(found, dict) else None
    return NotJoined(ticket_id=ticket.related_ticket_id, reason=reason)


def follow_up_of(session: Session, ticket: Ticket) -> Ticket | None:
    """The (closed) ticket this one follows up, if any."""
    return session.get(Ticket, ticket.follow_up_of_id) if ticket.follow_up_of_id else None


def shared_with(session: Session, ticket: Ticket) -> list[str]:
    """The addresses the request is shared with (its CCs), in the order they were added."""
    return list(
        session.scalars(
            select(TicketShare.email)
            .where(TicketShare.ticket_id == ticket.id)
            .order_by(TicketShare.id)
        )
    )


def bouncing(session: Session, emails) -> dict[str, str]:
    """address (lower case) -> why mail to it came back, for those of `emails` that bounce:
    one query for all of the ticket's people."""
    wanted = {e.strip().lower() for e in emails if e}
    if not wanted:
        return {}
    rows = session.execute(
        select(BouncingAddress.email, BouncingAddress.reason).where(
            BouncingAddress.email.in_(sorted(wanted))
        )
    )
    return dict(rows.all())


def read_receipts(ticket: Ticket, timeline) -> dict[int, datetime | None]:
    """For each public agent message: when the requester saw it (None: not yet)."""
    seen = ticket.requester_seen_at
    found = {}
    for entry in timeline:
        m: TicketMessage | None = entry.message
        if m is not None and m.public and not m.from_requester:
            found[m.id] = seen if seen and seen >= m.created_at else None
    return found


def newest_message_id(timeline) -> int:
    return max((e.message.id for e in timeline if e.message), default=0)


def scheduled_rows(waiting, me_id: int, authors: dict, files: dict, edit, errors) -> list:
    rows = []
    for r in waiting:
        editing = edit if edit and edit["id"] == r.id else None
        rows.append(
            ScheduledRow(
                row=r,
                own=r.author_id == me_id,
                author_name=authors.get(r.author_id, "?"),
                files=files.get(r.id, []),
                body=editing["body"] if editing else r.body,
                status=editing["status"] if editing else r.status,
                delay=editing["delay"] if editing else None,
                errors=_scheduled_errors(errors) if editing else {},
            )
        )
    return rows


def _scheduled_errors(errors: dict) -> dict:
    return {
        "body": errors.get("scheduled_body"),
        "time": errors.get("scheduled_delay") or errors.get("scheduled_status"),
    }


def reply_errors(errors: dict, properties) -> dict:
    """The errors of the reply box: a status error belongs to the properties box when that
    was the form sent."""
    found = {k: errors.get(k) for k in ("body", "attachments", "delay", "new_message")}
    found["status"] = errors.get("status") if not properties else None
    return found


def current_properties(ticket: Ticket, tags: list[str], properties) -> dict:
    """What the properties box shows: what was sent after a refusal, else the ticket's."""
    if properties:
        return properties
    return {
        "status": ticket.status,
        "priority": ticket.priority,
        "type": ticket.type or "",
        "group": str(ticket.group_id) if ticket.group_id else "",
        "assignee": str(ticket.assignee_id) if ticket.assignee_id else "",
        "tags": ", ".join(tags),
    }


def property_errors(errors: dict, properties) -> dict:
    keys = ("priority", "type", "group_id", "assignee_id", "tags")
    found = {k: errors.get(k) for k in keys}
    found["status"] = errors.get("status") if properties else None
    return found


def requester_url(ticket: Ticket) -> str:
    if ticket.requester_id:
        return url_for("agent.customer", user_id=ticket.requester_id)
    return url_for("agent.customer_by_email", email=ticket.requester_email)
