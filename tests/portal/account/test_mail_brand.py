"""Account mail reached without ?brand= is branded with the account's brand, not "Portal"
(issue 15 item 4): the brand the account signed up with or last used."""

import pytest
from sqlalchemy import select

from kb.people import User
from tests.conftest import PASSWORD
from tests.portal.account.conftest import anonymous_ticket, link_in, mails


@pytest.fixture
def hanbit(make):
    return make.brand(slug="hanbit", locales=("ko", "en"), name="Hanbit Pay")


def confirmed_sign_up(client, ctx, brand_slug="hanbit", locale="en", email="mina@example.com"):
    data = {"name": "Mina Park", "email": email, "password": PASSWORD}
    assert client.post(f"/{brand_slug}/{locale}/signup", data=data).status_code == 303
    user = ctx.scalar(select(User).where(User.email == email))
    client.post(link_in(mails(ctx, to=email)[-1]))  # confirms and signs in
    client.post("/logout")
    return user


def test_reset_mail_without_brand_is_branded_with_the_brand_signed_up_with(client, ctx, hanbit):
    """Issue 15 item 4: /account/reset without ?brand= mails in the look and name of the
    brand the account signed up with, and its link opens in that help center."""
    confirmed_sign_up(client, ctx)
    response = client.post("/account/reset", data={"email": "mina@example.com"})
    assert response.status_code == 303
    mail = mails(ctx, to="mina@example.com")[-1]
    assert mail.subject == "Reset your password for Hanbit Pay"
    assert mail.sender.startswith("Hanbit Pay <")
    assert "Portal" not in mail.text_body and "Hanbit Pay" in mail.html_body
    assert "brand=hanbit" in link_in(mail)


def test_reset_mail_without_brand_follows_the_brand_of_the_latest_request(
    client, ctx, make, hanbit
):
    """Issue 15 item 4: an account that never signed up through a help center (made by an
    admin or by SSO) takes the brand it last sent a request to, in its own language."""
    other = make.brand(slug="norrsken", locales=("sv", "en"), name="Norrsken")
    user = make.user(role="customer", email="mina@example.com", password=PASSWORD)
    make.session.get(User, user.id).locale = "ko"
    make.session.commit()
    older = anonymous_ticket(make, other, "mina@example.com", "Old")
    newer = anonymous_ticket(make, hanbit, "mina@example.com", "New")
    for row, when in ((older, 1), (newer, 2)):
        row.requester_id = user.id
        row.created_at = row.created_at.replace(microsecond=when)
    make.session.commit()
    client.post("/account/reset", data={"email": "mina@example.com"})
    (mail,) = mails(ctx, to="mina@example.com")
    assert mail.subject == "Hanbit Pay 비밀번호 재설정"
    assert mail.sender.startswith("Hanbit Pay <")


def test_email_change_mail_is_branded_with_the_accounts_brand(client, ctx, hanbit):
    """Issue 15 item 4: the email-change mail from /account/settings (no ?brand=) is
    branded with the account's brand too."""
    confirmed_sign_up(client, ctx)
    client.post("/login", data={"email": "mina@example.com", "password": PASSWORD})
    response = client.post(
        "/account/settings/email",
        data={"new_email": "mina.park@example.com", "email_password": PASSWORD},
    )
    assert response.status_code == 303
    (mail,) = mails(ctx, to="mina.park@example.com")
    assert mail.subject == "Confirm your new email address for Hanbit Pay"
    assert mail.sender.startswith("Hanbit Pay <")


def test_reset_mail_of_an_account_without_any_brand_stays_neutral(client, ctx, make, hanbit):
    """Issue 15 item 4: an account that never used a brand still gets its mail."""
    make.user(role="customer", email="mina@example.com", password=PASSWORD)
    client.post("/account/reset", data={"email": "mina@example.com"})
    (mail,) = mails(ctx, to="mina@example.com")
    assert mail.subject == "Reset your password for Portal"
