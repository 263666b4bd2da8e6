"""Agent notifications: mail and an in-app count when something needs an agent's attention."""

from sqlalchemy.orm import Session


def on_event(session: Session, event) -> None:
    """Tell the agents concerned by this event, as each chose in their settings."""
