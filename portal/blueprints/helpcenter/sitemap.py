"""/robots.txt and /sitemap.xml: absolute links from the configured base URL or the brands'
own hosts, never from the request's Host."""

from urllib.parse import urlsplit
from xml.sax.saxutils import quoteattr

from flask import Response, current_app, url_for

from kb import clock, sitemap
from portal.blueprints.helpcenter import bp
from portal.extensions import db

# Pages for staff, accounts and private links: nothing for a search engine.
PRIVATE_PATHS = ("/admin/", "/agent/", "/account/", "/login", "/logout", "/preview/")
PRIVATE_BRAND_PATHS = ("/requests", "/signup", "/access/")


def _base_url() -> str:
    return str(current_app.config["PORTAL_BASE_URL"]).rstrip("/")


def _brand_base(brand) -> tuple[str, str]:
    """(absolute origin, path prefix to drop): the brand's own host if it has one (its
    help center answers at /<locale>/ there), else PORTAL_BASE_URL."""
    if brand.hosts:
        scheme = urlsplit(_base_url()).scheme or "https"
        host = sorted(h.host for h in brand.hosts)[0]
        return f"{scheme}://{host}", f"/{brand.slug}"
    return _base_url(), ""


@bp.get("/robots.txt")
def robots_txt():
    lines = ["User-agent: *"]
    lines += [f"Disallow: {path}" for path in PRIVATE_PATHS]
    lines += [f"Disallow: /*{path}" for path in PRIVATE_BRAND_PATHS]
    lines += ["", f"Sitemap: {_base_url()}/sitemap.xml", ""]
    response = Response("\n".join(lines), mimetype="text/plain")
    response.cache_control.public = True
    response.cache_control.max_age = 3600
    return response


def _urls(links: dict[str, str], lastmod: str) -> list[str]:
    """One <url> per language of a page, each naming all of them as hreflang alternates."""
    alternates = "".join(
        f'<xhtml:link rel="alternate" hreflang={quoteattr(locale)} href={quoteattr(href)}/>'
        for locale, href in links.items()
    )
    return [f"<url><loc>{_text(href)}</loc>{lastmod}{alternates}</url>" for href in links.values()]


@bp.get("/sitemap.xml")
def sitemap_xml():
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
        'xmlns:xhtml="http://www.w3.org/1999/xhtml">',
    ]
    for brand, articles in sitemap.public_articles(db.session, clock.now()):
        origin, drop = _brand_base(brand)
        homes = {
            locale: _absolute(origin, drop, "helpcenter.home", brand=brand.slug, locale=locale)
            for locale in brand.locales
        }
        out += _urls(homes, "")
        for entry in articles:
            links = {
                locale: _absolute(
                    origin,
                    drop,
                    "helpcenter.article",
                    brand=brand.slug,
                    locale=locale,
                    id_slug=f"{entry.article_id}-{slug}",
                )
                for locale, slug in entry.slugs.items()
            }
            lastmod = (
                f"<lastmod>{entry.updated_at.date().isoformat()}</lastmod>"
                if entry.updated_at
                else ""
            )
            out += _urls(links, lastmod)
    out.append("</urlset>")
    response = Response("\n".join(out) + "\n", mimetype="application/xml")
    response.cache_control.public = True
    response.cache_control.max_age = 3600
    return response


def _absolute(origin: str, drop: str, endpoint: str, **values) -> str:
    path = url_for(endpoint, **values)
    if drop and path.startswith(drop + "/"):
        path = path[len(drop) :]
    return origin + path


def _text(value: str) -> str:
    return quoteattr(value)[1:-1]
