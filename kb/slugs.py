"""Slugs: brand slugs are strict ASCII; article, section and category slugs follow their title."""

import re
import unicodedata

BRAND_SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")

# Brand slugs share the first URL segment with the portal's own pages and with locales.
RESERVED_BRAND_SLUGS = frozenset(
    {
        "admin",
        "agent",
        "api",
        "static",
        "login",
        "logout",
        "signup",
        "account",
        "health",
        "favicon.ico",
        "robots.txt",
        "en",
        "ko",
        "ja",
        "sv",
        "zh",
    }
)


def valid_brand_slug(slug: str) -> bool:
    return bool(BRAND_SLUG.match(slug or "")) and slug not in RESERVED_BRAND_SLUGS


def slugify(title: str, max_length: int = 80) -> str:
    """Lower-case words joined by hyphens; letters of any script are kept (결제-수단)."""
    text = unicodedata.normalize("NFKC", title or "").lower()
    text = re.sub(r"[^\w]+", "-", text).strip("-_")
    text = re.sub(r"[-_]+", "-", text)
    return text[:max_length].strip("-") or "item"


def split_id_slug(value: str) -> tuple[int, str] | None:
    """'12-reset-password' -> (12, 'reset-password'); '12' -> (12, ''); junk -> None."""
    head, _, tail = (value or "").partition("-")
    if not head.isascii() or not head.isdigit() or len(head) > 12:
        return None
    return int(head), tail
