"""Support addresses: the rules of portal.mail.addresses, and /admin/mail-addresses (admins only,
plain HTML forms, errors beside the fields with what was typed kept)."""

import re

import pytest
from sqlalchemy import select

from kb import clock
from portal.desk import forms as builder
from portal.desk import orgs
from portal.mail import addresses
from portal.mail.models import InboundMail, MailAddress


@pytest.fixture
def brand(make):
    return make.brand(slug="acme", locales=("en",), name="Acme")


@pytest.fixture
def other_brand(make):
    return make.brand(slug="globex", locales=("en",), name="Globex")


@pytest.fixture
def acme_org(ctx):
    return orgs.create_organization(ctx, "Acme Corp", "acme-corp.test")


@pytest.fixture
def general(ctx, brand):
    return builder.create_form(ctx, brand, {"en": "General"}, {})


@pytest.fixture
def org_form(ctx, brand, acme_org):
    names = {"en": "Acme Corp requests"}
    return builder.create_form(
        ctx, brand, names, {}, audience="organizations", organization_ids=[acme_org.id]
    )


@pytest.fixture
def admin(login):
    return login("admin")


def add(ctx, address="support@acme.test", brand_id=None, form_id=None, org_id=None, name=""):
    return addresses.add(
        ctx,
        address=address,
        brand_id=brand_id,
        form_id=form_id,
        customer_org_id=org_id,
        name=name,
        now=clock.now(),
    )


def refused(call) -> dict:
    with pytest.raises(addresses.InvalidAddress) as caught:
        call()
    return caught.value.errors


def text(response) -> str:
    return response.get_data(as_text=True)


def posted(brand, address="help@acme.test", form="", org="", name="") -> dict:
    return {
        "address": address,
        "brand_id": str(brand.id),
        "form_id": str(form),
        "customer_org_id": str(org),
        "name": name,
    }


# -- the rules ------------------------------------------------------------------------------


def test_an_address_is_stored_stripped_and_lower_case_with_its_name_on_one_line(ctx, brand):
    row = add(ctx, "  Support@ACME.test ", brand.id, name="Acme\r\nBcc: x@evil.test")
    ctx.expire_all()
    stored = ctx.get(MailAddress, row.id)
    assert stored.address == "support@acme.test"
    assert stored.name == "Acme Bcc: x@evil.test"


def test_an_international_domain_is_stored_in_idna(ctx, brand):
    row = add(ctx, "help@bücher.example", brand.id)
    assert row.address == "help@xn--bcher-kva.example"


@pytest.mark.parametrize(
    "address, code",
    [
        ("", "address_required"),
        ("support", "address_invalid"),
        ("@acme.test", "address_invalid"),
        ("support@localhost", "address_invalid"),
        ("sup port@acme.test", "address_invalid"),
        ("support@acme.test\r\nBcc: x@evil.test", "address_invalid"),
        ("a..b@acme.test", "address_invalid"),
        ("support+sales@acme.test", "address_plus"),
    ],
)
def test_an_unusable_address_is_refused(ctx, brand, address, code):
    assert refused(lambda: add(ctx, address, brand.id)) == {"address": code}
    assert ctx.scalars(select(MailAddress)).all() == []


def test_an_address_is_used_once_whatever_its_case(ctx, brand, other_brand):
    add(ctx, "support@acme.test", brand.id)
    assert refused(lambda: add(ctx, "SUPPORT@acme.test", other_brand.id)) == {
        "address": "address_taken"
    }


def test_changing_an_address_may_keep_it_but_not_take_anothers(ctx, brand):
    row = add(ctx, "support@acme.test", brand.id)
    add(ctx, "billing@acme.test", brand.id)
    addresses.change(
        ctx,
        row,
        address="support@acme.test",
        brand_id=brand.id,
        form_id=None,
        customer_org_id=None,
        name="Acme help",
    )
    assert row.name == "Acme help"
    errors = refused(
        lambda: addresses.change(
            ctx,
            row,
            address="billing@acme.test",
            brand_id=brand.id,
            form_id=None,
            customer_org_id=None,
            name="",
        )
    )
    assert errors == {"address": "address_taken"}


def test_the_brand_must_exist(ctx):
    assert refused(lambda: add(ctx, "support@acme.test", 999999)) == {"brand_id": "brand_unknown"}


def test_the_form_must_be_of_the_addresses_brand(ctx, brand, other_brand, general):
    errors = refused(lambda: add(ctx, "support@globex.test", other_brand.id, general.id))
    assert errors == {"form_id": "form_other_brand"}
    assert refused(lambda: add(ctx, "x@acme.test", brand.id, 999999)) == {
        "form_id": "form_other_brand"
    }


def test_the_organization_must_exist(ctx, brand, org_form):
    errors = refused(lambda: add(ctx, "corp@acme.test", brand.id, org_form.id, 999999))
    assert errors == {"customer_org_id": "organization_unknown"}


def test_an_organizations_address_needs_a_form_for_that_organization(
    ctx, brand, acme_org, general, org_form
):
    other = orgs.create_organization(ctx, "Initech", "initech.test")
    for form_id, org_id in (
        (None, acme_org.id),
        (general.id, acme_org.id),
        (org_form.id, other.id),
    ):
        errors = refused(lambda f=form_id, o=org_id: add(ctx, "corp@acme.test", brand.id, f, o))
        assert errors == {"form_id": "organization_form"}
    row = add(ctx, "corp@acme.test", brand.id, org_form.id, acme_org.id)
    assert (row.form_id, row.customer_org_id) == (org_form.id, acme_org.id)


def test_every_problem_is_named_at_once(ctx):
    errors = refused(lambda: add(ctx, "x+y@acme.test", None, name="n" * 201))
    assert errors == {
        "address": "address_plus",
        "brand_id": "brand_unknown",
        "name": "name_too_long",
    }


def test_for_brand_lists_the_brands_own_addresses_first(
    ctx, brand, other_brand, acme_org, org_form
):
    add(ctx, "corp@acme.test", brand.id, org_form.id, acme_org.id)
    add(ctx, "support@acme.test", brand.id)
    add(ctx, "billing@acme.test", brand.id)
    add(ctx, "help@globex.test", other_brand.id)
    listed = [row.address for row in addresses.for_brand(ctx, brand.id)]
    assert listed == ["billing@acme.test", "support@acme.test", "corp@acme.test"]


def test_removing_an_address_keeps_the_mail_it_brought(ctx, brand):
    row = add(ctx, "support@acme.test", brand.id)
    mail = InboundMail(
        source="smtp",
        raw=b"Subject: hi\r\n\r\nhello\r\n",
        size=24,
        sha256="0" * 64,
        address_id=row.id,
        recipients=["support@acme.test"],
    )
    ctx.add(mail)
    ctx.commit()
    addresses.remove(ctx, row)
    ctx.expire_all()
    assert ctx.get(MailAddress, row.id) is None
    assert ctx.get(InboundMail, mail.id).address_id is None


# -- who may use the pages ------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_login(client):
    response = client.get("/admin/mail-addresses")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/admin/mail-addresses"


@pytest.mark.parametrize("role", ["editor", "agent"])
def test_editors_and_agents_get_403_and_change_nothing(client, ctx, login, brand, role):
    row = add(ctx, "support@acme.test", brand.id)
    login(role, brands=[brand])
    assert client.get("/admin/mail-addresses").status_code == 403
    assert client.post("/admin/mail-addresses/new", data=posted(brand)).status_code == 403
    edit = posted(brand, address="hijack@acme.test")
    assert client.post(f"/admin/mail-addresses/{row.id}", data=edit).status_code == 403
    assert client.post(f"/admin/mail-addresses/{row.id}/remove").status_code == 403
    ctx.expire_all()
    assert [r.address for r in ctx.scalars(select(MailAddress))] == ["support@acme.test"]


def test_the_nav_links_to_the_mail_pages_for_admins_only(client, login, admin, brand):
    html = text(client.get("/admin/mail-addresses"))
    assert 'href="/admin/mail-addresses"' in html and 'href="/admin/mail-in"' in html
    client.post("/logout")
    login("editor", brands=[brand])
    html = text(client.get("/admin/forms/"))
    assert 'href="/admin/mail-addresses"' not in html and 'href="/admin/mail-in"' not in html


def test_unknown_ids_are_404(client, admin):
    assert client.get("/admin/mail-addresses/999999").status_code == 404
    assert client.post("/admin/mail-addresses/999999/remove").status_code == 404
    assert client.get("/admin/mail-addresses/2147483648").status_code == 404


# -- the list and the forms -----------------------------------------------------------------


def test_the_list_shows_each_brands_addresses_with_form_and_organization(
    client, ctx, admin, brand, other_brand, acme_org, org_form
):
    own = add(ctx, "support@acme.test", brand.id, name="Acme help")
    corp = add(ctx, "corp@acme.test", brand.id, org_form.id, acme_org.id)
    add(ctx, "help@globex.test", other_brand.id)
    html = text(client.get("/admin/mail-addresses"))
    own_row = re.search(rf'<tr id="address-{own.id}">.*?</tr>', html, re.S).group(0)
    assert "support@acme.test" in own_row and "Acme help" in own_row
    assert "The brand's first listed form" in own_row
    corp_row = re.search(rf'<tr id="address-{corp.id}">.*?</tr>', html, re.S).group(0)
    assert "Acme Corp requests" in corp_row and "Acme Corp" in corp_row
    globex = html.index(f'id="brand-{other_brand.id}-heading"')
    assert html.index("help@globex.test") > globex > html.index("support@acme.test")


def test_an_admin_adds_an_address_and_finds_it_listed(client, ctx, admin, brand, general):
    data = posted(brand, address=" Help@Acme.test ", form=general.id, name="Acme")
    response = client.post("/admin/mail-addresses/new", data=data)
    assert response.status_code == 303
    row = ctx.scalars(select(MailAddress)).one()
    assert response.headers["Location"] == f"/admin/mail-addresses#address-{row.id}"
    assert (row.address, row.brand_id, row.form_id, row.name) == (
        "help@acme.test",
        brand.id,
        general.id,
        "Acme",
    )
    assert "Address help@acme.test saved." in text(client.get(response.headers["Location"]))


def test_a_refused_address_shows_the_error_beside_the_field_and_keeps_the_input(
    client, ctx, admin, brand
):
    data = posted(brand, address="sales+team@acme.test", name="Team Acme")
    response = client.post("/admin/mail-addresses/new", data=data)
    html = text(response)
    assert response.status_code == 400
    assert 'id="address-error"' in html and "without “+”" in html
    assert 'value="sales+team@acme.test"' in html and 'value="Team Acme"' in html
    assert ctx.scalars(select(MailAddress)).all() == []


def test_an_organization_address_with_an_open_form_is_refused_with_a_clear_message(
    client, ctx, admin, brand, acme_org, general
):
    data = posted(brand, address="corp@acme.test", form=general.id, org=acme_org.id)
    html = text(client.post("/admin/mail-addresses/new", data=data))
    assert 'id="form_id-error"' in html
    assert "a form for members of chosen organizations" in html
    assert f'<option selected value="{acme_org.id}">' in html
    assert ctx.scalars(select(MailAddress)).all() == []


def test_a_made_up_choice_is_an_error_not_a_500(client, ctx, admin, brand):
    data = {**posted(brand), "form_id": "'; drop table", "customer_org_id": "x"}
    response = client.post("/admin/mail-addresses/new", data=data)
    assert response.status_code == 400
    assert 'id="form_id-error"' in text(response) and 'id="customer_org_id-error"' in text(response)
    assert ctx.scalars(select(MailAddress)).all() == []


def test_an_admin_edits_an_address(client, ctx, admin, brand, acme_org, org_form):
    row = add(ctx, "support@acme.test", brand.id)
    page = text(client.get(f"/admin/mail-addresses/{row.id}"))
    assert 'value="support@acme.test"' in page
    data = posted(brand, address="corp@acme.test", form=org_form.id, org=acme_org.id, name="Corp")
    response = client.post(f"/admin/mail-addresses/{row.id}", data=data)
    assert response.status_code == 303
    ctx.expire_all()
    stored = ctx.get(MailAddress, row.id)
    assert (stored.address, stored.form_id, stored.customer_org_id, stored.name) == (
        "corp@acme.test",
        org_form.id,
        acme_org.id,
        "Corp",
    )


def test_an_edit_taking_another_address_is_refused_and_changes_nothing(client, ctx, admin, brand):
    row = add(ctx, "support@acme.test", brand.id)
    add(ctx, "billing@acme.test", brand.id)
    response = client.post(
        f"/admin/mail-addresses/{row.id}", data=posted(brand, "Billing@acme.test")
    )
    assert response.status_code == 400
    assert "Another support address already uses this address." in text(response)
    assert 'value="Billing@acme.test"' in text(response)
    ctx.expire_all()
    assert ctx.get(MailAddress, row.id).address == "support@acme.test"


def test_removing_asks_first_then_removes(client, ctx, admin, brand):
    row = add(ctx, "support@acme.test", brand.id)
    question = client.get(f"/admin/mail-addresses/{row.id}/remove")
    assert "Remove the address support@acme.test?" in text(question)
    assert ctx.get(MailAddress, row.id) is not None
    row_id = row.id
    response = client.post(f"/admin/mail-addresses/{row_id}/remove")
    assert response.status_code == 303 and response.headers["Location"] == "/admin/mail-addresses"
    ctx.expire_all()
    assert ctx.get(MailAddress, row_id) is None
