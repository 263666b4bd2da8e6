"""What a signed-in customer may see and do with requests: the one scope rule, the lists of
"my requests" (keyset pages), and what the requester does: share, unshare, solve, rate (one
operation each), reply, reopen."""

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, false, func, literal, literal_column, or_, select, tuple_
from sqlalchemy.orm import Session

from kb.models import Brand
from kb.people import CustomerOrganization, User
from portal.desk.models import Ticket, TicketFile, TicketMessage, TicketShare
from portal.desk.tickets import valid_email
from portal.desk.trash import live
from portal.mail.requesters import mail_about_request

TABS = ("mine", "shared", "organization")
STATUS_FILTERS = {
    "open": ("new", "open", "on_hold"),
    "awaiting": ("pending",),  # awaiting the customer's reply
    "solved": ("solved",),
    "closed": ("closed",),
}
SORTS = ("updated", "created", "oldest")
PER_PAGE = 20
# Subject and description as one lower-cased text: the same expression as the PostgreSQL
# trigram index of migration 0007 (a literal space, so the planner can match it).
TEXT = func.lower(Ticket.subject.op("||")(literal_column("' '")).op("||")(Ticket.description))
MAX_SEARCH = 100
MAX_SHARES = 20


@dataclass(frozen=True)
class Customer:
    """The facts the scope needs about a signed-in person (taken from the account)."""

    id: int
    email: str
    org_id: int | None
    org_shares: bool
    name: str = ""  # as others see them (their nickname, else their name)

    @classmethod
    def of(cls, session: Session, user: User) -> "Customer":
        shares = False
        if user.customer_org_id is not None:
            org = session.get(CustomerOrganization, user.customer_org_id)
            shares = bool(org and org.shares_requests)
        name = user.nickname or user.name
        return cls(user.id, user.email.lower(), user.customer_org_id, shares, name)


def _shared_with(customer: Customer):
    # From the shares to the tickets: a person has few shares, a brand many tickets.
    return Ticket.id.in_(
        select(TicketShare.ticket_id).where(
            or_(TicketShare.user_id == customer.id, TicketShare.email == customer.email)
        )
    )


def _organization_scope(customer: Customer):
    if customer.org_id is None:
        return false()
    same_org = Ticket.customer_org_id == customer.org_id
    return same_org if customer.org_shares else and_(same_org, Ticket.shared_with_org.is_(True))


def visible_to(customer: Customer):
    """The one rule: the requester, people it is shared with, and the requester's organization
    when it shares requests (or this one was shared with it); never a ticket in the trash."""
    return and_(
        live(),
        or_(
            Ticket.requester_id == customer.id,
            _shared_with(customer),
            _organization_scope(customer),
        ),
    )


def tab_scope(customer: Customer, tab: str):
    if tab == "shared":
        return and_(live(), Ticket.requester_id != customer.id, _shared_with(customer))
    if tab == "organization":
        return and_(live(), Ticket.requester_id != customer.id, _organization_scope(customer))
    return and_(live(), Ticket.requester_id == customer.id)


def ticket_for(session: Session, customer: Customer, brand_id: int, ticket_id: int):
    """The request if this customer may see it in this brand, else None (404 either way)."""
    return session.scalar(
        select(Ticket).where(
            Ticket.id == ticket_id, Ticket.brand_id == brand_id, visible_to(customer)
        )
    )


# -- lists ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ListQuery:
    tab: str = "mine"
    status: str = ""
    q: str = ""
    sort: str = "updated"
    after: str = ""  # keyset cursor: "<iso time>~<id>"

    @classmethod
    def parse(cls, args) -> "ListQuery":
        tab = args.get("tab", "mine")
        status = args.get("status", "")
        sort = args.get("sort", "updated")
        q = " ".join((args.get("q") or "").split())[:MAX_SEARCH]
        after = args.get("after", "")
        return cls(
            tab=tab if tab in TABS else "mine",
            status=status if status in STATUS_FILTERS else "",
            q=q,
            sort=sort if sort in SORTS else "updated",
            after=after if _cursor(after) else "",
        )

    def args(self, **changes) -> dict:
        values = {"tab": self.tab, "status": self.status, "q": self.q, "sort": self.sort}
        values.update(changes)
        return {k: v for k, v in values.items() if v and not (k == "tab" and v == "mine")}


_CURSOR = re.compile(r"^(\d{4}-\d\d-\d\dT[\d:.]+(?:\+00:00)?)~(\d{1,12})$")


def _cursor(text: str):
    match = _CURSOR.match(text or "")
    if not match:
        return None
    try:
        when = datetime.fromisoformat(match.group(1))
    except ValueError:
        return None
    if when.tzinfo is None:
        from datetime import UTC

        when = when.replace(tzinfo=UTC)
    return when, int(match.group(2))


@dataclass
class Page:
    tickets: list
    next_after: str | None
    tabs: list  # the tabs this customer has


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def list_requests(
    session: Session, customer: Customer, brand_id: int, query: ListQuery, per_page=PER_PAGE
) -> Page:
    """One page of a tab, newest activity first (or by creation), after the cursor: one query,
    an index range read whatever the number of requests."""
    column = Ticket.created_at if query.sort in ("created", "oldest") else Ticket.updated_at
    descending = query.sort != "oldest"
    stmt = select(Ticket).where(Ticket.brand_id == brand_id, tab_scope(customer, query.tab))
    if query.status:
        stmt = stmt.where(Ticket.status.in_(STATUS_FILTERS[query.status]))
    if query.q:
        pattern = f"%{_escape_like(query.q.lower())}%"
        stmt = stmt.where(TEXT.like(pattern, escape="\\"))
    cursor = _cursor(query.after)
    if cursor is not None:
        when, last_id = cursor
        # A row-value comparison, so the (…, updated_at, id) indexes seek straight to it.
        key, cursor_key = tuple_(column, Ticket.id), tuple_(literal(when, column.type), last_id)
        stmt = stmt.where(key < cursor_key if descending else key > cursor_key)
    order = (column.desc(), Ticket.id.desc()) if descending else (column.asc(), Ticket.id.asc())
    rows = list(session.scalars(stmt.order_by(*order).limit(per_page + 1)))
    next_after = None
    if len(rows) > per_page:
        rows = rows[:per_page]
        last = rows[-1]
        value = last.created_at if column is Ticket.created_at else last.updated_at
        next_after = f"{value.isoformat()}~{last.id}"
    return Page(tickets=rows, next_after=next_after, tabs=tabs_for(customer))


def tabs_for(customer: Customer) -> list[str]:
    """The tabs a customer has (no counts: a count would grow with the organization)."""
    return [tab for tab in TABS if tab != "organization" or customer.org_id is not None]


# -- what the requester (or someone who can see the request) does -----------------------------


def is_requester(customer: Customer, ticket: Ticket) -> bool:
    return ticket.requester_id == customer.id


def shares(session: Session, ticket: Ticket) -> list[TicketShare]:
    return list(
        session.scalars(
            select(TicketShare).where(TicketShare.ticket_id == ticket.id).order_by(TicketShare.id)
        )
    )


def public_file(session: Session, ticket: Ticket, file_id: int) -> TicketFile | None:
    """A file of the request that its people may download: never an internal note's."""
    row = session.get(TicketFile, file_id)
    if row is None or row.ticket_id != ticket.id:
        return None
    if row.message_id is not None:
        message = session.get(TicketMessage, row.message_id)
        if message is None or not message.public:
            return None
    return row


def organization_seeing(session: Session, ticket: Ticket) -> CustomerOrganization | None:
    """The organization whose members can see the request (it shares all its requests, or this
    one was shared with it), if any: the same rule as `_organization_scope`."""
    if ticket.customer_org_id is None:
        return None
    org = session.get(CustomerOrganization, ticket.customer_org_id)
    if org is None or not (org.shares_requests or ticket.shared_with_org):
        return None
    return org


def can_reopen(ticket: Ticket, now: datetime, reopen_days: int) -> bool:
    """A reply within the window after solving reopens; after it (or once closed), a reply
    starts a follow-up request."""
    if ticket.status == "closed":
        return False
    if ticket.status != "solved":
        return True
    return ticket.solved_at is None or now - ticket.solved_at <= timedelta(days=reopen_days)


# -- what the requester does: one operation each, committed with its mail --------------------


@dataclass(frozen=True)
class Actions:
    """What a person looking at a request may do besides replying (the page offers these)."""

    solve: bool = False
    rate: bool = False
    share: bool = False
    # The organization button: "organization" (share), "private" (stop sharing) or None.
    organization: str | None = None


def actions_for(customer: Customer | None, ticket: Ticket) -> Actions:
    """Only the signed-in requester solves, rates (once it is solved or closed) and shares; a
    private link's holder only reads and replies."""
    if customer is None or not is_requester(customer, ticket):
        return Actions()
    done = ticket.status in ("solved", "closed")
    organization = None
    if customer.org_id is not None:
        if ticket.shared_with_org:
            organization = "private"
        elif not customer.org_shares:  # everyone there sees every request already
            organization = "organization"
    return Actions(solve=not done, rate=done, share=True, organization=organization)


class NotAllowed(Exception):
    """Only the request's signed-in requester may do this (a door answers 404 or 403 first)."""


def _requester_only(actor: Customer, ticket: Ticket) -> None:
    if not is_requester(actor, ticket):
        raise NotAllowed


@dataclass
class Sharing:
    """What sharing with people did: the new shares, or why nothing was shared (a code for
    the emails input: required, invalid_email, too_many)."""

    added: list[TicketShare]
    error: str | None = None


def share_with_people(
    session: Session,
    actor: Customer,
    ticket: Ticket,
    emails_text: str,
    now: datetime,
    brand: Brand | None = None,
) -> Sharing:
    """Shares the request with people by email (addresses split on spaces, commas and
    semicolons; at most MAX_SHARES in all) and mails each new one; all or nothing."""
    _requester_only(actor, ticket)
    emails = [e.strip().lower() for e in re.split(r"[\s,;]+", emails_text or "") if e.strip()]
    existing = {s.email for s in shares(session, ticket)}
    error = _emails_problem(existing, emails)
    if error:
        return Sharing([], error)
    added = []
    for email in dict.fromkeys(emails):
        if email in existing or email == ticket.requester_email.lower():
            continue
        account = session.scalar(select(User).where(func.lower(User.email) == email))
        share = TicketShare(
            ticket_id=ticket.id,
            email=email,
            user_id=account.id if account is not None else None,
            added_by_id=actor.id,
            created_at=now,
        )
        session.add(share)
        added.append(share)
    ticket.updated_at = now
    session.flush()
    for share in added:
        mail_about_request(
            session, "request_shared", ticket, share.email, brand=brand, sharer=actor.name
        )
    session.commit()
    return Sharing(added)


def _emails_problem(existing: set[str], emails: list[str]) -> str | None:
    if not emails:
        return "required"
    if any(not valid_email(e) for e in emails):
        return "invalid_email"
    if len(existing | set(emails)) > MAX_SHARES:
        return "too_many"
    return None


def share_with_organization(
    session: Session, actor: Customer, ticket: Ticket, shared: bool, now: datetime
) -> None:
    """Lets everyone in the requester's organization see the request (or stops it)."""
    _requester_only(actor, ticket)
    if actor.org_id is None:
        raise NotAllowed
    ticket.shared_with_org = shared
    ticket.customer_org_id = ticket.customer_org_id or actor.org_id
    session.commit()


def unshare(
    session: Session, actor: Customer, ticket: Ticket, share_id: int, now: datetime
) -> bool:
    """Stops sharing with one person; False when that share is not this request's."""
    _requester_only(actor, ticket)
    share = session.get(TicketShare, share_id)
    if share is None or share.ticket_id != ticket.id:
        return False
    session.delete(share)
    session.commit()
    return True


def solve(session: Session, actor: Customer, ticket: Ticket, now: datetime) -> bool:
    """The requester marks the request solved; False when it already was (or is closed)."""
    _requester_only(actor, ticket)
    if ticket.status in ("solved", "closed"):
        return False
    ticket.status = "solved"
    ticket.solved_at = now
    ticket.status_changed_at = now
    ticket.updated_at = now
    session.commit()
    return True


def rate(
    session: Session, actor: Customer, ticket: Ticket, score: str, comment: str, now: datetime
) -> bool:
    """Good or bad (with an optional comment), once the request is solved or closed; False
    (nothing kept) otherwise."""
    _requester_only(actor, ticket)
    if ticket.status not in ("solved", "closed") or score not in ("good", "bad"):
        return False
    ticket.satisfaction = score
    ticket.satisfaction_comment = (comment or "").strip()[:2000] or None
    ticket.updated_at = now
    session.commit()
    return True
