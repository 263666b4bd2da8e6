"""A visitor's search of one help center: ask the engine, keep what may be shown, log it."""

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from kb import helpcenter
from kb.models import SearchClick, SearchLog
from kb.search.query import SearchRequest, SearchResults

# The engine: the index behind its fallback (portal.search.SearchService.search), or another.
Engine = Callable[[Session, SearchRequest], SearchResults]


@dataclass
class SearchPage:
    results: SearchResults
    found: list[helpcenter.Found]  # the hits visible in this help center now, in order
    log_id: int | None = None  # the logged search, whose result links count clicks
    section_names: dict[int, str] = field(default_factory=dict)  # for the section facet
    popular: list[helpcenter.Item] = field(default_factory=list)  # offered when nothing matched


def search(
    session: Session,
    hc: helpcenter.HelpCenter,
    request: SearchRequest,
    engine: Engine,
    full_page: bool = True,
) -> SearchPage:
    """The results of `request` in `hc`. No text: no results, and the engine is not asked.
    `full_page` (not the instant dropdown): the first page of an unfiltered search is logged
    (committed), with section names and, when nothing was found, the popular articles."""
    results = SearchResults(hits=[], total=0, page=1)
    if request.text:
        results = engine(session, request)
    found = helpcenter.recheck(session, hc, results.hits, request.now)
    page = SearchPage(results=results, found=found)
    if not full_page:
        return page
    if request.text and results.page == 1 and not (request.kind or request.section_id):
        page.log_id = log_search(session, hc, request, results.total)
    tree = helpcenter.category_tree(session, hc)
    page.section_names = {s.id: s.title for c in tree for s in c.children}
    if request.text and not found:
        page.popular = helpcenter.popular(session, hc, request.now)
    return page


def log_search(session: Session, hc: helpcenter.HelpCenter, request: SearchRequest, total: int):
    """One search as typed (lower case, no visitor data), committed; its id."""
    entry = SearchLog(
        brand_id=hc.brand.id,
        locale=hc.locale,
        query=request.text.lower()[:200],
        results=total,
        created_at=request.now,
    )
    session.add(entry)
    session.commit()
    return entry.id


def count_click(
    session: Session, hc: helpcenter.HelpCenter, log_id: int, article_id: int, position: int
) -> None:
    """A result opened from a logged search of this brand, committed (another brand's log or
    none: nothing)."""
    entry = session.get(SearchLog, log_id)
    if entry is not None and entry.brand_id == hc.brand.id:
        session.add(SearchClick(search_id=entry.id, article_id=article_id, position=position))
        session.commit()
