"""Logos and favicons of brands and of the back office: /theme-files/<sha256>.<ext>.

Served only while a brand or an organization uses the file as its logo or favicon, with the type
chosen at upload (kb.theme), never sniffed. They are shown on public pages, so anyone may fetch
them and shared caches may keep them a few minutes.
"""

from flask import abort, url_for
from flask_login import current_user
from sqlalchemy import or_, select

from kb import theme
from kb.models import Brand, Organization
from portal.blueprints.helpcenter import bp
from portal.extensions import db
from portal.security import two_factor
from portal.web import downloads

PUBLIC_MAX_AGE = 300


def _content_type(sha256: str) -> str | None:
    """The type the file is used as, or None when nothing uses it."""
    found = db.session.execute(
        select(Brand.logo_sha256, Brand.logo_type, Brand.favicon_sha256, Brand.favicon_type)
        .where(or_(Brand.logo_sha256 == sha256, Brand.favicon_sha256 == sha256))
        .limit(1)
    ).first()
    if found is not None:
        return found.logo_type if found.logo_sha256 == sha256 else found.favicon_type
    return db.session.scalar(
        select(Organization.backoffice_logo_type)
        .where(Organization.backoffice_logo_sha256 == sha256)
        .limit(1)
    )


@bp.get("/theme-files/<sha256>.<ext>")
def theme_file(sha256, ext):
    if len(sha256) != 64 or not all(c in "0123456789abcdef" for c in sha256):
        abort(404)  # refused before any lookup
    content_type = _content_type(sha256)
    if content_type is None or theme.EXTENSIONS.get(content_type) != ext:
        abort(404)
    return downloads.stored_file(
        sha256, content_type, f"{sha256[:12]}.{ext}", public_max_age=PUBLIC_MAX_AGE
    )


@bp.app_template_global()
def theme_file_url(sha256: str | None, content_type: str | None) -> str | None:
    """Where a page finds a stored logo or favicon (None when there is none)."""
    ext = theme.EXTENSIONS.get(content_type or "")
    if not sha256 or ext is None:
        return None
    return url_for("helpcenter.theme_file", sha256=sha256, ext=ext)


@bp.app_template_global()
def backoffice_top_bar() -> tuple[str, str | None]:
    """The back office's name and logo URL in its top bar: the signed-in member's
    organization's, else "Portal" without a logo."""
    if not current_user.is_authenticated:
        return "Portal", None
    org_id = two_factor.organization_id_of(db.session, current_user.user)
    org = db.session.get(Organization, org_id) if org_id else None
    if org is None:
        return "Portal", None
    logo = theme_file_url(org.backoffice_logo_sha256, org.backoffice_logo_type)
    return org.backoffice_name or "Portal", logo
