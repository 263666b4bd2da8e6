"""Machine translation for the organization: /admin/automation/translation (the provider, its
address and key, and a Test), for holders of "automation" on every brand."""

from flask import abort, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from kb import clock
from portal import access
from portal.blueprints.admin import audit_forms, bp
from portal.blueprints.admin.translation_forms import (
    PROVIDER_CHOICES,
    TranslationSettingsForm,
    TranslationTestForm,
)
from portal.desk import translation
from portal.extensions import db
from portal.web.rendering import render

SETTINGS_TEXTS = {
    "provider.invalid": _l("Choose one of the providers."),
    "url.required": _l("Give the address of the LibreTranslate server."),
    "url.invalid": _l("Give an address starting with http:// or https://."),
    "url.too_long": _l("The address is too long (at most 500 characters)."),
    "api_key.required": _l("Give the DeepL authentication key."),
    "api_key.too_long": _l("The key is too long (at most 500 characters)."),
}

# A provider's failure, in the words an agent or an admin reads (also the ticket page's).
FAILURE_TEXTS = {
    "unreachable": _l("The translation service cannot be reached. Try again later."),
    "bad_key": _l("The translation service refused the API key."),
    "quota": _l("The translation service's quota is used up. Try again later."),
    "unsupported_language": _l("The translation service does not translate this language."),
    "failed": _l("The translation service could not translate this."),
    "no_provider": _l("No translation service is set up."),
    "not_allowed": _l("Your role does not allow this."),
    "not_translatable": _l("Only the customer's messages are translated."),
}


def failure_text(code: str) -> str:
    return str(FAILURE_TEXTS.get(code, FAILURE_TEXTS["failed"]))


@bp.before_request
def translation_admins_only():
    """Every route of this module: holders of "automation" on every brand."""
    endpoint = request.endpoint or ""
    if endpoint.startswith("admin.translation") and not access.may_everywhere("automation"):
        abort(403)


def _secret_key() -> str:
    return current_app.config["SECRET_KEY"]


def _page(form=None, status=200, tried=None, problem=None):
    settings = translation.settings_of(db.session)
    form = form or TranslationSettingsForm(
        formdata=None,
        data={
            "provider": settings.provider,
            "url": settings.url,
            "deepl_free": settings.deepl_free,
        },
    )
    response = render(
        "admin/translation.html",
        "settings_form",
        form=form,
        providers=PROVIDER_CHOICES,
        test_form=TranslationTestForm(formdata=None),
        settings=settings,
        has_key=bool(settings.api_key),
        tried=tried,
        problem=problem,
        status=status,
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/automation/translation", methods=["GET", "POST"])
def translation_settings():
    if request.method == "GET":
        return _page()
    form = TranslationSettingsForm()
    if not form.validate_on_submit():
        return _page(form, status=422)
    try:
        translation.save_settings(
            db.session,
            provider=form.provider.data,
            url=form.url.data or "",
            api_key=form.api_key.data or "",
            deepl_free=form.deepl_free.data,
            secret_key=_secret_key(),
            now=clock.now(),
            **audit_forms.who(),
        )
    except translation.SettingsError as error:
        db.session.rollback()
        getattr(form, error.field).errors = [str(SETTINGS_TEXTS[f"{error.field}.{error.code}"])]
        return _page(form, status=422)
    db.session.commit()
    flash(_("Translation settings saved."), "success")
    return redirect(url_for("admin.translation_settings"), 303)


@bp.post("/automation/translation/test")
def translation_test():
    """ "Hello" in Korean from the saved provider, or what went wrong."""
    if not TranslationTestForm().validate_on_submit():
        abort(400)
    provider = translation.provider_of(db.session, _secret_key())
    try:
        said = translation.try_provider(provider)
    except translation.TranslationError as error:
        return _page(problem=failure_text(error.code), status=422)
    return _page(tried=said)
