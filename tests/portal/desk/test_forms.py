"""The form builder's rules: field definitions, versions, order, conditions, old tickets."""

import pytest
from sqlalchemy import select

from portal.desk import forms
from portal.desk.models import FormField, InquiryForm, Ticket


@pytest.fixture
def brand(make):
    return make.brand(slug="acme", locales=("ko", "en"))


@pytest.fixture
def form(ctx, brand):
    return forms.create_form(ctx, brand, {"ko": "결제 문의", "en": "Payment"}, {})


def text(key="topic", **values):
    return {"key": key, "type": "text", "labels": {"ko": "라벨"}, **values}


def version(ctx, form) -> int:
    ctx.expire(form, ["version"])
    return form.version


# -- validate_field_definition -------------------------------------------------------------


def test_a_plain_text_field_is_valid():
    assert forms.validate_field_definition(text(), []) == {}


@pytest.mark.parametrize(
    "key, code",
    [
        ("", "key_required"),
        ("Topic", "key_invalid"),
        ("1topic", "key_invalid"),
        ("_topic", "key_invalid"),
        ("to-pic", "key_invalid"),
        ("to pic", "key_invalid"),
        ("주제", "key_invalid"),
        ("a" * 65, "key_invalid"),
        ("subject", "key_reserved"),
        ("description", "key_reserved"),
        ("name", "key_reserved"),
        ("email", "key_reserved"),
    ],
)
def test_bad_keys_are_refused(key, code):
    assert forms.validate_field_definition(text(key), [])["key"] == code


def test_longest_allowed_key_is_64_characters():
    assert forms.validate_field_definition(text("a" * 64), []) == {}


def test_duplicate_key_in_the_same_form_is_refused():
    assert forms.validate_field_definition(text("topic"), ["topic"]) == {"key": "key_taken"}


def test_unknown_type_is_refused():
    assert forms.validate_field_definition(text(type="colour"), [])["type"] == "type_unknown"


def test_condition_on_itself_is_refused():
    errors = forms.validate_field_definition(
        text("topic", condition_key="topic", condition_value="x"), ["other"]
    )
    assert errors == {"condition_key": "condition_self"}


def test_condition_on_an_unknown_field_is_refused():
    errors = forms.validate_field_definition(
        text("topic", condition_key="missing", condition_value="x"), ["other"]
    )
    assert errors == {"condition_key": "condition_unknown"}


def test_condition_needs_a_value():
    errors = forms.validate_field_definition(text("topic", condition_key="other"), ["other"])
    assert errors == {"condition_value": "condition_value_required"}


@pytest.mark.parametrize("pattern", ["[0-9", "(?P<x", "*a", "a{99999999999999999999}"])
def test_a_pattern_that_does_not_compile_is_refused(pattern):
    errors = forms.validate_field_definition(text(pattern=pattern), [])
    assert errors == {"pattern": "pattern_invalid"}


def test_a_pattern_longer_than_200_characters_is_refused():
    errors = forms.validate_field_definition(text(pattern="a" * 201), [])
    assert errors == {"pattern": "pattern_too_long"}


def test_minimum_length_above_maximum_is_refused():
    errors = forms.validate_field_definition(text(min_length=5, max_length=4), [])
    assert errors == {"max_length": "length_range"}


def test_minimum_value_above_maximum_is_refused():
    values = {"key": "amount", "type": "number", "min_value": 10, "max_value": 1}
    assert forms.validate_field_definition(values, []) == {"max_value": "value_range"}


@pytest.mark.parametrize("value", ["nan", "inf", float("-inf")])
def test_values_that_are_not_ordinary_numbers_are_refused(value):
    values = {"key": "amount", "type": "number", "min_value": value}
    assert forms.validate_field_definition(values, []) == {"min_value": "value_invalid"}


def test_a_length_that_is_no_number_is_refused():
    errors = forms.validate_field_definition(text(min_length="four"), [])
    assert errors == {"min_length": "number_invalid"}


@pytest.mark.parametrize("type_", ["dropdown", "multiselect", "radio"])
def test_choice_types_without_options_are_refused(type_):
    values = {"key": "topic", "type": type_, "options": []}
    assert forms.validate_field_definition(values, []) == {"options": "options_required"}


def test_a_checkbox_without_options_is_one_yes_no_box():
    assert forms.validate_field_definition({"key": "agree", "type": "checkbox"}, []) == {}


def test_option_values_must_be_unique():
    options = [{"value": "a", "labels": {}}, {"value": "a", "labels": {}}]
    values = {"key": "topic", "type": "radio", "options": options}
    assert forms.validate_field_definition(values, []) == {"options": "option_duplicate"}


def test_option_values_must_be_simple():
    options = [{"value": "a b", "labels": {}}]
    values = {"key": "topic", "type": "radio", "options": options}
    assert forms.validate_field_definition(values, []) == {"options": "option_value_invalid"}


@pytest.mark.parametrize(
    "param, code",
    [
        ("", "query_param_required"),
        ("app version", "query_param_invalid"),
        ("a" * 65, "query_param_invalid"),
        ("<script>", "query_param_invalid"),
    ],
)
def test_hidden_fields_need_a_valid_query_parameter(param, code):
    values = {"key": "app_version", "type": "hidden", "query_param": param}
    assert forms.validate_field_definition(values, []) == {"query_param": code}


def test_label_in_the_default_language_is_required_when_asked():
    errors = forms.validate_field_definition(
        {"key": "topic", "type": "text", "labels": {"en": "Topic"}}, [], default_locale="ko"
    )
    assert errors == {"label_ko": "label_required"}


def test_unknown_attributes_are_a_programming_error():
    with pytest.raises(TypeError):
        forms.validate_field_definition({**text(), "brand_id": 2}, [])


# -- forms ---------------------------------------------------------------------------------


def test_a_form_needs_a_name_in_the_brands_default_language(ctx, brand):
    with pytest.raises(forms.InvalidDefinition) as refused:
        forms.create_form(ctx, brand, {"en": "Payment", "ko": "  "}, {})
    assert refused.value.errors == {"name_ko": "name_required"}
    assert ctx.scalar(select(InquiryForm)) is None


def test_texts_in_languages_the_brand_does_not_use_are_dropped(ctx, brand):
    form = forms.create_form(ctx, brand, {"ko": " 결제  문의 ", "sv": "Betalning"}, {"ja": "x"})
    assert form.names == {"ko": "결제 문의"} and form.descriptions == {}
    assert form.version == 1 and form.listed and form.audience == "everyone"


def test_new_forms_go_to_the_end_and_move_up_and_down(ctx, brand):
    a = forms.create_form(ctx, brand, {"ko": "A"}, {})
    b = forms.create_form(ctx, brand, {"ko": "B"}, {}, listed=False)
    c = forms.create_form(ctx, brand, {"ko": "C"}, {})
    assert [f.id for f in forms.forms_for_brand(ctx, brand.id)] == [a.id, b.id, c.id]
    assert forms.move_form(ctx, c, "up")
    assert [f.id for f in forms.forms_for_brand(ctx, brand.id)] == [a.id, c.id, b.id]
    assert not forms.move_form(ctx, a, "up")
    assert [f.id for f in forms.forms_for_brand(ctx, brand.id, listed_only=True)] == [a.id, c.id]


def test_forms_of_other_brands_are_not_listed(ctx, make, brand, form):
    other = make.brand(slug="other", locales=("en",))
    forms.create_form(ctx, other, {"en": "Theirs"}, {})
    assert [f.id for f in forms.forms_for_brand(ctx, brand.id)] == [form.id]


def test_every_change_to_a_form_or_its_fields_bumps_the_version(ctx, form):
    seen = [version(ctx, form)]
    forms.update_form(ctx, form, {"ko": "새 이름"}, {"en": "Tell us"}, listed=False)
    seen.append(version(ctx, form))
    first = forms.add_field(ctx, form, **text("first"))
    seen.append(version(ctx, form))
    second = forms.add_field(ctx, form, **text("second"))
    seen.append(version(ctx, form))
    forms.update_field(ctx, first, **text("first", required=True))
    seen.append(version(ctx, form))
    assert forms.move_field(ctx, second, "up")
    seen.append(version(ctx, form))
    forms.delete_field(ctx, first)
    seen.append(version(ctx, form))
    assert seen == [1, 2, 3, 4, 5, 6, 7]


def test_a_refused_change_keeps_the_version(ctx, form):
    forms.add_field(ctx, form, **text("topic"))
    with pytest.raises(forms.InvalidDefinition) as refused:
        forms.add_field(ctx, form, **text("topic"))
    assert refused.value.errors == {"key": "key_taken"}
    ctx.rollback()
    assert version(ctx, form) == 2 and len(form.fields) == 1


def test_moving_forms_in_the_list_keeps_their_versions(ctx, brand, form):
    other = forms.create_form(ctx, brand, {"ko": "B"}, {})
    forms.move_form(ctx, other, "up")
    assert version(ctx, form) == 1 and version(ctx, other) == 1


def test_attributes_that_do_not_apply_to_the_type_are_not_kept(ctx, form):
    field = forms.add_field(
        ctx,
        form,
        **text(
            "topic",
            options=[{"value": "a", "labels": {"ko": "에이"}}],
            min_value=1,
            query_param="x",
            pattern="[a-z]+",
        ),
    )
    assert field.options == [] and field.min_value is None and field.query_param is None
    assert field.pattern == "[a-z]+"
    forms.update_field(ctx, field, key="topic", type="number", labels={"ko": "수"}, min_value=1)
    assert field.pattern is None and field.min_value == 1


def test_a_condition_must_name_a_field_placed_before(ctx, form):
    first = forms.add_field(ctx, form, **text("first"))
    forms.add_field(ctx, form, **text("second"))
    with pytest.raises(forms.InvalidDefinition) as refused:
        forms.update_field(ctx, first, **text("first", condition_key="second", condition_value="x"))
    assert refused.value.errors == {"condition_key": "condition_after"}


def test_a_field_cannot_move_above_the_field_it_depends_on(ctx, form):
    forms.add_field(ctx, form, **text("first"))
    second = forms.add_field(
        ctx, form, **text("second", condition_key="first", condition_value="x")
    )
    before = version(ctx, form)
    assert not forms.move_field(ctx, second, "up")
    assert [f.key for f in form.fields] == ["first", "second"] and version(ctx, form) == before


def test_a_condition_value_must_be_one_of_the_targets_options(ctx, form):
    options = [{"value": "card", "labels": {"ko": "카드"}}]
    forms.add_field(ctx, form, key="method", type="radio", labels={"ko": "수단"}, options=options)
    with pytest.raises(forms.InvalidDefinition) as refused:
        forms.add_field(ctx, form, **text("last4", condition_key="method", condition_value="cash"))
    assert refused.value.errors == {"condition_value": "condition_value_unknown"}


def test_a_condition_cannot_depend_on_a_hidden_field(ctx, form):
    forms.add_field(ctx, form, key="device", type="hidden", query_param="device")
    with pytest.raises(forms.InvalidDefinition) as refused:
        forms.add_field(ctx, form, **text("model", condition_key="device", condition_value="ios"))
    assert refused.value.errors == {"condition_key": "condition_target_type"}


def test_renaming_a_key_carries_the_conditions_that_name_it(ctx, form):
    method = forms.add_field(ctx, form, **text("method"))
    dependent = forms.add_field(
        ctx, form, **text("last4", condition_key="method", condition_value="c")
    )
    forms.update_field(ctx, method, **text("payment_method"))
    assert dependent.condition_key == "payment_method"


def test_deleting_a_field_frees_the_fields_that_depended_on_it(ctx, form):
    method = forms.add_field(ctx, form, **text("method"))
    dependent = forms.add_field(
        ctx, form, **text("last4", condition_key="method", condition_value="c")
    )
    assert forms.delete_field(ctx, method) == ["last4"]
    assert dependent.condition_key is None and dependent.condition_value is None
    assert [f.key for f in ctx.scalars(select(FormField))] == ["last4"]


def test_deleting_a_form_keeps_the_tickets_sent_with_it(ctx, brand, form):
    forms.add_field(ctx, form, **text("topic"))
    answers = [{"key": "topic", "label": "라벨", "type": "text", "value": "x", "display": "x"}]
    ticket = Ticket(
        brand_id=brand.id,
        locale="ko",
        form_id=form.id,
        form_version=2,
        form_name="결제 문의",
        subject="Help",
        description="Please",
        requester_name="A",
        requester_email="a@example.test",
        answers=answers,
        link_secret="s",
    )
    ctx.add(ticket)
    ctx.commit()
    forms.delete_form(ctx, form)
    ctx.expire_all()
    kept = ctx.get(Ticket, ticket.id)
    assert kept.form_id is None and kept.form_name == "결제 문의" and kept.answers == answers
    assert ctx.scalar(select(FormField)) is None


def test_text_in_falls_back_to_the_default_then_any_language():
    assert forms.text_in({"ko": "가", "en": "A"}, "en", "ko") == "A"
    assert forms.text_in({"ko": "가"}, "en", "ko") == "가"
    assert forms.text_in({"ja": "あ"}, "en", "ko") == "あ"
    assert forms.text_in({}, "en", "ko") == ""


def test_demo_forms_are_built_with_the_builders_rules(app, ctx):
    from kb.models import Brand
    from portal import demo
    from portal.extensions import db

    with app.app_context():
        demo.load(db.session)
        db.session.remove()
    brands = {b.slug: b for b in ctx.scalars(select(Brand))}
    hanbit = forms.forms_for_brand(ctx, brands["hanbit-pay"].id)
    # (the third: Daehan Logistics' private form, which its mail address opens requests with)
    names = ["Payment question", "Account question", "Daehan Logistics requests"]
    assert [f.names["en"] for f in hanbit] == names
    assert (hanbit[2].audience, len(hanbit[2].organization_ids)) == ("organizations", 1)
    payment = {f.key: f for f in hanbit[0].fields}
    assert list(payment) == [
        "payment_method",
        "card_last4",
        "order_date",
        "screenshot",
        "app_version",
        "device",
    ]
    assert [o["value"] for o in payment["payment_method"].options] == ["card", "transfer", "qr"]
    assert payment["payment_method"].options[0]["labels"] == {
        "ko": "카드",
        "en": "Card",
        "ja": "カード",
    }
    assert (payment["card_last4"].condition_key, payment["card_last4"].condition_value) == (
        "payment_method",
        "card",
    )
    assert payment["device"].query_param == "device" and payment["device"].type == "hidden"
    assert [f.key for f in hanbit[1].fields] == ["account_email", "topic"]
    norrsken = forms.forms_for_brand(ctx, brands["norrsken-energi"].id)
    assert [f.names for f in norrsken] == [{"sv": "Fakturafråga", "en": "Billing question"}]
    billing = {f.key: f for f in norrsken[0].fields}
    assert billing["invoice_number"].min_value == 1 and billing["invoice_number"].required
    assert billing["topic"].type == "multiselect" and billing["attachment"].type == "file"
    with app.app_context():
        assert demo.load(db.session) == []
        db.session.remove()
    assert len(ctx.scalars(select(InquiryForm)).all()) == 4  # loading again adds none
