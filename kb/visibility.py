"""The one visibility rule: what a visitor may read, decided at read time from the columns."""

from datetime import datetime

from sqlalchemy import and_, or_
from sqlalchemy.sql.elements import ColumnElement

from kb.models import Brand, Translation


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
