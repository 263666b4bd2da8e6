"""Attachment retention (portal.desk.retention): a brand's ticket files are removed N days after
the ticket closed, from the disk for real, their rows kept and marked; each run logged once."""

import io
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from kb import attachments, clock
from portal import jobs
from portal.desk import agent_tickets, files, retention
from portal.desk.models import Ticket, TicketFile, TicketMessage
from portal.security import audit
from portal.security.models import AuditEntry

CLOSED = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)


@pytest.fixture
def acme(make):
    return make.brand(slug="acme", name="Acme", locales=("en",), attachment_retention_days=30)


@pytest.fixture
def agent(make, acme):
    return make.user(role="agent", brands=[acme], name="Aiko Agent")


def send_file(ctx, uploads: Path, ticket: Ticket, name: str, content: bytes, message=None):
    """A file as a door sends one: staged under a key (written to disk), then given to the
    ticket (and to its message)."""
    key = secrets.token_hex(8)
    row, errors = files.stage(
        ctx,
        uploads,
        brand_id=ticket.brand_id,
        submission_key=key,
        field_key=None,
        stream=io.BytesIO(content),
        filename=name,
        now=ticket.created_at,
    )
    assert not errors, errors
    files.attach_staged(ctx, key, ticket, message)
    ctx.commit()
    return row


def conversation_with_files(ctx, make, uploads, brand, requester=None, status="open"):
    """A ticket whose form sent `form.txt` and whose first message carries `reply.txt`."""
    ticket = make.ticket(brand, requester, status=status, created_at=CLOSED - timedelta(days=5))
    message = TicketMessage(
        ticket_id=ticket.id,
        author_id=requester.id if requester else None,
        author_name=ticket.requester_name,
        author_email=ticket.requester_email,
        body="Here is the receipt.",
        created_at=CLOSED - timedelta(days=4),
    )
    ctx.add(message)
    ctx.commit()
    form_file = send_file(ctx, uploads, ticket, "form.txt", f"form {ticket.id}\n".encode())
    reply_file = send_file(
        ctx, uploads, ticket, "reply.txt", f"reply {ticket.id}\n".encode(), message
    )
    return ticket, form_file, reply_file


def close(ctx, ticket, agent, at=CLOSED, status="closed"):
    agent_tickets.change_properties(ctx, ticket, agent, {"status": status}, at)
    ctx.commit()


def on_disk(uploads, row) -> bool:
    return attachments.path_for(uploads, row.sha256).is_file()


def runs_logged(ctx) -> list[AuditEntry]:
    return list(
        ctx.scalars(select(AuditEntry).where(AuditEntry.action == "retention.files_removed"))
    )


def test_files_go_the_given_days_after_the_ticket_closed(ctx, make, uploads, acme, agent):
    ticket, form_file, reply_file = conversation_with_files(ctx, make, uploads, acme)
    close(ctx, ticket, agent)
    assert on_disk(uploads, form_file) and on_disk(uploads, reply_file)

    assert retention.purge_expired_files(ctx, CLOSED + timedelta(days=30), uploads) == 0
    assert on_disk(uploads, form_file) and on_disk(uploads, reply_file)

    later = CLOSED + timedelta(days=30, seconds=1)
    assert retention.purge_expired_files(ctx, later, uploads) == 2
    assert not on_disk(uploads, form_file) and not on_disk(uploads, reply_file)
    for row in (form_file, reply_file):
        ctx.refresh(row)
        assert row.removed_at == later and row.removed_reason == "retention"
        assert row.filename and row.ticket_id == ticket.id  # the row stays
    (entry,) = runs_logged(ctx)
    assert entry.kind == audit.SYSTEM and entry.actor_id is None
    assert entry.details == {"count": 2, "brands": {"acme": 2}}


def test_a_second_run_removes_nothing_and_logs_nothing(ctx, make, uploads, acme, agent):
    ticket, *_files = conversation_with_files(ctx, make, uploads, acme)
    close(ctx, ticket, agent)
    later = CLOSED + timedelta(days=31)
    assert retention.purge_expired_files(ctx, later, uploads) == 2
    assert retention.purge_expired_files(ctx, later, uploads) == 0
    assert retention.purge_expired_files(ctx, later + timedelta(days=1), uploads) == 0
    assert len(runs_logged(ctx)) == 1


def test_open_solved_and_kept_forever_files_stay(ctx, make, uploads, acme, agent):
    keeper = make.brand(slug="keeper", locales=("en",))  # attachment_retention_days None
    keeper_agent = make.user(role="agent", brands=[keeper])
    kept = []
    for brand, who, status in (
        (keeper, keeper_agent, "closed"),
        (acme, agent, "solved"),
        (acme, agent, "pending"),
    ):
        ticket, *rows = conversation_with_files(ctx, make, uploads, brand)
        close(ctx, ticket, who, status=status)
        kept += rows
    assert retention.purge_expired_files(ctx, CLOSED + timedelta(days=400), uploads) == 0
    assert all(on_disk(uploads, row) for row in kept)
    assert ctx.scalar(select(func.count()).where(TicketFile.removed_at.is_not(None))) == 0
    assert runs_logged(ctx) == []


def test_the_days_count_from_the_last_closing(ctx, make, uploads, acme, agent):
    ticket, form_file, _reply = conversation_with_files(ctx, make, uploads, acme)
    close(ctx, ticket, agent)
    close(ctx, ticket, agent, at=CLOSED + timedelta(days=10), status="open")
    close(ctx, ticket, agent, at=CLOSED + timedelta(days=20))
    assert retention.purge_expired_files(ctx, CLOSED + timedelta(days=31), uploads) == 0
    assert on_disk(uploads, form_file)
    assert retention.purge_expired_files(ctx, CLOSED + timedelta(days=51), uploads) == 2


def test_a_ticket_closed_without_an_event_counts_from_its_last_update(ctx, make, uploads, acme):
    """Imported or demo tickets are closed without a status event: never earlier than their
    last update."""
    ticket, form_file, _reply = conversation_with_files(ctx, make, uploads, acme)
    ticket.status, ticket.updated_at = "closed", CLOSED
    ctx.commit()
    assert retention.purge_expired_files(ctx, CLOSED + timedelta(days=29), uploads) == 0
    assert retention.purge_expired_files(ctx, CLOSED + timedelta(days=31), uploads) == 2
    assert not on_disk(uploads, form_file)


def test_bytes_another_file_still_uses_stay_on_disk(ctx, make, uploads, acme, agent):
    """Stored bytes are shared by content: the same file in a ticket still open keeps them."""
    closed, *_rows = conversation_with_files(ctx, make, uploads, acme)
    open_ticket = make.ticket(acme, subject="Still open")
    same = send_file(ctx, uploads, open_ticket, "copy.txt", f"form {closed.id}\n".encode())
    close(ctx, closed, agent)
    assert retention.purge_expired_files(ctx, CLOSED + timedelta(days=31), uploads) == 2
    assert on_disk(uploads, same)  # form.txt's bytes: copy.txt uses them
    ctx.refresh(same)
    assert same.removed_at is None


def test_each_brand_counts_its_own_days(ctx, make, uploads, acme, agent):
    brisk = make.brand(slug="brisk", locales=("en",), attachment_retention_days=7)
    brisk_agent = make.user(role="agent", brands=[brisk])
    slow, *_a = conversation_with_files(ctx, make, uploads, acme)
    fast, *_b = conversation_with_files(ctx, make, uploads, brisk)
    close(ctx, slow, agent)
    close(ctx, fast, brisk_agent)
    assert retention.purge_expired_files(ctx, CLOSED + timedelta(days=8), uploads) == 2
    assert runs_logged(ctx)[-1].details == {"count": 2, "brands": {"brisk": 2}}
    assert retention.purge_expired_files(ctx, CLOSED + timedelta(days=31), uploads) == 2
    assert runs_logged(ctx)[-1].details == {"count": 2, "brands": {"acme": 2}}


def test_a_run_finishes_removing_bytes_a_stopped_run_left(ctx, make, uploads, acme, agent):
    """A run that marked rows and died before unlinking: the next run removes the bytes."""
    ticket, form_file, _reply = conversation_with_files(ctx, make, uploads, acme)
    close(ctx, ticket, agent)
    stopped_at = CLOSED + timedelta(days=31)
    for row in ctx.scalars(select(TicketFile).where(TicketFile.ticket_id == ticket.id)):
        row.removed_at, row.removed_reason = stopped_at, "retention"
    ctx.commit()
    assert on_disk(uploads, form_file)
    assert retention.purge_expired_files(ctx, stopped_at + timedelta(days=1), uploads) == 0
    assert not on_disk(uploads, form_file)


def test_setting_the_days_is_checked_and_logged(ctx, make, acme):
    admin = make.user(role="admin")
    assert retention.set_retention(ctx, admin, acme, 90, CLOSED)
    assert not retention.set_retention(ctx, admin, acme, 90, CLOSED)  # no change, no entry
    assert retention.set_retention(ctx, admin, acme, None, CLOSED)
    ctx.commit()
    entries = ctx.scalars(
        select(AuditEntry).where(AuditEntry.action == "retention.changed").order_by(AuditEntry.id)
    ).all()
    assert [e.details for e in entries] == [{"from": 30, "to": 90}, {"from": 90, "to": None}]
    assert all(e.brand_id == acme.id and e.actor_id == admin.id for e in entries)
    for bad in (0, -1, retention.MAX_DAYS + 1):
        with pytest.raises(retention.RetentionError):
            retention.set_retention(ctx, admin, acme, bad, CLOSED)


def test_the_scheduler_leader_runs_it_daily(app, ctx, make, uploads, acme, agent):
    ticket, form_file, _reply = conversation_with_files(ctx, make, uploads, acme)
    close(ctx, ticket, agent)
    clock.freeze(CLOSED + timedelta(days=31))
    leader, follower = jobs.Leader(app), jobs.Leader(app)
    try:
        assert leader.tick() and not follower.tick()
        planned = {job.id: job for job in leader.scheduler.get_jobs()}
        job = planned[jobs.RETENTION_JOB]
        assert job.args == (leader.holder,)
        assert job.trigger.interval == timedelta(days=1)
        assert follower.purge_expired_files() is None  # only the leader
        leader.purge_expired_files()  # (the catch-up run at start may have done it already)
    finally:
        leader.stop()
        follower.stop()
    assert not on_disk(uploads, form_file)
    ctx.expire_all()
    removed = ctx.scalars(
        select(TicketFile.removed_reason).where(TicketFile.ticket_id == ticket.id)
    )
    assert set(removed) == {"retention"}
