"""Security settings for admins: /admin/security (two-factor sign-in required for all staff)."""

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from kb import clock
from portal import access
from portal.blueprints.admin import bp
from portal.blueprints.admin.security_forms import RequireTwoFactorForm
from portal.extensions import db
from portal.security import two_factor
from portal.web.rendering import render


@bp.before_request
def security_admins_only():
    """Every route of this module (endpoints "admin.security..."): admins, not editors."""
    if (request.endpoint or "").startswith("admin.security") and not access.may("security"):
        abort(403)


def _organization_id() -> int | None:
    return two_factor.organization_id_of(db.session, current_user.user)


@bp.route("/security", methods=["GET", "POST"])
def security_settings():
    org_id = _organization_id()
    required = two_factor.is_required_for(db.session, org_id)
    form = RequireTwoFactorForm(data={"require_two_factor": required})
    if org_id is not None and form.validate_on_submit():
        two_factor.set_required(
            db.session,
            current_user.user,
            org_id,
            bool(form.require_two_factor.data),
            clock.now(),
            request.remote_addr or "",
        )
        db.session.commit()
        flash(_("Security settings saved."), "success")
        return redirect(url_for("admin.security_settings"), 303)
    status = 400 if request.method == "POST" else 200
    return render("admin/security/settings.html", form=form, organization_id=org_id, status=status)
