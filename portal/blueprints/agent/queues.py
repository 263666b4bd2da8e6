"""Ticket queues: /agent/ (unassigned, mine, my groups, all open, pending, solved recently)."""

from flask import request
from flask_login import current_user
from jinja2_fragments.flask import render_block

from kb import clock
from portal import access
from portal.blueprints.agent import bp
from portal.desk.queues import (
    QUEUE_STATUSES,
    QueueQuery,
    agent_brands,
    agent_forms,
    queue_counts,
    queue_page,
)
from portal.extensions import db
from portal.rendering import render


def _view(args):
    """The agent's brand ids, brands, forms and the query of these arguments."""
    brand_ids = access.agent_brand_ids(db.session)
    brands = agent_brands(db.session, brand_ids)
    forms = agent_forms(db.session, brands)
    query = QueueQuery.parse(args, brands, {f.id for f in forms})
    return brand_ids, brands, forms, query


@bp.get("/", endpoint="queues")
def show_queues():
    return render_queues(request.args, request.full_path.rstrip("?"))


def render_queues(args, back: str, bulk=None, bulk_error: str | None = None, status=200):
    """The queue page of these arguments (`back`: its address, where the bulk form returns).
    A refused bulk form comes back in it with what was chosen and typed (`bulk`)."""
    brand_ids, brands, forms, query = _view(args)
    now = clock.now()
    counts = queue_counts(db.session, brand_ids, current_user.id, query, now)
    page = queue_page(db.session, brand_ids, current_user.id, query, now)
    return render(
        "agent/queues.html",
        "list",
        status=status,
        brands=brands,
        forms=forms,
        query=query,
        counts=counts,
        page=page,
        queue_statuses=QUEUE_STATUSES,
        back=back,
        bulk=bulk,
        bulk_error=bulk_error,
    )


@bp.get("/counts", endpoint="queue_counts")
def show_counts():
    """The queue tabs with fresh counts, for the page's polling (htmx)."""
    brand_ids, _brands, _forms, query = _view(request.args)
    counts = queue_counts(db.session, brand_ids, current_user.id, query, clock.now())
    body = render_block("agent/queues.html", "tabs", query=query, counts=counts)
    return body, 200, {"Cache-Control": "private, no-store"}
