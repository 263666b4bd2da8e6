"""Existing mailboxes over IMAP, against a real Dovecot: each message stored once, then moved
or flagged on the server; errors recorded for the admin without the password."""

import re
import socket

from sqlalchemy import func, select

from portal.mail.inbound import imap
from portal.mail.models import RECEIVED, InboundMail
from portal.security import sealing
from tests.portal.mail.imap.conftest import OLD_SERVER_USER, message


def stored(ctx) -> list[InboundMail]:
    return ctx.scalars(select(InboundMail).order_by(InboundMail.uid)).all()


def subjects(rows) -> list[str]:
    return [_subject(row.raw) for row in rows]


def _subject(raw: bytes) -> str:
    for line in raw.splitlines():
        if line.startswith(b"Subject: "):
            return line[len(b"Subject: ") :].decode()
    return ""


def flags_in(dovecot, folder="INBOX") -> list[set[bytes]]:
    with dovecot.client() as client:
        client.select_folder(folder, readonly=True)
        fetched = client.fetch(client.search("ALL"), ["FLAGS"])
        # (\Recent only says this session is the first to see it)
        return [set(fetched[uid][b"FLAGS"]) - {b"\\Recent"} for uid in sorted(fetched)]


def count_in(dovecot, folder) -> int:
    with dovecot.client() as client:
        return client.folder_status(folder, ["MESSAGES"])[b"MESSAGES"]


def test_new_mail_is_stored_once_with_its_bytes_and_flagged_on_the_server(
    ctx, dovecot, add_mailbox, frozen_now
):
    first = message("Card declined", "<one@example.test>", body="My card was declined.\n")
    dovecot.append(first)
    dovecot.append(message("Refund", "<two@example.test>"))
    mailbox = add_mailbox()

    result = imap.fetch(ctx, mailbox, frozen_now)

    assert (result.new, result.skipped, result.failed, result.error) == (2, 0, 0, None)
    rows = stored(ctx)
    assert subjects(rows) == ["Card declined", "Refund"]
    assert rows[0].raw.replace(b"\r\n", b"\n") == first  # the bytes as sent, line ends aside
    assert all(r.source == "imap" and r.status == RECEIVED for r in rows)
    assert all(r.mailbox_id == mailbox.id and r.uidvalidity == mailbox.uidvalidity for r in rows)
    assert flags_in(dovecot) == [{b"\\Seen", b"$PortalImported"}] * 2
    ctx.refresh(mailbox)
    assert mailbox.last_uid == rows[-1].uid and mailbox.uidvalidity is not None
    assert mailbox.checked_at == frozen_now and mailbox.last_error is None


def test_a_second_run_takes_nothing_and_later_mail_is_taken(ctx, dovecot, add_mailbox, frozen_now):
    dovecot.append(message("First", "<first@example.test>"))
    mailbox = add_mailbox()
    imap.fetch(ctx, mailbox, frozen_now)

    again = imap.fetch(ctx, mailbox, frozen_now)
    assert (again.new, again.skipped) == (0, 0)
    dovecot.append(message("Second", "<second@example.test>"))
    later = imap.fetch(ctx, mailbox, frozen_now)

    assert later.new == 1
    assert subjects(stored(ctx)) == ["First", "Second"]


def test_a_run_takes_at_most_its_limit_and_the_next_run_the_rest(
    ctx, dovecot, add_mailbox, frozen_now
):
    for n in (1, 2, 3):
        dovecot.append(message(f"Message {n}", f"<limit-{n}@example.test>"))
    mailbox = add_mailbox()

    assert imap.fetch(ctx, mailbox, frozen_now, limit=2).new == 2
    assert imap.fetch(ctx, mailbox, frozen_now, limit=2).new == 1

    assert subjects(stored(ctx)) == ["Message 1", "Message 2", "Message 3"]


def test_taken_mail_is_moved_to_the_chosen_folder(ctx, dovecot, add_mailbox, frozen_now):
    with dovecot.client() as client:
        client.create_folder("Taken")
    dovecot.append(message("Move me", "<move@example.test>"))
    mailbox = add_mailbox(move_to="Taken")

    result = imap.fetch(ctx, mailbox, frozen_now)

    assert result.new == 1 and mailbox.last_error is None
    assert count_in(dovecot, "INBOX") == 0
    assert count_in(dovecot, "Taken") == 1
    assert flags_in(dovecot, "Taken") == [set()]  # moved as it was: unread for people
    assert subjects(stored(ctx)) == ["Move me"]


def test_without_move_taken_mail_is_copied_then_deleted(ctx, dovecot, add_mailbox, frozen_now):
    old_server = dovecot.as_user(OLD_SERVER_USER)
    with old_server.client() as client:
        client.create_folder("Taken")
        assert not client.has_capability("MOVE")
    old_server.append(message("Copied", "<copied@example.test>"))
    old_server.append(message("Copied too", "<copied-too@example.test>"))
    mailbox = add_mailbox(username=OLD_SERVER_USER, move_to="Taken")

    result = imap.fetch(ctx, mailbox, frozen_now)

    assert result.new == 2 and mailbox.last_error is None
    assert count_in(old_server, "INBOX") == 0
    assert count_in(old_server, "Taken") == 2
    assert subjects(stored(ctx)) == ["Copied", "Copied too"]


def test_a_missing_move_to_folder_is_reported_before_anything_is_taken(
    ctx, dovecot, add_mailbox, frozen_now
):
    dovecot.append(message("Stay", "<stay@example.test>"))
    mailbox = add_mailbox(move_to="Archive/Portal")

    result = imap.fetch(ctx, mailbox, frozen_now)

    assert result.new == 0
    assert mailbox.last_error == (
        "The folder “Archive/Portal” to move taken messages to does not exist."
    )
    assert stored(ctx) == [] and flags_in(dovecot) == [set()]


def test_a_recreated_folder_imports_nothing_twice_and_takes_what_is_new(
    ctx, dovecot, add_mailbox, frozen_now
):
    without_id = message("No Message-ID header")
    with dovecot.client() as client:
        client.create_folder("Support")
    for raw in (message("Old one", "<old-1@example.test>"), without_id):
        dovecot.append(raw, "Support")
    mailbox = add_mailbox(folder="Support")
    imap.fetch(ctx, mailbox, frozen_now)
    old_validity = mailbox.uidvalidity

    # The folder is recreated (a server move, a restore): the same messages under new UIDs.
    with dovecot.client() as client:
        client.delete_folder("Support")
        client.create_folder("Support")
    for raw in (message("Old one", "<old-1@example.test>"), without_id):
        dovecot.append(raw, "Support")
    dovecot.append(message("New one", "<new-1@example.test>"), "Support")
    result = imap.fetch(ctx, mailbox, frozen_now)

    assert mailbox.uidvalidity != old_validity
    assert (result.new, result.skipped) == (1, 2)
    assert sorted(subjects(stored(ctx))) == ["New one", "No Message-ID header", "Old one"]
    assert flags_in(dovecot, "Support") == [{b"\\Seen", b"$PortalImported"}] * 3
    assert mailbox.last_uid == 3


def test_a_wrong_password_is_reported_without_the_password(ctx, dovecot, add_mailbox, frozen_now):
    secret = "Wr0ng-but-Secret-pw"
    mailbox = add_mailbox(password=secret)

    result = imap.fetch(ctx, mailbox, frozen_now)

    ctx.refresh(mailbox)
    assert mailbox.last_error == (
        f"The server refused the login of “{dovecot.username}” (user name or password)."
    )
    assert result.error == mailbox.last_error and secret not in mailbox.last_error
    assert mailbox.checked_at == frozen_now
    assert stored(ctx) == []


def test_the_password_never_reaches_the_log(ctx, dovecot, add_mailbox, frozen_now, caplog):
    secret = "An0ther-Secret-pw"
    caplog.set_level("DEBUG")
    imap.fetch(ctx, add_mailbox(password=secret), frozen_now)
    imap.fetch(ctx, add_mailbox(), frozen_now)  # a good login logs its conversation too
    assert dovecot.password not in caplog.text and secret not in caplog.text
    assert "refused the login" in caplog.text


def test_an_unknown_folder_is_reported(ctx, dovecot, add_mailbox, frozen_now):
    mailbox = add_mailbox(folder="Nowhere")

    result = imap.fetch(ctx, mailbox, frozen_now)

    assert result.error == "The folder “Nowhere” does not exist on the server."
    assert mailbox.last_error == result.error and mailbox.checked_at == frozen_now


def test_a_closed_port_is_reported(ctx, dovecot, add_mailbox, frozen_now):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens there once closed
    mailbox = add_mailbox(port=port)

    imap.fetch(ctx, mailbox, frozen_now)

    assert mailbox.last_error == f"127.0.0.1:{port} refused the connection (is the port right?)."


def test_an_oversized_message_stays_on_the_server_flagged_and_is_reported(
    ctx, dovecot, add_mailbox, frozen_now
):
    dovecot.append(message("Huge", "<huge@example.test>", body="x" * 3000 + "\n"))
    dovecot.append(message("Small", "<small@example.test>"))
    mailbox = add_mailbox()

    result = imap.fetch(ctx, mailbox, frozen_now, max_bytes=2000)

    assert (result.new, result.failed) == (1, 1)
    assert subjects(stored(ctx)) == ["Small"]
    huge, small = flags_in(dovecot)
    assert huge == {b"\\Flagged", b"$PortalTooLarge"}  # not \Seen: people still see it
    assert small == {b"\\Seen", b"$PortalImported"}
    assert re.fullmatch(
        r"A message of 3,\d{3} bytes \(UID \d+\) is over the 2,000 bytes limit: "
        r"left on the server, flagged\.",
        mailbox.last_error,
    )
    assert imap.fetch(ctx, mailbox, frozen_now, max_bytes=2000).failed == 0  # reported once


def test_each_new_message_is_processed_and_a_failing_one_does_not_stop_the_rest(
    ctx, dovecot, add_mailbox, frozen_now
):
    for n in (1, 2, 3):
        dovecot.append(message(f"Message {n}", f"<m{n}@example.test>"))
    processed = []

    def process(session, mail_id, now):
        processed.append(mail_id)
        if len(processed) == 2:
            raise RuntimeError("the pipeline tripped")

    result = imap.fetch(ctx, add_mailbox(), frozen_now, process=process)

    assert result.new == 3 and result.error is None
    assert processed == [row.id for row in stored(ctx)]
    assert flags_in(dovecot) == [{b"\\Seen", b"$PortalImported"}] * 3


def test_fetch_all_takes_every_enabled_mailbox_whatever_fails(
    ctx, dovecot, add_mailbox, frozen_now
):
    dovecot.append(message("Hello", "<hello@example.test>"))
    broken = add_mailbox(password="not-the-password")
    good = add_mailbox()
    off = add_mailbox(enabled=False)

    results = imap.fetch_all(ctx, frozen_now)

    assert [(r.mailbox_id, r.new, r.error is None) for r in results] == [
        (broken.id, 0, False),
        (good.id, 1, True),
    ]
    assert off.checked_at is None
    assert ctx.scalar(select(func.count()).select_from(InboundMail)) == 1


def test_ssl_and_starttls_connect_with_a_trusted_certificate(ctx, dovecot, add_mailbox, frozen_now):
    dovecot.append(message("Over TLS", "<tls@example.test>"))
    over_ssl = add_mailbox(security="ssl", port=dovecot.ssl_port)
    over_starttls = add_mailbox(security="starttls")

    first = imap.fetch(ctx, over_ssl, frozen_now, ssl_context=dovecot.ssl_context())
    second = imap.fetch(ctx, over_starttls, frozen_now, ssl_context=dovecot.ssl_context())

    assert (first.new, first.error) == (1, None)
    assert (second.new, second.error) == (1, None)  # another mailbox: its own copy


def test_an_untrusted_certificate_is_refused(ctx, dovecot, add_mailbox, frozen_now):
    dovecot.append(message("Not taken", "<untrusted@example.test>"))
    mailbox = add_mailbox(security="ssl", port=dovecot.ssl_port)

    imap.fetch(ctx, mailbox, frozen_now)  # the system's authorities: a self-signed one fails

    assert mailbox.last_error.startswith(
        f"The certificate of 127.0.0.1:{dovecot.ssl_port} could not be verified:"
    )
    assert stored(ctx) == []


def test_a_sealed_password_logs_in_with_its_key_and_another_key_is_said(
    ctx, dovecot, add_mailbox, frozen_now
):
    dovecot.append(message("Sealed", "<sealed@example.test>"))
    mailbox = add_mailbox(password=sealing.seal(dovecot.password, "the-right-key" * 3))

    refused = imap.fetch(ctx, mailbox, frozen_now, secret_key="another-key" * 3)
    assert refused.new == 0
    assert "The stored password cannot be read (was SECRET_KEY changed?)" in refused.error

    taken = imap.fetch(ctx, mailbox, frozen_now, secret_key="the-right-key" * 3)
    assert (taken.new, taken.error) == (1, None)
