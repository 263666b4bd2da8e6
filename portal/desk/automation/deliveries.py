"""Webhook deliveries posted from their queue (webhook_deliveries), as the mail outbox sends.

`deliver_due` (the scheduler leader, every 30 s) claims due rows one at a time with a
conditional UPDATE of `claimed_until` (rowcount 1 = ours, as portal.mail.outbox claims), so two
workers never post one row at once; each outcome is recorded in its own short transaction.
A 2xx answer delivers; anything else (another status, a refused address, no connection, a
timeout) is retried after RETRY_DELAYS and given up after MAX_ATTEMPTS (`failed_at`). Every
attempt records the status code, the error and how long it took; URLs (which hold tokens) and
secrets never reach the log.

Signed targets get, over the exact bytes of the body:
    X-Portal-Timestamp: <unix seconds>
    X-Portal-Signature: sha256=<hex HMAC-SHA256(secret, f"{timestamp}.{body}")>
    X-Portal-Delivery: <the delivery's id, the same on every retry: for de-duplication>
(the README's "Webhooks" section has a verifier).
"""

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from portal.desk.automation import webhooks
from portal.desk.automation.models import WebhookDelivery, WebhookTarget
from portal.security import sealing
from portal.web import outbound

log = logging.getLogger(__name__)

# After the n-th failed attempt the next waits RETRY_DELAYS[n - 1]: 1, 2, 4 ... 64 minutes.
RETRY_DELAYS = tuple(timedelta(minutes=2**n) for n in range(7))
MAX_ATTEMPTS = 8
# How long a sender owns a claimed row: longer than one post can take (timeouts, redirects).
CLAIM_SECONDS = 120
KEEP_DELIVERED = timedelta(days=30)
USER_AGENT = "Portal-Webhooks/1"


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The X-Portal-Signature value for `body` sent at `timestamp`."""
    message = str(timestamp).encode() + b"." + body
    return "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def retry_delay(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failed attempt."""
    return RETRY_DELAYS[min(attempts, len(RETRY_DELAYS)) - 1]


def due(now: datetime):
    """Ids of deliveries to try now, oldest due first (claimed ones once their claim lapsed)."""
    return (
        select(WebhookDelivery.id)
        .where(
            WebhookDelivery.delivered_at.is_(None),
            WebhookDelivery.failed_at.is_(None),
            WebhookDelivery.next_attempt_at <= now,
            or_(WebhookDelivery.claimed_until.is_(None), WebhookDelivery.claimed_until < now),
        )
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
    )


def deliver_due(
    sessions: Callable[[], Session], now: datetime, secret_key: str, batch: int = 50
) -> dict[str, int]:
    """Post up to `batch` due deliveries; {"delivered", "failed", "gave_up"} for this run."""
    with sessions() as session:
        ids = list(session.scalars(due(now).limit(batch)))
    counts = {"delivered": 0, "failed": 0, "gave_up": 0}
    started = time.monotonic()
    for delivery_id in ids:
        at = now + timedelta(seconds=time.monotonic() - started)
        outcome = deliver_one(sessions, delivery_id, at, secret_key)
        if outcome is not None:
            counts[outcome] += 1
    if any(counts.values()):
        log.info("webhooks: %s", counts)
    return counts


def deliver_one(
    sessions: Callable[[], Session], delivery_id: int, now: datetime, secret_key: str
) -> str | None:
    """Claim one delivery and post it: "delivered", "failed" (retried later), "gave_up", or
    None when another worker has it or it is done. Never call inside a ticket's transaction:
    it commits, and waits for the receiver (TIMEOUT_SECONDS at most per request)."""
    claimed = _claim(sessions, delivery_id, now, secret_key)
    if claimed is None:
        return None
    attempts, request, allow_private = claimed
    started = time.monotonic()
    status, error = None, None
    try:
        if isinstance(request, Exception):
            raise request
        url, body, headers = request
        answer = outbound.post(url, body, headers, allow_private=allow_private)
        status = answer.status
        if not 200 <= status < 300:
            error = f"HTTP {status}: {' '.join(answer.body.split())[:200]}"
    except (outbound.Refused, outbound.FetchError, ValueError, sealing.SealError) as exc:
        error = f"{type(exc).__name__}: {exc}"
    duration_ms = int((time.monotonic() - started) * 1000)
    if error and not isinstance(request, Exception):
        error = _without_url(error, request[0])
    return _record(sessions, delivery_id, attempts + 1, status, error, duration_ms, now)


def _without_url(text: str, url: str) -> str:
    """The text without the URL's path and query (tokens live there)."""
    parts = urlsplit(url)
    for secret in (parts.path, parts.query):
        if len(secret) > 1:
            text = text.replace(secret, "/***")
    return text


def _claim(sessions, delivery_id: int, at: datetime, secret_key: str):
    """(attempts so far, (url, body, headers) or the reason it cannot be built, allow_private)
    when this worker now owns the row, else None."""
    with sessions() as session:
        result = session.execute(
            update(WebhookDelivery)
            .where(
                WebhookDelivery.id == delivery_id,
                WebhookDelivery.delivered_at.is_(None),
                WebhookDelivery.failed_at.is_(None),
                or_(WebhookDelivery.claimed_until.is_(None), WebhookDelivery.claimed_until < at),
            )
            .values(claimed_until=at + timedelta(seconds=CLAIM_SECONDS))
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            session.rollback()
            return None
        delivery = session.get(WebhookDelivery, delivery_id)
        target = session.get(WebhookTarget, delivery.target_id)
        try:
            request = build_request(target, delivery, secret_key, int(at.timestamp()))
        except (ValueError, sealing.SealError) as exc:
            request = exc
        claimed = (delivery.attempts, request, target.allow_private)
        session.commit()
    return claimed


def build_request(
    target: WebhookTarget, delivery: WebhookDelivery, secret_key: str, timestamp: int
) -> tuple[str, bytes, dict[str, str]]:
    """(url, body, headers) of a delivery, sealed parts opened (SealError when SECRET_KEY
    changed: the admin types the URL again)."""
    try:
        url = sealing.unseal(target.url, secret_key)
    except sealing.SealError as exc:
        raise ValueError("the saved URL cannot be opened: save the target's URL again") from exc
    body = json.dumps(delivery.payload, ensure_ascii=False, separators=(",", ":")).encode()
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": USER_AGENT,
        "X-Portal-Delivery": str(delivery.id),
    }
    if target.kind == webhooks.JANDI:
        headers["Accept"] = webhooks.JANDI_ACCEPT
        headers["Content-Type"] = "application/json"
    if target.kind == webhooks.SIGNED:
        try:
            secret = sealing.unseal(target.secret, secret_key)
        except sealing.SealError as exc:
            raise ValueError("the secret cannot be opened: rotate it") from exc
        headers["X-Portal-Timestamp"] = str(timestamp)
        headers["X-Portal-Signature"] = sign(secret, timestamp, body)
    return url, body, headers


def _record(sessions, delivery_id, attempts, status, error, duration_ms, at) -> str:
    values = {
        "attempts": attempts,
        "claimed_until": None,
        "last_status": status,
        "last_error": error[:500] if error else None,
        "duration_ms": duration_ms,
    }
    if error is None:
        outcome = "delivered"
        values["delivered_at"] = at
    elif attempts >= MAX_ATTEMPTS:
        outcome = "gave_up"
        values["failed_at"] = at
    else:
        outcome = "failed"
        values["next_attempt_at"] = at + retry_delay(attempts)
    with sessions() as session:
        session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id == delivery_id, WebhookDelivery.delivered_at.is_(None))
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        session.commit()
    if error:
        log.info("webhook delivery %s: attempt %s failed (%s)", delivery_id, attempts, error)
    return outcome


def prune(session: Session, now: datetime) -> int:
    """Remove deliveries delivered more than 30 days ago (how many); failed ones stay."""
    result = session.execute(
        delete(WebhookDelivery)
        .where(WebhookDelivery.delivered_at < now - KEEP_DELIVERED)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return result.rowcount or 0


def delivery_log(target_id: int):
    """The target's deliveries, newest first (the admin pages paginate it)."""
    return (
        select(WebhookDelivery)
        .where(WebhookDelivery.target_id == target_id)
        .order_by(WebhookDelivery.id.desc())
    )
