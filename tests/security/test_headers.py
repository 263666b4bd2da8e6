"""Security headers on every route: nosniff, no framing, a CSP without inline scripts, a
Referrer-Policy, and signed-in pages never stored by caches."""

import re

import pytest
from itsdangerous import URLSafeTimedSerializer

from tests.portal.test_error_pages import _sample_url


def _check_common(response, where):
    headers = response.headers
    assert headers.get("X-Content-Type-Options") == "nosniff", where
    assert headers.get("X-Frame-Options") == "DENY", where
    csp = headers.get("Content-Security-Policy", "")
    assert "frame-ancestors 'none'" in csp, (where, csp)
    if "sandbox" not in csp:  # stored files are sandboxed: no script runs at all
        scripts = re.search(r"script-src ([^;]*)", csp)
        assert scripts and "'unsafe-inline'" not in scripts.group(1), (where, csp)
        assert "'unsafe-eval'" not in scripts.group(1), (where, csp)
    assert headers.get("Referrer-Policy"), where


def _each_route(app, client):
    # Signing out last: every other route is walked signed in.
    rules = sorted(app.url_map.iter_rules(), key=lambda r: r.endpoint == "account.logout")
    for rule in rules:
        url = _sample_url(rule)
        method = "GET" if "GET" in rule.methods else "POST"
        yield rule, url, client.open(url, method=method)


@pytest.mark.parametrize("who", [None, "customer", "agent", "admin"])
def test_every_route_sends_the_security_headers(app, client, make, login, who):
    """Issue 15 item 21: no nosniff, no frame protection (another site could frame the agent
    desk), no Content-Security-Policy; signed-in pages were cacheable."""
    brand = make.brand(slug="x", locales=("en",))
    if who:
        login(who, brands=[brand] if who == "agent" else ())
    seen = 0
    for rule, url, response in _each_route(app, client):
        _check_common(response, (who, rule.rule, url, response.status_code))
        if who and rule.endpoint not in ("account.logout", "static"):
            cache = response.headers.get("Cache-Control", "")
            assert "private" in cache and "no-store" in cache, (who, url, cache)
        response.close()
        seen += 1
    assert seen > 50


def test_static_files_stay_cacheable_for_signed_in_people(client, login):
    """Issue 15 item 21: no-store is for personal pages; our CSS and scripts stay cacheable."""
    login("agent")
    response = client.get("/static/css/portal.css")
    assert "no-store" not in response.headers.get("Cache-Control", "")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    response.close()


def test_error_pages_and_static_files_send_the_headers_too(client):
    """Issue 15 item 21: 404, 405 and static files carry them as well."""
    for response in (
        client.get("/nope/nothing/here"),
        client.put("/login"),
        client.get("/static/favicon.svg"),
    ):
        _check_common(response, response.status_code)
        response.close()


def test_the_preview_page_sends_no_referrer(app, client, make):
    """Issue 15 item 21: /preview/<token> set no Referrer-Policy although its URL is a bearer
    token."""
    brand = make.brand(slug="acme", locales=("en",))
    article = make.article(make.section(make.category(brand)), {"en": "Draft guide"})
    translation = article.translations[0]
    serializer = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="draft-preview")
    for token in (serializer.dumps({"t": translation.id}), "not-a-valid-token"):
        response = client.get(f"/preview/{token}")
        assert response.headers["Referrer-Policy"] == "no-referrer", response.status_code


def test_cached_pages_keep_the_headers_and_get_their_own_nonce(client, make):
    """Issue 15 item 21: a page served from the page cache keeps every header, and the
    inline brand style carries this response's nonce, not the cached one's."""
    brand = make.brand(slug="acme", locales=("en",))
    make.article(make.section(make.category(brand)), {"en": "Guide"})
    nonces = []
    for expected in ("miss", "hit"):
        response = client.get("/acme/en/")
        assert response.headers["X-Portal-Cache"] == expected
        _check_common(response, expected)
        csp = response.headers["Content-Security-Policy"]
        nonce = re.search(r"'nonce-([^']+)'", csp).group(1)
        assert f'<style nonce="{nonce}">' in response.get_data(as_text=True)
        nonces.append(nonce)
    assert nonces[0] != nonces[1]


def test_htmx_is_told_not_to_inject_inline_styles(client, make):
    """Issue 15 item 21: htmx adds a <style> for its indicators unless configured not to,
    which a CSP without inline styles refuses."""
    make.brand(slug="acme", locales=("en",))
    html = client.get("/acme/en/").get_data(as_text=True)
    config = re.search(r'<meta name="htmx-config" content=\'([^\']+)\'', html).group(1)
    assert '"includeIndicatorStyles": false' in config
