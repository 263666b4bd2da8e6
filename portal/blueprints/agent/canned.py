"""Canned responses for agents: /agent/canned (personal and per brand), inserted into replies."""

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal import access
from portal.blueprints.agent import bp
from portal.blueprints.agent.forms import CannedDeleteForm, CannedForm, CannedInsertQuery
from portal.blueprints.agent.ticket import _show as show_ticket
from portal.desk import canned
from portal.desk.models import CannedResponse
from portal.extensions import db
from portal.web.rendering import render

PERSONAL = "me"


def _form(brands, response=None) -> CannedForm:
    data = {}
    if response is not None:
        scope = PERSONAL if response.owner_id is not None else str(response.brand_id)
        data = {"title": response.title, "body": response.body, "scope": scope}
    form = CannedForm(data=data)
    form.scope.choices = [(PERSONAL, _("Just me"))] + [(str(b.id), b.name) for b in brands]
    return form


def _response_or_404(canned_id: int) -> CannedResponse:
    """Another agent's personal response or another brand's answers like a missing one."""
    response = db.session.get(CannedResponse, canned_id)
    brand_ids = access.agent_brand_ids(db.session)
    if response is None or not canned.may_change(response, current_user.id, brand_ids):
        abort(404)
    return response


def _save(form, brands, response):
    """Store a valid form; the brand of a personal response is kept, else the first brand."""
    if form.scope.data == PERSONAL:
        if response is not None and response.brand_id in {b.id for b in brands}:
            brand_id = response.brand_id
        elif brands:
            brand_id = brands[0].id
        else:
            form.scope.errors = [_("You belong to no brand yet.")]
            return None
    else:
        brand_id = int(form.scope.data)
    return canned.save(
        db.session,
        response,
        current_user.id,
        form.title.data,
        form.body.data,
        brand_id,
        form.scope.data == PERSONAL,
    )


@bp.get("/canned")
def canned_responses():
    """The agent's personal responses and their brands' shared ones."""
    brand_ids = access.agent_brand_ids(db.session)
    responses = db.session.scalars(canned.visible(current_user.id, brand_ids)).all()
    brands = {b.id: b for b in canned.scope_brands(db.session, brand_ids)}
    return render("agent/canned.html", responses=responses, brands=brands)


@bp.route("/canned/new", methods=["GET", "POST"])
def canned_new():
    return _edit(None)


@bp.route("/canned/<id:canned_id>", methods=["GET", "POST"])
def canned_edit(canned_id):
    return _edit(_response_or_404(canned_id))


def _edit(response: CannedResponse | None):
    """The form for a new response (None) or an existing one; POST -> 303 -> the list."""
    brands = canned.scope_brands(db.session, access.agent_brand_ids(db.session))
    form = _form(brands, response)
    if form.validate_on_submit() and _save(form, brands, response) is not None:
        db.session.commit()
        flash(_("Canned response saved."), "success")
        return redirect(url_for("agent.canned_responses"), 303)
    status = 422 if request.method == "POST" else 200
    return render("agent/canned_form.html", status=status, form=form, response=response)


@bp.route("/canned/<id:canned_id>/delete", methods=["GET", "POST"])
def canned_delete(canned_id):
    """GET (or a POST without the confirmation) asks; the confirming POST deletes."""
    response = _response_or_404(canned_id)
    if CannedDeleteForm().validate_on_submit():
        title = response.title
        db.session.delete(response)
        db.session.commit()
        flash(_("Canned response “%(title)s” deleted.", title=title), "success")
        return redirect(url_for("agent.canned_responses"), 303)
    return render("agent/canned_delete.html", response=response)


@bp.get("/tickets/<id:ticket_id>/canned", defaults={"canned_id": None})
@bp.get("/tickets/<id:ticket_id>/canned/<id:canned_id>")
def canned_insert(ticket_id, canned_id):
    """The reply box with a response added after the text already typed (htmx: the box only).
    The id comes from the path, or from the select's `canned` value when htmx sends the form."""
    ticket = access.ticket_for_agent_or_404(db.session, ticket_id)
    picked = CannedInsertQuery.from_args(request.args)
    if canned_id is None:
        canned_id = picked.canned_id
    body = canned.insert(db.session, current_user.user, ticket, canned_id, picked.body)
    if body is None:
        abort(404)
    reply = {"body": body, "kind": "public", "status": "pending"}
    return show_ticket(ticket, reply=reply, block="reply_body")
