"""A request's page and "my requests": for its requester through the private link, and for
signed-in customers within the scope of portal.desk.customer_requests."""

import secrets
from dataclasses import dataclass

from flask import abort, current_app, flash, redirect, request, url_for
from flask.views import MethodView
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import func, select, update

from kb import clock
from portal.blueprints.requests import bp
from portal.blueprints.requests.forms import RatingForm, RequesterReplyForm, ShareForm
from portal.blueprints.requests.views import _inquiry_limit, error_message
from portal.desk import customer_requests as requests_
from portal.desk import files as ticket_files
from portal.desk import replies, tickets
from portal.desk.models import Ticket, TicketMessage
from portal.extensions import db, limiter
from portal.web import downloads
from portal.web.messages import error_text
from portal.web.rendering import render, wants_fragment
from portal.web.tenancy import helpcenter_or_404


@dataclass
class Viewer:
    """Who is looking at a request: its private link's holder, or a signed-in customer."""

    token: str | None = None
    customer: requests_.Customer | None = None

    @property
    def is_requester(self) -> bool:
        return self.token is not None or (
            self.customer is not None and self._ticket.requester_id == self.customer.id
        )

    _ticket: Ticket | None = None

    def url_args(self) -> dict:
        return {"token": self.token} if self.token else {}


def _ticket_or_404(hc, ticket_id: int) -> tuple[Ticket, Viewer]:
    """The request and who views it; unknown and forbidden ids answer the same 404. Without a
    token an anonymous visitor is sent to sign in (whatever the id: nothing is revealed)."""
    token = request.values.get("token")
    if current_user.is_authenticated:
        # Signed in: their own view when the request is theirs (or shared with them), even
        # when they came by the private link.
        customer = requests_.Customer.of(db.session, current_user.user)
        ticket = requests_.ticket_for(db.session, customer, hc.brand.id, ticket_id)
        if ticket is not None:
            return ticket, Viewer(customer=customer, _ticket=ticket)
    if token:
        ticket = tickets.ticket_for_link(
            db.session, current_app.config["SECRET_KEY"], ticket_id, token
        )
        if ticket is None or ticket.brand_id != hc.brand.id:
            abort(404)
        return ticket, Viewer(token=token, _ticket=ticket)
    if not current_user.is_authenticated:
        abort(_login_redirect())
    abort(404)


def _login_redirect():
    return redirect(url_for("account.login", next=request.full_path.rstrip("?")))


def _page_url(hc, ticket, viewer: Viewer) -> str:
    return url_for(
        "requests.show_request",
        brand=hc.brand.slug,
        locale=hc.locale,
        ticket_id=ticket.id,
        **viewer.url_args(),
    )


def _show(
    hc,
    ticket,
    viewer,
    reply="",
    error=None,
    share_error=None,
    share_emails="",
    share_notice=None,
    status=200,
    block=None,
):
    messages = tickets.public_messages(db.session, ticket)
    context = dict(
        hc=hc,
        ticket=ticket,
        viewer=viewer,
        token=viewer.token,
        messages=messages,
        reply=reply,
        error=error,
        share_error=share_error,
        share_emails=share_emails,
        share_notice=share_notice,
        shares=requests_.shares(db.session, ticket) if viewer.is_requester else [],
        seen_by_org=requests_.organization_seeing(db.session, ticket),
        follow_up_of=db.session.get(Ticket, ticket.follow_up_of_id)
        if ticket.follow_up_of_id
        else None,
        # A reply to a closed request (or one solved too long ago) starts a follow-up.
        starts_follow_up=not requests_.can_reopen(
            ticket, clock.now(), current_app.config["REOPEN_DAYS"]
        ),
        signed_in=viewer.customer is not None,
        actions=requests_.actions_for(viewer.customer, ticket),
    )
    response = current_app.make_response(
        render("requests/request.html", block, status=status, **context)
    )
    response.headers["Referrer-Policy"] = "no-referrer"  # a token must not leak in Referer
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _record_read(ticket, viewer: Viewer) -> None:
    """The requester (signed in, or the private link's holder when nobody is signed in: not a
    colleague it is shared with, nor an agent) has read the request; written only when a newer
    public agent reply is there, so reloads write nothing."""
    if viewer.customer is not None:
        if ticket.requester_id != viewer.customer.id:
            return
    elif viewer.token is None or current_user.is_authenticated:
        return
    newest = db.session.scalar(
        select(func.max(TicketMessage.created_at)).where(
            TicketMessage.ticket_id == ticket.id,
            TicketMessage.public.is_(True),
            TicketMessage.from_requester.is_(False),
        )
    )
    seen = ticket.requester_seen_at
    if seen is not None and (newest is None or seen >= newest):
        return
    # A read is not a change to the request: updated_at (and the queues' order) stays.
    db.session.execute(
        update(Ticket)
        .where(Ticket.id == ticket.id)
        .values(requester_seen_at=clock.now(), updated_at=Ticket.updated_at)
    )
    db.session.commit()


class RequestPage(MethodView):
    """A request: its answers, files and public conversation (GET); a reply (with files) from
    its requester, or from anyone it is shared with (POST). One address, one endpoint
    (`requests.show_request`), a view per method."""

    decorators = [limiter.limit(_inquiry_limit, methods=["POST"])]

    def get(self, brand, locale, ticket_id):
        hc = helpcenter_or_404(brand, locale)
        ticket, viewer = _ticket_or_404(hc, ticket_id)
        _record_read(ticket, viewer)
        return _show(hc, ticket, viewer)

    def post(self, brand, locale, ticket_id):
        hc = helpcenter_or_404(brand, locale)
        ticket, viewer = _ticket_or_404(hc, ticket_id)
        body = RequesterReplyForm().text
        reply_key = secrets.token_hex(16)  # the files of this reply, staged together
        error = _reply_problem(hc, body, reply_key)
        if error:
            return _show(hc, ticket, viewer, reply=body, error=error, status=422)
        try:
            done = replies.reply(
                db.session,
                replies.Requester(current_user.user if viewer.customer is not None else None),
                ticket,
                body,
                public=True,
                files_key=reply_key,
                now=clock.now(),
                reopen_days=current_app.config["REOPEN_DAYS"],
            )
        except replies.ReplyError as refused:  # a blocked address: its files are not kept
            db.session.rollback()
            staged = ticket_files.staged(db.session, reply_key)
            ticket_files.unstage(db.session, reply_key, {f.token for f in staged})
            error = error_message(refused.code)
            return _show(hc, ticket, viewer, reply=body, error=error, status=422)
        db.session.commit()
        if done.follow_up:
            flash(_("This request was closed, so we opened a new one with your reply."))
        else:
            flash(_("Your reply was added."))
        return redirect(_page_url(hc, done.ticket, viewer), 303)


bp.add_url_rule(
    "/<brand>/<locale>/requests/<id:ticket_id>",
    view_func=RequestPage.as_view("show_request"),
)


def _reply_problem(hc, body: str, reply_key: str) -> str | None:
    """Why a reply cannot be added (its text, or each refused file), or None with its files
    staged under `reply_key`. A refused reply keeps none of its files."""
    try:
        replies.clean_body(body)
    except replies.ReplyError as error:
        return error_message(error.code)
    refusals = ticket_files.stage_uploads(
        db.session,
        downloads.uploads_dir(),
        [
            ("attachments", None, storage.filename, storage.stream)
            for storage in request.files.getlist("attachments")
            if storage and storage.filename
        ],
        brand_id=hc.brand.id,
        submission_key=reply_key,
        now=clock.now(),
        limits=ticket_files.Limits(files=10),
    )
    error = " ".join(f"{r.filename}: {error_message(r.code)}" for r in refusals) or None
    if error:
        staged = ticket_files.staged(db.session, reply_key)
        ticket_files.unstage(db.session, reply_key, {f.token for f in staged})
    return error


def _requester_action(brand, locale, ticket_id):
    """A change only the signed-in requester may make (sharing, solving, rating)."""
    hc = helpcenter_or_404(brand, locale)
    ticket, viewer = _ticket_or_404(hc, ticket_id)
    if viewer.customer is None or ticket.requester_id != viewer.customer.id:
        abort(404 if viewer.customer is None else 403)
    return hc, ticket, viewer


@bp.post("/<brand>/<locale>/requests/<id:ticket_id>/solve")
def solve_request(brand, locale, ticket_id):
    hc, ticket, viewer = _requester_action(brand, locale, ticket_id)
    if requests_.solve(db.session, viewer.customer, ticket, clock.now()):
        flash(_("Marked as solved. Thank you!"))
    return redirect(_page_url(hc, ticket, viewer), 303)


@bp.post("/<brand>/<locale>/requests/<id:ticket_id>/rating")
def rate_request(brand, locale, ticket_id):
    hc, ticket, viewer = _requester_action(brand, locale, ticket_id)
    form = RatingForm()
    score, comment = form.score.data or "", form.comment.data or ""
    if requests_.rate(db.session, viewer.customer, ticket, score, comment, clock.now()):
        flash(_("Thank you for rating our help."))
    else:
        flash(_("Choose good or bad to rate a solved request."), "error")
    return redirect(_page_url(hc, ticket, viewer), 303)


@bp.route("/<brand>/<locale>/requests/<id:ticket_id>/shares", methods=["GET", "POST"])
def share_request(brand, locale, ticket_id):
    """Share with people by email, or with the whole organization (one form, two buttons). A
    GET is this address reloaded after a refused share was shown here (without JavaScript):
    the request's page."""
    hc, ticket, viewer = _requester_action(brand, locale, ticket_id)
    if request.method == "GET":
        return redirect(_page_url(hc, ticket, viewer) + "#sharing", 303)
    form = ShareForm()
    if form.with_organization is not None:
        if viewer.customer.org_id is None:
            abort(404)
        shared = form.with_organization
        requests_.share_with_organization(db.session, viewer.customer, ticket, shared, clock.now())
        return _shared(hc, ticket, viewer, _organization_message(shared))
    sharing = requests_.share_with_people(
        db.session, viewer.customer, ticket, form.emails.data or "", clock.now(), brand=hc.brand
    )
    if sharing.error:
        error = error_text(sharing.error, "share")
        return _show(
            hc,
            ticket,
            viewer,
            share_error=error,
            share_emails=form.emails.data or "",
            status=422,
            block="sharing",
        )
    return _shared(hc, ticket, viewer, _people_message(sharing.added))


def _organization_message(shared: bool) -> str:
    if shared:
        return _("Your organization can now see this request.")
    return _("This request is no longer shared with your organization.")


def _people_message(added) -> str:
    if not added:
        return _("Already shared.")
    count = len(added)
    return ngettext("Shared with %(num)d person.", "Shared with %(num)d people.", count)


@bp.post("/<brand>/<locale>/requests/<id:ticket_id>/shares/<id:share_id>/delete")
def unshare_request(brand, locale, ticket_id, share_id):
    hc, ticket, viewer = _requester_action(brand, locale, ticket_id)
    if not requests_.unshare(db.session, viewer.customer, ticket, share_id, clock.now()):
        abort(404)
    return _shared(hc, ticket, viewer, _("No longer shared with that person."))


def _shared(hc, ticket, viewer, message):
    """After a change to the sharing: htmx swaps the "Shared with" block, which says what
    changed (a flash would wait for the next whole page); without JavaScript, the page again
    with the message flashed."""
    if wants_fragment():
        return _show(hc, ticket, viewer, share_notice=message, block="sharing")
    flash(message)
    return redirect(_page_url(hc, ticket, viewer) + "#sharing", 303)


@bp.get("/<brand>/<locale>/requests/<id:ticket_id>/files/<id:file_id>/<path:name>")
def request_file(brand, locale, ticket_id, file_id, name):
    hc = helpcenter_or_404(brand, locale)
    ticket, _viewer = _ticket_or_404(hc, ticket_id)
    row = requests_.public_file(db.session, ticket, file_id)
    if row is None:
        abort(404)
    if row.removed_at is not None:
        return downloads.removed_file(row.removed_at)
    return downloads.stored_file(row.sha256, row.content_type, row.filename)


@bp.get("/<brand>/<locale>/requests")
def my_requests(brand, locale):
    """My requests, requests shared with me, my organization's: filter, search, sort, and
    keyset pages; HTMX swaps the list and pushes the URL, links work without JavaScript."""
    hc = helpcenter_or_404(brand, locale)
    if not current_user.is_authenticated:
        return _login_redirect()
    customer = requests_.Customer.of(db.session, current_user.user)
    query = requests_.ListQuery.parse(request.args)
    if query.tab == "organization" and customer.org_id is None:
        abort(404)
    page = requests_.list_requests(db.session, customer, hc.brand.id, query)
    response = current_app.make_response(
        render(
            "requests/list.html",
            "list",
            hc=hc,
            query=query,
            page=page,
            customer=customer,
            status_filters=requests_.STATUS_FILTERS,
        )
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response
