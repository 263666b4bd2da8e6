"""A customer's profile for agents: /agent/customers/<id> and, for requesters without an
account, /agent/customers/by-email?email=."""

from flask import abort, redirect, request, url_for

from portal import access
from portal.blueprints.agent import bp
from portal.blueprints.agent.forms import CustomerLookup
from portal.desk import blocking, customers
from portal.extensions import db
from portal.web.rendering import render


def _page(found):
    if found is None:
        abort(404)
    # Blocking is done for a brand of their requests where the agent may block (the log's).
    brand_ids = dict.fromkeys(r.ticket.brand_id for r in found.requests)
    block_brand = next((b for b in brand_ids if access.may("tickets.block", b)), None)
    response = render(
        "agent/customer.html",
        customer=found,
        blocked=blocking.block_of(db.session, found.email),
        block_brand_id=block_brand,
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/customers/<id:user_id>", endpoint="customer")
def show_customer(user_id):
    brand_ids = access.customer_brand_ids(db.session)
    return _page(customers.profile(db.session, brand_ids, user_id=user_id))


@bp.get("/customers/by-email", endpoint="customer_by_email")
def show_customer_by_email():
    email = CustomerLookup.from_args(request.args).email
    brand_ids = access.customer_brand_ids(db.session)
    # An address with an account: its profile gathers the requests sent with and without it.
    account = customers.account_id_for(db.session, email)
    if account is not None and customers.profile(db.session, brand_ids, user_id=account):
        return redirect(url_for("agent.customer", user_id=account))
    return _page(customers.profile(db.session, brand_ids, email=email))
