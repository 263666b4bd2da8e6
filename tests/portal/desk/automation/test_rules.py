"""The rule bot through the doors: a visitor's form submission, a mail into the listener, an
agent's status change; conditions (any/all, words in any form, Korean inside longer words,
tags, business hours), actions as "rule <name>", stop, the loop guard, failures as notes, and
the dry run that changes nothing."""

import smtplib
import time
from datetime import UTC, datetime, timedelta
from email import policy

import pytest
from sqlalchemy import func, select

from kb import clock
from portal.desk import agent_tickets, assignment
from portal.desk.automation import rules, webhooks
from portal.desk.automation.models import AutomationRule, BusinessHours, WebhookDelivery
from portal.desk.models import (
    InquiryForm,
    OutboxMail,
    Ticket,
    TicketEvent,
    TicketMessage,
    TicketTag,
)
from portal.mail.inbound.listener import Listener
from portal.mail.models import DONE, InboundMail
from tests.conftest import PASSWORD
from tests.portal.mail.conftest import free_port
from tests.portal.mail.inbound_helpers import message, receiving_brand


@pytest.fixture
def brand(make):
    return make.brand(slug="hanbit", locales=("en", "ko"), name="Hanbit Pay")


@pytest.fixture
def form(make, brand):
    form = InquiryForm(brand_id=brand.id, names={"en": "Question", "ko": "문의"}, descriptions={})
    make.session.add(form)
    make.session.commit()
    return form


@pytest.fixture
def agent(make, brand):
    return make.user(role="agent", brands=[brand], name="Dana", password=PASSWORD)


@pytest.fixture
def billing(ctx, brand, agent):
    group = assignment.save_group(ctx, None, brand.id, "Billing", [agent.id])
    ctx.commit()
    return group


def add_rule(
    ctx, brand, name, conditions, actions, *, events=("ticket_created",), match="any", active=True
):
    draft = rules.Draft(
        name=name,
        active=active,
        events=list(events),
        match=match,
        conditions=list(conditions),
        actions=[(a + ("", ""))[:3] for a in actions],
    )
    rule = rules.save_rule(ctx, None, brand, None, draft, now=clock.now())
    ctx.commit()
    return rule


def refunds(ctx, brand):
    return add_rule(
        ctx,
        brand,
        "Refunds",
        [("text_contains", "환불"), ("text_contains", "refund")],
        [
            ("assign", "Billing"),
            ("set_priority", "high"),
            ("add_note", "", "Routed by rule Refunds"),
        ],
    )


def send_form(client, form, subject, description="Please help me."):
    url = f"/hanbit/ko/requests/new?form={form.id}"
    page = client.get(url).get_data(as_text=True)
    import re

    key = re.search(r'name="key" value="([^"]+)"', page).group(1)
    response = client.post(
        url,
        data={
            "key": key,
            "name": "Mina Park",
            "email": "mina@example.com",
            "subject": subject,
            "description": description,
            "shown": "",
            "action": "send",
        },
    )
    assert response.status_code == 303, response.get_data(as_text=True)[:800]


def the_ticket(ctx, subject) -> Ticket:
    ctx.expire_all()
    return ctx.scalar(select(Ticket).where(Ticket.subject == subject))


def notes(ctx, ticket):
    return [
        m.body
        for m in ctx.scalars(
            select(TicketMessage).where(
                TicketMessage.ticket_id == ticket.id, TicketMessage.public.is_(False)
            )
        )
    ]


def events_of(ctx, ticket):
    return ctx.scalars(
        select(TicketEvent).where(TicketEvent.ticket_id == ticket.id).order_by(TicketEvent.id)
    ).all()


def test_a_form_about_a_refund_goes_to_billing_high_with_a_note_by_the_rule(
    client, ctx, brand, form, billing, agent, login
):
    refunds(ctx, brand)
    send_form(client, form, "환불요청 드립니다")
    ticket = the_ticket(ctx, "환불요청 드립니다")
    assert ticket.group_id == billing.id and ticket.assignee_id == agent.id
    assert ticket.priority == "high"
    assert "Routed by rule Refunds" in notes(ctx, ticket)
    by_rule = {
        (e.kind, e.new_value) for e in events_of(ctx, ticket) if e.actor_name == "rule Refunds"
    }
    assert {("group", "Billing"), ("assignee", "Dana"), ("priority", "high")} <= by_rule
    # The agents' ticket page names the rule.
    login("admin")
    page = client.get(f"/agent/tickets/{ticket.id}").get_data(as_text=True)
    assert "rule Refunds" in page


def test_a_form_about_something_else_is_left_alone(client, ctx, brand, form, billing):
    refunds(ctx, brand)
    send_form(client, form, "카드 결제 문의", "결제가 안 돼요")
    ticket = the_ticket(ctx, "카드 결제 문의")
    assert ticket.group_id is None and ticket.priority == "normal"
    assert notes(ctx, ticket) == []


def test_english_words_match_in_any_form_and_case(client, ctx, brand, form, billing):
    refunds(ctx, brand)
    send_form(client, form, "Two Refunds please")
    assert the_ticket(ctx, "Two Refunds please").priority == "high"
    send_form(client, form, "I refuse", "no funds")
    assert the_ticket(ctx, "I refuse").priority == "normal"


def test_korean_is_found_inside_longer_words(client, ctx, brand, form, billing):
    refunds(ctx, brand)
    send_form(client, form, "문의", "지난주 결제를 환불을 받고 싶어요")
    assert the_ticket(ctx, "문의").priority == "high"


def test_a_mail_into_the_listener_triggers_the_rule_too(app, ctx, make):
    desk = receiving_brand(make, ctx)
    agent = make.user(role="agent", brands=[desk.brand], name="Dana", password=PASSWORD)
    billing = assignment.save_group(ctx, None, desk.brand.id, "Billing", [agent.id])
    ctx.commit()
    refunds(ctx, desk.brand)
    server = Listener(app, "127.0.0.1", free_port(), workers=1)
    server.start()
    try:
        mail = message("support@hanbit.example", subject="Refund for order 7", body="Thanks")
        with smtplib.SMTP("127.0.0.1", server.port, timeout=10) as smtp:
            smtp.sendmail(
                "mina@example.com", ["support@hanbit.example"], mail.as_bytes(policy=policy.SMTP)
            )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            ctx.expire_all()
            if ctx.scalar(
                select(func.count()).select_from(InboundMail).where(InboundMail.status == DONE)
            ):
                break
            time.sleep(0.05)
    finally:
        server.stop()
    [row] = ctx.scalars(select(InboundMail)).all()
    assert row.status == DONE, (row.status, row.reason)
    ticket = ctx.scalar(select(Ticket).where(Ticket.channel == "email"))
    assert ticket.channel == "email" and ticket.priority == "high"
    assert ticket.group_id == billing.id


def test_all_needs_every_condition_any_needs_one(client, ctx, brand, form):
    add_rule(
        ctx,
        brand,
        "All",
        [("subject_contains", "card"), ("body_contains", "declined")],
        [("add_tags", "all-matched")],
        match="all",
    )
    add_rule(
        ctx,
        brand,
        "Any",
        [("subject_contains", "card"), ("body_contains", "declined")],
        [("add_tags", "any-matched")],
        match="any",
    )
    send_form(client, form, "Card problem", "It was declined")
    send_form(client, form, "Card question", "How do I add one?")
    both = the_ticket(ctx, "Card problem")
    one = the_ticket(ctx, "Card question")
    assert set(agent_tickets.tags_of(ctx, both)) == {"all-matched", "any-matched"}
    assert agent_tickets.tags_of(ctx, one) == ["any-matched"]


def test_tags_conditions_see_what_earlier_rules_did(client, ctx, brand, form):
    add_rule(ctx, brand, "Tag", [("channel_is", "web")], [("add_tags", "vip")])
    add_rule(ctx, brand, "Urgent vip", [("tags_include", "vip")], [("set_priority", "urgent")])
    add_rule(ctx, brand, "Not vip", [("tags_exclude", "vip")], [("set_type", "task")])
    send_form(client, form, "Hello")
    ticket = the_ticket(ctx, "Hello")
    assert ticket.priority == "urgent" and ticket.type is None


def test_business_hours_decide_with_the_brands_calendar(client, ctx, brand, form):
    brand.timezone = "Asia/Seoul"
    ctx.add(BusinessHours(brand_id=brand.id, week={"0": [["09:00", "17:00"]]}, holidays=[]))
    ctx.commit()
    add_rule(ctx, brand, "Open", [("within_business_hours", "")], [("add_tags", "open")])
    add_rule(ctx, brand, "Closed", [("outside_business_hours", "")], [("add_tags", "closed")])
    clock.freeze(datetime(2026, 12, 7, 1, 0, tzinfo=UTC))  # a Monday, 10:00 in Seoul
    send_form(client, form, "Monday")
    clock.freeze(datetime(2026, 12, 7, 10, 0, tzinfo=UTC))  # 19:00 in Seoul: closed
    send_form(client, form, "Tuesday")
    assert agent_tickets.tags_of(ctx, the_ticket(ctx, "Monday")) == ["open"]
    assert agent_tickets.tags_of(ctx, the_ticket(ctx, "Tuesday")) == ["closed"]


def test_stop_processing_skips_the_rules_after(client, ctx, brand, form):
    add_rule(ctx, brand, "First", [], [("add_tags", "first"), ("stop", "")])
    add_rule(ctx, brand, "Second", [], [("add_tags", "second")])
    send_form(client, form, "Stop")
    assert agent_tickets.tags_of(ctx, the_ticket(ctx, "Stop")) == ["first"]


def test_two_rules_flipping_the_status_act_once_each(client, ctx, brand, form, agent):
    add_rule(
        ctx,
        brand,
        "To hold",
        [("status_is", "open")],
        [("set_status", "on_hold")],
        events=("status_changed",),
    )
    add_rule(
        ctx,
        brand,
        "To open",
        [("status_is", "on_hold")],
        [("set_status", "open")],
        events=("status_changed",),
    )
    send_form(client, form, "Loop")
    ticket = the_ticket(ctx, "Loop")
    agent_tickets.change_properties(ctx, ticket, agent, {"status": "open"}, clock.now())
    ctx.commit()
    changes = [(e.actor_name, e.new_value) for e in events_of(ctx, ticket) if e.kind == "status"]
    assert changes == [(None, "open"), ("rule To hold", "on_hold"), ("rule To open", "open")]
    assert ticket.status == "open"


def test_a_failing_action_becomes_a_note_and_the_rest_goes_on(client, ctx, brand, form, agent):
    add_rule(ctx, brand, "Gone agent", [], [("assign", agent.email), ("set_priority", "low")])
    from kb.people import BrandMember

    ctx.execute(BrandMember.__table__.delete().where(BrandMember.user_id == agent.id))
    ctx.commit()
    send_form(client, form, "Failing")
    ticket = the_ticket(ctx, "Failing")
    assert ticket.assignee_id is None and ticket.priority == "low"
    assert any("Gone agent" in n and "not_in_brand" in n for n in notes(ctx, ticket))


def test_a_webhook_action_without_its_target_changes_nothing_else(client, ctx, brand, form):
    rule = add_rule(ctx, brand, "Hook", [], [("set_priority", "high")])
    rule.actions = [{"type": "notify_webhook", "value": 999}] + rule.actions
    ctx.commit()
    send_form(client, form, "Hooked")
    ticket = the_ticket(ctx, "Hooked")
    assert ticket.priority == "high" and notes(ctx, ticket) == []


def test_a_webhook_action_queues_a_delivery_to_its_target(client, ctx, brand, form):
    settings = webhooks.TargetSettings(
        name="Team chat",
        kind="slack",
        url="http://127.0.0.1:9/hook",
        chat_id=None,
        events=("alert",),  # not subscribed to new tickets: the rule names it
        active=True,
        allow_private=True,
    )
    target, _ = webhooks.save_target(ctx, None, brand, None, settings, clock.now(), "k")
    ctx.commit()
    add_rule(
        ctx,
        brand,
        "Tell the team",
        [("text_contains", "refund")],
        [("notify_webhook", "team chat")],
    )
    send_form(client, form, "Refund please")
    ticket = the_ticket(ctx, "Refund please")
    [delivery] = ctx.scalars(select(WebhookDelivery)).all()
    assert (delivery.target_id, delivery.event, delivery.ticket_id) == (
        target.id,
        "ticket_created",
        ticket.id,
    )
    assert "Refund please" in delivery.payload["text"]


def test_a_rule_mail_goes_to_the_requester_in_the_tickets_thread(client, ctx, brand, form):
    add_rule(
        ctx,
        brand,
        "Ack",
        [],
        [("mail_requester", "About #{{ticket_id}}", "Hello {{requester_name}}, we got it.")],
    )
    send_form(client, form, "Mail me")
    ticket = the_ticket(ctx, "Mail me")
    mails = ctx.scalars(select(OutboxMail).where(OutboxMail.ticket_id == ticket.id)).all()
    ours = [m for m in mails if f"About #{ticket.id}" in m.subject]
    assert len(ours) == 1
    assert "Hello Mina Park, we got it." in ours[0].text_body


def test_inactive_rules_and_other_events_do_nothing(client, ctx, brand, form):
    add_rule(ctx, brand, "Off", [], [("add_tags", "off")], active=False)
    add_rule(ctx, brand, "Replies", [], [("add_tags", "reply")], events=("customer_replied",))
    send_form(client, form, "Quiet")
    assert agent_tickets.tags_of(ctx, the_ticket(ctx, "Quiet")) == []


def test_bad_rows_are_refused_with_a_code_each(ctx, brand):
    draft = rules.Draft(
        name="",
        events=[],
        conditions=[("priority_is", "huge"), ("", ""), ("form_is", "Nope")],
        actions=[("assign", "nobody@example.com", "")],
    )
    with pytest.raises(rules.RuleInvalid) as caught:
        rules.save_rule(ctx, None, brand, None, draft, now=clock.now())
    assert caught.value.errors == {
        "name": "name_required",
        "events": "events_required",
        "condition-0": "unknown_priority",
        "condition-2": "unknown_form",
        "action-0": "unknown_assignee",
    }
    assert ctx.scalar(select(func.count()).select_from(AutomationRule)) == 0


def test_the_dry_run_counts_the_last_30_days_and_changes_nothing(ctx, make, brand):
    now = clock.now()
    for n in range(3):
        make.ticket(brand, subject=f"환불 {n}", created_at=now - timedelta(days=n))
    make.ticket(brand, subject="환불 old", created_at=now - timedelta(days=40))
    make.ticket(brand, subject="환불 gone", created_at=now, deleted_at=now)
    make.ticket(brand, subject="Other", created_at=now)
    ctx.commit()
    before = [(t.id, t.priority, t.updated_at) for t in ctx.scalars(select(Ticket))]
    draft = rules.Draft(
        name="Try",
        conditions=[("subject_contains", "환불")],
        actions=[("set_priority", "high", "")],
    )
    trial = rules.try_rule(ctx, brand, draft, now)
    assert (trial.matched, trial.scanned, trial.capped) == (3, 4, False)
    assert rules.try_rule(ctx, brand, draft, now, cap=2).capped
    ctx.commit()
    ctx.expire_all()
    assert [(t.id, t.priority, t.updated_at) for t in ctx.scalars(select(Ticket))] == before
    assert ctx.scalar(select(func.count()).select_from(TicketEvent)) == 0
    assert ctx.scalar(select(func.count()).select_from(TicketTag)) == 0
