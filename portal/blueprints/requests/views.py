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
from portal.blueprints.requests.forms import Answers, InquiryPage, came_from, posted
from portal.desk import intake, tickets
from portal.desk.models import InquiryForm
from portal.extensions import db, limiter
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


def _listed_forms(brand_id: int) -> list[InquiryForm]:
    forms = db.session.scalars(
        select(InquiryForm)
        .where(InquiryForm.brand_id == brand_id, InquiryForm.listed.is_(True))
        .order_by(InquiryForm.position, InquiryForm.id)
    )
    visitor = _requester()
    return [f for f in forms if intake.form_usable_by(f, visitor.signed_in, visitor.org_id)]


def _form_or_404(hc, form_arg: str | None) -> InquiryForm:
    """A form of this brand that this visitor may use; other brands' ids, and forms for other
    people, answer 404."""
    form_id = parse_id(form_arg)
    form = db.session.get(InquiryForm, form_id) if form_id else None
    if form is None or form.brand_id != hc.brand.id:
        abort(404)
    visitor = _requester()
    if not intake.form_usable_by(form, visitor.signed_in, visitor.org_id):
        abort(404)
    return form


def _referring_article(hc) -> int | None:
    """The article this visitor came from: ?article= (carried from the article through the
    forms list, or the form's hidden field), else the page before when it was an article. Only
    an article of this brand counts."""
    article_id = parse_id(request.values.get("article"))
    if article_id is None:
        for page in (came_from(), request.referrer):
            match = _ARTICLE_PATH.search(page or "")
            if match:
                article_id = int(match.group(1))
                break
    article = db.session.get(Article, article_id) if article_id else None
    return article.id if article is not None and article.brand_id == hc.brand.id else None


def _email_limit_key() -> str:
    email = (posted().email.data or "").strip().lower()[:254]
    if current_user.is_authenticated:
        email = current_user.email
    return "inquiry-email:" + email


def _inquiry_limit() -> str:
    return current_app.config["INQUIRY_RATE_LIMIT"]


def _inquiry_email_limit() -> str:
    return current_app.config["INQUIRY_EMAIL_RATE_LIMIT"]


def _is_submit() -> bool:
    return request.method == "POST" and not posted().refresh


def _stores_files() -> bool:
    """Sending, or refreshing the questions with files chosen (without JavaScript; htmx's
    refresh sends no files): both keep the files, so both count against the IP's limit."""
    posted = request.method == "POST" and request.files
    return _is_submit() or bool(posted and any(f.filename for _k, f in request.files.items(True)))


# What a POST counted for the rate limits (g.inquiry_counted: intake's Outcome.counts_as): a
# person fixing mistakes is not counted, an accepted send and the signs of a robot are, and so
# is every request that stored files (the IP's limit only).
def _counts_for_address(_response) -> bool:
    return g.get("inquiry_counted") in (intake.ACCEPTED, intake.ABUSE, intake.FILES)


def _counts_for_email(_response) -> bool:
    return g.get("inquiry_counted") in (intake.ACCEPTED, intake.ABUSE)


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
    if request.method == "GET":
        sub = intake.Submission(answers=Answers(form).prefill(request.args))
        return _show(hc, form, intake.Outcome(intake.UNSENT, sub), _issue_key())
    sent = posted()
    key, issued = intake.open_key(
        current_app.config["SECRET_KEY"], sent.key.data, current_app.config["INQUIRY_KEY_MAX_AGE"]
    )
    outcome = intake.submit(
        db.session,
        _requester(),
        form,
        sent.inquiry(form, request.args),
        key=key,
        issued=issued,
        brand=hc.brand,
        locale=hc.locale,
        details=_details(hc),
        uploads_dir=downloads.uploads_dir(),
        now=clock.now(),
        min_seconds=current_app.config["INQUIRY_MIN_SECONDS"],
    )
    g.inquiry_counted = outcome.counts_as
    return _answer(hc, form, outcome, sent.key.data or "")


def _issue_key() -> str:
    return intake.issue_key(current_app.config["SECRET_KEY"])


def _requester() -> intake.Requester:
    return intake.Requester(current_user.user if current_user.is_authenticated else None)


def _details(hc) -> dict:
    """What this door knows about the sending besides the answers."""
    return {
        "user_agent": (request.user_agent.string or "")[:300],
        "referrer_article_id": _referring_article(hc),
    }


# The notice above a form shown again, by what became of the sending (intake.Outcome.state).
def _notice(outcome: intake.Outcome) -> str | None:
    if outcome.state == intake.EXPIRED:
        return _("This form was open for a long time. Please check it and send it again.")
    if outcome.state == intake.TOO_QUICK:
        return _("That was quick! Please check your request and send it again.")
    if outcome.state == intake.BLOCKED:
        return error_message("requester_blocked")
    if outcome.state == intake.REFUSED and outcome.newly_shown and not outcome.errors:
        return _("Your answers opened more questions. Please answer them and send again.")
    return None


_STATUS = {intake.EXPIRED: 400, intake.TOO_QUICK: 400, intake.REFRESHED: 200}


def _answer(hc, form, outcome: intake.Outcome, key_token: str):
    """The page for what became of a sending: the request (303), the thanks that a robot gets,
    or the form again (an expired key gets a fresh one; everything typed is kept)."""
    if outcome.state == intake.SENT:
        return _sent(hc, outcome.ticket)
    if outcome.state == intake.DROPPED:
        log.info("Inquiry dropped: honeypot filled (form %s)", form.id)
        return render("requests/sent.html", hc=hc, ticket=None, status=200)
    if outcome.state == intake.EXPIRED:
        key_token = _issue_key()
    return _show(
        hc,
        form,
        outcome,
        key_token,
        notice=_notice(outcome),
        status=_STATUS.get(outcome.state, 422),
        fragment=outcome.state == intake.REFRESHED and bool(request.htmx),
    )


def _show(hc, form, outcome: intake.Outcome, key_token, notice=None, status=200, fragment=False):
    context = dict(
        hc=hc,
        form=form,
        page=InquiryPage.of(hc, form, outcome, error_message, current_user.is_authenticated),
        key_token=key_token,
        notice=notice,
        came_from=came_from() or request.referrer or "",
        article_id=_referring_article(hc),
        action_url=url_for(
            "requests.new_request", brand=hc.brand.slug, locale=hc.locale, **request.args
        ),
    )
    return render("requests/form.html", "questions" if fragment else None, status=status, **context)


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
    key, _issued = intake.open_key(
        current_app.config["SECRET_KEY"],
        request.args.get("key"),
        current_app.config["INQUIRY_KEY_MAX_AGE"],
    )
    if key is not None:
        form_id = parse_id(request.args.get("form", ""))
        now = clock.now()
        intake.note_suggestion_opened(db.session, hc.brand.id, form_id, article_id, key, now)
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
    sent = posted()
    values = sent.answers(form)
    query = {k: v for k, v in request.args.items() if k != "form"}
    sub = intake.check_submission(form, values, query, current_user.is_authenticated)
    sub.errors = {}
    key_token = sent.key.data or _issue_key()
    return _show(hc, form, intake.Outcome(intake.UNSENT, sub), key_token, notice, status)
