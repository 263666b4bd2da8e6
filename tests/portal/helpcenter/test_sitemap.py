"""/robots.txt and /sitemap.xml: what search engines may read, and every public article."""

from datetime import timedelta
from xml.etree import ElementTree

from kb import clock
from kb.models import Section

NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9", "x": "http://www.w3.org/1999/xhtml"}


def _urls(response) -> dict[str, dict[str, str]]:
    """loc -> {hreflang: href} of each <url> in the sitemap."""
    root = ElementTree.fromstring(response.get_data())
    found = {}
    for url in root.findall("s:url", NS):
        loc = url.find("s:loc", NS).text
        found[loc] = {link.get("hreflang"): link.get("href") for link in url.findall("x:link", NS)}
    return found


def test_robots_txt_is_served_and_names_the_sitemap(app, client, make):
    """Issue 15 item 18: /robots.txt answered 404 (the brand route took it)."""
    make.brand(slug="acme", locales=("en",))
    response = client.get("/robots.txt", headers={"Host": "evil.example"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and response.mimetype == "text/plain"
    assert "User-agent: *" in body
    for private in ("/admin/", "/agent/", "/account/", "/preview/"):
        assert f"Disallow: {private}" in body
    assert "Sitemap: http://127.0.0.1:5000/sitemap.xml" in body  # PORTAL_BASE_URL
    assert "evil.example" not in body


def test_sitemap_lists_each_public_article_per_locale_with_hreflang(client, make):
    """Issue 15 item 18: /sitemap.xml answered 404; it lists each brand's published, public
    articles per locale with hreflang alternates, absolute from the configured base URL."""
    acme = make.brand(slug="acme", locales=("en", "ko"))
    section = make.section(make.category(acme))
    both = make.article(section, {"en": "Reset password", "ko": "비밀번호 재설정"})
    only_en = make.article(section, {"en": "Refunds"})
    draft = make.article(section, {"en": "Draft"}, status="draft")
    later = make.article(section, {"en": "Later"}, publish_at=clock.now() + timedelta(days=1))
    restricted_section = make.section(make.category(acme))
    restricted_section_row = make.session.get(Section, restricted_section.id)
    restricted_section_row.audience = "organizations"
    make.session.commit()
    hidden = make.article(restricted_section, {"en": "Partners only"})
    make.brand(slug="closed", locales=("en",), status="archived")

    response = client.get("/sitemap.xml", headers={"Host": "evil.example"})
    assert response.status_code == 200 and response.mimetype == "application/xml"
    urls = _urls(response)
    base = "http://127.0.0.1:5000/acme"
    en = f"{base}/en/articles/{both.id}-reset-password"
    ko = next(u for u in urls if u.startswith(f"{base}/ko/articles/{both.id}-"))
    assert urls[en] == {"en": en, "ko": ko} and urls[ko] == {"en": en, "ko": ko}
    assert f"{base}/en/articles/{only_en.id}-refunds" in urls
    assert not any(f"/articles/{a.id}-" in u for a in (draft, later, hidden) for u in urls)
    assert not any(u.startswith(f"{base}/ko/articles/{only_en.id}-") for u in urls)
    homes = {"en": f"{base}/en/", "ko": f"{base}/ko/"}  # each help center's home, alternates too
    assert urls[f"{base}/en/"] == homes and urls[f"{base}/ko/"] == homes
    assert not any("/closed/" in u or "evil.example" in u for u in urls)


def test_sitemap_uses_the_brands_own_host(client, make):
    """Issue 15 item 18: a brand with its own host name is listed there (/<locale>/...)."""
    brand = make.brand(slug="acme", locales=("en",), hosts=("help.acme.test",))
    article = make.article(make.section(make.category(brand)), {"en": "Guide"})
    urls = _urls(client.get("/sitemap.xml"))
    assert f"http://help.acme.test/en/articles/{article.id}-guide" in urls
