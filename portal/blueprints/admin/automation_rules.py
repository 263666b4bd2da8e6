"""The rule bot for admins: /admin/automation/rules, per brand (holders of "automation" on it):
the rules in the order they run, new, edit (with "Try it" on the brand's recent tickets),
switch on and off, move up and down, delete."""

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _

from kb import clock
from kb.models import Brand
from portal import access
from portal.blueprints.admin import bp
from portal.blueprints.admin.audit_forms import who
from portal.blueprints.admin.automation_rule_forms import (
    ACTION_LABELS,
    CONDITION_LABELS,
    EVENT_LABELS,
    MoveForm,
    RuleForm,
    ToggleForm,
)
from portal.desk import assignment
from portal.desk.automation import rules, webhooks
from portal.desk.automation.models import AutomationRule
from portal.extensions import db
from portal.web.messages import error_text
from portal.web.rendering import render

PERMISSION = "automation"


@bp.before_request
def automation_rules_only():
    """Every route of this module (endpoints "admin.automation_rule..."): "automation"."""
    if (request.endpoint or "").startswith("admin.automation_rule") and not access.may(PERMISSION):
        abort(403)


def _brand() -> Brand:
    """The brand named by ?brand=slug, else the first the admin may automate."""
    slug = request.args.get("brand")
    if slug:
        return access.brand_with_permission_or_404(db.session, slug, PERMISSION)
    brands = access.brands_with(db.session, PERMISSION)
    if not brands:
        abort(404)
    return brands[0]


def _rule_or_404(rule_id: int) -> AutomationRule:
    rule = db.session.get(AutomationRule, rule_id)
    if rule is None or not access.may(PERMISSION, rule.brand_id):
        abort(404)
    return rule


def _list_url(brand: Brand) -> str:
    return url_for("admin.automation_rules", brand=brand.slug)


@bp.get("/automation/rules")
def automation_rules():
    brand = _brand()
    return render(
        "admin/automation/rules.html",
        brand=brand,
        brands=access.brands_with(db.session, PERMISSION),
        rules=rules.rules_of_brand(db.session, brand.id),
        event_labels=EVENT_LABELS,
    )


def _editor(brand, rule, form, errors=None, trial=None, status=200):
    form.add_blank_rows()
    return render(
        "admin/automation/rules_form.html",
        "editor",
        status=status,
        brand=brand,
        rule=rule,
        form=form,
        errors={k: error_text(v, "rule") for k, v in (errors or {}).items()},
        trial=trial,
        event_labels=EVENT_LABELS,
        condition_labels=CONDITION_LABELS,
        action_labels=ACTION_LABELS,
        agents=assignment.candidates(db.session, brand.id),
        groups=assignment.groups_of_brand(db.session, brand.id),
        targets=webhooks.targets_of_brand(db.session, brand.id),
    )


def _try(brand, rule, form):
    try:
        trial = rules.try_rule(db.session, brand, form.draft(), clock.now())
    except rules.RuleInvalid as error:
        return _editor(brand, rule, form, error.errors, status=400)
    db.session.rollback()  # a dry run changes nothing, and keeps nothing
    return _editor(brand, rule, form, trial=trial)


def _save(brand, rule):
    form = RuleForm()
    if not form.is_submitted():
        if rule is not None:
            form.fill(rules.draft_of(db.session, rule))
        else:
            form.events.data = ["ticket_created"]
        return _editor(brand, rule, form)
    if form.step.data in ("add_condition", "add_action"):
        return _editor(brand, rule, form)
    if form.step.data == "try":
        return _try(brand, rule, form)
    try:
        saved = rules.save_rule(
            db.session, brand=brand, rule=rule, draft=form.draft(), now=clock.now(), **who()
        )
    except rules.RuleInvalid as error:
        db.session.rollback()
        return _editor(brand, rule, form, error.errors, status=400)
    db.session.commit()
    flash(_("Rule “%(name)s” saved.", name=saved.name), "success")
    return redirect(_list_url(brand) + f"#rule-{saved.id}", 303)


@bp.route("/automation/rules/new", methods=["GET", "POST"])
def automation_rule_new():
    return _save(_brand(), None)


@bp.route("/automation/rules/<id:rule_id>", methods=["GET", "POST"])
def automation_rule_edit(rule_id):
    rule = _rule_or_404(rule_id)
    return _save(db.session.get(Brand, rule.brand_id), rule)


@bp.post("/automation/rules/<id:rule_id>/active")
def automation_rule_active(rule_id):
    rule = _rule_or_404(rule_id)
    form = ToggleForm()
    rules.set_active(
        db.session, rule=rule, active=form.active.data == "1", now=clock.now(), **who()
    )
    db.session.commit()
    brand = db.session.get(Brand, rule.brand_id)
    flash(
        _("Rule “%(name)s” is on.", name=rule.name)
        if rule.active
        else _("Rule “%(name)s” is off.", name=rule.name),
        "success",
    )
    return redirect(_list_url(brand) + f"#rule-{rule.id}", 303)


@bp.post("/automation/rules/<id:rule_id>/move")
def automation_rule_move(rule_id):
    rule = _rule_or_404(rule_id)
    form = MoveForm()
    step = -1 if form.direction.data == "up" else 1
    rules.move_rule(db.session, rule=rule, step=step, now=clock.now(), **who())
    db.session.commit()
    return redirect(_list_url(db.session.get(Brand, rule.brand_id)) + f"#rule-{rule.id}", 303)


@bp.route("/automation/rules/<id:rule_id>/delete", methods=["GET", "POST"])
def automation_rule_delete(rule_id):
    rule = _rule_or_404(rule_id)
    brand = db.session.get(Brand, rule.brand_id)
    if request.method == "GET":
        return render("admin/automation/rules_delete.html", rule=rule, brand=brand)
    name = rule.name
    rules.delete_rule(db.session, rule=rule, now=clock.now(), **who())
    db.session.commit()
    flash(_("Rule “%(name)s” deleted.", name=name), "success")
    return redirect(_list_url(brand), 303)
