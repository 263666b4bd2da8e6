"""Rendered public pages, kept per process and keyed by the brand's content version.

A page is reused until the brand's content changes (Brand.content_version, bumped in the same
transaction as the change) or until the brand's next scheduled publish or unpublish time, so a
scheduled article still appears at its second. The CSRF token differs per visitor: pages are
stored with a placeholder and each response gets the visitor's own token (and its own CSP
nonce, the same way).
"""

import functools
import threading
from collections import OrderedDict
from datetime import datetime, timedelta

from flask import current_app, g, make_response, request, session
from flask_wtf.csrf import generate_csrf

from kb import clock, helpcenter
from portal.extensions import db
from portal.web.rendering import wants_fragment
from portal.web.security_headers import NONCE_PLACEHOLDER, csp_nonce
from portal.web.tenancy import helpcenter_or_404

CSRF_PLACEHOLDER = "__portal_csrf_token_placeholder__"
MAX_AGE = timedelta(minutes=10)


class PageCache:
    def __init__(self, max_entries: int = 2000):
        self.max_entries = max_entries
        self._pages: OrderedDict = OrderedDict()
        self._expiry: dict[tuple[int, int], tuple[datetime, datetime]] = {}
        self._lock = threading.Lock()

    def get(self, key, now: datetime):
        with self._lock:
            entry = self._pages.get(key)
            if entry is None:
                return None
            stored_at, expires_at, body, mimetype = entry
            if not stored_at <= now < expires_at:
                del self._pages[key]
                return None
            self._pages.move_to_end(key)
            return body, mimetype

    def put(self, key, now: datetime, expires_at: datetime, body: bytes, mimetype: str) -> None:
        with self._lock:
            self._pages[key] = (now, expires_at, body, mimetype)
            self._pages.move_to_end(key)
            while len(self._pages) > self.max_entries:
                self._pages.popitem(last=False)

    def expires_at(self, brand_id: int, version: int, now: datetime) -> datetime:
        """Until the brand's next scheduled change (looked up once per content version)."""
        known = self._expiry.get((brand_id, version))
        if known and known[0] <= now < known[1]:
            return known[1]
        upcoming = helpcenter.next_scheduled_change(db.session, brand_id, now)
        until = min(upcoming, now + MAX_AGE) if upcoming else now + MAX_AGE
        self._expiry[(brand_id, version)] = (now, until)
        return until

    def clear(self) -> None:
        with self._lock:
            self._pages.clear()
            self._expiry.clear()


def _personal() -> bool:
    """Pages for a signed-in account or with a flashed message are neither stored nor served."""
    # Read from the session and the remember cookie, without loading the account.
    return (
        "_user_id" in session
        or "_flashes" in session
        or current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token") in request.cookies
    )


def csrf_token() -> str:
    """The template's csrf_token(): a placeholder while a page is rendered for the cache."""
    return CSRF_PLACEHOLDER if g.get("rendering_for_cache") else generate_csrf()


def cached_page(variant=None):
    """Serve a help-center view from the page cache. `variant(**view_args)` adds to the key."""

    def decorate(view):
        @functools.wraps(view)
        def wrapper(brand, locale, **kwargs):
            cache: PageCache | None = current_app.extensions.get("portal.pagecache")
            if cache is None or request.method != "GET" or _personal():
                return view(brand=brand, locale=locale, **kwargs)
            hc = helpcenter_or_404(brand, locale)
            now = clock.now()
            key = (
                hc.brand.id,
                hc.brand.created_at,  # a brand re-created under a reused id starts afresh
                hc.brand.content_version,
                request.full_path,
                wants_fragment(),
                request.environ.get("portal.host_brand"),
                variant(**kwargs) if variant else None,
            )
            hit = cache.get(key, now)
            if hit is None:
                g.rendering_for_cache = True
                try:
                    response = make_response(view(brand=brand, locale=locale, **kwargs))
                finally:
                    g.rendering_for_cache = False
                if response.status_code != 200 or response.direct_passthrough:
                    return response
                body = response.get_data()
                cache.put(
                    key,
                    now,
                    cache.expires_at(hc.brand.id, hc.brand.content_version, now),
                    body,
                    response.mimetype,
                )
                state = "miss"
            else:
                body, mimetype = hit
                response = make_response(body)
                response.mimetype = mimetype
                state = "hit"
            if CSRF_PLACEHOLDER.encode() in body:
                body = body.replace(CSRF_PLACEHOLDER.encode(), generate_csrf().encode())
                response.set_data(body)
            if NONCE_PLACEHOLDER.encode() in body:
                response.set_data(body.replace(NONCE_PLACEHOLDER.encode(), csp_nonce().encode()))
            response.vary.add("HX-Request")
            response.headers["X-Portal-Cache"] = state
            return response

        return wrapper

    return decorate


def init_app(app) -> None:
    if app.config.get("PAGE_CACHE", True):
        app.extensions["portal.pagecache"] = PageCache(app.config.get("PAGE_CACHE_ENTRIES", 2000))
    # Flask-WTF offers csrf_token both as a global and through a context processor; ours must
    # win in both places, or a cached page would carry one visitor's token to everyone.
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.context_processor(lambda: {"csrf_token": csrf_token})
