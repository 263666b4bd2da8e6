"""Business hours: open or closed at a moment in the brand's zone, and working hours between
two moments (across nights, weekends, holidays and a DST change)."""

from datetime import UTC, datetime

import pytest

from portal.desk.automation import business_hours as bh
from portal.desk.automation.models import BusinessHours

SEOUL_WEEK = bh.parse_week(bh.DEFAULT_WEEK)


def calendar(zone="Asia/Seoul", week=None, holidays=()):
    from zoneinfo import ZoneInfo

    return bh.Calendar(
        zone=ZoneInfo(zone),
        week=bh.parse_week(week or bh.DEFAULT_WEEK),
        holidays=bh.parse_holidays(list(holidays)),
    )


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_ten_in_the_morning_in_seoul_is_open_and_ten_at_night_is_not():
    cal = calendar()
    assert bh.is_open(cal, utc(2026, 12, 7, 1, 0))  # Monday 10:00 in Seoul
    assert not bh.is_open(cal, utc(2026, 12, 7, 13, 0))  # Monday 22:00 in Seoul


def test_saturday_and_a_holiday_are_closed():
    cal = calendar(holidays=["2026-12-25"])
    assert not bh.is_open(cal, utc(2026, 12, 5, 1, 0))  # Saturday 10:00
    assert not bh.is_open(cal, utc(2026, 12, 25, 1, 0))  # Friday 10:00, Christmas


def test_hours_between_friday_evening_and_monday_noon_count_only_working_time():
    cal = calendar()
    friday_five_pm = utc(2026, 12, 4, 8, 0)  # 17:00 Seoul
    monday_noon = utc(2026, 12, 7, 3, 0)  # 12:00 Seoul
    assert bh.hours_between(cal, friday_five_pm, monday_noon) == pytest.approx(1 + 3)
    assert bh.hours_between(None, friday_five_pm, monday_noon) == pytest.approx(67)


def test_hours_between_a_holiday_week_skips_the_holiday():
    cal = calendar(holidays=["2026-12-25"])
    monday, next_monday = utc(2026, 12, 21, 0, 0), utc(2026, 12, 28, 0, 0)
    assert bh.hours_between(cal, monday, next_monday) == pytest.approx(4 * 9)


def test_a_dst_change_counts_the_hours_the_clock_really_worked():
    # Stockholm, last Sunday of March: a shop open all Sunday worked 23 hours that day.
    week = {str(d): [["00:00", "24:00"]] for d in range(7)}
    cal = calendar("Europe/Stockholm", week)
    day_start, day_end = utc(2026, 3, 28, 23, 0), utc(2026, 3, 29, 22, 0)
    assert bh.hours_between(cal, day_start, day_end) == pytest.approx(23)


@pytest.mark.parametrize(
    ("week", "code"),
    [
        ({"0": [["18:00", "09:00"]]}, "span_backwards"),
        ({"0": [["9", "18:00"]]}, "bad_time"),
        ({"0": [["09:00"]]}, "bad_span"),
    ],
)
def test_a_malformed_week_is_refused_with_its_reason(week, code):
    with pytest.raises(bh.HoursError) as refused:
        bh.parse_week(week)
    assert refused.value.code == code


def test_a_brand_without_hours_works_the_default_week_in_its_zone(ctx, make):
    brand = make.brand(timezone="Europe/Stockholm")
    cal = bh.calendar_for(ctx, brand)
    assert str(cal.zone) == "Europe/Stockholm"
    assert bh.is_open(cal, utc(2026, 12, 7, 9, 0))  # Monday 10:00 in Stockholm
    ctx.add(BusinessHours(brand_id=brand.id, week={"0": [["12:00", "13:00"]]}, holidays=[]))
    ctx.flush()
    assert not bh.is_open(bh.calendar_for(ctx, brand), utc(2026, 12, 7, 9, 0))
