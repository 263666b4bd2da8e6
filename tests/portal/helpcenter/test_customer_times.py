"""Times customers read: to the minute, in the brand's zone, with the zone named; the footer
in the page's language."""

import re
import secrets
from datetime import UTC, datetime

import pytest

from portal.desk.models import Ticket

AT = datetime(2030, 3, 1, 6, 0, 7, tzinfo=UTC)  # 15:00:07 in Seoul
SECONDS = re.compile(r"\d:\d\d:\d\d")


@pytest.fixture
def brand(make):
    return make.brand(slug="acme", locales=("en", "ko", "ja"), timezone="Asia/Seoul")


@pytest.fixture
def event(make, brand):
    section = make.section(make.category(brand))
    return make.article(
        section, {"en": "Spring webinar", "ko": "봄 웨비나"}, kind="event", event_at=AT
    )


def times(html: str) -> list[str]:
    return re.findall(r"<time [^>]*>([^<]*)</time>", html)


def test_event_date_on_the_article_has_no_seconds_and_names_the_zone(client, brand, event):
    """Issue 15 item 34: customers saw "Mar 1, 2030, 3:00:07 PM" (seconds, no zone)."""
    html = client.get(f"/acme/en/articles/{event.id}", follow_redirects=True).get_data(as_text=True)
    shown = [t for t in times(html) if "2030" in t]
    assert shown and all("KST" in t and not SECONDS.search(t) for t in shown), shown
    assert "3:00" in shown[0]


def test_event_date_on_notices_has_no_seconds_and_names_the_zone(client, brand, event):
    """Issue 15 item 34: the same on /notices, in Korean too."""
    html = client.get("/acme/ko/notices").get_data(as_text=True)
    shown = [t for t in times(html) if "2030" in t]
    assert shown and all("KST" in t and not SECONDS.search(t) for t in shown), shown


def test_my_request_times_have_no_seconds_and_name_the_zone(client, make, brand, login):
    """Issue 15 item 34: My requests and the request page showed seconds and no zone."""
    me = login("customer")
    ticket = Ticket(
        brand_id=brand.id,
        locale="en",
        subject="Card declined",
        description="About it",
        status="open",
        requester_id=me.id,
        requester_name=me.name,
        requester_email=me.email,
        link_secret=secrets.token_hex(16),
        created_at=AT,
        updated_at=AT,
    )
    make.session.add(ticket)
    make.session.commit()
    listing = client.get("/acme/en/requests").get_data(as_text=True)
    page = client.get(f"/acme/en/requests/{ticket.id}").get_data(as_text=True)
    for html in (listing, page):
        assert "Mar 1, 2030" in html and "KST" in html
        assert not SECONDS.search(html)


@pytest.mark.parametrize("locale", ["ko", "ja"])
def test_powered_by_portal_is_translated_in_the_footer(client, brand, locale):
    """Issue 15 item 34: "Powered by Portal" stayed English in the ko and ja footers."""
    html = client.get(f"/acme/{locale}/").get_data(as_text=True)
    footer = re.search(r'<footer class="site-footer">.*?</footer>', html, re.S).group(0)
    assert "Portal" in footer and "Powered by" not in footer


def test_past_events_are_marked_as_past_on_notices(client, make, brand, frozen_now):
    """Issue 15 item 16: an event whose date has gone by looked like an upcoming one."""
    from datetime import timedelta

    section = make.section(make.category(brand))
    make.article(
        section, {"en": "Old meetup"}, kind="event", event_at=frozen_now - timedelta(days=3)
    )
    make.article(
        section, {"en": "Next meetup"}, kind="event", event_at=frozen_now + timedelta(days=3)
    )
    html = client.get("/acme/en/notices").get_data(as_text=True)
    items = dict(
        (re.search(r">(Old meetup|Next meetup)</a>", li).group(1), li)
        for li in re.findall(r"<li>.*?</li>", html, re.S)
        if "meetup" in li
    )
    assert "Past event" in items["Old meetup"]
    assert "Past event" not in items["Next meetup"]


def test_an_event_is_marked_past_once_its_date_goes_by_even_if_cached(client, make, brand, event):
    """Issue 15 item 16: the cached notices and article pages turn "past" at the event's time."""
    from datetime import timedelta

    from kb import clock

    article_url = f"/acme/en/articles/{event.id}-spring-webinar"
    clock.freeze(AT - timedelta(minutes=1))
    assert "Past event" not in client.get("/acme/en/notices").get_data(as_text=True)
    assert "Past event" not in client.get(article_url).get_data(as_text=True)
    clock.freeze(AT + timedelta(minutes=1))
    assert "Past event" in client.get("/acme/en/notices").get_data(as_text=True)
    assert "Past event" in client.get(article_url).get_data(as_text=True)


def test_past_events_are_marked_as_past_on_the_home_page_too(client, make, brand, frozen_now):
    """Issue 15 item 16: the home page's notices and events say which events are over."""
    from datetime import timedelta

    section = make.section(make.category(brand))
    make.article(
        section, {"en": "Old meetup"}, kind="event", event_at=frozen_now - timedelta(days=3)
    )
    html = client.get("/acme/en/").get_data(as_text=True)
    news = re.search(r'aria-labelledby="news-heading">.*?</section>', html, re.S).group(0)
    assert "Old meetup" in news and "Past event" in news
