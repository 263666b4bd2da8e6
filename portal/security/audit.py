"""The audit and system log: one append-only table (AuditEntry), written in the caller's
transaction so that an entry exists exactly when its change does.

- kind "audit": permission-relevant changes (roles, brand scopes, custom roles, invitations,
  (de)activation, organization admins).
- kind "system": sign-in, sign-out and failed sign-in of staff, deletions, exports, two-factor
  and IP-allowlist changes, API-key rotation, retention runs.

Nothing here updates or deletes an entry, and no page or command does.
"""

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Select, and_, false, func, or_, select
from sqlalchemy.orm import Session

from kb.models import Brand
from kb.people import User
from portal.security.models import AuditEntry
from portal.web.ids import MAX_ID

AUDIT, SYSTEM = "audit", "system"


def record(
    session: Session,
    action: str,
    *,
    now: datetime,
    kind: str = AUDIT,
    actor: User | None = None,
    actor_email: str = "",
    target: str = "",
    target_name: str = "",
    brand_id: int | None = None,
    ip: str = "",
    details: dict | None = None,
) -> AuditEntry:
    """Add one entry (the caller commits). `actor` None: Portal itself, or, with
    `actor_email`, someone not signed in (a failed sign-in names the address tried)."""
    if kind not in (AUDIT, SYSTEM):
        raise ValueError(f"unknown kind {kind!r}")
    entry = AuditEntry(
        at=now,
        kind=kind,
        action=action[:64],
        actor_id=actor.id if actor is not None else None,
        actor_name=(actor.name if actor is not None else "")[:200],
        actor_email=(actor.email if actor is not None else actor_email)[:254],
        target=target[:64],
        target_name=target_name[:254],
        brand_id=brand_id,
        ip=(ip or "")[:45],
        details=details or {},
    )
    session.add(entry)
    return entry


# -- reading: the filter, the page, the CSV ---------------------------------------------------

# The actions Portal records, in the filter's select (an unknown action is refused).
KNOWN_ACTIONS = (
    "api_key.rotated",
    "audit.exported",
    "brand.mail_template_changed",
    "brand.theme_changed",
    "group.created",
    "group.changed",
    "group.deleted",
    "mail_address.created",
    "mail_address.changed",
    "mail_address.deleted",
    "mailbox.created",
    "mailbox.changed",
    "mailbox.deleted",
    "member.created",
    "member.invited",
    "member.invitation_resent",
    "member.joined",
    "member.changed",
    "member.roles_changed",
    "member.org_admin_granted",
    "member.org_admin_revoked",
    "member.deactivated",
    "member.reactivated",
    "member.removed",
    "organization.created",
    "organization.branding_changed",
    "organization.changed",
    "organization.deleted",
    "organization.member_added",
    "organization.member_removed",
    "recovery_code.used",
    "role.created",
    "role.changed",
    "role.deleted",
    "security.ip_allowlist_changed",
    "retention.changed",
    "retention.files_removed",
    "security.two_factor_required",
    "staff.sign_in",
    "staff.sign_in_failed",
    "staff.sign_in_refused",
    "customer.sign_in_failed",
    "staff.sign_out",
    "staff.two_factor_failed",
    "tenant.renamed",
    "tickets.exported",
    "two_factor.disabled",
    "two_factor.enabled",
    "requester.blocked",
    "requester.unblocked",
    "ticket.trashed",
    "ticket.restored",
    "ticket.purged",
)
MAX_Q = 200
MAX_IP = 45
_IP_CHARS = frozenset("0123456789abcdefABCDEF.:")


@dataclass
class AuditQuery:
    """The log's filter, as typed; `errors` maps a parameter to an error code (the page says it
    beside the form and shows nothing filtered wrongly)."""

    date_from: date | None = None
    date_to: date | None = None
    action: str = ""
    q: str = ""
    ip: str = ""
    brand: str = ""
    brand_id: int | None = None
    kind: str = ""
    typed: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_args(cls, args: Mapping[str, str], session: Session) -> "AuditQuery":
        """Parse query parameters `from`, `to`, `action`, `q`, `ip`, `brand`, `kind`."""
        typed = {key: _clean(args.get(key)) for key in PARAMETERS}
        query = cls(typed=typed)
        query.date_from = query._date("from")
        query.date_to = query._date("to")
        if query.date_from and query.date_to and query.date_to < query.date_from:
            query.errors["to"] = "to_before_from"
        query.action = typed["action"]
        if query.action and query.action not in KNOWN_ACTIONS:
            query.errors["action"] = "action_unknown"
        query.q = typed["q"][:MAX_Q]
        query.ip = typed["ip"]
        if query.ip and (len(query.ip) > MAX_IP or not set(query.ip) <= _IP_CHARS):
            query.errors["ip"] = "ip_invalid"
        query.kind = typed["kind"]
        if query.kind and query.kind not in (AUDIT, SYSTEM):
            query.errors["kind"] = "kind_unknown"
        query.brand = typed["brand"]
        if query.brand:
            query.brand_id = _brand_id(session, query.brand)
            if query.brand_id is None:
                query.errors["brand"] = "brand_unknown"
        return query

    def _date(self, key: str) -> date | None:
        text = self.typed[key]
        if not text:
            return None
        try:
            return date.fromisoformat(text)
        except ValueError:
            self.errors[key] = "date_invalid"
            return None

    def as_args(self) -> dict[str, str]:
        """The parameters as typed (for links: the next page, the CSV), empty ones left out."""
        return {key: value for key, value in self.typed.items() if value}


PARAMETERS = ("from", "to", "action", "q", "ip", "brand", "kind")
_CONTROL = dict.fromkeys(range(32))  # NUL and the like: PostgreSQL refuses NUL in a string


def _clean(value: str | None) -> str:
    """A parameter on one line, without control characters."""
    return " ".join(str(value or "").translate(_CONTROL).split())


def _brand_id(session: Session, text: str) -> int | None:
    """A brand named by its id or its slug."""
    stmt = select(Brand.id)
    if _number(text) is not None:
        stmt = stmt.where(or_(Brand.id == int(text), Brand.slug == text))
    else:
        stmt = stmt.where(Brand.slug == text.lower())
    return session.scalar(stmt.limit(1))


def _number(text: str) -> int | None:
    """An id typed in ASCII digits (not "²" or "١"), or None; at most MAX_ID."""
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(MAX_ID)):
        return None
    number = int(text)
    return number if number <= MAX_ID else None


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def filtered(query: AuditQuery) -> Select:
    """The entries the filter keeps, newest first (by at, then id). A query with errors keeps
    nothing: a page never shows rows filtered otherwise than asked."""
    stmt = select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    if query.errors:
        return stmt.where(false())
    if query.date_from:
        stmt = stmt.where(AuditEntry.at >= _day_start(query.date_from))
    if query.date_to:
        if query.date_to < date.max:  # the last day there is has no day after it
            stmt = stmt.where(AuditEntry.at < _day_start(query.date_to + timedelta(days=1)))
    if query.action:
        stmt = stmt.where(AuditEntry.action == query.action)
    if query.kind:
        stmt = stmt.where(AuditEntry.kind == query.kind)
    if query.brand_id is not None:
        stmt = stmt.where(AuditEntry.brand_id == query.brand_id)
    if query.ip:
        prefix = _escape_like(query.ip.lower()) + "%"
        stmt = stmt.where(func.lower(AuditEntry.ip).like(prefix, escape="\\"))  # exact too
    if query.q:
        pattern = "%" + _escape_like(query.q.lower()) + "%"
        matches = [
            func.lower(AuditEntry.actor_name).like(pattern, escape="\\"),
            func.lower(AuditEntry.actor_email).like(pattern, escape="\\"),
            func.lower(AuditEntry.target).like(pattern, escape="\\"),
            func.lower(AuditEntry.target_name).like(pattern, escape="\\"),
        ]
        number = query.q.removeprefix("#")
        if _number(number) is not None:
            matches.append(AuditEntry.actor_id == _number(number))
            matches.append(AuditEntry.target.like("%:" + number))
        stmt = stmt.where(or_(*matches))
    return stmt


@dataclass
class AuditPage:
    rows: list[AuditEntry]
    older: str | None  # the `before` cursor of the next (older) page: "<iso time>_<id>"


def parse_before(text: str | None) -> tuple[datetime, int] | None:
    """The cursor "<iso time>_<id>", or None when absent or not one (the first page)."""
    when, _sep, entry_id = (text or "").rpartition("_")
    if not when or _number(entry_id) is None:
        return None
    try:
        at = datetime.fromisoformat(when)
    except ValueError:
        return None
    return (at if at.tzinfo else at.replace(tzinfo=UTC), int(entry_id))


def search(
    session: Session,
    query: AuditQuery,
    page_size: int = 50,
    before: tuple[datetime, int] | None = None,
) -> AuditPage:
    """One page of entries, newest first, older than the cursor `before` (at, id)."""
    stmt = filtered(query)
    if before is not None:
        at, entry_id = before
        stmt = stmt.where(
            or_(AuditEntry.at < at, and_(AuditEntry.at == at, AuditEntry.id < entry_id))
        )
    rows = list(session.scalars(stmt.limit(page_size + 1)))
    older = None
    if len(rows) > page_size:
        rows = rows[:page_size]
        last = rows[-1]
        older = f"{last.at.isoformat()}_{last.id}"
    return AuditPage(rows=rows, older=older)


def rows_for_csv(session: Session, query: AuditQuery, batch: int = 500) -> Iterator[AuditEntry]:
    """Every entry the filter keeps, newest first, fetched `batch` at a time (not all in memory)."""
    result = session.execute(filtered(query).execution_options(yield_per=batch))
    yield from result.scalars()


def details_summary(details: dict | None, limit: int = 200) -> str:
    """ "key: value; ..." of an entry's details, cut at `limit` characters."""
    text = "; ".join(f"{key}: {value}" for key, value in (details or {}).items())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def brand_names(session: Session, brand_ids: set[int | None]) -> dict[int, str]:
    """brand id -> name for the brands of a page's rows (one query)."""
    ids = [i for i in brand_ids if i is not None]
    if not ids:
        return {}
    return dict(session.execute(select(Brand.id, Brand.name).where(Brand.id.in_(ids))).all())
