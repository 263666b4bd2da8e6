"""Links to other sites that a brand puts in its help center's header: http(s) only."""

from urllib.parse import urlsplit

MAX_HEADER_LINKS = 5
MAX_LINK_LABEL = 40
MAX_LINK_URL = 500


def is_http_url(url: str) -> bool:
    """An absolute http or https URL with a host, nothing around it (no javascript:, data:,
    protocol-relative or relative links)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc) and url == url.strip()


def shown_header_links(links) -> list[dict]:
    """Stored links fit to show, whatever is stored: http(s), with a label, at most five."""
    shown = []
    for link in links or []:
        if not isinstance(link, dict):
            continue
        label, url = str(link.get("label") or ""), str(link.get("url") or "")
        if label and len(url) <= MAX_LINK_URL and is_http_url(url):
            shown.append({"label": label[:MAX_LINK_LABEL], "url": url})
    return shown[:MAX_HEADER_LINKS]
