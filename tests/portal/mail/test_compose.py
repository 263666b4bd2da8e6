"""queue_mail: the brand's templates in the customer's language, escaped, with absolute links
built from PORTAL_BASE_URL, queued in the caller's transaction and delivered by the sender."""

import pytest
from sqlalchemy import select

from kb import clock
from portal.desk.models import OutboxMail, Ticket
from portal.mail import outbox
from portal.mail.compose import absolute_url, queue_mail


@pytest.fixture
def brand(make):
    return make.brand(
        slug="hanbit",
        name="한빛페이",
        locales=("ko", "en"),
        logo_url="/static/hanbit.png",
        primary_color="#0a7d5a",
    )


@pytest.fixture
def ticket(ctx, brand):
    ticket = Ticket(
        brand_id=brand.id,
        locale="ko",
        subject="결제가 <안 돼요> & 환불",
        description="카드 등록이 안 됩니다.\n<script>alert(1)</script>",
        requester_name="김민지",
        requester_email="minji@example.test",
        link_secret="s" * 32,
    )
    ctx.add(ticket)
    ctx.commit()
    return ticket


def queue_request_received(app, ctx, brand, ticket, **request) -> OutboxMail:
    # As the requests blueprint does: inside a request, right before committing the ticket.
    with app.test_request_context("/", **request):
        link = absolute_url("helpcenter.home", brand=brand.slug, locale="ko")
        mail = queue_mail(
            ctx,
            "request_received",
            brand=brand,
            locale="ko",
            to=ticket.requester_email,
            ticket_id=ticket.id,
            ticket=ticket,
            link=link,
        )
    ctx.commit()
    return mail


def test_request_received_mail_is_queued_with_subject_link_and_brand(app, ctx, brand, ticket):
    mail = queue_request_received(app, ctx, brand, ticket)
    # In Korean, with the ticket's token that brings a reply back to it.
    assert mail.subject == f"문의 #{ticket.id} 접수: 결제가 <안 돼요> & 환불 [#{ticket.id}]"
    assert mail.recipient == "minji@example.test"
    assert mail.sender == "한빛페이 <no-reply@portal.localhost>"
    assert mail.brand_id == brand.id and mail.ticket_id == ticket.id
    assert "http://127.0.0.1:5000/hanbit/ko/" in mail.text_body
    # What the requester wrote is not repeated: anyone can type someone else's address.
    assert "카드 등록" not in mail.text_body + mail.html_body
    assert 'href="http://127.0.0.1:5000/hanbit/ko/"' in mail.html_body
    assert 'src="http://127.0.0.1:5000/static/hanbit.png"' in mail.html_body
    assert "#0a7d5a" in mail.html_body and "한빛페이" in mail.html_body
    assert '<html lang="ko">' in mail.html_body


def test_mail_html_escapes_what_the_requester_typed(app, ctx, brand, ticket):
    mail = queue_request_received(app, ctx, brand, ticket)
    assert "<안 돼요>" not in mail.html_body
    assert "결제가 &lt;안 돼요&gt; &amp; 환불" in mail.html_body


def test_mail_links_ignore_the_requests_host(app, ctx, brand, ticket):
    mail = queue_request_received(app, ctx, brand, ticket, base_url="http://evil.test")
    assert "evil.test" not in mail.text_body + mail.html_body
    assert "http://127.0.0.1:5000/hanbit/ko/" in mail.text_body


def test_mail_is_not_queued_when_the_callers_transaction_rolls_back(app, ctx, brand, ticket):
    with app.app_context():
        queue_mail(
            ctx,
            "request_received",
            brand=brand,
            locale="ko",
            to="minji@example.test",
            ticket=ticket,
            link="http://127.0.0.1:5000/",
        )
    ctx.rollback()
    assert ctx.scalars(select(OutboxMail)).all() == []


def test_queued_request_mail_reaches_the_customer(app, ctx, engine, brand, ticket, smtp_server):
    mail = queue_request_received(app, ctx, brand, ticket)
    assert outbox.send_due(engine, smtp_server.settings(), clock.now())["sent"] == 1
    message = smtp_server.messages[0]
    assert message["Subject"] == mail.subject
    assert message["From"].addresses[0].display_name == "한빛페이"
    text = message.get_body(("plain",)).get_content()
    assert "http://127.0.0.1:5000/hanbit/ko/" in text
    assert "&lt;안 돼요&gt;" in message.get_body(("html",)).get_content()


def test_line_break_in_the_recipient_is_refused(app, ctx, brand, ticket):
    with app.app_context(), pytest.raises(ValueError):
        queue_mail(
            ctx,
            "request_received",
            brand=brand,
            locale="ko",
            to="minji@example.test\r\nBcc: everyone@example.test",
            ticket=ticket,
            link="http://127.0.0.1:5000/",
        )


def test_mail_not_about_a_ticket_is_automatic_and_comes_from_mail_from(app, ctx, brand):
    """A password reset, a confirmation: the brand's name on MAIL_FROM, no ticket token, and
    Auto-Submitted: auto-generated, so that no autoresponder answers it (RFC 3834)."""
    with app.app_context():
        mail = queue_mail(
            ctx,
            "reset_password",
            brand=brand,
            locale="ko",
            to="minji@example.test",
            name="김민지",
            reason="reset",
            link="http://127.0.0.1:5000/reset/abc",
            hours=2,
        )
    ctx.commit()
    message = outbox.build_message(mail)
    assert message["From"] == "한빛페이 <no-reply@portal.localhost>"
    assert "[#" not in message["Subject"]
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Reply-To"] is None and message["References"] is None
