"""Article attachments for readers: /files/<id>/<name>, by id, after an access check."""

import logging
from pathlib import Path

from flask import abort, current_app, send_file

from kb import attachments, clock
from kb.models import Attachment
from portal import access
from portal.blueprints.helpcenter import bp
from portal.extensions import db

log = logging.getLogger(__name__)

PUBLIC_MAX_AGE = 300  # a file stops being served within minutes of its article going offline


@bp.get("/files/<id:att_id>/<path:name>")
def attachment_file(att_id, name):
    """The name in the URL is for people only; the id decides. Unknown and forbidden: 404."""
    attachment = db.session.get(Attachment, att_id)
    if attachment is None:
        abort(404)
    now = clock.now()
    public = attachments.is_public(db.session, attachment, now)
    readable = public or attachments.is_public(db.session, attachment, now, access.reader_org_id())
    if not readable and not access.may_edit_brand(db.session, attachment.brand_id):
        abort(404)
    path = attachments.path_for(Path(current_app.instance_path) / "uploads", attachment.sha256)
    if not path.is_file():
        log.warning("Attachment %s has no file at %s", attachment.id, path)
        abort(404)
    inline = attachments.is_inline(attachment.content_type)
    response = send_file(
        path,
        mimetype=attachment.content_type,  # chosen by us at upload, never the client's
        as_attachment=not inline,
        download_name=attachment.filename,
        conditional=True,
        etag=attachment.sha256,
        max_age=PUBLIC_MAX_AGE if public else None,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "sandbox"
    if not public:
        # A draft's file for editors, or a restricted section's for its organizations.
        response.headers["Cache-Control"] = "private, no-store"
    return response
