"""The client's address, the one place it is read: `request.remote_addr` as werkzeug's ProxyFix
(set up in create_app with x_for=TRUSTED_PROXIES) left it. With TRUSTED_PROXIES = 0 an
X-Forwarded-For header changes nothing; with N, the address the Nth proxy from us appended."""

from flask import request


def client_ip() -> str:
    """The address this request came from ("" outside a request or when the server gives none),
    for the audit log, rate limits and the staff IP allowlist alike."""
    return (request.remote_addr or "") if request else ""
