"""CSV downloads that spreadsheets open safely: UTF-8 with a byte order mark (Excel then reads
Korean and Japanese as UTF-8), a line at a time (streamed, never the whole file in memory), and
no cell a spreadsheet would run as a formula (security.md, "CSV exports")."""

import csv
import io
from collections.abc import Iterable

BOM = "\ufeff"
# A spreadsheet runs a cell starting with these as a formula (or, after a tab or a carriage
# return, as whatever follows them).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_FIRST = frozenset(FORMULA_STARTS)


def cell(value) -> str:
    """A value as a cell's text: None is empty; a would-be formula is quoted with "'"."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    return "'" + text if text[:1] in _FORMULA_FIRST else text


class CsvLines:
    """Formats one row at a time as a CSV line (the csv module's quoting, CRLF line ends),
    every cell through `cell`."""

    def __init__(self) -> None:
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer)

    def line(self, cells: Iterable) -> str:
        return self.lines((cells,))

    def lines(self, rows: Iterable[Iterable]) -> str:
        """Several rows at once (a ticket's messages), one string."""
        self._buffer.seek(0)
        self._buffer.truncate()
        self._writer.writerows([cell(value) for value in cells] for cells in rows)
        return self._buffer.getvalue()
