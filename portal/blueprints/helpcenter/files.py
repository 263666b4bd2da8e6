"""Article attachments for readers: /files/<id>/<name>, by id, after an access check."""

from flask import abort

from kb import attachments, clock
from kb.models import Attachment
from portal import access
from portal.blueprints.helpcenter import bp
from portal.extensions import db
from portal.web import downloads

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
    # A draft's file for editors, or a restricted section's for its organizations: private.
    return downloads.stored_file(
        attachment.sha256,
        attachment.content_type,
        attachment.filename,
        public_max_age=PUBLIC_MAX_AGE if public else None,
    )
