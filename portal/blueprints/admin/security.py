"""Security settings for organization admins: /admin/security (two-factor sign-in required for
all staff; the staff IP allowlist)."""

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from kb import clock
from portal import access
from portal.blueprints.admin import bp
from portal.blueprints.admin.security_forms import AllowlistForm, RequireTwoFactorForm
from portal.extensions import db
from portal.security import allowlist, two_factor
from portal.web.addresses import client_ip
from portal.web.messages import error_text
from portal.web.rendering import render


@bp.before_request
def security_admins_only():
    """Every route of this module (endpoints "admin.security..."): holders of "security"."""
    if (request.endpoint or "").startswith("admin.security") and not access.may("security"):
        abort(403)


def _organization_id() -> int | None:
    return two_factor.organization_id_of(db.session, current_user.user)


def _page(org_id, two_factor_form=None, allowlist_form=None, block=None, status=200):
    if two_factor_form is None:
        required = two_factor.is_required_for(db.session, org_id)
        two_factor_form = RequireTwoFactorForm(formdata=None, data={"require_two_factor": required})
    if allowlist_form is None:
        stored = "\n".join(allowlist.entries_of(db.session, org_id))
        allowlist_form = AllowlistForm(formdata=None, data={"allowlist": stored})
    return render(
        "admin/security/settings.html",
        block,
        form=two_factor_form,
        allowlist_form=allowlist_form,
        allowlist_count=len(allowlist.entries_of(db.session, org_id)),
        your_address=client_ip(),
        organization_id=org_id,
        status=status,
    )


@bp.route("/security", methods=["GET", "POST"])
def security_settings():
    org_id = _organization_id()
    if request.method == "GET":
        return _page(org_id)
    form = RequireTwoFactorForm()
    if org_id is not None and form.validate_on_submit():
        two_factor.set_required(
            db.session,
            current_user.user,
            org_id,
            bool(form.require_two_factor.data),
            clock.now(),
            client_ip(),
        )
        db.session.commit()
        flash(_("Security settings saved."), "success")
        return redirect(url_for("admin.security_settings"), 303)
    return _page(org_id, two_factor_form=form, status=400)


@bp.route("/security/allowlist", methods=["GET", "POST"])
def security_allowlist():
    """The staff IP allowlist, saved whole; a list that would shut out the admin saving it
    (their own address not in it) is refused and shown again as typed."""
    org_id = _organization_id()
    if request.method == "GET" or org_id is None:
        return redirect(url_for("admin.security_settings") + "#allowlist", 303)
    form = AllowlistForm()
    if form.validate_on_submit():
        try:
            changed = allowlist.change(
                db.session, current_user.user, org_id, form.entries, clock.now(), client_ip()
            )
        except allowlist.LockOut as refused:
            db.session.rollback()
            form.allowlist.errors = [
                error_text("lock_out", "allowlist", address=refused.address or "?")
            ]
            return _page(org_id, allowlist_form=form, block="allowlist_form", status=422)
        db.session.commit()
        if changed:
            flash(_("The IP allowlist is saved."), "success")
        return redirect(url_for("admin.security_settings") + "#allowlist", 303)
    return _page(org_id, allowlist_form=form, block="allowlist_form", status=422)
