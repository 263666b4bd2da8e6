"""Public help-center pages: parse the request, ask kb/, render."""

import logging

from flask import abort, current_app, g, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user

from kb import clock, helpcenter, labels, votes
from kb.locales import negotiate
from kb.search import visitor
from kb.slugs import split_id_slug
from portal.blueprints.helpcenter import bp, readings
from portal.blueprints.helpcenter.forms import SearchQuery, VoteForm, click_position, page_arg
from portal.extensions import db
from portal.search import service as search_service
from portal.web.pagecache import cached_page
from portal.web.rendering import render, wants_fragment
from portal.web.tenancy import brand_or_404, helpcenter_or_404, use_locale

log = logging.getLogger(__name__)

LOCALE_COOKIE = "locale"
VOTED_KEY = "voted"
UNHELPFUL_KEY = "unhelpful"  # the articles this visitor said did not help: offered more help


@bp.after_app_request
def remember_locale(response):
    """The locale a visitor last read in is the one /<brand>/ sends them to next time."""
    hc = g.get("hc")
    if hc is not None and response.status_code < 400:
        if request.cookies.get(LOCALE_COOKIE) != hc.locale:
            response.set_cookie(
                LOCALE_COOKIE, hc.locale, max_age=365 * 24 * 3600, samesite="Lax", httponly=True
            )
    return response


@bp.after_request
def count_article_view(response):
    """A reading of an article counts toward "Popular articles" in its locale. Counted here, not
    in article(): a page served from the page cache is a reading too."""
    if (
        request.endpoint == "helpcenter.article"
        and request.method == "GET"
        and response.status_code == 200
        and not wants_fragment()
        and g.get("hc") is not None
    ):
        parsed = split_id_slug((request.view_args or {}).get("id_slug", ""))
        if parsed is not None:
            hc = g.hc
            readings.add(current_app, hc.brand.id, parsed[0], hc.locale, clock.now().date())
    return response


def _page_arg() -> int:
    return page_arg(request.args)


def _id_or_404(id_slug: str) -> tuple[int, str]:
    parsed = split_id_slug(id_slug)
    if parsed is None:
        abort(404)
    return parsed


@bp.get("/")
def index():
    brands = helpcenter.active_brands(db.session)
    if len(brands) == 1:
        return redirect(url_for(".brand_root", brand=brands[0].slug))
    return render("helpcenter/index.html", brands=brands)


@bp.get("/<brand>/")
def brand_root(brand):
    found = brand_or_404(brand)
    accept = [(value, quality) for value, quality in request.accept_languages]
    locale = negotiate(
        found.locales, found.default_locale, request.cookies.get(LOCALE_COOKIE), accept
    )
    response = redirect(url_for(".home", brand=found.slug, locale=locale), 302)
    response.vary.add("Accept-Language")
    response.vary.add("Cookie")
    return response


def _voted_variant(id_slug: str) -> str | None:
    """The article page differs for a visitor who has voted on it ("No" offers more help)."""
    parsed = split_id_slug(id_slug)
    if parsed is None or parsed[0] not in session.get(VOTED_KEY, []):
        return None
    return "no" if parsed[0] in session.get(UNHELPFUL_KEY, []) else "yes"


@bp.get("/<brand>/<locale>/")
@cached_page()
def home(brand, locale):
    hc = helpcenter_or_404(brand, locale)
    now = clock.now()
    return render("helpcenter/home.html", hc=hc, now=now, **helpcenter.home(db.session, hc, now))


@bp.get("/<brand>/<locale>/categories/<id_slug>")
@cached_page()
def category(brand, locale, id_slug):
    hc = helpcenter_or_404(brand, locale)
    category_id, slug = _id_or_404(id_slug)
    node = helpcenter.category(db.session, hc, category_id)
    if node is None:
        abort(404)
    if slug != node.slug:
        return redirect(
            url_for(".category", brand=brand, locale=locale, id_slug=f"{node.id}-{node.slug}"), 301
        )
    previews = helpcenter.section_previews(
        db.session, hc, [s.id for s in node.children], clock.now(), per_section=6
    )
    return render("helpcenter/category.html", hc=hc, category=node, previews=previews)


@bp.get("/<brand>/<locale>/sections/<id_slug>")
@cached_page()
def section(brand, locale, id_slug):
    hc = helpcenter_or_404(brand, locale)
    section_id, slug = _id_or_404(id_slug)
    found = helpcenter.section(db.session, hc, section_id)
    if found is None:
        abort(404)
    node, parent = found
    if slug != node.slug:
        return redirect(
            url_for(".section", brand=brand, locale=locale, id_slug=f"{node.id}-{node.slug}"), 301
        )
    page = _page_arg()
    items, total = helpcenter.section_articles(db.session, hc, node.id, clock.now(), page)
    if page > 1 and not items:
        abort(404)
    return render(
        "helpcenter/section.html",
        "articles",
        hc=hc,
        section=node,
        category=parent,
        items=items,
        page=page,
        pages=max(1, -(-total // helpcenter.PAGE_SIZE)),
        total=total,
    )


def _article_or_404(hc, article_id: int):
    view = helpcenter.article(db.session, hc, article_id, clock.now())
    if view is None:
        abort(404)
    return view


@bp.get("/<brand>/<locale>/articles/<id_slug>")
@cached_page(variant=_voted_variant)
def article(brand, locale, id_slug):
    hc = helpcenter_or_404(brand, locale)
    article_id, slug = _id_or_404(id_slug)
    view = _article_or_404(hc, article_id)
    if slug != view.translation.slug:
        return redirect(
            url_for(
                ".article",
                brand=brand,
                locale=locale,
                id_slug=f"{article_id}-{view.translation.slug}",
            ),
            301,
        )
    now = clock.now()
    where = helpcenter.section(db.session, hc, view.article.section_id)
    return render(
        "helpcenter/article.html",
        hc=hc,
        view=view,
        now=now,
        files=helpcenter.article_files(db.session, view),
        labels=labels.customer_names(db.session, hc.brand.id, hc.locale, view.article.label_names),
        section=where[0] if where else None,
        category=where[1] if where else None,
        related=helpcenter.related(db.session, hc, view, now),
        voted=view.article.id in session.get(VOTED_KEY, []),
        unhelpful=view.article.id in session.get(UNHELPFUL_KEY, []),
        switch_urls={
            loc: url_for(
                ".article",
                brand=brand,
                locale=loc,
                id_slug=f"{article_id}-{view.slugs.get(loc, view.translation.slug)}",
            )
            for loc in hc.locales
        },
    )


def _remember_vote(article_id: int, helpful: bool) -> None:
    """This visitor has voted on the article (kept for the last 100); "no" offers more help."""
    session[VOTED_KEY] = (session.get(VOTED_KEY, []) + [article_id])[-100:]
    if not helpful:
        session[UNHELPFUL_KEY] = (session.get(UNHELPFUL_KEY, []) + [article_id])[-100:]


def _vote_block(hc, view, error: str | None):
    """The article's vote block (htmx): thanks, more help after a "no", or the error."""
    unhelpful = error is None and view.article.id in session.get(UNHELPFUL_KEY, [])
    return render(
        "helpcenter/article.html",
        "vote",
        hc=hc,
        view=view,
        voted=error is None,
        vote_error=error,
        unhelpful=unhelpful,
        related=helpcenter.related(db.session, hc, view, clock.now()) if unhelpful else [],
    )


def _vote_refused(hc, view, error: str):
    """The whole article page with the vote's error, without JavaScript."""
    return render(
        "helpcenter/article.html",
        hc=hc,
        view=view,
        voted=False,
        vote_error=error,
        now=clock.now(),
        section=None,
        category=None,
        related=[],
        status=400,
    )


@bp.post("/<brand>/<locale>/articles/<id:article_id>/vote")
def vote(brand, locale, article_id):
    hc = helpcenter_or_404(brand, locale)
    view = _article_or_404(hc, article_id)
    form = VoteForm()
    if not form.validate_on_submit():
        error = _("Please choose yes or no.")
        return _vote_block(hc, view, error) if request.htmx else _vote_refused(hc, view, error)
    if article_id not in session.get(VOTED_KEY, []):
        helpful = form.helpful.data == "yes"
        # The language actually read: a fallback translation counts for its own language.
        votes.record(db.session, article_id, view.translation.locale, helpful)
        _remember_vote(article_id, helpful)
    if request.htmx:
        return _vote_block(hc, view, None)
    target = url_for(
        ".article", brand=brand, locale=locale, id_slug=f"{article_id}-{view.translation.slug}"
    )
    return redirect(target + "#vote", 303)


@bp.get("/<brand>/<locale>/faq")
@cached_page()
def faq(brand, locale):
    hc = helpcenter_or_404(brand, locale)
    items = helpcenter.faq(db.session, hc, clock.now())
    tree = helpcenter.category_tree(db.session, hc)
    sections = {s.id: s for c in tree for s in c.children}
    groups: dict[int, list] = {}
    for item in items:
        groups.setdefault(item.article.section_id, []).append(item)
    return render("helpcenter/faq.html", hc=hc, groups=groups, sections=sections)


@bp.get("/<brand>/<locale>/notices")
@cached_page()
def notices(brand, locale):
    hc = helpcenter_or_404(brand, locale)
    page = _page_arg()
    size = helpcenter.PAGE_SIZE
    now = clock.now()
    items = helpcenter.by_kind(
        db.session, hc, ("notice", "event"), now, limit=size + 1, offset=(page - 1) * size
    )
    if page > 1 and not items:
        abort(404)
    return render(
        "helpcenter/notices.html",
        "items",
        hc=hc,
        now=now,
        items=items[:size],
        page=page,
        has_next=len(items) > size,
    )


@bp.get("/<brand>/<locale>/search")
def search(brand, locale):
    """Full search page; with ?instant=1 and htmx, the dropdown under a search box."""
    hc = helpcenter_or_404(brand, locale)
    query = SearchQuery.from_args(request.args, htmx=bool(request.htmx))
    page = visitor.search(
        db.session,
        hc,
        query.request(hc, clock.now()),
        search_service().search,
        full_page=not query.instant,
    )
    context = dict(
        hc=hc,
        text=query.text,
        results=page.results,
        found=page.found,
        all_languages=query.all_languages,
        kind=query.kind,
        section_id=query.section_id,
    )
    if query.instant:
        return render("helpcenter/search.html", "instant", **context)
    return render(
        "helpcenter/search.html",
        "results",
        **context,
        links=query.links(hc),
        log_id=page.log_id,
        section_names=page.section_names,
        popular=page.popular,
        staff_notice=page.results.fallback
        and current_user.is_authenticated
        and current_user.user.role == "staff",
    )


@bp.get("/<brand>/<locale>/search/click/<id:log_id>/<id:article_id>")
def search_click(brand, locale, log_id, article_id):
    """Counts a result opened from a search (no visitor data), then goes to the article."""
    hc = helpcenter_or_404(brand, locale)
    view = _article_or_404(hc, article_id)
    position = click_position(request.args)
    visitor.count_click(db.session, hc, log_id, article_id, position)
    return redirect(
        url_for(
            ".article", brand=brand, locale=locale, id_slug=f"{article_id}-{view.translation.slug}"
        ),
        303,
    )


@bp.get("/preview/<token>")
def draft_preview(token):
    """A draft exactly as it will look, for a reviewer without an account (signed, expiring)."""
    from itsdangerous import BadSignature, URLSafeTimedSerializer

    from kb.models import Article, Brand, Translation

    if not token or len(token) > 500:
        abort(404)
    serializer = URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="draft-preview")
    max_age = current_app.config["PREVIEW_LINK_DAYS"] * 24 * 3600
    try:
        payload = serializer.loads(token, max_age=max_age)
    except BadSignature:
        abort(404)
    t = db.session.get(Translation, payload.get("t") if isinstance(payload, dict) else None)
    if t is None:
        abort(404)
    article = db.session.get(Article, t.article_id)
    brand = db.session.get(Brand, article.brand_id)
    g.timezone = brand.timezone
    use_locale(t.locale)
    hc = helpcenter.HelpCenter(brand=brand, locale=t.locale)
    view = helpcenter.ArticleView(article=article, translation=t, slugs={}, _wanted=t.locale)
    response = render(
        "helpcenter/article.html",
        hc=hc,
        view=view,
        now=clock.now(),
        preview=True,
        related=[],
        section=None,
        category=None,
        voted=True,
    )
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    response.headers["Cache-Control"] = "private, no-store"
    return response
