"""Sessions: signing a browser in and out, and Flask's signed-cookie session.

Each sign-in is a server-side LoginSession whose random key the session and remember-me
cookies carry (portal.desk.accounts): signing out ends it, so a copied cookie stops working.

Flask builds a new URLSafeTimedSerializer to open and again to save each session, and every
construction test-serializes a value: about a tenth of the time of a cached public page; the
serializer here is built once.
"""

from datetime import timedelta

from flask import current_app, session
from flask.sessions import SecureCookieSessionInterface
from flask_login import current_user, login_user, logout_user

from kb import clock
from portal.desk import accounts
from portal.extensions import db


def sign_in(user, remember: bool = False) -> None:
    """A new session for `user`: this browser's previous sign-in ended, nothing carried over,
    a new server-side sign-in (a longer one with "keep me signed in")."""
    _end_this_sign_in()
    session.clear()
    logout_user()
    config = current_app.config
    if remember:
        lifetime = config["REMEMBER_COOKIE_DURATION"]
    else:
        lifetime = timedelta(hours=float(config["LOGIN_SESSION_HOURS"]))
    key = accounts.start_login_session(db.session, user, clock.now(), lifetime)
    db.session.commit()
    login_user(accounts.LoginUser(user, key), remember=remember)


def sign_out() -> None:
    """Ends this browser's sign-in on the server (copies of its cookies stop working too)."""
    _end_this_sign_in()
    # In this order: logout_user() marks the remember cookie for removal in the new session.
    session.clear()
    logout_user()


def _end_this_sign_in() -> None:
    if current_user and current_user.is_authenticated:
        accounts.end_login_session(db.session, current_user.get_id())
        db.session.commit()


class SessionInterface(SecureCookieSessionInterface):
    def __init__(self):
        self._serializers: dict = {}

    def get_signing_serializer(self, app):
        key = (app.secret_key, tuple(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        serializer = self._serializers.get(key)
        if serializer is None:
            serializer = super().get_signing_serializer(app)
            self._serializers = {key: serializer}  # a new key replaces the old serializer
        return serializer
