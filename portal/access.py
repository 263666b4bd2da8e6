"""Who may see or change what: one function per object type, used by views and list queries."""

from flask import abort
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import Session

from kb.models import Article, Brand, Category, Revision, Section, Translation
from portal.desk.models import InquiryForm, Ticket
from portal.extensions import db
from portal.security import roles


def _grants() -> dict[int | None, frozenset[str]]:
    """The signed-in user's permissions per brand, read once per request."""
    if not current_user.is_authenticated:
        return {}
    cached = getattr(current_user, "_grants", None)
    if cached is None:
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


def may_everywhere(permission: str) -> bool:
    """Whether the user holds `permission` on every brand: what pages about the installation
    as a whole ask (mail settings, customer organizations), as they show every brand's data."""
    return permitted_brand_ids(permission) is None and may(permission)


def may_enter_back_office() -> bool:
    """The back office (/admin) is for members holding one of its permissions."""
    return any(may(permission) for permission in roles.BACK_OFFICE_PERMISSIONS)


def is_agent() -> bool:
    """Members who see tickets (on the brands where they hold tickets.view)."""
    return may("tickets.view")


def agent_brand_ids(session: Session) -> list[int] | None:
    """Brands whose tickets the current member sees: None means every brand."""
    return permitted_brand_ids("tickets.view")


def customer_brand_ids(session: Session) -> list[int] | None:
    """Brands whose requesters' profiles (with their requests) the member sees: where they hold
    both customers.view and tickets.view. None means every brand."""
    customers, tickets = permitted_brand_ids("customers.view"), agent_brand_ids(session)
    if customers is None or tickets is None:
        return tickets if customers is None else customers
    return sorted(set(customers) & set(tickets))


def ticket_for_agent_or_404(session: Session, ticket_id: int) -> Ticket:
    """A ticket of a brand this member sees tickets of; others 404."""
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


def content_brand_ids(session: Session, permission: str = "kb.write") -> list[int] | None:
    """Brands whose content (or forms, ...) the current member may edit: None means every."""
    return permitted_brand_ids(permission)


def content_brands(session: Session, permission: str = "kb.write") -> list[Brand]:
    """The brands the current member edits, by name (the filter every admin list starts from)."""
    return brands_with(session, permission)


def scope_to_content_brands(session: Session, stmt, brand_column):
    """Limit a select() to the current member's brands."""
    ids = content_brand_ids(session)
    return stmt if ids is None else stmt.where(brand_column.in_(ids))


def may_edit_brand(session: Session, brand_id: int, permission: str = "kb.write") -> bool:
    return may(permission, brand_id)


def brand_for_editor_or_404(
    session: Session, slug: str | None, permission: str = "kb.write"
) -> Brand:
    return brand_with_permission_or_404(session, slug, permission)


def chosen_content_brand(
    session: Session, slug: str | None, permission: str = "kb.write"
) -> tuple[Brand | None, list[Brand]]:
    """The brand a per-brand admin page asks for (404 when not the editor's), else the editor's
    only brand, else None (the page asks to choose); with the editor's brands."""
    brands = content_brands(session, permission)
    slug = slug or (brands[0].slug if len(brands) == 1 else None)
    if slug is None:
        return None, brands
    return brand_for_editor_or_404(session, slug, permission), brands


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
    if form is None or not may("forms", form.brand_id):
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


def brands_with(session: Session, permission: str) -> list[Brand]:
    """The brands on which the signed-in user holds `permission`, by name."""
    ids = permitted_brand_ids(permission)
    stmt = select(Brand).order_by(Brand.name)
    if ids is not None:
        stmt = stmt.where(Brand.id.in_(ids))
    return list(session.scalars(stmt))


def brand_with_permission_or_404(session: Session, slug: str | None, permission: str) -> Brand:
    """The brand named by `slug` when the signed-in user holds `permission` on it; unknown and
    forbidden brands answer the same 404."""
    brand = session.scalar(select(Brand).where(Brand.slug == (slug or "")))
    if brand is None or not may(permission, brand.id):
        abort(404)
    return brand
