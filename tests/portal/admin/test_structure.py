"""Categories and sections: create, rename per locale, reorder, move, delete only when empty."""

import pytest
from sqlalchemy import select

from kb.models import Category, Section


@pytest.fixture
def brand(make):
    return make.brand(slug="acme", locales=("sv", "en"))


@pytest.fixture
def editor(login, brand):
    return login("editor", brands=[brand])


def titles(node):
    return {t.locale: t.title for t in node.translations}


def test_create_and_rename_a_category_per_locale(client, ctx, editor, brand):
    response = client.post(
        "/admin/kb/structure/categories",
        data={"brand": "acme", "title_sv": "Fakturor", "title_en": "", "position": "2"},
    )
    assert response.status_code == 303
    category = ctx.scalar(select(Category))
    assert titles(category) == {"sv": "Fakturor"} and category.position == 2
    client.post(
        f"/admin/kb/structure/categories/{category.id}",
        data={"title_sv": "Fakturor", "title_en": "Invoices", "position": "1"},
    )
    ctx.expire_all()
    assert titles(ctx.get(Category, category.id)) == {"sv": "Fakturor", "en": "Invoices"}
    assert "Invoices" in client.get("/acme/en/").get_data(as_text=True)


def test_default_language_title_is_required_and_typed_values_are_kept(client, ctx, editor, brand):
    response = client.post(
        "/admin/kb/structure/categories",
        data={"brand": "acme", "title_sv": " ", "title_en": "Only English"},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "A title in the brand&#39;s default language is required." in page
    assert 'value="Only English"' in page
    assert ctx.scalar(select(Category)) is None


def test_reorder_sections_and_move_one_to_another_category(client, ctx, editor, brand, make):
    first = make.category(brand, {"sv": "Ett", "en": "One"}, position=1)
    second = make.category(brand, {"sv": "Två", "en": "Two"}, position=2)
    a = make.section(first, {"sv": "A", "en": "A"}, position=1)
    b = make.section(first, {"sv": "B", "en": "B"}, position=2)
    client.post(
        f"/admin/kb/structure/sections/{b.id}",
        data={"title_sv": "B", "title_en": "B", "position": "0", "category_id": str(first.id)},
    )
    home = client.get("/acme/en/").get_data(as_text=True)
    assert home.index(">B</a>") < home.index(">A</a>")
    client.post(
        f"/admin/kb/structure/sections/{a.id}",
        data={"title_sv": "A", "title_en": "A", "position": "1", "category_id": str(second.id)},
    )
    ctx.expire_all()
    assert ctx.get(Section, a.id).category_id == second.id


def test_deleting_a_section_that_holds_articles_is_refused(client, ctx, editor, brand, make):
    section = make.section(make.category(brand), {"sv": "Full", "en": "Full"})
    make.article(section)
    make.article(section)
    response = client.post(f"/admin/kb/structure/sections/{section.id}/delete")
    assert response.status_code == 409
    assert "still holds 2 articles" in response.get_data(as_text=True)
    assert ctx.get(Section, section.id) is not None


def test_deleting_a_category_with_articles_in_its_sections_is_refused(
    client, ctx, editor, brand, make
):
    category = make.category(brand)
    make.article(make.section(category))
    response = client.post(f"/admin/kb/structure/categories/{category.id}/delete")
    assert response.status_code == 409
    assert "still holds 1 articles" in response.get_data(as_text=True)


def test_empty_category_and_its_empty_sections_are_deleted(client, ctx, editor, brand, make):
    category = make.category(brand)
    category_id, section_id = category.id, make.section(category).id
    assert client.post(f"/admin/kb/structure/categories/{category_id}/delete").status_code == 303
    ctx.expire_all()
    assert ctx.get(Category, category_id) is None and ctx.get(Section, section_id) is None


def test_section_in_another_brands_category_is_refused(client, ctx, editor, brand, make):
    make.category(brand, {"sv": "Egen"})
    other = make.brand(slug="other", locales=("sv",))
    foreign = make.category(other)
    response = client.post(
        "/admin/kb/structure/sections",
        data={"brand": "acme", "title_sv": "X", "category_id": str(foreign.id)},
    )
    assert response.status_code == 400
    assert "Choose a category of this brand." in response.get_data(as_text=True)


def test_article_moves_to_another_section_from_the_editor(client, ctx, editor, brand, make):
    category = make.category(brand)
    here, there = make.section(category), make.section(category)
    article = make.article(here, {"sv": "Flytta mig"})
    version = article.translations[0].version
    response = client.post(
        f"/admin/kb/articles/{article.id}/sv",
        data={
            "title": "Flytta mig",
            "body_md": "x",
            "section_id": str(there.id),
            "kind": "guide",
            "status": "published",
            "base_version": str(version),
            "labels": "",
            "position": "0",
        },
    )
    assert response.status_code == 303
    ctx.expire_all()
    from kb.models import Article

    assert ctx.get(Article, article.id).section_id == there.id
