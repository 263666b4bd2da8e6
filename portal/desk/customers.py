"""Customers as agents see them: one person's requests across the agent's brands, their
organization, language, devices and the internal notes on their requests."""

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from kb.models import Brand
from kb.people import CustomerOrganization, User
from portal.desk.models import Ticket, TicketMessage
from portal.desk.trash import live

MAX_REQUESTS = 50
MAX_DEVICES = 5
MAX_NOTES = 10
MAX_EMAIL = 254


@dataclass
class CustomerRequest:
    ticket: Ticket
    brand_name: str


@dataclass
class CustomerProfile:
    name: str
    email: str
    user_id: int | None  # None: no account, known by the email of their requests
    since: datetime | None  # the account's creation
    organization: str | None
    language: str
    requests: list[CustomerRequest] = field(default_factory=list)
    devices: list[str] = field(default_factory=list)  # user agents, latest first
    notes: list[TicketMessage] = field(default_factory=list)  # latest first


def profile(
    session: Session,
    brand_ids: list[int] | None,
    *,
    user_id: int | None = None,
    email: str | None = None,
) -> CustomerProfile | None:
    """The profile of an account (`user_id`) or of a requester without one (`email`), from
    their requests in the agent's brands (`brand_ids` None: every brand). None when they have
    no request there: agents see only people they serve. Four queries."""
    user = session.get(User, user_id) if user_id is not None else None
    if user_id is not None and user is None:
        return None
    email = (email or "").strip()
    if user is None and not 0 < len(email) <= MAX_EMAIL:
        return None
    if user is not None:
        # Their requests, and those sent with their address before they had an account.
        whose = or_(
            Ticket.requester_id == user.id,
            (Ticket.requester_id.is_(None)) & (Ticket.requester_email == user.email),
        )
    else:
        whose = (Ticket.requester_id.is_(None)) & (Ticket.requester_email == email)
    stmt = (
        select(Ticket, Brand.name)
        .join(Brand, Brand.id == Ticket.brand_id)
        .where(whose, live())
        .order_by(Ticket.updated_at.desc(), Ticket.id.desc())
        .limit(MAX_REQUESTS)
    )
    if brand_ids is not None:
        stmt = stmt.where(Ticket.brand_id.in_(brand_ids))
    requests = [CustomerRequest(t, name) for t, name in session.execute(stmt)]
    if not requests:
        return None
    latest = requests[0].ticket
    org_id = (user.customer_org_id if user else None) or latest.customer_org_id
    org = session.get(CustomerOrganization, org_id) if org_id else None
    devices: list[str] = []
    for r in requests:
        agent = (r.ticket.details or {}).get("user_agent")
        if agent and agent not in devices and len(devices) < MAX_DEVICES:
            devices.append(str(agent))
    notes = session.scalars(
        select(TicketMessage)
        .where(
            TicketMessage.ticket_id.in_([r.ticket.id for r in requests]),
            TicketMessage.public.is_(False),
        )
        .order_by(TicketMessage.created_at.desc(), TicketMessage.id.desc())
        .limit(MAX_NOTES)
    )
    return CustomerProfile(
        name=user.name if user else latest.requester_name,
        email=user.email if user else email,
        user_id=user.id if user else None,
        since=user.created_at if user else None,
        organization=org.name if org else None,
        language=(user.locale if user and user.locale else None) or latest.locale,
        requests=requests,
        devices=devices,
        notes=list(notes),
    )


def account_id_for(session: Session, email: str) -> int | None:
    """The account of this address, if there is one (its profile gathers more)."""
    return session.scalar(select(User.id).where(User.email == (email or "").strip()).limit(1))
