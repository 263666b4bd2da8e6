"""Support addresses for admins: /admin/mail-addresses (where each brand and organization
receives mail, and the form that mail opens tickets with)."""

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from kb import clock
from kb.models import Brand
from kb.people import CustomerOrganization
from portal import access
from portal.blueprints.admin import bp
from portal.blueprints.admin.audit_forms import who
from portal.blueprints.admin.mail_forms import ConfirmForm, mail_address_form, show_errors
from portal.desk.forms import text_in
from portal.desk.models import InquiryForm
from portal.extensions import db
from portal.mail import addresses
from portal.mail.models import MailAddress
from portal.web.rendering import render


@bp.before_request
def mail_addresses_admins_only():
    """Every route of this module (endpoints "admin.mail_address..."): admins, not editors."""
    if (request.endpoint or "").startswith("admin.mail_address") and not access.may_everywhere(
        "settings"
    ):
        abort(403)


def _address_or_404(address_id: int) -> MailAddress:
    row = db.session.get(MailAddress, address_id)
    if row is None:
        abort(404)
    return row


def _brands() -> list[Brand]:
    return list(db.session.scalars(select(Brand).order_by(Brand.name, Brand.id)))


def _organization_names() -> dict[int, str]:
    rows = db.session.execute(
        select(CustomerOrganization.id, CustomerOrganization.name).order_by(
            CustomerOrganization.name
        )
    )
    return dict(rows.all())


def _form_names(brands: list[Brand]) -> dict[int, tuple[Brand, str]]:
    """form id -> (its brand, its name in the brand's default language), by brand and order."""
    by_id = {b.id: b for b in brands}
    forms = db.session.scalars(
        select(InquiryForm).order_by(InquiryForm.brand_id, InquiryForm.position, InquiryForm.id)
    )
    names = {}
    for f in forms:
        brand = by_id[f.brand_id]
        names[f.id] = (brand, text_in(f.names, brand.default_locale, brand.default_locale))
    return names


def _form(row=None):
    brands = _brands()
    return mail_address_form(
        [(b.id, b.name) for b in brands],
        [(id_, brand.name, name) for id_, (brand, name) in _form_names(brands).items()],
        list(_organization_names().items()),
        row,
    )


def _form_page(form, row=None):
    return render(
        "admin/mail_addresses/form.html",
        status=400 if request.method == "POST" else 200,
        form=form,
        row=row,
    )


@bp.get("/mail-addresses")
def mail_addresses():
    brands = _brands()
    return render(
        "admin/mail_addresses/list.html",
        sections=[(b, addresses.for_brand(db.session, b.id)) for b in brands],
        form_names=_form_names(brands),
        organization_names=_organization_names(),
    )


@bp.route("/mail-addresses/new", methods=["GET", "POST"])
def mail_address_new():
    form = _form()
    if form.validate_on_submit():
        try:
            row = addresses.add(db.session, **form.values(), now=clock.now(), **who())
        except addresses.InvalidAddress as exc:
            db.session.rollback()
            show_errors(form, exc)
        else:
            flash(_("Address %(address)s saved.", address=row.address), "success")
            return redirect(url_for(".mail_addresses") + f"#address-{row.id}", 303)
    return _form_page(form)


@bp.route("/mail-addresses/<id:address_id>", methods=["GET", "POST"])
def mail_address_edit(address_id):
    row = _address_or_404(address_id)
    form = _form(row)
    if form.validate_on_submit():
        try:
            addresses.change(db.session, row, **form.values(), **who())
        except addresses.InvalidAddress as exc:
            db.session.rollback()
            show_errors(form, exc)
        else:
            flash(_("Address %(address)s saved.", address=row.address), "success")
            return redirect(url_for(".mail_addresses") + f"#address-{row.id}", 303)
    return _form_page(form, row)


@bp.route("/mail-addresses/<id:address_id>/remove", methods=["GET", "POST"])
def mail_address_remove(address_id):
    row = _address_or_404(address_id)
    if ConfirmForm().validate_on_submit():
        address = row.address
        addresses.remove(db.session, row, **who())
        flash(_("Address %(address)s removed.", address=address), "success")
        return redirect(url_for(".mail_addresses"), 303)
    return render("admin/mail_addresses/remove.html", row=row)
