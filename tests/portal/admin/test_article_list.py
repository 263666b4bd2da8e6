"""The article list's filters and its "New article" button, with and without htmx."""

import re

import pytest
from sqlalchemy import select

from kb.models import Article

HTMX = {"HX-Request": "true"}


@pytest.fixture
def acme(make):
    return make.brand(slug="acme", name="Acme", locales=("ko", "en"))


@pytest.fixture
def globex(make):
    return make.brand(slug="globex", name="Globex", locales=("en", "fr"))


@pytest.fixture
def editor(login, acme, globex):
    return login("editor", brands=[acme, globex])


def new_article_links(html: str) -> list[str]:
    return re.findall(r'<a class="button" href="([^"]*)">New article</a>', html)


def test_filter_form_replaces_the_whole_results_element(client, editor):
    page = client.get("/admin/kb/").get_data(as_text=True)
    form = re.search(r'<form [^>]*class="filters"[^>]*>', page).group(0)
    assert 'hx-target="#results"' in form and 'hx-swap="outerHTML"' in form
    fragment = client.get("/admin/kb/?brand=acme", headers=HTMX).get_data(as_text=True)
    assert "<html" not in fragment
    assert fragment.strip().startswith('<div id="results">')
    assert fragment.count('id="results"') == 1


def test_choosing_a_brand_with_htmx_brings_the_new_article_button(client, editor):
    fragment = client.get("/admin/kb/?brand=acme", headers=HTMX).get_data(as_text=True)
    assert new_article_links(fragment) == ["/admin/kb/articles/new?brand=acme"]
    everything = client.get("/admin/kb/?brand=", headers=HTMX).get_data(as_text=True)
    assert new_article_links(everything) == ["/admin/kb/articles/new"]


def test_new_article_button_without_javascript_follows_the_brand_filter(client, editor):
    page = client.get("/admin/kb/?brand=globex").get_data(as_text=True)
    assert "<html" in page
    assert new_article_links(page) == ["/admin/kb/articles/new?brand=globex"]


def test_only_brand_gets_the_new_article_button_without_choosing_it(client, login, acme):
    login("editor", brands=[acme])
    page = client.get("/admin/kb/").get_data(as_text=True)
    assert new_article_links(page) == ["/admin/kb/articles/new?brand=acme"]


def test_new_article_button_carries_the_language_filter(client, editor):
    page = client.get("/admin/kb/?brand=acme&locale=en").get_data(as_text=True)
    assert new_article_links(page) == ["/admin/kb/articles/new?brand=acme&amp;locale=en"]
    fragment = client.get("/admin/kb/?brand=acme&locale=en", headers=HTMX)
    assert new_article_links(fragment.get_data(as_text=True)) == [
        "/admin/kb/articles/new?brand=acme&amp;locale=en"
    ]


def test_new_article_button_leaves_out_a_language_the_brand_lacks(client, editor):
    page = client.get("/admin/kb/?brand=acme&locale=fr").get_data(as_text=True)
    assert new_article_links(page) == ["/admin/kb/articles/new?brand=acme"]


def test_new_article_page_links_to_each_language_of_the_brand(client, editor):
    page = client.get("/admin/kb/articles/new?brand=acme").get_data(as_text=True)
    nav = re.search(r'<nav aria-labelledby="source-language".*?</nav>', page, re.S).group(0)
    assert ">Source language</span>" in nav
    links = re.findall(r'href="([^"]*)"( aria-current="page")?>([^<]*)</a>', nav)
    assert links == [
        ("/admin/kb/articles/new?brand=acme&amp;locale=ko", ' aria-current="page"', "한국어"),
        ("/admin/kb/articles/new?brand=acme&amp;locale=en", "", "English"),
    ]
    english = client.get("/admin/kb/articles/new?brand=acme&locale=en").get_data(as_text=True)
    assert "New article <span" in english and "· English</span>" in english
    assert 'action="/admin/kb/articles/new?brand=acme&amp;locale=en"' in english


def test_new_article_page_of_a_one_language_brand_offers_no_language_choice(client, login, make):
    solo = make.brand(slug="solo", locales=("en",))
    login("editor", brands=[solo])
    page = client.get("/admin/kb/articles/new?brand=solo").get_data(as_text=True)
    assert 'id="source-language"' not in page


def test_article_written_after_choosing_a_language_has_it_as_source(
    client, ctx, editor, acme, make
):
    section = make.section(make.category(acme))
    response = client.post(
        "/admin/kb/articles/new?brand=acme&locale=en",
        data={
            "title": "Written in English",
            "section_id": str(section.id),
            "kind": "guide",
            "status": "draft",
            "action": "save",
        },
    )
    assert response.status_code == 303
    article = ctx.scalar(select(Article))
    assert article.source_locale == "en"
    assert response.headers["Location"] == f"/admin/kb/articles/{article.id}/en"


def test_choosing_a_brand_with_htmx_brings_its_section_filter(client, make, editor, acme):
    """The section filter lists the chosen brand's sections; htmx swaps only the list, so the
    filter comes along out of band. A section of another brand is no filter at all."""
    section = make.section(make.category(acme), {"en": "Billing", "ko": "결제"})
    make.article(section, {"en": "Refunds"})
    fragment = client.get("/admin/kb/?brand=acme", headers=HTMX).get_data(as_text=True)
    assert '<span id="section-filter" class="slot" hx-swap-oob="true">' in fragment
    assert f'<option value="{section.id}">' in fragment and "결제" in fragment
    cleared = client.get("/admin/kb/?brand=", headers=HTMX).get_data(as_text=True)
    assert '<span id="section-filter" class="slot" hx-swap-oob="true"></span>' in cleared
    page = client.get("/admin/kb/?brand=acme").get_data(as_text=True)
    assert page.count('id="section-filter"') == 1  # the whole page: no out-of-band copy
    stale = client.get(f"/admin/kb/?brand=globex&section={section.id}").get_data(as_text=True)
    assert "Refunds" not in stale and "0 articles" in stale
    kept = client.get(f"/admin/kb/?brand=acme&section={section.id}").get_data(as_text=True)
    assert "Refunds" in kept


def test_new_article_button_is_there_before_any_filter(client, editor):
    """Issue 15 item 29: "New article" is offered on the unfiltered list, and its page lets the
    editor choose the brand and the language (links, so it works without JavaScript)."""
    page = client.get("/admin/kb/").get_data(as_text=True)
    assert new_article_links(page) == ["/admin/kb/articles/new"]
    chooser = client.get("/admin/kb/articles/new")
    assert chooser.status_code == 200
    html = chooser.get_data(as_text=True)
    assert "Choose the brand and the language of the new article." in html
    for target in (
        "/admin/kb/articles/new?brand=acme&amp;locale=ko",
        "/admin/kb/articles/new?brand=acme&amp;locale=en",
        "/admin/kb/articles/new?brand=globex&amp;locale=en",
        "/admin/kb/articles/new?brand=globex&amp;locale=fr",
    ):
        assert f'href="{target}"' in html
    assert client.get("/admin/kb/articles/new?brand=acme&locale=en").status_code == 200


def test_new_article_chooser_keeps_the_language_filter(client, editor):
    """Issue 15 item 29: with only a language chosen, the button keeps it for the next page."""
    page = client.get("/admin/kb/?locale=fr").get_data(as_text=True)
    assert new_article_links(page) == ["/admin/kb/articles/new?locale=fr"]
    html = client.get("/admin/kb/articles/new?locale=fr").get_data(as_text=True)
    assert 'href="/admin/kb/articles/new?brand=globex&amp;locale=fr"' in html


def test_new_article_for_a_brand_of_someone_else_is_404(client, editor, make):
    """Issue 15 item 29: the chooser offers only the editor's brands; others stay 404."""
    make.brand(slug="initech", name="Initech")
    assert "initech" not in client.get("/admin/kb/articles/new").get_data(as_text=True)
    assert client.get("/admin/kb/articles/new?brand=initech").status_code == 404


def test_article_list_is_sorted_by_last_update_newest_first(
    client, ctx, editor, acme, globex, make, frozen_now
):
    """Issue 15 item 29: the list shows the most recently updated articles first."""
    from datetime import timedelta

    from kb.models import Translation

    section = make.section(make.category(acme))
    other = make.section(make.category(globex))
    ages = {"Oldest": 30, "Newest": 1, "Middle": 10}
    for title, days in ages.items():
        article = make.article(section if title != "Middle" else other, {"en": title})
        t = ctx.scalar(select(Translation).where(Translation.article_id == article.id))
        t.updated_at = frozen_now - timedelta(days=days)
    ctx.commit()
    page = client.get("/admin/kb/").get_data(as_text=True)
    assert page.index("Newest") < page.index("Middle") < page.index("Oldest")
