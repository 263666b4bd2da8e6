""" "Popular articles": per locale, from views and votes, the promoted ones first."""

import re

import pytest
from sqlalchemy import func, select

from kb.models import ArticleViewCount, ArticleVote


@pytest.fixture
def brand(make):
    return make.brand(slug="acme", locales=("en", "ko"))


@pytest.fixture
def section(make, brand):
    return make.section(make.category(brand))


def article(make, section, title, **kw):
    return make.article(section, {"en": title, "ko": f"{title} (ko)"}, **kw)


def popular(client, locale) -> list[str]:
    html = client.get(f"/acme/{locale}/").get_data(as_text=True)
    block = re.search(r'aria-labelledby="popular-heading">.*?</section>', html, re.S)
    if block is None:
        return []
    return [re.sub(r" \(ko\)$", "", t) for t in re.findall(r"<a [^>]*>([^<]+)</a>", block.group(0))]


def read(client, locale, item, times=1):
    for _ in range(times):
        response = client.get(f"/acme/{locale}/articles/{item.id}", follow_redirects=True)
        assert response.status_code == 200


def test_popular_articles_differ_per_locale_by_views(client, make, section):
    """Issue 15 item 33: every language showed the same promoted list."""
    article(make, section, "Pinned", promoted=True)
    refunds = article(make, section, "Refunds")
    shipping = article(make, section, "Shipping")
    article(make, section, "Unread")
    read(client, "ko", refunds, times=3)
    read(client, "en", shipping, times=2)
    assert popular(client, "ko") == ["Pinned", "Refunds"]
    assert popular(client, "en") == ["Pinned", "Shipping"]


def test_every_page_view_counts_even_when_served_from_the_cache(client, ctx, make, section):
    """Issue 15 item 33: the article page is cached; each reading still counts, per locale."""
    refunds = article(make, section, "Refunds")
    read(client, "ko", refunds, times=3)
    hit = client.get(f"/acme/ko/articles/{refunds.id}", follow_redirects=True)
    assert hit.headers.get("X-Portal-Cache") == "hit"
    counted = ctx.scalar(
        select(func.sum(ArticleViewCount.views)).where(
            ArticleViewCount.article_id == refunds.id, ArticleViewCount.locale == "ko"
        )
    )
    assert counted == 4


def views_of(ctx, item, locale) -> int:
    return ctx.scalar(
        select(func.coalesce(func.sum(ArticleViewCount.views), 0)).where(
            ArticleViewCount.article_id == item.id, ArticleViewCount.locale == locale
        )
    )


def test_readings_are_written_together_not_one_write_per_view(client, app, ctx, make, section):
    """Issue 15 item 33: counting readings must not cost the cached article page a database
    write per view (it halved its speed): readings wait in memory and are written together
    once ARTICLE_READINGS_SECONDS have passed, none lost."""
    refunds = article(make, section, "Refunds")
    readings = app.extensions["portal.readings"]
    readings.interval = 3600
    try:
        read(client, "ko", refunds, times=3)
        assert views_of(ctx, refunds, "ko") == 0
        readings.interval = 0  # the next reading finds them due
        read(client, "ko", refunds, times=1)
        ctx.rollback()  # a fresh snapshot of the database
        assert views_of(ctx, refunds, "ko") == 4
    finally:
        readings.interval = 0


def test_helpful_votes_lift_an_article_and_promoted_ones_stay_first(client, make, section):
    """Issue 15 item 33: votes count too, in the language voted in; promoted ones come first."""
    article(make, section, "Pinned", promoted=True)
    read_often = article(make, section, "Read often")
    liked = article(make, section, "Liked")
    read(client, "ko", read_often, times=2)
    make.session.add_all(
        ArticleVote(article_id=liked.id, locale="ko", helpful=True) for _ in range(3)
    )
    make.session.commit()
    assert popular(client, "ko") == ["Pinned", "Liked", "Read often"]
    assert popular(client, "en") == ["Pinned"]


def test_unhelpful_votes_keep_an_article_out_of_popular(client, make, section):
    """Issue 15 item 33: an article read once and voted unhelpful is not "popular"."""
    disliked = article(make, section, "Disliked")
    read(client, "en", disliked)
    make.session.add_all(
        ArticleVote(article_id=disliked.id, locale="en", helpful=False) for _ in range(2)
    )
    make.session.commit()
    assert popular(client, "en") == []
