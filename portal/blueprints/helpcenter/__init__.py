"""The public help center: /, /<brand>/ and /<brand>/<locale>/..."""

from flask import Blueprint

bp = Blueprint("helpcenter", __name__)

from portal.blueprints.helpcenter import views  # noqa: E402,F401
