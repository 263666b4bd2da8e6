"""Export benchmark: the ticket export's CSV and JSON of 100,000 tickets, read as they stream,
with the process's memory sampled on the way: it must stay flat, whatever the number of tickets.

Builds a temporary instance (SQLite by default, or PostgreSQL with --postgres), loads the demo,
bulk-inserts --tickets tickets (100,000) into its first brand (hanbit-pay, Asia/Seoul) over the
past year, as bench/agent.py does (executemany of table rows, 2,000 tickets a batch): each with
the requester's message and an agent's reply, an internal note on every fifth, a file on every
tenth, two tags on every seventh. Then, signed in as the demo admin (admin@example.com, who may
read notes) through Flask's test client in this process, it downloads
/admin/export/tickets.csv?brand=hanbit-pay and then tickets.json, reading each response chunk
by chunk (buffered=False: nothing is collected), and reads VmRSS from /proc/self/status every
--every chunks (500). It prints, per format: tickets, rows (CSV lines) and bytes read, the time
and tickets/s and rows/s, the resident memory before the request, at each tenth of the stream
and at its peak, and "flat" when the peak is within --tolerance MB (16) of the memory a tenth of
the way in (the batches, the session and the response's buffers are all there by then: what
comes later is growth with the number of tickets), else "GROWING"; and the plan of one keyset
batch query (SQLite: EXPLAIN QUERY PLAN; PostgreSQL: EXPLAIN). The exit code is 1 when a
format is GROWING or holds another number of tickets than were loaded.

Run it with `.venv/bin/python bench/export.py` (SQLite; `--tickets 5000` for a quick run),
`--postgres` to create and drop a database `portal_bench_export_<pid>` on the local server
(postgres@127.0.0.1:5432, trust).
"""

import argparse
import itertools
import os
import random
import secrets
import sys
import time
from dataclasses import dataclass, field
from datetime import timedelta

from agent import BATCH, REQUESTER_REPLIES, signed_in_client
from common import temporary_instance
from my_requests import after_load
from sqlalchemy import event, func, insert, select

from kb import clock
from kb.models import Brand
from kb.people import BrandMember, User
from portal.desk import export
from portal.desk.models import Ticket, TicketFile, TicketMessage, TicketTag
from portal.extensions import db

ADMIN_EMAIL, BRAND = "admin@example.com", "hanbit-pay"
INSTANCE_CONFIG = """\
SECRET_KEY = "bench-export"
DATABASE_URL = {database_url!r}
PORTAL_SCHEDULER = "off"
LOGIN_RATE_LIMIT = "1000 per minute"
"""
SUBJECTS = [
    "카드 결제가 거절됩니다",
    "Refund for a double charge",
    "アプリにログインできません",
    "Invoice address is wrong",
    "=SUM(A1:A9) in my statement",  # a would-be formula: the CSV quotes it
]
AGENT_REPLY = (
    "Thanks for writing. I checked your account and see what happened; could you confirm the "
    "last four digits of the card so I can trace the payment?"
)
NOTE = "Internal: the payment log shows two authorisations; the second one is a reversal."


# ------------------------------------------------------------------ the tickets


def load(session, count: int, seed: int = 18) -> int:
    """`count` tickets in the brand, with their messages, files and tags (bulk); answers the
    brand's ticket count."""
    rng = random.Random(seed)
    brand = session.scalar(select(Brand).where(Brand.slug == BRAND))
    agents = session.execute(
        select(User.id, User.name, User.email)
        .join(BrandMember, BrandMember.user_id == User.id)
        .where(BrandMember.brand_id == brand.id, User.role != "customer")
    ).all()
    now = clock.now()
    first_id = (session.scalar(select(func.max(Ticket.id))) or 0) + 1
    ids = itertools.count(first_id)
    left = count
    while left > 0:
        size = min(BATCH, left)
        left -= size
        tickets, messages, files, tags = [], [], [], []
        for _ in range(size):
            ticket_id = next(ids)
            created = now - timedelta(days=rng.uniform(0, 365))
            agent = rng.choice(agents)
            name = f"Requester {ticket_id % 20_000}"
            email = f"requester{ticket_id % 20_000}@mail.example"
            description = f"Order A-{ticket_id:06d}: {REQUESTER_REPLIES[ticket_id % 4]}"
            tickets.append(
                {
                    "id": ticket_id,
                    "brand_id": brand.id,
                    "locale": "ko",
                    "form_name": "",
                    "subject": f"{SUBJECTS[ticket_id % len(SUBJECTS)]} ({ticket_id})",
                    "description": description,
                    "status": "closed" if ticket_id % 4 else "open",
                    "channel": "web",
                    "requester_name": name,
                    "requester_email": email,
                    "answers": [],
                    "details": {},
                    "assignee_id": agent.id,
                    "priority": "normal",
                    "link_secret": secrets.token_hex(16),
                    "created_at": created,
                    "updated_at": created + timedelta(hours=2),
                }
            )
            said = [
                (None, name, email, True, True, description, created),
                (agent.id, agent.name, agent.email, False, True, AGENT_REPLY, created),
            ]
            if ticket_id % 5 == 0:
                said.append((agent.id, agent.name, agent.email, False, False, NOTE, created))
            for n, (author, who, address, requester, public, body, at) in enumerate(said):
                messages.append(
                    {
                        "ticket_id": ticket_id,
                        "author_id": author,
                        "author_name": who,
                        "author_email": address,
                        "from_requester": requester,
                        "public": public,
                        "body": body,
                        "channel": "web",
                        "created_at": at + timedelta(minutes=30 * n),
                    }
                )
            if ticket_id % 10 == 0:
                files.append(
                    {
                        "token": secrets.token_hex(16),
                        "brand_id": brand.id,
                        "ticket_id": ticket_id,
                        "sha256": "0" * 64,
                        "filename": f"receipt-{ticket_id}.png",
                        "content_type": "image/png",
                        "size": 1000,
                        "created_at": created,
                    }
                )
            if ticket_id % 7 == 0:
                tags += [{"ticket_id": ticket_id, "tag": t} for t in ("billing", "vip")]
        for model, rows in (
            (Ticket, tickets),
            (TicketMessage, messages),
            (TicketFile, files),
            (TicketTag, tags),
        ):
            if rows:
                session.execute(insert(model.__table__), rows)
        session.commit()
    return session.scalar(select(func.count(Ticket.id)).where(Ticket.brand_id == brand.id))


def batch_plan(session) -> list[str]:
    """The plan of the export's second keyset batch query (the first after a cursor), as
    export.tickets sends it (statement and parameters caught on their way to the driver)."""
    brand_id = session.scalar(select(Brand.id).where(Brand.slug == BRAND))
    engine = session.get_bind()
    caught = []

    def catch(_conn, _cursor, statement, parameters, _context, _many):
        if "FROM tickets" in statement and "tickets.created_at, tickets.id) >" in statement:
            caught.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", catch)
    try:
        read = export.tickets(session, [brand_id], export.Period(), True)
        for _ticket in itertools.islice(read, export.BATCH + 1):
            pass
        read.close()
    finally:
        event.remove(engine, "before_cursor_execute", catch)
    if not caught:
        return ["(fewer tickets than one batch: no query after a cursor)"]
    statement, parameters = caught[0]
    sqlite = engine.dialect.name == "sqlite"
    explain = "EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN "
    connection = session.connection()
    rows = connection.exec_driver_sql(explain + statement, parameters).all()
    return [row[-1] if sqlite else row[0] for row in rows]


# ------------------------------------------------------------------ the stream


def rss_kb() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS in /proc/self/status")


@dataclass
class Run:
    fmt: str
    status: int = 0
    chunks: int = 0
    tickets: int = 0
    rows: int = 0
    bytes: int = 0
    seconds: float = 0.0
    before_kb: int = 0
    samples: list[tuple[int, int]] = field(default_factory=list)  # (bytes read, VmRSS kB)

    @property
    def peak_kb(self) -> int:
        return max(kb for _b, kb in self.samples)

    def at(self, share: float) -> int:
        """VmRSS at the first sample `share` of the way through the bytes read."""
        for read, kb in self.samples:
            if read >= self.bytes * share:
                return kb
        return self.samples[-1][1]


def stream(client, fmt: str, every: int) -> Run:
    run = Run(fmt, before_kb=rss_kb())
    started = time.perf_counter()
    response = client.get(f"/admin/export/tickets.{fmt}?brand={BRAND}", buffered=False)
    run.status = response.status_code
    try:
        for chunk in response.response:
            data = chunk.encode() if isinstance(chunk, str) else chunk
            run.chunks += 1
            run.bytes += len(data)
            if fmt == "csv":
                run.rows += data.count(b"\r\n")
            if run.chunks % every == 0:
                run.samples.append((run.bytes, rss_kb()))
    finally:
        response.close()
    run.seconds = time.perf_counter() - started
    run.samples.append((run.bytes, rss_kb()))
    # CSV: the header's chunk, then one a ticket; JSON: "[", one a ticket, "]".
    run.tickets = run.chunks - (1 if fmt == "csv" else 2)
    run.rows = run.rows - 1 if fmt == "csv" else run.tickets  # (less the header)
    return run


def report(run: Run, loaded: int, tolerance_mb: float) -> bool:
    mb = 1024
    base = run.at(0.1)
    growth = (run.peak_kb - base) / mb
    flat = growth <= tolerance_mb
    tenths = " ".join(f"{run.at(i / 10) / mb:.0f}" for i in range(1, 11))
    verdict = "flat" if flat else "GROWING"
    counted = "" if run.tickets == loaded else f"  (expected {loaded:,} tickets!)"
    print(
        f"{run.fmt.upper():4} {run.status}  {run.tickets:,} tickets, {run.rows:,} rows, "
        f"{run.bytes / mb / mb:.1f} MB in {run.seconds:.1f} s: "
        f"{run.tickets / run.seconds:,.0f} tickets/s, {run.rows / run.seconds:,.0f} rows/s{counted}"
    )
    print(
        f"     VmRSS MB: before {run.before_kb / mb:.0f}, at each tenth {tenths}, "
        f"peak {run.peak_kb / mb:.0f}; growth after the first tenth {growth:+.1f} MB "
        f"({len(run.samples)} samples) -> {verdict}"
    )
    return flat and run.tickets == loaded and run.status == 200


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=100_000, help="tickets to add (100000)")
    parser.add_argument("--every", type=int, default=500, help="chunks between samples (500)")
    parser.add_argument(
        "--tolerance", type=float, default=16.0, help="MB of growth still flat (16)"
    )
    parser.add_argument(
        "--postgres",
        action="store_true",
        help="create (and drop) a database portal_bench_export_<pid> on postgres@127.0.0.1:5432",
    )
    args = parser.parse_args()
    started = time.monotonic()
    with temporary_instance(
        "portal-bench-export-",
        config_py=INSTANCE_CONFIG,
        settings={"SEARCH_RECONCILE_ON_START": False},
        postgres=f"portal_bench_export_{os.getpid()}" if args.postgres else None,
    ) as instance:
        app = instance.app
        with app.app_context():
            loaded = load(db.session, args.tickets)
            after_load(db.session)
            messages = db.session.scalar(select(func.count(TicketMessage.id)))
            plan = batch_plan(db.session)
            db.session.remove()
        print(
            f"Loaded in {time.monotonic() - started:.1f} s: {loaded:,} tickets in {BRAND} "
            f"({messages:,} messages in all) on {instance.database}",
            flush=True,
        )
        print("Keyset batch query plan:")
        for line in plan:
            print(f"  {line}")
        client = signed_in_client(app, ADMIN_EMAIL)
        passed = True
        load_average = os.getloadavg()[0]
        for fmt in ("csv", "json"):
            passed &= report(stream(client, fmt, args.every), loaded, args.tolerance)
        print(
            f"{os.cpu_count()} CPUs, load average {load_average:.1f} before the downloads, "
            f"{os.getloadavg()[0]:.1f} after (other processes slow the rates down, not memory)"
        )
        print("PASS" if passed else "FAIL")
        return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
