"""Canned responses: who may use and change which, saving them, and inserting them (their
placeholders filled by portal.desk.placeholders)."""

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.orm import Session

from kb.models import Brand
from kb.people import User
from portal.desk import placeholders
from portal.desk.models import CannedResponse, Ticket

MAX_TITLE = 200
MAX_BODY = 10_000


def visible(agent_id: int, brand_ids: list[int] | None) -> Select:
    """The agent's personal responses and the shared ones of their brands (None: every brand)."""
    shared = CannedResponse.owner_id.is_(None)
    if brand_ids is not None:
        shared = and_(shared, CannedResponse.brand_id.in_(brand_ids))
    return (
        select(CannedResponse)
        .where(or_(CannedResponse.owner_id == agent_id, shared))
        .order_by(CannedResponse.title, CannedResponse.id)
    )


def usable_for_ticket(agent_id: int, ticket: Ticket) -> Select:
    """What the agent may insert into this ticket: personal ones and the ticket's brand's."""
    return (
        select(CannedResponse)
        .where(
            or_(
                CannedResponse.owner_id == agent_id,
                and_(CannedResponse.owner_id.is_(None), CannedResponse.brand_id == ticket.brand_id),
            )
        )
        .order_by(CannedResponse.title, CannedResponse.id)
    )


def may_change(response: CannedResponse, agent_id: int, brand_ids: list[int] | None) -> bool:
    """Personal ones by their owner; shared ones by any agent of the brand (or an admin)."""
    if response.owner_id is not None:
        return response.owner_id == agent_id
    return brand_ids is None or response.brand_id in brand_ids


def scope_brands(session: Session, brand_ids: list[int] | None) -> list[Brand]:
    """The brands an agent may share a response with, by name."""
    stmt = select(Brand).order_by(Brand.name, Brand.id)
    if brand_ids is not None:
        stmt = stmt.where(Brand.id.in_(brand_ids))
    return list(session.scalars(stmt))


def save(
    session: Session,
    response: CannedResponse | None,
    agent_id: int,
    title: str,
    body: str,
    brand_id: int,
    personal: bool,
) -> CannedResponse:
    """Create or update; a personal response still records a brand (the column is required)."""
    if response is None:
        response = CannedResponse()
        session.add(response)
    response.title = title
    response.body = body
    response.brand_id = brand_id
    response.owner_id = agent_id if personal else None
    session.flush()
    return response


def append(current: str, filled: str) -> str:
    """The agent's text first, a blank line, then the response."""
    current = current.rstrip()
    return f"{current}\n\n{filled}" if current else filled


def insert(session: Session, agent: User, ticket: Ticket, canned_id, current: str) -> str | None:
    """The reply text with a response added, or None when it is not usable for this ticket."""
    if canned_id is None:
        return None
    stmt = usable_for_ticket(agent.id, ticket).where(CannedResponse.id == canned_id)
    response = session.scalar(stmt)
    if response is None:
        return None
    return append(current, placeholders.fill(response.body, ticket, agent))
