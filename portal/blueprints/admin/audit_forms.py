"""What a back-office request tells the audit log: who makes a change, and from where."""

from flask import request
from flask_login import current_user


def who() -> dict:
    """`actor` and `ip` keyword arguments for the domain functions that record a change."""
    return {"actor": current_user.user, "ip": request.remote_addr or ""}
