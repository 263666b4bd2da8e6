"""Request forms tell screen readers which answers are required, not only sighted people."""

from html.parser import HTMLParser

import pytest

from portal.desk.models import FormField, InquiryForm

OPTIONS = [{"value": "a", "labels": {"en": "A"}}, {"value": "b", "labels": {"en": "B"}}]
CONTROL_TYPES = ("text", "textarea", "email", "number", "date", "dropdown", "multiselect", "file")


class Controls(HTMLParser):
    """Attributes of every form control by name, and of every element by id."""

    def __init__(self):
        super().__init__()
        self.by_name: dict[str, list[dict]] = {}
        self.by_id: dict[str, dict] = {}

    def handle_starttag(self, tag, attrs):
        attributes = {**dict(attrs), "tag": tag}
        if tag in ("input", "select", "textarea") and "name" in attributes:
            self.by_name.setdefault(attributes["name"], []).append(attributes)
        if "id" in attributes:
            self.by_id[attributes["id"]] = attributes


@pytest.fixture
def page(client, make):
    brand = make.brand(slug="acme", locales=("en",))
    fields = [
        FormField(key=f"req_{t}", type=t, required=True, labels={"en": f"Asked {t}"})
        for t in CONTROL_TYPES
    ]
    fields += [
        FormField(key="req_radio", type="radio", required=True, labels={"en": "R"}),
        FormField(key="req_boxes", type="checkbox", required=True, labels={"en": "C"}),
        FormField(key="req_agree", type="checkbox", required=True, labels={"en": "I agree"}),
        FormField(key="optional", type="text", required=False, labels={"en": "Optional"}),
    ]
    for position, field in enumerate(fields, 1):
        field.position = position
        if field.type in ("dropdown", "multiselect", "radio") or field.key == "req_boxes":
            field.options = OPTIONS
    form = InquiryForm(brand_id=brand.id, names={"en": "Question"}, fields=fields)
    make.session.add(form)
    make.session.commit()
    html = client.get(f"/acme/en/requests/new?form={form.id}").get_data(as_text=True)
    parsed = Controls()
    parsed.feed(html)
    return html, parsed


def test_required_custom_fields_are_required_for_screen_readers(page):
    """Issue 15 item 30: required custom fields were marked only by a star hidden from screen
    readers; their controls now carry `required` (or their group `aria-required`)."""
    _, parsed = page
    for t in CONTROL_TYPES:
        (control,) = parsed.by_name[f"f_req_{t}"]
        assert "required" in control or control.get("aria-required") == "true", t
    (agree,) = parsed.by_name["f_req_agree"]
    assert "required" in agree
    radios = parsed.by_name["f_req_radio"]
    assert all("required" in r for r in radios)
    group = parsed.by_id["f_req_boxes-group"]
    assert group.get("role") == "group"
    assert "f_req_boxes-required" in group.get("aria-describedby", "").split()
    (optional,) = parsed.by_name["f_optional"]
    assert "required" not in optional and "aria-required" not in optional


def test_request_form_says_in_text_what_the_star_means(page):
    """Issue 15 item 30: the star is explained in words on the page."""
    html, _ = page
    assert "Fields marked * are required." in html
