"""Markdown to safe HTML: markdown-it-py renders, a link allow-list and nh3 make it harmless."""

import html
import re
import unicodedata
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import nh3
from markdown_it import MarkdownIt
from mdit_py_plugins.anchors import anchors_plugin
from mdit_py_plugins.tasklists import tasklists_plugin

MAX_BODY_CHARS = 200_000
SAFE_SCHEMES = {"http", "https", "mailto", "tel"}

ALLOWED_TAGS = {
    "a",
    "abbr",
    "b",
    "blockquote",
    "br",
    "code",
    "del",
    "em",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "img",
    "input",
    "kbd",
    "li",
    "ol",
    "p",
    "pre",
    "s",
    "strong",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "tr",
    "ul",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title", "rel"},
    "img": {"src", "alt", "title", "width", "height"},
    "code": {"class"},
    "input": {"type", "checked", "disabled"},
    "li": {"class"},
    "ul": {"class"},
    "th": {"style"},
    "td": {"style"},
    **{f"h{n}": {"id"} for n in range(1, 7)},
}
_SAFE_STYLE = re.compile(r"^text-align:(left|right|center)$")
_CONTROL = re.compile(r"[\x00-\x20\x7f-\x9f]+")


class MarkdownError(ValueError):
    """The text cannot be rendered (too long, or the parser failed)."""


@dataclass
class Rendered:
    html: str
    toc: list = field(default_factory=list)  # [level, anchor, text]
    text: str = ""


def safe_url(url: str) -> bool:
    """http(s), mailto, tel or relative, judged after entity decoding and control stripping."""
    decoded = _CONTROL.sub("", unicodedata.normalize("NFKC", html.unescape(url or "")))
    if decoded.startswith("//"):
        return True  # protocol-relative: http(s) of the page
    scheme = urlsplit(decoded).scheme.lower() if ":" in decoded.split("/")[0] else ""
    return scheme == "" or scheme in SAFE_SCHEMES


def _slugify_heading(text: str) -> str:
    slug = re.sub(r"[^\w\- ]+", "", unicodedata.normalize("NFKC", text).lower()).strip()
    return re.sub(r"\s+", "-", slug) or "section"


def _build() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable(["table", "strikethrough"])
    md.use(anchors_plugin, min_level=2, max_level=3, slug_func=_slugify_heading)
    md.use(tasklists_plugin)
    md.validateLink = safe_url

    def link_open(renderer, tokens, idx, options, env):
        token = tokens[idx]
        href = token.attrGet("href") or ""
        if urlsplit(href).scheme in ("http", "https") or href.startswith("//"):
            token.attrSet("rel", "noopener noreferrer nofollow")
        return renderer.renderToken(tokens, idx, options, env)

    md.add_render_rule("link_open", link_open)
    return md


_MD = _build()


def _attribute_filter(tag: str, attr: str, value: str) -> str | None:
    if attr in ("href", "src") and not safe_url(value):
        return None
    if attr == "style" and not _SAFE_STYLE.match(value.replace(" ", "")):
        return None
    if tag == "input" and attr == "type" and value != "checkbox":
        return None
    if attr == "class" and not re.fullmatch(r"[\w\- ]{1,80}", value):
        return None
    return value


def sanitise(raw_html: str) -> str:
    return nh3.clean(
        raw_html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=SAFE_SCHEMES,
        link_rel=None,
        attribute_filter=_attribute_filter,
        strip_comments=True,
    )


def _plain_text(tokens) -> str:
    parts = []
    for token in tokens:
        if token.type == "inline":
            parts.extend(
                c.content for c in token.children or () if c.type in ("text", "code_inline")
            )
        elif token.type in ("code_block", "fence"):
            parts.append(token.content)
        if token.type.endswith("_close") and token.block:
            parts.append("\n")
    return " ".join(parts)


def render(source: str) -> Rendered:
    """Render Markdown once (at save time) into sanitised HTML, a table of contents and text."""
    if len(source or "") > MAX_BODY_CHARS:
        raise MarkdownError(f"The text is longer than {MAX_BODY_CHARS} characters.")
    try:
        tokens = _MD.parse(source or "")
        raw = _MD.renderer.render(tokens, _MD.options, {})
    except Exception as exc:  # markdown-it raises plain exceptions on pathological input
        raise MarkdownError("The text could not be rendered as Markdown.") from exc
    toc = []
    for i, token in enumerate(tokens):
        if token.type == "heading_open" and token.tag in ("h2", "h3"):
            inline = tokens[i + 1]
            toc.append([int(token.tag[1]), token.attrGet("id") or "", inline.content])
    text = " ".join(_plain_text(tokens).split())
    return Rendered(html=sanitise(raw), toc=toc, text=text)
