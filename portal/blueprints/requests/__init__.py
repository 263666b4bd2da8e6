"""Inquiry forms, sending them, and a request's private page (/<brand>/<locale>/requests/...)."""

from flask import Blueprint

bp = Blueprint("requests", __name__)

# Route modules register on bp; imported last, as they need it.
from portal.blueprints.requests import views  # noqa: E402,F401,I001
from portal.blueprints.requests import conversation  # noqa: E402,F401,I001
