from kb.slugs import slugify, split_id_slug, valid_brand_slug


def test_brand_slug_is_lowercase_ascii_digits_and_hyphens():
    assert valid_brand_slug("hanbit-pay")
    assert valid_brand_slug("a1")
    assert not valid_brand_slug("Hanbit")
    assert not valid_brand_slug("-lead")
    assert not valid_brand_slug("trail-")
    assert not valid_brand_slug("한빛")
    assert not valid_brand_slug("a_b")
    assert not valid_brand_slug("")


def test_brand_slug_cannot_shadow_portal_paths_or_locales():
    assert not valid_brand_slug("admin")
    assert not valid_brand_slug("static")
    assert not valid_brand_slug("ko")


def test_article_slug_keeps_letters_of_any_script():
    assert slugify("How do I reset my password?") == "how-do-i-reset-my-password"
    assert slugify("결제 수단을 변경하려면") == "결제-수단을-변경하려면"
    assert slugify("Fakturan – så läser du den") == "fakturan-så-läser-du-den"
    assert slugify("!!!") == "item"


def test_id_slug_split():
    assert split_id_slug("12-reset-password") == (12, "reset-password")
    assert split_id_slug("12") == (12, "")
    assert split_id_slug("abc-12") is None
    assert split_id_slug("１２-x") is None  # full-width digits are not an id
    assert split_id_slug("9" * 20) is None
