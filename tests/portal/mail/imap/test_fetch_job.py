"""The leader fetches the mailboxes every MAIL_FETCH_INTERVAL_SECONDS; `flask mail fetch` does
it at once and says what each mailbox gave."""

import time

from sqlalchemy import select

from portal import jobs
from portal.mail.models import InboundMail, Mailbox
from tests.portal.mail.imap.conftest import message


def test_the_leader_fetches_the_mailboxes_on_its_interval(app, ctx, dovecot, add_mailbox):
    dovecot.append(message("Through the scheduler", "<job@example.test>"))
    mailbox = add_mailbox()
    leader = jobs.Leader(app)
    try:
        assert leader.tick()
        fetch_job = leader.scheduler.get_job(jobs.FETCH_JOB)
        assert fetch_job.trigger.interval.total_seconds() == 60
        assert fetch_job.args == (leader.holder,)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:  # the first run is due at once
            ctx.expire_all()
            if ctx.get(Mailbox, mailbox.id).checked_at is not None:
                break
            time.sleep(0.2)
    finally:
        leader.stop()
    ctx.expire_all()
    rows = ctx.scalars(select(InboundMail)).all()
    assert [(r.mailbox_id, r.source) for r in rows] == [(mailbox.id, "imap")]
    assert ctx.get(Mailbox, mailbox.id).last_error is None


def test_a_process_without_the_lease_fetches_nothing(app, ctx, dovecot, add_mailbox):
    dovecot.append(message("Not now", "<not-now@example.test>"))
    mailbox = add_mailbox()
    assert jobs.Leader(app).fetch_mail() is None
    ctx.expire_all()
    assert ctx.get(Mailbox, mailbox.id).checked_at is None
    assert ctx.scalars(select(InboundMail)).all() == []


def test_fetch_command_prints_what_each_mailbox_gave(app, dovecot, add_mailbox):
    dovecot.append(message("By hand", "<by-hand@example.test>"))
    good = add_mailbox()
    broken = add_mailbox(password="Sh0uld-not-show")

    result = app.test_cli_runner().invoke(args=["mail", "fetch", "--store-only"])

    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        f"mailbox {good.id} ({dovecot.username} on 127.0.0.1): new 1, skipped 0, failed 0",
        f"mailbox {broken.id} ({dovecot.username} on 127.0.0.1): new 0, skipped 0, failed 0; "
        f"error: The server refused the login of “{dovecot.username}” (user name or password).",
    ]
    assert "Sh0uld-not-show" not in result.output


def test_fetch_command_says_when_there_is_nothing_to_fetch(app):
    result = app.test_cli_runner().invoke(args=["mail", "fetch"])
    assert result.exit_code == 0 and result.output == "No enabled mailboxes.\n"
