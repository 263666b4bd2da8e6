"""What a visitor reads in one brand's help center in one locale: the read-side queries."""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import case, exists, func, select, union, union_all, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, defer, selectinload

from kb.attachments import for_article
from kb.locales import fallback_order
from kb.models import (
    Article,
    ArticleLabel,
    ArticleViewCount,
    ArticleVote,
    Attachment,
    Brand,
    BrandHost,
    Category,
    Section,
    Translation,
)
from kb.visibility import article_open_to, section_is_open_to, visible

PAGE_SIZE = 30


@dataclass(frozen=True)
class HelpCenter:
    """One brand in one of its enabled locales."""

    brand: Brand
    locale: str
    # The reader's customer organization: restricted sections open to it are shown too.
    org_id: int | None = None

    @property
    def locales(self) -> list[str]:
        return list(self.brand.locales)

    def order(self, available: Iterable[str]) -> list[str]:
        return fallback_order(self.locale, self.brand.default_locale, available)


@dataclass
class Node:
    """A category or section as shown: its title in the best locale available."""

    id: int
    title: str
    slug: str
    description: str
    locale: str
    children: list["Node"] = field(default_factory=list)


@dataclass
class Item:
    """An article in a list: the translation picked for the visitor."""

    article: Article
    translation: Translation

    @property
    def fallback(self) -> bool:
        return self.translation.locale != self._wanted

    _wanted: str = ""


def brand_by_slug(session: Session, slug: str) -> Brand | None:
    return session.scalar(select(Brand).where(Brand.slug == slug))


def brand_by_host(session: Session, host: str, base_domain: str | None) -> Brand | None:
    """A brand's own host name, or <slug>.<base domain>."""
    host = host.split(":")[0].lower().rstrip(".")
    brand = session.scalar(select(Brand).join(BrandHost).where(BrandHost.host == host))
    if brand is None and base_domain and host.endswith("." + base_domain.lower()):
        brand = brand_by_slug(session, host[: -len(base_domain) - 1])
    return brand


def active_brands(session: Session) -> list[Brand]:
    return list(session.scalars(select(Brand).where(Brand.status == "active").order_by(Brand.name)))


def _pick(translations: Sequence, hc: HelpCenter):
    by_locale = {t.locale: t for t in translations if t.locale in hc.brand.locales}
    order = hc.order(by_locale)
    return by_locale[order[0]] if order else None


def _node(obj, hc: HelpCenter) -> Node | None:
    t = _pick(obj.translations, hc)
    if t is None:
        return None
    return Node(id=obj.id, title=t.title, slug=t.slug, description=t.description, locale=t.locale)


def category_tree(session: Session, hc: HelpCenter) -> list[Node]:
    """Categories with their sections, in position order, titled for the visitor."""
    categories = session.scalars(
        select(Category)
        .where(Category.brand_id == hc.brand.id)
        .order_by(Category.position, Category.id)
        .options(
            selectinload(Category.translations),
            selectinload(Category.sections).selectinload(Section.translations),
        )
    ).all()
    tree = []
    for category in categories:
        node = _node(category, hc)
        if node is None:
            continue
        sections = [s for s in category.sections if section_is_open_to(s, hc.org_id)]
        if category.sections and not sections:
            continue  # only sections this reader may not see
        node.children = [n for s in sections if (n := _node(s, hc)) is not None]
        tree.append(node)
    return tree


def category(session: Session, hc: HelpCenter, category_id: int) -> Node | None:
    for node in category_tree(session, hc):
        if node.id == category_id:
            return node
    return None


def section(session: Session, hc: HelpCenter, section_id: int) -> tuple[Node, Node] | None:
    """The section and its category, or None when it is not in this brand."""
    row = session.scalar(
        select(Section)
        .where(Section.id == section_id, Section.brand_id == hc.brand.id)
        .options(
            selectinload(Section.translations),
            selectinload(Section.category).selectinload(Category.translations),
        )
    )
    if row is None or not section_is_open_to(row, hc.org_id):
        return None
    node, parent = _node(row, hc), _node(row.category, hc)
    if node is None or parent is None:
        return None
    return node, parent


def readable_articles(hc: HelpCenter, now: datetime, section_id: int | None = None):
    """Articles with at least one visible translation in an enabled locale.

    Within one section (already checked to be the brand's) the brand filter is left out, so
    the planner walks the section index instead of every article of the brand.
    """
    scope = Article.section_id == section_id if section_id else Article.brand_id == hc.brand.id
    return select(Article).where(
        scope,
        article_open_to(hc.brand.id, hc.org_id),
        exists().where(
            Translation.article_id == Article.id,
            Translation.locale.in_(hc.locales),
            visible(now),
        ),
    )


def pick_translations(
    session: Session,
    hc: HelpCenter,
    articles: Sequence[Article],
    now: datetime,
    with_body: bool = False,
) -> list[Item]:
    """One query: the best visible translation of each article, in the articles' order."""
    if not articles:
        return []
    stmt = select(Translation)
    if not with_body:
        stmt = stmt.options(
            *(defer(c) for c in (Translation.body_md, Translation.body_html, Translation.toc))
        )
    rows = session.scalars(
        stmt.where(
            Translation.article_id.in_([a.id for a in articles]),
            Translation.locale.in_(hc.locales),
            visible(now),
        )
    ).all()
    grouped: dict[int, list[Translation]] = {}
    for t in rows:
        grouped.setdefault(t.article_id, []).append(t)
    items = []
    for a in articles:
        t = _pick(grouped.get(a.id, ()), hc)
        if t is not None:
            items.append(Item(article=a, translation=t, _wanted=hc.locale))
    return items


def section_articles(
    session: Session, hc: HelpCenter, section_id: int, now: datetime, page: int = 1
) -> tuple[list[Item], int]:
    """A page of a section's articles in position order, and the total count."""
    stmt = readable_articles(hc, now, section_id=section_id)
    total = session.scalar(select(func.count()).select_from(stmt.subquery()))
    articles = session.scalars(
        stmt.order_by(Article.position, Article.id)
        .limit(PAGE_SIZE)
        .offset((max(page, 1) - 1) * PAGE_SIZE)
    ).all()
    return pick_translations(session, hc, articles, now), total or 0


def section_previews(
    session: Session, hc: HelpCenter, section_ids: Sequence[int], now: datetime, per_section: int
) -> dict[int, list[Item]]:
    """The first few articles of each section (a category page), in two queries."""
    ranked = (
        readable_articles(hc, now)
        .where(Article.section_id.in_(section_ids))
        .add_columns(
            func.row_number()
            .over(partition_by=Article.section_id, order_by=(Article.position, Article.id))
            .label("rank")
        )
        .subquery()
    )
    articles = session.scalars(
        select(Article)
        .join(ranked, ranked.c.id == Article.id)
        .where(ranked.c.rank <= per_section)
        .order_by(Article.section_id, Article.position, Article.id)
    ).all()
    grouped: dict[int, list[Item]] = {sid: [] for sid in section_ids}
    for item in pick_translations(session, hc, articles, now):
        grouped[item.article.section_id].append(item)
    return grouped


def _latest_first(hc: HelpCenter, now: datetime):
    newest = (
        select(func.max(Translation.publish_at))
        .where(
            Translation.article_id == Article.id,
            Translation.locale.in_(hc.locales),
            visible(now),
        )
        .scalar_subquery()
    )
    return newest.desc(), Article.id.desc()


# "Popular" looks at the last weeks only, so old favourites make way; a helpful vote weighs as
# much as a few readings, an unhelpful one takes as much away.
POPULAR_DAYS = 30
VOTE_WEIGHT = 5
# The best scored articles looked at; enough that a few unreadable ones never leave a gap.
POPULAR_CANDIDATES = 50


def popular(session: Session, hc: HelpCenter, now: datetime, limit: int = 6) -> list[Item]:
    """The promoted articles (in position order), then the most read and best voted in this
    locale's help center lately; an article nobody read or liked here is not popular.

    Only the promoted articles and the best scored few are candidates, so the readable-article
    checks run on a handful of rows, not on every article of the brand."""
    since = now - timedelta(days=POPULAR_DAYS)
    points = union_all(
        select(ArticleViewCount.article_id, ArticleViewCount.views.label("n")).where(
            ArticleViewCount.brand_id == hc.brand.id,
            ArticleViewCount.locale == hc.locale,
            ArticleViewCount.day >= since.date(),
        ),
        select(
            ArticleVote.article_id,
            case((ArticleVote.helpful.is_(True), VOTE_WEIGHT), else_=-VOTE_WEIGHT).label("n"),
        )
        .join(Article, Article.id == ArticleVote.article_id)
        .where(
            Article.brand_id == hc.brand.id,
            ArticleVote.locale == hc.locale,
            ArticleVote.created_at >= since,
        ),
    ).subquery()
    score = func.sum(points.c.n)
    scores = (
        select(points.c.article_id, score.label("score"))
        .group_by(points.c.article_id)
        .having(score > 0)
        .order_by(score.desc(), points.c.article_id.desc())
        .limit(POPULAR_CANDIDATES)
        .subquery()
    )
    candidates = union(
        select(scores.c.article_id),
        select(Article.id).where(Article.brand_id == hc.brand.id, Article.promoted.is_(True)),
    )
    articles = session.scalars(
        readable_articles(hc, now)
        .outerjoin(scores, scores.c.article_id == Article.id)
        .where(Article.id.in_(candidates))
        .order_by(
            Article.promoted.desc(),
            case((Article.promoted.is_(True), Article.position), else_=0),
            func.coalesce(scores.c.score, 0).desc(),
            Article.id.desc(),
        )
        .limit(limit)
    ).all()
    return pick_translations(session, hc, articles, now)


def count_views(session: Session, readings: Mapping[tuple[int, int, str, date], int]) -> None:
    """Add readings, {(brand id, article id, locale, day): how many}, in one transaction.
    Commits."""
    for (brand_id, article_id, locale, day), views in sorted(readings.items()):
        add = (
            update(ArticleViewCount)
            .where(
                ArticleViewCount.article_id == article_id,
                ArticleViewCount.locale == locale,
                ArticleViewCount.day == day,
            )
            .values(views=ArticleViewCount.views + views)
            .execution_options(synchronize_session=False)
        )
        if session.execute(add).rowcount:
            continue
        try:
            with session.begin_nested():  # another process may make the day's row first
                session.add(
                    ArticleViewCount(
                        article_id=article_id,
                        locale=locale,
                        day=day,
                        brand_id=brand_id,
                        views=views,
                    )
                )
        except IntegrityError:
            session.execute(add)
    session.commit()


def by_kind(
    session: Session,
    hc: HelpCenter,
    kinds: Sequence[str],
    now: datetime,
    limit: int | None = None,
    offset: int = 0,
) -> list[Item]:
    """Articles of the given kinds, newest first (notices, events, FAQ highlights)."""
    stmt = (
        readable_articles(hc, now).where(Article.kind.in_(kinds)).order_by(*_latest_first(hc, now))
    )
    if limit is not None:
        stmt = stmt.limit(limit).offset(offset)
    return pick_translations(session, hc, session.scalars(stmt).all(), now)


def home(session: Session, hc: HelpCenter, now: datetime) -> dict:
    """What the help center's home shows: the category tree, popular articles, the latest
    notices and events, and FAQs (the page, and the theme preview of it)."""
    return {
        "tree": category_tree(session, hc),
        "popular": popular(session, hc, now),
        "news": by_kind(session, hc, ("notice", "event"), now, limit=5),
        "faqs": by_kind(session, hc, ("faq",), now, limit=5),
    }


def faq(session: Session, hc: HelpCenter, now: datetime, limit: int = 500) -> list[Item]:
    """FAQ entries ordered by section, then position (the FAQ page groups them)."""
    articles = session.scalars(
        readable_articles(hc, now)
        .where(Article.kind == "faq")
        .join(Section, Section.id == Article.section_id)
        .order_by(Section.position, Section.id, Article.position, Article.id)
        .limit(limit)
    ).all()
    return pick_translations(session, hc, articles, now, with_body=True)


@dataclass
class ArticleView:
    """An article page: the translation shown, and the locales it can be read in."""

    article: Article
    translation: Translation
    slugs: dict[str, str]  # locale -> slug, for every visible translation

    @property
    def available(self) -> list[str]:
        return list(self.slugs)

    @property
    def is_fallback(self) -> bool:
        return self._wanted != self.translation.locale

    _wanted: str = ""


def article(session: Session, hc: HelpCenter, article_id: int, now: datetime) -> ArticleView | None:
    """The article in the visitor's locale, or the best fallback; None when none is visible."""
    found = session.scalar(
        select(Article)
        .where(
            Article.id == article_id,
            Article.brand_id == hc.brand.id,
            article_open_to(hc.brand.id, hc.org_id),
        )
        .options(selectinload(Article.labels))
    )
    if found is None:
        return None
    translations = session.scalars(
        select(Translation).where(
            Translation.article_id == article_id,
            Translation.locale.in_(hc.locales),
            visible(now),
        )
    ).all()
    chosen = _pick(translations, hc)
    if chosen is None:
        return None
    by_locale = {t.locale: t.slug for t in translations}
    slugs = {loc: by_locale[loc] for loc in hc.locales if loc in by_locale}
    return ArticleView(article=found, translation=chosen, slugs=slugs, _wanted=hc.locale)


def article_files(session: Session, view: ArticleView) -> list[Attachment]:
    """The files listed under an article: the shown translation's own and the shared ones.

    The translation is visible to this reader, so these are exactly the files they may download
    (kb.attachments.is_public); a draft translation's own files stay out of the list.
    """
    return for_article(session, view.article.id, view.translation.locale)


def related(
    session: Session, hc: HelpCenter, view: ArticleView, now: datetime, limit: int = 5
) -> list[Item]:
    """Other guides and FAQs of the same section, then ones sharing a label, up to `limit`."""
    a = view.article
    kinds = ("guide", "faq")
    articles = list(
        session.scalars(
            readable_articles(hc, now, section_id=a.section_id)
            .where(Article.id != a.id, Article.kind.in_(kinds))
            .order_by(Article.position, Article.id)
            .limit(limit)
        )
    )
    if len(articles) < limit and a.label_names:
        sharing = (
            select(ArticleLabel.article_id)
            .where(ArticleLabel.name.in_(a.label_names))
            .order_by(ArticleLabel.article_id.desc())
            .limit(50)
        )
        seen = [a.id, *(x.id for x in articles)]
        articles += session.scalars(
            readable_articles(hc, now)
            .where(Article.id.in_(sharing), Article.id.not_in(seen), Article.kind.in_(kinds))
            .order_by(Article.id.desc())
            .limit(limit - len(articles))
        )
    return pick_translations(session, hc, articles, now)


def next_scheduled_change(session: Session, brand_id: int, now: datetime) -> datetime | None:
    """The next moment one of the brand's pages changes by itself: a translation appears or
    disappears by its schedule, or an event's date goes by (it is then shown as past)."""
    ends = []
    for column in (Translation.publish_at, Translation.unpublish_at):
        ends.append(
            select(func.min(column))
            .join(Article, Article.id == Translation.article_id)
            .where(Article.brand_id == brand_id, column > now)
            .scalar_subquery()
        )
    ends.append(
        select(func.min(Article.event_at))
        .where(Article.brand_id == brand_id, Article.kind == "event", Article.event_at > now)
        .scalar_subquery()
    )
    soonest = [t for t in session.execute(select(*ends)).one() if t is not None]
    return min(soonest) if soonest else None


@dataclass
class Found:
    """A search hit that passed the database re-check, ready to show."""

    article: Article
    translation: Translation
    snippet: str
    position: int


def recheck(session: Session, hc: HelpCenter, hits: Sequence, now: datetime) -> list[Found]:
    """Keep only hits whose translation is visible in this brand now (the index can lag)."""
    if not hits:
        return []
    rows = session.execute(
        select(Translation, Article)
        .join(Article, Article.id == Translation.article_id)
        .options(defer(Translation.body_md), defer(Translation.body_html))
        .where(
            Translation.id.in_([h.translation_id for h in hits]),
            Article.brand_id == hc.brand.id,
            article_open_to(hc.brand.id, hc.org_id),
            Translation.locale.in_(hc.locales),
            visible(now),
        )
    ).all()
    by_id = {t.id: (t, a) for t, a in rows}
    found = []
    for position, hit in enumerate(hits, start=1):
        if hit.translation_id in by_id:
            t, a = by_id[hit.translation_id]
            found.append(Found(article=a, translation=t, snippet=hit.snippet, position=position))
    return found
