"""Mailboxes fetched over IMAP, for admins: /admin/mailboxes (per brand: the last check, its
error, how many messages each took), add, edit, delete, and "Check now"."""

from flask import abort, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _

from kb import clock
from kb.models import Brand
from portal import access
from portal.blueprints.admin import bp
from portal.blueprints.admin.audit_forms import who
from portal.blueprints.admin.mailbox_forms import ConfirmForm, mailbox_form
from portal.extensions import db
from portal.mail.inbound import imap
from portal.mail.models import Mailbox
from portal.web.rendering import render


@bp.before_request
def mailboxes_admins_only():
    """Every route of this module (endpoints "admin.mailbox..."): admins, not editors."""
    if (request.endpoint or "").startswith("admin.mailbox") and not access.may_everywhere(
        "settings"
    ):
        abort(403)


def _mailbox_or_404(mailbox_id: int) -> Mailbox:
    mailbox = db.session.get(Mailbox, mailbox_id)
    if mailbox is None:
        abort(404)
    return mailbox


def _form(mailbox: Mailbox | None, brand_id: int | None = None):
    brands = db.session.scalars(db.select(Brand).order_by(Brand.name)).all()
    return mailbox_form(mailbox, brands, imap.address_choices(db.session), brand_id)


def _to_list(mailbox_id: int):
    return redirect(url_for(".mailboxes") + f"#mailbox-{mailbox_id}", 303)


def _form_page(form, mailbox: Mailbox | None):
    status = 400 if request.method == "POST" else 200
    return render("admin/mailboxes/form.html", status=status, form=form, mailbox=mailbox)


@bp.get("/mailboxes")
def mailboxes():
    return render("admin/mailboxes/list.html", sections=imap.mailboxes_by_brand(db.session))


@bp.route("/mailboxes/new", methods=["GET", "POST"])
def mailbox_new():
    form = _form(None, request.args.get("brand", type=int))
    if form.validate_on_submit():
        mailbox = imap.save_mailbox(
            db.session, None, form.settings(), form.password.data, secret_key=_key(), **who()
        )
        flash(_("Mailbox saved. Use “Check now” to try it."), "success")
        return _to_list(mailbox.id)
    return _form_page(form, None)


def _key() -> str:
    """What mailbox passwords are sealed with (portal.security.sealing)."""
    return current_app.config["SECRET_KEY"]


@bp.route("/mailboxes/<id:mailbox_id>", methods=["GET", "POST"])
def mailbox_edit(mailbox_id):
    mailbox = _mailbox_or_404(mailbox_id)
    form = _form(mailbox)
    if form.validate_on_submit():
        imap.save_mailbox(
            db.session,
            mailbox,
            form.settings(),
            form.password.data or "",
            secret_key=_key(),
            **who(),
        )
        flash(_("Mailbox saved."), "success")
        return _to_list(mailbox.id)
    return _form_page(form, mailbox)


@bp.route("/mailboxes/<id:mailbox_id>/delete", methods=["GET", "POST"])
def mailbox_delete(mailbox_id):
    mailbox = _mailbox_or_404(mailbox_id)
    if ConfirmForm().validate_on_submit():
        imap.delete_mailbox(db.session, mailbox, **who())
        flash(_("Mailbox deleted. The messages it took stay."), "success")
        return redirect(url_for(".mailboxes"), 303)
    return render("admin/mailboxes/delete.html", mailbox=mailbox)


@bp.post("/mailboxes/<id:mailbox_id>/check")
def mailbox_check(mailbox_id):
    """Fetch this mailbox now (as the scheduler would) and say what came of it."""
    from portal.mail.inbound import pipeline  # as the scheduler's job does (portal.jobs)

    mailbox = _mailbox_or_404(mailbox_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    result = imap.fetch(
        db.session,
        mailbox,
        clock.now(),
        process=pipeline.process,
        max_bytes=int(current_app.config["MAIL_MAX_BYTES"]),
        timeout=float(current_app.config["MAIL_FETCH_TIMEOUT_SECONDS"]),
        secret_key=_key(),
    )
    counts = {"new": result.new, "skipped": result.skipped, "failed": result.failed}
    if result.error:
        flash(_("The check failed: %(error)s", error=result.error), "notice")
    else:
        flash(_("Checked: %(new)s new, %(skipped)s taken before, %(failed)s too large.", **counts))
    return _to_list(mailbox.id)
