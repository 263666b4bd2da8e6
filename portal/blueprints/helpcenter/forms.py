"""Forms and query strings of public help-center pages: what a visitor sends, parsed and checked."""

from dataclasses import dataclass
from datetime import datetime

from flask_wtf import FlaskForm
from wtforms import RadioField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired

from kb.helpcenter import HelpCenter
from kb.models import ARTICLE_KINDS
from kb.search import SearchRequest, clean_text
from portal.web.ids import parse_id

MAX_PAGE = 999_999
INSTANT_PER_PAGE = 6  # the dropdown under a search box
PAGE_PER_PAGE = 10


class VoteForm(FlaskForm):
    helpful = RadioField(
        choices=[SelectChoice("yes", "yes"), SelectChoice("no", "no")],
        validators=[InputRequired()],
    )


def page_arg(args) -> int:
    """?page=: a page number from 1; anything else is the first page."""
    return parse_id(args.get("page", "1"), high=MAX_PAGE) or 1


def click_position(args) -> int:
    """?pos= of a search result link: its place in the list (0 when it says nothing usable)."""
    return parse_id(args.get("pos", "0"), high=10_000, low=0) or 0


@dataclass(frozen=True)
class SearchLinks:
    """Query arguments for the links of a search page, each keeping the filters it should."""

    base: dict  # the words and the language choice
    page: dict  # + kind and section: the pages of these results
    kind: dict  # + section: the kind facet's links (their own kind is added per link)
    section: dict  # + kind: the section facet's links


@dataclass(frozen=True)
class SearchQuery:
    """?q=&all=1&kind=&section=&page=&instant=1 of the search page. A value that cannot be used
    is dropped (the filter is off, the first page), never an error page."""

    text: str = ""
    all_languages: bool = False
    kind: str | None = None
    section_id: int | None = None
    page: int = 1
    instant: bool = False  # the dropdown under a search box (htmx only)

    @classmethod
    def from_args(cls, args, htmx: bool = False) -> "SearchQuery":
        kind = args.get("kind")
        return cls(
            text=clean_text(args.get("q")),
            all_languages=args.get("all") == "1",
            kind=kind if kind in ARTICLE_KINDS else None,
            section_id=parse_id(args.get("section", "")),
            page=page_arg(args),
            instant=args.get("instant") == "1" and htmx,
        )

    def request(self, hc: HelpCenter, now: datetime) -> SearchRequest:
        """The index query for this help center (its brand, languages, reader's organization)."""
        return SearchRequest(
            brand_id=hc.brand.id,
            locales=tuple(hc.locales) if self.all_languages else (hc.locale,),
            text=self.text,
            now=now,
            section_id=self.section_id,
            kind=self.kind,
            page=self.page,
            per_page=INSTANT_PER_PAGE if self.instant else PAGE_PER_PAGE,
            org_id=hc.org_id,
            prefix_last=self.instant,
        )

    def links(self, hc: HelpCenter) -> SearchLinks:
        base = {"brand": hc.brand.slug, "locale": hc.locale, "q": self.text}
        if self.all_languages:
            base["all"] = "1"
        kind = {"kind": self.kind} if self.kind else {}
        section = {"section": self.section_id} if self.section_id else {}
        return SearchLinks(
            base=base,
            page={**base, **kind, **section},
            kind={**base, **section},
            section={**base, **kind},
        )
