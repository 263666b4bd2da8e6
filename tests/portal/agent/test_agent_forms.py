"""agent/forms.py: the agent's small forms and query strings, parsed without HTTP, and the
pages answering bad input with a clear answer, never a 500."""

import re
from types import SimpleNamespace

import pytest
from werkzeug.datastructures import MultiDict

from portal.blueprints.agent.forms import (
    AvailabilityForm,
    CannedDeleteForm,
    CannedInsertQuery,
    CustomerLookup,
    OrganizationLookup,
    PresenceForm,
    QueueFilterForm,
)
from portal.desk.queues import QueueQuery
from tests.conftest import PASSWORD
from tests.portal.agent.test_ticket import new_ticket


def posted(app, form_class, data):
    with app.test_request_context(method="POST", data=data):
        form = form_class()
        return form, form.validate_on_submit()


def test_a_delete_is_confirmed_only_by_confirmed_yes(app):
    assert posted(app, CannedDeleteForm, {"confirmed": "yes"})[1] is True
    assert posted(app, CannedDeleteForm, {"confirmed": "no"})[1] is False
    assert posted(app, CannedDeleteForm, {})[1] is False


@pytest.mark.parametrize(("data", "wanted"), [({"receives_tickets": "1"}, True), ({}, False)])
def test_the_availability_box_says_whether_tickets_are_wanted(app, data, wanted):
    form, _valid = posted(app, AvailabilityForm, data)
    assert form.receives_tickets.data is wanted


@pytest.mark.parametrize(
    ("data", "typing"), [({"body": "Hello"}, True), ({"body": "  \n "}, False), ({}, False)]
)
def test_presence_is_typing_only_with_text_in_the_reply_box(app, data, typing):
    form, _valid = posted(app, PresenceForm, data)
    assert form.typing is typing


@pytest.mark.parametrize(
    ("value", "expected"), [("12", 12), ("", None), ("x", None), ("99999999999", None)]
)
def test_the_canned_picker_takes_only_a_usable_id(value, expected):
    query = CannedInsertQuery.from_args(MultiDict({"canned": value, "body": "Typed"}))
    assert (query.canned_id, query.body) == (expected, "Typed")


def test_the_customer_lookup_drops_an_address_too_long_to_be_one():
    assert CustomerLookup.from_args(MultiDict({"email": "lee@example.net"})).email == (
        "lee@example.net"
    )
    assert CustomerLookup.from_args(MultiDict({"email": "x" * 400})).email == ""
    assert CustomerLookup.from_args(MultiDict()).email == ""


def test_the_organization_lookup_is_what_is_typed():
    assert OrganizationLookup.from_args(MultiDict({"org": "Nor"})).text == "Nor"
    assert OrganizationLookup.from_args(MultiDict()).text == ""


def brands_and_forms():
    acme = SimpleNamespace(id=1, slug="acme", name="Acme", default_locale="en")
    globex = SimpleNamespace(id=2, slug="globex", name="Globex", default_locale="ko")
    forms = [
        SimpleNamespace(id=5, brand_id=1, names={"en": "Billing", "ko": "결제"}),
        SimpleNamespace(id=6, brand_id=2, names={"en": "Returns"}),
    ]
    return [acme, globex], forms


def test_queue_filters_show_the_values_the_query_kept(app):
    brands, forms = brands_and_forms()
    args = MultiDict(
        {"q": "card", "brand": "globex", "form": "6", "status": "open", "sort": "nope"}
    )
    query = QueueQuery.parse(args, brands, {5, 6})
    with app.test_request_context():
        filters = QueueFilterForm.showing(query, brands, forms, ("new", "open"))
        assert filters.q.data == "card" and filters.brand.data == "globex"
        assert (filters.form.data, filters.status.data, filters.sort.data) == (
            "6",
            "open",
            "updated",
        )
        assert [c.label for c in filters.form.choices][1:] == ["Billing (Acme)", "Returns (Globex)"]
        assert [c.value for c in filters.status.choices] == ["", "new", "open"]
        assert not filters.org.errors


def test_queue_filters_say_a_bad_organization_beside_its_box(app):
    brands, forms = brands_and_forms()
    query = QueueQuery.parse(MultiDict({"org": "Nobody"}), brands)
    with app.test_request_context():
        filters = QueueFilterForm.showing(query, brands[:1], forms[:1], (), "Not found.")
        assert filters.org.data == "Nobody" and filters.org.errors == ["Not found."]
        assert [c.label for c in filters.form.choices][1:] == ["Billing"]


def test_each_queue_filter_label_is_inside_the_field_with_its_box(client, make, login):
    brand = make.brand(slug="acme", name="Acme")
    login("agent", brands=[brand])
    html = client.get("/agent/?status=open").get_data(as_text=True)
    form = re.search(r'<form method="get".*?</form>', html, re.S).group(0)
    fields = re.findall(r'<div class="field[^"]*">(.*?)</div>', form, re.S)
    names = {"q", "status", "priority", "tag", "requester", "org", "sort"}
    for field in fields:
        label_for = re.search(r'<label for="([^"]+)"', field).group(1)
        assert f'id="{label_for}"' in field.split("</label>", 1)[1]
    found = {re.search(r'name="(\w+)"', f).group(1) for f in fields}
    assert found == names
    assert re.search(r'<option selected value="open">Open</option>', form)


def test_inserting_a_canned_response_by_an_id_too_large_is_404(client, make, login):
    brand = make.brand(slug="acme", name="Acme")
    requester = make.user(role="customer", email="mina@example.com", password=PASSWORD)
    ticket = new_ticket(make, brand, requester, subject="Card declined")
    login("agent", brands=[brand])
    response = client.get(f"/agent/tickets/{ticket.id}/canned?canned=99999999999&body=Hi")
    assert response.status_code == 404


def test_a_customer_lookup_by_a_huge_address_is_404(client, make, login):
    brand = make.brand(slug="acme", name="Acme")
    login("agent", brands=[brand])
    response = client.get("/agent/customers/by-email", query_string={"email": "x" * 5000})
    assert response.status_code == 404
