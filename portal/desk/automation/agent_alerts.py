"""Agent notifications: mail and an in-app count when something needs an agent's attention."""

from sqlalchemy.orm import Session


def on_event(session: Session, event) -> None:
    """Tell the agents concerned by this event, as each chose in their settings."""


def notify_group(session: Session, group_id: int, ticket, reason: str, now, actor=None) -> int:
    """Tell the members of a group about `ticket` (the schedule bot's "notify the group"
    action), with `reason` as the text; how many agents were told. (Stub: built by issue 19's
    agent notifications.)"""
    return 0
