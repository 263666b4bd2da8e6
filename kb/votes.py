"""Readers' answers to "was this article helpful?", counted for the back office."""

from dataclasses import dataclass

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from kb.models import ArticleVote


@dataclass(frozen=True)
class Tally:
    yes: int = 0
    no: int = 0

    @property
    def total(self) -> int:
        return self.yes + self.no

    @property
    def helpful_percent(self) -> int | None:
        return round(100 * self.yes / self.total) if self.total else None


def tally_by_locale(session: Session, article_id: int) -> dict[str, Tally]:
    """Yes and no votes per language read, in one query (no votes: an empty dict)."""
    yes = func.sum(case((ArticleVote.helpful.is_(True), 1), else_=0))
    no = func.sum(case((ArticleVote.helpful.is_(True), 0), else_=1))
    rows = session.execute(
        select(ArticleVote.locale, yes, no)
        .where(ArticleVote.article_id == article_id)
        .group_by(ArticleVote.locale)
        .order_by(ArticleVote.locale)
    )
    return {locale: Tally(int(y or 0), int(n or 0)) for locale, y, n in rows}


def record(session: Session, article_id: int, locale: str, helpful: bool) -> None:
    """One reader's answer, in the language they read the article in (committed)."""
    session.add(ArticleVote(article_id=article_id, locale=locale, helpful=helpful))
    session.commit()
