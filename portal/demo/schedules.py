"""The demo's schedule bot: Hanbit Pay solves pending tickets after 7 days without a word from
the customer, and closes solved ones 4 days later."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from kb import clock
from kb.models import Brand
from portal.desk.automation import schedules
from portal.desk.automation.models import ScheduleRule
from portal.desk.automation.schedules import Row

SCHEDULES = {
    "hanbit-pay": [
        (
            "Solve after 7 days",
            [Row("status", "pending"), Row("hours_since_agent", "168")],
            [
                Row("set_status", "solved"),
                Row("add_note", "Solved by the schedule: no answer from the customer for 7 days."),
            ],
        ),
        (
            "Close after 4 days",
            [Row("status", "solved"), Row("hours_since_status", "96")],
            [Row("set_status", "closed")],
        ),
    ]
}


def load(session: Session, brands: dict[str, Brand]) -> None:
    """The schedules of each demo brand present, the ones it already has kept as they are."""
    now = clock.now()
    for slug, rows in SCHEDULES.items():
        brand = brands.get(slug)
        if brand is None:
            continue
        have = set(
            session.scalars(select(ScheduleRule.name).where(ScheduleRule.brand_id == brand.id))
        )
        for name, conditions, actions in rows:
            if name not in have:
                schedules.create(session, brand, name, conditions, actions, now=now)
