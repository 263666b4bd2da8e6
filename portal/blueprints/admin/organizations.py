"""Customer organizations for admins: /admin/organizations (members, email domains, sharing)."""

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _

from kb.people import CustomerOrganization, User
from portal import access
from portal.blueprints.admin import bp
from portal.blueprints.admin.audit_forms import who
from portal.blueprints.admin.organization_forms import (
    ConfirmForm,
    MemberForm,
    RemoveMemberForm,
    error_message,
    organization_form,
    show_errors,
)
from portal.desk import orgs
from portal.extensions import db
from portal.web.rendering import render


@bp.before_request
def organizations_admins_only():
    """Every route of this module (endpoints "admin.organization..."): admins, not editors."""
    if (request.endpoint or "").startswith("admin.organization") and not access.may_everywhere(
        "customers.edit"
    ):
        abort(403)


def _organization_or_404(org_id: int) -> CustomerOrganization:
    org = db.session.get(CustomerOrganization, org_id)
    if org is None:
        abort(404)
    return org


def _member_or_404(org: CustomerOrganization, user_id: int) -> User:
    """A member of this organization; any other account id is 404."""
    user = db.session.get(User, user_id)
    if user is None or user.customer_org_id != org.id:
        abort(404)
    return user


def _to_edit(org: CustomerOrganization, anchor: str = ""):
    return redirect(url_for(".organization_edit", org_id=org.id) + anchor, 303)


@bp.get("/organizations")
def organizations():
    q = orgs.clean_search(request.args.get("q"))
    after = request.args.get("after", type=int)
    page = orgs.organizations_page(db.session, q, after)
    return render("admin/organizations/list.html", "results", q=q, after=after, page=page)


@bp.route("/organizations/new", methods=["GET", "POST"])
def organization_new():
    form = organization_form()
    if form.validate_on_submit():
        try:
            org = orgs.create_organization(
                db.session,
                form.name.data or "",
                form.domains.data or "",
                form.shares_requests.data,
                **who(),
            )
        except orgs.InvalidOrganization as exc:
            db.session.rollback()
            show_errors(form, exc)
        else:
            flash(_("Organization saved. Now add its members."), "success")
            return _to_edit(org, "#members")
    return render(
        "admin/organizations/form.html",
        status=400 if request.method == "POST" else 200,
        form=form,
        organization=None,
    )


def _edit_page(org, form, member_form, status=200):
    return render(
        "admin/organizations/form.html",
        status=status,
        form=form,
        member_form=member_form,
        organization=org,
        members=orgs.members(db.session, org),
    )


@bp.route("/organizations/<id:org_id>", methods=["GET", "POST"])
def organization_edit(org_id):
    org = _organization_or_404(org_id)
    form = organization_form(org)
    if form.validate_on_submit():
        try:
            orgs.update_organization(
                db.session,
                org,
                form.name.data or "",
                form.domains.data or "",
                form.shares_requests.data,
                **who(),
            )
        except orgs.InvalidOrganization as exc:
            db.session.rollback()
            show_errors(form, exc)
        else:
            flash(_("Organization saved."), "success")
            return _to_edit(org)
    status = 400 if request.method == "POST" else 200
    return _edit_page(org, form, MemberForm(formdata=None), status)


@bp.post("/organizations/<id:org_id>/members")
def organization_member_add(org_id):
    org = _organization_or_404(org_id)
    member_form = MemberForm()
    if member_form.validate_on_submit():
        code = orgs.add_member(db.session, org, member_form.email.data or "", **who())
        if code is None:
            email = member_form.email.data.strip().lower()
            flash(_("%(email)s is now a member.", email=email), "success")
            return _to_edit(org, "#members")
        db.session.rollback()
        member_form.email.errors = [*member_form.email.errors, error_message(code)]
    return _edit_page(org, organization_form(org, posted=False), member_form, 400)


@bp.route("/organizations/<id:org_id>/members/<id:user_id>/remove", methods=["GET", "POST"])
def organization_member_remove(org_id, user_id):
    org = _organization_or_404(org_id)
    user = _member_or_404(org, user_id)
    confirm = RemoveMemberForm()
    if confirm.validate_on_submit() and confirm.confirmed.data == "yes":
        orgs.remove_member(db.session, org, user, **who())
        flash(_("%(email)s is no longer a member.", email=user.email), "success")
        return _to_edit(org, "#members")
    return render("admin/organizations/remove_member.html", organization=org, member=user)


@bp.route("/organizations/<id:org_id>/delete", methods=["GET", "POST"])
def organization_delete(org_id):
    org = _organization_or_404(org_id)
    confirm = ConfirmForm()
    if confirm.validate_on_submit():
        name = org.name
        orgs.delete_organization(db.session, org, **who())
        flash(_("Organization “%(name)s” deleted.", name=name), "success")
        return redirect(url_for(".organizations"), 303)
    return render(
        "admin/organizations/delete.html",
        organization=org,
        member_count=orgs.member_counts(db.session, [org.id]).get(org.id, 0),
    )
