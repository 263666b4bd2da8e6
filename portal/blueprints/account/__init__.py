"""Sign-in for every account: /login and /logout."""

from flask import Blueprint

bp = Blueprint("account", __name__)

from portal.blueprints.account import views  # noqa: E402,F401
