"""A visitor searches the help center: instant results as they type, the full results page with
highlighted snippets and filters, Korean, Japanese and Swedish words, corrections, no results."""

import re
import tomllib
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

from playwright.sync_api import Page, Request, Response, Route, expect

from portal.demo import CONTENT_DIR
from tests.browser.conftest import ARTIFACTS, TIMEOUT_MS

# Words from portal/demo/hanbit-pay.toml: "payment" is in most Korean articles, "refund" in a few.
PAYMENT_KO = "결제"
REFUND_KO = "환불"
PAYMENT_JA = "支払い"
# The plural "subscriptions": the Swedish notifications FAQ in portal/demo/norrsken-energi.toml
# also says "prenumeration", which only stemming matches to the plural.
SUBSCRIPTIONS_SV = "prenumerationer"
SUBSCRIPTION_SV = "prenumeration"
# "invoice" with two letters swapped: no article has it, the correction finds several.
MISSPELT_EN = "invioce"
CORRECTED_EN = "invoice"
NONSENSE = "qzxvkwjpl"


def demo_content(brand: str) -> dict:
    return tomllib.loads((CONTENT_DIR / f"{brand}.toml").read_text(encoding="utf-8"))


def query_of(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def follow(page: Page, act: Callable[[], None]) -> Response:
    """Do `act` and return the first answer to the page load it starts (before redirects)."""
    with page.expect_response(lambda r: r.request.is_navigation_request()) as answer:
        act()
    return answer.value


def submit_search(page: Page, text: str) -> None:
    """Type into the box in the header and press Enter, as a visitor does."""
    search_box = page.get_by_role("search").get_by_role("searchbox")
    search_box.fill(text)
    answer = follow(page, lambda: search_box.press("Enter"))
    assert urlsplit(answer.url).path.endswith("/search")
    assert answer.status == 200, f"{answer.url} answered {answer.status}"
    page.wait_for_load_state()


def hits(page: Page):
    """The results listed on the full search page (not the facets, not the dropdown)."""
    return page.get_by_role("main").locator("ol.search-hits > li")


def total_shown(page: Page) -> int:
    """The number in "17 results for “invoice”" (in whatever language the page speaks)."""
    summary = page.get_by_role("main").locator(".search-main > p.muted").first
    return int(re.search(r"\d+", summary.inner_text()).group())


def facet_count(text: str) -> int:
    return int(re.search(r"\((\d+)\)$", text).group(1))


def facet_links(page: Page, heading: str):
    """The filter links under `heading` in the aside, without its "All"."""
    group = page.get_by_role("complementary").locator(f"h2:text-is('{heading}') + ul")
    return group.get_by_role("link").filter(has_text=re.compile(r"\(\d+\)$"))


# ---------------------------------------------------------------- instant search (JavaScript)


def instant_screenshot(page: Page, step: str) -> None:
    """Named like the `screenshot` fixture's files; that fixture would run this test twice."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"test_instant_search_follows_typing_and_the_keyboard-js-{step}.png"
    page.screenshot(path=str(path), full_page=True)


def expect_dropdown_for(page: Page, word: str) -> None:
    """The dropdown lists articles, and every highlighted word in it is `word`."""
    dropdown = page.locator("#instant-results")
    results = dropdown.locator(".instant-list a.instant-item")
    expect(results.first).to_be_visible()
    marks = dropdown.locator("mark")
    expect(marks.first).to_have_text(word)
    assert set(marks.all_inner_texts()) == {word}
    for text in results.all_inner_texts():
        assert word in text, f"a result for {word!r} does not mention it: {text!r}"


def test_the_instant_results_hint_is_said_only_where_they_exist(live_server, open_page, javascript):
    """Screen readers hear "results appear below as you type" with JavaScript, and nothing
    about instant results without it (the box is then a plain search form)."""
    page = open_page("en")
    page.goto(f"{live_server}/hanbit-pay/en/")
    search_box = page.get_by_role("search").get_by_role("searchbox")
    if javascript:
        expect(search_box).to_have_accessible_description(re.compile("as you type"))
    else:
        expect(search_box).to_have_accessible_description("")


def test_instant_search_follows_typing_and_the_keyboard(live_server, browser):
    # Instant search is JavaScript only: one run, in a context of its own with JavaScript on.
    context = browser.new_context(java_script_enabled=True)
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = context.new_page()
        page.goto(f"{live_server}/hanbit-pay/ko/")
        search_box = page.get_by_role("search").get_by_role("searchbox")
        dropdown = page.locator("#instant-results")
        items = dropdown.locator("a.instant-item")
        results = dropdown.locator(".instant-list a.instant-item")

        search_box.press_sequentially(PAYMENT_KO, delay=120)

        expect_dropdown_for(page, PAYMENT_KO)
        # Last in the list: a link to the full results page ("See all results").
        expect(dropdown.locator(".instant-all a.instant-item")).to_have_attribute(
            "href", re.compile(r"/hanbit-pay/ko/search\?q=")
        )
        box_area, list_area = search_box.bounding_box(), dropdown.bounding_box()
        assert list_area["y"] >= box_area["y"] + box_area["height"] - 1, "not under the box"
        expect(search_box).to_be_focused()
        instant_screenshot(page, "1-dropdown")

        page.keyboard.press("ArrowDown")
        expect(results.nth(0)).to_be_focused()
        page.keyboard.press("ArrowDown")
        expect(results.nth(1)).to_be_focused()
        page.keyboard.press("ArrowUp")
        expect(results.nth(0)).to_be_focused()
        instant_screenshot(page, "2-arrow-keys")
        page.keyboard.press("Escape")
        expect(items).to_have_count(0)
        expect(search_box).to_be_focused()
        expect(search_box).to_have_value(PAYMENT_KO)

        answer = follow(page, lambda: page.keyboard.press("Enter"))
        assert answer.status == 200
        expect(page).to_have_url(re.compile(r"/hanbit-pay/ko/search\?q="))
        assert query_of(page.url) == {"q": [PAYMENT_KO]}
        expect(page.get_by_role("heading", level=1)).to_have_text("검색 결과")
        expect(hits(page).first).to_be_visible()
        expect(page.get_by_role("search").get_by_role("searchbox")).to_have_value(PAYMENT_KO)

        # A late answer to an earlier query must not replace the answer to the last one: hold
        # the response for "결제" until the one for "환불" is on screen, then let it through.
        held: list[Route] = []

        def hold_payment_query(route: Route, request: Request) -> None:
            if query_of(request.url).get("q") == [PAYMENT_KO]:
                held.append(route)
            else:
                route.continue_()

        page.goto(f"{live_server}/hanbit-pay/ko/")
        page.route(re.compile(r"/hanbit-pay/ko/search\?.*instant=1"), hold_payment_query)
        search_box = page.get_by_role("search").get_by_role("searchbox")
        with page.expect_request(lambda r: query_of(r.url).get("q") == [PAYMENT_KO]):
            search_box.press_sequentially(PAYMENT_KO, delay=120)
        search_box.fill(REFUND_KO)

        expect_dropdown_for(page, REFUND_KO)
        assert held, "the request for the first query was never made"
        for route in held:
            route.continue_()
        # Long enough for the released response to arrive and be (wrongly) swapped in.
        page.wait_for_timeout(750)
        expect_dropdown_for(page, REFUND_KO)
        instant_screenshot(page, "3-last-query-wins")
    finally:
        context.close()


def test_instant_search_finds_articles_from_the_first_letters_of_a_word(live_server, browser):
    """Issue 15 item 23: typing `fak` on the Swedish help center listed nothing until `faktu`."""
    context = browser.new_context(java_script_enabled=True)
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = context.new_page()
        page.goto(f"{live_server}/norrsken-energi/sv/")
        search_box = page.get_by_role("search").get_by_role("searchbox")
        search_box.press_sequentially("fak", delay=120)
        dropdown = page.locator("#instant-results")
        expect(dropdown.locator(".instant-list a.instant-item").first).to_be_visible()
        marks = dropdown.locator("mark")
        expect(marks.first).to_be_visible()
        assert all(m.lower().startswith("fak") for m in marks.all_inner_texts())
        instant_screenshot(page, "4-first-letters")
    finally:
        context.close()


# ---------------------------------------------------------------- the full results page


def test_search_page_highlights_the_words_and_opens_a_result_through_the_click_counter(
    live_server, open_page, screenshot
):
    page = open_page()
    page.goto(f"{live_server}/norrsken-energi/en/")

    submit_search(page, CORRECTED_EN)

    expect(page).to_have_url(re.compile(r"/norrsken-energi/en/search\?q=invoice$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Search results")
    expect(hits(page).first).to_be_visible()
    assert total_shown(page) >= hits(page).count() > 0
    marks = hits(page).locator(".snippet mark")
    expect(marks.first).to_be_visible()
    for word in marks.all_inner_texts():
        assert word.lower().startswith(CORRECTED_EN), f"{word!r} is highlighted"
    facets = page.get_by_role("complementary")
    expect(facet_links(page, "Kind").first).to_be_visible()
    expect(facet_links(page, "Section").first).to_be_visible()
    expect(facets.get_by_role("link", name="All")).to_have_count(2)
    screenshot(page, "1-results")

    first = hits(page).first.get_by_role("heading", level=2).get_by_role("link")
    title = first.inner_text()
    expect(first).to_have_attribute(
        "href", re.compile(r"^/norrsken-energi/en/search/click/\d+/\d+\?pos=1$")
    )
    counted = follow(page, first.click)

    assert re.search(r"/norrsken-energi/en/search/click/\d+/\d+\?pos=1$", counted.url)
    assert counted.status == 303
    expect(page).to_have_url(re.compile(r"/norrsken-energi/en/articles/\d+-[^/?#]+$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    screenshot(page, "2-article")


def test_choosing_a_section_then_a_kind_narrows_the_results(live_server, open_page, screenshot):
    page = open_page()
    page.goto(f"{live_server}/norrsken-energi/en/")
    submit_search(page, CORRECTED_EN)
    before = total_shown(page)
    # The biggest section that holds only some of the results, so choosing it must narrow them.
    sections = facet_links(page, "Section")
    counts = [facet_count(text) for text in sections.all_inner_texts()]
    assert counts and max(counts) < before
    chosen = sections.nth(counts.index(max(counts)))
    section_name = re.sub(r"\s*\(\d+\)$", "", chosen.inner_text())

    assert follow(page, chosen.click).status == 200

    assert query_of(page.url)["q"] == [CORRECTED_EN] and "section" in query_of(page.url)
    expect(
        page.get_by_role("complementary").get_by_role("link", name=section_name)
    ).to_have_attribute("aria-current", "true")
    expect(hits(page)).to_have_count(max(counts))
    assert total_shown(page) == max(counts) < before
    screenshot(page, "1-section")

    kind = facet_links(page, "Kind").first
    assert follow(page, kind.click).status == 200

    assert {"q", "section", "kind"} <= set(query_of(page.url))
    assert 0 < total_shown(page) <= max(counts)
    expect(hits(page)).to_have_count(total_shown(page))
    screenshot(page, "2-section-and-kind")


def test_search_all_languages_adds_results_in_other_languages(live_server, open_page, screenshot):
    page = open_page()
    # 세금계산서 (tax invoice) is in a guide written only in Korean so far; an article counts
    # once however many languages it matches in.
    page.goto(f"{live_server}/hanbit-pay/en/")
    submit_search(page, "세금계산서")
    before = total_shown(page)

    answer = follow(page, page.get_by_role("link", name="Search all languages").click)

    assert answer.status == 200, f"{answer.url} answered {answer.status}"
    assert query_of(page.url) == {"q": ["세금계산서"], "all": ["1"]}
    expect(page.get_by_role("link", name="Only English")).to_be_visible()
    assert total_shown(page) > before
    expect(hits(page).locator(".tag").first).to_be_visible()
    screenshot(page, "all-languages")


# ---------------------------------------------------------------- languages


def test_japanese_search_finds_articles_about_paying(live_server, open_page, screenshot):
    titled = [
        a["translations"]["ja"]["title"]
        for a in demo_content("hanbit-pay")["articles"]
        if PAYMENT_JA in a["translations"].get("ja", {}).get("title", "")
    ]
    assert titled, f"no Japanese demo title contains {PAYMENT_JA!r}"
    page = open_page()
    page.goto(f"{live_server}/hanbit-pay/ja/")

    submit_search(page, PAYMENT_JA)

    expect(page).to_have_url(re.compile(r"/hanbit-pay/ja/search\?q="))
    assert query_of(page.url) == {"q": [PAYMENT_JA]}
    expect(page.get_by_role("heading", level=1)).to_have_text("検索結果")
    expect(hits(page).first).to_be_visible()
    assert total_shown(page) >= len(titled)
    for title in titled:
        expect(hits(page).get_by_role("link", name=title, exact=True)).to_be_visible()
    marks = hits(page).locator(".snippet mark")
    expect(marks.first).to_be_visible()
    # Japanese is indexed in character pairs: 支払い may be marked whole or as 支払 and 払い.
    for word in marks.all_inner_texts():
        assert word in PAYMENT_JA, f"{word!r} is highlighted"
    screenshot(page, "results")


def test_swedish_plural_finds_the_article_with_the_singular(live_server, open_page, screenshot):
    singular = re.compile(rf"\b{SUBSCRIPTION_SV}\b", re.IGNORECASE)
    titled = [
        a["translations"]["sv"]["title"]
        for a in demo_content("norrsken-energi")["articles"]
        if singular.search(a["translations"].get("sv", {}).get("body", ""))
    ]
    assert titled, f"no Swedish demo article says {SUBSCRIPTION_SV!r}"
    page = open_page()
    page.goto(f"{live_server}/norrsken-energi/sv/")

    submit_search(page, SUBSCRIPTIONS_SV)

    assert query_of(page.url) == {"q": [SUBSCRIPTIONS_SV]}
    for title in titled:
        hit = hits(page).filter(has=page.get_by_role("link", name=title, exact=True))
        expect(hit).to_be_visible()
        expect(hit.locator(".snippet mark").filter(has_text=SUBSCRIPTION_SV).first).to_be_visible()
    screenshot(page, "results")


def test_misspelt_query_offers_a_correction_that_finds_results(live_server, open_page, screenshot):
    page = open_page()
    page.goto(f"{live_server}/norrsken-energi/en/")

    submit_search(page, MISSPELT_EN)
    screenshot(page, "1-did-you-mean")

    suggestion = page.get_by_role("main").locator(".suggestion")
    expect(suggestion).to_contain_text("Did you mean")
    expect(hits(page)).to_have_count(0)
    suggestion.get_by_role("link", name=CORRECTED_EN, exact=True).click()

    page.wait_for_url(lambda url: query_of(url).get("q") == [CORRECTED_EN])
    expect(hits(page).first).to_be_visible()
    expect(page.get_by_role("search").get_by_role("searchbox")).to_have_value(CORRECTED_EN)
    expect(page.get_by_role("main").locator(".suggestion")).to_have_count(0)
    screenshot(page, "2-corrected")


# ---------------------------------------------------------------- no results


def test_query_without_results_offers_popular_articles(
    live_server, open_page, javascript, screenshot
):
    promoted = {
        a["translations"]["en"]["title"]
        for a in demo_content("norrsken-energi")["articles"]
        if a.get("promoted") and "en" in a["translations"]
    }
    assert promoted, "the demo brand promotes no English article"
    page = open_page()
    page.goto(f"{live_server}/norrsken-energi/en/")
    no_match = f"No articles match “{NONSENSE}”."
    if javascript:
        # The dropdown says so as soon as the visitor stops typing.
        search_box = page.get_by_role("search").get_by_role("searchbox")
        search_box.press_sequentially(NONSENSE)
        expect(page.locator("#instant-results").get_by_role("status")).to_have_text(no_match)
        expect(page.locator("#instant-results a.instant-item")).to_have_count(0)

    submit_search(page, NONSENSE)
    screenshot(page, "no-results")

    main = page.get_by_role("main")
    expect(main.get_by_text(no_match, exact=True)).to_be_visible()
    expect(hits(page)).to_have_count(0)
    expect(main.get_by_role("heading", name="Popular articles")).to_be_visible()
    popular = main.locator(".no-results").get_by_role("listitem").get_by_role("link")
    expect(popular.first).to_be_visible()
    # The promoted ones first, then the most read in English (other browser tests read some).
    is_promoted = [title in promoted for title in popular.all_inner_texts()]
    assert is_promoted[0] and is_promoted == sorted(is_promoted, reverse=True)
