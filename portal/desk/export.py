"""Ticket data export: a brand's tickets with their conversations, as plain dicts, read in keyset
batches so that any number of tickets streams through a bounded amount of memory.

`tickets` yields one dict a ticket, messages included (internal notes only with
`include_notes`); `as_json` and `csv_rows` give what the JSON and CSV files hold of it, times
in the brand's zone. Who may export which brand, and whether they may read notes, the caller
decides (portal.access); nothing here knows about requests or responses.
"""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Select, func, select, tuple_
from sqlalchemy.orm import Session

from kb.models import Brand
from kb.people import User
from portal.desk.models import AgentGroup, Ticket, TicketFile, TicketMessage, TicketTag
from portal.security import audit

BATCH = 500  # tickets a query; their messages, files and tags come in one query each
FORMATS = ("csv", "json")
# Who wrote a message: the requester, an agent (a staff account), or another customer (someone
# the request is shared with, or copied on its mail).
REQUESTER, AGENT, CUSTOMER = "requester", "agent", "customer"

# One row a message (a ticket without messages still gets one row, its message cells empty),
# the ticket's cells repeated on each: a spreadsheet filters, sorts and counts such rows, and
# no cell holds a whole conversation (Excel cuts a cell at 32,767 characters).
CSV_HEADER = (
    "ticket id",
    "brand",
    "subject",
    "status",
    "priority",
    "type",
    "channel",
    "locale",
    "requester name",
    "requester email",
    "assignee name",
    "assignee email",
    "group",
    "tags",
    "form",
    "form answers",
    "files sent with the form",
    "created at",
    "updated at",
    "solved at",
    "message id",
    "author kind",
    "author name",
    "author email",
    "visibility",
    "message created at",
    "body",
    "attachments",
)


@dataclass(frozen=True)
class Period:
    """Tickets created in [start, end) (UTC); None leaves that side open."""

    start: datetime | None = None
    end: datetime | None = None


def brand_zone(brand: Brand) -> tzinfo:
    """The brand's time zone (UTC when its name is not one)."""
    try:
        return ZoneInfo(brand.timezone) if brand.timezone else UTC
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def created_between(tz: tzinfo, first_day: date | None, last_day: date | None) -> Period:
    """The days from `first_day` to `last_day`, both included, as the brand's clocks read them
    (local midnight to local midnight), in UTC."""

    def midnight(day: date | None) -> datetime | None:
        """None for no day, and for a midnight before year 1 or after year 9999 in UTC (the
        first and last days there are: no ticket lies beyond them)."""
        try:
            return datetime.combine(day, time.min, tzinfo=tz).astimezone(UTC) if day else None
        except OverflowError:
            return None

    after_last = None
    if last_day is not None and last_day < date.max:  # the last day there is has no day after it
        after_last = last_day + timedelta(days=1)
    return Period(midnight(first_day), midnight(after_last))


def _filtered(stmt, brand_ids: Sequence[int], period: Period):
    stmt = stmt.where(Ticket.brand_id.in_(list(brand_ids)))
    if period.start is not None:
        stmt = stmt.where(Ticket.created_at >= period.start)
    if period.end is not None:
        stmt = stmt.where(Ticket.created_at < period.end)
    return stmt


def count(session: Session, brand_ids: Sequence[int], period: Period) -> int:
    """How many tickets the export holds (read from the export's index alone)."""
    return session.scalar(_filtered(select(func.count(Ticket.id)), brand_ids, period)) or 0


def start(
    session: Session,
    actor: User,
    brand: Brand,
    first_day: date | None,
    last_day: date | None,
    fmt: str,
    include_notes: bool,
    now: datetime,
    ip: str = "",
) -> Period:
    """An export of `brand`'s tickets created from `first_day` to `last_day` (the brand's days),
    recorded in the system log with how many tickets it holds as it starts; answers the period
    to pass to `tickets`. The caller commits before streaming, so the entry stays whatever
    happens to the download."""
    period = created_between(brand_zone(brand), first_day, last_day)
    audit.record(
        session,
        "tickets.exported",
        now=now,
        kind=audit.SYSTEM,
        actor=actor,
        target=f"brand:{brand.id}",
        target_name=brand.name,
        brand_id=brand.id,
        ip=ip,
        details={
            "brand": brand.slug,
            "from": first_day.isoformat() if first_day else "",
            "to": last_day.isoformat() if last_day else "",
            "format": fmt,
            "internal_notes": include_notes,
            "tickets": count(session, [brand.id], period),
        },
    )
    return period


_TICKET_COLUMNS = (
    Ticket.id,
    Ticket.brand_id,
    Ticket.subject,
    Ticket.description,
    Ticket.status,
    Ticket.priority,
    Ticket.type,
    Ticket.channel,
    Ticket.locale,
    Ticket.requester_name,
    Ticket.requester_email,
    Ticket.assignee_id,
    Ticket.group_id,
    Ticket.form_name,
    Ticket.answers,
    Ticket.created_at,
    Ticket.updated_at,
    Ticket.solved_at,
)


def ticket_batch(
    brand_ids: Sequence[int], period: Period, after: tuple[datetime, int] | None, size: int
) -> Select:
    """The next `size` tickets after the keyset cursor `after` (created_at, id of the last
    one read; None: from the first), read from ix_tickets_brand_created."""
    stmt = _filtered(select(*_TICKET_COLUMNS), brand_ids, period)
    if after is not None:
        stmt = stmt.where(tuple_(Ticket.created_at, Ticket.id) > after)
    return stmt.order_by(Ticket.created_at, Ticket.id).limit(size)


def tickets(
    session: Session,
    brand_ids: Sequence[int],
    period: Period,
    include_notes: bool,
    batch: int = BATCH,
) -> Iterator[dict]:
    """Every ticket of `brand_ids` created in `period`, oldest first, with its messages
    (public ones only unless `include_notes`), their attachments' names, its tags and the files
    sent with its form. Rows, not ORM objects, `batch` tickets at a time (keyset on created_at,
    id): nothing piles up in the session, whatever the number of tickets."""
    if not brand_ids:
        return
    slugs = dict(session.execute(select(Brand.id, Brand.slug).where(Brand.id.in_(brand_ids))).all())
    groups = dict(
        session.execute(
            select(AgentGroup.id, AgentGroup.name).where(AgentGroup.brand_id.in_(brand_ids))
        ).all()
    )
    assignees: dict[int, tuple[str, str]] = {}  # the brands' agents: a few, kept
    after = None
    while True:
        rows = session.execute(ticket_batch(brand_ids, period, after, batch)).all()
        if not rows:
            return
        ids = [row.id for row in rows]
        files = _files(session, ids)
        messages = _messages(session, ids, include_notes, files)
        tags = _tags(session, ids)
        _add_people(session, assignees, {r.assignee_id for r in rows} - assignees.keys())
        for (
            ticket_id,
            brand_id,
            subject,
            description,
            status,
            priority,
            kind,
            channel,
            locale,
            requester_name,
            requester_email,
            assignee_id,
            group_id,
            form_name,
            answers,
            created_at,
            updated_at,
            solved_at,
        ) in rows:  # (unpacked: faster than a Row's attributes, a hundred thousand times)
            yield {
                "id": ticket_id,
                "brand": slugs.get(brand_id, ""),
                "subject": subject,
                "description": description,
                "status": status,
                "priority": priority,
                "type": kind,
                "channel": channel,
                "locale": locale,
                "requester": {"name": requester_name, "email": requester_email},
                "assignee": _person(assignees.get(assignee_id)),
                "group": groups.get(group_id),
                "tags": tags.get(ticket_id, []),
                "form": form_name or "",
                "answers": [
                    {
                        "key": a.get("key"),
                        "label": a.get("label"),
                        "value": a.get("display") if a.get("display") else a.get("value"),
                    }
                    for a in answers or []
                ],
                "files": files.get((ticket_id, None), []),
                "created_at": created_at,
                "updated_at": updated_at,
                "solved_at": solved_at,
                "messages": messages.get(ticket_id, []),
            }
        if len(rows) < batch:
            return
        after = (rows[-1].created_at, rows[-1].id)


def _messages(
    session: Session, ticket_ids: list[int], include_notes: bool, files: dict
) -> dict[int, list[dict]]:
    """ticket id -> its messages (dicts, with their attachments' names), oldest first."""
    stmt = (
        select(
            TicketMessage.id,
            TicketMessage.ticket_id,
            TicketMessage.from_requester,
            TicketMessage.author_name,
            TicketMessage.author_email,
            TicketMessage.public,
            TicketMessage.created_at,
            TicketMessage.body,
            User.role,
        )
        .outerjoin(User, User.id == TicketMessage.author_id)
        .where(TicketMessage.ticket_id.in_(ticket_ids))
        .order_by(TicketMessage.ticket_id, TicketMessage.created_at, TicketMessage.id)
    )
    if not include_notes:
        stmt = stmt.where(TicketMessage.public.is_(True))
    found: dict[int, list[dict]] = {}
    for (
        message_id,
        ticket_id,
        from_requester,
        name,
        email,
        public,
        at,
        body,
        role,
    ) in session.execute(stmt):
        found.setdefault(ticket_id, []).append(
            {
                "id": message_id,
                "author": {
                    "kind": _author_kind(from_requester, role),
                    "name": name,
                    "email": email or "",
                },
                "public": bool(public),
                "created_at": at,
                "body": body,
                "attachments": files.get((ticket_id, message_id), []),
            }
        )
    return found


def _author_kind(from_requester: bool, role: str | None) -> str:
    if from_requester:
        return REQUESTER
    return CUSTOMER if role in (None, "customer") else AGENT


def _files(session: Session, ticket_ids: list[int]) -> dict[tuple[int, int | None], list[str]]:
    """(ticket id, message id or None: sent with the form) -> file names, in the order sent.
    Files removed under the retention policy are named too: they were part of the message."""
    stmt = (
        select(TicketFile.ticket_id, TicketFile.message_id, TicketFile.filename)
        .where(TicketFile.ticket_id.in_(ticket_ids))
        .order_by(TicketFile.id)
    )
    found: dict[tuple[int, int | None], list[str]] = {}
    for ticket_id, message_id, name in session.execute(stmt):
        found.setdefault((ticket_id, message_id), []).append(name)
    return found


def _tags(session: Session, ticket_ids: list[int]) -> dict[int, list[str]]:
    stmt = (
        select(TicketTag.ticket_id, TicketTag.tag)
        .where(TicketTag.ticket_id.in_(ticket_ids))
        .order_by(TicketTag.ticket_id, TicketTag.tag)
    )
    found: dict[int, list[str]] = {}
    for ticket_id, tag in session.execute(stmt):
        found.setdefault(ticket_id, []).append(tag)
    return found


def _add_people(session: Session, known: dict, user_ids: set) -> None:
    user_ids = {i for i in user_ids if i is not None}
    if user_ids:
        rows = session.execute(select(User.id, User.name, User.email).where(User.id.in_(user_ids)))
        known.update({user_id: (name, email) for user_id, name, email in rows})


def _person(found: tuple[str, str] | None) -> dict | None:
    return {"name": found[0], "email": found[1]} if found else None


# -- the files' contents ----------------------------------------------------------------------


def _moment(value: datetime | None, tz: tzinfo) -> str | None:
    """ISO 8601 in the brand's zone, its offset written (2026-11-20T18:30:00+09:00)."""
    return value.astimezone(tz).isoformat(timespec="seconds") if value is not None else None


def as_json(ticket: dict, tz: tzinfo) -> dict:
    """The ticket as the JSON file holds it: times as ISO 8601 strings in `tz`."""
    return {
        **ticket,
        "created_at": _moment(ticket["created_at"], tz),
        "updated_at": _moment(ticket["updated_at"], tz),
        "solved_at": _moment(ticket["solved_at"], tz),
        "messages": [{**m, "created_at": _moment(m["created_at"], tz)} for m in ticket["messages"]],
    }


def csv_rows(ticket: dict, tz: tzinfo) -> Iterator[tuple]:
    """The ticket's CSV rows (CSV_HEADER's columns): one a message, or one without a message."""
    assignee = ticket["assignee"] or {}
    head = (
        ticket["id"],
        ticket["brand"],
        ticket["subject"],
        ticket["status"],
        ticket["priority"],
        ticket["type"] or "",
        ticket["channel"],
        ticket["locale"],
        ticket["requester"]["name"],
        ticket["requester"]["email"],
        assignee.get("name", ""),
        assignee.get("email", ""),
        ticket["group"] or "",
        ", ".join(ticket["tags"]),
        ticket["form"],
        "\n".join(f"{a['label']}: {_text(a['value'])}" for a in ticket["answers"]),
        ", ".join(ticket["files"]),
        _moment(ticket["created_at"], tz),
        _moment(ticket["updated_at"], tz),
        _moment(ticket["solved_at"], tz) or "",
    )
    if not ticket["messages"]:
        yield head + ("",) * (len(CSV_HEADER) - len(head))
    for m in ticket["messages"]:
        yield head + (
            m["id"],
            m["author"]["kind"],
            m["author"]["name"],
            m["author"]["email"],
            "public" if m["public"] else "internal",
            _moment(m["created_at"], tz),
            m["body"],
            ", ".join(m["attachments"]),
        )


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)
