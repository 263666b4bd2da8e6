"""Automation tables: business hours per brand, and (one section each) the rules, schedules,
notifications, webhooks and translation settings."""

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, false
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


# --- webhooks ----------------------------------------------------------------------------------


class WebhookTarget(Base):
    """Where a brand's ticket events are posted: a Slack, JANDI or signed-JSON URL, or a
    Telegram bot (its sendMessage URL and a chat id). The URL (which holds Slack's, JANDI's or
    Telegram's token) and the signing secret are sealed at rest (portal.security.sealing);
    `host` is the URL's host, kept plain to show in lists."""

    __tablename__ = "webhook_targets"

    id: Mapped[int] = mapped_column(primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16))  # slack, telegram, jandi, signed
    url: Mapped[str] = mapped_column(Text)  # sealed
    host: Mapped[str] = mapped_column(String(253))
    chat_id: Mapped[str | None] = mapped_column(String(64))  # telegram
    secret: Mapped[str | None] = mapped_column(Text)  # sealed; signed targets only
    events: Mapped[list] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Set by an admin holding "security" everywhere: private and loopback addresses allowed.
    allow_private: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class WebhookDelivery(Base):
    """One post to a target, queued in the transaction of the event that caused it and sent
    by the scheduler leader (portal.desk.automation.deliveries): the queue and, once tried,
    the target's delivery log. The payload is what is posted; URLs, tokens and secrets are
    read from the target at send time and never stored here."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ix_webhook_deliveries_target", "target_id", "id"),
        Index("ix_webhook_deliveries_due", "delivered_at", "failed_at", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("webhook_targets.id", ondelete="CASCADE"))
    event: Mapped[str] = mapped_column(String(32))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"))
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_status: Mapped[int | None] = mapped_column(Integer)  # the HTTP status code
    last_error: Mapped[str | None] = mapped_column(String(500))
    duration_ms: Mapped[int | None] = mapped_column(Integer)
