"""Categories and sections: create, rename per locale, reorder, delete when empty."""

from dataclasses import dataclass, field

from sqlalchemy import column, func, select, table
from sqlalchemy.orm import Session, selectinload

from kb import changes
from kb.models import (
    Article,
    Brand,
    Category,
    CategoryTranslation,
    Section,
    SectionOrganization,
    SectionTranslation,
)
from kb.slugs import slugify

MAX_TITLE = 200
SECTION_AUDIENCES = ("everyone", "organizations")
# Customer organizations live in the help desk (portal.desk); kb only counts their ids.
_ORGANIZATIONS = table("customer_organizations", column("id"))


def _count_organizations(session: Session, ids: list[int]) -> int:
    return session.scalar(
        select(func.count()).select_from(_ORGANIZATIONS).where(_ORGANIZATIONS.c.id.in_(ids))
    )


@dataclass
class NodeResult:
    node: Category | Section | None = None
    errors: dict[str, str] = field(default_factory=dict)  # field -> code

    @property
    def ok(self) -> bool:
        return not self.errors


def tree(session: Session, brand: Brand) -> list[Category]:
    return list(
        session.scalars(
            select(Category)
            .where(Category.brand_id == brand.id)
            .order_by(Category.position, Category.id)
            .options(
                selectinload(Category.translations),
                selectinload(Category.sections).selectinload(Section.translations),
            )
        )
    )


def _clean_titles(brand: Brand, titles: dict[str, str], errors: dict) -> dict[str, str]:
    cleaned = {}
    for locale in brand.locales:
        title = " ".join((titles.get(locale) or "").split())
        if len(title) > MAX_TITLE:
            errors[f"title_{locale}"] = "title_too_long"
        elif title:
            cleaned[locale] = title
    if brand.default_locale not in cleaned and f"title_{brand.default_locale}" not in errors:
        errors[f"title_{brand.default_locale}"] = "title_required"
    return cleaned


def _apply_titles(node, translation_cls, titles: dict[str, str]) -> None:
    existing = {t.locale: t for t in node.translations}
    keep = []
    for locale, title in titles.items():
        t = existing.get(locale) or translation_cls(locale=locale)
        t.title, t.slug = title, slugify(title)
        keep.append(t)
    node.translations = keep


def save_category(
    session: Session,
    brand: Brand,
    titles: dict[str, str],
    position: int,
    category: Category | None = None,
) -> NodeResult:
    result = NodeResult()
    cleaned = _clean_titles(brand, titles, result.errors)
    if result.errors:
        return result
    if category is None:
        category = Category(brand_id=brand.id)
        session.add(category)
    category.position = position
    _apply_titles(category, CategoryTranslation, cleaned)
    session.commit()
    result.node = category
    return result


def save_section(
    session: Session,
    brand: Brand,
    category_id: int | None,
    titles: dict[str, str],
    position: int,
    section: Section | None = None,
    audience: str = "everyone",
    organization_ids: list[int] | None = None,
) -> NodeResult:
    """`audience` "organizations" restricts the section (and its articles, everywhere) to
    members of the given customer organizations; ids that are no organization are refused."""
    result = NodeResult()
    category = session.get(Category, category_id) if category_id else None
    if category is None or category.brand_id != brand.id:
        result.errors["category_id"] = "category_unknown"
    cleaned = _clean_titles(brand, titles, result.errors)
    wanted = sorted(set(organization_ids or [])) if audience == "organizations" else []
    if audience not in SECTION_AUDIENCES:
        result.errors["audience"] = "audience_unknown"
    elif audience == "organizations":
        if not wanted:
            result.errors["organization_ids"] = "organizations_required"
        elif len(wanted) != _count_organizations(session, wanted):
            result.errors["organization_ids"] = "organizations_unknown"
    if result.errors:
        return result
    if section is None:
        section = Section(brand_id=brand.id)
        session.add(section)
    before = (section.audience or "everyone", section.organization_ids if section.id else [])
    section.category_id, section.position = category.id, position
    section.audience = audience
    if before[1] != wanted:
        section.organizations = [SectionOrganization(organization_id=o) for o in wanted]
    _apply_titles(section, SectionTranslation, cleaned)
    if section.id and before != (audience, wanted):
        # Who may find its articles changed: their search documents must follow.
        changes.reindex_articles(
            session, session.scalars(select(Article.id).where(Article.section_id == section.id))
        )
    session.commit()
    result.node = section
    return result


def delete_section(session: Session, section: Section, article_count: int) -> str | None:
    """Delete an empty section; an error code when it still holds articles."""
    if article_count:
        return "section_not_empty"
    session.delete(section)
    session.commit()
    return None


def delete_category(session: Session, category: Category, article_count: int) -> str | None:
    """Delete a category and its empty sections; refused while any of them holds articles."""
    if article_count:
        return "category_not_empty"
    for section in list(category.sections):
        session.delete(section)
    session.delete(category)
    session.commit()
    return None
