"""Customer organizations' rules: names, email domains, members, joining by domain, deleting."""

import pytest
from sqlalchemy import select

from kb.people import CustomerOrganization, User
from portal.desk import forms, orgs
from portal.desk.models import InquiryForm, Ticket


@pytest.fixture
def acme(ctx):
    return orgs.create_organization(ctx, "Acme", "example.com\nacme.co.kr", shares_requests=True)


def errors_of(call, *args):
    with pytest.raises(orgs.InvalidOrganization) as caught:
        call(*args)
    return caught.value


def fresh(ctx, model, id_):
    ctx.expire_all()
    return ctx.get(model, id_)


# -- normalise_domains ----------------------------------------------------------------------


def test_domains_one_per_line_or_comma_separated_come_back_lower_case_once_each():
    text = "Example.COM, acme.co.kr\n\n  shop.example.com ,example.com"
    assert orgs.normalise_domains(text) == (["example.com", "acme.co.kr", "shop.example.com"], {})


@pytest.mark.parametrize(
    "entry, code",
    [
        ("@example.com", "domain_at"),
        ("bob@example.com", "domain_at"),
        ("localhost", "domain_invalid"),
        ("exa mple.com", "domain_invalid"),
        ("-example.com", "domain_invalid"),
        ("example-.com", "domain_invalid"),
        ("example..com", "domain_invalid"),
        (".example.com", "domain_invalid"),
        ("example.com.", "domain_invalid"),
        ("exam_ple.com", "domain_invalid"),
        ("*.example.com", "domain_invalid"),
        ("%.com", "domain_invalid"),
        ('a".com', "domain_invalid"),
        ("http://example.com", "domain_invalid"),
        ("127.0.0.1", "domain_invalid"),
        ("a" * 64 + ".com", "domain_invalid"),
        ("gmail.com", "domain_public"),
        ("Naver.com", "domain_public"),
    ],
)
def test_an_entry_that_is_no_plain_domain_is_refused(entry, code):
    assert orgs.normalise_domains(f"good.example, {entry}") == (["good.example"], {entry: code})


def test_international_domains_are_stored_in_their_ascii_form():
    assert orgs.normalise_domains("bücher.de") == (["xn--bcher-kva.de"], {})


def test_more_than_a_hundred_domains_are_refused():
    text = "\n".join(f"d{n}.example" for n in range(101))
    assert orgs.normalise_domains(text)[1] == {"": "too_many_domains"}


# -- creating and updating ------------------------------------------------------------------


def test_an_organization_is_created_with_its_domains_and_sharing(ctx, acme):
    stored = fresh(ctx, CustomerOrganization, acme.id)
    assert (stored.name, stored.domains, stored.shares_requests) == (
        "Acme",
        ["example.com", "acme.co.kr"],
        True,
    )


def test_domains_may_also_be_given_as_a_list(ctx):
    org = orgs.create_organization(ctx, "Listed", ["A.example", "b.example"])
    assert org.domains == ["a.example", "b.example"] and org.shares_requests is False


@pytest.mark.parametrize("name", ["Acme", "acme", "  ACME "])
def test_a_duplicate_name_is_refused_whatever_its_case(ctx, acme, name):
    assert errors_of(orgs.create_organization, ctx, name, "").errors == {"name": "name_taken"}


@pytest.mark.parametrize("name, code", [("", "name_required"), ("x" * 201, "name_too_long")])
def test_a_name_is_required_and_not_too_long(ctx, name, code):
    assert errors_of(orgs.create_organization, ctx, name, "").errors == {"name": code}


def test_an_invalid_domain_is_refused_and_named(ctx):
    exc = errors_of(orgs.create_organization, ctx, "Bad", "ok.example\nnot a domain")
    assert exc.errors == {"domains": "domain_invalid"}
    assert exc.details == {"domains": ["not a domain"]}
    assert ctx.scalars(select(CustomerOrganization)).all() == []


def test_a_domain_owned_by_another_organization_is_refused_and_its_owner_named(ctx, acme):
    exc = errors_of(orgs.create_organization, ctx, "Rival", "rival.example, EXAMPLE.com")
    assert exc.errors == {"domains": "domain_taken"}
    assert exc.details == {"domains": ["example.com (Acme)"]}


def test_a_domain_that_only_contains_anothers_is_not_taken(ctx, acme):
    org = orgs.create_organization(ctx, "Sub", "shop.example.com, evilexample.com, example.co")
    assert org.domains == ["shop.example.com", "evilexample.com", "example.co"]


def test_an_organization_keeps_its_own_domains_when_updated(ctx, acme):
    orgs.update_organization(ctx, acme, "Acme Corp", "example.com", False)
    stored = fresh(ctx, CustomerOrganization, acme.id)
    assert (stored.name, stored.domains, stored.shares_requests) == (
        "Acme Corp",
        ["example.com"],
        False,
    )


def test_an_update_cannot_take_another_organizations_name_or_domain(ctx, acme):
    other = orgs.create_organization(ctx, "Other", "other.example")
    exc = errors_of(orgs.update_organization, ctx, other, "ACME", "acme.co.kr", False)
    assert exc.errors == {"name": "name_taken", "domains": "domain_taken"}
    assert fresh(ctx, CustomerOrganization, other.id).domains == ["other.example"]


# -- organization_for_email -----------------------------------------------------------------


@pytest.mark.parametrize("email", ["mina@example.com", "  Mina@EXAMPLE.com ", "x@acme.co.kr"])
def test_an_address_at_one_of_its_domains_finds_the_organization(ctx, acme, email):
    assert orgs.organization_for_email(ctx, email).id == acme.id


@pytest.mark.parametrize(
    "email",
    [
        "mina@evilexample.com",  # a suffix
        "mina@mail.example.com",  # a subdomain
        "mina@example.co",  # a prefix
        "mina@example.com.evil.test",
        "mina@com",
        "example.com",
        "@example.com",
        "mina@",
        "",
        "mina@exam%le.com",
        "mina@example_com",
    ],
)
def test_only_an_exact_domain_finds_the_organization(ctx, acme, email):
    assert orgs.organization_for_email(ctx, email) is None


def test_a_subdomain_listed_by_another_organization_finds_that_one(ctx, acme):
    shop = orgs.create_organization(ctx, "Shop", "shop.example.com")
    assert orgs.organization_for_email(ctx, "a@shop.example.com").id == shop.id
    assert orgs.organization_for_email(ctx, "a@example.com").id == acme.id


def test_an_international_address_finds_its_organization(ctx):
    org = orgs.create_organization(ctx, "Bücher", "bücher.de")
    assert orgs.organization_for_email(ctx, "leser@BÜCHER.de").id == org.id


# -- members --------------------------------------------------------------------------------


def test_a_customer_account_can_be_added_by_email_in_any_case(ctx, make, acme):
    customer = make.user(role="customer", email="mina@elsewhere.test")
    assert orgs.add_member(ctx, acme, " MINA@elsewhere.test ") is None
    assert fresh(ctx, User, customer.id).customer_org_id == acme.id
    assert [u.email for u in orgs.members(ctx, acme)] == ["mina@elsewhere.test"]


@pytest.mark.parametrize("role", ["admin", "editor", "agent"])
def test_staff_cannot_be_members(ctx, make, acme, role):
    staff = make.user(role=role)
    assert orgs.add_member(ctx, acme, staff.email) == "not_customer"
    assert fresh(ctx, User, staff.id).customer_org_id is None


def test_only_an_existing_account_can_be_added(ctx, acme):
    assert orgs.add_member(ctx, acme, "nobody@example.com") == "account_unknown"
    assert orgs.add_member(ctx, acme, "  ") == "email_required"
    assert ctx.scalars(select(User)).all() == []


def test_a_member_of_another_organization_is_not_moved_silently(ctx, make, acme):
    other = orgs.create_organization(ctx, "Other", "")
    customer = make.user(role="customer")
    orgs.add_member(ctx, other, customer.email)
    assert orgs.add_member(ctx, acme, customer.email) == "other_organization"
    assert orgs.add_member(ctx, other, customer.email) == "already_member"
    assert fresh(ctx, User, customer.id).customer_org_id == other.id


def test_a_removed_member_keeps_the_account_without_the_organization(ctx, make, acme):
    customer = make.user(role="customer")
    orgs.add_member(ctx, acme, customer.email)
    assert orgs.remove_member(ctx, acme, customer) is True
    assert fresh(ctx, User, customer.id).customer_org_id is None
    assert orgs.members(ctx, acme) == []


def test_removing_someone_who_is_no_member_changes_nothing(ctx, make, acme):
    other = orgs.create_organization(ctx, "Other", "")
    customer = make.user(role="customer")
    orgs.add_member(ctx, other, customer.email)
    assert orgs.remove_member(ctx, acme, customer) is False
    assert fresh(ctx, User, customer.id).customer_org_id == other.id


def test_member_counts_take_one_query(ctx, make, acme, count_queries):
    other = orgs.create_organization(ctx, "Other", "")
    for org in (acme, acme, other):
        orgs.add_member(ctx, org, make.user(role="customer").email)
    with count_queries() as n:
        counts = orgs.member_counts(ctx, [acme.id, other.id])
    assert counts == {acme.id: 2, other.id: 1} and n.count == 1


# -- deleting -------------------------------------------------------------------------------


def test_deleting_keeps_members_accounts_and_requests_without_the_organization(ctx, make, acme):
    brand = make.brand(slug="acme", locales=("en",))
    customer = make.user(role="customer")
    orgs.add_member(ctx, acme, customer.email)
    ticket = Ticket(
        brand_id=brand.id,
        locale="en",
        subject="Card declined",
        description="x",
        requester_id=customer.id,
        requester_name=customer.name,
        requester_email=customer.email,
        customer_org_id=acme.id,
        link_secret="s",
    )
    ctx.add(ticket)
    ctx.commit()
    orgs.delete_organization(ctx, acme)
    assert fresh(ctx, CustomerOrganization, acme.id) is None
    assert ctx.get(User, customer.id).customer_org_id is None
    kept = ctx.get(Ticket, ticket.id)
    assert kept.customer_org_id is None and kept.requester_id == customer.id


def test_deleting_frees_its_domains(ctx, acme):
    orgs.delete_organization(ctx, acme)
    assert orgs.organization_for_email(ctx, "mina@example.com") is None
    assert orgs.create_organization(ctx, "Acme again", "example.com").domains == ["example.com"]


def test_deleting_removes_it_from_private_forms(ctx, make, acme):
    other = orgs.create_organization(ctx, "Other", "")
    brand = make.brand(slug="acme", locales=("en",))
    form = forms.create_form(
        ctx,
        brand,
        {"en": "Private"},
        {},
        audience="organizations",
        organization_ids=[acme.id, other.id],
    )
    orgs.delete_organization(ctx, acme)
    stored = fresh(ctx, InquiryForm, form.id)
    assert stored.organization_ids == [other.id] and stored.version == 2


# -- the list -------------------------------------------------------------------------------


def test_the_list_is_by_name_in_keyset_pages(ctx):
    for name in ("Delta", "alpha", "Charlie", "Bravo", "Echo"):
        orgs.create_organization(ctx, name, "")
    first = orgs.organizations_page(ctx, per_page=2)
    second = orgs.organizations_page(ctx, after=first.next_after, per_page=2)
    third = orgs.organizations_page(ctx, after=second.next_after, per_page=2)
    names = [[org.name for org, _count in page.rows] for page in (first, second, third)]
    seen = [n for page in names for n in page]
    assert sorted(seen) == sorted(["Delta", "alpha", "Charlie", "Bravo", "Echo"])
    assert len(set(seen)) == 5 and third.next_after is None
    assert [len(page) for page in names] == [2, 2, 1]


def test_the_list_searches_names_in_any_case_and_escapes_wildcards(ctx):
    for name in ("Acme Korea", "ACME Japan", "Globex", "100% Pure"):
        orgs.create_organization(ctx, name, "")
    found = orgs.organizations_page(ctx, q="acme")
    assert sorted(org.name for org, _count in found.rows) == ["ACME Japan", "Acme Korea"]
    assert [org.name for org, _c in orgs.organizations_page(ctx, q="%").rows] == ["100% Pure"]
    assert orgs.organizations_page(ctx, q="_").rows == []


@pytest.mark.parametrize("after", [0, -1, 2**31, 10**20])
def test_an_unknown_or_huge_cursor_starts_at_the_first_page(ctx, acme, after):
    assert [org.id for org, _count in orgs.organizations_page(ctx, after=after).rows] == [acme.id]
