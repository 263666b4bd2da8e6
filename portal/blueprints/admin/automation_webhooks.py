"""Team-chat webhooks, for admins of a brand (permission "automation"): /admin/automation/webhooks
(targets per brand with their last delivery), add, edit, delete, "Send a test", the secret's
rotation, the delivery log per target and "Retry now".

A signing secret is shown once, in the answer to the post that made it (never put in a flash
or a redirect). "Allow private addresses" is for admins holding "security" on every brand.
"""

from flask import abort, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from kb import clock
from kb.models import Brand
from portal import access
from portal.blueprints.admin import bp
from portal.blueprints.admin.audit_forms import who
from portal.blueprints.admin.automation_webhook_forms import (
    EVENT_LABELS,
    KIND_LABELS,
    ConfirmForm,
    webhook_form,
)
from portal.desk.automation import deliveries, webhooks
from portal.desk.automation.models import WebhookDelivery, WebhookTarget
from portal.extensions import db
from portal.web.rendering import render

PERMISSION = "automation"


@bp.before_request
def webhooks_for_automation_admins():
    """Every route of this module (endpoints "admin.automation_webhook..."): "automation"."""
    if (request.endpoint or "").startswith("admin.automation_webhook") and not access.may(
        PERMISSION
    ):
        abort(403)


def _may_allow_private() -> bool:
    return access.may_everywhere("security")


def _target_or_404(target_id: int) -> WebhookTarget:
    target = db.session.get(WebhookTarget, target_id)
    if target is None or not access.may(PERMISSION, target.brand_id):
        abort(404)
    return target


def _key() -> str:
    """What URLs and secrets are sealed with (portal.security.sealing)."""
    return current_app.config["SECRET_KEY"]


def _now_key() -> dict:
    return {"now": clock.now(), "secret_key": _key()}


def _sessions():
    """Sessions of their own for a delivery tried at once (it commits its claim and outcome)."""
    return sessionmaker(db.engine)


def _to_list(target: WebhookTarget):
    brand = db.session.get(Brand, target.brand_id)
    return redirect(
        url_for(".automation_webhooks", brand=brand.slug) + f"#webhook-{target.id}", 303
    )


def _context(**extra) -> dict:
    return {"kinds": KIND_LABELS, "event_labels": EVENT_LABELS, **extra}


@bp.get("/automation/webhooks")
def automation_webhooks():
    brands = access.brands_with(db.session, PERMISSION)
    slug = request.args.get("brand")
    if slug:
        brands = [access.brand_with_permission_or_404(db.session, slug, PERMISSION)]
    sections = [(b, webhooks.targets_of_brand(db.session, b.id)) for b in brands]
    ids = [t.id for _b, targets in sections for t in targets]
    last = webhooks.last_deliveries(db.session, ids)
    return render("admin/automation/webhooks.html", **_context(sections=sections, last=last))


@bp.route("/automation/webhooks/new", methods=["GET", "POST"])
def automation_webhook_new():
    brand = access.brand_with_permission_or_404(db.session, request.args.get("brand"), PERMISSION)
    form = webhook_form(None, _may_allow_private())
    if form.validate_on_submit():
        try:
            target, secret = webhooks.save_target(
                db.session,
                brand=brand,
                target=None,
                settings=form.settings(),
                **_now_key(),
                **who(),
            )
        except ValueError as error:
            form.url.errors.append(str(error))
        else:
            db.session.commit()
            return _saved(target, secret, _("Webhook saved."))
    return _form_page(form, None, brand)


def _saved(target, secret, message):
    if secret:
        # Shown once, here: never in a redirect, a flash or the log.
        return render("admin/automation/webhooks_secret.html", target=target, secret=secret)
    flash(message, "success")
    return _to_list(target)


def _form_page(form, target, brand):
    status = 400 if request.method == "POST" else 200
    return render(
        "admin/automation/webhooks_form.html",
        status=status,
        **_context(form=form, target=target, brand=brand),
    )


@bp.route("/automation/webhooks/<id:target_id>", methods=["GET", "POST"])
def automation_webhook_edit(target_id):
    target = _target_or_404(target_id)
    brand = db.session.get(Brand, target.brand_id)
    form = webhook_form(target, _may_allow_private())
    if form.validate_on_submit():
        try:
            target, secret = webhooks.save_target(
                db.session,
                brand=brand,
                target=target,
                settings=form.settings(),
                **_now_key(),
                **who(),
            )
        except ValueError as error:
            db.session.rollback()
            form.url.errors.append(str(error))
        else:
            db.session.commit()
            return _saved(target, secret, _("Webhook saved."))
    return _form_page(form, target, brand)


@bp.route("/automation/webhooks/<id:target_id>/delete", methods=["GET", "POST"])
def automation_webhook_delete(target_id):
    target = _target_or_404(target_id)
    if ConfirmForm().validate_on_submit():
        brand = db.session.get(Brand, target.brand_id)
        webhooks.delete_target(db.session, target=target, now=clock.now(), **who())
        db.session.commit()
        flash(_("Webhook deleted."), "success")
        return redirect(url_for(".automation_webhooks", brand=brand.slug), 303)
    return render("admin/automation/webhooks_delete.html", target=target)


@bp.post("/automation/webhooks/<id:target_id>/test")
def automation_webhook_test(target_id):
    """Queue a test delivery and, outside any ticket's transaction, try it at once."""
    target = _target_or_404(target_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    delivery = webhooks.queue_test(db.session, target, clock.now())
    db.session.commit()
    outcome = deliveries.deliver_one(_sessions(), delivery.id, clock.now(), _key())
    if outcome == "delivered":
        flash(_("Test delivered."), "success")
    else:
        flash(_("The test was not delivered: see the delivery log. It will be retried."), "notice")
    return redirect(url_for(".automation_webhook_log", target_id=target.id), 303)


@bp.post("/automation/webhooks/<id:target_id>/rotate")
def automation_webhook_rotate(target_id):
    target = _target_or_404(target_id)
    if not ConfirmForm().validate_on_submit() or target.kind != webhooks.SIGNED:
        abort(400)
    secret = webhooks.rotate_secret(db.session, target=target, **_now_key(), **who())
    db.session.commit()
    return render("admin/automation/webhooks_secret.html", target=target, secret=secret)


@bp.get("/automation/webhooks/<id:target_id>/deliveries")
def automation_webhook_log(target_id):
    target = _target_or_404(target_id)
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    size = webhooks.LOG_PAGE
    stmt = deliveries.delivery_log(target.id).offset((page - 1) * size).limit(size + 1)
    rows = list(db.session.scalars(stmt))
    return render(
        "admin/automation/webhooks_log.html",
        "log",
        **_context(target=target, rows=rows[:size], page=page, has_next=len(rows) > size),
    )


@bp.post("/automation/webhooks/<id:target_id>/deliveries/<id:delivery_id>/retry")
def automation_webhook_retry(target_id, delivery_id):
    target = _target_or_404(target_id)
    delivery = db.session.scalar(
        select(WebhookDelivery).where(
            WebhookDelivery.id == delivery_id, WebhookDelivery.target_id == target.id
        )
    )
    if delivery is None:
        abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    webhooks.retry_now(db.session, delivery, clock.now())
    db.session.commit()
    outcome = deliveries.deliver_one(_sessions(), delivery.id, clock.now(), _key())
    if outcome == "delivered":
        flash(_("Delivered."), "success")
    else:
        flash(_("Still not delivered: it will be retried."), "notice")
    return redirect(url_for(".automation_webhook_log", target_id=target.id), 303)
