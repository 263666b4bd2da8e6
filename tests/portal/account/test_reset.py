"""Password reset: /account/reset (same answer for every address) and /account/reset/<token>."""

from datetime import timedelta

from sqlalchemy import select

from kb import clock
from kb.people import User
from portal.desk import accounts
from portal.desk.models import AccountToken
from tests.conftest import PASSWORD
from tests.portal.account.conftest import (
    NEW_PASSWORD,
    link_in,
    mails,
    sign_up,
    signed_in,
    user_by_email,
)


def ask_reset(client, email, **kw):
    return client.post("/account/reset", data={"email": email}, **kw)


def new_password(client, link, password=NEW_PASSWORD, again=None):
    return client.post(link, data={"password": password, "confirm": again or password})


def test_reset_mails_a_link_that_sets_a_new_password_and_signs_in(client, ctx, make):
    user = make.user(role="customer", email="mina@example.com", password=PASSWORD)
    response = ask_reset(client, "Mina@Example.com")
    assert response.status_code == 303
    assert "If an account uses that address" in client.get(response.headers["Location"]).get_data(
        as_text=True
    )
    (mail,) = mails(ctx, to="mina@example.com")
    link = link_in(mail)
    assert link.startswith("/account/reset/")
    form = client.get(link)
    assert form.status_code == 200 and form.headers["Referrer-Policy"] == "no-referrer"
    done = new_password(client, link)
    assert done.status_code == 303
    assert signed_in(client)
    ctx.expire_all()
    changed = ctx.get(User, user.id)
    assert accounts.check_password(changed, NEW_PASSWORD)
    assert not accounts.check_password(changed, PASSWORD)


def test_unknown_email_gets_the_same_answer_and_no_mail(client, ctx, make):
    make.user(role="customer", email="mina@example.com")
    known = ask_reset(client, "mina@example.com")
    unknown = ask_reset(client, "nobody@example.com")
    assert known.status_code == unknown.status_code == 303
    assert known.headers["Location"] == unknown.headers["Location"]
    assert [m.recipient for m in mails(ctx)] == ["mina@example.com"]


def test_reset_ends_every_other_session(app, client, ctx, make):
    make.user(role="customer", email="mina@example.com", password=PASSWORD)
    other = app.test_client()
    assert (
        other.post("/login", data={"email": "mina@example.com", "password": PASSWORD}).status_code
        == 303
    )
    assert signed_in(other)
    ask_reset(client, "mina@example.com")
    new_password(client, link_in(mails(ctx)[0]))
    assert signed_in(client)
    assert not signed_in(other)


def test_reused_reset_link_is_refused(client, ctx, make):
    make.user(role="customer", email="mina@example.com", password=PASSWORD)
    ask_reset(client, "mina@example.com")
    link = link_in(mails(ctx)[0])
    assert new_password(client, link).status_code == 303
    again = new_password(client, link, password="yet another secret")
    assert again.status_code == 410
    assert "This link has expired" in again.get_data(as_text=True)
    assert accounts.check_password(user_by_email(ctx, "mina@example.com"), NEW_PASSWORD)


def test_expired_reset_link_is_refused_with_a_way_to_get_another(app, client, ctx, make):
    make.user(role="customer", email="mina@example.com", password=PASSWORD)
    ask_reset(client, "mina@example.com")
    link = link_in(mails(ctx)[0])
    clock.freeze(clock.now() + timedelta(hours=app.config["RESET_LINK_HOURS"], minutes=1))
    page = new_password(client, link)
    assert page.status_code == 410
    assert 'href="/account/reset"' in page.get_data(as_text=True)
    assert accounts.check_password(user_by_email(ctx, "mina@example.com"), PASSWORD)


def test_a_password_change_revokes_the_other_reset_links(client, ctx, make):
    make.user(role="customer", email="mina@example.com", password=PASSWORD)
    ask_reset(client, "mina@example.com")
    ask_reset(client, "mina@example.com")
    first, second = (link_in(m) for m in mails(ctx))
    assert new_password(client, second).status_code == 303
    assert client.get(first).status_code == 410
    ctx.expire_all()
    assert all(row.used_at is not None for row in ctx.scalars(select(AccountToken)))


def test_mismatched_or_short_new_passwords_are_refused(client, ctx, make):
    make.user(role="customer", email="mina@example.com", password=PASSWORD)
    ask_reset(client, "mina@example.com")
    link = link_in(mails(ctx)[0])
    differ = new_password(client, link, again="something else entirely")
    assert differ.status_code == 422 and "The two passwords differ" in differ.get_data(as_text=True)
    short = new_password(client, link, password="short")
    assert short.status_code == 422 and 'value="short"' not in short.get_data(as_text=True)
    as_email = new_password(client, link, password="MINA@example.com")
    assert as_email.status_code == 422
    assert new_password(client, link).status_code == 303  # the link still works after errors


def test_reset_is_rate_limited_per_email(app, client, ctx, make):
    make.user(role="customer", email="target@example.com")
    app.config["RESET_RATE_LIMIT"] = "2 per minute"
    try:
        codes = [
            ask_reset(
                client, "target@example.com", environ_base={"REMOTE_ADDR": f"10.8.0.{n}"}
            ).status_code
            for n in range(3)
        ]
    finally:
        app.config["RESET_RATE_LIMIT"] = "10000 per minute"
    assert codes == [303, 303, 429]
    assert len(mails(ctx)) == 2


def test_reset_from_the_sign_up_warning_confirms_an_unconfirmed_account(client, ctx, brand):
    """An address signed up twice: the owner's reset link proves the mailbox, so it confirms."""
    sign_up(client)
    sign_up(client)
    warning = mails(ctx, to="mina@example.com")[1]
    assert (
        new_password(client, link_in(warning), password="the owner's own secret").status_code == 303
    )
    user = user_by_email(ctx, "mina@example.com")
    assert user.email_confirmed_at is not None
    assert accounts.check_password(user, "the owner's own secret")
    assert not accounts.check_password(user, NEW_PASSWORD)  # the first sign-up's password is gone
    assert signed_in(client)


def test_reset_page_with_a_brand_shows_it(client, brand):
    html = client.get("/account/reset?brand=acme&locale=en").get_data(as_text=True)
    assert "Acme Help" in html
    assert client.get("/account/reset?brand=../x&locale=en").status_code == 200
