"""Composing mail: templates rendered in the recipient's language, added to the outbox.

Templates: mail/<name>.txt and mail/<name>.html, both extending their mail/layout (the brand's
name, logo, colours and a footer). The subject is the `subject` block of the .txt template
(rendered alone, whitespace collapsed to single spaces). The .html file is autoescaped (Flask
escapes by extension), the .txt is not: it is plain text. Strings in the .txt also appear in the
.html (its <title> repeats the subject), so extraction from the .html templates covers both.

Links in mail are absolute, built from PORTAL_BASE_URL (absolute_url), never from a request's
Host header. Mail leaves through the outbox only (portal.mail.outbox), written in the caller's
transaction; the scheduler leader sends it every MAIL_SEND_INTERVAL_SECONDS. Mail about a
ticket is queued by portal.mail.requesters, which adds the headers that thread it.
"""

import logging
from email.headerregistry import Address
from email.utils import parseaddr
from urllib.parse import urljoin, urlsplit

from flask import current_app, render_template
from flask_babel import force_locale
from jinja2_fragments.flask import render_block
from sqlalchemy import select
from sqlalchemy.orm import Session

from kb import clock, theme
from portal.desk.models import OutboxMail
from portal.desk.tickets import valid_email
from portal.mail import outbox, tokens
from portal.mail.models import MailAddress, MailTemplate

log = logging.getLogger(__name__)


def queue_mail(
    session: Session,
    template: str,
    *,
    brand,
    locale: str,
    to: str,
    ticket_id: int | None = None,
    sender: str | None = None,
    headers: dict[str, str] | None = None,
    auto_submitted: str | None = outbox.AUTO_GENERATED,
    mail_template=None,
    **context,
) -> OutboxMail:
    """Render mail/<template>.txt and .html in `locale` and add the mail to the outbox in the
    caller's transaction (the caller commits). A mail about a ticket (`ticket_id`) carries its
    token in the subject. `sender`: the From (default: sender_for(brand)); `headers` and
    `auto_submitted` as for outbox.enqueue; `mail_template`: the header and footer to wear
    (default: the brand's saved MailTemplate for `locale`). ValueError for a line break in `to`."""
    if mail_template is None:
        mail_template = mail_template_for(session, brand, locale)
    subject, text, html = render_mail(
        template, brand=brand, locale=locale, mail_template=mail_template, **context
    )
    if ticket_id is not None:
        subject = tokens.subject_with_token(subject, ticket_id)
    return outbox.enqueue(
        session,
        sender=sender or sender_for(brand),
        recipient=to,
        subject=subject,
        text_body=text,
        html_body=html,
        brand_id=getattr(brand, "id", None),
        ticket_id=ticket_id,
        headers=headers,
        auto_submitted=auto_submitted,
        now=clock.now(),
    )


def mail_template_for(session: Session, brand, locale: str) -> MailTemplate | None:
    """The brand's saved header and footer for mail in `locale`, if it has set them."""
    if getattr(brand, "id", None) is None:
        return None
    return session.scalar(
        select(MailTemplate).where(MailTemplate.brand_id == brand.id, MailTemplate.locale == locale)
    )


def render_mail(
    template: str, *, brand, locale: str, mail_template=None, **context
) -> tuple[str, str, str]:
    """(subject, text, html) of mail/<template> in `locale`, with `mail_template`'s header,
    logo choice and footer (a MailTemplate or anything with header, show_logo and footer)."""
    base = base_url()
    primary, accent = brand.colors if brand is not None else ("#1f4e79", "#f2a900")
    show_logo = getattr(mail_template, "show_logo", True)
    context = {
        "brand": brand,
        "brand_name": brand.name if brand is not None else "Portal",
        "logo_url": _logo_url(brand, base) if show_logo else None,
        "mail_header": getattr(mail_template, "header", "") or "",
        "mail_footer": getattr(mail_template, "footer", "") or "",
        "primary_color": primary,
        "accent_color": accent,
        "locale": locale,
        "base_url": base,
        **context,
    }
    with force_locale(locale):
        subject = render_block(f"mail/{template}.txt", "subject", **context)
        text = render_template(f"mail/{template}.txt", **context)
        html = render_template(f"mail/{template}.html", **context)
    return " ".join(subject.split()), text.strip() + "\n", html


def _logo_url(brand, base: str) -> str | None:
    """The brand's uploaded logo, else its logo_url: absolute, http(s) only."""
    sha256, content_type = getattr(brand, "logo_sha256", None), getattr(brand, "logo_type", None)
    ext = theme.EXTENSIONS.get(content_type or "")
    if sha256 and ext:
        return absolute_url("helpcenter.theme_file", sha256=sha256, ext=ext)
    return _absolute_http_url(getattr(brand, "logo_url", None), base)


def base_url() -> str:
    return str(current_app.config["PORTAL_BASE_URL"]).rstrip("/")


def absolute_url(endpoint: str, **values) -> str:
    """An absolute URL for a link in mail, on PORTAL_BASE_URL whatever request is running."""
    base = urlsplit(base_url())
    adapter = current_app.url_map.bind(
        base.netloc, script_name=base.path or "/", url_scheme=base.scheme or "https"
    )
    return adapter.build(endpoint, values, force_external=True)


def sender_for(brand, address: MailAddress | None = None) -> str:
    """The From of mail for `brand`: `address` (one of its addresses) with its name or else the
    brand's; without one, MAIL_FROM's address with the brand's name (the brand writes, Portal
    sends). An address that cannot stand in a header (a typo) is logged; MAIL_FROM stands in."""
    name, mail_from = parseaddr(current_app.config["MAIL_FROM"])
    if brand is not None and brand.name:
        name = brand.name
    if address is not None:
        own = _from_header(address.name or name, address.address)
        if own is not None:
            return own
        log.warning("mail address %s cannot be a From header: sending from MAIL_FROM", address.id)
    return str(Address(display_name=_printable(name), addr_spec=mail_from))


def _from_header(name: str, address: str) -> str | None:
    """`name <address>`, or None for an address the header cannot hold."""
    if not (address.isascii() and valid_email(address)):
        return None
    try:
        return str(Address(display_name=_printable(name), addr_spec=address))
    except ValueError:  # the parser's defects: a local part that is no dot-atom
        return None


def _printable(name: str) -> str:
    return "".join(c for c in name if c.isprintable())


def _absolute_http_url(url: str | None, base: str) -> str | None:
    if not url:
        return None
    absolute = urljoin(base + "/", url)
    return absolute if urlsplit(absolute).scheme in ("http", "https") else None
