"""Numbers from query strings and forms: ASCII digits in the range an INTEGER column takes.

`str.isdigit()` accepts "²" or "٣", which int() refuses or reads as another number, and an id
past 2**31 - 1 makes PostgreSQL refuse the query: both were 500s. Every id, page number and
small count that a request carries goes through `parse_id`.
"""

import re

MAX_ID = 2**31 - 1
_DIGITS = re.compile(r"[0-9]{1,10}")


def parse_id(text: str | None, high: int = MAX_ID, low: int = 1) -> int | None:
    """`text` as a whole number from `low` to `high`, or None when it is anything else."""
    if not text or not _DIGITS.fullmatch(text):
        return None
    number = int(text)
    return number if low <= number <= high else None
