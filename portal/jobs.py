"""Scheduled-publishing side effects, run by APScheduler in exactly one process (a lease).

Every app process with the scheduler enabled (gunicorn workers, hosts) starts a lease keeper
thread. The one holding the database lease runs a BackgroundScheduler whose jobs live in the same
database (SQLAlchemyJobStore); the others wait and take over when the holder stops renewing.
Jobs are stored as the "portal.jobs:run_due_job" reference plus the holder's name, so the
job store never pickles an app: run_due_job finds its app through the module's registry.

Visibility never depends on this (kb.visibility decides at read time); only side effects do,
and kb.publishing.run_due makes each happen at most once, catching up after downtime.
"""

import atexit
import logging
import os
import signal
import socket
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import click
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.base import JobLookupError
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from flask import Flask
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from kb import attachments, clock, publishing
from portal.desk import accounts, files, replies, retention, trash
from portal.desk.automation import schedules
from portal.extensions import db
from portal.mail import sender
from portal.mail.inbound import imap
from portal.web.downloads import uploads_dir
from portal.web.serving import serving

log = logging.getLogger(__name__)

JOB_FUNC = "portal.jobs:run_due_job"
INTERVAL_JOB = "publishing-interval"
NEXT_JOB = "publishing-next"
# The leader also sends the mail outbox (portal.mail), on its own interval.
MAIL_JOB_FUNC = "portal.jobs:send_mail_job"
MAIL_JOB = "mail-interval"
# And fetches the mailboxes connected over IMAP (portal.mail.inbound.imap), on its own interval.
FETCH_JOB_FUNC = "portal.jobs:fetch_mail_job"
FETCH_JOB = "mail-fetch-interval"
# And, every hour, removes the files of request forms never sent (portal.desk.files).
SWEEP_JOB_FUNC = "portal.jobs:sweep_job"
SWEEP_JOB = "sweep-interval"
SWEEP_SECONDS = 3600
# And, every day, deletes for good the tickets in the trash for 30 days (portal.desk.trash).
PURGE_JOB_FUNC = "portal.jobs:purge_trash_job"
PURGE_JOB = "trash-purge-daily"
PURGE_SECONDS = 24 * 3600

# And, every day, removes ticket files past their brand's retention (portal.desk.retention).
RETENTION_JOB_FUNC = "portal.jobs:retention_job"
RETENTION_JOB = "retention-daily"
RETENTION_SECONDS = 24 * 3600
# And, every minute, mails each agent one digest of their new notices
# (portal.mail.agent_digests).
AGENT_DIGEST_JOB_FUNC = "portal.jobs:agent_digest_job"
AGENT_DIGEST_JOB = "agent-digest-interval"
AGENT_DIGEST_SECONDS = 60
# And posts the queued webhook deliveries (portal.desk.automation.deliveries) every 30 s,
# pruning the delivery log of old delivered rows once a day.
WEBHOOK_JOB_FUNC = "portal.jobs:deliver_webhooks_job"
WEBHOOK_JOB = "webhooks-interval"
WEBHOOK_SECONDS = 30
WEBHOOK_PRUNE_JOB_FUNC = "portal.jobs:prune_webhooks_job"
WEBHOOK_PRUNE_JOB = "webhooks-prune-daily"
WEBHOOK_PRUNE_SECONDS = 24 * 3600
# And, every five minutes, runs the brands' schedules (portal.desk.automation.schedules).
SCHEDULES_JOB_FUNC = "portal.jobs:schedules_job"
SCHEDULES_JOB = "schedules-interval"
SCHEDULES_SECONDS = 300
_EXTENSION = "portal.jobs"

# holder -> Leader, for the jobs that run in this process (see run_due_job).
_leaders: dict[str, "Leader"] = {}


@dataclass
class Scheduling:
    """The app's scheduler state: the side-effect handlers and, when enabled, its leader."""

    handlers: list[publishing.Handler] = field(
        default_factory=lambda: list(publishing.DEFAULT_HANDLERS)
    )
    leader: "Leader | None" = None


class _AppEngineJobStore(SQLAlchemyJobStore):
    """The job store on the app's own engine, which it must not dispose of when it stops."""

    def shutdown(self) -> None:
        pass


def holder_name() -> str:
    """This process, recognisably: host, pid and a random part (pids are reused)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Leader:
    """One process's bid for the scheduler lease, and the APScheduler it runs while holding it."""

    def __init__(self, app: Flask):
        self.app = app
        self.holder = holder_name()
        config = app.config
        self.ttl = timedelta(seconds=float(config["SCHEDULER_LEASE_SECONDS"]))
        self.renew_seconds = float(config["SCHEDULER_RENEW_SECONDS"])
        self.interval_seconds = float(config["SCHEDULER_INTERVAL_SECONDS"])
        self.misfire_grace_seconds = int(config["SCHEDULER_MISFIRE_GRACE_SECONDS"])
        self.lookback = timedelta(days=float(config["SCHEDULER_LOOKBACK_DAYS"]))
        self.mail_interval_seconds = float(config.get("MAIL_SEND_INTERVAL_SECONDS") or 30)
        self.fetch_interval_seconds = float(config.get("MAIL_FETCH_INTERVAL_SECONDS") or 60)
        with app.app_context():
            self.engine = db.engine
        self.scheduler: BackgroundScheduler | None = None
        self._planned: datetime | None = None
        self._lock = threading.RLock()  # guards scheduler and _planned
        self._run_lock = threading.Lock()  # one run_due at a time in this process
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def leading(self) -> bool:
        return self.scheduler is not None

    # --- the lease loop ---------------------------------------------------------------------

    def tick(self) -> bool:
        """Take or renew the lease; start or stop the scheduler to match. True while leading."""
        now = clock.now()
        try:
            with Session(self.engine) as session:
                holds = publishing.acquire_lease(
                    session, publishing.LEASE, self.holder, now, self.ttl
                )
        except SQLAlchemyError:
            # Without the database we cannot know we still hold the lease: step down.
            log.warning("scheduler lease check failed for %s", self.holder, exc_info=True)
            holds = False
        if holds and not self.leading:
            self._start_scheduler(now)
        elif not holds and self.leading:
            log.info("scheduler: %s stopped leading", self.holder)
            self._stop_scheduler(wait=False)
        elif holds:
            self.plan_next(now)  # picks up changes saved by editors in other processes
        return holds

    def start(self) -> None:
        """Run the lease loop in a daemon thread; stop it (and release) at interpreter exit."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(
            target=self.run_forever, name="scheduler-lease", daemon=True
        )
        self._thread.start()
        atexit.register(self.stop)

    def run_forever(self) -> None:
        while not self._stopping.is_set():
            try:
                self.tick()
            except Exception:  # the keeper must outlive any one failure
                log.exception("scheduler lease loop")
            self._stopping.wait(self.renew_seconds)

    def stop(self) -> None:
        """Stop bidding, shut the scheduler down (letting a running job finish), release."""
        self._stopping.set()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=self.renew_seconds + 5)
        was_leading = self.leading
        self._stop_scheduler(wait=True)
        try:
            # Also when not leading: a bid may have won just before the stop.
            with Session(self.engine) as session:
                publishing.release_lease(session, publishing.LEASE, self.holder)
        except SQLAlchemyError:
            log.warning("could not release the scheduler lease", exc_info=True)
        if was_leading:
            log.info("scheduler: %s released the lease", self.holder)

    # --- the APScheduler it runs while leading ----------------------------------------------

    def _start_scheduler(self, now: datetime) -> None:
        scheduler = BackgroundScheduler(
            jobstores={"default": _AppEngineJobStore(engine=self.engine)},
            executors={"default": ThreadPoolExecutor(2)},
            job_defaults={
                "coalesce": True,
                "misfire_grace_time": self.misfire_grace_seconds,
                "max_instances": 1,
            },
            timezone=UTC,
        )
        # Added before start(), so they replace the previous leader's interval jobs before those
        # could fire (a stale one-shot job finds no leader of its name and does nothing).
        # The first runs are now: catch up on what fell due while no one led (the hourly sweep
        # of abandoned files waits its hour; the trash is purged at once, then daily, and the
        # daily retention run does not wait its day, or a leader replaced more often than daily
        # would never run it).
        for func, job_id, seconds, first_run in (
            (JOB_FUNC, INTERVAL_JOB, self.interval_seconds, now),
            (MAIL_JOB_FUNC, MAIL_JOB, self.mail_interval_seconds, now),
            (FETCH_JOB_FUNC, FETCH_JOB, self.fetch_interval_seconds, now),
            (SWEEP_JOB_FUNC, SWEEP_JOB, SWEEP_SECONDS, None),
            (PURGE_JOB_FUNC, PURGE_JOB, PURGE_SECONDS, now),
            (RETENTION_JOB_FUNC, RETENTION_JOB, RETENTION_SECONDS, now),
            (AGENT_DIGEST_JOB_FUNC, AGENT_DIGEST_JOB, AGENT_DIGEST_SECONDS, now),
            (WEBHOOK_JOB_FUNC, WEBHOOK_JOB, WEBHOOK_SECONDS, now),
            (WEBHOOK_PRUNE_JOB_FUNC, WEBHOOK_PRUNE_JOB, WEBHOOK_PRUNE_SECONDS, now),
            (SCHEDULES_JOB_FUNC, SCHEDULES_JOB, SCHEDULES_SECONDS, now),
        ):
            # (APScheduler reads next_run_time=None as "paused": leave it out instead.)
            first = {"next_run_time": first_run} if first_run else {}
            scheduler.add_job(
                func,
                "interval",
                seconds=seconds,
                id=job_id,
                args=[self.holder],
                replace_existing=True,
                **first,
            )
        with self._lock:
            _leaders[self.holder] = self  # before start(): the catch-up run fires at once
            try:
                scheduler.start()
            except Exception:
                log.exception("scheduler did not start")
                _leaders.pop(self.holder, None)
                if scheduler.running:
                    scheduler.shutdown(wait=False)
                return
            self.scheduler = scheduler
            self._planned = None
        log.info("scheduler: %s is leading", self.holder)
        self.plan_next(now)

    def _stop_scheduler(self, wait: bool) -> None:
        with self._lock:
            scheduler, self.scheduler = self.scheduler, None
            self._planned = None
            _leaders.pop(self.holder, None)
        if scheduler is not None and scheduler.running:
            scheduler.shutdown(wait=wait)

    def plan_next(self, now: datetime) -> None:
        """A one-shot job at the next publish or unpublish moment, so it runs at its second."""
        with Session(self.engine) as session:
            when = publishing.next_due(session, now)
        with self._lock:
            if self.scheduler is None or when == self._planned:
                return
            if when is None:
                try:
                    self.scheduler.remove_job(NEXT_JOB)
                except JobLookupError:
                    pass
            else:
                self.scheduler.add_job(
                    JOB_FUNC,
                    "date",
                    run_date=when,
                    id=NEXT_JOB,
                    args=[self.holder],
                    replace_existing=True,
                )
            self._planned = when

    def run_due(self) -> list[publishing.DueEvent]:
        """One run of the side effects, if this process still holds the lease."""
        with self._run_lock, self.app.app_context():
            now = clock.now()
            if publishing.lease_holder(db.session, publishing.LEASE, now) != self.holder:
                log.info("scheduler: %s skips a run, the lease is not ours", self.holder)
                return []
            events = publishing.run_due(
                db.session, now, self.holder, handlers(self.app), self.lookback
            )
        self.plan_next(clock.now())
        return events

    def send_mail(self) -> dict[str, int] | None:
        """Send the scheduled replies that are due, then the due mail, if this process still
        holds the lease."""
        with self.app.app_context():
            if publishing.lease_holder(db.session, publishing.LEASE, clock.now()) != self.holder:
                return None
            replies.send_due(db.session, clock.now())
        return sender.send_due_now(self.app, holder=self.holder)

    def fetch_mail(self) -> list[imap.FetchResult] | None:
        """Fetch every enabled mailbox and make tickets of what came, and of any mail stored
        but not processed, if this process still holds the lease."""
        # Imported when the job runs, not with this module: should the pipeline (and the desk
        # operations it calls) fail to import, this job fails alone, logged, and the leader's
        # other jobs go on.
        from portal.mail.inbound import pipeline

        with self.app.app_context():
            now = clock.now()
            if publishing.lease_holder(db.session, publishing.LEASE, now) != self.holder:
                return None
            results = imap.fetch_all(
                db.session,
                now,
                process=pipeline.process,
                max_bytes=int(self.app.config["MAIL_MAX_BYTES"]),
                timeout=float(self.app.config["MAIL_FETCH_TIMEOUT_SECONDS"]),
                secret_key=self.app.config["SECRET_KEY"],
            )
            # Mail stored but never processed (a listener or a fetch stopped in between, or
            # stored with `flask mail fetch --store-only`): taken up here too.
            pipeline.process_due(db.session, clock.now())
            return results

    def sweep(self) -> int | None:
        """Remove abandoned staged files and temporary upload files (how many), and expired
        sign-ins, if this process still holds the lease."""
        with self.app.app_context():
            now = clock.now()
            if publishing.lease_holder(db.session, publishing.LEASE, now) != self.holder:
                return None
            staged = files.remove_abandoned(db.session, now, uploads_dir())
            accounts.remove_expired_login_sessions(db.session, now)
            return staged + attachments.remove_stale_temporary(uploads_dir(), now)

    def purge_trash(self) -> int | None:
        """Delete for good the tickets trashed more than 30 days ago (how many), if this
        process still holds the lease."""
        with self.app.app_context():
            now = clock.now()
            if publishing.lease_holder(db.session, publishing.LEASE, now) != self.holder:
                return None
            return trash.purge_trash(db.session, now, uploads_dir=uploads_dir())

    def purge_expired_files(self) -> int | None:
        """Remove the ticket files past their brand's retention (how many), if this process
        still holds the lease."""
        with self.app.app_context():
            now = clock.now()
            if publishing.lease_holder(db.session, publishing.LEASE, now) != self.holder:
                return None
            return retention.purge_expired_files(db.session, now, uploads_dir())

    def mail_agent_digests(self) -> int | None:
        """Queue one digest mail per agent with new notices (how many), if this process still
        holds the lease; the mail job sends them."""
        from portal.mail import agent_digests  # imported when it runs, like fetch_mail's

        with self.app.app_context():
            now = clock.now()
            if publishing.lease_holder(db.session, publishing.LEASE, now) != self.holder:
                return None
            return agent_digests.send_digests(db.session, now)

    def run_schedules(self) -> schedules.RunSummary | None:
        """Run the brands' schedules over the tickets due now, if this process still holds
        the lease (each ticket once, even beside another run: see the schedules module)."""
        with self.app.app_context():
            now = clock.now()
            if publishing.lease_holder(db.session, publishing.LEASE, now) != self.holder:
                return None
            return schedules.run_schedules(db.session, now)

    def deliver_webhooks(self) -> dict[str, int] | None:
        """Post the due webhook deliveries, if this process still holds the lease."""
        from portal.desk.automation import deliveries

        with self.app.app_context():
            if publishing.lease_holder(db.session, publishing.LEASE, clock.now()) != self.holder:
                return None
            db.session.commit()  # the lease check's transaction: none held while posting
            factory = sessionmaker(self.engine)
            return deliveries.deliver_due(factory, clock.now(), self.app.config["SECRET_KEY"])

    def prune_webhooks(self) -> int | None:
        """Remove deliveries delivered over 30 days ago, if this process holds the lease."""
        from portal.desk.automation import deliveries

        with self.app.app_context():
            now = clock.now()
            if publishing.lease_holder(db.session, publishing.LEASE, now) != self.holder:
                return None
            return deliveries.prune(db.session, now)


def run_due_job(holder: str) -> None:
    """The job APScheduler runs (by reference): the side effects due now."""
    leader = _leaders.get(holder)
    if leader is None:
        # A job a previous leader left behind, fired before being replaced: nothing to do.
        log.info("scheduler: no leader %s in this process", holder)
        return
    leader.run_due()


def send_mail_job(holder: str) -> None:
    """The job APScheduler runs (by reference): the mail outbox."""
    leader = _leaders.get(holder)
    if leader is not None:
        leader.send_mail()


def fetch_mail_job(holder: str) -> None:
    """The job APScheduler runs (by reference): the mailboxes connected over IMAP."""
    leader = _leaders.get(holder)
    if leader is not None:
        leader.fetch_mail()


def sweep_job(holder: str) -> None:
    """The job APScheduler runs (by reference): abandoned staged files."""
    leader = _leaders.get(holder)
    if leader is not None:
        leader.sweep()


def purge_trash_job(holder: str) -> None:
    """The job APScheduler runs (by reference): the trash's daily purge."""
    leader = _leaders.get(holder)
    if leader is not None:
        leader.purge_trash()


def retention_job(holder: str) -> None:
    """The job APScheduler runs (by reference): ticket files past their brand's retention."""
    leader = _leaders.get(holder)
    if leader is not None:
        leader.purge_expired_files()


def agent_digest_job(holder: str) -> None:
    """The job APScheduler runs (by reference): agents' notification digests."""
    leader = _leaders.get(holder)
    if leader is not None:
        leader.mail_agent_digests()


def deliver_webhooks_job(holder: str) -> None:
    """The job APScheduler runs (by reference): the webhook delivery queue."""
    leader = _leaders.get(holder)
    if leader is not None:
        leader.deliver_webhooks()


def prune_webhooks_job(holder: str) -> None:
    """The job APScheduler runs (by reference): the webhook delivery log's daily prune."""
    leader = _leaders.get(holder)
    if leader is not None:
        leader.prune_webhooks()


def schedules_job(holder: str) -> None:
    """The job APScheduler runs (by reference): the brands' schedules."""
    leader = _leaders.get(holder)
    if leader is not None:
        leader.run_schedules()


# --- wiring -----------------------------------------------------------------------------------


def handlers(app: Flask) -> list[publishing.Handler]:
    return app.extensions[_EXTENSION].handlers


def add_handler(app: Flask, handler: publishing.Handler) -> None:
    """Run `handler(session, event)` for each due publish or unpublish event."""
    handlers(app).append(handler)


def is_enabled(app: Flask) -> bool:
    """SCHEDULER_ENABLED when set; otherwise PORTAL_SCHEDULER=on, never while testing."""
    enabled = app.config.get("SCHEDULER_ENABLED")
    if enabled is None:
        switch = str(app.config.get("PORTAL_SCHEDULER") or "off").lower()
        enabled = switch in ("1", "on", "true", "yes") and not app.testing
    return bool(enabled)


def init_app(app: Flask) -> None:
    state = Scheduling()
    app.extensions[_EXTENSION] = state
    if is_enabled(app) and serving():
        state.leader = Leader(app)
        state.leader.start()


def run_in_foreground(app: Flask) -> None:
    """The lease loop in this thread, for a dedicated scheduler process; Ctrl-C or TERM stops."""
    leader = Leader(app)

    def _finish(_signum, _frame):
        # Ends the loop between ticks, never inside a lease transaction.
        leader._stopping.set()

    signal.signal(signal.SIGTERM, _finish)
    signal.signal(signal.SIGINT, _finish)
    click.echo(f"Scheduler {leader.holder}: bidding for the lease every {leader.renew_seconds} s")
    try:
        leader.run_forever()
    finally:
        leader.stop()
    click.echo(f"Scheduler {leader.holder}: stopped, lease released")
