"""Attachment retention: /admin/retention, per brand, how many days after a ticket closed its
files are removed (portal.desk.retention; the scheduler's leader removes them daily)."""

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _

from kb import clock
from portal import access
from portal.blueprints.admin import bp
from portal.blueprints.admin.audit_forms import who
from portal.blueprints.admin.retention_forms import RetentionForm
from portal.desk import retention
from portal.extensions import db
from portal.web.messages import error_text
from portal.web.rendering import render

PERMISSION = "settings"


@bp.before_request
def brand_settings_only():
    """Every route of this module (endpoints "admin.retention..."): holders of "settings"."""
    if (request.endpoint or "").startswith("admin.retention") and not access.may(PERMISSION):
        abort(403)


@bp.route("/retention", methods=["GET", "POST"])
def retention_settings():
    """Every brand the user configures, each with its own small form; a POST saves one."""
    brands = access.brands_with(db.session, PERMISSION)
    forms = {
        brand.slug: RetentionForm(
            formdata=None,
            data={"brand": brand.slug, "days": str(brand.attachment_retention_days or "")},
        )
        for brand in brands
    }
    if request.method == "GET":
        return render("admin/retention/settings.html", brands=brands, forms=forms)
    posted = RetentionForm()  # CSRFProtect has checked the token
    brand = access.brand_with_permission_or_404(db.session, posted.brand.data, PERMISSION)
    try:
        changed = retention.set_retention(
            db.session, brand=brand, days=posted.days_value(), now=clock.now(), **who()
        )
    except retention.RetentionError as error:
        limits = {"min": retention.MIN_DAYS, "max": retention.MAX_DAYS}
        posted.days.errors = [error_text(error.code, "retention", **limits)]
        forms[brand.slug] = posted
        return render("admin/retention/settings.html", brands=brands, forms=forms, status=400)
    db.session.commit()
    if changed:
        flash(_("Attachment retention saved for %(brand)s.", brand=brand.name), "success")
    else:
        flash(_("Nothing changed for %(brand)s.", brand=brand.name))
    return redirect(url_for("admin.retention_settings") + f"#brand-{brand.slug}", 303)
