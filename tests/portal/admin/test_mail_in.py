"""Received mail at /admin/mail-in: admins only; the messages newest first, paged and filtered by
status; each message's raw .eml; the retry button (its end-to-end run is the pipeline's test)."""

import hashlib
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from kb import clock
from portal.blueprints.admin import mail_in
from portal.desk.models import Ticket
from portal.mail.models import DONE, FAILED, HELD, IGNORED, InboundMail
from tests.portal.mail.inbound_helpers import message, receiving_brand
from tests.security.test_headers import _check_common

RAW = (
    b"From: Mina <mina@example.com>\r\n"
    b"To: support@acme.test\r\n"
    b"Subject: Card declined\r\n"
    b"Message-ID: <m1@example.com>\r\n"
    b"\r\n"
    b"<script>alert(1)</script> My card is declined.\r\n"
)


@pytest.fixture
def brand(make):
    return make.brand(slug="acme", locales=("en",), name="Acme")


@pytest.fixture
def admin(login):
    return login("admin")


@pytest.fixture
def received(ctx):
    """received(status=..., **columns) -> a stored message, as the listener keeps one."""

    def keep(status=DONE, raw=RAW, **values):
        columns = {
            "source": "smtp",
            "envelope_from": "mina@example.com",
            "recipients": ["support@acme.test"],
            "raw": raw,
            "size": len(raw),
            "sha256": hashlib.sha256(raw).hexdigest(),
            "sender": "mina@example.com",
            "subject": "Card declined",
            "status": status,
        }
        mail = InboundMail(**{**columns, **values})
        ctx.add(mail)
        ctx.commit()
        return mail

    return keep


def text(response) -> str:
    return response.get_data(as_text=True)


def row_of(html: str, mail) -> str:
    return re.search(rf'<tr id="mail-{mail.id}">.*?</tr>', html, re.S).group(0)


# -- who may use it -------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_login(client, received):
    mail = received()
    for url in ("/admin/mail-in", f"/admin/mail-in/{mail.id}.eml"):
        response = client.get(url)
        assert response.status_code == 302 and response.headers["Location"].startswith("/login")


@pytest.mark.parametrize("role", ["editor", "agent"])
def test_editors_and_agents_can_neither_read_nor_retry(client, login, brand, received, role):
    mail = received(status=FAILED, reason="parse error")
    login(role, brands=[brand])
    assert client.get("/admin/mail-in").status_code == 403
    assert client.get(f"/admin/mail-in/{mail.id}.eml").status_code == 403
    assert client.post(f"/admin/mail-in/{mail.id}/retry").status_code == 403


def test_unknown_ids_are_404(client, admin):
    assert client.get("/admin/mail-in/999999.eml").status_code == 404
    assert client.post("/admin/mail-in/999999/retry").status_code == 404
    assert client.get("/admin/mail-in/2147483648.eml").status_code == 404


# -- the list -------------------------------------------------------------------------------


def test_each_message_shows_sender_subject_recipients_status_reason_and_ticket(
    client, make, admin, brand, received
):
    ticket = make.ticket(brand)
    made = received(ticket_id=ticket.id)
    failed = received(
        status=FAILED,
        sender=None,
        envelope_from="bounce@lists.example",
        subject=None,
        recipients=["support@acme.test", "sales@acme.test"],
        reason="The message could not be parsed.",
    )
    html = text(client.get("/admin/mail-in"))
    done_row = row_of(html, made)
    assert "mina@example.com" in done_row and "Card declined" in done_row
    assert "support@acme.test" in done_row and "Done" in done_row
    assert f'href="/agent/tickets/{ticket.id}">#{ticket.id}</a>' in done_row
    assert f'<time datetime="{made.received_at.isoformat()}">' in done_row
    failed_row = row_of(html, failed)
    assert "bounce@lists.example" in failed_row and "(no subject)" in failed_row
    assert "support@acme.test, sales@acme.test" in failed_row
    assert "Failed" in failed_row and "The message could not be parsed." in failed_row
    assert html.index(f'id="mail-{failed.id}"') < html.index(f'id="mail-{made.id}"')


def test_a_retry_button_shows_on_failed_and_held_messages_only(client, admin, received):
    shown = [received(status=FAILED), received(status=HELD)]
    hidden = [received(status=DONE), received(status=IGNORED, reason="auto-reply")]
    html = text(client.get("/admin/mail-in"))
    for mail in shown:
        assert f'action="/admin/mail-in/{mail.id}/retry"' in row_of(html, mail)
    for mail in hidden:
        assert "/retry" not in row_of(html, mail)


def test_the_status_filter_shows_only_that_status_with_its_count(client, admin, received):
    failed = received(status=FAILED)
    done = received(status=DONE)
    html = text(client.get("/admin/mail-in?status=failed"))
    assert f'id="mail-{failed.id}"' in html and f'id="mail-{done.id}"' not in html
    assert '<option value="failed" selected>Failed (1)</option>' in html


def test_an_unknown_status_filters_nothing(client, admin, received):
    mails = [received(status=FAILED), received(status=DONE)]
    response = client.get("/admin/mail-in?status=<b>nope</b>&before=x")
    assert response.status_code == 200
    assert all(f'id="mail-{m.id}"' in text(response) for m in mails)
    assert "<b>nope</b>" not in text(response)


def test_the_pages_follow_the_older_link_newest_first(client, admin, received, monkeypatch):
    monkeypatch.setattr(mail_in, "PER_PAGE", 2)
    start = clock.now()
    mails = [received(received_at=start + timedelta(minutes=i)) for i in range(3)]
    first = text(client.get("/admin/mail-in"))
    link = re.search(r'<a rel="next" href="([^"]+)"', first).group(1).replace("&amp;", "&")
    second = text(client.get(link))
    assert f'id="mail-{mails[2].id}"' in first and f'id="mail-{mails[1].id}"' in first
    assert f'id="mail-{mails[0].id}"' not in first
    assert f'id="mail-{mails[0].id}"' in second and f'id="mail-{mails[1].id}"' not in second
    assert 'rel="next"' not in second and "Newest" in second


def test_the_filter_answers_htmx_with_its_results_only(client, admin, received):
    mail = received(status=FAILED)
    response = client.get("/admin/mail-in?status=failed", headers={"HX-Request": "true"})
    html = text(response)
    assert response.status_code == 200 and "<html" not in html
    assert html.lstrip().startswith('<div id="results">') and f'id="mail-{mail.id}"' in html
    assert "HX-Request" in response.headers["Vary"]


def test_the_list_without_htmx_is_the_whole_page(client, admin, received):
    mail = received()
    html = text(client.get("/admin/mail-in"))
    assert "<html" in html and 'name="status"' in html and f'id="mail-{mail.id}"' in html


def test_the_senders_text_is_escaped(client, admin, received):
    received(subject='<img src=x onerror="alert(1)">', reason="<script>x</script>")
    html = text(client.get("/admin/mail-in"))
    assert "<img src=x" not in html and "<script>x" not in html
    assert "&lt;img src=x" in html


# -- the raw message ------------------------------------------------------------------------


def test_the_raw_message_downloads_as_it_came_never_rendered(client, admin, received):
    mail = received()
    response = client.get(f"/admin/mail-in/{mail.id}.eml")
    assert response.status_code == 200
    assert response.get_data() == RAW
    assert response.mimetype == "message/rfc822"
    assert response.headers["Content-Disposition"] == f"attachment; filename=mail-{mail.id}.eml"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response.headers["Content-Security-Policy"]
    assert "no-store" in response.headers["Cache-Control"]
    _check_common(response, "admin .eml")  # and never framed, like every response


def test_the_list_links_each_raw_message(client, admin, received):
    mail = received()
    html = text(client.get("/admin/mail-in"))
    assert f'href="/admin/mail-in/{mail.id}.eml"' in row_of(html, mail)


# -- retry ----------------------------------------------------------------------------------


def test_a_message_that_neither_failed_nor_was_held_is_not_retried(client, ctx, admin, received):
    mail = received(status=DONE)
    response = client.post(f"/admin/mail-in/{mail.id}/retry", data={"status": "done"})
    assert response.status_code == 303
    assert response.headers["Location"] == f"/admin/mail-in?status=done#mail-{mail.id}"
    assert "Only failed and held messages can be retried." in text(client.get("/admin/mail-in"))
    ctx.expire_all()
    assert (ctx.get(InboundMail, mail.id).status, ctx.get(InboundMail, mail.id).attempts) == (
        DONE,
        0,
    )


def test_retrying_a_held_message_makes_its_ticket(client, ctx, make, admin):
    """The end-to-end run: a message the sender's limit held, retried by an admin from the
    list, becomes a ticket; the list then shows it done with a link to that ticket."""
    desk = receiving_brand(make, ctx, slug="acme")
    raw = message(desk.address, subject="Held by the limit").as_bytes()
    mail = InboundMail(
        source="smtp",
        recipients=[desk.address],
        raw=raw,
        size=len(raw),
        sha256=hashlib.sha256(raw).hexdigest(),
        status=HELD,
        reason="mina@example.com sent more than 20 mails in 10 minutes",
    )
    ctx.add(mail)
    ctx.commit()
    response = client.post(f"/admin/mail-in/{mail.id}/retry", data={"status": "held"})
    assert response.status_code == 303
    ctx.expire_all()
    [ticket] = ctx.scalars(select(Ticket)).all()
    assert ticket.subject == "Held by the limit" and ticket.channel == "email"
    assert ctx.get(InboundMail, mail.id).status == DONE
    page = text(client.get("/admin/mail-in"))
    assert f"/agent/tickets/{ticket.id}" in page
