"""'Was this article helpful?': htmx swaps the block; without JavaScript it is a form POST."""

import pytest
from sqlalchemy import select

from kb.models import ArticleVote


@pytest.fixture
def article(make):
    brand = make.brand(slug="acme", locales=("en",))
    return make.article(make.section(make.category(brand)), {"en": "Reset your password"})


def votes(ctx):
    return ctx.scalars(select(ArticleVote)).all()


def test_vote_with_htmx_returns_only_the_thank_you_block(client, ctx, article):
    response = client.post(
        f"/acme/en/articles/{article.id}/vote",
        data={"helpful": "yes"},
        headers={"HX-Request": "true"},
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in body and "Thank you for your feedback." in body
    assert [(v.helpful, v.locale) for v in votes(ctx)] == [(True, "en")]


def test_vote_without_javascript_redirects_back_to_the_article(client, ctx, article):
    response = client.post(f"/acme/en/articles/{article.id}/vote", data={"helpful": "no"})
    assert response.status_code == 303
    assert (
        response.headers["Location"] == f"/acme/en/articles/{article.id}-reset-your-password#vote"
    )
    page = client.get(f"/acme/en/articles/{article.id}-reset-your-password")
    assert "Thank you for your feedback." in page.get_data(as_text=True)
    assert [v.helpful for v in votes(ctx)] == [False]


def test_second_vote_from_the_same_visitor_is_not_counted(client, ctx, article):
    for _ in range(3):
        client.post(f"/acme/en/articles/{article.id}/vote", data={"helpful": "yes"})
    assert len(votes(ctx)) == 1


def test_vote_with_a_bad_answer_shows_an_error_and_counts_nothing(client, ctx, article):
    response = client.post(f"/acme/en/articles/{article.id}/vote", data={"helpful": "maybe"})
    assert response.status_code == 400
    assert "Please choose yes or no." in response.get_data(as_text=True)
    assert votes(ctx) == []


def test_vote_on_an_unpublished_article_is_404(client, make, ctx):
    brand = make.brand(slug="acme", locales=("en",))
    draft = make.article(make.section(make.category(brand)), {"en": "Draft"}, status="draft")
    assert (
        client.post(f"/acme/en/articles/{draft.id}/vote", data={"helpful": "yes"}).status_code
        == 404
    )
    assert votes(ctx) == []


def test_vote_get_is_not_allowed(client, article):
    assert client.get(f"/acme/en/articles/{article.id}/vote").status_code == 405


def test_vote_on_a_fallback_article_counts_for_the_language_read(client, ctx, make):
    brand = make.brand(slug="multi", locales=("ko", "en"))
    korean = make.article(make.section(make.category(brand)), {"ko": "세금계산서"})
    client.post(f"/multi/en/articles/{korean.id}/vote", data={"helpful": "yes"})
    assert [v.locale for v in votes(ctx)] == ["ko"]
