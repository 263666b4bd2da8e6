"""Knowledge-base back-office: article lists, the editor, revisions, structure, schedule."""

import difflib
from datetime import timedelta
from zoneinfo import ZoneInfo

from flask import abort, current_app, flash, g, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from itsdangerous import URLSafeTimedSerializer
from markupsafe import Markup
from sqlalchemy import select

from kb import clock, editing, insights, structure
from kb.authoring import (
    ArticleInput,
    TranslationInput,
    create_article,
    parse_labels,
    restore_revision,
    save_translation,
    source_translation,
)
from kb.markdown import MarkdownError, render
from kb.models import Brand, Translation
from kb.people import CustomerOrganization
from kb.visibility import is_scheduled
from kb.votes import tally_by_locale
from portal import access
from portal.blueprints.admin import bp
from portal.blueprints.admin.forms import (
    KIND_LABELS,
    LIST_STATES,
    ArticleListForm,
    CategoryForm,
    PreviewForm,
    SectionForm,
    TranslationForm,
    choices,
    to_local,
    to_utc,
)
from portal.desk import tickets
from portal.extensions import db
from portal.web.ids import parse_id
from portal.web.messages import error_text
from portal.web.rendering import render as render_page

PREVIEW_SALT = "draft-preview"
# /admin/ leads to the first of these the member may use.
FIRST_PAGES = (
    ("kb.write", "admin.kb_articles"),
    ("forms", "admin.inquiry_forms"),
    ("members", "admin.members_list"),
    ("security", "admin.security_settings"),
    ("settings", "admin.groups"),
)


def _int_arg(name: str) -> int | None:
    value = request.args.get(name, "")
    return parse_id(value)


@bp.before_request
def content_permissions():
    """The knowledge base's pages are for writers (kb.write), the forms' for forms."""
    endpoint = request.endpoint or ""
    if endpoint.startswith(("admin.kb_", "admin.attachment")) and not access.may("kb.write"):
        abort(403)
    if endpoint.startswith("admin.inquiry_") and not access.may("forms"):
        abort(403)


@bp.get("/")
def index():
    """The first back-office page the member may use."""
    for permission, endpoint in FIRST_PAGES:
        if access.may(permission):
            return redirect(url_for(endpoint))
    abort(403)


@bp.get("/kb/")
def kb_articles():
    brands = access.content_brands(db.session)
    form = ArticleListForm(formdata=request.args)
    brand = form.chosen_brand(brands)
    locales = sorted({loc for b in brands for loc in b.locales})
    sections = editing.section_choices(db.session, brand) if brand else []
    filters = form.filters(brands, brand, locales, sections)
    now = clock.now()
    rows, total = editing.articles(db.session, filters, now)
    return render_page(
        "admin/articles.html",
        "results",
        brands=brands,
        brand=brand,
        locales=locales,
        filters=filters,
        rows=rows,
        total=total,
        now=now,
        authors=editing.authors(db.session),
        sections=sections,
        status_values=LIST_STATES,
        kinds=KIND_LABELS,
        pages=max(1, -(-total // editing.ADMIN_PAGE_SIZE)),
        new_article_url=_new_article_url(brands, brand or _only_brand(brands), filters.locale),
    )


def _new_article_url(brands, brand, locale) -> str | None:
    """Where "New article" leads: the brand chosen, in the language chosen if the brand has it;
    without a brand, the page where the editor chooses one (keeping the language chosen)."""
    if not brands:
        return None
    if brand is None:
        return url_for(".kb_article_new", locale=locale)
    return url_for(
        ".kb_article_new", brand=brand.slug, locale=locale if locale in brand.locales else None
    )


def _article_input(form: TranslationForm, brand) -> ArticleInput:
    return ArticleInput(
        section_id=form.section_id.data,
        kind=form.kind.data,
        labels=parse_labels(form.labels.data or ""),
        promoted=bool(form.promoted.data),
        position=form.position.data or 0,
        event_at=to_utc(form.event_at.data, brand.timezone),
    )


def _translation_input(form: TranslationForm, brand) -> TranslationInput:
    return TranslationInput(
        title=form.title.data or "",
        slug=form.slug.data or "",
        body_md=form.body_md.data or "",
        status=form.status.data,
        publish_at=to_utc(form.publish_at.data, brand.timezone),
        unpublish_at=to_utc(form.unpublish_at.data, brand.timezone),
        may_publish=access.may("kb.publish", brand.id),
    )


def _show_errors(form: TranslationForm, result) -> None:
    for name, code in result.errors.items():
        target = getattr(form, name, None)
        message = error_text(code, "article")
        if target is not None:
            target.errors = [*target.errors, message]
        else:
            form.form_errors.append(message)


def _flash_saved(result, brand, now) -> None:
    """The notices, then "saved" (with the time a scheduled article goes live, written as the
    schedule page writes it)."""
    for code in result.notices:
        flash(error_text(code, "article"), "notice")
    t = result.translation
    if is_scheduled(t, now):
        when = local_time(t.publish_at, brand.timezone)
        flash(_("Article saved. It goes live %(when)s.", when=when), "success")
    else:
        flash(_("Article saved."), "success")


def _editor_page(
    form, brand, article, locale, source=None, conflict=None, preview=None, status=200
):
    return render_page(
        "admin/edit.html",
        status=status,
        form=form,
        brand=brand,
        article=article,
        locale=locale,
        source=source,
        conflict=conflict,
        preview=preview,
        translations=(
            {
                t.locale: t
                for t in db.session.scalars(
                    select(Translation).where(Translation.article_id == article.id)
                )
            }
            if article
            else {}
        ),
        votes=tally_by_locale(db.session, article.id) if article else {},
    )


def _preview_of(form) -> str | None:
    """The rendered text for "Preview without saving" (never a save, even if it fails)."""
    if request.method != "POST" or form.action.data != "preview":
        return None
    try:
        return render(form.body_md.data or "").html
    except MarkdownError:
        return str(Markup('<p class="error">{}</p>').format(_("The text could not be rendered.")))


@bp.route("/kb/articles/new", methods=["GET", "POST"])
def kb_article_new():
    slug = request.values.get("brand") or _only_brand_slug()
    if slug is None and request.method == "GET":
        # Reached from the unfiltered list: the brand (and the language) are chosen here first.
        return render_page(
            "admin/new_article.html",
            brands=access.content_brands(db.session),
            locale=request.args.get("locale"),
        )
    brand = access.brand_for_editor_or_404(db.session, slug)
    g.timezone = brand.timezone  # the publishing fields are typed in the brand's zone
    locale = request.values.get("locale") or brand.default_locale
    if locale not in brand.locales:
        abort(404)
    form = TranslationForm()
    form.section_id.choices = choices(editing.section_choices(db.session, brand))
    if request.method == "GET":
        form.status.data = "draft"
    preview = _preview_of(form)
    if request.method == "POST" and preview is None and form.validate_on_submit():
        now = clock.now()
        result = create_article(
            db.session,
            brand,
            locale,
            _article_input(form, brand),
            _translation_input(form, brand),
            current_user.id,
            now,
        )
        if result.ok:
            _flash_saved(result, brand, now)
            t = result.translation
            return redirect(url_for(".kb_translation", article_id=t.article_id, locale=locale), 303)
        db.session.rollback()
        _show_errors(form, result)
    status = 400 if request.method == "POST" and preview is None else 200
    return _editor_page(form, brand, None, locale, preview=preview, status=status)


def _only_brand(brands) -> Brand | None:
    return brands[0] if len(brands) == 1 else None


def _only_brand_slug() -> str | None:
    brand = _only_brand(access.content_brands(db.session))
    return brand.slug if brand else None


def _editable_article_or_404(article_id, locale):
    """The article (for this editor) and its brand, in one of the brand's languages."""
    article = access.article_for_editor_or_404(db.session, article_id)
    brand = db.session.get(Brand, article.brand_id)
    g.timezone = brand.timezone  # the publishing fields are typed in the brand's zone
    if locale not in brand.locales:
        abort(404)
    return article, brand


def _save_posted(form, article, locale, brand, now):
    """The save's result, or None when the form itself was refused (its errors are on it)."""
    if not form.validate_on_submit():
        return None
    return save_translation(
        db.session,
        article,
        locale,
        _article_input(form, brand),
        _translation_input(form, brand),
        parse_id(form.base_version.data),
        current_user.id,
        now,
    )


def _refused(form, result):
    """The save was refused: say why on the form. Returns the conflicting version (if someone
    else saved meanwhile) and the status to answer."""
    if result is None:
        return None, 400
    db.session.rollback()
    if result.conflict is None:
        _show_errors(form, result)
        return None, 400
    form.base_version.data = str(result.conflict.version)  # saving again overwrites, knowingly
    form.form_errors.append(
        _(
            "Someone else saved this article while you were editing. Their version is "
            "shown below; your text is kept in the form. Save again to replace theirs."
        )
    )
    return result.conflict, 409


@bp.route("/kb/articles/<id:article_id>/<locale>", methods=["GET", "POST"])
def kb_translation(article_id, locale):
    article, brand = _editable_article_or_404(article_id, locale)
    current = db.session.scalar(
        select(Translation).where(
            Translation.article_id == article.id, Translation.locale == locale
        )
    )
    source = source_translation(db.session, article)
    form = TranslationForm()
    form.section_id.choices = choices(editing.section_choices(db.session, brand))
    if request.method == "GET":
        _fill(form, article, current, source, brand)
    preview = _preview_of(form)
    conflict, status = None, 200
    if request.method == "POST" and preview is None:
        now = clock.now()
        result = _save_posted(form, article, locale, brand, now)
        if result is not None and result.ok:
            _flash_saved(result, brand, now)
            return redirect(url_for(".kb_translation", article_id=article.id, locale=locale), 303)
        conflict, status = _refused(form, result)
    return _editor_page(
        form,
        brand,
        article,
        locale,
        source=source if source is not current else None,
        conflict=conflict,
        preview=preview,
        status=status,
    )


def _fill(form, article, current, source, brand) -> None:
    form.section_id.data = article.section_id
    form.kind.data = article.kind
    form.labels.data = ", ".join(article.label_names)
    form.promoted.data = article.promoted
    form.position.data = article.position
    form.event_at.data = to_local(article.event_at, brand.timezone)
    if current is None:
        form.status.data = "draft"
        form.base_version.data = ""
        return
    form.title.data = current.title
    form.slug.data = current.slug
    form.body_md.data = current.body_md
    form.status.data = current.status
    form.publish_at.data = to_local(current.publish_at, brand.timezone)
    form.unpublish_at.data = to_local(current.unpublish_at, brand.timezone)
    form.base_version.data = str(current.version)


@bp.post("/kb/preview")
def kb_preview():
    """The live preview: rendered exactly as the public page renders it (htmx partial)."""
    form = PreviewForm()
    if not form.validate_on_submit():
        return render_page(
            "admin/preview.html", html=None, error=_("The text is too long."), status=400
        )
    try:
        html = render(form.body_md.data or "").html
        error = None
    except MarkdownError:
        html, error = None, _("The text could not be rendered.")
    return render_page("admin/preview.html", html=html, error=error)


def _translation_or_404(article, locale) -> Translation:
    t = db.session.scalar(
        select(Translation).where(
            Translation.article_id == article.id, Translation.locale == locale
        )
    )
    if t is None:
        abort(404)
    return t


@bp.get("/kb/articles/<id:article_id>/<locale>/revisions")
def kb_revisions(article_id, locale):
    article = access.article_for_editor_or_404(db.session, article_id)
    g.timezone = db.session.get(Brand, article.brand_id).timezone  # as the article's editor
    t = _translation_or_404(article, locale)
    revisions = editing.revisions(db.session, t)  # newest first
    by_id = {r.id: r for r in revisions}
    a, b = by_id.get(_int_arg("a") or 0), by_id.get(_int_arg("b") or 0)
    diff = None
    if a and b and a.id != b.id:
        diff = list(
            difflib.unified_diff(
                f"# {a.title}\n\n{a.body_md}".splitlines(),
                f"# {b.title}\n\n{b.body_md}".splitlines(),
                fromfile=f"v{a.version}",
                tofile=f"v{b.version}",
                lineterm="",
                n=3,
            )
        )
    picked_a = picked_b = None
    if len(revisions) > 1:  # a single revision has nothing to be compared with
        # Until two are picked, the radios offer the last change: the one before vs the latest.
        picked_a, picked_b = a or revisions[1], b or revisions[0]
    return render_page(
        "admin/revisions.html",
        "diff",
        article=article,
        translation=t,
        revisions=revisions,
        a=a,
        b=b,
        diff=diff,
        locale=locale,
        picked_a=picked_a,
        picked_b=picked_b,
    )


@bp.post("/kb/articles/<id:article_id>/<locale>/revisions/<id:revision_id>/restore")
def kb_restore(article_id, locale, revision_id):
    article = access.article_for_editor_or_404(db.session, article_id)
    current = _translation_or_404(article, locale)
    revision = access.revision_for_editor_or_404(db.session, article, revision_id)
    PreviewForm()  # CSRF is checked for every POST by CSRFProtect
    if current.status != "draft" and not access.may("kb.publish", article.brand_id):
        abort(403)  # restoring changes the live text: publishing
    restore_revision(db.session, revision, current_user.id, clock.now())
    flash(_("Version %(version)s restored as a new version.", version=revision.version), "success")
    return redirect(url_for(".kb_translation", article_id=article.id, locale=locale), 303)


def preview_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=PREVIEW_SALT)


@bp.post("/kb/articles/<id:article_id>/<locale>/share")
def kb_share(article_id, locale):
    article = access.article_for_editor_or_404(db.session, article_id)
    t = _translation_or_404(article, locale)
    token = preview_serializer().dumps({"t": t.id})
    link = url_for("helpcenter.draft_preview", token=token, _external=True)
    days = current_app.config["PREVIEW_LINK_DAYS"]
    flash(_("Preview link (valid for %(days)s days): %(link)s", days=days, link=link), "link")
    return redirect(url_for(".kb_translation", article_id=article.id, locale=locale), 303)


@bp.get("/kb/schedule")
def kb_schedule():
    now = clock.now()
    events = editing.upcoming(db.session, access.content_brand_ids(db.session), now)
    return render_page("admin/schedule.html", events=events, now=now)


STATE_LABELS = {
    "draft": _l("Draft"),
    "published": _l("Published"),
    "archived": _l("Archived"),
    "scheduled": _l("Scheduled"),
    "missing": _l("Missing translation"),
    "outdated": _l("Outdated translation"),
}


@bp.app_template_global()
def state_label(state: str) -> str:
    return str(STATE_LABELS.get(state, state))


@bp.app_template_filter()
def reject_key(mapping: dict, key: str) -> dict:
    return {k: v for k, v in mapping.items() if k != key}


@bp.app_template_global()
def local_time(value, timezone: str) -> str:
    """A time in the brand's timezone, with the zone's name (schedules are read per brand)."""
    local = value.astimezone(ZoneInfo(timezone))
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()}"


def _node_titles(tree) -> dict[str, dict[str, str]]:
    """Each category's and section's titles by language, under its form's key."""
    titles = {}
    for category in tree:
        titles[f"category-{category.id}"] = {t.locale: t.title for t in category.translations}
        for section in category.sections:
            titles[f"section-{section.id}"] = {t.locale: t.title for t in section.translations}
    return titles


def _structure_page(brand, brands, failed=None, status=200):
    """failed: (form key, {field: message}, typed values) of a form that was refused."""
    tree = structure.tree(db.session, brand) if brand else []
    return render_page(
        "admin/structure.html",
        status=status,
        brand=brand,
        brands=brands,
        tree=tree,
        node_titles=_node_titles(tree),
        failed=failed,
        organizations=db.session.execute(
            select(CustomerOrganization.id, CustomerOrganization.name).order_by(
                CustomerOrganization.name
            )
        ).all(),
    )


def _structure_errors(result_errors: dict, count: int = 0) -> dict[str, str]:
    return {k: error_text(v, "structure", count=count) for k, v in result_errors.items()}


@bp.get("/kb/structure")
def kb_structure():
    brand, brands = access.chosen_content_brand(db.session, request.values.get("brand"))
    return _structure_page(brand, brands)


def _back_to_structure(brand, anchor=""):
    return redirect(url_for(".kb_structure", brand=brand.slug) + anchor, 303)


def _node_brand(node, form):
    """The brand of an existing category or section, or the one a new one is posted for."""
    if node is not None:
        return db.session.get(Brand, node.brand_id)
    return access.brand_for_editor_or_404(db.session, form.brand.data)


def _after_save(kind: str, node_id, brand, form, result, saved_message: str):
    """Back to the structure page, or the page again with the form's errors and values."""
    if not result.ok:
        db.session.rollback()
        failed = (f"{kind}-{node_id or 'new'}", _structure_errors(result.errors), form.typed())
        return _structure_page(brand, access.content_brands(db.session), failed, status=400)
    flash(saved_message, "success")
    return _back_to_structure(brand, f"#{kind}-{result.node.id}")


def _after_delete(kind: str, node_id, brand, error, count: int, deleted_message: str):
    """Back to the structure page, or the page again saying why the delete was refused."""
    if error:
        message = _structure_errors({"delete": error}, count)["delete"]
        failed = (f"{kind}-{node_id}", {"delete": message}, {})
        return _structure_page(brand, access.content_brands(db.session), failed, status=409)
    flash(deleted_message, "success")
    return _back_to_structure(brand)


@bp.post("/kb/structure/categories")
@bp.post("/kb/structure/categories/<id:category_id>")
def kb_category_save(category_id=None):
    category = access.category_for_editor_or_404(db.session, category_id) if category_id else None
    form = CategoryForm()
    form.validate_on_submit()  # CSRF is checked for every POST by CSRFProtect; kb checks the rest
    brand = _node_brand(category, form)
    result = structure.save_category(
        db.session, brand, form.titles_in(brand.locales), form.position_value(), category
    )
    return _after_save("category", category_id, brand, form, result, _("Category saved."))


@bp.post("/kb/structure/categories/<id:category_id>/delete")
def kb_category_delete(category_id):
    category = access.category_for_editor_or_404(db.session, category_id)
    brand = db.session.get(Brand, category.brand_id)
    count = editing.articles_in(db.session, category_id=category.id)
    error = structure.delete_category(db.session, category, count)
    return _after_delete("category", category_id, brand, error, count, _("Category deleted."))


@bp.post("/kb/structure/sections")
@bp.post("/kb/structure/sections/<id:section_id>")
def kb_section_save(section_id=None):
    section = access.section_for_editor_or_404(db.session, section_id) if section_id else None
    form = SectionForm()
    form.validate_on_submit()  # CSRF is checked for every POST by CSRFProtect; kb checks the rest
    brand = _node_brand(section, form)
    result = structure.save_section(
        db.session,
        brand,
        parse_id(form.category_id.data),
        form.titles_in(brand.locales),
        form.position_value(),
        section,
        audience=form.audience.data if form.audience.raw_data else "everyone",
        organization_ids=form.chosen_organizations(),
    )
    return _after_save("section", section_id, brand, form, result, _("Section saved."))


@bp.post("/kb/structure/sections/<id:section_id>/delete")
def kb_section_delete(section_id):
    section = access.section_for_editor_or_404(db.session, section_id)
    brand = db.session.get(Brand, section.brand_id)
    count = editing.articles_in(db.session, section_id=section.id)
    error = structure.delete_section(db.session, section, count)
    return _after_delete("section", section_id, brand, error, count, _("Section deleted."))


@bp.get("/kb/search-insights")
def kb_search_insights():
    brands = access.content_brands(db.session)
    brand = {b.slug: b for b in brands}.get(request.args.get("brand", ""))
    days = _int_arg("days") or 30
    days = days if days in (7, 30, 90) else 30
    stats = insights.search_stats(
        db.session,
        [b.id for b in brands],
        clock.now(),
        days=days,
        brand_id=brand.id if brand else None,
    )
    deflected = tickets.deflection(
        db.session,
        [b.id for b in brands],
        clock.now() - timedelta(days=days),
        brand_id=brand.id if brand else None,
    )
    return render_page(
        "admin/search_insights.html",
        "tables",
        brands=brands,
        brand=brand,
        days=days,
        stats=stats,
        deflected=deflected,
    )
