"""Article votes reach the editors: yes and no per language on the article's edit page."""

import pytest

from kb.models import ArticleVote


@pytest.fixture
def brand(make):
    return make.brand(slug="acme", locales=("en", "ko"))


def test_edit_page_shows_the_votes_per_language(client, make, brand, login):
    """Issue 15 item 10: "Was this helpful?" answers were stored but never shown to staff."""
    login("editor", brands=[brand])
    section = make.section(make.category(brand))
    article = make.article(section, {"en": "Reset your password", "ko": "비밀번호 재설정"})
    other = make.article(section, {"en": "Another"})
    votes = [("en", True)] * 3 + [("en", False)] + [("ko", False)] * 2 + [("ko", True)]
    make.session.add_all(
        ArticleVote(article_id=article.id, locale=loc, helpful=h) for loc, h in votes
    )
    make.session.add(ArticleVote(article_id=other.id, locale="en", helpful=False))
    make.session.commit()
    html = client.get(f"/admin/kb/articles/{article.id}/en").get_data(as_text=True)
    assert 'id="votes-heading"' in html
    assert 'data-locale="en" data-helpful="yes">3<' in html
    assert 'data-locale="en" data-helpful="no">1<' in html
    assert 'data-locale="ko" data-helpful="yes">1<' in html
    assert 'data-locale="ko" data-helpful="no">2<' in html


def test_edit_page_says_when_nobody_voted(client, make, brand, login):
    """Issue 15 item 10: no votes is said, not left blank."""
    login("editor", brands=[brand])
    article = make.article(make.section(make.category(brand)), {"en": "Quiet one"})
    html = client.get(f"/admin/kb/articles/{article.id}/en").get_data(as_text=True)
    assert "Nobody has voted on this article yet." in html
