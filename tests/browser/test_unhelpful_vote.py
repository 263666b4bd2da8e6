"""After "No" on an article, a visitor finds related articles and a way to a person, in
Chromium with and without JavaScript (issue 15 item 31)."""

import re

from playwright.sync_api import expect


def test_no_vote_leads_to_related_articles_and_the_request_form(
    live_server, open_page, javascript, screenshot
):
    """Issue 15 item 31: "No" offers the related articles and "Contact us", which opens the
    brand's request forms with the article carried along as the referrer."""
    page = open_page()
    # An article with related ones (the popular list changes with what earlier tests read).
    page.goto(f"{live_server}/hanbit-pay/en/search?q=password")
    page.locator(".search-hits .hit-title").get_by_role("link").first.click()
    expect(page).to_have_url(re.compile(r"/hanbit-pay/en/articles/\d+-"))
    article_id = re.search(r"/articles/(\d+)-", page.url).group(1)

    vote = page.locator("#vote")
    vote.get_by_role("button", name="No").click()
    expect(page.get_by_text("Thank you for your feedback.")).to_be_visible()
    expect(vote.get_by_text("These articles may help:")).to_be_visible()
    screenshot(page, "after-no")

    page.locator("#vote").get_by_role("link", name="Contact us").click()
    expect(page).to_have_url(re.compile(rf"/hanbit-pay/en/requests/new\?article={article_id}$"))
    page.locator(".form-list").get_by_role("link").first.click()
    expect(page).to_have_url(re.compile(rf"form=\d+&article={article_id}"))
