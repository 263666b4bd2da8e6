"""How pages write times: to the minute, in the page's language and zone (Flask-Babel's)."""

from flask_babel import format_date, format_time, get_timezone


def when(value) -> str:
    """A date and time for lists: the year in full ("short" writes 26. 11. 26. in Korean,
    the year and the day alike), the time to the minute, in the page's language and zone."""
    return f"{format_date(value, 'medium')} {format_time(value, 'short')}"


def when_zoned(value) -> str:
    """`when` with the zone named ("Mar 1, 2030 3:00 PM KST"), for pages that say their zone
    nowhere else: customers' pages, where a time may be read from anywhere."""
    return f"{when(value)} {value.astimezone(get_timezone()).tzname()}"


def day(value) -> str:
    """A date alone ("Nov 20, 2026"), in the page's language and zone."""
    return format_date(value, "medium")
