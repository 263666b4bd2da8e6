"""classify: auto-replies, bounces and mailing lists are recognised (no ticket, no answer), and a
bounce says which addresses failed and why."""

from pathlib import Path

import pytest

from portal.mail.inbound.classify import (
    AUTO_REPLY,
    BOUNCE,
    LIST,
    automatic,
    bounced_recipients,
)
from portal.mail.inbound.parse import parse

CORPUS = Path(__file__).resolve().parents[2] / "mail"


def corpus(name: str):
    return parse((CORPUS / name).read_bytes())


def headers(*lines: str):
    return parse(("\r\n".join(["From: a@example.com", *lines]) + "\r\n\r\nbody").encode())


def test_dsn_bounce():
    assert automatic(corpus("bounce_dsn.eml")) == (
        BOUNCE,
        "delivery status report (multipart/report)",
    )


def test_bounce_lists_failed_recipients_with_their_reason():
    # The delayed recipient is not a bounce; the original recipient is the address we wrote to.
    assert bounced_recipients(corpus("bounce_dsn.eml")) == [
        (
            "gone@example.org",
            "5.1.1 550 <gone@example.org>: Recipient address rejected: User unknown",
        )
    ]


def test_mailer_daemon_with_a_delivery_status_part_is_a_bounce():
    raw = (
        (CORPUS / "bounce_dsn.eml")
        .read_bytes()
        .replace(b"multipart/report; report-type=delivery-status;", b"multipart/mixed;")
    )
    mail = parse(raw)
    assert automatic(mail) == (BOUNCE, "delivery status from mailer-daemon@mx.hanbit.test")
    assert [address for address, _ in bounced_recipients(mail)] == ["gone@example.org"]


def test_read_receipt_is_automatic():
    mail = headers(
        'Content-Type: multipart/report; report-type="disposition-notification"; boundary=b'
    )
    assert automatic(mail) == (
        AUTO_REPLY,
        "report (multipart/report; report-type=disposition-notification)",
    )
    assert bounced_recipients(mail) == []


def test_out_of_office_auto_submitted():
    assert automatic(corpus("out_of_office.eml")) == (AUTO_REPLY, "Auto-Submitted: auto-replied")


def test_exchange_out_of_office():
    assert automatic(corpus("exchange_oof.eml"))[0] == AUTO_REPLY


@pytest.mark.parametrize(
    "header",
    [
        "Auto-Submitted: auto-generated",
        "Auto-Submitted: Auto-Replied; owner-email=x@example.com",
        "X-Autoreply: yes",
        "X-Autorespond: Out of office",
        "X-Auto-Response-Suppress: DR, OOF",
        "X-Auto-Response-Suppress: All",
        "X-Auto-Response-Suppress: AutoReply",
        "Precedence: auto_reply",
    ],
)
def test_automatic_replies_are_recognised(header):
    assert automatic(headers(header))[0] == AUTO_REPLY


def test_mailing_list():
    assert automatic(corpus("mailing_list.eml")) == (LIST, "Precedence: list")


@pytest.mark.parametrize(
    "header",
    [
        "Precedence: bulk",
        "Precedence: junk",
        "List-Id: <news.example.com>",
        "List-Unsubscribe: <https://example.com/unsubscribe>",
    ],
)
def test_lists_and_bulk_mail_are_recognised(header):
    assert automatic(headers(header))[0] == LIST


@pytest.mark.parametrize(
    "name",
    [
        "plain_utf8.eml",
        "reply_quoted_signature.eml",
        "outlook_reply.eml",
        "html_only_hostile.eml",
        "no_from.eml",
    ],
)
def test_mail_people_write_is_not_automatic(name):
    assert automatic(corpus(name)) is None
    assert bounced_recipients(corpus(name)) == []


@pytest.mark.parametrize(
    "header",
    ["Auto-Submitted: no", "X-Auto-Response-Suppress: DR, RN, NRN", "Precedence: first-class"],
)
def test_headers_that_do_not_mean_automatic(header):
    assert automatic(headers(header)) is None


def test_not_a_bounce_has_no_bounced_recipients():
    assert bounced_recipients(corpus("out_of_office.eml")) == []
