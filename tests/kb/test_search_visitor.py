"""kb.search.visitor: a visitor's search of one help center, without Flask or an index."""

import pytest
from sqlalchemy import select

from kb import clock, votes
from kb.helpcenter import HelpCenter
from kb.models import SearchClick, SearchLog
from kb.search import Hit, SearchRequest, SearchResults, visitor


@pytest.fixture
def site(make):
    brand = make.brand(slug="acme", locales=("en",), name="Acme")
    section = make.section(make.category(brand), {"en": "Payments"})
    article = make.article(section, {"en": "Refund a card"})
    return brand, section, article


class Engine:
    """Answers every request with the given hits, and remembers what it was asked."""

    def __init__(self, hits=()):
        self.hits = list(hits)
        self.asked = []

    def __call__(self, session, request):
        self.asked.append(request)
        return SearchResults(hits=self.hits, total=len(self.hits), page=request.page)


def ask(brand, text="refund", **changes):
    return SearchRequest(brand_id=brand.id, locales=("en",), text=text, now=clock.now(), **changes)


def hit(article, score=1.0):
    t = article.translations[0]
    return Hit(t.id, article.id, t.locale, score, "a <mark>refund</mark>")


def logs(session):
    return session.scalars(select(SearchLog)).all()


def test_no_text_asks_no_engine_and_logs_nothing(session, site):
    brand, _section, _article = site
    engine = Engine()
    page = visitor.search(session, HelpCenter(brand, "en"), ask(brand, text=""), engine)
    assert engine.asked == [] and page.found == [] and page.results.total == 0
    assert page.log_id is None and logs(session) == []


def test_first_page_of_an_unfiltered_search_is_logged_in_lower_case(session, site):
    brand, _section, article = site
    page = visitor.search(
        session, HelpCenter(brand, "en"), ask(brand, text="Refund"), Engine([hit(article)])
    )
    [entry] = logs(session)
    assert page.log_id == entry.id
    assert (entry.query, entry.results, entry.locale) == ("refund", 1, "en")


@pytest.mark.parametrize("changes", [{"page": 2}, {"kind": "faq"}, {"section_id": 1}])
def test_a_later_page_or_a_filtered_search_is_not_logged(session, site, changes):
    brand, _section, article = site
    engine = Engine([hit(article)])
    page = visitor.search(session, HelpCenter(brand, "en"), ask(brand, **changes), engine)
    assert page.log_id is None and logs(session) == []


def test_the_instant_dropdown_is_not_logged_and_gets_no_facet_names(session, site):
    brand, _section, article = site
    engine = Engine([hit(article)])
    page = visitor.search(session, HelpCenter(brand, "en"), ask(brand), engine, full_page=False)
    assert [f.article.id for f in page.found] == [article.id]
    assert page.log_id is None and page.section_names == {} and logs(session) == []


def test_found_hits_are_rechecked_against_what_the_help_center_shows(session, make, site):
    brand, section, article = site
    draft = make.article(section, {"en": "Refund draft"}, status="draft")
    engine = Engine([hit(draft), hit(article)])
    page = visitor.search(session, HelpCenter(brand, "en"), ask(brand), engine)
    assert [(f.article.id, f.position) for f in page.found] == [(article.id, 2)]
    assert page.section_names == {section.id: "Payments"}


def test_nothing_found_offers_the_popular_articles(session, make, site):
    brand, section, article = site
    make.article(section, {"en": "Nobody reads this"})
    votes.record(session, article.id, "en", True)
    page = visitor.search(session, HelpCenter(brand, "en"), ask(brand), Engine())
    assert page.found == []
    assert [item.article.id for item in page.popular] == [article.id]


def test_a_click_counts_only_on_a_search_of_the_same_brand(session, make, site):
    brand, _section, article = site
    other = make.brand(slug="globex", locales=("en",))
    log_id = visitor.log_search(session, HelpCenter(brand, "en"), ask(brand), 1)
    visitor.count_click(session, HelpCenter(other, "en"), log_id, article.id, 1)
    assert session.scalars(select(SearchClick)).all() == []
    visitor.count_click(session, HelpCenter(brand, "en"), log_id, article.id, 3)
    clicks = session.scalars(select(SearchClick)).all()
    assert [(c.search_id, c.article_id, c.position) for c in clicks] == [(log_id, article.id, 3)]


def test_a_click_on_a_missing_search_counts_nothing(session, site):
    brand, _section, article = site
    visitor.count_click(session, HelpCenter(brand, "en"), 12345, article.id, 1)
    assert session.scalars(select(SearchClick)).all() == []
