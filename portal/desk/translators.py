"""Machine translation providers: a LibreTranslate server (the self-hosted open-source one, or
any server speaking its API) and DeepL, behind one interface.

`Translator.translate(texts, source, target)` gives one translated text per text, in order
(`source` "auto" lets the provider detect it); `languages()` the codes it can translate to.
Every failure is a TranslatorError whose `code` names it in the agent's words: unreachable
(down, timed out, not a translation server), bad_key (403), quota (429, DeepL's 456),
unsupported_language, failed (any other refusal). Requests go out with short timeouts, so a
provider that hangs costs the agent seconds, not a stuck page.
"""

import requests

# `requests` is read only when a request goes out (no annotations name it): a script run from
# tests/portal (the scheduler's worker) finds the tests' own `requests` package first.
TIMEOUT = (3, 15)  # seconds: to connect, to read

NONE = "none"
LIBRETRANSLATE = "libretranslate"
DEEPL = "deepl"
PROVIDERS = (NONE, LIBRETRANSLATE, DEEPL)

DEEPL_URL = "https://api.deepl.com"
DEEPL_FREE_URL = "https://api-free.deepl.com"

# Our locales as DeepL writes target languages (English and Portuguese need a variant).
_DEEPL_TARGETS = {"en": "EN-US", "pt": "PT-BR", "zh": "ZH-HANS"}


class TranslatorError(Exception):
    """The provider did not translate: `code` (unreachable, bad_key, quota,
    unsupported_language, failed) and what it said (`detail`, for the log and the admin)."""

    def __init__(self, code: str, detail: str = ""):
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail


class Translator:
    """What every provider does."""

    name = ""

    def translate(self, texts: list[str], source: str, target: str) -> list[str]:
        raise NotImplementedError

    def languages(self) -> list[str]:
        raise NotImplementedError


def _post(url: str, **kwargs):
    try:
        return requests.post(url, timeout=TIMEOUT, **kwargs)
    except requests.RequestException as error:
        raise TranslatorError("unreachable", type(error).__name__) from error


def _json(response):
    try:
        return response.json()
    except ValueError as error:
        raise TranslatorError("unreachable", "not JSON") from error


class LibreTranslate(Translator):
    """A LibreTranslate server at `url` (e.g. http://translate.internal:5000), with the API key
    it asks for, if any."""

    name = LIBRETRANSLATE

    def __init__(self, url: str, api_key: str = ""):
        self.url = url.rstrip("/")
        self.api_key = api_key

    def _error(self, response) -> TranslatorError:
        try:
            said = str(response.json().get("error") or "")
        except (ValueError, AttributeError):
            said = response.text[:200]
        if response.status_code == 403:
            return TranslatorError("bad_key", said)
        if response.status_code == 429:
            return TranslatorError("quota", said)
        if response.status_code == 400 and ("supported" in said or "language" in said.lower()):
            return TranslatorError("unsupported_language", said)
        if response.status_code in (404, 405, 502, 503, 504):
            return TranslatorError("unreachable", f"{response.status_code} {said}")
        return TranslatorError("failed", f"{response.status_code} {said}")

    def translate(self, texts: list[str], source: str, target: str) -> list[str]:
        if not texts:
            return []
        payload = {"q": list(texts), "source": source or "auto", "target": target}
        payload["format"] = "text"
        if self.api_key:
            payload["api_key"] = self.api_key
        response = _post(f"{self.url}/translate", json=payload)
        if response.status_code != 200:
            raise self._error(response)
        found = _json(response)
        translated = found.get("translatedText") if isinstance(found, dict) else None
        if isinstance(translated, str):
            translated = [translated]
        if not isinstance(translated, list) or len(translated) != len(texts):
            raise TranslatorError("failed", "unexpected answer")
        return [str(t) for t in translated]

    def languages(self) -> list[str]:
        try:
            response = requests.get(f"{self.url}/languages", timeout=TIMEOUT)
        except requests.RequestException as error:
            raise TranslatorError("unreachable", type(error).__name__) from error
        if response.status_code != 200:
            raise self._error(response)
        found = _json(response)
        if not isinstance(found, list):
            raise TranslatorError("failed", "unexpected answer")
        return [str(item.get("code")) for item in found if isinstance(item, dict)]


def deepl_language(locale: str, *, target: bool) -> str:
    """Our locale ("en", "ko", "pt-BR") as DeepL writes it ("EN-US", "KO"); sources take the
    bare language."""
    base = locale.replace("_", "-").split("-")[0].lower()
    if target:
        return _DEEPL_TARGETS.get(base, base.upper())
    return base.upper()


class DeepL(Translator):
    """DeepL's API (v2) with an authentication key; `free`: the Free API's address. `base_url`
    replaces the address (a DeepL-compatible proxy, or a local server in tests)."""

    name = DEEPL

    def __init__(self, api_key: str, free: bool = False, base_url: str | None = None):
        self.api_key = api_key
        self.base_url = (base_url or (DEEPL_FREE_URL if free else DEEPL_URL)).rstrip("/")

    def _headers(self) -> dict:
        return {"Authorization": f"DeepL-Auth-Key {self.api_key}"}

    def _error(self, response) -> TranslatorError:
        try:
            said = str(response.json().get("message") or "")
        except (ValueError, AttributeError):
            said = response.text[:200]
        if response.status_code in (401, 403):
            return TranslatorError("bad_key", said)
        if response.status_code in (429, 456):
            return TranslatorError("quota", said)
        if response.status_code == 400 and "lang" in said.lower():
            return TranslatorError("unsupported_language", said)
        if response.status_code >= 500 or response.status_code in (404, 405):
            return TranslatorError("unreachable", f"{response.status_code} {said}")
        return TranslatorError("failed", f"{response.status_code} {said}")

    def translate(self, texts: list[str], source: str, target: str) -> list[str]:
        if not texts:
            return []
        payload = {"text": list(texts), "target_lang": deepl_language(target, target=True)}
        if source and source != "auto":
            payload["source_lang"] = deepl_language(source, target=False)
        response = _post(f"{self.base_url}/v2/translate", json=payload, headers=self._headers())
        if response.status_code != 200:
            raise self._error(response)
        found = _json(response)
        rows = found.get("translations") if isinstance(found, dict) else None
        if not isinstance(rows, list) or len(rows) != len(texts):
            raise TranslatorError("failed", "unexpected answer")
        return [str(row.get("text", "")) for row in rows]

    def languages(self) -> list[str]:
        try:
            response = requests.get(
                f"{self.base_url}/v2/languages",
                params={"type": "target"},
                headers=self._headers(),
                timeout=TIMEOUT,
            )
        except requests.RequestException as error:
            raise TranslatorError("unreachable", type(error).__name__) from error
        if response.status_code != 200:
            raise self._error(response)
        found = _json(response)
        if not isinstance(found, list):
            raise TranslatorError("failed", "unexpected answer")
        return [str(item.get("language", "")).lower() for item in found if isinstance(item, dict)]
