"""Files uploaded to articles: the one validator, content-hash storage, listing and deletion.

Flask-free, like the rest of kb/: every channel that accepts a file (the editor's form, htmx,
later email-in or an API) calls `store()`, so the checks live in one place.

What is accepted (an allow-list on the content *and* on the normalised name; both must agree):

    .png          image/png         magic bytes 89 50 4E 47 0D 0A 1A 0A
    .jpg .jpeg    image/jpeg        magic bytes FF D8 FF
    .gif          image/gif         GIF87a / GIF89a
    .webp         image/webp        RIFF....WEBP
    .pdf          application/pdf   %PDF-
    .txt .log     text/plain        the whole file is UTF-8, no NUL or control characters
    .csv          text/csv          (tab, newline, carriage return and form feed are allowed)
                                    and its start does not look like HTML, SVG or XML

Office files (docx, xlsx) are zip archives that can hold anything, and telling them apart needs
the whole archive read; they are left out until someone needs them. SVG and HTML are refused
outright (they are documents that run script, whatever they are called).

Bytes are stored once per content under uploads/<sha256[:2]>/<sha256>, mode 0600; the client's
file name is metadata only, cleaned of control, bidi and zero-width characters.
"""

import codecs
import hashlib
import os
import re
import tempfile
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from kb.models import Article, Attachment, Brand, Section, Translation
from kb.visibility import brand_is_public, section_is_open_to, visible

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_FILES_PER_ARTICLE = 30
MAX_BYTES_PER_ARTICLE = 100 * 1024 * 1024
MAX_NAME_CHARS = 200

HEAD_BYTES = 4096
CHUNK_BYTES = 64 * 1024

# Normalised extension -> the type we serve it as.
TYPES_BY_EXTENSION = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "webp": "image/webp",
    "pdf": "application/pdf",
    "txt": "text/plain",
    "log": "text/plain",
    "csv": "text/csv",
}
# Shown in the browser; everything else is a download. Never SVG, never HTML.
INLINE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
TEXT_TYPES = frozenset({"text/plain", "text/csv"})

# Characters that never belong in a file name: control (Cc), format (Cf: bidi overrides and
# isolates, zero-width space/joiners, BOM, soft hyphen), surrogates, private use, unassigned.
_STRIP_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})
# In text files: NUL and C0/C1 controls other than tab, newline, form feed, carriage return.
_BAD_TEXT = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")
# A text file that opens like markup is a document in disguise (an HTML page renamed .txt).
_MARKUP = re.compile(
    r"^\s*<\s*(?:!doctype|html|head|body|script|svg|\?xml|iframe|object|embed|meta)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Limits:
    file_bytes: int = MAX_FILE_BYTES
    files_per_article: int = MAX_FILES_PER_ARTICLE
    bytes_per_article: int = MAX_BYTES_PER_ARTICLE


@dataclass
class StoreResult:
    attachment: Attachment | None = None
    errors: dict[str, list[str]] = field(default_factory=dict)  # field -> error codes

    @property
    def ok(self) -> bool:
        return not self.errors


def clean_filename(name: str | None) -> str:
    """The client's name, fit to show: NFKC, no control/bidi/zero-width characters, no path,
    single spaces, no leading or trailing dots and spaces, at most MAX_NAME_CHARS."""
    text = unicodedata.normalize("NFKC", name or "")
    text = "".join(ch for ch in text if unicodedata.category(ch) not in _STRIP_CATEGORIES)
    text = re.split(r"[\\/]", text)[-1]  # the client's folders are none of our business
    text = " ".join(text.split()).strip(" .")
    if len(text) > MAX_NAME_CHARS:
        stem, dot, ext = text.rpartition(".")
        if dot and 0 < len(ext) <= 10:
            text = stem[: MAX_NAME_CHARS - len(ext) - 1].rstrip(" .") + "." + ext
        else:
            text = text[:MAX_NAME_CHARS].rstrip(" .")
    return text or "file"


def normalised_name(name: str | None) -> str:
    """The name the allow-list judges: cleaned, then lower case."""
    return clean_filename(name).lower()


def extension(name: str | None) -> str:
    stem, dot, ext = normalised_name(name).rpartition(".")
    return ext if dot and stem else ""


def _text_head(head: bytes) -> str | None:
    """The head decoded as UTF-8 (a multi-byte character cut at the end is fine), or None."""
    try:
        return codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return None


def sniff(head: bytes) -> str | None:
    """The allow-listed type the first bytes show, or None. Text is judged on the head only;
    `store()` checks the rest of the file as it streams."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    text = _text_head(head)
    if not head or text is None or _BAD_TEXT.search(text):
        return None
    if _MARKUP.match(text.lstrip("\ufeff")):
        return None
    return "text/plain"


def content_type_for(sniffed: str | None, name: str | None) -> str | None:
    """The type to store and serve, when the content and the name's extension agree."""
    claimed = TYPES_BY_EXTENSION.get(extension(name))
    if sniffed is None or claimed is None:
        return None
    if claimed == sniffed or (sniffed == "text/plain" and claimed in TEXT_TYPES):
        return claimed
    return None


def validate(
    size: int,
    content_type: str | None,
    existing_count: int,
    existing_bytes: int,
    limits: Limits = Limits(),
) -> list[str]:
    """Error codes for a file of `size` bytes and (agreed) `content_type`, added to an article
    that already holds `existing_count` files of `existing_bytes` in total."""
    if size == 0:
        return ["empty"]
    errors = []
    if size > limits.file_bytes:
        errors.append("too_large")
    if content_type is None:
        errors.append("type_not_allowed")
    if existing_count >= limits.files_per_article:
        errors.append("too_many")
    elif existing_bytes + min(size, limits.file_bytes + 1) > limits.bytes_per_article:
        errors.append("total_too_large")
    return errors


class _Inspector:
    """Hashes, counts and checks a file chunk by chunk, keeping only its head in memory."""

    def __init__(self):
        self.sha256 = hashlib.sha256()
        self.size = 0
        self.head = b""
        self._decoder = codecs.getincrementaldecoder("utf-8")()
        self._text = True

    def feed(self, chunk: bytes) -> None:
        self.sha256.update(chunk)
        self.size += len(chunk)
        if len(self.head) < HEAD_BYTES:
            self.head += chunk[: HEAD_BYTES - len(self.head)]
        if self._text:
            try:
                self._text = not _BAD_TEXT.search(self._decoder.decode(chunk))
            except UnicodeDecodeError:
                self._text = False

    def content_type(self) -> str | None:
        sniffed = sniff(self.head)
        if sniffed == "text/plain":
            try:
                self._decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                self._text = False
            if not self._text:
                return None
        return sniffed


def path_for(uploads_dir: Path, sha256: str) -> Path:
    if not re.fullmatch(r"[0-9a-f]{64}", sha256 or ""):
        raise ValueError("not a sha256 hex digest")
    return Path(uploads_dir) / sha256[:2] / sha256


def _article_usage(session: Session, article_id: int) -> tuple[int, int]:
    count, total = session.execute(
        select(func.count(Attachment.id), func.coalesce(func.sum(Attachment.size), 0)).where(
            Attachment.article_id == article_id
        )
    ).one()
    return int(count), int(total)


@dataclass
class Received:
    """An upload streamed to a temporary file beside the store: checked, not yet kept."""

    tmp: Path
    name: str
    sha256: str
    size: int
    content_type: str | None  # None: not on the allow-list (or name and content disagree)

    def keep(self, uploads_dir: Path) -> Path:
        """Moves the bytes into place (after the row is committed); same content, same name."""
        target = path_for(uploads_dir, self.sha256)
        target.parent.mkdir(mode=0o700, exist_ok=True)
        os.chmod(self.tmp, 0o600)
        os.replace(self.tmp, target)
        return target

    def discard(self) -> None:
        self.tmp.unlink(missing_ok=True)


TEMPORARY_PREFIX = ".upload-"
TEMPORARY_KEPT_FOR = timedelta(hours=1)  # no upload takes this long; older ones were abandoned


def remove_stale_temporary(uploads_dir: Path, now: datetime) -> int:
    """Removes temporary upload files (a process that died mid-upload leaves them behind)
    older than TEMPORARY_KEPT_FOR; answers how many."""
    cutoff = (now - TEMPORARY_KEPT_FOR).timestamp()
    removed = 0
    for path in Path(uploads_dir).glob(TEMPORARY_PREFIX + "*"):
        try:
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
        except FileNotFoundError:  # finished (or removed by another sweep) meanwhile
            continue
    return removed


def receive(uploads_dir: Path, stream: BinaryIO, filename: str | None, max_bytes: int) -> Received:
    """Streams an upload into a temporary file while hashing and sniffing it; stops reading one
    byte past `max_bytes` (the size check then fails without reading the rest)."""
    uploads_dir = Path(uploads_dir)
    uploads_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    name = clean_filename(filename)
    fd, tmp_name = tempfile.mkstemp(dir=uploads_dir, prefix=TEMPORARY_PREFIX)  # mode 0600
    tmp = Path(tmp_name)
    try:
        inspector = _Inspector()
        with os.fdopen(fd, "wb") as out:
            while inspector.size <= max_bytes:
                chunk = stream.read(CHUNK_BYTES)
                if not chunk:
                    break
                inspector.feed(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    content_type = content_type_for(inspector.content_type(), name)
    return Received(tmp, name, inspector.sha256.hexdigest(), inspector.size, content_type)


def store(
    session: Session,
    uploads_dir: Path,
    brand_id: int,
    article_id: int,
    locale: str | None,
    stream: BinaryIO,
    filename: str | None,
    uploaded_by: int | None,
    now: datetime,
    limits: Limits = Limits(),
) -> StoreResult:
    """Check and keep one uploaded file for an article (locale None: for all its translations).

    Streams into a temporary file beside the store while hashing, stops reading past the size
    cap, validates, commits the row and only then moves the bytes into place.
    """
    uploads_dir = Path(uploads_dir)
    received = receive(uploads_dir, stream, filename, limits.file_bytes)
    try:
        count, total = _article_usage(session, article_id)
        errors = validate(received.size, received.content_type, count, total, limits)
        if errors:
            return StoreResult(errors={"file": errors})
        attachment = Attachment(
            brand_id=brand_id,
            article_id=article_id,
            locale=locale,
            sha256=received.sha256,
            filename=received.name,
            content_type=received.content_type,
            size=received.size,
            uploaded_by=uploaded_by,
            created_at=now,
        )
        session.add(attachment)
        session.flush()
        # Counted again with our row in it: two uploads at once cannot both take the last place.
        count, total = _article_usage(session, article_id)
        if count > limits.files_per_article or total > limits.bytes_per_article:
            session.rollback()
            code = "too_many" if count > limits.files_per_article else "total_too_large"
            return StoreResult(errors={"file": [code]})
        session.commit()
        received.keep(uploads_dir)
        return StoreResult(attachment=attachment)
    finally:
        received.discard()


def delete(
    session: Session,
    uploads_dir: Path,
    attachment: Attachment,
    used_elsewhere: Callable[[str], bool] | None = None,
) -> None:
    """Remove the row, then the bytes unless another row (any brand) still uses them, or
    `used_elsewhere(sha256)` says something outside kb does (the help desk's files share
    the folder)."""
    sha256 = attachment.sha256
    session.delete(attachment)
    session.commit()
    if not in_use(session, sha256) and not (used_elsewhere and used_elsewhere(sha256)):
        path_for(Path(uploads_dir), sha256).unlink(missing_ok=True)


def in_use(session: Session, sha256: str) -> bool:
    """Whether an attachment (any brand) uses these stored bytes."""
    return (
        session.scalar(select(Attachment.id).where(Attachment.sha256 == sha256).limit(1))
        is not None
    )


def for_article(session: Session, article_id: int, locale: str) -> list[Attachment]:
    """The files an article's translation uses: its own and those shared by all translations."""
    return list(
        session.scalars(
            select(Attachment)
            .where(
                Attachment.article_id == article_id,
                or_(Attachment.locale == locale, Attachment.locale.is_(None)),
            )
            .order_by(Attachment.created_at, Attachment.id)
        )
    )


def is_public(
    session: Session, attachment: Attachment, now: datetime, org_id: int | None = None
) -> bool:
    """Anyone may read a file whose brand is public and whose translation a visitor can read:
    for a shared file, any visible translation of the article; for a translation's own file,
    that translation (a draft's screenshots stay private until it is published). In a
    restricted section, only its organizations' members (org_id) may."""
    article = session.get(Article, attachment.article_id)
    brand = session.get(Brand, attachment.brand_id)
    if article is None or article.brand_id != attachment.brand_id or not brand_is_public(brand):
        return False
    section = session.get(Section, article.section_id)
    if section is None or not section_is_open_to(section, org_id):
        return False
    locales = [attachment.locale] if attachment.locale else list(brand.locales)
    found = session.scalar(
        select(Translation.id)
        .where(
            Translation.article_id == article.id,
            Translation.locale.in_([loc for loc in locales if loc in brand.locales]),
            visible(now),
        )
        .limit(1)
    )
    return found is not None


def is_inline(content_type: str) -> bool:
    return content_type in INLINE_TYPES
