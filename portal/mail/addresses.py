"""Support addresses: the addresses Portal receives mail at, for a brand or for one of its
customer organizations, and the form their mail opens tickets with.

Mutating functions validate first (raising `InvalidAddress` with field -> error code, like
portal.desk.orgs) and commit. Addresses are stored stripped and lower case, with an ASCII (IDNA)
domain. Their local part has no "+": Portal's reply addresses add a `+tag` of their own
(portal.mail.tokens), and mail to any `+...` form of a known address comes in through it.
"""

import re
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kb import clock
from kb.models import Brand
from kb.people import CustomerOrganization, User
from portal.desk.intake import form_usable_by
from portal.desk.models import InquiryForm
from portal.desk.orgs import normalise_address, normalise_domain
from portal.mail.models import InboundMail, MailAddress, Mailbox
from portal.security import audit

MAX_ADDRESS = 254
MAX_NAME = 200
# RFC 5322 atext and dots, without "+" (our reply tag) and in lower case.
_LOCAL_PART = re.compile(r"[a-z0-9!#$%&'*/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*/=?^_`{|}~-]+)*")


class InvalidAddress(ValueError):
    """A support address broke a rule: `errors` maps field names (the keyword arguments of
    `add` and `change`) to error codes."""

    def __init__(self, errors: dict[str, str]):
        super().__init__(", ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def _address_problem(address: str) -> str | None:
    """The error code for an address as normalised, or None when it is usable."""
    local, at, domain = address.rpartition("@")
    if not address:
        return "address_required"
    if not at or not local or len(address) > MAX_ADDRESS or len(local) > 64:
        return "address_invalid"
    if "+" in local:
        return "address_plus"
    if not _LOCAL_PART.fullmatch(local) or normalise_domain(domain) != domain:
        return "address_invalid"
    return None


def _clean_name(name: str | None) -> str:
    """One line: the name goes into the From header of the mail sent from this address."""
    return " ".join(str(name or "").split())


def _validate(
    session: Session,
    address: str,
    brand_id: int | None,
    form_id: int | None,
    customer_org_id: int | None,
    name: str,
    except_id: int | None = None,
) -> None:
    errors: dict[str, str] = {}
    problem = _address_problem(address)
    if problem is None:
        taken = select(MailAddress.id).where(MailAddress.address == address)
        if except_id is not None:
            taken = taken.where(MailAddress.id != except_id)
        if session.scalar(taken.limit(1)) is not None:
            problem = "address_taken"
    if problem:
        errors["address"] = problem
    if len(name) > MAX_NAME:
        errors["name"] = "name_too_long"
    brand = session.get(Brand, brand_id) if brand_id else None
    if brand is None:
        errors["brand_id"] = "brand_unknown"
    form = session.get(InquiryForm, form_id) if form_id else None
    if form_id and (form is None or (brand is not None and form.brand_id != brand.id)):
        errors["form_id"] = "form_other_brand"
    if customer_org_id is not None:
        if session.get(CustomerOrganization, customer_org_id) is None:
            errors["customer_org_id"] = "organization_unknown"
        elif "form_id" not in errors and not _form_for_organization(form, customer_org_id):
            errors["form_id"] = "organization_form"
    if errors:
        raise InvalidAddress(errors)


def _form_for_organization(form: InquiryForm | None, org_id: int) -> bool:
    """An organization's address opens private requests: through a form for chosen
    organizations that this one may use (the brand's first form could be anyone's)."""
    return (
        form is not None
        and form.audience == "organizations"
        and form_usable_by(form, signed_in=True, org_id=org_id)
    )


def _commit_or_taken(session: Session) -> None:
    """Two admins saving the same address at once: the unique constraint decides."""
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise InvalidAddress({"address": "address_taken"}) from None


def add(
    session: Session,
    *,
    address: str,
    brand_id: int | None,
    form_id: int | None,
    customer_org_id: int | None,
    name: str,
    now: datetime,
    actor: User | None = None,
    ip: str = "",
) -> MailAddress:
    """A new support address: the brand's own (`customer_org_id` None) or an organization's.
    Recorded in the system log."""
    address, name = normalise_address(address), _clean_name(name)
    _validate(session, address, brand_id, form_id, customer_org_id, name)
    row = MailAddress(
        address=address,
        brand_id=brand_id,
        form_id=form_id,
        customer_org_id=customer_org_id,
        name=name,
        created_at=now,
    )
    session.add(row)
    session.flush()
    _record(session, "mail_address.created", row, actor, ip, now, **_settings(row))
    _commit_or_taken(session)
    return row


_SETTINGS = ("address", "brand_id", "form_id", "customer_org_id", "name")


def _settings(row: MailAddress) -> dict:
    return {name: getattr(row, name) for name in _SETTINGS}


def _record(session, action, row, actor, ip, now, **details) -> None:
    """The system-log entry of an address's change, in its transaction (`now` None: the
    clock's)."""
    audit.record(
        session,
        action,
        now=now or clock.now(),
        kind=audit.SYSTEM,
        actor=actor,
        target=f"mail_address:{row.id}",
        target_name=row.address,
        brand_id=row.brand_id,
        ip=ip,
        details=details,
    )


def change(
    session: Session,
    row: MailAddress,
    *,
    address: str,
    brand_id: int | None,
    form_id: int | None,
    customer_org_id: int | None,
    name: str,
    actor: User | None = None,
    ip: str = "",
    now: datetime | None = None,
) -> MailAddress:
    """New settings for an address; mail already received keeps what it became. Recorded
    (before, after) when something changed."""
    address, name = normalise_address(address), _clean_name(name)
    _validate(session, address, brand_id, form_id, customer_org_id, name, except_id=row.id)
    row.address, row.brand_id, row.form_id = address, brand_id, form_id
    before = _settings(row)
    row.customer_org_id, row.name = customer_org_id, name
    changed = {k: [before[k], v] for k, v in _settings(row).items() if before[k] != v}
    if changed:
        _record(session, "mail_address.changed", row, actor, ip, now, **changed)
    _commit_or_taken(session)
    return row


def remove(
    session: Session,
    row: MailAddress,
    *,
    actor: User | None = None,
    ip: str = "",
    now: datetime | None = None,
) -> None:
    """Mail to it is no longer taken; the messages received through it and the mailbox
    fetched for it stay, without it (as ON DELETE SET NULL would: done here too, so it holds
    without SQLite's foreign_keys pragma)."""
    session.execute(
        update(InboundMail).where(InboundMail.address_id == row.id).values(address_id=None)
    )
    session.execute(update(Mailbox).where(Mailbox.address_id == row.id).values(address_id=None))
    _record(session, "mail_address.deleted", row, actor, ip, now, **_settings(row))
    session.delete(row)
    session.commit()


def for_brand(session: Session, brand_id: int) -> list[MailAddress]:
    """The brand's addresses: its own first, then its organizations', each by address."""
    return list(
        session.scalars(
            select(MailAddress)
            .where(MailAddress.brand_id == brand_id)
            .order_by(MailAddress.customer_org_id.is_not(None), MailAddress.address)
        )
    )
