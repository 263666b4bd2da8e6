from kb.locales import base, fallback_order, negotiate

ENABLED = ["ko", "en", "ja"]


def test_cookie_wins_when_enabled():
    assert negotiate(ENABLED, "ko", cookie="ja", accept=[("en", 1.0)]) == "ja"


def test_cookie_for_a_locale_the_brand_lacks_is_ignored():
    assert negotiate(ENABLED, "ko", cookie="sv", accept=[("en", 1.0)]) == "en"


def test_accept_language_follows_quality_not_order():
    accept = [("sv", 1.0), ("ja", 0.4), ("en", 0.8)]
    assert negotiate(ENABLED, "ko", accept=accept) == "en"


def test_region_tag_falls_back_to_its_language():
    assert negotiate(ENABLED, "en", accept=[("ko-KR", 1.0)]) == "ko"


def test_quality_zero_means_not_acceptable():
    assert negotiate(ENABLED, "ko", accept=[("en", 0.0)]) == "ko"


def test_nothing_matching_gives_the_brand_default():
    assert negotiate(["sv", "en"], "sv", accept=[("de-DE", 1.0), ("fr", 0.5)]) == "sv"


def test_base_language_of_tags():
    assert base("ko-KR") == "ko"
    assert base("sv_SE") == "sv"
    assert base("EN") == "en"


def test_fallback_prefers_wanted_then_default_then_others():
    assert fallback_order("ja", "ko", ["en", "ko", "ja"]) == ["ja", "ko", "en"]
    assert fallback_order("ja", "ko", ["en", "ko"]) == ["ko", "en"]
    assert fallback_order("ja", "ko", ["en"]) == ["en"]
    assert fallback_order("ja", "ko", []) == []
