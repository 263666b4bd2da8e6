"""Article labels as customers read them: a name per locale, or nothing (the label stays internal).

Editors tag articles with short slugs ("password", "refund") for search and related articles;
those are not words for customers. A label is shown on an article page only in the locales
where the brand has named it.
"""

from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kb.models import Article, ArticleLabel, Brand, LabelName

MAX_NAME_CHARS = 64


@dataclass
class BrandLabel:
    """A label used in the brand's articles, with its names per locale and how often it is used."""

    label: str
    articles: int
    names: dict[str, str] = field(default_factory=dict)


def brand_labels(session: Session, brand: Brand) -> list[BrandLabel]:
    """Every label the brand's articles carry (or that has a name), alphabetically."""
    used = dict(
        session.execute(
            select(ArticleLabel.name, func.count())
            .join(Article, Article.id == ArticleLabel.article_id)
            .where(Article.brand_id == brand.id)
            .group_by(ArticleLabel.name)
        ).all()
    )
    found = {label: BrandLabel(label=label, articles=n) for label, n in used.items()}
    for row in session.scalars(select(LabelName).where(LabelName.brand_id == brand.id)):
        found.setdefault(row.label, BrandLabel(label=row.label, articles=0)).names[row.locale] = (
            row.name
        )
    return [found[k] for k in sorted(found)]


def save_names(
    session: Session, brand: Brand, names: dict[str, dict[str, str]]
) -> dict[tuple[str, str], str]:
    """Set the names of the given labels ({label: {locale: name}}); an empty name removes it.

    Returns error codes per (label, locale); nothing is written when there is one. Commits.
    """
    errors: dict[tuple[str, str], str] = {}
    cleaned: dict[tuple[str, str], str] = {}
    for label, per_locale in names.items():
        for locale, typed in per_locale.items():
            if locale not in brand.locales:
                continue
            name = " ".join((typed or "").split())
            if len(name) > MAX_NAME_CHARS:
                errors[(label, locale)] = "name_too_long"
            cleaned[(label, locale)] = name
    if errors:
        return errors
    # Row by row (not a bulk delete): kb.changes sees each change and renews cached pages.
    existing = {
        (row.label, row.locale): row
        for row in session.scalars(
            select(LabelName).where(
                LabelName.brand_id == brand.id,
                LabelName.label.in_(sorted({label for label, _locale in cleaned})),
            )
        )
    }
    for (label, locale), name in sorted(cleaned.items()):
        row = existing.get((label, locale))
        if row is not None and not name:
            session.delete(row)
        elif row is not None:
            row.name = name
        elif name:
            session.add(LabelName(brand_id=brand.id, label=label, locale=locale, name=name))
    session.commit()
    return {}


def customer_names(session: Session, brand_id: int, locale: str, labels: list[str]) -> list[str]:
    """What a reader of `locale` sees for these labels: the named ones, by name."""
    if not labels:
        return []
    return sorted(
        session.scalars(
            select(LabelName.name).where(
                LabelName.brand_id == brand_id,
                LabelName.locale == locale,
                LabelName.label.in_(labels),
            )
        )
    )
