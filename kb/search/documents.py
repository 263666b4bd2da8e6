"""What the index holds for one article translation, built from the database rows."""

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from kb.markdown import render
from kb.models import Article, Section, SectionOrganization, Translation

FOREVER = 2**62  # unpublish_at when none is set


def epoch(value) -> int:
    return int(value.timestamp()) if value is not None else 0


@dataclass(frozen=True)
class Document:
    translation_id: int
    article_id: int
    brand_id: int
    locale: str
    kind: str
    section_id: int
    labels: tuple[str, ...]
    title: str
    text: str
    status: str
    publish_at: int
    unpublish_at: int
    promoted: bool
    stamp: str  # changes whenever anything indexed for this translation changes
    # Who may find it: ("public",), or its restricted section's organizations ("org-3", ...).
    audiences: tuple[str, ...] = ("public",)


def stamp_for(
    translation: Translation, article: Article, audiences: tuple[str, ...] = ("public",)
) -> str:
    """From the rows' metadata only (no rendering), so checking 50,000 rows stays cheap."""
    parts = (
        ",".join(audiences),
        translation.id,
        translation.version,
        translation.updated_at.isoformat(),
        translation.locale,
        translation.status,
        translation.publish_at,
        translation.unpublish_at,
        translation.title,
        article.brand_id,
        article.kind,
        article.section_id,
        article.promoted,
        ",".join(article.label_names),
    )
    return hashlib.sha1("\x1f".join(map(str, parts)).encode()).hexdigest()


def document_for(
    translation: Translation, article: Article, audiences: tuple[str, ...] = ("public",)
) -> Document:
    text = render(translation.body_md or "").text
    return Document(
        stamp=stamp_for(translation, article, audiences),
        audiences=audiences,
        translation_id=translation.id,
        article_id=article.id,
        brand_id=article.brand_id,
        locale=translation.locale,
        kind=article.kind,
        section_id=article.section_id,
        labels=tuple(article.label_names),
        title=translation.title,
        text=text,
        status=translation.status,
        publish_at=epoch(translation.publish_at),
        unpublish_at=epoch(translation.unpublish_at) if translation.unpublish_at else FOREVER,
        promoted=bool(article.promoted),
    )


def _rows(session, brand_id=None, translation_ids=None, article_ids=None, batch=500):
    stmt = (
        select(Translation, Article)
        .join(Article, Article.id == Translation.article_id)
        .options(selectinload(Article.labels))
        .order_by(Translation.id)
    )
    if brand_id is not None:
        stmt = stmt.where(Article.brand_id == brand_id)
    if translation_ids is not None:
        stmt = stmt.where(Translation.id.in_(list(translation_ids)))
    if article_ids is not None:
        stmt = stmt.where(Article.id.in_(list(article_ids)))
    return session.execute(stmt.execution_options(yield_per=batch))


def section_audiences(session: Session) -> dict[int, tuple[str, ...]]:
    """Restricted sections -> the audiences their articles are indexed for (others: public)."""
    rows = session.execute(
        select(SectionOrganization.section_id, SectionOrganization.organization_id)
        .join(Section, Section.id == SectionOrganization.section_id)
        .where(Section.audience != "everyone")
    ).all()
    restricted = session.scalars(select(Section.id).where(Section.audience != "everyone")).all()
    out: dict[int, tuple[str, ...]] = {sid: () for sid in restricted}
    for section_id, org_id in sorted(rows):
        out[section_id] += (f"org-{org_id}",)
    return {sid: audiences or ("nobody",) for sid, audiences in out.items()}


def stamps(session: Session, brand_id: int | None = None) -> dict[int, str]:
    """translation id -> stamp, for every translation in the database (or of a brand)."""
    audiences = section_audiences(session)
    return {
        t.id: stamp_for(t, a, audiences.get(a.section_id, ("public",)))
        for t, a in _rows(session, brand_id=brand_id)
    }


def count(session: Session, brand_id: int | None = None) -> int:
    stmt = select(func.count()).select_from(Translation)
    if brand_id is not None:
        stmt = stmt.join(Article, Article.id == Translation.article_id).where(
            Article.brand_id == brand_id
        )
    return session.scalar(stmt) or 0


def documents(
    session: Session,
    brand_id: int | None = None,
    translation_ids=None,
    article_ids=None,
) -> Iterator[Document]:
    """Every translation's document (or a brand's, or by ids), in id order."""
    audiences = section_audiences(session)
    for translation, article in _rows(session, brand_id, translation_ids, article_ids):
        yield document_for(translation, article, audiences.get(article.section_id, ("public",)))
