"""Writing articles: validation, saving with revisions, conflicts, schedules and translations.

Flask-free. Functions take the session, the actor's id and `now`; errors come back as codes per
field, which the web layer words in the editor's language.
"""

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from kb.markdown import MarkdownError, render
from kb.models import (
    ARTICLE_KINDS,
    TRANSLATION_STATUSES,
    Article,
    ArticleLabel,
    Brand,
    Revision,
    Section,
    Translation,
)
from kb.slugs import slugify

MAX_TITLE = 300
MAX_LABELS = 20
MAX_LABEL_CHARS = 64


@dataclass
class ArticleInput:
    """Article-level fields, shared by every translation."""

    section_id: int | None
    kind: str = "guide"
    labels: list[str] = field(default_factory=list)
    promoted: bool = False
    position: int = 0
    event_at: datetime | None = None


@dataclass
class TranslationInput:
    """One language's fields."""

    title: str
    body_md: str
    slug: str = ""
    status: str = "draft"
    publish_at: datetime | None = None
    unpublish_at: datetime | None = None
    # False for writers without the right to publish: drafts only, published text untouched.
    may_publish: bool = True


@dataclass
class SaveResult:
    translation: Translation | None = None
    errors: dict[str, str] = field(default_factory=dict)  # field -> error code
    notices: list[str] = field(default_factory=list)  # e.g. "published_now"
    conflict: Translation | None = None  # the newer saved state, when the save was refused

    @property
    def ok(self) -> bool:
        return not self.errors and self.conflict is None


def parse_labels(text: str) -> list[str]:
    labels = []
    for raw in (text or "").replace("\n", ",").split(","):
        label = " ".join(raw.split()).lower()[:MAX_LABEL_CHARS]
        if label and label not in labels:
            labels.append(label)
    return labels


def is_outdated(translation: Translation, source: Translation | None) -> bool:
    """A translation is outdated when its source language was saved again after it."""
    if source is None or source.id == translation.id:
        return False
    return (translation.source_version or 0) < source.version


def _check_article(session: Session, brand: Brand, data: ArticleInput, errors: dict) -> None:
    section = session.get(Section, data.section_id) if data.section_id else None
    if section is None or section.brand_id != brand.id:
        errors["section_id"] = "section_unknown"
    if data.kind not in ARTICLE_KINDS:
        errors["kind"] = "kind_unknown"
    if len(data.labels) > MAX_LABELS:
        errors["labels"] = "too_many_labels"


def _check_translation(
    session: Session,
    brand: Brand,
    locale: str,
    data: TranslationInput,
    existing: Translation | None,
    now: datetime,
    errors: dict,
    notices: list,
):
    """Validate one language's fields; returns (slug, rendered, publish_at) when valid."""
    translation_id = existing.id if existing is not None else None
    title = " ".join((data.title or "").split())
    if not title:
        errors["title"] = "title_required"
    elif len(title) > MAX_TITLE:
        errors["title"] = "title_too_long"
    if locale not in brand.locales:
        errors["locale"] = "locale_not_enabled"
    if data.status not in TRANSLATION_STATUSES:
        errors["status"] = "status_unknown"
    elif not data.may_publish and (
        data.status != "draft"
        or data.publish_at is not None
        or (existing is not None and existing.status != "draft")
    ):
        errors["status"] = "publish_not_allowed"
    slug = slugify(data.slug or title)
    if title and _slug_taken(session, brand.id, locale, slug, translation_id):
        errors["slug"] = "slug_taken"
    try:
        rendered = render(data.body_md or "")
    except MarkdownError:
        errors["body_md"] = "body_unrenderable"
        rendered = None
    publish_at = data.publish_at
    if _publish_time_kept(existing, data):
        publish_at = existing.publish_at
    elif data.status == "published":
        if publish_at is None:
            publish_at = now
        elif publish_at < now:
            notices.append("published_now")
            publish_at = now
    if data.unpublish_at is not None and data.unpublish_at <= (publish_at or now):
        errors["unpublish_at"] = "unpublish_before_publish"
    return title, slug, rendered, publish_at


def _publish_time_kept(existing: Translation | None, data: TranslationInput) -> bool:
    """A published translation saved with the publish time it had keeps it to the second.

    The editor shows times to the minute, so the typed value is the stored one cut to the minute;
    re-dating it would turn every unchanged save into "published now" and lift old notices.
    """
    if existing is None or existing.status != "published" or data.status != "published":
        return False
    if existing.publish_at is None or data.publish_at is None:
        return False
    return data.publish_at == existing.publish_at.replace(second=0, microsecond=0)


def _slug_taken(session, brand_id, locale, slug, translation_id) -> bool:
    stmt = (
        select(Translation.id)
        .join(Article, Article.id == Translation.article_id)
        .where(Article.brand_id == brand_id, Translation.locale == locale, Translation.slug == slug)
    )
    if translation_id is not None:
        stmt = stmt.where(Translation.id != translation_id)
    return session.scalar(stmt.limit(1)) is not None


def _apply_article(article: Article, data: ArticleInput) -> None:
    article.section_id = data.section_id
    article.kind = data.kind
    article.promoted = data.promoted
    article.position = data.position
    article.event_at = data.event_at if data.kind == "event" else None
    wanted = parse_labels(",".join(data.labels))
    existing = {label.name: label for label in article.labels}
    article.labels = [existing.get(name) or ArticleLabel(name=name) for name in wanted]


def _apply_translation(t, title, slug, rendered, publish_at, data, author_id, source, now):
    t.title, t.slug, t.body_md = title, slug, data.body_md or ""
    t.body_html, t.toc = rendered.html, rendered.toc
    t.status, t.publish_at, t.unpublish_at = data.status, publish_at, data.unpublish_at
    t.author_id = author_id
    t.updated_at = now
    if source is not None and source is not t:
        t.source_version = source.version


def _revision(t: Translation, author_id: int | None, now: datetime, note: str = "") -> Revision:
    return Revision(
        translation_id=t.id,
        version=t.version,
        title=t.title,
        slug=t.slug,
        body_md=t.body_md,
        status=t.status,
        publish_at=t.publish_at,
        unpublish_at=t.unpublish_at,
        author_id=author_id,
        note=note,
        created_at=now,
    )


def source_translation(session: Session, article: Article) -> Translation | None:
    return session.scalar(
        select(Translation).where(
            Translation.article_id == article.id, Translation.locale == article.source_locale
        )
    )


def create_article(
    session: Session,
    brand: Brand,
    locale: str,
    article_data: ArticleInput,
    data: TranslationInput,
    author_id: int | None,
    now: datetime,
) -> SaveResult:
    """A new article written in `locale` (its source language)."""
    result = SaveResult()
    _check_article(session, brand, article_data, result.errors)
    title, slug, rendered, publish_at = _check_translation(
        session, brand, locale, data, None, now, result.errors, result.notices
    )
    if result.errors:
        return result
    article = Article(brand_id=brand.id, source_locale=locale, created_at=now)
    _apply_article(article, article_data)
    t = Translation(locale=locale, version=1, created_at=now)
    _apply_translation(t, title, slug, rendered, publish_at, data, author_id, None, now)
    article.translations.append(t)
    session.add(article)
    session.flush()
    session.add(_revision(t, author_id, now))
    session.commit()
    result.translation = t
    return result


def save_translation(
    session: Session,
    article: Article,
    locale: str,
    article_data: ArticleInput,
    data: TranslationInput,
    base_version: int | None,
    author_id: int | None,
    now: datetime,
) -> SaveResult:
    """Save (or create) the article's translation in `locale`.

    `base_version` is the version the editor started from; if someone saved since, nothing is
    written and the newer state comes back as `conflict`, so the editor can compare and merge.
    """
    result = SaveResult()
    brand = session.get(Brand, article.brand_id)
    existing = session.scalar(
        select(Translation)
        .where(Translation.article_id == article.id, Translation.locale == locale)
        .with_for_update()
    )
    if existing is not None and base_version != existing.version:
        result.conflict = existing
        return result
    _check_article(session, brand, article_data, result.errors)
    title, slug, rendered, publish_at = _check_translation(
        session,
        brand,
        locale,
        data,
        existing,
        now,
        result.errors,
        result.notices,
    )
    if result.errors:
        return result
    _apply_article(article, article_data)
    source = source_translation(session, article)
    if existing is None:
        existing = Translation(article_id=article.id, locale=locale, version=1, created_at=now)
        session.add(existing)
    else:
        existing.version += 1
    _apply_translation(existing, title, slug, rendered, publish_at, data, author_id, source, now)
    session.flush()
    session.add(_revision(existing, author_id, now))
    session.commit()
    result.translation = existing
    return result


def restore_revision(
    session: Session, revision: Revision, author_id: int | None, now: datetime
) -> Translation:
    """Make a revision's text current again, as a new version (history is never rewritten)."""
    t = session.get(Translation, revision.translation_id)
    rendered = render(revision.body_md)
    t.version += 1
    t.title, t.slug, t.body_md = revision.title, revision.slug, revision.body_md
    t.body_html, t.toc = rendered.html, rendered.toc
    t.author_id, t.updated_at = author_id, now
    session.flush()
    session.add(_revision(t, author_id, now, note=f"restored:{revision.version}"))
    session.commit()
    return t
