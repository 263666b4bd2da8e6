"""Markdown that tries to run script is shown harmless on the public page."""

import re


def test_markdown_javascript_link_is_inert_on_the_public_page(client, make):
    brand = make.brand(slug="acme", locales=("en",))
    body = (
        "[click me](javascript:alert(document.cookie))\n\n"
        "<script>alert(1)</script>\n\n<img src=x onerror=alert(1)>\n\n"
        "[entity](jav&#x61;script:alert(1)) ![pic](javascript:alert(1))"
    )
    article = make.article(make.section(make.category(brand)), {"en": "Hostile"}, body=body)
    page = client.get(f"/acme/en/articles/{article.id}-hostile").get_data(as_text=True)
    article_html = page[page.index('<div class="article-body">') : page.index("</article>")]
    assert "<script" not in article_html
    assert "<img" not in article_html
    assert 'href="javascript' not in article_html.lower()
    assert "&lt;script&gt;" in article_html


def test_brand_colours_cannot_break_out_of_the_style_block(client, make):
    make.brand(slug="acme", locales=("en",), primary_color="</style", accent_color="red;}*{")
    page = client.get("/acme/en/").get_data(as_text=True)
    block = re.search(r"<style nonce=\"[^\"]+\">(.*?)</style>", page, re.S).group(1)
    assert "</style" not in block
    assert "--accent: #f2a900" in page
    assert "--brand: #1f4e79" in page
