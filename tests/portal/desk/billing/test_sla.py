"""The SLA's monthly uptime (MUP) and credits: the month in the organization's zone (DST months
and leap years), major and partial minutes, maintenance and excluded causes left out, credit
bands at their exact edges, and credits in minor units rounded half up."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from portal.desk.billing import money
from portal.desk.billing.sla import MAJOR, PARTIAL, Outage, monthly_uptime

SEOUL = ZoneInfo("Asia/Seoul")
STOCKHOLM = ZoneInfo("Europe/Stockholm")


def at(*args, zone=SEOUL) -> datetime:
    return datetime(*args, tzinfo=zone)


def outage(start: datetime, minutes: float, severity=MAJOR, excluded=False) -> Outage:
    return Outage(start, start + timedelta(minutes=minutes), severity, excluded)


@pytest.mark.parametrize(
    ("year", "month", "zone", "minutes"),
    [
        (2027, 1, SEOUL, 31 * 1440),
        (2028, 2, SEOUL, 29 * 1440),  # a leap year
        (2027, 2, SEOUL, 28 * 1440),
        (2100, 2, SEOUL, 28 * 1440),  # not a leap year: divisible by 100, not by 400
        (2027, 3, STOCKHOLM, 31 * 1440 - 60),  # clocks go forward on the last Sunday
        (2027, 10, STOCKHOLM, 31 * 1440 + 60),  # and back
    ],
)
def test_the_months_scheduled_minutes_follow_its_calendar_and_zone(year, month, zone, minutes):
    assert monthly_uptime(year, month, zone, []).scheduled_minutes == minutes


def test_an_untroubled_month_is_100_percent_with_no_credit():
    uptime = monthly_uptime(2027, 1, SEOUL, [])
    assert (uptime.mup, uptime.credit_percent, uptime.credit(1_900_000)) == (100, 0, 0)


def test_partial_minutes_weigh_three_tenths_of_major_ones():
    outages = [outage(at(2027, 1, 10, 9), 60), outage(at(2027, 1, 20, 9), 100, PARTIAL)]
    uptime = monthly_uptime(2027, 1, SEOUL, outages)
    assert (uptime.major_minutes, uptime.partial_minutes, uptime.downtime) == (60, 100, 90)
    assert uptime.mup == (1 - Decimal(90) / (31 * 1440)) * 100


def test_a_minute_both_major_and_partial_counts_once_as_major():
    outages = [outage(at(2027, 1, 10, 9), 60), outage(at(2027, 1, 10, 9, 30), 60, PARTIAL)]
    uptime = monthly_uptime(2027, 1, SEOUL, outages)
    assert (uptime.major_minutes, uptime.partial_minutes) == (60, 30)


def test_overlapping_incidents_are_counted_once():
    outages = [outage(at(2027, 1, 10, 9), 60), outage(at(2027, 1, 10, 9, 30), 60)]
    assert monthly_uptime(2027, 1, SEOUL, outages).major_minutes == 90


def test_maintenance_and_excluded_causes_count_in_neither_dt_nor_tt():
    window = (at(2027, 1, 5, 2), at(2027, 1, 5, 4))
    outages = [
        outage(at(2027, 1, 5, 3), 120),  # half inside the maintenance window
        outage(at(2027, 1, 12, 9), 500, excluded=True),
    ]
    uptime = monthly_uptime(2027, 1, SEOUL, outages, [window])
    assert uptime.scheduled_minutes == 31 * 1440 - 120
    assert uptime.major_minutes == 60


def test_an_incident_across_midnight_of_the_month_end_counts_in_each_month_its_share():
    # 23:00 on 31 January to 01:00 on 1 February, Seoul time
    incident = outage(at(2027, 1, 31, 23), 120)
    assert monthly_uptime(2027, 1, SEOUL, [incident]).major_minutes == 60
    assert monthly_uptime(2027, 2, SEOUL, [incident]).major_minutes == 60
    # The same UTC moments are wholly in January for an organization in Stockholm.
    assert monthly_uptime(2027, 1, STOCKHOLM, [incident]).major_minutes == 120


def test_the_dst_night_counts_the_real_minutes_down():
    # Down from 01:00 to 04:00 local on 28 March 2027 in Stockholm: two hours really passed.
    start = at(2027, 3, 28, 1, zone=STOCKHOLM)
    end = at(2027, 3, 28, 4, zone=STOCKHOLM)
    uptime = monthly_uptime(2027, 3, STOCKHOLM, [Outage(start, end, MAJOR)])
    assert uptime.major_minutes == 120


def _month_down(minutes: Decimal) -> int:
    """The credit percent of January 2027 (44,640 minutes) with this many major minutes."""
    start = datetime(2027, 1, 1, tzinfo=SEOUL)
    incident = Outage(start, start + timedelta(minutes=float(minutes)), MAJOR)
    return monthly_uptime(2027, 1, SEOUL, [incident]).credit_percent


@pytest.mark.parametrize(
    ("mup", "percent"),
    [(99, 0), (Decimal("98.99"), 10), (95, 10), (Decimal("94.99"), 25), (90, 25), (89, 50)],
)
def test_credit_bands_at_their_edges(mup, percent):
    # MUP = (1 - DT / 44,640) * 100 -> DT = 446.4 * (100 - MUP) minutes (whole seconds here).
    minutes = Decimal("446.4") * (100 - Decimal(mup))
    assert _month_down(minutes) == percent


def test_credits_are_minor_units_rounded_half_up():
    start = datetime(2027, 1, 1, tzinfo=UTC)
    uptime = monthly_uptime(2027, 1, UTC, [Outage(start, start + timedelta(days=1), MAJOR)])
    assert uptime.credit_percent == 10
    assert uptime.credit(19_005) == 1_901  # 1,900.5 won
    assert uptime.credit(19_004) == 1_900


def test_prorating_counts_the_days_of_that_month():
    assert money.prorate(19_000, 15, 2027, 2) == 10_179  # 19,000 x 15 / 28 = 10,178.57
    assert money.prorate(19_000, 15, 2028, 2) == 9_828  # 19,000 x 15 / 29 = 9,827.59
    assert money.prorate(19_000, 31, 2027, 1) == 19_000
    with pytest.raises(money.MoneyError) as refused:
        money.prorate(19_000, 30, 2027, 2)
    assert refused.value.code == "days_out_of_month"
