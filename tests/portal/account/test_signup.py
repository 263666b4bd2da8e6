"""Customer sign-up at /<brand>/<locale>/signup, confirmation links, claiming earlier requests."""

from datetime import timedelta

from sqlalchemy import select

from kb import clock
from kb.people import CustomerOrganization, User
from portal.desk import accounts
from portal.desk.models import AccountToken, Ticket, TicketShare
from tests.conftest import PASSWORD
from tests.portal.account.conftest import (
    NEW_PASSWORD,
    anonymous_ticket,
    link_in,
    mails,
    sign_up,
    signed_in,
    user_by_email,
)


def test_sign_up_mails_a_link_and_the_account_works_only_after_it(client, ctx, brand):
    response = sign_up(client)
    assert response.status_code == 303
    assert response.headers["Location"] == "/acme/en/signup?sent=1"
    assert "Check your mail to confirm your address" in client.get(
        response.headers["Location"]
    ).get_data(as_text=True)

    user = user_by_email(ctx, "mina@example.com")
    assert user.role == "customer" and user.email_confirmed_at is None and user.locale == "en"
    (mail,) = mails(ctx, to="mina@example.com")
    link = link_in(mail)
    assert link.startswith("/account/confirm/") and "brand=acme" in link and "locale=en" in link

    refused = client.post("/login", data={"email": "mina@example.com", "password": NEW_PASSWORD})
    assert refused.status_code == 403
    assert "confirm your email address" in refused.get_data(as_text=True)
    assert not signed_in(client)

    page = client.get(link)
    assert page.status_code == 200 and "Confirm my address" in page.get_data(as_text=True)
    assert page.headers["Referrer-Policy"] == "no-referrer"
    done = client.post(link)
    assert done.status_code == 303
    assert done.headers["Location"] == "/acme/en/requests"
    assert signed_in(client)
    assert user_by_email(ctx, "mina@example.com").email_confirmed_at is not None


def test_opening_the_confirm_link_does_not_use_it_up(client, ctx, brand):
    """Mail scanners open links: only the button (POST) confirms."""
    sign_up(client)
    link = link_in(mails(ctx)[0])
    client.get(link)
    client.get(link)
    assert user_by_email(ctx, "mina@example.com").email_confirmed_at is None
    assert client.post(link).status_code == 303


def test_sign_up_with_a_known_email_answers_the_same_and_warns_its_owner(client, ctx, make, brand):
    owner = make.user(role="customer", email="known@example.com", password=PASSWORD)
    new = sign_up(client, email="fresh@example.com")
    known = sign_up(client, email="Known@Example.com", name="Someone Else")
    assert known.status_code == new.status_code == 303
    assert known.headers["Location"] == new.headers["Location"]

    (warning,) = mails(ctx, to="known@example.com")
    assert "already have an account" in warning.subject
    assert "Someone tried to create an account" in warning.text_body
    assert link_in(warning).startswith("/account/reset/")
    ctx.expire_all()
    same = ctx.get(User, owner.id)
    assert same.name == owner.name and same.email_confirmed_at is not None
    assert accounts.check_password(same, PASSWORD)  # nothing about the account changed
    assert len(list(ctx.scalars(select(User).where(User.email == "known@example.com")))) == 1


def test_role_and_other_server_fields_cannot_be_posted(client, ctx, brand):
    org = CustomerOrganization(name="Big Co", domains=["big.example"])
    ctx.add(org)
    ctx.commit()
    sign_up(
        client,
        role="admin",
        email_confirmed_at="2020-01-01",
        customer_org_id=str(org.id),
        active="0",
        session_version="7",
    )
    user = user_by_email(ctx, "mina@example.com")
    assert user.role == "customer" and user.email_confirmed_at is None
    assert user.customer_org_id is None and user.active and user.session_version == 1


def test_sign_up_joins_the_organization_of_the_email_domain_once_confirmed(client, ctx, brand):
    ctx.add(CustomerOrganization(name="Other", domains=["other.example"]))
    org = CustomerOrganization(name="Big Co", domains=["x.example", "big.example"])
    ctx.add(org)
    ctx.commit()
    sign_up(client, email="lee@Big.Example")
    sign_up(client, email="kim@notbig.example")
    assert user_by_email(ctx, "lee@big.example").customer_org_id is None  # not yet
    for mail in mails(ctx):
        client.post(link_in(mail))
    assert user_by_email(ctx, "lee@big.example").customer_org_id == org.id
    assert user_by_email(ctx, "kim@notbig.example").customer_org_id is None


def test_short_password_or_the_email_as_password_is_refused(client, ctx, brand):
    short = sign_up(client, password="short")
    html = short.get_data(as_text=True)
    assert short.status_code == 422 and "at least 10 characters" in html
    assert 'value="Mina Park"' in html and 'value="mina@example.com"' in html
    assert 'value="short"' not in html
    same = sign_up(client, email="long.address@example.com", password="Long.Address@example.com")
    assert same.status_code == 422 and "cannot be your email address" in same.get_data(as_text=True)
    assert user_by_email(ctx, "mina@example.com") is None and mails(ctx) == []


def test_sign_up_htmx_post_returns_the_form_fragment(client, brand):
    response = client.post(
        "/acme/en/signup",
        data={"name": "Mina", "email": "bad", "password": "x"},
        headers={"HX-Request": "true"},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "<html" not in html and "signup-form" in html


def test_sign_up_page_shows_the_brand(client, brand):
    html = client.get("/acme/en/signup").get_data(as_text=True)
    assert "Acme Help" in html and "--brand:" in html
    assert client.get("/nope/en/signup").status_code == 404
    assert client.get("/acme/xx/signup").status_code == 404


def test_sign_up_is_rate_limited_per_email(app, client, ctx, brand):
    app.config["SIGNUP_RATE_LIMIT"] = "2 per minute"
    try:
        codes = [
            sign_up(
                client, email="target@example.com", environ_base={"REMOTE_ADDR": f"10.9.0.{n}"}
            ).status_code
            for n in range(3)
        ]
    finally:
        app.config["SIGNUP_RATE_LIMIT"] = "10000 per minute"
    assert codes == [303, 303, 429]


def test_sign_up_is_rate_limited_per_address(app, client, ctx, brand):
    app.config["SIGNUP_RATE_LIMIT"] = "2 per minute"
    try:
        responses = [
            client.post(
                "/acme/en/signup",
                data={"name": "N", "email": f"u{n}@example.com", "password": NEW_PASSWORD},
                environ_base={"REMOTE_ADDR": "10.9.1.1"},
            )
            for n in range(3)
        ]
    finally:
        app.config["SIGNUP_RATE_LIMIT"] = "10000 per minute"
    assert [r.status_code for r in responses] == [303, 303, 429]
    html = responses[-1].get_data(as_text=True)
    assert "Too many requests" in html and 'value="u2@example.com"' in html


def test_reused_confirm_link_is_refused(client, ctx, brand):
    sign_up(client)
    link = link_in(mails(ctx)[0])
    assert client.post(link).status_code == 303
    client.post("/logout")
    again = client.post(link)
    assert again.status_code == 410
    assert "This link has expired" in again.get_data(as_text=True)
    assert not signed_in(client)


def test_expired_confirm_link_is_refused_and_says_how_to_get_another(app, client, ctx, brand):
    sign_up(client)
    link = link_in(mails(ctx)[0])
    clock.freeze(clock.now() + timedelta(hours=app.config["CONFIRM_LINK_HOURS"], seconds=1))
    page = client.get(link)
    assert page.status_code == 410
    html = page.get_data(as_text=True)
    assert "get a new confirmation link" in html and "Acme Help" in html
    assert client.post(link).status_code == 410
    assert user_by_email(ctx, "mina@example.com").email_confirmed_at is None


def test_unknown_and_malformed_tokens_are_refused(client, ctx, count_queries):
    assert client.get("/account/confirm/" + "A" * 43).status_code == 404
    assert client.get("/account/confirm/not-a-token").status_code == 404
    with count_queries() as counter:
        assert accounts.check_token(ctx, "", "confirm", clock.now()).status == "invalid"
        assert accounts.check_token(ctx, "x" * 200, "confirm", clock.now()).status == "invalid"
        assert accounts.check_token(ctx, "a b" * 15, "reset", clock.now()).status == "invalid"
    assert counter.count == 0


def test_tokens_are_stored_hashed(client, ctx, brand):
    sign_up(client)
    token = link_in(mails(ctx)[0]).split("/")[3].split("?")[0]
    (row,) = ctx.scalars(select(AccountToken))
    assert token not in row.token_hash and len(row.token_hash) == 64
    assert row.purpose == "confirm" and row.brand_id == brand.id and row.locale == "en"


def test_a_confirm_token_is_not_a_reset_token(client, ctx, brand):
    sign_up(client)
    token = link_in(mails(ctx)[0]).split("/")[3].split("?")[0]
    assert client.get(f"/account/reset/{token}").status_code == 404


def test_resend_after_the_right_password_mails_a_new_link(client, ctx, brand):
    sign_up(client)
    client.post(
        "/login",
        data={"email": "mina@example.com", "password": NEW_PASSWORD, "next": "/acme/en/"},
    )
    response = client.post("/account/confirm/resend")
    assert response.status_code == 303
    first, second = mails(ctx, to="mina@example.com")
    assert link_in(first) != link_in(second)
    assert client.post(link_in(second)).status_code == 303 and signed_in(client)


def test_unconfirmed_account_with_a_wrong_password_gets_the_usual_answer(client, ctx, brand):
    sign_up(client)
    wrong = client.post("/login", data={"email": "mina@example.com", "password": "wrong one!"})
    assert wrong.status_code == 401
    html = wrong.get_data(as_text=True)
    assert "do not match" in html and "confirm your email" not in html
    client.post("/account/confirm/resend")
    assert len(mails(ctx)) == 1  # no new link without the right password


def test_anonymous_requests_become_the_customers_after_confirmation(client, ctx, make, brand):
    mine = anonymous_ticket(make, brand, "mina@example.com")
    other = anonymous_ticket(make, brand, "other@example.com")
    shared = anonymous_ticket(make, brand, "other@example.com", subject="Shared")
    ctx.add(TicketShare(ticket_id=shared.id, email="mina@example.com"))
    ctx.commit()
    sign_up(client)
    ctx.expire_all()
    assert ctx.get(Ticket, mine.id).requester_id is None  # not before the address is confirmed
    client.post(link_in(mails(ctx)[0]))
    user = user_by_email(ctx, "mina@example.com")
    assert ctx.get(Ticket, mine.id).requester_id == user.id
    assert ctx.get(Ticket, other.id).requester_id is None
    share = ctx.scalar(select(TicketShare).where(TicketShare.ticket_id == shared.id))
    assert share.user_id == user.id


def test_claim_requests_leaves_requests_that_have_a_requester(ctx, make, brand):
    owner = make.user(role="customer", email="mina@example.com")
    taken = anonymous_ticket(make, brand, "mina@example.com")
    taken.requester_id = owner.id
    ctx.commit()
    assert accounts.claim_requests(ctx, owner) == 0
    loose = anonymous_ticket(make, brand, "mina@example.com")
    assert accounts.claim_requests(ctx, owner) == 1
    ctx.commit()
    ctx.expire_all()
    assert ctx.get(Ticket, loose.id).requester_id == owner.id


def test_login_with_a_brand_next_shows_the_brand_and_its_sign_up(client, brand):
    html = client.get("/login?next=/acme/ko/requests").get_data(as_text=True)
    assert "Acme Help" in html and 'href="/acme/ko/signup"' in html
    plain = client.get("/login").get_data(as_text=True)
    assert "/signup" not in plain and "Acme Help" not in plain
    for bad in ("/../etc/ko/x", "/ACME/en/", "/acme/zz/", "//acme/en/"):
        assert client.get("/login", query_string={"next": bad}).status_code == 200
