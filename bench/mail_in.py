"""Mail-in benchmark: messages per second through the SMTP listener into tickets, and a count.

Builds a temporary instance (SQLite by default, or PostgreSQL) with the demo (its support
addresses), starts `flask mail receive` as its own process, and sends from 8 concurrent SMTP
clients (smtplib, one connection each, kept open):

1. plain: new mails, each from a sender of its own (a new ticket each);
2. replies: an answer to each of those mails from its sender (In-Reply-To: the first mail's
   Message-ID), which must land on that ticket as a reply;
3. 2 MB attachment: new mails carrying a 2 MB PDF each;
4. 10 MB messages, one after another, with the listener's resident memory (VmRSS) read after
   each: it must stay flat (a message is not kept once it is stored and processed; each worker
   keeps buffers the size of the biggest message it handled, so the first messages, one per
   worker, raise it to that bound and the ones after must not).

A run's time is from its first SMTP command to the moment every message it sent is processed
(no row left `received`). Then a count against the database: every message exactly one ticket
or one reply (none lost, none twice), every Message-ID stored once, no message failed.

Run it with `.venv/bin/python bench/mail_in.py` (SQLite; `--mails 400`, `--clients 8`,
`--workers 2`), `--postgres` to create and drop a database on the local server, or
`--database-url URL`. Target: at least 50 plain mails per second on SQLite and PostgreSQL. It
is a report: the exit code is 0 whatever the numbers say.
"""

import argparse
import os
import smtplib
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import make_msgid

from common import ROOT, free_port, temporary_instance
from sqlalchemy import create_engine, func, select

from portal.desk.models import Ticket, TicketMessage
from portal.mail.models import DONE, RECEIVED, InboundMail

TARGET = "support@hanbit-pay.example"
INSTANCE_CONFIG = """\
SECRET_KEY = "bench-mail-in"
DATABASE_URL = {database_url!r}
PORTAL_SCHEDULER = "off"
MAIL_SENDER_LIMIT = 1000000
"""
PDF_HEAD = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"


@dataclass
class Run:
    name: str
    sent: int
    seconds: float
    megabytes: float

    @property
    def per_second(self) -> float:
        return self.sent / self.seconds if self.seconds else 0.0


def mail(sender: str, subject: str, body: str, *, reply_to_id=None, attachment=None):
    message = EmailMessage()
    message["From"] = sender
    message["To"] = TARGET
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="bench.example")
    if reply_to_id:
        message["In-Reply-To"] = reply_to_id
        message["References"] = reply_to_id
    message.set_content(body)
    if attachment is not None:
        message.add_attachment(
            attachment, maintype="application", subtype="pdf", filename="statement.pdf"
        )
    return message


def wire(message: EmailMessage) -> tuple[str, list[str], bytes]:
    """(envelope sender, recipients, bytes): made before the clock starts, so that the
    clients' own work (the email package is slow at writing) does not count as the server's."""
    return str(message["From"]), [TARGET], message.as_bytes(policy=SMTP_POLICY)


def send_all(port: int, ready: list[tuple[str, list[str], bytes]], clients: int) -> None:
    """Each client thread sends its share over one SMTP connection."""
    errors = []

    def client(share):
        try:
            with smtplib.SMTP("127.0.0.1", port, timeout=120) as smtp:
                for sender, recipients, data in share:
                    smtp.sendmail(sender, recipients, data)
        except Exception as exc:  # reported, not hidden
            errors.append(repr(exc))

    threads = [threading.Thread(target=client, args=(ready[n::clients],)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise RuntimeError(f"{len(errors)} client(s) failed: {errors[0]}")


def wait_processed(engine, expected_rows: int, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with engine.connect() as conn:
            stored = conn.scalar(select(func.count()).select_from(InboundMail))
            waiting = conn.scalar(
                select(func.count()).select_from(InboundMail).where(InboundMail.status == RECEIVED)
            )
        if stored >= expected_rows and waiting == 0:
            return
        time.sleep(0.05)
    raise RuntimeError(f"not processed in {timeout} s: {stored} stored, {waiting} waiting")


def timed(name, port, engine, messages, clients, rows_before) -> Run:
    ready = [wire(m) for m in messages]
    size = sum(len(data) for _sender, _to, data in ready) / 1e6
    started = time.perf_counter()
    send_all(port, ready, clients)
    wait_processed(engine, rows_before + len(messages))
    return Run(name, len(messages), time.perf_counter() - started, size)


def rss_megabytes(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def start_listener(instance, port: int, workers: int) -> subprocess.Popen:
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    log = (instance.folder / "listener.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", instance.target, "mail", "receive"]
        + ["--port", str(port), "--workers", str(workers)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    log.close()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with smtplib.SMTP("127.0.0.1", port, timeout=5) as smtp:
                smtp.noop()
            return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError((instance.folder / "listener.log").read_text()[-3000:])


def count(engine, originals: list[EmailMessage], answers: list[EmailMessage]) -> list[str]:
    """What the database holds against what was sent; a list of problems (empty: all well)."""
    problems = []
    with engine.connect() as conn:
        by_status = dict(
            conn.execute(
                select(InboundMail.status, func.count()).group_by(InboundMail.status)
            ).all()
        )
        rows = sum(by_status.values())
        ids = conn.scalar(select(func.count(func.distinct(InboundMail.message_id))))
        tickets = conn.scalar(
            select(func.count()).select_from(Ticket).where(Ticket.channel == "email")
        )
        replies = conn.scalar(
            select(func.count())
            .select_from(TicketMessage)
            .where(TicketMessage.channel == "email", TicketMessage.joined_by.is_not(None))
        )
        tickets_by_rows = conn.scalar(
            select(func.count(func.distinct(InboundMail.ticket_id))).where(
                InboundMail.status == DONE
            )
        )
    print(f"  stored {rows} messages: {by_status}")
    print(f"  {tickets} tickets by mail, {replies} replies by mail")
    if by_status.get(DONE, 0) != rows:
        problems.append(f"{rows - by_status.get(DONE, 0)} messages not done")
    if ids != rows:
        problems.append(f"{rows - ids} Message-IDs stored twice")
    if tickets != len(originals):
        problems.append(f"{tickets} tickets for {len(originals)} new mails")
    if replies != len(answers):
        problems.append(f"{replies} replies for {len(answers)} answers")
    if tickets_by_rows != len(originals):
        problems.append("replies did not land on their tickets")
    return problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mails", type=int, default=400, help="plain mails (and as many replies)")
    parser.add_argument("--big", type=int, default=40, help="mails with a 2 MB attachment")
    parser.add_argument("--huge", type=int, default=10, help="10 MB messages for the memory check")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=None, help="listener workers (2 SQLite)")
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--database-url")
    args = parser.parse_args()

    with temporary_instance(
        "portal-bench-mail-in-",
        config_py=INSTANCE_CONFIG,
        settings={"SEARCH_RECONCILE_ON_START": False},
        postgres=f"portal_bench_mail_in_{os.getpid()}" if args.postgres else None,
        database_url=args.database_url,
    ) as instance:
        url = instance.database_url
        workers = args.workers or (2 if url.startswith("sqlite") else 4)
        engine = create_engine(url)
        port = free_port()
        listener = start_listener(instance, port, workers)
        try:
            print(f"Listener on 127.0.0.1:{port}, {workers} workers, {instance.database}")
            warm = [mail(f"warm{n}@bench.example", "warm-up", "hello") for n in range(16)]
            timed("warm-up", port, engine, warm, args.clients, 0)
            base = len(warm)
            originals = [
                mail(f"c{n}@bench.example", f"Card declined {n}", f"Mail {n}: declined again.")
                for n in range(args.mails)
            ]
            answers = [
                mail(
                    m["From"],
                    f"Re: {m['Subject']}",
                    "Still declined.\n\n> earlier",
                    reply_to_id=m["Message-ID"],
                )
                for m in originals
            ]
            blob = PDF_HEAD + os.urandom(2 * 1024 * 1024 - len(PDF_HEAD))
            big = [
                mail(f"big{n}@bench.example", f"Statement {n}", "Attached.", attachment=blob)
                for n in range(args.big)
            ]
            runs = []
            for name, batch in (("plain", originals), ("replies", answers), ("2 MB file", big)):
                print(f"{name}: {len(batch)} mails from {args.clients} clients ...", flush=True)
                runs.append(timed(name, port, engine, batch, args.clients, base))
                base += len(batch)
            print(f"10 MB messages, one at a time ({args.huge}) ...", flush=True)
            rss = [rss_megabytes(listener.pid)]
            huge_blob = PDF_HEAD + os.urandom(10 * 1024 * 1024 - len(PDF_HEAD))
            huge = []
            for n in range(args.huge):
                message = mail(f"huge{n}@bench.example", f"Scan {n}", "Big.", attachment=huge_blob)
                huge.append(message)
                timed("10 MB", port, engine, [message], 1, base)
                base += 1
                rss.append(rss_megabytes(listener.pid))
        finally:
            listener.terminate()
            listener.wait(timeout=60)

        print()
        print(f"Mail in through the listener ({instance.database}, {workers} workers)")
        print(f"{'run':<12} {'mails':>6} {'seconds':>8} {'mails/s':>8} {'MB/s':>7}")
        for run in runs:
            print(
                f"{run.name:<12} {run.sent:>6} {run.seconds:>8.2f} {run.per_second:>8.1f}"
                f" {run.megabytes / run.seconds:>7.1f}"
            )
        plain = runs[0].per_second
        verdict = "meets" if plain >= 50 else "MISSES"
        print(f"plain: {plain:.1f} mails/s, {verdict} the target of 50 mails/s")
        print("listener RSS (MB) before and after each 10 MB message:")
        print("  " + " ".join(f"{r:.0f}" for r in rss))
        # Each worker thread (and its database connection) keeps buffers the size of the
        # biggest message it handled: the first messages, one per worker, grow the listener up
        # to that bound; the ones after must not.
        settled = min(workers + 2, len(rss) - 1)
        growth = rss[-1] - rss[settled]
        flat = "flat" if growth < 20 else "GROWING"
        more = len(rss) - 1 - settled
        print(f"  after the first {settled}: {growth:+.0f} MB over {more} more: {flat}")
        print("Count:")
        every_new = originals + big + huge + warm
        problems = count(engine, every_new, answers)
        print(
            "  all well: every message one ticket or one reply, none lost, none twice"
            if not problems
            else "  PROBLEMS: " + "; ".join(problems)
        )
        engine.dispose()


if __name__ == "__main__":
    main()
