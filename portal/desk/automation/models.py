"""Automation tables: business hours per brand, and (one section each) the rules, schedules,
notifications, webhooks and translation settings."""

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
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


# --- customer notifications --------------------------------------------------------------------


class CustomerNotification(Base):
    """Whether a brand mails its requesters one kind of notification (received, agent_replied,
    pending_reminder, solved, closed). A brand without a row for a kind keeps the built-in
    default (portal.desk.automation.notifications.DEFAULT_ON)."""

    __tablename__ = "customer_notifications"
    __table_args__ = (UniqueConstraint("brand_id", "kind", name="uq_customer_notifications"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    enabled: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class NotificationTemplate(Base):
    """A brand's wording of one kind of notification in one language: a subject and a plain
    text body with placeholders ({{requester_name}}, ...: portal.desk.placeholders). Without
    one, the brand's default language's is used, else the built-in text."""

    __tablename__ = "notification_templates"
    __table_args__ = (
        UniqueConstraint("brand_id", "kind", "locale", name="uq_notification_templates"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    locale: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(String(300), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
