"""Sign in and out. The same answer for unknown emails and wrong passwords."""

from flask import current_app, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from portal.blueprints.account import bp
from portal.blueprints.account.forms import LoginForm
from portal.desk.accounts import LoginUser, authenticate
from portal.extensions import db, limiter
from portal.navigation import safe_next
from portal.rendering import render


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _email_key() -> str:
    return "login-email:" + (request.form.get("email") or "").strip().lower()[:254]


def _home_for(user) -> str:
    if user.role in ("admin", "editor"):
        return url_for("admin.kb_articles")
    return url_for("helpcenter.index")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
@limiter.limit(_login_limit, methods=["POST"], key_func=_email_key)
def login():
    form = LoginForm()
    if request.method == "GET":
        form.next.data = safe_next(request.args.get("next"))
    error = None
    if form.validate_on_submit():
        user = authenticate(db.session, form.email.data, form.password.data)
        if user is not None:
            target = safe_next(form.next.data)
            session.clear()  # a new session at sign-in: nothing carried over from before
            login_user(LoginUser(user), remember=form.remember.data)
            return redirect(target or _home_for(user), 303)
        error = _("That email and password do not match an account.")
    elif request.method == "POST":
        error = _("Enter your email and password.")
    form.password.data = ""
    status = 401 if error and request.method == "POST" else 200
    return render("account/login.html", "form", form=form, error=error, status=status)


@bp.post("/logout")
def logout():
    if current_user.is_authenticated:
        logout_user()
    session.clear()
    return redirect(url_for("helpcenter.index"), 303)
