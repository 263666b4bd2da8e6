"""The schedule bot: a brand's time-based rules ("pending for 7 days -> solved"), run by the
scheduler leader every few minutes (portal.jobs.schedules_job) or by
`flask automation run-schedules`.

Each schedule has conditions (a status, hours since the ticket was created, updated, changed
status, last heard from the customer or from an agent, counted on the clock or in the brand's
business hours; assigned or not, group, priority, tags) and actions (status, priority, an
internal note, tags, a group with round-robin, a reminder to the requester, a word to a group,
an alert to a webhook). The actions go through the agents' operations as a Bot ("schedule
<name>"), so the ticket's timeline records each.

Exactly once: the tickets are chosen in SQL (the hours on the clock: business hours are never
more, so the clock is a safe first cut), then each ticket is handled in its own short
transaction that first writes a ScheduleFiring (schedule, ticket, anchor: the moment the hours
count from). A second process, or a run again after a crash, meets the unique key and skips;
a ticket whose wait starts again (a new anchor) can fire again. (For speed, tickets go
PER_TRANSACTION to a transaction; a batch that meets another run's firing, or fails, is
rolled back and done again one ticket per transaction.)
"""

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, exists, func, not_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kb.models import Brand
from portal.desk import agent_tickets, assignment, replies, trash
from portal.desk.actors import Bot
from portal.desk.automation import agent_alerts, business_hours, notifications, webhooks
from portal.desk.automation.models import ScheduleFiring, ScheduleRule
from portal.desk.models import (
    TICKET_PRIORITIES,
    TICKET_STATUSES,
    AgentGroup,
    Ticket,
    TicketEvent,
    TicketTag,
)
from portal.security import audit

log = logging.getLogger(__name__)

MAX_NAME = 120
MAX_ROWS = 20
MAX_HOURS = 24 * 366 * 2  # two years
MAX_NOTE = 5000
BATCH = 500  # ticket ids read at a time when looking for earlier firings
PER_TRANSACTION = 20  # tickets acted on in one transaction (one at a time after a conflict)

# The moments the hours count from: condition field -> Ticket column.
HOURS_FIELDS = {
    "hours_since_created": "created_at",
    "hours_since_updated": "updated_at",
    "hours_since_status": "status_changed_at",
    "hours_since_customer": "requester_replied_at",
    "hours_since_agent": "agent_replied_at",
}
CONDITION_FIELDS = (
    "status",
    *HOURS_FIELDS,
    "assignee",
    "group",
    "priority",
    "tags_include",
    "tags_exclude",
)
ACTIONS = (
    "set_status",
    "set_priority",
    "add_note",
    "add_tags",
    "assign_group",
    "remind",
    "notify_group",
    "alert_webhook",
)
ASSIGNEE_VALUES = ("assigned", "unassigned")


class ScheduleError(ValueError):
    """A schedule that cannot be saved: `errors` maps "name", "conditions", "actions",
    "condition-<i>" or "action-<i>" (the row as posted) to a message code."""

    def __init__(self, errors: dict[str, str]):
        super().__init__(", ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class Row:
    """One condition or action as an admin types it: what (`kind`) and a value as text."""

    kind: str
    value: str = ""


# --- rows as typed <-> as stored ---------------------------------------------------------------


def _words(text: str) -> list[str]:
    return [w for w in text.replace(",", " ").split() if w]


def _group_id(session: Session, brand_id: int, text: str) -> int | None:
    text = text.strip()
    for group in assignment.groups_of_brand(session, brand_id):
        if group.name.casefold() == text.casefold() or str(group.id) == text:
            return group.id
    return None


def _target_id(session: Session, brand_id: int, text: str) -> int | None:
    text = text.strip()
    for target in webhooks.targets_of_brand(session, brand_id):
        if str(target.name).casefold() == text.casefold() or str(target.id) == text:
            return target.id
    return None


def _condition(session: Session, brand_id: int, row: Row) -> dict:
    """A typed condition as stored; ValueError(code) when its value is not usable."""
    kind, text = row.kind, row.value.strip()
    if kind not in CONDITION_FIELDS:
        raise ValueError("unknown_condition")
    if kind in ("status", "priority"):
        allowed = TICKET_STATUSES if kind == "status" else TICKET_PRIORITIES
        values = [w.lower() for w in _words(text)]
        if not values or any(v not in allowed for v in values):
            raise ValueError(f"bad_{kind}")
        return {"field": kind, "value": sorted(set(values), key=allowed.index)}
    if kind in HOURS_FIELDS:
        try:
            hours = int(text)
        except ValueError:
            raise ValueError("bad_hours") from None
        if not 1 <= hours <= MAX_HOURS:
            raise ValueError("bad_hours")
        return {"field": kind, "value": hours}
    if kind == "assignee":
        if text.lower() not in ASSIGNEE_VALUES:
            raise ValueError("bad_assignee")
        return {"field": kind, "value": text.lower()}
    if kind == "group":
        group_id = _group_id(session, brand_id, text)
        if group_id is None:
            raise ValueError("bad_group")
        return {"field": kind, "value": group_id}
    tags = sorted({w.lower() for w in _words(text)})
    if not tags or any(len(t) > agent_tickets.MAX_TAG_LENGTH for t in tags):
        raise ValueError("bad_tags")
    return {"field": kind, "value": tags}


def _action(session: Session, brand_id: int, row: Row) -> dict:
    """A typed action as stored; ValueError(code) when its value is not usable."""
    kind, text = row.kind, row.value.strip()
    if kind not in ACTIONS:
        raise ValueError("unknown_action")
    if kind == "set_status":
        if text.lower() not in TICKET_STATUSES:
            raise ValueError("bad_status")
        return {"action": kind, "value": text.lower()}
    if kind == "set_priority":
        if text.lower() not in TICKET_PRIORITIES:
            raise ValueError("bad_priority")
        return {"action": kind, "value": text.lower()}
    if kind == "add_note":
        if not text or len(text) > MAX_NOTE:
            raise ValueError("bad_note")
        return {"action": kind, "value": text}
    if kind == "add_tags":
        tags = sorted({w.lower() for w in _words(text)})
        if not tags or any(len(t) > agent_tickets.MAX_TAG_LENGTH for t in tags):
            raise ValueError("bad_tags")
        return {"action": kind, "value": tags}
    if kind in ("assign_group", "notify_group"):
        group_id = _group_id(session, brand_id, text)
        if group_id is None:
            raise ValueError("bad_group")
        return {"action": kind, "value": group_id}
    if kind == "alert_webhook":
        target_id = _target_id(session, brand_id, text)
        if target_id is None:
            raise ValueError("bad_webhook")
        return {"action": kind, "value": target_id}
    return {"action": kind, "value": None}  # remind


def _checked(session: Session, brand_id: int, name: str, conditions, actions):
    """(name, stored conditions, stored actions) or ScheduleError naming every bad row.
    Blank rows (no kind chosen) are left out."""
    errors = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = "required"
    elif len(name) > MAX_NAME:
        errors["name"] = "too_long"
    stored_conditions, stored_actions = [], []
    for i, row in enumerate(conditions):
        if not row.kind:
            continue
        try:
            stored_conditions.append(_condition(session, brand_id, row))
        except ValueError as e:
            errors[f"condition-{i}"] = str(e)
    for i, row in enumerate(actions):
        if not row.kind:
            continue
        try:
            stored_actions.append(_action(session, brand_id, row))
        except ValueError as e:
            errors[f"action-{i}"] = str(e)
    if len(stored_conditions) > MAX_ROWS:
        errors["conditions"] = "too_many"
    elif not any(c["field"] in HOURS_FIELDS for c in stored_conditions):
        errors.setdefault("conditions", "needs_hours")
    if len(stored_actions) > MAX_ROWS:
        errors["actions"] = "too_many"
    elif not stored_actions:
        errors.setdefault("actions", "actions_required")
    if errors:
        raise ScheduleError(errors)
    return name, stored_conditions, stored_actions


def rows_of(session: Session, schedule: ScheduleRule) -> tuple[list[Row], list[Row]]:
    """The schedule's conditions and actions as an admin types them (for its edit form)."""
    groups = {g.id: g.name for g in assignment.groups_of_brand(session, schedule.brand_id)}
    targets = {t.id: t.name for t in webhooks.targets_of_brand(session, schedule.brand_id)}

    def text(kind, value):
        if kind in ("group", "assign_group", "notify_group"):
            return groups.get(value, str(value))
        if kind == "alert_webhook":
            return targets.get(value, str(value))
        if isinstance(value, list):
            return ", ".join(value)
        return "" if value is None else str(value)

    conditions = [Row(c["field"], text(c["field"], c["value"])) for c in schedule.conditions]
    actions = [Row(a["action"], text(a["action"], a["value"])) for a in schedule.actions]
    return conditions, actions


# --- the admin's operations --------------------------------------------------------------------


def schedules_of(session: Session, brand_id: int) -> list[ScheduleRule]:
    """The brand's schedules, in the order they run."""
    return list(
        session.scalars(
            select(ScheduleRule)
            .where(ScheduleRule.brand_id == brand_id)
            .order_by(ScheduleRule.position, ScheduleRule.id)
        )
    )


def _name_taken(session: Session, brand_id: int, name: str, own_id: int | None) -> bool:
    query = select(ScheduleRule.id).where(
        ScheduleRule.brand_id == brand_id, func.lower(ScheduleRule.name) == name.lower()
    )
    if own_id is not None:
        query = query.where(ScheduleRule.id != own_id)
    return session.scalar(query.limit(1)) is not None


def _record(session, action, schedule, actor, ip, now, details=None) -> None:
    audit.record(
        session,
        action,
        now=now,
        actor=actor,
        target=f"schedule:{schedule.id}",
        target_name=schedule.name,
        brand_id=schedule.brand_id,
        ip=ip,
        details=details,
    )


def create(
    session: Session,
    brand: Brand,
    name: str,
    conditions: list[Row],
    actions: list[Row],
    *,
    business_hours: bool = False,
    active: bool = True,
    actor=None,
    ip: str = "",
    now: datetime,
) -> ScheduleRule:
    """A new schedule, last in the brand's order; ScheduleError for a bad name or row."""
    name, stored_conditions, stored_actions = _checked(session, brand.id, name, conditions, actions)
    if _name_taken(session, brand.id, name, None):
        raise ScheduleError({"name": "name_taken"})
    last = session.scalar(
        select(func.max(ScheduleRule.position)).where(ScheduleRule.brand_id == brand.id)
    )
    schedule = ScheduleRule(
        brand_id=brand.id,
        position=(last or 0) + 1,
        name=name,
        active=active,
        conditions=stored_conditions,
        actions=stored_actions,
        business_hours=business_hours,
        created_at=now,
        updated_at=now,
        created_by_id=getattr(actor, "id", None),
        updated_by_id=getattr(actor, "id", None),
    )
    session.add(schedule)
    session.flush()
    _record(session, "automation.schedule_created", schedule, actor, ip, now)
    return schedule


def change(
    session: Session,
    schedule: ScheduleRule,
    name: str,
    conditions: list[Row],
    actions: list[Row],
    *,
    business_hours: bool,
    active: bool,
    actor=None,
    ip: str = "",
    now: datetime,
) -> ScheduleRule:
    """Save an edited schedule; ScheduleError changes nothing."""
    name, stored_conditions, stored_actions = _checked(
        session, schedule.brand_id, name, conditions, actions
    )
    if _name_taken(session, schedule.brand_id, name, schedule.id):
        raise ScheduleError({"name": "name_taken"})
    schedule.name = name
    schedule.conditions = stored_conditions
    schedule.actions = stored_actions
    schedule.business_hours = business_hours
    schedule.active = active
    schedule.updated_at = now
    schedule.updated_by_id = getattr(actor, "id", None)
    session.flush()
    _record(session, "automation.schedule_changed", schedule, actor, ip, now)
    return schedule


def set_active(
    session: Session, schedule: ScheduleRule, active: bool, *, actor=None, ip: str = "", now
) -> None:
    """Switch a schedule on or off."""
    if schedule.active == active:
        return
    schedule.active = active
    schedule.updated_at = now
    schedule.updated_by_id = getattr(actor, "id", None)
    session.flush()
    _record(session, "automation.schedule_changed", schedule, actor, ip, now, {"active": active})


def move(
    session: Session, schedule: ScheduleRule, step: int, *, actor=None, ip: str = "", now
) -> bool:
    """Move a schedule one place up (-1) or down (+1) in its brand's order; False at an end."""
    ordered = schedules_of(session, schedule.brand_id)
    at = next(i for i, s in enumerate(ordered) if s.id == schedule.id)
    to = at + (1 if step > 0 else -1)
    if not 0 <= to < len(ordered):
        return False
    ordered[at], ordered[to] = ordered[to], ordered[at]
    for position, each in enumerate(ordered, start=1):
        each.position = position
    session.flush()
    _record(session, "automation.schedule_changed", schedule, actor, ip, now, {"position": to + 1})
    return True


def delete(session: Session, schedule: ScheduleRule, *, actor=None, ip: str = "", now) -> None:
    """Delete a schedule (its firings go with it)."""
    _record(session, "automation.schedule_deleted", schedule, actor, ip, now)
    session.execute(
        ScheduleFiring.__table__.delete().where(ScheduleFiring.schedule_id == schedule.id)
    )
    session.delete(schedule)
    session.flush()


# --- the run -----------------------------------------------------------------------------------


@dataclass
class RunSummary:
    """What a run did: tickets acted on (`fired`), found already done by another run or
    process (`skipped`), and checked but not (or no longer) due (`not_due`), per schedule."""

    fired: int = 0
    skipped: int = 0
    not_due: int = 0
    schedules: int = 0
    by_schedule: dict[int, int] = field(default_factory=dict)


@dataclass(frozen=True)
class _Plan:
    """A schedule as read at the start of the run (the ORM row expires at each commit)."""

    id: int
    brand_id: int
    name: str
    conditions: tuple
    actions: tuple
    business_hours: bool

    @property
    def bot(self) -> Bot:
        return Bot("schedule", self.id, self.name, self.brand_id)

    @property
    def clock_columns(self) -> list[str]:
        return [HOURS_FIELDS[c["field"]] for c in self.conditions if c["field"] in HOURS_FIELDS]


def _plans(session: Session) -> list[_Plan]:
    rows = session.scalars(
        select(ScheduleRule)
        .where(ScheduleRule.active.is_(True))
        .order_by(ScheduleRule.brand_id, ScheduleRule.position, ScheduleRule.id)
    )
    return [_plan_of(s) for s in rows]


def _plan_of(s: ScheduleRule) -> _Plan:
    return _Plan(
        s.id,
        s.brand_id,
        s.name,
        tuple(s.conditions or ()),
        tuple(s.actions or ()),
        bool(s.business_hours),
    )


def _where(plan: _Plan, now: datetime) -> list:
    """The plan's conditions in SQL, the hours on the clock (business hours are never more)."""
    where = [Ticket.brand_id == plan.brand_id, trash.live()]
    has_status = False
    for c in plan.conditions:
        kind, value = c["field"], c["value"]
        if kind == "status":
            has_status = True
            where.append(Ticket.status.in_(value))
        elif kind in HOURS_FIELDS:
            column = getattr(Ticket, HOURS_FIELDS[kind])
            where.append(column.is_not(None))
            where.append(column <= now - timedelta(hours=value))
        elif kind == "assignee":
            where.append(
                Ticket.assignee_id.is_(None)
                if value == "unassigned"
                else Ticket.assignee_id.is_not(None)
            )
        elif kind == "group":
            where.append(Ticket.group_id == value)
        elif kind == "priority":
            where.append(Ticket.priority.in_(value))
        elif kind in ("tags_include", "tags_exclude"):
            tagged = exists().where(TicketTag.ticket_id == Ticket.id, TicketTag.tag.in_(value))
            where.append(tagged if kind == "tags_include" else not_(tagged))
    if not has_status:
        where.append(Ticket.status != "closed")  # closed tickets are done with
    return where


def _anchor(plan: _Plan, values) -> datetime:
    """The moment the plan's wait counts from: the latest of its hours' moments."""
    return max(values)


def _due_in_business_hours(plan, calendar, values, now) -> bool:
    hours = [c["value"] for c in plan.conditions if c["field"] in HOURS_FIELDS]
    return all(
        business_hours.hours_between(calendar, start, now) >= need
        for start, need in zip(values, hours, strict=True)
    )


def _due_query(plan: _Plan, now: datetime):
    columns = [getattr(Ticket, name) for name in plan.clock_columns]
    return select(Ticket.id, *columns).where(and_(*_where(plan, now))).order_by(Ticket.id)


def due_query(schedule: ScheduleRule, now: datetime):
    """The query that chooses a schedule's tickets (ticket id and the moments its hours
    count from), on the clock: for EXPLAIN in bench/automation.py and the tests."""
    return _due_query(_plan_of(schedule), now)


def _candidates(session: Session, plan: _Plan, now: datetime, calendar) -> list[tuple]:
    """(ticket id, anchor) of the plan's due tickets not yet fired for that anchor."""
    rows = session.execute(_due_query(plan, now)).all()
    due = []
    for row in rows:
        values = list(row[1:])
        if calendar is not None and not _due_in_business_hours(plan, calendar, values, now):
            continue
        due.append((row[0], _anchor(plan, values)))
    found = []
    for start in range(0, len(due), BATCH):
        chunk = due[start : start + BATCH]
        fired = set(
            session.execute(
                select(ScheduleFiring.ticket_id, ScheduleFiring.anchor).where(
                    ScheduleFiring.schedule_id == plan.id,
                    ScheduleFiring.ticket_id.in_([t for t, _ in chunk]),
                )
            ).all()
        )
        found.extend(item for item in chunk if item not in fired)
    return found


def _still_due(session: Session, plan: _Plan, ticket_id: int, anchor, calendar, now) -> bool:
    """Read again inside the ticket's transaction: still matching, for the same wait."""
    columns = [getattr(Ticket, name) for name in plan.clock_columns]
    row = session.execute(
        select(*columns).where(Ticket.id == ticket_id, *_where(plan, now))
    ).first()
    if row is None or _anchor(plan, list(row)) != anchor:
        return False
    return calendar is None or _due_in_business_hours(plan, calendar, list(row), now)


def _recorded(session, ticket, bot, kind, value, now) -> None:
    """An action that changes no property, on the ticket's timeline."""
    session.add(
        TicketEvent(
            ticket_id=ticket.id,
            actor_id=None,
            actor_name=bot.name[:200],
            kind=kind,
            old_value=None,
            new_value=None if value is None else str(value)[:200],
            created_at=now,
        )
    )


def _act(session: Session, plan: _Plan, ticket: Ticket, now: datetime) -> None:
    """The plan's actions on the ticket, in order, as its Bot. An action the desk refuses
    (PropertyError: a group nobody in it receives tickets, say) is said in a note for agents;
    the others still run."""
    bot = plan.bot
    for action in plan.actions:
        kind, value = action["action"], action["value"]
        try:
            if kind == "set_status":
                agent_tickets.change_properties(session, ticket, bot, {"status": value}, now)
            elif kind == "set_priority":
                agent_tickets.change_properties(session, ticket, bot, {"priority": value}, now)
            elif kind == "add_tags":
                tags = sorted(set(agent_tickets.tags_of(session, ticket)) | set(value))
                agent_tickets.change_properties(session, ticket, bot, {"tags": tags}, now)
            elif kind == "assign_group":
                try:  # (a refused change changes nothing: the group alone, then)
                    agent_tickets.change_properties(
                        session, ticket, bot, {"group_id": value, "assignee_id": "next"}, now
                    )
                except agent_tickets.PropertyError as error:
                    if error.field != "assignee_id":
                        raise
                    agent_tickets.change_properties(session, ticket, bot, {"group_id": value}, now)
            elif kind == "add_note":
                replies.reply(session, bot, ticket, value, public=False, now=now)
            elif kind == "remind":
                sent = notifications.remind(session, ticket, now)
                _recorded(session, ticket, bot, "schedule_reminded", "sent" if sent else "", now)
            elif kind == "notify_group":
                told = agent_alerts.notify_group(session, value, ticket, plan.name, now, actor=bot)
                group = session.get(AgentGroup, value)
                _recorded(
                    session, ticket, bot, "schedule_group_told", group.name if group else told, now
                )
            elif kind == "alert_webhook":
                text = f"{bot.name}: #{ticket.id} {ticket.subject}"
                webhooks.notify(session, value, ticket, "alert", now, text=text)
                _recorded(session, ticket, bot, "schedule_webhook_alerted", value, now)
        except agent_tickets.PropertyError as error:
            replies.system_note(
                session, ticket, f"{bot.name}: {kind} not done ({error.code}).", now
            )


def _fire(session: Session, plan: _Plan, ticket_id: int, anchor, calendar, now) -> str:
    """One ticket in its own transaction: "fired", "skipped" (done by another run or process)
    or "not_due" (changed since it was chosen). Anything unexpected is rolled back and raised:
    the run stops there, and the next run does this ticket and the rest, once."""
    try:
        # The first write of the transaction: it takes SQLite's write lock before any read
        # (no stale snapshot), and on PostgreSQL waits for a concurrent insert of the same key.
        session.add(
            ScheduleFiring(schedule_id=plan.id, ticket_id=ticket_id, anchor=anchor, fired_at=now)
        )
        session.flush()
    except IntegrityError:
        session.rollback()
        return "skipped"
    try:
        if not _still_due(session, plan, ticket_id, anchor, calendar, now):
            session.rollback()
            return "not_due"
        ticket = session.get(Ticket, ticket_id, populate_existing=True)
        _act(session, plan, ticket, now)
        session.commit()
    except Exception:
        session.rollback()
        raise
    return "fired"


def _fire_together(session: Session, plan: _Plan, batch, calendar, now) -> list[str] | None:
    """A few tickets in one transaction (fewer commits), each as _fire does it; None, with
    everything rolled back, when one met a firing of another run or process, or failed:
    the caller then does them one at a time."""
    outcomes = []
    try:
        for ticket_id, anchor in batch:
            firing = ScheduleFiring(
                schedule_id=plan.id, ticket_id=ticket_id, anchor=anchor, fired_at=now
            )
            session.add(firing)
            session.flush()
            if not _still_due(session, plan, ticket_id, anchor, calendar, now):
                session.delete(firing)
                session.flush()
                outcomes.append("not_due")
                continue
            ticket = session.get(Ticket, ticket_id, populate_existing=True)
            _act(session, plan, ticket, now)
            outcomes.append("fired")
        session.commit()
    except Exception:  # (a unique key met, a deadlock broken, an action failing)
        session.rollback()
        return None
    return outcomes


def run_schedules(session: Session, now: datetime) -> RunSummary:
    """Run every brand's active schedules, in order, over the tickets due now: each ticket
    acted on in its own committed transaction, at most once per schedule and wait."""
    summary = RunSummary()
    plans = _plans(session)
    calendars = {}
    for plan in plans:
        calendar = None
        if plan.business_hours:
            if plan.brand_id not in calendars:
                brand = session.get(Brand, plan.brand_id)
                calendars[plan.brand_id] = business_hours.calendar_for(session, brand)
            calendar = calendars[plan.brand_id]
        if not plan.clock_columns or not plan.actions:
            continue
        summary.schedules += 1
        due = _candidates(session, plan, now, calendar)
        session.rollback()  # end the read: each ticket's transaction starts with its write
        for start in range(0, len(due), PER_TRANSACTION):
            batch = due[start : start + PER_TRANSACTION]
            outcomes = _fire_together(session, plan, batch, calendar, now)
            if outcomes is None:  # met another run, or failed: one ticket at a time
                outcomes = [_fire(session, plan, t, anchor, calendar, now) for t, anchor in batch]
            for outcome in outcomes:
                setattr(summary, outcome, getattr(summary, outcome) + 1)
                if outcome == "fired":
                    summary.by_schedule[plan.id] = summary.by_schedule.get(plan.id, 0) + 1
    session.rollback()
    return summary


def firings_of(session: Session, ticket_id: int) -> int:
    """How many times schedules acted on a ticket (for tests and the agents' curiosity)."""
    return session.scalar(
        select(func.count())
        .select_from(ScheduleFiring)
        .where(ScheduleFiring.ticket_id == ticket_id)
    )
