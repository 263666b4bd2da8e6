"""Intake benchmark: inquiry-form submissions under gunicorn, and a count of what arrived.

Builds a temporary instance (SQLite by default, or PostgreSQL), loads the demo, adds a form of
its own with one optional text field, and serves it with gunicorn (2 sync workers) beside the
bare baseline page (bench/bare_app.py, the size of the form page). Client threads (standard
library only: http.client, one cookie jar per simulated visitor) then send requests the way a
browser does: GET the form page, read its CSRF token, one-time submission key and `shown`
list, and POST it as multipart/form-data. One submission in ten is POSTed a second time with the
same key (a retry, sent after the first answered; with --overlap-retries while the first is
still in flight, as a double click does), which must land on the same ticket. Two runs:
without a file, and with a 1 MB PNG attachment.

Prints submissions/s (tickets made per second), POST latency p50/p95/p99, the bare page's
requests/s and p99 with the same client and threads (GET only), the ratio, and a count check
against the database: one ticket per submission, no submission key twice, one ticket per
retried key, one file per submission that carried one, one confirmation mail per ticket.

Run it with `.venv/bin/python bench/intake.py` (SQLite; `--duration 5`, `--submissions 500`,
`--threads 16`), `--postgres` to create and drop a database `portal_bench_intake_<pid>` on the
local server (postgres@127.0.0.1:5432), or `--database-url URL` for a database of your own. It
is a report: the exit code is 0 whatever the numbers say.
"""

import argparse
import html
import http.client
import itertools
import logging
import math
import os
import re
import shutil
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import flask_migrate
from pages import BENCH, ROOT, Server, fetch, start_gunicorn, stop, wait_until_up
from sqlalchemy import func, select

from kb.models import Brand
from portal import config, create_app, demo
from portal.desk.models import FormField, InquiryForm, OutboxMail, Ticket, TicketFile
from portal.extensions import db

BRAND, LOCALE = "hanbit-pay", "en"
RETRY_EVERY = 10  # one submission in ten is POSTed twice with the same key
ATTACHMENT_BYTES = 1024 * 1024
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
TIMEOUT = 60
POSTGRES_SERVER = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
# The temporary instance's config.py: no waiting, no rate limits, no scheduler, no SMTP.
INSTANCE_CONFIG = """\
SECRET_KEY = "bench-intake"
DATABASE_URL = {database_url!r}
PORTAL_SCHEDULER = "off"
INQUIRY_MIN_SECONDS = 0
INQUIRY_RATE_LIMIT = "1000000 per minute"
INQUIRY_EMAIL_RATE_LIMIT = "1000000 per minute"
"""
LOG_PATTERNS = {
    "tracebacks": "Traceback (most recent call last)",
    "database is locked": "database is locked",
    "worker timeouts": "WORKER TIMEOUT",
}

# ------------------------------------------------------------------ the instance


def make_form(brand_slug: str) -> tuple[int, str]:
    """A form of the bench's own: one optional text field, not listed. (form id, brand slug)"""
    brand = db.session.scalar(select(Brand).where(Brand.slug == brand_slug))
    form = InquiryForm(
        brand_id=brand.id,
        listed=False,
        audience="everyone",
        names={"en": "Intake bench", brand.default_locale: "Intake bench"},
        descriptions={},
    )
    form.fields = [
        FormField(key="note", type="text", position=0, required=False, labels={"en": "Note"})
    ]
    db.session.add(form)
    db.session.commit()
    return form.id, brand.slug


def create_postgres_database(name: str) -> None:
    import psycopg

    with psycopg.connect(POSTGRES_SERVER, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')


def drop_postgres_database(name: str) -> None:
    import psycopg

    with psycopg.connect(POSTGRES_SERVER, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# ------------------------------------------------------------------ the client


class Visitor:
    """One simulated browser: a cookie jar (name -> value) and plain HTTP/1.1 requests."""

    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.cookies: dict[str, str] = {}

    def _headers(self, extra: dict | None = None) -> dict:
        headers = {"User-Agent": "portal-bench-intake", "Accept": "text/html"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        return headers | (extra or {})

    def _keep_cookies(self, response: http.client.HTTPResponse) -> None:
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, value = header.split(";", 1)[0].partition("=")
            self.cookies[name.strip()] = value.strip()

    def send(self, method: str, path: str, body: bytes | None = None, headers=None):
        """Opens the connection and sends the request; the caller reads the answer with
        `answer` (two can be in flight at once, for overlapping retries)."""
        conn = http.client.HTTPConnection(self.host, self.port, timeout=TIMEOUT)
        conn.request(method, path, body=body, headers=self._headers(headers))
        return conn

    def answer(self, conn: http.client.HTTPConnection) -> tuple[int, dict, bytes]:
        try:
            response = conn.getresponse()
            body = response.read()
            self._keep_cookies(response)
            return response.status, dict(response.headers), body
        finally:
            conn.close()

    def request(self, method: str, path: str, body: bytes | None = None, headers=None):
        return self.answer(self.send(method, path, body, headers))


def hidden_input(page: str, name: str) -> str:
    match = re.search(rf'<input type="hidden" name="{name}" value="([^"]*)"', page)
    if match is None:
        raise ValueError(f"the form page has no hidden input {name!r}")
    return html.unescape(match[1])


def multipart(fields: dict[str, str], files: dict[str, tuple[str, str, bytes]]):
    """(body, content type) of a multipart/form-data request."""
    boundary = "bench" + uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
            + value.encode()
            + b"\r\n"
        )
    for name, (filename, content_type, data) in files.items():
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
            f'filename="{filename}"\r\nContent-Type: {content_type}\r\n\r\n'
        )
        parts.append(head.encode() + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


_FILLER = os.urandom(ATTACHMENT_BYTES)


def png_bytes(n: int) -> bytes:
    """1 MB that the upload validator takes for a PNG, different for every submission (the
    store keeps one copy per content, so the same bytes would be written only once)."""
    head = PNG_SIGNATURE + n.to_bytes(8, "big")
    return head + _FILLER[len(head) :]


@dataclass
class Submission:
    n: int
    attach: bool
    retried: bool
    key: str = ""
    status: int | None = None  # the first POST's answer
    location: str = ""
    retry_status: int | None = None
    retry_location: str = ""
    get_ms: float = 0.0
    post_ms: float = 0.0
    retry_ms: float = 0.0
    error: str = ""

    @property
    def sent(self) -> bool:
        return self.status == 303


def submit(base: str, path: str, sub: Submission, overlap: bool) -> None:
    """One visitor: GET the form, POST it (twice with the same key when `sub.retried`)."""
    url = urlsplit(base)
    visitor = Visitor(url.hostname, url.port)
    try:
        started = time.perf_counter()
        status, _headers, body = visitor.request("GET", path)
        sub.get_ms = (time.perf_counter() - started) * 1000
        if status != 200:
            sub.error = f"GET {status}"
            return
        page = body.decode()
        token = hidden_input(page, "key")
        sub.key = token.split(".", 1)[0]
        fields = {
            "csrf_token": hidden_input(page, "csrf_token"),
            "key": token,
            "from": "",
            "name": f"Visitor {sub.n}",
            "email": f"visitor{sub.n}@example.com",
            "subject": f"Intake bench request {sub.n}",
            "description": "The app shows an error after I pay. This is a benchmark request.",
            "shown": hidden_input(page, "shown"),
            "f_note": f"note {sub.n}",
            "action": "send",
        }
        files = {}
        if sub.attach:
            files["attachments"] = (f"screenshot-{sub.n}.png", "image/png", png_bytes(sub.n))
        payload, content_type = multipart(fields, files)
        headers = {"Content-Type": content_type}

        started = time.perf_counter()
        first = visitor.send("POST", path, payload, headers)
        second = visitor.send("POST", path, payload, headers) if sub.retried and overlap else None
        status, headers_in, _body = visitor.answer(first)
        sub.post_ms = (time.perf_counter() - started) * 1000
        sub.status, sub.location = status, headers_in.get("Location", "")
        if sub.retried:
            started = time.perf_counter()
            if second is None:
                second = visitor.send("POST", path, payload, headers)
            status, headers_in, _body = visitor.answer(second)
            sub.retry_ms = (time.perf_counter() - started) * 1000
            sub.retry_status, sub.retry_location = status, headers_in.get("Location", "")
        if sub.status != 303:
            sub.error = f"POST {sub.status}"
        elif sub.retried and sub.retry_status != 303:
            sub.error = f"retry POST {sub.retry_status}"
    except Exception as exc:  # a report: every failure is counted, none stops the run
        sub.error = f"{type(exc).__name__}: {exc}"[:200]


def percentile(values: list[float], p: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


@dataclass
class Run:
    name: str
    seconds: float
    submissions: list[Submission] = field(default_factory=list)

    @property
    def sent(self) -> list[Submission]:
        return [s for s in self.submissions if s.sent]

    @property
    def rate(self) -> float:
        return len(self.sent) / self.seconds

    def post_ms(self, p: float) -> float:
        return percentile([s.post_ms for s in self.sent], p)

    def get_ms(self, p: float) -> float:
        return percentile([s.get_ms for s in self.submissions if s.get_ms], p)

    @property
    def errors(self) -> Counter:
        return Counter(s.error for s in self.submissions if s.error)


_numbers = itertools.count()


def load(name, base, path, args, attach: bool, count: int | None = None) -> Run:
    """Submissions from `args.threads` threads for `args.duration` seconds, or `count` of them."""
    lock = threading.Lock()
    done: list[Submission] = []
    started = time.monotonic()
    deadline = started + args.duration
    issued = itertools.count()

    def worker():
        while True:
            i = next(issued)
            if (count is not None and i >= count) or (
                count is None and time.monotonic() > deadline
            ):
                return
            n = next(_numbers)
            sub = Submission(n=n, attach=attach, retried=n % RETRY_EVERY == RETRY_EVERY - 1)
            submit(base, path, sub, args.overlap_retries)
            with lock:
                done.append(sub)

    threads = [threading.Thread(target=worker) for _ in range(args.threads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return Run(name, time.monotonic() - started, done)


@dataclass
class Baseline:
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    requests: int
    errors: int


def load_bare(base: str, threads: int, duration: float) -> Baseline:
    """GET / of the bare app from the same client and threads, for `duration` seconds."""
    url = urlsplit(base)
    lock = threading.Lock()
    latencies: list[float] = []
    errors = [0]
    started = time.monotonic()
    deadline = started + duration

    def worker():
        visitor = Visitor(url.hostname, url.port)
        mine, failed = [], 0
        while time.monotonic() < deadline:
            t = time.perf_counter()
            try:
                status, _h, _b = visitor.request("GET", "/")
            except OSError:
                status = None
            if status == 200:
                mine.append((time.perf_counter() - t) * 1000)
            else:
                failed += 1
        with lock:
            latencies.extend(mine)
            errors[0] += failed

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    seconds = time.monotonic() - started
    return Baseline(
        rps=len(latencies) / seconds,
        p50_ms=percentile(latencies, 50),
        p95_ms=percentile(latencies, 95),
        p99_ms=percentile(latencies, 99),
        requests=len(latencies),
        errors=errors[0],
    )


# ------------------------------------------------------------------ the count check


def count_check(app, form_id: int, submissions: list[Submission]) -> bool:
    """Compares what the clients were told with what the database holds; prints each check."""
    sent = [s for s in submissions if s.sent]
    sent_keys = {s.key for s in sent}
    with app.app_context():
        session = db.session
        tickets = session.execute(
            select(Ticket.id, Ticket.submission_key).where(Ticket.form_id == form_id)
        ).all()
        doubled = session.execute(
            select(Ticket.submission_key, func.count())
            .where(Ticket.submission_key.is_not(None))
            .group_by(Ticket.submission_key)
            .having(func.count() > 1)
        ).all()
        ticket_ids = {t.id for t in tickets}
        files = session.execute(
            select(TicketFile.ticket_id, TicketFile.size)
            .join(Ticket, Ticket.id == TicketFile.ticket_id)
            .where(Ticket.form_id == form_id)
        ).all()
        unattached = session.scalars(
            select(TicketFile.submission_key).where(TicketFile.ticket_id.is_(None))
        ).all()
        mails = session.scalars(
            select(OutboxMail.ticket_id)
            .join(Ticket, Ticket.id == OutboxMail.ticket_id)
            .where(Ticket.form_id == form_id)
        ).all()
        db.session.remove()
    by_key = Counter(t.submission_key for t in tickets)
    id_by_key = {t.submission_key: t.id for t in tickets}
    issued = Counter(s.key for s in submissions if s.key)

    verdicts = []

    def check(ok: bool, text: str) -> None:
        verdicts.append(ok)
        print(f"{'PASS' if ok else 'FAIL'}  {text}")

    check(
        max(issued.values(), default=1) == 1,
        f"every form page gave out its own key ({len(issued):,} keys, "
        f"{sum(n > 1 for n in issued.values())} given out more than once)",
    )
    lost = sent_keys - set(by_key)
    extra = set(by_key) - sent_keys
    check(
        len(tickets) == len(sent_keys) and not lost and not extra,
        f"tickets in the database ({len(tickets):,}) == distinct submissions sent "
        f"({len(sent_keys):,}; {len(lost)} without a ticket, {len(extra)} tickets for no 303)",
    )
    check(
        not doubled,
        f"no submission_key held by two tickets ({len(doubled)} keys are)",
    )

    def ticket_of(location: str) -> int | None:
        match = re.search(r"/requests/(\d+)\?", location)
        return int(match[1]) if match else None

    misdirected = [s for s in sent if ticket_of(s.location) != id_by_key.get(s.key)]
    check(not misdirected, f"each 303 leads to its own ticket ({len(misdirected)} do not)")
    retried = [s for s in submissions if s.retried and s.key and s.status is not None]
    good = [
        s
        for s in retried
        if by_key.get(s.key) == 1
        and s.retry_status == 303
        and ticket_of(s.retry_location) == id_by_key[s.key]
    ]
    check(
        len(good) == len(retried),
        f"each retried key has exactly one ticket and the retry was sent to it "
        f"({len(good):,} of {len(retried):,})",
    )
    with_file = {s.key for s in sent if s.attach}
    files_per_ticket = Counter(f.ticket_id for f in files)
    wrong_size = sum(f.size != ATTACHMENT_BYTES for f in files)
    id_with_file = {id_by_key[k] for k in with_file if k in id_by_key}
    stray = [k for k in unattached if k in issued]
    check(
        len(files) == len(with_file)
        and set(files_per_ticket) == id_with_file
        and max(files_per_ticket.values(), default=1) == 1
        and not wrong_size,
        f"files on tickets ({len(files):,}) == submissions with an attachment "
        f"({len(with_file):,}); {sum(n > 1 for n in files_per_ticket.values())} tickets with "
        f"more than one, {wrong_size} of the wrong size",
    )
    if stray:  # (a staged file nobody sent is swept after files.STAGED_FOR: not a loss)
        print(f"      {len(stray)} files of sent submissions left staged, on no ticket")
    mails_per_ticket = Counter(mails)
    check(
        set(mails_per_ticket) == ticket_ids and max(mails_per_ticket.values(), default=1) == 1,
        f"one confirmation mail waits in the outbox per ticket ({len(mails):,} mails, "
        f"{len(ticket_ids):,} tickets)",
    )
    failed = [s for s in submissions if s.error]
    if failed:
        with_ticket = sum(s.key in by_key for s in failed)
        print(
            f"      {len(failed)} submissions failed on the client side "
            f"({with_ticket} of them made a ticket anyway): "
            + ", ".join(f"{e} x{n}" for e, n in Counter(s.error for s in failed).most_common(4))
        )
    ok = all(verdicts)
    print(f"{'PASS' if ok else 'FAIL'}: nothing lost or duplicated")
    return ok


# ------------------------------------------------------------------ the report


def log_summary(servers: list[Server]) -> str:
    """Counts of trouble in the gunicorn logs, and the most common error lines."""
    text = "".join(s.log.read_text(errors="replace") for s in servers if s.log.exists())
    counts = ", ".join(f"{text.count(p)} {name}" for name, p in LOG_PATTERNS.items())
    errors = Counter(
        line.strip()[:160]
        for line in text.splitlines()
        if re.match(r"\w+(\.\w+)*(Error|Exception|Timeout)\b", line.strip())
    )
    lines = [f"server logs: {counts}"]
    lines += [f"  {n} x {line}" for line, n in errors.most_common(5)]
    return "\n".join(lines)


def report(args, database, path, page_bytes, bare: Baseline, runs: list[Run]) -> None:
    amount = f"{args.submissions:,} submissions" if args.submissions else f"{args.duration} s"
    retries = "overlapping the first POST" if args.overlap_retries else "after the first answered"
    print()
    print(
        f"Portal intake: {database}; gunicorn -w 2 (sync); {args.threads} client threads "
        f"(http.client, a new connection per request); {amount} per run; 127.0.0.1"
    )
    print(f"  form     {path} ({page_bytes:,} bytes, one optional text field)")
    print(f"  retries  1 in {RETRY_EVERY} submissions POSTed again with the same key, {retries}")
    print()
    header = (
        f"{'run':<16} {'done':>7} {'per s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}"
        f" {'GET p50':>8} {'retry p50':>9} {'ratio':>6} {'errors':>6}"
    )
    print(header)
    print("-" * len(header))
    print(
        f"{'bare page (GET)':<16} {bare.requests:>7,} {bare.rps:>8.1f} {bare.p50_ms:>8.2f}"
        f" {bare.p95_ms:>8.2f} {bare.p99_ms:>8.2f} {'-':>8} {'-':>9} {1:>6.3f} {bare.errors:>6}"
    )
    for run in runs:
        retry = percentile([s.retry_ms for s in run.sent if s.retried and s.retry_status], 50)
        print(
            f"{run.name:<16} {len(run.sent):>7,} {run.rate:>8.1f} {run.post_ms(50):>8.2f}"
            f" {run.post_ms(95):>8.2f} {run.post_ms(99):>8.2f} {run.get_ms(50):>8.2f}"
            f" {retry:>9.2f} {run.rate / bare.rps:>6.3f} {sum(run.errors.values()):>6}"
        )
    print(
        "done: submissions answered 303 (tickets made); per s: those per second (the bare row: "
        "requests/s); p50-p99: the first POST's latency (the bare row: GET); retry: the second "
        "POST's (overlapping: its wait after the first answered); ratio: per s / bare "
        "requests/s. A submission is two requests (GET the form, POST it)."
    )
    for run in runs:
        for error, n in run.errors.most_common(5):
            print(f"  {run.name}: {n} x {error}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per run (10)")
    parser.add_argument("--submissions", type=int, help="submissions per run instead of a duration")
    parser.add_argument("--threads", type=int, default=8, help="client threads (8)")
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--postgres",
        action="store_true",
        help="create (and drop) a database portal_bench_intake_<pid> on postgres@127.0.0.1:5432",
    )
    where.add_argument(
        "--database-url", help="a database to run against instead (migrated, never dropped)"
    )
    parser.add_argument(
        "--overlap-retries",
        action="store_true",
        help="send each retry while the first POST is still in flight (a double click)",
    )
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="portal-bench-intake-"))
    pg_name = f"portal_bench_intake_{os.getpid()}" if args.postgres else None
    if pg_name:
        create_postgres_database(pg_name)
        database_url = POSTGRES_URL.format(name=pg_name)
    else:
        database_url = args.database_url or f"sqlite:///{tmp}/portal.db"
    database = (
        f"PostgreSQL ({urlsplit(database_url).path.lstrip('/')})"
        if database_url.startswith("postgres")
        else "SQLite (temporary file)"
    )
    (tmp / "config.py").write_text(INSTANCE_CONFIG.format(database_url=database_url))
    servers: list[Server] = []
    app = None
    try:
        # Settings from the temporary instance's config.py only, not the caller's environment.
        for key in config.ENV_KEYS:
            os.environ.pop(key, None)
        # (no search-index reconcile at start: the database has no tables yet)
        app = create_app({"INSTANCE_PATH": str(tmp), "SEARCH_RECONCILE_ON_START": False})
        print(f"Building the database ({database}) in {tmp} ...", flush=True)
        with app.app_context():
            logging.disable(logging.INFO)  # Alembic's progress lines
            try:
                flask_migrate.upgrade()
            finally:
                logging.disable(logging.NOTSET)
            demo.load(db.session)
            form_id, brand_slug = make_form(BRAND)
            db.session.remove()
            db.engine.dispose()
        path = f"/{brand_slug}/{LOCALE}/requests/new?form={form_id}"

        env = dict(os.environ)
        target = f"portal:create_app({{'INSTANCE_PATH': {str(tmp)!r}}})"
        portal = start_gunicorn("portal", target, env, tmp / "portal.log", ROOT)
        servers.append(portal)
        wait_until_up(portal, path)
        status, page = fetch(portal.base_url + path)
        if status != 200:
            raise RuntimeError(f"the form page answered {status}")
        bare_env = dict(env, BARE_PAGE_BYTES=str(len(page)))
        bare_server = start_gunicorn("bare", "bare_app:app", bare_env, tmp / "bare.log", BENCH)
        servers.append(bare_server)
        wait_until_up(bare_server, "/")

        print("Warming up both apps ...", flush=True)
        warm = load("warm-up", portal.base_url, path, args, attach=True, count=4 * args.threads)
        load_bare(bare_server.base_url, args.threads, 1)
        base_duration = args.duration
        print(f"bare page: GET for {base_duration} s ...", flush=True)
        bare = load_bare(bare_server.base_url, args.threads, base_duration)
        runs = []
        for name, attach in (("no attachment", False), ("1 MB attachment", True)):
            print(f"{name}: submitting ...", flush=True)
            runs.append(load(name, portal.base_url, path, args, attach, args.submissions))
        stop(portal)  # every request answered and every worker gone before counting

        report(args, database, path, len(page), bare, runs)
        print()
        print(log_summary(servers))
        everything = warm.submissions + [s for run in runs for s in run.submissions]
        count_check(app, form_id, everything)
        return 0
    finally:
        for server in servers:
            stop(server)
        if app is not None:
            with app.app_context():
                db.engine.dispose()
        if pg_name:
            drop_postgres_database(pg_name)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
