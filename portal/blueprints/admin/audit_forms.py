"""What a back-office request tells the audit log: who makes a change, and from where."""

from flask_login import current_user

from portal.web.addresses import client_ip


def who() -> dict:
    """`actor` and `ip` keyword arguments for the domain functions that record a change."""
    return {"actor": current_user.user, "ip": client_ip()}
