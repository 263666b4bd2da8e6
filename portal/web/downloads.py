"""Serving stored files (article attachments, ticket files) the one safe way: our content type,
inline only for the types kb.attachments allows, never sniffed, sandboxed, private unless said."""

from datetime import datetime
from io import BytesIO
from pathlib import Path

from flask import Response, abort, current_app, send_file
from flask_babel import gettext as _

from kb import attachments
from portal.web import errors, times


def uploads_dir() -> Path:
    return Path(current_app.instance_path) / "uploads"


def stored_file(
    sha256: str, content_type: str, filename: str, public_max_age: int | None = None
) -> Response:
    """The file with this hash from the uploads folder (404 when missing). `public_max_age`
    lets shared caches keep it; otherwise it is private and never stored."""
    path = attachments.path_for(uploads_dir(), sha256)
    if not path.is_file():
        abort(404)
    response = send_file(
        path,
        mimetype=content_type,  # chosen by us at upload, never the client's
        as_attachment=not attachments.is_inline(content_type),
        download_name=filename,
        conditional=True,
        etag=sha256,
        max_age=public_max_age,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "sandbox"
    response.headers["Referrer-Policy"] = "no-referrer"
    if public_max_age is None:
        response.headers["Cache-Control"] = "private, no-store"
    return response


def removed_file(removed_at: datetime) -> Response:
    """410 Gone for a ticket file whose bytes the brand's retention policy removed (its row
    stays, so the conversation and this answer can say when)."""
    text = _("Removed under the retention policy on %(date)s.", date=times.day(removed_at))
    response = current_app.make_response(errors.page(410, text))
    response.headers["Cache-Control"] = "private, no-store"
    return response


def raw_message(raw: bytes | None, filename: str) -> Response:
    """A stored mail as it came (message/rfc822), to open in a mail program: downloaded,
    never rendered, never cached."""
    response = send_file(
        BytesIO(raw or b""), mimetype="message/rfc822", as_attachment=True, download_name=filename
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "sandbox"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "private, no-store"
    return response
