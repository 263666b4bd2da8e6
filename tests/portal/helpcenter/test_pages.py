"""Home, category, section, article, FAQ and notices pages as a visitor sees them."""

from datetime import timedelta
from urllib.parse import quote, unquote

import pytest

from kb import clock


@pytest.fixture
def site(make):
    brand = make.brand(slug="acme", locales=("ko", "en", "ja"), name="Acme", timezone="Asia/Seoul")
    category = make.category(brand, {"ko": "계정", "en": "Account", "ja": "アカウント"})
    section = make.section(category, {"ko": "로그인", "en": "Signing in", "ja": "ログイン"})
    return brand, category, section


def text(response):
    return response.get_data(as_text=True)


def test_home_shows_categories_sections_promoted_notices_and_faq(client, make, site):
    brand, category, section = site
    make.article(section, {"en": "Reset your password"}, promoted=True)
    make.article(section, {"en": "Planned maintenance"}, kind="notice")
    make.article(section, {"en": "Can I have two accounts?"}, kind="faq")
    page = client.get("/acme/en/")
    assert page.status_code == 200
    body = text(page)
    for expected in (
        "Account",
        "Signing in",
        "Reset your password",
        "Planned maintenance",
        "Can I have two accounts?",
        'role="search"',
    ):
        assert expected in body


def test_home_ui_text_is_in_the_visitors_locale(client, site):
    body = text(client.get("/acme/ko/"))
    assert '<html lang="ko">' in body
    assert "계정" in body and "로그인" in body
    assert "검색" in body  # the search button


def test_category_page_lists_its_sections_and_articles(client, make, site):
    brand, category, section = site
    article = make.article(section, {"en": "Reset your password"})
    page = client.get(f"/acme/en/categories/{category.id}-account")
    assert page.status_code == 200
    assert "Signing in" in text(page)
    assert f"/acme/en/articles/{article.id}-reset-your-password" in text(page)


@pytest.mark.parametrize("kind,make_slug", [("categories", "category"), ("sections", "section")])
def test_wrong_or_missing_slug_redirects_permanently(client, site, kind, make_slug):
    brand, category, section = site
    obj = {"category": category, "section": section}[make_slug]
    slug = {"category": "account", "section": "signing-in"}[make_slug]
    for wrong in (f"{obj.id}", f"{obj.id}-old-title"):
        response = client.get(f"/acme/en/{kind}/{wrong}")
        assert response.status_code == 301
        assert response.headers["Location"] == f"/acme/en/{kind}/{obj.id}-{slug}"


def test_article_wrong_slug_redirects_to_canonical(client, make, site):
    article = make.article(site[2], {"en": "Reset your password", "ko": "비밀번호 재설정"})
    response = client.get(f"/acme/en/articles/{article.id}-old")
    assert response.status_code == 301
    assert response.headers["Location"] == f"/acme/en/articles/{article.id}-reset-your-password"
    korean = client.get(f"/acme/ko/articles/{article.id}")
    assert korean.status_code == 301
    assert unquote(korean.headers["Location"]) == f"/acme/ko/articles/{article.id}-비밀번호-재설정"


def test_article_page_shows_body_breadcrumbs_toc_and_vote(client, make, site):
    article = make.article(
        site[2],
        {"en": "Reset your password"},
        body="## Before you start\n\nHave your phone.\n\n## Steps\n\n1. Open **Settings**.",
    )
    page = client.get(f"/acme/en/articles/{article.id}-reset-your-password")
    assert page.status_code == 200
    body = text(page)
    assert '<h1 id="article-title">Reset your password</h1>' in body
    assert "<strong>Settings</strong>" in body
    assert 'aria-label="Breadcrumbs"' in body and ">Signing in</a>" in body
    assert "In this article" in body and 'href="#before-you-start"' in body
    assert "Was this article helpful?" in body


def test_section_page_lists_articles_in_position_order_and_paginates(client, make, site):
    section = site[2]
    for n in range(35):
        make.article(section, {"en": f"Guide {n:02d}"}, position=n)
    first = text(client.get(f"/acme/en/sections/{section.id}-signing-in"))
    assert first.index("Guide 00") < first.index("Guide 01")
    assert "Guide 30" not in first and "Page 1 of 2" in first
    second = text(client.get(f"/acme/en/sections/{section.id}-signing-in?page=2"))
    assert "Guide 30" in second and "Guide 00" not in second
    assert client.get(f"/acme/en/sections/{section.id}-signing-in?page=9").status_code == 404


def test_section_page_htmx_request_gets_only_the_list(client, make, site):
    section = site[2]
    make.article(section, {"en": "Guide A"})
    url = f"/acme/en/sections/{section.id}-signing-in"
    fragment = client.get(url, headers={"HX-Request": "true"})
    assert "<html" not in text(fragment) and "Guide A" in text(fragment)
    assert "HX-Request" in fragment.headers["Vary"]
    whole = client.get(url)
    assert "<html" in text(whole) and "Guide A" in text(whole)
    boosted = client.get(url, headers={"HX-Request": "true", "HX-Boosted": "true"})
    assert "<html" in text(boosted)


@pytest.mark.parametrize("status", ["draft", "archived"])
def test_draft_and_archived_articles_are_404(client, make, site, status):
    article = make.article(site[2], {"en": "Secret plans"}, status=status)
    assert client.get(f"/acme/en/articles/{article.id}-secret-plans").status_code == 404
    assert "Secret plans" not in text(client.get(f"/acme/en/sections/{site[2].id}-signing-in"))


def test_scheduled_article_is_404_until_publish_time(client, make, site, frozen_now):
    at = frozen_now + timedelta(hours=2)
    article = make.article(site[2], {"en": "New feature"}, publish_at=at, kind="notice")
    url = f"/acme/en/articles/{article.id}-new-feature"
    clock.freeze(at - timedelta(seconds=1))
    assert client.get(url).status_code == 404
    assert "New feature" not in text(client.get("/acme/en/notices"))
    clock.freeze(at + timedelta(seconds=1))
    assert client.get(url).status_code == 200
    assert "New feature" in text(client.get("/acme/en/notices"))


def test_unpublished_article_disappears_at_unpublish_time(client, make, site, frozen_now):
    end = frozen_now + timedelta(minutes=5)
    article = make.article(site[2], {"en": "Summer sale"}, unpublish_at=end)
    url = f"/acme/en/articles/{article.id}-summer-sale"
    assert client.get(url).status_code == 200
    clock.freeze(end)
    assert client.get(url).status_code == 404


def test_article_of_another_brand_is_404(client, make, site):
    other = make.brand(slug="other", locales=("en",))
    foreign = make.article(make.section(make.category(other)), {"en": "Other brand"})
    assert client.get(f"/acme/en/articles/{foreign.id}-other-brand").status_code == 404
    assert client.get(f"/other/en/articles/{foreign.id}-other-brand").status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "articles/abc",
        "articles/-1",
        "articles/99999999",
        "articles/１２",
        "sections/0-x",
        "categories/999-x",
        "articles/1%00",
        "sections/1?page=-3",
        "search?q=%00&page=x",
        "sections/1?page=%C2%B2",  # "²": isdigit() but not int()
        "search?q=a&section=%C2%B2",
        "search?q=a&section=99999999999999",
        "requests/new?form=%C2%B2",
        "requests/new?form=99999999999999",
    ],
)
def test_junk_ids_are_404_not_500(client, site, path):
    assert client.get(f"/acme/en/{path}").status_code in (200, 301, 400, 404)


def test_untranslated_article_shows_default_language_with_banner(client, make, site):
    article = make.article(site[2], {"ko": "세금계산서 발급"}, body="## 안내\n\n본문입니다.")
    page = client.get(f"/acme/en/articles/{article.id}-세금계산서-발급")
    assert page.status_code == 200
    body = text(page)
    assert "not yet translated into English" in body
    assert '<article class="article" lang="ko"' in body
    assert f'<link rel="canonical" href="http://localhost/acme/ko/articles/{article.id}-' in body
    # a link to the language it exists in
    assert f'href="/acme/ko/articles/{article.id}-{quote("세금계산서-발급")}" hreflang="ko"' in body


def test_untranslated_article_is_listed_with_its_language(client, make, site):
    make.article(site[2], {"ko": "세금계산서 발급"})
    body = text(client.get(f"/acme/en/sections/{site[2].id}-signing-in"))
    assert "세금계산서 발급" in body and 'lang="ko"' in body and "한국어" in body


def test_fallback_prefers_the_brand_default_language(client, make, site):
    article = make.article(site[2], {"en": "English text", "ko": "한국어 본문"})
    body = text(client.get(f"/acme/ja/articles/{article.id}-한국어-본문"))
    assert "한국어 본문" in body and "English text" not in body


def test_language_switcher_shows_only_enabled_locales_and_keeps_the_article(client, make, site):
    article = make.article(site[2], {"en": "Reset", "ko": "재설정", "ja": "リセット"})
    body = text(client.get(f"/acme/en/articles/{article.id}-reset"))
    assert f'href="/acme/ko/articles/{article.id}-{quote("재설정")}"' in body
    assert f'href="/acme/ja/articles/{article.id}-{quote("リセット")}"' in body
    assert "Svenska" not in body


def test_faq_page_groups_questions_by_section(client, make, site):
    brand, category, _section = site
    billing = make.section(category, {"ko": "결제", "en": "Billing", "ja": "支払い"}, position=1)
    make.article(site[2], {"en": "Can I change my email?"}, kind="faq", body="Yes, in settings.")
    make.article(billing, {"en": "Can I get a refund?"}, kind="faq", body="Within 14 days.")
    make.article(billing, {"en": "A guide, not a question"})
    body = text(client.get("/acme/en/faq"))
    assert (
        body.index("Signing in")
        < body.index("Can I change my email?")
        < body.index("Billing")
        < body.index("Can I get a refund?")
    )
    assert "Within 14 days." in body
    assert "A guide, not a question" not in body


def test_notices_page_lists_notices_and_events_newest_first(client, make, site, frozen_now):
    make.article(
        site[2], {"en": "Old notice"}, kind="notice", publish_at=frozen_now - timedelta(days=30)
    )
    make.article(
        site[2],
        {"en": "Webinar"},
        kind="event",
        publish_at=frozen_now - timedelta(days=2),
        event_at=frozen_now + timedelta(days=5),
    )
    make.article(site[2], {"en": "A guide"})
    body = text(client.get("/acme/en/notices"))
    assert body.index("Webinar") < body.index("Old notice")
    assert "A guide" not in body
    assert "Event date:" in body


def test_notice_dates_are_shown_in_the_brand_timezone(client, make, site):
    from datetime import UTC, datetime

    # 20:30 UTC on 1 March is already 2 March in Seoul.
    make.article(
        site[2],
        {"en": "Late notice"},
        kind="notice",
        publish_at=datetime(2026, 3, 1, 20, 30, tzinfo=UTC),
    )
    body = text(client.get("/acme/en/notices"))
    assert "Mar 2, 2026" in body


def test_404_page_is_in_the_visitors_language(client, site):
    korean = client.get("/acme/ko/articles/999999")
    assert korean.status_code == 404
    assert "페이지를 찾을 수 없습니다" in text(korean) or "찾을 수 없" in text(korean)
    swedish = client.get("/nope/", headers={"Accept-Language": "sv-SE,sv;q=0.9"})
    assert swedish.status_code == 404 and '<html lang="sv">' in text(swedish)
    english = client.get("/acme/xx/", headers={"Accept-Language": "en"})
    assert english.status_code == 404 and "Page not found" in text(english)


def test_search_finds_words_in_visible_articles_only(client, make, site):
    make.article(site[2], {"en": "Change your payment method"}, body="Open billing settings.")
    make.article(site[2], {"en": "Draft payment plans"}, status="draft")
    body = text(client.get("/acme/en/search?q=payment"))
    assert "Change your payment method" in body and "Draft payment plans" not in body
    fragment = client.get("/acme/en/search?q=billing", headers={"HX-Request": "true"})
    assert "<html" not in text(fragment) and "Change your payment method" in text(fragment)


@pytest.mark.parametrize(
    "url", ["/na%00me/", "/acme/en/search?q=%00", "/acme/en/articles/1-%00", "/ACME/en/"]
)
def test_nul_bytes_and_odd_brand_slugs_are_4xx_not_500(client, site, url):
    assert client.get(url).status_code in (400, 404)


def test_search_matches_non_ascii_letters_in_any_case(client, make):
    brand = make.brand(slug="norr", locales=("sv",))
    make.article(make.section(make.category(brand)), {"sv": "Ändrat påslag för elavtal"})
    for query in ("ändrat", "ÄNDRAT", "PÅSLAG"):
        body = text(client.get(f"/norr/sv/search?q={quote(query)}"))
        assert "Ändrat påslag för elavtal" in body, query


def test_language_switcher_keeps_the_search_query(client, site):
    body = text(client.get("/acme/en/search?q=password"))
    assert 'href="/acme/ko/search?q=password"' in body


@pytest.mark.parametrize(
    "url",
    [
        "/acme/en/articles/99999999999999999999999/vote",
        "/acme/en/articles/2147483648/vote",
        "/acme/en/articles/0/vote",
    ],
)
def test_huge_ids_are_404_not_overflow_500(client, site, url):
    assert client.post(url, data={"helpful": "yes"}).status_code == 404
