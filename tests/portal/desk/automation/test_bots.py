"""A rule or schedule acts through the agents' own operations (portal.desk.actors.Bot): its
changes are events named after it, it may act only on its own brand, and the events it causes
reach the automation after the one being handled."""

import pytest
from sqlalchemy import select

from kb import clock
from portal.desk import agent_tickets, replies
from portal.desk.actors import Bot
from portal.desk.agent_tickets import PropertyError
from portal.desk.automation import events
from portal.desk.models import TicketEvent, TicketMessage


@pytest.fixture
def brand(make):
    return make.brand(slug="acme", locales=("en",), name="Acme")


def test_a_rules_change_is_an_event_named_after_the_rule(ctx, make, brand):
    ticket = make.ticket(brand)
    bot = Bot("rule", 7, "Refunds", brand.id)
    agent_tickets.change_properties(ctx, ticket, bot, {"priority": "high"}, clock.now())
    event = ctx.scalar(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id))
    assert (event.kind, event.new_value) == ("priority", "high")
    assert (event.actor_id, event.actor_name) == (None, "rule Refunds")


def test_a_rules_note_is_written_in_its_name(app, ctx, make, brand):
    ticket = make.ticket(brand)
    bot = Bot("rule", 7, "Refunds", brand.id)
    with app.app_context():
        replies.reply(ctx, bot, ticket, "Routed by rule Refunds", public=False, now=clock.now())
    note = ctx.scalar(select(TicketMessage).where(TicketMessage.ticket_id == ticket.id))
    assert (note.public, note.author_id, note.author_name) == (False, None, "rule Refunds")


def test_a_rule_cannot_change_a_ticket_of_another_brand(ctx, make, brand):
    other = make.ticket(make.brand(slug="other", locales=("en",)))
    bot = Bot("rule", 7, "Refunds", brand.id)
    with pytest.raises(PropertyError):
        agent_tickets.change_properties(ctx, other, bot, {"priority": "high"}, clock.now())
    assert other.priority == "normal"


def test_the_agents_timeline_names_the_rule(client, ctx, make, login, brand):
    agent = login("agent", brands=[brand])
    ticket = make.ticket(brand)
    bot = Bot("schedule", 3, "Close after 4 days", brand.id)
    agent_tickets.change_properties(ctx, ticket, bot, {"status": "closed"}, clock.now())
    ctx.commit()
    page = client.get(f"/agent/tickets/{ticket.id}").get_data(as_text=True)
    assert "schedule Close after 4 days changed the status" in page
    assert agent.name not in page.split("schedule Close after 4 days")[0][-200:]


def test_events_caused_while_one_is_handled_are_handled_after_it(ctx, make, brand, monkeypatch):
    ticket = make.ticket(brand)
    seen = []

    def react(session, event):
        seen.append(event.kind)
        if event.kind == events.TICKET_CREATED:  # a reaction that changes the ticket
            bot = Bot("rule", 1, "Urgent", brand.id)
            agent_tickets.change_properties(session, ticket, bot, {"status": "open"}, event.now)
            agent_tickets.change_properties(session, ticket, bot, {"priority": "high"}, event.now)
            seen.append("reaction done")

    monkeypatch.setattr(events, "_reactions", lambda kind=None: (react,))
    ticket.status = "new"
    events.emit(ctx, events.Event(events.TICKET_CREATED, ticket, None, clock.now()))
    assert seen == ["ticket_created", "reaction done", "status_changed"]
    assert events.chain(ctx).queue == type(events.chain(ctx).queue)()


def test_a_reaction_that_fails_is_undone_and_the_others_still_run(ctx, make, brand, monkeypatch):
    ticket = make.ticket(brand)
    ctx.commit()
    ran = []

    def broken(session, event):
        bot = Bot("rule", 1, "Broken", brand.id)
        agent_tickets.change_properties(
            session, ticket, bot, {"priority": "urgent", "status": "pending"}, event.now
        )
        raise RuntimeError("a bug in a rule")

    def after(session, event):
        ran.append(event.kind)

    monkeypatch.setattr(events, "_reactions", lambda kind=None: (broken, after))
    events.emit(ctx, events.Event(events.CUSTOMER_REPLIED, ticket, None, clock.now()))
    ctx.commit()
    ctx.refresh(ticket)
    assert (ticket.priority, ticket.status) == ("normal", "open")
    assert ran == ["customer_replied"]  # the broken rule's status event was dropped with it
    assert ctx.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id)).all() == []
