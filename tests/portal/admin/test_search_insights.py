"""Search insights: top searches, searches without results and click-through, per brand."""

from datetime import timedelta

from kb import clock
from kb.models import SearchClick, SearchLog


def test_insights_show_top_searches_no_results_and_click_through(client, ctx, login, make):
    brand = make.brand(slug="acme", locales=("en",))
    other = make.brand(slug="other", locales=("en",))
    article = make.article(make.section(make.category(brand)), {"en": "Invoices"})
    now = clock.now()
    logs = [
        SearchLog(brand_id=brand.id, locale="en", query="invoice", results=3, created_at=now)
        for _ in range(4)
    ]
    logs += [SearchLog(brand_id=brand.id, locale="en", query="teleport", results=0, created_at=now)]
    logs += [
        SearchLog(
            brand_id=brand.id,
            locale="en",
            query="ancient",
            results=0,
            created_at=now - timedelta(days=60),
        )
    ]
    logs += [
        SearchLog(brand_id=other.id, locale="en", query="secret-other", results=0, created_at=now)
    ]
    ctx.add_all(logs)
    ctx.commit()
    ctx.add(SearchClick(search_id=logs[0].id, article_id=article.id))
    ctx.commit()
    login("editor", brands=[brand])
    page = client.get("/admin/kb/search-insights").get_data(as_text=True)
    assert "invoice" in page and "teleport" in page
    assert "25%" in page  # one of four "invoice" searches led to an opened article
    assert "ancient" not in page  # older than the 30 days shown
    assert "secret-other" not in page  # another brand's searches
    fragment = client.get("/admin/kb/search-insights?days=90", headers={"HX-Request": "true"})
    assert "<html" not in fragment.get_data(as_text=True)
    assert "ancient" in fragment.get_data(as_text=True)


def test_a_real_search_is_logged_without_personal_data(client, ctx, make):
    brand = make.brand(slug="acme", locales=("en",))
    make.article(make.section(make.category(brand)), {"en": "Invoices explained"})
    client.get(
        "/acme/en/search?q=Invoices",
        headers={"User-Agent": "Secret Browser"},
        environ_base={"REMOTE_ADDR": "203.0.113.9"},
    )
    rows = ctx.query(SearchLog).all()
    assert [(r.query, r.results, r.locale) for r in rows] == [("invoices", 1, "en")]
    columns = set(SearchLog.__table__.columns.keys())
    assert columns == {"id", "brand_id", "locale", "query", "results", "created_at"}
