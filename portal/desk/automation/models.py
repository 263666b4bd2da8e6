"""Automation tables: business hours per brand, and (one section each) the rules, schedules,
notifications, webhooks and translation settings."""

from sqlalchemy import JSON, ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from kb.db import Base

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
