"""/, /<brand>/ and brands served by host name."""


def test_index_lists_active_brands_only(client, make):
    make.brand(slug="alpha", name="Alpha Help")
    make.brand(slug="beta", name="Beta Help")
    make.brand(slug="gamma", name="Gamma Draft", status="draft")
    page = client.get("/")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Alpha Help" in text and "Beta Help" in text
    assert "Gamma Draft" not in text


def test_index_redirects_when_there_is_one_brand(client, make):
    make.brand(slug="only")
    make.brand(slug="hidden", status="suspended")
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/only/"


def test_brand_root_redirects_to_default_locale(client, make):
    make.brand(slug="acme", locales=("sv", "en"))
    response = client.get("/acme/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/acme/sv/"


def test_brand_root_follows_accept_language_quality(client, make):
    make.brand(slug="acme", locales=("ko", "en", "ja"))
    response = client.get("/acme/", headers={"Accept-Language": "fr;q=1, ja;q=0.5, en;q=0.8"})
    assert response.headers["Location"] == "/acme/en/"


def test_brand_root_maps_region_to_language(client, make):
    make.brand(slug="acme", locales=("en", "ko"))
    response = client.get("/acme/", headers={"Accept-Language": "ko-KR,ko;q=0.9"})
    assert response.headers["Location"] == "/acme/ko/"


def test_brand_root_prefers_the_locale_cookie(client, make):
    make.brand(slug="acme", locales=("en", "ko", "ja"))
    client.set_cookie("locale", "ja")
    response = client.get("/acme/", headers={"Accept-Language": "ko"})
    assert response.headers["Location"] == "/acme/ja/"


def test_reading_a_locale_remembers_it_for_the_brand_root(client, make):
    make.brand(slug="acme", locales=("en", "ko"))
    client.get("/acme/ko/")
    assert client.get("/acme/", headers={"Accept-Language": "en"}).headers["Location"] == (
        "/acme/ko/"
    )


def test_unknown_brand_is_404(client, make):
    assert client.get("/nope/").status_code == 404
    assert client.get("/nope/en/").status_code == 404


def test_draft_and_suspended_brands_are_404(client, make):
    make.brand(slug="drafty", status="draft")
    make.brand(slug="stopped", status="suspended")
    for url in ("/drafty/", "/drafty/en/", "/stopped/", "/stopped/en/"):
        assert client.get(url).status_code == 404, url


def test_locale_the_brand_has_not_enabled_is_404(client, make):
    make.brand(slug="acme", locales=("en", "ko"))
    assert client.get("/acme/ja/").status_code == 404
    assert client.get("/acme/xx/").status_code == 404


def test_brand_host_name_serves_locale_paths(client, make):
    brand = make.brand(
        slug="acme", locales=("en", "ko"), hosts=("help.acme.example",), name="Acme Help"
    )
    make.article(
        make.section(make.category(brand)), titles={"en": "Reset your password"}, promoted=True
    )
    home = client.get("/en/", headers={"Host": "help.acme.example"})
    assert home.status_code == 200
    text = home.get_data(as_text=True)
    assert "Acme Help" in text
    assert 'href="/en/articles/' in text  # links stay on the brand's host paths
    assert 'href="/acme/' not in text


def test_brand_host_name_root_redirects_to_best_locale(client, make):
    make.brand(slug="acme", locales=("en", "ko"), hosts=("help.acme.example",))
    root = client.get("/", headers={"Host": "help.acme.example", "Accept-Language": "ko"})
    assert root.status_code == 302 and root.headers["Location"] == "/ko/"


def test_brand_subdomain_of_base_domain_serves_locale_paths(client, make):
    make.brand(slug="acme", locales=("sv", "en"), name="Acme Hjälp")
    response = client.get("/sv/", headers={"Host": "acme.help.test"})
    assert response.status_code == 200
    assert "Acme Hjälp" in response.get_data(as_text=True)


def test_host_of_a_draft_brand_is_not_served(client, make):
    make.brand(slug="acme", locales=("en",), hosts=("help.acme.example",), status="draft")
    assert client.get("/en/", headers={"Host": "help.acme.example"}).status_code == 404
