"""Session ids carry the account's session version: old cookies and remember-me stop working."""

from sqlalchemy import update

from kb.models import User
from portal.desk.accounts import LoginUser, parse_session_id
from tests.conftest import PASSWORD
from tests.portal.account.conftest import signed_in

REMEMBER = "remember_token"


def test_session_id_is_user_id_and_session_version(ctx, make):
    user = make.user(role="customer")
    assert LoginUser(user).get_id() == f"{user.id}:1"
    assert parse_session_id(f"{user.id}:1") == (user.id, 1)
    for bad in ("", "5", "5:", ":1", "5:1:1", "05:1", "5:0", "-5:1", "5:1 ", "9" * 12 + ":1"):
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
    assert remember is not None and remember.value.startswith(f"{user.id}:1|")

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
