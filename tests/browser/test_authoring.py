"""An editor writes an article with a preview, schedules it in Seoul time, and readers see it."""

import re
import tomllib
import uuid
from datetime import timedelta
from zoneinfo import ZoneInfo

from playwright.sync_api import Page, expect

from kb import clock
from portal.demo import CONTENT_DIR, DEMO_PASSWORD

EDITOR_EMAIL = "editor@example.com"
BRAND = "hanbit-pay"
LOCALE = "en"
# Hanbit Pay's timezone (UTC+9, no daylight saving): "Publish at" is typed in it.
SEOUL = ZoneInfo("Asia/Seoul")
# A section no other browser test walks through (they use the first section and the sections
# of the Korean-only articles), so the article added here changes none of their pages.
SECTION_KEY = "fees-limits"
HEADING = "Before you start"
BOLD = "settled within one business day"
# The brand snapshot behind the page cache may lag a save by BRAND_CACHE_SECONDS (2 s by
# default, portal/web/tenancy.py): a list page is read again for a little longer than that.
CONTENT_LAG_MS = 3_000


def hanbit_pay() -> dict:
    return tomllib.loads((CONTENT_DIR / f"{BRAND}.toml").read_text(encoding="utf-8"))


def section_option_label(content: dict, key: str) -> str:
    """The editor's label for a section: "Category › Section" in the brand's default language."""
    locale = content["brand"]["default_locale"]
    section = next(s for s in content["sections"] if s["key"] == key)
    category = next(c for c in content["categories"] if c["key"] == section["category"])
    return f"{category['title'][locale]} › {section['title'][locale]}"


def sign_in(page: Page, base_url: str, email: str) -> None:
    page.goto(f"{base_url}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(rf"^{base_url}/admin/"))


def section_lists(page: Page, url: str, title: str, within_ms: int = 0) -> bool:
    """Whether the section page at `url` links to `title`, reading it again for `within_ms`."""
    waited = 0
    while True:
        response = page.goto(url)
        assert response is not None and response.status == 200
        link = page.get_by_role("main").get_by_role("link", name=title, exact=True)
        if link.count() or waited >= within_ms:
            return bool(link.count())
        page.wait_for_timeout(250)
        waited += 250


def test_scheduled_article_appears_at_its_seoul_publish_time(
    live_server, open_page, javascript, screenshot
):
    content = hanbit_pay()
    assert ZoneInfo(content["brand"]["timezone"]) == SEOUL
    mode = "js" if javascript else "nojs"
    title = f"Fee refunds for scheduled payouts {mode} {uuid.uuid4().hex[:8]}"
    body = f"## {HEADING}\n\nRefunded fees are **{BOLD}**.\n"

    editor = open_page()
    sign_in(editor, live_server, EDITOR_EMAIL)
    editor.goto(f"{live_server}/admin/kb/articles/new?brand={BRAND}&locale={LOCALE}")
    expect(editor.get_by_role("heading", level=1)).to_contain_text("New article")
    expect(editor.get_by_role("group", name=re.compile("Publishing"))).to_contain_text(
        "times in Asia/Seoul"
    )
    editor.get_by_label("Title").fill(title)
    section_select = editor.get_by_label("Section")
    section_select.select_option(label=section_option_label(content, SECTION_KEY))
    section_id = section_select.input_value()
    editor.get_by_label("Text (Markdown)").fill(body)

    preview = editor.locator("#preview")
    if not javascript:
        editor.get_by_role("button", name="Preview without saving").click()
        expect(editor.get_by_label("Title")).to_have_value(title)
        expect(editor.get_by_label("Text (Markdown)")).to_have_value(body)
        expect(editor.get_by_label("Section")).to_have_value(section_id)
    # With htmx the preview follows the typing (debounced) without a page load.
    expect(preview.get_by_role("heading", level=2)).to_have_text(HEADING)
    expect(preview.locator("strong")).to_have_text(BOLD)
    expect(editor).to_have_url(re.compile(r"/admin/kb/articles/new\?"))
    screenshot(editor, "1-preview")

    try:
        # A whole minute plus 5 s, so "a minute ahead" names one minute whatever the real time.
        clock.freeze(clock.now().replace(second=5, microsecond=0))
        publish_at = clock.now().replace(second=0) + timedelta(minutes=1)
        publish_local = publish_at.astimezone(SEOUL).strftime("%Y-%m-%dT%H:%M")

        editor.get_by_label("Status").select_option(label="Published")
        editor.get_by_label("Publish at", exact=True).fill(publish_local)
        editor.get_by_role("button", name="Save", exact=True).click()

        expect(editor).to_have_url(re.compile(rf"^{live_server}/admin/kb/articles/\d+/{LOCALE}$"))
        expect(editor.get_by_role("status")).to_contain_text("Article saved.")
        expect(editor.get_by_role("status")).not_to_contain_text("published now")
        # Read back in the brand's timezone: the same wall-clock minute that was typed.
        expect(editor.get_by_label("Publish at", exact=True)).to_have_value(publish_local)
        expect(editor.get_by_label("Status")).to_have_value("published")
        screenshot(editor, "2-saved")
        article_id = re.search(r"/articles/(\d+)/", editor.url).group(1)

        article_url = f"{live_server}/{BRAND}/{LOCALE}/articles/{article_id}"
        section_url = f"{live_server}/{BRAND}/{LOCALE}/sections/{section_id}"
        visitor = open_page()
        response = visitor.goto(article_url)
        assert response is not None and response.status == 404
        expect(visitor.get_by_role("heading", level=1)).to_have_text("Page not found")
        screenshot(visitor, "3-not-found")
        assert not section_lists(visitor, section_url, title)

        clock.freeze(publish_at + timedelta(seconds=1))
        response = visitor.goto(article_url)
        assert response is not None and response.status == 200
        expect(visitor).to_have_url(re.compile(rf"^{article_url}-[^/?#]+$"))
        expect(visitor.get_by_role("heading", level=1)).to_have_text(title)
        article = visitor.get_by_role("article")
        expect(article.get_by_role("heading", level=2)).to_have_text(HEADING)
        expect(article.locator("strong")).to_have_text(BOLD)
        screenshot(visitor, "4-published")
        assert section_lists(visitor, section_url, title, within_ms=CONTENT_LAG_MS)
    finally:
        clock.freeze(None)
