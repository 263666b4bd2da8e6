"""Who works a ticket: groups of agents, the rules that route new tickets (per brand, or per
form), and round-robin inside a group among the members who receive tickets.

Round-robin holds under concurrency: the group's row is written before its turn is read, so
PostgreSQL's row lock (SQLite's write lock) makes parallel picks queue until the one before
commits, and each continues after the member the previous one chose: nobody is skipped and a
ticket gets one assignee.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from kb import clock
from kb.people import User
from portal.desk.models import (
    AgentGroup,
    AgentGroupMember,
    InquiryForm,
    RoutingRule,
    Ticket,
    TicketEvent,
)
from portal.security import audit, roles
from portal.web.ids import parse_id

MAX_NAME = 100


class GroupError(ValueError):
    """A group that cannot be saved: `code` names the problem for the message."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


# --- who may work a brand's tickets -----------------------------------------------------------


def can_work(brand_id: int | list[int] | None):
    """A condition on User: active members who may answer this brand's tickets (any of these
    brands'; None: any brand's), that is who hold tickets.reply there."""
    return roles.holding("tickets.reply", brand_id)


def receivers(session: Session, group: AgentGroup) -> list[User]:
    """The members round-robin chooses from, by id: agents of the group's brand (or admins)
    who receive tickets."""
    return list(
        session.scalars(
            select(User)
            .join(AgentGroupMember, AgentGroupMember.user_id == User.id)
            .where(
                AgentGroupMember.group_id == group.id,
                User.receives_tickets.is_(True),
                can_work(group.brand_id),
            )
            .order_by(User.id)
        )
    )


def next_in_group(session: Session, group_id: int) -> User | None:
    """The member whose turn it is (None when nobody in the group receives tickets); the turn
    moves on in the caller's transaction."""
    # The no-op write takes the lock first; the read after it sees the last committed turn.
    session.execute(
        update(AgentGroup)
        .where(AgentGroup.id == group_id)
        .values(last_assignee_id=AgentGroup.last_assignee_id)
        .execution_options(synchronize_session=False)
    )
    group = session.scalars(
        select(AgentGroup)
        .where(AgentGroup.id == group_id)
        .execution_options(populate_existing=True)
    ).one_or_none()
    if group is None:
        return None
    members = receivers(session, group)
    if not members:
        return None
    last = group.last_assignee_id or 0
    chosen = next((m for m in members if m.id > last), members[0])
    group.last_assignee_id = chosen.id
    session.flush()
    return chosen


# --- routing new tickets ----------------------------------------------------------------------


def rule_for(session: Session, brand_id: int, form_id: int | None) -> RoutingRule | None:
    """The form's own rule, else the brand's."""
    rules = session.scalars(
        select(RoutingRule).where(
            RoutingRule.brand_id == brand_id, RoutingRule.form_key.in_((form_id or 0, 0))
        )
    ).all()
    return max(rules, key=lambda r: r.form_key, default=None)


def _event(ticket: Ticket, kind: str, new: str | None, now: datetime) -> TicketEvent:
    return TicketEvent(
        ticket_id=ticket.id, actor_id=None, kind=kind, old_value=None, new_value=new, created_at=now
    )


def route_new_ticket(session: Session, ticket: Ticket, now: datetime) -> None:
    """Apply the assignment rule to a ticket just made (flushed): its group, and its agent (the
    rule's own when they still work the brand and receive tickets, else the group's turn).
    Recorded as events without an actor."""
    rule = rule_for(session, ticket.brand_id, ticket.form_id)
    if rule is None:
        return
    assignee = None
    if rule.assignee_id is not None:
        assignee = session.scalar(
            select(User).where(
                User.id == rule.assignee_id,
                User.receives_tickets.is_(True),
                can_work(ticket.brand_id),
            )
        )
    group = session.get(AgentGroup, rule.group_id) if rule.group_id else None
    if group is not None:
        ticket.group_id = group.id
        session.add(_event(ticket, "group", group.name, now))
        if assignee is None:
            assignee = next_in_group(session, group.id)
    if assignee is not None:
        ticket.assignee_id = assignee.id
        session.add(_event(ticket, "assignee", assignee.nickname or assignee.name, now))
    session.flush()


# --- groups, for admins -----------------------------------------------------------------------


@dataclass
class GroupRow:
    group: AgentGroup
    brand_name: str
    members: list[User]


def groups_of_brand(session: Session, brand_id: int) -> list[AgentGroup]:
    return list(
        session.scalars(
            select(AgentGroup).where(AgentGroup.brand_id == brand_id).order_by(AgentGroup.name)
        )
    )


def group_ids_of(user_id: int):
    """A subquery: the groups this agent belongs to."""
    return select(AgentGroupMember.group_id).where(AgentGroupMember.user_id == user_id)


def members(session: Session, group: AgentGroup) -> list[User]:
    return list(
        session.scalars(
            select(User)
            .join(AgentGroupMember, AgentGroupMember.user_id == User.id)
            .where(AgentGroupMember.group_id == group.id)
            .order_by(User.name, User.id)
        )
    )


def candidates(session: Session, brand_id: int) -> list[User]:
    """Who may work this brand's tickets (be assigned one, join its groups): its agents and
    the admins."""
    return list(
        session.scalars(select(User).where(can_work(brand_id)).order_by(User.name, User.id))
    )


def save_group(
    session: Session,
    group: AgentGroup | None,
    brand_id: int,
    name: str,
    member_ids: list[int],
    *,
    actor: User | None = None,
    ip: str = "",
    now: datetime | None = None,
) -> AgentGroup:
    """Create (group None) or rename a group and set its members; GroupError: name_required,
    name_too_long, name_taken, not_agent (someone who cannot work the brand's tickets).
    Recorded (group.created, or group.changed when its name or members changed)."""
    name = " ".join((name or "").split())
    if not name:
        raise GroupError("name_required")
    if len(name) > MAX_NAME:
        raise GroupError("name_too_long")
    taken = select(AgentGroup.id).where(
        AgentGroup.brand_id == brand_id, func.lower(AgentGroup.name) == name.lower()
    )
    if group is not None:
        taken = taken.where(AgentGroup.id != group.id)
    if session.scalar(taken) is not None:
        raise GroupError("name_taken")
    allowed = {u.id for u in candidates(session, brand_id)}
    wanted = set(member_ids)
    if wanted - allowed:
        raise GroupError("not_agent")
    action, before = "group.created", {"name": "", "members": []}
    if group is None:
        group = AgentGroup(brand_id=brand_id, name=name)
        session.add(group)
        session.flush()
    else:
        action = "group.changed"
        before = {"name": group.name, "members": [u.id for u in members(session, group)]}
    group.name = name
    session.execute(delete(AgentGroupMember).where(AgentGroupMember.group_id == group.id))
    session.add_all(AgentGroupMember(group_id=group.id, user_id=uid) for uid in sorted(wanted))
    session.flush()
    after = {"name": name, "members": sorted(wanted)}
    if (
        action == "group.created"
        or sorted(before["members"]) != after["members"]
        or (before["name"] != after["name"])
    ):
        _record(session, action, group, actor, ip, now, before=before, after=after)
    return group


def _record(session, action, group, actor, ip, now, **details) -> None:
    """The audit entry of a group's change, in its transaction (`now` None: the clock's)."""
    audit.record(
        session,
        action,
        now=now or clock.now(),
        actor=actor,
        target=f"group:{group.id}",
        target_name=group.name,
        brand_id=group.brand_id,
        ip=ip,
        details=details,
    )


def delete_group(
    session: Session,
    group: AgentGroup,
    *,
    actor: User | None = None,
    ip: str = "",
    now: datetime | None = None,
) -> None:
    """Its tickets keep their assignee and lose the group; rules naming it go (cascade).
    Recorded with the members it had."""
    _record(
        session,
        "group.deleted",
        group,
        actor,
        ip,
        now,
        members=[u.id for u in members(session, group)],
    )
    session.execute(
        update(Ticket).where(Ticket.group_id == group.id).values(group_id=None),
        execution_options={"synchronize_session": False},
    )
    session.execute(delete(RoutingRule).where(RoutingRule.group_id == group.id))
    session.delete(group)
    session.flush()


# --- rules, for admins ------------------------------------------------------------------------


def target_of(rule: RoutingRule | None) -> str:
    """The rule as the routing form's choice: "", "agent:<id>", "group:<id>"."""
    if rule is None:
        return ""
    if rule.assignee_id is not None:
        return f"agent:{rule.assignee_id}"
    return f"group:{rule.group_id}" if rule.group_id else ""


def rules_of_brand(session: Session, brand_id: int) -> dict[int, RoutingRule]:
    """form_key (0: the brand) -> rule."""
    rules = session.scalars(select(RoutingRule).where(RoutingRule.brand_id == brand_id))
    return {r.form_key: r for r in rules}


def forms_of_brand(session: Session, brand_id: int) -> list[InquiryForm]:
    return list(
        session.scalars(
            select(InquiryForm)
            .where(InquiryForm.brand_id == brand_id)
            .order_by(InquiryForm.position, InquiryForm.id)
        )
    )


def set_rule(session: Session, brand_id: int, form_id: int | None, target: str) -> None:
    """Route the brand's (form_id None) or one form's new tickets to `target` ("" for nobody:
    they wait unassigned). GroupError("invalid_target") for anything not of this brand."""
    kind, _, raw = (target or "").partition(":")
    group_id = assignee_id = None
    target_id = parse_id(raw)
    if kind == "group" and target_id:
        group = session.get(AgentGroup, target_id)
        if group is None or group.brand_id != brand_id:
            raise GroupError("invalid_target")
        group_id = group.id
    elif kind == "agent" and target_id:
        assignee_id = target_id
        if (
            session.scalar(select(User.id).where(User.id == assignee_id, can_work(brand_id)))
            is None
        ):
            raise GroupError("invalid_target")
    elif target:
        raise GroupError("invalid_target")
    if form_id is not None:
        form = session.get(InquiryForm, form_id)
        if form is None or form.brand_id != brand_id:
            raise GroupError("invalid_target")
    key = form_id or 0
    rule = session.scalar(
        select(RoutingRule).where(RoutingRule.brand_id == brand_id, RoutingRule.form_key == key)
    )
    if group_id is None and assignee_id is None:
        if rule is not None:
            session.delete(rule)
        session.flush()
        return
    if rule is None:
        rule = RoutingRule(brand_id=brand_id, form_id=form_id, form_key=key)
        session.add(rule)
    rule.group_id, rule.assignee_id = group_id, assignee_id
    session.flush()
