"""The back-office for content editors and admins: /admin/..."""

from flask import Blueprint, abort, g, redirect, request, url_for
from flask_login import current_user

from portal import access
from portal.desk.performance import agent_timezone
from portal.extensions import db

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
def staff_only():
    """Guards every /admin route, including ones added later and htmx partials."""
    if not current_user.is_authenticated:
        return redirect(url_for("account.login", next=request.full_path.rstrip("?")))
    if not access.may_enter_back_office():
        abort(403)
    # As on the agents' pages: times in the person's zone (their first brand's), said on each
    # page; a page about one brand's article switches to that brand's zone (views.py).
    g.timezone = str(agent_timezone(db.session, current_user.id))


# Route modules register on bp; imported last, as they need it.
from portal.blueprints.admin import attachments  # noqa: E402,F401,I001
from portal.blueprints.admin import views  # noqa: E402,F401,I001
from portal.blueprints.admin import inquiry_forms  # noqa: E402,F401,I001
from portal.blueprints.admin import mail  # noqa: E402,F401,I001
from portal.blueprints.admin import mail_addresses  # noqa: E402,F401,I001
from portal.blueprints.admin import mail_in  # noqa: E402,F401,I001
from portal.blueprints.admin import organizations  # noqa: E402,F401,I001
from portal.blueprints.admin import groups  # noqa: E402,F401,I001
from portal.blueprints.admin import labels  # noqa: E402,F401,I001
from portal.blueprints.admin import mailboxes  # noqa: E402,F401,I001
from portal.blueprints.admin import audit  # noqa: E402,F401,I001
from portal.blueprints.admin import export  # noqa: E402,F401,I001
from portal.blueprints.admin import retention  # noqa: E402,F401,I001
from portal.blueprints.admin import security  # noqa: E402,F401,I001
from portal.blueprints.admin import members  # noqa: E402,F401,I001
from portal.blueprints.admin import automation_schedules  # noqa: E402,F401,I001
from portal.blueprints.admin import tenant  # noqa: E402,F401,I001
from portal.blueprints.admin import customisation  # noqa: E402,F401,I001
from portal.blueprints.admin import automation_rules  # noqa: E402,F401,I001
from portal.blueprints.admin import translation  # noqa: E402,F401,I001
from portal.blueprints.admin import automation_webhooks  # noqa: E402,F401,I001
from portal.blueprints.admin import automation_notifications  # noqa: E402,F401,I001
