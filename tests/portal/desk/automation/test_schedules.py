"""The schedule bot: time jumps with the scheduler's clock, once per ticket and wait (also with
two processes at once, and after a run that stopped half way), the timestamps it counts from."""

import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from kb import clock
from portal.desk import agent_tickets, replies, trash
from portal.desk.automation import notifications, schedules, webhooks
from portal.desk.automation.models import (
    AgentNotice,
    BusinessHours,
    ScheduleFiring,
    WebhookDelivery,
)
from portal.desk.automation.schedules import Row, ScheduleError
from portal.desk.models import (
    AgentGroup,
    AgentGroupMember,
    OutboxMail,
    Ticket,
    TicketEvent,
    TicketMessage,
)

WORKER = Path(__file__).with_name("schedules_worker.py")
ROOT = Path(__file__).resolve().parents[4]
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday


@pytest.fixture(autouse=True)
def app_ctx(app):
    """Mail needs the app (its secret for private links, its URLs)."""
    with app.app_context():
        yield


@pytest.fixture
def brand(make):
    return make.brand(locales=("en",))


@pytest.fixture
def agent(make, brand):
    return make.user("agent", brands=(brand,))


def at(when: datetime) -> datetime:
    clock.freeze(when)
    return when


def solve_and_close(ctx, brand):
    """The demo's pair: solve what waits 7 days on the customer, close 4 days after solved."""
    solve = schedules.create(
        ctx,
        brand,
        "Solve after 7 days",
        [Row("status", "pending"), Row("hours_since_agent", "168")],
        [Row("set_status", "solved"), Row("add_note", "Solved: no answer for 7 days.")],
        now=clock.now(),
    )
    close = schedules.create(
        ctx,
        brand,
        "Close after 4 days",
        [Row("status", "solved"), Row("hours_since_status", "96")],
        [Row("set_status", "closed")],
        now=clock.now(),
    )
    ctx.commit()
    return solve, close


def run(ctx):
    summary = schedules.run_schedules(ctx, clock.now())
    ctx.expire_all()
    return summary


def events(ctx, ticket, kind):
    return ctx.scalars(
        select(TicketEvent)
        .where(TicketEvent.ticket_id == ticket.id, TicketEvent.kind == kind)
        .order_by(TicketEvent.id)
    ).all()


def notes(ctx, ticket):
    return ctx.scalars(
        select(TicketMessage.body).where(
            TicketMessage.ticket_id == ticket.id, TicketMessage.public.is_(False)
        )
    ).all()


def answered(ctx, make, brand, agent, when):
    """A request answered by an agent at `when` (pending)."""
    at(when - timedelta(hours=1))
    ticket = make.ticket(brand, created_at=clock.now(), updated_at=clock.now())
    at(when)
    replies.reply(ctx, agent, ticket, "Could you send a screenshot?", public=True, now=when)
    ctx.commit()
    return ticket


# --- time jumps ------------------------------------------------------------------------------


def test_a_pending_ticket_is_solved_after_7_days_and_closed_4_days_later(ctx, make, brand, agent):
    at(START)
    solve_and_close(ctx, brand)
    ticket = answered(ctx, make, brand, agent, START)
    assert ticket.status == "pending"

    at(START + timedelta(days=6, hours=23))
    assert run(ctx).fired == 0
    assert ctx.get(Ticket, ticket.id).status == "pending"

    at(START + timedelta(days=7, minutes=5))
    summary = run(ctx)
    assert (summary.fired, summary.schedules) == (1, 2)
    ticket = ctx.get(Ticket, ticket.id)
    assert ticket.status == "solved"
    [solved] = events(ctx, ticket, "status")[1:]
    assert (solved.old_value, solved.new_value) == ("pending", "solved")
    assert solved.actor_name == "schedule Solve after 7 days" and solved.actor_id is None
    assert notes(ctx, ticket) == ["Solved: no answer for 7 days."]

    at(START + timedelta(days=7, minutes=10))  # the next runs: nothing again
    assert run(ctx).fired == 0
    at(START + timedelta(days=11, minutes=4))
    assert run(ctx).fired == 0
    at(START + timedelta(days=11, minutes=6))
    assert run(ctx).fired == 1
    ticket = ctx.get(Ticket, ticket.id)
    assert ticket.status == "closed"
    assert events(ctx, ticket, "status")[-1].actor_name == "schedule Close after 4 days"
    at(START + timedelta(days=30))
    assert run(ctx).fired == 0
    assert notes(ctx, ticket) == ["Solved: no answer for 7 days."]


def test_a_customer_reply_in_between_starts_the_count_again(ctx, make, brand, agent):
    at(START)
    solve_and_close(ctx, brand)
    ticket = answered(ctx, make, brand, agent, START)

    at(START + timedelta(days=5))
    replies.reply(ctx, replies.Requester(), ticket, "Here it is.", public=True, now=clock.now())
    ctx.commit()
    assert ticket.status == "open"
    assert ticket.requester_replied_at == clock.now() == ticket.status_changed_at
    at(START + timedelta(days=6))
    replies.reply(ctx, agent, ticket, "Thanks, fixed?", public=True, now=clock.now())
    ctx.commit()

    at(START + timedelta(days=7, hours=1))  # 7 days after the first answer: not now
    assert run(ctx).fired == 0
    at(START + timedelta(days=13, hours=1))  # 7 days after the second one
    assert run(ctx).fired == 1
    assert ctx.get(Ticket, ticket.id).status == "solved"


def test_a_wait_that_starts_again_fires_again(ctx, make, brand, agent):
    at(START)
    schedules.create(
        ctx,
        brand,
        "Nudge",
        [Row("status", "pending"), Row("hours_since_agent", "24")],
        [Row("add_note", "Still waiting on the customer.")],
        now=clock.now(),
    )
    ctx.commit()
    ticket = answered(ctx, make, brand, agent, START)
    at(START + timedelta(days=1, minutes=1))
    assert run(ctx).fired == 1
    at(START + timedelta(days=1, minutes=6))
    assert run(ctx).fired == 0
    replies.reply(ctx, agent, ticket, "Any news?", public=True, now=clock.now())
    ctx.commit()
    at(START + timedelta(days=2, minutes=7))
    assert run(ctx).fired == 1
    assert len(notes(ctx, ticket)) == 2
    assert ctx.scalar(select(func.count()).select_from(ScheduleFiring)) == 2


def test_hours_counted_in_business_hours(ctx, make, brand, agent):
    at(START)
    brand.timezone = "UTC"
    ctx.add(BusinessHours(brand_id=brand.id, week={str(d): [["09:00", "18:00"]] for d in range(5)}))
    schedules.create(
        ctx,
        brand,
        "A working day",
        [Row("status", "pending"), Row("hours_since_agent", "9")],
        [Row("set_priority", "high")],
        business_hours=True,
        now=clock.now(),
    )
    ctx.commit()
    friday_evening = START + timedelta(days=4, hours=9)  # Friday 18:00 (brand zone UTC)
    ticket = answered(ctx, make, brand, agent, friday_evening)
    at(START + timedelta(days=7, hours=8))  # Monday 17:00: 63 clock hours, 8 working hours
    assert run(ctx).fired == 0
    at(START + timedelta(days=7, hours=9, minutes=1))  # Monday 18:01: 9 working hours
    assert run(ctx).fired == 1
    assert ctx.get(Ticket, ticket.id).priority == "high"


# --- conditions and actions ------------------------------------------------------------------


def test_conditions_on_assignment_group_priority_and_tags(ctx, make, brand, agent):
    at(START)
    group = AgentGroup(brand_id=brand.id, name="Billing")
    ctx.add(group)
    ctx.flush()
    ctx.add(AgentGroupMember(group_id=group.id, user_id=agent.id))
    ctx.commit()
    schedules.create(
        ctx,
        brand,
        "Urgent unassigned billing",
        [
            Row("status", "new, open"),
            Row("hours_since_created", "2"),
            Row("assignee", "unassigned"),
            Row("group", "billing"),
            Row("priority", "high urgent"),
            Row("tags_include", "vip"),
            Row("tags_exclude", "spam"),
        ],
        [
            Row("add_tags", "escalated"),
            Row("set_priority", "urgent"),
            Row("assign_group", "Billing"),
        ],
        now=clock.now(),
    )
    ctx.commit()
    base = {"group_id": group.id, "priority": "high", "status": "new"}
    due = make.ticket(brand, **base)
    others = [
        make.ticket(brand, **{**base, "assignee_id": agent.id}),
        make.ticket(brand, **{**base, "priority": "normal"}),
        make.ticket(brand, **{**base, "group_id": None}),
        make.ticket(brand, **{**base, "status": "pending"}),
        make.ticket(brand, **base),  # spam
        make.ticket(brand, **base),  # no vip tag
        make.ticket(make.brand(locales=("en",)), **{**base, "group_id": None}),
    ]
    trashed = make.ticket(brand, **base)
    for ticket in [due, *others[:4], others[4], trashed]:
        agent_tickets.change_properties(ctx, ticket, agent, {"tags": ["vip"]}, clock.now())
    agent_tickets.change_properties(ctx, others[4], agent, {"tags": ["vip", "spam"]}, clock.now())
    trash.trash(ctx, agent, trashed, now=clock.now())
    ctx.commit()

    at(START + timedelta(hours=1, minutes=59))
    assert run(ctx).fired == 0
    at(START + timedelta(hours=2))
    assert run(ctx).fired == 1
    due = ctx.get(Ticket, due.id)
    assert (due.priority, due.assignee_id) == ("urgent", agent.id)
    assert agent_tickets.tags_of(ctx, due) == ["escalated", "vip"]
    assert all(
        e.actor_name == "schedule Urgent unassigned billing" for e in events(ctx, due, "assignee")
    )
    for ticket in [*others, trashed]:
        assert schedules.firings_of(ctx, ticket.id) == 0


def test_remind_notify_and_alert_reach_the_requester_the_group_and_the_webhook(
    ctx, make, brand, agent
):
    at(START)
    colleague = make.user("agent", brands=(brand,), name="Colleague")
    group = AgentGroup(brand_id=brand.id, name="Support")
    ctx.add(group)
    ctx.flush()
    ctx.add(AgentGroupMember(group_id=group.id, user_id=colleague.id))
    notifications.switch(ctx, brand, "pending_reminder", True, actor=None, now=clock.now())
    settings = webhooks.TargetSettings(
        name="Team chat",
        kind="signed",
        url="http://127.0.0.1:9/hook",
        chat_id=None,
        events=("alert",),
        active=True,
        allow_private=True,
    )
    target, _secret = webhooks.save_target(ctx, None, brand, None, settings, clock.now(), "k")
    schedules.create(
        ctx,
        brand,
        "Chase",
        [Row("status", "pending"), Row("hours_since_status", "72")],
        [Row("remind"), Row("notify_group", "Support"), Row("alert_webhook", "team chat")],
        now=clock.now(),
    )
    ctx.commit()
    ticket = answered(ctx, make, brand, agent, START)
    reply_mails = ctx.scalar(select(func.count(OutboxMail.id)))
    at(START + timedelta(days=3))
    assert run(ctx).fired == 1

    [reminder] = ctx.scalars(select(OutboxMail).order_by(OutboxMail.id).offset(reply_mails)).all()
    assert reminder.recipient == ticket.requester_email
    assert reminder.headers.get("Auto-Submitted") == "auto-generated"
    [notice] = ctx.scalars(select(AgentNotice).where(AgentNotice.ticket_id == ticket.id)).all()
    assert (notice.user_id, notice.kind, notice.actor_name) == (
        colleague.id,
        "group_alert",
        "schedule Chase",
    )
    [delivery] = ctx.scalars(select(WebhookDelivery)).all()
    assert (delivery.target_id, delivery.event, delivery.ticket_id) == (
        target.id,
        "alert",
        ticket.id,
    )
    assert f"schedule Chase: #{ticket.id} Card declined" in str(delivery.payload)
    kinds = [e.kind for e in events(ctx, ticket, "schedule_reminded")]
    kinds += [e.kind for e in events(ctx, ticket, "schedule_group_told")]
    kinds += [e.kind for e in events(ctx, ticket, "schedule_webhook_alerted")]
    assert kinds == ["schedule_reminded", "schedule_group_told", "schedule_webhook_alerted"]


def test_an_action_the_desk_refuses_is_said_in_a_note_and_the_rest_still_run(
    ctx, make, brand, agent
):
    at(START)
    group = AgentGroup(brand_id=brand.id, name="Empty")
    ctx.add(group)
    ctx.commit()
    schedules.create(
        ctx,
        brand,
        "Route",
        [Row("status", "open"), Row("hours_since_updated", "1")],
        [Row("assign_group", "Empty"), Row("set_priority", "low")],
        now=clock.now(),
    )
    ctx.commit()
    ticket = make.ticket(brand)
    at(START + timedelta(hours=1))
    assert run(ctx).fired == 1
    ticket = ctx.get(Ticket, ticket.id)
    assert (ticket.group_id, ticket.assignee_id, ticket.priority) == (group.id, None, "low")


def test_bad_rows_are_named_and_nothing_is_saved(ctx, make, brand):
    at(START)
    with pytest.raises(ScheduleError) as caught:
        schedules.create(
            ctx,
            brand,
            "",
            [Row("status", "waiting"), Row(""), Row("hours_since_agent", "soon")],
            [Row("set_status", "done"), Row("assign_group", "Nobody")],
            now=clock.now(),
        )
    assert caught.value.errors == {
        "name": "required",
        "condition-0": "bad_status",
        "condition-2": "bad_hours",
        "action-0": "bad_status",
        "action-1": "bad_group",
        "conditions": "needs_hours",
        "actions": "actions_required",
    }
    solve_and_close(ctx, brand)
    with pytest.raises(ScheduleError) as caught:
        schedules.create(
            ctx,
            brand,
            "solve after 7 days",
            [Row("hours_since_created", "1")],
            [Row("remind")],
            now=clock.now(),
        )
    assert caught.value.errors == {"name": "name_taken"}


def test_move_and_switch_off(ctx, brand):
    at(START)
    solve, close = solve_and_close(ctx, brand)
    assert schedules.move(ctx, close, -1, now=clock.now())
    assert [s.name for s in schedules.schedules_of(ctx, brand.id)] == [close.name, solve.name]
    assert not schedules.move(ctx, close, -1, now=clock.now())
    schedules.set_active(ctx, close, False, now=clock.now())
    ctx.commit()
    assert run(ctx).schedules == 1


# --- the timestamps it counts from -----------------------------------------------------------


def test_the_operations_keep_the_timestamps(ctx, make, brand, agent):
    created = at(START)
    ticket = make.ticket(brand)
    later = at(START + timedelta(hours=1))
    agent_tickets.change_properties(ctx, ticket, agent, {"priority": "high"}, later)
    assert ticket.status_changed_at == created
    replies.reply(ctx, agent, ticket, "A note", public=False, now=later)
    assert ticket.agent_replied_at is None
    replied = at(START + timedelta(hours=2))
    replies.reply(ctx, agent, ticket, "An answer", public=True, now=replied)
    assert ticket.agent_replied_at == replied == ticket.status_changed_at
    assert ticket.requester_replied_at == created
    back = at(START + timedelta(hours=3))
    replies.reply(ctx, replies.Requester(), ticket, "Thanks", public=True, now=back)
    assert ticket.requester_replied_at == back == ticket.status_changed_at
    assert ticket.status == "open"
    ctx.commit()


# --- exactly once ----------------------------------------------------------------------------


def many_pending(ctx, make, brand, agent, count):
    at(START)
    solve_and_close(ctx, brand)
    return [answered(ctx, make, brand, agent, START) for _ in range(count)]


def assert_each_once(ctx, tickets):
    ctx.expire_all()
    for ticket in tickets:
        ticket = ctx.get(Ticket, ticket.id)
        assert ticket.status == "solved"
        assert [e.new_value for e in events(ctx, ticket, "status")] == ["pending", "solved"]
        assert notes(ctx, ticket) == ["Solved: no answer for 7 days."]
        assert schedules.firings_of(ctx, ticket.id) == 1


def test_a_run_that_stops_half_way_is_finished_by_the_next_once(
    ctx, make, brand, agent, monkeypatch
):
    tickets = many_pending(ctx, make, brand, agent, 6)
    at(START + timedelta(days=8))
    real = replies.reply

    def failing(session, actor, ticket, *args, **kwargs):
        if ticket.id == tickets[3].id:
            raise RuntimeError("the process dies here")
        return real(session, actor, ticket, *args, **kwargs)

    monkeypatch.setattr(replies, "reply", failing)
    with pytest.raises(RuntimeError):
        run(ctx)
    ctx.expire_all()
    assert [ctx.get(Ticket, t.id).status for t in tickets] == ["solved"] * 3 + ["pending"] * 3
    assert schedules.firings_of(ctx, tickets[3].id) == 0  # rolled back with its actions
    monkeypatch.setattr(replies, "reply", real)
    assert run(ctx).fired == 3
    assert_each_once(ctx, tickets)


def test_two_processes_at_once_act_on_each_ticket_once(app, ctx, make, brand, agent, tmp_path):
    tickets = many_pending(ctx, make, brand, agent, 40)
    now = START + timedelta(days=8)
    start_at = time.time() + 10  # both processes up by then, even on a busy machine
    procs = []
    for name in ("a", "b"):
        instance = tmp_path / name
        instance.mkdir()
        procs.append(
            subprocess.Popen(
                [
                    sys.executable,
                    str(WORKER),
                    str(instance),
                    app.config["DATABASE_URL"],
                    now.isoformat(),
                    str(start_at),
                ],
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    outputs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), outputs
    counts = [tuple(int(n) for n in out.split()) for out, _ in outputs]
    print("fired, skipped, not due per process:", counts)
    assert sum(fired for fired, _, _ in counts) == 40, counts
    assert_each_once(ctx, tickets)


def test_the_command_runs_the_schedules(app, ctx, make, brand, agent):
    tickets = many_pending(ctx, make, brand, agent, 2)
    at(START + timedelta(days=8))
    result = CliRunner().invoke(app.cli, ["automation", "run-schedules"])
    assert result.exit_code == 0, result.output
    assert "2 schedule(s) run: 2 ticket(s) acted on" in result.output
    assert_each_once(ctx, tickets)


def test_the_leader_runs_the_schedules_every_five_minutes_and_a_follower_never(
    app, ctx, make, brand, agent
):
    from kb import publishing
    from portal import jobs

    tickets = many_pending(ctx, make, brand, agent, 1)
    clock.freeze(None)  # the lease lives on the real clock
    leader, follower = jobs.Leader(app), jobs.Leader(app)
    try:
        assert leader.tick() and not follower.tick()
        planned = {job.id: job for job in leader.scheduler.get_jobs()}
        job = planned[jobs.SCHEDULES_JOB]
        assert (
            job.trigger.interval
            == timedelta(seconds=jobs.SCHEDULES_SECONDS)
            == timedelta(minutes=5)
        )
        assert job.args == (leader.holder,)
        assert follower.run_schedules() is None
        # Months after START: due. The job's own first run (at once, in the scheduler's
        # thread) may have done it already: once either way.
        assert isinstance(leader.run_schedules(), schedules.RunSummary)
    finally:
        leader.stop()
        follower.stop()
    assert publishing.lease_holder(ctx, publishing.LEASE, clock.now()) is None
    assert_each_once(ctx, tickets)
