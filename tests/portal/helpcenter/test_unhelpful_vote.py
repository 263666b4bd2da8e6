"""After "No" on "Was this article helpful?": related articles and the way to a person, with
the article carried to the request form as its referrer (issue 15 item 31)."""

import re

import pytest
from sqlalchemy import select

from portal.desk.models import InquiryForm, Ticket


@pytest.fixture
def brand(make):
    return make.brand(slug="acme", name="Acme", locales=("en", "ko"))


@pytest.fixture
def section(make, brand):
    return make.section(make.category(brand))


@pytest.fixture
def article(make, section):
    return make.article(section, {"en": "Reset your password", "ko": "비밀번호 재설정"})


@pytest.fixture
def neighbour(make, section):
    return make.article(section, {"en": "Change your email", "ko": "이메일 변경"})


@pytest.fixture
def form(make, brand):
    form = InquiryForm(brand_id=brand.id, names={"en": "Account question", "ko": "계정 문의"})
    make.session.add(form)
    make.session.commit()
    return form


def vote_block(html: str) -> str:
    start = html.index('id="vote"')
    return html[start : html.index("</section>", start)]


def contact_link(block: str) -> str:
    return re.search(r'href="(/acme/\w+/requests/new\?article=\d+)"', block).group(1)


def test_no_vote_with_htmx_offers_related_articles_and_a_person(client, article, neighbour, form):
    """Issue 15 item 31: the block swapped in after "No" lists the related articles and
    links to the request form with the article as the referrer."""
    response = client.post(
        f"/acme/en/articles/{article.id}/vote",
        data={"helpful": "no"},
        headers={"HX-Request": "true"},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html
    block = vote_block(html)
    assert "Change your email" in block
    assert contact_link(block) == f"/acme/en/requests/new?article={article.id}"


def test_no_vote_without_javascript_offers_the_same_on_the_page(client, article, neighbour, form):
    """Issue 15 item 31: without JavaScript the article page shown after the vote offers
    them too, in the page's language."""
    response = client.post(f"/acme/ko/articles/{article.id}/vote", data={"helpful": "no"})
    assert response.status_code == 303
    html = client.get(response.headers["Location"].split("#")[0]).get_data(as_text=True)
    block = vote_block(html)
    assert "이메일 변경" in block
    assert contact_link(block) == f"/acme/ko/requests/new?article={article.id}"


def test_yes_vote_offers_no_way_to_a_person(client, article, neighbour, form):
    """Issue 15 item 31: a helpful article just gets thanks."""
    html = client.post(
        f"/acme/en/articles/{article.id}/vote",
        data={"helpful": "yes"},
        headers={"HX-Request": "true"},
    ).get_data(as_text=True)
    assert "Thank you for your feedback." in html
    assert "requests/new" not in vote_block(html)


def test_the_way_to_a_person_records_the_article_as_the_referrer(
    client, make, article, neighbour, form
):
    """Issue 15 items 31 and 12: the request sent after "No" names the article."""
    html = client.post(
        f"/acme/en/articles/{article.id}/vote",
        data={"helpful": "no"},
        headers={"HX-Request": "true"},
    ).get_data(as_text=True)
    forms_page = client.get(contact_link(vote_block(html))).get_data(as_text=True)
    link = re.search(r'href="(/acme/en/requests/new\?form=[^"]+)"', forms_page).group(1)
    link = link.replace("&amp;", "&")
    assert f"article={article.id}" in link
    form_html = client.get(link).get_data(as_text=True)
    data = {
        "key": re.search(r'name="key" value="([^"]+)"', form_html).group(1),
        "article": re.search(r'name="article" value="([^"]+)"', form_html).group(1),
        "name": "Mina",
        "email": "mina@example.com",
        "subject": "Still locked out",
        "description": "The reset mail never came.",
        "action": "send",
    }
    assert client.post(link, data=data).status_code == 303
    ticket = make.session.scalar(select(Ticket))
    assert ticket.details["referrer_article_id"] == article.id
