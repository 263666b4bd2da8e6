"""My requests and the request page for signed-in customers: scope, tabs, pages, actions."""

import re
import secrets
from datetime import timedelta
from html import unescape

import pytest
from sqlalchemy import select

from kb import clock
from kb.people import CustomerOrganization
from portal.desk.models import OutboxMail, Ticket, TicketMessage, TicketShare


@pytest.fixture
def brand(make):
    return make.brand(slug="acme", locales=("en", "ko"))


def org(make, name="Daehan Logistics", shares=False):
    found = CustomerOrganization(name=name, domains=[], shares_requests=shares)
    make.session.add(found)
    make.session.commit()
    return found


def ticket(make, brand, requester, subject="Card declined", status="open", **fields):
    now = fields.pop("now", clock.now())
    row = Ticket(
        brand_id=brand.id,
        locale="en",
        subject=subject,
        description=f"About: {subject}",
        status=status,
        requester_id=requester.id if requester else None,
        requester_name=requester.name if requester else "Visitor",
        requester_email=requester.email if requester else "visitor@example.com",
        customer_org_id=requester.customer_org_id if requester else None,
        link_secret=secrets.token_hex(16),
        created_at=now,
        updated_at=now,
        **fields,
    )
    make.session.add(row)
    make.session.commit()
    return row


def customer(make, email, organization=None):
    user = make.user(role="customer", email=email)
    if organization is not None:
        user.customer_org_id = organization.id
        make.session.commit()
    return user


def subjects(html: str) -> list[str]:
    found = re.findall(r'<td><a href="/acme/en/requests/\d+">([^<]+)</a>', html)
    return [unescape(s) for s in found]


def test_anonymous_visitor_is_asked_to_sign_in(client, brand):
    response = client.get("/acme/en/requests")
    assert response.status_code == 302
    assert "/login?next=/acme/en/requests" in response.headers["Location"]


def test_my_requests_lists_mine_in_this_brand_only(client, make, brand, login):
    me = login("customer")
    other_brand = make.brand(slug="other")
    ticket(make, brand, me, "Mine here")
    ticket(make, other_brand, me, "Mine elsewhere")
    ticket(make, brand, customer(make, "someone@example.com"), "Someone else's")
    html = client.get("/acme/en/requests").get_data(as_text=True)
    assert subjects(html) == ["Mine here"]


def test_shared_and_organization_tabs(client, make, brand, login):
    company = org(make, shares=True)
    me = login("customer")
    me_row = make.session.get(type(me), me.id)
    me_row.customer_org_id = company.id
    make.session.commit()
    colleague = customer(make, "colleague@example.com", company)
    outsider = customer(make, "outsider@example.com", org(make, "Fjällbyn AB"))
    shared = ticket(make, brand, outsider, "Outsider shared with me")
    make.session.add(TicketShare(ticket_id=shared.id, email=me.email, user_id=me.id))
    make.session.commit()
    ticket(make, brand, colleague, "Colleague's request")
    ticket(make, brand, outsider, "Outsider's private request")
    assert subjects(client.get("/acme/en/requests?tab=shared").get_data(as_text=True)) == [
        "Outsider shared with me"
    ]
    assert subjects(client.get("/acme/en/requests?tab=organization").get_data(as_text=True)) == [
        "Colleague's request"
    ]


def test_organization_tab_is_404_without_an_organization(client, brand, login):
    login("customer")
    assert client.get("/acme/en/requests?tab=organization").status_code == 404


@pytest.mark.parametrize(
    "shares, shared_with_org, visible",
    [(True, False, True), (False, False, False), (False, True, True)],
)
def test_colleague_sees_a_request_when_the_organization_shares_it(
    client, make, brand, login, shares, shared_with_org, visible
):
    company = org(make, shares=shares)
    colleague = customer(make, "colleague@example.com", company)
    row = ticket(make, brand, colleague, "Colleague's", shared_with_org=shared_with_org)
    me = login("customer")
    make.session.get(type(me), me.id).customer_org_id = company.id
    make.session.commit()
    assert client.get(f"/acme/en/requests/{row.id}").status_code == (200 if visible else 404)


def test_another_customers_request_is_404_like_an_unknown_id(client, make, brand, login):
    row = ticket(make, brand, customer(make, "someone@example.com"), "Not mine")
    login("customer")
    assert client.get(f"/acme/en/requests/{row.id}").status_code == 404
    assert client.get("/acme/en/requests/999999").status_code == 404
    assert client.post(f"/acme/en/requests/{row.id}", data={"body": "hi"}).status_code == 404
    assert client.post(f"/acme/en/requests/{row.id}/solve").status_code == 404
    assert (
        client.post(f"/acme/en/requests/{row.id}/shares", data={"emails": "a@b.cd"}).status_code
        == 404
    )


def test_requester_solves_and_rates(client, ctx, make, brand, login):
    me = login("customer")
    row = ticket(make, brand, me)
    page = client.get(f"/acme/en/requests/{row.id}").get_data(as_text=True)
    assert "This is solved" in page and "How did we do?" not in page
    assert client.post(f"/acme/en/requests/{row.id}/solve").status_code == 303
    ctx.refresh(ctx.get(Ticket, row.id))
    assert ctx.get(Ticket, row.id).status == "solved"
    client.post(f"/acme/en/requests/{row.id}/rating", data={"score": "good", "comment": "Fast!"})
    saved = ctx.get(Ticket, row.id)
    ctx.refresh(saved)
    assert (saved.satisfaction, saved.satisfaction_comment) == ("good", "Fast!")


def test_rating_an_open_request_is_refused(client, ctx, make, brand, login):
    me = login("customer")
    row = ticket(make, brand, me)
    client.post(f"/acme/en/requests/{row.id}/rating", data={"score": "bad"})
    assert ctx.get(Ticket, row.id).satisfaction is None


def test_someone_it_is_shared_with_replies_but_cannot_solve(client, ctx, make, brand, login):
    owner = customer(make, "owner@example.com")
    row = ticket(make, brand, owner)
    me = login("customer")
    make.session.add(TicketShare(ticket_id=row.id, email=me.email, user_id=me.id))
    make.session.commit()
    assert (
        client.post(f"/acme/en/requests/{row.id}", data={"body": "Same here."}).status_code == 303
    )
    assert client.post(f"/acme/en/requests/{row.id}/solve").status_code == 403
    assert (
        ctx.scalar(select(TicketMessage.body).where(TicketMessage.ticket_id == row.id))
        == "Same here."
    )


def test_reply_soon_after_solving_reopens(client, ctx, make, brand, login):
    me = login("customer")
    row = ticket(make, brand, me, status="solved", solved_at=clock.now() - timedelta(days=1))
    client.post(f"/acme/en/requests/{row.id}", data={"body": "Still broken."})
    ctx.expire_all()
    assert ctx.get(Ticket, row.id).status == "open"


def test_reply_long_after_solving_starts_a_linked_follow_up(client, ctx, make, brand, login):
    me = login("customer")
    old = ticket(make, brand, me, status="solved", solved_at=clock.now() - timedelta(days=30))
    response = client.post(f"/acme/en/requests/{old.id}", data={"body": "It happened again."})
    follow_up = ctx.scalar(select(Ticket).where(Ticket.follow_up_of_id == old.id))
    assert follow_up is not None and follow_up.description == "It happened again."
    assert response.headers["Location"].startswith(f"/acme/en/requests/{follow_up.id}")
    assert ctx.get(Ticket, old.id).status == "solved"
    page = client.get(f"/acme/en/requests/{follow_up.id}").get_data(as_text=True)
    assert f"Follow-up to request #{old.id}" in page


def test_share_by_email_mails_them_and_can_be_removed(client, ctx, make, brand, login):
    me = login("customer")
    row = ticket(make, brand, me)
    response = client.post(
        f"/acme/en/requests/{row.id}/shares", data={"emails": "Kim@Example.com, lee@example.com"}
    )
    assert response.status_code == 303
    shares = ctx.scalars(select(TicketShare).where(TicketShare.ticket_id == row.id)).all()
    assert sorted(s.email for s in shares) == ["kim@example.com", "lee@example.com"]
    assert sorted(m.recipient for m in ctx.scalars(select(OutboxMail))) == [
        "kim@example.com",
        "lee@example.com",
    ]
    client.post(f"/acme/en/requests/{row.id}/shares/{shares[0].id}/delete")
    assert len(ctx.scalars(select(TicketShare)).all()) == 1


def test_bad_share_address_comes_back_with_the_text(client, ctx, make, brand, login):
    me = login("customer")
    row = ticket(make, brand, me)
    response = client.post(f"/acme/en/requests/{row.id}/shares", data={"emails": "kim@, lee"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Enter email addresses like name@example.com." in html and 'value="kim@, lee"' in html
    assert ctx.scalars(select(TicketShare)).all() == []


def test_keyset_pages_hold_every_request_once(client, make, brand, login, count_queries):
    me = login("customer")
    start = clock.now() - timedelta(days=1)
    for n in range(45):
        ticket(make, brand, me, f"Request {n:02d}", now=start + timedelta(minutes=n))
    seen, url, queries = [], "/acme/en/requests", []
    while url:
        with count_queries() as counted:
            html = client.get(url).get_data(as_text=True)
        queries.append(counted.count)
        seen += subjects(html)
        found = re.search(r'href="([^"]+)"[^>]*rel="next"', html)
        url = found.group(1).replace("&amp;", "&") if found else None
    assert seen == [f"Request {n:02d}" for n in reversed(range(45))]
    assert len(set(queries)) == 1  # the same number of queries on every page


def test_filters_by_status_and_text(client, make, brand, login):
    me = login("customer")
    ticket(make, brand, me, "Card declined", status="pending")
    ticket(make, brand, me, "Refund please", status="solved")
    ticket(make, brand, me, "Card stolen", status="open")
    html = client.get("/acme/en/requests?status=awaiting").get_data(as_text=True)
    assert subjects(html) == ["Card declined"]
    html = client.get("/acme/en/requests?q=card&sort=oldest").get_data(as_text=True)
    assert subjects(html) == ["Card declined", "Card stolen"]


def test_htmx_list_request_returns_only_the_list(client, make, brand, login):
    me = login("customer")
    ticket(make, brand, me)
    html = client.get("/acme/en/requests?status=open", headers={"HX-Request": "true"}).get_data(
        as_text=True
    )
    assert html.lstrip().startswith('<div id="request-list">') and "<html" not in html


HTMX = {"HX-Request": "true"}


def test_share_with_htmx_says_so_in_the_block_and_not_on_the_next_page(
    client, ctx, make, brand, login
):
    me = login("customer")
    row = ticket(make, brand, me)
    response = client.post(
        f"/acme/en/requests/{row.id}/shares", data={"emails": "kim@example.com"}, headers=HTMX
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in html and html.lstrip().startswith('<section id="sharing"')
    assert "Shared with 1 person." in html and "kim@example.com" in html
    with client.session_transaction() as session:
        assert not session.get("_flashes")
    client.post(f"/acme/en/requests/{row.id}/solve")
    page = client.get(f"/acme/en/requests/{row.id}").get_data(as_text=True)
    assert "Marked as solved." in page and "Shared with 1 person." not in page


def test_unshare_with_htmx_says_so_in_the_block_and_not_on_the_next_page(
    client, ctx, make, brand, login
):
    me = login("customer")
    row = ticket(make, brand, me)
    share = TicketShare(ticket_id=row.id, email="kim@example.com")
    make.session.add(share)
    make.session.commit()
    response = client.post(f"/acme/en/requests/{row.id}/shares/{share.id}/delete", headers=HTMX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html
    assert "No longer shared with that person." in html and "kim@example.com" not in html
    page = client.get(f"/acme/en/requests/{row.id}").get_data(as_text=True)
    assert "No longer shared with that person." not in page


def test_share_without_javascript_says_so_once_on_the_page(client, ctx, make, brand, login):
    me = login("customer")
    row = ticket(make, brand, me)
    response = client.post(f"/acme/en/requests/{row.id}/shares", data={"emails": "kim@example.com"})
    assert response.status_code == 303
    assert response.headers["Location"] == f"/acme/en/requests/{row.id}#sharing"
    page = client.get(f"/acme/en/requests/{row.id}").get_data(as_text=True)
    assert "<html" in page and "Shared with 1 person." in page
    again = client.get(f"/acme/en/requests/{row.id}").get_data(as_text=True)
    assert "Shared with 1 person." not in again


def test_bad_share_address_with_htmx_comes_back_in_the_block(client, ctx, make, brand, login):
    me = login("customer")
    row = ticket(make, brand, me)
    response = client.post(
        f"/acme/en/requests/{row.id}/shares", data={"emails": "kim@"}, headers=HTMX
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "<html" not in html
    assert 'id="share-error"' in html and 'value="kim@"' in html


def test_the_share_address_reloaded_after_a_refused_share_opens_the_request(
    client, make, brand, login
):
    me = login("customer")
    row = ticket(make, brand, me)
    refused = client.post(f"/acme/en/requests/{row.id}/shares", data={"emails": "kim@"})
    assert refused.status_code == 422  # the page, shown at .../shares without JavaScript
    response = client.get(f"/acme/en/requests/{row.id}/shares")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/acme/en/requests/{row.id}#sharing"
    assert client.get(response.headers["Location"]).status_code == 200


def test_the_share_address_of_someone_elses_request_is_404(client, make, brand, login):
    row = ticket(make, brand, customer(make, "someone@example.com"), "Not mine")
    login("customer")
    assert client.get(f"/acme/en/requests/{row.id}/shares").status_code == 404


def form_classes(html: str) -> dict[str, str]:
    """The class attribute of each form on a page, by the form's id or action."""
    found = {}
    for tag in re.findall(r"<form\b[^>]*>", html):
        key = re.search(r'\bid="([^"]+)"', tag) or re.search(r'\baction="([^"]+)"', tag)
        classes = re.search(r'\bclass="([^"]*)"', tag)
        found[unescape(key.group(1))] = classes.group(1).split() if classes else []
    return found


def test_the_request_pages_forms_lay_out_their_fields_stacked(client, make, brand, login):
    me = login("customer")
    row = ticket(make, brand, me, status="solved", solved_at=clock.now())
    forms = form_classes(client.get(f"/acme/en/requests/{row.id}").get_data(as_text=True))
    assert "stacked" in forms["reply-form"]
    assert "stacked" in forms["share-form"]
    assert "stacked" in forms[f"/acme/en/requests/{row.id}/rating"]
