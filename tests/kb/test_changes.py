from sqlalchemy import select

from kb.models import ArticleVote, Brand


def version(session, brand):
    session.expire_all()
    return session.scalar(select(Brand.content_version).where(Brand.id == brand.id))


def test_content_changes_bump_the_brand_version(session, make):
    brand = make.brand(locales=("en",))
    other = make.brand(locales=("en",))
    start = version(session, brand)
    section = make.section(make.category(brand))
    after_structure = version(session, brand)
    assert after_structure > start
    article = make.article(section)
    after_article = version(session, brand)
    assert after_article > after_structure
    article.translations[0].title = "Renamed"
    session.commit()
    assert version(session, brand) > after_article
    assert version(session, other) == 1


def test_votes_do_not_change_the_content_version(session, make):
    brand = make.brand(locales=("en",))
    article = make.article(make.section(make.category(brand)))
    before = version(session, brand)
    session.add(ArticleVote(article_id=article.id, locale="en", helpful=True))
    session.commit()
    assert version(session, brand) == before
