"""Where a redirect may go: only paths on this site."""

from urllib.parse import urlsplit


def safe_next(target: str | None) -> str | None:
    """A same-site relative path, or None (never //host, a scheme, or a backslash trick)."""
    if not target or len(target) > 2000:
        return None
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    if any(ord(ch) < 32 for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target
