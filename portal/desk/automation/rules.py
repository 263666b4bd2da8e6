"""The rule bot: ordered rules per brand, with conditions and actions, run on ticket events."""

from sqlalchemy.orm import Session


def on_event(session: Session, event) -> None:
    """Run the brand's active rules for this event (portal.desk.automation.events)."""
