"""My performance: /agent/me (counts for today, this week and this month), my groups and
whether round-robin gives me new tickets."""

from flask import flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from kb import clock
from kb.models import Brand
from portal import access
from portal.blueprints.agent import bp
from portal.blueprints.agent.forms import AvailabilityForm
from portal.desk.assignment import group_ids_of
from portal.desk.models import AgentGroup
from portal.desk.performance import FIGURES, PERIODS, agent_timezone, performance, ratings
from portal.extensions import db
from portal.web.rendering import render


@bp.get("/me", endpoint="me")
def show_me():
    brand_ids = access.agent_brand_ids(db.session)
    tz = agent_timezone(db.session, current_user.id)
    figures = performance(db.session, current_user.id, brand_ids, tz, clock.now())
    # "Support (Acme)": groups of different brands may share a name.
    groups = [
        f"{group} ({brand})"
        for group, brand in db.session.execute(
            select(AgentGroup.name, Brand.name)
            .join(Brand, Brand.id == AgentGroup.brand_id)
            .where(AgentGroup.id.in_(group_ids_of(current_user.id)))
            .order_by(AgentGroup.name, Brand.name)
        )
    ]
    return render(
        "agent/me.html",
        figures=figures,
        figure_names=FIGURES,
        periods=PERIODS,
        timezone=str(tz),
        groups=groups,
        ratings=ratings(db.session, current_user.id, brand_ids),
        receives_tickets=current_user.user.receives_tickets,
    )


@bp.post("/me/availability")
def me_availability():
    """Switch "receive tickets" (round-robin skips me while it is off, on vacation say)."""
    user = current_user.user
    wanted = AvailabilityForm().receives_tickets.data
    if wanted == user.receives_tickets:
        flash(_("Nothing changed."))
    else:
        user.receives_tickets = wanted
        db.session.commit()
        if wanted:
            flash(_("You receive new tickets again."))
        else:
            flash(_("You no longer receive new tickets from round-robin."))
    return redirect(url_for("agent.me") + "#availability", 303)
