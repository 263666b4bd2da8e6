"""The content model: Organization -> Brand -> Category -> Section -> Article -> Translation."""

import re
from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kb import colors, weblinks
from kb.clock import now
from kb.db import Base, UTCDateTime
from kb.people import User

HEX_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
BRAND_STATUSES = ("draft", "active", "suspended")
ARTICLE_KINDS = ("guide", "faq", "notice", "event")
TRANSLATION_STATUSES = ("draft", "published", "archived")


class Organization(Base):
    __tablename__ = "organizations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    # The back office's top bar (admin and agent pages): a name and a logo instead of "Portal".
    backoffice_name: Mapped[str | None] = mapped_column(String(200))
    backoffice_logo_sha256: Mapped[str | None] = mapped_column(String(64))
    backoffice_logo_type: Mapped[str | None] = mapped_column(String(32))

    brands: Mapped[list["Brand"]] = relationship(back_populates="organization")


class Brand(Base):
    __tablename__ = "brands"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    slug: Mapped[str] = mapped_column(String(63), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    tagline: Mapped[dict] = mapped_column(JSON, default=dict)  # locale -> text
    default_locale: Mapped[str] = mapped_column(String(16))
    locales: Mapped[list] = mapped_column(JSON, default=list)  # enabled, in display order
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    logo_url: Mapped[str | None] = mapped_column(String(500))
    primary_color: Mapped[str] = mapped_column(String(7), default="#1f4e79")
    accent_color: Mapped[str] = mapped_column(String(7), default="#f2a900")
    # The help center's own logo and favicon, uploaded (kb.theme): stored by content hash in
    # the uploads folder with the type we serve them as. An uploaded logo wins over logo_url.
    logo_sha256: Mapped[str | None] = mapped_column(String(64))
    logo_type: Mapped[str | None] = mapped_column(String(32))
    favicon_sha256: Mapped[str | None] = mapped_column(String(64))
    favicon_type: Mapped[str | None] = mapped_column(String(32))
    # Up to kb.theme.MAX_HEADER_LINKS {"label", "url"} pairs shown in the help center's header.
    header_links: Mapped[list | None] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="draft")
    # Shared secret (HS256) for single sign-on from the brand's own site: /<brand>/access/jwt.
    jwt_secret: Mapped[str | None] = mapped_column(String(200))
    # Bumped in the same transaction as any change to the brand's content (kb.changes).
    content_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    # Ticket files are removed this many days after their ticket closed (None: kept forever).
    attachment_retention_days: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    organization: Mapped[Organization] = relationship(back_populates="brands")
    hosts: Mapped[list["BrandHost"]] = relationship(
        back_populates="brand", cascade="all, delete-orphan"
    )

    @property
    def is_public(self) -> bool:
        return self.status == "active"

    @property
    def colors(self) -> tuple[str, str]:
        """Primary and accent colours, safe to put into CSS (defaults when malformed)."""
        return (
            self.primary_color if HEX_COLOR.match(self.primary_color or "") else "#1f4e79",
            self.accent_color if HEX_COLOR.match(self.accent_color or "") else "#f2a900",
        )

    @property
    def focus_color(self) -> str:
        """The outline of whatever has keyboard focus: the accent, dark enough to see on the
        page, the lighter surfaces and the search band (3:1)."""
        primary, accent = self.colors
        return colors.focus_color(accent, (colors.WHITE, colors.SOFT, colors.search_band(primary)))

    @property
    def safe_header_links(self) -> list[dict]:
        """The header links fit to show: http(s) only, checked again at every read (a row
        written by hand or by an older version cannot put a javascript: link in the header)."""
        return weblinks.shown_header_links(self.header_links)


class BrandHost(Base):
    """A host name that serves one brand's help center at /<locale>/..."""

    __tablename__ = "brand_hosts"

    id: Mapped[int] = mapped_column(primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"), index=True)
    host: Mapped[str] = mapped_column(String(253), unique=True)

    brand: Mapped[Brand] = relationship(back_populates="hosts")


class Category(Base):
    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)

    translations: Mapped[list["CategoryTranslation"]] = relationship(
        back_populates="category", cascade="all, delete-orphan"
    )
    sections: Mapped[list["Section"]] = relationship(
        back_populates="category", order_by="Section.position"
    )


class CategoryTranslation(Base):
    __tablename__ = "category_translations"
    __table_args__ = (UniqueConstraint("category_id", "locale"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id", ondelete="CASCADE"))
    locale: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    slug: Mapped[str] = mapped_column(String(100))

    category: Mapped[Category] = relationship(back_populates="translations")


class Section(Base):
    __tablename__ = "sections"

    id: Mapped[int] = mapped_column(primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"), index=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    # "everyone", or "organizations": only members of the chosen customer organizations see
    # the section and its articles (in lists, search and by URL).
    audience: Mapped[str] = mapped_column(String(16), default="everyone", server_default="everyone")

    category: Mapped[Category] = relationship(back_populates="sections")
    translations: Mapped[list["SectionTranslation"]] = relationship(
        back_populates="section", cascade="all, delete-orphan"
    )
    # Loaded only for restricted sections (public ones never need it).
    organizations: Mapped[list["SectionOrganization"]] = relationship(cascade="all, delete-orphan")

    @property
    def organization_ids(self) -> list[int]:
        return sorted(o.organization_id for o in self.organizations)


class SectionOrganization(Base):
    """A customer organization whose members may read a restricted section."""

    __tablename__ = "section_organizations"

    section_id: Mapped[int] = mapped_column(
        ForeignKey("sections.id", ondelete="CASCADE"), primary_key=True
    )
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("customer_organizations.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class SectionTranslation(Base):
    __tablename__ = "section_translations"
    __table_args__ = (UniqueConstraint("section_id", "locale"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    section_id: Mapped[int] = mapped_column(ForeignKey("sections.id", ondelete="CASCADE"))
    locale: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    slug: Mapped[str] = mapped_column(String(100))

    section: Mapped[Section] = relationship(back_populates="translations")


class Article(Base):
    __tablename__ = "articles"
    __table_args__ = (
        Index("ix_articles_section_position", "section_id", "position", "id"),
        Index("ix_articles_brand_kind", "brand_id", "kind"),
        Index("ix_articles_brand_promoted", "brand_id", "promoted"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"))
    section_id: Mapped[int] = mapped_column(ForeignKey("sections.id"))
    kind: Mapped[str] = mapped_column(String(16), default="guide")
    promoted: Mapped[bool] = mapped_column(Boolean, default=False)
    position: Mapped[int] = mapped_column(Integer, default=0)
    source_locale: Mapped[str] = mapped_column(String(16))
    event_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    section: Mapped[Section] = relationship()
    translations: Mapped[list["Translation"]] = relationship(
        back_populates="article", cascade="all, delete-orphan"
    )
    labels: Mapped[list["ArticleLabel"]] = relationship(
        cascade="all, delete-orphan", order_by="ArticleLabel.name"
    )

    @property
    def label_names(self) -> list[str]:
        return [label.name for label in self.labels]


class ArticleLabel(Base):
    __tablename__ = "article_labels"
    __table_args__ = (UniqueConstraint("article_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(64), index=True)


class Translation(Base):
    """One article in one locale: what a visitor reads."""

    __tablename__ = "translations"
    __table_args__ = (
        UniqueConstraint("article_id", "locale"),
        # For "when does the next scheduled change happen" (page cache expiry, scheduler).
        Index("ix_translations_publish_at", "publish_at"),
        Index("ix_translations_unpublish_at", "unpublish_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    locale: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(300))
    slug: Mapped[str] = mapped_column(String(100))
    body_md: Mapped[str] = mapped_column(Text, default="")
    body_html: Mapped[str] = mapped_column(Text, default="")  # rendered once, at save time
    toc: Mapped[list] = mapped_column(JSON, default=list)  # [[level, anchor, text], ...]
    status: Mapped[str] = mapped_column(String(16), default="draft")
    publish_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    unpublish_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Bumped at every save; an editor's save names the version it started from (conflicts).
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    # The source-language version this translation was last saved against ("outdated" marker).
    source_version: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now, onupdate=now)

    article: Mapped[Article] = relationship(back_populates="translations")
    author: Mapped[User | None] = relationship()


class ArticleVote(Base):
    """A visitor's answer to "was this article helpful?"."""

    __tablename__ = "article_votes"

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), index=True
    )
    locale: Mapped[str] = mapped_column(String(16))
    helpful: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)


class Revision(Base):
    """A saved state of a translation: who saved what, when."""

    __tablename__ = "revisions"
    __table_args__ = (UniqueConstraint("translation_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    translation_id: Mapped[int] = mapped_column(
        ForeignKey("translations.id", ondelete="CASCADE"), index=True
    )
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    slug: Mapped[str] = mapped_column(String(100))
    body_md: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16))
    publish_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    unpublish_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    author: Mapped[User | None] = relationship()


class Attachment(Base):
    """A file uploaded to an article: for one translation (locale set) or for all (locale None).

    The bytes live under instance/uploads/ by content hash; the client's name is metadata only.
    """

    __tablename__ = "attachments"
    __table_args__ = (Index("ix_attachments_article_locale", "article_id", "locale"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"), index=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    locale: Mapped[str | None] = mapped_column(String(16))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)


class SchedulerLease(Base):
    """Which process runs the scheduler: one row per lease name, renewed while the holder lives."""

    __tablename__ = "scheduler_leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    acquired_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)


class PublishEvent(Base):
    """A scheduled publish or unpublish whose side effects ran (at most once: unique key)."""

    __tablename__ = "publish_events"
    __table_args__ = (UniqueConstraint("translation_id", "action", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    translation_id: Mapped[int] = mapped_column(
        ForeignKey("translations.id", ondelete="CASCADE"), index=True
    )
    action: Mapped[str] = mapped_column(String(16))  # publish or unpublish
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    done_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    holder: Mapped[str] = mapped_column(String(200), default="")


class SearchLog(Base):
    """One search as typed in a help center: no visitor, address or account is recorded."""

    __tablename__ = "search_logs"
    __table_args__ = (Index("ix_search_logs_brand_created", "brand_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"))
    locale: Mapped[str] = mapped_column(String(16))
    query: Mapped[str] = mapped_column(String(200))
    results: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)


class SearchClick(Base):
    """A result opened from a search."""

    __tablename__ = "search_clicks"

    id: Mapped[int] = mapped_column(primary_key=True)
    search_id: Mapped[int] = mapped_column(
        ForeignKey("search_logs.id", ondelete="CASCADE"), index=True
    )
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)


class ArticleViewCount(Base):
    """How often an article was opened in one locale's help center on one day (UTC): "popular"
    per locale. One row per article, locale and day, counted up; no visitor data."""

    __tablename__ = "article_view_counts"
    __table_args__ = (
        Index("ix_article_view_counts_brand_locale_day", "brand_id", "locale", "day"),
    )

    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True
    )
    locale: Mapped[str] = mapped_column(String(16), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"))
    views: Mapped[int] = mapped_column(Integer, default=0)


class LabelName(Base):
    """What customers read for an article label in one locale. A label without a name in the
    page's locale stays internal there (editors' slugs are not for customers)."""

    __tablename__ = "label_names"
    __table_args__ = (UniqueConstraint("brand_id", "label", "locale"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"))
    label: Mapped[str] = mapped_column(String(64))  # ArticleLabel.name
    locale: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(64))
