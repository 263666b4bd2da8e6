"""A request keeps its thread: the organization of the person who sent it, the article they came
from, and who can see it (issue 15)."""

import re

import pytest
from sqlalchemy import select

from kb.people import CustomerOrganization
from portal.desk.models import InquiryForm, Ticket
from tests.conftest import PASSWORD


@pytest.fixture
def brand(make):
    return make.brand(slug="acme", name="Acme", locales=("en", "ko"))


@pytest.fixture
def form(make, brand):
    form = InquiryForm(brand_id=brand.id, names={"en": "Question", "ko": "문의"})
    make.session.add(form)
    make.session.commit()
    return form


@pytest.fixture
def article(make, brand):
    section = make.section(make.category(brand))
    return make.article(section, {"en": "Refund policy", "ko": "환불 정책"})


def organization(make, shares=True, name="Daehan Logistics"):
    row = CustomerOrganization(name=name, domains=[], shares_requests=shares)
    make.session.add(row)
    make.session.commit()
    return row


def join(make, user, org):
    make.session.get(type(user), user.id).customer_org_id = org.id
    make.session.commit()


def send(client, form, locale="en", query="", **fields):
    url = f"/acme/{locale}/requests/new?form={form.id}{query}"
    html = client.get(url).get_data(as_text=True)
    data = {
        "key": re.search(r'name="key" value="([^"]+)"', html).group(1),
        "name": "Mina Park",
        "email": "mina@example.com",
        "subject": "Charged twice",
        "description": "My card was charged twice.",
        "action": "send",
    }
    for name in ("from", "article"):
        found = re.search(rf'name="{name}" value="([^"]*)"', html)
        if found:
            data[name] = found.group(1)
    data.update(fields)
    response = client.post(url, data=data)
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    return response


def test_request_from_an_organization_member_reaches_the_organization_tab(
    client, make, brand, form, login
):
    """Issue 15 item 37: a request a signed-in organization member sends through a form belongs
    to their organization, so colleagues see it under the Organization tab."""
    company = organization(make, shares=True)
    colleague = make.user(role="customer", email="colleague@example.com", password=PASSWORD)
    join(make, colleague, company)
    member = login("customer")
    join(make, member, company)
    send(client, form)
    ticket = make.session.scalar(select(Ticket))
    assert ticket.customer_org_id == company.id

    client.post("/logout")
    client.post("/login", data={"email": colleague.email, "password": PASSWORD})
    html = client.get("/acme/en/requests?tab=organization").get_data(as_text=True)
    assert "Charged twice" in html


def test_referring_article_is_recorded_from_the_article_through_the_forms_list(
    client, make, brand, form, article, login
):
    """Issue 15 item 12: article -> "Submit a request" -> a form records the article the
    request came from, and the agent sees its title, never "None"."""
    article_url = f"/acme/en/articles/{article.id}-refund-policy"
    forms_page = client.get("/acme/en/requests/new", headers={"Referer": article_url})
    html = forms_page.get_data(as_text=True)
    link = re.search(r'href="(/acme/en/requests/new\?[^"]*form=\d+[^"]*)"', html).group(1)
    link = link.replace("&amp;", "&")
    form_page = client.get(link, headers={"Referer": "http://localhost/acme/en/requests/new"})
    form_html = form_page.get_data(as_text=True)
    key = re.search(r'name="key" value="([^"]+)"', form_html).group(1)
    data = {
        "key": key,
        "name": "Mina Park",
        "email": "mina@example.com",
        "subject": "Charged twice",
        "description": "My card was charged twice.",
        "action": "send",
    }
    for name in ("from", "article"):
        found = re.search(rf'name="{name}" value="([^"]*)"', form_html)
        if found:
            data[name] = found.group(1)
    assert client.post(link, data=data).status_code == 303
    ticket = make.session.scalar(select(Ticket))
    assert ticket.details["referrer_article_id"] == article.id

    login("agent", brands=[brand])
    page = client.get(f"/agent/tickets/{ticket.id}").get_data(as_text=True)
    assert "Referring article" in page and "Refund policy" in page


@pytest.mark.parametrize("locale", ["en", "ko"])
def test_no_referring_article_never_shows_none(client, make, brand, form, login, locale):
    """Issue 15 item 12: without a referring article the agent's page shows no "None" line,
    in English or Korean."""
    send(client, form)
    ticket = make.session.scalar(select(Ticket))
    assert ticket.details["referrer_article_id"] is None
    agent = login("agent", brands=[brand])
    make.session.get(type(agent), agent.id).locale = locale
    make.session.commit()
    page = client.get(f"/agent/tickets/{ticket.id}").get_data(as_text=True)
    start = page.index('id="details-heading"')
    details = page[start : page.index("</section>", start)]
    assert "Werkzeug" in details  # the user agent is listed
    assert "None" not in details
    assert "Referring article" not in details and "유입 문서" not in details


def test_a_foreign_article_id_is_not_recorded_as_the_referrer(client, make, brand, form):
    """Issue 15 item 12: only an article of this brand is recorded as the referrer."""
    other = make.brand(slug="other")
    foreign = make.article(make.section(make.category(other)), {"en": "Elsewhere"})
    send(client, form, query=f"&article={foreign.id}", article=str(foreign.id))
    ticket = make.session.scalar(select(Ticket))
    assert ticket.details["referrer_article_id"] is None


@pytest.mark.parametrize("shares", [False, True])
def test_shared_with_block_names_the_organization_after_sharing_with_it(
    client, make, brand, form, login, shares
):
    """Issue 15 item 5: after sharing with the organization (or when it shares every request),
    the "Shared with" block says the organization can see it, not "Nobody else yet"."""
    company = organization(make, shares=shares)
    me = login("customer")
    join(make, me, company)
    send(client, form)
    ticket = make.session.scalar(select(Ticket))
    if not shares:
        response = client.post(
            f"/acme/en/requests/{ticket.id}/shares", data={"action": "organization"}
        )
        assert response.status_code == 303
    html = client.get(f"/acme/en/requests/{ticket.id}").get_data(as_text=True)
    block = html[html.index('id="sharing"') :]
    assert "Nobody else yet." not in block
    assert "Everyone in Daehan Logistics can see this request." in block

    # With htmx, the block swapped in says it too.
    if not shares:
        client.post(f"/acme/en/requests/{ticket.id}/shares", data={"action": "private"})
        fragment = client.post(
            f"/acme/en/requests/{ticket.id}/shares",
            data={"action": "organization"},
            headers={"HX-Request": "true"},
        ).get_data(as_text=True)
        assert "<html" not in fragment
        assert "Everyone in Daehan Logistics can see this request." in fragment
        assert "Nobody else yet." not in fragment


def test_shared_with_block_says_nobody_for_a_private_request(client, make, brand, form, login):
    """Issue 15 item 5: a request shared with nobody still says so."""
    company = organization(make, shares=False)
    me = login("customer")
    join(make, me, company)
    send(client, form)
    ticket = make.session.scalar(select(Ticket))
    html = client.get(f"/acme/en/requests/{ticket.id}").get_data(as_text=True)
    assert "Nobody else yet." in html and "can see this request" not in html
