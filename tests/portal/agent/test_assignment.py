"""Groups, assignment rules and round-robin: who a new ticket goes to, "receive tickets", the
"my groups" queue, and round-robin under concurrency (run on PostgreSQL by `make test` too)."""

import re
import threading
from collections import Counter

import pytest
from sqlalchemy import select

from kb import clock
from portal.desk import assignment, intake
from portal.desk.models import AgentGroup, InquiryForm, RoutingRule, Ticket, TicketEvent
from portal.extensions import db
from tests.conftest import PASSWORD


@pytest.fixture
def brand(make):
    return make.brand(slug="acme", locales=("en",), name="Acme")


@pytest.fixture
def other_brand(make):
    return make.brand(slug="beta", locales=("en",), name="Beta")


@pytest.fixture
def form(make, brand):
    form = InquiryForm(brand_id=brand.id, names={"en": "Billing"}, descriptions={})
    make.session.add(form)
    make.session.commit()
    return form


def agents(make, brand, *names):
    return [make.user(role="agent", brands=[brand], name=n, password=PASSWORD) for n in names]


def group_of(ctx, brand, name, members):
    group = assignment.save_group(ctx, None, brand.id, name, [m.id for m in members])
    ctx.commit()
    return group


_APP = []  # the app, for the "received" mail a new ticket queues (its secret, its URLs)


@pytest.fixture(autouse=True)
def _app_for_mail(app):
    _APP[:] = [app]


def submit(session, form, subject="Help"):
    """A ticket sent through the form, as intake makes it (with its "received" mail)."""
    sub = intake.Submission(
        name="Mina", email="mina@example.com", subject=subject, description="Please help."
    )
    with _APP[0].app_context():
        ticket, made = intake.create_ticket(
            session,
            form=form,
            locale="en",
            sub=sub,
            answers=[],
            requester_id=None,
            details={},
            submission_key=f"key-{subject}",
            now=clock.now(),
        )
    assert made
    return ticket


def test_round_robin_takes_turns_and_skips_who_does_not_receive_tickets(ctx, make, brand, form):
    ann, bo, cy = agents(make, brand, "Ann", "Bo", "Cy")
    bo.receives_tickets = False
    group = group_of(ctx, brand, "Billing", [ann, bo, cy])
    assignment.set_rule(ctx, brand.id, None, f"group:{group.id}")
    ctx.commit()
    got = [submit(ctx, form, f"T{n}").assignee_id for n in range(5)]
    assert got == [ann.id, cy.id, ann.id, cy.id, ann.id]
    ticket = ctx.scalar(select(Ticket).where(Ticket.subject == "T0"))
    assert ticket.group_id == group.id
    events = ctx.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id)).all()
    assert {(e.kind, e.new_value, e.actor_id) for e in events} == {
        ("group", "Billing", None),
        ("assignee", "Ann", None),
    }
    # Back from vacation: Bo's turn comes after Ann's.
    bo.receives_tickets = True
    ctx.commit()
    assert submit(ctx, form, "T5").assignee_id == bo.id
    assert submit(ctx, form, "T6").assignee_id == cy.id
    assert submit(ctx, form, "T7").assignee_id == ann.id


def test_a_forms_rule_wins_over_the_brands(ctx, make, brand, form):
    ann, bo = agents(make, brand, "Ann", "Bo")
    assignment.set_rule(ctx, brand.id, None, f"agent:{ann.id}")
    assignment.set_rule(ctx, brand.id, form.id, f"agent:{bo.id}")
    ctx.commit()
    assert submit(ctx, form, "A").assignee_id == bo.id
    assignment.set_rule(ctx, brand.id, form.id, "")  # the form goes back to the brand's rule
    ctx.commit()
    assert submit(ctx, form, "B").assignee_id == ann.id
    assert ctx.scalar(select(RoutingRule).where(RoutingRule.form_key == form.id)) is None


def test_an_agent_on_vacation_is_not_given_tickets_by_a_rule(ctx, make, brand, form):
    ann, bo = agents(make, brand, "Ann", "Bo")
    group = group_of(ctx, brand, "Front line", [bo])
    assignment.set_rule(ctx, brand.id, None, f"agent:{ann.id}")
    ann.receives_tickets = False
    ctx.commit()
    assert submit(ctx, form, "A").assignee_id is None
    rule = assignment.rule_for(ctx, brand.id, None)
    rule.group_id = group.id  # the agent, with their group behind them
    ctx.commit()
    ticket = submit(ctx, form, "B")
    assert (ticket.assignee_id, ticket.group_id) == (bo.id, group.id)


def test_rules_and_groups_stay_inside_their_brand(ctx, make, brand, other_brand, form):
    (ann,) = agents(make, brand, "Ann")
    (zed,) = agents(make, other_brand, "Zed")
    theirs = group_of(ctx, other_brand, "Theirs", [zed])
    for target in (f"group:{theirs.id}", f"agent:{zed.id}", "agent:x", "nobody:1"):
        with pytest.raises(assignment.GroupError):
            assignment.set_rule(ctx, brand.id, None, target)
    with pytest.raises(assignment.GroupError) as error:
        assignment.save_group(ctx, None, brand.id, "Mixed", [ann.id, zed.id])
    assert error.value.code == "not_agent"
    group_of(ctx, brand, "Billing", [ann])
    with pytest.raises(assignment.GroupError) as error:
        assignment.save_group(ctx, None, brand.id, " billing ", [])
    assert error.value.code == "name_taken"


def test_parallel_tickets_are_shared_out_evenly_and_each_gets_one_agent(app, ctx, make, brand):
    members = agents(make, brand, "Ann", "Bo", "Cy")
    group = group_of(ctx, brand, "Billing", members)
    assignment.set_rule(ctx, brand.id, None, f"group:{group.id}")
    form = InquiryForm(brand_id=brand.id, names={"en": "Billing"}, descriptions={})
    ctx.add(form)
    ctx.commit()
    form_id = form.id
    errors = []
    start = threading.Barrier(12)

    def send(worker):
        try:
            with app.app_context():
                start.wait()
                for n in range(5):
                    submit(db.session, db.session.get(InquiryForm, form_id), f"W{worker}-{n}")
                db.session.remove()
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=send, args=(w,)) for w in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    ctx.expire_all()
    assigned = ctx.scalars(select(Ticket.assignee_id)).all()
    assert len(assigned) == 60
    assert Counter(assigned) == {m.id: 20 for m in members}
    events = ctx.scalars(select(TicketEvent).where(TicketEvent.kind == "assignee")).all()
    assert len(events) == 60  # one assignee each, never two


# --- pages ------------------------------------------------------------------------------------


def test_admins_make_groups_and_rules_on_pages(client, ctx, make, login, brand, form):
    ann, bo = agents(make, brand, "Ann", "Bo")
    login(role="admin")
    page = client.get("/admin/groups")
    assert page.status_code == 200 and "Acme" in page.get_data(as_text=True)
    empty = client.post(f"/admin/groups/new?brand={brand.id}", data={"name": " "})
    assert empty.status_code == 400
    assert "Give the group a name." in empty.get_data(as_text=True)
    made = client.post(
        f"/admin/groups/new?brand={brand.id}",
        data={"name": "Billing", "members": [str(ann.id), str(bo.id)]},
    )
    assert made.status_code == 303
    group = ctx.scalar(select(AgentGroup))
    assert [u.name for u in assignment.members(ctx, group)] == ["Ann", "Bo"]
    again = client.post(
        f"/admin/groups/new?brand={brand.id}", data={"name": "billing", "members": [str(ann.id)]}
    )
    assert "This brand already has a group with this name." in again.get_data(as_text=True)
    assert 'value="billing"' in again.get_data(as_text=True)  # what was typed is kept

    bad = client.post(
        f"/admin/routing/{brand.id}", data={"target-0": "group:999999", f"target-{form.id}": ""}
    )
    assert bad.status_code == 400
    assert "Choose one of the listed agents or groups." in bad.get_data(as_text=True)
    saved = client.post(
        f"/admin/routing/{brand.id}",
        data={"target-0": f"group:{group.id}", f"target-{form.id}": f"agent:{bo.id}"},
    )
    assert saved.status_code == 303
    html = client.get("/admin/groups").get_data(as_text=True)
    assert re.search(rf'value="group:{group.id}" selected', html)
    assert re.search(rf'value="agent:{bo.id}" selected', html)
    assert submit(ctx, form, "X").assignee_id == bo.id

    gone = client.post(f"/admin/groups/{group.id}/delete")
    assert gone.status_code == 303
    assert ctx.scalar(select(RoutingRule).where(RoutingRule.form_key == 0)) is None


def test_groups_pages_are_for_admins_only(client, make, login, brand):
    login(role="editor", brands=[brand])
    assert client.get("/admin/groups").status_code == 403
    assert client.post(f"/admin/routing/{brand.id}", data={"target-0": ""}).status_code == 403


def test_my_groups_queue_and_receiving_tickets(client, ctx, make, brand, form):
    ann, bo = agents(make, brand, "Ann", "Bo")
    group = group_of(ctx, brand, "Billing", [ann])
    assignment.set_rule(ctx, brand.id, None, f"group:{group.id}")
    ctx.commit()
    routed = submit(ctx, form, "Refund for order 77")
    client.post("/login", data={"email": ann.email, "password": PASSWORD})
    page = client.get(f"/agent/tickets/{routed.id}").get_data(as_text=True)
    assert "Assignment rules put the ticket in group Billing" in page
    assert "Assignment rules assigned the ticket to Ann" in page
    queue = client.get("/agent/?queue=groups").get_data(as_text=True)
    assert "Refund for order 77" in queue
    me = client.get("/agent/me").get_data(as_text=True)
    assert "My groups: Billing (Acme)." in me  # with the brand: groups of brands share names
    same = client.post("/agent/me/availability", data={"receives_tickets": "1"})
    assert "Nothing changed." in client.get(same.headers["Location"]).get_data(as_text=True)
    off = client.post("/agent/me/availability", data={})
    assert off.status_code == 303
    page = client.get(off.headers["Location"]).get_data(as_text=True)
    assert "You no longer receive new tickets from round-robin." in page
    ctx.refresh(ann)
    assert ann.receives_tickets is False
    assert submit(ctx, form, "Second").assignee_id is None  # Ann is the group's only member
    on = client.post("/agent/me/availability", data={"receives_tickets": "1"})
    assert "You receive new tickets again." in client.get(on.headers["Location"]).get_data(
        as_text=True
    )
    ctx.refresh(ann)
    assert ann.receives_tickets is True


def test_an_agent_moves_a_ticket_to_a_group_and_its_next_agent(client, ctx, make, brand, form):
    ann, bo = agents(make, brand, "Ann", "Bo")
    group = group_of(ctx, brand, "Second line", [bo])
    ticket = submit(ctx, form, "Printer on fire")
    client.post("/login", data={"email": ann.email, "password": PASSWORD})
    page = client.get(f"/agent/tickets/{ticket.id}").get_data(as_text=True)
    assert "Second line" in page and "Next agent of the group (round-robin)" in page
    moved = client.post(
        f"/agent/tickets/{ticket.id}/properties",
        data={"status": "open", "priority": "normal", "group": str(group.id), "assignee": "next"},
    )
    assert moved.status_code == 303
    ctx.refresh(ticket)
    assert (ticket.group_id, ticket.assignee_id) == (group.id, bo.id)
    bo.receives_tickets = False
    ctx.commit()
    refused = client.post(
        f"/agent/tickets/{ticket.id}/properties",
        data={"status": "open", "priority": "normal", "group": str(group.id), "assignee": "next"},
    )
    assert refused.status_code == 422
    assert "Nobody in this ticket&#39;s group receives tickets" in refused.get_data(as_text=True)
    no_group = client.post(
        f"/agent/tickets/{ticket.id}/properties",
        data={"status": "open", "priority": "normal", "group": "", "assignee": "next"},
    )
    assert no_group.status_code == 422
    assert "Choose a group for the next agent of the group" in no_group.get_data(as_text=True)


def test_a_refusal_answered_by_htmx_clears_the_pages_earlier_messages(
    client, ctx, make, brand, form
):
    """ "Ticket updated." from the last save must not stand above this save's error."""
    (ann,) = agents(make, brand, "Ann")
    ticket = submit(ctx, form, "Printer")
    client.post("/login", data={"email": ann.email, "password": PASSWORD})
    refused = client.post(
        f"/agent/tickets/{ticket.id}/properties",
        data={"status": "open", "priority": "normal", "group": "", "assignee": "next"},
        headers={"HX-Request": "true"},
    )
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert '<div class="flashes" id="flashes" hx-swap-oob="true"></div>' in html
    assert "<html" not in html
