"""A simple database search (LIKE on title and text): the fallback when no index answers."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from kb.helpcenter import PAGE_SIZE, HelpCenter, Item, pick_translations, readable_articles
from kb.models import Article, Translation
from kb.visibility import visible

MAX_QUERY_CHARS = 200
MAX_TERMS = 8


@dataclass(frozen=True)
class SearchQuery:
    text: str
    page: int = 1

    @classmethod
    def parse(cls, text: str | None, page: str | None = None) -> "SearchQuery":
        text = "".join(ch for ch in (text or "") if ch.isprintable() or ch.isspace())
        text = " ".join(text.split())[:MAX_QUERY_CHARS]
        number = int(page) if page and page.isdigit() and len(page) < 6 else 1
        return cls(text=text, page=max(number, 1))

    @property
    def terms(self) -> list[str]:
        return self.text.split()[:MAX_TERMS]


@dataclass
class SearchResults:
    items: list[Item]
    total: int
    page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // PAGE_SIZE))


def _escape_like(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search(session: Session, hc: HelpCenter, query: SearchQuery, now: datetime) -> SearchResults:
    """Articles whose visible translation in the visitor's locale has every term."""
    if not query.terms:
        return SearchResults(items=[], total=0, page=1)
    matches = select(Translation.article_id).where(
        Translation.locale == hc.locale,
        visible(now),
        *[
            or_(
                func.lower(Translation.title).like(f"%{_escape_like(t.lower())}%", escape="\\"),
                func.lower(Translation.body_md).like(f"%{_escape_like(t.lower())}%", escape="\\"),
            )
            for t in query.terms
        ],
    )
    stmt = readable_articles(hc, now).where(Article.id.in_(matches))
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    articles = session.scalars(
        stmt.order_by(Article.promoted.desc(), Article.position, Article.id)
        .limit(PAGE_SIZE)
        .offset((query.page - 1) * PAGE_SIZE)
    ).all()
    return SearchResults(
        items=pick_translations(session, hc, articles, now), total=total, page=query.page
    )
