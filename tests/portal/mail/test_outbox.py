"""The outbox sends each mail once over real SMTP, retries when the server is away, never
lets a line break into a header and never writes the SMTP password down."""

import logging
import threading
from datetime import timedelta

import pytest
from aiosmtpd.smtp import AuthResult
from sqlalchemy import select

from kb import clock
from portal.desk.models import OutboxMail
from portal.mail import outbox
from tests.portal.mail.conftest import SmtpServer

SENDER = "Hanbit Pay <no-reply@hanbit.test>"


def queue(ctx, now, **kwargs) -> OutboxMail:
    values = {
        "sender": SENDER,
        "recipient": "Kim Minji <minji@example.test>",
        "subject": "Request #1 received",
        "text_body": "We received your request.\nhttps://help.example.test/requests/1",
        "now": now,
        **kwargs,
    }
    mail = outbox.enqueue(ctx, **values)
    ctx.commit()
    return mail


def row(ctx, mail_id) -> OutboxMail:
    ctx.expire_all()
    return ctx.get(OutboxMail, mail_id)


@pytest.mark.parametrize(
    "subject",
    [
        "요청 #12 접수: 결제 화면에서 카드 등록이 되지 않아요",
        "お問い合わせ #12 を受け付けました：支払いができません",
        "Ärende #12 mottaget: fakturan för året är fel – vad gör jag?",
    ],
    ids=["korean", "japanese", "swedish"],
)
def test_queued_mail_is_delivered_once_with_its_headers_and_both_parts(
    engine, ctx, smtp_server, subject
):
    now = clock.now()
    mail = queue(
        ctx,
        now,
        subject=subject,
        text_body="안녕하세요, 김민지 님.\nhttps://help.example.test/r/1",
        html_body="<p>안녕하세요, 김민지 님.</p>",
        headers={"Content-Language": "ko"},
    )

    counts = outbox.send_due(engine, smtp_server.settings(), now)
    assert counts == {"sent": 1, "failed": 0, "gave_up": 0, "waiting": 0}
    assert outbox.send_due(engine, smtp_server.settings(), now + timedelta(days=1))["sent"] == 0

    assert len(smtp_server.messages) == 1
    message = smtp_server.messages[0]
    assert message["Message-ID"] == mail.message_id
    assert mail.message_id.endswith("@hanbit.test>")
    assert message["Subject"] == subject
    assert message["From"].addresses[0].addr_spec == "no-reply@hanbit.test"
    assert message["From"].addresses[0].display_name == "Hanbit Pay"
    assert message["To"].addresses[0].addr_spec == "minji@example.test"
    assert message["Date"].datetime == now.replace(microsecond=0)
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Content-Language"] == "ko"
    assert message.get_content_type() == "multipart/alternative"
    assert message.get_body(("plain",)).get_content().startswith("안녕하세요, 김민지 님.\n")
    assert message.get_body(("html",)).get_content().strip() == "<p>안녕하세요, 김민지 님.</p>"
    # On the wire the headers are ASCII: the subject travels as UTF-8 encoded words.
    head = smtp_server.handler.raw[0].split(b"\r\n\r\n", 1)[0]
    assert head.isascii() and b"=?utf-8?" in head.lower()
    assert smtp_server.handler.envelopes == [("no-reply@hanbit.test", ["minji@example.test"])]

    sent = row(ctx, mail.id)
    assert sent.sent_at is not None and sent.attempts == 1 and sent.claimed_until is None


def test_mail_without_html_is_plain_text(engine, ctx, smtp_server):
    now = clock.now()
    queue(ctx, now)
    outbox.send_due(engine, smtp_server.settings(), now)
    message = smtp_server.messages[0]
    assert message.get_content_type() == "text/plain"
    assert message.get_content().startswith("We received your request.")


def test_with_the_server_down_the_failure_is_kept_and_retried_until_delivered(
    engine, ctx, smtp_server
):
    smtp_server.stop()
    now = clock.now()
    mail = queue(ctx, now)

    counts = outbox.send_due(engine, smtp_server.settings(), now)
    assert counts == {"sent": 0, "failed": 1, "gave_up": 0, "waiting": 1}
    failed = row(ctx, mail.id)
    assert failed.attempts == 1 and failed.sent_at is None and failed.failed_at is None
    assert "ConnectionRefusedError" in failed.last_error
    assert failed.claimed_until is None
    retry_at = failed.next_attempt_at
    assert now + timedelta(minutes=1) <= retry_at < now + timedelta(minutes=1, seconds=10)

    smtp_server.start()
    assert outbox.send_due(engine, smtp_server.settings(), now + timedelta(seconds=30)) == {
        "sent": 0,
        "failed": 0,
        "gave_up": 0,
        "waiting": 1,
    }
    assert smtp_server.messages == []

    counts = outbox.send_due(engine, smtp_server.settings(), retry_at)
    assert counts == {"sent": 1, "failed": 0, "gave_up": 0, "waiting": 0}
    assert [m["Message-ID"] for m in smtp_server.messages] == [mail.message_id]
    delivered = row(ctx, mail.id)
    assert delivered.sent_at is not None and delivered.attempts == 2


def test_a_down_server_stops_the_batch_and_leaves_the_other_mails_untouched(
    engine, ctx, smtp_server
):
    smtp_server.stop()
    now = clock.now()
    mails = [queue(ctx, now, subject=f"Mail {n}") for n in range(3)]
    counts = outbox.send_due(engine, smtp_server.settings(), now)
    assert counts == {"sent": 0, "failed": 1, "gave_up": 0, "waiting": 3}
    assert [row(ctx, m.id).attempts for m in mails] == [1, 0, 0]


def test_mail_is_given_up_after_the_last_attempt_and_kept_for_the_admins(engine, ctx, smtp_server):
    smtp_server.stop()
    at = clock.now()
    mail = queue(ctx, at)
    for attempt in range(1, outbox.MAX_ATTEMPTS + 1):
        counts = outbox.send_due(engine, smtp_server.settings(), at)
        assert counts["failed"] == 1, attempt
        at = row(ctx, mail.id).next_attempt_at
    given_up = row(ctx, mail.id)
    assert given_up.failed_at is not None and given_up.attempts == outbox.MAX_ATTEMPTS
    assert counts == {"sent": 0, "failed": 1, "gave_up": 1, "waiting": 0}
    smtp_server.start()
    assert outbox.send_due(engine, smtp_server.settings(), at + timedelta(days=30))["sent"] == 0
    assert smtp_server.messages == []


def test_retry_delays_grow():
    delays = [outbox.retry_delay(n) for n in range(1, outbox.MAX_ATTEMPTS)]
    assert delays[:5] == [timedelta(minutes=m) for m in (1, 5, 15, 60, 180)]
    assert delays == sorted(delays)


def test_mail_claimed_by_a_crashed_sender_is_sent_once_its_claim_lapses(engine, ctx, smtp_server):
    now = clock.now()
    mail = queue(ctx, now)
    crashed = row(ctx, mail.id)
    crashed.claimed_until = now + timedelta(minutes=10)  # claimed, then the sender died
    ctx.commit()

    assert outbox.send_due(engine, smtp_server.settings(), now)["sent"] == 0
    counts = outbox.send_due(engine, smtp_server.settings(), now + timedelta(minutes=11))
    assert counts["sent"] == 1
    assert len(smtp_server.messages) == 1


def test_two_senders_at_once_deliver_each_mail_exactly_once(engine, ctx, smtp_server):
    now = clock.now()
    mails = [queue(ctx, now, subject=f"Mail {n}") for n in range(20)]
    start = threading.Barrier(2)
    results, errors = [], []

    def sender(name):
        try:
            start.wait(timeout=10)
            results.append(outbox.send_due(engine, smtp_server.settings(), now, holder=name))
        except Exception as exc:  # reported below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=sender, args=(f"sender-{n}",)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sum(r["sent"] for r in results) == 20
    assert sum(r["failed"] for r in results) == 0
    received = sorted(m["Message-ID"] for m in smtp_server.messages)
    assert received == sorted(m.message_id for m in mails)  # each once, none twice
    ctx.expire_all()
    assert all(m.sent_at is not None for m in ctx.scalars(select(OutboxMail)))


@pytest.mark.parametrize(
    "field, value",
    [
        ("recipient", "minji@example.test\r\nBcc: everyone@example.test"),
        ("recipient", "minji@example.test\nBcc: everyone@example.test"),
        ("subject", "Hello\r\nBcc: everyone@example.test"),
        ("sender", "Portal <no-reply@portal.test>\rBcc: everyone@example.test"),
    ],
)
def test_line_breaks_in_headers_are_refused(ctx, field, value):
    with pytest.raises(ValueError):
        queue(ctx, clock.now(), **{field: value})
    ctx.rollback()
    assert ctx.scalars(select(OutboxMail)).all() == []


def test_line_breaks_in_extra_headers_and_our_own_header_names_are_refused(ctx):
    with pytest.raises(ValueError):
        queue(ctx, clock.now(), headers={"X-Note": "a\r\nBcc: everyone@example.test"})
    with pytest.raises(ValueError):
        queue(ctx, clock.now(), headers={"Bcc\r\nX": "x"})
    with pytest.raises(ValueError):
        queue(ctx, clock.now(), headers={"To": "everyone@example.test"})


def test_recipient_must_be_one_address(ctx):
    for recipient in ("", "not an address", "a@example.test, b@example.test"):
        with pytest.raises(ValueError):
            queue(ctx, clock.now(), recipient=recipient)


def test_message_ids_are_unique_and_random(ctx):
    now = clock.now()
    ids = {queue(ctx, now).message_id for _ in range(5)}
    assert len(ids) == 5
    assert all(len(i.split("@")[0]) == 33 for i in ids)  # "<" + 128 bits in hex


def test_smtp_login_is_used_and_the_password_never_written_down(engine, ctx, caplog):
    password = "s3cret-Pa55word"

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = auth_data.login == b"portal" and auth_data.password == password.encode()
        return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535

    server = SmtpServer(authenticator=authenticator, auth_require_tls=False)
    server.start()
    try:
        now = clock.now()
        mail = queue(ctx, now)
        wrong = server.settings(username="portal", password=password + "-old")
        assert "old" not in repr(wrong) and password not in repr(wrong)
        with caplog.at_level(logging.INFO, logger="portal.mail.outbox"):
            assert outbox.send_due(engine, wrong, now)["failed"] == 1
        failed = row(ctx, mail.id)
        assert "SMTPAuthenticationError" in failed.last_error
        assert password not in failed.last_error and password not in caplog.text
        assert failed.failed_at is None  # a configuration problem: retried once it is fixed

        right = server.settings(username="portal", password=password)
        assert outbox.send_due(engine, right, failed.next_attempt_at)["sent"] == 1
        assert len(server.messages) == 1
    finally:
        server.stop()


def test_the_password_is_redacted_from_error_texts():
    smtp = outbox.SmtpSettings(username="portal", password="hunter2")
    assert outbox.redact("535 bad hunter2 aHVudGVyMg==", smtp) == "535 bad *** ***"


def test_long_non_ascii_subjects_and_sender_names_keep_every_space(engine, ctx, smtp_server):
    # Python 3.11's own header folding loses spaces between encoded words (CPython gh-144156).
    subject = "Ärende #12 mottaget: fakturan för året är fel – 요청 접수 お問い合わせ " * 3
    name = "Norrsken Energi året är 한빛 페이 お問い合わせ サポート " * 2
    now = clock.now()
    queue(ctx, now, subject=subject.strip(), sender=f'"{name.strip()}" <no-reply@norrsken.test>')
    outbox.send_due(engine, smtp_server.settings(), now)
    message = smtp_server.messages[0]
    assert message["Subject"] == subject.strip()
    assert message["From"].addresses[0].display_name == name.strip()
    head = smtp_server.handler.raw[0].split(b"\r\n\r\n", 1)[0]
    assert all(len(line) <= 998 for line in head.split(b"\r\n"))


@pytest.mark.parametrize(
    "auto_submitted, header",
    [(outbox.AUTO_GENERATED, "auto-generated"), (outbox.AUTO_REPLIED, "auto-replied")],
)
def test_automatic_mail_says_how_it_was_written(ctx, auto_submitted, header):
    mail = queue(ctx, clock.now(), auto_submitted=auto_submitted)
    assert outbox.build_message(mail).get_all("Auto-Submitted") == [header]


def test_mail_a_person_wrote_carries_no_auto_submitted_header(engine, ctx, smtp_server):
    # RFC 3834: the customer's autoresponder may answer it (an out-of-office reaches the agent).
    now = clock.now()
    queue(ctx, now, auto_submitted=None)
    outbox.send_due(engine, smtp_server.settings(), now)
    assert "Auto-Submitted" not in smtp_server.messages[0]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"headers": {"Auto-Submitted": "no"}},
        {"headers": {"auto-submitted": "auto-replied"}},
        {"auto_submitted": "no"},
        {"auto_submitted": "auto-replied\r\nBcc: everyone@example.test"},
    ],
)
def test_auto_submitted_is_only_ever_one_of_ours(ctx, kwargs):
    with pytest.raises(ValueError):
        queue(ctx, clock.now(), **kwargs)
    ctx.rollback()
    assert ctx.scalars(select(OutboxMail)).all() == []


def test_long_message_ids_in_references_stay_as_they_are(engine, ctx, smtp_server):
    # The stock folder would turn an id longer than a line into encoded words, which no mail
    # client matches against the Message-ID it keeps.
    outlook = (
        "<" + "PSAPR06MB4289A5F4C2D1E0B7F9E3A1C2B4D6E8F0A" * 3 + "@PSAPR06MB4289.apcprd06.prod>"
    )
    ours = "<0123456789abcdef0123456789abcdef@hanbit.test>"
    now = clock.now()
    queue(ctx, now, headers={"In-Reply-To": outlook, "References": f"{ours} {outlook}"})
    outbox.send_due(engine, smtp_server.settings(), now)
    message = smtp_server.messages[0]
    assert str(message["In-Reply-To"]).split() == [outlook]
    assert str(message["References"]).split() == [ours, outlook]
    head = smtp_server.handler.raw[0].split(b"\r\n\r\n", 1)[0]
    assert b"=?" not in head and outlook.encode() in head
    assert all(len(line) <= 998 for line in head.split(b"\r\n"))
