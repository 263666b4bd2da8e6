"""The mail outbox: mail written in the transaction that causes it, then sent over SMTP once.

`enqueue` adds a row in the caller's transaction (nothing is sent if that transaction rolls
back). `send_due` claims due rows one at a time with a conditional UPDATE (rowcount 1 = ours),
sends them over one SMTP connection per batch and records each outcome in its own short
transaction. A crash between the claim and the outcome leaves the row claimed; it is due again
once `claimed_until` has passed. A crash after the SMTP server accepted a mail but before the
outcome was committed sends it again (at least once; SMTP offers no better).

Failures are retried with growing delays (RETRY_DELAYS) and given up after MAX_ATTEMPTS, or at
once when the server refuses the recipient permanently (5xx); given-up rows keep `failed_at`
and `last_error` for the admins. Passwords never reach `last_error` or the log.

Auto-Submitted (RFC 3834) says who wrote a mail: `auto-generated` (a notice nobody asked for in a
message: a password reset, a share), `auto-replied` (an automatic answer to someone's message:
the confirmation of a request), or nothing at all for mail a person wrote (an agent's reply).
The caller says which with `enqueue(auto_submitted=...)`; the row keeps it in its headers, the
one own header a row carries, and never takes it from the caller's `headers`.
"""

import logging
import os
import re
import secrets
import smtplib
import socket
import ssl
import time
from base64 import b64encode
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.header import Header
from email.message import EmailMessage
from email.policy import EmailPolicy
from email.utils import format_datetime, formataddr, getaddresses

from sqlalchemy import Engine, Select, case, func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from portal.desk.models import OutboxMail

log = logging.getLogger(__name__)

# After the n-th failed attempt, the next one waits RETRY_DELAYS[n - 1] (the last one repeats).
RETRY_DELAYS = tuple(
    timedelta(minutes=m) for m in (1, 5, 15, 60, 180, 360, 720, 1440, 1440)
)  # about three days in all
MAX_ATTEMPTS = 10
# How long a sender owns a claimed row; longer than one message can take (SMTP timeouts).
CLAIM_SECONDS = 600
# RFC 3834 values of Auto-Submitted; None: a person wrote the mail (no header at all).
AUTO_GENERATED = "auto-generated"
AUTO_REPLIED = "auto-replied"
AUTO_SUBMITTED = (AUTO_GENERATED, AUTO_REPLIED, None)
_WRITTEN_BY_A_PERSON = "no"  # how a row records None (RFC 3834: "no" is the same as no header)
# Set on every message (or by its MIME structure); enqueue refuses them in `headers`.
OWN_HEADERS = (
    "message-id",
    "date",
    "from",
    "to",
    "subject",
    "auto-submitted",
    "mime-version",
    "content-type",
    "content-transfer-encoding",
)

# Headers holding message ids (<...@...>): folded between ids, never encoded.
MESSAGE_ID_LISTS = ("in-reply-to", "references")

_HEADER_NAME = re.compile(r"^[!-9;-~]+$")  # RFC 5322 field name: printable ASCII but ':'
_DOMAIN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$")
_LINE_BREAKS = ("\r", "\n")


class _MailPolicy(EmailPolicy):
    """email.policy.SMTP, except that non-ASCII subjects and display names are encoded whole
    by email.header.Header. The stock folder of Python 3.11 (CPython gh-144156) drops or adds
    spaces between encoded words when it folds a long header ("året är" -> "åretär")."""

    def fold(self, name, value):
        folded = self._fold_message_ids(name, value) or self._encode_whole(name, value)
        return folded if folded is not None else super().fold(name, value)

    def fold_binary(self, name, value):
        folded = self._fold_message_ids(name, value) or self._encode_whole(name, value)
        if folded is None:
            return super().fold_binary(name, value)
        return folded.encode("ascii")

    def _fold_message_ids(self, name: str, value) -> str | None:
        """In-Reply-To and References one id a line: the stock folder turns an id longer than
        a line into encoded words, which no mail client matches against its Message-IDs."""
        text = str(value)
        if name.lower() not in MESSAGE_ID_LISTS or not text.isascii():
            return None
        return f"{name}: " + (self.linesep + " ").join(text.split()) + self.linesep

    def _encode_whole(self, name: str, value) -> str | None:
        text = str(value)
        if text.isascii():
            return None
        if hasattr(value, "addresses"):
            if not all(a.addr_spec.isascii() for a in value.addresses):
                return None  # an internationalised address: SMTPUTF8, left to the stock policy
            body = ", ".join(
                formataddr((a.display_name, a.addr_spec), charset="utf-8") for a in value.addresses
            )
        elif name.lower() == "subject" or name.lower().startswith("x-"):
            body = Header(text, "utf-8", header_name=name).encode()
        else:
            return None
        return f"{name}: " + body.replace("\n", self.linesep) + self.linesep


SMTP_POLICY = _MailPolicy(linesep="\r\n")


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to hand mail over. The password stays out of repr() (logs, tracebacks)."""

    host: str = "127.0.0.1"
    port: int = 8025
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    starttls: bool = False
    timeout: float = 30.0


# --- queueing -----------------------------------------------------------------------------


def enqueue(
    session: Session,
    *,
    sender: str,
    recipient: str,
    subject: str,
    text_body: str,
    html_body: str = "",
    brand_id: int | None = None,
    ticket_id: int | None = None,
    headers: dict[str, str] | None = None,
    auto_submitted: str | None = AUTO_GENERATED,
    now: datetime,
) -> OutboxMail:
    """Add a mail to the outbox in the caller's transaction (the caller commits).
    `auto_submitted`: AUTO_GENERATED, AUTO_REPLIED, or None for a mail a person wrote.

    Raises ValueError for a line break in the sender, recipient, subject or a header (header
    injection), a recipient that is not exactly one address, a header Portal sets itself, or
    another `auto_submitted`.
    """
    headers = dict(headers or {})
    _refuse_line_breaks("sender", sender)
    _refuse_line_breaks("recipient", recipient)
    _refuse_line_breaks("subject", subject)
    for name, value in headers.items():
        if not _HEADER_NAME.match(name or "") or name.lower() in OWN_HEADERS:
            raise ValueError(f"header name not allowed: {name!r}")
        _refuse_line_breaks(f"header {name}", str(value))
    if auto_submitted not in AUTO_SUBMITTED:
        raise ValueError(f"Auto-Submitted not allowed: {auto_submitted!r}")
    _one_address("recipient", recipient)
    sender_address = _one_address("sender", sender)
    headers = {name: str(value) for name, value in headers.items()}
    headers["Auto-Submitted"] = auto_submitted or _WRITTEN_BY_A_PERSON
    mail = OutboxMail(
        brand_id=brand_id,
        ticket_id=ticket_id,
        message_id=make_message_id(sender_address),
        sender=sender,
        recipient=recipient,
        subject=subject if len(subject) <= 255 else subject[:254] + "…",
        text_body=text_body,
        html_body=html_body or "",
        headers=headers,
        created_at=now,
        attempts=0,
        next_attempt_at=now,
    )
    session.add(mail)
    return mail


def make_message_id(sender_address: str) -> str:
    """<128 random bits@the sender's domain>: unique, and says nothing about the ticket."""
    domain = sender_address.rpartition("@")[2]
    try:
        domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        domain = ""
    if not _DOMAIN.match(domain):
        domain = "portal.localhost"
    return f"<{secrets.token_hex(16)}@{domain}>"


def _refuse_line_breaks(what: str, value: str) -> None:
    if any(c in value for c in (*_LINE_BREAKS, "\x00")):
        raise ValueError(f"line break in {what}")


def _one_address(what: str, value: str) -> str:
    found = getaddresses([value])
    if len(found) != 1 or "@" not in found[0][1]:
        raise ValueError(f"{what} must be one email address")
    return found[0][1]


# --- sending ------------------------------------------------------------------------------


def build_message(mail: OutboxMail) -> EmailMessage:
    """The message as sent: our headers, the row's own, text and (if any) HTML alternatives."""
    message = EmailMessage(policy=SMTP_POLICY)
    message["Message-ID"] = mail.message_id
    message["Date"] = format_datetime(mail.created_at)
    message["From"] = mail.sender
    message["To"] = mail.recipient
    message["Subject"] = mail.subject  # non-ASCII becomes RFC 2047 UTF-8 encoded words
    headers = dict(mail.headers or {})
    auto_submitted = _auto_submitted(headers)
    if auto_submitted is not None:
        message["Auto-Submitted"] = auto_submitted  # RFC 3834: no auto-replies to this, please
    message.set_content(mail.text_body)
    if mail.html_body:
        message.add_alternative(mail.html_body, subtype="html")
    # After the body: set_content() would drop Content-* headers set before it.
    for name, value in headers.items():
        if not _HEADER_NAME.match(name) or name.lower() in OWN_HEADERS:
            raise ValueError(f"header name not allowed: {name!r}")  # rows written elsewhere
        _refuse_line_breaks(f"header {name}", value)
        message[name] = value
    return message


def _auto_submitted(headers: dict[str, str]) -> str | None:
    """The row's Auto-Submitted value, taken out of `headers`; None when a person wrote it.
    Rows queued before rows carried it are automatic mail: auto-generated."""
    value = headers.pop("Auto-Submitted", AUTO_GENERATED)
    if value == _WRITTEN_BY_A_PERSON:
        return None
    if value not in (AUTO_GENERATED, AUTO_REPLIED):
        raise ValueError(f"Auto-Submitted not allowed: {value!r}")  # rows written elsewhere
    return value


def send_due(
    engine_or_session_factory: Engine | Callable[[], Session],
    smtp: SmtpSettings,
    now: datetime,
    batch: int = 50,
    holder: str | None = None,
) -> dict[str, int]:
    """Send up to `batch` due mails; {"sent", "failed", "gave_up", "waiting"} for this run.

    `failed` counts failed attempts (retried later or given up), `gave_up` the rows given up
    now, `waiting` every row still to be sent afterwards (due now or later). Safe to run in
    several threads and processes at once: each row is claimed by exactly one of them.
    """
    sessions = _session_factory(engine_or_session_factory)
    holder = holder or f"{socket.gethostname()}:{os.getpid()}"
    started = time.monotonic()

    def clock() -> datetime:
        # `now`, moved on by the time this run has taken (claims must not expire early).
        return now + timedelta(seconds=time.monotonic() - started)

    counts = {"sent": 0, "failed": 0, "gave_up": 0, "waiting": 0}
    with sessions() as session:
        ids = list(session.scalars(due(now).limit(batch)))
    sender = _Connection(smtp)
    try:
        for mail_id in ids:
            claimed = _claim(sessions, mail_id, clock())
            if claimed is None:
                continue  # another sender has it, or it was sent meanwhile
            message, attempts, envelope = claimed
            try:
                sender.send(message, *envelope)
            except (smtplib.SMTPException, OSError, ValueError) as exc:
                gave_up = _record_failure(sessions, mail_id, attempts + 1, exc, smtp, clock())
                counts["failed"] += 1
                counts["gave_up"] += gave_up
                log.warning(
                    "mail %s: attempt %s failed (%s)%s",
                    mail_id,
                    attempts + 1,
                    redact(describe(exc), smtp),
                    ", giving up" if gave_up else "",
                )
                if sender.unusable:
                    break  # the server is away: the rest stay due, untouched
                continue
            _record_sent(sessions, mail_id, attempts + 1, clock())
            counts["sent"] += 1
    finally:
        sender.close()
    with sessions() as session:
        counts["waiting"] = waiting(session)
    if counts["sent"] or counts["failed"]:
        log.info("mail sender %s: %s", holder, counts)
    return counts


def _unsent() -> tuple:
    """Not sent and not given up (due now or later)."""
    return (OutboxMail.sent_at.is_(None), OutboxMail.failed_at.is_(None))


def due(now: datetime) -> Select:
    """Ids of rows to try now, oldest due first (claimed rows only once their claim lapsed)."""
    return (
        select(OutboxMail.id)
        .where(
            *_unsent(),
            OutboxMail.next_attempt_at <= now,
            or_(OutboxMail.claimed_until.is_(None), OutboxMail.claimed_until < now),
        )
        .order_by(OutboxMail.next_attempt_at, OutboxMail.id)
    )


def waiting(session: Session) -> int:
    """How many rows are still to be sent (due now or later)."""
    return session.scalar(select(func.count()).select_from(OutboxMail).where(*_unsent()))


def counts_by_state(session: Session) -> dict[str, int]:
    """{"pending", "sent", "failed"}: rows waiting to be sent, sent, given up."""
    sent = OutboxMail.sent_at.is_not(None)
    failed = OutboxMail.failed_at.is_not(None)
    row = session.execute(
        select(
            func.coalesce(func.sum(case((sent, 1), else_=0)), 0),
            func.coalesce(func.sum(case((failed, 1), else_=0)), 0),
            func.count(),
        ).select_from(OutboxMail)
    ).one()
    return {"pending": row[2] - row[0] - row[1], "sent": row[0], "failed": row[1]}


def latest(limit: int = 50) -> Select:
    """The newest rows, for the admins' view."""
    return select(OutboxMail).order_by(OutboxMail.id.desc()).limit(limit)


def retry_delay(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failed attempt."""
    return RETRY_DELAYS[min(attempts, len(RETRY_DELAYS)) - 1]


def describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def redact(text: str, smtp: SmtpSettings) -> str:
    """The text without the SMTP password (plain, or inside a base64 AUTH exchange)."""
    if smtp.password:
        secret = smtp.password
        forms = {secret, b64encode(secret.encode()).decode()}
        if smtp.username:
            forms.add(b64encode(f"\0{smtp.username}\0{secret}".encode()).decode())
        for form in sorted(forms, key=len, reverse=True):
            text = text.replace(form, "***")
    return text


def _session_factory(source: Engine | Callable[[], Session]) -> Callable[[], Session]:
    if isinstance(source, Engine):
        return sessionmaker(source)
    return source


def _claim(sessions, mail_id: int, at: datetime):
    """(message, attempts so far, (from, to)) when this run now owns the row, else None."""
    with sessions() as session:
        result = session.execute(
            update(OutboxMail)
            .where(
                OutboxMail.id == mail_id,
                *_unsent(),
                or_(OutboxMail.claimed_until.is_(None), OutboxMail.claimed_until < at),
            )
            .values(claimed_until=at + timedelta(seconds=CLAIM_SECONDS))
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            session.rollback()
            return None
        mail = session.get(OutboxMail, mail_id)
        try:
            message = build_message(mail)
            envelope = (_one_address("sender", mail.sender), _one_address("to", mail.recipient))
        except ValueError as exc:
            # Never sendable: release the claim by giving up at once (below, by the caller).
            message, envelope = _Unsendable(exc), ("", "")
        attempts = mail.attempts
        session.commit()
    return message, attempts, envelope


class _Unsendable:
    """A row whose headers cannot be sent; sending it raises the reason (a permanent error)."""

    def __init__(self, exc: ValueError):
        self.exc = exc


def _record_sent(sessions, mail_id: int, attempts: int, at: datetime) -> None:
    with sessions() as session:
        session.execute(
            update(OutboxMail)
            .where(OutboxMail.id == mail_id, OutboxMail.sent_at.is_(None))
            .values(sent_at=at, attempts=attempts, claimed_until=None, last_error=None)
            .execution_options(synchronize_session=False)
        )
        session.commit()


def _record_failure(
    sessions, mail_id: int, attempts: int, exc: BaseException, smtp: SmtpSettings, at: datetime
) -> bool:
    """Schedule the retry, or give up; True when given up."""
    give_up = attempts >= MAX_ATTEMPTS or _is_permanent(exc)
    values = {
        "attempts": attempts,
        "claimed_until": None,
        "last_error": redact(describe(exc), smtp)[:500],
    }
    if give_up:
        values["failed_at"] = at
    else:
        values["next_attempt_at"] = at + retry_delay(attempts)
    with sessions() as session:
        session.execute(
            update(OutboxMail)
            .where(OutboxMail.id == mail_id, OutboxMail.sent_at.is_(None))
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        session.commit()
    return give_up


def _is_permanent(exc: BaseException) -> bool:
    """Refused for good: a malformed row, or every recipient refused with a 5xx code."""
    if isinstance(exc, ValueError):
        return True
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _msg in exc.recipients.values())
    return False


class _Connection:
    """One SMTP connection for a batch, opened at the first message (none for an empty run)."""

    def __init__(self, smtp: SmtpSettings):
        self.smtp = smtp
        self.client: smtplib.SMTP | None = None
        self.unusable = False  # connecting, STARTTLS or login failed: stop this batch

    def send(self, message, sender: str, recipient: str) -> None:
        if isinstance(message, _Unsendable):
            raise message.exc
        if self.client is None:
            self.client = self._open()
        try:
            self.client.send_message(message, from_addr=sender, to_addrs=[recipient])
        except smtplib.SMTPServerDisconnected:
            self._drop()  # the next message reconnects
            raise
        except smtplib.SMTPRecipientsRefused:
            raise  # the connection is still good for the next message
        except (smtplib.SMTPException, OSError):
            self._drop()
            raise

    def _open(self) -> smtplib.SMTP:
        smtp = self.smtp
        try:
            client = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout)
        except (smtplib.SMTPException, OSError):
            self.unusable = True
            raise
        try:
            if smtp.starttls:
                client.starttls(context=ssl.create_default_context())
            if smtp.username:
                client.login(smtp.username, smtp.password or "")
        except (smtplib.SMTPException, OSError):
            self.unusable = True
            client.close()
            raise
        return client

    def _drop(self) -> None:
        client, self.client = self.client, None
        if client is not None:
            client.close()

    def close(self) -> None:
        client, self.client = self.client, None
        if client is None:
            return
        try:
            client.quit()
        except (smtplib.SMTPException, OSError):
            client.close()
