"""Ticket queues: /agent/ (unassigned, mine, my groups, all open, pending, solved recently)."""

from flask import request
from flask_login import current_user

from kb import clock
from portal import access
from portal.blueprints.agent import bp
from portal.desk.queues import QueueQuery, agent_brands, agent_forms, queue_counts, queue_page
from portal.extensions import db
from portal.rendering import render


@bp.get("/", endpoint="queues")
def show_queues():
    brand_ids = access.agent_brand_ids(db.session)
    brands = agent_brands(db.session, brand_ids)
    forms = agent_forms(db.session, brands)
    query = QueueQuery.parse(request.args, brands, {f.id for f in forms})
    now = clock.now()
    counts = queue_counts(db.session, brand_ids, current_user.id, query, now)
    page = queue_page(db.session, brand_ids, current_user.id, query, now)
    return render(
        "agent/queues.html",
        "list",
        brands=brands,
        forms=forms,
        query=query,
        counts=counts,
        page=page,
    )
