"""Inquiry forms for visitors and customers, and the private page of a request."""

import logging
import re

from flask import abort, current_app, flash, g, make_response, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from jinja2_fragments.flask import render_block
from sqlalchemy import select

from kb import clock, helpcenter
from kb.models import Article
from kb.search import SearchRequest, clean_text
from portal.blueprints.requests import bp
from portal.desk import files as ticket_files
from portal.desk import tickets
from portal.desk.models import InquiryForm, SuggestionClick
from portal.extensions import db, limiter
from portal.mail.requesters import mail_about_request
from portal.search import service as search_service
from portal.web import downloads
from portal.web.ids import parse_id
from portal.web.messages import error_text
from portal.web.rendering import render
from portal.web.tenancy import helpcenter_or_404

log = logging.getLogger(__name__)

MAX_FORM_ID_DIGITS = 9
_ARTICLE_PATH = re.compile(r"/articles/(\d{1,9})(?:-|$|/|\?)")


# Error codes of desk.tickets and desk.files -> messages shown beside the field.
def error_message(code: str) -> str:
    return error_text(code, "request", default="unknown")


def _visitor_org() -> int | None:
    return current_user.user.customer_org_id if current_user.is_authenticated else None


def _listed_forms(brand_id: int) -> list[InquiryForm]:
    forms = db.session.scalars(
        select(InquiryForm)
        .where(InquiryForm.brand_id == brand_id, InquiryForm.listed.is_(True))
        .order_by(InquiryForm.position, InquiryForm.id)
    )
    signed_in, org_id = current_user.is_authenticated, _visitor_org()
    return [f for f in forms if tickets.form_usable_by(f, signed_in, org_id)]


def _form_or_404(hc, form_arg: str | None) -> InquiryForm:
    """A form of this brand that this visitor may use; other brands' ids, and forms for other
    people, answer 404."""
    form_id = parse_id(form_arg)
    form = db.session.get(InquiryForm, form_id) if form_id else None
    if form is None or form.brand_id != hc.brand.id:
        abort(404)
    if not tickets.form_usable_by(form, current_user.is_authenticated, _visitor_org()):
        abort(404)
    return form


def _values() -> dict[str, list[str]]:
    return {name: request.form.getlist(name) for name in request.form}


def _query() -> dict[str, str]:
    return {k: v for k, v in request.args.items() if k != "form"}


def _referring_article(hc) -> int | None:
    """The article this visitor came from: ?article= (carried from the article through the
    forms list, or the form's hidden field), else the page before when it was an article. Only
    an article of this brand counts."""
    article_id = parse_id(request.values.get("article"))
    if article_id is None:
        for came_from in (request.form.get("from"), request.referrer):
            match = _ARTICLE_PATH.search(came_from or "")
            if match:
                article_id = int(match.group(1))
                break
    article = db.session.get(Article, article_id) if article_id else None
    return article.id if article is not None and article.brand_id == hc.brand.id else None


def _details(form: InquiryForm, sub: tickets.Submission, hc) -> dict:
    return {
        "hidden": sub.hidden,
        "user_agent": (request.user_agent.string or "")[:300],
        "referrer_article_id": _referring_article(hc),
    }


def _email_limit_key() -> str:
    email = (request.form.get("email") or "").strip().lower()[:254]
    if current_user.is_authenticated:
        email = current_user.email
    return "inquiry-email:" + email


def _inquiry_limit() -> str:
    return current_app.config["INQUIRY_RATE_LIMIT"]


def _inquiry_email_limit() -> str:
    return current_app.config["INQUIRY_EMAIL_RATE_LIMIT"]


def _is_submit() -> bool:
    return request.method == "POST" and request.form.get("action") != "refresh"


def _stores_files() -> bool:
    """Sending, or refreshing the questions with files chosen (without JavaScript; htmx's
    refresh sends no files): both keep the files, so both count against the IP's limit."""
    posted = request.method == "POST" and request.files
    return _is_submit() or bool(posted and any(f.filename for _k, f in request.files.items(True)))


# What a POST counted for the rate limits (g.inquiry_counted), set by the view: a person
# fixing mistakes is not counted, an accepted send and the signs of a robot are, and so is
# every request that stored files (the IP's limit only).
ACCEPTED, ABUSE, FILES = "accepted", "abuse", "files"


def _count(what: str) -> None:
    g.inquiry_counted = what


def _counts_for_address(_response) -> bool:
    return g.get("inquiry_counted") in (ACCEPTED, ABUSE, FILES)


def _counts_for_email(_response) -> bool:
    return g.get("inquiry_counted") in (ACCEPTED, ABUSE)


@bp.route("/<brand>/<locale>/requests/new", methods=["GET", "POST"])
@limiter.limit(
    _inquiry_limit, exempt_when=lambda: not _stores_files(), deduct_when=_counts_for_address
)
@limiter.limit(
    _inquiry_email_limit,
    key_func=_email_limit_key,
    exempt_when=lambda: not _is_submit(),
    deduct_when=_counts_for_email,
)
def new_request(brand, locale):
    """The brand's forms; with ?form=<id>, that form (GET), its refresh and its sending (POST)."""
    hc = helpcenter_or_404(brand, locale)
    if "form" not in request.args:
        if request.method == "POST":
            abort(405)
        forms = _listed_forms(hc.brand.id)
        return render("requests/forms.html", hc=hc, forms=forms, article_id=_referring_article(hc))
    form = _form_or_404(hc, request.args.get("form"))
    secret = current_app.config["SECRET_KEY"]
    signed_in = current_user.is_authenticated
    if request.method == "GET":
        key_token = tickets.issue_key(secret)
        sub = tickets.Submission()
        sub.answers = {k: v for k, v in request.args.items() if k.startswith("f_")}
        return _show(hc, form, sub, key_token, staged=[], notice=None)

    key_token = request.form.get("key", "")
    key, issued = tickets.open_key(secret, key_token, current_app.config["INQUIRY_KEY_MAX_AGE"])
    sub = tickets.check_submission(form, _values(), _query(), signed_in)
    if key is None:
        # Forged, or left open for days: a fresh key, everything typed kept (files not).
        fresh = tickets.issue_key(secret)
        notice = _("This form was open for a long time. Please check it and send it again.")
        return _show(hc, form, sub, fresh, staged=[], notice=notice, status=400)

    now = clock.now()
    done = tickets.existing_ticket(db.session, key)
    if done is not None:  # a second click or a retry of a form already sent
        return _sent(hc, done)

    # Files: remove the ones the visitor took off, keep each accepted new one, and reject
    # only the file that fails (its field gets the message, the rest stays).
    removed = set(request.form.getlist("remove_file"))
    ticket_files.unstage(db.session, key, removed)
    shown = {f.key: f for f in tickets.shown_fields(form, sub.answers)}
    uploads = []
    for name, storage in request.files.items(multi=True):
        if not storage or not storage.filename:
            continue
        field_key = name[2:] if name.startswith("f_") else None
        if name != "attachments" and (field_key not in shown or shown[field_key].type != "file"):
            continue
        uploads.append((name, field_key, storage.filename, storage.stream))
    refusals = ticket_files.stage_uploads(
        db.session,
        downloads.uploads_dir(),
        uploads,
        brand_id=hc.brand.id,
        submission_key=key,
        now=now,
    )
    if uploads:
        _count(FILES)
    file_errors: dict[str, list[ticket_files.Refusal]] = {}
    for refusal in refusals:
        file_errors.setdefault(refusal.field, []).append(refusal)
    staged = ticket_files.staged(db.session, key)
    for f in shown.values():
        if f.type == "file" and f.required and not any(s.field_key == f.key for s in staged):
            sub.errors.setdefault(f"f_{f.key}", "required")

    if request.form.get("action") == "refresh":
        # Only showing the questions the answers open: nothing is marked wrong yet.
        sub.errors = {}
        return _show(
            hc,
            form,
            sub,
            key_token,
            staged,
            notice=None,
            file_errors=file_errors,
            fragment=bool(request.htmx),
        )

    # Abuse checks, quiet for people: a filled honeypot is thanked and dropped.
    if request.form.get("website"):
        log.info("Inquiry dropped: honeypot filled (form %s)", form.id)
        _count(ABUSE)
        return render("requests/sent.html", hc=hc, ticket=None, status=200)
    min_seconds = current_app.config["INQUIRY_MIN_SECONDS"]
    if min_seconds and issued is not None and (now - issued).total_seconds() < min_seconds:
        notice = _("That was quick! Please check your request and send it again.")
        _count(ABUSE)
        return _show(hc, form, sub, key_token, staged, notice=notice, status=400)

    # Questions that answers opened without JavaScript are shown and asked before sending.
    asked = set(filter(None, request.form.get("shown", "").split(",")))
    newly_shown = {f"f_{f.key}" for f in shown.values() if f.key not in asked}
    if newly_shown:
        sub.errors = {k: v for k, v in sub.errors.items() if k not in newly_shown}
    if sub.errors or file_errors or newly_shown:
        notice = None
        if newly_shown and not sub.errors and not file_errors:
            notice = _("Your answers opened more questions. Please answer them and send again.")
        return _show(
            hc, form, sub, key_token, staged, notice=notice, file_errors=file_errors, status=422
        )

    user = current_user if signed_in else None
    if user is not None:
        sub.name, sub.email = user.name, user.email
    answers = tickets.answers_as_submitted(form, sub, hc.locale, hc.brand.default_locale)

    def queue_confirmation(ticket):
        mail_about_request(
            db.session, "request_received", ticket, ticket.requester_email, brand=hc.brand
        )

    ticket, created = tickets.create_ticket(
        db.session,
        form=form,
        locale=hc.locale,
        sub=sub,
        answers=answers,
        requester_id=user.id if user is not None else None,
        details=_details(form, sub, hc),
        submission_key=key,
        now=now,
        before_commit=queue_confirmation,
    )
    if created:
        _count(ACCEPTED)
    return _sent(hc, ticket)


def _show(hc, form, sub, key_token, staged, notice, file_errors=None, status=200, fragment=False):
    shown = tickets.shown_fields(form, sub.answers)
    controls = {f.condition_key for f in form.fields if f.condition_key}
    context = dict(
        hc=hc,
        form=form,
        sub=sub,
        key_token=key_token,
        staged=staged,
        notice=notice,
        shown=shown,
        controls=controls,
        file_errors=file_errors or {},
        error_message=error_message,
        localized=tickets.localized,
        came_from=request.form.get("from") or request.referrer or "",
        article_id=_referring_article(hc),
        action_url=url_for(
            "requests.new_request", brand=hc.brand.slug, locale=hc.locale, **request.args
        ),
    )
    if fragment:
        return render("requests/form.html", "questions", status=status, **context)
    return render("requests/form.html", status=status, **context)


def _private_link(hc, ticket) -> str:
    """The request's private link (its token), a path on this site."""
    return url_for(
        "requests.show_request",
        brand=hc.brand.slug,
        locale=ticket.locale,
        ticket_id=ticket.id,
        token=tickets.link_token(current_app.config["SECRET_KEY"], ticket),
    )


def _sent(hc, ticket):
    """POST -> 303 -> the request's page: a signed-in requester's own, otherwise through the
    private link (its token)."""
    flash(
        _(
            "We received your request #%(id)d. We sent a link to follow it to your email.",
            id=ticket.id,
        )
    )
    if current_user.is_authenticated and ticket.requester_id == current_user.id:
        return redirect(
            url_for(
                "requests.show_request", brand=hc.brand.slug, locale=hc.locale, ticket_id=ticket.id
            ),
            303,
        )
    return redirect(_private_link(hc, ticket), 303)


@bp.get("/<brand>/<locale>/requests/suggestions")
def suggestions(brand, locale):
    """Articles that may answer the subject being typed (htmx, under the subject field)."""
    hc = helpcenter_or_404(brand, locale)
    text = clean_text(request.args.get("subject"))
    found = []
    if len(text) >= 2:
        now = clock.now()
        results = search_service().search(
            db.session,
            SearchRequest(
                brand_id=hc.brand.id,
                locales=(hc.locale,),
                text=text,
                now=now,
                per_page=5,
                org_id=hc.org_id,
                prefix_last=True,
            ),
        )
        found = helpcenter.recheck(db.session, hc, results.hits, now)[:5]
    # Only ever asked by htmx under the subject field: the list alone, whoever asks.
    response = make_response(
        render_block(
            "requests/form.html",
            "suggestions",
            hc=hc,
            found=found,
            key=request.args.get("key", "")[:200],
            form_id=request.args.get("form", "")[:MAX_FORM_ID_DIGITS],
        )
    )
    response.vary.add("HX-Request")
    return response


@bp.get("/<brand>/<locale>/requests/suggested/<id:article_id>")
def suggested(brand, locale, article_id):
    """Records that a suggested article was opened from a form, then shows it."""
    hc = helpcenter_or_404(brand, locale)
    view = helpcenter.article(db.session, hc, article_id, clock.now())
    if view is None:
        abort(404)
    key, _issued = tickets.open_key(
        current_app.config["SECRET_KEY"],
        request.args.get("key"),
        current_app.config["INQUIRY_KEY_MAX_AGE"],
    )
    form_arg = request.args.get("form", "")
    if key is not None:
        form_id = parse_id(form_arg)
        form = db.session.get(InquiryForm, form_id) if form_id else None
        db.session.add(
            SuggestionClick(
                brand_id=hc.brand.id,
                form_id=form.id if form is not None and form.brand_id == hc.brand.id else None,
                article_id=article_id,
                submission_key=key,
            )
        )
        db.session.commit()
    return redirect(
        url_for(
            "helpcenter.article",
            brand=hc.brand.slug,
            locale=hc.locale,
            id_slug=f"{article_id}-{view.translation.slug}",
        ),
        303,
    )


@bp.errorhandler(CSRFError)
def session_expired(exc):
    """A form sent after its session ended: shown again with everything typed and a fresh
    token, never a bare error page."""
    return _again(
        400,
        _("Your session expired before the form was sent. Please check it and send it again."),
        csrf="csrf",
    )


@bp.errorhandler(429)
def too_many(exc):
    """Over a rate limit: a clear 429 that shows the form again with everything typed."""
    return _again(
        429,
        _(
            "Too many requests were sent from here just now. Please wait a few minutes and "
            "send again; your text is kept below."
        ),
    )


def _again(status: int, notice: str, csrf: str | None = None):
    args = request.view_args or {}
    if request.endpoint != "requests.new_request" or "form" not in request.args:
        from portal.web.errors import page

        return page(status, csrf)
    hc = helpcenter_or_404(args.get("brand"), args.get("locale"))
    form = _form_or_404(hc, request.args.get("form"))
    sub = tickets.check_submission(form, _values(), _query(), current_user.is_authenticated)
    sub.errors = {}
    key_token = request.form.get("key") or tickets.issue_key(current_app.config["SECRET_KEY"])
    return _show(hc, form, sub, key_token, staged=[], notice=notice, status=status)
