"""Customisation for members with the "settings" permission: /admin/brands (each brand's help
center theme and mail template) and /admin/branding (the back office's top bar, for members with
settings on every brand)."""

import base64
from types import SimpleNamespace

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from kb import clock, helpcenter
from kb import theme as kb_theme
from kb.helpcenter import HelpCenter
from kb.models import Brand, Organization
from portal import access
from portal.blueprints.admin import bp
from portal.blueprints.admin.audit_forms import who
from portal.blueprints.admin.theme_forms import (
    BrandingForm,
    MailTemplateForm,
    ThemeForm,
    branding_form,
    mail_template_form,
    theme_form,
)
from portal.desk import branding
from portal.extensions import db
from portal.mail import compose
from portal.security import two_factor
from portal.web.downloads import uploads_dir
from portal.web.rendering import render
from portal.web.security_headers import content_security_policy
from portal.web.tenancy import use_locale

SETTINGS_ENDPOINTS = ("admin.brand_settings", "admin.brand_theme", "admin.brand_mail_template")


@bp.before_request
def settings_members_only():
    """These pages: members holding "settings" on some brand (/admin/branding: on every one)."""
    endpoint = request.endpoint or ""
    if endpoint in SETTINGS_ENDPOINTS and not access.may("settings"):
        abort(403)
    if endpoint == "admin.backoffice_branding" and (
        access.permitted_brand_ids("settings") is not None
    ):
        abort(403)


def _uploads():
    folder = uploads_dir()
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


@bp.get("/brands")
def brand_settings():
    ids = access.permitted_brand_ids("settings")
    stmt = select(Brand).order_by(Brand.name, Brand.id)
    if ids is not None:
        stmt = stmt.where(Brand.id.in_(ids))
    return render(
        "admin/customisation/brands.html",
        brands=db.session.scalars(stmt).all(),
        may_brand_all=ids is None,
    )


# -- the help center's theme --------------------------------------------------------------------


def _data_uri(received, content_type: str | None) -> str | None:
    """An unsaved upload shown in the preview without storing it (img-src allows data:)."""
    if received is None or content_type is None:
        return None
    encoded = base64.b64encode(received.tmp.read_bytes()).decode("ascii")
    return f"data:{content_type};base64,{encoded}"


def _preview(brand: Brand, checked: kb_theme.CheckedTheme):
    """The brand's help-center home in its default language, wearing the unsaved theme."""
    locale = brand.default_locale
    use_locale(locale)
    hc = HelpCenter(brand=kb_theme.previewed(brand, checked), locale=locale)
    now = clock.now()
    return render(
        "helpcenter/home.html",
        hc=hc,
        now=now,
        **helpcenter.home(db.session, hc, now),
        theme_preview=True,
        preview_logo=_data_uri(checked.theme.logo, checked.logo_type),
        preview_favicon=_data_uri(checked.theme.favicon, checked.favicon_type),
    )


def _apply_theme(brand: Brand, form: ThemeForm):
    """Preview or save what the form holds: the answer, or None when the form shows errors."""
    wanted = form.wanted(_uploads())
    try:
        if form.previewing():
            checked = kb_theme.check(wanted)
            if checked.ok:
                return _preview(brand, checked)
        else:
            checked = branding.change_theme(db.session, brand, wanted, now=clock.now(), **who())
            if checked.ok:
                db.session.commit()
                checked.keep_files(_uploads())
                flash(_("The theme of %(brand)s is saved.", brand=brand.name), "success")
                return redirect(url_for(".brand_theme", slug=brand.slug), 303)
        form.show_errors(checked.errors)
        return None
    finally:
        kb_theme.CheckedTheme(wanted, [], None, None).discard_files()


@bp.route("/brands/<slug>/theme", methods=["GET", "POST"])
def brand_theme(slug):
    brand = access.brand_with_permission_or_404(db.session, slug, "settings")
    form = theme_form(brand) if request.method == "GET" else ThemeForm()
    if form.validate_on_submit():
        answer = _apply_theme(brand, form)
        if answer is not None:
            return answer
    return render(
        "admin/customisation/theme.html",
        status=400 if request.method == "POST" else 200,
        form=form,
        brand=brand,
    )


# -- the brand's mail template, per locale ------------------------------------------------------


def _sample_ticket(brand: Brand):
    """What the sample "request received" mail is about: a made-up request, never stored."""
    return SimpleNamespace(id=1234, subject=_("A sample request"), requester_name=current_user.name)


def _sample_link(brand: Brand, locale: str) -> str:
    return compose.absolute_url("helpcenter.home", brand=brand.slug, locale=locale)


def _sample_mail(brand: Brand, locale: str, values) -> dict:
    return {
        "brand": brand,
        "locale": locale,
        "mail_template": values,
        "ticket": _sample_ticket(brand),
        "link": _sample_link(brand, locale),
    }


def _mail_preview(brand: Brand, locale: str, values) -> dict:
    subject, text, html = compose.render_mail(
        "request_received", **_sample_mail(brand, locale, values)
    )
    return {"subject": subject, "text": text, "html": html}


def _send_test(brand: Brand, locale: str, values) -> None:
    """The sample mail to the member's own address, through the outbox like any other."""
    mail = _sample_mail(brand, locale, values)
    compose.queue_mail(db.session, "request_received", to=current_user.email, **mail)
    db.session.commit()
    flash(_("A test mail is on its way to %(address)s.", address=current_user.email), "success")


@bp.route("/brands/<slug>/mail-template", methods=["GET", "POST"])
def brand_mail_template(slug):
    brand = access.brand_with_permission_or_404(db.session, slug, "settings")
    locale = request.args.get("locale") or brand.default_locale
    if locale not in brand.locales:
        abort(404)
    row = branding.mail_template(db.session, brand.id, locale)
    form = mail_template_form(row) if request.method == "GET" else MailTemplateForm()
    preview = None
    values = form.values() if form.validate_on_submit() else None
    if values is not None and values.errors:
        form.show_errors(values.errors)
    elif values is not None and form.action.data == "preview":
        preview = _mail_preview(brand, locale, values)
    elif values is not None:
        if form.action.data == "test":
            _send_test(brand, locale, values)
        else:
            branding.change_mail_template(
                db.session, brand, locale, values, now=clock.now(), **who()
            )
            db.session.commit()
            flash(_("The mail template of %(brand)s is saved.", brand=brand.name), "success")
        return redirect(url_for(".brand_mail_template", slug=brand.slug, locale=locale), 303)
    status = 400 if request.method == "POST" and preview is None else 200
    response = render(
        "admin/customisation/mail_template.html",
        status=status,
        form=form,
        brand=brand,
        locale=locale,
        preview=preview,
    )
    if preview is not None:
        # The mail's HTML (in a sandboxed frame, which inherits this policy) styles itself inline.
        response.headers["Content-Security-Policy"] = content_security_policy(inline_styles=True)
    return response


# -- the back office's top bar ------------------------------------------------------------------


def _organization_or_404() -> Organization:
    org_id = two_factor.organization_id_of(db.session, current_user.user)
    org = db.session.get(Organization, org_id) if org_id else None
    if org is None:
        abort(404)
    return org


@bp.route("/branding", methods=["GET", "POST"])
def backoffice_branding():
    org = _organization_or_404()
    form = branding_form(org) if request.method == "GET" else BrandingForm()
    if form.validate_on_submit():
        logo = form.received(_uploads())
        try:
            checked = branding.change_backoffice_branding(
                db.session,
                org,
                form.name.data or "",
                logo,
                bool(form.remove_logo.data),
                now=clock.now(),
                **who(),
            )
            if not checked.errors:
                db.session.commit()
                if logo is not None:
                    logo.keep(_uploads())
                flash(_("The back office's top bar is saved."), "success")
                return redirect(url_for(".backoffice_branding"), 303)
            form.show_errors(checked.errors)
        finally:
            if logo is not None:
                logo.discard()
    return render(
        "admin/customisation/branding.html",
        status=400 if request.method == "POST" else 200,
        form=form,
        organization=org,
    )
