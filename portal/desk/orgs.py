"""Customer organizations: their names, email domains and members, and who joins one by domain.

Mutating functions validate first (raising `InvalidOrganization` with field -> error code, like
portal.desk.forms) and commit. An organization's domains are a JSON list (lower case, ASCII: IDNA
for international names, no "@"); a domain belongs to one organization at most.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import String, and_, cast, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kb import clock
from kb.people import CustomerOrganization, User
from portal.desk.models import InquiryForm, Ticket
from portal.security import audit
from portal.web.ids import MAX_ID

MAX_NAME = 200
MAX_DOMAINS = 100
MAX_DOMAINS_TEXT = 10_000
MAX_SEARCH = 200
PER_PAGE = 50
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_TOP_LEVEL = re.compile(r"[a-z]{2,63}|xn--[a-z0-9-]{1,59}")
# Anyone can have an address there: joining by such a domain would hand an organization's
# shared requests to strangers.
PUBLIC_MAIL_DOMAINS = frozenset(
    {
        "163.com",
        "aol.com",
        "daum.net",
        "gmail.com",
        "gmx.com",
        "gmx.de",
        "gmx.net",
        "googlemail.com",
        "hanmail.net",
        "hotmail.com",
        "icloud.com",
        "kakao.com",
        "live.com",
        "mail.com",
        "mail.ru",
        "me.com",
        "msn.com",
        "nate.com",
        "naver.com",
        "outlook.com",
        "proton.me",
        "protonmail.com",
        "qq.com",
        "web.de",
        "yahoo.co.jp",
        "yahoo.com",
        "yandex.ru",
    }
)


class InvalidOrganization(ValueError):
    """An organization broke a rule: `errors` maps field names to error codes; `details` names
    the offending values (the domains that are invalid or taken) by field."""

    def __init__(self, errors: dict[str, str], details: dict[str, list[str]] | None = None):
        super().__init__(", ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors
        self.details = details or {}


# -- domains ------------------------------------------------------------------------------


def normalise_domain(text: str) -> str | None:
    """One domain as stored (lower case, IDNA), or None when it is no valid host name."""
    domain = (text or "").strip().lower()
    if not domain or len(domain) > 253:
        return None
    if not domain.isascii():
        try:
            domain = domain.encode("idna").decode("ascii")
        except UnicodeError:
            return None
    labels = domain.split(".")
    if len(labels) < 2 or not all(_LABEL.fullmatch(label) for label in labels):
        return None
    if not _TOP_LEVEL.fullmatch(labels[-1]) or len(domain) > 253:
        return None
    return domain


def normalise_address(text: str | None) -> str:
    """An email address as stored and looked up: stripped, lower case, its domain in IDNA
    (support addresses, and the recipients mail is checked against)."""
    local, at, domain = (text or "").strip().lower().rpartition("@")
    if not at:
        return (text or "").strip().lower()
    return f"{local}@{normalise_domain(domain) or domain}"


def normalise_domains(text: str) -> tuple[list[str], dict[str, str]]:
    """(domains, errors) from text with one domain per line or comma-separated. Domains come
    back lower case, once each, in the order typed; errors map each rejected entry to a code:
    domain_at (written with "@"), domain_invalid, domain_public; too_many_domains under "".
    """
    text = text or ""
    if len(text) > MAX_DOMAINS_TEXT:
        return [], {"": "too_many_domains"}
    domains: list[str] = []
    errors: dict[str, str] = {}
    for entry in (part.strip() for part in re.split(r"[,\n]", text)):
        if not entry:
            continue
        if "@" in entry:
            errors[entry] = "domain_at"
            continue
        domain = normalise_domain(entry)
        if domain is None:
            errors[entry] = "domain_invalid"
        elif domain in PUBLIC_MAIL_DOMAINS:
            errors[entry] = "domain_public"
        elif domain not in domains:
            domains.append(domain)
    if len(domains) > MAX_DOMAINS:
        errors[""] = "too_many_domains"
    return domains, errors


def _listing_any(domains: Iterable[str]):
    """A filter for organizations whose JSON list may hold one of these domains. Portable (no
    JSON operators): the list's text contains the quoted domain. Host names hold no LIKE
    wildcards or JSON escapes; callers confirm the match in Python."""
    text = cast(CustomerOrganization.domains, String)
    return or_(*(text.like(f'%"{domain}"%') for domain in domains))


def domain_owners(
    session: Session, domains: list[str], except_id: int | None = None
) -> dict[str, CustomerOrganization]:
    """domain -> the organization (other than `except_id`) that already has it. One query."""
    if not domains:
        return {}
    stmt = select(CustomerOrganization).where(_listing_any(domains))
    if except_id is not None:
        stmt = stmt.where(CustomerOrganization.id != except_id)
    owners = {}
    for org in session.scalars(stmt.order_by(CustomerOrganization.id)):
        for domain in org.domains or []:
            if domain in domains:
                owners.setdefault(domain, org)
    return owners


def organization_for_email(session: Session, email: str) -> CustomerOrganization | None:
    """The organization whose domains include this address's domain exactly (not a parent
    domain, not a suffix). Sign-up should act on it only once the address is confirmed."""
    _local, at, domain = (email or "").strip().rpartition("@")
    domain = normalise_domain(domain) if at and _local else None
    if domain is None:
        return None
    return domain_owners(session, [domain]).get(domain)


# -- organizations ------------------------------------------------------------------------


def _clean_name(name: str) -> str:
    return " ".join(str(name or "").split())


def _domain_text(domains: str | Iterable[str]) -> str:
    return domains if isinstance(domains, str) else "\n".join(domains or [])


def _validate(
    session: Session, name: str, domains: str | Iterable[str], except_id: int | None = None
) -> tuple[list[str], InvalidOrganization | None]:
    errors: dict[str, str] = {}
    details: dict[str, list[str]] = {}
    if not name:
        errors["name"] = "name_required"
    elif len(name) > MAX_NAME:
        errors["name"] = "name_too_long"
    else:
        same = select(CustomerOrganization.id).where(
            func.lower(CustomerOrganization.name) == name.lower()
        )
        if except_id is not None:
            same = same.where(CustomerOrganization.id != except_id)
        if session.scalar(same.limit(1)) is not None:
            errors["name"] = "name_taken"
    cleaned, problems = normalise_domains(_domain_text(domains))
    if problems:
        # The first problem names the field's error; every rejected entry is listed.
        errors["domains"] = next(iter(problems.values()))
        details["domains"] = [entry for entry in problems if entry]
    else:
        owners = domain_owners(session, cleaned, except_id)
        if owners:
            errors["domains"] = "domain_taken"
            details["domains"] = [f"{d} ({org.name})" for d, org in owners.items()]
    return cleaned, InvalidOrganization(errors, details) if errors else None


def _commit_or_name_taken(session: Session) -> None:
    """Two admins saving the same name at once: the unique constraint decides."""
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise InvalidOrganization({"name": "name_taken"}) from None


def _record(
    session: Session,
    action: str,
    org: CustomerOrganization,
    actor: User | None,
    ip: str,
    now: datetime | None,
    **details,
) -> None:
    """The audit entry of a change, in its transaction (`now` None: the clock's time)."""
    audit.record(
        session,
        action,
        now=now or clock.now(),
        actor=actor,
        target=f"organization:{org.id}",
        target_name=org.name,
        ip=ip,
        details=details,
    )


def create_organization(
    session: Session,
    name: str,
    domains: str | Iterable[str],
    shares_requests: bool = False,
    *,
    actor: User | None = None,
    ip: str = "",
    now: datetime | None = None,
) -> CustomerOrganization:
    """A new organization; `domains` is the typed text or a list. Recorded with `actor`, `ip`."""
    name = _clean_name(name)
    cleaned, invalid = _validate(session, name, domains)
    if invalid:
        raise invalid
    org = CustomerOrganization(name=name, domains=cleaned, shares_requests=bool(shares_requests))
    session.add(org)
    session.flush()
    _record(
        session,
        "organization.created",
        org,
        actor,
        ip,
        now,
        domains=cleaned,
        shares_requests=org.shares_requests,
    )
    _commit_or_name_taken(session)
    return org


def update_organization(
    session: Session,
    org: CustomerOrganization,
    name: str,
    domains: str | Iterable[str],
    shares_requests: bool,
    *,
    actor: User | None = None,
    ip: str = "",
    now: datetime | None = None,
) -> CustomerOrganization:
    """Rename, change the domains (members who joined by a removed domain stay) and sharing.
    Recorded, with what changed (before, after), when something did."""
    name = _clean_name(name)
    cleaned, invalid = _validate(session, name, domains, except_id=org.id)
    if invalid:
        raise invalid
    before = {
        "name": org.name,
        "domains": org.domains or [],
        "shares_requests": org.shares_requests,
    }
    org.name, org.domains, org.shares_requests = name, cleaned, bool(shares_requests)
    after = {"name": org.name, "domains": org.domains, "shares_requests": org.shares_requests}
    changed = {key: [before[key], after[key]] for key in after if before[key] != after[key]}
    if changed:
        _record(session, "organization.changed", org, actor, ip, now, **changed)
    _commit_or_name_taken(session)
    return org


def delete_organization(
    session: Session,
    org: CustomerOrganization,
    *,
    actor: User | None = None,
    ip: str = "",
    now: datetime | None = None,
) -> None:
    """Members keep their accounts without an organization; its requests keep their requester
    but no organization (as the foreign keys' ON DELETE SET NULL would: done here too, so it
    holds without SQLite's foreign_keys pragma). Private forms forget it: ids can be reused."""
    session.execute(update(User).where(User.customer_org_id == org.id).values(customer_org_id=None))
    session.execute(
        update(Ticket).where(Ticket.customer_org_id == org.id).values(customer_org_id=None)
    )
    for form in session.scalars(select(InquiryForm).where(InquiryForm.audience == "organizations")):
        if org.id in (form.organization_ids or []):
            form.organization_ids = [i for i in form.organization_ids if i != org.id]
            form.version = InquiryForm.version + 1
    _record(session, "organization.deleted", org, actor, ip, now, domains=org.domains or [])
    session.delete(org)
    session.commit()


# -- members ------------------------------------------------------------------------------


def members(session: Session, org: CustomerOrganization) -> list[User]:
    """The organization's members by email."""
    return list(
        session.scalars(select(User).where(User.customer_org_id == org.id).order_by(User.email))
    )


def member_counts(session: Session, org_ids: Iterable[int]) -> dict[int, int]:
    """org id -> number of members (organizations without members are left out). One query."""
    ids = list(org_ids)
    if not ids:
        return {}
    return dict(
        session.execute(
            select(User.customer_org_id, func.count())
            .where(User.customer_org_id.in_(ids))
            .group_by(User.customer_org_id)
        ).all()
    )


def add_member(
    session: Session,
    org: CustomerOrganization,
    email: str,
    *,
    actor: User | None = None,
    ip: str = "",
    now: datetime | None = None,
) -> str | None:
    """Adds the customer account with this email; None when done, else an error code:
    email_required, account_unknown, not_customer (staff cannot be members), already_member,
    other_organization (remove them there first: a move should be deliberate)."""
    email = (email or "").strip().lower()
    if not email:
        return "email_required"
    user = session.scalar(select(User).where(User.email == email))
    if user is None:
        return "account_unknown"
    if user.role != "customer":
        return "not_customer"
    if user.customer_org_id == org.id:
        return "already_member"
    if user.customer_org_id is not None:
        return "other_organization"
    user.customer_org_id = org.id
    _record(session, "organization.member_added", org, actor, ip, now, member=[user.id, user.email])
    session.commit()
    return None


def remove_member(
    session: Session,
    org: CustomerOrganization,
    user: User,
    *,
    actor: User | None = None,
    ip: str = "",
    now: datetime | None = None,
) -> bool:
    """The account stays, without an organization; requests it sent stay the organization's."""
    if user.customer_org_id != org.id:
        return False
    user.customer_org_id = None
    _record(
        session, "organization.member_removed", org, actor, ip, now, member=[user.id, user.email]
    )
    session.commit()
    return True


# -- the list -----------------------------------------------------------------------------


@dataclass
class OrganizationPage:
    rows: list  # (organization, member count)
    next_after: int | None  # the id to continue after (keyset by name, then id)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def clean_search(text: str | None) -> str:
    return " ".join((text or "").split())[:MAX_SEARCH]


def organizations_page(
    session: Session, q: str = "", after: int | None = None, per_page: int | None = None
) -> OrganizationPage:
    """Organizations by name whose name contains `q` (any case), after the one with id `after`.
    Two queries: the page and its member counts."""
    per_page = per_page or PER_PAGE
    stmt = select(CustomerOrganization)
    q = clean_search(q)
    if q:
        pattern = f"%{_escape_like(q.lower())}%"
        stmt = stmt.where(func.lower(CustomerOrganization.name).like(pattern, escape="\\"))
    last = session.get(CustomerOrganization, after) if after and 0 < after <= MAX_ID else None
    if last is not None:
        stmt = stmt.where(
            or_(
                CustomerOrganization.name > last.name,
                and_(CustomerOrganization.name == last.name, CustomerOrganization.id > last.id),
            )
        )
    orgs = list(
        session.scalars(
            stmt.order_by(CustomerOrganization.name, CustomerOrganization.id).limit(per_page + 1)
        )
    )
    next_after = None
    if len(orgs) > per_page:
        orgs = orgs[:per_page]
        next_after = orgs[-1].id
    counts = member_counts(session, [org.id for org in orgs])
    return OrganizationPage([(org, counts.get(org.id, 0)) for org in orgs], next_after)
