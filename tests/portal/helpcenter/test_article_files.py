"""An article's attached files, listed under it for readers: its language's and the shared."""

import re

import pytest

from kb.models import Attachment


@pytest.fixture
def brand(make):
    return make.brand(slug="acme", locales=("en", "ko"))


@pytest.fixture
def section(make, brand):
    return make.section(make.category(brand))


def attach(make, article, filename, locale=None, content_type="application/pdf", size=2048):
    row = Attachment(
        brand_id=article.brand_id,
        article_id=article.id,
        locale=locale,
        sha256=f"{article.id:064d}",
        filename=filename,
        content_type=content_type,
        size=size,
    )
    make.session.add(row)
    make.session.commit()
    return row


def files_block(client, url) -> str:
    html = client.get(url, follow_redirects=True).get_data(as_text=True)
    found = re.search(r'<section[^>]*aria-labelledby="files-heading".*?</section>', html, re.S)
    return found.group(0) if found else ""


def test_article_lists_its_shared_and_own_language_files(client, make, section):
    """Issue 15 item 32: a PDF uploaded for an article was reachable only if the text linked it."""
    article = make.article(section, {"en": "Returns", "ko": "반품"})
    shared = attach(make, article, "Return form.pdf")
    english = attach(make, article, "Label (English).pdf", locale="en")
    korean = attach(make, article, "안내.pdf", locale="ko")
    en = files_block(client, f"/acme/en/articles/{article.id}")
    assert f'href="/files/{shared.id}/Return-form.pdf"' in en and "Return form.pdf" in en
    assert f"/files/{english.id}/" in en and "Label (English).pdf" in en
    assert "안내.pdf" not in en and f"/files/{korean.id}/" not in en
    assert "PDF" in en and "2 KB" in en
    ko = files_block(client, f"/acme/ko/articles/{article.id}")
    assert "Return form.pdf" in ko and "안내.pdf" in ko and "Label (English).pdf" not in ko


def test_files_of_a_draft_translation_or_another_article_are_not_listed(client, make, section):
    """Issue 15 item 32: only files attached to that article and readable by the visitor."""
    article = make.article(section, {"en": "Returns"})
    draft = make.article(section, {"ko": "반품 초안"}, status="draft")
    other = make.article(section, {"en": "Shipping"})
    attach(make, other, "Shipping rates.pdf")
    # The Korean translation is a draft: a reader of /ko/ gets the English one, and its files.
    from kb.models import Translation

    make.session.add(
        Translation(
            article_id=article.id,
            locale="ko",
            title="반품",
            slug="returns-ko",
            status="draft",
            body_md="",
            body_html="",
            toc=[],
        )
    )
    make.session.commit()
    attach(make, article, "초안 사진.png", locale="ko", content_type="image/png")
    attach(make, draft, "Draft only.pdf")
    ko = files_block(client, f"/acme/ko/articles/{article.id}")
    assert "초안 사진.png" not in ko and "Shipping rates.pdf" not in ko
    assert files_block(client, f"/acme/en/articles/{article.id}") == ""  # no files, no heading


def test_files_heading_is_translated(client, make, section):
    """Issue 15 item 32: the list is headed in the page's language."""
    article = make.article(section, {"en": "Returns", "ko": "반품"})
    attach(make, article, "Return form.pdf")
    assert "첨부 파일" in files_block(client, f"/acme/ko/articles/{article.id}")


def test_a_file_added_or_removed_shows_on_the_cached_article_page_at_once(client, make, section):
    """Issue 15 item 32: the article page is cached; a new or deleted file changes it."""
    article = make.article(section, {"en": "Returns", "ko": "반품"})
    url = f"/acme/en/articles/{article.id}"
    assert files_block(client, url) == ""
    row = attach(make, article, "Return form.pdf")
    assert "Return form.pdf" in files_block(client, url)
    make.session.delete(row)
    make.session.commit()
    assert files_block(client, url) == ""
