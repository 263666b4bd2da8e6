"""The database search (LIKE on title and text): the fallback when the index cannot answer."""

from sqlalchemy import case, func, literal, or_, select
from sqlalchemy.orm import Session

from kb.models import Article, Translation
from kb.search.analysis import STOP_WORDS
from kb.search.query import (
    CJK_STOP_WORDS,
    SENTENCE_WORDS,
    Hit,
    SearchRequest,
    SearchResults,
    _required,
)
from kb.visibility import article_open_to, visible


def _escape_like(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _content_words(request: SearchRequest) -> list[str]:
    """The typed words without the stop words of the requested languages."""
    stop: set[str] = set()
    for locale in request.locales:
        stop |= STOP_WORDS.get(locale, frozenset()) | CJK_STOP_WORDS.get(locale, frozenset())
    kept = [w for w in request.words if w not in stop]
    return kept or request.words


def _matches(word: str):
    pattern = f"%{_escape_like(word)}%"
    return or_(
        func.lower(Translation.title).like(pattern, escape="\\"),
        func.lower(Translation.body_md).like(pattern, escape="\\"),
    )


def search(session: Session, request: SearchRequest) -> SearchResults:
    """Visible translations in the requested locales whose title or text has every word (of a
    sentence that none has, half of its words, those with more of them first)."""
    if not request.words:
        return SearchResults(hits=[], total=0, page=1, fallback=True)
    results = _search(session, request, request.words, need=len(request.words))
    words = _content_words(request)
    if results.total == 0 and len(request.words) >= SENTENCE_WORDS and len(words) > 1:
        results = _search(session, request, words, need=_required(len(words), sentence=True))
        results.partial = results.total > 0
    return results


def _search(session: Session, request: SearchRequest, words: list[str], need: int):
    matched = sum((case((_matches(w), 1), else_=0) for w in words), literal(0))
    stmt = (
        select(Translation.id, Translation.article_id, Translation.locale, Translation.title)
        .join(Article, Article.id == Translation.article_id)
        .where(
            Article.brand_id == request.brand_id,
            article_open_to(request.brand_id, request.org_id),
            Translation.locale.in_(request.locales),
            visible(request.now),
            *([_matches(w) for w in words] if need == len(words) else [matched >= need]),
        )
    )
    if request.section_id:
        stmt = stmt.where(Article.section_id == request.section_id)
    if request.kind:
        stmt = stmt.where(Article.kind == request.kind)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.execute(
        stmt.order_by(matched.desc(), Article.promoted.desc(), Article.position, Article.id)
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
