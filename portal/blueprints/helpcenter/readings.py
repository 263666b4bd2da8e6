"""Article readings, counted in memory and written to the database together every few seconds.

A write per page view halved the speed of a cached article page (bench/pages.py); "Popular
articles" needs counts per day, not per request. Each process keeps its own tally and writes it
when ARTICLE_READINGS_SECONDS have passed since its last write, on the request that finds it
due. A process that stops loses at most that many seconds of its readings.
"""

import logging
import threading
import time
from collections import Counter
from datetime import date

from flask import Flask
from sqlalchemy.exc import SQLAlchemyError

from kb import helpcenter
from portal.extensions import db

log = logging.getLogger(__name__)
EXTENSION = "portal.readings"


class Readings:
    def __init__(self, interval: float):
        self.interval = interval
        self._lock = threading.Lock()
        self._pending: Counter = Counter()
        self._written_at = time.monotonic()

    def add(self, brand_id: int, article_id: int, locale: str, day: date) -> None:
        """Count one reading; write every reading counted so far when they are due."""
        with self._lock:
            self._pending[(brand_id, article_id, locale, day)] += 1
            if time.monotonic() - self._written_at < self.interval:
                return
            due, self._pending = self._pending, Counter()
            self._written_at = time.monotonic()
        self._write(due)

    def _write(self, due: Counter) -> None:
        try:
            helpcenter.count_views(db.session, due)
        except SQLAlchemyError:  # a busy database delays the counts, never the page
            db.session.rollback()
            log.warning("article readings not written yet", exc_info=True)
            with self._lock:
                self._pending.update(due)


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION] = Readings(float(app.config["ARTICLE_READINGS_SECONDS"]))


def add(app: Flask, brand_id: int, article_id: int, locale: str, day: date) -> None:
    app.extensions[EXTENSION].add(brand_id, article_id, locale, day)
