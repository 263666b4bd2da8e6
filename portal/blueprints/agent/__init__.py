"""The agents' back-office: /agent/... (queues, tickets)."""

from flask import Blueprint, abort, g, redirect, request, url_for
from flask_login import current_user

from portal import access
from portal.desk.performance import agent_timezone
from portal.extensions import db

bp = Blueprint("agent", __name__, url_prefix="/agent")


@bp.before_request
def agents_only():
    """Guards every /agent route, including ones added later and htmx partials."""
    if not current_user.is_authenticated:
        return redirect(url_for("account.login", next=request.full_path.rstrip("?")))
    if not access.is_agent():
        abort(403)
    # Times on agents' pages in the agent's zone (their first brand's), said on each page.
    g.timezone = str(agent_timezone(db.session, current_user.id))


# Route modules register on bp; imported last, as they need it.
from portal.blueprints.agent import queues  # noqa: E402,F401,I001
from portal.blueprints.agent import ticket  # noqa: E402,F401,I001
from portal.blueprints.agent import bulk  # noqa: E402,F401,I001
from portal.blueprints.agent import canned  # noqa: E402,F401,I001
from portal.blueprints.agent import me  # noqa: E402,F401,I001
from portal.blueprints.agent import presence  # noqa: E402,F401,I001
from portal.blueprints.agent import customers  # noqa: E402,F401,I001
from portal.blueprints.agent import trash  # noqa: E402,F401,I001
from portal.blueprints.agent import blocking  # noqa: E402,F401,I001
from portal.blueprints.agent import notifications  # noqa: E402,F401,I001
