"""Customer notifications through the doors a customer and an agent use: the form, mail in,
the agent's page, the schedule bot's remind(); read back from the outbox and the SMTP sink."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from kb import clock
from portal.desk import blocking, replies
from portal.desk.automation import events, notifications
from portal.desk.automation.models import CustomerNotification, NotificationTemplate
from portal.desk.forms import create_form
from portal.desk.models import OutboxMail, Ticket
from portal.mail import outbox
from portal.mail.sink import message_part, sink_message, sink_messages
from tests.portal.mail.inbound_helpers import deliver, message, receiving_brand, tickets

KO_SUBJECT = "[{{brand_name}}] 문의 #{{ticket_id}} 접수 완료"
KO_BODY = (
    "{{requester_name}}님, 안녕하세요.\n'{{ticket_subject}}' 문의를 받았습니다.\n{{ticket_link}}"
)


@pytest.fixture
def app_ctx(app):
    """Mail needs the app (its secret for private links, its URLs)."""
    with app.app_context():
        yield


@pytest.fixture
def brand(make):
    return make.brand(slug="hanbit", name="Hanbit Pay", locales=("en", "ko", "ja"))


@pytest.fixture
def form(ctx, brand):
    return create_form(ctx, brand, {"en": "Question", "ko": "문의", "ja": "お問い合わせ"}, {})


def configure(ctx, brand, kind, locale, subject, body, enabled=None):
    ctx.add(
        NotificationTemplate(
            brand_id=brand.id, kind=kind, locale=locale, subject=subject, body=body
        )
    )
    if enabled is not None:
        ctx.add(CustomerNotification(brand_id=brand.id, kind=kind, enabled=enabled))
    ctx.commit()


def send_form(client, form, locale="ko", email="mina@example.com"):
    url = f"/hanbit/{locale}/requests/new?form={form.id}"
    key = re.search(r'name="key" value="([^"]+)"', client.get(url).get_data(as_text=True))
    data = {
        "key": key.group(1),
        "name": "Mina Park",
        "email": email,
        "subject": "Charged twice",
        "description": "My card was charged twice.",
        "shown": "",
        "action": "send",
    }
    response = client.post(url, data=data)
    assert response.status_code == 303, response.get_data(as_text=True)[:300]
    return response


def mails(ctx) -> list[OutboxMail]:
    ctx.expire_all()
    return list(ctx.scalars(select(OutboxMail).order_by(OutboxMail.id)))


def test_a_form_request_gets_the_brands_received_mail_in_the_requesters_language(
    client, ctx, engine, brand, form, sink, sink_server
):
    configure(ctx, brand, "received", "ko", KO_SUBJECT, KO_BODY)
    configure(ctx, brand, "received", "en", "We got #{{ticket_id}}", "Hello {{requester_name}}")
    send_form(client, form, locale="ko")
    assert outbox.send_due(engine, sink_server, clock.now())["sent"] == 1
    [stored] = sink_messages(sink)
    mail = sink_message(sink, stored.name)
    ticket = ctx.scalar(select(Ticket))
    assert mail["To"] == "mina@example.com"
    assert f"[Hanbit Pay] 문의 #{ticket.id} 접수 완료" in str(mail["Subject"])
    assert mail["Auto-Submitted"] == "auto-replied"
    text = message_part(mail, "plain")
    assert "Mina Park님, 안녕하세요." in text and "'Charged twice' 문의를 받았습니다." in text
    assert f"/hanbit/ko/requests/{ticket.id}?token=" in text  # the requester's private link
    assert "We got" not in text


def test_without_configuration_the_received_mail_is_todays(client, ctx, brand, form):
    send_form(client, form, locale="en")
    [mail] = mails(ctx)
    ticket = ctx.scalar(select(Ticket))
    assert mail.subject.startswith(f"Request #{ticket.id} received: Charged twice")
    assert "We received your request" in mail.text_body
    assert mail.headers.get("Auto-Submitted") == "auto-replied"


def test_a_language_without_wording_gets_the_brands_default_language(client, ctx, brand, form):
    configure(ctx, brand, "received", "en", "We got #{{ticket_id}}", "Hello {{requester_name}}")
    send_form(client, form, locale="ja")
    [mail] = mails(ctx)
    assert "We got #" in mail.subject and "Hello Mina Park" in mail.text_body


def test_received_switched_off_sends_nothing(client, ctx, brand, form):
    ctx.add(CustomerNotification(brand_id=brand.id, kind="received", enabled=False))
    ctx.commit()
    send_form(client, form)
    assert ctx.scalar(select(func.count()).select_from(Ticket)) == 1
    assert mails(ctx) == []


# -- the mail channel keeps its acknowledgement rules ---------------------------------------


def test_a_mail_gets_the_acknowledgement_in_its_thread(app, make, ctx):
    desk = receiving_brand(make, ctx)
    row = deliver(app, message(desk.address, message_id="<first@mail.example.com>"))
    assert row.status == "done"
    [mail] = mails(ctx)
    assert mail.recipient == "mina@example.com"
    assert "We received your request" in mail.text_body
    assert mail.headers["Auto-Submitted"] == "auto-replied"
    assert mail.headers["In-Reply-To"] == "<first@mail.example.com>"


def test_an_auto_reply_to_the_support_address_gets_no_acknowledgement(app, make, ctx):
    desk = receiving_brand(make, ctx)
    auto = message(desk.address, headers={"Auto-Submitted": "auto-replied"})
    assert deliver(app, auto).status == "ignored"
    assert tickets(ctx) == [] and mails(ctx) == []


def test_a_mail_gets_the_brands_wording_and_none_when_switched_off(app, make, ctx):
    desk = receiving_brand(make, ctx)
    configure(ctx, desk.brand, "received", "en", "Got it: #{{ticket_id}}", "Hi {{requester_name}}")
    deliver(app, message(desk.address))
    [mail] = mails(ctx)
    assert "Got it: #" in mail.subject and "Hi Mina Park" in mail.text_body
    ctx.add(CustomerNotification(brand_id=desk.brand.id, kind="received", enabled=False))
    ctx.commit()
    deliver(app, message(desk.address, subject="Another one"))
    assert len(tickets(ctx)) == 2 and len(mails(ctx)) == 1


# -- an agent's reply: always mailed, in the brand's words ----------------------------------


def agent_reply(ctx, make, brand, ticket, body="We refunded the second payment.", status=None):
    agent = make.user("agent", brands=[brand], name="Jisu Kim")
    replies.reply(ctx, agent, ticket, body, public=True, status=status, now=clock.now())
    ctx.commit()
    return agent


def test_an_agents_reply_without_wording_is_todays_mail(app_ctx, ctx, make, brand):
    ticket = make.ticket(brand)
    agent_reply(ctx, make, brand, ticket)
    [mail] = mails(ctx)
    assert "New reply to your request" in mail.subject
    assert "We refunded the second payment." in mail.text_body
    assert mail.headers["Auto-Submitted"] == "no"  # an agent wrote it


def test_an_agents_reply_in_the_brands_words_still_carries_the_reply(app_ctx, ctx, make, brand):
    configure(
        ctx, brand, "agent_replied", "en", "Re: {{ticket_subject}}", "Dear {{requester_name}},"
    )
    ticket = make.ticket(brand)
    agent_reply(ctx, make, brand, ticket)
    [mail] = mails(ctx)
    assert mail.subject.startswith("Re: Card declined")
    assert mail.text_body.index("Dear Mina,") < mail.text_body.index("We refunded")


def test_the_reply_stands_where_last_reply_is_placed(app_ctx, ctx, make, brand):
    body = "{{agent_name}} wrote:\n{{last_reply}}\n-- {{brand_name}} team"
    configure(ctx, brand, "agent_replied", "en", "Re: #{{ticket_id}}", body)
    ticket = make.ticket(brand)
    agent_reply(ctx, make, brand, ticket)
    [mail] = mails(ctx)
    assert "Jisu Kim wrote:\nWe refunded the second payment.\n-- Hanbit Pay team" in mail.text_body
    assert mail.text_body.count("We refunded") == 1


# -- solved and closed ----------------------------------------------------------------------


def solve_on_agent_page(client, ticket, status="solved"):
    response = client.post(f"/agent/tickets/{ticket.id}/properties", data={"status": status})
    assert response.status_code in (200, 303), response.get_data(as_text=True)[:300]


def test_solved_on_the_agent_page_mails_the_solved_notification_once(
    client, ctx, make, login, brand
):
    ctx.add(CustomerNotification(brand_id=brand.id, kind="solved", enabled=True))
    ctx.commit()
    configure(ctx, brand, "solved", "en", "Solved: {{ticket_subject}}", "{{last_reply}}")
    ticket = make.ticket(brand)
    login("agent", brands=[brand])
    solve_on_agent_page(client, ticket)
    solve_on_agent_page(client, ticket)  # unchanged: no second mail
    [mail] = mails(ctx)
    assert mail.subject.startswith("Solved: Card declined")
    assert mail.headers["Auto-Submitted"] == "auto-generated"
    solve_on_agent_page(client, ticket, "closed")
    assert len(mails(ctx)) == 1  # closed is off by default


def test_solved_back_and_forth_in_one_chain_mails_once(app_ctx, ctx, make, brand):
    ctx.add(CustomerNotification(brand_id=brand.id, kind="solved", enabled=True))
    ctx.commit()
    ticket = make.ticket(brand)
    now = clock.now()
    for old, new in (("open", "solved"), ("solved", "open"), ("open", "solved")):
        event = events.Event(events.STATUS_CHANGED, ticket, None, now, old=old, new=new)
        notifications.on_event(ctx, event)
    assert len(mails(ctx)) == 1
    later = events.Event(events.STATUS_CHANGED, ticket, None, now + timedelta(1), new="solved")
    notifications.on_event(ctx, later)
    assert len(mails(ctx)) == 2  # another moment, another chain


def test_solved_off_by_default(client, ctx, make, login, brand):
    ticket = make.ticket(brand)
    login("agent", brands=[brand])
    solve_on_agent_page(client, ticket)
    assert mails(ctx) == []


# -- remind -------------------------------------------------------------------------------


def test_remind_mails_only_when_switched_on(app_ctx, ctx, make, brand):
    ticket = make.ticket(brand, status="pending")
    assert notifications.remind(ctx, ticket, clock.now()) is False
    ctx.add(CustomerNotification(brand_id=brand.id, kind="pending_reminder", enabled=True))
    ctx.commit()
    assert notifications.remind(ctx, ticket, clock.now()) is True
    ctx.commit()
    [mail] = mails(ctx)
    assert "waiting for your answer" in mail.text_body
    assert mail.headers["Auto-Submitted"] == "auto-generated"


def test_remind_never_mails_a_blocked_requester_or_a_ticket_in_the_trash(app_ctx, ctx, make, brand):
    ctx.add(CustomerNotification(brand_id=brand.id, kind="pending_reminder", enabled=True))
    ctx.commit()
    trashed = make.ticket(brand, status="pending", deleted_at=clock.now())
    assert notifications.remind(ctx, trashed, clock.now()) is False
    ticket = make.ticket(brand, status="pending", requester_email="spam@example.com")
    admin = make.user("admin")
    blocking.block(ctx, admin, "spam@example.com", brand_id=None, now=clock.now())
    assert notifications.remind(ctx, ticket, clock.now()) is False
    assert mails(ctx) == []


# -- wording checks -------------------------------------------------------------------------


def test_unknown_placeholders_are_refused_by_name():
    values = notifications.check_template("Hi {{requester_nam}}", "{{ticket_id}} {{ 7*7 }} {{foo}}")
    assert values.errors == {"subject": ["unknown_placeholder"], "body": ["unknown_placeholder"]}
    assert values.unknown == {"subject": ["{{requester_nam}}"], "body": ["{{foo}}"]}


def test_a_wording_needs_both_subject_and_text_or_neither():
    assert notifications.check_template("Hi", "").errors == {"body": ["required"]}
    assert notifications.check_template("", "Hi").errors == {"subject": ["required"]}
    assert notifications.check_template("  ", " ").empty
