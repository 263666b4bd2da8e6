"""Deleting tickets, for agents holding "tickets.delete" on the ticket's brand: move to the
trash (/agent/tickets/<id>/trash), the trash itself (/agent/trash), restore and purge now.
A ticket in the trash answers 404 on every other agent route but its page, which its
deleters see with a notice."""

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from kb import clock
from portal import access
from portal.blueprints.agent import bp
from portal.blueprints.agent.forms import ConfirmForm
from portal.desk import trash
from portal.desk.models import Ticket
from portal.extensions import db
from portal.web import downloads
from portal.web.rendering import render

PERMISSION = "tickets.delete"
# The routes a ticket in the trash still answers on (the others: 404, as if it were gone).
TRASHED_ENDPOINTS = ("agent.ticket", "agent.trash_restore", "agent.trash_purge")


@bp.before_request
def trashed_tickets_are_gone():
    """Every agent route naming a ticket (`ticket_id`), including ones added later: a ticket
    in the trash is 404, but for its page and the trash's own routes, to those who may
    delete its brand's tickets."""
    ticket_id = (request.view_args or {}).get("ticket_id")
    if ticket_id is None:
        return
    ticket = db.session.get(Ticket, ticket_id)
    if ticket is None or ticket.deleted_at is None:
        return
    if request.endpoint not in TRASHED_ENDPOINTS or not access.may(PERMISSION, ticket.brand_id):
        abort(404)


@bp.context_processor
def trash_in_nav():
    """Whether the back office's menu offers the trash (it is there for some brand)."""
    if not getattr(current_user, "is_authenticated", False):
        return {}
    return {"shows_trash": access.may(PERMISSION)}


def _ticket_to_delete_or_404(ticket_id: int) -> Ticket:
    """A ticket of the agent's brands (else 404) whose brand lets them delete (else 403)."""
    ticket = access.ticket_for_agent_or_404(db.session, ticket_id)
    if not access.may(PERMISSION, ticket.brand_id):
        abort(403)
    return ticket


def _trashed_or_404(ticket_id: int) -> Ticket:
    """A ticket in the trash of a brand where the agent may delete; others 404."""
    ticket = db.session.get(Ticket, ticket_id)
    if ticket is None or ticket.deleted_at is None or not access.may(PERMISSION, ticket.brand_id):
        abort(404)
    return ticket


def _ip() -> str:
    return request.remote_addr or ""


@bp.route("/tickets/<id:ticket_id>/trash", methods=["GET", "POST"])
def ticket_trash(ticket_id):
    """GET (or a POST without the confirmation) asks; the confirming POST moves it."""
    ticket = _ticket_to_delete_or_404(ticket_id)
    if ConfirmForm().validate_on_submit():
        trash.trash(db.session, current_user.user, ticket, ip=_ip(), now=clock.now())
        db.session.commit()
        flash(_("Ticket #%(id)s moved to the trash.", id=ticket.id), "success")
        return redirect(url_for("agent.queues"), 303)
    return render(
        "agent/trash_confirm.html",
        ticket=ticket,
        action="trash",
        kept_days=trash.KEPT_FOR.days,
    )


@bp.get("/trash")
def trash_list():
    brand_ids = access.permitted_brand_ids(PERMISSION)
    if brand_ids == []:
        abort(403)
    page = trash.trashed_page(db.session, brand_ids, trash.parse_cursor(request.args.get("before")))
    response = render("agent/trash.html", page=page, kept_days=trash.KEPT_FOR.days)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.post("/trash/<id:ticket_id>/restore")
def trash_restore(ticket_id):
    ticket = _trashed_or_404(ticket_id)
    if ConfirmForm().validate_on_submit():
        trash.restore(db.session, current_user.user, ticket, ip=_ip(), now=clock.now())
        db.session.commit()
        flash(_("Ticket #%(id)s restored.", id=ticket.id), "success")
        return redirect(url_for("agent.ticket", ticket_id=ticket.id), 303)
    return redirect(url_for("agent.trash_list"), 303)


@bp.route("/trash/<id:ticket_id>/purge", methods=["GET", "POST"])
def trash_purge(ticket_id):
    """GET (or a POST without the confirmation) asks; the confirming POST deletes for good."""
    ticket = _trashed_or_404(ticket_id)
    if ConfirmForm().validate_on_submit():
        number = ticket.id
        trash.purge(
            db.session,
            current_user.user,
            ticket,
            uploads_dir=downloads.uploads_dir(),
            ip=_ip(),
            now=clock.now(),
        )
        flash(_("Ticket #%(id)s deleted for good.", id=number), "success")
        return redirect(url_for("agent.trash_list"), 303)
    return render("agent/trash_confirm.html", ticket=ticket, action="purge")
