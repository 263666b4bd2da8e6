"""Canned responses: personal and per brand, who may change which, placeholders filled on
insert (never evaluated), and inserting into the reply box with htmx and without JavaScript."""

import re

import pytest
from sqlalchemy import select

from portal.desk import placeholders
from portal.desk.models import CannedResponse, TicketMessage
from tests.conftest import PASSWORD
from tests.portal.agent.test_ticket import customer_client, new_ticket


@pytest.fixture
def brand(make):
    return make.brand(slug="acme", name="Acme")


@pytest.fixture
def requester(make):
    return make.user(role="customer", email="mina@example.com", name="Mina", password=PASSWORD)


@pytest.fixture
def ticket(make, brand, requester):
    return new_ticket(make, brand, requester, subject="Card declined")


def response(make, brand, title="Hello", body="Hi {{requester_name}}", owner=None):
    row = CannedResponse(
        brand_id=brand.id, owner_id=owner.id if owner else None, title=title, body=body
    )
    make.session.add(row)
    make.session.commit()
    return row


def rows(make):
    make.session.expire_all()
    return make.session.scalars(select(CannedResponse).order_by(CannedResponse.id)).all()


# --- the list and the form ------------------------------------------------------------------


def test_list_shows_my_personal_and_my_brands_shared_responses_only(client, make, brand, login):
    me = login("agent", brands=[brand])
    other_brand = make.brand(slug="other")
    colleague = make.user(role="agent", brands=[brand])
    response(make, brand, "Mine", owner=me)
    response(make, brand, "Shared")
    response(make, brand, "Colleague's", owner=colleague)
    response(make, other_brand, "Elsewhere")
    html = client.get("/agent/canned").get_data(as_text=True)
    assert "Mine" in html and "Shared" in html
    assert "Colleague" not in html and "Elsewhere" not in html


def test_create_personal_response_redirects_with_303(client, make, brand, login):
    me = login("agent", brands=[brand])
    form = client.get("/agent/canned/new").get_data(as_text=True)
    assert "Just me" in form and "Acme" in form
    answer = client.post(
        "/agent/canned/new", data={"title": " Refund ", "body": "Done.", "scope": "me"}
    )
    assert answer.status_code == 303 and answer.headers["Location"] == "/agent/canned"
    (row,) = rows(make)
    assert (row.title, row.body, row.owner_id, row.brand_id) == ("Refund", "Done.", me.id, brand.id)


def test_create_brand_response_is_shared(client, make, brand, login):
    login("agent", brands=[brand])
    client.post("/agent/canned/new", data={"title": "T", "body": "B", "scope": str(brand.id)})
    (row,) = rows(make)
    assert (row.owner_id, row.brand_id) == (None, brand.id)


def test_invalid_form_shows_errors_beside_fields_and_keeps_values(client, make, brand, login):
    login("agent", brands=[brand])
    answer = client.post("/agent/canned/new", data={"title": "x" * 201, "body": "", "scope": "me"})
    html = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert "The title is too long." in html and "Write the response." in html
    assert "x" * 201 in html
    too_long = client.post(
        "/agent/canned/new", data={"title": "T", "body": "b" * 10_001, "scope": "me"}
    )
    assert "The text is too long." in too_long.get_data(as_text=True)
    assert rows(make) == []


def test_cannot_share_with_a_brand_the_agent_is_not_in(client, make, brand, login):
    login("agent", brands=[brand])
    other = make.brand(slug="other")
    answer = client.post("/agent/canned/new", data={"title": "T", "body": "B", "scope": other.id})
    assert answer.status_code == 422
    assert rows(make) == []


def test_edit_my_response(client, make, brand, login):
    me = login("agent", brands=[brand])
    row = response(make, brand, owner=me)
    assert "Hello" in client.get(f"/agent/canned/{row.id}").get_data(as_text=True)
    answer = client.post(
        f"/agent/canned/{row.id}",
        data={"title": "Bye", "body": "See you", "scope": str(brand.id)},
    )
    assert answer.status_code == 303
    (saved,) = rows(make)
    assert (saved.title, saved.body, saved.owner_id) == ("Bye", "See you", None)


def test_any_agent_of_the_brand_edits_its_shared_response(client, make, brand, login):
    login("agent", brands=[brand])
    row = response(make, brand)
    answer = client.post(
        f"/agent/canned/{row.id}", data={"title": "New", "body": "B", "scope": str(brand.id)}
    )
    assert answer.status_code == 303 and rows(make)[0].title == "New"


def test_admin_edits_any_brands_shared_response(client, make, brand, login):
    login("admin")
    row = response(make, brand)
    assert client.get(f"/agent/canned/{row.id}").status_code == 200


def test_delete_asks_first_then_deletes(client, make, brand, login):
    me = login("agent", brands=[brand])
    row = response(make, brand, owner=me)
    ask = client.get(f"/agent/canned/{row.id}/delete")
    assert ask.status_code == 200 and 'name="confirmed" value="yes"' in ask.get_data(as_text=True)
    unconfirmed = client.post(f"/agent/canned/{row.id}/delete")
    assert unconfirmed.status_code == 200 and len(rows(make)) == 1
    done = client.post(f"/agent/canned/{row.id}/delete", data={"confirmed": "yes"})
    assert done.status_code == 303 and rows(make) == []


# --- scope rules ----------------------------------------------------------------------------


def test_another_agents_personal_response_is_404(client, make, brand, login):
    login("agent", brands=[brand])
    row = response(make, brand, owner=make.user(role="agent", brands=[brand]))
    assert client.get(f"/agent/canned/{row.id}").status_code == 404
    edit = client.post(f"/agent/canned/{row.id}", data={"title": "T", "body": "B", "scope": "me"})
    assert edit.status_code == 404
    delete = client.post(f"/agent/canned/{row.id}/delete", data={"confirmed": "yes"})
    assert delete.status_code == 404
    assert len(rows(make)) == 1


def test_another_brands_response_is_404(client, make, brand, login):
    login("agent", brands=[brand])
    row = response(make, make.brand(slug="other"))
    assert client.get(f"/agent/canned/{row.id}").status_code == 404
    delete = client.post(f"/agent/canned/{row.id}/delete", data={"confirmed": "yes"})
    assert delete.status_code == 404
    assert len(rows(make)) == 1


@pytest.mark.parametrize(
    "method, path",
    [
        ("get", "/agent/canned"),
        ("get", "/agent/canned/new"),
        ("post", "/agent/canned/new"),
        ("get", "/agent/canned/{id}"),
        ("post", "/agent/canned/{id}"),
        ("get", "/agent/canned/{id}/delete"),
        ("post", "/agent/canned/{id}/delete"),
        ("get", "/agent/tickets/{ticket}/canned/{id}"),
        ("get", "/agent/tickets/{ticket}/canned?canned={id}"),
    ],
)
def test_customer_gets_403_and_anonymous_is_sent_to_sign_in(
    app, client, make, brand, ticket, requester, method, path
):
    row = response(make, brand)
    url = path.format(id=row.id, ticket=ticket.id)
    anonymous = getattr(client, method)(url)
    assert anonymous.status_code == 302 and "/login?next=" in anonymous.headers["Location"]
    customer = customer_client(app, requester)
    assert getattr(customer, method)(url).status_code == 403


# --- placeholders ---------------------------------------------------------------------------


def test_fill_replaces_known_placeholders_and_leaves_others(make, brand, ticket):
    agent = make.user(role="agent", name="Jin Park")
    body = (
        "Hi {{requester_name}} <{{requester_email}}>, #{{ticket_id}} {{subject}}. "
        "{{agent_name}} {{unknown}} {{ 7*7 }} {{requester_name }}"
    )
    # A known name with spaces inside the braces is the same placeholder (one renderer for
    # canned responses and every reply path: portal.desk.placeholders).
    assert placeholders.fill(body, ticket, agent) == (
        f"Hi Mina <mina@example.com>, #{ticket.id} Card declined. "
        "Jin Park {{unknown}} {{ 7*7 }} Mina"
    )


def test_fill_uses_the_nickname_and_never_refills_values(make, brand, requester):
    ticket = new_ticket(make, brand, requester, subject="{{agent_name}} {{7*7}}")
    agent = make.user(role="agent", name="Jin Park")
    agent.nickname = "Jin"
    assert placeholders.fill("{{subject}} / {{agent_name}}", ticket, agent) == (
        "{{agent_name}} {{7*7}} / Jin"
    )


# --- inserting into the reply box -----------------------------------------------------------


def test_ticket_page_offers_personal_and_the_tickets_brand_responses(
    client, make, brand, ticket, login
):
    me = login("agent", brands=[brand])
    response(make, brand, "Mine", owner=me)
    response(make, brand, "Shared")
    response(make, make.brand(slug="other"), "Elsewhere")
    html = client.get(f"/agent/tickets/{ticket.id}").get_data(as_text=True)
    assert 'id="canned-select"' in html and "Insert" in html
    assert "Mine" in html and "Shared" in html and "Elsewhere" not in html


def test_insert_with_htmx_returns_the_filled_textarea_after_the_text_typed(
    client, make, brand, ticket, login
):
    login("agent", brands=[brand])
    row = response(make, brand, body="Hi {{requester_name}}, {{ 7*7 }}")
    answer = client.get(
        f"/agent/tickets/{ticket.id}/canned/{row.id}",
        query_string={"body": "Typed first"},
        headers={"HX-Request": "true"},
    )
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200 and "<html" not in html
    assert html.startswith("<textarea") and 'id="reply-body"' in html
    assert "Typed first\n\nHi Mina, {{ 7*7 }}</textarea>" in html
    assert "49" not in html


def test_insert_with_htmx_takes_the_id_from_the_select(client, make, brand, ticket, login):
    login("agent", brands=[brand])
    row = response(make, brand, body="#{{ticket_id}}")
    answer = client.get(
        f"/agent/tickets/{ticket.id}/canned",
        query_string={"canned": row.id, "body": ""},
        headers={"HX-Request": "true"},
    )
    assert f">#{ticket.id}</textarea>" in answer.get_data(as_text=True)


def test_insert_without_htmx_answers_the_whole_page(client, make, brand, ticket, login):
    login("agent", brands=[brand])
    row = response(make, brand)
    html = client.get(f"/agent/tickets/{ticket.id}/canned/{row.id}").get_data(as_text=True)
    assert "<html" in html and ">Hi Mina</textarea>" in html


def test_insert_without_javascript_prefills_the_reply_box_on_the_ticket_page(
    client, make, brand, ticket, login
):
    login("agent", brands=[brand])
    row = response(make, brand, body="Hello {{requester_name}}, about {{subject}}")
    answer = client.get(f"/agent/tickets/{ticket.id}?canned={row.id}")
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200 and "<html" in html
    assert ">Hello Mina, about Card declined</textarea>" in html


def test_insert_without_javascript_keeps_what_was_typed_and_sends_nothing(
    client, make, brand, ticket, login
):
    login("agent", brands=[brand])
    row = response(make, brand, body="Regards, the team")
    answer = client.post(
        f"/agent/tickets/{ticket.id}/reply",
        data={"body": "Your card works again.", "canned": str(row.id), "action": "insert_canned"},
    )
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert re.search(r">Your card works again\.\s+Regards, the team</textarea>", html)
    assert make.session.scalar(select(TicketMessage)) is None


@pytest.mark.parametrize("whose", ["colleague", "other_brand", "missing"])
def test_insert_of_a_response_not_usable_for_the_ticket_is_404(
    client, make, brand, ticket, login, whose
):
    login("agent", brands=[brand])
    if whose == "colleague":
        canned_id = response(make, brand, owner=make.user(role="agent", brands=[brand])).id
    elif whose == "other_brand":
        canned_id = response(make, make.brand(slug="other")).id
    else:
        canned_id = 999_999
    headers = {"HX-Request": "true"}
    assert client.get(f"/agent/tickets/{ticket.id}/canned/{canned_id}").status_code == 404
    hx = client.get(f"/agent/tickets/{ticket.id}/canned/{canned_id}", headers=headers)
    assert hx.status_code == 404
    assert client.get(f"/agent/tickets/{ticket.id}?canned={canned_id}").status_code == 404


def test_insert_into_another_brands_ticket_is_404(client, make, brand, ticket, login):
    me = login("agent", brands=[make.brand(slug="other")])
    row = response(make, brand, owner=me)
    assert client.get(f"/agent/tickets/{ticket.id}/canned/{row.id}").status_code == 404
    assert client.get(f"/agent/tickets/{ticket.id}?canned={row.id}").status_code == 404
