"""My performance: /agent/me (counts for today, this week and this month)."""

from flask_login import current_user

from kb import clock
from portal import access
from portal.blueprints.agent import bp
from portal.desk.performance import FIGURES, PERIODS, agent_timezone, performance
from portal.extensions import db
from portal.rendering import render


@bp.get("/me", endpoint="me")
def show_me():
    brand_ids = access.agent_brand_ids(db.session)
    tz = agent_timezone(db.session, current_user.id)
    figures = performance(db.session, current_user.id, brand_ids, tz, clock.now())
    return render(
        "agent/me.html", figures=figures, figure_names=FIGURES, periods=PERIODS, timezone=str(tz)
    )
