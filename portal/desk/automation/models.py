"""Automation tables: business hours per brand, and (one section each) the rules, schedules,
notifications, webhooks and translation settings."""

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kb.clock import now
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


# --- schedules (the schedule bot: portal.desk.automation.schedules) ----------------------------


class ScheduleRule(Base):
    """A brand's time-based rule: when a ticket has waited long enough in a state (conditions),
    do something to it (actions), once per wait (ScheduleFiring). Run in `position` order."""

    __tablename__ = "schedule_rules"
    __table_args__ = (
        UniqueConstraint("brand_id", "name"),
        Index("ix_schedule_rules_brand_position", "brand_id", "position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str] = mapped_column(String(120))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # [{"field": "status", "value": ["pending"]}, {"field": "hours_since_agent", "value": 168}]
    conditions: Mapped[list] = mapped_column(JSON, default=list)
    # [{"action": "set_status", "value": "solved"}, {"action": "add_note", "value": "..."}]
    actions: Mapped[list] = mapped_column(JSON, default=list)
    # Count the hours in the brand's business hours (portal.desk.automation.business_hours).
    business_hours: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class ScheduleFiring(Base):
    """A schedule acted on a ticket for the wait that started at `anchor` (the timestamp its
    hours count from): written in the same transaction as the actions, so a second process or
    a rerun after a crash hits the unique key and skips; a wait that starts again (a new
    anchor) can fire again."""

    __tablename__ = "schedule_firings"
    __table_args__ = (UniqueConstraint("schedule_id", "ticket_id", "anchor"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    schedule_id: Mapped[int] = mapped_column(ForeignKey("schedule_rules.id", ondelete="CASCADE"))
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    anchor: Mapped[datetime] = mapped_column(UTCDateTime)
    fired_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
