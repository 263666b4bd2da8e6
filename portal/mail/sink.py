"""The local sink: an SMTP server keeping each message as an .eml file, and reading them back."""

import logging
import os
import re
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesHeaderParser, BytesParser
from pathlib import Path

from flask import Flask, current_app

log = logging.getLogger(__name__)

# A file the sink wrote: UTC time to the microsecond, then random (sorts by arrival).
SINK_NAME = re.compile(r"^[0-9]{8}T[0-9]{12}Z-[0-9a-f]{8}\.eml$")


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
