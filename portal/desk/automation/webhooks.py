"""Team-chat webhooks: ticket events delivered to Slack, Telegram, JANDI or a signed URL."""

from sqlalchemy.orm import Session


def on_event(session: Session, event) -> None:
    """Queue a delivery to each webhook target of the ticket's brand subscribed to this event."""


def notify(
    session: Session, target_id: int, ticket, kind: str, now, text: str | None = None
) -> bool:
    """Queue one delivery about `ticket` to a webhook target of the ticket's brand (a rule's
    "notify a webhook" action, the schedule bot's alerts): `kind` an event kind or "alert",
    `text` the message; False when the target is gone, inactive or of another brand. (Stub:
    built by issue 19's webhooks.)"""
    return False


def targets_of_brand(session: Session, brand_id: int) -> list:
    """The brand's webhook targets (for choosing one in a rule or schedule action), by name.
    (Stub: built by issue 19's webhooks.)"""
    return []
