"""Back-office times: one zone per page, said on the page (as on the agents' pages)."""

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from kb import clock
from kb.models import Revision, Translation
from portal.mail import outbox

SAVED = datetime(2026, 1, 1, 15, 30, tzinfo=UTC)  # 00:30 on 2 January in Seoul


@pytest.fixture
def brand(make):
    return make.brand(slug="acme", locales=("en",), timezone="Asia/Seoul")


@pytest.fixture
def article(ctx, make, brand):
    article = make.article(make.section(make.category(brand)), {"en": "Reset your password"})
    t = ctx.scalar(select(Translation).where(Translation.article_id == article.id))
    t.updated_at = SAVED
    ctx.add(
        Revision(
            translation_id=t.id,
            version=1,
            title=t.title,
            slug=t.slug,
            body_md=t.body_md,
            status=t.status,
            created_at=SAVED,
        )
    )
    ctx.commit()
    return article


def test_article_list_times_are_in_the_editors_zone_and_named(client, login, brand, article):
    """Issue 15 item 13: /admin/kb/ showed UTC without a zone."""
    login("editor", brands=[brand])
    page = client.get("/admin/kb/").get_data(as_text=True)
    assert "Jan 2, 2026, 12:30" in page or "Jan 2, 2026 12:30" in page
    assert "Jan 1, 2026" not in page
    assert "Times in Asia/Seoul." in page


def test_revision_times_are_in_the_brands_zone_and_named(client, login, brand, article):
    """Issue 15 item 13: the revisions page showed UTC without a zone."""
    login("editor", brands=[brand])
    page = client.get(f"/admin/kb/articles/{article.id}/en/revisions").get_data(as_text=True)
    assert "Jan 2, 2026" in page and "Jan 1, 2026" not in page
    assert "Times in Asia/Seoul." in page


def test_mail_page_times_are_in_the_admins_zone_and_named(client, ctx, login, brand):
    """Issue 15 item 13: /admin/mail showed UTC without a zone."""
    outbox.enqueue(
        ctx,
        sender="help@acme.test",
        recipient="a@example.test",
        subject="Hello",
        text_body="Hi",
        brand_id=brand.id,
        now=SAVED,
    )
    ctx.commit()
    login("admin", brands=[brand])
    page = client.get("/admin/mail").get_data(as_text=True)
    assert "Jan 2, 2026" in page and "Jan 1, 2026" not in page
    assert "Times in Asia/Seoul." in page


def test_back_office_without_a_brand_says_its_times_are_utc(client, login, frozen_now):
    """Issue 15 item 13: a person with no brand reads UTC, and is told so."""
    login("admin")
    assert "Times in UTC." in client.get("/admin/kb/").get_data(as_text=True)
    clock.freeze(None)


def test_scheduled_save_message_writes_the_time_as_the_schedule_page(
    client, login, brand, make, frozen_now
):
    """Issue 15 item 16: the editor's save message for a scheduled article writes its time as
    /admin/kb/schedule does (brand's zone, named), so the two can be compared at a glance."""
    login("editor", brands=[brand])
    section = make.section(make.category(brand))
    data = {
        "title": "Launch",
        "section_id": str(section.id),
        "kind": "guide",
        "status": "published",
        "publish_at": "2030-03-02T00:00",  # typed in Seoul time
        "action": "save",
    }
    saved = client.post(
        "/admin/kb/articles/new?brand=acme&locale=en", data=data, follow_redirects=True
    )
    flashes = re.search(r'<div class="flashes".*?</div>', saved.get_data(as_text=True), re.S)
    assert "2030-03-02 00:00 KST" in flashes.group(0)
    assert "2030-03-02 00:00 KST" in client.get("/admin/kb/schedule").get_data(as_text=True)
