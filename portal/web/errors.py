"""Error pages: calm, in the visitor's language; unexpected errors are logged once here."""

import logging

from flask import g, jsonify, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from portal.web.rendering import render

log = logging.getLogger(__name__)


def _wants_json() -> bool:
    return request.path.startswith("/api/") or (request.accept_mimetypes.best == "application/json")


def page(status: int, description: str | None = None, **context):
    """The error page for `status`; `description` names a particular case the page words
    ("csrf", "ip_not_allowed"), with the values it shows in `context`."""
    if _wants_json():
        return jsonify(error={"status": status, "message": description or ""}), status
    return render(
        "errors/error.html",
        status=status,
        code=status,
        description=description,
        hc=g.get("hc"),
        **context,
    )


def register(app) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):
        return page(400, "csrf")

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if exc.code is None or exc.code < 400:
            return exc
        response = page(exc.code)
        if exc.code == 405 and hasattr(exc, "valid_methods") and exc.valid_methods:
            response = app.make_response(response)
            response.headers["Allow"] = ", ".join(exc.valid_methods)
        return response

    @app.errorhandler(Exception)
    def unexpected_error(exc: Exception):
        log.exception("Unhandled error on %s %s", request.method, request.path)
        return page(InternalServerError.code)
