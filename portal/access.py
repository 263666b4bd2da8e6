"""Who may see or change what: one function per object type, used by views and list queries."""

from flask import abort
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import Session

from kb.models import Article, Brand, Category, Revision, Section, Translation
from kb.people import BrandMember
from portal.desk.models import InquiryForm, Ticket
from portal.security import roles

STAFF_ROLES = ("admin", "editor", "agent")
CONTENT_ROLES = ("admin", "editor")


def _grants() -> dict[int | None, frozenset[str]]:
    """The signed-in user's permissions per brand, read once per request."""
    if not current_user.is_authenticated:
        return {}
    cached = getattr(current_user, "_grants", None)
    if cached is None:
        from portal.extensions import db

        cached = current_user._grants = roles.grants(db.session, current_user.user)
    return cached


def may(permission: str, brand_id: int | None = None) -> bool:
    """Whether the signed-in user holds `permission` on `brand_id` (on some brand when None)."""
    held = _grants()
    if brand_id is None:
        return any(permission in perms for perms in held.values())
    return permission in held.get(roles.EVERY_BRAND, ()) or permission in held.get(brand_id, ())


def permitted_brand_ids(permission: str) -> list[int] | None:
    """The brands on which the signed-in user holds `permission`: None means every brand."""
    held = _grants()
    if permission in held.get(roles.EVERY_BRAND, ()):
        return None
    return sorted(b for b, perms in held.items() if b is not None and permission in perms)


def role() -> str | None:
    return current_user.role if current_user.is_authenticated else None


def is_content_staff() -> bool:
    return role() in CONTENT_ROLES


AGENT_ROLES = ("admin", "agent")


def is_agent() -> bool:
    """Agents (their brands' tickets) and admins (every brand's)."""
    return role() in AGENT_ROLES


def agent_brand_ids(session: Session) -> list[int] | None:
    """Brands whose tickets the current agent handles: None means every brand (admins)."""
    if role() == "admin":
        return None
    if role() != "agent":
        return []
    return list(
        session.scalars(select(BrandMember.brand_id).where(BrandMember.user_id == current_user.id))
    )


def ticket_for_agent_or_404(session: Session, ticket_id: int) -> Ticket:
    """A ticket of a brand this agent belongs to (any brand for admins); others 404."""
    ticket = session.get(Ticket, ticket_id)
    brands = agent_brand_ids(session)
    if ticket is None or (brands is not None and ticket.brand_id not in brands):
        abort(404)
    return ticket


def reader_org_id() -> int | None:
    """The signed-in customer's organization (restricted sections and forms open to it)."""
    if not current_user.is_authenticated:
        return None
    return getattr(current_user.user, "customer_org_id", None)


def is_admin() -> bool:
    """Admins run the installation itself (mail, settings): more than any one brand."""
    return role() == "admin"


def content_brand_ids(session: Session) -> list[int] | None:
    """Brands whose content the current user may edit: None means every brand (admins)."""
    if role() == "admin":
        return None
    if role() != "editor":
        return []
    return list(
        session.scalars(select(BrandMember.brand_id).where(BrandMember.user_id == current_user.id))
    )


def content_brands(session: Session) -> list[Brand]:
    """The brands the current user edits, by name (the filter every admin list starts from)."""
    ids = content_brand_ids(session)
    stmt = select(Brand).order_by(Brand.name)
    if ids is not None:
        stmt = stmt.where(Brand.id.in_(ids))
    return list(session.scalars(stmt))


def scope_to_content_brands(session: Session, stmt, brand_column):
    """Limit a select() to the current user's brands."""
    ids = content_brand_ids(session)
    return stmt if ids is None else stmt.where(brand_column.in_(ids))


def may_edit_brand(session: Session, brand_id: int) -> bool:
    ids = content_brand_ids(session)
    return ids is None or brand_id in ids


def brand_for_editor_or_404(session: Session, slug: str | None) -> Brand:
    brand = session.scalar(select(Brand).where(Brand.slug == (slug or "")))
    if brand is None or not may_edit_brand(session, brand.id):
        abort(404)
    return brand


def chosen_content_brand(session: Session, slug: str | None) -> tuple[Brand | None, list[Brand]]:
    """The brand a per-brand admin page asks for (404 when not the editor's), else the editor's
    only brand, else None (the page asks to choose); with the editor's brands."""
    brands = content_brands(session)
    slug = slug or (brands[0].slug if len(brands) == 1 else None)
    if slug is None:
        return None, brands
    return brand_for_editor_or_404(session, slug), brands


def article_for_editor_or_404(session: Session, article_id: int) -> Article:
    """Unknown and forbidden articles answer the same 404."""
    article = session.get(Article, article_id)
    if article is None or not may_edit_brand(session, article.brand_id):
        abort(404)
    return article


def category_for_editor_or_404(session: Session, category_id: int) -> Category:
    category = session.get(Category, category_id)
    if category is None or not may_edit_brand(session, category.brand_id):
        abort(404)
    return category


def section_for_editor_or_404(session: Session, section_id: int) -> Section:
    section = session.get(Section, section_id)
    if section is None or not may_edit_brand(session, section.brand_id):
        abort(404)
    return section


def form_for_editor_or_404(session: Session, form_id: int) -> InquiryForm:
    """An inquiry form of a brand the current user edits; unknown and forbidden answer 404."""
    form = session.get(InquiryForm, form_id)
    if form is None or not may_edit_brand(session, form.brand_id):
        abort(404)
    return form


def revision_for_editor_or_404(session: Session, article: Article, revision_id: int) -> Revision:
    """A revision of one of this article's translations (the article is already checked)."""
    revision = session.scalar(
        select(Revision)
        .join(Translation, Translation.id == Revision.translation_id)
        .where(Revision.id == revision_id, Translation.article_id == article.id)
    )
    if revision is None:
        abort(404)
    return revision


def brand_for_settings_or_404(session: Session, slug: str | None) -> Brand:
    """A brand whose configuration (theme, mail template) the signed-in member may change:
    unknown and forbidden brands answer the same 404."""
    brand = session.scalar(select(Brand).where(Brand.slug == (slug or "")))
    if brand is None or not may("settings", brand.id):
        abort(404)
    return brand
