"""Agent benchmark: the agents' queues and ticket page under gunicorn, with 100,000 tickets over
three brands behind them, beside the bare page, and the SQL queries each page makes.

Builds a temporary instance (SQLite by default, or PostgreSQL with --postgres), loads the demo
(two brands, the demo agent a member of both), adds a third brand with the demo's own
load_brand, 16 more agents (members of one or two brands each), two agent groups per brand
(Support, the demo's where it made one, with the demo agent in it, and Billing), 150 customer
organizations and 20,000 requesters (two in five with an account, three in five at an
organization's domain, a few of them with hundreds of requests), then bulk-inserts --tickets
tickets (100,000): half in the first brand, 30% in the second, 20% in the third; statuses mixed
the way a desk has them (most closed, a few percent new, open, pending, on hold or solved this
fortnight), priorities, types, tags (ticket_tags, about 0.6 a ticket), groups, assignees (one
in eight of the assigned tickets of the demo agent's brands is theirs), one to three messages
each with the status, assignee and tag events an agent's work leaves (ticket_events), and one
ticket with a 30-message conversation (internal notes among them) and about 30 events.

It serves the instance with gunicorn (2 sync workers) beside the bare baseline page
(bench/bare_app.py, the size of the default queue page), signs in as the demo agent
(agent@example.com: POST /login with the login page's CSRF token, keeping the session cookie)
and drives each page from client threads (standard library http.client, a new connection per
request) for a fixed time:

  <queue>         /agent/?queue=<queue>, for every queue of portal.desk.queues.QUEUES
  filtered        queue open, one brand, priority high
  tag             queue open, one tag (about 6% of the tickets)
  requester       queue open, requester email containing one organization's domain
  org             queue open, that organization
  priority sort   queue open, most urgent first
  search order    queue open, searching one ticket's order number (q=A-000123)
  search name     queue open, searching the name of the requester with most requests
  search all ...  the same two searches without a queue: in every status, closed included
  open p<N>       queue open, page N (--deep-page, 200): the keyset cursor of that page,
                  built with queue_page and checked against following rel="next" links
  open htmx       queue open as htmx asks for it (HX-Request: true): the list block alone
  ticket long     /agent/tickets/<id>: the 30-message conversation
  ticket normal   /agent/tickets/<id>: a pending ticket with two messages and a few events

It prints requests/s and p50/p95/p99 latency per page beside the bare page's, and the SQL
queries of one request per page counted in-process (a SQLAlchemy cursor listener, a test
client signed in) for the demo agent and for the demo admin (every brand), with the demo and
100 generated tickets, and again with all of them. PASS when every page's p95 is under 150 ms
with no errors and every page makes as many queries with all the tickets as with 100; the exit
code is 1 otherwise. When a p95 fails (or with --explain), after the servers stop, it prints the
median time and plan of the slowest SELECTs of those pages (SQLite: EXPLAIN QUERY PLAN;
PostgreSQL: EXPLAIN ANALYZE). The app is not changed. Planner statistics are fresh (ANALYZE
after loading); the load average is printed, since other processes move the latency figures.

Run it with `.venv/bin/python bench/agent.py` (SQLite; `--tickets 5000` for a quick run,
`--duration`/`--seconds` and `--threads`/`--clients`), `--postgres` to create and drop a
database `portal_bench_agent_<pid>` on the local server (postgres@127.0.0.1:5432, trust).
"""

import argparse
import itertools
import os
import random
import re
import secrets
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlencode, urlsplit

from common import (
    Load,
    Visitor,
    closed_loop,
    fetch,
    log_summary,
    print_head,
    stop,
    temporary_instance,
)
from flask import Flask
from my_requests import (
    REPEAT,
    TOPICS,
    Counted,
    Statement,
    after_load,
    csrf_token,
    explain,
    follow_next,
    run_ms,
)
from my_requests import (
    count_queries as count_page_queries,
)
from sqlalchemy import func, insert, select

from kb import clock
from kb.models import Brand, Organization
from kb.people import BrandMember, CustomerOrganization, User
from portal import demo
from portal.desk import queues
from portal.desk.accounts import create_or_update_user
from portal.desk.models import (
    AgentGroup,
    AgentGroupMember,
    Ticket,
    TicketEvent,
    TicketMessage,
    TicketTag,
)
from portal.extensions import db

AGENT_EMAIL, ADMIN_EMAIL = "agent@example.com", "admin@example.com"
THIRD_BRAND = {
    "slug": "kumo-travel",
    "name": "Kumo Travel",
    "tagline": {"ja": "旅の手続きをかんたんに", "en": "Trips without the paperwork"},
    "default_locale": "ja",
    "locales": ["ja", "en"],
    "timezone": "Asia/Tokyo",
    "primary_color": "#24557a",
    "accent_color": "#e07a2f",
}
BRAND_SHARES = {"hanbit-pay": 50, "norrsken-energi": 30, THIRD_BRAND["slug"]: 20}
FILTER_BRAND = "hanbit-pay"
# status: (weight, youngest, oldest) - the share of tickets and the age of their created_at, in
# days: new ones are hours old, solved ones close after four days, most tickets are closed.
STATUSES = {
    "new": (3, 0, 2),
    "open": (9, 0, 30),
    "pending": (7, 0, 30),
    "on_hold": (2, 1, 60),
    "solved": (6, 0, 14),
    "closed": (73, 5, 730),
}
CLOSE_AFTER = timedelta(days=4)
PRIORITIES = {"low": 15, "normal": 60, "high": 20, "urgent": 5}
TYPES = (None, "question", "question", "question", "incident", "problem", "task")
# tag: the share of tickets carrying it
TAGS = {
    "billing": 0.10,
    "mobile-app": 0.08,
    "login": 0.07,
    "refund": 0.06,
    "invoice": 0.06,
    "bug": 0.05,
    "card": 0.05,
    "feature-request": 0.03,
    "contract": 0.03,
    "moving": 0.02,
    "vip": 0.02,
    "chargeback": 0.015,
    "follow-up": 0.01,
    "escalated": 0.01,
    "press": 0.002,
}
FILTER_TAG = "refund"
AGENT_NAMES = [
    "Bora Han",
    "Elin Sjöberg",
    "Riku Mori",
    "Dae-ho Shin",
    "Karin Ek",
    "Mei Ito",
    "Nils Forsberg",
    "Soo-ah Yoon",
    "Aiko Kondo",
    "Oskar Dahl",
    "Hyun-woo Lim",
    "Saga Lund",
    "Takumi Abe",
    "Ji-hye Kang",
    "Freja Nyström",
    "Sota Ueda",
]
FIRST_NAMES = ["Min-jun", "Seo-yeon", "Erik", "Astrid", "Haruto", "Yui", "Lena", "Omar"]
FIRST_NAMES += ["Priya", "Tomas", "Sofia", "Jae-won", "Ingrid", "Kenji", "Maya", "Lars"]
LAST_NAMES = ["Kim", "Lee", "Park", "Lindqvist", "Berg", "Sato", "Tanaka", "Nilsson"]
LAST_NAMES += ["Choi", "Yamada", "Holm", "Jung", "Okada", "Strand", "Seo", "Wikström"]
ORG_WORDS = ["Nordwind", "Hanul", "Sakura", "Fjord", "Daehan", "Kestrel", "Aurora", "Baekdu"]
ORG_WORDS += ["Lumen", "Granit", "Mirae", "Tsubame", "Solvik", "Gyeong", "Hoshi", "Vinter"]
ORG_KINDS = ["Cargo", "Foods", "Retail", "Energy", "Clinic", "Studio", "Motors", "Travel"]
ORG_KINDS += ["Games", "Bakery"]
FREE_MAIL = ["mail.example", "post.example", "inbox.example"]
ORGANIZATIONS, REQUESTERS, SMALL = 150, 20_000, 100
# Of every five requesters, two have an account and three write from an organization's domain.
WITH_ACCOUNT, AT_ORGANIZATION = 2, 3
LONG_MESSAGES = 30
BATCH = 2_000
P95_TARGET_MS = 150.0
REQUESTER_REPLIES = [
    "Thanks, I tried that but it still happens. Screenshot attached in my next mail.",
    "It worked after the update, thank you!",
    "I am still waiting for this, can you give me an update please?",
    "Here are the details you asked for: order placed on the 3rd, paid by card.",
]
AGENT_REPLIES = [
    "Thanks for writing. I checked your account and see what happened; could you confirm the "
    "last four digits of the card so I can trace the payment?",
    "I have passed this to our payments team. You will hear from us within two working days.",
    "This is fixed now: please try again and tell us if anything still looks wrong.",
    "Could you send a screenshot of the error and the app version (Settings > About)?",
]
NOTES = [
    "Internal: the payment log shows two authorisations; the second one is a reversal.",
    "Internal: asked the billing team in the ops channel, waiting for their answer.",
    "Internal: same issue as last month, see the linked tickets. Do not promise a date.",
]
INSTANCE_CONFIG = """\
SECRET_KEY = "bench-agent"
DATABASE_URL = {database_url!r}
PORTAL_SCHEDULER = "off"
LOGIN_RATE_LIMIT = "1000 per minute"
"""

# ------------------------------------------------------------------ generated tickets


@dataclass(frozen=True)
class Person:
    user_id: int | None
    name: str
    email: str
    org_id: int | None = None


@dataclass
class People:
    brand_ids: dict[str, int]  # slug -> id
    agent: Person  # the demo agent
    agents: dict[int, list[Person]]  # brand id -> its agents, the demo agent among them
    groups: dict[int, tuple[int, int]]  # brand id -> its (Support, Billing) groups' ids
    requesters: list[Person]  # the heaviest first
    org_domains: dict[int, str]  # customer organization id -> email domain


@dataclass
class Bundle:
    """One ticket and the rows that hang from it."""

    ticket: dict
    messages: list[dict] = field(default_factory=list)
    events: list[dict] = field(default_factory=list)
    tags: list[dict] = field(default_factory=list)


def add_third_brand(session) -> Brand:
    """A third brand as the demo makes its own (no articles), in the demo's organization."""
    org = session.scalar(select(Organization).order_by(Organization.id))
    data = {"brand": THIRD_BRAND, "categories": [], "sections": [], "articles": []}
    return demo.load_brand(session, org, data, None, clock.now())


def make_people(session) -> People:
    """The third brand, the other agents, customer organizations and requesters (bulk)."""
    add_third_brand(session)
    brand_ids = {b.slug: b.id for b in session.scalars(select(Brand).order_by(Brand.id))}
    slugs = list(BRAND_SHARES)
    agent = session.scalar(select(User).where(User.email == AGENT_EMAIL))
    agent_brands = set(
        session.scalars(select(BrandMember.brand_id).where(BrandMember.user_id == agent.id))
    )
    demo_agent = Person(agent.id, agent.nickname or agent.name, agent.email)
    agents = {brand_ids[s]: [] for s in slugs}
    for brand_id in agent_brands:
        agents[brand_id].append(demo_agent)
    for i, name in enumerate(AGENT_NAMES):
        user = create_or_update_user(session, f"bench-agent-{i}@example.com", name, "agent")
        session.flush()
        member_of = {slugs[i % 3]} | ({slugs[(i + 1) % 3]} if i % 4 == 0 else set())
        for slug in sorted(member_of):
            session.add(BrandMember(user_id=user.id, brand_id=brand_ids[slug]))
            agents[brand_ids[slug]].append(Person(user.id, name, user.email))
    groups = {
        brand_id: make_groups(session, brand_id, members, demo_agent)
        for brand_id, members in agents.items()
    }

    now = clock.now()
    orgs = []
    for i in range(ORGANIZATIONS):
        name = f"{ORG_WORDS[i % len(ORG_WORDS)]} {ORG_KINDS[i // len(ORG_WORDS)]}"
        org = CustomerOrganization(name=name, domains=[], shares_requests=i % 3 == 0)
        session.add(org)
        orgs.append((org, name.lower().replace(" ", "-") + ".example"))
    session.flush()
    org_domains = {org.id: domain for org, domain in orgs}

    first_id = (session.scalar(select(func.max(User.id))) or 0) + 1
    requesters, users = [], []
    for i in range(REQUESTERS):
        name = f"{FIRST_NAMES[i % 16]} {LAST_NAMES[i // 16 % 16]}"
        at_org = i % 5 < AT_ORGANIZATION
        org, domain = orgs[i % ORGANIZATIONS] if at_org else (None, FREE_MAIL[i % 3])
        email = f"{name.lower().replace(' ', '.')}.{i}@{domain}"
        user_id = first_id + len(users) if i % 5 < WITH_ACCOUNT else None
        person = Person(user_id, name, email, org.id if org else None)
        requesters.append(person)
        if user_id is not None:
            users.append(
                {
                    "id": user_id,
                    "email": email,
                    "name": name,
                    "password_hash": None,
                    "role": "customer",
                    "locale": None,
                    "active": True,
                    "created_at": now,
                    "email_confirmed_at": now,
                    "customer_org_id": person.org_id,
                }
            )
    session.execute(insert(User.__table__), users)
    session.commit()
    return People(brand_ids, demo_agent, agents, groups, requesters, org_domains)


def make_groups(session, brand_id: int, members: list[Person], demo_agent: Person):
    """The brand's Support group (the demo's, the demo agent in it, where there is one) and a
    Billing group; the brand's other agents join one of them each, in turn."""
    support = session.scalar(
        select(AgentGroup).where(AgentGroup.brand_id == brand_id, AgentGroup.name == "Support")
    )
    if support is None:
        support = AgentGroup(brand_id=brand_id, name="Support")
        session.add(support)
    billing = AgentGroup(brand_id=brand_id, name="Billing")
    session.add(billing)
    session.flush()
    others = [person for person in members if person != demo_agent]
    for n, person in enumerate(others):
        group = (support, billing)[n % 2]
        session.add(AgentGroupMember(group_id=group.id, user_id=person.user_id))
    return support.id, billing.id


def _times(rng: random.Random, status: str, now: datetime, max_days: float | None = None):
    """created_at, the last message's time, updated_at and solved_at of a ticket."""
    _weight, youngest, oldest = STATUSES[status]
    days = rng.uniform(youngest, oldest if max_days is None else max_days)
    age = timedelta(days=days, minutes=20)
    created = now - age
    if status == "closed":
        solved = created + (age - CLOSE_AFTER) * rng.uniform(0.01, 0.2)
        return created, solved, solved + CLOSE_AFTER, solved
    last = created + age * rng.uniform(0.05, 0.95)
    return created, last, last, last if status == "solved" else None


def _bundle(
    rng: random.Random,
    people: People,
    ticket_id: int,
    now: datetime,
    *,
    slug: str,
    status: str,
    priority: str,
    requester: Person,
    assignee: Person | None,
    tags: list[str],
    messages: int,
    max_days: float | None = None,
) -> Bundle:
    """A ticket whose conversation, events and tags tell one story: the agent takes it and tags
    it, replies (pending), the requester answers (open), a note now and then, then the status
    it ends in (a solved ticket is closed four days later, by nobody)."""
    brand_id = people.brand_ids[slug]
    created, last, updated, solved = _times(rng, status, now, max_days)
    locales = {"hanbit-pay": ("ko", "en", "ja"), "norrsken-energi": ("sv", "en")}
    topic = TOPICS[rng.randrange(len(TOPICS))]
    description = (
        f"{topic}: order A-{ticket_id:06d} on {created:%Y-%m-%d}. We tried again the next day "
        "with the same result. Please check and tell us what to do next."
    )
    ticket = {
        "id": ticket_id,
        "brand_id": brand_id,
        "locale": rng.choice(locales.get(slug, ("ja", "en"))),
        "form_id": None,
        "form_version": None,
        "form_name": "",
        "subject": f"{topic} ({ticket_id})",
        "description": description,
        "status": status,
        "channel": "web",
        "requester_id": requester.user_id,
        "requester_name": requester.name,
        "requester_email": requester.email,
        "answers": [],
        "details": {"user_agent": "bench"},
        "submission_key": None,
        "customer_org_id": requester.org_id,
        "shared_with_org": False,
        "solved_at": solved,
        "follow_up_of_id": None,
        "assignee_id": assignee.user_id if assignee else None,
        # Billing's tickets go to the Billing group, nine in ten others to Support.
        "group_id": _group(rng, people.groups[brand_id], tags),
        "priority": priority,
        "type": rng.choice(TYPES),
        "requester_seen_at": last if messages > 1 and rng.random() < 0.5 else None,
        "satisfaction": None,
        "satisfaction_comment": None,
        "link_secret": secrets.token_hex(16),
        "created_at": created,
        "updated_at": updated,
    }
    bundle = Bundle(ticket, tags=[{"ticket_id": ticket_id, "tag": t} for t in tags])
    agent = assignee or rng.choice(people.agents[brand_id])

    def message(author: Person, body: str, at: datetime, public: bool = True) -> None:
        bundle.messages.append(
            {
                "ticket_id": ticket_id,
                "author_id": author.user_id,
                "author_name": author.name,
                "author_email": author.email,
                "from_requester": author is requester,
                "public": public,
                "body": body,
                "channel": "web",
                "created_at": at,
            }
        )

    def change(actor: Person | None, kind: str, old, new, at: datetime) -> None:
        bundle.events.append(
            {
                "ticket_id": ticket_id,
                "actor_id": actor.user_id if actor else None,
                "kind": kind,
                "old_value": old,
                "new_value": new,
                "created_at": at,
            }
        )

    message(requester, description, created)
    step = (last - created) / max(1, messages - 1)
    if assignee is not None:
        change(assignee, "assignee", None, assignee.name, created + step / 2)
        for tag in tags:
            change(assignee, "tag_added", None, tag, created + step / 2)
    current = "new"
    for i in range(1, messages):
        at = created + step * i
        if i % 6 == 5:  # every third of the agent's turns is an internal note
            message(agent, NOTES[i % len(NOTES)], at, public=False)
            continue
        if i % 2:
            message(agent, AGENT_REPLIES[i % len(AGENT_REPLIES)], at)
            actor, new = agent, "pending"
        else:
            message(requester, REQUESTER_REPLIES[i % len(REQUESTER_REPLIES)], at)
            actor, new = None, "open"
        if new != current:
            change(actor, "status", current, new, at)
            current = new
    if status == "closed":
        change(agent, "status", current, "solved", last)
        change(None, "status", "solved", "closed", updated)
    elif status != current:
        change(agent, "status", current, status, last)
    return bundle


def _group(rng: random.Random, groups: tuple[int, int], tags: list[str]) -> int | None:
    support, billing = groups
    if "billing" in tags:
        return billing
    return support if rng.random() < 0.9 else None


def generated(people: People, ids: Iterator[int], now: datetime, seed: int) -> Iterator[Bundle]:
    """Endless bundles, deterministic. First the long conversation (the demo agent's, open,
    high, the heaviest requester, tagged), a pending ticket with two messages and one solved
    yesterday, so that every page has rows with the small set too; then drawn at random."""
    rng = random.Random(seed)
    agent, requesters = people.agent, people.requesters
    long = _bundle(
        rng,
        people,
        next(ids),
        now,
        slug=FILTER_BRAND,
        status="open",
        priority="high",
        requester=requesters[0],
        assignee=agent,
        tags=[FILTER_TAG, "vip", "escalated"],
        messages=LONG_MESSAGES,
    )
    raised = long.ticket["created_at"] + timedelta(minutes=30)
    long.events.append(
        {
            "ticket_id": long.ticket["id"],
            "actor_id": agent.user_id,
            "kind": "priority",
            "old_value": "normal",
            "new_value": "high",
            "created_at": raised,
        }
    )
    yield long
    common = {"priority": "normal", "assignee": agent}
    yield _bundle(
        rng,
        people,
        next(ids),
        now,
        slug="norrsken-energi",
        status="pending",
        requester=requesters[7],
        tags=["contract"],
        messages=2,
        **common,
    )
    yield _bundle(
        rng,
        people,
        next(ids),
        now,
        slug=FILTER_BRAND,
        status="solved",
        requester=requesters[12],
        tags=[],
        messages=2,
        max_days=2,
        **common,
    )
    slugs, weights = list(BRAND_SHARES), list(BRAND_SHARES.values())
    statuses, status_weights = list(STATUSES), [w for w, _y, _o in STATUSES.values()]
    message_counts = {"new": (1,), "open": (3,), "pending": (2,), "on_hold": (2,)}
    while True:
        slug = rng.choices(slugs, weights)[0]
        status = rng.choices(statuses, status_weights)[0]
        assigned = rng.random() < (0.1 if status == "new" else 0.95)
        yield _bundle(
            rng,
            people,
            next(ids),
            now,
            slug=slug,
            status=status,
            priority=rng.choices(list(PRIORITIES), list(PRIORITIES.values()))[0],
            # The square skews it: the first requesters send hundreds of requests each.
            requester=requesters[int(len(requesters) * rng.random() ** 2)],
            assignee=rng.choice(people.agents[people.brand_ids[slug]]) if assigned else None,
            tags=[tag for tag, share in TAGS.items() if rng.random() < share],
            messages=rng.choice(message_counts.get(status, (2, 3))),
        )


def insert_bundles(session, bundles: Iterator[Bundle], count: int) -> None:
    """`count` bundles, in batches of executemany (messages, events and tags get their ids
    from the database; tickets have theirs, which after_load moves the sequence past)."""
    left = count
    while left > 0:
        batch = list(itertools.islice(bundles, min(BATCH, left)))
        left -= len(batch)
        # The tables, not the models: one executemany each (the ORM's bulk insert sent the
        # messages and events as one INSERT a row here).
        for model, rows in (
            (Ticket, [b.ticket for b in batch]),
            (TicketMessage, [m for b in batch for m in b.messages]),
            (TicketEvent, [e for b in batch for e in b.events]),
            (TicketTag, [t for b in batch for t in b.tags]),
        ):
            if rows:
                session.execute(insert(model.__table__), rows)
    session.commit()


def census(session, people: People) -> str:
    """What was loaded, and how big the demo agent's queues are."""
    per_brand = session.execute(
        select(Brand.slug, func.count(Ticket.id))
        .join(Ticket, Ticket.brand_id == Brand.id)
        .group_by(Brand.slug)
        .order_by(func.count(Ticket.id).desc())
    ).all()
    total = sum(n for _slug, n in per_brand)
    rows = {
        name: session.scalar(select(func.count()).select_from(model))
        for name, model in (
            ("messages", TicketMessage),
            ("events", TicketEvent),
            ("tags", TicketTag),
        )
    }
    brand_ids = agent_brand_ids(session, people.agent.user_id)
    counts = queues.queue_counts(
        session, brand_ids, people.agent.user_id, queues.QueueQuery(), clock.now()
    )
    return (
        f"{total:,} tickets ({', '.join(f'{n:,} {slug}' for slug, n in per_brand)}), "
        + ", ".join(f"{n:,} {name}" for name, n in rows.items())
        + f"; the demo agent ({len(brand_ids)} brands) sees "
        + ", ".join(f"{queue} {n:,}" for queue, n in counts.items())
    )


# ------------------------------------------------------------------ the pages


@dataclass(frozen=True)
class PageRequest:
    path: str
    htmx: bool = False

    @property
    def headers(self) -> dict:
        return {"HX-Request": "true"} if self.htmx else {}

    def __str__(self) -> str:
        return self.path + ("  (HX-Request: true)" if self.htmx else "")


def agent_brand_ids(session, user_id: int) -> list[int]:
    """The brands an agent works in (what portal.access.agent_brand_ids gives in a request)."""
    return list(session.scalars(select(BrandMember.brand_id).where(BrandMember.user_id == user_id)))


def queue_path(**args) -> str:
    return "/agent/?" + urlencode(args)


def page_cursor(app: Flask, people: People, page: int, *, fill: bool = True) -> str:
    """The keyset cursor of page `page` of the demo agent's open queue: queue_page with as
    many rows per page as come before it. When the queue is shorter: with `fill` (the deep
    page) the cursor of the last page with a full page of rows, without it ""."""
    with app.app_context():
        session = db.session
        brand_ids = agent_brand_ids(session, people.agent.user_id)
        query, now = queues.QueueQuery(queue="open"), clock.now()
        total = queues.queue_counts(session, brand_ids, people.agent.user_id, query, now)["open"]
        rows = (page - 1) * queues.PER_PAGE
        if fill:
            rows = max(1, min(rows, total - queues.PER_PAGE - 1))
        found = queues.queue_page(session, brand_ids, people.agent.user_id, query, now, rows)
        db.session.remove()
        return found.next_after or ""


def check_links(app: Flask, people: People, visitor: Visitor, path: str, page: int):
    """Whether page_cursor gives the cursor that following rel="next" links from page 1 to
    page `page` of the open queue gives, and what to say about it."""
    built = page_cursor(app, people, page, fill=False)
    how = f"open p{page} cursor built with queue_page vs following {page - 1} rel=next links"
    if not built:
        return True, f"{how}: not checked, the open queue has fewer than {page} pages"
    followed = parse_qs(urlsplit(follow_next(visitor, path, page)).query).get("after")
    if followed == [built]:
        return True, f"{how}: the same cursor"
    return False, f"{how}: DIFFERENT ({followed} followed, {built} built)"


def page_requests(app: Flask, people: People, ticket_ids: dict, deep_page: int) -> dict:
    """The pages to measure, by name (the deep page's cursor built for the data as it is)."""
    heavy = people.requesters[0]
    pages = {queue: PageRequest(queue_path(queue=queue)) for queue in queues.QUEUES}
    open_with = {
        "filtered": {"brand": FILTER_BRAND, "priority": "high"},
        "tag": {"tag": FILTER_TAG},
        "requester": {"requester": people.org_domains[heavy.org_id]},
        "org": {"org": heavy.org_id},
        "priority sort": {"sort": "priority"},
        # The search: one order number (a needle), and the requester with most requests.
        "search order": {"q": f"A-{ticket_ids['ticket normal']:06d}"},
        "search name": {"q": heavy.name},
        f"open p{deep_page}": {"after": page_cursor(app, people, deep_page)},
    }
    for name, args in open_with.items():
        pages[name] = PageRequest(queue_path(queue="open", **args))
    # A search without a queue: every status, the closed tickets (most of them) included.
    pages["search all order"] = PageRequest(queue_path(q=open_with["search order"]["q"]))
    pages["search all name"] = PageRequest(queue_path(q=heavy.name))
    pages["open htmx"] = PageRequest(queue_path(queue="open"), htmx=True)
    for name, ticket_id in ticket_ids.items():
        pages[name] = PageRequest(f"/agent/tickets/{ticket_id}")
    return pages


_ROW = re.compile(r'name="ticket" value="\d+"|<li class="(?:message|event)\b')


def login_form(token: str, email: str) -> dict:
    return {"csrf_token": token, "email": email, "password": demo.DEMO_PASSWORD, "next": ""}


def sign_in_http(base: str, email: str) -> Visitor:
    url = urlsplit(base)
    visitor = Visitor(url.hostname, url.port)
    status, _h, body = visitor.request("GET", "/login")
    if status != 200:
        raise RuntimeError(f"GET /login answered {status}")
    form = urlencode(login_form(csrf_token(body.decode()), email)).encode()
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    status, _h, body = visitor.request("POST", "/login", form, headers)
    if status != 303 or "session" not in visitor.cookies:
        raise RuntimeError(f"sign-in as {email} answered {status}: {body[:300]!r}")
    return visitor


def signed_in_client(app: Flask, email: str):
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    response = client.post("/login", data=login_form(csrf_token(page), email))
    if response.status_code != 303:
        raise RuntimeError(f"in-process sign-in as {email} answered {response.status_code}")
    return client


# ------------------------------------------------------------------ SQL per page, in-process


def count_queries(app: Flask, client, pages: dict[str, PageRequest]) -> dict[str, Counted]:
    """my_requests.count_queries for these pages: the warm-up request also inserts the ticket
    page's presence row, so the counted one updates it like every later view."""
    paths = {name: page.path for name, page in pages.items()}
    headers = {name: page.headers for name, page in pages.items() if page.headers}
    return count_page_queries(app, client, paths, headers, _ROW)


# ------------------------------------------------------------------ load


def drive(base: str, page: PageRequest, threads: int, duration: float, cookies: dict) -> Load:
    return closed_loop(base, page.path, threads, duration, cookies, page.headers or None)


# ------------------------------------------------------------------ plans

PLANS, SLOW_MS = 8, 2.0  # the plans of the slowest SELECTs, when they take that long


def _short(sql: str) -> str:
    """A statement on one line, a long column list cut short."""
    flat = " ".join(sql.split())
    match = re.match(r"SELECT (.*?) FROM (.*)", flat)
    if match and len(match[1]) > 60 and not match[1].startswith(("sum(", "count(")):
        flat = f"SELECT {match[1][:40]}... FROM {match[2]}"
    return flat


def diagnose(app: Flask, large: dict[str, Counted], names: list[str]) -> None:
    """The median time of the SELECTs of the pages `names` (all tickets loaded), page by page,
    then each slow statement once, slowest first, with its plan and the pages that run it."""
    with app.app_context():
        engine = db.engine
    dialect = engine.dialect.name
    how = "EXPLAIN QUERY PLAN" if dialect == "sqlite" else "EXPLAIN ANALYZE"
    slowest: dict[str, tuple[float, Statement]] = {}  # SQL -> its slowest run and statement
    users: dict[str, list[str]] = {}  # SQL -> the pages that run it
    print()
    print(f"The SELECTs of the pages, all tickets loaded (median of {REPEAT} runs, no load):")
    with engine.connect() as conn:
        for name in names:
            selects = [s for s in large[name].statements if s.sql.lstrip().startswith("SELECT")]
            times = sorted(((run_ms(conn, s), s) for s in selects), key=lambda p: -p[0])
            for ms, statement in times:
                if ms > slowest.get(statement.sql, (-1.0,))[0]:
                    slowest[statement.sql] = (ms, statement)
                users.setdefault(statement.sql, []).append(name)
            top = times[0] if times else (0.0, Statement("-", None, 0.0))
            print(
                f"  {name:<13} {len(selects):>2} SELECTs {sum(ms for ms, _s in times):6.1f} ms; "
                f"request in-process {large[name].ms:6.1f} ms; slowest {top[0]:.1f} ms: "
                f"{_short(top[1].sql)[:70]}"
            )
        print()
        print(f"The {PLANS} slowest SELECTs of {SLOW_MS:.0f} ms or more, with their plans ({how}):")
        for ms, statement in sorted(slowest.values(), key=lambda p: -p[0])[:PLANS]:
            if ms < SLOW_MS:
                break
            pages = list(dict.fromkeys(users[statement.sql]))
            print(f"  {ms:.1f} ms, run by {len(pages)} page(s): {', '.join(pages)}")
            print(f"    {_short(statement.sql)[:600]}")
            print(f"    params {statement.params!r}"[:300])
            for line in explain(conn, dialect, statement):
                print("      " + line)


# ------------------------------------------------------------------ the report


def report(args, database, sizes, pages, loads, small, large, facts, links) -> bool:
    """Prints the table and verdicts; True when everything passed."""
    bare = loads["bare"]
    title = (
        f"Portal agent pages: {database}; {facts}; signed in as {AGENT_EMAIL}; gunicorn -w 2 "
        f"(sync); {args.threads} client threads (http.client, a new connection per request); "
        f"{args.duration} s per page; 127.0.0.1"
    )
    header = (
        f"{'page':<13} {'rows':>4} {'bytes':>7} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7}"
        f" {'p99 ms':>7} {'ratio':>6} {'SQL agent':>9} {'SQL admin':>9} {'1 req ms':>8}"
        f" {'SQL ms':>7} {'err':>4}"
    )
    print_head(title, {name: str(page) for name, page in pages.items()}, 13, header)
    few, many = small[AGENT_EMAIL], large[AGENT_EMAIL]
    for name in ("bare", *pages):
        load = loads[name]
        if name == "bare":
            rows, sql, sql_admin, one, sql_ms = "-", "-", "-", "-", "-"
        else:
            rows = str(many[name].rows)
            sql = f"{len(few[name].statements)}/{len(many[name].statements)}"
            sql_admin = (
                f"{len(small[ADMIN_EMAIL][name].statements)}"
                f"/{len(large[ADMIN_EMAIL][name].statements)}"
            )
            one = f"{many[name].ms:.1f}"
            sql_ms = f"{sum(s.ms for s in many[name].statements):.1f}"
        print(
            f"{name:<13} {rows:>4} {sizes[name]:>7} {load.rps:>7.1f} {load.p50_ms:>7.2f}"
            f" {load.p95_ms:>7.2f} {load.p99_ms:>7.2f} {load.rps / bare.rps:>6.3f} {sql:>9}"
            f" {sql_admin:>9} {one:>8} {sql_ms:>7} {load.errors:>4}"
        )
    print(
        f"SQL agent, SQL admin: queries of one request in-process, signed in as {AGENT_EMAIL} / "
        f"{ADMIN_EMAIL}, with the demo and {min(SMALL, args.tickets)} generated tickets / with "
        f"all {args.tickets:,}; rows: queue rows or timeline entries; 1 req ms, SQL ms: the "
        "agent's request in-process (no load) and its queries' share (commits not included); "
        "ratio: req/s / the bare page's."
    )
    print()
    passed = True
    for name in pages:
        ok = loads[name].p95_ms < P95_TARGET_MS and loads[name].errors == 0
        passed &= ok
        print(
            f"{'PASS' if ok else 'FAIL'}  {name}: p95 {loads[name].p95_ms:.1f} ms "
            f"(target < {P95_TARGET_MS:.0f} ms; {loads[name].errors} errors)"
        )
    for email in (AGENT_EMAIL, ADMIN_EMAIL):
        for name in pages:
            before, after = len(small[email][name].statements), len(large[email][name].statements)
            passed &= before == after
            print(
                f"{'PASS' if before == after else 'FAIL'}  {name} ({email}): {after} SQL queries "
                f"with {args.tickets:,} tickets, {before} with {min(SMALL, args.tickets)}"
            )
            if before != after:
                for statement in large[email][name].statements:
                    print("        " + " ".join(statement.sql.split())[:150])
    empty = [name for name in pages if small[AGENT_EMAIL][name].rows == 0]
    if empty:
        print(f"NOTE  no rows with the small set (its counts may miss a query): {', '.join(empty)}")
    same_cursor, link_check = links
    passed &= same_cursor
    print(f"{'PASS' if same_cursor else 'FAIL'}  {link_check}")
    print(f"{'PASS' if passed else 'FAIL'}  overall")
    return passed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=100_000, help="tickets to add (100000)")
    parser.add_argument(
        "--duration", "--seconds", type=int, default=5, help="seconds of load per page (5)"
    )
    parser.add_argument("--threads", "--clients", type=int, default=4, help="client threads (4)")
    parser.add_argument("--deep-page", type=int, default=200, help="open queue page (200)")
    parser.add_argument("--explain", action="store_true", help="print the plans even on PASS")
    parser.add_argument(
        "--postgres",
        action="store_true",
        help="create (and drop) a database portal_bench_agent_<pid> on postgres@127.0.0.1:5432",
    )
    args = parser.parse_args()
    small_count = min(SMALL, args.tickets)

    started = time.monotonic()  # the load time includes the migrations and the demo
    with temporary_instance(
        "portal-bench-agent-",
        config_py=INSTANCE_CONFIG,
        settings={"SEARCH_RECONCILE_ON_START": False},
        postgres=f"portal_bench_agent_{os.getpid()}" if args.postgres else None,
    ) as instance:
        app = instance.app
        with app.app_context():
            people = make_people(db.session)
            first_id = (db.session.scalar(select(func.max(Ticket.id))) or 0) + 1
            bundles = generated(people, itertools.count(first_id), clock.now(), seed=100_000)
            insert_bundles(db.session, bundles, small_count)
            after_load(db.session)
            db.session.remove()
        ticket_ids = {"ticket long": first_id, "ticket normal": first_id + 1}
        clients = {email: signed_in_client(app, email) for email in (AGENT_EMAIL, ADMIN_EMAIL)}
        pages = page_requests(app, people, ticket_ids, args.deep_page)
        small = {email: count_queries(app, c, pages) for email, c in clients.items()}

        print(f"Adding {args.tickets - small_count:,} tickets ...", flush=True)
        with app.app_context():
            insert_bundles(db.session, bundles, args.tickets - small_count)
            after_load(db.session)
            loaded = census(db.session, people)
            db.session.remove()
            db.engine.dispose()
        print(f"Loaded in {time.monotonic() - started:.1f} s: {loaded}", flush=True)
        pages = page_requests(app, people, ticket_ids, args.deep_page)
        large = {email: count_queries(app, c, pages) for email, c in clients.items()}

        env = dict(os.environ)
        portal = instance.serve("portal", instance.target, env, "/login")
        visitor = sign_in_http(portal.base_url, AGENT_EMAIL)
        links = check_links(app, people, visitor, pages["open"].path, min(10, args.deep_page))
        sizes = {}
        for name, page in pages.items():
            status, _h, body = visitor.request("GET", page.path, headers=page.headers)
            if status != 200 or (page.htmx and b"<html" in body):
                raise RuntimeError(f"{name} page {page} answered {status} under gunicorn")
            sizes[name] = len(body)
        bare = instance.serve_bare(env, sizes["open"])
        sizes["bare"] = len(fetch(bare.base_url + "/")[1])

        loads = {}
        load_average = [os.getloadavg()[0]]
        targets = {"bare": (bare.base_url, PageRequest("/"))}
        targets |= {name: (portal.base_url, page) for name, page in pages.items()}
        for name, (base, page) in targets.items():
            print(f"load: {name} for {args.duration} s ...", flush=True)
            drive(base, page, args.threads, 2, visitor.cookies)  # warm both workers
            loads[name] = drive(base, page, args.threads, args.duration, visitor.cookies)
        load_average.append(os.getloadavg()[0])

        facts = (
            f"{loaded}; ANALYZE after loading; {os.cpu_count()} CPUs, load average "
            f"{load_average[0]:.1f} before the load runs, {load_average[1]:.1f} after"
        )
        passed = report(args, instance.database, sizes, pages, loads, small, large, facts, links)
        print()
        print(log_summary(instance.servers))
        for server in instance.servers:
            stop(server)
        slow = [name for name in pages if loads[name].p95_ms >= P95_TARGET_MS]
        if slow or args.explain:
            diagnose(app, large[AGENT_EMAIL], slow or list(pages))
        return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
