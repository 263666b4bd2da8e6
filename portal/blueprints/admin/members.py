"""Members and roles for holders of the "members" permission (organization admins):
/admin/members (invite, change roles, deactivate, reactivate, remove, re-send an invitation)
and /admin/roles (custom roles: a name and permissions)."""

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from kb import clock
from kb.models import Brand
from kb.people import Role, User
from portal import access
from portal.blueprints.admin import bp
from portal.blueprints.admin.audit_forms import who
from portal.blueprints.admin.members_forms import MemberForm, RoleForm
from portal.extensions import db
from portal.security import members, roles
from portal.security.roles import RoleError
from portal.web.messages import error_text
from portal.web.rendering import render

PERMISSION_LABELS = {
    "tickets.view": _l("Tickets: view"),
    "tickets.reply": _l("Tickets: reply to customers"),
    "tickets.note": _l("Tickets: internal notes"),
    "tickets.assign": _l("Tickets: assign"),
    "tickets.delete": _l("Tickets: delete"),
    "tickets.export": _l("Tickets: export"),
    "tickets.block": _l("Tickets: block requesters"),
    "customers.view": _l("Customers: view"),
    "customers.edit": _l("Customers: edit"),
    "kb.write": _l("Knowledge base: write"),
    "kb.publish": _l("Knowledge base: publish"),
    "forms": _l("Forms"),
    "automation": _l("Automation"),
    "reports": _l("Reports"),
    "settings": _l("Brand configuration"),
    "members": _l("Members"),
    "security": _l("Security settings and audit log"),
}
ROLE_NAMES = {
    "admin": _l("Admin"),
    "editor": _l("Editor"),
    "agent": _l("Agent"),
    "light_agent": _l("Light agent"),
}
STATE_LABELS = {
    "active": _l("Active"),
    "invited": _l("Invited"),
    "deactivated": _l("Deactivated"),
}


@bp.before_request
def members_admins_only():
    """Every route of this module (endpoints "admin.member..." and "admin.role...")."""
    endpoint = request.endpoint or ""
    if endpoint.startswith(("admin.member", "admin.role")) and not access.may("members"):
        abort(403)


@bp.app_template_global()
def role_name(role: Role | None) -> str:
    if role is None:
        return ""
    return str(ROLE_NAMES[role.key]) if role.key in ROLE_NAMES else role.name


def _brands() -> list[Brand]:
    return list(db.session.scalars(select(Brand).order_by(Brand.name)))


def _member_or_404(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None or user.role != "staff":
        abort(404)
    return user


def _role_or_404(role_id: int) -> Role:
    role = db.session.get(Role, role_id)
    if role is None:
        abort(404)
    return role


# -- members -----------------------------------------------------------------------------------


@bp.get("/members")
def members_list():
    brands = {b.id: b for b in _brands()}
    rows = [
        (user, members.state(user), roles.membership(db.session, user))
        for user in members.listing(db.session)
    ]
    return render(
        "admin/members/list.html",
        rows=rows,
        brands=brands,
        state_labels=STATE_LABELS,
    )


def _form(user: User | None = None) -> MemberForm:
    """The member form, filled from the post, or from the member's current roles."""
    brands = _brands()
    data = None
    if user is not None:
        current = roles.membership(db.session, user)
        data = {
            "name": user.name,
            "email": user.email,
            "login_id": user.login_id or "",
            "org_admin": current.org_admin,
            "every_brand": str(current.every_brand.id) if current.every_brand else "",
            **{f"brand_{b}": str(r.id) for b, r in current.per_brand.items()},
        }
    return MemberForm.for_brands(brands, data=data)


def _member_form(user: User | None, form: MemberForm, error: str | None = None, status: int = 200):
    return render(
        "admin/members/form.html",
        status=status,
        member=user,
        state=members.state(user) if user else None,
        form=form,
        roles=roles.all_roles(db.session),
        error=error,
        may_org_admin=current_user.user.org_admin,
    )


def _input(form: MemberForm) -> members.MemberInput:
    org_admin, every, per_brand = form.chosen(roles.all_roles(db.session))
    return members.MemberInput(
        name=form.name.data or "",
        email=form.email.data or "",
        login_id=form.login_id.data or "",
        org_admin=org_admin,
        every_brand=every,
        per_brand=per_brand,
    )


@bp.route("/members/invite", methods=["GET", "POST"])
def member_invite():
    form = _form()
    if not form.validate_on_submit():
        return _member_form(None, form, status=400 if request.method == "POST" else 200)
    try:
        user, token = members.invite(db.session, _input(form), now=clock.now(), **who())
    except RoleError as error:
        db.session.rollback()
        return _member_form(None, form, error_text(error.code, "member"), 400)
    _mail_invitation(user, token)
    db.session.commit()
    flash(_("Invitation sent to %(email)s.", email=user.email), "success")
    return redirect(url_for("admin.members_list"), 303)


def _mail_invitation(user: User, token: str) -> None:
    from portal.mail.compose import absolute_url, queue_mail  # needs the app: imported late

    queue_mail(
        db.session,
        "invitation",
        brand=None,
        locale=current_user.user.locale or "en",
        to=user.email,
        name=user.name,
        inviter=current_user.user.name,
        link=absolute_url("account.accept_invitation", token=token),
        hours=members.INVITATION_HOURS,
    )


@bp.route("/members/<id:user_id>", methods=["GET", "POST"])
def member_edit(user_id):
    user = _member_or_404(user_id)
    form = _form(user) if request.method == "GET" else _form()
    if not form.validate_on_submit():
        return _member_form(user, form, status=400 if request.method == "POST" else 200)
    try:
        changed = members.change(db.session, user, _input(form), now=clock.now(), **who())
    except RoleError as error:
        db.session.rollback()
        return _member_form(user, form, error_text(error.code, "member"), 400)
    db.session.commit()
    if changed:
        flash(_("%(name)s is saved.", name=user.name), "success")
    return redirect(url_for("admin.members_list"), 303)


ACTIONS = {
    "deactivate": (members.deactivate, _l("%(name)s is deactivated and signed out.")),
    "reactivate": (members.reactivate, _l("%(name)s is active again.")),
    "remove": (members.remove, _l("%(name)s is removed from the organization.")),
}


@bp.post("/members/<id:user_id>/<action>")
def member_action(user_id, action):
    """Deactivate, reactivate or remove (CSRF is checked for every POST by CSRFProtect)."""
    user = _member_or_404(user_id)
    if action not in ACTIONS:
        abort(404)
    operation, done = ACTIONS[action]
    try:
        operation(db.session, user, now=clock.now(), **who())
    except RoleError as error:
        db.session.rollback()
        return _member_form(user, _form(user), error_text(error.code, "member"), 409)
    db.session.commit()
    flash(str(done) % {"name": user.name}, "success")
    return redirect(url_for("admin.members_list"), 303)


@bp.post("/members/<id:user_id>/resend")
def member_resend(user_id):
    user = _member_or_404(user_id)
    try:
        token = members.resend_invitation(db.session, user, now=clock.now(), **who())
    except RoleError as error:
        db.session.rollback()
        return _member_form(user, _form(user), error_text(error.code, "member"), 409)
    _mail_invitation(user, token)
    db.session.commit()
    flash(_("Invitation sent to %(email)s.", email=user.email), "success")
    return redirect(url_for("admin.members_list"), 303)


# -- roles -------------------------------------------------------------------------------------


@bp.get("/roles")
def roles_list():
    return render(
        "admin/members/roles.html",
        roles=roles.all_roles(db.session),
        labels=PERMISSION_LABELS,
    )


def _role_form(role: Role | None, form: RoleForm, error: str | None = None, status: int = 200):
    return render(
        "admin/members/role_form.html",
        status=status,
        role=role,
        form=form,
        chosen=set(form.permissions.data or ()),
        permissions=roles.PERMISSIONS,
        labels=PERMISSION_LABELS,
        error=error,
    )


@bp.route("/roles/new", methods=["GET", "POST"])
def role_new():
    form = RoleForm()
    if not form.validate_on_submit():
        return _role_form(None, form, status=400 if request.method == "POST" else 200)
    try:
        role = roles.create_role(
            db.session, form.name.data or "", form.permissions.data or (), now=clock.now(), **who()
        )
    except RoleError as error:
        db.session.rollback()
        return _role_form(None, form, error_text(error.code, "role"), 400)
    db.session.commit()
    flash(_("The role %(name)s is created.", name=role.name), "success")
    return redirect(url_for("admin.roles_list"), 303)


@bp.route("/roles/<id:role_id>", methods=["GET", "POST"])
def role_edit(role_id):
    role = _role_or_404(role_id)
    if role.key is not None:
        abort(404)  # built-in roles are read on the list, not edited
    form = RoleForm(data={"name": role.name, "permissions": list(role.permissions)})
    if not form.validate_on_submit():
        return _role_form(role, form, status=400 if request.method == "POST" else 200)
    try:
        roles.change_role(
            db.session,
            role,
            form.name.data or "",
            form.permissions.data or (),
            now=clock.now(),
            **who(),
        )
    except RoleError as error:
        db.session.rollback()
        return _role_form(role, form, error_text(error.code, "role"), 400)
    db.session.commit()
    flash(_("The role %(name)s is saved.", name=role.name), "success")
    return redirect(url_for("admin.roles_list"), 303)


@bp.post("/roles/<id:role_id>/delete")
def role_delete(role_id):
    role = _role_or_404(role_id)
    try:
        roles.delete_role(db.session, role, now=clock.now(), **who())
    except RoleError as error:
        db.session.rollback()
        form = RoleForm(data={"name": role.name, "permissions": list(role.permissions)})
        return _role_form(role, form, error_text(error.code, "role"), 409)
    db.session.commit()
    flash(_("The role is deleted."), "success")
    return redirect(url_for("admin.roles_list"), 303)
