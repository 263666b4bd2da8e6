"""Rendered pages are reused until content changes or the next scheduled change comes."""

import re
from datetime import timedelta

import pytest

from kb import clock


@pytest.fixture
def section(make):
    brand = make.brand(slug="acme", locales=("en", "ko"))
    return make.section(
        make.category(brand, {"en": "Account", "ko": "계정"}), {"en": "Sign in", "ko": "로그인"}
    )


def test_second_visit_is_served_from_the_cache(client, make, section):
    make.article(section, {"en": "Reset your password"}, promoted=True)
    first = client.get("/acme/en/")
    second = client.get("/acme/en/")
    assert first.headers["X-Portal-Cache"] == "miss"
    assert second.headers["X-Portal-Cache"] == "hit"
    assert "Reset your password" in second.get_data(as_text=True)


def test_each_visitor_gets_their_own_csrf_token_from_a_cached_page(app, make, section):
    article = make.article(section, {"en": "Reset"})
    url = f"/acme/en/articles/{article.id}-reset"
    tokens = []
    for _ in range(2):
        page = app.test_client().get(url).get_data(as_text=True)
        assert "__portal_csrf" not in page
        tokens.append(re.search(r'name="csrf_token" value="([^"]+)"', page).group(1))
    assert tokens[0] != tokens[1]


def test_a_content_change_is_visible_at_the_next_request(client, make, ctx, section):
    article = make.article(section, {"en": "Old title"}, promoted=True)
    assert "Old title" in client.get("/acme/en/").get_data(as_text=True)
    article.translations[0].title = "New title"
    ctx.commit()
    page = client.get("/acme/en/")
    assert page.headers["X-Portal-Cache"] == "miss"
    assert "New title" in page.get_data(as_text=True)


def test_cached_list_shows_a_scheduled_article_at_its_publish_time(
    client, make, section, frozen_now
):
    at = frozen_now + timedelta(minutes=30)
    make.article(section, {"en": "Launch notice"}, kind="notice", publish_at=at)
    clock.freeze(at - timedelta(seconds=1))
    assert "Launch notice" not in client.get("/acme/en/notices").get_data(as_text=True)
    assert client.get("/acme/en/notices").headers["X-Portal-Cache"] == "hit"
    clock.freeze(at + timedelta(seconds=1))
    page = client.get("/acme/en/notices")
    assert page.headers["X-Portal-Cache"] == "miss"
    assert "Launch notice" in page.get_data(as_text=True)


def test_a_visitors_vote_is_not_shown_to_others(app, make, section):
    article = make.article(section, {"en": "Reset"})
    url = f"/acme/en/articles/{article.id}-reset"
    voter, other = app.test_client(), app.test_client()
    voter.get(url)
    voter.post(f"/acme/en/articles/{article.id}/vote", data={"helpful": "yes"})
    assert "Thank you for your feedback." in voter.get(url).get_data(as_text=True)
    assert "Thank you for your feedback." not in other.get(url).get_data(as_text=True)


def test_fragments_and_whole_pages_are_cached_apart(client, make, section):
    make.article(section, {"en": "Guide"})
    url = f"/acme/en/sections/{section.id}-sign-in"
    client.get(url)
    fragment = client.get(url, headers={"HX-Request": "true"})
    assert "<html" not in fragment.get_data(as_text=True)
    assert "<html" in client.get(url).get_data(as_text=True)


def test_a_brand_taken_offline_is_404_at_once(client, make, ctx, section):
    client.get("/acme/en/")
    from kb.models import Brand

    brand = ctx.get(Brand, section.brand_id)
    brand.status = "suspended"
    ctx.commit()
    assert client.get("/acme/en/").status_code == 404


def test_cached_brand_survives_commits_across_requests(app, client, make, section):
    """With the per-process brand cache on, a detached brand keeps serving after a vote's commit."""
    article = make.article(section, {"en": "Reset"})
    url = f"/acme/en/articles/{article.id}-reset"
    app.config["BRAND_CACHE_SECONDS"] = 60
    try:
        assert client.get(url).status_code == 200
        client.post(f"/acme/en/articles/{article.id}/vote", data={"helpful": "yes"})
        assert client.get(url).status_code == 200
        assert client.get("/acme/en/faq").status_code == 200
    finally:
        app.config["BRAND_CACHE_SECONDS"] = 0


def test_a_signed_in_staff_members_page_is_never_shown_to_visitors(
    app, client, make, login, section
):
    make.article(section, {"en": "Reset"}, promoted=True)
    staff = login("editor")
    seen_by_staff = client.get("/acme/en/")
    assert staff.name in seen_by_staff.get_data(as_text=True)
    visitor = app.test_client().get("/acme/en/")
    assert staff.name not in visitor.get_data(as_text=True)
    assert "Sign out" not in visitor.get_data(as_text=True)
    assert app.test_client().get("/acme/en/").headers["X-Portal-Cache"] == "hit"


def test_a_flashed_message_is_not_cached_for_others(app, client, make, section):
    make.article(section, {"en": "Reset"}, promoted=True)
    with client.session_transaction() as session:
        session["_flashes"] = [("success", "Only for you")]
    assert "Only for you" in client.get("/acme/en/").get_data(as_text=True)
    assert "Only for you" not in app.test_client().get("/acme/en/").get_data(as_text=True)


def test_a_remembered_sign_in_is_never_served_a_cached_page(app, make, section):
    make.article(section, {"en": "Reset"}, promoted=True)
    app.test_client().get("/acme/en/")  # cached for visitors
    remembered = app.test_client()
    remembered.set_cookie("remember_token", "1|whatever")
    assert remembered.get("/acme/en/").headers.get("X-Portal-Cache") != "hit"
