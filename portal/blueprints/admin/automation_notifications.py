"""Customer notifications for members holding "automation" on a brand:
/admin/automation/notifications (each kind on or off) and one page per kind (its wording per
language, a preview and a test sent to the member's own address)."""

from types import SimpleNamespace

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from kb import clock
from kb.models import Brand
from kb.people import display_name_for_customers
from portal import access
from portal.blueprints.admin import bp
from portal.blueprints.admin.audit_forms import who
from portal.blueprints.admin.automation_notification_forms import (
    NotificationSwitchForm,
    NotificationTemplateForm,
    template_form,
)
from portal.desk.automation import notifications
from portal.desk.models import Ticket
from portal.extensions import db
from portal.mail import compose
from portal.web.rendering import render
from portal.web.security_headers import content_security_policy

ENDPOINTS = (
    "admin.automation_notifications",
    "admin.automation_notification_switch",
    "admin.automation_notification",
)
RECENT_TICKETS = 20  # the requests a preview can be about


@bp.before_request
def automation_members_only():
    """These pages: members holding "automation" on some brand (each page checks its brand)."""
    if (request.endpoint or "") in ENDPOINTS and not access.may("automation"):
        abort(403)


def _brand_or_404() -> Brand:
    """The brand of `?brand=slug`, else the first the member may automate."""
    slug = request.args.get("brand")
    if slug is None:
        brands = access.brands_with(db.session, "automation")
        slug = brands[0].slug if brands else None
    return access.brand_with_permission_or_404(db.session, slug, "automation")


@bp.get("/automation/notifications")
def automation_notifications():
    brand = _brand_or_404()
    return render(
        "admin/automation/notifications.html",
        brand=brand,
        brands=access.brands_with(db.session, "automation"),
        settings=notifications.settings(db.session, brand),
        form=NotificationSwitchForm(),
    )


@bp.post("/automation/notifications/switch")
def automation_notification_switch():
    brand = _brand_or_404()
    form = NotificationSwitchForm()
    wanted = form.wanted() if form.validate_on_submit() else None
    if wanted is None or wanted[0] in notifications.ALWAYS_ON:
        abort(400)
    kind, enabled = wanted
    notifications.switch(db.session, brand, kind, enabled, now=clock.now(), **who())
    db.session.commit()
    flash(_("The notifications of %(brand)s are saved.", brand=brand.name), "success")
    return redirect(url_for(".automation_notifications", brand=brand.slug), 303)


# -- one kind's wording, per language -----------------------------------------------------------


def _recent_tickets(brand: Brand) -> list[Ticket]:
    return list(
        db.session.scalars(
            select(Ticket)
            .where(Ticket.brand_id == brand.id, Ticket.deleted_at.is_(None))
            .order_by(Ticket.id.desc())
            .limit(RECENT_TICKETS)
        )
    )


def _about(brand: Brand, locale: str, ticket_id: int, recent: list[Ticket]):
    """(ticket, link, last reply, its author) a preview is about: a recent request of the
    brand, else a made-up one (never stored)."""
    ticket = next((t for t in recent if t.id == ticket_id), None)
    if ticket is not None:
        link = compose.absolute_url(
            "requests.show_request", brand=brand.slug, locale=locale, ticket_id=ticket.id
        )
        return (ticket, link, *notifications.last_reply_of(db.session, ticket))
    sample = SimpleNamespace(
        id=1234,
        subject=_("A sample request"),
        requester_name=current_user.name,
        requester_email=current_user.email,
    )
    link = compose.absolute_url("helpcenter.home", brand=brand.slug, locale=locale)
    reply = _("Thank you for waiting. We have refunded the second payment.")
    return sample, link, reply, display_name_for_customers(current_user.user)


def _mail(brand: Brand, kind: str, locale: str, values, ticket_id: int, recent) -> dict:
    """The mail as it would go out with these (unsaved) values: its template and context."""
    ticket, link, last_reply, author = _about(brand, locale, ticket_id, recent)
    message = SimpleNamespace(body=last_reply, public=True) if kind == "agent_replied" else None
    wording = notifications.word(
        kind,
        None if values.empty else values,
        ticket=ticket,
        brand=brand,
        link=link,
        last_reply=last_reply,
        agent_name=author,
        message=message,
    )
    context = {"ticket": ticket, "link": link, **wording.context}
    if wording.template == notifications.BUILT_IN[notifications.AGENT_REPLIED]:
        context["agent_name"] = author
    mail_template = compose.mail_template_for(db.session, brand, locale)
    return {"brand": brand, "locale": locale, "mail_template": mail_template, **context} | {
        "template": wording.template
    }


def _preview(mail: dict) -> dict:
    subject, text, html = compose.render_mail(mail.pop("template"), **mail)
    return {"subject": subject, "text": text, "html": html}


def _send_test(mail: dict) -> None:
    """The mail to the member's own address, through the outbox like any other."""
    compose.queue_mail(db.session, mail.pop("template"), to=current_user.email, **mail)
    db.session.commit()
    flash(_("A test mail is on its way to %(address)s.", address=current_user.email), "success")


def _editor_form(brand: Brand, kind: str, locale: str, recent: list[Ticket]):
    row = notifications.template(db.session, brand.id, kind, locale)
    form = template_form(row) if request.method == "GET" else NotificationTemplateForm()
    form.ticket.choices = [(0, _("A sample request"))] + [
        (t.id, f"#{t.id} {t.subject}") for t in recent
    ]
    return form, row


@bp.route("/automation/notifications/<kind>", methods=["GET", "POST"])
def automation_notification(kind):
    brand = _brand_or_404()
    locale = request.args.get("locale") or brand.default_locale
    if kind not in notifications.KINDS or locale not in (brand.locales or []):
        abort(404)
    recent = _recent_tickets(brand)
    form, row = _editor_form(brand, kind, locale, recent)
    here = url_for(".automation_notification", kind=kind, brand=brand.slug, locale=locale)
    values, preview = (form.values() if form.validate_on_submit() else None), None
    if values is not None and values.errors:
        form.show_errors(values)
    elif values is not None and form.action.data in ("preview", "test"):
        mail = _mail(brand, kind, locale, values, form.ticket.data, recent)
        if form.action.data == "test":
            _send_test(mail)
            return redirect(here, 303)
        preview = _preview(mail)
    elif values is not None:
        notifications.change_template(
            db.session, brand, kind, locale, values, now=clock.now(), **who()
        )
        db.session.commit()
        flash(_("The wording is saved."), "success")
        return redirect(here, 303)
    response = render(
        "admin/automation/notification.html",
        "editor",
        status=422 if request.method == "POST" and preview is None else 200,
        form=form,
        brand=brand,
        kind=kind,
        locale=locale,
        preview=preview,
        enabled=notifications.is_on(db.session, brand.id, kind),
        fallback=row is None and notifications.template_for(db.session, brand, kind, locale),
    )
    # The preview's HTML (in a sandboxed frame, which inherits this page's policy, also when
    # htmx brings it in later) styles itself inline.
    response.headers["Content-Security-Policy"] = content_security_policy(inline_styles=True)
    return response
