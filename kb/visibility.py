"""The one visibility rule: what a visitor may read, decided at read time from the columns."""

from datetime import datetime

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.sql.elements import ColumnElement

from kb.models import Article, Brand, Section, SectionOrganization, Translation


def is_visible(translation: Translation, now: datetime) -> bool:
    """Published, and now within [publish_at, unpublish_at)."""
    if translation.status != "published":
        return False
    if translation.publish_at is not None and translation.publish_at > now:
        return False
    if translation.unpublish_at is not None and translation.unpublish_at <= now:
        return False
    return True


def visible(now: datetime) -> ColumnElement[bool]:
    """The same rule as `is_visible`, as a WHERE clause on Translation."""
    return and_(
        Translation.status == "published",
        or_(Translation.publish_at.is_(None), Translation.publish_at <= now),
        or_(Translation.unpublish_at.is_(None), Translation.unpublish_at > now),
    )


def is_scheduled(translation: Translation, now: datetime) -> bool:
    """Published but waiting for its publish time."""
    return (
        translation.status == "published"
        and translation.publish_at is not None
        and translation.publish_at > now
    )


def brand_is_public(brand: Brand | None) -> bool:
    return brand is not None and brand.status == "active"


def section_open_to(org_id: int | None) -> ColumnElement[bool]:
    """Sections for everyone, and restricted ones this reader's organization may read."""
    everyone = Section.audience == "everyone"
    if org_id is None:
        return everyone
    return or_(
        everyone,
        exists().where(
            SectionOrganization.section_id == Section.id,
            SectionOrganization.organization_id == org_id,
        ),
    )


def article_open_to(brand_id: int, org_id: int | None) -> ColumnElement[bool]:
    """Articles outside the restricted sections this reader may not read (a clause on Article)."""
    closed = select(Section.id).where(Section.brand_id == brand_id, Section.audience != "everyone")
    if org_id is not None:
        closed = closed.where(~section_open_to(org_id))
    return Article.section_id.not_in(closed)


def section_is_open_to(section: Section, org_id: int | None) -> bool:
    if section.audience == "everyone":
        return True
    return org_id is not None and org_id in section.organization_ids
