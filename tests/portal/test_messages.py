"""The catalog of error texts: every code the domain raises has words, each page keeps its own."""

import re
from pathlib import Path

import pytest
from flask_babel import force_locale

from portal.web.messages import TEXTS, error_text

ROOT = Path(__file__).resolve().parents[2]
# `errors[...] = "code"`, `SomeError("code")`, `SomeError("field", "code"`, `return "code"`,
# `return ["code"]`, `errors.append("code")`, `code = "code" if ...`
RAISED = re.compile(r'(?:\] = |Error\((?:"\w+", )?|return \[?|append\(|code = )"([a-z_]+)"')
# kb.attachments also picks a code with `... else "code"`
ELSE_CODE = re.compile(r'code = "\w+" if .* else "([a-z_]+)"')

# The modules whose refusals each area's pages word (area: domain modules).
AREAS = {
    "group": ["portal/desk/assignment.py"],
    "label": ["kb/labels.py"],
    "article": ["kb/authoring.py"],
    "structure": ["kb/structure.py"],
    "form": ["portal/desk/forms.py"],
    "org": ["portal/desk/orgs.py"],
    "ticket": ["portal/desk/agent_tickets.py", "portal/desk/scheduled_replies.py"],
    "attachment": ["kb/attachments.py"],
    "request": ["portal/desk/intake.py", "portal/desk/tickets.py"],
}


def raised_codes(area: str) -> set[str]:
    codes = set()
    for path in AREAS[area]:
        source = (ROOT / path).read_text()
        codes |= set(RAISED.findall(source)) | set(ELSE_CODE.findall(source))
    return codes


@pytest.mark.parametrize("area", sorted(AREAS))
def test_every_code_the_domain_raises_has_a_text(app, area):
    codes = raised_codes(area)
    assert codes, f"no codes found in {AREAS[area]}: the pattern no longer matches"
    with app.test_request_context():
        missing = sorted(
            c
            for c in codes
            if error_text(c, area, num=1, count=1, size="1 MB", found="x", names="y") == c
        )
    assert missing == []


def test_group_and_organization_name_required_keep_their_own_words(app):
    with app.test_request_context():
        assert error_text("name_required", "group") == "Give the group a name."
        assert error_text("name_required", "org") == "Give the organization a name."
        assert error_text("name_required", "form") == (
            "Give the form a name in the brand's default language."
        )


def test_label_name_too_long_is_worded_without_a_number(app):
    with app.test_request_context():
        assert error_text("name_too_long", "label") == "The name is too long."
        assert error_text("name_too_long", "group") == (
            "The name is too long (at most 100 characters)."
        )
        assert error_text("name_too_long", "org") == (
            "The name is too long (at most 200 characters)."
        )


def test_values_are_filled_in_like_gettext_does(app):
    with app.test_request_context():
        assert error_text("tag_too_long", "ticket", num=40) == (
            "A tag can be at most 40 characters."
        )
        assert error_text("section_not_empty", "structure", count=3) == (
            "This section still holds 3 articles. Move them to another section first."
        )


def test_unknown_code_gives_the_default_text_or_the_code(app):
    with app.test_request_context():
        assert error_text("nonsense", "request", default="unknown") == "Please check this."
        assert error_text("nonsense", "group") == "nonsense"


def test_text_is_in_the_requests_language(app):
    with app.test_request_context(), force_locale("ko"):
        assert error_text("name_required", "group") != "Give the group a name."


def test_area_texts_do_not_shadow_a_shared_code_with_the_same_words():
    """An area's entry exists because its words differ from the shared one's."""
    for key, text in TEXTS.items():
        area, _dot, code = key.rpartition(".")
        if area and code in TEXTS:
            assert text._args != TEXTS[code]._args, key
