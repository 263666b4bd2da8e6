"""Ticket queues: /agent/ (unassigned, mine, my groups, all open, pending, solved recently)."""

from datetime import timedelta

from flask import request
from flask_babel import gettext as _
from flask_login import current_user
from jinja2_fragments.flask import render_block

from kb import clock
from portal import access
from portal.blueprints.agent import bp
from portal.blueprints.agent.forms import OrganizationLookup, QueueFilterForm
from portal.desk.queues import (
    QUEUE_STATUSES,
    QueueQuery,
    agent_brands,
    agent_forms,
    organization_names,
    queue_counts,
    queue_page,
    with_organization,
)
from portal.extensions import db
from portal.mail.inbound.held import held_senders
from portal.web.rendering import render


def _view(args):
    """The agent's brand ids, brands, forms, the query of these arguments and the message
    for a filter value that cannot be used (None when all can)."""
    brand_ids = access.agent_brand_ids(db.session)
    brands = agent_brands(db.session, brand_ids)
    forms = agent_forms(db.session, brands)
    query = QueueQuery.parse(args, brands, {f.id for f in forms})
    query, org_error = with_organization(db.session, query, brand_ids)
    if org_error:
        org_error = _(
            "No organization of your brands' customers is called that. Choose one from the list."
        )
    return brand_ids, brands, forms, query, org_error


@bp.get("/", endpoint="queues")
def show_queues():
    return render_queues(request.args, request.full_path.rstrip("?"))


def render_queues(args, back: str, bulk=None, bulk_error: str | None = None, status=200):
    """The queue page of these arguments (`back`: its address, where the bulk form returns).
    A refused bulk form comes back in it with what was chosen and typed (`bulk`)."""
    brand_ids, brands, forms, query, org_error = _view(args)
    now = clock.now()
    counts = queue_counts(db.session, brand_ids, current_user.id, query, now)
    page = queue_page(db.session, brand_ids, current_user.id, query, now)
    held = held_senders(db.session, brand_ids, now - timedelta(days=1))
    return render(
        "agent/queues.html",
        "list",
        status=status,
        brands=brands,
        forms=forms,
        query=query,
        filters=QueueFilterForm.showing(
            query, brands, forms, QUEUE_STATUSES[query.queue], org_error
        ),
        counts=counts,
        page=page,
        queue_statuses=QUEUE_STATUSES,
        org_error=org_error,
        org_names=organization_names(db.session, brand_ids),
        back=back,
        bulk=bulk,
        bulk_error=bulk_error,
        held=held,
    )


@bp.get("/counts", endpoint="queue_counts")
def show_counts():
    """The queue tabs with fresh counts, for the page's polling (htmx)."""
    brand_ids, _brands, _forms, query, _error = _view(request.args)
    counts = queue_counts(db.session, brand_ids, current_user.id, query, clock.now())
    body = render_block("agent/queues.html", "tabs", query=query, counts=counts)
    return body, 200, {"Cache-Control": "private, no-store"}


@bp.get("/organizations", endpoint="organization_options")
def show_organization_options():
    """The organization picker's suggestions for what is typed in it (htmx)."""
    lookup = OrganizationLookup.from_args(request.args)
    names = organization_names(db.session, access.agent_brand_ids(db.session), lookup.text)
    body = render_block("agent/queues.html", "org_options", org_names=names)
    return body, 200, {"Cache-Control": "private, no-store"}
