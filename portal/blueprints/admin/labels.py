"""Label names: /admin/kb/labels, where editors name their brand's article labels per language."""

from flask import flash, redirect, request, url_for
from flask_babel import gettext as _

from kb import labels
from portal import access
from portal.blueprints.admin import bp
from portal.blueprints.admin.forms import LabelNamesForm
from portal.extensions import db
from portal.web.messages import error_text
from portal.web.rendering import render

FIELD_PREFIX = "name:"


def _page(brand, brands, typed=None, errors=None, status=200):
    return render(
        "admin/labels.html",
        status=status,
        brand=brand,
        brands=brands,
        rows=labels.brand_labels(db.session, brand) if brand else [],
        form=LabelNamesForm(formdata=None),
        typed=typed or {},
        errors=errors or {},
    )


@bp.get("/kb/labels")
def kb_labels():
    brand, brands = access.chosen_content_brand(db.session, request.values.get("brand"))
    return _page(brand, brands)


@bp.post("/kb/labels")
def kb_labels_save():
    form = LabelNamesForm()
    form.validate_on_submit()  # CSRF is checked for every POST by CSRFProtect; kb checks the rest
    brand = access.brand_for_editor_or_404(db.session, form.brand.data)
    known = {row.label for row in labels.brand_labels(db.session, brand)}
    names = form.names_of(known, brand.locales)
    errors = labels.save_names(db.session, brand, names)
    if errors:
        db.session.rollback()
        messages = {
            f"{FIELD_PREFIX}{label}:{locale}": error_text(code, "label")
            for (label, locale), code in errors.items()
        }
        typed = {
            f"{FIELD_PREFIX}{label}:{locale}": name
            for label, by_locale in names.items()
            for locale, name in by_locale.items()
        }
        brands = access.content_brands(db.session)
        return _page(brand, brands, typed=typed, errors=messages, status=400)
    flash(_("Label names saved."), "success")
    return redirect(url_for(".kb_labels", brand=brand.slug), 303)
