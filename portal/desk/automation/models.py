"""Automation tables: business hours per brand, and (one section each) the rules, schedules,
notifications, webhooks and translation settings."""

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kb.db import Base, UTCDateTime

# --- business hours ----------------------------------------------------------------------------


class BusinessHours(Base):
    """When a brand's desk works, in the brand's time zone (Brand.timezone): opening hours per
    weekday and the days it is closed. A brand without a row works the default week
    (portal.desk.automation.business_hours.DEFAULT_WEEK)."""

    __tablename__ = "business_hours"

    brand_id: Mapped[int] = mapped_column(
        ForeignKey("brands.id", ondelete="CASCADE"), primary_key=True
    )
    # {"0": [["09:00", "18:00"]], ..., "6": []}: Monday is "0"; several spans a day allowed.
    week: Mapped[dict] = mapped_column(JSON, default=dict)
    holidays: Mapped[list] = mapped_column(JSON, default=list)  # ["2026-12-25", ...]


# --- translation -------------------------------------------------------------------------------


class TranslationSettings(Base):
    """The organization's machine translation provider (one row, id 1; none: no translation
    buttons anywhere). The API key is sealed (portal.security.sealing), never shown back."""

    __tablename__ = "translation_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(20), default="none")  # none, libretranslate, deepl
    url: Mapped[str] = mapped_column(String(500), default="")  # LibreTranslate's address
    api_key: Mapped[str] = mapped_column(Text, default="")  # sealed
    deepl_free: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class MessageTranslation(Base):
    """A ticket message in another language, kept so a second look costs no provider call.
    `original`: the agent's own text of a reply sent translated (the message's body is what the
    customer got); agents only, never shown to the customer."""

    __tablename__ = "message_translations"
    __table_args__ = (
        Index("ix_message_translations_message", "ticket_message_id", "language", "original"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_message_id: Mapped[int] = mapped_column(
        ForeignKey("ticket_messages.id", ondelete="CASCADE")
    )
    language: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    provider: Mapped[str] = mapped_column(String(20))
    original: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
