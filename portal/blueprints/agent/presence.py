"""Who else has a ticket open, and who is typing: /agent/tickets/<id>/presence (htmx polling)."""

from flask import request
from flask_login import current_user
from jinja2_fragments.flask import render_block

from kb import clock
from portal import access
from portal.blueprints.agent import bp
from portal.blueprints.agent.forms import PresenceForm
from portal.desk import presence
from portal.extensions import db


def _others(ticket):
    return presence.others(db.session, ticket.id, current_user.id, clock.now())


@bp.context_processor
def presence_helpers():
    # A function, so only the ticket page pays for the query.
    return {"presence_others": _others}


@bp.before_request
def record_page_view():
    """Opening the ticket page (GET) counts as viewing it, so the list works without JS."""
    if request.endpoint != "agent.ticket" or request.method != "GET":
        return
    ticket = access.ticket_for_agent_or_404(db.session, request.view_args["ticket_id"])
    presence.touch(db.session, ticket.id, current_user.id, False, clock.now())
    db.session.commit()


@bp.post("/tickets/<id:ticket_id>/presence")
def ticket_presence(ticket_id):
    """Refresh my presence (typing when the reply box is not empty); list the others."""
    ticket = access.ticket_for_agent_or_404(db.session, ticket_id)
    form = PresenceForm()
    presence.touch(db.session, ticket.id, current_user.id, form.typing, clock.now())
    db.session.commit()
    response = render_block("agent/ticket.html", "presence", ticket=ticket)
    return response, 200, {"Cache-Control": "private, no-store"}
