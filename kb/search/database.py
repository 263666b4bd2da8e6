"""The database search (LIKE on title and text): the fallback when the index cannot answer."""

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from kb.models import Article, Translation
from kb.search.query import Hit, SearchRequest, SearchResults
from kb.visibility import article_open_to, visible


def _escape_like(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search(session: Session, request: SearchRequest) -> SearchResults:
    """Visible translations in the requested locales whose title or text has every word."""
    words = request.words
    if not words:
        return SearchResults(hits=[], total=0, page=1, fallback=True)
    stmt = (
        select(Translation.id, Translation.article_id, Translation.locale, Translation.title)
        .join(Article, Article.id == Translation.article_id)
        .where(
            Article.brand_id == request.brand_id,
            article_open_to(request.brand_id, request.org_id),
            Translation.locale.in_(request.locales),
            visible(request.now),
            *[
                or_(
                    func.lower(Translation.title).like(f"%{_escape_like(w)}%", escape="\\"),
                    func.lower(Translation.body_md).like(f"%{_escape_like(w)}%", escape="\\"),
                )
                for w in words
            ],
        )
    )
    if request.section_id:
        stmt = stmt.where(Article.section_id == request.section_id)
    if request.kind:
        stmt = stmt.where(Article.kind == request.kind)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.execute(
        stmt.order_by(Article.promoted.desc(), Article.position, Article.id)
        .limit(request.per_page)
        .offset((request.page - 1) * request.per_page)
    ).all()
    hits = [
        Hit(translation_id=r.id, article_id=r.article_id, locale=r.locale, score=0.0, snippet="")
        for r in rows
    ]
    return SearchResults(
        hits=hits, total=total, page=request.page, per_page=request.per_page, fallback=True
    )
