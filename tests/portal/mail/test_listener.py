"""The SMTP listener, through real SMTP sessions (smtplib): who it refuses and when, that it
answers only once a message is kept, and the whole loop with the desk and a customer's mail
client. The listener killed between receiving and processing is a real process, killed."""

import os
import signal
import smtplib
import subprocess
import sys
import time
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from sqlalchemy import func, select

from kb import clock
from portal.desk import replies
from portal.desk.models import OutboxMail, Ticket, TicketMessage
from portal.extensions import db
from portal.mail.inbound.listener import Listener
from portal.mail.models import DONE, RECEIVED, InboundMail
from portal.mail.sender import send_due_now
from tests.portal.mail.conftest import SmtpServer, free_port
from tests.portal.mail.inbound_helpers import message, receiving_brand, tickets

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def listener(app):
    server = Listener(app, "127.0.0.1", free_port(), workers=1)
    server.start()
    yield server
    server.stop()


def _smtp(port: int) -> smtplib.SMTP:
    return smtplib.SMTP("127.0.0.1", port, timeout=10)


def _wait_until(check, seconds=15.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError("timed out")


def _rows(ctx):
    ctx.expire_all()
    return list(ctx.scalars(select(InboundMail).order_by(InboundMail.id)))


def test_unknown_recipients_are_refused_at_rcpt(app, make, ctx, listener):
    desk = receiving_brand(make, ctx)
    with _smtp(listener.port) as smtp:
        smtp.ehlo()
        smtp.mail("mina@example.com")
        code, text = smtp.rcpt("nobody@hanbit.example")
        assert code == 550 and b"No such address" in text
        assert smtp.rcpt(desk.address)[0] == 250
        tagged = desk.address.replace("@", "+t1-0123456789abcdef@")
        assert smtp.rcpt(tagged)[0] == 250  # a +tag of a known address is taken
        smtp.rset()
    assert _rows(ctx) == []


def test_a_message_over_the_size_limit_is_refused_at_data(app, make, ctx, listener):
    desk = receiving_brand(make, ctx)
    limit = app.config["MAIL_MAX_BYTES"]
    mail = message(desk.address, body="x" * 70 + "\n")
    raw = mail.as_bytes() + (b"y" * 998 + b"\r\n") * (limit // 1000 + 10)
    with _smtp(listener.port) as smtp:
        smtp.ehlo()
        smtp.mail("mina@example.com")  # a client that does not say the size beforehand
        smtp.rcpt(desk.address)
        code, _text = smtp.data(raw)
        assert code == 552
        # One that says it (ESMTP SIZE) is refused before sending the bytes.
        with pytest.raises(smtplib.SMTPSenderRefused) as refused:
            smtp.sendmail("mina@example.com", [desk.address], raw)
        assert refused.value.smtp_code == 552
    assert _rows(ctx) == []


def test_a_message_is_answered_once_kept_then_becomes_a_ticket(app, make, ctx, listener):
    desk = receiving_brand(make, ctx)
    mail = message(desk.address, subject="QR payment fails", body="x" * 10_000)
    with _smtp(listener.port) as smtp:
        smtp.ehlo()
        smtp.mail("mina@example.com")
        smtp.rcpt(desk.address)
        code, text = smtp.data(mail.as_bytes(policy=policy.SMTP))
    assert code == 250
    mail_id = int(text.decode().rpartition("#")[2])
    row = _wait_until(lambda: [r for r in _rows(ctx) if r.status == DONE])[0]
    assert row.id == mail_id and row.raw == mail.as_bytes(policy=policy.SMTP)
    [ticket] = tickets(ctx)
    assert ticket.subject == "QR payment fails" and ticket.channel == "email"
    assert len(ticket.description) == 10_000  # a 10,000-character line, whole


def test_the_full_loop_mail_desk_mail_and_back(app, make, ctx, listener, tmp_path):
    """Mail in -> ticket -> agent reply -> mail out (caught by a real SMTP server) -> the
    customer answers that mail in their client -> the same ticket."""
    desk = receiving_brand(make, ctx)
    agent = make.user("agent", brands=[desk.brand], name="Sora")
    with _smtp(listener.port) as smtp:
        smtp.send_message(message(desk.address, subject="Refund missing"))
    _wait_until(lambda: tickets(ctx))
    [ticket] = tickets(ctx)
    with app.app_context():
        found = db.session.get(Ticket, ticket.id)
        agent = db.session.merge(agent)
        replies.reply(db.session, agent, found, "Refunded today.", public=True, now=clock.now())
        db.session.commit()
    inbox = SmtpServer()
    inbox.start()
    try:
        app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=inbox.port)
        with app.app_context():
            send_due_now(holder="test")
    finally:
        inbox.stop()
        app.config.update(SMTP_PORT=8025)
    [agent_mail] = [m for m in inbox.handler.messages if "Refunded today." in str(m)]
    # The customer's mail client answers it: to Reply-To (else From), Re: subject, threading.
    answer = message(
        str(agent_mail.get("Reply-To") or agent_mail["From"]),
        subject=f"Re: {agent_mail['Subject']}",
        body="Thank you, it arrived.\n\n> Refunded today.",
        headers={
            "In-Reply-To": agent_mail["Message-ID"],
            "References": agent_mail["Message-ID"],
        },
    )
    with _smtp(listener.port) as smtp:
        smtp.send_message(answer)
    _wait_until(lambda: len([r for r in _rows(ctx) if r.status == DONE]) == 2)
    assert len(tickets(ctx)) == 1
    ctx.expire_all()
    bodies = list(
        ctx.scalars(
            select(TicketMessage.body)
            .where(TicketMessage.ticket_id == ticket.id)
            .order_by(TicketMessage.id)
        )
    )
    assert bodies[-2:] == ["Refunded today.", "Thank you, it arrived."]


def test_an_auto_reply_storm_makes_nothing(app, make, ctx, listener):
    desk = receiving_brand(make, ctx)
    with _smtp(listener.port) as smtp:
        for n in range(30):
            auto = message(
                desk.address,
                sender="robot@example.com",
                subject=f"Automatic reply {n}",
                headers={"Auto-Submitted": "auto-replied"},
            )
            smtp.send_message(auto)
    _wait_until(lambda: len([r for r in _rows(ctx) if r.status != RECEIVED]) == 30)
    assert tickets(ctx) == []
    ctx.expire_all()
    assert ctx.scalar(select(func.count()).select_from(OutboxMail)) == 0


def _start_listener_process(app, port: int, workers: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "PORTAL_ENV": "development",
        "SECRET_KEY": app.config["SECRET_KEY"],
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "PORTAL_INSTANCE_PATH": app.instance_path,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "portal", "mail", "receive"]
        + ["--port", str(port), "--workers", str(workers)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with _smtp(port) as smtp:
                smtp.noop()
            return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    output = process.stdout.read().decode()
    process.stdout.close()
    raise AssertionError(output)


def _stop(process: subprocess.Popen, signum: int) -> None:
    process.send_signal(signum)
    process.wait(timeout=30)
    process.stdout.close()


def test_a_listener_killed_between_receiving_and_processing_loses_nothing(app, make, ctx):
    desk = receiving_brand(make, ctx)
    port = free_port()
    # Only storing (no workers): killed with SIGKILL after the 250, before any processing.
    first = _start_listener_process(app, port, workers=0)
    try:
        with _smtp(port) as smtp:
            smtp.send_message(message(desk.address, subject="Kept across a crash"))
    finally:
        _stop(first, signal.SIGKILL)
    [row] = _rows(ctx)
    assert row.status == RECEIVED and tickets(ctx) == []
    second = _start_listener_process(app, port, workers=1)
    try:
        _wait_until(lambda: _rows(ctx)[0].status == DONE, seconds=30)
    finally:
        _stop(second, signal.SIGTERM)
    [ticket] = tickets(ctx)
    assert ticket.subject == "Kept across a crash"


def test_the_message_as_stored_is_byte_for_byte_what_was_sent(app, make, ctx, listener):
    desk = receiving_brand(make, ctx)
    raw = (
        f"From: =?euc-kr?B?udq5zL7G?= <mina@example.com>\r\nTo: {desk.address}\r\n"
        "Subject: =?euc-kr?B?x9G/5A==?=\r\nMessage-ID: <euc@example.com>\r\n"
        "Content-Type: text/plain; charset=euc-kr\r\n\r\n"
    ).encode() + "결제 문의입니다.\r\n".encode("euc-kr")
    with _smtp(listener.port) as smtp:
        smtp.sendmail("mina@example.com", [desk.address], raw)
    row = _wait_until(lambda: [r for r in _rows(ctx) if r.status == DONE])[0]
    assert row.raw == raw
    assert message_from_bytes(row.raw, policy=policy.default)["Message-ID"] == "<euc@example.com>"
    [ticket] = tickets(ctx)
    assert ticket.description == "결제 문의입니다."
