"""What the public sitemap lists: each active brand's readable articles, per enabled locale."""

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from kb.models import Article, Brand, Section, Translation
from kb.visibility import visible


@dataclass
class SitemapArticle:
    """One article: the slug of each translation a visitor can read (its locales), and
    when any of them last changed."""

    article_id: int
    slugs: dict[str, str] = field(default_factory=dict)
    updated_at: datetime | None = None


def public_articles(session: Session, now: datetime) -> list[tuple[Brand, list[SitemapArticle]]]:
    """Active brands, each with its articles readable by anyone now (published, in their
    time window, outside restricted sections), in the brand's enabled locales. Two queries."""
    brands = list(
        session.scalars(select(Brand).where(Brand.status == "active").order_by(Brand.slug))
    )
    if not brands:
        return []
    rows = session.execute(
        select(
            Article.brand_id,
            Translation.article_id,
            Translation.locale,
            Translation.slug,
            Translation.updated_at,
        )
        .join(Article, Article.id == Translation.article_id)
        .join(Section, Section.id == Article.section_id)
        .where(
            Article.brand_id.in_([b.id for b in brands]),
            Section.audience == "everyone",
            visible(now),
        )
        .order_by(Article.brand_id, Translation.article_id, Translation.locale)
    ).all()
    by_brand: dict[int, dict[int, SitemapArticle]] = {b.id: {} for b in brands}
    enabled = {b.id: set(b.locales) for b in brands}
    for brand_id, article_id, locale, slug, updated_at in rows:
        if locale not in enabled[brand_id]:
            continue
        entry = by_brand[brand_id].setdefault(article_id, SitemapArticle(article_id))
        entry.slugs[locale] = slug
        if updated_at is not None and (entry.updated_at is None or updated_at > entry.updated_at):
            entry.updated_at = updated_at
    return [(b, list(by_brand[b.id].values())) for b in brands]
