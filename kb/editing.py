"""Back-office read queries: article lists with translation markers, schedules, revisions."""

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import Session, selectinload

from kb.authoring import is_outdated
from kb.models import (
    Article,
    ArticleLabel,
    Brand,
    Category,
    Revision,
    Section,
    Translation,
)
from kb.people import User, members_holding
from kb.visibility import is_scheduled

ADMIN_PAGE_SIZE = 50


@dataclass
class ArticleFilters:
    brand_ids: list[int] | None  # None: every brand (admins); the caller's scope
    brand_id: int | None = None
    locale: str | None = None
    kind: str | None = None
    status: str | None = None  # draft, published, scheduled, archived, missing, outdated
    section_id: int | None = None
    label: str | None = None
    author_id: int | None = None
    text: str = ""
    page: int = 1


@dataclass
class Row:
    article: Article
    translations: dict[str, Translation] = field(default_factory=dict)

    @property
    def source(self) -> Translation | None:
        return self.translations.get(self.article.source_locale)

    def title(self, locale: str | None) -> Translation | None:
        return (
            self.translations.get(locale)
            or self.source
            or next(iter(self.translations.values()), None)
        )

    def latest(self, locale: str | None) -> Translation | None:
        """The last saved translation (in `locale` when given): what the list is sorted by."""
        if locale:
            return self.translations.get(locale)
        return max(self.translations.values(), key=lambda t: t.updated_at, default=None)

    def state(self, locale: str, now: datetime) -> str:
        """missing, outdated, scheduled, or the translation's status."""
        t = self.translations.get(locale)
        if t is None:
            return "missing"
        if is_outdated(t, self.source):
            return "outdated"
        if is_scheduled(t, now):
            return "scheduled"
        return t.status


def articles(session: Session, f: ArticleFilters, now: datetime) -> tuple[list[Row], int]:
    """A page of articles for the back-office list, and the total."""
    stmt = select(Article)
    if f.brand_ids is not None:
        stmt = stmt.where(Article.brand_id.in_(f.brand_ids))
    if f.brand_id:
        stmt = stmt.where(Article.brand_id == f.brand_id)
    if f.kind:
        stmt = stmt.where(Article.kind == f.kind)
    if f.section_id:
        stmt = stmt.where(Article.section_id == f.section_id)
    if f.label:
        stmt = stmt.where(
            exists().where(ArticleLabel.article_id == Article.id, ArticleLabel.name == f.label)
        )
    in_locale = [Translation.article_id == Article.id]
    if f.locale:
        in_locale.append(Translation.locale == f.locale)
    if f.author_id:
        stmt = stmt.where(exists().where(*in_locale, Translation.author_id == f.author_id))
    if f.text:
        pattern = f"%{f.text.lower()}%"
        stmt = stmt.where(exists().where(*in_locale, func.lower(Translation.title).like(pattern)))
    if f.status == "missing" and f.locale:
        stmt = stmt.where(~exists().where(*in_locale))
    elif f.status == "scheduled":
        stmt = stmt.where(
            exists().where(
                *in_locale, Translation.status == "published", Translation.publish_at > now
            )
        )
    elif f.status == "outdated" and f.locale:
        source = Translation.__table__.alias("source")
        stmt = stmt.where(
            exists().where(
                *in_locale,
                Translation.locale != Article.source_locale,
                exists().where(
                    source.c.article_id == Article.id,
                    source.c.locale == Article.source_locale,
                    source.c.version > func.coalesce(Translation.source_version, 0),
                ),
            )
        )
    elif f.status in ("draft", "published", "archived"):
        stmt = stmt.where(exists().where(*in_locale, Translation.status == f.status))
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    # Last update first: the newest save of any translation (of the chosen language, if any).
    last_saved = select(func.max(Translation.updated_at)).where(*in_locale).scalar_subquery()
    page = session.scalars(
        stmt.order_by(last_saved.desc().nulls_last(), Article.id.desc())
        .limit(ADMIN_PAGE_SIZE)
        .offset((max(f.page, 1) - 1) * ADMIN_PAGE_SIZE)
        .options(selectinload(Article.labels))
    ).all()
    rows = {a.id: Row(article=a) for a in page}
    if rows:
        for t in session.scalars(
            select(Translation)
            .where(Translation.article_id.in_(rows))
            .options(selectinload(Translation.author))
        ):
            rows[t.article_id].translations[t.locale] = t
    return list(rows.values()), total


def authors(session: Session) -> list[User]:
    """The people who write articles (holders of kb.write), by name: the list's author filter."""
    return list(
        session.scalars(select(User).where(members_holding("kb.write")).order_by(User.name))
    )


def section_choices(session: Session, brand: Brand) -> list[tuple[int, str]]:
    """(section id, "Category › Section") in the brand's default language."""
    out = []
    categories = session.scalars(
        select(Category)
        .where(Category.brand_id == brand.id)
        .order_by(Category.position, Category.id)
        .options(
            selectinload(Category.translations),
            selectinload(Category.sections).selectinload(Section.translations),
        )
    )
    for category in categories:
        c_title = _title(category.translations, brand.default_locale)
        for section in category.sections:
            out.append(
                (section.id, f"{c_title} › {_title(section.translations, brand.default_locale)}")
            )
    return out


def _title(translations, locale: str) -> str:
    by_locale = {t.locale: t.title for t in translations}
    return by_locale.get(locale) or next(iter(by_locale.values()), "?")


@dataclass
class ScheduledEvent:
    at: datetime
    action: str  # publish or unpublish
    translation: Translation
    brand: Brand


def upcoming(
    session: Session, brand_ids: list[int] | None, now: datetime, limit: int = 200
) -> list[ScheduledEvent]:
    """Publish and unpublish times still to come, soonest first."""
    stmt = (
        select(Translation, Brand)
        .join(Article, Article.id == Translation.article_id)
        .join(Brand, Brand.id == Article.brand_id)
        .where(
            Translation.status == "published",
            or_(Translation.publish_at > now, Translation.unpublish_at > now),
        )
    )
    if brand_ids is not None:
        stmt = stmt.where(Brand.id.in_(brand_ids))
    events = []
    for t, brand in session.execute(stmt):
        if t.publish_at and t.publish_at > now:
            events.append(ScheduledEvent(t.publish_at, "publish", t, brand))
        if t.unpublish_at and t.unpublish_at > now:
            events.append(ScheduledEvent(t.unpublish_at, "unpublish", t, brand))
    events.sort(key=lambda e: (e.at, e.translation.id))
    return events[:limit]


def revisions(session: Session, translation: Translation) -> list[Revision]:
    return list(
        session.scalars(
            select(Revision)
            .where(Revision.translation_id == translation.id)
            .order_by(Revision.version.desc())
            .options(selectinload(Revision.author))
        )
    )


def articles_in(
    session: Session, *, section_id: int | None = None, category_id: int | None = None
) -> int:
    """How many articles a section or category holds (deleting one that holds any is refused)."""
    stmt = select(func.count()).select_from(Article)
    if section_id is not None:
        stmt = stmt.where(Article.section_id == section_id)
    if category_id is not None:
        stmt = stmt.join(Section, Section.id == Article.section_id).where(
            Section.category_id == category_id
        )
    return session.scalar(stmt) or 0
