"""Team-chat webhooks: ticket events delivered to Slack, Telegram, JANDI or a signed URL."""

from sqlalchemy.orm import Session


def on_event(session: Session, event) -> None:
    """Queue a delivery to each webhook target of the ticket's brand subscribed to this event."""
