"""Team-chat webhooks: ticket events delivered to Slack, Telegram, JANDI or a signed URL.

A ticket event (new ticket, customer reply, assignment) and the schedule bot's alerts queue one
WebhookDelivery per active target of the ticket's brand subscribed to it: a row added in the
caller's transaction, nothing sent there. The scheduler leader posts the rows
(portal.desk.automation.deliveries), so a slow or broken receiver never slows or breaks a
ticket operation.

What leaves Portal: the ticket number, subject, status, priority, brand and the agent link
(built on PORTAL_BASE_URL), and for a new ticket or a customer reply the first EXCERPT_CHARS
characters of the customer's public message (as Slack's own help-desk integrations show).
Signed targets, meant for programs, also get the requester's email. Internal notes, agent
replies' text and other fields never leave.

URLs (Slack's, JANDI's and Telegram's hold their tokens) and signing secrets are sealed at rest
(portal.security.sealing) and never shown again once saved; a secret is shown once, when made
or rotated. Rotation takes effect at once, with no grace period for the old secret: deliveries
refused meanwhile by the receiver are retried for about four hours (deliveries.RETRY_DELAYS),
signed with the new secret, so updating the receiver within that window loses nothing.

Private and loopback addresses are refused at save time and at every delivery
(portal.web.outbound) unless `allow_private` is set, which only admins holding "security" on
every brand may do (the views enforce it).
"""

import secrets
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from flask import has_app_context
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kb.models import Brand
from kb.people import User
from portal.desk.automation import events
from portal.desk.automation.models import WebhookDelivery, WebhookTarget
from portal.security import audit, sealing
from portal.web import outbound

TICKET_CREATED, CUSTOMER_REPLIED, ASSIGNED = (
    events.TICKET_CREATED,
    events.CUSTOMER_REPLIED,
    events.ASSIGNED,
)
SLACK, TELEGRAM, JANDI, SIGNED = "slack", "telegram", "jandi", "signed"
KINDS = (SLACK, TELEGRAM, JANDI, SIGNED)
ALERT = "alert"  # the schedule bot's alerts (and a rule's "notify a webhook")
TEST = "test"  # "Send a test"
EVENTS = (TICKET_CREATED, CUSTOMER_REPLIED, ASSIGNED)
SUBSCRIBABLE = (*EVENTS, ALERT)
EXCERPT_CHARS = 200
JANDI_ACCEPT = "application/vnd.tosslab.jandi-v2+json"
LOG_PAGE = 25


@dataclass(frozen=True)
class TargetSettings:
    """What an admin sets on a target. `url` None or "" on an existing target keeps the saved
    one; `allow_private` None keeps the saved value (an admin without "security" everywhere)."""

    name: str
    kind: str
    url: str | None
    chat_id: str | None
    events: tuple[str, ...]
    active: bool
    allow_private: bool | None = None


def refusal(url: str, allow_private: bool) -> str | None:
    """Why `url` cannot be a target's address (naming a refused address), or None."""
    try:
        outbound.check(url, allow_private)
    except outbound.Refused as refused:
        return str(refused)
    return None


# --- targets ------------------------------------------------------------------------------------


def targets_of_brand(session: Session, brand_id: int) -> list:
    """The brand's webhook targets (for choosing one in a rule or schedule action), by name."""
    return list(
        session.scalars(
            select(WebhookTarget)
            .where(WebhookTarget.brand_id == brand_id)
            .order_by(WebhookTarget.name, WebhookTarget.id)
        )
    )


def last_deliveries(session: Session, target_ids: list[int]) -> dict[int, WebhookDelivery]:
    """Each target's newest delivery, for the list of targets (one query)."""
    if not target_ids:
        return {}
    newest = (
        select(func.max(WebhookDelivery.id))
        .where(WebhookDelivery.target_id.in_(target_ids))
        .group_by(WebhookDelivery.target_id)
    )
    rows = session.scalars(select(WebhookDelivery).where(WebhookDelivery.id.in_(newest)))
    return {row.target_id: row for row in rows}


def save_target(
    session: Session,
    actor,
    brand: Brand,
    target: WebhookTarget | None,
    settings: TargetSettings,
    now: datetime,
    secret_key: str,
    ip: str = "",
) -> tuple[WebhookTarget, str | None]:
    """Create or change a target of `brand`; (target, the new signing secret to show once, or
    None). Raises ValueError for an unknown kind, a missing URL or a refused address."""
    if settings.kind not in KINDS:
        raise ValueError(f"unknown kind {settings.kind!r}")
    new = target is None
    allow_private = (
        settings.allow_private
        if settings.allow_private is not None
        else bool(target and target.allow_private)
    )
    if settings.url:
        why = refusal(settings.url, allow_private)
        if why:
            raise ValueError(why)
    elif new:
        raise ValueError("a new target needs its URL")
    elif not allow_private and target.allow_private:
        # Private addresses switched off: the saved URL must pass on its own.
        why = refusal(sealing.unseal(target.url, secret_key), False)
        if why:
            raise ValueError(why)
    if new:
        target = WebhookTarget(brand_id=brand.id, created_at=now)
        session.add(target)
    target.name = settings.name
    target.kind = settings.kind
    if settings.url:
        target.url = sealing.seal(settings.url, secret_key)
        target.host = urlsplit(settings.url).hostname or ""
    target.chat_id = (settings.chat_id or None) if settings.kind == TELEGRAM else None
    target.events = [e for e in SUBSCRIBABLE if e in settings.events]
    target.active = settings.active
    target.allow_private = allow_private
    target.updated_at = now
    secret = None
    if settings.kind == SIGNED and not target.secret:
        secret = _new_secret()
        target.secret = sealing.seal(secret, secret_key)
    elif settings.kind != SIGNED:
        target.secret = None
    session.flush()
    _audit(
        session,
        "automation.webhook_created" if new else "automation.webhook_changed",
        target,
        now,
        actor,
        ip,
        {"kind": target.kind, "host": target.host, "events": target.events},
    )
    return target, secret


def rotate_secret(
    session: Session, actor, target: WebhookTarget, now: datetime, secret_key: str, ip: str = ""
) -> str:
    """A new signing secret for a signed target, in force at once; returned to show once."""
    if target.kind != SIGNED:
        raise ValueError("only signed targets have a secret")
    secret = _new_secret()
    target.secret = sealing.seal(secret, secret_key)
    target.updated_at = now
    _audit(session, "automation.webhook_secret_rotated", target, now, actor, ip, {})
    return secret


def delete_target(session: Session, actor, target: WebhookTarget, now: datetime, ip: str = ""):
    """Remove a target with its queue and delivery log."""
    _audit(session, "automation.webhook_deleted", target, now, actor, ip, {"host": target.host})
    session.delete(target)
    session.flush()


def _new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def _audit(session, action, target, now, actor, ip, details) -> None:
    audit.record(
        session,
        action,
        now=now,
        actor=actor,
        target=f"webhook:{target.id}",
        target_name=target.name,
        brand_id=target.brand_id,
        ip=ip or "",
        details=details,
    )


# --- queueing -----------------------------------------------------------------------------------


# The events a target can subscribe to.
LISTENS_TO = EVENTS


def on_event(session: Session, event) -> None:
    """Queue a delivery to each webhook target of the ticket's brand subscribed to this event."""
    if event.kind not in EVENTS:
        return
    ticket = event.ticket
    targets = [
        t
        for t in session.scalars(
            select(WebhookTarget).where(
                WebhookTarget.brand_id == ticket.brand_id, WebhookTarget.active.is_(True)
            )
        )
        if event.kind in (t.events or [])
    ]
    if not targets:
        return
    text = _event_text(session, event)
    for target in targets:
        _queue(session, target, event.kind, ticket, text, event.now)


def notify(
    session: Session, target_id: int, ticket, kind: str, now, text: str | None = None
) -> bool:
    """Queue one delivery about `ticket` to a webhook target of the ticket's brand (a rule's
    "notify a webhook" action, the schedule bot's alerts): `kind` an event kind or "alert",
    `text` the message; False when the target is gone, inactive or of another brand."""
    target = session.get(WebhookTarget, target_id)
    if target is None or not target.active or target.brand_id != ticket.brand_id:
        return False
    _queue(session, target, kind, ticket, text or "", now)
    return True


def queue_test(session: Session, target: WebhookTarget, now: datetime) -> WebhookDelivery:
    """A test delivery ("Send a test"), about no ticket."""
    return _queue(session, target, TEST, None, "", now)


def retry_now(session: Session, delivery: WebhookDelivery, now: datetime) -> None:
    """Make a failed (or waiting) delivery due now, with its attempts counted afresh."""
    if delivery.delivered_at is not None:
        return
    delivery.failed_at = None
    delivery.attempts = 0
    delivery.next_attempt_at = now
    delivery.claimed_until = None


def _queue(session, target, kind, ticket, text, now) -> WebhookDelivery:
    delivery = WebhookDelivery(
        target_id=target.id,
        event=kind,
        ticket_id=ticket.id if ticket is not None else None,
        payload=payload(session, target, kind, ticket, text, now),
        created_at=now,
        attempts=0,
        next_attempt_at=now,
    )
    session.add(delivery)
    return delivery


def _event_text(session, event) -> str:
    """A short line about what happened: the customer's words, or who it went to."""
    if event.kind == TICKET_CREATED:
        return _excerpt(event.ticket.description)
    if event.kind == CUSTOMER_REPLIED:
        message = event.message
        if message is not None and getattr(message, "public", True):
            return _excerpt(message.body)
        return ""
    if event.kind == ASSIGNED:
        new = event.new or {}
        assignee = session.get(User, new["assignee_id"]) if new.get("assignee_id") else None
        if assignee is not None:
            return assignee.name
        return ""
    return ""


def _excerpt(text: str | None) -> str:
    words = " ".join((text or "").split())
    return words if len(words) <= EXCERPT_CHARS else words[: EXCERPT_CHARS - 1] + "…"


# --- what is posted -----------------------------------------------------------------------------

_TITLES = {
    TICKET_CREATED: "New request",
    CUSTOMER_REPLIED: "Customer replied",
    ASSIGNED: "Assigned",
    ALERT: "Alert",
    TEST: "Test from Portal",
}
_JANDI_COLOURS = {
    TICKET_CREATED: "#2E7D32",
    CUSTOMER_REPLIED: "#1565C0",
    ASSIGNED: "#6A1B9A",
    ALERT: "#C62828",
    TEST: "#616161",
}


def ticket_link(ticket_id: int) -> str | None:
    """The agents' page of the ticket on PORTAL_BASE_URL (never the request's host)."""
    if not has_app_context():
        return None
    from portal.mail.compose import absolute_url

    return absolute_url("agent.ticket", ticket_id=ticket_id)


def payload(session, target, kind: str, ticket, text: str, now: datetime) -> dict:
    """The JSON body posted to `target` (without anything secret: Telegram's token is in the
    URL, the signature in headers made at send time)."""
    title = _TITLES.get(kind, kind)
    brand = session.get(Brand, ticket.brand_id if ticket is not None else target.brand_id)
    brand_name = brand.name if brand is not None else ""
    link = ticket_link(ticket.id) if ticket is not None else None
    if ticket is not None:
        headline = f"{title} #{ticket.id} ({brand_name}): {ticket.subject}"
    else:
        headline = f"{title}: {target.name} ({brand_name})"
    if target.kind == SIGNED:
        body = {
            "event": kind,
            "sent_at": now.isoformat(),
            "brand": brand_name,
            "text": text or None,
            "ticket": None,
        }
        if ticket is not None:
            body["ticket"] = {
                "id": ticket.id,
                "subject": ticket.subject,
                "status": ticket.status,
                "priority": ticket.priority,
                "brand": brand_name,
                "link": link,
                "requester_email": ticket.requester_email,
            }
        return body
    if target.kind == SLACK:
        lines = [f"<{link}|{_slack_escape(headline)}>" if link else _slack_escape(headline)]
        if text:
            lines.append(_slack_escape(text))
        return {"text": "\n".join(lines)}
    if target.kind == TELEGRAM:
        lines = [headline] + ([text] if text else []) + ([link] if link else [])
        return {"chat_id": target.chat_id or "", "text": "\n".join(lines)}
    info = [{"title": ticket.subject if ticket is not None else title, "description": text or ""}]
    if link:
        info[0]["description"] = (text + "\n" if text else "") + link
    return {
        "body": f"[{headline}]({link})" if link else headline,
        "connectColor": _JANDI_COLOURS.get(kind, "#616161"),
        "connectInfo": info,
    }


def _slack_escape(text: str) -> str:
    """Slack's mrkdwn control characters, escaped as Slack documents."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
