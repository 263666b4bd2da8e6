"""Accounts: sign-in for everyone, customer sign-up, confirmation, reset, settings, SSO."""

from flask import Blueprint

bp = Blueprint("account", __name__)

# First: the allowlist's guard runs before two-factor's enrolment redirect.
from portal.blueprints.account import staff_addresses  # noqa: E402,F401,I001
from portal.blueprints.account import views  # noqa: E402,F401,I001
from portal.blueprints.account import sso  # noqa: E402,F401,I001
from portal.blueprints.account import two_factor  # noqa: E402,F401,I001
