"""Error pages and malformed requests: a clear answer, never a 500."""

import pytest

UNNAMED_PART = (
    b"--XX\r\nContent-Disposition: form-data\r\n\r\nvalue\r\n"
    b'--XX\r\nContent-Disposition: form-data; name="email"\r\n\r\na@example.com\r\n--XX--\r\n'
)
MULTIPART = {"Content-Type": "multipart/form-data; boundary=XX"}


def _sample_url(rule) -> str:
    values = {}
    for name in rule.arguments:
        converter = rule._converters.get(name)
        values[name] = 1 if type(converter).__name__ in ("IdConverter", "IntegerConverter") else "x"
    return rule.build(values, append_unknown=False)[1]


def test_unnamed_multipart_part_on_login_is_a_clean_400(app, client, monkeypatch):
    """Issue 15 item 36: a multipart body with a part without a name answered 500 on /login
    (Flask-WTF's CSRF check met a field named None), before any authentication."""
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    response = client.post("/login", data=UNNAMED_PART, headers=MULTIPART)
    assert response.status_code == 400
    assert "<html" in response.get_data(as_text=True)


def test_unnamed_multipart_part_is_refused_on_every_post_route(app, client, login, monkeypatch):
    """Issue 15 item 36: every POST route, signed in or not, CSRF on or off, answers the
    malformed body without a 500."""
    login("admin")
    rules = [r for r in app.url_map.iter_rules() if "POST" in r.methods]
    assert len(rules) > 20
    for csrf_on in (True, False):
        monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", csrf_on)
        for rule in rules:
            url = _sample_url(rule)
            response = client.post(url, data=UNNAMED_PART, headers=MULTIPART)
            assert response.status_code < 500, (url, response.status_code)


def test_unnamed_file_part_is_a_clean_400(client):
    """Issue 15 item 36: an unnamed part carrying a file is refused the same way."""
    body = (
        b'--XX\r\nContent-Disposition: form-data; filename="a.txt"\r\n'
        b"Content-Type: text/plain\r\n\r\nhello\r\n--XX--\r\n"
    )
    assert client.post("/login", data=body, headers=MULTIPART).status_code == 400


def test_forbidden_page_follows_the_help_center_language_last_read(client, login):
    """Issue 15 item 19 (found by QA): a customer who reads the help center in Korean, with
    no language saved and an English browser, got the 403 page in English."""
    login("customer")
    client.set_cookie("locale", "ko")
    response = client.get("/agent/", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert response.status_code == 403
    assert "이 페이지를 열 권한이 없습니다" in response.get_data(as_text=True)


@pytest.mark.parametrize("locale", ["en", "ko"])
def test_forbidden_page_says_no_permission_and_offers_a_way_on(client, login, locale):
    """Issue 15 item 19: the 403 page said neither that the account lacks permission nor
    where to go next (sign in as someone else, the home page)."""
    login("customer")
    response = client.get("/agent/", headers={"Accept-Language": locale})
    body = response.get_data(as_text=True)
    assert response.status_code == 403
    if locale == "en":
        assert "You don’t have permission to open this page" in body
        assert "Sign in as someone else" in body
        assert "Go to the home page" in body
    else:
        assert "이 페이지를 열 권한이 없습니다" in body
    assert 'href="/login?next=/agent/"' in body
