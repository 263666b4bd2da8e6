"""A brand's help-center theme: colours that stay readable, header links, logo and favicon files.

Flask-free, like the rest of kb/. Checks give error codes per field (portal.web.messages words
them); `apply()` writes a checked theme onto the brand, which kb.changes then counts as a change
to the brand's content (the page cache drops its old pages).

Images are an allow-list on the content (magic bytes) and on the name's extension, both agreeing:
    logo      .png image/png, .jpg/.jpeg image/jpeg, .webp image/webp
    favicon   .png image/png, .ico image/x-icon
SVG is refused: it is a document that can run script, whatever it is called.
"""

from dataclasses import dataclass, field
from pathlib import Path

from kb import attachments, colors
from kb.models import HEX_COLOR, Brand
from kb.weblinks import MAX_HEADER_LINKS, MAX_LINK_LABEL, MAX_LINK_URL, is_http_url

MAX_LOGO_BYTES = 512 * 1024
MAX_FAVICON_BYTES = 100 * 1024
# White text on the primary colour (the header, buttons) and primary links on white: WCAG AA
# for normal text.
MIN_TEXT_CONTRAST = 4.5

LOGO_TYPES = {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "webp": "image/webp"}
FAVICON_TYPES = {"png": "image/png", "ico": "image/x-icon"}
EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp", "image/x-icon": "ico"}


def sniff_image(head: bytes) -> str | None:
    """The image type the first bytes show (of the ones a theme takes), or None."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[:4] == b"\x00\x00\x01\x00" and len(head) >= 6 and head[4:6] != b"\x00\x00":
        return "image/x-icon"  # ICONDIR: reserved 0, type 1 (icon), at least one image
    return None


def image_errors(received: attachments.Received, allowed: dict[str, str], max_bytes: int):
    """(error codes, the type to serve) for an uploaded image: content and name must agree."""
    if received.size == 0:
        return ["empty"], None
    if received.size > max_bytes:
        return ["too_large"], None
    with open(received.tmp, "rb") as f:
        sniffed = sniff_image(f.read(16))
    claimed = allowed.get(attachments.extension(received.name))
    if sniffed is None or claimed != sniffed:
        return ["type_not_allowed"], None
    return [], sniffed


def color_errors(primary: str, accent: str) -> dict[str, list[str]]:
    """Codes for colours that are not #rrggbb, or a primary colour white text cannot sit on."""
    errors: dict[str, list[str]] = {}
    if not HEX_COLOR.match(primary or ""):
        errors["primary_color"] = ["color_invalid"]
    elif colors.contrast(primary, colors.WHITE) < MIN_TEXT_CONTRAST:
        errors["primary_color"] = ["color_unreadable"]
    if not HEX_COLOR.match(accent or ""):
        errors["accent_color"] = ["color_invalid"]
    return errors


def header_link_errors(links: list[tuple[str, str]]) -> tuple[list[dict], dict[int, list[str]]]:
    """The links to keep (rows with neither label nor URL are dropped) and codes per row."""
    kept, errors = [], {}
    for index, (label, url) in enumerate(links):
        label, url = (label or "").strip(), (url or "").strip()
        if not label and not url:
            continue
        codes = []
        if not label:
            codes.append("link_label_required")
        elif len(label) > MAX_LINK_LABEL:
            codes.append("link_label_too_long")
        if len(url) > MAX_LINK_URL or not is_http_url(url):
            codes.append("link_url_invalid")
        if codes:
            errors[index] = codes
        kept.append({"label": label, "url": url})
    if len(kept) > MAX_HEADER_LINKS:
        errors.setdefault(MAX_HEADER_LINKS, []).append("too_many_links")
    return kept, errors


@dataclass
class Theme:
    """What the theme form asks for. Files are uploads already received (not yet kept);
    None keeps the brand's current one unless `remove_*` says to drop it."""

    primary_color: str
    accent_color: str
    header_links: list[tuple[str, str]] = field(default_factory=list)
    logo: attachments.Received | None = None
    remove_logo: bool = False
    favicon: attachments.Received | None = None
    remove_favicon: bool = False


@dataclass
class CheckedTheme:
    theme: Theme
    header_links: list[dict]
    logo_type: str | None
    favicon_type: str | None
    errors: dict = field(
        default_factory=dict
    )  # field name -> codes; "header_links" -> {row: codes}

    @property
    def ok(self) -> bool:
        return not self.errors

    def keep_files(self, uploads_dir: Path) -> None:
        """Moves the new files into place: after the commit that names them."""
        for received in (self.theme.logo, self.theme.favicon):
            if received is not None:
                received.keep(uploads_dir)

    def discard_files(self) -> None:
        for received in (self.theme.logo, self.theme.favicon):
            if received is not None:
                received.discard()


def check(theme: Theme) -> CheckedTheme:
    errors: dict = color_errors(theme.primary_color, theme.accent_color)
    links, link_errors = header_link_errors(theme.header_links)
    if link_errors:
        errors["header_links"] = link_errors
    logo_type = favicon_type = None
    if theme.logo is not None:
        codes, logo_type = image_errors(theme.logo, LOGO_TYPES, MAX_LOGO_BYTES)
        if codes:
            errors["logo"] = codes
    if theme.favicon is not None:
        codes, favicon_type = image_errors(theme.favicon, FAVICON_TYPES, MAX_FAVICON_BYTES)
        if codes:
            errors["favicon"] = codes
    return CheckedTheme(theme, links, logo_type, favicon_type, errors)


def apply(brand: Brand, checked: CheckedTheme) -> dict:
    """Writes a checked theme onto `brand`; answers {field: [before, after]} of what changed."""
    theme = checked.theme
    values = {
        "primary_color": theme.primary_color.lower(),
        "accent_color": theme.accent_color.lower(),
        "header_links": checked.header_links,
    }
    if theme.logo is not None:
        values.update(logo_sha256=theme.logo.sha256, logo_type=checked.logo_type)
    elif theme.remove_logo:
        values.update(logo_sha256=None, logo_type=None, logo_url=None)
    if theme.favicon is not None:
        values.update(favicon_sha256=theme.favicon.sha256, favicon_type=checked.favicon_type)
    elif theme.remove_favicon:
        values.update(favicon_sha256=None, favicon_type=None)
    changed = {}
    for name, value in values.items():
        before = getattr(brand, name)
        if before != value:
            changed[name] = [before, value]
            setattr(brand, name, value)
    return changed


def previewed(brand: Brand, checked: CheckedTheme) -> Brand:
    """A detached copy of `brand` wearing the (unsaved) theme: for a preview, never saved."""
    copy = Brand(**{c.key: getattr(brand, c.key) for c in Brand.__table__.columns})
    apply(copy, checked)
    return copy
