"""The organization that runs this Portal, for organization admins: /admin/organization (its
name, ID and address, and its API key). Customers' companies are organizations.py."""

from flask import abort, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user

from kb import clock
from portal import access
from portal.blueprints.admin import bp
from portal.blueprints.admin.tenant_forms import ApiKeyForm, TenantNameForm
from portal.extensions import db
from portal.mail.compose import base_url
from portal.security import api_keys, tenant
from portal.web.addresses import client_ip
from portal.web.messages import error_text
from portal.web.rendering import render

# The key just made, shown on the next page only and then gone from the session (the page is
# never cached); only its hash is stored.
NEW_KEY_SESSION_KEY = "organization_new_api_key"


@bp.before_request
def tenant_admins_only():
    """Every route of this module (endpoints "admin.tenant..."): holders of "security"."""
    if (request.endpoint or "").startswith("admin.tenant") and not access.may("security"):
        abort(403)


def _organization_or_404():
    organization = tenant.organization_of(db.session, current_user.user)
    if organization is None:
        abort(404)
    return organization


def _page(organization, name_form=None, status=200):
    name_form = name_form or TenantNameForm(formdata=None, data={"name": organization.name})
    response = render(
        "admin/tenant.html",
        "name_form",
        organization=organization,
        name_form=name_form,
        key_form=ApiKeyForm(formdata=None),
        key=api_keys.key_of(db.session, organization),
        new_key=session.pop(NEW_KEY_SESSION_KEY, None),
        portal_url=base_url(),
        status=status,
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/organization", methods=["GET", "POST"])
def tenant_settings():
    organization = _organization_or_404()
    if request.method == "GET":
        return _page(organization)
    form = TenantNameForm()
    if form.validate_on_submit():
        try:
            changed = tenant.rename(
                db.session,
                organization,
                form.name.data,
                current_user.user,
                clock.now(),
                client_ip(),
            )
        except tenant.InvalidName as invalid:
            db.session.rollback()
            form.name.errors = [error_text(invalid.code, "tenant")]
        else:
            db.session.commit()
            if changed:
                flash(_("The organization's name is saved."), "success")
            return redirect(url_for("admin.tenant_settings"), 303)
    return _page(organization, form, status=422)


@bp.route("/organization/api-key", methods=["GET", "POST"])
def tenant_api_key():
    """Make the organization's API key, or rotate it: the old one stops working now."""
    organization = _organization_or_404()
    if request.method == "GET":
        return redirect(url_for("admin.tenant_settings") + "#api-key", 303)
    if not ApiKeyForm().validate_on_submit():
        abort(400)
    plaintext = api_keys.create_or_rotate(
        db.session, organization, current_user.user, clock.now(), client_ip()
    )
    db.session.commit()
    session[NEW_KEY_SESSION_KEY] = plaintext
    return redirect(url_for("admin.tenant_settings") + "#api-key", 303)
