"""My performance: /agent/me (counts for today, this week and this month), my groups and
whether round-robin gives me new tickets."""

from flask import flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from kb import clock
from portal import access
from portal.blueprints.agent import bp
from portal.desk.assignment import group_ids_of
from portal.desk.models import AgentGroup
from portal.desk.performance import FIGURES, PERIODS, agent_timezone, performance
from portal.extensions import db
from portal.rendering import render


@bp.get("/me", endpoint="me")
def show_me():
    brand_ids = access.agent_brand_ids(db.session)
    tz = agent_timezone(db.session, current_user.id)
    figures = performance(db.session, current_user.id, brand_ids, tz, clock.now())
    groups = db.session.scalars(
        select(AgentGroup)
        .where(AgentGroup.id.in_(group_ids_of(current_user.id)))
        .order_by(AgentGroup.name)
    ).all()
    return render(
        "agent/me.html",
        figures=figures,
        figure_names=FIGURES,
        periods=PERIODS,
        timezone=str(tz),
        groups=groups,
        receives_tickets=current_user.user.receives_tickets,
    )


@bp.post("/me/availability")
def me_availability():
    """Switch "receive tickets" (round-robin skips me while it is off, on vacation say)."""
    user = current_user.user
    user.receives_tickets = request.form.get("receives_tickets") == "1"
    db.session.commit()
    if user.receives_tickets:
        flash(_("You receive new tickets again."))
    else:
        flash(_("You no longer receive new tickets from round-robin."))
    return redirect(url_for("agent.me") + "#availability", 303)
