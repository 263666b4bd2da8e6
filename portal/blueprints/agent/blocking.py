"""Blocking a requester, for agents holding "tickets.block" on a brand of the requester's
tickets: /agent/requesters/block?email=&brand= (asks, then blocks) and .../unblock; offered on
the ticket page and on the customer's profile."""

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from kb import clock
from portal import access
from portal.blueprints.agent import bp
from portal.blueprints.agent.forms import BlockForm, ConfirmForm, RequesterQuery
from portal.desk import blocking
from portal.extensions import db
from portal.web.messages import error_text
from portal.web.rendering import render

PERMISSION = "tickets.block"


def _requester_or_404() -> RequesterQuery:
    """The address and brand asked for: a requester of that brand's tickets, the brand one
    of the agent's (else 404), where they may block (else 403)."""
    asked = RequesterQuery.from_args(request.args)
    brands = access.agent_brand_ids(db.session)
    if asked.brand_id is None or (brands is not None and asked.brand_id not in brands):
        abort(404)
    if not blocking.requester_of_brand(db.session, asked.email, asked.brand_id):
        abort(404)
    if not access.may(PERMISSION, asked.brand_id):
        abort(403)
    return asked


def _profile(email: str):
    return redirect(url_for("agent.customer_by_email", email=email), 303)


@bp.route("/requesters/block", methods=["GET", "POST"])
def requester_block():
    """GET (or a POST without the confirmation) asks, with an optional reason; the confirming
    POST blocks and goes to the requester's profile."""
    asked = _requester_or_404()
    form = BlockForm()
    error = None
    if form.validate_on_submit():
        try:
            blocking.block(
                db.session,
                current_user.user,
                asked.email,
                reason=form.reason.data or "",
                brand_id=asked.brand_id,
                ip=request.remote_addr or "",
                now=clock.now(),
            )
        except blocking.BlockError as refused:
            error = error_text(refused.code, "block")
        else:
            db.session.commit()
            flash(_("%(email)s is blocked: their requests are not accepted.", email=asked.email))
            return _profile(asked.email)
    status = 422 if request.method == "POST" and (error or form.errors) else 200
    return render(
        "agent/block_confirm.html",
        asked=asked,
        form=form,
        error=error,
        block=blocking.block_of(db.session, asked.email),
        status=status,
    )


@bp.post("/requesters/unblock")
def requester_unblock():
    asked = _requester_or_404()
    if ConfirmForm().validate_on_submit() and blocking.unblock(
        db.session,
        current_user.user,
        asked.email,
        brand_id=asked.brand_id,
        ip=request.remote_addr or "",
        now=clock.now(),
    ):
        db.session.commit()
        flash(
            _("%(email)s is no longer blocked. Their held mail can be retried.", email=asked.email)
        )
    return _profile(asked.email)
