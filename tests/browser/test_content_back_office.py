"""Issue 15 in a browser: "New article" from the unfiltered list, and naming a label."""

import re

from playwright.sync_api import Page, expect

from portal.demo import DEMO_PASSWORD


def sign_in(page: Page, base_url: str) -> None:
    page.goto(f"{base_url}/login")
    page.get_by_label("Email").fill("editor@example.com")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(rf"^{base_url}/admin/"))


def test_new_article_from_the_unfiltered_list_chooses_brand_and_language(live_server, open_page):
    """Issue 15 item 29: "New article" is there before any filter; its page asks for the
    brand and the language, then opens the editor in them (with and without JavaScript)."""
    page = open_page()
    sign_in(page, live_server)
    page.goto(f"{live_server}/admin/kb/")
    page.get_by_role("link", name="New article").click()
    expect(
        page.get_by_text("Choose the brand and the language of the new article.")
    ).to_be_visible()
    page.get_by_role("listitem").filter(has_text="Hanbit Pay").get_by_role(
        "link", name="English"
    ).click()
    expect(page).to_have_url(re.compile(r"/admin/kb/articles/new\?brand=hanbit-pay&locale=en$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Hanbit Pay")
    expect(page.get_by_role("heading", level=1)).to_contain_text("English")
    expect(page.get_by_text("Times in Asia/Seoul.")).to_be_visible()


def test_editor_names_a_label_in_korean(live_server, open_page, javascript):
    """Issue 15 item 28: the labels page saves a name per language, kept after saving."""
    page = open_page()
    sign_in(page, live_server)
    page.goto(f"{live_server}/admin/kb/labels?brand=hanbit-pay")
    field = page.locator("input[name^='name:'][name$=':ko']").first
    expect(field).to_be_visible()
    name = "이름 " + ("js" if javascript else "nojs")
    field.fill(name)
    field_name = field.get_attribute("name")
    page.get_by_role("button", name="Save names").click()
    expect(page.get_by_text("Label names saved.")).to_be_visible()
    expect(page.locator(f"input[name='{field_name}']")).to_have_value(name)
