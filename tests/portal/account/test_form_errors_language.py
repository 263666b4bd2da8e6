"""Validation messages (WTForms' own and ours) speak the page's language."""

import re

import pytest

REQUIRED = {
    "ko": "이 항목은 필수입니다.",
    "ja": "このフィールドは必須です。",
    "sv": "Det här fältet är obligatoriskt.",
}


def _errors(response) -> list[str]:
    return re.findall(r'class="error"[^>]*>([^<]*)<', response.get_data(as_text=True))


@pytest.mark.parametrize("locale", ["ko", "ja", "sv"])
def test_sign_in_field_errors_follow_the_help_center_language(client, make, locale):
    """Issue 15 item 25: "This field is required." stayed English on a ko, ja or sv sign-in
    page reached from the help center (the browser asking for English)."""
    make.brand(slug="acme", locales=("en", "ko", "ja", "sv"))
    response = client.post(
        "/login",
        data={"email": "", "password": "", "next": f"/acme/{locale}/"},
        headers={"Accept-Language": "en"},
    )
    page = response.get_data(as_text=True)
    assert f'<html lang="{locale}">' in page
    assert "This field is required." not in page
    assert _errors(response).count(REQUIRED[locale]) == 2
