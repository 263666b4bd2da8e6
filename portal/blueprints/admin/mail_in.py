"""Received mail for admins: /admin/mail-in (every message taken in, newest first, what became
of it and why; a retry for the failed and held ones; each message's raw .eml)."""

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from kb import clock
from portal import access
from portal.blueprints.admin import bp
from portal.blueprints.admin.mail_forms import (
    RETRIED_STATES,
    STATUS_LABELS,
    ReceivedFilterForm,
    RetryForm,
)
from portal.extensions import db
from portal.mail.inbound import pipeline
from portal.mail.models import DONE, InboundMail
from portal.web import downloads
from portal.web.rendering import render

PER_PAGE = 50


@bp.before_request
def mail_in_admins_only():
    """Every route of this module (endpoints "admin.mail_in..."): admins, not editors."""
    if (request.endpoint or "").startswith("admin.mail_in") and not access.may_everywhere(
        "settings"
    ):
        abort(403)


def _mail_or_404(mail_id: int) -> InboundMail:
    mail = db.session.get(InboundMail, mail_id)
    if mail is None:
        abort(404)
    return mail


def _received(status: str | None, before: int | None) -> tuple[list[InboundMail], int | None]:
    """One page of messages, newest first (by id: the order they were stored in), and the
    id the next page starts before (None on the last page). The raw bytes stay unloaded."""
    stmt = select(InboundMail).order_by(InboundMail.id.desc()).limit(PER_PAGE + 1)
    if status:
        stmt = stmt.where(InboundMail.status == status)
    if before:
        stmt = stmt.where(InboundMail.id < before)
    rows = list(db.session.scalars(stmt))
    return rows[:PER_PAGE], rows[PER_PAGE - 1].id if len(rows) > PER_PAGE else None


def _counts() -> dict[str, int]:
    rows = db.session.execute(select(InboundMail.status, func.count()).group_by(InboundMail.status))
    return dict(rows.all())


@bp.get("/mail-in")
def mail_in():
    filters = ReceivedFilterForm(formdata=request.args)
    status, before = filters.chosen_status(), filters.before_id()
    rows, next_before = _received(status, before)
    return render(
        "admin/mail_in/list.html",
        "results",
        rows=rows,
        shown_status=status,  # (`status` is the response's)
        before=before,
        next_before=next_before,
        counts=_counts(),
        status_labels=STATUS_LABELS,
        retried_states=RETRIED_STATES,
    )


def _say_retried(mail: InboundMail | None) -> None:
    if mail is None:
        flash(_("Another worker is processing this message, or has processed it meanwhile."))
    elif mail.status == DONE and mail.ticket_id:
        flash(_("Message processed: see ticket #%(id)s.", id=mail.ticket_id), "success")
    else:
        label = STATUS_LABELS.get(mail.status, mail.status)
        flash(_("Message retried; its status is now “%(status)s”.", status=label))


@bp.post("/mail-in/<id:mail_id>/retry")
def mail_in_retry(mail_id):
    """Processed again at once (the pipeline commits); back to the page the admin was on."""
    mail = _mail_or_404(mail_id)
    form = RetryForm()  # CSRFProtect checked the token; the filter is read as on the list
    back = url_for(".mail_in", status=form.chosen_status(), before=form.before_id())
    if mail.status not in RETRIED_STATES:
        flash(_("Only failed and held messages can be retried."), "error")
    else:
        _say_retried(pipeline.retry(db.session, mail.id, clock.now()))
    return redirect(f"{back}#mail-{mail_id}", 303)


@bp.get("/mail-in/<id:mail_id>.eml")
def mail_in_raw(mail_id):
    """The message as it came, to open in a mail program: downloaded, never rendered."""
    mail = _mail_or_404(mail_id)
    return downloads.raw_message(mail.raw, f"mail-{mail.id}.eml")
