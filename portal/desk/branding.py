"""Customisation: a brand's help-center theme and mail template, the back office's top bar.

One function per user action; each checks, changes and records the audit entry in the caller's
transaction (the caller commits, then keeps the uploaded files: bytes land only once a row
names them).
"""

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from kb import attachments, theme
from kb.models import Brand, Organization
from kb.people import User
from portal.mail.models import MailTemplate
from portal.security import audit

MAX_BACKOFFICE_NAME = 60
MAX_MAIL_HEADER = 200
MAX_MAIL_FOOTER = 2000


def change_theme(
    session: Session,
    brand: Brand,
    wanted: theme.Theme,
    *,
    actor: User,
    now: datetime,
    ip: str = "",
) -> theme.CheckedTheme:
    """Check and apply a theme to `brand` (nothing changes when `.errors`); audited when
    something changed. The brand's content_version moves with it (kb.changes)."""
    checked = theme.check(wanted)
    if not checked.ok:
        return checked
    changed = theme.apply(brand, checked)
    if changed:
        audit.record(
            session,
            "brand.theme_changed",
            now=now,
            actor=actor,
            target=f"brand:{brand.id}",
            target_name=brand.name,
            brand_id=brand.id,
            ip=ip,
            details={"changed": sorted(changed)},
        )
    return checked


@dataclass
class MailTemplateValues:
    header: str = ""
    show_logo: bool = True
    footer: str = ""
    errors: dict[str, list[str]] = field(default_factory=dict)


def check_mail_template(header: str, show_logo: bool, footer: str) -> MailTemplateValues:
    """Trimmed values with codes for what is too long (a line break has no place in a header)."""
    values = MailTemplateValues(
        " ".join((header or "").split()), bool(show_logo), (footer or "").strip()
    )
    if len(values.header) > MAX_MAIL_HEADER:
        values.errors["header"] = ["too_long"]
    if len(values.footer) > MAX_MAIL_FOOTER:
        values.errors["footer"] = ["too_long"]
    return values


def mail_template(session: Session, brand_id: int, locale: str) -> MailTemplate | None:
    return session.scalar(
        select(MailTemplate).where(MailTemplate.brand_id == brand_id, MailTemplate.locale == locale)
    )


def change_mail_template(
    session: Session,
    brand: Brand,
    locale: str,
    values: MailTemplateValues,
    *,
    actor: User,
    now: datetime,
    ip: str = "",
) -> MailTemplate:
    """Save the brand's mail template for `locale` (checked values), audited when it changed."""
    if values.errors or locale not in brand.locales:
        raise ValueError("unchecked mail template")
    row = mail_template(session, brand.id, locale)
    if row is None:
        row = MailTemplate(brand_id=brand.id, locale=locale, header="", show_logo=True, footer="")
        session.add(row)
    changed = sorted(
        name
        for name in ("header", "show_logo", "footer")
        if getattr(row, name) != getattr(values, name)
    )
    row.header, row.show_logo, row.footer = values.header, values.show_logo, values.footer
    row.updated_at = now
    if changed or row.id is None:
        audit.record(
            session,
            "brand.mail_template_changed",
            now=now,
            actor=actor,
            target=f"brand:{brand.id}",
            target_name=brand.name,
            brand_id=brand.id,
            ip=ip,
            details={"locale": locale, "changed": changed},
        )
    return row


@dataclass
class CheckedBranding:
    name: str
    logo: attachments.Received | None
    logo_type: str | None
    remove_logo: bool
    errors: dict[str, list[str]] = field(default_factory=dict)


def change_backoffice_branding(
    session: Session,
    organization: Organization,
    name: str,
    logo: attachments.Received | None,
    remove_logo: bool,
    *,
    actor: User,
    now: datetime,
    ip: str = "",
) -> CheckedBranding:
    """The back office's top-bar name (empty: "Portal") and logo for `organization`."""
    name = " ".join((name or "").split())
    checked = CheckedBranding(name, logo, None, remove_logo)
    if len(name) > MAX_BACKOFFICE_NAME:
        checked.errors["name"] = ["too_long"]
    if logo is not None:
        codes, checked.logo_type = theme.image_errors(logo, theme.LOGO_TYPES, theme.MAX_LOGO_BYTES)
        if codes:
            checked.errors["logo"] = codes
    if checked.errors:
        return checked
    values = {"backoffice_name": name or None}
    if logo is not None:
        values.update(backoffice_logo_sha256=logo.sha256, backoffice_logo_type=checked.logo_type)
    elif remove_logo:
        values.update(backoffice_logo_sha256=None, backoffice_logo_type=None)
    changed = sorted(k for k, v in values.items() if getattr(organization, k) != v)
    for key, value in values.items():
        setattr(organization, key, value)
    if changed:
        audit.record(
            session,
            "organization.branding_changed",
            now=now,
            actor=actor,
            target=f"organization:{organization.id}",
            target_name=organization.name,
            ip=ip,
            details={"changed": changed},
        )
    return checked
