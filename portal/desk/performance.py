"""An agent's own figures for today, this week and this month, in their brands' timezone: a
fixed number of aggregate queries whatever the number of tickets."""

import statistics
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from kb.models import Brand
from kb.people import BrandMember
from portal.desk.assignment import group_ids_of
from portal.desk.models import Ticket, TicketMessage
from portal.desk.queues import queue_condition
from portal.desk.trash import live

PERIODS = ("today", "week", "month")
FIGURES = ("unassigned", "in_progress", "solved", "closed", "replies", "first_reply_minutes")


def agent_timezone(session: Session, user_id: int) -> tzinfo:
    """The timezone of the agent's first brand (first joined); UTC without one."""
    name = session.scalar(
        select(Brand.timezone)
        .join(BrandMember, BrandMember.brand_id == Brand.id)
        .where(BrandMember.user_id == user_id)
        .order_by(BrandMember.id)
        .limit(1)
    )
    try:
        return ZoneInfo(name) if name else UTC
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def periods(tz: tzinfo, now: datetime) -> dict[str, tuple[datetime, datetime]]:
    """Each period as [start, end) in UTC: local midnights, Monday and the 1st, in `tz`."""
    local = now.astimezone(tz)
    today = local.date()
    monday = today - timedelta(days=today.weekday())
    first = today.replace(day=1)
    next_month = (first + timedelta(days=32)).replace(day=1)
    bounds = {
        "today": (today, today + timedelta(days=1)),
        "week": (monday, monday + timedelta(days=7)),
        "month": (first, next_month),
    }

    def utc(day) -> datetime:
        return datetime(day.year, day.month, day.day, tzinfo=tz).astimezone(UTC)

    return {name: (utc(start), utc(end)) for name, (start, end) in bounds.items()}


def _within(column, bounds: tuple[datetime, datetime]):
    return and_(column >= bounds[0], column < bounds[1])


def _count(condition):
    return func.sum(case((condition, 1), else_=0))


def _scoped(stmt, brand_ids: list[int] | None):
    """The agent's brands' tickets, those in the trash left out."""
    stmt = stmt.where(live())
    return stmt if brand_ids is None else stmt.where(Ticket.brand_id.in_(brand_ids))


def _agent_message():
    return and_(TicketMessage.public.is_(True), TicketMessage.from_requester.is_(False))


def performance(
    session: Session,
    agent_id: int,
    brand_ids: list[int] | None,
    tz: tzinfo | str,
    now: datetime,
) -> dict[str, dict[str, int | float | None]]:
    """figure -> period -> value. Counts of the agent's brands' tickets (brand_ids None: every
    brand); the median first reply time is in minutes, None when no ticket was answered."""
    if isinstance(tz, str):
        tz = ZoneInfo(tz)
    spans = periods(tz, now)
    earliest = min(start for start, _ in spans.values())

    mine = Ticket.assignee_id == agent_id
    ticket_columns = [
        _count(
            and_(
                queue_condition("unassigned", agent_id, now),
                or_(Ticket.group_id.is_(None), Ticket.group_id.in_(group_ids_of(agent_id))),
            )
        ).label("unassigned"),
        _count(queue_condition("mine", agent_id, now)).label("in_progress"),
    ]
    for name, span in spans.items():
        ticket_columns.append(
            _count(and_(mine, _within(Ticket.solved_at, span))).label(f"s_{name}")
        )
        closed = and_(mine, Ticket.status == "closed", _within(Ticket.updated_at, span))
        ticket_columns.append(_count(closed).label(f"c_{name}"))
    stmt = select(*ticket_columns).where(or_(mine, Ticket.assignee_id.is_(None)))
    tickets = session.execute(_scoped(stmt, brand_ids)).one()._mapping

    replies_stmt = (
        select(*(_count(_within(TicketMessage.created_at, s)).label(n) for n, s in spans.items()))
        .join(Ticket, Ticket.id == TicketMessage.ticket_id)
        .where(
            TicketMessage.author_id == agent_id,
            _agent_message(),
            TicketMessage.created_at >= earliest,
        )
    )
    replies = session.execute(_scoped(replies_stmt, brand_ids)).one()._mapping

    # One row per answered ticket; the median itself is taken here, the same on every database.
    first_reply_stmt = (
        select(Ticket.created_at, func.min(TicketMessage.created_at))
        .join(TicketMessage, TicketMessage.ticket_id == Ticket.id)
        .where(mine, Ticket.created_at >= earliest, _agent_message())
        .group_by(Ticket.id, Ticket.created_at)
    )
    answered = session.execute(_scoped(first_reply_stmt, brand_ids)).all()

    result: dict[str, dict[str, int | float | None]] = {f: {} for f in FIGURES}
    for name, span in spans.items():
        result["unassigned"][name] = int(tickets["unassigned"] or 0)
        result["in_progress"][name] = int(tickets["in_progress"] or 0)
        result["solved"][name] = int(tickets[f"s_{name}"] or 0)
        result["closed"][name] = int(tickets[f"c_{name}"] or 0)
        result["replies"][name] = int(replies[name] or 0)
        minutes = [
            (replied - created).total_seconds() / 60
            for created, replied in answered
            if span[0] <= created < span[1]
        ]
        result["first_reply_minutes"][name] = (
            round(statistics.median(minutes), 1) if minutes else None
        )
    return result


LATEST_RATINGS = 10


@dataclass
class Ratings:
    """The satisfaction ratings of an agent's tickets: how many of each, the latest ones."""

    counts: dict[str, int]
    latest: list[Ticket]


def ratings(
    session: Session, agent_id: int, brand_ids: list[int] | None, limit: int = LATEST_RATINGS
) -> Ratings:
    """Good and bad ratings of the tickets assigned to the agent (in their brands), and the
    latest rated ones with their comments: two queries."""
    rated = and_(Ticket.assignee_id == agent_id, Ticket.satisfaction.in_(("good", "bad")))
    counts = dict(
        session.execute(
            _scoped(select(Ticket.satisfaction, func.count()).where(rated), brand_ids).group_by(
                Ticket.satisfaction
            )
        ).all()
    )
    latest = session.scalars(
        _scoped(select(Ticket).where(rated), brand_ids)
        .order_by(Ticket.updated_at.desc(), Ticket.id.desc())
        .limit(limit)
    )
    return Ratings(
        counts={score: int(counts.get(score, 0)) for score in ("good", "bad")},
        latest=list(latest),
    )
