"""One ticket as agents work it: replies and internal notes, property changes, the timeline
(messages and events in order) and who asked. Agent-side only: nothing here is for customers."""

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from kb.models import Article, Translation
from kb.people import CustomerOrganization, User, display_name_for_customers
from portal.desk import assignment, placeholders
from portal.desk.actors import is_bot
from portal.desk.automation import events as automation
from portal.desk.models import (
    TICKET_PRIORITIES,
    TICKET_STATUSES,
    TICKET_TYPES,
    AgentGroup,
    Ticket,
    TicketEvent,
    TicketFile,
    TicketMessage,
    TicketShare,
    TicketTag,
)
from portal.desk.tickets import MAX_DESCRIPTION
from portal.desk.trash import live
from portal.security import roles

MAX_TAGS = 20
MAX_TAG_LENGTH = 64
OTHER_REQUESTS = 10
# Events that only say a message was added: the message itself stands in the timeline.
MESSAGE_EVENTS = ("reply", "note")


# Changes that need tickets.assign; the others (status, priority, type, tags) need tickets.reply.
ASSIGNING = ("assignee_id", "group_id")


class PropertyError(ValueError):
    """A change the agent asked for that cannot be made: `field` and a `code` for the message."""

    def __init__(self, field: str, code: str, found: tuple[str, ...] = ()):
        super().__init__(f"{field}: {code}")
        self.field = field
        self.code = code
        self.found = found  # what was wrong, when the message names it


def _event(ticket, agent, kind, old, new, now) -> TicketEvent:
    return TicketEvent(
        ticket_id=ticket.id,
        actor_id=agent.id if agent is not None else None,
        # A rule or schedule (portal.desk.actors) has no account: its name stands instead.
        actor_name=agent.name[:200] if is_bot(agent) else None,
        kind=kind,
        old_value=None if old is None else str(old)[:200],
        new_value=None if new is None else str(new)[:200],
        created_at=now,
    )


# --- replies and notes ---------------------------------------------------------------------


def check_placeholders(body: str) -> None:
    """PropertyError naming the placeholders a public reply has that are not ours: refused
    before anything is sent, rather than reaching customers raw."""
    found = placeholders.unknown(body)
    if found:
        raise PropertyError("body", "unknown_placeholder", tuple(found))


def clean_body(body: str | None) -> str:
    """A reply's or note's text, trimmed; PropertyError when empty or too long."""
    body = (body or "").strip()
    if not body:
        raise PropertyError("body", "required")
    if len(body) > MAX_DESCRIPTION:
        raise PropertyError("body", "too_long")
    return body


def add_reply(
    session: Session,
    ticket: Ticket,
    agent: User,
    body: str,
    public: bool,
    status: str | None,
    now: datetime,
) -> TicketMessage:
    """A public reply (the ticket becomes `status`, pending unless chosen otherwise) or an
    internal note (status unchanged unless given); a public reply's placeholders are filled
    (an unknown one is refused), a note stays as typed. The caller mails public replies to
    `reply_recipients` in the same transaction. ValueError for an empty or too long body.
    The message row only: portal.desk.replies is its one caller, and the one that mails."""
    body = clean_body(body)
    if public:
        check_placeholders(body)
        body = placeholders.fill(body, ticket, agent)
    if public and not status:
        status = "pending"
    if status and status not in TICKET_STATUSES:
        raise PropertyError("status", "invalid")
    message = TicketMessage(
        ticket_id=ticket.id,
        author_id=agent.id,
        author_name=display_name_for_customers(agent),
        author_email=agent.email or None,
        from_requester=False,
        public=public,
        body=body,
        channel="web",
        created_at=now,
    )
    session.add(message)
    session.flush()
    session.add(_event(ticket, agent, "reply" if public else "note", None, message.id, now))
    if public:
        ticket.agent_replied_at = now  # what the schedule bot counts from
    if status and status != ticket.status:
        change_properties(session, ticket, agent, {"status": status}, now)
    ticket.updated_at = now
    session.flush()
    return message


def reply_recipients(session: Session, ticket: Ticket) -> list[str]:
    """Who a public reply is mailed to: the requester, then everyone it is shared with (once
    each, whatever the case of the address)."""
    seen, found = set(), []
    shares = session.scalars(
        select(TicketShare.email).where(TicketShare.ticket_id == ticket.id).order_by(TicketShare.id)
    )
    for email in [ticket.requester_email, *shares]:
        if email and email.lower() not in seen:
            seen.add(email.lower())
            found.append(email)
    return found


# --- properties ----------------------------------------------------------------------------


def parse_tags(text: str) -> list[str]:
    """Comma separated, lower-cased, blanks and repeats dropped; PropertyError past the caps."""
    tags = []
    for part in (text or "").split(","):
        tag = " ".join(part.split()).lower()
        if not tag or tag in tags:
            continue
        if len(tag) > MAX_TAG_LENGTH:
            raise PropertyError("tags", "tag_too_long")
        tags.append(tag)
    if len(tags) > MAX_TAGS:
        raise PropertyError("tags", "too_many_tags")
    return tags


def tags_of(session: Session, ticket: Ticket) -> list[str]:
    return list(
        session.scalars(
            select(TicketTag.tag).where(TicketTag.ticket_id == ticket.id).order_by(TicketTag.tag)
        )
    )


def _name(user: User | None) -> str | None:
    return None if user is None else (user.nickname or user.name)


def _solver_takes_unassigned(session: Session, ticket: Ticket, agent: User | None, changes):
    """Solving a ticket nobody has assigns it to whoever solves it (as Zendesk does), so
    their "Solved" figure counts it; an agent who may not be assigned in the brand (or a
    rule) leaves it as it is."""
    status = changes.get("status", ticket.status)
    if agent is None or is_bot(agent) or status != "solved" or ticket.status == "solved":
        return changes
    if changes.get("assignee_id", ticket.assignee_id) is not None:
        return changes
    if agent.id not in {u.id for u in assignment.candidates(session, ticket.brand_id)}:
        return changes
    return {**changes, "assignee_id": agent.id}


def change_properties(
    session: Session, ticket: Ticket, agent: User, changes: dict, now: datetime
) -> list[TicketEvent]:
    """Apply `changes` (status, priority, type, group_id, assignee_id: an id, None or "next"
    for the group's round-robin, tags: a list) and record one event per change, with who and
    when. Solving an unassigned ticket assigns it to `agent`. Checks everything first:
    PropertyError changes nothing."""
    held = roles.held_on(session, agent, ticket.brand_id) if changes else frozenset()
    for name in changes:
        if ("tickets.assign" if name in ASSIGNING else "tickets.reply") not in held:
            raise PropertyError(name, "change_not_allowed")
    if "status" in changes and changes["status"] not in TICKET_STATUSES:
        raise PropertyError("status", "invalid")
    if "priority" in changes and changes["priority"] not in TICKET_PRIORITIES:
        raise PropertyError("priority", "invalid")
    if "type" in changes and changes["type"] not in (None, *TICKET_TYPES):
        raise PropertyError("type", "invalid")
    group = None
    if changes.get("group_id") is not None:
        group = session.get(AgentGroup, changes["group_id"])
        if group is None or group.brand_id != ticket.brand_id:
            raise PropertyError("group_id", "invalid")
    if changes.get("assignee_id") == "next":
        group_id = changes["group_id"] if "group_id" in changes else ticket.group_id
        if not group_id:
            raise PropertyError("assignee_id", "no_group")
        chosen = assignment.next_in_group(session, group_id)
        if chosen is None:
            raise PropertyError("assignee_id", "nobody_receives")
        changes = {**changes, "assignee_id": chosen.id}
    changes = _solver_takes_unassigned(session, ticket, agent, changes)
    assignee = None
    if changes.get("assignee_id") is not None:
        assignee = session.get(User, changes["assignee_id"])
        allowed = {u.id for u in assignment.candidates(session, ticket.brand_id)}
        if assignee is None or assignee.id not in allowed:
            raise PropertyError("assignee_id", "not_in_brand")
    if "tags" in changes:
        tags = changes["tags"]
        if len(tags) > MAX_TAGS or any(len(t) > MAX_TAG_LENGTH for t in tags):
            raise PropertyError("tags", "too_many_tags")

    events = []
    for kind in ("status", "priority", "type"):
        if kind in changes and changes[kind] != getattr(ticket, kind):
            events.append(_event(ticket, agent, kind, getattr(ticket, kind), changes[kind], now))
            setattr(ticket, kind, changes[kind])
            if kind == "status":
                ticket.solved_at = now if changes[kind] == "solved" else None
                ticket.status_changed_at = now
    if "group_id" in changes and changes["group_id"] != ticket.group_id:
        before = session.get(AgentGroup, ticket.group_id) if ticket.group_id else None
        events.append(
            _event(ticket, agent, "group", before and before.name, group and group.name, now)
        )
        ticket.group_id = changes["group_id"]
    if "assignee_id" in changes and changes["assignee_id"] != ticket.assignee_id:
        before = session.get(User, ticket.assignee_id) if ticket.assignee_id else None
        events.append(_event(ticket, agent, "assignee", _name(before), _name(assignee), now))
        ticket.assignee_id = changes["assignee_id"]
    if "tags" in changes:
        old = set(tags_of(session, ticket))
        new = set(changes["tags"])
        if old - new:
            session.execute(
                delete(TicketTag).where(
                    TicketTag.ticket_id == ticket.id, TicketTag.tag.in_(old - new)
                )
            )
        for tag in sorted(old - new):
            events.append(_event(ticket, agent, "tag_removed", tag, None, now))
        for tag in sorted(new - old):
            session.add(TicketTag(ticket_id=ticket.id, tag=tag))
            events.append(_event(ticket, agent, "tag_added", None, tag, now))
    if events:
        ticket.updated_at = now
    session.add_all(events)
    session.flush()
    _tell_automation(session, ticket, agent, events, now)
    return events


def _tell_automation(session, ticket, agent, events, now) -> None:
    """The status and assignment changes, as events for the automation (one each)."""
    kinds = {e.kind: e for e in events}
    if "status" in kinds:
        changed = kinds["status"]
        automation.emit(
            session,
            automation.Event(
                automation.STATUS_CHANGED,
                ticket,
                agent,
                now,
                old=changed.old_value,
                new=changed.new_value,
            ),
        )
    if "assignee" in kinds or "group" in kinds:
        automation.emit(
            session,
            automation.Event(
                automation.ASSIGNED,
                ticket,
                agent,
                now,
                new={"assignee_id": ticket.assignee_id, "group_id": ticket.group_id},
            ),
        )


def take(session: Session, agent: User, ticket: Ticket, now: datetime) -> list[TicketEvent]:
    """Assign the ticket to `agent` themself; PropertyError when they may not be assigned in
    its brand."""
    return change_properties(session, ticket, agent, {"assignee_id": agent.id}, now)


# --- reading -------------------------------------------------------------------------------


@dataclass
class Entry:
    """One line of the agent's timeline: a message (public or internal) or an event."""

    at: datetime
    message: TicketMessage | None = None
    event: TicketEvent | None = None
    actor_name: str | None = None

    @property
    def is_note(self) -> bool:
        return self.message is not None and not self.message.public


def timeline(session: Session, ticket: Ticket) -> list[Entry]:
    """Every message (internal notes included) and every change, oldest first."""
    messages = session.scalars(
        select(TicketMessage).where(TicketMessage.ticket_id == ticket.id)
    ).all()
    events = session.scalars(
        select(TicketEvent).where(
            TicketEvent.ticket_id == ticket.id, TicketEvent.kind.not_in(MESSAGE_EVENTS)
        )
    ).all()
    actor_ids = {e.actor_id for e in events if e.actor_id}
    names = {
        u.id: u.nickname or u.name
        for u in session.scalars(select(User).where(User.id.in_(actor_ids)))
    }
    entries = [Entry(at=m.created_at, message=m) for m in messages]
    entries += [
        Entry(at=e.created_at, event=e, actor_name=names.get(e.actor_id) or e.actor_name)
        for e in events
    ]
    # Same instant: the message first (a reply's status change follows it), then by id.
    entries.sort(key=lambda e: (e.at, 0 if e.message else 1, (e.message or e.event).id))
    return entries


def files_by_message(session: Session, ticket: Ticket) -> dict[int | None, list[TicketFile]]:
    """The ticket's files by the message they came with (None: sent with the form)."""
    found: dict[int | None, list[TicketFile]] = {}
    rows = session.scalars(
        select(TicketFile).where(TicketFile.ticket_id == ticket.id).order_by(TicketFile.id)
    )
    for row in rows:
        found.setdefault(row.message_id, []).append(row)
    return found


def referring_article(session: Session, ticket: Ticket) -> Translation | None:
    """The help-center article the request came from, in the ticket's language when it has
    it; None when none was recorded, or it is gone or of another brand."""
    details = ticket.details or {}
    article_id = details.get("referrer_article_id") or details.get("article_id")
    if not isinstance(article_id, int):
        return None
    found = session.scalars(
        select(Translation)
        .join(Article, Article.id == Translation.article_id)
        .where(Translation.article_id == article_id, Article.brand_id == ticket.brand_id)
        .order_by(Translation.id)
    ).all()
    return next((t for t in found if t.locale == ticket.locale), found[0] if found else None)


@dataclass
class RequesterProfile:
    name: str
    email: str
    organization: str | None
    language: str
    other_requests: list[Ticket] = field(default_factory=list)


def requester_profile(
    session: Session, ticket: Ticket, brand_ids: list[int] | None
) -> RequesterProfile:
    """Who asked, and their latest other requests in the brands the agent handles
    (`brand_ids` None: every brand)."""
    user = session.get(User, ticket.requester_id) if ticket.requester_id else None
    org_id = ticket.customer_org_id or (user.customer_org_id if user else None)
    org = session.get(CustomerOrganization, org_id) if org_id else None
    same_person = (
        Ticket.requester_id == ticket.requester_id
        if ticket.requester_id
        else Ticket.requester_email == ticket.requester_email
    )
    stmt = (
        select(Ticket)
        .where(same_person, Ticket.id != ticket.id, live())
        .order_by(Ticket.created_at.desc(), Ticket.id.desc())
        .limit(OTHER_REQUESTS)
    )
    if brand_ids is not None:
        stmt = stmt.where(Ticket.brand_id.in_(brand_ids))
    return RequesterProfile(
        name=user.name if user else ticket.requester_name,
        email=user.email if user else ticket.requester_email,
        organization=org.name if org else None,
        language=(user.locale if user and user.locale else None) or ticket.locale,
        other_requests=list(session.scalars(stmt)),
    )
