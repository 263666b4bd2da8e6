"""Existing mailboxes fetched over IMAP: new messages stored once each, then moved or flagged.

A mailbox remembers its folder's UIDVALIDITY and the last UID it took. Each run takes the UIDs
above that one, a message at a time: its raw bytes are committed (store.keep) before the server
is told anything, then it is moved to `move_to` (or flagged \\Seen and $PortalImported) and
`last_uid` advances. When the folder's UIDVALIDITY changes (the folder was recreated, the server
rebuilt its index) the mailbox starts again from the first UID, and a message already stored from
this mailbox (same Message-ID, or the same bytes) is skipped, so nothing is imported twice.

What goes wrong (the server refuses the login, does not answer, has no such folder) is recorded
in `mailbox.last_error` in words an admin can act on, never with the password, and the other
mailboxes are fetched all the same. The back office's operations on mailboxes (list, save,
delete) are at the end.
"""

import contextlib
import hashlib
import logging
import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.parser import BytesHeaderParser
from email.policy import compat32

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError, LoginError
from sqlalchemy import func, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from kb import clock
from kb.models import Brand
from kb.people import User
from portal.mail.inbound import store
from portal.mail.models import RECEIVED, InboundMail, MailAddress, Mailbox
from portal.security import audit, sealing

log = logging.getLogger(__name__)

SECURITIES = ("ssl", "starttls", "none")
MAX_BYTES = 25 * 1024 * 1024  # MAIL_MAX_BYTES: larger messages stay on the server, flagged
TIMEOUT_SECONDS = 30.0
BATCH = 50  # UIDs whose size and Message-ID are asked for at once
# At most this many messages a run: a big mailbox's first fetch does not hold up the others
# (the rest come on the next runs).
PER_RUN = 500
IMPORTED = b"$PortalImported"
TOO_LARGE = b"$PortalTooLarge"
SEEN = b"\\Seen"
FLAGGED = b"\\Flagged"

Process = Callable[[Session, int, datetime], object]


class MailboxError(Exception):
    """A reason this mailbox cannot be fetched, in words for the admin (no secrets)."""


@dataclass
class FetchResult:
    """What one run did with one mailbox: messages stored, skipped (stored before) and not
    taken (too large, or failed), and why the run stopped early, if it did."""

    mailbox_id: int
    new: int = 0
    skipped: int = 0
    failed: int = 0
    error: str | None = None


def fetch(
    session: Session,
    mailbox: Mailbox,
    now: datetime,
    *,
    process: Process | None = None,
    max_bytes: int = MAX_BYTES,
    timeout: float = TIMEOUT_SECONDS,
    ssl_context: ssl.SSLContext | None = None,
    limit: int = PER_RUN,
    secret_key: str | None = None,
) -> FetchResult:
    """Take the new messages of one mailbox (committed one by one). `process(session, mail_id,
    now)` runs for each new one after it was stored; None leaves them RECEIVED for
    pipeline.process_due. Errors end up in the result and in `mailbox.last_error`. The
    stored password is unsealed with `secret_key` (portal.security.sealing)."""
    result = FetchResult(mailbox_id=mailbox.id)
    problems: list[str] = []
    password = ""
    try:
        try:
            password = sealing.unseal(mailbox.password, secret_key)
        except sealing.SealError:
            raise MailboxError(
                "The stored password cannot be read (was SECRET_KEY changed?): type it again."
            ) from None
        with _connect(mailbox, password, timeout, ssl_context) as client:
            uids = _new_uids(session, client, mailbox)[:limit]
            _take(session, client, mailbox, uids, now, result, problems, process, max_bytes)
    except (MailboxError, IMAPClientError, OSError) as error:
        session.rollback()  # what was taken is committed already; drop the half-done rest
        result.error = _hide_password(_reason(error, mailbox, timeout), password)
        problems.insert(0, result.error)
        log.warning("mailbox %s: %s", mailbox.id, result.error)
    except SQLAlchemyError:
        session.rollback()
        log.exception("mailbox %s: the database refused what was fetched", mailbox.id)
        result.error = "The database refused what was fetched; the server log says why."
        problems.insert(0, result.error)
    mailbox.checked_at = now
    mailbox.last_error = " ".join(problems)[:500] or None
    session.commit()
    return result


def fetch_all(
    session: Session,
    now: datetime,
    *,
    process: Process | None = None,
    max_bytes: int = MAX_BYTES,
    timeout: float = TIMEOUT_SECONDS,
    secret_key: str | None = None,
) -> list[FetchResult]:
    """Every enabled mailbox, one after another; one failing never stops the others."""
    ids = session.scalars(
        select(Mailbox.id).where(Mailbox.enabled.is_(True)).order_by(Mailbox.id)
    ).all()
    results = []
    for mailbox_id in ids:
        mailbox = session.get(Mailbox, mailbox_id)
        if mailbox is None:  # deleted meanwhile
            continue
        results.append(
            fetch(
                session,
                mailbox,
                now,
                process=process,
                max_bytes=max_bytes,
                timeout=timeout,
                secret_key=secret_key,
            )
        )
    return results


# --- the conversation with the server ---------------------------------------------------------


def _connect(
    mailbox: Mailbox, password: str, timeout: float, context: ssl.SSLContext | None
) -> IMAPClient:
    """A logged-in client over the mailbox's security (certificates checked for ssl and
    starttls, with the system's authorities unless `context` says otherwise)."""
    if mailbox.security not in SECURITIES:
        raise MailboxError(f"Unknown connection security “{mailbox.security}”.")
    context = context or ssl.create_default_context()
    client = IMAPClient(
        mailbox.host,
        port=mailbox.port,
        ssl=mailbox.security == "ssl",
        ssl_context=context,
        timeout=timeout,
    )
    try:
        if mailbox.security == "starttls":
            client.starttls(context)
        client.login(mailbox.username, password)
    except BaseException:
        with contextlib.suppress(OSError):  # the first error is the one to tell
            client.shutdown()
        raise
    return client


def _new_uids(session: Session, client: IMAPClient, mailbox: Mailbox) -> list[int]:
    """Select the folder and list the UIDs above `last_uid`, from the first again when the
    folder's UIDVALIDITY changed (committed)."""
    if not client.folder_exists(mailbox.folder):
        raise MailboxError(f"The folder “{mailbox.folder}” does not exist on the server.")
    if mailbox.move_to and not client.folder_exists(mailbox.move_to):
        raise MailboxError(
            f"The folder “{mailbox.move_to}” to move taken messages to does not exist."
        )
    selected = client.select_folder(mailbox.folder)
    uidvalidity = int(selected[b"UIDVALIDITY"])
    if mailbox.uidvalidity != uidvalidity:
        # A new folder, or the old one recreated: its UIDs mean other messages now.
        mailbox.uidvalidity, mailbox.last_uid = uidvalidity, 0
        session.commit()
    # "n:*" always names the last message, even below n: keep only the UIDs above last_uid.
    found = client.search(["UID", f"{mailbox.last_uid + 1}:*"])
    return sorted(uid for uid in found if uid > mailbox.last_uid)


def _take(
    session: Session,
    client: IMAPClient,
    mailbox: Mailbox,
    uids: list[int],
    now: datetime,
    result: FetchResult,
    problems: list[str],
    process: Process | None,
    max_bytes: int,
) -> None:
    """Each message in UID order: stored, then moved or flagged, then `last_uid` advanced."""
    can_move = client.has_capability("MOVE")
    known = KnownMessages(session, mailbox)
    for start in range(0, len(uids), BATCH):
        batch = uids[start : start + BATCH]
        heads = client.fetch(batch, ["RFC822.SIZE", "BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]"])
        for uid in batch:
            head = heads.get(uid)
            if head is None:  # expunged by someone else meanwhile
                continue
            size = int(head[b"RFC822.SIZE"])
            if size > max_bytes:
                client.add_flags([uid], [FLAGGED, TOO_LARGE])
                result.failed += 1
                problems.append(
                    f"A message of {_size(size)} (UID {uid}) is over the "
                    f"{_size(max_bytes)} limit: left on the server, flagged."
                )
            else:
                message_id = _message_id(bytes(head.get(b"BODY[HEADER.FIELDS (MESSAGE-ID)]", b"")))
                mail_id = _take_one(session, client, mailbox, uid, known, now, result, message_id)
                _mark_taken(client, mailbox, uid, can_move)
                if mail_id is not None and process is not None:
                    _process(session, process, mail_id, now)
            mailbox.last_uid = uid
            session.commit()


def _take_one(
    session: Session,
    client: IMAPClient,
    mailbox: Mailbox,
    uid: int,
    known: "KnownMessages",
    now: datetime,
    result: FetchResult,
    message_id: str | None,
) -> int | None:
    """Store one message (committed); the new row's id, or None when it was stored before."""
    if known.has_uid(uid) or (message_id and known.has_message_id(message_id)):
        result.skipped += 1
        return None
    body = client.fetch([uid], ["BODY.PEEK[]"]).get(uid, {}).get(b"BODY[]")
    if body is None:
        raise MailboxError(f"The server did not send the message with UID {uid}.")
    raw = bytes(body)
    if not message_id and known.has_bytes(raw):
        result.skipped += 1
        return None
    row = store.keep(
        session,
        raw,
        source="imap",
        now=now,
        mailbox_id=mailbox.id,
        uidvalidity=mailbox.uidvalidity,
        uid=uid,
    )
    known.add(message_id)
    result.new += 1
    return row.id


def _mark_taken(client: IMAPClient, mailbox: Mailbox, uid: int, can_move: bool) -> None:
    """Moved to `move_to` (MOVE, or COPY + \\Deleted + EXPUNGE), else flagged as ours."""
    if not mailbox.move_to:
        client.add_flags([uid], [SEEN, IMPORTED])
    elif can_move:
        client.move([uid], mailbox.move_to)
    else:
        client.copy([uid], mailbox.move_to)
        client.delete_messages([uid])
        if client.has_capability("UIDPLUS"):
            client.uid_expunge([uid])
        else:
            client.expunge()


def _process(session: Session, process: Process, mail_id: int, now: datetime) -> None:
    """The pipeline for one stored message; its failure leaves the row to be retried and never
    stops the fetch (the message is safe in the database)."""
    try:
        process(session, mail_id, now)
    except Exception:
        session.rollback()
        log.exception("inbound mail %s: processing failed, left for a retry", mail_id)


# --- already stored? ----------------------------------------------------------------------------


class KnownMessages:
    """What this mailbox stored before, asked message by message during one run."""

    def __init__(self, session: Session, mailbox: Mailbox):
        self.session = session
        self.mailbox = mailbox
        self._waiting: set[str] | None = None

    def has_uid(self, uid: int) -> bool:
        """Stored under this UID, but a crash came before the server was told."""
        return self._exists(
            InboundMail.uidvalidity == self.mailbox.uidvalidity, InboundMail.uid == uid
        )

    def has_message_id(self, message_id: str) -> bool:
        """Processed rows say their Message-ID; rows still waiting for the pipeline are read
        once per run (few: the pipeline takes them every minute)."""
        if self._exists(InboundMail.message_id == message_id):
            return True
        if self._waiting is None:
            rows = self.session.scalars(
                select(InboundMail.raw).where(
                    InboundMail.mailbox_id == self.mailbox.id,
                    InboundMail.status == RECEIVED,
                    InboundMail.message_id.is_(None),
                )
            )
            self._waiting = {_message_id(_head(raw)) for raw in rows} - {None}
        return message_id in self._waiting

    def has_bytes(self, raw: bytes) -> bool:
        """A message without a Message-ID is known by its bytes."""
        return self._exists(InboundMail.sha256 == hashlib.sha256(raw).hexdigest())

    def add(self, message_id: str | None) -> None:
        if message_id and self._waiting is not None:
            self._waiting.add(message_id)

    def _exists(self, *where) -> bool:
        query = select(InboundMail.id).where(InboundMail.mailbox_id == self.mailbox.id, *where)
        return self.session.scalar(query.limit(1)) is not None


def _message_id(header: bytes) -> str | None:
    """The Message-ID header of a message's header bytes, whitespace folded, or None."""
    value = BytesHeaderParser(policy=compat32).parsebytes(header).get("Message-ID")
    if value is None:
        return None
    return " ".join(str(value).split())[:255] or None


def _head(raw: bytes) -> bytes:
    """The header part of a raw message (up to the first empty line)."""
    ends = [end for end in (raw.find(b"\r\n\r\n"), raw.find(b"\n\n")) if end != -1]
    return raw[: min(ends)] if ends else raw


# --- words for the admin ----------------------------------------------------------------------


def _reason(error: BaseException, mailbox: Mailbox, timeout: float) -> str:
    where = f"{mailbox.host}:{mailbox.port}"
    if isinstance(error, MailboxError):
        return str(error)
    if isinstance(error, LoginError):
        return f"The server refused the login of “{mailbox.username}” (user name or password)."
    if isinstance(error, ssl.SSLCertVerificationError):
        return f"The certificate of {where} could not be verified: {error.verify_message}."
    if isinstance(error, ssl.SSLError):
        return f"The secure connection to {where} failed: {error.reason or error}."
    if isinstance(error, socket.timeout | TimeoutError):
        return f"{where} did not answer within {timeout:g} seconds."
    if isinstance(error, socket.gaierror):
        return f"The server name “{mailbox.host}” could not be found."
    if isinstance(error, ConnectionRefusedError):
        return f"{where} refused the connection (is the port right?)."
    if isinstance(error, OSError):
        return f"Could not talk to {where}: {error.strerror or error}."
    return f"The server answered with an error: {_text(error)}"


def _text(error: BaseException) -> str:
    text = error.args[0] if error.args else error
    return text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)


def _hide_password(text: str, password: str | None) -> str:
    """Whatever a server or library put in a message, the password never goes further."""
    if password:
        text = text.replace(password, "********")
    return text[:500]


def _size(size: int) -> str:
    if size < 1024 * 1024:
        return f"{size:,} bytes"
    return f"{size / (1024 * 1024):.1f} MB"


# --- the back office ------------------------------------------------------------------------------


@dataclass
class MailboxSettings:
    """What an admin sets for a mailbox (the password apart: it is never shown back)."""

    brand_id: int
    address_id: int | None
    host: str
    port: int
    security: str
    username: str
    folder: str
    move_to: str | None
    enabled: bool


@dataclass
class BrandMailboxes:
    """One brand's mailboxes for the list page, with how many messages each took."""

    brand: Brand
    mailboxes: list[Mailbox]
    taken: dict[int, int]


def mailboxes_by_brand(session: Session) -> list[BrandMailboxes]:
    """Every brand (by name) with its mailboxes (by id): three queries, whatever the counts."""
    brands = session.scalars(select(Brand).order_by(Brand.name, Brand.id)).all()
    mailboxes = session.scalars(select(Mailbox).order_by(Mailbox.id)).all()
    taken = dict(
        session.execute(
            select(InboundMail.mailbox_id, func.count())
            .where(InboundMail.mailbox_id.is_not(None))
            .group_by(InboundMail.mailbox_id)
        ).all()
    )
    return [
        BrandMailboxes(brand, [m for m in mailboxes if m.brand_id == brand.id], taken)
        for brand in brands
    ]


def address_choices(session: Session) -> list[tuple[MailAddress, Brand]]:
    """The support addresses a mailbox can receive for, with their brands."""
    return session.execute(
        select(MailAddress, Brand)
        .join(Brand, Brand.id == MailAddress.brand_id)
        .order_by(Brand.name, MailAddress.address)
    ).all()


def save_mailbox(
    session: Session,
    mailbox: Mailbox | None,
    settings: MailboxSettings,
    password: str,
    *,
    secret_key: str,
    actor: User | None = None,
    ip: str = "",
    now: datetime | None = None,
) -> Mailbox:
    """Create a mailbox or change one (committed). An empty password keeps the stored one.
    A new server, user or folder is fetched from its first message again. Recorded in the
    system log with the settings before and after, and whether the password changed (never
    the password)."""
    action = "mailbox.created" if mailbox is None else "mailbox.changed"
    before = {} if mailbox is None else {name: getattr(mailbox, name) for name in vars(settings)}
    if mailbox is None:
        mailbox = Mailbox(password=sealing.seal(password, secret_key))
        session.add(mailbox)
    elif password:
        mailbox.password = sealing.seal(password, secret_key)
    if (mailbox.host, mailbox.port, mailbox.username, mailbox.folder) != (
        settings.host,
        settings.port,
        settings.username,
        settings.folder,
    ):
        mailbox.uidvalidity, mailbox.last_uid = None, 0
    for name, value in vars(settings).items():
        setattr(mailbox, name, value)
    mailbox.last_error = None
    session.flush()
    after = {name: getattr(mailbox, name) for name in vars(settings)}
    changed = {
        key: [before.get(key), value] for key, value in after.items() if before.get(key) != value
    }
    if changed or password:
        _record(
            session, action, mailbox, actor, ip, now, **changed, password_changed=bool(password)
        )
    session.commit()
    return mailbox


def _record(session, action, mailbox, actor, ip, now, **details) -> None:
    """The system-log entry of a mailbox's change, in its transaction (`now` None: the clock's)."""
    audit.record(
        session,
        action,
        now=now or clock.now(),
        kind=audit.SYSTEM,
        actor=actor,
        target=f"mailbox:{mailbox.id}",
        target_name=f"{mailbox.username}@{mailbox.host}",
        brand_id=mailbox.brand_id,
        ip=ip,
        details=details,
    )


def delete_mailbox(
    session: Session,
    mailbox: Mailbox,
    *,
    actor: User | None = None,
    ip: str = "",
    now: datetime | None = None,
) -> None:
    """Stop fetching a mailbox (committed); the messages it took stay, without it. Recorded."""
    _record(session, "mailbox.deleted", mailbox, actor, ip, now, folder=mailbox.folder)
    session.execute(
        update(InboundMail).where(InboundMail.mailbox_id == mailbox.id).values(mailbox_id=None)
    )
    session.delete(mailbox)
    session.commit()
