"""Mail bodies: HTML made safe or made into readable text, and a reply split from its history."""

import re
from html import escape, unescape
from html.parser import HTMLParser

import nh3

from kb.markdown import safe_url

# What a mail's HTML may keep: structure and emphasis, links, tables, and inline (cid:) images.
ALLOWED_TAGS = {
    "a",
    "abbr",
    "b",
    "blockquote",
    "br",
    "caption",
    "center",
    "code",
    "dd",
    "del",
    "div",
    "dl",
    "dt",
    "em",
    "font",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "img",
    "ins",
    "li",
    "ol",
    "p",
    "pre",
    "q",
    "s",
    "small",
    "span",
    "strike",
    "strong",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "tr",
    "u",
    "ul",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"colspan", "rowspan", "align", "valign"},
    "th": {"colspan", "rowspan", "align", "valign"},
    "table": {"border", "cellpadding", "cellspacing"},
    "ol": {"start"},
    "p": {"align"},
    "div": {"align"},
}
# Removed together with what they hold.
DROPPED_WITH_CONTENT = {"script", "style", "title", "template", "noscript", "object", "iframe"}


# Deeper than this, HTML is read as plain text: the HTML parser's repair work grows with the
# square of the depth, and no mail a person writes nests that far.
MAX_HTML_DEPTH = 400
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9:-]*)[^<>]*?(/?)>")
# Elements that never hold others open: void ones, and those a browser closes by itself
# when the next one starts (a mail full of unclosed <p> is not deep).
_FLAT_TAGS = {
    *("area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"),
    *("track", "wbr", "p", "li", "dt", "dd", "tr", "td", "th", "option", "optgroup"),
    *("tbody", "thead", "tfoot", "colgroup", "html", "head", "body"),
}


def too_deep(html: str) -> bool:
    """Whether the HTML opens more than MAX_HTML_DEPTH elements without closing them."""
    depth = 0
    for match in _TAG.finditer(html):
        closing, name, self_closing = match.groups()
        if closing:
            depth = max(depth - 1, 0)
        elif not self_closing and name.lower() not in _FLAT_TAGS:
            depth += 1
            if depth > MAX_HTML_DEPTH:
                return True
    return False


def _tags_stripped(html: str) -> str:
    return unescape(re.sub(r"<[^<>]*>", " ", html))


def _attribute_filter(tag: str, attr: str, value: str) -> str | None:
    if tag == "img" and attr == "src":
        # A remote image tells the sender when and where the mail was read: only our own
        # inline parts (cid:) are shown.
        return value if value.strip().lower().startswith("cid:") else None
    if attr == "href" and not safe_url(value):
        return None
    return value


_IMAGE_WITHOUT_SOURCE = re.compile(r"<img\b(?![^>]*\bsrc=)[^>]*>")


def sanitize_html(html: str) -> str:
    """The mail's HTML with safe tags only: no scripts, styles, event handlers or remote images.

    HTML nested too deeply to parse safely comes back as its escaped text."""
    if too_deep(html):
        return f"<pre>{escape(_tags_stripped(html))}</pre>"
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        clean_content_tags=DROPPED_WITH_CONTENT,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto", "tel", "cid"},
        link_rel="noopener noreferrer nofollow",
        attribute_filter=_attribute_filter,
        strip_comments=True,
    )
    # nh3 hands back well-formed markup, so an image whose source was dropped is one tag.
    return _IMAGE_WITHOUT_SOURCE.sub("", clean)


_BLOCK_TAGS = {
    "address",
    "article",
    "blockquote",
    "center",
    "dd",
    "div",
    "dl",
    "dt",
    "footer",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hr",
    "li",
    "ol",
    "p",
    "pre",
    "section",
    "table",
    "tr",
    "ul",
}
_PARAGRAPH_TAGS = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol", "blockquote"}
# Tags html_to_text reads; everything else is unwrapped to its text by nh3 first.
_TEXT_TAGS = (_BLOCK_TAGS | {"a", "br", "td", "th", "img"}) - {"address"}


class _TextWriter(HTMLParser):
    """Collects lines of text from (well-formed, sanitised) HTML."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.line: list[str] = []
        self.quote_depth = 0
        self.pre_depth = 0
        self.links: list[str | None] = []
        self.link_text: list[list[str]] = []
        self.list_stack: list[list[int | None]] = []  # [counter or None for bullets]

    def flush(self, blank: bool = False) -> None:
        text = "".join(self.line)
        if not self.pre_depth:
            text = " ".join(text.split())
        self.line = []
        prefix = "> " * self.quote_depth
        if text:
            self.lines.extend(prefix + line for line in text.split("\n"))
        if blank and self.lines and self.lines[-1].strip("> ") != "":
            self.lines.append(prefix.rstrip())

    def write(self, text: str) -> None:
        (self.link_text[-1] if self.link_text else self.line).append(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "br":
            self.flush()
        elif tag in _BLOCK_TAGS:
            self.flush(blank=tag in _PARAGRAPH_TAGS)
        if tag == "blockquote":
            self.quote_depth += 1
        elif tag == "pre":
            self.pre_depth += 1
        elif tag in ("ul", "ol"):
            self.list_stack.append([1 if tag == "ol" else None])
        elif tag == "li":
            counter = self.list_stack[-1] if self.list_stack else [None]
            indent = "  " * max(len(self.list_stack) - 1, 0)
            if counter[0] is None:
                self.write(f"{indent}- ")
            else:
                self.write(f"{indent}{counter[0]}. ")
                counter[0] += 1
        elif tag in ("td", "th"):
            self.write(" ")
        elif tag == "a":
            self.links.append(attrs.get("href"))
            self.link_text.append([])
        elif tag == "img" and attrs.get("alt"):
            self.write(f"[{attrs['alt']}]")

    def handle_endtag(self, tag):
        if tag == "a" and self.links:
            href, text = self.links.pop(), "".join(self.link_text.pop())
            label = " ".join(text.split())
            target = (href or "").removeprefix("mailto:")
            if href and target and target != label and not href.startswith("#"):
                label = f"{label} ({target})" if label else target
            self.write(label)
        elif tag in _BLOCK_TAGS:
            self.flush(blank=tag in _PARAGRAPH_TAGS)
        if tag == "blockquote" and self.quote_depth:
            self.quote_depth -= 1
        elif tag == "pre" and self.pre_depth:
            self.pre_depth -= 1
        elif tag in ("ul", "ol") and self.list_stack:
            self.list_stack.pop()

    def handle_data(self, data):
        self.write(data)

    def text(self) -> str:
        while self.links:
            self.handle_endtag("a")
        self.flush()
        while self.lines and not self.lines[-1].strip("> "):
            self.lines.pop()
        return "\n".join(self.lines).strip("\n")


def html_to_text(html: str) -> str:
    """Readable text: paragraphs, line breaks, list items, quotes as "> ", links as "text (url)"."""
    if too_deep(html):
        return "\n".join(" ".join(line.split()) for line in _tags_stripped(html).splitlines())
    # nh3 (html5ever) reads any HTML as a browser would and hands back well-formed markup,
    # so the small parser below never meets broken or hostile constructs.
    clean = nh3.clean(
        html,
        tags=_TEXT_TAGS,
        clean_content_tags=DROPPED_WITH_CONTENT,
        attributes={"a": {"href"}, "img": {"alt"}},
        url_schemes={"http", "https", "mailto", "tel"},
        link_rel=None,
        strip_comments=True,
    )
    writer = _TextWriter()
    writer.feed(clean)
    writer.close()
    return writer.text()


# ---------------------------------------------------------------------------------------------
# Replies and their history

_SIGNATURE = re.compile(r"^-- ?$")
_SEPARATOR = re.compile(
    r"^\s*-{2,}\s*(Original Message|Ursprungligt meddelande|원본 메시지|Forwarded message|"
    r"Vidarebefordrat meddelande|전달된 메시지)\s*-{2,}\s*$",
    re.IGNORECASE,
)
_ATTRIBUTION_END = re.compile(
    r"(\bwrote|\bskrev|작성|씀|님의 메일)\s*:\s*$|\bskrev\b.{0,200}:\s*$", re.IGNORECASE
)
_ATTRIBUTION_START = re.compile(r"^(On|Den|Am|Le)\b|^\d{4}[-./년]|^\d{1,2}[ ./]", re.IGNORECASE)
_OUTLOOK_FROM = re.compile(r"^\*?\s*(From|Från|보낸 사람|Von|De)\s*:", re.IGNORECASE)
_OUTLOOK_SENT = re.compile(
    r"^\*?\s*(Sent|Skickat|Date|Datum|보낸 날짜|날짜|Gesendet|Envoyé)\s*:", re.IGNORECASE
)
_UNDERSCORES = re.compile(r"^\s*_{10,}\s*$")


def _is_attribution(lines: list[str], i: int) -> bool:
    """ "On <date>, <name> wrote:" (or the Swedish/Korean forms), possibly wrapped on two lines."""
    line = lines[i].strip()
    if len(line) > 300:
        return False
    if _ATTRIBUTION_END.search(line) and (
        _ATTRIBUTION_START.search(line) or "작성" in line or "skrev" in line.lower()
    ):
        return True
    if _ATTRIBUTION_START.search(line) and i + 1 < len(lines):
        following = lines[i + 1].strip()
        return len(following) < 200 and bool(_ATTRIBUTION_END.search(following))
    return False


def _is_outlook_header(lines: list[str], i: int) -> bool:
    """Outlook's "From: ... / Sent: ..." block that starts the quoted message."""
    if not _OUTLOOK_FROM.match(lines[i].strip()):
        return False
    return any(_OUTLOOK_SENT.match(line.strip()) for line in lines[i + 1 : i + 5])


def split_quoted(text: str) -> tuple[str, str]:
    """(what the sender wrote now, the folded rest: quoted history and signature).

    The first part is never empty when the text is not: then everything stays in it."""
    lines = text.split("\n")
    cut = len(lines)
    for i, line in enumerate(lines):
        stripped = line.rstrip("\r")
        if (
            _SIGNATURE.match(stripped)
            or _SEPARATOR.match(stripped)
            or _is_attribution(lines, i)
            or _is_outlook_header(lines, i)
        ):
            cut = i
            break
    # A block of "> " lines at the end (before any marker) is history too; quotes with
    # answers written between them are the answer itself and stay.
    quote_start = cut
    for i in range(cut - 1, -1, -1):
        stripped = lines[i].strip()
        if stripped.startswith(">"):
            quote_start = i
        elif stripped:
            break
    cut = quote_start
    while cut > 0 and (not lines[cut - 1].strip() or _UNDERSCORES.match(lines[cut - 1])):
        cut -= 1
    if cut > 0 and _is_attribution(lines, cut - 1):
        cut -= 1
    now = "\n".join(lines[:cut]).rstrip()
    if not now.strip():
        return text, ""
    return now, "\n".join(lines[cut:]).strip("\n")
