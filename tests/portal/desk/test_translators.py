"""The providers over HTTP against local servers speaking LibreTranslate's and DeepL's wire
format (tests/translation_servers.py): what is sent, what comes back, and every failure as a
named code."""

import pytest

from portal.desk import translators
from portal.desk.translators import DeepL, LibreTranslate, TranslatorError
from tests.translation_servers import DeepLHandler, LibreTranslateHandler, closed_port_url, serve


@pytest.fixture
def libre():
    with serve(LibreTranslateHandler, api_key="lt-key") as server:
        yield server


@pytest.fixture
def deepl():
    with serve(DeepLHandler, api_key="dl-key:fx") as server:
        yield server


def test_libretranslate_translates_a_list_in_order_with_its_wire_format(libre):
    provider = LibreTranslate(libre.url + "/", "lt-key")
    got = provider.translate(["Hello", "Good day"], "en", "ko")
    assert got == ["안녕하세요", "[ko] Good day"]
    sent = libre.calls[-1]
    assert sent == {
        "q": ["Hello", "Good day"],
        "source": "en",
        "target": "ko",
        "format": "text",
        "api_key": "lt-key",
    }


def test_libretranslate_detects_the_source_when_asked(libre):
    provider = LibreTranslate(libre.url, "lt-key")
    assert provider.translate(["카드가 결제되지 않아요. 도와주세요."], "auto", "en") == [
        "My card does not go through. Please help."
    ]
    assert provider.languages() == ["en", "ko", "ja", "sv", "de"]


def test_libretranslate_without_a_key_sends_none():
    with serve(LibreTranslateHandler) as server:
        assert LibreTranslate(server.url).translate(["Hello"], "en", "ko") == ["안녕하세요"]
        assert "api_key" not in server.calls[-1]


@pytest.mark.parametrize(
    ("key", "mode", "target", "code"),
    [
        ("wrong", "ok", "ko", "bad_key"),
        ("lt-key", "quota", "ko", "quota"),
        ("lt-key", "ok", "tlh", "unsupported_language"),
        ("lt-key", "broken", "ko", "failed"),
    ],
)
def test_libretranslate_refusals_are_named(libre, key, mode, target, code):
    libre.mode = mode
    with pytest.raises(TranslatorError) as refused:
        LibreTranslate(libre.url, key).translate(["Hello"], "en", target)
    assert refused.value.code == code


def test_a_provider_that_is_down_or_not_a_translation_server_is_unreachable(libre):
    with pytest.raises(TranslatorError) as down:
        LibreTranslate(closed_port_url(), "k").translate(["Hello"], "en", "ko")
    assert down.value.code == "unreachable"
    with pytest.raises(TranslatorError) as wrong_path:
        LibreTranslate(libre.url + "/nothing-here", "lt-key").translate(["Hello"], "en", "ko")
    assert wrong_path.value.code == "unreachable"


def test_deepl_sends_its_key_in_the_header_and_its_language_codes(deepl):
    provider = DeepL("dl-key:fx", base_url=deepl.url)
    assert provider.translate(["카드가 결제되지 않아요. 도와주세요."], "auto", "en") == [
        "My card does not go through. Please help."
    ]
    call = deepl.calls[-1]
    assert call["auth"] == "DeepL-Auth-Key dl-key:fx"
    assert call["body"] == {"text": ["카드가 결제되지 않아요. 도와주세요."], "target_lang": "EN-US"}
    assert provider.translate(["Hello"], "en", "ko") == ["안녕하세요"]
    assert deepl.calls[-1]["body"] == {"text": ["Hello"], "target_lang": "KO", "source_lang": "EN"}
    assert "ko" in provider.languages()


def test_deepl_addresses_and_codes():
    assert DeepL("k").base_url == "https://api.deepl.com"
    assert DeepL("k", free=True).base_url == "https://api-free.deepl.com"
    assert translators.deepl_language("en", target=True) == "EN-US"
    assert translators.deepl_language("sv", target=True) == "SV"
    assert translators.deepl_language("ja", target=True) == "JA"
    assert translators.deepl_language("pt-BR", target=False) == "PT"


@pytest.mark.parametrize(
    ("key", "mode", "target", "code"),
    [
        ("wrong", "ok", "ko", "bad_key"),
        ("dl-key:fx", "quota", "ko", "quota"),
        ("dl-key:fx", "ok", "tlh", "unsupported_language"),
        ("dl-key:fx", "broken", "ko", "unreachable"),
    ],
)
def test_deepl_refusals_are_named(deepl, key, mode, target, code):
    deepl.mode = mode
    with pytest.raises(TranslatorError) as refused:
        DeepL(key, base_url=deepl.url).translate(["Hello"], "en", target)
    assert refused.value.code == code
