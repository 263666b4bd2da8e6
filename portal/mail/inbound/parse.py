"""Parse stage: raw message bytes into a ParsedMail (decoded headers, body text, safe HTML, files).

Python's `email` package does the MIME splitting (with the lenient compat32 policy, which keeps
raw header text); decoding is ours, because real mail breaks its rules: raw 8-bit headers,
unquoted encoded-word file names, charsets Python does not know (ks_c_5601-1987) or that are
wrong. Every repair is written down in `ParsedMail.notes`."""

import binascii
import codecs
import mimetypes
import quopri
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.generator import BytesGenerator
from email.message import Message
from email.parser import BytesParser
from email.utils import getaddresses, parsedate_to_datetime
from io import BytesIO

from tnefparse import TNEF

from portal.mail.inbound.bodies import html_to_text, sanitize_html, too_deep

# Tried in this order, strictly, when the declared charset is missing, unknown or wrong.
FALLBACK_CHARSETS = ("utf-8", "cp949", "shift_jis", "iso-2022-jp", "windows-1252")
# Names mailers send that Python does not know, or where a superset is what is really meant
# (mail labelled latin-1 is written in windows-1252, as browsers also assume).
CHARSET_ALIASES = {
    "ks_c_5601-1987": "cp949",
    "ks_c_5601": "cp949",
    "ksc5601": "cp949",
    "ksc_5601": "cp949",
    "x-windows-949": "cp949",
    "windows-949": "cp949",
    "iso-8859-1": "windows-1252",
    "latin1": "windows-1252",
    "latin-1": "windows-1252",
    "us-ascii": "windows-1252",
    "ascii": "windows-1252",
    "x-sjis": "shift_jis",
    "sjis": "shift_jis",
    "gb2312": "gb18030",
    "gbk": "gb18030",
}
MAX_HEADER_CHARS = 100_000  # one header's value; longer ones are cut (with a note)
MAX_FILENAME_CHARS = 255
MAX_ADDRESSES = 1_000  # per header; the rest are left out (with a note)

_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=")
_BLANK_BETWEEN_WORDS = re.compile(r"^\s+$")
_MESSAGE_ID = re.compile(r"<[^<>\s]+>")
_EMAIL = re.compile(r"^[^@\s<>()\[\],;:\"\\]+@[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)+$")
_FOLD = re.compile(r"\r?\n(?=[ \t])")
_LINE_BREAKS = re.compile(r"\r\n|\r")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# The bidi controls that can make a name read backwards ("invoice\u202efdp.exe").
_BIDI = re.compile(r"[\u202a-\u202e\u2066-\u2069\u200e\u200f]")
_TEXT_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_BOUNDARY_PARAM = re.compile(rb"boundary\s*\*?\s*\d*\*?\s*=", re.IGNORECASE)
_ISO_2022_ESCAPE = re.compile(rb"\x1b[$(][@BJ]")


class ParseError(Exception):
    """The message cannot be used at all; str(e) is the reason shown to admins."""


@dataclass
class Attachment:
    """A file or inline image the mail carries (filename decoded, never empty)."""

    filename: str
    content_type: str
    data: bytes
    inline: bool = False
    content_id: str | None = None


@dataclass
class Address:
    """One mailbox: a display name and the address in lower case ("" when unusable)."""

    name: str
    email: str


@dataclass
class ParsedMail:
    """What the later stages read: decoded headers, the body as text and safe HTML, files,
    and the notes on what was repaired on the way."""

    message_id: str | None
    in_reply_to: list[str]
    references: list[str]
    subject: str
    sender: Address
    reply_to: list[Address]
    to: list[Address]
    cc: list[Address]
    date: datetime | None
    text: str
    html: str | None
    attachments: list[Attachment] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    all_headers: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------------------------
# Charsets


def normalise_charset(name: str | None) -> str | None:
    """A codec name Python knows for a charset label, or None when there is none."""
    if not name:
        return None
    label = name.strip().strip('"').lower()
    label = CHARSET_ALIASES.get(label, label)
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def decode_bytes(data: bytes, declared: str | None = None) -> tuple[str, str | None]:
    """Decode `data`: the declared charset, then the fallbacks, each strictly.

    Returns the text and a note when something other than the declared charset was used."""
    codec = normalise_charset(declared)
    if codec == "cp1252" and not data.isascii():
        # Mail labelled us-ascii or latin-1 is often UTF-8 in fact; windows-1252 would read
        # it without an error, as mojibake ("Ã¤"), and real latin-1 text is almost never
        # valid UTF-8.
        try:
            return data.decode("utf-8"), f"charset fallback utf-8 (declared {declared})"
        except UnicodeDecodeError:
            pass
    if codec is not None:
        try:
            return data.decode(codec), None
        except UnicodeDecodeError:
            pass
    if data.isascii() and not _ISO_2022_ESCAPE.search(data):
        return data.decode("ascii"), None
    candidates = list(FALLBACK_CHARSETS)
    if _ISO_2022_ESCAPE.search(data):
        candidates.insert(0, "iso-2022-jp")
    for candidate in candidates:
        if normalise_charset(candidate) == codec:
            continue
        try:
            text = data.decode(candidate)
        except UnicodeDecodeError:
            continue
        return text, f"charset fallback {candidate}" + (
            f" (declared {declared})" if declared else ""
        )
    return (
        data.decode(codec or "utf-8", errors="replace"),
        f"undecodable bytes replaced ({declared or 'no charset'})",
    )


def _raw_bytes(value: str) -> bytes:
    """The bytes behind a header string the parser read (8-bit bytes kept as surrogates)."""
    return value.encode("ascii", errors="surrogateescape")


def _encoded_word_bytes(encoding: str, text: str) -> bytes:
    if encoding in "bB":
        padded = text + "=" * (-len(text) % 4)
        try:
            return binascii.a2b_base64(padded.encode("ascii"))
        except (binascii.Error, UnicodeEncodeError):
            return text.encode("ascii", errors="replace")
    return quopri.decodestring(text.replace("_", " ").encode("ascii", errors="replace"), True)


def decode_words(text: str, notes: list[str] | None = None) -> str:
    """Decode RFC 2047 encoded-words wherever they are (quoted, unquoted, glued to other text).

    Adjacent words in one charset are joined as bytes first: mailers split multi-byte
    characters across words."""
    if "=?" not in text:
        return text
    out: list[str] = []
    pending: list[bytes] = []
    pending_charset: str | None = None
    position = 0

    def flush() -> None:
        nonlocal pending, pending_charset
        if pending:
            decoded, note = decode_bytes(b"".join(pending), pending_charset)
            if note and notes is not None:
                notes.append(f"{note} in header")
            out.append(decoded)
        pending, pending_charset = [], None

    for match in _ENCODED_WORD.finditer(text):
        between = text[position : match.start()]
        charset = match.group(1).split("*", 1)[0]  # RFC 2231 language suffix
        joined = pending and (between == "" or _BLANK_BETWEEN_WORDS.match(between))
        if not joined or charset.lower() != (pending_charset or "").lower():
            flush()
            if not joined:
                out.append(between)
        pending.append(_encoded_word_bytes(match.group(2), match.group(3)))
        pending_charset = charset
        position = match.end()
    flush()
    out.append(text[position:])
    return "".join(out)


def decode_header(value: str, notes: list[str] | None = None) -> str:
    """A header value as text: unfolded, raw 8-bit bytes guessed, encoded-words decoded."""
    value = _FOLD.sub("", value)
    if len(value) > MAX_HEADER_CHARS:
        value = value[:MAX_HEADER_CHARS]
        if notes is not None:
            notes.append("header cut to 100000 characters")
    raw = _raw_bytes(value)
    if not raw.isascii() or _ISO_2022_ESCAPE.search(raw):
        value, note = decode_bytes(raw)
        # Raw UTF-8 is allowed in headers (RFC 6532); any other guess is a repair.
        if note and notes is not None and not note.startswith("charset fallback utf-8"):
            notes.append(f"{note} for raw 8-bit header")
    return decode_words(value, notes)


def one_line(text: str) -> str:
    """Controls and line breaks out, runs of blanks as one space."""
    return " ".join(_CONTROL.sub(" ", _BIDI.sub("", text)).split())


# ---------------------------------------------------------------------------------------------
# Headers


def _message_id(value: str | None) -> str | None:
    found = _MESSAGE_ID.search(value or "")
    return found.group(0) if found and len(found.group(0)) <= 998 else None


def _addresses(value: str | None, notes: list[str]) -> list[Address]:
    """Parse an address list before decoding names (a decoded name may hold commas)."""
    if not value:
        return []
    value = _FOLD.sub("", value)[:MAX_HEADER_CHARS]
    raw = _raw_bytes(value)
    if not raw.isascii():
        value, _ = decode_bytes(raw)
    found = []
    pairs = getaddresses([value])
    if len(pairs) > MAX_ADDRESSES:
        notes.append(f"only the first {MAX_ADDRESSES} addresses of a header kept")
    for name, email in pairs[:MAX_ADDRESSES]:
        email = email.strip().lower()
        if not _EMAIL.match(email):
            email = ""
        name = one_line(decode_words(name, notes))
        if name or email:
            found.append(Address(name=name, email=email))
    return found


def _date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)  # "-0000": the zone is unknown; UTC is the rule
    try:
        return parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        return None


# ---------------------------------------------------------------------------------------------
# Parts


@dataclass
class _Walk:
    """What the walk over the MIME tree collects."""

    max_parts: int
    max_depth: int
    notes: list[str]
    texts: list[str] = field(default_factory=list)
    htmls: list[str] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    parts: int = 0

    def note_once(self, note: str) -> None:
        if note not in self.notes:
            self.notes.append(note)


def _param_text(value) -> str | None:
    """A MIME parameter as text: RFC 2231 (charset, language, value) tuples decoded too."""
    if isinstance(value, tuple):
        charset, _language, text = value
        try:
            data = text.encode("latin-1")  # the percent-decoded bytes, one character each
        except UnicodeEncodeError:
            return text
        return decode_bytes(data, charset)[0]
    return value


def _mime_headers(part: Message) -> Message:
    """The part's Content-* headers as text (raw 8-bit guessed), for reading parameters.

    The email package hands back raw 8-bit headers as Header objects that its own
    parameter functions cannot read."""
    clean = Message()
    for name, value in part.raw_items():
        if name.lower() in ("content-type", "content-disposition", "content-id"):
            raw = _raw_bytes(_FOLD.sub("", str(value))[:MAX_HEADER_CHARS])
            clean[name] = decode_bytes(raw)[0]
    return clean


def _filename(part: Message, notes: list[str]) -> str | None:
    headers = _mime_headers(part)
    for header, name in (("content-disposition", "filename"), ("content-type", "name")):
        try:
            value = headers.get_param(name, header=header)
        except (ValueError, IndexError, TypeError):
            value = None
        text = _param_text(value)
        if text:
            text = decode_words(text.strip().strip('"'), notes)
            # A path in the name (C:\Users\..\a.pdf) is not ours to keep.
            text = one_line(re.split(r"[\\/]", text)[-1]).strip(" .")
            if text:
                return text[-MAX_FILENAME_CHARS:]
    return None


def _extension(content_type: str) -> str:
    if content_type == "message/rfc822":
        return ".eml"
    if content_type in ("message/delivery-status", "message/global-delivery-status"):
        return ".txt"
    if content_type == "text/rfc822-headers":
        return ".txt"
    return mimetypes.guess_extension(content_type, strict=False) or ".bin"


def _disposition(part: Message) -> str:
    value = _mime_headers(part).get("content-disposition") or ""
    return value.split(";", 1)[0].strip().lower()


def _content_id(part: Message) -> str | None:
    value = one_line(_mime_headers(part).get("content-id") or "").strip("<> ")
    return value or None


def _payload(part: Message, notes: list[str]) -> bytes:
    """The part's body, transfer decoding undone (leniently: broken base64 keeps what decodes)."""
    try:
        data = part.get_payload(decode=True)
    except (ValueError, TypeError, binascii.Error):
        data = None
    if data is None:
        raw = part.get_payload()
        data = raw.encode("ascii", "surrogateescape") if isinstance(raw, str) else b""
        notes.append("part body kept undecoded")
    return data


def _transfer_decoded(data: bytes, encoding: str) -> bytes:
    if encoding == "base64":
        try:
            return binascii.a2b_base64(data)
        except binascii.Error:
            return data
    return quopri.decodestring(data)


def _message_bytes(message: Message) -> bytes:
    out = BytesIO()
    BytesGenerator(out, mangle_from_=False, policy=policy.compat32.clone(linesep="\r\n")).flatten(
        message
    )
    return out.getvalue()


def _forwarded_name(data: bytes, notes: list[str]) -> str | None:
    """A forwarded message's file name: its subject, without characters file systems refuse."""
    inner = BytesParser(policy=policy.compat32).parsebytes(data, headersonly=True)
    subject = next((str(v) for k, v in inner.raw_items() if k.lower() == "subject"), "")
    subject = re.sub(r'[\\/:*?"<>|]', "_", one_line(decode_header(subject, notes)))
    subject = subject[:120].strip(" .")
    return f"{subject}.eml" if subject else None


def _add_attachment(walk: _Walk, part: Message, content_type: str, data: bytes) -> None:
    name = _filename(part, walk.notes)
    if content_type == "message/rfc822" and not name:
        name = _forwarded_name(data, walk.notes)
    if not name:
        name = f"attachment-{len(walk.attachments) + 1}{_extension(content_type)}"
    content_id = _content_id(part)
    inline = content_id is not None and _disposition(part) in ("", "inline")
    walk.attachments.append(
        Attachment(
            filename=name,
            content_type=content_type,
            data=data,
            inline=inline,
            content_id=content_id,
        )
    )
    if content_type == "application/ms-tnef" or name.lower() == "winmail.dat":
        _unpack_tnef(walk)


def _unflow(text: str, delsp: bool) -> str:
    """format=flowed (RFC 3676): a line ending in a space goes on in the next one."""
    lines: list[str] = []
    joining = False
    for line in text.split("\n"):
        depth = len(line) - len(line.lstrip(">"))
        quote, body = line[:depth], line[depth:]
        body = body[1:] if body.startswith(" ") else body  # space-stuffing
        if joining and lines and lines[-1][1] == quote:
            lines[-1][0] += body
        else:
            lines.append([body, quote])
        joining = body.endswith(" ") and body != "-- "
        if joining and delsp:
            lines[-1][0] = lines[-1][0][:-1]
    return "\n".join(quote + (" " if quote and body else "") + body for body, quote in lines)


def _text_of(part: Message, walk: _Walk) -> str:
    data = _payload(part, walk.notes)
    headers = _mime_headers(part)
    charset = headers.get_param("charset")
    charset = _param_text(charset) if charset else None
    text, note = decode_bytes(data, charset)
    if note:
        walk.notes.append(f"{note} for {part.get_content_type()} part")
    text = _LINE_BREAKS.sub("\n", text)
    if part.get_content_type() == "text/plain" and (
        str(headers.get_param("format") or "").lower() == "flowed"
    ):
        text = _unflow(text, str(headers.get_param("delsp") or "").lower() == "yes")
    return text


def _walk(part: Message, walk: _Walk, depth: int) -> None:
    if walk.parts >= walk.max_parts:
        walk.note_once(f"truncated after {walk.max_parts} parts")
        return
    if depth > walk.max_depth:
        walk.note_once(f"parts nested deeper than {walk.max_depth} levels left out")
        return
    walk.parts += 1
    for defect in part.defects:
        walk.notes.append(f"MIME repair: {type(defect).__name__}")
    content_type = part.get_content_type()
    if part.is_multipart() and content_type == "message/rfc822":
        inner = part.get_payload()
        data = _message_bytes(inner[0]) if inner else b""
        encoding = str(part.get("content-transfer-encoding") or "").strip().lower()
        if encoding in ("base64", "quoted-printable"):
            # Not allowed for message/rfc822, but sent: the parser read the encoded text as a
            # message; undo the encoding to get the forwarded message's bytes.
            data = _transfer_decoded(data, encoding)
            walk.notes.append(f"{encoding} message/rfc822 decoded")
        _add_attachment(walk, part, content_type, data)
        return
    if part.is_multipart() and content_type.startswith("message/"):
        # message/delivery-status: the parser splits it into header blocks; keep it as text.
        blocks = part.get_payload()
        data = b"".join(_message_bytes(block) for block in blocks if isinstance(block, Message))
        _add_attachment(walk, part, content_type, data)
        return
    if part.is_multipart():
        children = part.get_payload()
        if content_type == "multipart/alternative":
            _walk_alternative(children, walk, depth)
        else:
            for child in children:
                _walk(child, walk, depth + 1)
        return
    is_body = _disposition(part) != "attachment" and _filename(part, []) is None
    if is_body and content_type == "text/plain":
        walk.texts.append(_text_of(part, walk))
    elif is_body and content_type == "text/html":
        walk.htmls.append(_text_of(part, walk))
    else:
        _add_attachment(walk, part, content_type, _payload(part, walk.notes))


def _walk_alternative(children: list[Message], walk: _Walk, depth: int) -> None:
    """Alternatives say one thing several ways: keep the first plain text and the last HTML."""
    texts, htmls = [], []
    for child in children:
        branch = _Walk(
            walk.max_parts,
            walk.max_depth,
            walk.notes,
            attachments=walk.attachments,
            parts=walk.parts,
        )
        _walk(child, branch, depth + 1)
        walk.parts = branch.parts
        texts.append(branch.texts)
        htmls.append(branch.htmls)
    walk.texts.extend(next((t for t in texts if t), []))
    walk.htmls.extend(next((h for h in reversed(htmls) if h), []))


# winmail.dat: at most this many TNEF records are read (the decoder copies the rest per record).
MAX_TNEF_RECORDS = 2_000


def _tnef_records(data: bytes) -> int:
    """How many records a TNEF stream holds (a cheap walk over their lengths)."""
    offset, count = 6, 0
    while offset + 12 < len(data):
        length = int.from_bytes(data[offset + 5 : offset + 9], "little")
        offset += length + 11
        count += 1
    return count


def _unpack_tnef(walk: _Walk) -> None:
    """Replace the last attachment (a winmail.dat) by the files inside it, when that works."""
    winmail = walk.attachments[-1]
    if _tnef_records(winmail.data) > MAX_TNEF_RECORDS:
        walk.notes.append("winmail.dat has too many records; kept as it is")
        return
    try:
        tnef = TNEF(winmail.data, do_checksum=False)
        files = []
        for n, item in enumerate(tnef.attachments, start=1):
            name = item.long_filename() or item.name
            if isinstance(name, bytes):
                name, _ = decode_bytes(name.rstrip(b"\x00"), tnef.codepage)
            name = one_line(re.split(r"[\\/]", str(name).rstrip("\x00"))[-1]).strip(" .")
            data = item.data if isinstance(item.data, bytes) else b""
            content_type = mimetypes.guess_type(name, strict=False)[0] if name else None
            content_type = content_type or "application/octet-stream"
            files.append(
                Attachment(
                    filename=name or f"attachment-{n}{_extension(content_type)}",
                    content_type=content_type,
                    data=data,
                )
            )
    except Exception as exc:  # tnefparse raises whatever a short read gives (struct, index...)
        walk.notes.append(f"winmail.dat could not be unpacked ({type(exc).__name__}); kept")
        return
    if not files:
        walk.notes.append("winmail.dat holds no files; kept")
        return
    walk.attachments[-1:] = files
    walk.notes.append(f"winmail.dat unpacked into {len(files)} file(s)")


# ---------------------------------------------------------------------------------------------
# The stage


def _body_text(text: str) -> str:
    """Line ends as \\n and no control characters other than tab and line feed."""
    return _TEXT_CONTROL.sub("", _LINE_BREAKS.sub("\n", text))


def parse(raw: bytes, *, max_parts: int = 200, max_depth: int = 10) -> ParsedMail:
    """Parse a raw message. Raises ParseError when nothing usable can be read from it."""
    if not raw or not raw.strip():
        raise ParseError("The message is empty.")
    if len(_BOUNDARY_PARAM.findall(raw)) > max_parts:
        # Each multipart declares a boundary; the MIME parser checks every open one per line.
        raise ParseError(f"The message has more than {max_parts} multipart sections.")
    try:
        message = BytesParser(policy=policy.compat32).parsebytes(raw)
    except RecursionError as exc:
        raise ParseError("The message's parts are nested too deeply to read.") from exc
    if not message.keys():
        raise ParseError("The message has no headers.")

    notes: list[str] = []
    raw_headers: dict[str, str] = {}
    for name, value in message.raw_items():
        raw_headers.setdefault(name.lower(), str(value))
    all_headers = [(name, decode_header(str(value), notes)) for name, value in message.raw_items()]
    headers: dict[str, str] = {}
    for name, value in all_headers:
        headers.setdefault(name.lower(), value)

    def raw_header(name: str) -> str | None:
        return raw_headers.get(name)

    senders = _addresses(raw_header("from"), notes)
    sender = senders[0] if senders else Address(name="", email="")
    if not senders:
        notes.append("no From address")

    walk = _Walk(max_parts=max_parts, max_depth=max_depth, notes=notes)
    try:
        _walk(message, walk, 0)
    except RecursionError as exc:
        raise ParseError("The message's parts are nested too deeply to read.") from exc

    html = "\n".join(walk.htmls) if walk.htmls else None
    if html is not None and too_deep(html):
        notes.append("HTML nested too deeply; kept as plain text")
    if walk.texts:
        text = "\n\n".join(_body_text(t).strip("\n") for t in walk.texts)
    elif html is not None:
        text = html_to_text(html)
        notes.append("text made from the HTML part")
    else:
        text = ""
    message_id = _message_id(raw_header("message-id"))
    if message_id is None:
        notes.append("no usable Message-ID")
    return ParsedMail(
        message_id=message_id,
        in_reply_to=_MESSAGE_ID.findall(raw_header("in-reply-to") or ""),
        references=_MESSAGE_ID.findall(raw_header("references") or ""),
        subject=one_line(headers.get("subject", "")),
        sender=sender,
        reply_to=_addresses(raw_header("reply-to"), notes),
        to=_addresses(raw_header("to"), notes),
        cc=_addresses(raw_header("cc"), notes),
        date=_date(raw_header("date")),
        text=text,
        html=sanitize_html(html).strip() if html is not None else None,
        attachments=walk.attachments,
        headers=headers,
        all_headers=all_headers,
        notes=list(dict.fromkeys(notes)),
    )
