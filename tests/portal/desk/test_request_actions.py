"""What a request's page offers besides the reply box: decided by desk, the page only shows it."""

from portal.desk.customer_requests import Actions, Customer, actions_for
from portal.desk.models import Ticket


def customer(org_id=None, org_shares=False) -> Customer:
    return Customer(id=7, email="kim@example.com", org_id=org_id, org_shares=org_shares)


def ticket(status="open", requester_id=7, shared_with_org=False) -> Ticket:
    return Ticket(status=status, requester_id=requester_id, shared_with_org=shared_with_org)


def test_the_requester_solves_an_open_request_and_shares_it():
    assert actions_for(customer(), ticket()) == Actions(solve=True, share=True)


def test_a_solved_or_closed_request_is_rated_not_solved():
    for status in ("solved", "closed"):
        assert actions_for(customer(), ticket(status)) == Actions(rate=True, share=True)


def test_a_private_link_holder_or_a_colleague_gets_no_actions():
    assert actions_for(None, ticket()) == Actions()
    assert actions_for(customer(), ticket(requester_id=8)) == Actions()


def test_the_organization_button_shares_stops_sharing_or_is_not_offered():
    assert actions_for(customer(org_id=3), ticket()).organization == "organization"
    assert actions_for(customer(org_id=3), ticket(shared_with_org=True)).organization == "private"
    # An organization that sees all its members' requests needs no button.
    assert actions_for(customer(org_id=3, org_shares=True), ticket()).organization is None
    assert actions_for(customer(), ticket()).organization is None
