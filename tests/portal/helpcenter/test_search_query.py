"""SearchQuery: the search page's query string, parsed without HTTP; bad values never a 500."""

from types import SimpleNamespace

import pytest
from werkzeug.datastructures import MultiDict

from kb import clock
from kb.helpcenter import HelpCenter
from portal.blueprints.helpcenter.forms import SearchQuery, click_position, page_arg


def parse(htmx=False, **args):
    return SearchQuery.from_args(MultiDict(args), htmx=htmx)


def help_center(locales=("en", "ko")):
    brand = SimpleNamespace(id=7, slug="acme", locales=list(locales), default_locale="en")
    return HelpCenter(brand=brand, locale="en", org_id=3)


def test_the_words_are_cleaned_and_the_filters_kept():
    query = parse(q="  reset \x00 password ", all="1", kind="faq", section="12", page="3")
    assert query == SearchQuery(
        text="reset password", all_languages=True, kind="faq", section_id=12, page=3
    )


@pytest.mark.parametrize(
    "args",
    [
        {"kind": "secret"},
        {"section": "abc"},
        {"section": "99999999999"},
        {"section": "-4"},
        {"page": "²"},
        {"page": "0"},
        {"page": "1000000"},
        {"all": "yes"},
    ],
)
def test_a_value_that_cannot_be_used_turns_its_filter_off(args):
    assert parse(q="refund", **args) == SearchQuery(text="refund")


def test_instant_search_needs_htmx():
    assert parse(q="re", instant="1").instant is False
    assert parse(q="re", instant="1", htmx=True).instant is True


def test_the_index_request_uses_the_help_centers_languages_and_organization():
    now = clock.now()
    request = parse(q="refund", all="1", page="2").request(help_center(), now)
    assert (request.brand_id, request.locales, request.org_id) == (7, ("en", "ko"), 3)
    assert (request.text, request.page, request.per_page, request.now) == ("refund", 2, 10, now)
    assert parse(q="refund").request(help_center(), now).locales == ("en",)


def test_the_instant_request_is_a_short_list_with_the_last_word_a_prefix():
    request = parse(q="ref", instant="1", htmx=True).request(help_center(), clock.now())
    assert (request.per_page, request.prefix_last) == (6, True)


def test_links_keep_the_filters_each_one_needs_in_a_stable_order():
    links = parse(q="refund", all="1", kind="faq", section="12").links(help_center())
    base = {"brand": "acme", "locale": "en", "q": "refund", "all": "1"}
    assert list(links.base.items()) == list(base.items())
    assert list(links.page.items()) == list({**base, "kind": "faq", "section": 12}.items())
    assert links.kind == {**base, "section": 12}
    assert links.section == {**base, "kind": "faq"}


def test_links_without_filters_carry_only_the_words():
    links = parse(q="refund").links(help_center())
    assert links.base == links.page == links.kind == links.section
    assert links.base == {"brand": "acme", "locale": "en", "q": "refund"}


def test_page_arg_is_the_first_page_for_anything_but_a_page_number():
    assert [page_arg(MultiDict({"page": v})) for v in ("2", "x", "", "٣")] == [2, 1, 1, 1]
    assert page_arg(MultiDict()) == 1


def test_the_search_page_answers_bad_arguments_with_the_unfiltered_results(client, make):
    brand = make.brand(slug="acme", locales=("en",))
    make.article(make.section(make.category(brand)), {"en": "Refund a card"})
    response = client.get("/acme/en/search?q=refund&kind=x&section=99999999999&page=%C2%B2")
    assert response.status_code == 200
    assert "1 result for “refund”" in response.get_data(as_text=True)


def test_click_position_is_a_small_number_or_zero():
    values = ("3", "0", "10001", "x", "")
    assert [click_position(MultiDict({"pos": v})) for v in values] == [3, 0, 0, 0, 0]
