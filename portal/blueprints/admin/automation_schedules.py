"""The schedule bot for admins: /admin/automation/schedules (per brand: new, edit, delete, move,
switch on and off) and /admin/automation/business-hours (the hours schedules may count in).
The permission is "automation" on the brand."""

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _

from kb import clock
from kb.models import Brand
from portal import access
from portal.blueprints.admin import bp
from portal.blueprints.admin.audit_forms import who
from portal.blueprints.admin.automation_schedules_forms import (
    ACTION_LABELS,
    CONDITION_LABELS,
    ActiveForm,
    BusinessHoursForm,
    DeleteForm,
    MoveForm,
    ScheduleForm,
)
from portal.desk import assignment
from portal.desk.automation import business_hours, schedules, webhooks
from portal.desk.automation.models import ScheduleRule
from portal.desk.models import TICKET_PRIORITIES, TICKET_STATUSES
from portal.extensions import db
from portal.web.messages import error_text
from portal.web.rendering import render

PERMISSION = "automation"


@bp.before_request
def automation_schedules_only():
    """Every route of this module (endpoints "admin.automation_schedule..." and
    "admin.automation_business_hours"): holders of "automation" on some brand."""
    endpoint = request.endpoint or ""
    if endpoint.startswith(("admin.automation_schedule", "admin.automation_business_hours")):
        if not access.may(PERMISSION):
            abort(403)


def _schedule_or_404(schedule_id: int) -> tuple[ScheduleRule, Brand]:
    schedule = db.session.get(ScheduleRule, schedule_id)
    if schedule is None or not access.may(PERMISSION, schedule.brand_id):
        abort(404)
    return schedule, db.session.get(Brand, schedule.brand_id)


@bp.get("/automation/schedules")
def automation_schedules():
    brands = access.brands_with(db.session, PERMISSION)
    sections = [(brand, schedules.schedules_of(db.session, brand.id)) for brand in brands]
    return render(
        "admin/automation/schedules.html",
        sections=sections,
        condition_labels=CONDITION_LABELS,
        action_labels=ACTION_LABELS,
    )


def _form_page(brand, schedule, form, errors=None, status=200):
    return render(
        "admin/automation/schedule_form.html",
        "form",
        status=status,
        brand=brand,
        schedule=schedule,
        form=form,
        errors=errors or {},
        condition_labels=CONDITION_LABELS,
        action_labels=ACTION_LABELS,
        statuses=TICKET_STATUSES,
        priorities=TICKET_PRIORITIES,
        groups=assignment.groups_of_brand(db.session, brand.id),
        targets=webhooks.targets_of_brand(db.session, brand.id),
    )


def _messages(error: schedules.ScheduleError) -> dict[str, str]:
    limits = {"max": schedules.MAX_HOURS, "rows": schedules.MAX_ROWS, "note": schedules.MAX_NOTE}
    return {key: error_text(code, "schedule", **limits) for key, code in error.errors.items()}


def _save(brand: Brand, schedule: ScheduleRule | None):
    form = ScheduleForm()
    if request.method == "GET":
        if schedule is not None:
            form.fill(schedule, *schedules.rows_of(db.session, schedule))
        else:
            form.active.data = True
        return _form_page(brand, schedule, form)
    form.validate_on_submit()  # CSRF is checked for every POST by CSRFProtect; desk checks the rest
    if form.add_row():  # "add a condition" or "add an action": the form again, values kept
        return _form_page(brand, schedule, form)
    values = {
        "business_hours": bool(form.business_hours.data),
        "active": bool(form.active.data),
        "now": clock.now(),
        **who(),
    }
    try:
        if schedule is None:
            schedule = schedules.create(
                db.session,
                brand,
                form.name.data or "",
                form.condition_rows(),
                form.action_rows(),
                **values,
            )
        else:
            schedules.change(
                db.session,
                schedule,
                form.name.data or "",
                form.condition_rows(),
                form.action_rows(),
                **values,
            )
    except schedules.ScheduleError as error:
        db.session.rollback()
        return _form_page(brand, schedule, form, _messages(error), 400)
    db.session.commit()
    flash(_("Schedule “%(name)s” saved.", name=schedule.name), "success")
    return redirect(url_for(".automation_schedules") + f"#schedule-{schedule.id}", 303)


@bp.route("/automation/schedules/new", methods=["GET", "POST"])
def automation_schedule_new():
    brand = access.brand_with_permission_or_404(db.session, request.args.get("brand"), PERMISSION)
    return _save(brand, None)


@bp.route("/automation/schedules/<id:schedule_id>", methods=["GET", "POST"])
def automation_schedule_edit(schedule_id):
    schedule, brand = _schedule_or_404(schedule_id)
    return _save(brand, schedule)


@bp.route("/automation/schedules/<id:schedule_id>/delete", methods=["GET", "POST"])
def automation_schedule_delete(schedule_id):
    schedule, brand = _schedule_or_404(schedule_id)
    form = DeleteForm()
    if request.method == "POST" and form.validate_on_submit():
        name = schedule.name
        schedules.delete(db.session, schedule, now=clock.now(), **who())
        db.session.commit()
        flash(_("Schedule “%(name)s” deleted.", name=name), "success")
        return redirect(url_for(".automation_schedules"), 303)
    return render("admin/automation/schedule_delete.html", schedule=schedule, brand=brand)


@bp.post("/automation/schedules/<id:schedule_id>/move")
def automation_schedule_move(schedule_id):
    schedule, _brand = _schedule_or_404(schedule_id)
    form = MoveForm()
    form.validate_on_submit()
    schedules.move(db.session, schedule, form.step(), now=clock.now(), **who())
    db.session.commit()
    return redirect(url_for(".automation_schedules") + f"#schedule-{schedule.id}", 303)


@bp.post("/automation/schedules/<id:schedule_id>/active")
def automation_schedule_active(schedule_id):
    schedule, _brand = _schedule_or_404(schedule_id)
    form = ActiveForm()
    form.validate_on_submit()
    schedules.set_active(db.session, schedule, form.on(), now=clock.now(), **who())
    db.session.commit()
    if form.on():
        flash(_("Schedule “%(name)s” switched on.", name=schedule.name), "success")
    else:
        flash(_("Schedule “%(name)s” switched off.", name=schedule.name), "success")
    return redirect(url_for(".automation_schedules") + f"#schedule-{schedule.id}", 303)


@bp.route("/automation/business-hours", methods=["GET", "POST"])
def automation_business_hours():
    brand = access.brand_with_permission_or_404(db.session, request.args.get("brand"), PERMISSION)
    form = BusinessHoursForm()
    if request.method == "GET":
        week, holidays = business_hours.hours_of(db.session, brand)
        form.week.data = business_hours.week_as_text(week)
        form.holidays.data = "\n".join(holidays)
        return _hours_page(brand, form)
    form.validate_on_submit()
    try:
        changed = business_hours.save_hours(
            db.session,
            brand,
            form.week.data or "",
            form.holidays.data or "",
            now=clock.now(),
            **who(),
        )
    except business_hours.HoursError as error:
        db.session.rollback()
        field = form.holidays if getattr(error, "field", "week") == "holidays" else form.week
        field.errors = [error_text(error.code, "hours", found=error.found)]
        return _hours_page(brand, form, 400)
    db.session.commit()
    if changed:
        flash(_("Business hours of %(brand)s saved.", brand=brand.name), "success")
    else:
        flash(_("Nothing changed for %(brand)s.", brand=brand.name))
    return redirect(url_for(".automation_business_hours", brand=brand.slug), 303)


def _hours_page(brand, form, status=200):
    return render(
        "admin/automation/business_hours.html",
        status=status,
        brand=brand,
        form=form,
        zone=business_hours.zone_of(brand),
        brands=access.brands_with(db.session, PERMISSION),
    )
