"""A customer's profile for agents: /agent/customers/<id> and, for requesters without an
account, /agent/customers/by-email?email=."""

from flask import abort, redirect, request, url_for

from portal import access
from portal.blueprints.agent import bp
from portal.blueprints.agent.forms import CustomerLookup
from portal.desk import customers
from portal.extensions import db
from portal.web.rendering import render


def _page(found):
    if found is None:
        abort(404)
    response = render("agent/customer.html", customer=found)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/customers/<id:user_id>", endpoint="customer")
def show_customer(user_id):
    brand_ids = access.agent_brand_ids(db.session)
    return _page(customers.profile(db.session, brand_ids, user_id=user_id))


@bp.get("/customers/by-email", endpoint="customer_by_email")
def show_customer_by_email():
    email = CustomerLookup.from_args(request.args).email
    brand_ids = access.agent_brand_ids(db.session)
    # An address with an account: its profile gathers the requests sent with and without it.
    account = customers.account_id_for(db.session, email)
    if account is not None and customers.profile(db.session, brand_ids, user_id=account):
        return redirect(url_for("agent.customer", user_id=account))
    return _page(customers.profile(db.session, brand_ids, email=email))
