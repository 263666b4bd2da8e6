"""One ticket for agents: /agent/tickets/<id> (conversation, notes, changes, replies, files,
scheduled replies, the mail a message came in)."""

from dataclasses import dataclass

from flask import abort, current_app, flash, redirect, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from kb import clock
from kb.models import Brand
from kb.people import User
from portal import access
from portal.blueprints.admin.translation import failure_text
from portal.blueprints.agent import bp, ticket_page
from portal.blueprints.agent.forms import CannedInsertQuery
from portal.blueprints.agent.ticket_forms import (
    PropertiesForm,
    ReplyForm,
    ScheduledReplyForm,
    TranslateMessageForm,
    files_key,
)
from portal.desk import (
    agent_tickets,
    assignment,
    blocking,
    canned,
    placeholders,
    replies,
    scheduled_replies,
    translation,
    trash,
)
from portal.desk import files as ticket_files
from portal.desk.models import (
    TICKET_PRIORITIES,
    TICKET_STATUSES,
    TICKET_TYPES,
    ScheduledReply,
    TicketFile,
    TicketMessage,
)
from portal.extensions import db
from portal.mail.models import InboundMail
from portal.web import downloads, times
from portal.web.messages import error_text, has_text
from portal.web.rendering import render

MAX_REPLY_FILES = 10


# The values the ticket page's texts name (the other texts name none).
_TEXT_VALUES = {
    "tag_too_long": {"num": agent_tickets.MAX_TAG_LENGTH},
    "too_many_tags": {"num": agent_tickets.MAX_TAGS},
}


def ticket_text(code: str) -> str:
    """A refused reply's, file's or change's words on the ticket page."""
    return error_text(code, "ticket", **_TEXT_VALUES.get(code, {}))


def property_error(error: agent_tickets.PropertyError) -> str:
    """The message for a refused change, naming what was wrong where it can."""
    if error.code == "unknown_placeholder":
        return error_text(
            "unknown_placeholder",
            "ticket",
            found=", ".join(error.found),
            names=", ".join("{{" + name + "}}" for name in placeholders.NAMES),
        )
    return ticket_text(error.code)


def _show(
    ticket,
    *,
    reply=None,
    errors=None,
    properties=None,
    scheduled_edit=None,
    status=200,
    block=None,
    translate_errors=None,
):
    """The ticket page (or one `block` of it), every decision about what it shows made here
    and in ticket_page (the template only displays)."""
    errors = errors or {}
    languages = _languages(ticket)
    replies_publicly = access.may("tickets.reply", ticket.brand_id)  # light agents: notes
    kind = "public" if replies_publicly else "internal"
    reply = {
        "body": "",
        "kind": kind,
        "status": "pending",
        "delay": "0",
        "translate": False,
        **(reply or {}),
    }
    reply.setdefault("files_key", files_key(ticket, current_user.id, None))
    brand = db.session.get(Brand, ticket.brand_id)
    timeline = agent_tickets.timeline(db.session, ticket)
    tags = agent_tickets.tags_of(db.session, ticket)
    referring = agent_tickets.referring_article(db.session, ticket)
    files = agent_tickets.files_by_message(db.session, ticket)
    profile = agent_tickets.requester_profile(
        db.session, ticket, access.agent_brand_ids(db.session)
    )
    shared_with = ticket_page.shared_with(db.session, ticket)
    response = current_app.make_response(
        render(
            "agent/ticket.html",
            block,
            status=status,
            ticket=ticket,
            brand=brand,
            answers=ticket_page.answers(ticket),
            details=ticket_page.details(ticket, brand, referring),
            form_files=files.get(None),
            files_by_message=files,
            timeline=timeline,
            arrivals=ticket_page.arrivals(timeline),
            not_joined=ticket_page.not_joined(ticket),
            follow_up_of=ticket_page.follow_up_of(db.session, ticket),
            shows_description=ticket_page.shows_description(ticket, timeline),
            read_receipts=ticket_page.read_receipts(ticket, timeline),
            scheduled=_scheduled(ticket, scheduled_edit, errors),
            reply=reply,
            reply_status=reply["status"] or "pending",
            reply_errors=ticket_page.reply_errors(errors, properties),
            last_message_id=ticket_page.newest_message_id(timeline),
            staged_files=ticket_files.staged(db.session, reply["files_key"]),
            canned_responses=db.session.scalars(
                canned.usable_for_ticket(current_user.id, ticket)
            ).all(),
            delays=scheduled_replies.DELAYS,
            tags=tags,
            current=ticket_page.current_properties(ticket, tags, properties),
            property_errors=ticket_page.property_errors(errors, properties),
            agents=assignment.candidates(db.session, ticket.brand_id),
            groups=assignment.groups_of_brand(db.session, ticket.brand_id),
            can_take=ticket.assignee_id != current_user.id,
            statuses=TICKET_STATUSES,
            priorities=TICKET_PRIORITIES,
            types=TICKET_TYPES,
            profile=profile,
            requester_url=ticket_page.requester_url(ticket),
            shared_with=shared_with,
            bouncing=ticket_page.bouncing(db.session, [profile.email, *shared_with]),
            blocked=blocking.block_of(db.session, profile.email),
            may_block=access.may("tickets.block", ticket.brand_id),
            may_trash=access.may("tickets.delete", ticket.brand_id),
            purge_at=ticket.deleted_at + trash.KEPT_FOR if ticket.deleted_at else None,
            translates=languages.translates,
            agent_language=languages.agent,
            requester_language=languages.requester,
            reply_translates=languages.reply_translates and replies_publicly,
            translations=translation.translations_of(db.session, ticket),
            translate_errors=translate_errors or {},
        )
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


@dataclass
class _Languages:
    """Whether translation is offered on the page, and into what: the agent's UI language for
    customers' messages, the requester's for replies (offered when it is another one)."""

    translates: bool
    agent: str
    requester: str

    @property
    def reply_translates(self) -> bool:
        return self.translates and self.agent != self.requester


def _translator():
    return translation.provider_of(db.session, current_app.config["SECRET_KEY"])


def _agent_language() -> str:
    return get_locale().language if get_locale() else "en"


def _languages(ticket) -> _Languages:
    return _Languages(
        translates=_translator() is not None,
        agent=_agent_language(),
        requester=translation.requester_language(db.session, ticket),
    )


def _scheduled(ticket, edit, errors) -> list:
    """The ticket's replies still waiting, as the page shows them."""
    waiting = scheduled_replies.waiting(db.session, ticket)
    colleagues = {r.author_id for r in waiting} - {current_user.id}
    authors = select(User.id, User.name).where(User.id.in_(colleagues))
    return ticket_page.scheduled_rows(
        waiting,
        current_user.id,
        # Whose replies these are, when not the agent's own (shown, not editable).
        dict(db.session.execute(authors).all()) if colleagues else {},
        {r.id: scheduled_replies.files_of(db.session, r) for r in waiting},
        edit,
        errors,
    )


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
    picked = CannedInsertQuery.from_args(request.args)
    if not picked.asked:
        return _show(ticket)
    body = canned.insert(db.session, current_user.user, ticket, picked.canned_id, picked.body)
    if body is None:
        abort(404)
    return _show(ticket, reply={"body": body, "kind": "public", "status": "pending"})


def _stage_files(ticket, key: str, now) -> str | None:
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
        submission_key=key,
        now=now,
        limits=ticket_files.Limits(files=MAX_REPLY_FILES),
    )
    named = [
        f"{r.filename}: "
        + (ticket_text(r.code) if has_text(r.code, "ticket") else _("This file is not accepted."))
        for r in refusals
    ]
    return " ".join(named) or None


def _refuse_reply(ticket, draft: dict, errors: dict):
    """Nothing was sent: the reply box again, with what was typed and why."""
    db.session.rollback()
    return _show(ticket, reply=draft, errors=errors, status=422, block="reply_form")


def _insert_canned(ticket, draft: dict, canned_id: int | None):
    """Insert without JavaScript: the page again, the response added to what was typed (files
    chosen are kept too); nothing is sent."""
    body = canned.insert(db.session, current_user.user, ticket, canned_id, draft["body"])
    if body is None:
        abort(404)
    return _show(ticket, reply={**draft, "body": body})


def _replied(ticket, done: replies.Reply):
    if done.scheduled is not None:
        flash(
            _(
                "Reply scheduled for %(when)s. You can change or cancel it until then.",
                when=times.when(done.scheduled.send_at),  # as the page writes it
            )
        )
        return _page(ticket, "#scheduled")
    flash(_("Reply sent.") if done.message.public else _("Internal note added."))
    return _page(ticket, f"#message-{done.message.id}")


@bp.post("/tickets/<id:ticket_id>/reply")
def ticket_reply(ticket_id):
    """A public reply (mailed to the requester and everyone it is shared with; now, or after a
    delay) or a note, with files."""
    ticket = access.ticket_for_agent_or_404(db.session, ticket_id)
    form = ReplyForm()
    draft = form.draft(ticket, current_user.id)
    now = clock.now()
    problem = _stage_files(ticket, draft["files_key"], now)
    if problem:
        return _refuse_reply(ticket, draft, {"attachments": problem})
    if form.inserts_canned:
        return _insert_canned(ticket, draft, form.canned_id)
    if form.translates:
        return _translated_reply(ticket, form, draft, now)
    try:
        done = replies.reply(
            db.session,
            current_user.user,
            ticket,
            draft["body"],
            public=form.public,
            status=draft["status"] or None,
            files_key=draft["files_key"],
            delay_seconds=form.delay_seconds,
            seen_up_to=form.seen_up_to,
            now=now,
        )
    except replies.MessagesArrived as arrived:
        # Someone wrote while this reply was typed: show it, keep the draft, send on confirm.
        draft["new_messages"] = arrived.messages
        message = _("A new message arrived while you were writing. Read it, then send again.")
        return _refuse_reply(ticket, draft, {"new_message": message})
    except agent_tickets.PropertyError as error:
        return _refuse_reply(ticket, draft, {error.field: property_error(error)})
    db.session.commit()
    return _replied(ticket, done)


def _translated_reply(ticket, form: ReplyForm, draft: dict, now):
    """A public reply sent in the requester's language, now; on any failure nothing is sent and
    the box comes back with what was typed and why."""
    if form.delay_seconds != 0:
        message = _("A translated reply is sent now: choose “Now”, or send it untranslated.")
        return _refuse_reply(ticket, draft, {"delay": message})
    languages = _languages(ticket)
    try:
        done = translation.translated_reply(
            db.session,
            current_user.user,
            ticket,
            draft["body"],
            source=languages.agent,
            target=languages.requester,
            provider=_translator(),
            status=draft["status"] or None,
            files_key=draft["files_key"],
            seen_up_to=form.seen_up_to,
            now=now,
        )
    except translation.TranslationError as error:
        return _refuse_reply(ticket, draft, {"body": failure_text(error.code)})
    except replies.MessagesArrived as arrived:
        draft["new_messages"] = arrived.messages
        message = _("A new message arrived while you were writing. Read it, then send again.")
        return _refuse_reply(ticket, draft, {"new_message": message})
    except agent_tickets.PropertyError as error:
        return _refuse_reply(ticket, draft, {error.field: property_error(error)})
    db.session.commit()
    return _replied(ticket, done)


@bp.post("/tickets/<id:ticket_id>/messages/<id:message_id>/translate")
def message_translate(ticket_id, message_id):
    """A customer's message in the agent's language, shown under it (htmx: that part alone;
    without JavaScript: the page with it)."""
    ticket = access.ticket_for_agent_or_404(db.session, ticket_id)
    message = db.session.get(TicketMessage, message_id)
    if message is None or message.ticket_id != ticket.id:
        abort(404)
    if not TranslateMessageForm().validate_on_submit():
        abort(400)
    errors = {}
    try:
        translation.translate_message(
            db.session,
            current_user.user,
            message,
            _agent_language(),
            _translator(),
            clock.now(),
        )
    except translation.TranslationError as error:
        db.session.rollback()
        if error.code in ("not_allowed", "not_translatable"):
            abort(403 if error.code == "not_allowed" else 404)
        errors[message.id] = failure_text(error.code)
    else:
        db.session.commit()
    if request.htmx:
        return _translation_part(ticket, message, errors)
    if errors:
        return _show(ticket, translate_errors=errors, status=422)
    return _page(ticket, f"#message-{message.id}")


def _translation_part(ticket, message, errors):
    """What htmx swaps in under the message: its translation, or why there is none."""
    languages = _languages(ticket)
    return render(
        "agent/ticket.html",
        "message_translation",
        status=422 if errors else 200,
        ticket=ticket,
        m=message,
        translates=languages.translates,
        agent_language=languages.agent,
        translations=translation.translations_of(db.session, ticket),
        translate_errors=errors,
    )


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
    form = ScheduledReplyForm()
    edit = form.draft(row.id)
    try:
        changed = replies.change_scheduled(
            db.session,
            current_user.user,
            row,
            edit["body"],
            edit["status"],
            form.delay_seconds,
            clock.now(),
            keep_time=form.keeps_time,
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
    if not access.may("tickets.reply", ticket.brand_id):
        abort(403)  # light agents: a reply to the customer is not theirs to stop
    row = _scheduled_or_404(ticket, reply_id)
    if replies.cancel_scheduled(db.session, current_user.user, row, clock.now()):
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
    if replies.send_early(db.session, current_user.user, row, clock.now()):
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
    if row.removed_at is not None:
        return downloads.removed_file(row.removed_at)
    return downloads.stored_file(row.sha256, row.content_type, row.filename)


@bp.get("/tickets/<id:ticket_id>/mail/<id:message_id>.eml")
def ticket_mail(ticket_id, message_id):
    """The mail a message of the ticket came in, as it came: downloaded, never rendered."""
    ticket = access.ticket_for_agent_or_404(db.session, ticket_id)
    message = db.session.get(TicketMessage, message_id)
    if message is None or message.ticket_id != ticket.id or not message.inbound_mail_id:
        abort(404)
    mail = db.session.get(InboundMail, message.inbound_mail_id)
    if mail is None:
        abort(404)
    return downloads.raw_message(mail.raw, f"ticket-{ticket.id}-message-{message.id}.eml")


@bp.post("/tickets/<id:ticket_id>/properties")
def ticket_properties(ticket_id):
    """Status, priority, type, assignee and tags in one form; one event per change."""
    ticket = access.ticket_for_agent_or_404(db.session, ticket_id)
    form = PropertiesForm()
    try:
        events = agent_tickets.change_properties(
            db.session, ticket, current_user.user, form.changes(ticket), clock.now()
        )
    except agent_tickets.PropertyError as error:
        db.session.rollback()
        errors = {error.field: property_error(error)}
        draft = form.draft()
        return _show(ticket, properties=draft, errors=errors, status=422, block="properties")
    db.session.commit()
    if events:
        flash(_("Ticket updated."))
    return _page(ticket)


@bp.post("/tickets/<id:ticket_id>/take")
def ticket_take(ticket_id):
    """Assign the ticket to me."""
    ticket = access.ticket_for_agent_or_404(db.session, ticket_id)
    try:
        agent_tickets.take(db.session, current_user.user, ticket, clock.now())
    except agent_tickets.PropertyError:
        db.session.rollback()
        flash(_("Choose an agent of this ticket's brand."), "error")
        return _page(ticket)
    db.session.commit()
    flash(_("Assigned to you."))
    return _page(ticket)
