"""The staff IP allowlist at the door: staff pages (/admin, /agent, /account) answer staff only
from the organization's listed addresses, and staff sign-in from anywhere else is refused.
Customers are never restricted. The address is portal.web.addresses.client_ip (ProxyFix with
TRUSTED_PROXIES hops), never a header read here."""

from flask import request
from flask_babel import gettext as _
from flask_login import current_user

from kb import clock
from kb.people import User
from portal.blueprints.account import bp
from portal.extensions import db
from portal.security import allowlist, audit
from portal.web.addresses import client_ip
from portal.web.errors import page

STAFF_BLUEPRINTS = ("admin", "agent", "account")
# Signing out ends the session wherever one is: never refused.
OPEN_ENDPOINTS = ("account.logout",)


@bp.before_app_request
def staff_from_listed_addresses():
    """A signed-in staff member on a staff page from an address not in the list: 403."""
    if request.blueprint not in STAFF_BLUEPRINTS or request.endpoint in OPEN_ENDPOINTS:
        return None
    if not current_user.is_authenticated:
        return None
    if allowlist.staff_may_enter(db.session, current_user.user, client_ip()):
        return None
    return page(403, "ip_not_allowed", address=client_ip() or "?")


def may_sign_in(user: User) -> bool:
    """Whether `user` (with the right password) may sign in from this request's address; a
    refusal is recorded in the system log."""
    if allowlist.staff_may_enter(db.session, user, client_ip()):
        return True
    audit.record(
        db.session,
        "staff.sign_in_refused",
        now=clock.now(),
        kind=audit.SYSTEM,
        actor=user,
        target=f"user:{user.id}",
        ip=client_ip(),
        details={"reason": "ip_allowlist"},
    )
    db.session.commit()
    return False


def refusal_text() -> str:
    """What the sign-in form says to staff signing in from an address not in the list."""
    return _(
        "Staff cannot sign in from your address (%(address)s): your organization allows "
        "staff sign-in only from the addresses on its list.",
        address=client_ip() or "?",
    )
