"""Staff personal settings on /account/settings: name, nickname (what customers see on replies
and in mail), phone, language, email (with the confirmation link, as customers) and "receive
tickets" (round-robin passes over whoever turned it off). Customers get none of the staff
fields."""

import pytest
from sqlalchemy import select

from kb.people import User, display_name_for_customers
from portal.desk import assignment
from portal.desk.models import OutboxMail
from tests.conftest import PASSWORD
from tests.portal.account.conftest import link_in, mails, user_by_email


def save_profile(client, **data):
    form = {"name": "Jin Park", "nickname": "", "locale": "en", "phone": "", **data}
    return client.post("/account/settings/profile", data=form)


@pytest.fixture
def brand(make):
    return make.brand(slug="acme", locales=("en",), name="Acme")


def test_staff_see_phone_and_the_receive_tickets_switch(client, login):
    login("agent")
    page = client.get("/account/settings").get_data(as_text=True)
    assert 'name="phone"' in page and 'name="receives_tickets"' in page
    assert "Shown to customers on your replies and in mail" in page


def test_customers_do_not(client, login):
    login("customer")
    page = client.get("/account/settings").get_data(as_text=True)
    assert 'name="phone"' not in page and 'name="receives_tickets"' not in page
    assert "Shown to the support team instead of your name" in page


def test_staff_save_name_nickname_phone_language_and_the_switch(client, ctx, login):
    agent = login("agent")
    response = save_profile(
        client,
        name="Jin Park",
        nickname="Jin from Support",
        phone="+82 10-1234-5678",
        locale="ko",
    )  # the switch unticked: off
    assert response.status_code == 303
    ctx.expire_all()
    saved = ctx.get(User, agent.id)
    assert (saved.name, saved.nickname, saved.phone, saved.locale, saved.receives_tickets) == (
        "Jin Park",
        "Jin from Support",
        "+82 10-1234-5678",
        "ko",
        False,
    )
    save_profile(client, receives_tickets="y", phone="")
    ctx.expire_all()
    saved = ctx.get(User, agent.id)
    assert (saved.receives_tickets, saved.phone, saved.nickname) == (True, None, None)


def test_a_bad_phone_is_refused_and_what_was_typed_kept(client, ctx, login):
    agent = login("agent")
    response = save_profile(client, phone="call me maybe", nickname="Jin")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Use digits, with + ( ) - . or spaces if you like." in page
    assert 'value="call me maybe"' in page and 'value="Jin"' in page
    ctx.expire_all()
    assert ctx.get(User, agent.id).phone is None


def test_a_customer_cannot_set_staff_fields(client, ctx, login):
    customer = login("customer")
    assert save_profile(client, phone="555 0199").status_code == 303
    ctx.expire_all()
    saved = ctx.get(User, customer.id)
    assert saved.phone is None and saved.receives_tickets is True


def test_receive_tickets_off_in_settings_makes_round_robin_skip(client, ctx, make, brand):
    ann = make.user(role="agent", brands=[brand], name="Ann", password=PASSWORD)
    bo = make.user(role="agent", brands=[brand], name="Bo", password=PASSWORD)
    group = assignment.save_group(ctx, None, brand.id, "Billing", [ann.id, bo.id])
    ctx.commit()
    client.post("/login", data={"email": ann.email, "password": PASSWORD})
    assert save_profile(client, name="Ann").status_code == 303  # switch off
    ctx.expire_all()
    picks = [assignment.next_in_group(ctx, group.id).id for _ in range(3)]
    ctx.commit()
    assert picks == [bo.id, bo.id, bo.id]
    save_profile(client, name="Ann", receives_tickets="y")
    ctx.expire_all()
    assert {assignment.next_in_group(ctx, group.id).id for _ in range(2)} == {ann.id, bo.id}


def test_the_nickname_is_what_the_customer_sees(client, ctx, make, brand):
    agent = make.user(role="agent", brands=[brand], name="Jin Park", password=PASSWORD)
    customer = make.user(role="customer", email="mina@example.com", password=PASSWORD)
    ticket = make.ticket(brand, customer)
    client.post("/login", data={"email": agent.email, "password": PASSWORD})
    save_profile(client, name="Jin Park", nickname="Jin from Support", receives_tickets="y")
    assert display_name_for_customers(user_by_email(ctx, agent.email)) == "Jin from Support"
    response = client.post(
        f"/agent/tickets/{ticket.id}/reply",
        data={"body": "Please try again now.", "kind": "public", "status": "pending"},
    )
    assert response.status_code == 303
    (mail,) = ctx.scalars(select(OutboxMail).where(OutboxMail.recipient == customer.email))
    assert "Jin from Support replied to your request" in mail.text_body
    assert "Jin Park" not in mail.text_body + mail.html_body
    client.post("/logout")
    client.post("/login", data={"email": customer.email, "password": PASSWORD})
    page = client.get(f"/acme/en/requests/{ticket.id}").get_data(as_text=True)
    assert "<strong>Jin from Support</strong>" in page
    assert "Jin Park" not in page


def test_staff_change_their_email_with_the_confirmation_link(client, ctx, login):
    agent = login("agent")
    response = client.post(
        "/account/settings/email",
        data={"new_email": "jin@support.example", "email_password": PASSWORD},
    )
    assert response.status_code == 303
    (mail,) = mails(ctx)
    assert mail.recipient == "jin@support.example"
    assert user_by_email(ctx, agent.email) is not None  # unchanged until the link
    assert client.post(link_in(mail)).status_code == 303
    assert user_by_email(ctx, "jin@support.example").id == agent.id
