"""The form builder: /admin/forms/ (inquiry forms and their fields, per brand)."""

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from kb.models import Brand
from kb.people import CustomerOrganization
from portal import access
from portal.blueprints.admin import bp
from portal.blueprints.admin.inquiry_form_forms import (
    FIELD_TYPE_LABELS,
    ConfirmForm,
    MoveForm,
    field_form,
    form_settings_form,
    show_errors,
)
from portal.desk import forms as builder
from portal.desk.models import FormField, InquiryForm
from portal.extensions import db
from portal.web.rendering import render


def _brand_of(inquiry_form: InquiryForm) -> Brand:
    return db.session.get(Brand, inquiry_form.brand_id)


def _field_or_404(inquiry_form: InquiryForm, field_id: int) -> FormField:
    """A field of this form (the form is already checked); any other id is 404."""
    field = db.session.get(FormField, field_id)
    if field is None or field.form_id != inquiry_form.id:
        abort(404)
    return field


def _name(inquiry_form: InquiryForm, brand: Brand) -> str:
    return builder.text_in(inquiry_form.names, brand.default_locale, brand.default_locale)


def _back_to_form(inquiry_form: InquiryForm, anchor: str = ""):
    return redirect(url_for(".inquiry_form_edit", form_id=inquiry_form.id) + anchor, 303)


@bp.get("/forms/")
def inquiry_forms():
    brands = access.content_brands(db.session, "forms")
    brand = {b.slug: b for b in brands}.get(request.args.get("brand", ""))
    shown = [brand] if brand else brands
    rows: dict[int, list] = {b.id: [] for b in shown}
    for inquiry_form, count in builder.forms_overview(db.session, list(rows)):
        rows[inquiry_form.brand_id].append((inquiry_form, count))
    return render(
        "admin/forms/list.html",
        brands=brands,
        brand=brand,
        groups=[(b, rows[b.id]) for b in shown],
        text_in=builder.text_in,
    )


def _organization_choices() -> list[tuple[int, str]]:
    rows = db.session.execute(
        select(CustomerOrganization.id, CustomerOrganization.name).order_by(
            CustomerOrganization.name
        )
    )
    return [(row.id, row.name) for row in rows]


def _form_page(form, brand, inquiry_form=None):
    return render(
        "admin/forms/form.html",
        status=400 if request.method == "POST" else 200,
        form=form,
        brand=brand,
        inquiry_form=inquiry_form,
        type_labels=FIELD_TYPE_LABELS,
        text_in=builder.text_in,
    )


@bp.route("/forms/new", methods=["GET", "POST"])
def inquiry_form_new():
    brands = access.content_brands(db.session, "forms")
    only = brands[0].slug if len(brands) == 1 else None
    brand = access.brand_for_editor_or_404(db.session, request.args.get("brand") or only, "forms")
    form = form_settings_form(brand, organization_choices=_organization_choices())
    if form.validate_on_submit():
        try:
            created = builder.create_form(
                db.session,
                brand,
                form.names(brand),
                form.descriptions(brand),
                listed=form.listed.data,
                audience=form.audience.data,
                organization_ids=form.organizations.data or [],
            )
        except builder.InvalidDefinition as exc:
            db.session.rollback()
            show_errors(form, exc.errors)
        else:
            flash(_("Form saved. Now add its fields."), "success")
            return _back_to_form(created)
    return _form_page(form, brand)


@bp.route("/forms/<id:form_id>", methods=["GET", "POST"])
def inquiry_form_edit(form_id):
    inquiry_form = access.form_for_editor_or_404(db.session, form_id)
    brand = _brand_of(inquiry_form)
    form = form_settings_form(brand, inquiry_form, _organization_choices())
    if form.validate_on_submit():
        try:
            builder.update_form(
                db.session,
                inquiry_form,
                form.names(brand),
                form.descriptions(brand),
                listed=form.listed.data,
                audience=form.audience.data,
                organization_ids=form.organizations.data or [],
            )
        except builder.InvalidDefinition as exc:
            db.session.rollback()
            show_errors(form, exc.errors)
        else:
            flash(_("Form saved."), "success")
            return _back_to_form(inquiry_form)
    return _form_page(form, brand, inquiry_form)


@bp.post("/forms/<id:form_id>/move")
def inquiry_form_move(form_id):
    inquiry_form = access.form_for_editor_or_404(db.session, form_id)
    brand = _brand_of(inquiry_form)
    move = MoveForm()
    if not move.validate_on_submit():
        abort(400)
    builder.move_form(db.session, inquiry_form, move.direction.data)
    return redirect(url_for(".inquiry_forms", brand=brand.slug) + f"#form-{form_id}", 303)


@bp.route("/forms/<id:form_id>/delete", methods=["GET", "POST"])
def inquiry_form_delete(form_id):
    inquiry_form = access.form_for_editor_or_404(db.session, form_id)
    brand = _brand_of(inquiry_form)
    confirm = ConfirmForm()
    if confirm.validate_on_submit():
        name = _name(inquiry_form, brand)
        builder.delete_form(db.session, inquiry_form)
        flash(_("Form “%(name)s” deleted.", name=name), "success")
        return redirect(url_for(".inquiry_forms", brand=brand.slug), 303)
    return render(
        "admin/forms/delete.html",
        brand=brand,
        inquiry_form=inquiry_form,
        field=None,
        name=_name(inquiry_form, brand),
        cancel=url_for(".inquiry_form_edit", form_id=inquiry_form.id),
    )


def _earlier_fields(inquiry_form: InquiryForm, brand: Brand, field=None) -> list:
    """(key, label) of the fields a condition may name: answered ones placed before `field`."""
    pairs = []
    for other in inquiry_form.fields:
        if other is field:
            break
        if other.type in builder.CONDITION_TARGET_TYPES:
            label = builder.text_in(other.labels, brand.default_locale, brand.default_locale)
            pairs.append((other.key, label))
    return pairs


def _field_page(form, brand, inquiry_form, field=None):
    return render(
        "admin/forms/field.html",
        status=400 if request.method == "POST" else 200,
        form=form,
        brand=brand,
        inquiry_form=inquiry_form,
        field=field,
        form_name=_name(inquiry_form, brand),
    )


@bp.route("/forms/<id:form_id>/fields/new", methods=["GET", "POST"])
def inquiry_field_new(form_id):
    inquiry_form = access.form_for_editor_or_404(db.session, form_id)
    brand = _brand_of(inquiry_form)
    form = field_form(
        brand, _earlier_fields(inquiry_form, brand), field_type=request.args.get("type")
    )
    if form.validate_on_submit():
        try:
            field = builder.add_field(db.session, inquiry_form, **form.values(brand))
        except builder.InvalidDefinition as exc:
            db.session.rollback()
            show_errors(form, exc.errors)
        else:
            flash(_("Field “%(key)s” saved.", key=field.key), "success")
            return _back_to_form(inquiry_form, f"#field-{field.id}")
    return _field_page(form, brand, inquiry_form)


@bp.route("/forms/<id:form_id>/fields/<id:field_id>", methods=["GET", "POST"])
def inquiry_field_edit(form_id, field_id):
    inquiry_form = access.form_for_editor_or_404(db.session, form_id)
    field = _field_or_404(inquiry_form, field_id)
    brand = _brand_of(inquiry_form)
    form = field_form(brand, _earlier_fields(inquiry_form, brand, field), field=field)
    if form.validate_on_submit():
        try:
            builder.update_field(db.session, field, **form.values(brand))
        except builder.InvalidDefinition as exc:
            db.session.rollback()
            show_errors(form, exc.errors)
        else:
            flash(_("Field “%(key)s” saved.", key=field.key), "success")
            return _back_to_form(inquiry_form, f"#field-{field.id}")
    return _field_page(form, brand, inquiry_form, field)


@bp.post("/forms/<id:form_id>/fields/<id:field_id>/move")
def inquiry_field_move(form_id, field_id):
    inquiry_form = access.form_for_editor_or_404(db.session, form_id)
    field = _field_or_404(inquiry_form, field_id)
    move = MoveForm()
    if not move.validate_on_submit():
        abort(400)
    if not builder.move_field(db.session, field, move.direction.data):
        flash(
            _("Not moved: a field must stay after the field its condition depends on."),
            "notice",
        )
    return _back_to_form(inquiry_form, f"#field-{field_id}")


@bp.route("/forms/<id:form_id>/fields/<id:field_id>/delete", methods=["GET", "POST"])
def inquiry_field_delete(form_id, field_id):
    inquiry_form = access.form_for_editor_or_404(db.session, form_id)
    field = _field_or_404(inquiry_form, field_id)
    brand = _brand_of(inquiry_form)
    confirm = ConfirmForm()
    if confirm.validate_on_submit():
        key = field.key
        freed = builder.delete_field(db.session, field)
        flash(_("Field “%(key)s” deleted.", key=key), "success")
        if freed:
            flash(
                _(
                    "These fields depended on it and are now always shown: %(keys)s",
                    keys=", ".join(freed),
                ),
                "notice",
            )
        return _back_to_form(inquiry_form, "#fields")
    return render(
        "admin/forms/delete.html",
        brand=brand,
        inquiry_form=inquiry_form,
        field=field,
        name=_name(inquiry_form, brand),
        dependents=[f.key for f in inquiry_form.fields if f.condition_key == field.key],
        cancel=url_for(".inquiry_form_edit", form_id=inquiry_form.id) + f"#field-{field.id}",
    )
