"""The SLA's monthly uptime and the credit it earns, from the month's incidents.

MUP = (1 - DT / TT) * 100, with DT = major minutes + 0.3 x partial minutes and TT the month's
scheduled minutes: the month in the organization's time zone (so a DST month has an hour more
or less) without its announced maintenance. Minutes of maintenance, and of incidents whose
cause is excluded, count in neither; a minute of both a major and a partial incident counts as
major once; incidents are clipped to the month. Credits: MUP >= 99: none; 95 <= MUP < 99: 10 %;
90 <= MUP < 95: 25 %; MUP < 90: 50 % of that month's charge.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from portal.desk.billing import money

MAJOR, PARTIAL = "major", "partial"
PARTIAL_WEIGHT = Decimal("0.3")
# (lowest MUP of the band, credit percent), best band first.
CREDIT_BANDS = ((Decimal(99), 0), (Decimal(95), 10), (Decimal(90), 25), (Decimal(0), 50))

Span = tuple[datetime, datetime]


@dataclass(frozen=True)
class Outage:
    """A time a component was down (major) or degraded (partial); `excluded`: its cause is one
    the SLA does not count (the customer's own systems, force majeure)."""

    start: datetime
    end: datetime
    severity: str
    excluded: bool = False


@dataclass(frozen=True)
class Uptime:
    """One month's figures: minutes scheduled (TT), down (major, partial), DT, MUP and credit."""

    scheduled_minutes: Decimal
    major_minutes: Decimal
    partial_minutes: Decimal
    downtime: Decimal
    mup: Decimal
    credit_percent: int

    def credit(self, charge: int) -> int:
        """The credit points this month earns on a charge (minor units), rounded half up."""
        return money.percent_of(charge, self.credit_percent)


def month_span(year: int, month: int, zone: ZoneInfo) -> Span:
    """The month from its first midnight to the next month's, in `zone`, as UTC moments."""
    start = datetime(year, month, 1, tzinfo=zone)
    end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def _merged(spans: list[Span]) -> list[Span]:
    """The same time as a sorted list of spans that neither overlap nor touch."""
    merged: list[Span] = []
    for start, end in sorted(s for s in spans if s[1] > s[0]):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _minus(spans: list[Span], holes: list[Span]) -> list[Span]:
    """`spans` (merged) without the time of `holes` (merged)."""
    left = []
    for start, end in spans:
        for hole_start, hole_end in holes:
            if hole_end <= start or hole_start >= end:
                continue
            if hole_start > start:
                left.append((start, hole_start))
            start = max(start, hole_end)
            if start >= end:
                break
        if start < end:
            left.append((start, end))
    return left


def _clip(spans: list[Span], within: Span) -> list[Span]:
    """The spans inside `within`, in UTC (Python subtracts two times of one zone on the wall
    clock: 01:00 to 04:00 on a night the clocks go forward would be three hours)."""
    utc = [(s.astimezone(UTC), e.astimezone(UTC)) for s, e in spans]
    return [(max(s, within[0]), min(e, within[1])) for s, e in utc]


def _minutes(spans: list[Span]) -> Decimal:
    return sum((Decimal((e - s) // timedelta(seconds=1)) / 60 for s, e in spans), Decimal(0))


def credit_percent(mup: Decimal) -> int:
    return next(percent for lowest, percent in CREDIT_BANDS if mup >= lowest)


def monthly_uptime(
    year: int,
    month: int,
    zone: ZoneInfo,
    outages: list[Outage],
    maintenance: list[Span] = (),
) -> Uptime:
    """The month's uptime and credit (see the module's docstring for the rules)."""
    whole = month_span(year, month, zone)
    windows = _merged(_clip(list(maintenance), whole))
    scheduled = _minutes(_minus([whole], windows))
    counted = [o for o in outages if not o.excluded]
    major = _minus(
        _merged(_clip([(o.start, o.end) for o in counted if o.severity == MAJOR], whole)), windows
    )
    partial = _minus(
        _merged(_clip([(o.start, o.end) for o in counted if o.severity == PARTIAL], whole)),
        _merged(windows + major),
    )
    major_minutes, partial_minutes = _minutes(major), _minutes(partial)
    downtime = major_minutes + PARTIAL_WEIGHT * partial_minutes
    mup = (1 - downtime / scheduled) * 100 if scheduled else Decimal(100)
    return Uptime(
        scheduled_minutes=scheduled,
        major_minutes=major_minutes,
        partial_minutes=partial_minutes,
        downtime=downtime,
        mup=mup,
        credit_percent=credit_percent(mup),
    )
