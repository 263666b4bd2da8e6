"""Agents' ticket queues: which tickets each queue holds, their counts in one query (from
ticket_counts, which triggers keep, unless a filter needs the tickets), validated filters and
keyset pages of rows with the names a list shows."""

import logging
import re
from collections import Counter
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import (
    and_,
    case,
    delete,
    false,
    func,
    insert,
    literal,
    or_,
    select,
    true,
    tuple_,
    union_all,
)
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, aliased

from kb.models import Brand
from kb.people import CustomerOrganization, User
from portal.desk import ticket_search
from portal.desk.assignment import group_ids_of
from portal.desk.models import (
    TICKET_PRIORITIES,
    TICKET_STATUSES,
    InquiryForm,
    Ticket,
    TicketCount,
    TicketTag,
)
from portal.desk.trash import live
from portal.web.ids import parse_id

log = logging.getLogger(__name__)

QUEUES = ("unassigned", "mine", "groups", "open", "pending", "solved")
DEFAULT_QUEUE = "open"
# A search without a queue: every status (closed too) of the agent's brands, as the status
# filter narrows it; not a tab of its own without a search.
SEARCH_QUEUE = "all"
SORTS = ("updated", "created", "priority")
PER_PAGE = 25
SOLVED_RECENTLY = timedelta(days=7)
UNSOLVED = ("new", "open", "pending", "on_hold")
PRIORITY_RANK = {"low": 1, "normal": 2, "high": 3, "urgent": 4}
MAX_TEXT = 100
MAX_ORG_NAME = 200
ORG_CHOICES = 100
# ticket_counts is folded (one row per combination) by the reader that finds more rows than this.
FOLD_ROWS = 2000
# The statuses a queue's tickets can have (its status filter offers them).
QUEUE_STATUSES = {
    "unassigned": UNSOLVED,
    "mine": UNSOLVED,
    "groups": UNSOLVED,
    "open": ("new", "open", "on_hold"),
    "pending": ("pending",),
    "solved": ("solved",),
    SEARCH_QUEUE: TICKET_STATUSES,
}
# Most urgent first: a rank the keyset cursor can compare (unknown values sort last).
PRIORITY = case(PRIORITY_RANK, value=Ticket.priority, else_=0)


def queue_condition(queue: str, user_id: int, now: datetime, t=Ticket):
    """The one definition of each queue, shared by the counts and the pages; over tickets, or
    over ticket_counts (`t` TicketCount: every queue but "solved", whose tickets it has not).
    Its statuses (QUEUE_STATUSES), and for some queues who has the tickets or since when.
    The search queue is every ticket (the search and the filters narrow it)."""
    if queue == SEARCH_QUEUE:
        return true()
    statuses = t.status.in_(QUEUE_STATUSES[queue])
    if queue == "unassigned":
        return and_(statuses, t.assignee_id.is_(None))
    if queue == "mine":
        return and_(statuses, t.assignee_id == user_id)
    if queue == "groups":
        return and_(statuses, t.group_id.in_(group_ids_of(user_id)))
    if queue == "solved":
        return and_(statuses, t.solved_at >= now - SOLVED_RECENTLY)
    return statuses


@dataclass(frozen=True)
class QueueQuery:
    """The queue, filters, sort and cursor of a queue page, as validated from a query string."""

    queue: str = DEFAULT_QUEUE
    q: str = ""  # words to find in the tickets (portal.desk.ticket_search)
    brand: str = ""  # slug, one of the agent's brands
    brand_id: int | None = None
    status: str = ""
    priority: str = ""
    tag: str = ""
    requester: str = ""  # part of the requester's email, lower case
    org: int | None = None  # customer organization id
    org_text: str = ""  # what the organization box says: a name, or an id from a link
    form: int | None = None  # inquiry form id, one of the agent's brands'
    sort: str = "updated"
    after: str = ""

    @classmethod
    def parse(cls, args, brands: list[Brand], form_ids=()) -> "QueueQuery":
        """Unknown or invalid values are dropped (the filter is off), never an error page.
        `form_ids`: the forms of the agent's brands, the only ones the form filter takes."""
        slugs = {b.slug: b.id for b in brands}
        form = parse_id(args.get("form"))
        q = ticket_search.clean_query(args.get("q"))
        queue = args.get("queue", "")
        if queue not in QUEUES and not (q and queue == SEARCH_QUEUE):
            queue = _default_queue(q)
        brand = args.get("brand", "")
        status = args.get("status", "")
        priority = args.get("priority", "")
        tag = (args.get("tag") or "").strip().lower()[:64]
        requester = "".join((args.get("requester") or "").split()).lower()[:MAX_TEXT]
        org = " ".join((args.get("org") or "").split())[:MAX_ORG_NAME]
        sort = args.get("sort", "updated")
        sort = sort if sort in SORTS else "updated"
        after = args.get("after", "")
        return cls(
            queue=queue,
            q=q,
            brand=brand if brand in slugs else "",
            brand_id=slugs.get(brand),
            status=status if status in TICKET_STATUSES else "",
            priority=priority if priority in TICKET_PRIORITIES else "",
            tag=tag,
            requester=requester,
            org=parse_id(org),
            org_text=org,
            form=form if form in form_ids else None,
            sort=sort,
            after=after if _cursor(after, sort) else "",
        )

    def args(self, **changes) -> dict:
        """Query-string arguments for a link to this view with some of them changed."""
        values = {
            "queue": self.queue,
            "q": self.q,
            "brand": self.brand,
            "status": self.status,
            "priority": self.priority,
            "tag": self.tag,
            "requester": self.requester,
            "org": self.org,
            "form": self.form,
            "sort": self.sort,
            "after": self.after,
        }
        values.update(changes)
        defaults = {"queue": _default_queue(values["q"]), "sort": "updated"}
        return {k: v for k, v in values.items() if v not in (None, "") and defaults.get(k) != v}


def _default_queue(q: str) -> str:
    """A search looks in every status unless a queue is chosen; the list without one is the
    open tickets."""
    return SEARCH_QUEUE if q else DEFAULT_QUEUE


@dataclass(frozen=True)
class QueueRow:
    ticket: Ticket
    brand_name: str
    assignee_name: str | None


@dataclass
class Page:
    tickets: list[QueueRow]
    next_after: str | None


def agent_brands(session: Session, brand_ids: list[int] | None) -> list[Brand]:
    """The brands an agent works in (every brand for admins: brand_ids None), by name."""
    stmt = select(Brand).order_by(Brand.name)
    if brand_ids is not None:
        stmt = stmt.where(Brand.id.in_(brand_ids))
    return list(session.scalars(stmt))


def agent_forms(session: Session, brands: list[Brand]) -> list[InquiryForm]:
    """The forms of these brands, for the form filter."""
    return list(
        session.scalars(
            select(InquiryForm)
            .where(InquiryForm.brand_id.in_([b.id for b in brands]))
            .order_by(InquiryForm.brand_id, InquiryForm.position, InquiryForm.id)
        )
    )


def _organizations(brand_ids: list[int] | None):
    """The organizations an agent may pick: those with a ticket in the agent's brands (each
    a probe of the (customer_org_id, brand_id, ...) index)."""
    tickets = select(Ticket.id).where(Ticket.customer_org_id == CustomerOrganization.id, live())
    if brand_ids is not None:
        tickets = tickets.where(Ticket.brand_id.in_(brand_ids))
    return select(CustomerOrganization).where(tickets.exists())


def organization_names(
    session: Session, brand_ids: list[int] | None, text: str = "", limit: int = ORG_CHOICES
) -> list[str]:
    """Names for the organization picker, by name: those containing `text` (any case)."""
    stmt = _organizations(brand_ids).order_by(CustomerOrganization.name).limit(limit)
    text = " ".join(text.split())[:MAX_ORG_NAME].lower()
    if text:
        pattern = f"%{_escape_like(text)}%"
        stmt = stmt.where(func.lower(CustomerOrganization.name).like(pattern, escape="\\"))
    return [org.name for org in session.scalars(stmt)]


def with_organization(
    session: Session, query: QueueQuery, brand_ids: list[int] | None
) -> tuple[QueueQuery, str | None]:
    """The query with the organization box resolved: an id (links) or a name (the picker, any
    case), among the agent's brands' organizations; the box then shows the name. A value
    naming none: the query without that filter, and the error code "org_unknown"."""
    if not query.org_text:
        return replace(query, org=None), None
    stmt = _organizations(brand_ids)
    if query.org is not None:
        stmt = stmt.where(CustomerOrganization.id == query.org)
    else:
        stmt = stmt.where(func.lower(CustomerOrganization.name) == query.org_text.lower())
    org = session.scalars(stmt.limit(1)).first()
    if org is None:
        return replace(query, org=None), "org_unknown"
    return replace(query, org=org.id, org_text=org.name), None


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _filtered(stmt, brand_ids: list[int] | None, query: QueueQuery, t=Ticket):
    """The agent's brands and the filters (not the queue), tickets in the trash left out: what
    counts and pages share. Over
    ticket_counts (`t` TicketCount) only the brand, status and priority filters apply."""
    if brand_ids is not None:
        stmt = stmt.where(t.brand_id.in_(brand_ids))
    if query.brand_id is not None:
        stmt = stmt.where(t.brand_id == query.brand_id)
    if query.status:
        stmt = stmt.where(t.status == query.status)
    if query.priority:
        stmt = stmt.where(t.priority == query.priority)
    if t is TicketCount:
        return stmt  # (trashed tickets are not counted there: the triggers leave them out)
    stmt = stmt.where(live())
    if query.tag:
        # The tag's tickets from its index (tag, ticket_id), not a probe per ticket.
        stmt = stmt.where(
            Ticket.id.in_(select(TicketTag.ticket_id).where(TicketTag.tag == query.tag))
        )
    if query.requester:
        pattern = f"%{_escape_like(query.requester)}%"
        stmt = stmt.where(func.lower(Ticket.requester_email).like(pattern, escape="\\"))
    if query.org is not None:
        stmt = stmt.where(Ticket.customer_org_id == query.org)
    if query.form is not None:
        stmt = stmt.where(Ticket.form_id == query.form)
    if query.q:
        stmt = stmt.where(ticket_search.matches(query.q))
    return stmt


def queue_counts(
    session: Session,
    brand_ids: list[int] | None,
    user_id: int,
    query: QueueQuery,
    now: datetime,
) -> dict[str, int]:
    """How many tickets each queue holds under the filters, in one query whatever the number
    of tickets. Filtered by brand, status and priority at most, the counts are sums over
    ticket_counts (a few hundred rows) and the recently solved tickets; a search, tag,
    requester, organization or form filter counts the tickets it matches."""
    if query.q or query.tag or query.requester or query.org is not None or query.form is not None:
        return _counted_tickets(session, brand_ids, user_id, query, now)
    c = TicketCount
    live_queues = [q for q in QUEUES if q != "solved"]  # the solved ones are not in the table
    columns = [
        func.coalesce(func.sum(case((queue_condition(q, user_id, now, c), c.n), else_=0)), 0)
        for q in live_queues
    ]
    solved = _filtered(
        select(func.count()).where(queue_condition("solved", user_id, now)), brand_ids, query
    )
    stmt = _filtered(select(*columns, func.count(), solved.scalar_subquery()), brand_ids, query, c)
    *live, rows, solved_count = session.execute(stmt).one()
    if rows > FOLD_ROWS:
        _fold_aside(session)
    return {**dict(zip(live_queues, map(int, live), strict=True)), "solved": int(solved_count)}


def _counted_tickets(session, brand_ids, user_id, query, now) -> dict[str, int]:
    """The counts as SUM(CASE ...)s over the tickets the filters match; with a search, also
    how many match in every status (SEARCH_QUEUE)."""
    columns = [
        func.sum(case((queue_condition(q, user_id, now), 1), else_=0)).label(q) for q in QUEUES
    ]
    stmt = select(*columns, func.count().label(SEARCH_QUEUE)).select_from(Ticket)
    if not query.q:
        # Every queue is a part of these: closed and long solved tickets are never read.
        # (A search reads only its matches, from the index, closed ones included.)
        stmt = stmt.where(
            Ticket.status.in_((*UNSOLVED, "solved")),
            or_(Ticket.status != "solved", Ticket.solved_at >= now - SOLVED_RECENTLY),
        )
    row = session.execute(_filtered(stmt, brand_ids, query)).one()
    queues = (*QUEUES, SEARCH_QUEUE) if query.q else QUEUES
    return {q: int(row._mapping[q] or 0) for q in queues}


def fold(session: Session) -> int:
    """Fold ticket_counts into one row per combination (none where it sums to 0), in the
    caller's transaction: the rows this DELETE removed, and only they, come back as sums, so
    rows that triggers add meanwhile are kept as they are. Returns how many rows it folded."""
    table = TicketCount.__table__
    key = [table.c[name] for name in ("brand_id", "status", "priority", "assignee_id", "group_id")]
    sums = Counter()
    gone = session.execute(delete(table).returning(*key, table.c.n)).all()
    for *values, n in gone:
        sums[tuple(values)] += n
    folded = [dict(zip([c.name for c in key], k, strict=True), n=n) for k, n in sums.items() if n]
    if folded:
        session.execute(insert(table), folded)
    return len(gone)


def _fold_aside(session: Session) -> None:
    """Fold in a transaction of its own, beside the request's; a failure (another writer
    holding SQLite's lock) leaves the rows to the next reader."""
    try:
        with Session(session.get_bind()) as aside, aside.begin():
            fold(aside)
    except SQLAlchemyError:
        log.warning("ticket counts were not folded this time", exc_info=True)


_TIME = r"\d{4}-\d\d-\d\dT[\d:.]+(?:\+00:00)?"
_CURSORS = {
    "updated": re.compile(rf"^({_TIME})~(\d{{1,12}})$"),
    "created": re.compile(rf"^({_TIME})~(\d{{1,12}})$"),
    "priority": re.compile(rf"^([0-4])~({_TIME})~(\d{{1,12}})$"),
}


def _cursor(text: str, sort: str):
    """The cursor's key ((rank,) time, id) for this sort, or None when it is not one."""
    match = _CURSORS[sort].match(text or "")
    if not match:
        return None
    *rank, when, last_id = match.groups()
    try:
        moment = datetime.fromisoformat(when)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (*(int(r) for r in rank), moment, int(last_id))


def _sort_key(sort: str) -> list:
    if sort == "created":
        return [Ticket.created_at, Ticket.id]
    if sort == "priority":
        return [PRIORITY, Ticket.updated_at, Ticket.id]
    return [Ticket.updated_at, Ticket.id]


def _cursor_of(ticket: Ticket, sort: str) -> str:
    if sort == "created":
        return f"{ticket.created_at.isoformat()}~{ticket.id}"
    when = f"{ticket.updated_at.isoformat()}~{ticket.id}"
    if sort == "priority":
        return f"{PRIORITY_RANK.get(ticket.priority, 0)}~{when}"
    return when


def _most_urgent_first(stmt, ids, cursor, per_page: int):
    """`stmt` most urgent first, after the cursor, in one query: the newest page of each
    priority at or below the cursor's (each from the (priority, updated_at, id) index), joined
    by UNION ALL, then those few rows sorted. A CASE expression in ORDER BY on the whole
    queue would sort every matching ticket instead."""
    parts = []
    for name, rank in PRIORITY_RANK.items():
        if cursor is not None and rank > cursor[0]:
            continue
        part = ids.where(Ticket.priority == name)
        if cursor is not None and rank == cursor[0]:
            moment = literal(cursor[1], Ticket.updated_at.type)
            part = part.where(tuple_(Ticket.updated_at, Ticket.id) < tuple_(moment, cursor[2]))
        newest = part.order_by(Ticket.updated_at.desc(), Ticket.id.desc()).limit(per_page + 1)
        parts.append(select(newest.subquery().c.id))
    if not parts:
        return stmt.where(false())
    key = _sort_key("priority")
    return (
        stmt.where(Ticket.id.in_(union_all(*parts)))
        .order_by(*(c.desc() for c in key))
        .limit(per_page + 1)
    )


def queue_page(
    session: Session,
    brand_ids: list[int] | None,
    user_id: int,
    query: QueueQuery,
    now: datetime,
    per_page: int = PER_PAGE,
) -> Page:
    """One page of a queue, newest first (or most urgent first), after the cursor: one query
    that also brings the brand's and the assignee's names."""
    assignee = aliased(User)
    stmt = (
        select(Ticket, Brand.name, assignee.name)
        .join(Brand, Brand.id == Ticket.brand_id)
        .outerjoin(assignee, assignee.id == Ticket.assignee_id)
        .where(queue_condition(query.queue, user_id, now))
    )
    stmt = _filtered(stmt, brand_ids, query)
    cursor = _cursor(query.after, query.sort)
    if query.sort == "priority":
        ids = select(Ticket.id).where(queue_condition(query.queue, user_id, now))
        stmt = _most_urgent_first(stmt, _filtered(ids, brand_ids, query), cursor, per_page)
    else:
        key = _sort_key(query.sort)
        if cursor is not None:
            # A row-value comparison, so an index on the sort columns seeks straight to it.
            values = [literal(v, c.type) for v, c in zip(cursor[:-1], key[:-1], strict=True)]
            stmt = stmt.where(tuple_(*key) < tuple_(*values, cursor[-1]))
        stmt = stmt.order_by(*(c.desc() for c in key)).limit(per_page + 1)
    rows = [QueueRow(t, brand, name) for t, brand, name in session.execute(stmt)]
    next_after = None
    if len(rows) > per_page:
        rows = rows[:per_page]
        next_after = _cursor_of(rows[-1].ticket, query.sort)
    return Page(tickets=rows, next_after=next_after)
