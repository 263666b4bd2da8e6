"""Sending the outbox from the app: SMTP settings from the config, batch after batch."""

import logging

from flask import Flask, current_app

from kb import clock
from portal.extensions import db
from portal.mail import outbox

log = logging.getLogger(__name__)

# One `flask mail send` sends at most this many batches (the rest waits for the next run).
MAX_BATCHES = 20


def smtp_settings(app: Flask | None = None) -> outbox.SmtpSettings:
    config = (app or current_app).config
    return outbox.SmtpSettings(
        host=str(config["SMTP_HOST"]),
        port=int(config["SMTP_PORT"]),
        username=config["SMTP_USERNAME"] or None,
        password=config["SMTP_PASSWORD"] or None,
        starttls=str(config["SMTP_STARTTLS"]).lower() in ("1", "true", "on", "yes"),
        timeout=float(config.get("SMTP_TIMEOUT_SECONDS") or 30),
    )


def send_due_now(app: Flask | None = None, holder: str | None = None) -> dict[str, int]:
    """Send what is due, batch after batch while batches come back full; summed counts."""
    app = app or current_app._get_current_object()
    with app.app_context():
        engine = db.engine
    smtp = smtp_settings(app)
    total = {"sent": 0, "failed": 0, "gave_up": 0, "waiting": 0}
    batch = 50
    for _ in range(MAX_BATCHES):
        counts = outbox.send_due(engine, smtp, clock.now(), batch=batch, holder=holder)
        for key in ("sent", "failed", "gave_up"):
            total[key] += counts[key]
        total["waiting"] = counts["waiting"]
        if counts["sent"] + counts["failed"] < batch:
            break
    return total
