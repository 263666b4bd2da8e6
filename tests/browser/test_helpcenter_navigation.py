"""A visitor finds, reads, rates and searches help articles in Chromium, with and without JS."""

import re
import tomllib

import pytest
from playwright.sync_api import expect

from portal.demo import CONTENT_DIR

ENGLISH_BROWSER = "en-US,en;q=0.9"
# Korean-only in portal/demo/hanbit-pay.toml: the English help center shows them untranslated.
KOREAN_ONLY = ["tax-invoice", "app-not-opening"]
# In the title of one Swedish article in portal/demo/norrsken-energi.toml ("Vad gör jag vid
# strömavbrott?"); a non-ASCII letter, so the query must survive the form's URL encoding.
SWEDISH_WORD = "strömavbrott"


def demo_content(brand: str) -> dict:
    return tomllib.loads((CONTENT_DIR / f"{brand}.toml").read_text(encoding="utf-8"))


def titles_of_article(brand: str, title: str) -> dict[str, str]:
    """{locale: title} of the demo article that has `title` in one of its languages."""
    for article in demo_content(brand)["articles"]:
        titles = {loc: tr["title"] for loc, tr in article["translations"].items()}
        if title in titles.values():
            return titles
    raise LookupError(f"no demo article in {brand} is titled {title!r}")


def test_reader_finds_an_article_and_reads_it_in_korean(live_server, open_page, screenshot):
    page = open_page(accept_language=ENGLISH_BROWSER)

    page.goto(f"{live_server}/hanbit-pay/")
    expect(page).to_have_url(f"{live_server}/hanbit-pay/en/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    screenshot(page, "1-home")

    topics = page.get_by_role("region", name="Browse by topic")
    category_link = topics.get_by_role("heading", level=3).first.get_by_role("link")
    category_title = category_link.inner_text()
    category_link.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(category_title)
    screenshot(page, "2-category")

    first_section = page.get_by_role("main").get_by_role("region").first
    article_link = first_section.get_by_role("listitem").first.get_by_role("link").first
    article_title = article_link.inner_text()
    article_link.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(article_title)
    expect(page).to_have_url(re.compile(rf"^{live_server}/hanbit-pay/en/articles/\d+-[^/?#]+$"))
    article_id = re.search(r"/articles/(\d+)-", page.url).group(1)
    article_body = page.get_by_role("article").locator(".article-body")
    headings = [
        *article_body.get_by_role("heading", level=2).all_inner_texts(),
        *article_body.get_by_role("heading", level=3).all_inner_texts(),
    ]
    toc = page.get_by_role("navigation", name="In this article")
    if len(headings) >= 2:
        expect(toc).to_be_visible()
        expect(toc.get_by_role("link")).to_have_count(len(headings))
    else:
        expect(toc).to_have_count(0)
    expect(page.get_by_role("heading", name="Was this article helpful?")).to_be_visible()
    screenshot(page, "3-article")

    page.get_by_role("navigation", name="Language").get_by_role("link", name="한국어").click()
    expect(page).to_have_url(
        re.compile(rf"^{live_server}/hanbit-pay/ko/articles/{article_id}-[^/?#]+$")
    )
    expect(page.locator("html")).to_have_attribute("lang", "ko")
    korean_title = titles_of_article("hanbit-pay", article_title)["ko"]
    expect(page.get_by_role("heading", level=1)).to_have_text(korean_title)
    screenshot(page, "4-korean")


def test_helpful_vote_is_thanked(live_server, open_page, javascript, screenshot):
    page = open_page()
    page.goto(f"{live_server}/hanbit-pay/en/")
    page.get_by_role("region", name="Popular articles").get_by_role("link").first.click()
    expect(page).to_have_url(re.compile(r"/hanbit-pay/en/articles/\d+-"))
    article_url = page.url
    # htmx is a deferred script: a click before the page has loaded posts the plain form.
    page.wait_for_load_state()

    page.get_by_role("region", name="Was this article helpful?").get_by_role(
        "button", name="Yes"
    ).click()

    expect(page.get_by_text("Thank you for your feedback.")).to_be_visible()
    expect(page.get_by_role("button", name="Yes")).to_have_count(0)
    # With htmx the block is swapped in place; without, the POST redirects back to the block.
    expect(page).to_have_url(article_url if javascript else f"{article_url}#vote")
    screenshot(page, "thanks")


def test_swedish_search_lists_the_article_titled_with_the_word(live_server, open_page, screenshot):
    titled = [
        a["translations"]["sv"]["title"]
        for a in demo_content("norrsken-energi")["articles"]
        if SWEDISH_WORD in a["translations"]["sv"]["title"].lower()
    ]
    assert titled, f"no Swedish demo title contains {SWEDISH_WORD!r}"
    page = open_page()
    page.goto(f"{live_server}/norrsken-energi/sv/")
    expect(page.locator("html")).to_have_attribute("lang", "sv")
    search_box = page.get_by_role("search").get_by_role("searchbox")
    expect(search_box).to_be_visible()

    search_box.fill(SWEDISH_WORD)
    search_box.press("Enter")

    expect(page).to_have_url(re.compile(r"/norrsken-energi/sv/search\?q=str"))
    expect(page.get_by_role("search").get_by_role("searchbox")).to_have_value(SWEDISH_WORD)
    results = page.get_by_role("main").get_by_role("listitem")
    for title in titled:
        expect(results.get_by_role("link", name=title, exact=True)).to_be_visible()
    screenshot(page, "results")


@pytest.mark.parametrize("key", KOREAN_ONLY)
def test_untranslated_article_is_shown_in_korean_under_a_banner(
    live_server, open_page, screenshot, key
):
    content = demo_content("hanbit-pay")
    article = next(a for a in content["articles"] if a["key"] == key)
    assert list(article["translations"]) == ["ko"], "the demo article is meant to be Korean-only"
    korean_title = article["translations"]["ko"]["title"]
    section = next(s for s in content["sections"] if s["key"] == article["section"])
    section_title = section["title"]["en"]
    page = open_page()
    page.goto(f"{live_server}/hanbit-pay/en/")

    topics = page.get_by_role("region", name="Browse by topic")
    topics.get_by_role("link", name=section_title, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(section_title)
    tagged_korean = (
        page.get_by_role("main")
        .get_by_role("listitem")
        .filter(has=page.get_by_text("한국어", exact=True))
    )
    expect(tagged_korean.get_by_role("link")).to_have_text(korean_title)
    screenshot(page, f"{key}-section")
    tagged_korean.get_by_role("link").click()

    expect(page).to_have_url(re.compile(r"/hanbit-pay/en/articles/\d+-"))
    expect(page.get_by_role("note")).to_contain_text("not yet translated")
    expect(page.get_by_role("heading", level=1)).to_have_text(korean_title)
    expect(page.get_by_role("article")).to_have_attribute("lang", "ko")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    screenshot(page, f"{key}-article")


def test_unknown_article_is_page_not_found(live_server, open_page, screenshot):
    page = open_page()

    response = page.goto(f"{live_server}/hanbit-pay/en/articles/999999")

    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
    screenshot(page, "not-found")
