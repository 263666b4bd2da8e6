"""Article labels: internal slugs for editors; customers see a label only by its name in their
language, set on the back office's labels page."""

import re

import pytest
from sqlalchemy import select

from kb.models import LabelName


@pytest.fixture
def brand(make):
    return make.brand(slug="acme", locales=("ko", "en", "ja"))


@pytest.fixture
def article(make, brand):
    section = make.section(make.category(brand))
    return make.article(
        section,
        {"ko": "비밀번호 재설정", "en": "Reset your password", "ja": "パスワードの再設定"},
        body="Open the settings.",
        labels=("password", "refund"),
    )


def tags(client, locale, article) -> list[str]:
    html = client.get(f"/acme/{locale}/articles/{article.id}", follow_redirects=True)
    block = re.search(r'<p class="labels">.*?</p>', html.get_data(as_text=True), re.S)
    return re.findall(r'<span class="tag">([^<]*)</span>', block.group(0)) if block else []


def name(make, brand, label, locale, text):
    make.session.add(LabelName(brand_id=brand.id, label=label, locale=locale, name=text))
    make.session.commit()


def test_label_without_a_name_stays_internal(client, article):
    """Issue 15 item 28: ko and ja readers saw the raw English slugs "password", "refund"."""
    assert tags(client, "ko", article) == []
    assert tags(client, "ja", article) == []
    assert tags(client, "en", article) == []


def test_label_is_shown_by_its_name_in_the_readers_language(client, make, brand, article):
    """Issue 15 item 28: a label named in a language is shown there, by that name only."""
    name(make, brand, "password", "ko", "비밀번호")
    name(make, brand, "refund", "ja", "返金")
    assert tags(client, "ko", article) == ["비밀번호"]
    assert tags(client, "ja", article) == ["返金"]
    assert tags(client, "en", article) == []


def test_editor_names_labels_per_language_on_the_labels_page(client, ctx, login, brand, article):
    """Issue 15 item 28: the labels page lists the brand's labels with a field per language."""
    login("editor", brands=[brand])
    page = client.get("/admin/kb/labels?brand=acme").get_data(as_text=True)
    assert "password" in page and 'name="name:password:ko"' in page
    tags(client, "ko", article)  # cached without a name
    response = client.post(
        "/admin/kb/labels",
        data={"brand": "acme", "name:password:ko": " 비밀번호 ", "name:password:en": "Password"},
    )
    assert response.status_code == 303
    saved = {(r.label, r.locale): r.name for r in ctx.scalars(select(LabelName))}
    assert saved == {("password", "ko"): "비밀번호", ("password", "en"): "Password"}
    assert tags(client, "ko", article) == ["비밀번호"]  # the cached page is renewed
    client.post("/admin/kb/labels", data={"brand": "acme", "name:password:en": ""})
    assert tags(client, "en", article) == []


def test_too_long_label_name_is_refused_beside_its_field_and_kept(
    client, ctx, login, brand, article
):
    """Issue 15 item 28: bad input gets a message and keeps what was typed."""
    login("editor", brands=[brand])
    typed = "x" * 65
    response = client.post(
        "/admin/kb/labels",
        data={"brand": "acme", "name:refund:ja": typed, "name:password:ko": "비밀번호"},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "The name is too long." in html and f'value="{typed}"' in html
    assert 'value="비밀번호"' in html
    assert ctx.scalars(select(LabelName)).all() == []


def test_labels_of_another_brand_are_404(client, make, login, brand, article):
    """Issue 15 item 28: an editor names only their own brands' labels."""
    other = make.brand(slug="globex")
    login("editor", brands=[other])
    assert client.get("/admin/kb/labels?brand=acme").status_code == 404
    response = client.post("/admin/kb/labels", data={"brand": "acme", "name:refund:ko": "환불"})
    assert response.status_code == 404
