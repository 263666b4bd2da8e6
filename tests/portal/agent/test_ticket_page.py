"""What the agent's ticket page decides before its template displays it (ticket_page), the
properties form's translation into changes, and taking a ticket (agent_tickets.take)."""

from datetime import timedelta

import pytest
from werkzeug.datastructures import MultiDict

from kb import clock
from portal.blueprints.agent import ticket_page
from portal.blueprints.agent.ticket_forms import PropertiesForm, ReplyForm
from portal.desk import agent_tickets, replies


@pytest.fixture
def brand(make):
    return make.brand(slug="acme", locales=("en",), name="Acme")


@pytest.fixture
def ticket(make, brand):
    answers = [
        {"label": "Order", "type": "text", "value": "A-17", "display": "A-17"},
        {"label": "Device", "type": "hidden", "value": "ios", "display": ""},
    ]
    details = {"user_agent": "TB/1.0", "empty": "", "Zeta": {"b": 2, "a": 1}, "none": None}
    return make.ticket(brand, answers=answers, details=details)


def test_answers_show_the_display_value_else_the_raw_one_and_say_which_are_hidden(ticket):
    shown = [(a.label, a.hidden, a.value) for a in ticket_page.answers(ticket)]
    assert shown == [("Order", False, "A-17"), ("Device", True, "ios")]


def test_details_skip_empty_values_sort_by_key_and_list_a_mappings_pairs(app, ticket):
    with app.test_request_context():
        rows = ticket_page.details(ticket, None, None)
    assert [(d.label, d.value, d.pairs) for d in rows] == [
        ("User agent", "TB/1.0", None),
        ("Zeta", "", [("a", 1), ("b", 2)]),
    ]


def test_read_receipts_cover_public_agent_messages_only(app, ctx, make, brand, ticket):
    agent = make.user(role="agent", brands=[brand])
    start = clock.now()
    with app.app_context():
        note = replies.reply(ctx, agent, ticket, "note", public=False, now=start).message
        sent = replies.reply(ctx, agent, ticket, "hi", public=True, now=start).message
        mine = replies.reply(
            ctx, replies.Requester(), ticket, "thanks", public=True, now=start, reopen_days=7
        ).message
    timeline = agent_tickets.timeline(ctx, ticket)
    assert ticket_page.read_receipts(ticket, timeline) == {sent.id: None}
    ticket.requester_seen_at = start + timedelta(minutes=1)
    assert ticket_page.read_receipts(ticket, timeline) == {sent.id: ticket.requester_seen_at}
    assert ticket_page.newest_message_id(timeline) == mine.id
    assert note.id not in ticket_page.read_receipts(ticket, timeline)


def test_a_status_error_belongs_to_the_box_that_was_sent():
    errors = {"status": "Choose one of the listed values.", "body": "Write a reply first."}
    assert ticket_page.reply_errors(errors, None)["status"] == errors["status"]
    assert ticket_page.reply_errors(errors, {"status": "zz"})["status"] is None
    assert ticket_page.property_errors(errors, {"status": "zz"})["status"] == errors["status"]
    assert ticket_page.property_errors(errors, None)["status"] is None


def test_the_properties_form_keeps_the_status_when_empty_and_leaves_a_missing_group_alone(
    app, ticket
):
    data = MultiDict({"status": "", "priority": "high", "assignee": "", "tags": "A, b, a"})
    with app.test_request_context(method="POST", data=data):
        changes = PropertiesForm().changes(ticket)
    assert changes == {
        "status": "open",
        "priority": "high",
        "type": None,
        "assignee_id": None,
        "tags": ["a", "b"],
    }
    with app.test_request_context(method="POST", data={"group": "", "assignee": "next"}):
        changes = PropertiesForm().changes(ticket)
    assert (changes["group_id"], changes["assignee_id"]) == (None, "next")


@pytest.mark.parametrize(
    "data, field", [({"group": "x"}, "group_id"), ({"assignee": "someone"}, "assignee_id")]
)
def test_the_properties_form_refuses_a_group_or_assignee_that_is_no_id(app, ticket, data, field):
    with app.test_request_context(method="POST", data=data):
        with pytest.raises(agent_tickets.PropertyError) as refused:
            PropertiesForm().changes(ticket)
    assert refused.value.field == field


def test_the_reply_form_holds_back_until_confirmed_and_reads_a_bad_delay_as_none(app):
    data = {"kind": "internal", "last_message_id": "7", "delay": "soon"}
    with app.test_request_context(method="POST", data=data):
        form = ReplyForm()
        assert (form.public, form.seen_up_to, form.delay_seconds) == (False, 7, None)
    with app.test_request_context(method="POST", data={**data, "confirm_new": "1"}):
        assert ReplyForm().seen_up_to is None


def test_take_assigns_the_ticket_to_the_agent_and_refuses_one_of_another_brand(
    ctx, make, brand, ticket
):
    agent = make.user(role="agent", brands=[brand])
    stranger = make.user(role="agent", brands=[make.brand(slug="other", locales=("en",))])
    events = agent_tickets.take(ctx, agent, ticket, clock.now())
    assert ticket.assignee_id == agent.id and [e.kind for e in events] == ["assignee"]
    with pytest.raises(agent_tickets.PropertyError):
        agent_tickets.take(ctx, stranger, ticket, clock.now())
    assert ticket.assignee_id == agent.id
