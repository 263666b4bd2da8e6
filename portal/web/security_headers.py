"""Security headers on every response: no sniffing, no framing, a Content-Security-Policy
without inline scripts, a Referrer-Policy, and nothing personal kept by caches."""

import secrets

from flask import current_app, g, request, session
from flask_login import current_user

# Pages whose URL is a bearer token: it must not leave in a Referer header.
TOKEN_ENDPOINTS = {"helpcenter.draft_preview"}
NONCE_PLACEHOLDER = "__portal_csp_nonce_placeholder__"


def content_security_policy(nonce: str | None = None, inline_styles: bool = False) -> str:
    """Scripts only from our files; inline styles only with this response's nonce (the
    brand's colours), or anywhere when `inline_styles` (a mail's own HTML shown to admins,
    inside a sandboxed frame)."""
    if inline_styles:
        styles = "'self' 'unsafe-inline'"
    else:
        styles = "'self'" + (f" 'nonce-{nonce}'" if nonce else "")
    return "; ".join(
        (
            "default-src 'self'",
            "script-src 'self'",
            f"style-src {styles}",
            "img-src 'self' data: https: http:",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        )
    )


def csp_nonce() -> str:
    """The template's csp_nonce(): this response's nonce, or a placeholder while a page is
    rendered for the page cache (each response then gets its own, see portal.web.pagecache)."""
    if g.get("rendering_for_cache"):
        return NONCE_PLACEHOLDER
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


def _signed_in() -> bool:
    # The session and the remember cookie first: anonymous pages load no account for this.
    remember = current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token")
    if "_user_id" not in session and remember not in request.cookies:
        return False
    return bool(current_user and current_user.is_authenticated)


def add_headers(response):
    headers = response.headers
    headers["X-Content-Type-Options"] = "nosniff"
    headers["X-Frame-Options"] = "DENY"
    policy = headers.get("Content-Security-Policy")
    if policy is None:
        headers["Content-Security-Policy"] = content_security_policy(g.get("csp_nonce"))
    elif "frame-ancestors" not in policy:
        headers["Content-Security-Policy"] = policy + "; frame-ancestors 'none'"
    if request.endpoint in TOKEN_ENDPOINTS or "token" in request.args:
        headers["Referrer-Policy"] = "no-referrer"
    else:
        headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    if request.endpoint != "static" and _signed_in():  # our CSS and scripts are no secret
        headers["Cache-Control"] = "private, no-store"
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    return response


def init_app(app) -> None:
    app.after_request(add_headers)
    app.jinja_env.globals["csp_nonce"] = csp_nonce
