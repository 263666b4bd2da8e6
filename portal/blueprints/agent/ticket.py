"""One ticket for agents: /agent/tickets/<id> (conversation, notes, changes, replies, files,
scheduled replies)."""

import re
import secrets

from flask import abort, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from kb import clock
from kb.models import Brand
from kb.people import User
from portal import access
from portal.blueprints.agent import bp
from portal.desk import (
    agent_tickets,
    assignment,
    canned,
    placeholders,
    presence,
    scheduled_replies,
)
from portal.desk import files as ticket_files
from portal.desk.models import (
    TICKET_PRIORITIES,
    TICKET_STATUSES,
    TICKET_TYPES,
    ScheduledReply,
    TicketFile,
)
from portal.extensions import db
from portal.mail.replies import mail_public_reply, send_due_replies
from portal.web import downloads, times
from portal.web.ids import parse_id
from portal.web.messages import error_text
from portal.web.rendering import render

MAX_REPLY_FILES = 10
FILES_KEY_RANDOM = re.compile(r"[0-9a-f]{32}")


def error_messages() -> dict:
    codes = ("invalid_delay", "empty", "too_large", "type_not_allowed", "too_many")
    codes += ("total_too_large", "required", "too_long", "invalid", "not_in_brand")
    codes += ("nobody_receives", "no_group")
    return {
        **{code: error_text(code, "ticket") for code in codes},
        "tag_too_long": error_text("tag_too_long", "ticket", num=agent_tickets.MAX_TAG_LENGTH),
        "too_many_tags": error_text("too_many_tags", "ticket", num=agent_tickets.MAX_TAGS),
    }


def property_error(error: agent_tickets.PropertyError) -> str:
    """The message for a refused change, naming what was wrong where it can."""
    if error.code == "unknown_placeholder":
        return error_text(
            "unknown_placeholder",
            "ticket",
            found=", ".join(error.found),
            names=", ".join("{{" + name + "}}" for name in placeholders.NAMES),
        )
    return error_messages()[error.code]


def _show(
    ticket,
    *,
    reply=None,
    errors=None,
    properties=None,
    scheduled_edit=None,
    status=200,
    block=None,
):
    brand_ids = access.agent_brand_ids(db.session)
    reply = {"body": "", "kind": "public", "status": "pending", "delay": "0", **(reply or {})}
    reply.setdefault("files_key", _files_key(ticket, None))
    waiting = scheduled_replies.waiting(db.session, ticket)
    colleagues = {r.author_id for r in waiting} - {current_user.id}
    authors = select(User.id, User.name).where(User.id.in_(colleagues))
    response = current_app.make_response(
        render(
            "agent/ticket.html",
            block,
            status=status,
            ticket=ticket,
            brand=db.session.get(Brand, ticket.brand_id),
            timeline=agent_tickets.timeline(db.session, ticket),
            tags=agent_tickets.tags_of(db.session, ticket),
            agents=assignment.candidates(db.session, ticket.brand_id),
            groups=assignment.groups_of_brand(db.session, ticket.brand_id),
            profile=agent_tickets.requester_profile(db.session, ticket, brand_ids),
            referring_article=agent_tickets.referring_article(db.session, ticket),
            statuses=TICKET_STATUSES,
            priorities=TICKET_PRIORITIES,
            types=TICKET_TYPES,
            reply=reply,
            canned_responses=db.session.scalars(
                canned.usable_for_ticket(current_user.id, ticket)
            ).all(),
            properties=properties,
            scheduled=waiting,
            scheduled_files={r.id: scheduled_replies.files_of(db.session, r) for r in waiting},
            scheduled_edit=scheduled_edit,
            # Whose replies these are, when not the agent's own (shown, not editable).
            scheduled_authors=dict(db.session.execute(authors).all()) if colleagues else {},
            delays=scheduled_replies.DELAYS,
            staged_files=ticket_files.staged(db.session, reply["files_key"]),
            files_by_message=agent_tickets.files_by_message(db.session, ticket),
            errors=errors or {},
        )
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _page(ticket, anchor=""):
    """The ticket page again. An htmx form (reply, properties) would swap the page a redirect
    leads to into the form itself, so htmx is told to load it in place of the whole body."""
    url = url_for("agent.ticket", ticket_id=ticket.id) + anchor
    if request.htmx:
        return "", 204, {"HX-Location": url}
    return redirect(url, 303)


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


def _files_key(ticket, raw: str | None) -> str:
    """The key this reply's files are staged under: kept across a refused send, so files
    chosen once are not asked for again; a new one otherwise. It names the ticket and the
    agent, so a key of another ticket's or another agent's draft is never taken."""
    mine = f"r{ticket.id}-{current_user.id}-"
    if raw and raw.startswith(mine) and FILES_KEY_RANDOM.fullmatch(raw.removeprefix(mine)):
        return raw
    return mine + secrets.token_hex(16)


def _stage_files(ticket, files_key: str, now) -> str | None:
    """Keep the uploaded files under the reply's key; every refused file named, or None."""
    uploads = [
        ("attachments", None, storage.filename, storage.stream)
        for storage in request.files.getlist("attachments")
        if storage and storage.filename
    ]
    refusals = ticket_files.stage_uploads(
        db.session,
        downloads.uploads_dir(),
        uploads,
        brand_id=ticket.brand_id,
        submission_key=files_key,
        now=now,
        limits=ticket_files.Limits(files=MAX_REPLY_FILES),
    )
    messages = error_messages()
    named = [
        f"{r.filename}: {messages.get(r.code, _('This file is not accepted.'))}" for r in refusals
    ]
    return " ".join(named) or None


def _delay(raw: str | None) -> int | None:
    return parse_id(raw, high=999_999, low=0)


@bp.post("/tickets/<id:ticket_id>/reply")
def ticket_reply(ticket_id):
    """A public reply (mailed to the requester and everyone it is shared with; now, or after a
    delay) or a note, with files."""
    ticket = access.ticket_for_agent_or_404(db.session, ticket_id)
    form = {
        "body": request.form.get("body", ""),
        "kind": "internal" if request.form.get("kind") == "internal" else "public",
        "status": request.form.get("status") or "",
        "delay": request.form.get("delay") or "0",
        "files_key": _files_key(ticket, request.form.get("files_key")),
    }
    public = form["kind"] == "public"
    agent = current_user.user
    now = clock.now()
    problem = _stage_files(ticket, form["files_key"], now)

    def refuse(errors):
        db.session.rollback()
        return _show(ticket, reply=form, errors=errors, status=422, block="reply_form")

    if problem:
        return refuse({"attachments": problem})
    if request.form.get("action") == "insert_canned":
        # Insert without JavaScript: the page again, the response added to what was typed
        # (files chosen are kept too); nothing is sent.
        body = canned.insert(
            db.session, agent, ticket, request.form.get("canned", type=int), form["body"]
        )
        if body is None:
            abort(404)
        return _show(ticket, reply={**form, "body": body})
    last_seen = request.form.get("last_message_id", type=int)
    if last_seen is not None and request.form.get("confirm_new") != "1":
        # Someone wrote while this reply was typed: show it, keep the draft, send on confirm.
        arrived = presence.newer_public_messages(db.session, ticket.id, last_seen)
        if arrived:
            form["new_messages"] = arrived
            message = _("A new message arrived while you were writing. Read it, then send again.")
            return refuse({"new_message": message})
    delay = _delay(form["delay"])
    try:
        if public and delay != 0:
            scheduled = scheduled_replies.schedule(
                db.session,
                ticket,
                agent,
                form["body"],
                form["status"] or "pending",
                delay,
                form["files_key"],
                now,
            )
        else:
            scheduled = None
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
        return refuse({error.field: property_error(error)})
    if scheduled is not None:
        db.session.commit()
        flash(
            _(
                "Reply scheduled for %(when)s. You can change or cancel it until then.",
                when=times.when(scheduled.send_at),  # as the page writes it
            )
        )
        return _page(ticket, "#scheduled")
    ticket_files.attach_staged(
        db.session, form["files_key"], ticket, message, brand_id=ticket.brand_id
    )
    if public:
        mail_public_reply(db.session, ticket, message, agent)
    db.session.commit()
    flash(_("Reply sent.") if public else _("Internal note added."))
    return _page(ticket, f"#message-{message.id}")


def _scheduled_or_404(ticket, reply_id, *, own: bool = False) -> ScheduledReply:
    """The ticket's scheduled reply; `own`: only its author may (change it, send it early:
    it goes out in their name), others get 403."""
    row = db.session.get(ScheduledReply, reply_id)
    if row is None or row.ticket_id != ticket.id:
        abort(404)
    if own and row.author_id != current_user.id:
        abort(403)
    return row


def _gone():
    flash(_("This reply was sent or cancelled already."), "error")


@bp.post("/tickets/<id:ticket_id>/scheduled/<id:reply_id>")
def scheduled_reply_edit(ticket_id, reply_id):
    """New text, status or time for a reply still waiting."""
    ticket = access.ticket_for_agent_or_404(db.session, ticket_id)
    row = _scheduled_or_404(ticket, reply_id, own=True)
    edit = {
        "id": row.id,
        "body": request.form.get("body", ""),
        "status": request.form.get("status") or "pending",
        "delay": request.form.get("delay") or "keep",
    }
    try:
        changed = scheduled_replies.change(
            db.session,
            row,
            edit["body"],
            edit["status"],
            _delay(edit["delay"]),
            clock.now(),
            keep_time=edit["delay"] == "keep",
        )
    except agent_tickets.PropertyError as error:
        db.session.rollback()
        errors = {f"scheduled_{error.field}": property_error(error)}
        return _show(ticket, scheduled_edit=edit, errors=errors, status=422, block="scheduled")
    db.session.commit()
    if changed:
        flash(_("Scheduled reply changed."))
    else:
        _gone()
    return _page(ticket, "#scheduled")


@bp.post("/tickets/<id:ticket_id>/scheduled/<id:reply_id>/cancel")
def scheduled_reply_cancel(ticket_id, reply_id):
    ticket = access.ticket_for_agent_or_404(db.session, ticket_id)
    row = _scheduled_or_404(ticket, reply_id)
    if scheduled_replies.cancel(db.session, row, current_user.user, clock.now()):
        db.session.commit()
        flash(_("Scheduled reply cancelled: it will not be sent."))
    else:
        _gone()
    return _page(ticket, "#scheduled")


@bp.post("/tickets/<id:ticket_id>/scheduled/<id:reply_id>/send")
def scheduled_reply_send(ticket_id, reply_id):
    """Send it now instead of waiting."""
    ticket = access.ticket_for_agent_or_404(db.session, ticket_id)
    row = _scheduled_or_404(ticket, reply_id, own=True)
    now = clock.now()
    if scheduled_replies.send_now(db.session, row, now):
        db.session.commit()
        send_due_replies(db.session, now)
        flash(_("Reply sent."))
    else:
        _gone()
    return _page(ticket, "#conversation-heading")


@bp.get("/tickets/<id:ticket_id>/files/<id:file_id>/<path:name>")
def ticket_file(ticket_id, file_id, name):
    """A file of the ticket (internal notes' included), always downloaded, never rendered."""
    ticket = access.ticket_for_agent_or_404(db.session, ticket_id)
    row = db.session.get(TicketFile, file_id)
    if row is None or row.ticket_id != ticket.id:
        abort(404)
    return downloads.stored_file(row.sha256, row.content_type, row.filename)


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
            "assignee_id": parse_id(assignee) or (assignee or None),
            "tags": agent_tickets.parse_tags(form["tags"]),
        }
        if "group" in request.form:
            changes["group_id"] = parse_id(group)
            if group and changes["group_id"] is None:
                raise agent_tickets.PropertyError("group_id", "invalid")
        if assignee and parse_id(assignee) is None and assignee != "next":
            raise agent_tickets.PropertyError("assignee_id", "not_in_brand")
        events = agent_tickets.change_properties(
            db.session, ticket, current_user.user, changes, clock.now()
        )
    except agent_tickets.PropertyError as error:
        db.session.rollback()
        errors = {error.field: property_error(error)}
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
