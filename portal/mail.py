"""Outgoing mail inside the app: templates to the outbox, the sender, the local sink, `flask mail`.

Templates: mail/<name>.txt and mail/<name>.html, both extending their mail/layout (the brand's
name, logo, colours and a footer). The subject is the `subject` block of the .txt template
(rendered alone, whitespace collapsed to single spaces). The .html file is autoescaped (Flask
escapes by extension), the .txt is not: it is plain text. Strings in the .txt also appear in the
.html (its <title> repeats the subject), so extraction from the .html templates covers both.

Links in mail are absolute, built from PORTAL_BASE_URL (absolute_url), never from a request's
Host header. Mail leaves through the outbox only (portal.desk.outbox), written in the caller's
transaction; the scheduler leader sends it every MAIL_SEND_INTERVAL_SECONDS.
"""

import logging
import os
import re
import signal
import tempfile
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.parser import BytesHeaderParser, BytesParser
from email.utils import parseaddr
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import click
from flask import Flask, current_app, render_template
from flask.cli import AppGroup
from flask_babel import force_locale
from jinja2_fragments.flask import render_block
from sqlalchemy.orm import Session

from kb import clock
from portal import config
from portal.desk import outbox
from portal.desk.models import OutboxMail
from portal.extensions import db

log = logging.getLogger(__name__)

# A file the sink wrote: UTC time to the microsecond, then random (sorts by arrival).
SINK_NAME = re.compile(r"^[0-9]{8}T[0-9]{12}Z-[0-9a-f]{8}\.eml$")
# One `flask mail send` sends at most this many batches (the rest waits for the next run).
MAX_BATCHES = 20


# --- composing --------------------------------------------------------------------------------


def queue_mail(
    session: Session,
    template: str,
    *,
    brand,
    locale: str,
    to: str,
    ticket_id: int | None = None,
    **context,
) -> OutboxMail:
    """Render mail/<template>.txt and .html in `locale` and add the mail to the outbox in the
    caller's transaction (the caller commits). ValueError for a line break in `to`."""
    subject, text, html = render_mail(template, brand=brand, locale=locale, **context)
    return outbox.enqueue(
        session,
        sender=sender_for(brand),
        recipient=to,
        subject=subject,
        text_body=text,
        html_body=html,
        brand_id=getattr(brand, "id", None),
        ticket_id=ticket_id,
        now=clock.now(),
    )


def render_mail(template: str, *, brand, locale: str, **context) -> tuple[str, str, str]:
    """(subject, text, html) of mail/<template> in `locale`."""
    base = base_url()
    primary, accent = brand.colors if brand is not None else ("#1f4e79", "#f2a900")
    context = {
        "brand": brand,
        "brand_name": brand.name if brand is not None else "Portal",
        "logo_url": _absolute_http_url(getattr(brand, "logo_url", None), base),
        "primary_color": primary,
        "accent_color": accent,
        "locale": locale,
        "base_url": base,
        **context,
    }
    with force_locale(locale):
        subject = render_block(f"mail/{template}.txt", "subject", **context)
        text = render_template(f"mail/{template}.txt", **context)
        html = render_template(f"mail/{template}.html", **context)
    return " ".join(subject.split()), text.strip() + "\n", html


def base_url() -> str:
    return str(current_app.config["PORTAL_BASE_URL"]).rstrip("/")


def absolute_url(endpoint: str, **values) -> str:
    """An absolute URL for a link in mail, on PORTAL_BASE_URL whatever request is running."""
    base = urlsplit(base_url())
    adapter = current_app.url_map.bind(
        base.netloc, script_name=base.path or "/", url_scheme=base.scheme or "https"
    )
    return adapter.build(endpoint, values, force_external=True)


def sender_for(brand) -> str:
    """MAIL_FROM's address, with the brand's name shown (the brand writes, Portal sends)."""
    name, address = parseaddr(current_app.config["MAIL_FROM"])
    if brand is not None and brand.name:
        name = brand.name
    name = "".join(c for c in name if c.isprintable())
    return str(Address(display_name=name, addr_spec=address))


def _absolute_http_url(url: str | None, base: str) -> str | None:
    if not url:
        return None
    absolute = urljoin(base + "/", url)
    return absolute if urlsplit(absolute).scheme in ("http", "https") else None


# --- sending ----------------------------------------------------------------------------------


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


# --- the local sink ---------------------------------------------------------------------------


class SinkHandler:
    """An aiosmtpd handler that keeps every message it receives as an .eml file in `folder`.

    Files are written under a temporary name and renamed into place, so a reader never sees
    half a message; names sort by arrival (SINK_NAME) and files are private (0600)."""

    def __init__(self, folder: Path | str):
        self.folder = Path(folder)

    async def handle_DATA(self, server, session, envelope) -> str:
        self.store(envelope.original_content or envelope.content)
        return "250 Message accepted for delivery"

    def store(self, data: bytes) -> Path:
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        name = f"{stamp}-{os.urandom(4).hex()}.eml"
        fd, tmp = tempfile.mkstemp(prefix=".incoming-", suffix=".tmp", dir=self.folder)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.folder / name)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return self.folder / name


@dataclass
class SinkMessage:
    """A stored message's summary for the list."""

    name: str
    sender: str
    recipient: str
    subject: str
    date: datetime  # the Date header, or when the sink received it


def sink_folder(app: Flask | None = None) -> Path:
    return Path((app or current_app).config["MAIL_SINK_DIR"])


def sink_messages(folder: Path, limit: int = 200) -> list[SinkMessage]:
    """The newest stored messages first (headers only)."""
    if not folder.is_dir():
        return []
    names = sorted((p.name for p in folder.iterdir() if SINK_NAME.match(p.name)), reverse=True)
    found = []
    for name in names[:limit]:
        try:
            with (folder / name).open("rb") as f:
                headers = BytesHeaderParser(policy=policy.default).parse(f)
        except OSError:
            continue  # removed meanwhile
        found.append(
            SinkMessage(
                name=name,
                sender=_header(headers, "From"),
                recipient=_header(headers, "To"),
                subject=_header(headers, "Subject"),
                date=_date(headers) or _arrival(name),
            )
        )
    return found


def sink_message(folder: Path, name: str) -> EmailMessage | None:
    """One stored message, or None for an unknown or malformed name (never a path)."""
    if not SINK_NAME.match(name or ""):
        return None
    path = folder / name
    try:
        with path.open("rb") as f:
            return BytesParser(policy=policy.default).parse(f)
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None


def message_part(message: EmailMessage, subtype: str) -> str | None:
    """The decoded text/<subtype> body of a message, if it has one."""
    part = message.get_body(preferencelist=(subtype,))
    if part is None:
        return None
    try:
        return part.get_content()
    except (LookupError, ValueError):  # an unknown charset or a broken encoding
        payload = part.get_payload(decode=True) or b""
        return payload.decode("utf-8", errors="replace")


def _header(headers, name: str) -> str:
    try:
        value = headers.get(name)
    except (ValueError, IndexError, TypeError):  # a header the parser cannot make sense of
        return ""
    return str(value) if value is not None else ""


def _arrival(name: str) -> datetime:
    """When the sink received a message (its file name starts with the time)."""
    return datetime.strptime(name[:22], "%Y%m%dT%H%M%S%fZ").replace(tzinfo=UTC)


def _date(headers) -> datetime | None:
    try:
        header = headers.get("Date")
        return header.datetime if header is not None else None
    except (ValueError, TypeError, AttributeError):
        return None


# --- wiring -----------------------------------------------------------------------------------


def register_cli(app: Flask) -> None:
    """`flask mail send` and `flask mail sink` (called from portal.cli)."""
    group = AppGroup("mail", help="Outgoing mail: send the outbox, run a local sink.")

    @group.command("send")
    def send() -> None:
        """Send the scheduled replies and the mail that are due now and say how it went."""
        from portal.agent_mail import send_due_replies  # it builds on this module

        config.require_secret_key(current_app)
        replies = send_due_replies(db.session, clock.now())
        if replies:
            click.echo(f"scheduled replies sent {replies}")
        counts = send_due_now(holder="cli")
        click.echo(f"sent {counts['sent']}, failed {counts['failed']}, waiting {counts['waiting']}")

    @group.command("sink")
    @click.option("--host", default="127.0.0.1", show_default=True)
    @click.option("--port", type=int, default=None, help="Default: SMTP_PORT (8025).")
    def sink(host: str, port: int | None) -> None:
        """A local SMTP server that keeps each message as an .eml file in MAIL_SINK_DIR."""
        from aiosmtpd.controller import Controller

        folder = sink_folder()
        port = port or int(current_app.config["SMTP_PORT"])
        controller = Controller(SinkHandler(folder), hostname=host, port=port)
        controller.start()
        click.echo(f"Mail sink on {host}:{port}, storing messages in {folder}")
        stopping = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda _signum, _frame: stopping.set())
        try:
            while not stopping.wait(1):
                pass
        finally:
            controller.stop()
        click.echo("Mail sink stopped")

    app.cli.add_command(group)
