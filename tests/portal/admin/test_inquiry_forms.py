"""The form builder at /admin/forms/: forms and fields through plain HTML forms, per brand."""

import re

import pytest
from sqlalchemy import select

from portal import create_app
from portal.desk import forms
from portal.desk.models import FormField, InquiryForm
from portal.extensions import db
from tests.conftest import _test_config


@pytest.fixture
def brand(make):
    return make.brand(slug="hanbit", locales=("ko", "en"), name="Hanbit")


@pytest.fixture
def other(make):
    return make.brand(slug="other", locales=("en",), name="Other")


@pytest.fixture
def editor(login, brand):
    return login("editor", brands=[brand])


@pytest.fixture
def payment(ctx, brand):
    form = forms.create_form(ctx, brand, {"ko": "결제 문의", "en": "Payment"}, {})
    forms.add_field(
        ctx,
        form,
        key="method",
        type="dropdown",
        labels={"ko": "수단"},
        options=[{"value": "card", "labels": {"ko": "카드", "en": "Card"}}],
    )
    return form


@pytest.fixture
def theirs(ctx, other):
    form = forms.create_form(ctx, other, {"en": "Their secret form"}, {})
    forms.add_field(ctx, form, key="secret", type="text", labels={"en": "Their secret field"})
    return form


def field_data(**values) -> dict:
    return {"key": "topic", "type": "text", "label_ko": "주제", **values}


def fresh(ctx, model, id_):
    ctx.expire_all()
    return ctx.get(model, id_)


# -- forms ---------------------------------------------------------------------------------


def test_create_a_form_with_names_per_language(client, ctx, editor, brand):
    response = client.post(
        "/admin/forms/new?brand=hanbit",
        data={
            "name_ko": "계정 문의",
            "name_en": "Account",
            "description_en": "Signing in",
            "listed": "y",
            "audience": "everyone",
        },
    )
    assert response.status_code == 303
    form = ctx.scalar(select(InquiryForm))
    assert response.headers["Location"] == f"/admin/forms/{form.id}"
    assert form.names == {"ko": "계정 문의", "en": "Account"} and form.listed
    assert form.descriptions == {"en": "Signing in"} and form.brand_id == brand.id
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'value="계정 문의"' in page and "Signing in" in page


def test_form_without_a_default_language_name_is_shown_again_with_what_was_typed(
    client, ctx, editor
):
    response = client.post(
        "/admin/forms/new?brand=hanbit",
        data={"name_ko": "", "name_en": "Only English", "audience": "everyone"},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Give the form a name in the brand&#39;s default language." in page
    assert 'value="Only English"' in page
    assert ctx.scalar(select(InquiryForm)) is None


def test_form_for_organizations_needs_one_and_keeps_the_choice(client, ctx, editor):
    from kb.people import CustomerOrganization

    company = CustomerOrganization(name="Daehan Logistics")
    ctx.add(company)
    ctx.commit()
    refused = client.post(
        "/admin/forms/new?brand=hanbit", data={"name_ko": "기업", "audience": "organizations"}
    )
    assert refused.status_code == 400
    assert "Choose at least one organization." in refused.get_data(as_text=True)
    assert ctx.scalar(select(InquiryForm)) is None
    client.post(
        "/admin/forms/new?brand=hanbit",
        data={"name_ko": "기업", "audience": "organizations", "organizations": str(company.id)},
    )
    saved = ctx.scalar(select(InquiryForm))
    assert (saved.audience, saved.organization_ids) == ("organizations", [company.id])


def test_unknown_audience_is_refused(client, ctx, editor):
    response = client.post(
        "/admin/forms/new?brand=hanbit", data={"name_ko": "계정", "audience": "everybody"}
    )
    assert response.status_code == 400
    assert ctx.scalar(select(InquiryForm)) is None


def test_edit_a_form_bumps_its_version_and_unlists_it(client, ctx, editor, payment):
    response = client.post(
        f"/admin/forms/{payment.id}",
        data={"name_ko": "결제", "name_en": "Payments", "audience": "everyone"},
    )
    assert response.status_code == 303
    form = fresh(ctx, InquiryForm, payment.id)
    assert form.names == {"ko": "결제", "en": "Payments"} and not form.listed
    assert form.version == 3


def test_list_shows_the_forms_of_the_editors_brands(client, editor, payment, theirs):
    page = client.get("/admin/forms/").get_data(as_text=True)
    assert "결제 문의" in page and "1 field" in page
    assert "Their secret form" not in page
    assert "Their secret form" not in client.get("/admin/forms/?brand=other").get_data(as_text=True)
    assert 'href="/admin/forms/"' in client.get("/admin/kb/").get_data(as_text=True)


def test_move_forms_up_and_down(client, ctx, editor, brand, payment):
    second = forms.create_form(ctx, brand, {"ko": "둘째"}, {})
    response = client.post(f"/admin/forms/{second.id}/move", data={"direction": "up"})
    assert response.status_code == 303
    assert response.headers["Location"] == f"/admin/forms/?brand=hanbit#form-{second.id}"
    page = client.get("/admin/forms/").get_data(as_text=True)
    assert page.index("둘째") < page.index("결제 문의")
    assert client.post(f"/admin/forms/{second.id}/move", data={}).status_code == 400


def test_deleting_a_form_asks_first_and_works_without_javascript(client, ctx, editor, payment):
    page = client.get(f"/admin/forms/{payment.id}/delete")
    assert page.status_code == 200
    assert f'action="/admin/forms/{payment.id}/delete"' in page.get_data(as_text=True)
    assert fresh(ctx, InquiryForm, payment.id) is not None
    response = client.post(f"/admin/forms/{payment.id}/delete")
    assert response.status_code == 303
    assert fresh(ctx, InquiryForm, payment.id) is None
    assert ctx.scalar(select(FormField)) is None


# -- fields --------------------------------------------------------------------------------

EVERY_TYPE = {
    "text": {"min_length": "2", "max_length": "40", "pattern": "[A-Z]+"},
    "textarea": {"max_length": "2000"},
    "email": {},
    "number": {"min_value": "1", "max_value": "99.5"},
    "date": {},
    "dropdown": {"options": "card = 카드\ncard@en = Card\ntransfer = 이체"},
    "multiselect": {"options": "a = 가\nb = 나"},
    "checkbox": {"options": ""},
    "radio": {"options": "yes\nno"},
    "file": {},
    "hidden": {"query_param": "app_version"},
}


@pytest.mark.parametrize("type_", sorted(EVERY_TYPE))
def test_add_a_field_of_each_type(client, ctx, editor, payment, type_):
    response = client.post(
        f"/admin/forms/{payment.id}/fields/new",
        data=field_data(key=f"f_{type_}", type=type_, required="y", **EVERY_TYPE[type_]),
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    field = ctx.scalar(select(FormField).where(FormField.key == f"f_{type_}"))
    assert response.headers["Location"] == f"/admin/forms/{payment.id}#field-{field.id}"
    assert field.type == type_ and field.labels == {"ko": "주제"}
    assert field.required == (type_ != "hidden")
    assert fresh(ctx, InquiryForm, payment.id).version == 3
    assert client.get(f"/admin/forms/{payment.id}/fields/{field.id}").status_code == 200


def test_field_settings_are_stored_as_typed(client, ctx, editor, payment):
    client.post(
        f"/admin/forms/{payment.id}/fields/new",
        data=field_data(
            key="card",
            type="dropdown",
            options="visa = 비자\nvisa@en = Visa\n\n# comment\nmaster",
            condition_key="method",
            condition_value="card",
            label_en="Card",
            help_ko="도움말",
        ),
    )
    field = ctx.scalar(select(FormField).where(FormField.key == "card"))
    assert field.options == [
        {"value": "visa", "labels": {"ko": "비자", "en": "Visa"}},
        {"value": "master", "labels": {"ko": "master"}},
    ]
    assert (field.condition_key, field.condition_value) == ("method", "card")
    assert field.labels == {"ko": "주제", "en": "Card"} and field.help == {"ko": "도움말"}
    page = client.get(f"/admin/forms/{payment.id}/fields/{field.id}").get_data(as_text=True)
    assert "visa = 비자\nvisa@en = Visa\nmaster</textarea>" in page


def test_field_errors_are_shown_beside_the_fields_with_what_was_typed(client, ctx, editor, payment):
    response = client.post(
        f"/admin/forms/{payment.id}/fields/new",
        data=field_data(
            key="Bad Key",
            type="text",
            label_en="Typed label",
            min_length="9",
            max_length="3",
            pattern="[0-9",
        ),
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Use lower-case letters, digits and underscores" in page
    assert 'value="Bad Key"' in page and 'value="Typed label"' in page
    assert 'value="9"' in page and 'value="[0-9"' in page
    assert "This is not a valid regular expression." in page
    assert ctx.scalar(select(FormField).where(FormField.key != "method")) is None
    assert fresh(ctx, InquiryForm, payment.id).version == 2


def test_option_lines_that_cannot_be_read_are_named(client, ctx, editor, payment):
    response = client.post(
        f"/admin/forms/{payment.id}/fields/new",
        data=field_data(type="radio", options="a = 가\nb@sv = B\nc@en = C"),
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Line 2: sv is not a language of this brand." in page
    assert "Line 3: write “c = label” before its translations." in page
    assert "a = 가\nb@sv = B\nc@en = C</textarea>" in page


def test_duplicate_key_and_missing_options_are_refused(client, editor, payment):
    response = client.post(
        f"/admin/forms/{payment.id}/fields/new",
        data=field_data(key="method", type="dropdown", options=""),
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Another field of this form already uses this key." in page
    assert "Add at least one option, one per line." in page


def test_edit_a_field_and_change_its_type(client, ctx, editor, payment):
    field = payment.fields[0]
    response = client.post(
        f"/admin/forms/{payment.id}/fields/{field.id}",
        data=field_data(key="amount", type="number", min_value="0"),
    )
    assert response.status_code == 303
    field = fresh(ctx, FormField, field.id)
    assert (field.key, field.type, field.options, field.min_value) == ("amount", "number", [], 0)


def test_move_and_delete_fields(client, ctx, editor, payment):
    second = forms.add_field(ctx, payment, key="second", type="text", labels={"ko": "둘"})
    client.post(f"/admin/forms/{payment.id}/fields/{second.id}/move", data={"direction": "up"})
    assert [f.key for f in fresh(ctx, InquiryForm, payment.id).fields] == ["second", "method"]
    confirm = client.get(f"/admin/forms/{payment.id}/fields/{second.id}/delete")
    assert confirm.status_code == 200 and "second" in confirm.get_data(as_text=True)
    response = client.post(f"/admin/forms/{payment.id}/fields/{second.id}/delete")
    assert response.status_code == 303
    assert [f.key for f in fresh(ctx, InquiryForm, payment.id).fields] == ["method"]


def test_a_blocked_move_says_why(client, ctx, editor, payment):
    dependent = forms.add_field(
        ctx,
        payment,
        key="last4",
        type="text",
        labels={"ko": "끝"},
        condition_key="method",
        condition_value="card",
    )
    client.post(f"/admin/forms/{payment.id}/fields/{dependent.id}/move", data={"direction": "up"})
    page = client.get(f"/admin/forms/{payment.id}").get_data(as_text=True)
    assert "Not moved: a field must stay after the field its condition depends on." in page


# -- access --------------------------------------------------------------------------------


def form_routes(app):
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/admin/forms"):
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                yield rule, method


def build(rule, **values):
    return rule.build({arg: values[arg] for arg in rule.arguments}, append_unknown=False)[1]


def test_every_form_route_is_there(app):
    assert {r.endpoint for r, _ in form_routes(app)} == {
        "admin.inquiry_forms",
        "admin.inquiry_form_new",
        "admin.inquiry_form_edit",
        "admin.inquiry_form_move",
        "admin.inquiry_form_delete",
        "admin.inquiry_field_new",
        "admin.inquiry_field_edit",
        "admin.inquiry_field_move",
        "admin.inquiry_field_delete",
    }


def test_editor_of_another_brand_gets_404_for_its_forms_on_every_route(
    app, client, ctx, login, brand, theirs
):
    login("editor", brands=[brand])
    field_id = theirs.fields[0].id
    for rule, method in form_routes(app):
        if not rule.arguments:
            continue
        url = build(rule, form_id=theirs.id, field_id=field_id)
        for headers in ({}, {"HX-Request": "true"}):
            response = client.open(
                url,
                method=method,
                headers=headers,
                data={**field_data(key="hijack"), "name_en": "Hijacked", "direction": "up"},
            )
            assert response.status_code == 404, (rule.rule, method, response.status_code)
    form = fresh(ctx, InquiryForm, theirs.id)
    assert form.names == {"en": "Their secret form"} and form.version == 2
    assert [f.key for f in form.fields] == ["secret"]


def test_editor_cannot_create_a_form_for_another_brand(client, ctx, login, brand, other):
    login("editor", brands=[brand])
    for method in ("GET", "POST"):
        response = client.open(
            "/admin/forms/new?brand=other", method=method, data={"name_en": "Hijack"}
        )
        assert response.status_code == 404
    assert ctx.scalar(select(InquiryForm)) is None


def test_a_field_of_another_form_is_404_under_my_form(client, ctx, editor, payment, theirs):
    field_id = theirs.fields[0].id
    for suffix, method in (("", "GET"), ("", "POST"), ("/delete", "POST"), ("/move", "POST")):
        url = f"/admin/forms/{payment.id}/fields/{field_id}{suffix}"
        response = client.open(url, method=method, data={"direction": "up", **field_data()})
        assert response.status_code == 404, (url, method)
    assert fresh(ctx, FormField, field_id).key == "secret"


@pytest.mark.parametrize("role", ["agent", "customer"])
def test_agents_and_customers_get_403(app, client, login, brand, payment, role):
    login(role, brands=[brand] if role == "agent" else ())
    for rule, method in form_routes(app):
        url = build(rule, form_id=payment.id, field_id=payment.fields[0].id)
        assert client.open(url, method=method).status_code == 403, (rule.rule, method)


def test_anonymous_visitors_are_sent_to_login(app, client, payment):
    for rule, method in form_routes(app):
        url = build(rule, form_id=payment.id, field_id=payment.fields[0].id)
        response = client.open(url, method=method)
        assert response.status_code == 302, (rule.rule, method)
        assert response.headers["Location"].startswith("/login?next=")


def test_admins_edit_every_brands_forms(client, login, theirs):
    login("admin")
    assert "Their secret form" in client.get("/admin/forms/").get_data(as_text=True)
    assert client.get(f"/admin/forms/{theirs.id}").status_code == 200


@pytest.fixture
def csrf_client(app, tmp_path_factory):
    config = _test_config(tmp_path_factory, WTF_CSRF_ENABLED=True)
    config["DATABASE_URL"] = app.config["DATABASE_URL"]  # same database, CSRF on
    csrf_app = create_app(config)
    yield csrf_app.test_client()
    with csrf_app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_deleting_a_form_without_the_pages_csrf_token_is_refused(csrf_client, ctx, make, brand):
    from tests.conftest import PASSWORD

    user = make.user(role="editor", brands=[brand], password=PASSWORD)
    login_page = csrf_client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', login_page)
    csrf_client.post(
        "/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token.group(1)}
    )
    form = forms.create_form(ctx, brand, {"ko": "결제"}, {})
    assert csrf_client.post(f"/admin/forms/{form.id}/delete").status_code == 400
    assert fresh(ctx, InquiryForm, form.id) is not None
    page = csrf_client.get(f"/admin/forms/{form.id}/delete").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = csrf_client.post(f"/admin/forms/{form.id}/delete", data={"csrf_token": token})
    assert response.status_code == 303
    assert fresh(ctx, InquiryForm, form.id) is None
