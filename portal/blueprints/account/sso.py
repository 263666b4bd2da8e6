"""Single sign-on from a brand's own site: /<brand>/access/jwt (HS256, shared secret per brand)."""

from flask import abort, current_app, redirect, request, url_for

from kb import clock
from kb.helpcenter import HelpCenter
from kb.locales import negotiate
from portal.blueprints.account import bp
from portal.blueprints.account.forms import SsoForm
from portal.desk import sso
from portal.extensions import csrf, db
from portal.web.messages import error_text
from portal.web.navigation import safe_next
from portal.web.rendering import render
from portal.web.sessions import sign_in
from portal.web.tenancy import brand_or_404, use_locale


@bp.route("/<brand>/access/jwt", methods=["GET", "POST"])
# Exempt from CSRF: the brand's site posts here from its own origin, so no form of ours was
# ever rendered to carry a token. The JWT's signature (the brand's secret), its short age and
# its single-use jti are the proof that the brand sent this visitor.
@csrf.exempt
def sso_jwt(brand):
    found = brand_or_404(brand)
    form = SsoForm.sent(request)
    token, return_to = form.jwt.data, form.return_to.data
    try:
        signed_in = sso.sign_in_with_token(
            db.session, found, token, clock.now(), current_app.config["SSO_MAX_AGE_SECONDS"]
        )
    except sso.NotConfigured:
        abort(404)
    except sso.SsoError as error:
        db.session.rollback()
        return _refused(found, error)
    sign_in(signed_in.user)  # a new session at sign-in: nothing carried over from before
    locale = signed_in.locale or found.default_locale
    target = safe_next(return_to) or url_for("helpcenter.home", brand=found.slug, locale=locale)
    return _private(redirect(target, 303))


_MESSAGES = {
    sso.ExpiredToken: (400, "expired"),
    sso.ReplayedToken: (400, "used"),
    sso.StaffAccount: (403, "staff"),
    sso.InactiveAccount: (403, "inactive"),
    sso.Conflict: (409, "conflict"),
}


def _refused(brand, error: sso.SsoError):
    status, reason = _MESSAGES.get(type(error), (400, "invalid"))
    locale = negotiate(brand.locales, brand.default_locale, None, list(request.accept_languages))
    use_locale(locale)  # the page in the visitor's language, among the brand's
    response = render(
        "account/sso_error.html",
        status=status,
        hc=HelpCenter(brand=brand, locale=locale),
        message=error_text(reason, "sso"),
        staff=reason == "staff",
    )
    return _private(response)


def _private(response):
    """The token is in the URL: keep it out of Referer headers and caches."""
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response
