"""Agent groups and assignment rules for admins: /admin/groups (members per brand, who new
tickets of a brand or of one of its forms go to)."""

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _

from kb.models import Brand
from portal import access
from portal.blueprints.admin import bp
from portal.blueprints.admin.audit_forms import who
from portal.blueprints.admin.forms import GroupForm, RoutingForm
from portal.desk import assignment
from portal.desk.models import AgentGroup
from portal.extensions import db
from portal.web.messages import error_text
from portal.web.rendering import render


@bp.before_request
def groups_admins_only():
    """Every route of this module (endpoints "admin.group..." and "admin.routing..")."""
    endpoint = request.endpoint or ""
    if endpoint.startswith(("admin.group", "admin.routing")) and not access.may_everywhere(
        "settings"
    ):
        abort(403)


def _brand_or_404(brand_id) -> Brand:
    brand = db.session.get(Brand, brand_id) if brand_id else None
    if brand is None:
        abort(404)
    return brand


def _group_or_404(group_id: int) -> AgentGroup:
    group = db.session.get(AgentGroup, group_id)
    if group is None:
        abort(404)
    return group


def _overview(errors=None, posted=None, status=200):
    brands = db.session.scalars(db.select(Brand).order_by(Brand.name)).all()
    sections = []
    for brand in brands:
        groups = assignment.groups_of_brand(db.session, brand.id)
        rules = assignment.rules_of_brand(db.session, brand.id)
        sections.append(
            {
                "brand": brand,
                "groups": [(g, assignment.members(db.session, g)) for g in groups],
                "agents": assignment.candidates(db.session, brand.id),
                "forms": assignment.forms_of_brand(db.session, brand.id),
                "targets": {key: assignment.target_of(rule) for key, rule in rules.items()},
            }
        )
    return render(
        "admin/groups/list.html",
        status=status,
        sections=sections,
        errors=errors or {},
        posted=posted or {},
    )


@bp.get("/groups")
def groups():
    return _overview()


@bp.post("/routing/<id:brand_id>")
def routing_save(brand_id):
    """Every rule of one brand at once: `target-0` for the brand, `target-<form id>` per form."""
    brand = _brand_or_404(brand_id)
    form = RoutingForm()
    form.validate_on_submit()  # CSRF is checked for every POST by CSRFProtect; desk checks the rest
    errors = {}
    for raw, form_id, target in form.rules():
        try:
            assignment.set_rule(db.session, brand.id, form_id or None, target)
        except assignment.GroupError as error:
            errors[f"{brand.id}-{raw}"] = error_text(error.code, "group")
    if errors:
        db.session.rollback()
        return _overview(errors, {brand.id: form.targets.posted()}, 400)
    db.session.commit()
    flash(_("Assignment rules of %(brand)s saved.", brand=brand.name), "success")
    return redirect(url_for(".groups") + f"#routing-{brand.id}", 303)


def _form_page(brand, group, name, member_ids, error=None, status=200):
    return render(
        "admin/groups/form.html",
        status=status,
        brand=brand,
        group=group,
        name=name,
        member_ids=member_ids,
        agents=assignment.candidates(db.session, brand.id),
        error=error,
    )


def _save(brand, group):
    form = GroupForm()
    if form.validate_on_submit():  # every POST (CSRF is checked by portal.extensions.csrf)
        name, member_ids = form.name.data or "", form.members.data
        try:
            group = assignment.save_group(db.session, group, brand.id, name, member_ids, **who())
        except assignment.GroupError as error:
            db.session.rollback()
            return _form_page(brand, group, name, member_ids, error_text(error.code, "group"), 400)
        db.session.commit()
        flash(_("Group “%(name)s” saved.", name=group.name), "success")
        return redirect(url_for(".groups") + f"#group-{group.id}", 303)
    if group is not None:
        members = [u.id for u in assignment.members(db.session, group)]
        return _form_page(brand, group, group.name, members)
    return _form_page(brand, group, "", [])


@bp.route("/groups/new", methods=["GET", "POST"])
def group_new():
    return _save(_brand_or_404(request.args.get("brand", type=int)), None)


@bp.route("/groups/<id:group_id>", methods=["GET", "POST"])
def group_edit(group_id):
    group = _group_or_404(group_id)
    return _save(db.session.get(Brand, group.brand_id), group)


@bp.route("/groups/<id:group_id>/delete", methods=["GET", "POST"])
def group_delete(group_id):
    group = _group_or_404(group_id)
    if request.method == "POST":
        name = group.name
        assignment.delete_group(db.session, group, **who())
        db.session.commit()
        flash(_("Group “%(name)s” deleted.", name=name), "success")
        return redirect(url_for(".groups"), 303)
    return render("admin/groups/delete.html", group=group)
