"""An agent's notifications: /agent/notifications (the list, newest first, and "mark all read"),
the unread count in the top bar (refreshed by htmx), the choices per kind
(/agent/notifications/settings) and following a ticket (/agent/tickets/<id>/follow)."""

from flask import flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from jinja2_fragments.flask import render_block

from kb import clock
from portal import access
from portal.blueprints.agent import bp
from portal.blueprints.agent.notification_forms import (
    FollowForm,
    MarkAllReadForm,
    NotificationPageQuery,
    NotificationSettingsForm,
)
from portal.desk.automation import agent_alerts
from portal.desk.automation.models import NOTICE_KINDS
from portal.extensions import db
from portal.mail.agent_digests import what_happened
from portal.web.rendering import render

KIND_NAMES = {
    "assigned_to_me": _l("A ticket is assigned to me"),
    "assigned_to_group": _l("A ticket is assigned to my group, with nobody assigned"),
    "customer_replied": _l("A customer replies on my ticket"),
    "mentioned": _l("Someone mentions me in an internal note"),
    "note_on_followed": _l("An internal note is added to a ticket I follow"),
    "group_alert": _l("An alert for my group (schedules)"),
}


def _unread() -> int:
    return agent_alerts.unread_count(
        db.session, current_user.user, access.agent_brand_ids(db.session)
    )


def _follows(ticket) -> bool:
    return agent_alerts.is_following(db.session, current_user.user, ticket)


@bp.context_processor
def notification_helpers():
    # Functions, so only the pages showing them pay for the queries.
    return {"unread_notices": _unread, "follows_ticket": _follows}


@bp.before_request
def read_on_opening():
    """Opening a ticket's page marks the agent's notices about it read."""
    if request.endpoint != "agent.ticket" or request.method != "GET":
        return
    ticket_id = (request.view_args or {}).get("ticket_id")
    if agent_alerts.mark_ticket_read(db.session, current_user.id, ticket_id, clock.now()):
        db.session.commit()


def _list(status=200):
    query = NotificationPageQuery.from_args(request.args)
    rows, has_next = agent_alerts.notices(
        db.session, current_user.user, access.agent_brand_ids(db.session), query.page
    )
    response = render(
        "agent/notifications.html",
        "notices",
        rows=rows,
        page=query.page,
        has_next=has_next,
        what=what_happened,
        status=status,
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/notifications", endpoint="notifications")
def notifications_list():
    return _list()


@bp.get("/notifications/count")
def notification_count():
    """The badge alone (htmx refreshes it now and then)."""
    body = render_block("agent/layout.html", "notification_badge")
    return body, 200, {"Cache-Control": "private, no-store"}


@bp.post("/notifications/read")
def notifications_read():
    """Mark all read."""
    if MarkAllReadForm().validate_on_submit():
        agent_alerts.mark_all_read(db.session, current_user.user, clock.now())
        db.session.commit()
    if request.htmx:  # the list, and the badge in the top bar (out of band)
        response = _list()
        badge = render_block("agent/layout.html", "notification_badge", oob=True)
        response.set_data(response.get_data(as_text=True) + badge)
        return response
    return redirect(url_for("agent.notifications"), 303)


@bp.route("/notifications/settings", methods=["GET", "POST"])
def notification_settings():
    """Which kinds of notices the agent gets by mail and in the app."""
    user = current_user.user
    form = NotificationSettingsForm()
    if request.method == "GET" or not form.validate_on_submit():
        if request.method == "GET":
            form = NotificationSettingsForm.for_choices(agent_alerts.preferences(db.session, user))
        return render(
            "agent/notification_settings.html",
            form=form,
            kinds=[(kind, KIND_NAMES[kind]) for kind in NOTICE_KINDS],
            status=200 if request.method == "GET" else 400,
        )
    if agent_alerts.save_preferences(db.session, user, form.choices):
        db.session.commit()
        flash(_("Your notification choices are saved."), "success")
    return redirect(url_for("agent.notification_settings"), 303)


@bp.post("/tickets/<id:ticket_id>/follow")
def ticket_follow(ticket_id):
    """Follow the ticket (be told of its internal notes) or stop."""
    ticket = access.ticket_for_agent_or_404(db.session, ticket_id)
    form = FollowForm()
    if form.validate_on_submit():
        agent_alerts.set_following(
            db.session, current_user.user, ticket, form.following, clock.now()
        )
        db.session.commit()
    if request.htmx:
        body = render_block("agent/ticket.html", "follow", ticket=ticket)
        return body, 200, {"Cache-Control": "private, no-store"}
    return redirect(url_for("agent.ticket", ticket_id=ticket.id) + "#follow", 303)
