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
import itertools
import os
import re
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from common import (
    Load,
    Visitor,
    closed_loop,
    fetch,
    log_summary,
    percentile,
    print_head,
    stop,
    temporary_instance,
)
from sqlalchemy import func, select

from kb.models import Brand
from portal.desk.models import FormField, InquiryForm, OutboxMail, Ticket, TicketFile
from portal.extensions import db

BRAND, LOCALE = "hanbit-pay", "en"
RETRY_EVERY = 10  # one submission in ten is POSTed twice with the same key
ATTACHMENT_BYTES = 1024 * 1024
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# The temporary instance's config.py: no waiting, no rate limits, no scheduler, no SMTP.
INSTANCE_CONFIG = """\
SECRET_KEY = "bench-intake"
DATABASE_URL = {database_url!r}
PORTAL_SCHEDULER = "off"
INQUIRY_MIN_SECONDS = 0
INQUIRY_RATE_LIMIT = "1000000 per minute"
INQUIRY_EMAIL_RATE_LIMIT = "1000000 per minute"
"""
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


# ------------------------------------------------------------------ the client


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


def report(args, database, path, page_bytes, bare: Load, runs: list[Run]) -> None:
    amount = f"{args.submissions:,} submissions" if args.submissions else f"{args.duration} s"
    retries = "overlapping the first POST" if args.overlap_retries else "after the first answered"
    title = (
        f"Portal intake: {database}; gunicorn -w 2 (sync); {args.threads} client threads "
        f"(http.client, a new connection per request); {amount} per run; 127.0.0.1"
    )
    lines = {
        "form": f"{path} ({page_bytes:,} bytes, one optional text field)",
        "retries": f"1 in {RETRY_EVERY} submissions POSTed again with the same key, {retries}",
    }
    header = (
        f"{'run':<16} {'done':>7} {'per s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}"
        f" {'GET p50':>8} {'retry p50':>9} {'ratio':>6} {'errors':>6}"
    )
    print_head(title, lines, 8, header)
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

    # (no search-index reconcile at start: the database has no tables yet)
    with temporary_instance(
        "portal-bench-intake-",
        config_py=INSTANCE_CONFIG,
        settings={"SEARCH_RECONCILE_ON_START": False},
        postgres=f"portal_bench_intake_{os.getpid()}" if args.postgres else None,
        database_url=args.database_url,
    ) as instance:
        app = instance.app
        with app.app_context():
            form_id, brand_slug = make_form(BRAND)
            db.session.remove()
            db.engine.dispose()
        path = f"/{brand_slug}/{LOCALE}/requests/new?form={form_id}"

        env = dict(os.environ)
        portal = instance.serve("portal", instance.target, env, path)
        status, page = fetch(portal.base_url + path)
        if status != 200:
            raise RuntimeError(f"the form page answered {status}")
        bare_server = instance.serve_bare(env, len(page))

        print("Warming up both apps ...", flush=True)
        warm = load("warm-up", portal.base_url, path, args, attach=True, count=4 * args.threads)
        closed_loop(bare_server.base_url, "/", args.threads, 1)
        base_duration = args.duration
        print(f"bare page: GET for {base_duration} s ...", flush=True)
        bare = closed_loop(bare_server.base_url, "/", args.threads, base_duration)
        runs = []
        for name, attach in (("no attachment", False), ("1 MB attachment", True)):
            print(f"{name}: submitting ...", flush=True)
            runs.append(load(name, portal.base_url, path, args, attach, args.submissions))
        stop(portal)  # every request answered and every worker gone before counting

        report(args, instance.database, path, len(page), bare, runs)
        print()
        print(log_summary(instance.servers))
        everything = warm.submissions + [s for run in runs for s in run.submissions]
        count_check(app, form_id, everything)
        return 0


if __name__ == "__main__":
    sys.exit(main())
