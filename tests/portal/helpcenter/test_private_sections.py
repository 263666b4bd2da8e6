"""Sections for chosen customer organizations: others never see them, in lists, search or by URL."""

import io
import re

import pytest
from sqlalchemy import select

from kb.models import Section, SectionOrganization
from kb.people import CustomerOrganization


@pytest.fixture
def site(make):
    brand = make.brand(slug="acme", locales=("en",), name="Acme")
    company = CustomerOrganization(name="Daehan Logistics")
    make.session.add(company)
    make.session.commit()
    category = make.category(brand, {"en": "Help"})
    public = make.section(category, {"en": "Everyday help"})
    partners = make.section(category, {"en": "Partner desk"})
    partners.audience = "organizations"
    partners.organizations = [SectionOrganization(organization_id=company.id)]
    make.session.commit()
    make.article(public, {"en": "Reset your password"}, body="Use the reset link.")
    secret = make.article(
        partners, {"en": "Bulk freight rates"}, body="Partner freight rates for zephyr pallets."
    )
    return brand, company, partners, secret


def as_member(make, login, company):
    user = login("customer")
    make.session.get(type(user), user.id).customer_org_id = company.id
    make.session.commit()
    return user


def pages(client, secret, partners):
    return {
        "home": client.get("/acme/en/").get_data(as_text=True),
        "section": client.get(f"/acme/en/sections/{partners.id}-partner-desk"),
        "article": client.get(f"/acme/en/articles/{secret.id}-bulk-freight-rates"),
        "search": client.get("/acme/en/search?q=zephyr").get_data(as_text=True),
        "faq": client.get("/acme/en/faq").get_data(as_text=True),
    }


@pytest.mark.parametrize("who", ["anonymous", "customer of no organization", "other organization"])
def test_others_never_see_a_restricted_section(client, make, login, site, who):
    brand, company, partners, secret = site
    if who != "anonymous":
        user = login("customer")
        if who == "other organization":
            other = CustomerOrganization(name="Fjällbyn AB")
            make.session.add(other)
            make.session.commit()
            make.session.get(type(user), user.id).customer_org_id = other.id
            make.session.commit()
    seen = pages(client, secret, partners)
    assert "Partner desk" not in seen["home"] and "Everyday help" in seen["home"]
    assert seen["section"].status_code == 404
    assert seen["article"].status_code == 404
    assert "Bulk freight rates" not in seen["search"]
    assert re.search(r"0 results? for", seen["search"])


def test_members_of_the_organization_read_it_everywhere(client, make, login, site):
    brand, company, partners, secret = site
    as_member(make, login, company)
    seen = pages(client, secret, partners)
    assert "Partner desk" in seen["home"]
    assert seen["section"].status_code == 200
    assert seen["article"].status_code == 200
    assert "Bulk freight rates" in seen["search"]


def test_restricting_a_section_takes_its_articles_out_of_public_search(
    client, ctx, make, login, site
):
    brand, company, partners, secret = site
    public = ctx.scalar(select(Section).where(Section.audience == "everyone"))
    found = make.article(public, {"en": "Zephyr discounts"}, body="Zephyr pallet discounts.")
    assert "Zephyr discounts" in client.get("/acme/en/search?q=zephyr").get_data(as_text=True)
    login("editor", brands=[brand])
    response = client.post(
        f"/admin/kb/structure/sections/{public.id}",
        data={
            "title_en": "Everyday help",
            "category_id": str(public.category_id),
            "position": "0",
            "audience": "organizations",
            "organization_ids": str(company.id),
        },
    )
    assert response.status_code == 303
    client.post("/logout")
    body = client.get("/acme/en/search?q=zephyr").get_data(as_text=True)
    assert "Zephyr discounts" not in body
    assert client.get(f"/acme/en/articles/{found.id}-zephyr-discounts").status_code == 404


def test_restricted_section_needs_an_organization(client, ctx, make, login, site):
    brand, company, partners, secret = site
    login("editor", brands=[brand])
    response = client.post(
        f"/admin/kb/structure/sections/{partners.id}",
        data={
            "title_en": "Partner desk",
            "category_id": str(partners.category_id),
            "position": "1",
            "audience": "organizations",
        },
    )
    assert response.status_code == 400
    assert "Choose at least one organization." in response.get_data(as_text=True)


def test_files_of_a_restricted_article_are_for_its_organization(
    app, client, ctx, make, login, site
):
    from pathlib import Path

    from kb import attachments, clock

    brand, company, partners, secret = site
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
    result = attachments.store(
        ctx,
        Path(app.instance_path) / "uploads",
        brand.id,
        secret.id,
        None,
        io.BytesIO(png),
        "rates.png",
        None,
        clock.now(),
    )
    url = f"/files/{result.attachment.id}/rates.png"
    assert client.get(url).status_code == 404
    as_member(make, login, company)
    response = client.get(url)
    assert response.status_code == 200 and response.headers["Cache-Control"] == (
        "private, no-store"
    )
    response.close()
