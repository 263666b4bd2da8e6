"""The scheduler runs side effects once, under one leader, and another process takes over."""

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from kb import clock, publishing
from kb.models import PublishEvent, SchedulerLease
from portal import create_app, jobs

WORKER = Path(__file__).with_name("scheduler_worker.py")
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def section(make):
    return make.section(make.category(make.brand(locales=("en",))))


def wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


class Workers:
    """Two real app processes on the test's database, each logging to its own file."""

    def __init__(self, tmp_path: Path, url: str):
        self.tmp_path, self.url = tmp_path, url
        self.procs: dict[str, subprocess.Popen] = {}

    def start(self, name: str) -> None:
        instance = self.tmp_path / f"instance-{name}"
        instance.mkdir()
        with (self.tmp_path / f"{name}.out").open("w") as out:  # the child keeps its own copy
            self.procs[name] = subprocess.Popen(
                [sys.executable, str(WORKER), name, str(self.log(name)), str(instance), self.url],
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def log(self, name: str) -> Path:
        return self.tmp_path / f"{name}.log"

    def lines(self) -> list[tuple[float, str, str]]:
        """(time, worker, message) for every line every worker logged, in time order."""
        found = []
        for name in self.procs:
            path = self.log(name)
            if path.exists():
                for line in path.read_text().splitlines():
                    at, who, message = line.split(" ", 2)
                    found.append((float(at), who, message))
        return sorted(found)

    def leading(self) -> list[tuple[float, str]]:
        return [(at, who) for at, who, message in self.lines() if message.endswith("is leading")]

    def handled(self, translation_id: int) -> list[tuple[float, str]]:
        return [
            (at, who)
            for at, who, message in self.lines()
            if message.startswith(f"handled {translation_id} ")
        ]

    def output(self) -> str:
        return "\n".join(
            f"--- {name}\n{(self.tmp_path / f'{name}.out').read_text()}" for name in self.procs
        )

    def stop_all(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=10)


def publish_events(ctx, translation_id: int) -> int:
    ctx.expire_all()
    return ctx.scalar(
        select(func.count())
        .select_from(PublishEvent)
        .where(PublishEvent.translation_id == translation_id)
    )


def test_two_processes_elect_one_leader_that_runs_each_event_once_and_hands_over(
    app, ctx, make, section, tmp_path
):
    workers = Workers(tmp_path, app.config["DATABASE_URL"])
    try:
        workers.start("a")
        workers.start("b")
        wait_for(
            lambda: sum(m == "started" for _, _, m in workers.lines()) == 2 and workers.leading(),
            timeout=20,
            what="both workers up and one leading",
        )
        time.sleep(1.0)  # several renewals: the follower must stay a follower
        [(_, first)] = workers.leading()
        second = "b" if first == "a" else "a"

        # Due in two seconds: run at its second by the leader alone.
        due = clock.now() + timedelta(seconds=2)
        launch = make.article(section, {"en": "Launch"}, publish_at=due).translations[0]
        wait_for(lambda: workers.handled(launch.id), timeout=8, what="the launch event")
        time.sleep(1.0)  # a second run or a second process would show by now
        [(handled_at, by)] = workers.handled(launch.id)
        assert by == first
        assert due.timestamp() <= handled_at < due.timestamp() + 2.5
        assert publish_events(ctx, launch.id) == 1

        # The leader dies without a word; an event falls due while no one leads.
        os.kill(workers.procs[first].pid, signal.SIGKILL)
        workers.procs[first].wait(timeout=5)
        killed_at = time.time()
        due = clock.now() + timedelta(seconds=1)
        notice = make.article(section, {"en": "Notice"}, publish_at=due).translations[0]
        wait_for(lambda: workers.handled(notice.id), timeout=10, what="the takeover")
        time.sleep(1.0)
        leaders = workers.leading()
        assert [who for _, who in leaders] == [first, second]
        assert leaders[1][0] >= killed_at  # never two leaders at once
        assert [who for _, who in workers.handled(notice.id)] == [second]
        assert publish_events(ctx, notice.id) == 1
        assert [who for _, who in workers.handled(launch.id)] == [first]

        # A clean stop releases the lease at once.
        workers.procs[second].send_signal(signal.SIGTERM)
        assert workers.procs[second].wait(timeout=10) == 0
        ctx.expire_all()
        assert ctx.get(SchedulerLease, publishing.LEASE) is None
    except AssertionError:
        print(workers.output())
        raise
    finally:
        workers.stop_all()


# --- in one process -------------------------------------------------------------------------


def test_scheduler_is_off_unless_enabled(tmp_path):
    config = {"INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "x", "DATABASE_URL": "sqlite://"}
    app = create_app(config)
    assert not jobs.is_enabled(app)
    assert app.extensions["portal.jobs"].leader is None
    testing = create_app({**config, "PORTAL_SCHEDULER": "on", "TESTING": True})
    assert not jobs.is_enabled(testing)
    served = SimpleNamespace(config={"PORTAL_SCHEDULER": "on"}, testing=False)
    assert jobs.is_enabled(served)
    served.config["SCHEDULER_ENABLED"] = False
    assert not jobs.is_enabled(served)


def test_leader_plans_the_catch_up_run_and_the_next_change_then_releases(app, ctx, make, section):
    due = clock.now() + timedelta(hours=2)
    make.article(section, {"en": "Later"}, publish_at=due)
    leader = jobs.Leader(app)
    follower = jobs.Leader(app)
    try:
        assert leader.tick()
        assert not follower.tick()
        assert not follower.leading
        planned = {job.id: job for job in leader.scheduler.get_jobs()}
        assert planned[jobs.NEXT_JOB].next_run_time == due
        assert planned[jobs.NEXT_JOB].args == (leader.holder,)
        assert jobs.INTERVAL_JOB in planned
        assert planned[jobs.SWEEP_JOB].args == (leader.holder,)  # abandoned form files
        assert leader.sweep() == 0 and follower.sweep() is None  # only the leader sweeps
    finally:
        leader.stop()
        follower.stop()
    assert publishing.lease_holder(ctx, publishing.LEASE, clock.now()) is None
    assert follower.tick()  # free at once, no waiting for the ttl
    follower.stop()


def test_a_leader_that_lost_the_lease_skips_the_run(app, ctx, make, section):
    make.article(section, {"en": "Now"}, publish_at=clock.now() - timedelta(minutes=1))
    assert not jobs.Leader(app).run_due()
    assert ctx.scalar(select(func.count()).select_from(PublishEvent)) == 0


def test_run_once_command_runs_the_due_side_effects_and_says_which(app, ctx, make, section):
    article = make.article(section, {"en": "Now"}, publish_at=clock.now() - timedelta(minutes=1))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["scheduler", "run-once"])
    assert result.exit_code == 0, result.output
    assert f"publish   translation {article.translations[0].id} (en)" in result.output
    assert "1 event(s) handled." in result.output
    assert runner.invoke(args=["scheduler", "run-once"]).output.strip() == "Nothing was due."


def test_the_sweep_removes_upload_temporary_files_left_for_an_hour(app, ctx):
    """Issue 15 item 39: temporary upload files (uploads/.upload-*) of a process that died
    mid-upload stayed forever; the leader's periodic sweep removes them after an hour."""
    uploads = Path(app.instance_path) / "uploads"
    uploads.mkdir(parents=True, exist_ok=True)
    old = uploads / ".upload-died-mid-upload"
    fresh = uploads / ".upload-being-written"
    stored = uploads / "kept-file"  # not a temporary file: never the sweep's business
    for path in (old, fresh, stored):
        path.write_bytes(b"x" * 100)
    two_hours_ago = time.time() - 2 * 3600
    os.utime(old, (two_hours_ago, two_hours_ago))
    os.utime(stored, (two_hours_ago, two_hours_ago))
    leader = jobs.Leader(app)
    try:
        assert leader.tick()
        leader.sweep()
    finally:
        leader.stop()
    assert not old.exists()
    assert fresh.exists() and stored.exists()
    fresh.unlink()
    stored.unlink()
