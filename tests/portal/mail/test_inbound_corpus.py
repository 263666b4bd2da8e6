"""Every message of the corpus (tests/mail/) through the whole pipeline, as the listener hands it
over: each ends handled (a ticket with its text and every file kept or named as refused) or
refused cleanly (ignored or failed, with a reason), never half-done, and the next still goes."""

from pathlib import Path

import pytest
from sqlalchemy import select

from portal.desk.models import TicketFile, TicketMessage
from portal.mail.inbound.bodies import split_quoted
from portal.mail.inbound.parse import parse
from portal.mail.models import DONE, FAILED, IGNORED
from tests.portal.mail.inbound_helpers import deliver, receiving_brand, tickets

CORPUS = Path(__file__).resolve().parents[2] / "mail"
NOT_TICKETS = {
    "bounce_dsn.eml": IGNORED,
    "out_of_office.eml": IGNORED,
    "exchange_oof.eml": IGNORED,
    "mailing_list.eml": IGNORED,
    "no_from.eml": FAILED,
}


def corpus() -> list[str]:
    return sorted(p.name for p in CORPUS.glob("*.eml"))


def test_the_corpus_is_there():
    assert len(corpus()) >= 25


@pytest.mark.parametrize("name", corpus())
def test_each_corpus_message_is_handled_or_refused_cleanly(app, make, ctx, name):
    desk = receiving_brand(make, ctx)
    raw = (CORPUS / name).read_bytes()
    row = deliver(app, raw, recipients=[desk.address])
    if name in NOT_TICKETS:
        assert row.status == NOT_TICKETS[name] and row.reason
        assert tickets(ctx) == []
        return
    assert row.status == DONE, row.reason
    mail = parse(raw)
    [ticket] = tickets(ctx)
    assert ticket.channel == "email" and ticket.requester_email == mail.sender.email
    assert ticket.subject == (" ".join(mail.subject.split())[:200] or "(no subject)")
    assert "\ufffd" not in ticket.subject + ticket.description
    expected_text = split_quoted(mail.text)[0].strip() or "(no text)"
    assert ticket.description == expected_text[: len(ticket.description)]
    kept = set(ctx.scalars(select(TicketFile.filename).where(TicketFile.ticket_id == ticket.id)))
    notes = " ".join(
        ctx.scalars(
            select(TicketMessage.body).where(
                TicketMessage.ticket_id == ticket.id, TicketMessage.public.is_(False)
            )
        )
    )
    for attachment in mail.attachments:  # every file kept, or named to agents as not kept
        assert attachment.filename in kept or attachment.filename in notes, attachment.filename
    assert "<script" not in ticket.description


def test_the_hostile_html_only_mail_becomes_plain_text(app, make, ctx):
    desk = receiving_brand(make, ctx)
    deliver(app, (CORPUS / "html_only_hostile.eml").read_bytes(), recipients=[desk.address])
    [ticket] = tickets(ctx)
    assert ticket.description.strip()
    for bad in ("<script", "onclick", "javascript:", "<img", "<style"):
        assert bad not in ticket.description


def test_winmail_dat_arrives_as_its_files(app, make, ctx):
    desk = receiving_brand(make, ctx)
    deliver(app, (CORPUS / "winmail_dat.eml").read_bytes(), recipients=[desk.address])
    [ticket] = tickets(ctx)
    kept = set(ctx.scalars(select(TicketFile.filename).where(TicketFile.ticket_id == ticket.id)))
    assert {"avtal.txt", "logo.png"} <= kept


def test_the_whole_corpus_in_a_row_never_stops(app, make, ctx):
    desk = receiving_brand(make, ctx)
    rows = [
        deliver(app, (CORPUS / name).read_bytes(), recipients=[desk.address]) for name in corpus()
    ]
    assert all(r.status in (DONE, IGNORED, FAILED) and (r.status == DONE or r.reason) for r in rows)
    assert not any("internal error" in (r.reason or "") for r in rows)
