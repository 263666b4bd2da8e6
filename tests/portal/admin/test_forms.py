"""The back office's form classes: what they read from a post, and refusals shown beside fields."""

import pytest
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from kb import editing
from kb.models import Category
from portal.blueprints.account.forms import SsoForm
from portal.blueprints.admin.forms import (
    ArticleListForm,
    LabelNamesForm,
    RoutingForm,
    SectionForm,
)


@pytest.fixture
def brand(make):
    return make.brand(slug="acme", locales=("sv", "en"))


def form_of(app, cls, data, method="POST"):
    with app.test_request_context(method=method):
        return cls(formdata=MultiDict(data))


def test_section_form_keeps_every_typed_value_and_the_posted_organizations(app):
    form = form_of(
        app,
        SectionForm,
        [("title_sv", "Fakturor"), ("position", "x"), ("organization_ids", "7")]
        + [("organization_ids", "²"), ("audience", "organizations")],
    )
    assert form.titles_in(("sv", "en")) == {"sv": "Fakturor", "en": ""}
    assert form.chosen_organizations() == [7]
    assert form.typed() == {
        "title_sv": "Fakturor",
        "position": "x",
        "organization_ids": ["7", "²"],
        "audience": "organizations",
    }


@pytest.mark.parametrize(
    ("typed", "position"),
    [("", 0), (" 12 ", 12), ("-3", -3), ("1e9", 0), ("999999999", 100000), ("２", 2)],
)
def test_a_position_is_held_within_its_range_and_junk_is_zero(app, typed, position):
    assert form_of(app, SectionForm, {"position": typed}).position_value() == position


def test_label_names_form_keeps_only_the_offered_labels_and_languages(app):
    form = form_of(
        app,
        LabelNamesForm,
        {"brand": "acme", "name:vat:en": "VAT", "name:vat:fr": "TVA", "name:other:en": "x"},
    )
    assert form.names_of({"vat"}, ("sv", "en")) == {"vat": {"en": "VAT"}}


def test_routing_form_reads_the_brand_and_form_rules_and_drops_junk_keys(app):
    form = form_of(app, RoutingForm, {"target-0": "group:3", "target-12": "", "target-²": "x"})
    assert form.rules() == [("0", 0, "group:3"), ("12", 12, "")]
    assert form.targets.posted()["target-0"] == "group:3"


def test_article_list_form_ignores_values_it_does_not_offer(app, make, brand):
    brands = [brand]
    args = {"brand": "acme", "locale": "fr", "kind": "faq", "status": "nope", "page": "0"}
    args |= {"section": "5", "label": "  Billing ", "q": " two   words "}
    form = form_of(app, ArticleListForm, args, method="GET")
    chosen = form.chosen_brand(brands)
    filters = form.filters(brands, chosen, ["en", "sv"], [(6, "Six")])
    assert chosen is brand
    assert (filters.locale, filters.kind, filters.status) == (None, "faq", None)
    assert (filters.section_id, filters.label, filters.text, filters.page) == (
        None,
        "billing",
        "two words",
        1,
    )


def test_a_posted_sso_token_is_read_from_the_body_only(app):
    with app.test_request_context(
        "/acme/access/jwt?jwt=from-url&return_to=/acme/en/", method="POST", data={"x": "1"}
    ):
        from flask import request

        form = SsoForm.sent(request)
        assert (form.jwt.data, form.return_to.data) == (None, "/acme/en/")
    with app.test_request_context("/acme/access/jwt?jwt=from-url"):
        from flask import request

        assert SsoForm.sent(request).jwt.data == "from-url"


def test_authors_are_the_admins_and_editors_by_name(ctx, make):
    brand = make.brand()
    make.user(role="editor", name="Bo", brands=[brand])
    make.user(role="agent", name="Cy", brands=[brand])
    make.user(role="editor", name="Di")  # no role on any brand: writes nothing
    make.user(role="admin", name="Al")
    assert [u.name for u in editing.authors(ctx)] == ["Al", "Bo"]


def test_a_refused_section_shows_each_error_beside_its_field_with_values_kept(
    client, ctx, login, make, brand
):
    login("editor", brands=[brand])
    category = make.category(brand, {"sv": "Ett", "en": "One"})
    response = client.post(
        "/admin/kb/structure/sections",
        data={
            "brand": "acme",
            "title_sv": "",
            "title_en": "Kept",
            "category_id": str(category.id + 100),
            "position": "junk",
        },
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'aria-describedby="section-new-title_sv-error"' in page
    assert 'id="section-new-title_sv-error">A title in the brand&#39;s default language' in page
    assert 'id="section-new-category-error">Choose a category of this brand.' in page
    assert 'value="Kept"' in page and 'value="junk"' in page
    assert ctx.scalar(select(Category).where(Category.id != category.id)) is None


def test_a_refused_rule_is_shown_beside_its_select(client, login, make, brand):
    login("admin")
    response = client.post(f"/admin/routing/{brand.id}", data={"target-0": "group:999999"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert f'aria-describedby="{brand.id}-target-0-error"' in page
    assert f'id="{brand.id}-target-0-error">Choose one of the listed agents or groups.' in page


def test_a_group_name_too_long_is_refused_and_what_was_typed_is_kept(client, login, brand):
    login("admin")
    response = client.post(f"/admin/groups/new?brand={brand.id}", data={"name": "n" * 101})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "The name is too long (at most 100 characters)." in page
    assert 'value="' + "n" * 101 + '"' in page
