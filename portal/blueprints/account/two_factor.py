"""Staff two-factor sign-in: the code step after the right password (/login/two-factor), the
staff sign-in log, the enrolment page (/account/security), and the one guard that sends staff
of an organization requiring two-factor to enrol before any staff page."""

import segno
from flask import current_app, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user

from kb import clock
from kb.people import User
from portal.blueprints.account import bp, staff_addresses
from portal.blueprints.account.forms import ActionForm, TwoFactorCodeForm
from portal.desk import accounts
from portal.extensions import db, limiter
from portal.security import audit, two_factor
from portal.web.addresses import client_ip
from portal.web.rendering import render
from portal.web.sessions import sign_in

# Set after the right password of a staff member with two-factor sign-in: who, since when,
# where to go next. Nobody is signed in until the code is right.
PENDING_KEY = "two_factor_pending"
# The recovery codes just made, shown once on the next page and then gone from the session.
NEW_CODES_KEY = "two_factor_new_codes"


def _code_limit() -> str:
    return current_app.config["TWO_FACTOR_RATE_LIMIT"]


def _pending_key() -> str:
    return f"two-factor:{(session.get(PENDING_KEY) or {}).get('user', '')}"


def _account_key() -> str:
    return f"two-factor-account:{current_user.id if current_user.is_authenticated else ''}"


def _record(action: str, user: User | None = None, email: str = "") -> None:
    audit.record(
        db.session,
        action,
        now=clock.now(),
        kind=audit.SYSTEM,
        actor=user,
        actor_email=email,
        target=f"user:{user.id}" if user is not None else "",
        ip=client_ip(),
    )


# -- the sign-in log ---------------------------------------------------------------------------


def finish_sign_in(user: User, remember: bool, target: str):
    """After the right password: staff from an address the organization's allowlist does not
    hold are refused; a staff member with two-factor sign-in is asked for a code first; anyone
    else is signed in (staff sign-ins are logged) and sent on to `target`."""
    if not staff_addresses.may_sign_in(user):
        flash(staff_addresses.refusal_text(), "error")
        return redirect(url_for("account.login"), 303)
    if user.role == "staff" and two_factor.enabled(db.session, user):
        session.pop(PENDING_KEY, None)
        session[PENDING_KEY] = {
            "user": user.id,
            "at": int(clock.now().timestamp()),
            "remember": bool(remember),
            "next": target,
        }
        return redirect(url_for("account.login_two_factor"), 303)
    if user.role == "staff":
        _record("staff.sign_in", user)
    sign_in(user, remember=remember)  # commits
    return redirect(target, 303)


def record_failed_sign_in(email: str) -> None:
    """Every failed sign-in is logged: a staff account's, a customer's, or an address no
    account has. (The same work for each, so the answer's timing tells no one which address
    has an account.)"""
    user = accounts.user_by_email(db.session, email or "")
    if user is None:
        _record("staff.sign_in_failed", email=accounts.normalize_email(email or ""))
    elif user.role == "staff":
        _record("staff.sign_in_failed", user)
    else:
        _record("customer.sign_in_failed", user)
    db.session.commit()


def record_sign_out() -> None:
    """Before a staff member's sign-out ends the session."""
    if current_user.is_authenticated and current_user.role == "staff":
        _record("staff.sign_out", current_user.user)
        db.session.commit()


# -- the code step -----------------------------------------------------------------------------


def _pending_user() -> tuple[User | None, dict]:
    """The staff member who gave the right password in this session in the last minutes."""
    pending = session.get(PENDING_KEY) or {}
    user_id, at = pending.get("user"), pending.get("at")
    if not isinstance(user_id, int) or not isinstance(at, int):
        return None, {}
    if clock.now().timestamp() - at > current_app.config["TWO_FACTOR_PENDING_SECONDS"]:
        session.pop(PENDING_KEY, None)
        return None, {}
    user = db.session.get(User, user_id)
    return (user, pending) if user is not None and user.active else (None, {})


def code_page(form=None, error: str | None = None, status: int = 200, notice: str | None = None):
    """The code step's page (its form block for htmx), with no code kept in it."""
    form = form or TwoFactorCodeForm()
    form.code.data = ""
    if notice is not None:
        error, status = notice, 429
    response = render("account/two_factor.html", "form", form=form, error=error, status=status)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/login/two-factor", methods=["GET", "POST"])
@limiter.limit(_code_limit, methods=["POST"])
@limiter.limit(_code_limit, methods=["POST"], key_func=_pending_key)
def login_two_factor():
    user, pending = _pending_user()
    if user is None:
        flash(_("Sign in again: the time to enter the code ran out."), "error")
        return redirect(url_for("account.login"), 303)
    form = TwoFactorCodeForm()
    if not form.validate_on_submit():
        error = _("Enter the code from your app.") if request.method == "POST" else None
        return code_page(form, error, 422 if error else 200)
    ip = client_ip()
    if not two_factor.verify(db.session, user, form.code.data, clock.now(), ip):
        _record("staff.two_factor_failed", user)
        db.session.commit()
        return code_page(form, _("That code is not right, or was already used."), 401)
    _record("staff.sign_in", user)
    sign_in(user, remember=pending.get("remember", False))  # a new session; commits
    return redirect(pending.get("next") or url_for("account.settings"), 303)


# -- enrolment ---------------------------------------------------------------------------------


@bp.before_app_request
def enrol_first():
    """Staff pages (/admin, /agent) send staff whose organization requires two-factor sign-in
    and who have none to /account/security first."""
    if request.blueprint not in ("admin", "agent") or not current_user.is_authenticated:
        return None
    user = current_user.user
    if two_factor.required(db.session, user) and not two_factor.enabled(db.session, user):
        flash(_("Your organization requires two-factor sign-in: set it up first."), "error")
        return redirect(url_for("account.security"), 303)
    return None


def _staff_or_away():
    if not current_user.is_authenticated:
        return redirect(url_for("account.login", next=url_for("account.security")))
    if current_user.role != "staff":
        return redirect(url_for("account.settings"))
    return None


def security_page(code_form=None, error: str | None = None, status: int = 200):
    """The enrolment page: on, or being set up (QR code, secret, code), or off."""
    user = current_user.user
    secret = two_factor.pending_secret(db.session, user)
    qr = None
    if secret is not None:
        qr = segno.make(two_factor.otpauth_uri(user, secret), error="m").svg_data_uri(scale=4)
    form = code_form or TwoFactorCodeForm(formdata=None)
    form.code.data = ""
    response = render(
        "account/security.html",
        "two_factor",
        enabled=two_factor.enabled(db.session, user),
        required=two_factor.required(db.session, user),
        codes_left=two_factor.recovery_codes_left(db.session, user),
        new_codes=session.pop(NEW_CODES_KEY, None),
        secret=secret,
        qr=qr,
        form=form,
        start_form=ActionForm(formdata=None),
        error=error,
        status=status,
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/account/security")
def security():
    return _staff_or_away() or security_page()


@bp.route("/account/security/start", methods=["GET", "POST"])
def security_start():
    if (away := _staff_or_away()) is not None or request.method == "GET":
        return away or redirect(url_for("account.security"), 303)
    if ActionForm().validate_on_submit() and not two_factor.enabled(db.session, current_user.user):
        two_factor.start(db.session, current_user.user, clock.now())
        db.session.commit()
    return redirect(url_for("account.security") + "#two-factor", 303)


@bp.route("/account/security/confirm", methods=["GET", "POST"])
@limiter.limit(_code_limit, methods=["POST"])
@limiter.limit(_code_limit, methods=["POST"], key_func=_account_key)
def security_confirm():
    if (away := _staff_or_away()) is not None or request.method == "GET":
        return away or redirect(url_for("account.security"), 303)
    form = TwoFactorCodeForm()
    user = current_user.user
    codes = None
    if form.validate_on_submit():
        ip = client_ip()
        codes = two_factor.confirm(db.session, user, form.code.data, clock.now(), ip)
    if codes is None:
        db.session.rollback()
        return security_page(
            form, _("That code is not right. Enter the code your app shows now."), 422
        )
    db.session.commit()
    sign_in(user, remember=False)  # a new session now that the account has a second factor
    session[NEW_CODES_KEY] = codes
    flash(_("Two-factor sign-in is on."), "success")
    return redirect(url_for("account.security"), 303)


@bp.route("/account/security/disable", methods=["GET", "POST"])
@limiter.limit(_code_limit, methods=["POST"])
@limiter.limit(_code_limit, methods=["POST"], key_func=_account_key)
def security_disable():
    if (away := _staff_or_away()) is not None or request.method == "GET":
        return away or redirect(url_for("account.security"), 303)
    form = TwoFactorCodeForm()
    user = current_user.user
    ip = client_ip()
    if not form.validate_on_submit() or not two_factor.disable(
        db.session, user, form.code.data, clock.now(), ip
    ):
        db.session.rollback()
        return security_page(form, _("That code is not right, or was already used."), 422)
    db.session.commit()
    flash(_("Two-factor sign-in is off."), "success")
    return redirect(url_for("account.security"), 303)
