"""Sign in and out, sign up, confirm, reset, settings. The same answer for known and unknown
emails wherever an answer could tell them apart."""

import time
from urllib.parse import urlsplit

from flask import current_app, flash, g, redirect, request, session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import NotFound

from kb import clock
from kb.locales import UI_LOCALES
from kb.models import Brand
from kb.people import User
from kb.slugs import BRAND_SLUG
from portal.blueprints.account import bp, staff_addresses
from portal.blueprints.account.forms import (
    ActionForm,
    EmailChangeForm,
    LimitedEmailForm,
    LoginForm,
    NewPasswordForm,
    PasswordChangeForm,
    ProfileForm,
    ResetRequestForm,
    SignUpForm,
    StaffProfileForm,
)
from portal.blueprints.account.two_factor import (
    code_page,
    finish_sign_in,
    record_failed_sign_in,
    record_sign_out,
    security_page,
)
from portal.desk import accounts
from portal.desk.accounts import authenticate, normalize_email
from portal.extensions import db, limiter
from portal.security import members, roles
from portal.web.addresses import client_ip
from portal.web.navigation import safe_next
from portal.web.rendering import render
from portal.web.sessions import sign_in, sign_out
from portal.web.tenancy import helpcenter_or_404, use_locale

# Set after a correct password for an unconfirmed address: who may ask for the link again.
RESEND_KEY = "confirm_resend"
RESEND_SECONDS = 30 * 60


# -- rate limits -------------------------------------------------------------------------------


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _signup_limit() -> str:
    return current_app.config["SIGNUP_RATE_LIMIT"]


def _reset_limit() -> str:
    return current_app.config["RESET_RATE_LIMIT"]


def _form_email() -> str:
    return LimitedEmailForm().limit_key()


def _email_key() -> str:
    return "login-email:" + _form_email()


def _signup_email_key() -> str:
    return "signup-email:" + _form_email()


def _reset_email_key() -> str:
    return "reset-email:" + _form_email()


def _resend_key() -> str:
    pending = session.get(RESEND_KEY) or {}
    return f"confirm-resend:{pending.get('user', '')}"


def _account_key() -> str:
    return f"account:{current_user.get_id() if current_user.is_authenticated else ''}"


# -- brand look --------------------------------------------------------------------------------


def _helpcenter(slug: str | None, locale: str | None):
    """The brand's help center when slug and locale name a public one, else None (no 404)."""
    if not slug or not locale or not BRAND_SLUG.match(slug) or len(locale) > 16:
        return None
    try:
        return helpcenter_or_404(slug, locale)
    except NotFound:
        return None


def _helpcenter_for_path(path: str | None):
    """The help center a same-site path points into (/<brand>/<locale>/...), if any."""
    if not path:
        return None
    parts = urlsplit(path).path.split("/")
    return _helpcenter(parts[1], parts[2]) if len(parts) > 2 else None


def _helpcenter_from_args():
    return _helpcenter(request.args.get("brand"), request.args.get("locale"))


def _helpcenter_for_token(check: accounts.TokenCheck):
    row = check.row
    if row is not None and row.brand_id is not None and row.locale:
        brand = db.session.get(Brand, row.brand_id)
        hc = _helpcenter(brand.slug, row.locale) if brand is not None else None
        if hc is not None:
            return hc
    return _helpcenter_from_args()


def _hc_args(hc) -> dict:
    return {"brand": hc.brand.slug, "locale": hc.locale} if hc is not None else {}


def _home_for(user, hc=None) -> str:
    if user.role == "staff":
        held = set().union(*roles.grants(db.session, user).values())
        if "tickets.view" in held:
            return url_for("agent.queues")
        if "kb.write" in held:
            return url_for("admin.kb_articles")
        if held & roles.BACK_OFFICE_PERMISSIONS:
            return url_for("admin.index")
        return url_for("account.settings")
    if hc is not None:
        if user.role == "customer" and "requests.my_requests" in current_app.view_functions:
            return url_for("requests.my_requests", brand=hc.brand.slug, locale=hc.locale)
        return url_for("helpcenter.home", brand=hc.brand.slug, locale=hc.locale)
    return url_for("helpcenter.index")


def _mail(template: str, *, brand, locale: str, to: str, **context) -> None:
    from portal.mail.compose import queue_mail  # (the mail module needs the app; imported late)

    queue_mail(db.session, template, brand=brand, locale=locale, to=to, **context)


def _mail_locale(user=None, hc=None) -> str:
    if hc is not None:
        return hc.locale
    if user is not None and user.locale in UI_LOCALES:
        return user.locale
    return str(get_locale())


def _private(response):
    """Pages with a token in their URL: never cached, never sent on as a Referer."""
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _link_expired(purpose: str, hc, check: accounts.TokenCheck):
    status = 404 if check.status == "invalid" else 410
    return _private(
        render(
            "account/link_expired.html", hc=hc, purpose=purpose, hc_args=_hc_args(hc), status=status
        )
    )


# -- sign in and out ---------------------------------------------------------------------------


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
@limiter.limit(_login_limit, methods=["POST"], key_func=_email_key)
def login():
    form = LoginForm()
    if request.method == "GET":
        form.next.data = safe_next(request.args.get("next"))
    target = safe_next(form.next.data)
    hc = _helpcenter_for_path(target)
    error = None
    unconfirmed = False
    status = 200
    if form.validate_on_submit():
        user = authenticate(db.session, form.email.data, form.password.data)
        if user is not None and user.email_confirmed_at is None:
            # Only after the right password: the address is known, and its owner may ask again.
            session[RESEND_KEY] = {
                "user": user.id,
                "at": int(time.time()),
                **_hc_args(hc),
            }
            unconfirmed, status = True, 403
        elif user is not None and not staff_addresses.may_sign_in(user):
            error, status = staff_addresses.refusal_text(), 403
        elif user is not None:
            return finish_sign_in(user, form.remember.data, target or _home_for(user, hc))
        else:
            record_failed_sign_in(form.email.data)
            error, status = _("That email and password do not match an account."), 401
    elif request.method == "POST":
        error, status = _("Enter your email and password."), 401
    form.password.data = ""
    return render(
        "account/login.html",
        "form",
        form=form,
        error=error,
        unconfirmed=unconfirmed,
        hc=hc,
        hc_args=_hc_args(hc),
        status=status,
    )


@bp.post("/logout")
def logout():
    record_sign_out()
    sign_out()
    return redirect(url_for("helpcenter.index"), 303)


@bp.post("/account/confirm/resend")
@limiter.limit(_signup_limit)
@limiter.limit(_signup_limit, key_func=_resend_key)
def resend_confirmation():
    """A new confirmation link, for whoever just gave the right password of an unconfirmed
    account in this session (the session says who; the client names nobody)."""
    pending = session.get(RESEND_KEY) or {}
    hc = _helpcenter(pending.get("brand"), pending.get("locale"))
    user_id = pending.get("user")
    fresh = time.time() - int(pending.get("at") or 0) < RESEND_SECONDS
    user = db.session.get(User, user_id) if isinstance(user_id, int) and fresh else None
    if user is not None and user.active and user.email_confirmed_at is None:
        token = accounts.issue_token(
            db.session,
            user,
            "confirm",
            now=clock.now(),
            hours=current_app.config["CONFIRM_LINK_HOURS"],
            brand_id=hc.brand.id if hc else None,
            locale=hc.locale if hc else None,
        )
        _send_confirmation(user, token, hc)
        db.session.commit()
    session.pop(RESEND_KEY, None)
    flash(_("If your address still needs confirming, we sent you a new link."), "success")
    home = url_for("helpcenter.home", **_hc_args(hc)) if hc else None
    return redirect(url_for("account.login", next=home) if home else url_for("account.login"), 303)


def _send_confirmation(user, token: str, hc) -> None:
    _mail(
        "confirm_email",
        brand=hc.brand if hc else None,
        locale=_mail_locale(user, hc),
        to=user.email,
        name=user.name,
        link=_absolute("account.confirm", token=token, **_hc_args(hc)),
        hours=current_app.config["CONFIRM_LINK_HOURS"],
    )


def _absolute(endpoint: str, **values) -> str:
    from portal.mail.compose import absolute_url

    return absolute_url(endpoint, **values)


# -- sign-up and confirmation ------------------------------------------------------------------


@bp.route("/<brand>/<locale>/signup", methods=["GET", "POST"])
@limiter.limit(_signup_limit, methods=["POST"])
@limiter.limit(_signup_limit, methods=["POST"], key_func=_signup_email_key)
def signup(brand, locale):
    hc = helpcenter_or_404(brand, locale)
    if current_user.is_authenticated:
        return redirect(_home_for(current_user.user, hc))
    form = SignUpForm()
    if form.validate_on_submit():
        _sign_up(hc, form)
        return redirect(url_for("account.signup", brand=brand, locale=locale, sent=1), 303)
    status = 422 if request.method == "POST" else 200
    sent = request.method == "GET" and request.args.get("sent") == "1"
    return _signup_page(hc, form, sent=sent, status=status)


def _signup_page(hc, form, sent=False, notice=None, status=200):
    form.password.data = ""
    return render(
        "account/signup.html", "form", hc=hc, form=form, sent=sent, notice=notice, status=status
    )


def _sign_up(hc, form) -> None:
    """Creates the account and mails the link; a known address gets a warning with a reset
    link instead. Either way one mail and the same answer."""
    config = current_app.config
    for _attempt in range(2):
        outcome = accounts.sign_up(
            db.session,
            name=form.name.data,
            email=form.email.data,
            password=form.password.data,
            locale=hc.locale,
            brand_id=hc.brand.id,
            now=clock.now(),
            confirm_hours=config["CONFIRM_LINK_HOURS"],
            reset_hours=config["RESET_LINK_HOURS"],
        )
        user = outcome.user
        if outcome.created:
            _send_confirmation(user, outcome.token, hc)
        else:
            _mail(
                "reset_password",
                brand=hc.brand,
                locale=user.locale if user.locale in UI_LOCALES else hc.locale,
                to=user.email,
                name=user.name,
                reason="signup",
                link=_absolute("account.reset_password", token=outcome.token, **_hc_args(hc)),
                hours=config["RESET_LINK_HOURS"],
            )
        try:
            db.session.commit()
            return
        except IntegrityError:  # the same address signed up in parallel: now it is known
            db.session.rollback()


@bp.route("/account/confirm/<token>", methods=["GET", "POST"])
def confirm(token):
    """GET shows a button, POST confirms: a link scanner that opens mail links uses nothing."""
    check = accounts.check_token(db.session, token, "confirm", clock.now())
    hc = _helpcenter_for_token(check)
    if not check.ok:
        return _link_expired("confirm", hc, check)
    form = ActionForm()
    if form.validate_on_submit():
        now = clock.now()
        if not accounts.use_token(db.session, check.row, now):
            db.session.rollback()
            return _link_expired("confirm", hc, accounts.TokenCheck("used"))
        user = check.user
        accounts.confirm_email(db.session, user, now)
        db.session.commit()
        response = finish_sign_in(user, False, _home_for(user, hc))  # staff: the code first
        if current_user.is_authenticated:
            flash(_("Your address is confirmed and you are signed in."), "success")
        return response
    return _private(
        render("account/confirm.html", hc=hc, form=form, token=token, hc_args=_hc_args(hc))
    )


# -- password reset ----------------------------------------------------------------------------


@bp.route("/account/reset", methods=["GET", "POST"])
@limiter.limit(_reset_limit, methods=["POST"])
@limiter.limit(_reset_limit, methods=["POST"], key_func=_reset_email_key)
def reset_request():
    hc = _helpcenter_from_args()
    form = ResetRequestForm()
    if form.validate_on_submit():
        _send_reset(hc, form.email.data)
        return redirect(url_for("account.reset_request", sent=1, **_hc_args(hc)), 303)
    status = 422 if request.method == "POST" else 200
    sent = request.method == "GET" and request.args.get("sent") == "1"
    return _reset_request_page(hc, form, sent=sent, status=status)


def _reset_request_page(hc, form, sent=False, notice=None, status=200):
    return render(
        "account/reset_request.html",
        "form",
        hc=hc,
        form=form,
        sent=sent,
        notice=notice,
        hc_args=_hc_args(hc),
        status=status,
    )


def _account_helpcenter(user):
    """The help center of the brand the account belongs to (accounts.last_brand_id), in the
    account's language when the brand has it; None when it has none (or it is not public)."""
    brand_id = accounts.last_brand_id(db.session, user) if user is not None else None
    brand = db.session.get(Brand, brand_id) if brand_id else None
    if brand is None:
        return None
    locale = user.locale if user.locale in (brand.locales or []) else brand.default_locale
    return _helpcenter(brand.slug, locale)


def _send_reset(hc, email: str) -> None:
    config = current_app.config
    if hc is None:  # reached without ?brand=: the account's own brand, when it has one
        hc = _account_helpcenter(accounts.user_by_email(db.session, email))
    found = accounts.request_reset(
        db.session,
        email,
        now=clock.now(),
        hours=config["RESET_LINK_HOURS"],
        brand_id=hc.brand.id if hc else None,
        locale=hc.locale if hc else None,
    )
    context = {"reason": "reset", "hours": config["RESET_LINK_HOURS"]}
    if found is None:
        # No account: the same rendering work, and no mail.
        from portal.mail.compose import mail_template_for, render_mail

        link = _absolute("account.reset_password", token="x" * 43, **_hc_args(hc))
        brand, locale = (hc.brand if hc else None), _mail_locale(None, hc)
        render_mail(
            "reset_password",
            brand=brand,
            locale=locale,
            mail_template=mail_template_for(db.session, brand, locale),
            name="",
            link=link,
            **context,
        )
        return
    user, token = found
    _mail(
        "reset_password",
        brand=hc.brand if hc else None,
        locale=_mail_locale(user, hc),
        to=user.email,
        name=user.name,
        link=_absolute("account.reset_password", token=token, **_hc_args(hc)),
        **context,
    )
    db.session.commit()


def _new_password(token: str, purpose: str, hc_for, set_password, done: str, invitation=None):
    """The page a mailed link opens to choose a password (a reset, or an invitation): the
    form, then the new password set by `set_password(check, password)` and the person signed
    in (staff with two-factor sign-in: the code first) with `done` said; `hc_for(check)` is
    the help center whose look the page takes (None: the portal's own)."""
    check = accounts.check_token(db.session, token, purpose, clock.now())
    hc = hc_for(check)
    if not check.ok:
        return _link_expired(purpose, hc, check)
    form = NewPasswordForm(account_email=check.user.email)
    if form.validate_on_submit():
        user = set_password(check, form.password.data)
        if user is None:
            db.session.rollback()
            return _link_expired(purpose, hc, accounts.TokenCheck("used"))
        db.session.commit()
        response = finish_sign_in(user, False, _home_for(user, hc))
        if current_user.is_authenticated:
            flash(done % {"name": user.name}, "success")
        return response
    status = 422 if request.method == "POST" else 200
    return _private(
        render(
            "account/reset_password.html",
            "form",
            hc=hc,
            form=form,
            token=token,
            hc_args=_hc_args(hc),
            invitation=check.user if invitation else None,
            status=status,
        )
    )


@bp.route("/account/reset/<token>", methods=["GET", "POST"])
def reset_password(token):
    return _new_password(
        token,
        "reset",
        _helpcenter_for_token,
        lambda check, password: accounts.reset_password(db.session, check, password, clock.now()),
        _("Your password is changed and you are signed in."),
    )


@bp.route("/account/invitation/<token>", methods=["GET", "POST"])
def accept_invitation(token):
    """An invited member chooses their password (the link is good once, for 72 hours)."""
    return _new_password(
        token,
        "invite",
        lambda check: None,
        lambda check, password: members.accept_invitation(
            db.session, check, password, now=clock.now(), ip=client_ip()
        ),
        _("Welcome, %(name)s: your password is set."),
        invitation=True,
    )


# -- settings ----------------------------------------------------------------------------------


def _signed_in_or_redirect():
    """Sign in first. The page is in the help center's look and language when it was opened
    from one (?brand=&locale=, kept by its forms), else in the account's language."""
    if not current_user.is_authenticated:
        return redirect(
            url_for("account.login", next=url_for("account.settings", **_hc_args(_settings_hc())))
        )
    # The account's language comes from the locale selector (portal._select_locale);
    # a help center's, when there is one, wins.
    _settings_hc()
    return None


def _settings_hc():
    if "settings_hc" not in g:
        g.settings_hc = _helpcenter_from_args()
    return g.settings_hc


def _back_to_settings(locale: str | None = None):
    """The settings page again, in the same help center (in `locale` when it has it)."""
    args = _hc_args(_settings_hc())
    if args and locale in _settings_hc().brand.locales:
        args["locale"] = locale
    return redirect(url_for("account.settings", **args), 303)


def _settings_form_or_redirect():
    """Before a settings form: sign in first. A GET is the form's address reloaded or
    bookmarked after its errors were shown there: the settings page."""
    away = _signed_in_or_redirect()
    if away is None and request.method == "GET":
        away = _back_to_settings()
    return away


def _current_password_ok(user, field) -> bool:
    """Whether `field` holds the user's password, said beside it when not. Checked even when
    other fields have errors, so that every error shows at once."""
    if field.errors:  # missing or too long: already said
        return False
    if accounts.check_password(user, field.data):
        return True
    field.errors = [_("That is not your current password.")]
    return False


def _profile_form_class(user):
    """Staff set a phone and whether they receive tickets too; their nickname is for customers."""
    return StaffProfileForm if user.role == "staff" else ProfileForm


def _settings_page(block=None, status=200, **forms):
    user = current_user.user
    profile = forms.get("profile") or _profile_form_class(user)(
        formdata=None,
        data={
            "name": user.name,
            "nickname": user.nickname or "",
            "locale": user.locale or "en",
            "phone": user.phone or "",
            "receives_tickets": user.receives_tickets,
        },
    )
    password = forms.get("password") or PasswordChangeForm(formdata=None)
    email = forms.get("email") or EmailChangeForm(formdata=None)
    for form in (password, email):
        for field in form:
            if field.type == "PasswordField":
                field.data = ""
    response = render(
        "account/settings.html",
        block,
        user=user,
        profile=profile,
        password=password,
        email=email,
        hc=_settings_hc(),
        hc_args=_hc_args(_settings_hc()),
        status=status,
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/account/settings")
def settings():
    return _signed_in_or_redirect() or _settings_page()


@bp.route("/account/settings/profile", methods=["GET", "POST"])
def settings_profile():
    if (away := _settings_form_or_redirect()) is not None:
        return away
    user = current_user.user
    form = _profile_form_class(user)()
    if not form.validate_on_submit():
        return _settings_page("profile_form", 422, profile=form)
    staff = isinstance(form, StaffProfileForm)
    accounts.save_profile(
        db.session,
        user,
        name=form.name.data,
        nickname=form.nickname.data,
        locale=form.locale.data,
        phone=form.phone.data if staff else None,
        receives_tickets=bool(form.receives_tickets.data) if staff else None,
    )
    db.session.commit()
    # Said in the language just chosen, which the next page is in (the help center's in it,
    # when it has that language).
    hc = _settings_hc()
    if hc is None or user.locale in hc.brand.locales:
        use_locale(user.locale)
    flash(_("Your profile is saved."), "success")
    return _back_to_settings(user.locale)


@bp.route("/account/settings/password", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
@limiter.limit(_login_limit, key_func=_account_key, methods=["POST"])
def settings_password():
    if (away := _settings_form_or_redirect()) is not None:
        return away
    user = current_user.user
    form = PasswordChangeForm(account_email=user.email)
    valid = form.validate_on_submit()
    if _current_password_ok(user, form.current_password) and valid:
        accounts.change_password(db.session, user, form.password.data, clock.now())
        db.session.commit()
        # Every session ended with the change; this browser signs in again.
        remember_cookie = current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token")
        sign_in(user, remember=remember_cookie in request.cookies)
        flash(_("Your password is changed. You were signed out everywhere else."), "success")
        return _back_to_settings()
    return _settings_page("password_form", 422, password=form)


@bp.route("/account/settings/email", methods=["GET", "POST"])
@limiter.limit(_signup_limit, methods=["POST"])
@limiter.limit(_signup_limit, key_func=_account_key, methods=["POST"])
def settings_email():
    if (away := _settings_form_or_redirect()) is not None:
        return away
    user = current_user.user
    form = EmailChangeForm()
    valid = form.validate_on_submit()
    if _current_password_ok(user, form.email_password) and valid:
        new_email = normalize_email(form.new_email.data)
        if new_email == user.email:
            form.new_email.errors = [_("That is already your address.")]
        else:
            token = accounts.request_email_change(
                db.session,
                user,
                new_email,
                now=clock.now(),
                hours=current_app.config["CONFIRM_LINK_HOURS"],
            )
            if token is not None:  # another account's address gets no mail (same answer)
                hc = _settings_hc() or _account_helpcenter(user)
                _mail(
                    "email_change",
                    brand=hc.brand if hc else None,
                    locale=_mail_locale(user, hc),
                    to=new_email,
                    name=user.name,
                    new_email=new_email,
                    link=_absolute("account.confirm_email_change", token=token, **_hc_args(hc)),
                    hours=current_app.config["CONFIRM_LINK_HOURS"],
                )
            db.session.commit()
            flash(
                _(
                    "We sent a link to %(email)s. Your address changes when you follow it.",
                    email=new_email,
                ),
                "success",
            )
            return _back_to_settings()
    return _settings_page("email_form", 422, email=form)


@bp.route("/account/email/<token>", methods=["GET", "POST"])
def confirm_email_change(token):
    check = accounts.check_token(db.session, token, "email", clock.now())
    hc = _helpcenter_for_token(check)
    if not check.ok:
        return _link_expired("email", hc, check)
    form = ActionForm()
    taken = False
    if form.validate_on_submit():
        try:
            outcome = accounts.apply_email_change(db.session, check, clock.now())
            if outcome == "changed":
                db.session.commit()
        except IntegrityError:  # the address was taken by a parallel sign-up or change
            outcome = "taken"
        if outcome == "taken":
            db.session.rollback()
            taken = True
        elif outcome == "invalid":
            db.session.rollback()
            return _link_expired("email", hc, accounts.TokenCheck("used"))
        else:
            flash(_("Your email address is changed."), "success")
            mine = current_user.is_authenticated and current_user.id == check.user.id
            return redirect(url_for("account.settings" if mine else "account.login"), 303)
    return _private(
        render(
            "account/confirm_email_change.html",
            hc=hc,
            form=form,
            token=token,
            new_email=check.row.new_email,
            taken=taken,
            status=409 if taken else 200,
        )
    )


# -- errors ------------------------------------------------------------------------------------


@bp.errorhandler(429)
def too_many(exc):
    """Over a rate limit: sign-up and reset show their form again with what was typed."""
    notice = _("Too many requests were sent from here just now. Please wait a few minutes.")
    args = request.view_args or {}
    if request.endpoint == "account.signup":
        hc = _helpcenter(args.get("brand"), args.get("locale"))
        if hc is not None:
            return _signup_page(hc, SignUpForm(), notice=notice, status=429)
    if request.endpoint == "account.login_two_factor":
        return code_page(notice=notice)
    if request.endpoint in ("account.security_confirm", "account.security_disable"):
        return security_page(error=notice, status=429)
    if request.endpoint == "account.reset_request":
        return _reset_request_page(
            _helpcenter_from_args(), ResetRequestForm(), notice=notice, status=429
        )
    from portal.web.errors import page

    return page(429)
