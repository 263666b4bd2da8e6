"""Signing in at /login: staff and customers, next=, rate limits, same answer for unknown emails."""

import pytest

from portal import create_app
from tests.conftest import PASSWORD, _test_config


def test_editor_signs_in_and_lands_on_the_article_list(client, make):
    user = make.user(role="editor", brands=[make.brand()], password=PASSWORD)
    response = client.post("/login", data={"email": user.email.upper(), "password": PASSWORD})
    assert response.status_code == 303
    assert response.headers["Location"] == "/admin/kb/"
    assert client.get("/admin/kb/").status_code == 200


def test_wrong_password_and_unknown_email_get_the_same_answer(client, make):
    user = make.user(password=PASSWORD)
    wrong = client.post("/login", data={"email": user.email, "password": "nope"})
    unknown = client.post("/login", data={"email": "nobody@example.test", "password": "nope"})
    assert wrong.status_code == unknown.status_code == 401
    message = "That email and password do not match an account."
    assert message in wrong.get_data(as_text=True) and message in unknown.get_data(as_text=True)
    assert 'value="nope"' not in wrong.get_data(as_text=True)  # the password is not echoed back
    assert f'value="{user.email}"' in wrong.get_data(as_text=True)  # the email is kept


def test_login_follows_a_safe_next_only(client, make):
    user = make.user(password=PASSWORD)
    data = {"email": user.email, "password": PASSWORD}
    ok = client.post("/login", data={**data, "next": "/admin/kb/schedule"})
    assert ok.headers["Location"] == "/admin/kb/schedule"


@pytest.mark.parametrize(
    "target", ["//evil.example/", "https://evil.example/", "/\\evil.example", "javascript:alert(1)"]
)
def test_login_next_to_another_site_is_ignored(client, make, target):
    user = make.user(brands=[make.brand()], password=PASSWORD)
    response = client.post(
        "/login", data={"email": user.email, "password": PASSWORD, "next": target}
    )
    assert response.headers["Location"] == "/admin/kb/"


def test_anonymous_admin_visit_goes_to_login_with_next(client):
    response = client.get("/admin/kb/schedule")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/admin/kb/schedule"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'name="next" type="hidden" value="/admin/kb/schedule"' in page


def test_login_htmx_post_returns_the_form_fragment(client, make):
    response = client.post(
        "/login", data={"email": "x@example.test", "password": "no"}, headers={"HX-Request": "true"}
    )
    assert "<html" not in response.get_data(as_text=True)
    assert "do not match" in response.get_data(as_text=True)


def test_logout_ends_the_session(client, login, make):
    login("editor", brands=[make.brand()])
    assert client.get("/admin/kb/").status_code == 200
    assert client.post("/logout").status_code == 303
    assert client.get("/admin/kb/").status_code == 302


def test_login_is_rate_limited_per_address(app, tmp_path_factory, make):
    config = _test_config(tmp_path_factory, LOGIN_RATE_LIMIT="3 per minute")
    config["DATABASE_URL"] = app.config["DATABASE_URL"]
    limited = create_app(config)
    client = limited.test_client()
    codes = [
        client.post("/login", data={"email": f"u{n}@example.test", "password": "x"}).status_code
        for n in range(4)
    ]
    assert codes == [401, 401, 401, 429]
    from portal.extensions import db

    with limited.app_context():
        db.engine.dispose()


def test_login_is_rate_limited_per_email_across_addresses(app, tmp_path_factory, make):
    config = _test_config(tmp_path_factory, LOGIN_RATE_LIMIT="2 per minute")
    config["DATABASE_URL"] = app.config["DATABASE_URL"]
    limited = create_app(config)
    client = limited.test_client()
    codes = [
        client.post(
            "/login",
            data={"email": "target@example.test", "password": "x"},
            environ_base={"REMOTE_ADDR": f"10.0.0.{n}"},
        ).status_code
        for n in range(3)
    ]
    assert codes == [401, 401, 429]
    from portal.extensions import db

    with limited.app_context():
        db.engine.dispose()


def test_session_cookie_changes_at_login(client, make):
    """No session fixation: what was in the session before sign-in is gone after it."""
    user = make.user(password=PASSWORD)
    with client.session_transaction() as session:
        session["planted"] = "by someone else"
    client.post("/login", data={"email": user.email, "password": PASSWORD})
    with client.session_transaction() as session:
        assert "planted" not in session


def test_sign_in_from_a_help_center_is_in_its_language(client, brand):
    """From a Korean help center, the sign-in page is Korean whatever the browser asks for."""
    english = {"Accept-Language": "en-US,en;q=0.9"}
    page = client.get("/login?next=/acme/ko/", headers=english).get_data(as_text=True)
    assert '<html lang="ko"' in page
    assert "로그인" in page and "Keep me signed in" not in page
    refused = client.post(
        "/login", data={"email": "x@example.com", "password": "nope", "next": "/acme/ko/"}
    ).get_data(as_text=True)
    assert '<html lang="ko"' in refused
