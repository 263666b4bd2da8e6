"""One ticket for agents: /agent/tickets/<id> (conversation, notes, changes, replies)."""

from flask import abort, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from kb import clock
from kb.models import Brand
from portal import access
from portal.agent_mail import mail_public_reply
from portal.blueprints.agent import bp
from portal.desk import agent_tickets, assignment, canned, presence
from portal.desk.models import TICKET_PRIORITIES, TICKET_STATUSES, TICKET_TYPES
from portal.extensions import db
from portal.rendering import render


def error_messages() -> dict:
    return {
        "required": _("Write a reply or a note first."),
        "too_long": _("This is too long."),
        "invalid": _("Choose one of the listed values."),
        "not_in_brand": _("Choose an agent of this ticket's brand."),
        "nobody_receives": _("Nobody in this ticket's group receives tickets: choose an agent."),
        "tag_too_long": _(
            "A tag can be at most %(num)d characters.", num=agent_tickets.MAX_TAG_LENGTH
        ),
        "too_many_tags": _("A ticket can have at most %(num)d tags.", num=agent_tickets.MAX_TAGS),
    }


def _show(ticket, *, reply=None, errors=None, properties=None, status=200, block=None):
    brand_ids = access.agent_brand_ids(db.session)
    response = current_app.make_response(
        render(
            "agent/ticket.html",
            block,
            status=status,
            ticket=ticket,
            brand=db.session.get(Brand, ticket.brand_id),
            timeline=agent_tickets.timeline(db.session, ticket),
            tags=agent_tickets.tags_of(db.session, ticket),
            agents=agent_tickets.assignable_agents(db.session, ticket.brand_id),
            groups=assignment.groups_of_brand(db.session, ticket.brand_id),
            profile=agent_tickets.requester_profile(db.session, ticket, brand_ids),
            statuses=TICKET_STATUSES,
            priorities=TICKET_PRIORITIES,
            types=TICKET_TYPES,
            reply=reply or {"body": "", "kind": "public", "status": "pending"},
            canned_responses=db.session.scalars(
                canned.usable_for_ticket(current_user.id, ticket)
            ).all(),
            properties=properties,
            errors=errors or {},
        )
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _page(ticket, anchor=""):
    return redirect(url_for("agent.ticket", ticket_id=ticket.id) + anchor, 303)


@bp.get("/tickets/<id:ticket_id>")
def ticket(ticket_id):
    """The whole ticket: properties, conversation with internal notes and events, requester.
    `?canned=<id>` (the Insert button without JavaScript) pre-fills the reply box."""
    ticket = access.ticket_for_agent_or_404(db.session, ticket_id)
    if "canned" not in request.args:
        return _show(ticket)
    body = canned.insert(
        db.session,
        current_user.user,
        ticket,
        request.args.get("canned", type=int),
        request.args.get("body", ""),
    )
    if body is None:
        abort(404)
    return _show(ticket, reply={"body": body, "kind": "public", "status": "pending"})


@bp.post("/tickets/<id:ticket_id>/reply")
def ticket_reply(ticket_id):
    """A public reply (mailed to the requester and everyone it is shared with) or a note."""
    ticket = access.ticket_for_agent_or_404(db.session, ticket_id)
    form = {
        "body": request.form.get("body", ""),
        "kind": "internal" if request.form.get("kind") == "internal" else "public",
        "status": request.form.get("status") or "",
    }
    public = form["kind"] == "public"
    agent = current_user.user
    now = clock.now()
    last_seen = request.form.get("last_message_id", type=int)
    if last_seen is not None and request.form.get("confirm_new") != "1":
        # Someone wrote while this reply was typed: show it, keep the draft, send on confirm.
        arrived = presence.newer_public_messages(db.session, ticket.id, last_seen)
        if arrived:
            form["new_messages"] = arrived
            errors = {
                "new_message": _(
                    "A new message arrived while you were writing. Read it, then send again."
                )
            }
            return _show(ticket, reply=form, errors=errors, status=422, block="reply_form")
    try:
        message = agent_tickets.add_reply(
            db.session,
            ticket,
            agent,
            form["body"],
            public,
            (form["status"] or "pending") if public else None,
            now,
        )
    except agent_tickets.PropertyError as error:
        db.session.rollback()
        errors = {error.field: error_messages()[error.code]}
        return _show(ticket, reply=form, errors=errors, status=422, block="reply_form")
    if public:
        mail_public_reply(db.session, ticket, message, agent)
    db.session.commit()
    flash(_("Reply sent.") if public else _("Internal note added."))
    return _page(ticket, "#reply")


@bp.post("/tickets/<id:ticket_id>/properties")
def ticket_properties(ticket_id):
    """Status, priority, type, assignee and tags in one form; one event per change."""
    ticket = access.ticket_for_agent_or_404(db.session, ticket_id)
    keys = ("status", "priority", "type", "group", "assignee", "tags")
    form = {key: request.form.get(key, "") for key in keys}
    try:
        assignee = form["assignee"].strip()
        group = form["group"].strip()
        changes = {
            "status": form["status"] or ticket.status,
            "priority": form["priority"] or ticket.priority,
            "type": form["type"] or None,
            "assignee_id": int(assignee) if assignee.isdigit() else (assignee or None),
            "tags": agent_tickets.parse_tags(form["tags"]),
        }
        if "group" in request.form:
            changes["group_id"] = int(group) if group.isdigit() else None
            if group and not group.isdigit():
                raise agent_tickets.PropertyError("group_id", "invalid")
        if assignee and not assignee.isdigit() and assignee != "next":
            raise agent_tickets.PropertyError("assignee_id", "not_in_brand")
        events = agent_tickets.change_properties(
            db.session, ticket, current_user.user, changes, clock.now()
        )
    except agent_tickets.PropertyError as error:
        db.session.rollback()
        errors = {error.field: error_messages()[error.code]}
        return _show(ticket, properties=form, errors=errors, status=422, block="properties")
    db.session.commit()
    if events:
        flash(_("Ticket updated."))
    return _page(ticket)


@bp.post("/tickets/<id:ticket_id>/take")
def ticket_take(ticket_id):
    """Assign the ticket to me."""
    ticket = access.ticket_for_agent_or_404(db.session, ticket_id)
    me = current_user.user
    try:
        agent_tickets.change_properties(db.session, ticket, me, {"assignee_id": me.id}, clock.now())
    except agent_tickets.PropertyError:
        db.session.rollback()
        flash(_("Choose an agent of this ticket's brand."), "error")
        return _page(ticket)
    db.session.commit()
    flash(_("Assigned to you."))
    return _page(ticket)
