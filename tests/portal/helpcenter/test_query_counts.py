"""Pages cost a fixed number of SQL queries, however many articles there are (no query per row)."""


def build(make, slug, articles_per_section):
    brand = make.brand(slug=slug, locales=("en", "ko"))
    category = make.category(brand, {"en": "Account", "ko": "계정"})
    sections = [make.section(category, {"en": f"S{n}", "ko": f"섹션{n}"}) for n in range(3)]
    first = None
    for section in sections:
        for n in range(articles_per_section):
            a = make.article(
                section,
                kind=("guide", "faq", "notice")[n % 3],
                promoted=n % 2 == 0,
                labels=("billing",),
                body="## One\n\ntext\n\n## Two\n\nmore",
            )
            first = first or a
    return sections[0], category, first


def pages(slug, section, category, article):
    return {
        "home": f"/{slug}/en/",
        "category": f"/{slug}/en/categories/{category.id}-account",
        "section": f"/{slug}/en/sections/{section.id}-s0",
        "article": f"/{slug}/en/articles/{article.id}-{article.translations[0].slug}",
        "faq": f"/{slug}/en/faq",
        "notices": f"/{slug}/en/notices",
    }


def measure(client, count_queries, urls):
    """Queries of a page rendered afresh (the page cache emptied after a warm-up request)."""
    counts = {}
    for name, url in urls.items():
        client.get(url)  # warm-up
        client.application.extensions["portal.pagecache"].clear()
        with count_queries() as n:
            response = client.get(url)
        assert response.status_code == 200, (name, response.status_code)
        counts[name] = n.count
    return counts


def test_page_query_counts_do_not_grow_with_articles(client, make, count_queries):
    small = measure(client, count_queries, pages("small", *build(make, "small", 9)))
    large = measure(client, count_queries, pages("large", *build(make, "large", 40)))
    assert small == large
    # host lookup (uncached in tests), brand, category tree (4), two queries per list, and
    # the page cache's look-up of the brand's next scheduled change; the article page also
    # reads its files and its labels' names, and counts the reading (one UPDATE)
    assert max(v for k, v in large.items() if k != "article") <= 13, large
    assert large["article"] <= 15, large
