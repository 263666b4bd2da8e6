"""Bulk actions on selected tickets: /agent/bulk (status, assignee, priority, tags, one reply)."""

from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

from flask import abort, flash, redirect, url_for
from flask_babel import ngettext
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.datastructures import MultiDict
from wtforms import HiddenField, StringField, TextAreaField

from kb import clock
from kb.people import User
from portal import access
from portal.blueprints.agent import bp
from portal.blueprints.agent.queues import render_queues
from portal.blueprints.agent.ticket import property_error, ticket_text
from portal.desk import agent_tickets, assignment, replies
from portal.desk.models import TICKET_PRIORITIES, TICKET_STATUSES, Ticket
from portal.extensions import db
from portal.web.fields import StringListField
from portal.web.ids import parse_id
from portal.web.messages import error_text
from portal.web.navigation import safe_next
from portal.web.rendering import render

MAX_TICKETS = 100


class BulkPost(FlaskForm):
    """The bulk form as posted; BulkForm.posted reads it."""

    ticket = StringListField()  # one checkbox per selected ticket
    status = StringField(default="")
    priority = StringField(default="")
    assignee = StringField(default="")
    tags = StringField(default="")
    body = TextAreaField(default="")
    back = HiddenField(default="")


@dataclass
class BulkForm:
    """What the agent asked for; an empty field leaves that property as it is."""

    ticket_ids: list[str] = field(default_factory=list)
    status: str = ""
    priority: str = ""
    assignee: str = ""  # "", "me", "none" or an agent's id
    tags: str = ""
    body: str = ""
    back: str = ""

    @classmethod
    def posted(cls) -> "BulkForm":
        """What this request posted (BulkPost reads the form)."""
        post = BulkPost()
        ids = list(dict.fromkeys(v.strip() for v in post.ticket.data if v.strip()))
        return cls(
            ticket_ids=ids,
            status=post.status.data.strip(),
            priority=post.priority.data.strip(),
            assignee=post.assignee.data.strip(),
            tags=post.tags.data,
            body=post.body.data,
            back=post.back.data,
        )

    @property
    def asks_for_something(self) -> bool:
        fields = (self.status, self.priority, self.assignee, self.tags.strip(), self.body.strip())
        return any(fields)


def queue_url(back: str | None) -> str:
    """The queue the agent came from (its filters kept), never anything outside /agent/."""
    target = safe_next(back)
    if target and target.startswith("/agent/"):
        return target
    return url_for("agent.queues")


def bulk_assignees() -> list:
    """Everyone an agent may hand tickets to: the assignable agents of the agent's brands (one
    query, whatever the number of brands)."""
    users = db.session.scalars(
        select(User).where(assignment.can_work(access.agent_brand_ids(db.session)))
    )
    return sorted(users, key=lambda u: ((u.nickname or u.name).lower(), u.id))


@bp.context_processor
def bulk_choices():
    # A function, so only pages that show the bulk form pay for the query.
    return {
        "bulk_assignees": bulk_assignees,
        "bulk_statuses": TICKET_STATUSES,
        "bulk_priorities": TICKET_PRIORITIES,
        "max_bulk_tickets": MAX_TICKETS,
    }


# Refusals bulk words its own way, for a selection of tickets; the others read as on a ticket.
_OWN_WORDS = ("no_selection", "too_many", "nothing_to_do", "required", "not_in_brand")


def _text(code: str) -> str:
    """Why nothing changed, worded for a selection of tickets."""
    if code in _OWN_WORDS:
        return error_text(code, "bulk", num=MAX_TICKETS)
    return ticket_text(code)


def _refuse(form: BulkForm, code: str, tickets=(), message: str | None = None):
    """Nothing changed: say why, keep what was typed and the selection (`tickets`: id and
    subject pairs), offer to try again."""
    return render(
        "agent/bulk.html",
        status=422,
        form=form,
        error=message or _text(code),
        tickets=list(tickets),
        back=queue_url(form.back),
    )


def _selected_tickets(ids: list[str]) -> list[Ticket]:
    """Every id through the ticket page's own check: one not for this agent 404s the lot."""
    numbers = [parse_id(i) for i in ids]
    if None in numbers:
        abort(404)
    # One query fills the session, so the per-id check below reads from it.
    db.session.scalars(select(Ticket).where(Ticket.id.in_(numbers))).all()
    chosen = [access.ticket_for_agent_or_404(db.session, n) for n in numbers]
    if any(t.deleted_at is not None for t in chosen):  # in the trash: changed nowhere
        abort(404)
    return chosen


def _changes(form: BulkForm, agent) -> dict:
    changes = {}
    if form.status:
        changes["status"] = form.status
    if form.priority:
        changes["priority"] = form.priority
    if form.assignee == "me":
        changes["assignee_id"] = agent.id
    elif form.assignee == "none":
        changes["assignee_id"] = None
    elif agent_id := parse_id(form.assignee):
        changes["assignee_id"] = agent_id
    elif form.assignee:
        raise agent_tickets.PropertyError("assignee_id", "not_in_brand")
    return changes


def _apply(form: BulkForm, tickets: list[Ticket], agent, now) -> None:
    """The same changes, and the same public reply, to each ticket (PropertyError: the caller
    rolls back the lot)."""
    changes = _changes(form, agent)
    new_tags = agent_tickets.parse_tags(form.tags)
    for ticket in tickets:
        these = dict(changes)
        if new_tags:
            old = agent_tickets.tags_of(db.session, ticket)
            these["tags"] = old + [t for t in new_tags if t not in old]
        agent_tickets.change_properties(db.session, ticket, agent, these, now)
        if form.body.strip():
            replies.reply(
                db.session,
                agent,
                ticket,
                form.body,
                public=True,
                status=form.status or None,
                now=now,
            )


@bp.post("/bulk", endpoint="bulk")
def bulk():
    """Change every selected ticket alike, and optionally reply to each, in one transaction."""
    form = BulkForm.posted()
    if not form.ticket_ids or len(form.ticket_ids) > MAX_TICKETS:
        # Back to the queue, to choose again, with what was chosen and typed.
        back = queue_url(form.back)
        args = MultiDict(parse_qsl(urlsplit(back).query))
        code = "too_many" if form.ticket_ids else "no_selection"
        return render_queues(args, back, bulk=form, bulk_error=_text(code), status=422)
    tickets = _selected_tickets(form.ticket_ids)
    if not form.asks_for_something:
        return _refuse(form, "nothing_to_do", [(t.id, t.subject) for t in tickets])
    # What the refusal page lists, read now: a rollback expires the rows.
    selected = [(t.id, t.subject) for t in tickets]
    try:
        _apply(form, tickets, current_user.user, clock.now())
    except agent_tickets.PropertyError as error:
        db.session.rollback()
        message = property_error(error) if error.found else None
        return _refuse(form, error.code, selected, message)
    db.session.commit()
    count = len(tickets)
    flash(ngettext("Updated %(num)d ticket.", "Updated %(num)d tickets.", count))
    return redirect(queue_url(form.back), 303)
