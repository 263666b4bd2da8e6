"""The article editor: create, translate, preview, conflicts, revisions, schedules, bad input."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from kb import clock
from kb.models import Revision, Translation
from tests.conftest import ago


@pytest.fixture
def brand(make):
    brand = make.brand(slug="acme", locales=("ko", "en"), timezone="Asia/Seoul")
    return brand


@pytest.fixture
def section(make, brand):
    return make.section(
        make.category(brand, {"ko": "계정", "en": "Account"}), {"ko": "로그인", "en": "Signing in"}
    )


@pytest.fixture
def editor(login, brand):
    return login("editor", brands=[brand])


def form_data(section, **overrides):
    data = {
        "title": "Reset your password",
        "slug": "",
        "body_md": "## Steps\n\n1. Open settings.",
        "section_id": str(section.id),
        "kind": "guide",
        "labels": "password, Sign-in",
        "position": "3",
        "status": "draft",
        "publish_at": "",
        "unpublish_at": "",
        "event_at": "",
        "base_version": "",
        "action": "save",
    }
    data.update(overrides)
    return data


def translations(ctx, article_id=None):
    ctx.expire_all()
    stmt = select(Translation)
    if article_id:
        stmt = stmt.where(Translation.article_id == article_id)
    return {t.locale: t for t in ctx.scalars(stmt)}


def test_editor_creates_a_draft_article_with_a_revision(client, ctx, editor, section):
    response = client.post("/admin/kb/articles/new?brand=acme&locale=en", data=form_data(section))
    assert response.status_code == 303
    t = translations(ctx)["en"]
    assert t.title == "Reset your password" and t.slug == "reset-your-password"
    assert t.status == "draft" and t.author_id == editor.id
    assert t.article.label_names == ["password", "sign-in"] and t.article.position == 3
    assert response.headers["Location"] == f"/admin/kb/articles/{t.article_id}/en"
    assert [r.version for r in ctx.scalars(select(Revision))] == [1]
    assert client.get(f"/acme/en/articles/{t.article_id}").status_code == 404  # a draft


def test_missing_title_and_unknown_section_come_back_beside_the_fields(
    client, ctx, editor, section
):
    data = form_data(section, title="  ", section_id="999999", body_md="Typed text stays")
    response = client.post("/admin/kb/articles/new?brand=acme&locale=en", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Give the article a title." in page or "This field is required." in page
    assert "Typed text stays" in page
    assert translations(ctx) == {}


def test_slug_already_used_in_the_brand_and_locale_is_refused(client, ctx, editor, section, make):
    make.article(section, {"en": "Reset your password"})
    response = client.post("/admin/kb/articles/new?brand=acme&locale=en", data=form_data(section))
    assert response.status_code == 400
    assert "already uses this slug" in response.get_data(as_text=True)


def test_publish_time_is_entered_in_the_brand_timezone(client, ctx, editor, section, frozen_now):
    local = (frozen_now + timedelta(days=2)).astimezone(
        __import__("zoneinfo").ZoneInfo("Asia/Seoul")
    )
    typed = local.strftime("%Y-%m-%dT%H:%M")
    client.post(
        "/admin/kb/articles/new?brand=acme&locale=en",
        data=form_data(section, status="published", publish_at=typed),
    )
    t = translations(ctx)["en"]
    assert t.publish_at == datetime.strptime(typed, "%Y-%m-%dT%H:%M").replace(
        tzinfo=__import__("zoneinfo").ZoneInfo("Asia/Seoul")
    ).astimezone(UTC)


def test_publish_time_in_the_past_publishes_now_and_says_so(
    client, ctx, editor, section, frozen_now
):
    response = client.post(
        "/admin/kb/articles/new?brand=acme&locale=en",
        data=form_data(section, status="published", publish_at="2020-01-01T09:00"),
        follow_redirects=True,
    )
    assert "published now" in response.get_data(as_text=True)
    t = translations(ctx)["en"]
    assert t.publish_at == frozen_now
    assert client.get(f"/acme/en/articles/{t.article_id}").status_code in (200, 301)


def test_unpublish_before_publish_is_refused(client, ctx, editor, section):
    response = client.post(
        "/admin/kb/articles/new?brand=acme&locale=en",
        data=form_data(
            section,
            status="published",
            publish_at="2030-05-02T10:00",
            unpublish_at="2030-05-01T10:00",
        ),
    )
    assert response.status_code == 400
    assert "must come after the publish time" in response.get_data(as_text=True)
    assert translations(ctx) == {}


def test_markdown_with_script_is_saved_as_typed_but_rendered_harmless(client, ctx, editor, section):
    body = "<script>alert(1)</script> [x](javascript:alert(1))"
    client.post(
        "/admin/kb/articles/new?brand=acme&locale=en",
        data=form_data(section, body_md=body, status="published"),
    )
    t = translations(ctx)["en"]
    assert t.body_md == body
    assert "<script" not in t.body_html and 'href="javascript' not in t.body_html
    preview = client.post(
        "/admin/kb/preview", data={"body_md": body}, headers={"HX-Request": "true"}
    ).get_data(as_text=True)
    assert "<script" not in preview and "&lt;script&gt;" in preview


def test_live_preview_renders_like_the_public_page(client, editor):
    response = client.post(
        "/admin/kb/preview",
        data={"body_md": "## Hi\n\n| a |\n|---|\n| 1 |"},
        headers={"HX-Request": "true"},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html
    assert '<h2 id="hi">Hi</h2>' in html and "<table>" in html


def test_preview_without_javascript_keeps_everything_typed(client, ctx, editor, section):
    data = form_data(section, title="Half written", body_md="**bold** idea", action="preview")
    page = client.post("/admin/kb/articles/new?brand=acme&locale=en", data=data)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "<strong>bold</strong>" in html and 'value="Half written"' in html
    assert translations(ctx) == {}


def test_translating_shows_the_source_side_by_side_and_marks_outdated(
    client, ctx, editor, section, make
):
    article = make.article(section, {"ko": "비밀번호 재설정"}, body="원문 본문")
    page = client.get(f"/admin/kb/articles/{article.id}/en").get_data(as_text=True)
    assert "Source: 한국어" in page and "원문 본문" in page
    client.post(
        f"/admin/kb/articles/{article.id}/en",
        data=form_data(section, title="Reset password", body_md="English"),
    )
    en = translations(ctx, article.id)["en"]
    assert en.source_version == 1
    listing = client.get("/admin/kb/?brand=acme&locale=en&status=outdated").get_data(as_text=True)
    assert "Reset password" not in listing
    ko_version = translations(ctx, article.id)["ko"].version
    client.post(
        f"/admin/kb/articles/{article.id}/ko",
        data=form_data(
            section, title="비밀번호 재설정", body_md="새 원문", base_version=str(ko_version)
        ),
    )
    listing = client.get("/admin/kb/?brand=acme&locale=en&status=outdated").get_data(as_text=True)
    assert "Reset password" in listing


def test_missing_translation_filter_lists_untranslated_articles(client, editor, section, make):
    make.article(section, {"ko": "한국어만"})
    make.article(section, {"ko": "둘 다", "en": "Both"})
    listing = client.get("/admin/kb/?brand=acme&locale=en&status=missing").get_data(as_text=True)
    assert "한국어만" in listing and "둘 다" not in listing


def test_list_filters_by_kind_label_and_title(client, editor, section, make):
    make.article(section, {"en": "Billing FAQ"}, kind="faq", labels=("billing",))
    make.article(section, {"en": "Login guide"}, labels=("login",))
    assert "Login guide" not in client.get("/admin/kb/?kind=faq").get_data(as_text=True)
    assert "Billing FAQ" not in client.get("/admin/kb/?label=login").get_data(as_text=True)
    found = client.get("/admin/kb/?q=billing", headers={"HX-Request": "true"})
    assert "<html" not in found.get_data(as_text=True)
    assert "Billing FAQ" in found.get_data(as_text=True)


def test_a_stale_save_shows_both_versions_and_keeps_what_was_typed(
    client, ctx, editor, section, make
):
    article = make.article(section, {"en": "Original"}, body="first")
    t = translations(ctx, article.id)["en"]
    start = str(t.version)
    client.post(
        f"/admin/kb/articles/{article.id}/en",
        data=form_data(section, title="Theirs", body_md="their text", base_version=start),
    )
    mine = client.post(
        f"/admin/kb/articles/{article.id}/en",
        data=form_data(section, title="Mine", body_md="my text", base_version=start),
    )
    page = mine.get_data(as_text=True)
    assert mine.status_code == 409
    assert "Someone else saved this article" in page
    assert "their text" in page and "my text" in page and 'value="Mine"' in page
    assert translations(ctx, article.id)["en"].title == "Theirs"
    newer = re.search(r'name="base_version" type="hidden" value="(\d+)"', page).group(1)
    again = client.post(
        f"/admin/kb/articles/{article.id}/en",
        data=form_data(section, title="Mine", body_md="my text", base_version=newer),
    )
    assert again.status_code == 303
    assert translations(ctx, article.id)["en"].title == "Mine"


def test_revisions_show_a_diff_and_restore_an_old_version(client, ctx, editor, section):
    client.post(
        "/admin/kb/articles/new?brand=acme&locale=en",
        data=form_data(section, body_md="line one\nline two"),
    )
    t = translations(ctx)["en"]
    client.post(
        f"/admin/kb/articles/{t.article_id}/en",
        data=form_data(section, body_md="line one\nline 2", base_version="1"),
    )
    revisions = {r.version: r for r in ctx.scalars(select(Revision))}
    assert set(revisions) == {1, 2}
    diff = client.get(
        f"/admin/kb/articles/{t.article_id}/en/revisions?a={revisions[1].id}&b={revisions[2].id}"
    ).get_data(as_text=True)
    assert '<span class="removed">-line two</span>' in diff
    assert '<span class="added">+line 2</span>' in diff
    restored = client.post(
        f"/admin/kb/articles/{t.article_id}/en/revisions/{revisions[1].id}/restore"
    )
    assert restored.status_code == 303
    t = translations(ctx, t.article_id)["en"]
    assert t.body_md == "line one\nline two" and t.version == 3


def test_preview_link_shows_a_draft_to_someone_without_an_account(
    app, client, ctx, editor, section, make
):
    article = make.article(section, {"en": "Secret draft"}, status="draft", body="**draft**")
    response = client.post(f"/admin/kb/articles/{article.id}/en/share", follow_redirects=True)
    link = re.search(r"http://localhost(/preview/[\w.\-]+)", response.get_data(as_text=True))
    stranger = app.test_client()
    page = stranger.get(link.group(1))
    assert page.status_code == 200
    assert "Secret draft" in page.get_data(as_text=True)
    assert "<strong>draft</strong>" in page.get_data(as_text=True)
    assert page.headers["X-Robots-Tag"] == "noindex, nofollow"
    assert stranger.get(link.group(1)[:-3] + "abc").status_code == 404


def test_preview_link_expires(app, client, ctx, editor, section, make):
    article = make.article(section, {"en": "Old draft"}, status="draft")
    response = client.post(f"/admin/kb/articles/{article.id}/en/share", follow_redirects=True)
    path = re.search(r"http://localhost(/preview/[\w.\-]+)", response.get_data(as_text=True))
    app.config["PREVIEW_LINK_DAYS"] = -1
    try:
        assert app.test_client().get(path.group(1)).status_code == 404
    finally:
        app.config["PREVIEW_LINK_DAYS"] = 7


def test_schedule_page_lists_upcoming_events_in_the_brand_timezone(
    client, editor, section, make, frozen_now
):
    at = datetime(2030, 3, 1, 15, 0, tzinfo=UTC)  # midnight in Seoul
    make.article(section, {"en": "Launch"}, publish_at=at)
    page = client.get("/admin/kb/schedule").get_data(as_text=True)
    assert "Launch" in page and "2030-03-02 00:00 KST" in page and "Asia/Seoul" in page


def test_scheduled_article_appears_publicly_at_its_time(client, ctx, editor, section, frozen_now):
    at = frozen_now + timedelta(minutes=1)
    local = at.astimezone(__import__("zoneinfo").ZoneInfo("Asia/Seoul")).strftime("%Y-%m-%dT%H:%M")
    client.post(
        "/admin/kb/articles/new?brand=acme&locale=en",
        data=form_data(section, status="published", publish_at=local),
    )
    t = translations(ctx)["en"]
    url = f"/acme/en/articles/{t.article_id}-{t.slug}"
    clock.freeze(t.publish_at - timedelta(seconds=1))
    assert client.get(url).status_code == 404
    clock.freeze(t.publish_at + timedelta(seconds=1))
    assert client.get(url).status_code == 200


def test_saving_a_published_article_unchanged_keeps_its_publish_time(
    client, ctx, editor, section, make, frozen_now
):
    """Issue 15 item 22: saving a published article without changing anything does not re-date
    it ("published now") nor move an old notice to the top of Notices."""
    old = frozen_now - timedelta(days=30, seconds=17)
    notice = make.article(section, {"en": "Old notice"}, kind="notice", publish_at=old)
    make.article(
        section, {"en": "Newer notice"}, kind="notice", publish_at=frozen_now - timedelta(days=2)
    )
    editor_url = f"/admin/kb/articles/{notice.id}/en"
    page = client.get(editor_url).get_data(as_text=True)
    typed = {
        name: re.search(rf'name="{name}"[^>]*value="([^"]*)"', page).group(1)
        for name in ("title", "slug", "publish_at", "base_version")
    }
    response = client.post(
        editor_url,
        data=form_data(section, kind="notice", status="published", labels="", **typed),
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert "published now" not in response.get_data(as_text=True)
    assert translations(ctx, notice.id)["en"].publish_at == old
    notices = client.get("/acme/en/notices").get_data(as_text=True)
    assert notices.index("Newer notice") < notices.index("Old notice")


def test_changing_the_publish_time_of_a_published_article_moves_it(
    client, ctx, editor, section, make, frozen_now
):
    """Issue 15 item 22: only a change of the publish time moves it (to now when in the past)."""
    notice = make.article(section, {"en": "Old notice"}, kind="notice", publish_at=ago(days=30))
    t = translations(ctx, notice.id)["en"]
    response = client.post(
        f"/admin/kb/articles/{notice.id}/en",
        data=form_data(
            section,
            kind="notice",
            status="published",
            title="Old notice",
            slug=t.slug,
            publish_at="2020-01-01T09:00",
            base_version=str(t.version),
        ),
        follow_redirects=True,
    )
    assert "published now" in response.get_data(as_text=True)
    assert translations(ctx, notice.id)["en"].publish_at == frozen_now
