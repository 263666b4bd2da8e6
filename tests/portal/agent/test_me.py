"""My performance at /agent/me: each figure per period in the brand's timezone, brand scope,
a constant number of queries, and the guard."""

import re
import secrets
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from kb import clock
from portal.desk.models import Ticket, TicketMessage
from portal.desk.performance import agent_timezone, performance, periods

SEOUL = "Asia/Seoul"
# Wednesday 15 January 2025, noon in Seoul (UTC+9).
NOW = datetime(2025, 1, 15, 3, 0, tzinfo=UTC)
TODAY = datetime(2025, 1, 14, 16, 0, tzinfo=UTC)  # 01:00 on the 15th in Seoul (not UTC's today)
THIS_WEEK = datetime(2025, 1, 14, 14, 0, tzinfo=UTC)  # 23:00 on Tuesday the 14th in Seoul
THIS_MONTH = datetime(2025, 1, 5, 0, 0, tzinfo=UTC)
LAST_MONTH = datetime(2024, 12, 31, 14, 0, tzinfo=UTC)  # 23:00 on 31 December in Seoul
EVERY_TIME = (TODAY, THIS_WEEK, THIS_MONTH, LAST_MONTH)


@pytest.fixture
def acme(make):
    return make.brand(slug="acme", name="Acme", timezone=SEOUL)


@pytest.fixture
def globex(make):
    return make.brand(slug="globex", name="Globex", timezone="America/New_York")


@pytest.fixture
def agent(make, acme):
    return make.user(role="agent", brands=[acme])


def ticket(make, brand, status="open", at=LAST_MONTH, **fields):
    row = Ticket(
        brand_id=brand.id,
        locale="en",
        subject="Help",
        description="Please",
        status=status,
        requester_name="Kim Visitor",
        requester_email="kim@example.com",
        link_secret=secrets.token_hex(16),
        created_at=fields.pop("created_at", at),
        updated_at=fields.pop("updated_at", at),
        **fields,
    )
    make.session.add(row)
    make.session.commit()
    return row


def message(make, row, author, at, public=True, from_requester=False):
    make.session.add(
        TicketMessage(
            ticket_id=row.id,
            author_id=author.id if author else None,
            author_name="Someone",
            from_requester=from_requester,
            public=public,
            body="Hello",
            created_at=at,
        )
    )
    make.session.commit()


def figures(ctx, agent, brand_ids, tz=SEOUL):
    return performance(ctx, agent.id, brand_ids, tz, NOW)


def by_period(today, week, month):
    return {"today": today, "week": week, "month": month}


def test_periods_start_at_midnight_monday_and_the_first_in_the_timezone():
    spans = periods(ZoneInfo(SEOUL), NOW)
    assert spans["today"] == (
        datetime(2025, 1, 14, 15, tzinfo=UTC),
        datetime(2025, 1, 15, 15, tzinfo=UTC),
    )
    assert spans["week"][0] == datetime(2025, 1, 12, 15, tzinfo=UTC)  # Monday 13th, Seoul
    assert spans["month"] == (
        datetime(2024, 12, 31, 15, tzinfo=UTC),
        datetime(2025, 1, 31, 15, tzinfo=UTC),
    )


def test_solved_counts_my_tickets_by_solved_at(ctx, make, acme, agent):
    colleague = make.user(role="agent", brands=[acme])
    for at in EVERY_TIME:
        ticket(make, acme, "solved", assignee_id=agent.id, solved_at=at)
    ticket(make, acme, "solved", assignee_id=colleague.id, solved_at=TODAY)
    ticket(make, acme, "solved", solved_at=TODAY)
    assert figures(ctx, agent, [acme.id])["solved"] == by_period(1, 2, 3)


def test_closed_counts_my_closed_tickets_by_updated_at(ctx, make, acme, agent):
    for at in EVERY_TIME:
        ticket(make, acme, "closed", assignee_id=agent.id, updated_at=at)
    ticket(make, acme, "solved", assignee_id=agent.id, updated_at=TODAY)
    ticket(make, acme, "closed", updated_at=TODAY)
    assert figures(ctx, agent, [acme.id])["closed"] == by_period(1, 2, 3)


def test_replies_count_my_public_agent_messages(ctx, make, acme, agent):
    colleague = make.user(role="agent", brands=[acme])
    row = ticket(make, acme)
    for at in EVERY_TIME:
        message(make, row, agent, at)
    message(make, row, agent, TODAY, public=False)  # an internal note
    message(make, row, colleague, TODAY)
    message(make, row, agent, TODAY, from_requester=True)
    assert figures(ctx, agent, [acme.id])["replies"] == by_period(1, 2, 3)


def test_first_reply_median_in_minutes_of_my_tickets_created_in_the_period(ctx, make, acme, agent):
    colleague = make.user(role="agent", brands=[acme])
    requester = make.user(role="customer")

    def answered(created, minutes, assignee=agent):
        row = ticket(make, acme, assignee_id=assignee.id, at=created)
        message(make, row, requester, created + timedelta(minutes=1), from_requester=True)
        message(make, row, agent, created + timedelta(minutes=2), public=False)
        # The first public agent reply counts, whoever sent it; later ones do not.
        message(make, row, colleague, created + timedelta(minutes=minutes))
        message(make, row, agent, created + timedelta(minutes=minutes + 5))

    answered(TODAY, 10)
    answered(TODAY, 31)
    answered(THIS_WEEK, 60)
    answered(LAST_MONTH, 1)
    answered(TODAY, 500, assignee=colleague)
    ticket(make, acme, assignee_id=agent.id, at=TODAY)  # not answered yet: no duration
    median = figures(ctx, agent, [acme.id])["first_reply_minutes"]
    assert median == by_period(20.5, 31, 31)


def test_first_reply_median_is_none_without_answered_tickets(ctx, make, acme, agent):
    ticket(make, acme, assignee_id=agent.id, at=TODAY)
    assert figures(ctx, agent, [acme.id])["first_reply_minutes"] == by_period(None, None, None)


def test_unassigned_and_in_progress_are_current_counts(ctx, make, acme, agent):
    colleague = make.user(role="agent", brands=[acme])
    ticket(make, acme, "new")
    ticket(make, acme, "pending", at=TODAY)
    ticket(make, acme, "solved")
    ticket(make, acme, "closed")
    ticket(make, acme, "open", assignee_id=agent.id)
    ticket(make, acme, "on_hold", assignee_id=agent.id, at=TODAY)
    ticket(make, acme, "solved", assignee_id=agent.id, solved_at=LAST_MONTH)
    ticket(make, acme, "open", assignee_id=colleague.id)
    result = figures(ctx, agent, [acme.id])
    assert result["unassigned"] == by_period(2, 2, 2)
    assert result["in_progress"] == by_period(2, 2, 2)


def test_another_brands_tickets_are_not_counted(ctx, make, acme, globex, agent):
    row = ticket(make, globex, "closed", assignee_id=agent.id, updated_at=TODAY, solved_at=TODAY)
    message(make, row, agent, TODAY)
    ticket(make, globex, "new")
    ticket(make, globex, "open", assignee_id=agent.id)
    result = figures(ctx, agent, [acme.id])
    assert all(
        v == 0
        for f in ("unassigned", "in_progress", "solved", "closed", "replies")
        for v in result[f].values()
    )
    assert result["first_reply_minutes"]["today"] is None
    # Admins (brand_ids None) see every brand.
    assert figures(ctx, agent, None)["replies"]["today"] == 1


def test_queries_are_the_same_whatever_the_number_of_tickets(ctx, make, acme, agent, count_queries):
    def counted() -> int:
        with count_queries() as counter:
            figures(ctx, agent, [acme.id])
        return counter.count

    few = counted()
    for n in range(15):
        row = ticket(make, acme, "solved", assignee_id=agent.id, at=TODAY, solved_at=TODAY)
        message(make, row, agent, TODAY + timedelta(minutes=n))
    assert counted() == few == 3


def test_timezone_is_the_first_brands_or_utc(ctx, make, acme, globex):
    agent = make.user(role="agent", brands=[acme, globex])
    admin = make.user(role="admin")
    assert str(agent_timezone(ctx, agent.id)) == SEOUL
    assert agent_timezone(ctx, admin.id) == UTC


def cell(html, figure, period):
    found = re.search(rf'data-figure="{figure}" data-period="{period}">([^<]*)</td>', html)
    return found.group(1)


def test_page_shows_the_agents_figures_in_their_brands_timezone(client, make, acme, login):
    me = login("agent", brands=[acme])
    clock.freeze(NOW)
    ticket(make, acme, "solved", assignee_id=me.id, solved_at=TODAY)  # today in Seoul only
    ticket(make, acme, "new")
    response = client.get("/agent/me")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" in html and 'aria-current="page">My performance' in html
    assert cell(html, "solved", "today") == "1"
    assert cell(html, "unassigned", "month") == "1"
    assert cell(html, "first_reply_minutes", "week") == "—"


def test_admin_without_brands_sees_every_brand_in_utc(client, make, acme, login):
    login("admin")
    clock.freeze(NOW)
    ticket(make, acme, "new")
    html = client.get("/agent/me").get_data(as_text=True)
    assert "UTC" in html
    assert cell(html, "unassigned", "today") == "1"


@pytest.mark.parametrize("role", ["customer", "editor"])
def test_non_agents_are_refused(client, acme, login, role):
    login(role, brands=[acme] if role == "editor" else ())
    assert client.get("/agent/me").status_code == 403


def test_anonymous_is_sent_to_sign_in(client):
    response = client.get("/agent/me")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
