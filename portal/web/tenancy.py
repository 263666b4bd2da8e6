"""Which brand and locale a request is for: by URL, or by the Host it was sent to."""

import logging
import time

from flask import abort, current_app, g, has_request_context, request
from flask_babel import refresh
from sqlalchemy.exc import SQLAlchemyError

from kb import helpcenter
from kb.helpcenter import HelpCenter
from kb.slugs import BRAND_SLUG
from kb.visibility import brand_is_public
from portal.extensions import db

log = logging.getLogger(__name__)


class BrandHosts:
    """WSGI middleware: on a brand's own host, /<locale>/... is served as /<brand>/<locale>/...

    Links are built with the brand prefix stripped again (Portal.url_for), so a visitor on
    help.example.com stays on /<locale>/... paths.
    """

    MAX_ENTRIES = 1024

    def __init__(self, app):
        self.app = app
        self.wsgi_app = app.wsgi_app
        self._cache: dict[str, tuple[float, str | None, tuple[str, ...]]] = {}

    def lookup(self, host: str) -> tuple[str | None, tuple[str, ...]]:
        now = time.monotonic()
        hit = self._cache.get(host)
        if hit and hit[0] > now:
            return hit[1], hit[2]
        with self.app.app_context():
            try:
                brand = helpcenter.brand_by_host(
                    db.session, host, self.app.config.get("PORTAL_BASE_DOMAIN")
                )
            except SQLAlchemyError:
                # The app's own error handling reports the database; here, serve no brand host.
                log.exception("Brand host lookup failed for %r", host)
                return None, ()
            finally:
                db.session.remove()
            entry = (brand.slug, tuple(brand.locales)) if brand_is_public(brand) else (None, ())
        if len(self._cache) >= self.MAX_ENTRIES:
            self._cache.clear()
        ttl = self.app.config["BRAND_CACHE_SECONDS"]
        self._cache[host] = (now + ttl, *entry)
        return entry

    def __call__(self, environ, start_response):
        host = (environ.get("HTTP_HOST") or "").lower()
        if host:
            slug, locales = self.lookup(host)
            path = environ.get("PATH_INFO", "/")
            first = path.lstrip("/").split("/", 1)[0]
            if slug and (path == "/" or first in locales):
                environ["PATH_INFO"] = "/" + slug + ("/" if path == "/" else path)
                environ["portal.host_brand"] = slug
        return self.wsgi_app(environ, start_response)


class BrandCache:
    """Brands by slug for a second or two per process: public pages read them on every request.

    Entries are detached snapshots (read-only). A change to a brand or its content is seen by
    every worker within BRAND_CACHE_SECONDS; scheduled publishing does not wait on it (the page
    cache expires on the clock).
    """

    def __init__(self):
        self._brands: dict[str, tuple[float, object]] = {}

    def get(self, slug: str):
        ttl = current_app.config["BRAND_CACHE_SECONDS"]
        now = time.monotonic()
        hit = self._brands.get(slug)
        if ttl and hit and hit[0] > now:
            return hit[1]
        brand = helpcenter.brand_by_slug(db.session, slug)
        if brand is not None:
            db.session.expunge(brand)
        if ttl:
            if len(self._brands) > 1000:
                self._brands.clear()
            self._brands[slug] = (now + ttl, brand)
        return brand


_brands = BrandCache()


def brand_or_404(slug: str):
    if not BRAND_SLUG.match(slug):
        abort(404)  # refused before any lookup
    brand = _brands.get(slug)
    if not brand_is_public(brand):
        abort(404)
    g.brand = brand
    g.timezone = brand.timezone
    return brand


def helpcenter_or_404(slug: str, locale: str) -> HelpCenter:
    """The brand's help center in `locale`, or 404 (unknown brand, not public, locale off)."""
    known = g.get("hc")
    if known is not None and known.brand.slug == slug and known.locale == locale:
        return known  # resolved already in this request (page cache)
    brand = brand_or_404(slug)
    if locale not in brand.locales:
        abort(404)
    use_locale(locale)
    from portal.access import reader_org_id  # (access imports the models tenancy serves)

    hc = HelpCenter(brand=brand, locale=locale, org_id=reader_org_id())
    g.hc = hc
    return hc


def use_locale(locale: str) -> None:
    """The page's language from here on, even if something asked for it before: Flask-Babel's
    and the one Flask-WTF keeps on the request for WTForms' own messages ("This field is
    required."), loaded when a form without a label on a field was built."""
    g.locale = locale
    refresh()
    if has_request_context() and hasattr(request, "wtforms_translations"):
        del request.wtforms_translations


def strip_host_brand(url: str, environ: dict) -> str:
    slug = environ.get("portal.host_brand")
    prefix = f"/{slug}/"
    if slug and url.startswith(prefix):
        return url[len(prefix) - 1 :]
    return url
