"""Business hours: whether a brand's desk is open at a moment, and how many working hours lie
between two moments (rule conditions, and schedules that count in business hours)."""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.orm import Session

from kb.models import Brand
from portal.desk.automation.models import BusinessHours

# Monday to Friday, nine to six: what a brand works until an admin says otherwise.
DEFAULT_WEEK = {str(d): [["09:00", "18:00"]] for d in range(5)} | {"5": [], "6": []}
MAX_DAYS = 3660  # how far hours_between walks (ten years)


class HoursError(ValueError):
    """A week or holiday list that cannot be used: `code` says what, `found` the bad text."""

    def __init__(self, code: str, found: str = ""):
        super().__init__(f"{code}: {found}")
        self.code = code
        self.found = found


@dataclass(frozen=True)
class Calendar:
    """A brand's working time: its zone, spans per weekday (Monday 0) and closed days."""

    zone: ZoneInfo
    week: dict[int, tuple[tuple[time, time], ...]]
    holidays: frozenset[date] = field(default_factory=frozenset)

    def spans_on(self, day: date) -> tuple[tuple[time, time], ...]:
        if day in self.holidays:
            return ()
        return self.week.get(day.weekday(), ())


def _time(text: str) -> time:
    try:
        hours, minutes = text.split(":")
        if hours == "24" and minutes == "00":
            return time.max
        return time(int(hours), int(minutes))
    except (ValueError, AttributeError) as e:
        raise HoursError("bad_time", str(text)) from e


def parse_week(week: dict) -> dict[int, tuple[tuple[time, time], ...]]:
    """The stored week ({"0": [["09:00", "18:00"]], ...}) as times; HoursError when a span is
    malformed or ends before it starts."""
    parsed = {}
    for day in range(7):
        spans = []
        for span in (week or {}).get(str(day), []) or []:
            if not isinstance(span, list | tuple) or len(span) != 2:
                raise HoursError("bad_span", str(span))
            start, end = _time(span[0]), _time(span[1])
            if end <= start:
                raise HoursError("span_backwards", f"{span[0]}-{span[1]}")
            spans.append((start, end))
        parsed[day] = tuple(sorted(spans))
    return parsed


def parse_holidays(days: list) -> frozenset[date]:
    try:
        return frozenset(date.fromisoformat(str(d)) for d in days or [])
    except ValueError as e:
        raise HoursError("bad_date", str(e)) from e


def zone_of(brand: Brand) -> ZoneInfo:
    try:
        return ZoneInfo(brand.timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def calendar_for(session: Session, brand: Brand) -> Calendar:
    """The brand's working time (its own hours, or DEFAULT_WEEK), in its time zone."""
    row = session.get(BusinessHours, brand.id)
    week = row.week if row is not None and row.week else DEFAULT_WEEK
    holidays = row.holidays if row is not None else []
    return Calendar(zone=zone_of(brand), week=parse_week(week), holidays=parse_holidays(holidays))


def is_open(calendar: Calendar, at: datetime) -> bool:
    """Whether `at` (aware) falls in working time."""
    local = at.astimezone(calendar.zone)
    moment = local.time().replace(tzinfo=None)
    return any(start <= moment < end for start, end in calendar.spans_on(local.date()))


def _span_bounds(calendar: Calendar, day: date, start: time, end: time):
    begin = datetime.combine(day, start, calendar.zone)
    if end == time.max:
        finish = datetime.combine(day + timedelta(days=1), time(0), calendar.zone)
    else:
        finish = datetime.combine(day, end, calendar.zone)
    return begin.astimezone(UTC), finish.astimezone(UTC)


def hours_between(calendar: Calendar | None, start: datetime, end: datetime) -> float:
    """Hours from `start` to `end` (aware): counted in working time with a calendar, on the
    clock without one (None). Negative spans count 0."""
    if end <= start:
        return 0.0
    if calendar is None:
        return (end - start).total_seconds() / 3600
    seconds = 0.0
    day = start.astimezone(calendar.zone).date()
    last = end.astimezone(calendar.zone).date()
    walked = 0
    while day <= last and walked <= MAX_DAYS:
        for span_start, span_end in calendar.spans_on(day):
            begin, finish = _span_bounds(calendar, day, span_start, span_end)
            overlap = (min(finish, end) - max(begin, start)).total_seconds()
            if overlap > 0:
                seconds += overlap
        day += timedelta(days=1)
        walked += 1
    return seconds / 3600


def week_as_text(week: dict) -> str:
    """The stored week as admins type it: one line per weekday, "mon 09:00-18:00, 13:00-..."."""
    names = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    lines = []
    for day, name in enumerate(names):
        spans = (week or {}).get(str(day), []) or []
        lines.append(f"{name} " + ", ".join(f"{a}-{b}" for a, b in spans) if spans else name)
    return "\n".join(lines)


# --- the admins' page (/admin/automation/business-hours) ---------------------------------------

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
LONG_DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def week_from_text(text: str) -> dict:
    """The week as admins type it (week_as_text: "mon 09:00-12:00, 13:00-18:00", one line per
    day, a day alone or left out: closed) as stored; HoursError ("bad_day", "bad_span",
    "bad_time", "span_backwards") naming the bad part."""
    week = {str(day): [] for day in range(7)}
    for line in (text or "").splitlines():
        line = line.strip()
        if not line:
            continue
        name, _, rest = line.partition(" ")
        key = name.lower().rstrip(":")
        if key in DAY_NAMES:
            day = DAY_NAMES.index(key)
        elif key in LONG_DAY_NAMES:
            day = LONG_DAY_NAMES.index(key)
        else:
            raise HoursError("bad_day", name)
        spans = []
        for part in rest.split(","):
            part = part.strip()
            if not part:
                continue
            start, dash, end = part.partition("-")
            if not dash:
                raise HoursError("bad_span", part)
            spans.append([start.strip(), end.strip()])
        week[str(day)] = spans
    parsed = parse_week(week)  # HoursError for a bad time or a span ending before it starts
    return {str(day): [[_text(a), _text(b)] for a, b in parsed[day]] for day in range(7)}


def _text(moment: time) -> str:
    return "24:00" if moment == time.max else moment.strftime("%H:%M")


def holidays_from_text(text: str) -> list[str]:
    """One ISO date a line (2026-12-25) as stored, sorted; HoursError("bad_date")."""
    days = set()
    for line in (text or "").splitlines():
        line = line.strip()
        if not line:
            continue
        try:
            days.add(date.fromisoformat(line).isoformat())
        except ValueError:
            raise HoursError("bad_date", line) from None
    return sorted(days)


def hours_of(session: Session, brand: Brand) -> tuple[dict, list]:
    """The brand's week and holidays as stored (DEFAULT_WEEK when it has none)."""
    row = session.get(BusinessHours, brand.id)
    if row is None or not row.week:
        return DEFAULT_WEEK, list(row.holidays or []) if row is not None else []
    return row.week, list(row.holidays or [])


def save_hours(
    session: Session,
    brand: Brand,
    week_text: str,
    holidays_text: str,
    *,
    actor=None,
    ip: str = "",
    now: datetime,
) -> bool:
    """Save the brand's business hours as typed; whether anything changed. HoursError (with
    `field`: "week" or "holidays") changes nothing."""
    from portal.security import audit  # (audit imports the desk's models)

    try:
        week = week_from_text(week_text)
    except HoursError as error:
        error.field = "week"
        raise
    try:
        holidays = holidays_from_text(holidays_text)
    except HoursError as error:
        error.field = "holidays"
        raise
    row = session.get(BusinessHours, brand.id)
    if row is None:
        row = BusinessHours(brand_id=brand.id, week=DEFAULT_WEEK, holidays=[])
        session.add(row)
    changed = row.week != week or list(row.holidays or []) != holidays
    row.week, row.holidays = week, holidays
    session.flush()
    if changed:
        audit.record(
            session,
            "automation.business_hours_changed",
            now=now,
            actor=actor,
            target=f"brand:{brand.id}",
            target_name=brand.name,
            brand_id=brand.id,
            ip=ip,
            details={"week": week_as_text(week), "holidays": holidays},
        )
    return changed
