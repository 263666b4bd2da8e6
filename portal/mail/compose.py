"""Composing mail: templates rendered in the recipient's language, added to the outbox.

Templates: mail/<name>.txt and mail/<name>.html, both extending their mail/layout (the brand's
name, logo, colours and a footer). The subject is the `subject` block of the .txt template
(rendered alone, whitespace collapsed to single spaces). The .html file is autoescaped (Flask
escapes by extension), the .txt is not: it is plain text. Strings in the .txt also appear in the
.html (its <title> repeats the subject), so extraction from the .html templates covers both.

Links in mail are absolute, built from PORTAL_BASE_URL (absolute_url), never from a request's
Host header. Mail leaves through the outbox only (portal.mail.outbox), written in the caller's
transaction; the scheduler leader sends it every MAIL_SEND_INTERVAL_SECONDS.
"""

import logging
from email.headerregistry import Address
from email.utils import parseaddr
from urllib.parse import urljoin, urlsplit

from flask import current_app, render_template
from flask_babel import force_locale
from jinja2_fragments.flask import render_block
from sqlalchemy.orm import Session

from kb import clock
from portal.desk.models import OutboxMail
from portal.mail import outbox

log = logging.getLogger(__name__)


def queue_mail(
    session: Session,
    template: str,
    *,
    brand,
    locale: str,
    to: str,
    ticket_id: int | None = None,
    **context,
) -> OutboxMail:
    """Render mail/<template>.txt and .html in `locale` and add the mail to the outbox in the
    caller's transaction (the caller commits). ValueError for a line break in `to`."""
    subject, text, html = render_mail(template, brand=brand, locale=locale, **context)
    return outbox.enqueue(
        session,
        sender=sender_for(brand),
        recipient=to,
        subject=subject,
        text_body=text,
        html_body=html,
        brand_id=getattr(brand, "id", None),
        ticket_id=ticket_id,
        now=clock.now(),
    )


def render_mail(template: str, *, brand, locale: str, **context) -> tuple[str, str, str]:
    """(subject, text, html) of mail/<template> in `locale`."""
    base = base_url()
    primary, accent = brand.colors if brand is not None else ("#1f4e79", "#f2a900")
    context = {
        "brand": brand,
        "brand_name": brand.name if brand is not None else "Portal",
        "logo_url": _absolute_http_url(getattr(brand, "logo_url", None), base),
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


def base_url() -> str:
    return str(current_app.config["PORTAL_BASE_URL"]).rstrip("/")


def absolute_url(endpoint: str, **values) -> str:
    """An absolute URL for a link in mail, on PORTAL_BASE_URL whatever request is running."""
    base = urlsplit(base_url())
    adapter = current_app.url_map.bind(
        base.netloc, script_name=base.path or "/", url_scheme=base.scheme or "https"
    )
    return adapter.build(endpoint, values, force_external=True)


def sender_for(brand) -> str:
    """MAIL_FROM's address, with the brand's name shown (the brand writes, Portal sends)."""
    name, address = parseaddr(current_app.config["MAIL_FROM"])
    if brand is not None and brand.name:
        name = brand.name
    name = "".join(c for c in name if c.isprintable())
    return str(Address(display_name=name, addr_spec=address))


def _absolute_http_url(url: str | None, base: str) -> str | None:
    if not url:
        return None
    absolute = urljoin(base + "/", url)
    return absolute if urlsplit(absolute).scheme in ("http", "https") else None
