"""Locale rules: which locales exist, negotiation from cookie and Accept-Language, fallback."""

from collections.abc import Iterable, Sequence

# Locales the UI is translated into, with their own names for the language switcher.
UI_LOCALES = {"en": "English", "ko": "한국어", "ja": "日本語", "sv": "Svenska"}
KNOWN_LOCALES = {**UI_LOCALES, "zh": "中文"}


def base(tag: str) -> str:
    """'ko-KR' -> 'ko', 'sv_SE' -> 'sv'."""
    return (tag or "").replace("_", "-").split("-")[0].strip().lower()


def negotiate(
    enabled: Sequence[str],
    default: str,
    cookie: str | None = None,
    accept: Iterable[tuple[str, float]] = (),
) -> str:
    """Best enabled locale: the cookie, else Accept-Language by quality, else the default."""
    if cookie and cookie in enabled:
        return cookie
    ranked = sorted(((q, -i, tag) for i, (tag, q) in enumerate(accept) if q > 0), reverse=True)
    for _q, _i, tag in ranked:
        tag = tag.lower()
        if tag in enabled:
            return tag
        if base(tag) in enabled:
            return base(tag)
    return default


def fallback_order(wanted: str, default: str, available: Iterable[str]) -> list[str]:
    """Which translation to show: the wanted locale, then the default, then the rest in order."""
    available = list(available)
    order = [loc for loc in (wanted, default) if loc in available]
    order += [loc for loc in available if loc not in order]
    return order


def language_name(locale: str) -> str:
    return KNOWN_LOCALES.get(locale, locale)
