"""Agents' queues at /agent/: brand scope, counts, filters, keyset pages, htmx and guards."""

import re
import secrets
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest
from sqlalchemy import select

from kb import clock
from kb.models import Brand
from portal.desk.models import InquiryForm, Ticket, TicketTag
from portal.desk.queues import QueueQuery, queue_counts, queue_page


@pytest.fixture
def acme(make):
    return make.brand(slug="acme", name="Acme")


@pytest.fixture
def globex(make):
    return make.brand(slug="globex", name="Globex")


def ticket(make, brand, subject, status="open", tags=(), **fields):
    now = fields.pop("now", clock.now())
    row = Ticket(
        brand_id=brand.id,
        locale="en",
        subject=subject,
        description=f"About: {subject}",
        status=status,
        requester_name=fields.pop("requester_name", "Kim Visitor"),
        requester_email=fields.pop("requester_email", "kim@example.com"),
        link_secret=secrets.token_hex(16),
        created_at=now,
        updated_at=now,
        **fields,
    )
    make.session.add(row)
    make.session.flush()
    for tag in tags:
        make.session.add(TicketTag(ticket_id=row.id, tag=tag))
    make.session.commit()
    return row


def subjects(html: str) -> list[str]:
    found = re.findall(r'<td><a href="/agent/tickets/\d+">([^<]+)</a>', html)
    return [unescape(s) for s in found]


def counts(html: str) -> dict[str, int]:
    found = re.findall(r'data-queue="(\w+)">(\d+)</span>', html)
    return {queue: int(n) for queue, n in found}


def page(client, url="/agent/") -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_agent_sees_and_counts_only_their_brands_tickets(client, make, acme, globex, login):
    login("agent", brands=[acme])
    ticket(make, acme, "Acme open")
    ticket(make, globex, "Globex open")
    html = page(client)
    assert subjects(html) == ["Acme open"]
    assert counts(html)["open"] == 1
    assert "Globex open" not in page(client, "/agent/?brand=globex")


def test_admin_sees_every_brand(client, make, acme, globex, login):
    login("admin")
    ticket(make, acme, "Acme open", now=clock.now() - timedelta(minutes=1))
    ticket(make, globex, "Globex open")
    html = page(client)
    assert subjects(html) == ["Globex open", "Acme open"]
    assert counts(html)["open"] == 2


def test_counts_per_queue(client, make, acme, login):
    me = login("agent", brands=[acme])
    colleague = make.user(role="agent", brands=[acme])
    now = clock.now()
    ticket(make, acme, "New unassigned", status="new")
    ticket(make, acme, "Pending unassigned", status="pending")
    ticket(make, acme, "Mine open", assignee_id=me.id)
    ticket(make, acme, "Mine on hold", status="on_hold", assignee_id=me.id)
    ticket(make, acme, "Mine solved", status="solved", assignee_id=me.id, solved_at=now)
    ticket(make, acme, "Colleague's", assignee_id=colleague.id)
    ticket(make, acme, "Solved long ago", status="solved", solved_at=now - timedelta(days=8))
    ticket(make, acme, "Closed", status="closed")
    html = page(client)
    assert counts(html) == {
        "unassigned": 2,
        "mine": 2,
        "groups": 0,
        "open": 4,
        "pending": 1,
        "solved": 1,
    }
    assert subjects(page(client, "/agent/?queue=mine")) == ["Mine on hold", "Mine open"]
    assert subjects(page(client, "/agent/?queue=solved")) == ["Mine solved"]


def test_counts_are_one_query_whatever_the_number_of_tickets(ctx, make, acme, count_queries):
    def counted_queries() -> int:
        with count_queries() as counted:
            queue_counts(ctx, [acme.id], 0, QueueQuery(), clock.now())
        return counted.count

    ticket(make, acme, "One")
    few = counted_queries()
    for n in range(30):
        ticket(make, acme, f"More {n}")
    assert counted_queries() == few == 1


@pytest.mark.parametrize(
    "args, expected",
    [
        ("brand=globex", ["Globex urgent"]),
        ("status=on_hold", ["Acme on hold"]),
        ("priority=urgent", ["Globex urgent"]),
        ("tag=billing", ["Acme tagged"]),
        ("requester=LEE%40", ["Acme on hold"]),
        ("brand=nowhere&priority=bogus", ["Globex urgent", "Acme on hold", "Acme tagged"]),
    ],
)
def test_filters(client, make, acme, globex, login, args, expected):
    login("agent", brands=[acme, globex])
    start = clock.now() - timedelta(hours=1)
    ticket(make, acme, "Acme tagged", tags=["billing"], now=start)
    ticket(
        make,
        acme,
        "Acme on hold",
        status="on_hold",
        requester_email="Lee@Example.com",
        now=start + timedelta(minutes=1),
    )
    ticket(make, globex, "Globex urgent", priority="urgent", now=start + timedelta(minutes=2))
    assert subjects(page(client, f"/agent/?{args}")) == expected


def test_filter_by_organization(ctx, make, acme):
    from kb.people import CustomerOrganization

    company = CustomerOrganization(name="Daehan", domains=[])
    ctx.add(company)
    ctx.commit()
    ticket(make, acme, "Company's", customer_org_id=company.id)
    ticket(make, acme, "Someone else's")
    brands = list(ctx.scalars(select(Brand)))
    query = QueueQuery.parse({"org": str(company.id)}, brands)
    found = queue_page(ctx, None, 0, query, clock.now())
    assert [row.ticket.subject for row in found.tickets] == ["Company's"]


@pytest.mark.parametrize("sort", ["updated", "created", "priority"])
def test_keyset_pages_hold_every_ticket_once_at_constant_queries(
    client, make, acme, login, count_queries, sort
):
    me = login("agent", brands=[acme])
    start = clock.now() - timedelta(days=1)
    priorities = ("low", "normal", "high", "urgent")
    for n in range(60):
        ticket(
            make,
            acme,
            f"Ticket {n:02d}",
            priority=priorities[n % 4],
            assignee_id=me.id if n % 3 else None,
            now=start + timedelta(minutes=n),
        )
    seen, url, queries = [], f"/agent/?sort={sort}", []
    while url:
        with count_queries() as counted:
            html = page(client, url)
        queries.append(counted.count)
        seen += subjects(html)
        found = re.search(r'href="([^"]+)"[^>]*rel="next"', html)
        url = unescape(found.group(1)) if found else None
    assert len(queries) == 3
    assert sorted(seen) == [f"Ticket {n:02d}" for n in range(60)]
    if sort == "priority":
        rank = {p: i for i, p in enumerate(priorities)}
        keys = [(rank[priorities[int(s[-2:]) % 4]], int(s[-2:])) for s in seen]
        assert keys == sorted(keys, reverse=True)
    else:
        assert seen == [f"Ticket {n:02d}" for n in reversed(range(60))]
    assert len(set(queries)) == 1  # the same number of queries on every page


def test_rows_show_names_without_a_query_per_row(ctx, make, acme, count_queries):
    agent = make.user(role="agent", brands=[acme], name="Agent Park")
    for n in range(5):
        ticket(make, acme, f"T{n}", assignee_id=agent.id)
    with count_queries() as counted:
        found = queue_page(ctx, [acme.id], agent.id, QueueQuery(), clock.now())
        names = {(row.brand_name, row.assignee_name) for row in found.tickets}
    assert names == {("Acme", "Agent Park")}
    assert counted.count == 1


def test_invalid_cursor_is_ignored(client, make, acme, login):
    login("agent", brands=[acme])
    ticket(make, acme, "Only")
    assert subjects(page(client, "/agent/?after=nonsense~1")) == ["Only"]


@pytest.mark.parametrize("role", ["customer", "editor"])
def test_non_agents_are_refused(client, acme, login, role):
    login(role, brands=[acme] if role == "editor" else ())
    assert client.get("/agent/").status_code == 403


def test_anonymous_is_sent_to_sign_in(client):
    response = client.get("/agent/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_htmx_request_returns_only_the_list(client, make, acme, login):
    login("agent", brands=[acme])
    ticket(make, acme, "Acme open")
    response = client.get("/agent/?queue=open", headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith('<div id="queue-list">') and "<html" not in html
    assert subjects(html) == ["Acme open"]
    assert "HX-Request" in response.headers["Vary"]


def test_whole_page_has_the_agent_nav(client, acme, login):
    login("agent", brands=[acme])
    html = page(client)
    assert "<html" in html and 'href="/agent/" aria-current="page"' in html


def test_form_filter_takes_only_forms_of_the_agents_brands(client, make, login):
    acme, other = make.brand(slug="acme"), make.brand(slug="other")
    login("agent", brands=[acme])
    billing = InquiryForm(brand_id=acme.id, names={"en": "Billing"}, descriptions={})
    theirs = InquiryForm(brand_id=other.id, names={"en": "Theirs"}, descriptions={})
    make.session.add_all([billing, theirs])
    make.session.commit()
    ticket(make, acme, "From billing", form_id=billing.id)
    ticket(make, acme, "From elsewhere")
    html = page(client, f"/agent/?form={billing.id}")
    assert subjects(html) == ["From billing"]
    assert ">Billing</option>" in html and "Theirs" not in html
    assert len(subjects(page(client, f"/agent/?form={theirs.id}"))) == 2  # ignored: not theirs


def test_the_counts_refresh_without_reloading_the_page(client, make, acme, globex, login):
    """The tabs poll /agent/counts with the page's filters; it answers the tabs alone, with
    the counts as they are now, of the agent's brands only."""
    login("agent", brands=[acme])
    ticket(make, acme, "First", status="new")
    html = page(client, "/agent/?queue=unassigned&priority=normal")
    poll = re.search(r'<nav[^>]*id="queue-tabs"[^>]*hx-get="([^"]+)"', html)
    assert poll and 'hx-trigger="every 20s' in html
    url = unescape(poll.group(1))
    assert url == "/agent/counts?queue=unassigned&priority=normal"
    ticket(make, acme, "Second", status="new")
    ticket(make, acme, "Urgent", status="new", priority="urgent")  # filtered out
    ticket(make, globex, "Elsewhere", status="new")  # not the agent's brand
    response = client.get(url)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-store"
    tabs = response.get_data(as_text=True)
    assert tabs.lstrip().startswith("<nav") and "<html" not in tabs
    assert counts(tabs)["unassigned"] == 2 and counts(tabs)["open"] == 2
    assert 'aria-current="page"' in tabs.split("Unassigned")[0].rsplit("<a", 1)[1]


def test_times_are_in_the_agents_zone_and_say_so(client, make, login):
    seoul = make.brand(slug="seoul", name="Seoul", timezone="Asia/Seoul")
    login("agent", brands=[seoul])
    ticket(make, seoul, "Night owl", now=datetime(2026, 11, 20, 0, 30, tzinfo=UTC))
    html = page(client)
    assert "Times in Asia/Seoul." in html
    assert "9:30" in html  # 00:30 UTC


def test_agent_pages_are_in_the_agents_language(client, ctx, make, acme, login):
    """The language chosen in settings, whatever the browser asks for."""
    agent = login("agent", brands=[acme])
    ticket(make, acme, "Card declined", status="pending")
    agent.locale = "ko"
    ctx.merge(agent)
    ctx.commit()
    html = client.get("/agent/?queue=pending", headers={"Accept-Language": "en-US"}).get_data(
        as_text=True
    )
    assert '<html lang="ko"' in html and "대기 중" in html
    year = clock.now().year
    assert f"{year}. " in html  # the year in full: "26. 11. 26." read as a day twice


def test_the_status_filter_offers_what_the_queue_can_hold(client, acme, login):
    """Closed never matches a queue: it is not offered (nor solved outside "Solved recently")."""
    login("agent", brands=[acme])

    def offered(url):
        html = page(client, url)
        select = html[html.index('<select id="queue-status"') :].split("</select>")[0]
        return re.findall(r'<option value="(\w+)"', select)

    assert offered("/agent/") == ["new", "open", "on_hold"]
    assert offered("/agent/?queue=unassigned") == ["new", "open", "pending", "on_hold"]
    assert offered("/agent/?queue=pending") == ["pending"]
    assert offered("/agent/?queue=solved") == ["solved"]
