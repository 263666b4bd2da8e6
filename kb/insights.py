"""What visitors searched for: top searches, searches that found nothing, click-through."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, distinct, func, select
from sqlalchemy.orm import Session

from kb.models import SearchClick, SearchLog


@dataclass
class QueryStats:
    query: str
    searches: int
    no_results: int
    clicked: int  # searches followed by at least one opened result

    @property
    def click_through(self) -> float:
        return self.clicked / self.searches if self.searches else 0.0


def search_stats(
    session: Session,
    brand_ids: list[int] | None,
    now: datetime,
    days: int = 30,
    brand_id: int | None = None,
    locale: str | None = None,
    limit: int = 50,
) -> dict[str, list[QueryStats]]:
    """Top searches and searches without results in the last `days`, per normalised query."""
    clicked = select(SearchClick.search_id).distinct().subquery()
    stmt = (
        select(
            SearchLog.query,
            func.count(SearchLog.id),
            func.sum(case((SearchLog.results == 0, 1), else_=0)),
            func.count(distinct(clicked.c.search_id)),
        )
        .outerjoin(clicked, clicked.c.search_id == SearchLog.id)
        .where(SearchLog.created_at >= now - timedelta(days=days))
        .group_by(SearchLog.query)
    )
    if brand_ids is not None:
        stmt = stmt.where(SearchLog.brand_id.in_(brand_ids))
    if brand_id is not None:
        stmt = stmt.where(SearchLog.brand_id == brand_id)
    if locale:
        stmt = stmt.where(SearchLog.locale == locale)
    rows = [QueryStats(q, int(n), int(z or 0), int(c)) for q, n, z, c in session.execute(stmt)]
    top = sorted(rows, key=lambda r: (-r.searches, r.query))[:limit]
    empty = sorted((r for r in rows if r.no_results), key=lambda r: (-r.no_results, r.query))
    return {"top": top, "no_results": empty[:limit]}
