"""Automation benchmark: what the automation adds to the desk's operations, one part each.

- rules: an inquiry-form submission (GET the form, POST it) with no active rule, and with 50
  active rules on the brand (45 that do not match, among them word, Korean, domain, tag and
  business-hours conditions, and 5 that do: tags, priority, a note), on the same instance in
  the same run, in alternating rounds so that drift hits both alike. The POST is timed in the
  process (the Flask test client: no network, no server queue), so the difference is what the
  rule bot costs. Prints p50/p95/p99 of each, the p95 difference and the ratio, against the
  budget (50 rules add less than 10 ms at p95).

- schedules: a schedule run over 100,000 tickets must finish under 30 seconds, touching only
  the tickets that match. On an instance of its own, it loads the demo (Hanbit Pay's schedules
  "Solve after 7 days": pending, 168 hours since an agent's last reply -> solved and an
  internal note; "Close after 4 days": solved for 96 hours -> closed) and bulk-inserts
  --tickets tickets (100,000) over the past year, --share (2%) of them due (two thirds for the
  first schedule, one third for the second) and the rest not (closed, open, or pending and
  solved too recently). Then it runs portal.desk.automation.schedules.run_schedules once and
  times it (wall and CPU), checks that exactly the due tickets were touched (one status event
  each, one note for each solved one), runs it again at once (nothing to do: every due ticket
  has its firing) and prints both times and the plans of the queries that choose each
  schedule's tickets. PASS when the first run is under --limit seconds (30) and exact.

Run it with `.venv/bin/python bench/automation.py` (SQLite; rules: `--submissions 300` per
setting, `--rounds 6`; schedules: `--tickets 5000` for a quick run), `--postgres` to create and
drop a database `portal_bench_automation_<pid>` on the local server, or `--database-url URL`
(rules only); `--part rules` or `--part schedules` runs one part. It is a report: the exit code
is 0 whatever the numbers say.
"""

import argparse
import html
import itertools
import os
import random
import re
import secrets
import sys
import time
from datetime import timedelta

from common import percentile, print_head, temporary_instance
from my_requests import after_load
from sqlalchemy import event, func, insert, select, update

from kb import clock
from kb.models import Brand
from portal.desk.automation import events, rules, schedules
from portal.desk.automation.models import AutomationRule, ScheduleRule
from portal.desk.models import InquiryForm, Ticket, TicketEvent, TicketMessage
from portal.extensions import db

BRAND, LOCALE = "hanbit-pay", "en"
BATCH = 2_000
RULES = 50
MATCHING = 5
BUDGET_MS = 10.0
INSTANCE_CONFIG = """\
SECRET_KEY = "bench-automation"
DATABASE_URL = {database_url!r}
PORTAL_SCHEDULER = "off"
INQUIRY_MIN_SECONDS = 0
INQUIRY_RATE_LIMIT = "1000000 per minute"
INQUIRY_EMAIL_RATE_LIMIT = "1000000 per minute"
"""

# ------------------------------------------------------------------ rules


def _non_matching(n: int) -> tuple[list, list]:
    """The conditions of the n-th rule that does not match a bench submission."""
    kinds = [
        [("text_contains", f"chargeback{n}")],
        [("subject_contains", f"환불{n}요청")],
        [("requester_domain_is", f"nowhere{n}.example")],
        [("tags_include", f"vip{n}")],
        [("text_contains", "invoice"), ("outside_business_hours", ""), ("priority_is", "urgent")],
        [("channel_is", "email"), ("body_contains", f"refunds {n}")],
    ]
    return kinds[n % len(kinds)], [("add_tags", f"never-{n}", "")]


def _matching(n: int) -> tuple[list, list]:
    actions = [
        [("add_tags", f"bench-{n}", "")],
        [("set_priority", "high", "")],
        [("add_note", "", f"Bench rule {n} was here")],
        [("set_type", "question", "")],
        [("add_tags", "bench", ""), ("set_priority", "high", "")],
    ]
    return [("text_contains", "benchmark"), ("channel_is", "web")], actions[n % len(actions)]


def make_rules(app) -> tuple[str, list[int]]:
    """55 rules on the brand, switched off: 50 that never match a bench submission, then 5
    that do; (the form page's path, their ids in that order)."""
    with app.app_context():
        brand = db.session.scalar(select(Brand).where(Brand.slug == BRAND))
        form = InquiryForm(  # the bench's own: no questions beyond subject and description
            brand_id=brand.id,
            listed=False,
            audience="everyone",
            names={"en": "Automation bench", brand.default_locale: "Automation bench"},
            descriptions={},
        )
        db.session.add(form)
        db.session.flush()
        form_id = form.id
        db.session.execute(
            update(AutomationRule)
            .where(AutomationRule.brand_id == brand.id)
            .values(active=False)  # the demo's own rule stays off throughout
        )
        ids = []
        for n in range(RULES + MATCHING):  # 50 that do not match, then 5 that do
            conditions, actions = _matching(n) if n >= RULES else _non_matching(n)
            draft = rules.Draft(
                name=f"Bench rule {n}",
                active=False,
                events=["ticket_created"],
                match="all",
                conditions=conditions,
                actions=actions,
            )
            ids.append(rules.save_rule(db.session, None, brand, None, draft, now=clock.now()).id)
        db.session.commit()
        db.session.remove()
    return f"/{BRAND}/{LOCALE}/requests/new?form={form_id}", ids


def switch(app, ids: list[int], active: bool) -> None:
    with app.app_context():
        db.session.execute(
            update(AutomationRule).where(AutomationRule.id.in_(ids)).values(active=active)
        )
        db.session.commit()
        db.session.remove()


def _hidden(page: str, name: str) -> str:
    match = re.search(rf'<input type="hidden" name="{name}" value="([^"]*)"', page)
    return html.unescape(match[1]) if match else ""


_counter = iter(range(10**9))


def submit(client, path: str) -> float:
    """One submission; the POST's time in ms."""
    n = next(_counter)
    page = client.get(path).get_data(as_text=True)
    data = {
        "csrf_token": _hidden(page, "csrf_token"),
        "key": _hidden(page, "key"),
        "name": f"Visitor {n}",
        "email": f"visitor{n}@example.com",
        "subject": f"Automation bench request {n}",
        "description": "The app shows an error after I pay. This is a benchmark request.",
        "shown": _hidden(page, "shown"),
        "action": "send",
    }
    started = time.perf_counter()
    response = client.post(path, data=data)
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 303:
        raise RuntimeError(f"the submission answered {response.status_code}")
    return elapsed


def part_rules(app, args) -> None:
    path, ids = make_rules(app)
    settings = {
        "no active rule": [],
        f"{RULES} not matching": ids[:RULES],
        f"{RULES - MATCHING} + {MATCHING} matching": ids[: RULES - MATCHING] + ids[RULES:],
    }
    client = app.test_client()
    per_round = max(1, args.submissions // args.rounds)
    for _ in range(10):  # warm-up: templates, analysers, connections
        submit(client, path)
    times: dict[str, list[float]] = {name: [] for name in settings}
    own: dict[str, list[float]] = {name: [] for name in settings}
    measured: list[float] = []

    def timed(session, event):  # the rule bot's own time, for each ticket made
        started = time.perf_counter()
        rules.on_event(session, event)
        if event.kind == events.TICKET_CREATED:
            measured.append((time.perf_counter() - started) * 1000)

    events.register("rules", timed)
    try:
        for round_ in range(args.rounds):
            names = list(settings) if round_ % 2 == 0 else list(reversed(settings))
            for name in names:
                switch(app, ids, False)
                switch(app, settings[name], True)
                measured.clear()
                times[name] += [submit(client, path) for _ in range(per_round)]
                own[name] += measured
    finally:
        events.register("rules", rules.on_event)
    switch(app, ids, False)

    def row(name: str, values: list[float]) -> str:
        figures = " ".join(f"{percentile(values, p):>8.2f}" for p in (50, 95, 99))
        return f"{name:<22} {len(values):>7,} {figures}"

    header = (
        f"{'setting':<22} {'posts':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}"
        f" {'+p95 ms':>8} {'ratio':>6} {'bot p50':>8} {'bot p95':>8}"
    )
    print_head(
        "Rule bot: form submissions (POST, in process), no rules vs 50 active rules",
        {
            "rules": f"{RULES} on {BRAND}, none matching; or {RULES - MATCHING} of them and "
            f"{MATCHING} that match (tags, priority, type, a note)",
            "rounds": f"{args.rounds} alternating rounds of {per_round} submissions per setting",
        },
        8,
        header,
    )
    base = percentile(times["no active rule"], 95)
    verdicts = []
    for name, values in times.items():
        p95 = percentile(values, 95)
        bot50, bot95 = percentile(own[name], 50), percentile(own[name], 95)
        print(
            f"{row(name, values)} {p95 - base:>+8.2f} {p95 / base:>6.3f}"
            f" {bot50:>8.2f} {bot95:>8.2f}"
        )
        if values is not times["no active rule"]:
            verdicts.append(
                f"{name}: {'PASS' if p95 - base < BUDGET_MS else 'FAIL'} "
                f"(bot p95 {'PASS' if bot95 < BUDGET_MS else 'FAIL'})"
            )
    print(
        f"+p95: the p95 difference to no active rule; bot: the time inside the rule bot "
        f"(rules.on_event) per ticket made; budget {BUDGET_MS:.0f} ms for 50 rules. "
        + "; ".join(verdicts)
        + ". The matching rules' actions are the agents' operations themselves (a note, "
        "property changes with their events and audit)."
    )


# ------------------------------------------------------------------ the tickets


def load_schedule_tickets(session, count: int, share: float, seed: int = 19) -> dict:
    """`count` tickets in the brand (bulk): how many are due for each demo schedule."""
    rng = random.Random(seed)
    brand = session.scalar(select(Brand).where(Brand.slug == BRAND))
    now = clock.now()
    first_id = (session.scalar(select(func.max(Ticket.id))) or 0) + 1
    ids = itertools.count(first_id)
    due = {"solve": 0, "close": 0}
    left = count
    while left > 0:
        size = min(BATCH, left)
        left -= size
        rows = []
        for _ in range(size):
            ticket_id = next(ids)
            created = now - timedelta(days=rng.uniform(12, 365))
            draw = rng.random()
            status, changed, agent, customer = "closed", created + timedelta(days=2), None, created
            if draw < share * 2 / 3:  # pending, answered 8 to 30 days ago, no word since: to solve
                agent = now - timedelta(days=rng.uniform(8, 30))
                status, changed = "pending", agent
                due["solve"] += 1
            elif draw < share:  # solved 5 to 30 days ago: to close
                status, changed = "solved", now - timedelta(days=rng.uniform(5, 30))
                agent = changed
                due["close"] += 1
            elif draw < 0.10:  # pending, answered in the last 6 days: not yet
                agent = now - timedelta(days=rng.uniform(0, 6))
                status, changed = "pending", agent
            elif draw < 0.13:  # solved in the last 3 days: not yet
                status, changed = "solved", now - timedelta(days=rng.uniform(0, 3))
                agent = changed
            elif draw < 0.20:  # open: the customer answered
                agent = created + timedelta(hours=2)
                status, changed, customer = "open", now - timedelta(days=1), changed
            rows.append(
                {
                    "id": ticket_id,
                    "brand_id": brand.id,
                    "locale": "ko",
                    "form_name": "",
                    "subject": f"Card declined ({ticket_id})",
                    "description": "My card is declined.",
                    "status": status,
                    "channel": "web",
                    "requester_name": f"Requester {ticket_id % 20_000}",
                    "requester_email": f"requester{ticket_id % 20_000}@mail.example",
                    "answers": [],
                    "details": {},
                    "priority": "normal",
                    "link_secret": secrets.token_hex(16),
                    "solved_at": changed if status in ("solved", "closed") else None,
                    "created_at": created,
                    "updated_at": max(changed, agent or changed),
                    "status_changed_at": changed,
                    "requester_replied_at": customer,
                    "agent_replied_at": agent,
                }
            )
        session.execute(insert(Ticket.__table__), rows)
        session.commit()
    return due


def due_now(session, now) -> dict[str, int]:
    """Tickets each active schedule would choose now (its query on the clock), by name."""
    found = {}
    for schedule in session.scalars(select(ScheduleRule).where(ScheduleRule.active.is_(True))):
        query = schedules.due_query(schedule, now)
        found[schedule.name] = session.scalar(select(func.count()).select_from(query.subquery()))
    return found


def plans(session, now) -> dict[str, list[str]]:
    """The plan of each schedule's query (statement and parameters caught on their way to the
    driver, then explained)."""
    engine = session.get_bind()
    sqlite = engine.dialect.name == "sqlite"
    found = {}
    for schedule in session.scalars(select(ScheduleRule).order_by(ScheduleRule.position)).all():
        caught = []

        def catch(_conn, _cursor, statement, parameters, _context, _many, caught=caught):
            caught.append((statement, parameters))

        event.listen(engine, "before_cursor_execute", catch)
        try:
            session.execute(schedules.due_query(schedule, now)).all()
        finally:
            event.remove(engine, "before_cursor_execute", catch)
        statement, parameters = caught[-1]
        explain = "EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN "
        rows = session.connection().exec_driver_sql(explain + statement, parameters).all()
        found[schedule.name] = [row[-1] if sqlite else row[0] for row in rows]
    session.rollback()
    return found


# ------------------------------------------------------------------ the run


def part_schedules(app, args) -> bool:
    """The schedules part, on an instance of its own (`app` is not used)."""
    started = time.monotonic()
    with temporary_instance(
        "portal-bench-automation-",
        config_py=INSTANCE_CONFIG,
        settings={"SEARCH_RECONCILE_ON_START": False},
        postgres=f"portal_bench_automation_{os.getpid()}" if args.postgres else None,
    ) as instance:
        with instance.app.app_context():
            session = db.session
            loaded = load_schedule_tickets(session, args.tickets, args.share)
            after_load(session)
            now = clock.now()
            expected = due_now(session, now)
            total = session.scalar(select(func.count(Ticket.id)))
            print(
                f"Loaded in {time.monotonic() - started:.1f} s: {args.tickets:,} tickets added "
                f"to {BRAND} ({total:,} in all) on {instance.database}; due now: "
                + ", ".join(f"{name} {n:,}" for name, n in expected.items())
                + f" (of which loaded {loaded['solve']:,} and {loaded['close']:,})",
                flush=True,
            )
            for name, lines in plans(session, now).items():
                print(f"Plan of the query choosing the tickets of “{name}”:")
                for line in lines:
                    print(f"  {line}")
            session.remove()

            timer, cpu = time.perf_counter(), time.process_time()
            first = schedules.run_schedules(db.session, now)
            first_seconds = time.perf_counter() - timer
            first_cpu = time.process_time() - cpu  # this process's own share of the wait
            timer = time.perf_counter()
            second = schedules.run_schedules(db.session, now)
            second_seconds = time.perf_counter() - timer

            session = db.session
            touched = session.scalar(select(func.count(Ticket.id)).where(Ticket.updated_at == now))
            status_events = session.scalar(
                select(func.count(TicketEvent.id)).where(
                    TicketEvent.created_at == now, TicketEvent.kind == "status"
                )
            )
            notes = session.scalar(
                select(func.count(TicketMessage.id)).where(
                    TicketMessage.created_at == now, TicketMessage.public.is_(False)
                )
            )
            db.session.remove()
        want = sum(expected.values())
        solved = expected.get("Solve after 7 days", 0)
        exact = first.fired == touched == status_events == want and notes == solved
        print(
            f"First run: {first_seconds:.2f} s ({first_cpu:.2f} s of CPU in this process), "
            f"{first.fired:,} tickets acted on "
            f"({first.fired / max(first_seconds, 1e-9):,.0f}/s), {touched:,} tickets touched, "
            f"{status_events:,} status events, {notes:,} notes; expected {want:,} "
            f"({solved:,} notes) -> {'exact' if exact else 'WRONG'}"
        )
        print(
            f"Second run at once: {second_seconds:.2f} s, {second.fired} tickets acted on "
            f"({second.skipped} skipped)"
        )
        passed = exact and first_seconds < args.limit and second.fired == 0
        print(
            f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}. "
            + ("PASS" if passed else "FAIL")
            + f" (limit {args.limit:.0f} s)"
        )
        return passed


PARTS = {"rules": part_rules, "schedules": part_schedules}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=sorted(PARTS), action="append", help="(every part)")
    parser.add_argument("--submissions", type=int, default=300, help="per setting (300)")
    parser.add_argument("--rounds", type=int, default=6, help="alternating rounds (6)")
    parser.add_argument("--tickets", type=int, default=100_000, help="schedules: tickets (100000)")
    parser.add_argument("--share", type=float, default=0.02, help="schedules: share due (0.02)")
    parser.add_argument("--limit", type=float, default=30.0, help="schedules: seconds (30)")
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--postgres",
        action="store_true",
        help="create (and drop) a database portal_bench_automation_<pid> on 127.0.0.1:5432",
    )
    where.add_argument("--database-url", help="rules: a database of your own (migrated, kept)")
    args = parser.parse_args()
    parts = args.part or list(PARTS)
    if "rules" in parts:
        with temporary_instance(
            "portal-bench-automation-",
            config_py=INSTANCE_CONFIG,
            settings={"SEARCH_RECONCILE_ON_START": False},
            postgres=f"portal_bench_automation_{os.getpid()}" if args.postgres else None,
            database_url=args.database_url,
        ) as instance:
            part_rules(instance.app, args)
    if "schedules" in parts:
        part_schedules(None, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
