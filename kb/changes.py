"""Every change to a brand's content bumps Brand.content_version in the same transaction.

Caches (rendered pages, per process) key on that version, so an editor's save in one worker is
seen by every other worker at its next request, without a message bus.
"""

from itertools import chain

from sqlalchemy import event, update
from sqlalchemy.orm import Session

from kb.models import (
    Article,
    ArticleLabel,
    Attachment,
    Brand,
    BrandHost,
    Category,
    CategoryTranslation,
    LabelName,
    Section,
    SectionTranslation,
    Translation,
)

_KEY = "kb.changed_brands"
_PENDING = "kb.pending_articles"  # (object, deleted) seen before flush
_ARTICLES = "kb.changed_articles"  # article ids whose translations' documents changed
_DELETED = "kb.deleted_translations"
_HOOKS: list = []


def reindex_articles(session: Session, article_ids) -> None:
    """Mark articles whose documents change without a change to their own rows (their
    section became restricted, say): the on_commit hooks get them with the next commit."""
    session.info.setdefault(_ARTICLES, set()).update(article_ids)


def on_commit(hook):
    """Call hook(session, article_ids, deleted_translation_ids) after each commit that changed
    articles (the search index follows the database this way). The session may not emit SQL."""
    _HOOKS.append(hook)
    return hook


def _brand_id(session: Session, obj) -> int | None:
    if isinstance(obj, Brand):
        return obj.id
    if isinstance(obj, Article | Category | Section | BrandHost | Attachment | LabelName):
        return obj.brand_id or (obj.brand.id if getattr(obj, "brand", None) else None)
    if isinstance(obj, Translation | ArticleLabel):
        article = getattr(obj, "article", None)
        if article is None and obj.article_id is not None:
            article = session.get(Article, obj.article_id)
        # A label of a new article has no id yet: the new article itself counts.
        return _brand_id(session, article) if article is not None else None
    if isinstance(obj, CategoryTranslation):
        return _brand_id(session, obj.category) if obj.category is not None else None
    if isinstance(obj, SectionTranslation):
        return _brand_id(session, obj.section) if obj.section is not None else None
    return None


@event.listens_for(Session, "before_flush")
def _collect_changed_brands(session: Session, _context, _instances) -> None:
    changed = session.info.setdefault(_KEY, set())
    pending = session.info.setdefault(_PENDING, [])
    with session.no_autoflush:
        for obj in chain(session.new, session.dirty, session.deleted):
            if obj in session.dirty and not session.is_modified(obj):
                continue
            if isinstance(obj, Article | Translation | ArticleLabel):
                pending.append((obj, obj in session.deleted))
            if isinstance(obj, Brand) and obj in session.new:
                continue  # a new brand starts at version 1
            brand_id = _brand_id(session, obj)
            if brand_id is not None:
                changed.add(brand_id)


@event.listens_for(Session, "after_flush")
def _bump_content_versions(session: Session, _context) -> None:
    articles = session.info.setdefault(_ARTICLES, set())
    deleted = session.info.setdefault(_DELETED, set())
    for obj, was_deleted in session.info.pop(_PENDING, []):
        if isinstance(obj, Translation) and was_deleted:
            deleted.add(obj.id)
        elif isinstance(obj, Article):
            articles.add(obj.id)
        elif obj.article_id is not None:
            articles.add(obj.article_id)
    changed = session.info.pop(_KEY, None)
    if not changed:
        return
    session.execute(
        update(Brand)
        .where(Brand.id.in_(changed))
        .values(content_version=Brand.content_version + 1)
        .execution_options(synchronize_session=False)
    )
    for obj in session.identity_map.values():
        if isinstance(obj, Brand) and obj.id in changed:
            session.expire(obj, ["content_version"])


@event.listens_for(Session, "after_commit")
def _run_commit_hooks(session: Session) -> None:
    articles = session.info.pop(_ARTICLES, set())
    deleted = session.info.pop(_DELETED, set())
    if (articles or deleted) and _HOOKS:
        for hook in _HOOKS:
            hook(session, articles, deleted)


@event.listens_for(Session, "after_rollback")
def _forget_on_rollback(session: Session) -> None:
    for key in (_KEY, _PENDING, _ARTICLES, _DELETED):
        session.info.pop(key, None)
