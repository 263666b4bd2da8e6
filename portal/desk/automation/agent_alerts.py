"""Agent notifications: mail and an in-app count when something needs an agent's attention.

The core calls `on_event` for every ticket event (portal.desk.automation.events), in the
operation's transaction: a ticket assigned to an agent (or, with nobody assigned, to their
group), a customer's reply on their ticket, an internal note naming them (@mention) or on a
ticket they follow. Each becomes an AgentNotice row per agent, as they chose per kind (in the
app, by mail, both or neither); never for the agent who acted, nor for anyone who cannot see
the ticket's brand. The digest mailer (portal.mail.agent_digests) gathers an agent's unmailed
notices into one mail a minute, however many arrived.

Mentions: "@" then a colleague's name or nickname, their email address or its part before the
"@" (@Mina Park, @mina, @mina@example.com), matched without regard to case among the people who
see the brand's tickets; the longest match wins. Follows: the assignee and whoever replied or
wrote a note follow a ticket, unless they chose to stop; anyone may follow or stop by hand.
"""

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from kb.people import User
from portal.desk import assignment
from portal.desk.automation import events
from portal.desk.automation.models import (
    NOTICE_KINDS,
    AgentNotice,
    AgentNoticePreference,
    TicketFollower,
)
from portal.desk.models import AgentGroup, Ticket, TicketEvent
from portal.security import roles

_CREATED, _CUSTOMER_REPLIED, _AGENT_REPLIED = (
    events.TICKET_CREATED,
    events.CUSTOMER_REPLIED,
    events.AGENT_REPLIED,
)
_NOTE_ADDED, _ASSIGNED = events.NOTE_ADDED, events.ASSIGNED

MAX_TEXT = 500
EXCERPT = 200
PAGE_SIZE = 25
# Read notices are kept this long (the list's history), then forgotten by the digest job.
KEPT_FOR = timedelta(days=90)


# --- reacting to events -------------------------------------------------------------------------


# Assignments (also at creation), customer replies, notes; an agent's reply makes them follow.
LISTENS_TO = (
    events.TICKET_CREATED,
    events.ASSIGNED,
    events.CUSTOMER_REPLIED,
    events.AGENT_REPLIED,
    events.NOTE_ADDED,
)


def on_event(session: Session, event) -> None:
    """Tell the agents concerned by this event, as each chose in their settings."""
    ticket = event.ticket
    if ticket is None or ticket.deleted_at is not None:
        return
    actor = event.actor
    actor_id = getattr(actor, "id", None)
    if actor_id is not None and event.kind in (_AGENT_REPLIED, _NOTE_ADDED):
        _follow_automatically(session, ticket, actor_id, event.now)
    if event.kind in (_CREATED, _ASSIGNED):
        _assigned(session, event)
    elif event.kind == _CUSTOMER_REPLIED and ticket.assignee_id:
        text = _excerpt(getattr(event.message, "body", ""))
        who = getattr(event.message, "author_name", None) or ticket.requester_name
        assignee = [ticket.assignee_id]
        _notify(session, ticket, assignee, "customer_replied", event.now, actor, text, who)
    elif event.kind == _NOTE_ADDED and event.message is not None:
        text = _excerpt(event.message.body)
        named = mentioned(session, ticket.brand_id, event.message.body)
        _notify(session, ticket, named, "mentioned", event.now, actor, text)
        if not getattr(actor, "is_bot", False):  # a rule's routing note is no news
            others = [uid for uid in followers(session, ticket) if uid not in set(named)]
            _notify(session, ticket, others, "note_on_followed", event.now, actor, text)


def _assigned(session: Session, event) -> None:
    """A ticket made with an assignee or group (routing), or whose assignee or group changed
    now: its new assignee is told, else (nobody assigned) the group's members who receive
    tickets. A group changed under the same assignee tells nobody."""
    ticket = event.ticket
    if event.kind == _ASSIGNED:
        changed = set(
            session.scalars(
                select(TicketEvent.kind).where(
                    TicketEvent.ticket_id == ticket.id,
                    TicketEvent.created_at == event.now,
                    TicketEvent.kind.in_(("assignee", "group")),
                )
            )
        )
    else:
        changed = {"assignee", "group"}
    if ticket.assignee_id and "assignee" in changed:
        _follow_automatically(session, ticket, ticket.assignee_id, event.now)
        _notify(session, ticket, [ticket.assignee_id], "assigned_to_me", event.now, event.actor)
    elif not ticket.assignee_id and ticket.group_id and "group" in changed:
        group = session.get(AgentGroup, ticket.group_id)
        members = [u.id for u in assignment.receivers(session, group)] if group else []
        _notify(session, ticket, members, "assigned_to_group", event.now, event.actor)


def notify_group(session: Session, group_id: int, ticket, reason: str, now, actor=None) -> int:
    """Tell the members of a group about `ticket` (the schedule bot's "notify the group"
    action), with `reason` as the text; how many agents were told."""
    group = session.get(AgentGroup, group_id)
    if group is None or group.brand_id != ticket.brand_id or ticket.deleted_at is not None:
        return 0
    members = [u.id for u in assignment.members(session, group)]
    return _notify(session, ticket, members, "group_alert", now, actor, (reason or "").strip())


def _actor_name(actor) -> str | None:
    if actor is None:
        return None
    return (getattr(actor, "nickname", None) or actor.name or "")[:200] or None


def _excerpt(body: str | None) -> str:
    text = " ".join((body or "").split())
    return text if len(text) <= EXCERPT else text[: EXCERPT - 1] + "…"


def _notify(
    session: Session,
    ticket: Ticket,
    user_ids,
    kind: str,
    now: datetime,
    actor=None,
    text: str = "",
    actor_name: str | None = None,
) -> int:
    """One notice of `kind` for each of these agents who may see the ticket's brand, is not
    `actor`, wants it (in the app or by mail) and has not been told the same this instant (a
    rule re-assigning what routing assigned); how many were told."""
    wanted = set(user_ids) - {getattr(actor, "id", None), None}
    if not wanted:
        return 0
    recipients = set(
        session.scalars(
            select(User.id).where(
                User.id.in_(wanted), roles.holding("tickets.view", ticket.brand_id)
            )
        )
    )
    if not recipients:
        return 0
    told_already = set(
        session.scalars(
            select(AgentNotice.user_id).where(
                AgentNotice.ticket_id == ticket.id,
                AgentNotice.kind == kind,
                AgentNotice.created_at == now,
                AgentNotice.user_id.in_(recipients),
            )
        )
    )
    choices = _choices(session, recipients - told_already, kind)
    name = actor_name or _actor_name(actor)
    told = 0
    for user_id in sorted(recipients - told_already):
        by_mail, in_app = choices.get(user_id, (True, True))
        if not (by_mail or in_app):
            continue
        session.add(
            AgentNotice(
                user_id=user_id,
                ticket_id=ticket.id,
                kind=kind,
                text=(text or "")[:MAX_TEXT],
                actor_name=name,
                in_app=in_app,
                by_mail=by_mail,
                created_at=now,
            )
        )
        told += 1
    session.flush()
    return told


def _choices(session: Session, user_ids, kind: str) -> dict[int, tuple[bool, bool]]:
    """user id -> (by mail, in the app) for `kind`, for those who chose (others: both)."""
    if not user_ids:
        return {}
    rows = session.execute(
        select(
            AgentNoticePreference.user_id,
            AgentNoticePreference.by_mail,
            AgentNoticePreference.in_app,
        ).where(
            AgentNoticePreference.user_id.in_(sorted(user_ids)),
            AgentNoticePreference.kind == kind,
        )
    )
    return {uid: (mail, app) for uid, mail, app in rows}


# --- mentions -----------------------------------------------------------------------------------


def _is_word(char: str) -> bool:
    return char.isalnum() or char in "_-"


def _boundary(body: str, end: int, token: str) -> bool:
    """Whether a mention can end here: at a non-word character, or after a name in a script
    written without spaces (Korean particles follow names directly: @박미나님)."""
    if end >= len(body) or not _is_word(body[end]):
        return True
    return ord(token[-1]) >= 0x2E80


def mentioned(session: Session, brand_id: int, body: str) -> list[int]:
    """The agents of the brand (who see its tickets) that `body` mentions, by id."""
    body = body or ""
    if "@" not in body:
        return []
    tokens: dict[str, set[int]] = {}
    people = session.execute(
        select(User.id, User.name, User.nickname, User.email).where(
            roles.holding("tickets.view", brand_id)
        )
    )
    for user_id, name, nickname, email in people:
        email = (email or "").lower()
        for token in (name, nickname, email, email.partition("@")[0]):
            token = " ".join((token or "").split()).lower()
            if token:
                tokens.setdefault(token, set()).add(user_id)
    lowered = body.lower()
    found: set[int] = set()
    at = lowered.find("@")
    while at != -1:
        if at == 0 or not _is_word(lowered[at - 1]):
            rest = re.sub(r"\s+", " ", lowered[at + 1 : at + 1 + 300])
            best = None
            for token in tokens:
                if rest.startswith(token) and _boundary(rest, len(token), token):
                    if best is None or len(token) > len(best):
                        best = token
            if best is not None:
                found |= tokens[best]
        at = lowered.find("@", at + 1)
    return sorted(found)


# --- following ----------------------------------------------------------------------------------


def _follow_automatically(session: Session, ticket: Ticket, user_id: int, now) -> None:
    """The assignee and whoever writes on a ticket follow it, unless they chose not to."""
    if session.get(TicketFollower, (ticket.id, user_id)) is None:
        session.add(TicketFollower(ticket_id=ticket.id, user_id=user_id, created_at=now))
        session.flush()


def followers(session: Session, ticket: Ticket) -> list[int]:
    """Who follows the ticket: those who do (by hand, or as they replied or were assigned),
    and its assignee unless they chose to stop."""
    rows = dict(
        session.execute(
            select(TicketFollower.user_id, TicketFollower.following).where(
                TicketFollower.ticket_id == ticket.id
            )
        ).all()
    )
    found = {uid for uid, following in rows.items() if following}
    if ticket.assignee_id and ticket.assignee_id not in rows:
        found.add(ticket.assignee_id)
    return sorted(found)


def is_following(session: Session, user: User, ticket: Ticket) -> bool:
    return user.id in followers(session, ticket)


def set_following(session: Session, user: User, ticket: Ticket, following: bool, now) -> bool:
    """Follow the ticket or stop (the agent's choice, kept over the automatic one); whether
    anything changed."""
    before = is_following(session, user, ticket)
    row = session.get(TicketFollower, (ticket.id, user.id))
    if row is None:
        row = TicketFollower(ticket_id=ticket.id, user_id=user.id, created_at=now)
        session.add(row)
    row.following, row.chosen = following, True
    session.flush()
    return before != following


# --- reading and marking ------------------------------------------------------------------------


def _visible(user: User, brand_ids: list[int] | None):
    """Conditions on AgentNotice joined to Ticket: this agent's in-app notices, on live
    tickets of brands they see (`brand_ids` None: every brand)."""
    conditions = [
        AgentNotice.user_id == user.id,
        AgentNotice.in_app.is_(True),
        Ticket.deleted_at.is_(None),
    ]
    if brand_ids is not None:
        conditions.append(Ticket.brand_id.in_(brand_ids))
    return conditions


def unread_count(session: Session, user: User, brand_ids: list[int] | None) -> int:
    """How many of the agent's notices they have not read (the badge)."""
    return session.scalar(
        select(func.count(AgentNotice.id))
        .join(Ticket, Ticket.id == AgentNotice.ticket_id)
        .where(*_visible(user, brand_ids), AgentNotice.read_at.is_(None))
    )


@dataclass
class NoticeRow:
    notice: AgentNotice
    ticket: Ticket


def notices(
    session: Session, user: User, brand_ids: list[int] | None, page: int = 1
) -> tuple[list[NoticeRow], bool]:
    """One page of the agent's notices, newest first, and whether another page follows."""
    page = max(page, 1)
    rows = session.execute(
        select(AgentNotice, Ticket)
        .join(Ticket, Ticket.id == AgentNotice.ticket_id)
        .where(*_visible(user, brand_ids))
        .order_by(AgentNotice.created_at.desc(), AgentNotice.id.desc())
        .offset((page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE + 1)
    ).all()
    found = [NoticeRow(notice, ticket) for notice, ticket in rows[:PAGE_SIZE]]
    return found, len(rows) > PAGE_SIZE


def mark_all_read(session: Session, user: User, now: datetime) -> int:
    """Mark every unread notice of the agent read; how many."""
    done = session.execute(
        update(AgentNotice)
        .where(AgentNotice.user_id == user.id, AgentNotice.read_at.is_(None))
        .values(read_at=now)
        .execution_options(synchronize_session=False)
    )
    return done.rowcount


def mark_ticket_read(session: Session, user_id: int, ticket_id: int, now: datetime) -> int:
    """The agent opened the ticket: its notices are read (and no longer worth mailing)."""
    done = session.execute(
        update(AgentNotice)
        .where(
            AgentNotice.user_id == user_id,
            AgentNotice.read_at.is_(None),
            AgentNotice.ticket_id == ticket_id,
        )
        .values(read_at=now)
        .execution_options(synchronize_session=False)
    )
    return done.rowcount


# --- choices ------------------------------------------------------------------------------------


def preferences(session: Session, user: User) -> dict[str, tuple[bool, bool]]:
    """kind -> (by mail, in the app), for every kind (unchosen: both)."""
    rows = session.execute(
        select(
            AgentNoticePreference.kind,
            AgentNoticePreference.by_mail,
            AgentNoticePreference.in_app,
        ).where(AgentNoticePreference.user_id == user.id)
    )
    chosen = {kind: (mail, app) for kind, mail, app in rows}
    return {kind: chosen.get(kind, (True, True)) for kind in NOTICE_KINDS}


def save_preferences(session: Session, user: User, choices: dict[str, tuple[bool, bool]]) -> bool:
    """Keep the agent's choice per kind (kind -> (by mail, in the app)); unknown kinds are
    ignored. Whether anything changed."""
    before = preferences(session, user)
    changed = False
    for kind in NOTICE_KINDS:
        if kind not in choices:
            continue
        by_mail, in_app = (bool(v) for v in choices[kind])
        if before[kind] == (by_mail, in_app):
            continue
        row = session.get(AgentNoticePreference, (user.id, kind))
        if row is None:
            row = AgentNoticePreference(user_id=user.id, kind=kind)
            session.add(row)
        row.by_mail, row.in_app = by_mail, in_app
        changed = True
    session.flush()
    return changed


# --- the digest ---------------------------------------------------------------------------------


def agents_with_mail_due(session: Session) -> list[int]:
    """The agents who have notices waiting for a digest."""
    return list(
        session.scalars(
            select(AgentNotice.user_id)
            .where(AgentNotice.by_mail.is_(True), AgentNotice.mailed_at.is_(None))
            .distinct()
            .order_by(AgentNotice.user_id)
        )
    )


def claim_digest(session: Session, user: User, now: datetime) -> list[NoticeRow]:
    """The agent's unmailed notices for one digest, marked mailed (caller's transaction; the
    caller queues the mail in it): those still on tickets they see, not read in the app
    meanwhile. Claimed by a conditional update, so two runs never mail the same notice."""
    rows = session.execute(
        select(AgentNotice, Ticket)
        .join(Ticket, Ticket.id == AgentNotice.ticket_id)
        .where(
            AgentNotice.user_id == user.id,
            AgentNotice.by_mail.is_(True),
            AgentNotice.mailed_at.is_(None),
        )
        .order_by(AgentNotice.created_at, AgentNotice.id)
    ).all()
    if not rows:
        return []
    ids = [notice.id for notice, _ticket in rows]
    claimed = session.execute(
        update(AgentNotice)
        .where(AgentNotice.id.in_(ids), AgentNotice.mailed_at.is_(None))
        .values(mailed_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != len(ids):  # another run took some: it mails them
        return []
    held = roles.grants(session, user)
    every = held.get(roles.EVERY_BRAND, frozenset())

    def sees(brand_id: int) -> bool:
        return "tickets.view" in every or "tickets.view" in held.get(brand_id, ())

    return [
        NoticeRow(notice, ticket)
        for notice, ticket in rows
        if notice.read_at is None and ticket.deleted_at is None and sees(ticket.brand_id)
    ]


def forget_old(session: Session, now: datetime) -> int:
    """Delete the notices read (or never shown in the app) and mailed (or never to be) more
    than KEPT_FOR ago; how many."""
    before = now - KEPT_FOR
    old = select(AgentNotice.id).where(
        AgentNotice.created_at < before,
        (AgentNotice.read_at.is_not(None)) | AgentNotice.in_app.is_(False),
        (AgentNotice.mailed_at.is_not(None)) | AgentNotice.by_mail.is_(False),
    )
    ids = list(session.scalars(old.limit(5000)))
    if not ids:
        return 0
    session.execute(AgentNotice.__table__.delete().where(AgentNotice.id.in_(ids)))
    return len(ids)
