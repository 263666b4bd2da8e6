"""Automation benchmark. Schedules part (`bench_schedules`): a schedule run over 100,000 tickets
must finish under 30 seconds, touching only the tickets that match.

Builds a temporary instance (SQLite by default, or PostgreSQL with --postgres), loads the demo
(Hanbit Pay's schedules "Solve after 7 days": pending, 168 hours since an agent's last reply ->
solved and an internal note; "Close after 4 days": solved for 96 hours -> closed), and
bulk-inserts --tickets tickets (100,000) into hanbit-pay over the past year (executemany of
table rows, 2,000 a batch, as bench/export.py does): --share (2%) of them due, two thirds for
the first schedule and one third for the second, and the rest not (closed, open, or pending
and solved too recently, or open: the customer replied since). Then it runs
portal.desk.automation.schedules.run_schedules once and times it, checks that exactly the due
tickets were touched (updated at the run's moment, one status event each, one note for each
solved one), runs it again at once (nothing to do: every due ticket has its firing) and prints
both times and the plans (SQLite: EXPLAIN QUERY PLAN; PostgreSQL: EXPLAIN) of the queries that
choose each schedule's tickets. PASS when the first run is under --limit seconds (30) and
touched exactly the due tickets; the exit code is 1 otherwise.

Run it with `.venv/bin/python bench/automation.py` (SQLite; `--tickets 5000` for a quick run),
`--postgres` to create and drop a database `portal_bench_automation_<pid>` on the local server
(postgres@127.0.0.1:5432, trust).
"""

import argparse
import itertools
import os
import random
import secrets
import sys
import time
from datetime import timedelta

from common import temporary_instance
from my_requests import after_load
from sqlalchemy import event, func, insert, select

from kb import clock
from kb.models import Brand
from portal.desk.automation import schedules
from portal.desk.automation.models import ScheduleRule
from portal.desk.models import Ticket, TicketEvent, TicketMessage
from portal.extensions import db

BRAND = "hanbit-pay"
BATCH = 2_000
INSTANCE_CONFIG = """\
SECRET_KEY = "bench-automation"
DATABASE_URL = {database_url!r}
PORTAL_SCHEDULER = "off"
"""


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


def bench_schedules(args) -> bool:
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=100_000, help="tickets to add (100000)")
    parser.add_argument("--share", type=float, default=0.02, help="share of the tickets due (0.02)")
    parser.add_argument("--limit", type=float, default=30.0, help="seconds allowed (30)")
    parser.add_argument(
        "--postgres",
        action="store_true",
        help="create (and drop) a database portal_bench_automation_<pid> on "
        "postgres@127.0.0.1:5432",
    )
    args = parser.parse_args()
    passed = bench_schedules(args)
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
