"""The mail viewer: /admin/mail (what the local SMTP sink received, and the outbox). Admins only."""

from flask import abort, request

from portal import access
from portal.blueprints.admin import bp
from portal.extensions import db
from portal.mail import outbox, sink
from portal.web.rendering import render
from portal.web.security_headers import content_security_policy

OUTBOX_ROWS = 50
SINK_ROWS = 200


@bp.before_request
def admins_only():
    """Every route of this module (endpoints "admin.mail..."): admins, not editors."""
    if (request.endpoint or "").startswith("admin.mail") and not access.may_everywhere("settings"):
        abort(403)


@bp.get("/mail")
def mail_index():
    return render(
        "admin/mail.html",
        received=sink.sink_messages(sink.sink_folder(), limit=SINK_ROWS),
        counts=outbox.counts_by_state(db.session),
        rows=db.session.scalars(outbox.latest(OUTBOX_ROWS)).all(),
    )


@bp.get("/mail/<name>")
def mail_message(name):
    message = sink.sink_message(sink.sink_folder(), name)
    if message is None:
        abort(404)
    response = render(
        "admin/mail_message.html",
        name=name,
        headers=[(key, str(value)) for key, value in message.items()],
        text=sink.message_part(message, "plain"),
        html=_links_open_a_new_tab(sink.message_part(message, "html")),
    )
    # The mail's HTML (in a sandboxed frame, which inherits this policy) styles itself inline.
    response.headers["Content-Security-Policy"] = content_security_policy(inline_styles=True)
    return response


def _links_open_a_new_tab(html: str | None) -> str | None:
    """The framed mail's links leave the frame: our pages refuse to be framed (frame-ancestors)."""
    return None if html is None else '<base target="_blank">' + html
