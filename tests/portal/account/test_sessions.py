"""Session ids carry the account's session version: old cookies and remember-me stop working."""

import hashlib
import time
from datetime import timedelta

from sqlalchemy import select, update

from kb import clock
from kb.people import User
from portal.desk.accounts import LoginUser, parse_session_id
from portal.desk.models import LoginSession
from tests.conftest import PASSWORD
from tests.portal.account.conftest import NEW_PASSWORD, signed_in

REMEMBER = "remember_token"


def test_session_id_is_user_id_session_version_and_a_random_key(ctx, make):
    user = make.user(role="customer")
    key = "k" * 43
    assert LoginUser(user, key).get_id() == f"{user.id}:1:{key}"
    assert parse_session_id(f"{user.id}:1:{key}") == (user.id, 1, key)
    for bad in (
        "",
        "5",
        "5:1",
        f"5::{key}",
        f":1:{key}",
        f"05:1:{key}",
        f"5:0:{key}",
        f"-5:1:{key}",
        f"5:1:{key} ",
        "5:1:short",
        "9" * 12 + f":1:{key}",
        f"5:1:{key}:x",
    ):
        assert parse_session_id(bad) is None, bad


def test_a_session_from_before_session_versions_is_refused(client, make):
    user = make.user(role="customer")
    with client.session_transaction() as session:
        session["_user_id"] = str(user.id)
    assert not signed_in(client)


def test_a_session_with_an_old_version_is_refused(client, ctx, login):
    user = login("customer")
    assert signed_in(client)
    ctx.execute(update(User).where(User.id == user.id).values(session_version=2))
    ctx.commit()
    assert not signed_in(client)


def test_a_deactivated_account_is_signed_out(client, ctx, login):
    user = login("customer")
    ctx.execute(update(User).where(User.id == user.id).values(active=False))
    ctx.commit()
    assert not signed_in(client)


def test_remember_me_keeps_the_person_signed_in_until_the_password_changes(app, ctx, make):
    user = make.user(role="customer", password=PASSWORD)
    client = app.test_client()
    data = {"email": user.email, "password": PASSWORD, "remember": "y"}
    assert client.post("/login", data=data).status_code == 303
    remember = client.get_cookie(REMEMBER)
    assert remember is not None and remember.value.startswith(f"{user.id}:1:")

    fresh = app.test_client()  # a browser that kept only the remember-me cookie
    fresh.set_cookie(REMEMBER, remember.value)
    assert fresh.get("/account/settings").status_code == 200

    ctx.execute(update(User).where(User.id == user.id).values(session_version=2))
    ctx.commit()
    stale = app.test_client()
    stale.set_cookie(REMEMBER, remember.value)
    assert stale.get("/account/settings").status_code == 302


def test_logout_clears_the_remember_cookie(app, make):
    user = make.user(role="customer", password=PASSWORD)
    client = app.test_client()
    client.post("/login", data={"email": user.email, "password": PASSWORD, "remember": "y"})
    assert client.get_cookie(REMEMBER) is not None
    assert client.post("/logout").status_code == 303
    assert client.get_cookie(REMEMBER) is None
    assert client.get("/account/settings").status_code == 302


def test_signing_in_replaces_another_accounts_remember_cookie(app, make):
    first = make.user(role="customer", password=PASSWORD)
    second = make.user(role="customer", password=PASSWORD)
    client = app.test_client()
    client.post("/login", data={"email": first.email, "password": PASSWORD, "remember": "y"})
    client.post("/login", data={"email": second.email, "password": PASSWORD})
    assert client.get_cookie(REMEMBER) is None


# --- Issue 15 item 35: signing out ends the session ------------------------------------------


def _sign_in(app, user, remember=False):
    client = app.test_client()
    data = {"email": user.email, "password": PASSWORD}
    if remember:
        data["remember"] = "y"
    assert client.post("/login", data=data).status_code == 303
    return client


def test_a_session_cookie_copied_before_sign_out_does_not_work_after_it(app, make):
    """Issue 15 item 35: a `session` cookie copied before logout still worked after it
    (FreeScout CVE-2026-27637's class): sign-out ends the session on the server."""
    user = make.user(role="customer", password=PASSWORD)
    client = _sign_in(app, user)
    copied = client.get_cookie("session").value
    assert client.post("/logout").status_code == 303
    thief = app.test_client()
    thief.set_cookie("session", copied)
    assert thief.get("/account/settings").status_code == 302
    assert not signed_in(thief)


def test_a_remember_cookie_is_revoked_by_sign_out(app, make):
    """Issue 15 item 35: the remember-me cookie was not revoked by logout."""
    user = make.user(role="customer", password=PASSWORD)
    client = _sign_in(app, user, remember=True)
    copied = client.get_cookie(REMEMBER).value
    assert client.post("/logout").status_code == 303
    thief = app.test_client()
    thief.set_cookie(REMEMBER, copied)
    assert thief.get("/account/settings").status_code == 302


def test_signing_out_one_browser_keeps_the_others_signed_in(app, make):
    """Issue 15 item 35: sign-out ends this browser's session only."""
    user = make.user(role="customer", password=PASSWORD)
    phone, laptop = _sign_in(app, user), _sign_in(app, user)
    phone.post("/logout")
    assert signed_in(laptop) and not signed_in(phone)


def test_remember_cookie_is_random_per_sign_in_samesite_and_not_a_year(app, make):
    """Issue 15 item 35: remember_token was the same value at every sign-in, valid a year,
    without SameSite."""
    user = make.user(role="customer", password=PASSWORD)
    values = []
    for _ in range(2):
        client = app.test_client()
        response = client.post(
            "/login", data={"email": user.email, "password": PASSWORD, "remember": "y"}
        )
        header = next(
            h for h in response.headers.getlist("Set-Cookie") if h.startswith(REMEMBER + "=")
        )
        assert "SameSite=Lax" in header and "HttpOnly" in header
        cookie = client.get_cookie(REMEMBER)
        lifetime = cookie.expires.timestamp() - time.time()
        assert 0 < lifetime <= 31 * 24 * 3600
        values.append(cookie.value)
    assert values[0] != values[1]


def test_a_session_is_refused_after_its_server_side_lifetime(app, ctx, make):
    """Issue 15 item 35: a sane lifetime, enforced on the server (a kept cookie does not
    outlive it)."""
    user = make.user(role="customer", password=PASSWORD)
    client = _sign_in(app, user, remember=True)
    assert signed_in(client)
    clock.freeze(clock.now() + timedelta(days=31))
    assert not signed_in(client)


def test_the_server_keeps_only_a_hash_of_the_session_key(app, ctx, make):
    """Issue 15 item 35: remember tokens are stored hashed on the server."""
    user = make.user(role="customer", password=PASSWORD)
    client = _sign_in(app, user, remember=True)
    key = client.get_cookie(REMEMBER).value.split("|")[0].rsplit(":", 1)[1]
    stored = ctx.scalars(select(LoginSession.key_hash).where(LoginSession.user_id == user.id))
    stored = list(stored)
    assert len(stored) == 1 and key not in stored[0]
    assert stored[0] == hashlib.sha256(key.encode()).hexdigest()


def test_a_password_change_ends_the_other_sessions_copied_cookies_included(app, ctx, make):
    """Issue 15 item 35: a password change also revokes other sessions."""
    user = make.user(role="customer", password=PASSWORD)
    mine, other = _sign_in(app, user), _sign_in(app, user, remember=True)
    copied = other.get_cookie(REMEMBER).value
    data = {"current_password": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    assert mine.post("/account/settings/password", data=data).status_code == 303
    assert signed_in(mine) and not signed_in(other)
    thief = app.test_client()
    thief.set_cookie(REMEMBER, copied)
    assert thief.get("/account/settings").status_code == 302


def test_the_sweep_removes_expired_sign_ins(app, ctx, make):
    """Issue 15 item 35: sign-ins past their lifetime do not pile up on the server."""
    from portal.desk import accounts

    user = make.user(role="customer", password=PASSWORD)
    _sign_in(app, user)
    _sign_in(app, user, remember=True)
    later = clock.now() + timedelta(days=2)
    assert accounts.remove_expired_login_sessions(ctx, later) == 1  # the one without remember
    assert len(list(ctx.scalars(select(LoginSession)))) == 1
