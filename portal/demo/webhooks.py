"""Demo webhook: Hanbit Pay posts signed JSON to a receiver on this computer that `make run` does
not start (http://127.0.0.1:9999/portal-hook, private addresses allowed), so the admin pages show
it failing, with a delivery log (connection refused: immediate, the loader does not wait)."""

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from kb import clock
from portal.desk.automation import deliveries, webhooks
from portal.desk.automation.models import WebhookDelivery, WebhookTarget
from portal.desk.models import Ticket

NAME = "Receiver on this computer"
URL = "http://127.0.0.1:9999/portal-hook"


def load(session: Session, brands: dict) -> None:
    """Add the webhook once (kept as is when present), queue one delivery and try it."""
    brand = brands.get("hanbit-pay")
    if brand is None:
        return
    found = session.scalar(
        select(WebhookTarget).where(WebhookTarget.brand_id == brand.id, WebhookTarget.name == NAME)
    )
    if found is not None:
        return
    now = clock.now()
    key = current_app.config["SECRET_KEY"]
    settings = webhooks.TargetSettings(
        name=NAME,
        kind=webhooks.SIGNED,
        url=URL,
        chat_id=None,
        events=webhooks.SUBSCRIBABLE,
        active=True,
        allow_private=True,
    )
    target, _secret = webhooks.save_target(session, None, brand, None, settings, now, key)
    ticket = session.scalar(
        select(Ticket).where(Ticket.brand_id == brand.id).order_by(Ticket.id.desc()).limit(1)
    )
    if ticket is None:
        webhooks.queue_test(session, target, now)
    else:
        webhooks.notify(session, target.id, ticket, "ticket_created", now, ticket.subject)
    session.commit()
    [delivery_id] = session.scalars(
        deliveries.delivery_log(target.id).with_only_columns(WebhookDelivery.id)
    )
    deliveries.deliver_one(sessionmaker(session.get_bind()), delivery_id, clock.now(), key)
