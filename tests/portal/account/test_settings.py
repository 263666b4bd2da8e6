"""Account settings: profile, password (ends other sessions), email (only after the link)."""

from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from sqlalchemy import select

from kb.people import User
from portal.desk import accounts
from portal.desk.models import Ticket
from tests.conftest import PASSWORD
from tests.portal.account.conftest import (
    NEW_PASSWORD,
    anonymous_ticket,
    link_in,
    mails,
    signed_in,
    user_by_email,
)

ROOT = Path(__file__).resolve().parents[3]


def change_password(client, current=PASSWORD, new=NEW_PASSWORD):
    return client.post(
        "/account/settings/password",
        data={"current_password": current, "password": new, "confirm": new},
    )


def change_email(client, new_email, password=PASSWORD):
    return client.post(
        "/account/settings/email", data={"new_email": new_email, "email_password": password}
    )


def test_settings_need_a_signed_in_person(client):
    response = client.get("/account/settings")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/account/settings"
    posted = client.post("/account/settings/profile", data={"name": "X", "locale": "en"})
    assert posted.status_code == 302


def test_any_role_can_open_settings(client, login):
    login("agent")
    assert client.get("/account/settings").status_code == 200


def test_profile_saves_name_nickname_and_language(client, ctx, login):
    user = login("customer")
    response = client.post(
        "/account/settings/profile", data={"name": "Mina Park", "nickname": "mp", "locale": "ko"}
    )
    assert response.status_code == 303 and response.headers["Location"] == "/account/settings"
    ctx.expire_all()
    saved = ctx.get(User, user.id)
    assert (saved.name, saved.nickname, saved.locale) == ("Mina Park", "mp", "ko")
    assert 'lang="ko"' in client.get("/account/settings").get_data(as_text=True)


def test_profile_errors_keep_what_was_typed(client, ctx, login):
    user = login("customer")
    response = client.post(
        "/account/settings/profile", data={"name": "", "nickname": "typed nick", "locale": "xx"}
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert (
        'value="typed nick"' in html and 'id="name-error"' in html and 'id="locale-error"' in html
    )
    ctx.expire_all()
    assert ctx.get(User, user.id).nickname is None


def test_profile_error_as_htmx_returns_only_that_form(client, login):
    login("customer")
    response = client.post(
        "/account/settings/profile",
        data={"name": "", "locale": "en"},
        headers={"HX-Request": "true"},
    )
    html = response.get_data(as_text=True)
    assert "<html" not in html and "profile-form" in html and "password-form" not in html


def test_password_change_needs_the_current_password(client, ctx, login):
    user = login("customer")
    response = change_password(client, current="not my password")
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "not your current password" in html
    assert "not my password" not in html and NEW_PASSWORD not in html
    ctx.expire_all()
    assert accounts.check_password(ctx.get(User, user.id), PASSWORD)


def test_password_change_ends_other_sessions_and_keeps_this_one(app, client, ctx, login):
    user = login("customer")
    other = app.test_client()
    other.post("/login", data={"email": user.email, "password": PASSWORD})
    assert signed_in(other)
    assert change_password(client).status_code == 303
    assert signed_in(client)
    assert not signed_in(other)
    ctx.expire_all()
    assert ctx.get(User, user.id).session_version == 2
    assert (
        other.post("/login", data={"email": user.email, "password": NEW_PASSWORD}).status_code
        == 303
    )


def test_new_password_rules_apply_in_settings(client, login):
    user = login("customer")
    assert change_password(client, new="short").status_code == 422
    assert change_password(client, new=user.email.upper()).status_code == 422


def test_email_changes_only_after_the_link_is_followed(client, ctx, login):
    user = login("customer")
    old = user.email
    response = change_email(client, "New@Example.com")
    assert response.status_code == 303
    (mail,) = mails(ctx)
    assert mail.recipient == "new@example.com"
    assert user_by_email(ctx, old) is not None  # unchanged until the link
    link = link_in(mail)
    assert link.startswith("/account/email/")
    page = client.get(link)
    assert page.status_code == 200 and "new@example.com" in page.get_data(as_text=True)
    assert user_by_email(ctx, "new@example.com") is None  # opening the link changes nothing
    done = client.post(link)
    assert done.status_code == 303 and done.headers["Location"] == "/account/settings"
    assert user_by_email(ctx, old) is None
    assert user_by_email(ctx, "new@example.com").id == user.id
    assert client.post(link).status_code == 410  # once only


def test_email_change_needs_the_current_password(client, ctx, login):
    login("customer")
    response = change_email(client, "new@example.com", password="wrong password")
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "not your current password" in html
    assert 'value="new@example.com"' in html
    assert mails(ctx) == []


def test_email_change_to_another_accounts_address_answers_the_same_and_sends_nothing(
    client, ctx, make, login
):
    make.user(role="customer", email="taken@example.com")
    login("customer")
    response = change_email(client, "taken@example.com")
    assert response.status_code == 303
    assert mails(ctx) == []


def test_email_change_link_never_takes_an_address_another_account_has_since(
    client, ctx, make, login
):
    user = login("customer")
    change_email(client, "new@example.com")
    link = link_in(mails(ctx)[0])
    make.user(role="customer", email="new@example.com")  # signed up meanwhile
    response = client.post(link)
    assert response.status_code == 409
    assert "belongs to another account" in response.get_data(as_text=True)
    ctx.expire_all()
    assert ctx.get(User, user.id).email == user.email
    owners = ctx.scalars(select(User.id).where(User.email == "new@example.com")).all()
    assert owners != [user.id] and len(owners) == 1


def test_email_change_claims_the_requests_sent_from_the_new_address(
    client, ctx, make, login, brand
):
    user = login("customer")
    ticket = anonymous_ticket(make, brand, "new@example.com")
    change_email(client, "new@example.com")
    client.post(link_in(mails(ctx)[0]))
    ctx.expire_all()
    assert ctx.get(Ticket, ticket.id).requester_id == user.id


def test_email_change_link_opened_elsewhere_asks_to_sign_in(app, client, ctx, login):
    login("customer")
    change_email(client, "new@example.com")
    elsewhere = app.test_client()
    response = elsewhere.post(link_in(mails(ctx)[0]))
    assert response.status_code == 303 and response.headers["Location"] == "/login"
    assert user_by_email(ctx, "new@example.com") is not None


def test_a_password_change_revokes_pending_email_change_links(client, ctx, login):
    login("customer")
    change_email(client, "new@example.com")
    link = link_in(mails(ctx)[0])
    change_password(client)
    assert client.post(link).status_code == 410
    assert user_by_email(ctx, "new@example.com") is None


def test_saved_profile_says_so_in_the_language_just_chosen(client, login):
    login("customer")
    with (ROOT / "portal/translations/ko/LC_MESSAGES/messages.po").open("rb") as f:
        saved_ko = read_po(f, locale="ko").get("Your profile is saved.").string
    response = client.post(
        "/account/settings/profile",
        data={"name": "Mina Park", "locale": "ko"},
        follow_redirects=True,
    )
    html = response.get_data(as_text=True)
    assert 'lang="ko"' in html
    assert saved_ko in html and "Your profile is saved." not in html


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_password_change_reports_every_error_at_once(client, ctx, login, htmx):
    user = login("customer")
    response = client.post(
        "/account/settings/password",
        data={"current_password": "wrong-password", "password": "short", "confirm": "different"},
        headers={"HX-Request": "true"} if htmx else {},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert ("<html" in html) is not htmx and 'id="password-form"' in html
    assert 'id="current_password-error"' in html and "That is not your current password." in html
    assert 'id="password-error"' in html and "Use at least 10 characters." in html
    assert 'id="confirm-error"' in html and "The two passwords differ." in html
    ctx.expire_all()
    assert accounts.check_password(ctx.get(User, user.id), PASSWORD)


def test_email_change_reports_a_wrong_password_beside_a_bad_address(client, ctx, login):
    login("customer")
    response = change_email(client, "not-an-address", password="wrong password")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="new_email-error"' in html and "Enter a valid email address." in html
    assert 'id="email_password-error"' in html and "not your current password" in html
    assert mails(ctx) == []


@pytest.mark.parametrize("form", ["profile", "password", "email"])
def test_a_settings_forms_address_reloaded_opens_the_settings_page(client, login, form):
    login("customer")
    response = client.get(f"/account/settings/{form}")
    assert response.status_code == 303 and response.headers["Location"] == "/account/settings"


def test_a_settings_forms_address_reloaded_after_its_errors_keeps_nothing_typed(client, login):
    login("customer")
    refused = change_email(client, "new@example.com", password="wrong password")
    assert refused.status_code == 422  # shown at /account/settings/email, without JavaScript
    page = client.get("/account/settings/email", follow_redirects=True)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and page.request.path == "/account/settings"
    assert 'id="email-form"' in html and "new@example.com" not in html


def test_a_settings_forms_address_asks_a_visitor_to_sign_in(client):
    response = client.get("/account/settings/password")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/account/settings"


def test_settings_opened_from_a_help_center_keep_its_look_and_language(client, brand, login):
    """From the Korean Acme help center, Settings is Acme's page in Korean, its forms come
    back to it, and choosing English moves to the English help center's settings."""
    login("customer")
    home = client.get("/acme/ko/").get_data(as_text=True)
    assert 'href="/account/settings?brand=acme&amp;locale=ko"' in home
    page = client.get("/account/settings?brand=acme&locale=ko").get_data(as_text=True)
    assert '<html lang="ko"' in page and "Acme Help" in page
    assert 'action="/account/settings/profile?brand=acme&amp;locale=ko"' in page
    assert "/acme/ko/requests" in page  # the way back to "my requests"
    saved = client.post(
        "/account/settings/profile?brand=acme&locale=ko",
        data={"name": "Mina", "nickname": "", "locale": "en"},
    )
    assert saved.headers["Location"] == "/account/settings?brand=acme&locale=en"
    after = client.get(saved.headers["Location"]).get_data(as_text=True)
    assert '<html lang="en"' in after and "Your profile is saved." in after
    plain = client.get("/account/settings?brand=nowhere&locale=ko").get_data(as_text=True)
    assert "Acme Help" not in plain  # an unknown help center: the plain settings page
