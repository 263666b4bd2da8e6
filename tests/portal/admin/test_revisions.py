"""The revisions page: labelled From/To choices, a sensible default pair, bookmarkable diffs."""

import re

import pytest
from sqlalchemy import select

from kb.models import Revision, Translation

HTMX = {"HX-Request": "true"}


@pytest.fixture
def brand(make):
    return make.brand(slug="acme", locales=("en",))


@pytest.fixture
def editor(login, brand):
    return login("editor", brands=[brand])


@pytest.fixture
def section(make, brand):
    return make.section(make.category(brand))


def save(client, url, section, body, base_version=""):
    data = {
        "title": "Reset your password",
        "body_md": body,
        "section_id": str(section.id),
        "kind": "guide",
        "status": "draft",
        "base_version": base_version,
        "action": "save",
    }
    assert client.post(url, data=data).status_code == 303


@pytest.fixture
def versions(client, ctx, editor, section):
    """An article saved three times: {version: revision id}, and its revisions page."""
    save(client, "/admin/kb/articles/new?brand=acme&locale=en", section, "one")
    t = ctx.scalar(select(Translation))
    url = f"/admin/kb/articles/{t.article_id}/en"
    save(client, url, section, "two", base_version="1")
    save(client, url, section, "three", base_version="2")
    ids = {r.version: r.id for r in ctx.scalars(select(Revision))}
    assert set(ids) == {1, 2, 3}
    return ids, f"{url}/revisions"


def checked(html: str, name: str) -> list[str]:
    """The values of the radios named `name` that are checked."""
    radios = re.findall(rf'<input type="radio" name="{name}" [^>]*>', html)
    return [re.search(r'value="(\d+)"', r).group(1) for r in radios if " checked" in r]


def test_from_and_to_columns_have_headers_and_each_radio_a_label(client, versions):
    ids, url = versions
    page = client.get(url).get_data(as_text=True)
    assert '<th scope="col">From version</th><th scope="col">To version</th>' in page
    for version, revision_id in ids.items():
        assert re.search(
            rf'<td><input type="radio" name="a" value="{revision_id}" '
            rf'aria-label="From version {version}"',
            page,
        )
        assert re.search(
            rf'<td><input type="radio" name="b" value="{revision_id}" '
            rf'aria-label="To version {version}"',
            page,
        )


def test_previous_and_latest_versions_are_picked_until_others_are_chosen(client, versions):
    ids, url = versions
    page = client.get(url).get_data(as_text=True)
    assert checked(page, "a") == [str(ids[2])] and checked(page, "b") == [str(ids[3])]
    chosen = client.get(f"{url}?a={ids[1]}&b={ids[3]}").get_data(as_text=True)
    assert checked(chosen, "a") == [str(ids[1])] and checked(chosen, "b") == [str(ids[3])]
    assert "Differences between v1 and v3" in chosen


def test_comparing_a_version_with_itself_asks_for_two_different_ones(client, versions):
    ids, url = versions
    page = client.get(f"{url}?a={ids[2]}&b={ids[2]}").get_data(as_text=True)
    assert "Choose two different versions to compare." in page
    assert "Differences between" not in page


def test_show_differences_with_htmx_replaces_the_diff_and_pushes_the_url(client, versions):
    ids, url = versions
    page = client.get(url).get_data(as_text=True)
    form = re.search(r'<form method="get"[^>]*>', page).group(0)
    assert f'action="{url}"' in form
    assert 'hx-target="#diff"' in form and 'hx-swap="outerHTML"' in form
    assert 'hx-push-url="true"' in form
    fragment = client.get(f"{url}?a={ids[2]}&b={ids[3]}", headers=HTMX).get_data(as_text=True)
    assert "<html" not in fragment
    assert fragment.strip().startswith('<div id="diff">') and fragment.count('id="diff"') == 1
    assert "Differences between v2 and v3" in fragment
    assert '<span class="removed">-two</span>' in fragment
    assert '<span class="added">+three</span>' in fragment


def test_bookmarked_comparison_opens_as_a_whole_page(client, versions):
    ids, url = versions
    page = client.get(f"{url}?a={ids[1]}&b={ids[2]}").get_data(as_text=True)
    assert "<html" in page and "Differences between v1 and v2" in page
    assert '<span class="added">+two</span>' in page


def test_a_single_revision_offers_nothing_to_compare(client, ctx, editor, section):
    save(client, "/admin/kb/articles/new?brand=acme&locale=en", section, "only")
    t = ctx.scalar(select(Translation))
    page = client.get(f"/admin/kb/articles/{t.article_id}/en/revisions").get_data(as_text=True)
    assert "v1" in page
    assert 'type="radio"' not in page and "Show differences" not in page
