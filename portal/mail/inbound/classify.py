"""Classify stage: recognise mail that no ticket may come from and nothing may answer (RFC 3834):
auto-replies, bounces and mailing lists; and read which addresses a bounce reports."""

from email import policy
from email.message import Message
from email.parser import BytesParser

from portal.mail.inbound.parse import ParsedMail, decode_bytes

AUTO_REPLY, BOUNCE, LIST = "auto_reply", "bounce", "list"

DELIVERY_STATUS_TYPES = ("message/delivery-status", "message/global-delivery-status")
BOUNCE_SENDERS = ("mailer-daemon", "postmaster")
SUPPRESS_TOKENS = {"all", "autoreply", "oof"}
MAX_REASON_CHARS = 200


def _token(value: str) -> str:
    """A header value's first word, lower case ("auto-replied; owner=x" -> "auto-replied")."""
    return value.split(";", 1)[0].strip().lower()


def _delivery_status(mail: ParsedMail) -> list[bytes]:
    return [a.data for a in mail.attachments if a.content_type in DELIVERY_STATUS_TYPES]


def _report_type(mail: ParsedMail) -> str | None:
    """The report-type of a multipart/report (RFC 6522), lower case; None for other mail."""
    probe = Message()
    probe["content-type"] = mail.headers.get("content-type", "")
    if probe.get_content_type() != "multipart/report":
        return None
    return str(probe.get_param("report-type") or "").strip().lower()


def automatic(mail: ParsedMail) -> tuple[str, str] | None:
    """(kind, reason) when the mail was sent by a machine and must not open a ticket or be
    answered; None for mail a person wrote. The reason is a short English text for admins."""
    found = _automatic(mail)
    return None if found is None else (found[0], found[1][:MAX_REASON_CHARS])


def _automatic(mail: ParsedMail) -> tuple[str, str] | None:
    headers = mail.headers
    local_part = mail.sender.email.split("@", 1)[0]
    report_type = _report_type(mail)
    if report_type == "delivery-status":
        return BOUNCE, "delivery status report (multipart/report)"
    if report_type is not None:
        # Read receipts (disposition-notification), abuse reports (feedback-report), ...
        return AUTO_REPLY, f"report (multipart/report; report-type={report_type or 'none'})"
    if local_part in BOUNCE_SENDERS and _delivery_status(mail):
        return BOUNCE, f"delivery status from {mail.sender.email}"
    auto_submitted = _token(headers.get("auto-submitted", ""))
    if auto_submitted and auto_submitted != "no":
        return AUTO_REPLY, f"Auto-Submitted: {auto_submitted}"
    for name in ("x-autoreply", "x-autorespond"):
        if name in headers:
            return AUTO_REPLY, f"{name.title()} header"
    suppress = {
        token.strip().lower() for token in headers.get("x-auto-response-suppress", "").split(",")
    }
    if suppress & SUPPRESS_TOKENS:
        return AUTO_REPLY, f"X-Auto-Response-Suppress: {headers['x-auto-response-suppress']}"
    precedence = _token(headers.get("precedence", ""))
    if precedence == "auto_reply":
        return AUTO_REPLY, "Precedence: auto_reply"
    if precedence in ("bulk", "junk", "list"):
        return LIST, f"Precedence: {precedence}"
    for name in ("list-id", "list-unsubscribe"):
        if name in headers:
            return LIST, f"{name.title()} header (mailing list)"
    if local_part in BOUNCE_SENDERS:
        return BOUNCE, f"sent by {mail.sender.email}"
    return None


def _field(value: str | None) -> str:
    """A typed DSN field's value: "rfc822; a@example.test" -> "a@example.test"."""
    if not value:
        return ""
    kind, _, rest = str(value).partition(";")
    return " ".join((rest if rest else kind).split())


def _reason(status: str, diagnostic: str) -> str:
    reason = status
    if diagnostic:
        # "550 5.1.1 <a@x>: Recipient address rejected: User unknown": the status is already said.
        words = [w for w in diagnostic.split() if w != status]
        reason = f"{status} {' '.join(words)}".strip()
    return reason[:MAX_REASON_CHARS]


def bounced_recipients(mail: ParsedMail) -> list[tuple[str, str]]:
    """For a bounce, the (address lower case, reason) of each recipient that failed, read from
    the message/delivery-status part; [] for anything else."""
    kind = automatic(mail)
    if kind is None or kind[0] != BOUNCE:
        return []
    found: list[tuple[str, str]] = []
    for data in _delivery_status(mail):
        text, _ = decode_bytes(data, "utf-8")
        blocks = [b for b in text.replace("\r\n", "\n").split("\n\n") if b.strip()]
        for block in blocks[1:]:  # the first block is about the message, the rest per recipient
            fields = BytesParser(policy=policy.compat32).parsebytes(
                block.encode("utf-8"), headersonly=True
            )
            address = _field(fields.get("original-recipient")) or _field(
                fields.get("final-recipient")
            )
            address = address.strip("<>").lower()
            action = (fields.get("action") or "").strip().lower()
            status = (fields.get("status") or "").strip()
            failed = action == "failed" or (not action and status.startswith("5"))
            if address and "@" in address and failed:
                found.append((address, _reason(status, _field(fields.get("diagnostic-code")))))
    return found
