"""Customer notifications: mail to the requester as a ticket's status changes."""

from sqlalchemy.orm import Session


def on_event(session: Session, event) -> None:
    """Queue the requester's notification for this event, when the brand has it switched on."""


def remind(session: Session, ticket, now) -> bool:
    """Mail the requester the brand's "pending reminder" (the schedule bot's "remind" action),
    when the brand has it switched on; whether a mail was queued. (Stub: built by issue 19's
    customer notifications.)"""
    return False
