"""The demo's agent notifications: Agnes Agent has a few unread ones (the badge in /agent shows
them; with the scheduler on, `make run` mails her one digest of them into the mail sink)."""

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from kb import clock
from kb.people import User
from portal.desk.automation.models import AgentNotice
from portal.desk.models import Ticket


def load(session: Session, users: dict[str, User]) -> None:
    """Adds them once (nothing when the agent has notices already)."""
    agent = users["agent@example.com"]
    if session.scalar(select(AgentNotice.id).where(AgentNotice.user_id == agent.id)):
        return
    found = list(
        session.scalars(
            select(Ticket).where(Ticket.deleted_at.is_(None)).order_by(Ticket.id).limit(3)
        )
    )
    now = clock.now()
    told = (
        ("assigned_to_me", "Ada Admin", ""),
        ("customer_replied", None, ""),
        ("mentioned", "Leo Light", "@Agnes Agent could you check the refund status?"),
    )
    for n, (ticket, (kind, actor, text)) in enumerate(zip(found, told, strict=False)):
        session.add(
            AgentNotice(
                user_id=agent.id,
                ticket_id=ticket.id,
                kind=kind,
                text=text,
                actor_name=actor or ticket.requester_name,
                created_at=now - timedelta(minutes=10 * (3 - n)),
            )
        )
    session.flush()
