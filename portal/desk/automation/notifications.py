"""Customer notifications: mail to the requester as a ticket's status changes."""

from sqlalchemy.orm import Session


def on_event(session: Session, event) -> None:
    """Queue the requester's notification for this event, when the brand has it switched on."""
